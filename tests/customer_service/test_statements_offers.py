import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from accounts.models import LedgerAccount
from accounts.services import transfer_post
from branch_ops.business_days import branch_day
from branch_ops.errors import ApplicationError
from branch_ops.models import AuditEvent
from branch_ops.money import Money
from customer_service.models import OfferOutcome
from customer_service.selectors import eligible_offers, statement_csv
from customer_service.services import offer_record, request_create
from tests.accounts.conftest import fund, open_account


def test_statement_csv_totals_equal_the_ledger(staff):
    from accounts.models import Customer

    a = fund(open_account(staff["csr"], staff["supervisor"]), 500_000)
    a.customer.full_name = "فاطمة الزهراء"
    Customer.objects.filter(pk=a.customer_id).update(full_name="فاطمة الزهراء")
    b = open_account(staff["csr"], staff["supervisor"])
    for amount in (12_345, 1_000):
        transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(amount, "AED"))
    today = branch_day(a.branch)
    sr = request_create(actor=staff["csr"], kind="statement", customer_number=a.customer.number,
                        account_number=a.number, data={"start": str(today - dt.timedelta(days=7)), "end": str(today)})
    assert sr.status == "fulfilled"
    assert AuditEvent.objects.filter(action="statement.requested", customer_ref=a.customer.number).exists()

    name, text = statement_csv(actor=staff["csr"], number=sr.number)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert name.endswith(".csv")
    assert rows[0][3] == "فاطمة الزهراء"
    totals = rows[-1]
    ledger = LedgerAccount.objects.get(pk=a.ledger_id)
    assert (totals[2], totals[3], totals[4]) == ("133.45", "5000.00", str(Money(ledger.balance, "AED").to_decimal()))


@pytest.mark.parametrize(("start", "end", "code"), [
    ("2026-01-10", "2026-01-01", "INVALID_DATE_RANGE"),
    ("2026-01-01", "2999-01-01", "STATEMENT_IN_FUTURE"),
    ("yesterday", "today", "INVALID_DATE"),
])
def test_a_bad_statement_range_is_refused(staff, start, end, code):
    a = open_account(staff["csr"], staff["supervisor"])
    with pytest.raises(ApplicationError) as err:
        request_create(actor=staff["csr"], kind="statement", customer_number=a.customer.number,
                       account_number=a.number, data={"start": start, "end": end})
    assert err.value.code == code


def test_offers_fit_what_the_customer_does_not_have_and_outcomes_are_recorded(staff):
    from customer_service.models import ProductOffer

    ProductOffer.objects.get_or_create(code="savings-plus", defaults={
        "name": "Savings Plus", "conditions": {"lacks_product": "savings", "min_balance": 500000}})
    poor = open_account(staff["csr"], staff["supervisor"])
    rich = fund(open_account(staff["csr"], staff["supervisor"]), 600_000)
    assert "savings-plus" not in [o.code for o in eligible_offers(actor=staff["csr"], customer=poor.customer)]
    assert "savings-plus" in [o.code for o in eligible_offers(actor=staff["csr"], customer=rich.customer)]
    offer_record(actor=staff["csr"], customer_number=rich.customer.number, offer_code="savings-plus",
                 outcome="accepted")
    assert OfferOutcome.objects.get().outcome == "accepted"


def test_a_statement_may_end_on_the_branchs_today_when_utc_is_still_on_yesterday(staff, monkeypatch):
    """21:00 UTC is already the next day at a Dubai branch: that day is today, not the future."""
    a = open_account(staff["csr"], staff["supervisor"])
    assert a.branch.time_zone == "Asia/Dubai"
    moment = dt.datetime(2026, 3, 10, 21, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    sr = request_create(actor=staff["csr"], kind="statement", customer_number=a.customer.number,
                        account_number=a.number, data={"start": "2026-03-11", "end": "2026-03-11"})
    assert sr.data["end"] == "2026-03-11"
    with pytest.raises(ApplicationError) as refused:
        request_create(actor=staff["csr"], kind="statement", customer_number=a.customer.number,
                       account_number=a.number, data={"start": "2026-03-11", "end": "2026-03-12"})
    assert refused.value.code == "STATEMENT_IN_FUTURE"
