"""The structuring check adds the customer's day up in SQL: the same rule as the
operation-by-operation sum in Python (branch-currency equivalent at the middle rate,
rounded half-even, each under the threshold), the same alerts, constant work per request."""

import copy
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from branch_ops.money import Money
from teller.models import BranchCashSettings, CashLimit, CashOperation, StructuringAlert
from teller.services import cash as cash_services
from teller.services import cash_deposit_post, cash_withdrawal_post, rate_set
from tests.accounts.conftest import open_account

ID = {"document": "P1234567", "document_checked": True}
LARGE_PARTY = {"name": "Fatima", "document": "P1", "occupation": "engineer", "source_of_funds": "salary"}


def _python_rule(branch, operations, threshold):
    """The check as it was written in Python: every operation converted on its own."""
    counted = []
    for op in operations:
        eq = cash_services.branch_equivalent(branch, Money(op.amount, op.currency_id))
        if eq is not None and eq < threshold:
            counted.append((op, eq))
    return sum(eq for _op, eq in counted), [op for op, _eq in counted]


def _today(customer, session):
    return list(CashOperation.objects.filter(customer=customer, status="posted", kind__in=["deposit", "withdrawal"],
                                             session__business_date=session.business_date))


def _sql_equivalents(branch, amounts):
    """Each (currency, amount)'s branch equivalent by the SQL of the structuring check."""
    rows = ", ".join(f"({i}, %(c{i})s, %(a{i})s::bigint)" for i in range(len(amounts)))
    params = {**cash_services._structuring_params(branch, 0, None, 0)}
    for i, (currency, amount) in enumerate(amounts):
        params[f"c{i}"], params[f"a{i}"] = currency, amount
    with connection.cursor() as cursor:
        cursor.execute(cash_services._equivalents_sql(f"(VALUES {rows}) AS o(id, currency_id, amount)")
                       + " ORDER BY o.id", params)
        return [None if eq is None else int(eq) for _id, eq in cursor.fetchall()]


RATE = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("5000"), places=8, allow_nan=False)
FOREIGN = ["USD", "JPY", "KWD", "EUR", "BHD"]  # minor units 2, 0, 3, 2, 3


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(branch_currency=st.sampled_from(["AED", "JPY", "KWD"]),
       rates=st.lists(st.tuples(RATE, RATE), min_size=len(FOREIGN), max_size=len(FOREIGN)),
       amounts=st.lists(st.tuples(st.sampled_from([*FOREIGN, "AED", "GBP"]), st.integers(1, 10**13)),
                        min_size=1, max_size=20))
def test_the_sql_equivalent_is_branch_equivalent_for_every_currency_and_amount(
        staff, branch, branch_currency, rates, amounts):
    for currency, (a, b) in zip(FOREIGN, rates, strict=True):
        if currency != branch_currency:
            rate_set(actor=staff["supervisor"], currency=currency, buy=min(a, b), sell=max(a, b))
    as_if = copy.copy(branch)
    as_if.currency_id = branch_currency  # a branch keeping its books in this currency

    expected = [cash_services.branch_equivalent(as_if, Money(a, c)) for c, a in amounts]

    assert _sql_equivalents(as_if, amounts) == expected


def test_half_way_amounts_round_to_even_as_in_python(staff, branch):
    rate_set(actor=staff["supervisor"], currency="USD", buy="3.65", sell="3.66")  # middle 3.655
    rate_set(actor=staff["supervisor"], currency="JPY", buy="0.025", sell="0.025")
    amounts = [("USD", 10), ("USD", 30), ("USD", 1), ("USD", 3), ("JPY", 20), ("JPY", 60), ("GBP", 100)]
    # 0.10 USD = 0.3655 AED -> 0.37; 0.30 -> 1.0965 -> 1.10; 0.01 -> 0.03655 -> 0.04; 0.03 -> 0.10965 -> 0.11;
    # 20 JPY = 0.50 AED exactly; 60 JPY = 1.50; 1.00 GBP is not on the board
    expected = [37, 110, 4, 11, 50, 150, None]
    assert [cash_services.branch_equivalent(branch, Money(a, c)) for c, a in amounts] == expected
    assert _sql_equivalents(branch, amounts) == expected
    # exact halves in the minor unit: 0.125 -> 0.12, 0.135 -> 0.14
    rate_set(actor=staff["supervisor"], currency="USD", buy="1.25", sell="1.25")
    rate_set(actor=staff["supervisor"], currency="JPY", buy="0.0135", sell="0.0135")
    assert _sql_equivalents(branch, [("USD", 10), ("JPY", 10)]) == [12, 14] == [
        cash_services.branch_equivalent(branch, Money(10, "USD")),
        cash_services.branch_equivalent(branch, Money(10, "JPY"))]


@pytest.fixture
def usd(cash, branch, staff):
    """USD on the board (middle 3.67 AED) and a USD account for the customer of the AED one;
    limits that let large cash through without an override."""
    CashLimit.objects.filter(branch=branch, role="teller", operation="deposit", currency_id="AED").update(
        max_amount=2_000_000)
    rate_set(actor=cash["supervisor"], currency="USD", buy="3.65", sell="3.69")
    for op, amount in (("deposit", 10_000_000), ("withdrawal", 10_000_000), ("drawer_max", 100_000_000)):
        CashLimit.objects.update_or_create(branch=branch, role="teller", operation=op, currency_id="USD",
                                           defaults={"max_amount": amount})
    return open_account(staff["csr"], staff["supervisor"], customer=cash["account"].customer, currency="USD")


def test_the_sql_total_matches_the_python_sum_across_currencies(cash, usd, branch):
    aed, teller, session = cash["account"], cash["teller"], cash["session"]
    customer = aed.customer

    def deposit(account, amount, notes, party=None):
        return cash_deposit_post(actor=teller, account_number=account.number, amount=Money(amount, account.currency_id),
                                 denominations=notes, party=party)

    deposit(aed, 250_025, {"100000": 2, "50000": 1, "25": 1})   # 2,500.25 AED
    deposit(usd, 10_001, {"10000": 1, "1": 1})                  # 100.01 USD = 367.0367 -> 367.04 AED
    deposit(usd, 33_333, {"10000": 3, "2000": 1, "1000": 1, "200": 1, "100": 1, "25": 1, "5": 1, "1": 3})
    deposit(usd, 300_000, {"10000": 30}, LARGE_PARTY)           # 3,000 USD = 11,010 AED: large, its own report
    deposit(aed, 1_000_000, {"100000": 10}, LARGE_PARTY)        # 10,000 AED: large
    cash_withdrawal_post(actor=teller, account_number=aed.number, amount=Money(50_000, "AED"),
                         denominations={"50000": 1}, party=ID)
    rate_set(actor=cash["supervisor"], currency="EUR", buy="4.01", sell="4.05")

    total, counted = _python_rule(branch, _today(customer, session), 1_000_000)

    assert cash_services.structuring_day_total(branch=branch, customer_id=customer.pk,
                                               business_date=session.business_date,
                                               threshold=1_000_000) == (total, len(counted))
    assert (total, len(counted)) == (250_025 + 36_704 + 122_332 + 50_000, 4)
    assert not StructuringAlert.objects.exists()  # 4,090.61 AED < 10,000

    # over the line: the alert holds exactly the operations counted, not the large ones
    last = deposit(usd, 200_000, {"10000": 20})                 # 2,000 USD = 7,340 AED
    total, counted = _python_rule(branch, _today(customer, session), 1_000_000)
    alert = StructuringAlert.objects.get()
    assert alert.total_branch_currency == total == 1_193_061
    assert set(alert.operations.all()) == set(counted)
    assert last in counted and len(counted) == 5


def test_the_alert_fires_exactly_at_the_threshold_after_many_small_deposits(cash, branch):
    BranchCashSettings.objects.filter(branch=branch).update(large_cash_threshold=210_000)  # 2,100 AED
    account, teller = cash["account"], cash["teller"]

    def deposit():
        return cash_deposit_post(actor=teller, account_number=account.number, amount=Money(1_000, "AED"),
                                 denominations={"1000": 1})

    counts = []
    for i in range(209):
        if i in (1, 207):
            with CaptureQueriesContext(connection) as queries:
                deposit()
            counts.append(len(queries.captured_queries))
        else:
            deposit()
    assert counts[0] == counts[1]  # the 2nd and the 208th deposit of the day: the same statements
    assert not StructuringAlert.objects.exists()  # 2,090 AED

    last = deposit()  # 210 × 10 AED = 2,100 AED: at the threshold

    alert = StructuringAlert.objects.get()
    assert alert.total_branch_currency == 210_000
    assert alert.operations.count() == 210  # every one of them, not the first 200
    assert last in alert.operations.all()
    deposit()
    alert.refresh_from_db()
    assert (alert.total_branch_currency, alert.operations.count()) == (211_000, 211)
