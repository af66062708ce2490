"""Reads of the cash window: my session and its cash, the journal, one operation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _

from accounts.models import LedgerAccount
from branch_ops.access import require_perm, staff_profile
from branch_ops.errors import Forbidden, NotFound
from branch_ops.roles import Perm
from teller.models import CashOperation, DrawerCash, DrawerHolding, DrawerSession, ExchangeRate


def my_open_session(*, actor) -> DrawerSession:
    """The actor's open session, or else their latest one."""
    require_perm(actor, Perm.OPERATE_DRAWER)
    qs = DrawerSession.objects.select_related("drawer__branch").filter(teller=actor)
    session = qs.filter(status="open").first() or qs.order_by("-opened_at").first()
    if session is None:
        raise NotFound(_("You have not opened a drawer yet."), code="NO_SESSION")
    return session


def drawer_position(session: DrawerSession) -> list[dict]:
    """Cash per currency (the ledger balance) and the notes held, for the teller's view."""
    ledgers = dict(DrawerCash.objects.filter(drawer=session.drawer).values_list("currency_id", "ledger_id"))
    balances = {la.pk: la.balance for la in LedgerAccount.objects.filter(pk__in=ledgers.values())}
    holdings: dict[str, dict[str, int]] = defaultdict(dict)
    for cur, value, qty in (DrawerHolding.objects.filter(session=session, quantity__gt=0)
                            .values_list("denomination__currency_id", "denomination__value", "quantity")
                            .order_by("denomination__currency_id", "-denomination__value")):
        holdings[cur][str(value)] = qty
    return [{"currency": cur, "cash": balances.get(ledger_id, 0), "holdings": holdings.get(cur, {})}
            for cur, ledger_id in sorted(ledgers.items())]


def operation_by_reference(*, actor, reference: str) -> CashOperation:
    profile = require_perm(actor, Perm.POST_CASH)
    operation = (CashOperation.objects.select_related("account", "customer", "session__drawer__branch", "created_by")
                 .filter(reference=reference, session__drawer__branch=profile.branch).first())
    if operation is None:
        raise NotFound(_("No such operation."), code="OPERATION_NOT_FOUND")
    return operation


@dataclass
class Journal:
    session: DrawerSession
    operations: list[CashOperation]
    totals: list[dict]


def session_journal(*, actor, session: DrawerSession | None = None) -> Journal:
    """Every operation of the session, with totals per operation and currency."""
    session = session or my_open_session(actor=actor)
    operations = list(CashOperation.objects.select_related("account", "customer")
                      .filter(session=session).order_by("created_at", "id"))
    sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for op in operations:
        key = (op.kind, op.currency_id, op.status)
        sums[key][0] += 1
        sums[key][1] += op.amount
    totals = [{"kind": k, "currency": c, "status": s, "count": n, "amount": a}
              for (k, c, s), (n, a) in sorted(sums.items())]
    return Journal(session=session, operations=operations, totals=totals)


def rate_board(*, actor) -> list[ExchangeRate]:
    """The branch's active rates (for the tellers who use them and the supervisors who set them)."""
    profile = staff_profile(actor)
    if not (profile.has(Perm.POST_CASH) or profile.has(Perm.SET_RATES)):
        raise Forbidden(_("Your role does not allow this."), code="ROLE_NOT_ALLOWED")
    return list(ExchangeRate.objects.select_related("set_by").filter(branch=profile.branch, active=True)
                .order_by("currency_id"))


# --- rate history, quotes, payments, cash alerts (the screens' further reads) ----------------------

import uuid  # noqa: E402
import zoneinfo  # noqa: E402
from datetime import date, timedelta  # noqa: E402

from django.db.models import Prefetch  # noqa: E402
from django.utils import timezone  # noqa: E402

from teller.models import ExchangeQuote, LargeCashReport, OutgoingPayment, StructuringAlert  # noqa: E402


def rate_history(*, actor, limit: int = 20) -> list[ExchangeRate]:
    """The branch's last ``limit`` rate changes, newest first (retired rows included)."""
    profile = staff_profile(actor)
    if not (profile.has(Perm.POST_CASH) or profile.has(Perm.SET_RATES)):
        raise Forbidden(_("Your role does not allow this."), code="ROLE_NOT_ALLOWED")
    return list(ExchangeRate.objects.select_related("set_by").filter(branch=profile.branch)
                .order_by("-set_at", "-id")[:limit])


def exchange_quote_detail(*, actor, quote_id) -> ExchangeQuote:
    """A quote of the actor's branch (whether still live is the exchange service's to say)."""
    profile = require_perm(actor, Perm.POST_CASH)
    try:
        pid = quote_id if isinstance(quote_id, uuid.UUID) else uuid.UUID(str(quote_id))
    except (ValueError, TypeError, AttributeError):
        pid = None
    quote = ExchangeQuote.objects.filter(public_id=pid, branch=profile.branch).first() if pid else None
    if quote is None:
        raise NotFound(_("No such quote."), code="QUOTE_NOT_FOUND", field="quote")
    return quote


def payment_by_reference(*, actor, reference: str) -> OutgoingPayment:
    profile = require_perm(actor, Perm.POST_TRANSFER)
    payment = (OutgoingPayment.objects.select_related("account", "created_by", "branch")
               .filter(reference=reference, branch=profile.branch).first())
    if payment is None:
        raise NotFound(_("No such payment."), code="PAYMENT_NOT_FOUND")
    return payment


#: how far back the alerts page looks, in business days of the branch
CASH_ALERT_DAYS = 14


@dataclass
class CashAlerts:
    today: date
    since: date
    structuring: list[StructuringAlert]
    large_cash: list[LargeCashReport]


def cash_alerts(*, actor, days: int = CASH_ALERT_DAYS) -> CashAlerts:
    """The branch's structuring alerts and large-cash reports of today and the last ``days``
    days, newest first, for the supervisor's review."""
    profile = require_perm(actor, Perm.VIEW_BRANCH_QUEUES)
    branch = profile.branch
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(branch.time_zone))
    since = today - timedelta(days=days)
    structuring = list(StructuringAlert.objects.filter(branch=branch, business_date__gte=since)
                       .select_related("customer", "reviewed_by")
                       .prefetch_related(Prefetch("operations",
                                                  queryset=CashOperation.objects.select_related("account")
                                                  .order_by("created_at", "id")))
                       .order_by("-business_date", "-created_at", "-id"))
    large_cash = list(LargeCashReport.objects.filter(branch=branch, operation__session__business_date__gte=since)
                      .select_related("operation", "customer")
                      .order_by("-created_at", "-id"))
    return CashAlerts(today=today, since=since, structuring=structuring, large_cash=large_cash)
