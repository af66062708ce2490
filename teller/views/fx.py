"""Currency exchange (a quote, then the notes), the rate board, outgoing payments, the supervisor's cash alerts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors as account_selectors
from branch_ops import idempotency
from branch_ops.access import staff_profile
from branch_ops.errors import ApplicationError
from branch_ops.money import Money
from branch_ops.roles import Perm
from teller import selectors, services
from teller.forms import (
    ExchangeForm,
    ExchangeQuoteForm,
    PaymentForm,
    RateForm,
    renew_key,
)
from teller.models import CashOperation, ExchangeQuote
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

