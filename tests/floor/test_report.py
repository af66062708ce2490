import datetime as dt
import zoneinfo

import pytest
from django.db.models import Sum
from django.utils import timezone

from accounts.models import LedgerAccount
from branch_ops.errors import ApplicationError
from branch_ops.floor.report import daily_report, daily_report_csv
from branch_ops.money import Money
from customer_service.models import ServiceRequest
from teller.models import CashOperation
from teller.services import cash_deposit_post, cash_withdrawal_post
from tests.factories import make_staff
from tests.floor.conftest import ID, make_every_kind
from tests.teller.conftest import open_drawer

DUBAI = zoneinfo.ZoneInfo("Asia/Dubai")


def _today():
    return timezone.localdate(timezone=DUBAI)


def test_a_future_day_is_refused_with_a_coded_error(staff):
    with pytest.raises(ApplicationError) as err:
        daily_report(actor=staff["supervisor"], day=_today() + dt.timedelta(days=1))
    assert (err.value.code, err.value.field) == ("REPORT_DAY_IN_FUTURE", "day")


def test_a_malformed_day_is_refused(staff):
    with pytest.raises(ApplicationError) as err:
        daily_report(actor=staff["supervisor"], day="yesterday")
    assert err.value.code == "INVALID_DATE"


@pytest.mark.parametrize("role", ["teller", "csr", "coordinator"])
def test_only_roles_with_reports_may_read_it(staff, role):
    with pytest.raises(ApplicationError) as err:
        daily_report(actor=staff[role])
    assert err.value.code == "ROLE_NOT_ALLOWED"


def test_report_totals_equal_sums_from_the_ledger_and_the_rows(staff, branch):
    make_every_kind(staff, branch)
    teller3 = make_staff(branch, "teller", "teller3.dxb")
    open_drawer(teller3, staff["supervisor"], "W3")
    from tests.accounts.conftest import fund, open_account

    account = fund(open_account(staff["csr"], staff["supervisor"]), 500_000)
    for _ in range(3):
        cash_deposit_post(actor=teller3, account_number=account.number, amount=Money(20_000, "AED"),
                          denominations={"10000": 2})
    cash_withdrawal_post(actor=teller3, account_number=account.number, amount=Money(10_000, "AED"),
                         denominations={"10000": 1}, party=ID)

    report = daily_report(actor=staff["supervisor"], day=_today())

    # cash position = the ledger's balances of the vault and every drawer of the branch
    vault = LedgerAccount.objects.get(branch=branch, kind="vault_cash", currency_id="AED").balance
    drawers = sum(la.balance for la in LedgerAccount.objects.filter(branch=branch, kind="drawer_cash",
                                                                    currency_id="AED"))
    assert report.cash == [{"currency": "AED", "vault": vault, "drawers": drawers, "total": vault + drawers}]
    # operations: every posted operation of the day, summed from the rows
    for total in report.totals:
        rows = CashOperation.objects.filter(session__drawer__branch=branch, status="posted", kind=total["kind"],
                                            currency_id=total["currency"])
        assert (total["count"], total["amount"]) == (rows.count(), rows.aggregate(s=Sum("amount"))["s"])
    assert sum(t["count"] for t in report.totals) == CashOperation.objects.filter(status="posted").count()
    t3 = {(r["kind"], r["status"]): (r["count"], r["amount"]) for r in report.operations if r["teller"] == "teller3.dxb"}
    assert t3[("deposit", "posted")] == (3, 60_000)
    assert t3[("withdrawal", "posted")] == (1, 10_000)
    # the closed drawer's variance, the requests and the complaint of the day
    assert {(v["drawer"], v["variance"]) for v in report.variances} == {("W2", -1000)}
    assert report.requests["opened"] == ServiceRequest.objects.filter(branch=branch).count()
    assert report.complaints["opened"] == 1
    assert report.queue["total"]["taken"] in (0, None)  # nobody took a ticket that day
    csv_text = daily_report_csv(report)
    assert f"cash_position,AED,{vault},{drawers},{vault + drawers}" in csv_text


def test_a_past_day_reads_the_cash_position_as_it_was_then(staff, branch):
    from tests.teller.conftest import setup_branch_cash

    setup_branch_cash(branch, vault=1_000_000)
    yesterday = _today() - dt.timedelta(days=1)

    report = daily_report(actor=staff["supervisor"], day=yesterday)

    assert report.cash == []  # the vault was stocked today
    assert report.operations == []
