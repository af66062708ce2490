"""Screens of the teller window: the window itself (drawer cash in view, find the customer,
deposit or withdraw, operations waiting for a supervisor), receipts (in the customer's
language), opening count, blind close, vault transfers (the teller asks, a supervisor
confirms), the session's journal (with reversal requests), currency exchange (a quote, then
the notes), the rate board, outgoing payments and the supervisor's cash alerts.

Thin, like every view: parse with a form, check the role, call one service or selector,
render. A service's ``ApplicationError`` is shown on the page (beside the field it names, or
above the form) and answered with its HTTP status. The same services serve the API
(``teller.api``).

Blind close: the closing page never shows what the drawer should hold; the variance is shown
only once the count is in.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts.models import BankAccount
from branch_ops import idempotency
from branch_ops.access import require_perm, staff_profile
from branch_ops.errors import ApplicationError, NotFound
from branch_ops.models import Approval
from branch_ops.money import Money
from branch_ops.roles import Perm
from teller import selectors, services
from teller.forms import (
    CashForm,
    CountsForm,
    DepositForm,
    ExchangeForm,
    ExchangeQuoteForm,
    FinderForm,
    PaymentForm,
    RateForm,
    ReversalForm,
    VaultCurrencyForm,
    VaultDecisionForm,
    VaultTransferForm,
    WindowForm,
    WithdrawalForm,
    renew_key,
)
from teller.models import CashCount, CashOperation, DrawerCash, DrawerSession, ExchangeQuote, VaultTransfer
from teller.services.reversals import REVERSAL, REVERSIBLE

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

def _decimal_text(value: Decimal, language: str) -> str:
    """A rate in ``language``'s conventions, with 4 to 10 decimals."""
    try:
        locale = Locale.parse(translation.to_locale(language or "en"))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    return format_decimal(value, format="#,##0.0000######", locale=locale)


def _rate_line(from_currency: str, to_currency: str, rate: Decimal, language: str) -> dict:
    """``1 <unit> = <value> <other>``, the way round that reads above 1 (the way the board
    shows it): a rate of 0.2710 AED→USD reads "1 USD = 3.6900 AED"."""
    if rate <= 0 or rate >= 1:
        return {"unit": from_currency, "other": to_currency, "value": _decimal_text(rate, language)}
    return {"unit": to_currency, "other": from_currency,
            "value": _decimal_text((Decimal(1) / rate).quantize(Decimal("1e-6")), language)}


def _note_lines(denominations: dict, currency: str) -> list[dict]:
    notes = sorted(((int(value), qty) for value, qty in (denominations or {}).items()), reverse=True)
    return [{"note": Money(value, currency), "quantity": qty, "total": Money(value * qty, currency)}
            for value, qty in notes]


def _receipt_language(operation: CashOperation) -> str:
    """The customer's preferred language when the product speaks it, else the page's."""
    preferred = (operation.customer.preferred_language or "").lower() if operation.customer_id else ""
    if preferred in dict(settings.LANGUAGES):
        return preferred
    return translation.get_language() or settings.LANGUAGE_CODE


def _receipt_block(operation: CashOperation, *, copy: bool, language: str) -> str:
    """The receipt itself, rendered in ``language`` (the page around it stays in the
    teller's)."""
    currency = operation.currency_id
    with translation.override(language):
        context = {
            "operation": operation, "branch": operation.session.drawer.branch,
            "time_zone": operation.session.drawer.branch.time_zone, "amount": Money(operation.amount, currency),
            "notes": _note_lines(operation.denominations, currency), "copy": copy,
            "receipt_language": language, "receipt_rtl": translation.get_language_bidi(),
        }
        if operation.kind == CashOperation.Kind.EXCHANGE and operation.details.get("from_currency"):
            d = operation.details
            context["exchange"] = {
                "gives": Money(int(d["from_amount"]), d["from_currency"]),
                "gets": Money(int(d["to_amount"]), d["to_currency"]),
                "rate": _rate_line(d["from_currency"], d["to_currency"], Decimal(str(d["rate"])), language),
                "notes_in": _note_lines(d.get("denominations_in"), d["from_currency"]),
            }
        return render_to_string("teller/_receipt.html", context)


def _receipt(request, operation: CashOperation, *, copy: bool, replayed: bool = False):
    page_language = translation.get_language()
    language = _receipt_language(operation)
    return render(request, "teller/receipt.html", {
        "operation": operation, "amount": Money(operation.amount, operation.currency_id),
        "receipt": _receipt_block(operation, copy=copy, language=language),
        "receipt_language_name": (translation.get_language_info(language)["name_translated"]
                                  if language != page_language else ""),
        "copy": copy, "replayed": replayed,
        "approval": (_approval_of(services.OVERRIDE, operation)
                     if operation.status == CashOperation.Status.AWAITING_OVERRIDE else None),
    })


@login_required
@require_GET
def receipt(request, reference: str):
    """A receipt in the customer's preferred language (else the page's); ``?copy=1`` is a
    reprint and says so."""
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
        messages.error(request, exc.message)
    else:
        messages.success(request, format_html(
            '{} <a href="{}" class="alert-link">{}</a>',
            _("The reversal of %(reference)s waits for a supervisor.") % {"reference": reference},
            reverse("approval-page", args=[approval.public_id]), _("See the approval")))
    return redirect("teller-journal")


# --- currency exchange ------------------------------------------------------------------------------

# a service's field name -> the exchange form's
_EXCHANGE_FIELDS = {"quote": "quote", "account": "account", "name": "name", "document": "document",
                    "occupation": "occupation", "source_of_funds": "source_of_funds", "currency": None, "amount": None}


def _quote_context(quote: ExchangeQuote) -> dict:
    language = translation.get_language() or "en"
    return {"quote": quote, "gives": Money(quote.from_amount, quote.from_currency_id),
            "gets": Money(quote.to_amount, quote.to_currency_id),
            "rate": _rate_line(quote.from_currency_id, quote.to_currency_id, quote.rate, language)}


def _board_rows(rates, language: str) -> list[dict]:
    return [{"rate": rate, "buy": _decimal_text(rate.buy, language), "sell": _decimal_text(rate.sell, language)}
            for rate in rates]


def _exchange_page(request, profile, *, quote_form: ExchangeQuoteForm | None = None,
                   quote: ExchangeQuote | None = None, form: ExchangeForm | None = None,
                   waiting: CashOperation | None = None, error: ApplicationError | None = None, status: int = 200):
    board = selectors.rate_board(actor=request.user)
    session = _my_session(request.user)
    home = profile.branch.currency_id
    if quote_form is None:
        quote_form = ExchangeQuoteForm(auto_id="q_%s", initial={
            "from_currency": home, "to_currency": next((rate.currency_id for rate in board), home)})
    context = {
        "profile": profile, "session": session, "is_open": _is_open(session), "quote_form": quote_form,
        "board": _board_rows(board, translation.get_language() or "en"), "home_currency": home,
        "time_zone": profile.branch.time_zone, "error": error,
        "waiting": waiting, "waiting_approval": _approval_of(services.OVERRIDE, waiting) if waiting else None,
    }
    if quote is not None:
        form = form or ExchangeForm(initial={"quote": quote.public_id}, auto_id="ex_%s",
                                    from_currency=quote.from_currency_id, to_currency=quote.to_currency_id)
        position = selectors.drawer_position(session) if session is not None else []
        form.show_held(next((row["holdings"] for row in position if row["currency"] == quote.to_currency_id), {}))
        context.update({**_quote_context(quote), "form": form})
    return render(request, "teller/exchange.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def exchange(request):
    """Step 1: the quote (currencies and either amount); a live quote opens step 2."""
    profile = _require(request, Perm.POST_CASH)
    if request.method == "GET":
        return _exchange_page(request, profile)
    form = ExchangeQuoteForm(request.POST, auto_id="q_%s")
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        field = form.amount_field
        currency = (data["from_currency"] if field == "from_amount" else data["to_currency"]).code
        try:
            amount = Money.parse(data[field], currency, locale=request.LANGUAGE_CODE)
            quote = services.exchange_quote(
                actor=request.user, from_currency=data["from_currency"].code, to_currency=data["to_currency"].code,
                **{field: amount})
        except ApplicationError as exc:
            fields = {"amount": field, "currency": _unrated_field(request.user, profile, data)}
            status = _show_error(form, exc, fields=fields)
        else:
            return _exchange_page(request, profile, quote_form=form, quote=quote)
    return _exchange_page(request, profile, quote_form=form, status=status)


def _unrated_field(user, profile, data) -> str:
    """Which currency of the quote form has no rate on the board (``NO_RATE``)."""
    rated = {rate.currency_id for rate in selectors.rate_board(actor=user)} | {profile.branch.currency_id}
    return "from_currency" if data["from_currency"].code not in rated else "to_currency"


def _exchange_body(operation: CashOperation) -> tuple[int, dict]:
    status = 201 if operation.status == CashOperation.Status.POSTED else 202
    return status, {"reference": operation.reference, "status": operation.status, "kind": operation.kind}


def _grid_error_field(form: ExchangeForm, quote: ExchangeQuote, exc: ApplicationError) -> str:
    """The grid an error about notes belongs to: notes the drawer lacks are always those paid
    out; a count that does not add up belongs to the notes taken in when those paid out do."""
    if exc.code != "COUNT_MISMATCH" or form.cleaned_data.get("account"):
        return "denominations"
    notes_out = sum(int(value) * qty for value, qty in form.breakdown_out().items())
    return "denominations_in" if notes_out == quote.to_amount else "denominations"


@login_required
@require_POST
def exchange_post(request):
    """Step 2: the exchange on the live quote; the receipt, or the waiting state over the limit."""
    profile = _require(request, Perm.POST_CASH)
    try:
        quote = selectors.exchange_quote_detail(actor=request.user, quote_id=request.POST.get("quote", ""))
    except ApplicationError as exc:
        return _exchange_page(request, profile, error=exc, status=exc.status_code)
    form = ExchangeForm(request.POST, auto_id="ex_%s", from_currency=quote.from_currency_id,
                        to_currency=quote.to_currency_id)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        account = data["account"] or None
        notes_in, notes_out, party = form.breakdown_in(), form.breakdown_out(), form.party()
        try:
            outcome = idempotency.run_idempotent(
                request, key=str(data["idempotency_key"]), scope="cash.exchange", required=True,
                data={"quote": str(quote.public_id), "account": account, "denominations_in": notes_in,
                      "denominations_out": notes_out, "party": party},
                perform=lambda claim: services.cash_exchange_post(
                    actor=request.user, quote_id=quote.public_id, account_number=account,
                    denominations_in=notes_in, denominations_out=notes_out, party=party, idempotency_claim=claim),
                render=_exchange_body,
            )
            operation = selectors.operation_by_reference(actor=request.user, reference=outcome.body["reference"])
        except ApplicationError as exc:
            status = _show_error(form, exc, fields={**_EXCHANGE_FIELDS,
                                                    "denominations": _grid_error_field(form, quote, exc)})
        else:
            if operation.status == CashOperation.Status.POSTED:
                return _receipt(request, operation, copy=outcome.replayed, replayed=outcome.replayed)
            return _exchange_page(request, profile, waiting=operation, status=202)
    renew_key(form)
    return _exchange_page(request, profile, quote=quote, form=form, status=status)


@login_required
@require_GET
def exchange_notes_in(request):
    """The grid of the notes taken in, alone (for htmx): empty once an account number is
    typed, since account-to-cash takes no notes in."""
    _require(request, Perm.POST_CASH)
    try:
        quote = selectors.exchange_quote_detail(actor=request.user, quote_id=request.GET.get("quote", ""))
    except ApplicationError as exc:
        return _problem(request, exc)
    form = ExchangeForm(auto_id="ex_%s", initial={"account": request.GET.get("account", "")},
                        from_currency=quote.from_currency_id, to_currency=quote.to_currency_id)
    return render(request, "teller/_exchange_notes_in.html", {"form": form})


# --- the rate board -----------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def rate_board(request):
    """The branch's active rates and their last changes, for the tellers who use them; a
    supervisor sets a currency's buy and sell rate here."""
    try:
        profile = staff_profile(request.user)
        board = selectors.rate_board(actor=request.user)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from None
    may_set = profile.has(Perm.SET_RATES)
    form = RateForm(home_currency=profile.branch.currency_id, auto_id="rate_%s") if may_set else None
    status = 200
    if request.method == "POST":
        _require(request, Perm.SET_RATES)
        form = RateForm(request.POST, home_currency=profile.branch.currency_id, auto_id="rate_%s")
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                rate = services.rate_set(actor=request.user, currency=data["currency"].code, buy=data["buy"],
                                         sell=data["sell"])
            except ApplicationError as exc:
                status = _show_error(form, exc)
            else:
                messages.success(request, _("The %(currency)s rate is on the board.") % {"currency": rate.currency_id})
                return redirect("rate-board")
    language = translation.get_language() or "en"
    return render(request, "teller/rates.html", {
        "board": _board_rows(board, language), "history": _board_rows(selectors.rate_history(actor=request.user),
                                                                      language),
        "form": form, "home_currency": profile.branch.currency_id, "time_zone": profile.branch.time_zone,
        "show_nav": profile.has(Perm.OPERATE_DRAWER),
    }, status=status)


# --- outgoing payments ------------------------------------------------------------------------------

# a service's field name -> the payment form's
_PAYMENT_FIELDS = {"number": "account", "account": "account", "currency": "amount"}


def _iban_groups(iban: str) -> str:
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def _payment_receipt(request, payment, *, replayed: bool = False, status: int = 200):
    return render(request, "teller/payment_done.html", {
        "payment": payment, "amount": Money(payment.amount, payment.currency_id), "iban": _iban_groups(payment.iban),
        "time_zone": payment.branch.time_zone, "replayed": replayed,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def payment_new(request):
    """An outgoing payment from a customer's account to another bank (IBAN and BIC checked)."""
    profile = _require(request, Perm.POST_TRANSFER)
    if request.method == "GET":
        form = PaymentForm(initial={"account": request.GET.get("account", "")}, auto_id="pay_%s")
        return render(request, "teller/payment.html", {"form": form, "home_currency": profile.branch.currency_id})
    form = PaymentForm(request.POST, auto_id="pay_%s")
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            account = account_selectors.account_detail(actor=request.user, number=data["account"])
        except ApplicationError as exc:
            form.add_error("account", exc.message)
            status = exc.status_code
        else:
            try:
                amount = Money.parse(data["amount"], account.currency_id, locale=request.LANGUAGE_CODE)
                outcome = idempotency.run_idempotent(
                    request, key=str(data["idempotency_key"]), scope="payment.outgoing", required=True,
                    data={"account": account.number, **amount.as_dict(), "beneficiary_name": data["beneficiary_name"],
                          "iban": data["iban"], "bic": data["bic"], "remittance": data["remittance"]},
                    perform=lambda claim: services.outgoing_payment_post(
                        actor=request.user, account_number=account.number, amount=amount,
                        beneficiary_name=data["beneficiary_name"], iban=data["iban"], bic=data["bic"],
                        remittance=data["remittance"], idempotency_claim=claim),
                    render=lambda payment: (201, {"reference": payment.reference}),
                )
                payment = selectors.payment_by_reference(actor=request.user, reference=outcome.body["reference"])
            except ApplicationError as exc:
                status = _show_error(form, exc, fields=_PAYMENT_FIELDS)
            else:
                return _payment_receipt(request, payment, replayed=outcome.replayed)
    renew_key(form)
    return render(request, "teller/payment.html", {"form": form, "home_currency": profile.branch.currency_id},
                  status=status)


@login_required
@require_GET
def payment_detail(request, reference: str):
    try:
        payment = selectors.payment_by_reference(actor=request.user, reference=reference)
    except ApplicationError as exc:
        return _problem(request, exc)
    return _payment_receipt(request, payment)


# --- cash alerts ------------------------------------------------------------------------------------

@login_required
@require_GET
def cash_alerts(request):
    """For supervisors: today's and recent structuring alerts and large-cash reports."""
    profile = _require(request, Perm.VIEW_BRANCH_QUEUES)
    alerts = selectors.cash_alerts(actor=request.user)
    return render(request, "teller/alerts.html", {
        "alerts": alerts, "currency": profile.branch.currency_id, "time_zone": profile.branch.time_zone,
    })
