"""Opening count, blind close (the expected figure is never shown before the count), vault
transfers, the journal and reversal requests."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branch_ops.access import staff_profile
from branch_ops.errors import ApplicationError
from branch_ops.roles import Perm
from teller import selectors, services
from teller.forms import (
    CountsForm,
    ReversalForm,
    VaultCurrencyForm,
    VaultDecisionForm,
    VaultTransferForm,
)
from teller.models import CashCount, CashOperation, DrawerCash, VaultTransfer
from teller.services.reversals import REVERSAL, REVERSIBLE
from teller.views.common import (  # noqa: F401
    _CASH_FIELDS,
    _GRID_FIELDS,
    OPENING_CURRENCIES,
    WINDOW_RECENT_OPERATIONS,
    _approval_of,
    _decimal_text,
    _is_open,
    _my_session,
    _note_lines,
    _pending_approvals,
    _problem,
    _rate_line,
    _receipt,
    _receipt_block,
    _receipt_language,
    _require,
    _show_error,
)

# --- opening and closing counts -----------------------------------------------------------------

def _drawer_currencies(user, profile) -> list[str]:
    held = (DrawerCash.objects.filter(drawer__teller=user, drawer__branch=profile.branch, drawer__active=True)
            .order_by("currency_id").values_list("currency_id", flat=True))
    return list(dict.fromkeys([profile.branch.currency_id, *held]))


@login_required
@require_http_methods(["GET", "POST"])
def drawer_open(request):
    """The opening count per currency; a difference from the last close (or the ledger) is
    shown once the drawer is open."""
    profile = _require(request, Perm.OPERATE_DRAWER)
    session = _my_session(request.user)
    if request.method == "GET" and _is_open(session):
        return render(request, "teller/open.html", {"session": session})
    currencies = list(dict.fromkeys([*_drawer_currencies(request.user, profile), *OPENING_CURRENCIES]))
    form = CountsForm(request.POST or None, currencies=currencies)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.drawer_session_open(actor=request.user, counts=form.counts())
            except ApplicationError as exc:
                status = _show_error(form, exc, fields=_GRID_FIELDS)
            else:
                messages.success(request, _("Your drawer is open."))
                return redirect("teller-open")
    return render(request, "teller/open.html", {"form": form, "last_session": session}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def drawer_close(request):
    """Blind close: only the count inputs until the count is in; then the variance per
    currency, and the sign-off waiting for a supervisor."""
    profile = _require(request, Perm.OPERATE_DRAWER)
    session = _my_session(request.user)
    if request.method == "GET" and not _is_open(session):
        if session is None:
            return render(request, "teller/close.html", {"form": None})
        counts = CashCount.objects.filter(session=session, moment=CashCount.Moment.CLOSE).order_by("currency_id")
        return render(request, "teller/close_result.html", {
            "session": session,
            "lines": [{"currency": c.currency_id, "counted": c.total, "variance": session.variance.get(c.currency_id, 0)}
                      for c in counts],
            "approval": _approval_of(services.EOD_SIGNOFF, session),
        })
    form = CountsForm(request.POST or None, currencies=_drawer_currencies(request.user, profile))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.drawer_session_close(actor=request.user, counts=form.counts())
            except ApplicationError as exc:
                status = _show_error(form, exc, fields=_GRID_FIELDS)
            else:
                messages.success(request, _("Your count is in and the drawer is closed."))
                return redirect("teller-close")
    return render(request, "teller/close.html", {"form": form}, status=status)


# --- vault ----------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def vault(request):
    """Ask the vault custodian for cash, or send cash back; the transfer posts when a
    supervisor confirms it."""
    profile = _require(request, Perm.OPERATE_DRAWER)
    source = request.POST if request.method == "POST" else request.GET
    picker = VaultCurrencyForm(source if "currency" in source else {"currency": profile.branch.currency_id})
    currency = picker.cleaned_data["currency"].code if picker.is_valid() else profile.branch.currency_id
    form = VaultTransferForm(request.POST or None, currency=currency, initial={"currency": currency})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.vault_transfer_request(actor=request.user, direction=form.cleaned_data["direction"],
                                                currency=currency, denominations=form.breakdown())
            except ApplicationError as exc:
                status = _show_error(form, exc, fields=_GRID_FIELDS)
            else:
                messages.success(request, _("Your vault transfer was requested. It posts when a supervisor confirms it."))
                return redirect(f"{reverse('teller-vault')}?{urlencode({'currency': currency})}")
    session = _my_session(request.user)
    transfers = (VaultTransfer.objects.filter(session=session).select_related("confirmed_by").order_by("-requested_at")
                 if session is not None else [])
    return render(request, "teller/vault.html", {
        "picker": picker, "form": form, "currency": currency, "session": session, "is_open": _is_open(session),
        "transfers": transfers, "time_zone": profile.branch.time_zone,
    }, status=status)


def _vault_pending(request, profile, *, error: ApplicationError | None = None, status: int = 200):
    transfers = (VaultTransfer.objects.filter(status=VaultTransfer.Status.REQUESTED, session__drawer__branch=profile.branch)
                 .select_related("session__drawer", "requested_by").order_by("requested_at"))
    context = {"transfers": transfers, "error": error, "time_zone": profile.branch.time_zone,
               "may_see_alerts": profile.has(Perm.VIEW_BRANCH_QUEUES)}
    template = "teller/_vault_pending.html" if request.htmx else "teller/vault_pending.html"
    return render(request, template, context, status=status)


@login_required
@require_GET
def vault_pending(request):
    """The vault custodian's list: the branch's transfers waiting for confirmation."""
    profile = _require(request, Perm.CONFIRM_VAULT)
    return _vault_pending(request, profile)


@login_required
@require_POST
def vault_decide(request, transfer_id):
    profile = _require(request, Perm.CONFIRM_VAULT)
    form = VaultDecisionForm(request.POST)
    if not form.is_valid():
        return _vault_pending(request, profile, status=400)
    confirm = form.cleaned_data["decision"] == "confirm"
    try:
        services.vault_transfer_confirm(actor=request.user, transfer_id=transfer_id, confirm=confirm)
    except ApplicationError as exc:
        return _vault_pending(request, profile, error=exc, status=exc.status_code)
    messages.success(request, _("The vault transfer was confirmed and posted.") if confirm
                     else _("The vault transfer was rejected."))
    return redirect("vault-pending")


# --- journal --------------------------------------------------------------------------------------

@login_required
@require_GET
def journal(request):
    """The session's electronic journal, with totals per operation and currency; each posted
    deposit, withdrawal or exchange of an open session can be sent for reversal."""
    _require(request, Perm.OPERATE_DRAWER)
    try:
        entries = selectors.session_journal(actor=request.user)
    except ApplicationError as exc:
        return _problem(request, exc)
    kinds, statuses = dict(CashOperation.Kind.choices), dict(CashOperation.Status.choices)
    totals = [{**total, "kind_label": kinds.get(total["kind"], total["kind"]),
               "status_label": statuses.get(total["status"], total["status"])} for total in entries.totals]
    may_reverse = _is_open(entries.session) and staff_profile(request.user).has(Perm.POST_CASH)
    reversals = _pending_approvals(REVERSAL, entries.operations) if may_reverse else {}
    rows = [{"op": op, "reversal": reversals.get(str(op.public_id)),
             "reversible": may_reverse and op.kind in REVERSIBLE and op.status == CashOperation.Status.POSTED}
            for op in entries.operations]
    return render(request, "teller/journal.html", {
        "journal": entries, "rows": rows, "totals": totals, "time_zone": entries.session.drawer.branch.time_zone,
    })


@login_required
@require_POST
def reversal_request(request, reference: str):
    """Ask a supervisor to reverse one of today's operations; back to the journal either way."""
    _require(request, Perm.POST_CASH)
    form = ReversalForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        approval = services.operation_reversal_request(actor=request.user, reference=reference, reason=reason)
    except ApplicationError as exc:
        if exc.status_code in (403, 404):  # not yours (another branch's operation): no redirect
            return _problem(request, exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, format_html(
            '{} <a href="{}" class="alert-link">{}</a>',
            _("The reversal of %(reference)s waits for a supervisor.") % {"reference": reference},
            reverse("approval-page", args=[approval.public_id]), _("See the approval")))
    return redirect("teller-journal")


