"""Teller services: drawer sessions (open with a count, blind close, sign-off), vault
transfers, cash deposits and withdrawals with limits and supervisor overrides, large-cash
reports and structuring alerts. One function per operation; each is one
``transaction.atomic(durable=True)`` that posts through ``accounts.ledger``.

Lock order, always: the drawer session row, then (inside ``ledger_post``) the ledger
accounts in ascending id order.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.ledger import CREDIT, DEBIT, LedgerError, Line, ledger_post
from accounts.models import LedgerAccount
from accounts.services import account_by_number, internal_account
from branch_ops import idempotency
from branch_ops.access import require_perm, staff_profile
from branch_ops.approvals import ApprovalKind, approval_kind_register, approval_request
from branch_ops.audit import audit_event_build, audit_event_write
from branch_ops.errors import ApplicationError, Conflict, Forbidden, NotFound
from branch_ops.models import Approval
from branch_ops.money import Money, round_to_minor
from branch_ops.outbox import event_build, event_publish
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
    import zoneinfo

    return timezone.now().astimezone(zoneinfo.ZoneInfo(branch.time_zone)).date()


def _reference(branch) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT nextval('teller_operation_serial')")
        (serial,) = cur.fetchone()
    return f"{branch.code}-{_business_date(branch):%y%m%d}-{serial:06d}"


def _denominations(currency: str) -> dict[int, Denomination]:
    return {d.value: d for d in Denomination.objects.filter(currency_id=currency, active=True)}


def _clean_breakdown(currency: str, breakdown: Mapping, amount: int | None = None) -> dict[int, int]:
    """``{value: quantity}`` with known denominations and non-negative whole quantities; if
    ``amount`` is given, the notes must add up to it exactly."""
    known = _denominations(currency)
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


def _adjust_holdings(session: DrawerSession, currency: str, breakdown: Mapping[int, int], sign: int) -> None:
    """Add (sign +1) or take out (sign -1) notes; refuses taking notes the drawer does not hold."""
    known = _denominations(currency)
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


def _limit(branch, role: str, operation: str, currency: str) -> int | None:
    return (CashLimit.objects.filter(branch=branch, role=role, operation=operation, currency_id=currency)
            .values_list("max_amount", flat=True).first())


def _settings(branch) -> BranchCashSettings | None:
    return BranchCashSettings.objects.filter(branch=branch).first()


# --- drawer sessions ----------------------------------------------------------------------------------

def drawer_session_open(*, actor, counts: Counts) -> DrawerSession:
    """Open the actor's drawer with a count of every currency in it. A difference from the
    last close (or from the ledger) is flagged on the session, never hidden."""
    with transaction.atomic(durable=True):
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
    return session


def drawer_session_close(*, actor, counts: Counts) -> DrawerSession:
    """Blind close: the teller's count per currency goes in before anyone shows them the
    expected figure; the variance posts to cash over/short and a supervisor signs off."""
    with transaction.atomic(durable=True):
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

def vault_transfer_request(*, actor, direction: str, currency: str, denominations: Mapping) -> VaultTransfer:
    """The teller asks for cash from the vault (or sends cash back); nothing moves until the
    custodian confirms."""
    if direction not in VaultTransfer.Direction.values:
        raise CashError(_("Unknown direction."), code="INVALID_DIRECTION", field="direction")
    with transaction.atomic(durable=True):
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
    return transfer


def vault_transfer_confirm(*, actor, transfer_id, confirm: bool = True) -> VaultTransfer:
    """The vault custodian (a supervisor of the branch, not the requester) confirms; the
    cash posts between the vault and the drawer and the notes are recorded."""
    with transaction.atomic(durable=True):
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
    return transfer


# --- cash deposits and withdrawals -------------------------------------------------------------------

def _needs_override(session, role: str, operation: str, money: Money) -> str | None:
    """Why this operation needs a supervisor (a limit passed), or None."""
    branch = session.drawer.branch
    limits = dict(CashLimit.objects.filter(branch=branch, role=role, currency_id=money.currency,
                                           operation__in=[operation, CashLimit.Operation.DRAWER_MAX])
                  .values_list("operation", "max_amount"))
    limit = limits.get(operation)
    if limit is None or money.amount > limit:
        return "limit"
    if operation == CashLimit.Operation.DEPOSIT:
        cap = limits.get(CashLimit.Operation.DRAWER_MAX)
        held = drawer_cash_account(session.drawer, money.currency).balance  # read with its DrawerCash row
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


def _large_cash(session, account, money: Money, party: Mapping, operation: CashOperation | None) -> bool:
    """At or over the threshold in branch-currency equivalent (or in a currency the rate
    board cannot price: we cannot show it is under), the report's extra data is needed."""
    branch = session.drawer.branch
    settings = _settings(branch)
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


def _structuring_check(session, operation: CashOperation) -> None:
    """Several cash operations of one customer in one business day that add up to the
    threshold (branch-currency equivalent) while each stays under it: one alert a day for
    the supervisor's queue, raised by the operation that crosses the line. The day's total
    is summed by PostgreSQL per currency (constant work, however busy the customer)."""
    from django.db.models import Count, Sum

    branch = session.drawer.branch
    settings = _settings(branch)
    if settings is None or operation.customer_id is None:
        return
    day_ops = CashOperation.objects.filter(
        customer_id=operation.customer_id, status=CashOperation.Status.POSTED,
        kind__in=[CashOperation.Kind.DEPOSIT, CashOperation.Kind.WITHDRAWAL], session__business_date=session.business_date)
    total, counted = 0, 0
    for row in day_ops.values("currency_id").annotate(n=Count("id"), s=Sum("amount")).order_by("currency_id"):
        currency = row["currency_id"]
        under = Money(_under_threshold_limit(branch, currency, settings.large_cash_threshold), currency)
        small = day_ops.filter(currency_id=currency, amount__lt=under.amount).aggregate(n=Count("id"), s=Sum("amount"))
        if small["n"]:
            eq = branch_equivalent(branch, Money(small["s"], currency))
            if eq is not None:
                total += eq
                counted += small["n"]
    if total < settings.large_cash_threshold or counted < 2:
        return
    alert, created = StructuringAlert.objects.get_or_create(
        customer_id=operation.customer_id, business_date=session.business_date,
        defaults={"branch": branch, "total_branch_currency": total})
    if not created:
        StructuringAlert.objects.filter(pk=alert.pk).update(total_branch_currency=total)
    alert.operations.add(operation)
    if created:
        alert.operations.add(*day_ops.exclude(pk=operation.pk).values_list("pk", flat=True)[:200])
        audit_event_write(actor=operation.created_by, action="cash.structuring_alert", obj=alert,
                          branch=branch, customer_ref=operation.customer.number if operation.customer else "",
                          after={"total": total, "operations": counted})
        event_publish(event_type="cash.structuring_alert", aggregate=alert, branch=branch,
                      payload={"customer": operation.customer.number, "business_date": str(session.business_date),
                               "total": total})


def _under_threshold_limit(branch, currency: str, threshold: int) -> int:
    """The amount in ``currency`` (minor units) whose branch equivalent reaches the threshold:
    operations below it are "under the threshold"."""
    if currency == branch.currency_id:
        return threshold
    from teller.models import ExchangeRate

    rate = ExchangeRate.objects.filter(branch=branch, currency_id=currency, active=True).first()
    if rate is None:
        return 0  # unpriced: each counts as large (it needed its own report)
    from branch_ops.money import minor_units

    mid = (rate.buy + rate.sell) / 2
    major = Money(threshold, branch.currency_id).to_decimal() / mid
    return int((major * (10 ** minor_units(currency))).to_integral_value(rounding="ROUND_CEILING"))


def _post_cash(operation: CashOperation, actor) -> CashOperation:
    """Post an operation's money and notes (at once, or when its override is approved)."""
    session = operation.session
    branch = session.drawer.branch
    drawer_ledger = drawer_cash_account(session.drawer, operation.currency_id)
    money = Money(operation.amount, operation.currency_id)
    breakdown = {int(k): v for k, v in operation.denominations.items()}
    if operation.kind == CashOperation.Kind.DEPOSIT:
        lines = [Line(drawer_ledger, DEBIT, money), Line(operation.account.ledger_id, CREDIT, money)]
        _adjust_holdings(session, operation.currency_id, breakdown, +1)
    else:
        lines = [Line(operation.account.ledger_id, DEBIT, money), Line(drawer_ledger, CREDIT, money)]
        _adjust_holdings(session, operation.currency_id, breakdown, -1)
    details = {"reference": operation.reference, "account": operation.account.number, **money.as_dict()}
    tx = ledger_post(
        kind=f"cash_{operation.kind}", lines=lines, actor=operation.created_by, branch=branch,
        description=operation.description, metadata=details,
        # the audit and outbox rows go out with the ledger rows, in one statement
        with_rows=lambda tx: [
            audit_event_build(actor=actor, action=f"cash.{operation.kind}_posted", obj=operation, branch=branch,
                              customer_ref=operation.customer.number if operation.customer else "", after=details),
            event_build(event_type=f"cash.{operation.kind}", aggregate=operation, branch=branch, payload=details),
        ],
    )
    operation.ledger_transaction = tx
    operation.status = CashOperation.Status.POSTED
    operation.save(update_fields=["ledger_transaction", "status"])
    if operation.kind in (CashOperation.Kind.DEPOSIT, CashOperation.Kind.WITHDRAWAL):
        _structuring_check(session, operation)
    return operation


def _cash_operation(*, actor, kind: str, account_number: str, amount: Money, denominations: Mapping,
                    party: Mapping | None, description: str, idempotency_claim) -> CashOperation:
    if amount.amount <= 0:
        raise LedgerError(_("The amount must be greater than zero."), code="AMOUNT_NOT_POSITIVE", field="amount")
    party = dict(party or {})
    with transaction.atomic(durable=True):
        idempotency.begin(idempotency_claim)
        session = _lock_open_session(actor)
        account = account_by_number(account_number)
        if account.currency_id != amount.currency:
            raise LedgerError(_("The amount is in %(given)s but the account is in %(expected)s.")
                              % {"given": amount.currency, "expected": account.currency_id},
                              code="CURRENCY_MISMATCH", field="currency")
        if kind == CashOperation.Kind.WITHDRAWAL and not (party.get("document_checked") and party.get("document")):
            raise CashError(_("Check the customer's identity document and record its number before paying out."),
                            code="IDENTITY_NOT_CHECKED", field="document")
        breakdown = _clean_breakdown(amount.currency, denominations, amount.amount)
        if kind == CashOperation.Kind.WITHDRAWAL:
            _check_held(session, amount.currency, breakdown)
        is_large = _large_cash(session, account, amount, party, None)
        operation = CashOperation.objects.create(
            reference=_reference(session.drawer.branch), session=session, kind=kind,
            status=CashOperation.Status.AWAITING_OVERRIDE, account=account, customer=account.customer,
            currency_id=amount.currency, amount=amount.amount,
            denominations={str(k): v for k, v in breakdown.items()}, party=party, created_by=actor,
            description=description[:200])
        if is_large:
            _large_cash(session, account, amount, party, operation)
        reason = _needs_override(session, staff_profile(actor).role, kind, amount)
        if reason is None:
            _post_cash(operation, actor)
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
                      party: Mapping | None = None, description: str = "", idempotency_claim=None) -> CashOperation:
    """Cash into an account, by a holder or a third party (``party``: name, document)."""
    return _cash_operation(actor=actor, kind=CashOperation.Kind.DEPOSIT, account_number=account_number,
                           amount=amount, denominations=denominations, party=party, description=description,
                           idempotency_claim=idempotency_claim)


def cash_withdrawal_post(*, actor, account_number: str, amount: Money, denominations: Mapping,
                         party: Mapping, description: str = "", idempotency_claim=None) -> CashOperation:
    """Cash out of an account: identity document checked and recorded, never past the
    available balance, the drawer's cash or the notes it holds."""
    return _cash_operation(actor=actor, kind=CashOperation.Kind.WITHDRAWAL, account_number=account_number,
                           amount=amount, denominations=denominations, party=party, description=description,
                           idempotency_claim=idempotency_claim)


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

