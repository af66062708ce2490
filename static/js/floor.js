// The approval inbox, keyboard first: j / k move between items, a approves, r rejects
// (a rejection needs a reason: r puts the cursor in the reason box; type, then Enter).
// No inline scripts (Content-Security-Policy); hooks by class.
(function () {
  "use strict";
  var current = -1;

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("#inbox .inbox-item"));
  }

  // mark item ``index`` as the current one; move the focus to it only when asked
  function select(index, focus) {
    var list = items();
    if (!list.length) { current = -1; return; }
    current = Math.max(0, Math.min(index, list.length - 1));
    list.forEach(function (el, i) { el.classList.toggle("border-primary", i === current); });
    if (focus !== false) {
      list[current].focus();
      list[current].scrollIntoView({ block: "nearest" });
    }
  }

  function currentItem() {
    var list = items();
    return current >= 0 && current < list.length ? list[current] : null;
  }

  function typing(target) {
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT");
  }

  document.addEventListener("keydown", function (event) {
    if (!document.getElementById("inbox") || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (typing(target)) {
      if (target.classList.contains("js-reason")) {
        if (event.key === "Enter") {
          event.preventDefault();
          var form = target.form;
          if (form && form.dataset.pending === "reject") { form.querySelector(".js-reject").click(); }
        } else if (event.key === "Escape") {
          target.blur();
          select(current);
        }
      }
      return;
    }
    var item = currentItem();
    if (event.code === "KeyJ") { event.preventDefault(); select(current + 1); }
    else if (event.code === "KeyK") { event.preventDefault(); select(current - 1); }
    else if (event.code === "KeyA" && item) {
      var approve = item.querySelector(".js-approve");
      if (approve) { event.preventDefault(); approve.click(); }
    } else if (event.code === "KeyR" && item) {
      var reason = item.querySelector(".js-reason");
      if (!reason) { return; }
      event.preventDefault();
      if (reason.value.trim()) { item.querySelector(".js-reject").click(); }
      else { reason.form.dataset.pending = "reject"; reason.focus(); }
    }
  });

  // do not refresh the list under someone who is typing a reason
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target.id !== "inbox") { return; }
    var busy = Array.prototype.some.call(document.querySelectorAll("#inbox .js-reason"), function (el) {
      return el.value.trim() !== "" || el === document.activeElement;
    });
    if (busy) { event.preventDefault(); }
  });

  // a refused decision (400, 403, 404, 409) answers with the card and its message: show it
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.elt;
    var status = event.detail.xhr.status;
    if (elt && elt.classList && elt.classList.contains("js-decision-form") && status >= 400 && status < 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // after a decision, the next item is the current one; after a refresh, the same place
  document.addEventListener("htmx:afterSwap", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.classList && elt.classList.contains("js-decision-form")) { select(current + 1); }
    else if (event.target.id === "inbox" && current >= 0) { select(current, false); }
  });
})();
