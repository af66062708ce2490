"""Currency exchange at the window: the branch's rate board (set by a supervisor, history
kept), quotes that lock a rate for a short time, and the exchange itself, cash-to-cash or
account-to-cash, posted through the per-currency FX position accounts.

Rates are branch-currency units per one foreign unit: the bank *buys* foreign currency at
``buy`` and *sells* it at ``sell`` (``buy <= sell``: the spread). Computed amounts are
rounded once, with the named rule of ``branch_ops.money`` (half-even).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.ledger import CREDIT, DEBIT, LedgerError, Line, ledger_post
from accounts.models import LedgerAccount
from accounts.services import internal_account
from branch_ops import idempotency
from branch_ops.access import require_perm, staff_profile
from branch_ops.approvals import approval_request
from branch_ops.audit import audit_event_write
from branch_ops.errors import ApplicationError, Conflict, NotFound
from branch_ops.money import Money, minor_units, round_to_minor
from branch_ops.outbox import event_publish
from branch_ops.roles import Perm
from teller.models import BranchCashSettings, CashLimit, CashOperation, ExchangeQuote, ExchangeRate
from teller.services import cash
from teller.services.cash import (
    OVERRIDE,
    CashError,
    _adjust_holdings,
    _check_held,
    _clean_breakdown,
    _lock_open_session,
    _reference,
    drawer_cash_account,
)

DEFAULT_QUOTE_SECONDS = 120


def _major(money: Money) -> Decimal:
    return money.to_decimal()


def _active_rate(branch, currency: str) -> ExchangeRate:
    rate = ExchangeRate.objects.filter(branch=branch, currency_id=currency, active=True).first()
    if rate is None:
        raise ApplicationError(_("There is no rate for %(currency)s on the board.") % {"currency": currency},
                               code="NO_RATE", field="currency")
    return rate


def rate_set(*, actor, currency: str, buy: Decimal | str, sell: Decimal | str, idempotency_claim=None) -> ExchangeRate:
    """A supervisor sets the buy and sell rate of ``currency`` for their branch."""
    try:
        buy, sell = Decimal(str(buy)), Decimal(str(sell))
    except InvalidOperation:
        raise ApplicationError(_("Enter rates as decimal numbers."), code="INVALID_RATE", field="buy") from None
    if buy <= 0 or sell <= 0 or buy > sell:
        raise ApplicationError(_("Rates must be positive and the buy rate at most the sell rate."),
                               code="INVALID_RATE", field="sell")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        profile = require_perm(actor, Perm.SET_RATES)
        if currency == profile.branch.currency_id:
            raise ApplicationError(_("The branch currency has no rate against itself."), code="SAME_CURRENCY",
                                   field="currency")
        minor_units(currency)
        previous = (ExchangeRate.objects.select_for_update(no_key=True, of=("self",))
                    .filter(branch=profile.branch, currency_id=currency, active=True).first())
        if previous is not None:
            previous.active = False
            previous.save(update_fields=["active"])
        rate = ExchangeRate.objects.create(branch=profile.branch, currency_id=currency, buy=buy, sell=sell,
                                           set_by=actor)
        audit_event_write(actor=actor, action="rate.set", obj=rate,
                          before={"buy": previous.buy, "sell": previous.sell} if previous else {},
                          after={"currency": currency, "buy": buy, "sell": sell})
        event_publish(event_type="rate.set", aggregate=rate, branch=profile.branch,
                      payload={"currency": currency, "buy": str(buy), "sell": str(sell)})
        idempotency.finish(idempotency_claim, rate)
    return rate


def exchange_quote(*, actor, from_currency: str, to_currency: str, from_amount: Money | None = None,
                   to_amount: Money | None = None, idempotency_claim=None) -> ExchangeQuote:
    """Price an exchange and lock the rate for the branch's quote validity. Give what the
    customer hands over (``from_amount``) or what they want to receive (``to_amount``)."""
    if from_currency == to_currency:
        raise ApplicationError(_("Choose two different currencies."), code="SAME_CURRENCY", field="to_currency")
    if (from_amount is None) == (to_amount is None):
        raise ApplicationError(_("Give either the amount handed over or the amount wanted."), code="AMOUNT_REQUIRED",
                               field="amount")
    given = from_amount or to_amount
    if given.amount <= 0:
        raise LedgerError(_("The amount must be greater than zero."), code="AMOUNT_NOT_POSITIVE", field="amount")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        profile = require_perm(actor, Perm.POST_CASH)
        branch = profile.branch
        home = branch.currency_id
        # branch-currency units per from unit, and per to unit, at the bank's side of the spread
        rates_used = {}
        factor = Decimal(1)
        if from_currency != home:
            r = _active_rate(branch, from_currency)
            factor *= r.buy
            rates_used[from_currency] = {"buy": str(r.buy)}
        if to_currency != home:
            r = _active_rate(branch, to_currency)
            factor /= r.sell
            rates_used[to_currency] = {"sell": str(r.sell)}
        if from_amount is not None:
            if from_amount.currency != from_currency:
                raise LedgerError(_("The amount is in the wrong currency."), code="CURRENCY_MISMATCH", field="amount")
            out = Money(round_to_minor(_major(from_amount) * factor, to_currency), to_currency)
            inn = from_amount
        else:
            if to_amount.currency != to_currency:
                raise LedgerError(_("The amount is in the wrong currency."), code="CURRENCY_MISMATCH", field="amount")
            inn = Money(round_to_minor(_major(to_amount) / factor, from_currency), from_currency)
            out = to_amount
        if inn.amount <= 0 or out.amount <= 0:
            raise ApplicationError(_("The amount is too small to exchange."), code="AMOUNT_TOO_SMALL", field="amount")
        settings = BranchCashSettings.objects.filter(branch=branch).first()
        seconds = settings.quote_validity_seconds if settings else DEFAULT_QUOTE_SECONDS
        quote = ExchangeQuote.objects.create(
            branch=branch, quoted_by=actor, from_currency_id=from_currency, from_amount=inn.amount,
            to_currency_id=to_currency, to_amount=out.amount, rate=(_major(out) / _major(inn)).quantize(Decimal("1e-12")),
            rates_used=rates_used, expires_at=timezone.now() + timedelta(seconds=seconds))
        idempotency.finish(idempotency_claim, quote)
    return quote


def _lock_quote(quote_id, branch) -> ExchangeQuote:
    quote = (ExchangeQuote.objects.select_for_update(no_key=True, of=("self",))
             .filter(public_id=quote_id, branch=branch).first())
    if quote is None:
        raise NotFound(_("No such quote."), code="QUOTE_NOT_FOUND", field="quote")
    if quote.used_at is not None:
        raise Conflict(_("This quote was already used."), code="QUOTE_USED", field="quote")
    if quote.expires_at <= timezone.now():
        raise Conflict(_("The quote has expired: ask for a new one."), code="QUOTE_EXPIRED", field="quote")
    return quote


def cash_exchange_post(*, actor, quote_id, denominations_out: Mapping, denominations_in: Mapping | None = None,
                       account_number: str | None = None, party: Mapping | None = None,
                       idempotency_claim=None) -> CashOperation:
    """Exchange on a live quote: cash-to-cash (notes in and out) or account-to-cash (the
    account in the quote's from-currency is debited). Over the teller's limit it waits for
    a supervisor."""
    from accounts.services import account_by_number
    from teller.services.cash import _large_cash, _needs_override

    party = dict(party or {})
    with transaction.atomic(durable=True):
        from branch_ops import idempotency

        idempotency.begin(idempotency_claim)
        session = _lock_open_session(actor)
        branch = session.drawer.branch
        quote = _lock_quote(quote_id, branch)
        account = None
        if account_number:
            account = account_by_number(account_number)
            if account.currency_id != quote.from_currency_id:
                raise LedgerError(_("The account is in %(expected)s, the quote gives %(given)s.")
                                  % {"expected": account.currency_id, "given": quote.from_currency_id},
                                  code="CURRENCY_MISMATCH", field="account")
            notes_in = {}
        else:
            notes_in = _clean_breakdown(quote.from_currency_id, denominations_in or {}, quote.from_amount)
        notes_out = _clean_breakdown(quote.to_currency_id, denominations_out, quote.to_amount)
        _check_held(session, quote.to_currency_id, notes_out)
        paid = Money(quote.to_amount, quote.to_currency_id)
        home_side = paid if paid.currency == branch.currency_id else Money(quote.from_amount, quote.from_currency_id)
        operation = CashOperation.objects.create(
            reference=_reference(branch), session=session, kind=CashOperation.Kind.EXCHANGE,
            status=CashOperation.Status.AWAITING_OVERRIDE, account=account,
            customer=account.customer if account else None, currency_id=paid.currency, amount=paid.amount,
            denominations={str(k): v for k, v in notes_out.items()}, party=party, created_by=actor,
            details={"quote": str(quote.public_id), "from_currency": quote.from_currency_id,
                     "from_amount": quote.from_amount, "to_currency": quote.to_currency_id,
                     "to_amount": quote.to_amount, "rate": str(quote.rate), "rates_used": quote.rates_used,
                     "denominations_in": {str(k): v for k, v in notes_in.items()}},
            description=_("Exchange %(from)s to %(to)s") % {"from": quote.from_currency_id, "to": quote.to_currency_id})
        if home_side.currency == branch.currency_id and _large_cash(session, account, home_side, party, None):
            _large_cash(session, account, home_side, party, operation)
        quote.used_at = timezone.now()
        quote.save(update_fields=["used_at"])
        reason = _needs_override(session, staff_profile(actor).role, CashLimit.Operation.EXCHANGE, paid)
        if reason == "drawer_max":
            reason = None  # an exchange pays cash out of the drawer in this currency
        if reason is None:
            _post_exchange(operation, actor)
        else:
            approval_request(kind=OVERRIDE, branch=branch, subject=operation, actor=actor,
                             reason=_("Over the teller's limit"),
                             summary={"operation": operation.get_kind_display(), "reference": operation.reference,
                                      "gives": Money(quote.from_amount, quote.from_currency_id).format(),
                                      "gets": paid.format(), "rate": str(quote.rate), "limit_passed": reason})
        idempotency.finish(idempotency_claim, operation)
    return operation


def _post_exchange(operation: CashOperation, actor) -> CashOperation:
    session = operation.session
    branch = session.drawer.branch
    d = operation.details
    give = Money(d["from_amount"], d["from_currency"])
    get = Money(d["to_amount"], d["to_currency"])
    fx_from = internal_account(branch=branch, kind="fx_position", currency=give.currency)
    fx_to = internal_account(branch=branch, kind="fx_position", currency=get.currency)
    source = operation.account.ledger_id if operation.account_id else drawer_cash_account(session.drawer, give.currency)
    lines = [Line(source, DEBIT, give), Line(fx_from, CREDIT, give),
             Line(fx_to, DEBIT, get), Line(drawer_cash_account(session.drawer, get.currency), CREDIT, get)]
    if not operation.account_id:
        _adjust_holdings(session, give.currency, {int(k): v for k, v in d["denominations_in"].items()}, +1)
    _adjust_holdings(session, get.currency, {int(k): v for k, v in operation.denominations.items()}, -1)
    tx = ledger_post(kind="cash_exchange", lines=lines, actor=operation.created_by, branch=branch,
                     description=operation.description,
                     metadata={"reference": operation.reference, "rate": d["rate"], "gives": give.as_dict(),
                               "gets": get.as_dict()})
    operation.ledger_transaction = tx
    operation.status = CashOperation.Status.POSTED
    operation.save(update_fields=["ledger_transaction", "status"])
    audit_event_write(actor=actor, action="cash.exchange_posted", obj=operation, branch=branch,
                      customer_ref=operation.customer.number if operation.customer_id else "",
                      after={"reference": operation.reference, "gives": give.as_dict(), "gets": get.as_dict(),
                             "rate": d["rate"]})
    event_publish(event_type="cash.exchange", aggregate=operation, branch=branch,
                  payload={"reference": operation.reference, "gives": give.as_dict(), "gets": get.as_dict(),
                           "rate": d["rate"]})
    return operation


cash.POSTERS[CashOperation.Kind.EXCHANGE] = _post_exchange


def fx_position(branch, currency: str) -> int:
    """The branch's FX position in ``currency`` (debit-normal: positive = long)."""
    account = LedgerAccount.objects.filter(branch=branch, kind="fx_position", currency_id=currency).first()
    return account.balance if account else 0


__all__ = ["CashError", "rate_set", "exchange_quote", "cash_exchange_post", "fx_position"]
