"""Screens of the lobby queue: the kiosk (no login), the lobby display (no login), and the
counter panel staff work the queue from (an HTMX partial that any staff page can include,
plus a page of its own at /floor/lobby/counter/).

The kiosk and the display are public per branch, addressed by the branch code: they run on
the branch's own devices in the lobby, and show or take nothing personal (a ticket holds a
service, a language and a priority flag). See docs/lobby.md.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from branch_ops.access import require_perm
from branch_ops.errors import ApplicationError
from branch_ops.floor.lobby import selectors, services
from branch_ops.floor.lobby.models import LANGUAGE_CODES, LobbyService, PriorityRule, Ticket
from branch_ops.floor.lobby.reference_data import PRIORITY_LABELS
from branch_ops.models import Branch
from branch_ops.roles import Perm

#: how often the lobby display and the counter panel refresh (seconds)
DISPLAY_POLL_SECONDS = 3
PANEL_POLL_SECONDS = 10
#: how long the kiosk shows a ticket before it is ready for the next customer (seconds)
KIOSK_TICKET_SECONDS = 12


def _branch(code: str) -> Branch:
    branch = Branch.objects.filter(code=code, active=True).first()
    if branch is None:
        raise Http404(_("No such branch."))
    return branch


def _kiosk_language(request) -> str:
    lang = request.GET.get("lang") or request.POST.get("language") or "en"
    return lang if lang in LANGUAGE_CODES else "en"


# --- the kiosk ------------------------------------------------------------------------------------------

@require_GET
def kiosk(request, code: str):
    branch = _branch(code)
    lang = _kiosk_language(request)
    with translation.override(lang):
        services_ = [{"service": s, "label": selectors.service_label(s)}
                     for s in LobbyService.objects.filter(branch=branch, active=True)]
        rules = [{"rule": r, "label": str(PRIORITY_LABELS.get(r.code, r.name))}
                 for r in PriorityRule.objects.filter(active=True)]
        languages = [{"code": c, **translation.get_language_info(c)} for c in LANGUAGE_CODES]
        return render(request, "lobby/kiosk.html", {
            "branch": branch, "services": services_, "rules": rules, "languages": languages, "lang": lang,
            "priority": request.GET.get("priority") == "1"})


@require_POST
def kiosk_take(request, code: str):
    branch = _branch(code)
    lang = _kiosk_language(request)
    with translation.override(lang):
        try:
            ticket = services.ticket_take(branch=branch, service=request.POST.get("service", ""), language=lang,
                                          priority_rule=request.POST.get("priority_rule") or None)
        except ApplicationError as exc:
            return render(request, "lobby/kiosk_error.html", {"branch": branch, "lang": lang,
                                                              "message": exc.message}, status=exc.status_code)
    return redirect(reverse("lobby-kiosk-ticket", args=[branch.code, ticket.public_id]) + f"?lang={lang}")


@require_GET
def kiosk_ticket(request, code: str, ticket_id):
    branch = _branch(code)
    ticket = (Ticket.objects.select_related("service", "priority_rule")
              .filter(branch=branch, public_id=ticket_id).first())
    if ticket is None:
        raise Http404(_("No such ticket."))
    lang = ticket.language
    with translation.override(lang):
        ahead = Ticket.objects.filter(branch=branch, day=ticket.day, status=Ticket.Status.WAITING,
                                      service=ticket.service, taken_at__lt=ticket.taken_at).count()
        return render(request, "lobby/kiosk_ticket.html", {
            "branch": branch, "ticket": ticket, "lang": lang, "ahead": ahead,
            "service_label": selectors.service_label(ticket.service), "seconds": KIOSK_TICKET_SECONDS})


# --- the lobby display ----------------------------------------------------------------------------------

def _display(request, code: str, template: str):
    """The lobby screen, in the language of ``?lang=`` (the screen's own setting; else the
    browser's)."""
    branch = _branch(code)
    lang = request.GET.get("lang") if request.GET.get("lang") in LANGUAGE_CODES else translation.get_language()
    with translation.override(lang):
        called = selectors.lobby_called(branch)
        summary = selectors.lobby_summary(branch)
        return render(request, template, {
            "branch": branch, "latest": called[0] if called else None, "called": called,
            "waiting": summary["services"], "poll": DISPLAY_POLL_SECONDS, "lang": lang})


@require_GET
def display(request, code: str):
    return _display(request, code, "lobby/display.html")


@require_GET
def display_board(request, code: str):
    return _display(request, code, "lobby/_display_board.html")


# --- the counter panel ----------------------------------------------------------------------------------

def _require(request):
    try:
        return require_perm(request.user, Perm.SERVE_LOBBY)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from None


def _panel(request, profile, *, message: str = "", error: str = "", status: int = 200):
    context = {**selectors.counter_panel(request.user, profile.branch), "message": message, "error": error,
               "poll": PANEL_POLL_SECONDS, "branch": profile.branch}
    return render(request, "lobby/_counter_panel_body.html", context, status=status)


@login_required
@require_GET
def counter_page(request):
    _require(request)
    return render(request, "lobby/counter.html", {})


@login_required
@require_GET
def counter_panel(request):
    return _panel(request, _require(request))


@login_required
@require_POST
def counter_action(request, action: str):
    profile = _require(request)
    u, ticket_id = request.user, request.POST.get("ticket", "")
    calls = {
        "sign-in": lambda: services.counter_sign_in(actor=u, counter_number=request.POST.get("counter", "")),
        "sign-out": lambda: services.counter_sign_out(actor=u),
        "call-next": lambda: services.ticket_call_next(actor=u),
        "recall": lambda: services.ticket_recall(actor=u, ticket_id=ticket_id),
        "start": lambda: services.ticket_start(actor=u, ticket_id=ticket_id),
        "no-show": lambda: services.ticket_no_show(actor=u, ticket_id=ticket_id),
        "done": lambda: services.ticket_done(actor=u, ticket_id=ticket_id,
                                             served_ref=request.POST.get("served_ref", "")),
    }
    if action not in calls:
        raise Http404
    try:
        result = calls[action]()
    except ApplicationError as exc:
        # 200, so that HTMX swaps the panel in with the message (the status is in the panel)
        return _panel(request, profile, error=exc.message)
    message = ""
    if isinstance(result, Ticket):
        message = {"call-next": _("Ticket %(code)s called."), "recall": _("Ticket %(code)s called again."),
                   "start": _("Serving ticket %(code)s."), "no-show": _("The customer with ticket %(code)s did not come."),
                   "done": _("Ticket %(code)s served.")}[action] % {"code": result.code}
    return _panel(request, profile, message=message)
