"""Teller services: drawer sessions (open with a count, blind close, sign-off), vault
transfers, cash deposits and withdrawals with limits and supervisor overrides, large-cash
reports and structuring alerts. One function per operation; each is one
``transaction.atomic(durable=True)`` that posts through ``accounts.ledger``.

Lock order, always: the drawer session row, then (inside ``ledger_post``) the ledger
accounts in ascending id order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.ledger import CREDIT, DEBIT, LedgerError, Line, ledger_post
from accounts.models import BankAccount, LedgerAccount
from accounts.services import account_by_number, internal_account
from branch_ops import idempotency
from branch_ops.access import require_perm, staff_profile
from branch_ops.approvals import ApprovalKind, approval_kind_register, approval_request
from branch_ops.audit import audit_event_row, audit_event_write
from branch_ops.business_days import branch_day
from branch_ops.errors import ApplicationError, Conflict, Forbidden, NotFound
from branch_ops.models import Approval, Currency
from branch_ops.money import Money, minor_units, round_to_minor
from branch_ops.outbox import event_publish, event_row
from branch_ops.roles import Perm
from teller import selectors
from teller.models import (
    BranchCashSettings,
    CashCount,
    CashCountLine,
    CashLimit,
    CashOperation,
    Denomination,
    Drawer,
    DrawerCash,
    DrawerHolding,
    DrawerSession,
    ExchangeRate,
    LargeCashReport,
    StructuringAlert,
    VaultTransfer,
)

OVERRIDE = "teller.override"
EOD_SIGNOFF = "teller.eod_signoff"

Counts = Mapping[str, Mapping[int, int]]  # {currency: {denomination value: quantity}}


class CashError(ApplicationError):
    status_code = 400


# --- helpers -------------------------------------------------------------------------------------------

def _business_date(branch):
    return branch_day(branch)


def _reference(branch) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT nextval('teller_operation_serial')")
        (serial,) = cur.fetchone()
    return f"{branch.code}-{_business_date(branch):%y%m%d}-{serial:06d}"


def _denominations(currency: str) -> dict[int, Denomination]:
    return {d.value: d for d in Denomination.objects.filter(currency_id=currency, active=True)}


def _clean_breakdown(currency: str, breakdown: Mapping, amount: int | None = None, *,
                     known: Mapping[int, Denomination] | None = None) -> dict[int, int]:
    """``{value: quantity}`` with known denominations and non-negative whole quantities; if
    ``amount`` is given, the notes must add up to it exactly. ``known``: the currency's
    denominations when the caller has read them already."""
    known = _denominations(currency) if known is None else known
    clean: dict[int, int] = {}
    for raw_value, raw_qty in (breakdown or {}).items():
        try:
            value, qty = int(raw_value), int(raw_qty)
        except (TypeError, ValueError):
            raise CashError(_("Give each denomination as a whole number of notes or coins."),
                            code="INVALID_DENOMINATIONS", field="denominations") from None
        if value not in known:
            raise CashError(_("%(value)s is not a %(currency)s note or coin we handle.")
                            % {"value": Money(value, currency).format(), "currency": currency},
                            code="UNKNOWN_DENOMINATION", field="denominations")
        if qty < 0:
            raise CashError(_("A count cannot be negative."), code="INVALID_DENOMINATIONS", field="denominations")
        if qty:
            clean[value] = clean.get(value, 0) + qty
    if amount is not None and sum(v * q for v, q in clean.items()) != amount:
        raise CashError(
            _("The notes and coins add up to %(counted)s, not %(amount)s.")
            % {"counted": Money(sum(v * q for v, q in clean.items()), currency).format(),
               "amount": Money(amount, currency).format()},
            code="COUNT_MISMATCH", field="denominations")
    return clean


def drawer_cash_account(drawer: Drawer, currency: str) -> LedgerAccount:
    """The drawer's ledger account in ``currency`` (created on first use)."""
    found = DrawerCash.objects.select_related("ledger").filter(drawer=drawer, currency_id=currency).first()
    if found is not None:
        return found.ledger
    ledger = LedgerAccount.objects.create(kind=LedgerAccount.Kind.DRAWER_CASH, currency_id=currency,
                                          branch=drawer.branch, name=f"{drawer} cash {currency}", debit_normal=True)
    DrawerCash.objects.create(drawer=drawer, currency_id=currency, ledger=ledger)
    return ledger


def _my_drawer(actor) -> Drawer:
    profile = require_perm(actor, Perm.OPERATE_DRAWER)
    drawer = Drawer.objects.select_related("branch").filter(teller=actor, branch=profile.branch, active=True).first()
    if drawer is None:
        raise NotFound(_("No drawer is assigned to you at this branch."), code="NO_DRAWER")
    return drawer


def _lock_open_session(actor, session_id=None) -> DrawerSession:
    """The actor's open session, row-locked; refuses a drawer that is not open or not theirs."""
    require_perm(actor, Perm.POST_CASH)
    qs = DrawerSession.objects.select_for_update(no_key=True, of=("self",)).select_related("drawer__branch")
    session = qs.filter(public_id=session_id).first() if session_id else qs.filter(teller=actor, status="open").first()
    if session is None:
        raise Conflict(_("Your drawer is not open. Open it with a count first."), code="DRAWER_NOT_OPEN")
    if session.teller_id != actor.pk or session.drawer.teller_id != actor.pk:
        raise Forbidden(_("This is not your drawer."), code="NOT_YOUR_DRAWER")
    if session.status != DrawerSession.Status.OPEN:
        raise Conflict(_("Your drawer is not open. Open it with a count first."), code="DRAWER_NOT_OPEN")
    return session


def _adjust_holdings(session: DrawerSession, currency: str, breakdown: Mapping[int, int], sign: int, *,
                     known: Mapping[int, Denomination] | None = None) -> None:
    """Add (sign +1) or take out (sign -1) notes; refuses taking notes the drawer does not hold.
    Notes added go in with one statement however many kinds there are (a row per kind is
    created on first use, else its quantity grows)."""
    known = _denominations(currency) if known is None else known
    if sign > 0:
        if breakdown:
            table = DrawerHolding._meta.db_table
            rows = sorted((known[value].pk, qty) for value, qty in breakdown.items())
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (session_id, denomination_id, quantity) VALUES "
                    + ", ".join(["(%s, %s, %s)"] * len(rows))
                    + f" ON CONFLICT (session_id, denomination_id) DO UPDATE SET quantity = {table}.quantity"
                      " + EXCLUDED.quantity",
                    [v for pk, qty in rows for v in (session.pk, pk, qty)])
        return
    for value, qty in breakdown.items():
        holding, _created = DrawerHolding.objects.get_or_create(session=session, denomination=known[value])
        if sign < 0 and holding.quantity < qty:
            raise CashError(
                _("The drawer holds only %(held)s × %(note)s; pay the amount in other notes or coins.")
                % {"held": holding.quantity, "note": Money(value, currency).format()},
                code="NOT_PAYABLE_IN_DENOMINATIONS", field="denominations")
        DrawerHolding.objects.filter(pk=holding.pk).update(quantity=F("quantity") + sign * qty)


def _check_held(session: DrawerSession, currency: str, breakdown: Mapping[int, int]) -> None:
    """Refuse now, before anything is written, notes the drawer does not hold."""
    held = dict(DrawerHolding.objects.filter(session=session, denomination__currency_id=currency)
                .values_list("denomination__value", "quantity"))
    for value, qty in breakdown.items():
        if held.get(value, 0) < qty:
            raise CashError(
                _("The drawer holds only %(held)s × %(note)s; pay the amount in other notes or coins.")
                % {"held": held.get(value, 0), "note": Money(value, currency).format()},
                code="NOT_PAYABLE_IN_DENOMINATIONS", field="denominations")


def _record_count(session, moment, currency, breakdown, actor, expected=None) -> CashCount:
    total = sum(v * q for v, q in breakdown.items())
    count = CashCount.objects.create(session=session, moment=moment, currency_id=currency, total=total,
                                     expected=expected, counted_by=actor)
    known = _denominations(currency)
    CashCountLine.objects.bulk_create([CashCountLine(count=count, denomination=known[v], quantity=q)
                                       for v, q in sorted(breakdown.items())])
    return count


def _settings(branch) -> BranchCashSettings | None:
    return BranchCashSettings.objects.filter(branch=branch).first()


class _Reads:
    """What the steps of one cash operation look up, each read at most once and only when a
    step needs it: the branch's cash settings, a currency's denominations, the drawer's cash
    account (with its balance, read after the session row is locked). ``denominations``:
    ``{currency: every active note and coin of it}`` that the caller has read already."""

    def __init__(self, session: DrawerSession, *, denominations: Mapping[str, Iterable[Denomination]] | None = None):
        self.session = session
        self._denominations: dict[str, dict[int, Denomination]] = {
            currency: {d.value: d for d in rows} for currency, rows in (denominations or {}).items()}
        self._drawer_ledgers: dict[str, LedgerAccount] = {}

    @cached_property
    def settings(self) -> BranchCashSettings | None:
        return _settings(self.session.drawer.branch)

    def denominations(self, currency: str) -> dict[int, Denomination]:
        if currency not in self._denominations:
            self._denominations[currency] = _denominations(currency)
        return self._denominations[currency]

    def drawer_ledger(self, currency: str) -> LedgerAccount:
        if currency not in self._drawer_ledgers:
            self._drawer_ledgers[currency] = drawer_cash_account(self.session.drawer, currency)
        return self._drawer_ledgers[currency]


# --- drawer sessions ----------------------------------------------------------------------------------

def drawer_session_open(*, actor, counts: Counts, idempotency_claim=None) -> DrawerSession:
    """Open the actor's drawer with a count of every currency in it. A difference from the
    last close (or from the ledger) is flagged on the session, never hidden."""
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        drawer = _my_drawer(actor)
        Drawer.objects.select_for_update(no_key=True, of=("self",)).filter(pk=drawer.pk).first()
        if DrawerSession.objects.filter(drawer=drawer, status="open").exists():
            raise Conflict(_("This drawer is already open."), code="DRAWER_ALREADY_OPEN")
        previous = DrawerSession.objects.filter(drawer=drawer).exclude(status="open").order_by("-opened_at").first()
        currencies = set(counts) | set(DrawerCash.objects.filter(drawer=drawer).values_list("currency_id", flat=True))
        cleaned = {cur: _clean_breakdown(cur, counts.get(cur, {})) for cur in sorted(currencies)}
        try:
            session = DrawerSession.objects.create(drawer=drawer, teller=actor,
                                                   business_date=_business_date(drawer.branch))
        except IntegrityError:
            raise Conflict(_("You already have an open drawer."), code="DRAWER_ALREADY_OPEN") from None
        differences = {}
        for cur, breakdown in cleaned.items():
            ledger = drawer_cash_account(drawer, cur)
            expected = LedgerAccount.objects.get(pk=ledger.pk).balance
            _record_count(session, CashCount.Moment.OPEN, cur, breakdown, actor, expected=expected)
            _adjust_holdings(session, cur, breakdown, +1)
            last_close = (CashCount.objects.filter(session=previous, moment="close", currency_id=cur)
                          .values_list("total", flat=True).first() if previous else None)
            counted = sum(v * q for v, q in breakdown.items())
            if counted != expected or (last_close is not None and counted != last_close):
                differences[cur] = {"counted": counted, "expected": expected, "last_close": last_close}
        session.open_difference = differences
        session.save(update_fields=["open_difference"])
        audit_event_write(actor=actor, action="drawer.opened", obj=session,
                          after={"drawer": drawer.code, "counts": {c: sum(v * q for v, q in b.items())
                                                                  for c, b in cleaned.items()},
                                 "differences": differences})
        idempotency.finish(idempotency_claim, session)
    return session


def drawer_session_close(*, actor, counts: Counts, idempotency_claim=None) -> DrawerSession:
    """Blind close: the teller's count per currency goes in before anyone shows them the
    expected figure; the variance posts to cash over/short and a supervisor signs off."""
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        session = _lock_open_session(actor)
        drawer = session.drawer
        currencies = sorted(set(counts) | set(DrawerCash.objects.filter(drawer=drawer)
                                              .values_list("currency_id", flat=True)))
        variance = {}
        for cur in currencies:
            breakdown = _clean_breakdown(cur, counts.get(cur, {}))
            ledger = drawer_cash_account(drawer, cur)
            expected = LedgerAccount.objects.get(pk=ledger.pk).balance
            counted = sum(v * q for v, q in breakdown.items())
            _record_count(session, CashCount.Moment.CLOSE, cur, breakdown, actor, expected=expected)
            diff = counted - expected
            if diff:
                variance[cur] = diff
                over_short = internal_account(branch=drawer.branch, kind="cash_over_short", currency=cur)
                money = Money(abs(diff), cur)
                lines = ([Line(ledger, DEBIT, money), Line(over_short, CREDIT, money)] if diff > 0
                         else [Line(over_short, DEBIT, money), Line(ledger, CREDIT, money)])
                tx = ledger_post(kind="cash_variance", lines=lines, actor=actor, branch=drawer.branch,
                                 description=_("Count variance at close"),
                                 metadata={"session": str(session.public_id), "variance": diff})
                CashOperation.objects.create(reference=_reference(drawer.branch), session=session,
                                             kind=CashOperation.Kind.VARIANCE, status=CashOperation.Status.POSTED,
                                             currency_id=cur, amount=abs(diff), ledger_transaction=tx,
                                             created_by=actor, description="over" if diff > 0 else "short")
        session.status = DrawerSession.Status.CLOSED
        session.closed_at = timezone.now()
        session.variance = variance
        session.save(update_fields=["status", "closed_at", "variance"])
        approval_request(kind=EOD_SIGNOFF, branch=drawer.branch, subject=session, actor=actor,
                         summary={"drawer": drawer.code, "business_date": str(session.business_date),
                                  "variance": {c: Money(v, c).format() for c, v in variance.items()}})
        audit_event_write(actor=actor, action="drawer.closed", obj=session, after={"variance": variance})
        event_publish(event_type="drawer.closed", aggregate=session, branch=drawer.branch,
                      payload={"drawer": drawer.code, "business_date": str(session.business_date),
                               "variance": variance})
        idempotency.finish(idempotency_claim, session)
    return session


def _on_signoff_approved(approval, actor) -> None:
    session = DrawerSession.objects.select_for_update(no_key=True, of=("self",)).get(public_id=approval.subject_id)
    session.status = DrawerSession.Status.SIGNED_OFF
    session.signed_off_by = actor
    session.signed_off_at = timezone.now()
    session.save(update_fields=["status", "signed_off_by", "signed_off_at"])
    audit_event_write(actor=actor, action="drawer.signed_off", obj=session,
                      before={"status": "closed"}, after={"status": "signed_off"})


# --- vault ---------------------------------------------------------------------------------------------

def vault_transfer_request(*, actor, direction: str, currency: str, denominations: Mapping,
                           idempotency_claim=None) -> VaultTransfer:
    """The teller asks for cash from the vault (or sends cash back); nothing moves until the
    custodian confirms."""
    if direction not in VaultTransfer.Direction.values:
        raise CashError(_("Unknown direction."), code="INVALID_DIRECTION", field="direction")
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        session = _lock_open_session(actor)
        breakdown = _clean_breakdown(currency, denominations)
        amount = sum(v * q for v, q in breakdown.items())
        if amount <= 0:
            raise CashError(_("The amount must be greater than zero."), code="AMOUNT_NOT_POSITIVE", field="amount")
        if direction == VaultTransfer.Direction.TO_VAULT:
            _check_held(session, currency, breakdown)
        transfer = VaultTransfer.objects.create(session=session, direction=direction, currency_id=currency,
                                                amount=amount, denominations={str(k): v for k, v in breakdown.items()},
                                                requested_by=actor)
        audit_event_write(actor=actor, action="vault.transfer_requested", obj=transfer,
                          after={"direction": direction, **Money(amount, currency).as_dict()})
        idempotency.finish(idempotency_claim, transfer)
    return transfer


def vault_transfer_confirm(*, actor, transfer_id, confirm: bool = True, idempotency_claim=None) -> VaultTransfer:
    """The vault custodian (a supervisor of the branch, not the requester) confirms; the
    cash posts between the vault and the drawer and the notes are recorded."""
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        profile = require_perm(actor, Perm.CONFIRM_VAULT)
        transfer = (VaultTransfer.objects.select_for_update(no_key=True, of=("self",))
                    .select_related("session__drawer__branch")
                    .filter(public_id=transfer_id, session__drawer__branch=profile.branch).first())
        if transfer is None:
            raise NotFound(_("No such vault transfer."), code="VAULT_TRANSFER_NOT_FOUND")
        if transfer.status != VaultTransfer.Status.REQUESTED:
            raise Conflict(_("This vault transfer was already handled."), code="VAULT_TRANSFER_HANDLED")
        if transfer.requested_by_id == actor.pk:
            raise Forbidden(_("You cannot confirm your own vault transfer."), code="SELF_APPROVAL")
        session = DrawerSession.objects.select_for_update(no_key=True, of=("self",)).get(pk=transfer.session_id)
        if not confirm:
            transfer.status = VaultTransfer.Status.REJECTED
            transfer.confirmed_by, transfer.confirmed_at = actor, timezone.now()
            transfer.save(update_fields=["status", "confirmed_by", "confirmed_at"])
            audit_event_write(actor=actor, action="vault.transfer_rejected", obj=transfer)
            idempotency.finish(idempotency_claim, transfer)
            return transfer
        if session.status != DrawerSession.Status.OPEN:
            raise Conflict(_("The drawer is no longer open."), code="DRAWER_NOT_OPEN")
        branch = session.drawer.branch
        drawer_ledger = drawer_cash_account(session.drawer, transfer.currency_id)
        vault = internal_account(branch=branch, kind="vault_cash", currency=transfer.currency_id)
        money = Money(transfer.amount, transfer.currency_id)
        breakdown = {int(k): v for k, v in transfer.denominations.items()}
        if transfer.direction == VaultTransfer.Direction.TO_DRAWER:
            lines = [Line(drawer_ledger, DEBIT, money), Line(vault, CREDIT, money)]
            _adjust_holdings(session, transfer.currency_id, breakdown, +1)
            kind = CashOperation.Kind.VAULT_IN
        else:
            lines = [Line(vault, DEBIT, money), Line(drawer_ledger, CREDIT, money)]
            _adjust_holdings(session, transfer.currency_id, breakdown, -1)
            kind = CashOperation.Kind.VAULT_OUT
        tx = ledger_post(kind="vault_transfer", lines=lines, actor=actor, branch=branch,
                         description=transfer.get_direction_display(),
                         metadata={"vault_transfer": str(transfer.public_id)})
        _record_count(session, CashCount.Moment.VAULT, transfer.currency_id, breakdown, actor)
        CashOperation.objects.create(reference=_reference(branch), session=session, kind=kind,
                                     status=CashOperation.Status.POSTED, currency_id=transfer.currency_id,
                                     amount=transfer.amount, denominations=transfer.denominations,
                                     ledger_transaction=tx, created_by=session.teller)
        transfer.status = VaultTransfer.Status.CONFIRMED
        transfer.confirmed_by, transfer.confirmed_at, transfer.ledger_transaction = actor, timezone.now(), tx
        transfer.save(update_fields=["status", "confirmed_by", "confirmed_at", "ledger_transaction"])
        audit_event_write(actor=actor, action="vault.transfer_confirmed", obj=transfer,
                          after={"direction": transfer.direction, **money.as_dict()})
        idempotency.finish(idempotency_claim, transfer)
    return transfer


# --- cash deposits and withdrawals -------------------------------------------------------------------

def _needs_override(session, role: str, operation: str, money: Money, reads: _Reads | None = None) -> str | None:
    """Why this operation needs a supervisor (a limit passed), or None. Both limits in one
    query; the drawer's cash only for a deposit under its limit."""
    branch = session.drawer.branch
    limits = dict(CashLimit.objects.filter(branch=branch, role=role, currency_id=money.currency,
                                           operation__in=[operation, CashLimit.Operation.DRAWER_MAX])
                  .values_list("operation", "max_amount"))
    limit = limits.get(operation)
    if limit is None or money.amount > limit:
        return "limit"
    if operation == CashLimit.Operation.DEPOSIT:
        cap = limits.get(CashLimit.Operation.DRAWER_MAX)
        held = (reads or _Reads(session)).drawer_ledger(money.currency).balance  # read with its DrawerCash row
        if cap is None or held + money.amount > cap:
            return "drawer_max"
    return None


def branch_equivalent(branch, money: Money) -> int | None:
    """``money`` in the branch currency's minor units at the rate board's middle rate
    (rounded once, half-even); None when the board has no rate for its currency."""
    if money.currency == branch.currency_id:
        return money.amount
    from teller.models import ExchangeRate

    rate = ExchangeRate.objects.filter(branch=branch, currency_id=money.currency, active=True).first()
    if rate is None:
        return None
    return round_to_minor(money.to_decimal() * (rate.buy + rate.sell) / 2, branch.currency_id)


def _large_cash(session, account, money: Money, party: Mapping, operation: CashOperation | None,
                reads: _Reads | None = None) -> bool:
    """At or over the threshold in branch-currency equivalent (or in a currency the rate
    board cannot price: we cannot show it is under), the report's extra data is needed."""
    branch = session.drawer.branch
    settings = (reads or _Reads(session)).settings
    if settings is None:
        return False
    equivalent = branch_equivalent(branch, money)
    if equivalent is not None and equivalent < settings.large_cash_threshold:
        return False
    missing = [f for f in ("name", "document", "occupation", "source_of_funds") if not (party or {}).get(f)]
    if missing:
        raise CashError(_("Cash of this size needs the person's name, identity document, occupation and source "
                          "of funds for the large-cash report."), code="LARGE_CASH_DETAILS_REQUIRED",
                        field=missing[0], extra={"missing": missing})
    if operation is not None:
        LargeCashReport.objects.create(operation=operation, branch=branch,
                                       customer=account.customer if account is not None else None,
                                       person_name=party["name"], document=party["document"],
                                       occupation=party["occupation"], source_of_funds=party["source_of_funds"],
                                       amount_branch_currency=equivalent if equivalent is not None else money.amount)
    return True


def _equivalents_sql(rows: str) -> str:
    """``SELECT id, equivalent`` for ``rows`` (a FROM item ``o`` with ``id``, ``currency_id``
    and ``amount``): each amount's branch-currency equivalent, by :func:`branch_equivalent`'s
    rule, in SQL. In the branch currency it is the amount itself; else the amount at the
    rate board's middle rate ``(buy + sell) / 2``, rounded half-even to the branch
    currency's minor unit; NULL when the board has no rate.

    PostgreSQL's ``numeric`` is exact, so ``y = amount × (buy + sell) × 10^(branch minor
    units − currency minor units)`` is twice the equivalent with nothing rounded, and
    ``round_half_even(y / 2)`` is taken from ``f = floor(y)``: for an even ``f`` it is
    ``f / 2``; for an odd ``f``, ``(f + 1) / 2`` when ``y`` has a fraction, and the even one
    of ``(f ± 1) / 2`` when it has none (an exact half). The same integer as
    ``round_to_minor`` in Python, whose 28 significant digits no real amount reaches.
    Parameters ``branch``, ``branch_currency``, ``branch_minor_units``."""
    rate, cur = ExchangeRate._meta.db_table, Currency._meta.db_table
    return f"""
        SELECT o.id,
               CASE WHEN o.currency_id = %(branch_currency)s THEN o.amount::numeric
                    WHEN r.id IS NULL THEN NULL
                    WHEN mod(h.f, 2) = 0 THEN div(h.f, 2)
                    WHEN h.y > h.f THEN div(h.f, 2) + 1
                    ELSE div(h.f, 2) + mod(div(h.f, 2), 2)
               END AS equivalent
          FROM {rows}
          JOIN {cur} c ON c.code = o.currency_id
          LEFT JOIN {rate} r ON r.branch_id = %(branch)s AND r.currency_id = o.currency_id AND r.active
         CROSS JOIN LATERAL (
               SELECT t.y, floor(t.y) AS f
                 FROM (SELECT o.amount * (r.buy + r.sell) * power(10::numeric, %(branch_minor_units)s - c.minor_units)
                              AS y) t) h"""


def _structuring_rows_sql(*, link_to_alert: bool = False) -> str:
    """The customer's cash of one business day that counts towards structuring: every
    posted cash deposit and withdrawal of the customer in sessions of that business date
    whose branch-currency equivalent (:func:`_equivalents_sql`) is under the large-cash
    threshold (one the board cannot price is not counted: it needed its own report).
    Parameters: :func:`_structuring_params`.

    ``SELECT total, count``; or, with ``link_to_alert``, link those operations to the alert
    ``%(alert)s`` (``INSERT ... SELECT``: the rows never leave PostgreSQL)."""
    op, ses = CashOperation._meta.db_table, DrawerSession._meta.db_table
    day = f"""(SELECT o.id, o.currency_id, o.amount
                 FROM {op} o JOIN {ses} s ON s.id = o.session_id
                WHERE o.customer_id = %(customer)s AND o.status = 'posted' AND o.kind IN ('deposit', 'withdrawal')
                  AND s.business_date = %(business_date)s) o"""
    counted = f"FROM ({_equivalents_sql(day)}) d WHERE d.equivalent < %(threshold)s"
    if not link_to_alert:
        return f"SELECT COALESCE(SUM(d.equivalent), 0), COUNT(*) {counted}"
    through = StructuringAlert.operations.through._meta.db_table
    return (f"INSERT INTO {through} (structuringalert_id, cashoperation_id) "
            f"SELECT %(alert)s, d.id {counted} ON CONFLICT DO NOTHING")


def _structuring_params(branch, customer_id: int, business_date, threshold: int) -> dict:
    return {"customer": customer_id, "business_date": business_date, "branch": branch.pk,
            "branch_currency": branch.currency_id, "branch_minor_units": minor_units(branch.currency_id),
            "threshold": threshold}


def structuring_day_total(*, branch, customer_id: int, business_date, threshold: int) -> tuple[int, int]:
    """(branch-currency total, number) of the customer's cash operations of the day that
    count towards structuring: each under ``threshold``. Constant work in Python however
    many operations the day holds."""
    with connection.cursor() as cursor:
        cursor.execute(_structuring_rows_sql(), _structuring_params(branch, customer_id, business_date, threshold))
        total, counted = cursor.fetchone()
    return int(total), int(counted)


def _structuring_check(session, operation: CashOperation, reads: _Reads | None = None) -> None:
    """Several cash operations of one customer in one business day that add up to the
    threshold (branch-currency equivalent) while each stays under it: one alert a day for
    the supervisor's queue, raised by the operation that crosses the line. PostgreSQL adds
    the day up (one query, whatever the day holds); the operations themselves are linked to
    the alert only when it is raised or updated, again without leaving PostgreSQL."""
    branch = session.drawer.branch
    settings = (reads or _Reads(session)).settings
    if settings is None or operation.customer_id is None:
        return
    threshold = settings.large_cash_threshold
    total, counted = structuring_day_total(branch=branch, customer_id=operation.customer_id,
                                           business_date=session.business_date, threshold=threshold)
    if total < threshold or counted < 2:
        return
    alert, created = StructuringAlert.objects.get_or_create(
        customer_id=operation.customer_id, business_date=session.business_date,
        defaults={"branch": branch, "total_branch_currency": total})
    if not created:
        StructuringAlert.objects.filter(pk=alert.pk).update(total_branch_currency=total)
    with connection.cursor() as cursor:  # every operation counted, as alert.operations.add(*counted) would
        cursor.execute(_structuring_rows_sql(link_to_alert=True), {
            **_structuring_params(branch, operation.customer_id, session.business_date, threshold), "alert": alert.pk})
    if created:
        audit_event_write(actor=operation.created_by, action="cash.structuring_alert", obj=alert,
                          branch=branch, customer_ref=operation.customer.number if operation.customer else "",
                          after={"total": total, "operations": counted})
        event_publish(event_type="cash.structuring_alert", aggregate=alert, branch=branch,
                      payload={"customer": operation.customer.number, "business_date": str(session.business_date),
                               "total": total})


def _post_cash(operation: CashOperation, actor, reads: _Reads | None = None) -> CashOperation:
    """Post an operation's money and notes (at once, or when its override is approved).
    One posted at once is not saved yet: it goes in posted, with its ledger transaction.
    ``reads``: what the operation's earlier steps already looked up."""
    session = operation.session
    branch = session.drawer.branch
    reads = reads or _Reads(session)
    drawer_ledger = reads.drawer_ledger(operation.currency_id)
    known = reads.denominations(operation.currency_id)
    money = Money(operation.amount, operation.currency_id)
    breakdown = {int(k): v for k, v in operation.denominations.items()}
    if operation.kind == CashOperation.Kind.DEPOSIT:
        lines = [Line(drawer_ledger, DEBIT, money), Line(operation.account.ledger_id, CREDIT, money)]
        _adjust_holdings(session, operation.currency_id, breakdown, +1, known=known)
    else:
        lines = [Line(operation.account.ledger_id, DEBIT, money), Line(drawer_ledger, CREDIT, money)]
        _adjust_holdings(session, operation.currency_id, breakdown, -1, known=known)
    details = {"reference": operation.reference, "account": operation.account.number, **money.as_dict()}
    tx = ledger_post(
        kind=f"cash_{operation.kind}", lines=lines, actor=operation.created_by, branch=branch,
        description=operation.description, metadata=details,
        # the audit and outbox rows go out with the ledger rows, in one statement
        with_rows=lambda tx: [
            audit_event_row(actor=actor, action=f"cash.{operation.kind}_posted", obj=operation, branch=branch,
                            customer_ref=operation.customer.number if operation.customer else "", after=details),
            event_row(event_type=f"cash.{operation.kind}", aggregate=operation, branch=branch, payload=details),
        ],
    )
    operation.ledger_transaction = tx
    operation.status = CashOperation.Status.POSTED
    if operation.pk is None:  # a new operation that needs no override goes in posted
        operation.save(force_insert=True)
    else:
        operation.save(update_fields=["ledger_transaction", "status"])
    if operation.kind in (CashOperation.Kind.DEPOSIT, CashOperation.Kind.WITHDRAWAL):
        _structuring_check(session, operation, reads)
    return operation


def _cash_operation(*, actor, kind: str, account_number: str, amount: Money, denominations: Mapping,
                    party: Mapping | None, description: str, idempotency_claim, account: BankAccount | None,
                    known_denominations: Iterable[Denomination] | None) -> CashOperation:
    if amount.amount <= 0:
        raise LedgerError(_("The amount must be greater than zero."), code="AMOUNT_NOT_POSITIVE", field="amount")
    if account is not None and account.number != account_number:
        raise ValueError("account is not the account of account_number")
    party = dict(party or {})
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        session = _lock_open_session(actor)
        known = [d for d in known_denominations or () if d.currency_id == amount.currency]
        reads = _Reads(session, denominations={amount.currency: known} if known else None)
        # an account the caller read already is as good as reading it here: nothing is locked
        # by this read; ledger_post locks the account's ledger row and checks its status
        account = account if account is not None else account_by_number(account_number)
        if account.currency_id != amount.currency:
            raise LedgerError(_("The amount is in %(given)s but the account is in %(expected)s.")
                              % {"given": amount.currency, "expected": account.currency_id},
                              code="CURRENCY_MISMATCH", field="currency")
        if kind == CashOperation.Kind.WITHDRAWAL and not (party.get("document_checked") and party.get("document")):
            raise CashError(_("Check the customer's identity document and record its number before paying out."),
                            code="IDENTITY_NOT_CHECKED", field="document")
        breakdown = _clean_breakdown(amount.currency, denominations, amount.amount,
                                     known=reads.denominations(amount.currency))
        if kind == CashOperation.Kind.WITHDRAWAL:
            _check_held(session, amount.currency, breakdown)
        is_large = _large_cash(session, account, amount, party, None, reads)
        reason = _needs_override(session, staff_profile(actor).role, kind, amount, reads)
        operation = CashOperation(
            reference=_reference(session.drawer.branch), session=session, kind=kind,
            status=CashOperation.Status.AWAITING_OVERRIDE, account=account, customer=account.customer,
            currency_id=amount.currency, amount=amount.amount,
            denominations={str(k): v for k, v in breakdown.items()}, party=party, created_by=actor,
            description=description[:200])
        if is_large or reason is not None:  # the report and the approval refer to its row
            operation.save(force_insert=True)
        # else posted at once: _post_cash inserts it as posted (one INSERT, no UPDATE after)
        if is_large:
            _large_cash(session, account, amount, party, operation, reads)
        if reason is None:
            _post_cash(operation, actor, reads)
        else:
            # refuse now what the override could never fix
            if kind == CashOperation.Kind.WITHDRAWAL:
                ledger = LedgerAccount.objects.get(pk=account.ledger_id)
                if ledger.available < amount.amount:
                    raise LedgerError(_("Not enough money in the account: available %(available)s.")
                                      % {"available": Money(max(ledger.available, 0), amount.currency).format()},
                                      code="INSUFFICIENT_FUNDS", status_code=409)
            approval_request(
                kind=OVERRIDE, branch=session.drawer.branch, subject=operation, actor=actor,
                reason=_("Over the drawer's cash limit") if reason == "drawer_max" else _("Over the teller's limit"),
                summary={"operation": operation.get_kind_display(), "reference": operation.reference,
                         "account": account.number, "customer": account.customer.full_name,
                         "amount": amount.format(), "limit_passed": reason})
            audit_event_write(actor=actor, action=f"cash.{kind}_override_requested", obj=operation,
                              customer_ref=account.customer.number, after={"reason": reason, **amount.as_dict()})
        idempotency.finish(idempotency_claim, operation)
    return operation


def cash_deposit_post(*, actor, account_number: str, amount: Money, denominations: Mapping,
                      party: Mapping | None = None, description: str = "", idempotency_claim=None,
                      account: BankAccount | None = None,
                      known_denominations: Iterable[Denomination] | None = None) -> CashOperation:
    """Cash into an account, by a holder or a third party (``party``: name, document).

    What a caller has read already is not read again (the teller's screen read both to
    show its form): ``account``, the account of ``account_number`` (with its customer and
    ledger); ``known_denominations``, every active note and coin of the amount's currency."""
    return _cash_operation(actor=actor, kind=CashOperation.Kind.DEPOSIT, account_number=account_number,
                           amount=amount, denominations=denominations, party=party, description=description,
                           idempotency_claim=idempotency_claim, account=account,
                           known_denominations=known_denominations)


def cash_withdrawal_post(*, actor, account_number: str, amount: Money, denominations: Mapping,
                         party: Mapping, description: str = "", idempotency_claim=None,
                         account: BankAccount | None = None,
                         known_denominations: Iterable[Denomination] | None = None) -> CashOperation:
    """Cash out of an account: identity document checked and recorded, never past the
    available balance, the drawer's cash or the notes it holds. ``account`` and
    ``known_denominations``: as for :func:`cash_deposit_post`."""
    return _cash_operation(actor=actor, kind=CashOperation.Kind.WITHDRAWAL, account_number=account_number,
                           amount=amount, denominations=denominations, party=party, description=description,
                           idempotency_claim=idempotency_claim, account=account,
                           known_denominations=known_denominations)


#: how each kind of operation posts, once its override is approved (other modules add theirs)
POSTERS = {
    CashOperation.Kind.DEPOSIT: _post_cash,
    CashOperation.Kind.WITHDRAWAL: _post_cash,
}


def _on_override_approved(approval: Approval, actor) -> None:
    operation = (CashOperation.objects.select_for_update(no_key=True, of=("self",))
                 .select_related("session__drawer__branch", "account", "customer").get(public_id=approval.subject_id))
    session = DrawerSession.objects.select_for_update(no_key=True, of=("self",)).get(pk=operation.session_id)
    if session.status != DrawerSession.Status.OPEN:
        raise Conflict(_("The teller's drawer is no longer open; reject this override."), code="DRAWER_NOT_OPEN")
    operation.session = session
    POSTERS[operation.kind](operation, actor)


def _on_override_rejected(approval: Approval, actor) -> None:
    CashOperation.objects.filter(public_id=approval.subject_id, status=CashOperation.Status.AWAITING_OVERRIDE).update(
        status=CashOperation.Status.REFUSED)


def register_approval_kinds() -> None:
    approval_kind_register(ApprovalKind(code=OVERRIDE, label=gettext_lazy("Teller limit override"),
                                        decide_perm=Perm.DECIDE_FOUR_EYES, on_approved=_on_override_approved,
                                        on_rejected=_on_override_rejected,
                                        describe=selectors.approval_describe_operations))
    approval_kind_register(ApprovalKind(code=EOD_SIGNOFF, label=gettext_lazy("End-of-day sign-off"),
                                        decide_perm=Perm.DECIDE_FOUR_EYES, on_approved=_on_signoff_approved,
                                        describe=selectors.approval_describe_sessions))

