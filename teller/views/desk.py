"""The teller window: drawer cash in view, find the customer, deposit or withdraw, operations waiting for a supervisor."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from accounts import selectors as account_selectors
from accounts.models import BankAccount
from branch_ops import idempotency
from branch_ops.errors import ApplicationError
from branch_ops.money import Money
from branch_ops.roles import Perm
from teller import selectors, services
from teller.forms import (
    CashForm,
    DepositForm,
    FinderForm,
    WindowForm,
    WithdrawalForm,
)
from teller.models import CashOperation, DrawerSession
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
            "has_signature": account_selectors.has_specimen_signature(account.customer.number),
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
    """Post the window's deposit or withdrawal form. The account was audited as viewed when
    the window showed it (GET); a posted operation is audited by its service, in its own
    transaction, with the account and customer, and its receipt shows nothing more. When
    the window is shown again instead (an error, or an override to wait for: balances and
    holders on screen), that look is audited as on GET. The service is handed the account
    and the notes and coins read here for the form, and does not read them again."""
    profile = _require(request, Perm.POST_CASH)
    try:
        account = account_selectors.account_detail(actor=request.user, number=request.POST.get("account", ""),
                                                   audit=False)
    except ApplicationError as exc:
        return _problem(request, exc)
    form = form_class(request.POST, currency=account.currency_id, auto_id=auto_id)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            amount = Money.parse(data["amount"], account.currency_id, locale=request.LANGUAGE_CODE)
            notes, party = form.breakdown(), form.party()
            done = {}
            outcome = idempotency.run_idempotent(
                request, key=str(data["idempotency_key"]), scope=scope, required=True,
                data={"account": account.number, **amount.as_dict(), "denominations": notes, "party": party,
                      "description": data["description"]},
                perform=lambda claim: done.setdefault("operation", service(
                    actor=request.user, account_number=account.number, amount=amount, denominations=notes,
                    party=party, description=data["description"], idempotency_claim=claim,
                    account=account, known_denominations=form.known_denominations)),
                render=lambda operation: _operation_body(operation, amount),
            )
            # the receipt is the operation the service returned; only a replay reads what was posted
            operation = done.get("operation") or selectors.operation_by_reference(
                actor=request.user, reference=outcome.body["reference"])
        except ApplicationError as exc:
            status = _show_error(form, exc, fields=_CASH_FIELDS)
        else:
            if operation.status == CashOperation.Status.POSTED:
                return _receipt(request, operation, copy=outcome.replayed, replayed=outcome.replayed)
            _audit_shown(request, account)
            return _window(request, profile, account=account, waiting=operation, status=202)
    form.renew_key()
    _audit_shown(request, account)
    return _window(request, profile, account=account, status=status, **{form_name: form})


def _audit_shown(request, account: BankAccount) -> None:
    """The window shows the account again: audited as the GET that shows it is."""
    account_selectors.account_detail(actor=request.user, number=account.number)


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


