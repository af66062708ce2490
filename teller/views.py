"""Screens of the teller window: the window itself (drawer cash in view, find the customer,
deposit or withdraw, operations waiting for a supervisor), receipts, opening count, blind
close, vault transfers (the teller asks, a supervisor confirms) and the session's journal.

Thin, like every view: parse with a form, check the role, call one service or selector,
render. A service's ``ApplicationError`` is shown on the page (beside the field it names, or
above the form) and answered with its HTTP status. The same services serve the API
(``teller.api``).

Blind close: the closing page never shows what the drawer should hold; the variance is shown
only once the count is in.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts.models import BankAccount
from branch_ops import idempotency
from branch_ops.access import require_perm
from branch_ops.errors import ApplicationError, NotFound
from branch_ops.models import Approval
from branch_ops.money import Money
from branch_ops.roles import Perm
from teller import selectors, services
from teller.forms import (
    CashForm,
    CountsForm,
    DepositForm,
    FinderForm,
    VaultCurrencyForm,
    VaultDecisionForm,
    VaultTransferForm,
    WindowForm,
    WithdrawalForm,
)
from teller.models import CashCount, CashOperation, DrawerCash, DrawerSession, VaultTransfer

#: currencies the opening count always offers besides the branch's own and those the drawer holds
OPENING_CURRENCIES = ("USD",)
#: operations of the session the window lists besides those waiting for a supervisor
WINDOW_RECENT_OPERATIONS = 10

# a service's field name -> the cash form's (None: above the form)
_CASH_FIELDS = {"account": None, "currency": None, "amount": "amount", "denominations": "denominations",
                "document": "document", "name": "name", "occupation": "occupation",
                "source_of_funds": "source_of_funds"}
_GRID_FIELDS = {"amount": "denominations", "currency": None}


def _require(request, perm: Perm):
    try:
        return require_perm(request.user, perm)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from None


def _show_error(form, exc: ApplicationError, *, fields: dict | None = None) -> int:
    """Put a service's error on the form field it names (``fields`` maps a service's field
    name to the form's), else above the form; return the HTTP status to answer with."""
    name = (fields or {}).get(exc.field, exc.field)
    form.add_error(name if name in form.fields else None, exc.message)
    return exc.status_code


def _problem(request, exc: ApplicationError):
    return render(request, "error.html", {"message": exc.message}, status=exc.status_code)


def _my_session(user) -> DrawerSession | None:
    """The teller's open session, else their latest, else None."""
    try:
        return selectors.my_open_session(actor=user)
    except NotFound:
        return None


def _is_open(session: DrawerSession | None) -> bool:
    return session is not None and session.status == DrawerSession.Status.OPEN


def _pending_approvals(kind: str, subjects) -> dict[str, str]:
    """``{subject public id: approval public id}`` of the pending approvals of ``kind``."""
    ids = [str(subject.public_id) for subject in subjects]
    if not ids:
        return {}
    return {subject_id: str(public_id) for subject_id, public_id in Approval.objects.filter(
        kind=kind, subject_id__in=ids, status=Approval.Status.PENDING).values_list("subject_id", "public_id")}


def _approval_of(kind: str, subject) -> str | None:
    return _pending_approvals(kind, [subject]).get(str(subject.public_id))


# --- the window -----------------------------------------------------------------------------------

def _operations_context(user, session: DrawerSession | None) -> dict:
    """The session's operations for the window: every one waiting for a supervisor, then the
    latest others; the list refreshes itself while something waits."""
    if session is None:
        return {"rows": [], "awaiting": False}
    operations = selectors.session_journal(actor=user, session=session).operations
    waiting = [op for op in operations if op.status == CashOperation.Status.AWAITING_OVERRIDE]
    others = [op for op in operations if op.status != CashOperation.Status.AWAITING_OVERRIDE]
    approvals = _pending_approvals(services.OVERRIDE, waiting)
    rows = [{"op": op, "approval": approvals.get(str(op.public_id))}
            for op in [*reversed(waiting), *reversed(others[-WINDOW_RECENT_OPERATIONS:])]]
    return {"rows": rows, "awaiting": bool(waiting), "time_zone": session.drawer.branch.time_zone}


def _active_accounts_of(customers) -> list[dict]:
    """Each customer found with the active accounts they hold (as primary or joint holder)."""
    if not customers:
        return []
    accounts = list(BankAccount.objects.filter(Q(customer__in=customers) | Q(holder_links__customer__in=customers),
                                               status=BankAccount.Status.ACTIVE)
                    .select_related("customer").prefetch_related("holder_links").distinct().order_by("number"))
    rows = []
    for customer in customers:
        held = [a for a in accounts
                if a.customer_id == customer.pk or any(h.customer_id == customer.pk for h in a.holder_links.all())]
        rows.append({"customer": customer, "accounts": held})
    return rows


def _find(request, query: str) -> dict:
    customers = account_selectors.customer_search(actor=request.user, query=query) if query else []
    return {"query": query, "found": _active_accounts_of(customers)}


def _focus(form: CashForm) -> None:
    """The cursor waits where the teller has to type: the first field in error, else the amount."""
    for name in form.errors:
        field = form.fields.get(name)
        if field is not None and not field.widget.is_hidden:
            field.widget.attrs["autofocus"] = True
            return
    form.fields["amount"].widget.attrs["autofocus"] = True


def _window(request, profile, *, account=None, account_error: ApplicationError | None = None,
            deposit: DepositForm | None = None, withdrawal: WithdrawalForm | None = None,
            waiting: CashOperation | None = None, status: int = 200):
    session = _my_session(request.user)
    position = selectors.drawer_position(session) if session is not None else []
    finder = FinderForm(request.GET if "q" in request.GET else None)
    query = finder.cleaned_data["q"] if finder.is_bound and finder.is_valid() else ""
    context = {
        "profile": profile, "session": session, "is_open": _is_open(session), "position": position,
        "finder": finder, **_find(request, query), "account": account, "account_error": account_error,
        "waiting": waiting, "waiting_approval": _approval_of(services.OVERRIDE, waiting) if waiting else None,
        **_operations_context(request.user, session),
    }
    if account is not None:
        currency = account.currency_id
        held = next((row["holdings"] for row in position if row["currency"] == currency), {})
        initial = {"account": account.number}
        deposit = deposit or DepositForm(initial=initial, currency=currency, auto_id="dep_%s")
        withdrawal = withdrawal or WithdrawalForm(initial=initial, currency=currency, auto_id="wd_%s")
        withdrawal.show_held(held)
        _focus(withdrawal if withdrawal.errors and not deposit.errors else deposit)
        context.update({
            "line": account_selectors.account_balances(account), "deposit": deposit, "withdrawal": withdrawal,
            "holders": account.holder_links.select_related("customer").order_by("-primary", "customer__number"),
        })
    return render(request, "teller/window.html", context, status=status)


@login_required
@require_GET
def window(request):
    profile = _require(request, Perm.OPERATE_DRAWER)
    query = WindowForm(request.GET)
    number = query.cleaned_data["account"] if query.is_valid() else ""
    if not number:
        return _window(request, profile)
    try:
        account = account_selectors.account_detail(actor=request.user, number=number)
    except ApplicationError as exc:
        return _window(request, profile, account_error=exc, status=exc.status_code)
    return _window(request, profile, account=account)


@login_required
@require_GET
def find(request):
    """The finder's results alone, for search-as-you-type."""
    _require(request, Perm.OPERATE_DRAWER)
    form = FinderForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    return render(request, "teller/_find_results.html", _find(request, query))


@login_required
@require_GET
def operations(request):
    """The session's operations alone: the window polls it while an override is pending."""
    _require(request, Perm.OPERATE_DRAWER)
    return render(request, "teller/_operations.html", _operations_context(request.user, _my_session(request.user)))


def _operation_body(operation: CashOperation, amount: Money) -> tuple[int, dict]:
    """What is kept with the form's idempotency key: sending the form again finds the same
    operation instead of posting again."""
    status = 201 if operation.status == CashOperation.Status.POSTED else 202
    return status, {"reference": operation.reference, "status": operation.status, "kind": operation.kind,
                    "account": operation.account.number, **amount.as_dict()}


def _cash_post(request, *, form_class: type[CashForm], form_name: str, service, scope: str, auto_id: str):
    profile = _require(request, Perm.POST_CASH)
    try:
        account = account_selectors.account_detail(actor=request.user, number=request.POST.get("account", ""))
    except ApplicationError as exc:
        return _problem(request, exc)
    form = form_class(request.POST, currency=account.currency_id, auto_id=auto_id)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            amount = Money.parse(data["amount"], account.currency_id, locale=request.LANGUAGE_CODE)
            notes, party = form.breakdown(), form.party()
            outcome = idempotency.run_idempotent(
                request, key=str(data["idempotency_key"]), scope=scope, required=True,
                data={"account": account.number, **amount.as_dict(), "denominations": notes, "party": party,
                      "description": data["description"]},
                perform=lambda claim: service(
                    actor=request.user, account_number=account.number, amount=amount, denominations=notes,
                    party=party, description=data["description"], idempotency_claim=claim),
                render=lambda operation: _operation_body(operation, amount),
            )
            operation = selectors.operation_by_reference(actor=request.user, reference=outcome.body["reference"])
        except ApplicationError as exc:
            status = _show_error(form, exc, fields=_CASH_FIELDS)
        else:
            if operation.status == CashOperation.Status.POSTED:
                return _receipt(request, operation, copy=outcome.replayed, replayed=outcome.replayed)
            return _window(request, profile, account=account, waiting=operation, status=202)
    form.renew_key()
    return _window(request, profile, account=account, status=status, **{form_name: form})


@login_required
@require_POST
def deposit(request):
    return _cash_post(request, form_class=DepositForm, form_name="deposit", service=services.cash_deposit_post,
                      scope="cash.deposit", auto_id="dep_%s")


@login_required
@require_POST
def withdrawal(request):
    return _cash_post(request, form_class=WithdrawalForm, form_name="withdrawal",
                      service=services.cash_withdrawal_post, scope="cash.withdrawal", auto_id="wd_%s")


# --- receipts -------------------------------------------------------------------------------------

def _receipt(request, operation: CashOperation, *, copy: bool, replayed: bool = False):
    currency = operation.currency_id
    notes = sorted(((int(value), qty) for value, qty in operation.denominations.items()), reverse=True)
    return render(request, "teller/receipt.html", {
        "operation": operation, "branch": operation.session.drawer.branch,
        "time_zone": operation.session.drawer.branch.time_zone, "amount": Money(operation.amount, currency),
        "notes": [{"note": Money(value, currency), "quantity": qty, "total": Money(value * qty, currency)}
                  for value, qty in notes],
        "copy": copy, "replayed": replayed,
        "approval": (_approval_of(services.OVERRIDE, operation)
                     if operation.status == CashOperation.Status.AWAITING_OVERRIDE else None),
    })


@login_required
@require_GET
def receipt(request, reference: str):
    """A receipt in the language of the page; ``?copy=1`` is a reprint and says so."""
    try:
        operation = selectors.operation_by_reference(actor=request.user, reference=reference)
    except ApplicationError as exc:
        return _problem(request, exc)
    return _receipt(request, operation, copy=request.GET.get("copy") == "1")


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
    context = {"transfers": transfers, "error": error, "time_zone": profile.branch.time_zone}
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
    """The session's electronic journal, with totals per operation and currency."""
    _require(request, Perm.OPERATE_DRAWER)
    try:
        entries = selectors.session_journal(actor=request.user)
    except ApplicationError as exc:
        return _problem(request, exc)
    kinds, statuses = dict(CashOperation.Kind.choices), dict(CashOperation.Status.choices)
    totals = [{**total, "kind_label": kinds.get(total["kind"], total["kind"]),
               "status_label": statuses.get(total["status"], total["status"])} for total in entries.totals]
    return render(request, "teller/journal.html", {
        "journal": entries, "totals": totals, "time_zone": entries.session.drawer.branch.time_zone,
    })
