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
