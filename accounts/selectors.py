"""Reads of customers, accounts and the ledger that more than one caller needs.

A look at a customer's record is audited (``customer.viewed``, ``customer.searched``): the
two selectors that show a person's data write that event in their own small transaction.
Balances are O(1) (stored totals); a statement is an index range scan on
``(account, posted_at, id)``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field

from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Greatest
from django.utils.translation import gettext as _

from accounts.models import BankAccount, Customer, LedgerAccount, LedgerEntry
from accounts.numbers import account_number_is_valid
from branch_ops.access import require_perm
from branch_ops.audit import audit_event_write
from branch_ops.errors import ApplicationError, NotFound
from branch_ops.money import Money
from branch_ops.roles import Perm

SEARCH_LIMIT = 20
WORD_SIMILARITY_THRESHOLD = "0.45"
_DIGITS = re.compile(r"^[+\d][\d\s-]{4,}$")


def customer_search(*, actor, query: str, limit: int = SEARCH_LIMIT) -> list[Customer]:
    """Find customers by name (any script, typo-tolerant trigram match), by account
    number, by identity-document number or by phone."""
    require_perm(actor, Perm.VIEW_CUSTOMER)
    q = (query or "").strip()
    if len(q) < 2:
        return []
    compact = q.replace(" ", "").replace("-", "")
    if compact.isdigit() and len(compact) == 12 and account_number_is_valid(compact):
        qs = Customer.objects.filter(Q(accounts__number=compact) | Q(held_accounts__number=compact)).distinct()
    else:
        by_identifier = Q(document_number=q.upper()) | Q(number=q.upper())
        if _DIGITS.match(q):
            by_identifier |= Q(phone__endswith=compact[-9:])
        exact = list(Customer.objects.filter(by_identifier).order_by("number")[:limit])
        if exact:
            qs = exact
        else:
            # whole-name similarity ("Fatma Zahra" ~ "Fatima Al Zahra") or word similarity ("Fatma"
            # finds "Fatima Hassan"), both served by the trigram GIN indexes
            qs = (
                Customer.objects.annotate(similarity=Greatest(
                    TrigramWordSimilarity(q, "full_name"), TrigramWordSimilarity(q, "latin_name"),
                    TrigramSimilarity("full_name", q), TrigramSimilarity("latin_name", q)))
                .filter(Q(full_name__trigram_word_similar=q) | Q(latin_name__trigram_word_similar=q)
                        | Q(full_name__trigram_similar=q) | Q(latin_name__trigram_similar=q)
                        | Q(full_name__icontains=q) | Q(latin_name__icontains=q))
                .order_by("-similarity", "number")
            )
    with transaction.atomic():
        if not isinstance(qs, list):
            with connection.cursor() as cur:  # a first name with one typo scores ~0.5 against a full name
                cur.execute("SET LOCAL pg_trgm.word_similarity_threshold = %s", [WORD_SIMILARITY_THRESHOLD])
            qs = list(qs[:limit])
        results = qs
        audit_event_write(actor=actor, action="customer.searched", object_type="accounts.customer",
                          after={"query": q[:80], "results": [c.number for c in results]})
    return results


@dataclass
class AccountLine:
    account: BankAccount
    balance: Money
    available: Money
    holds: Money


@dataclass
class CustomerGlance:
    customer: Customer
    accounts: list[AccountLine] = field(default_factory=list)


def account_balances(account: BankAccount) -> AccountLine:
    ledger = account.ledger
    cur = account.currency_id
    return AccountLine(account=account, balance=Money(ledger.balance, cur), available=Money(ledger.available, cur),
                       holds=Money(ledger.pending_debits, cur))


def customer_at_a_glance(*, actor, number: str) -> CustomerGlance:
    """Identity and every account the customer holds, with balances (audited)."""
    require_perm(actor, Perm.VIEW_CUSTOMER)
    customer = Customer.objects.select_related("home_branch").filter(number=number).first()
    if customer is None:
        raise NotFound(_("No such customer."), code="CUSTOMER_NOT_FOUND")
    accounts = (BankAccount.objects.filter(Q(customer=customer) | Q(holder_links__customer=customer))
                .select_related("ledger", "branch", "currency").distinct().order_by("number"))
    with transaction.atomic():
        audit_event_write(actor=actor, action="customer.viewed", obj=customer, customer_ref=customer.number)
    return CustomerGlance(customer=customer, accounts=[account_balances(a) for a in accounts])


def account_detail(*, actor, number: str, audit: bool = True) -> BankAccount:
    """One account by number (check digits validated). The look is audited unless the
    caller is about to run a service that audits what it does with the account."""
    require_perm(actor, Perm.VIEW_CUSTOMER)
    if not account_number_is_valid(number):
        raise ApplicationError(_("The account number is not valid (check digits)."), code="INVALID_ACCOUNT_NUMBER",
                               field="number")
    account = (BankAccount.objects.select_related("customer", "ledger", "branch", "currency")
               .filter(number=number).first())
    if account is None:
        raise NotFound(_("No such account."), code="ACCOUNT_NOT_FOUND")
    if audit:
        with transaction.atomic():
            audit_event_write(actor=actor, action="account.viewed", obj=account, customer_ref=account.customer.number)
    return account


# --- statement ---------------------------------------------------------------------------------------

@dataclass
class StatementLine:
    posted_at: dt.datetime
    description: str
    kind: str
    reference: str
    debit: int
    credit: int
    balance: int


@dataclass
class Statement:
    account: BankAccount
    start: dt.date
    end: dt.date
    opening_balance: int
    closing_balance: int
    lines: list[StatementLine]
    next_cursor: str | None


def _cursor(entry_id: int, version: int) -> str:
    return base64.urlsafe_b64encode(f"{version}:{entry_id}".encode()).decode().rstrip("=")


def _uncursor(value: str) -> int:
    try:
        version, _entry = base64.urlsafe_b64decode((value + "=" * (-len(value) % 4)).encode()).decode().split(":")
        return int(version)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApplicationError(_("The cursor is not valid."), code="INVALID_CURSOR", field="after") from None


def account_statement(*, account: BankAccount, start: dt.date, end: dt.date, after: str | None = None,
                      limit: int = 100) -> Statement:
    """Opening balance, the lines from ``start`` to ``end`` (days in the branch's time zone)
    with their running balance, closing balance; ``limit`` lines a page, then a cursor."""
    if end < start:
        raise ApplicationError(_("The end date is before the start date."), code="INVALID_DATE_RANGE", field="end")
    zone = zoneinfo.ZoneInfo(account.branch.time_zone)
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    with connection.cursor() as cur:
        cur.execute(_BALANCES_AROUND, [account.ledger_id, lo, account.ledger_id, hi])
        opening, closing = cur.fetchone()
        opening = opening or 0
        closing = opening if closing is None else closing
        after_version = _uncursor(after) if after else 0
        cur.execute(_PAGE, [account.ledger_id, lo, hi, after_version, limit + 1])
        rows = cur.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    lines = [
        StatementLine(posted_at=posted_at.astimezone(zone), description=description, kind=kind,
                      reference=str(reference), debit=amount if side == "D" else 0,
                      credit=amount if side == "C" else 0, balance=balance_after)
        for posted_at, side, amount, balance_after, version, entry_id, description, kind, reference in rows
    ]
    next_cursor = _cursor(rows[-1][5], rows[-1][4]) if more else None
    return Statement(account=account, start=start, end=end, opening_balance=opening, closing_balance=closing,
                     lines=lines, next_cursor=next_cursor)


# Two index probes on (account, posted_at, id): the last balance before the period and
# before its end.
_BALANCES_AROUND = """
SELECT (SELECT balance_after FROM accounts_ledgerentry WHERE account_id = %s AND posted_at < %s
        ORDER BY posted_at DESC, id DESC LIMIT 1),
       (SELECT balance_after FROM accounts_ledgerentry WHERE account_id = %s AND posted_at < %s
        ORDER BY posted_at DESC, id DESC LIMIT 1)
"""

# One index range scan for the page, joined to its transactions.
_PAGE = """
SELECT e.posted_at, e.side, e.amount, e.balance_after, e.account_version, e.id, t.description, t.kind, t.public_id
FROM accounts_ledgerentry e JOIN accounts_ledgertransaction t ON t.id = e.transaction_id
WHERE e.account_id = %s AND e.posted_at >= %s AND e.posted_at < %s AND e.account_version > %s
ORDER BY e.posted_at, e.id
LIMIT %s
"""


def ledger_balance_by_summing(ledger: LedgerAccount) -> int:
    """The slow way (django-hordak's): sum every entry. For the benchmark's comparison and
    for ``verify_ledger``-style checks only."""
    from django.db.models import Case, F, Sum, When

    sign = 1 if ledger.debit_normal else -1
    total = LedgerEntry.objects.filter(account=ledger).aggregate(
        s=Sum(Case(When(side="D", then=F("amount")), default=-F("amount"))))["s"] or 0
    return sign * total


def specimen_signature(*, actor, customer_number: str, audit: bool = True):
    """The customer's signature in force (or None); looking at it is audited."""
    from accounts.models import SpecimenSignature

    require_perm(actor, Perm.VIEW_CUSTOMER)
    signature = (SpecimenSignature.objects.filter(customer__number=customer_number)
                 .order_by("-captured_at", "-id").first())
    if signature is not None and audit:
        with transaction.atomic():
            audit_event_write(actor=actor, action="customer.signature_viewed", object_type="accounts.customer",
                              object_id=customer_number, customer_ref=customer_number)
    return signature


def has_specimen_signature(customer_number: str) -> bool:
    from accounts.models import SpecimenSignature

    return SpecimenSignature.objects.filter(customer__number=customer_number).exists()


# --- what a supervisor sees beside an account approval (ApprovalKind.describe) ---------------------

def approval_describe_accounts(approvals) -> dict[int, dict]:
    """Live context of account open/freeze/unfreeze/close approvals: the account's status
    and balances, the customer's risk, every account they hold, the account's history.
    A constant number of queries for the whole batch."""
    from django.urls import reverse
    from django.utils.translation import get_language

    from branch_ops.audit import audit_history

    lang = get_language() or "en"
    ids = [a.subject_id for a in approvals]
    accounts = {str(a.public_id): a for a in BankAccount.objects.filter(public_id__in=ids)
                .select_related("ledger", "customer")}
    customers = {a.customer_id for a in accounts.values()}
    held: dict[int, list[BankAccount]] = {}
    for other in (BankAccount.objects.filter(customer_id__in=customers).exclude(status="closed")
                  .select_related("ledger").order_by("number")):
        held.setdefault(other.customer_id, []).append(other)
    history = audit_history(object_type="accounts.bankaccount", object_ids=accounts.keys())
    # labels and choice names once per batch, not once per item (gettext is not free)
    label = {"account": _("Account"), "status": _("Status"), "balance": _("Balance"), "available": _("Available"),
             "risk": _("Risk rating"), "pep": _("politically exposed person"), "held": _("Accounts held")}
    products = {k: str(v) for k, v in BankAccount.Product.choices}
    statuses = {k: str(v) for k, v in BankAccount.Status.choices}
    risks = {k: str(v) for k, v in Customer.Risk.choices}
    out: dict[int, dict] = {}
    for approval in approvals:
        account = accounts.get(approval.subject_id)
        if account is None:
            continue
        cur, customer = account.currency_id, account.customer
        facts = [
            {"label": label["account"], "value": f"{account.number} · {products.get(account.product)} · {cur}"},
            {"label": label["status"], "value": statuses.get(account.status, account.status)},
            {"label": label["balance"], "value": Money(account.ledger.balance, cur).format(lang)},
            {"label": label["available"], "value": Money(account.ledger.available, cur).format(lang)},
            {"label": label["risk"], "value": risks.get(customer.risk_rating, customer.risk_rating)
             + (" · " + label["pep"] if customer.politically_exposed else "")},
            {"label": label["held"], "value": ", ".join(
                f"{o.number} ({Money(o.ledger.balance, o.currency_id).format(lang)})"
                for o in held.get(customer.pk, []) if o.pk != account.pk) or "—"},
        ]
        out[approval.pk] = {"customer": {"number": customer.number, "name": customer.full_name},
                            "facts": facts, "history": history.get(approval.subject_id, []),
                            "link": reverse("account-page", args=[account.number])}
    return out


def account_pending_approval(account: BankAccount):
    """The approval this account waits for (opening, freeze, unfreeze, closing), if any: so
    its page shows the request as pending, never as done."""
    from branch_ops.models import Approval

    return (Approval.objects.filter(subject_type="accounts.bankaccount", subject_id=str(account.public_id),
                                    status=Approval.Status.PENDING).select_related("requested_by").first())
