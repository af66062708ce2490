// Branch Ops: no inline scripts (Content-Security-Policy). Behaviour hooks by class.
document.addEventListener("change", function (event) {
  if (event.target.classList && event.target.classList.contains("js-autosubmit")) {
    event.target.form.submit();
  }
});
