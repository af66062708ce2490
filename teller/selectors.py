"""Reads of the cash window: my session and its cash, the journal, one operation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _

from accounts.models import LedgerAccount
from branch_ops.access import require_perm, staff_profile
from branch_ops.business_days import branch_day
from branch_ops.errors import Forbidden, NotFound
from branch_ops.roles import Perm
from teller.models import CashOperation, DrawerCash, DrawerHolding, DrawerSession, ExchangeRate, VaultTransfer


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
from datetime import date, timedelta  # noqa: E402

from django.db.models import Prefetch  # noqa: E402

from branch_ops.money import Money  # noqa: E402
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


def vault_transfers(*, actor):
    """Vault transfers the actor may see: the vault custodian (``confirm_vault``) every one
    of the branch; a teller those of their own drawer sessions."""
    profile = staff_profile(actor)
    qs = VaultTransfer.objects.filter(session__drawer__branch=profile.branch).select_related(
        "session__drawer", "requested_by", "confirmed_by", "currency")
    if profile.has(Perm.CONFIRM_VAULT):
        return qs
    if profile.has(Perm.OPERATE_DRAWER):
        return qs.filter(session__teller=actor)
    raise Forbidden(_("Your role does not allow this."), code="ROLE_NOT_ALLOWED")


def cash_alerts(*, actor, days: int = CASH_ALERT_DAYS) -> CashAlerts:
    """The branch's structuring alerts and large-cash reports of today and the last ``days``
    days, newest first, for the supervisor's review."""
    profile = require_perm(actor, Perm.VIEW_BRANCH_QUEUES)
    branch = profile.branch
    today = branch_day(branch)
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


# --- what a supervisor sees beside a teller approval (ApprovalKind.describe) -----------------------

def _lang() -> str:
    from django.utils.translation import get_language

    return get_language() or "en"


def _ledger(debit_normal, posted_debits, posted_credits, pending_debits, overdraft_limit):
    """An unsaved ledger row with just what its ``balance`` and ``available`` read."""
    return LedgerAccount(debit_normal=debit_normal, posted_debits=posted_debits, posted_credits=posted_credits,
                         pending_debits=pending_debits, overdraft_limit=overdraft_limit)


_LEDGER_FIELDS = ("debit_normal", "posted_debits", "posted_credits", "pending_debits", "overdraft_limit")


def approval_describe_operations(approvals) -> dict[int, dict]:
    """Context of an override or a reversal: the operation, the account's balances now, the
    drawer's cash in that currency against its limit, the customer's other cash operations
    that business day, the operation's history. A constant number of queries, read as rows
    (the inbox shows up to 25 of these; model instances of the operation, its account,
    ledger, customer, session, drawer and teller were most of this hook's time)."""
    from django.db.models import Count
    from django.urls import reverse

    from accounts.models import BankAccount
    from branch_ops.audit import audit_history
    from teller.models import CashLimit

    lang = _lang()
    ops = {str(row[0]): row for row in (
        CashOperation.objects.filter(public_id__in=[a.subject_id for a in approvals]).order_by()
        .values_list("public_id", "kind", "reference", "status", "currency_id", "amount", "created_by__username",
                     "session__drawer_id", "session__drawer__code", "session__drawer__branch_id",
                     "session__business_date", "account_id", "account__number", "account__status",
                     *(f"account__ledger__{f}" for f in _LEDGER_FIELDS),
                     "customer_id", "customer__number", "customer__full_name"))}
    drawer_cash = {(drawer_id, cur): _ledger(*ledger).balance for drawer_id, cur, *ledger in (
        DrawerCash.objects.filter(drawer_id__in={row[7] for row in ops.values()})
        .values_list("drawer_id", "currency_id", *(f"ledger__{f}" for f in _LEDGER_FIELDS)))}
    limits = {(branch_id, cur): cap for branch_id, cur, cap in (
        CashLimit.objects.filter(branch_id__in={row[9] for row in ops.values()}, role="teller",
                                 operation=CashLimit.Operation.DRAWER_MAX)
        .values_list("branch_id", "currency_id", "max_amount"))}
    customers = {row[19] for row in ops.values() if row[19]}
    dates = {row[10] for row in ops.values()}
    same_day = {(cust, day): n for cust, day, n in (
        CashOperation.objects.filter(customer_id__in=customers, session__business_date__in=dates,
                                     status=CashOperation.Status.POSTED)
        .values_list("customer_id", "session__business_date").annotate(n=Count("id"))
        .values_list("customer_id", "session__business_date", "n"))}
    history = audit_history(object_type="teller.cashoperation", object_ids=ops.keys())
    label = {"operation": _("Operation"), "amount": _("Amount"), "teller": _("Teller"), "account": _("Account"),
             "balance": _("Balance"), "available": _("Available"), "drawer": _("Drawer cash"),
             "same_day": _("Cash operations of the customer that day")}
    kinds = {k: str(v) for k, v in CashOperation.Kind.choices}
    statuses = {k: str(v) for k, v in CashOperation.Status.choices}
    account_statuses = {k: str(v) for k, v in BankAccount.Status.choices}
    out: dict[int, dict] = {}
    for approval in approvals:
        row = ops.get(approval.subject_id)
        if row is None:
            continue
        (_public_id, kind, reference, status, cur, amount, username, drawer_id, drawer_code, branch_id,
         business_date, account_id, account_number, account_status, *rest) = row
        ledger_fields, (customer_id, customer_number, customer_name) = rest[:5], rest[5:]
        facts = [
            {"label": label["operation"], "value": f"{kinds.get(kind)} · {reference} · {statuses.get(status)}"},
            {"label": label["amount"], "value": Money(amount, cur).format(lang)},
            {"label": label["teller"], "value": f"{username} · {drawer_code}"},
        ]
        if account_id:
            ledger = _ledger(*ledger_fields)
            facts += [{"label": label["account"], "value": f"{account_number} · "
                                                            f"{account_statuses.get(account_status)}"},
                      {"label": label["balance"], "value": Money(ledger.balance, cur).format(lang)},
                      {"label": label["available"], "value": Money(ledger.available, cur).format(lang)}]
        cash = drawer_cash.get((drawer_id, cur))
        if cash is not None:
            limit = limits.get((branch_id, cur))
            facts.append({"label": label["drawer"], "value": Money(cash, cur).format(lang)
                          + (" / " + Money(limit, cur).format(lang) if limit is not None else "")})
        if customer_id:
            facts.append({"label": label["same_day"], "value": str(same_day.get((customer_id, business_date), 0))})
        out[approval.pk] = {
            "customer": {"number": customer_number, "name": customer_name} if customer_id else None,
            "facts": facts, "history": history.get(approval.subject_id, []),
            "link": reverse("teller-receipt", args=[reference]) if status == "posted" else "",
        }
    return out


def approval_describe_sessions(approvals) -> dict[int, dict]:
    """Context of an end-of-day sign-off: the drawer, its variance per currency, the
    closing count against the expected figure, and how many operations the day had."""
    from django.db.models import Count

    from teller.models import CashCount

    lang = _lang()
    sessions = {str(s.public_id): s for s in DrawerSession.objects.filter(
        public_id__in=[a.subject_id for a in approvals]).select_related("drawer", "teller")}
    counts: dict[int, list] = defaultdict(list)
    for count in CashCount.objects.filter(session__in=sessions.values(), moment="close").order_by("currency_id"):
        counts[count.session_id].append(count)
    n_ops = dict(CashOperation.objects.filter(session__in=sessions.values(), status="posted")
                 .values_list("session_id").annotate(n=Count("id")).values_list("session_id", "n"))
    out: dict[int, dict] = {}
    for approval in approvals:
        session = sessions.get(approval.subject_id)
        if session is None:
            continue
        facts = [{"label": _("Drawer"), "value": f"{session.drawer.code} · {session.teller.get_username()}"},
                 {"label": _("Business date"), "value": str(session.business_date)},
                 {"label": _("Posted operations"), "value": str(n_ops.get(session.pk, 0))}]
        for count in counts.get(session.pk, []):
            cur = count.currency_id
            counted = Money(count.total, cur).format(lang)
            facts.append({"label": _("Counted %(currency)s") % {"currency": cur},
                          "value": _("%(counted)s (expected %(expected)s)") % {
                              "counted": counted, "expected": Money(count.expected, cur).format(lang)}
                          if count.expected is not None else counted})
        for cur, variance in sorted((session.variance or {}).items()):
            facts.append({"label": _("Variance %(currency)s") % {"currency": cur},
                          "value": Money(int(variance), cur).format(lang)})
        out[approval.pk] = {"customer": None, "facts": facts, "history": [], "link": ""}
    return out


# --- the branch board and the daily report read these (branch_ops.floor) ---------------------------

@dataclass
class DrawerLine:
    drawer_id: int
    code: str
    teller: str
    status: str  # "open", "closed", "signed_off", "" (never opened)
    business_date: date | None
    cash: list[dict]  # [{"currency", "cash", "limit", "over"}]

    @property
    def over_limit(self) -> bool:
        return any(c["over"] for c in self.cash)


def branch_drawers(branch) -> list[DrawerLine]:
    """Every active drawer of the branch: its latest session's status, its teller, the cash
    per currency (ledger balance) against the drawer limit. Three queries."""
    from teller.models import CashLimit, Drawer

    drawers = list(Drawer.objects.filter(branch=branch, active=True).select_related("teller").order_by("code"))
    latest: dict[int, DrawerSession] = {}
    for session in (DrawerSession.objects.filter(drawer__in=drawers).order_by("drawer_id", "-opened_at", "-id")
                    .distinct("drawer_id")):
        latest[session.drawer_id] = session
    cash: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for dc in DrawerCash.objects.filter(drawer__in=drawers).select_related("ledger").order_by("currency_id"):
        cash[dc.drawer_id].append((dc.currency_id, dc.ledger.balance))
    limits = dict(CashLimit.objects.filter(branch=branch, role="teller", operation=CashLimit.Operation.DRAWER_MAX)
                  .values_list("currency_id", "max_amount"))
    lines = []
    for drawer in drawers:
        session = latest.get(drawer.pk)
        lines.append(DrawerLine(
            drawer_id=drawer.pk, code=drawer.code,
            teller=drawer.teller.get_username() if drawer.teller_id else "",
            status=session.status if session else "", business_date=session.business_date if session else None,
            cash=[{"currency": cur, "cash": amount, "limit": limits.get(cur),
                   "over": limits.get(cur) is not None and amount > limits[cur]}
                  for cur, amount in cash.get(drawer.pk, [])]))
    return lines


def vault_position(branch) -> list[dict]:
    """The vault's cash per currency (ledger balances): one query."""
    return [{"currency": la.currency_id, "cash": la.balance}
            for la in LedgerAccount.objects.filter(branch=branch, kind="vault_cash").order_by("currency_id")]


def cash_position_at(branch, moment) -> dict[str, dict[str, int]]:
    """Cash per currency at ``moment`` from the ledger itself: the balance after the last
    entry before ``moment`` of the vault and of every drawer of the branch.
    ``{currency: {"vault": n, "drawers": n}}``; one query."""
    from accounts.models import LedgerEntry

    position: dict[str, dict[str, int]] = defaultdict(lambda: {"vault": 0, "drawers": 0})
    last = (LedgerEntry.objects.filter(account__branch=branch, account__kind__in=["vault_cash", "drawer_cash"],
                                       posted_at__lt=moment)
            .order_by("account_id", "-posted_at", "-id").distinct("account_id")
            .values_list("account__kind", "currency_id", "balance_after"))
    for kind, cur, balance in last:
        position[cur]["vault" if kind == "vault_cash" else "drawers"] += balance
    return {cur: dict(v) for cur, v in sorted(position.items())}


def cash_alert_counts(branch, *, day: date) -> dict[str, int]:
    """Open structuring alerts (not reviewed) and the large-cash reports of ``day``."""
    return {
        "structuring": StructuringAlert.objects.filter(branch=branch, reviewed_by__isnull=True).count(),
        "large_cash": LargeCashReport.objects.filter(branch=branch, operation__session__business_date=day).count(),
    }


def pending_vault_transfers(branch) -> list:
    """Vault transfers waiting for the custodian's confirmation, oldest first."""
    from teller.models import VaultTransfer

    return list(VaultTransfer.objects.filter(session__drawer__branch=branch, status="requested")
                .select_related("session__drawer", "requested_by").order_by("requested_at", "id"))


def operations_of_day(branch, *, start, end) -> list[dict]:
    """Cash operations created in [start, end): per teller, kind, currency and status, the
    count and the sum of amounts (with the kind's and status's names). One aggregate query."""
    from django.db.models import Count, Sum

    kinds = {k: str(v) for k, v in CashOperation.Kind.choices}
    statuses = {k: str(v) for k, v in CashOperation.Status.choices}
    rows = list(CashOperation.objects.filter(session__drawer__branch=branch, created_at__gte=start,
                                             created_at__lt=end)
                .values("created_by__username", "kind", "currency_id", "status")
                .annotate(count=Count("id"), amount=Sum("amount"))
                .order_by("created_by__username", "kind", "currency_id", "status"))
    for row in rows:
        row["kind_label"], row["status_label"] = kinds.get(row["kind"], row["kind"]), statuses.get(row["status"], "")
    return rows


def sessions_of_day(branch, *, day: date) -> list[DrawerSession]:
    """The drawer sessions of a business day (with their variance)."""
    return list(DrawerSession.objects.filter(drawer__branch=branch, business_date=day)
                .select_related("drawer", "teller", "signed_off_by").order_by("drawer__code"))


def cash_alerts_of_day(branch, *, day: date) -> dict:
    """The large-cash reports and structuring alerts of a business day."""
    return {
        "large_cash": list(LargeCashReport.objects.filter(branch=branch, operation__session__business_date=day)
                           .select_related("operation", "customer").order_by("created_at", "id")),
        "structuring": list(StructuringAlert.objects.filter(branch=branch, business_date=day)
                            .select_related("customer").order_by("created_at", "id")),
    }
