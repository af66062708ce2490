import threading

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.ledger import ledger_verify
from accounts.models import LedgerAccount
from branch_ops.approvals import approval_decide
from branch_ops.errors import ApplicationError
from branch_ops.models import Approval
from branch_ops.money import Money
from teller.models import CashOperation, DrawerHolding, DrawerSession, LargeCashReport, StructuringAlert
from teller.services import (
    cash_deposit_post,
    cash_withdrawal_post,
    drawer_cash_account,
    drawer_session_close,
    drawer_session_open,
)
from tests.accounts.conftest import fund, open_account
from tests.teller.conftest import open_drawer, setup_branch_cash

ID = {"document": "P1234567", "document_checked": True}


def _balance(ledger_or_account):
    pk = getattr(ledger_or_account, "ledger_id", None) or ledger_or_account.pk
    return LedgerAccount.objects.get(pk=pk).balance


def _drawer_cash(session):
    return _balance(drawer_cash_account(session.drawer, "AED"))


def _holdings(session):
    return {h.denomination.value: h.quantity for h in DrawerHolding.objects.filter(session=session)
            .select_related("denomination") if h.quantity}


def test_vault_transfer_fills_the_drawer_by_denomination(cash):
    session = cash["session"]
    assert _drawer_cash(session) == 750_000
    assert _holdings(session) == {50000: 10, 10000: 20, 1000: 50}


def test_a_deposit_credits_the_account_and_the_drawer_with_its_notes(cash):
    op = cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number, amount=Money(120_000, "AED"),
                           denominations={"50000": 2, "10000": 2})
    assert (op.status, op.kind) == ("posted", "deposit")
    assert _balance(cash["account"]) == 1_120_000
    assert _drawer_cash(cash["session"]) == 870_000
    assert _holdings(cash["session"])[50000] == 12
    assert op.reference.startswith("DXB01-")
    assert ledger_verify().ok


def _reads_of(sql_list, table):
    return [q for q in sql_list if q.startswith("SELECT") and f'FROM "{table}"' in q]


def test_a_deposit_reuses_the_account_and_the_notes_its_caller_read_already(cash):
    from django.db.models import Q
    from django.test.utils import CaptureQueriesContext

    from accounts.services import account_by_number
    from teller.models import Denomination

    account = account_by_number(cash["account"].number)
    known = list(Denomination.objects.filter(Q(currency_id="AED") | Q(currency_id="USD"), active=True))

    with CaptureQueriesContext(connection) as queries:
        op = cash_deposit_post(actor=cash["teller"], account_number=account.number, amount=Money(120_000, "AED"),
                               denominations={"50000": 2, "10000": 2}, account=account, known_denominations=known)

    sql = [q["sql"] for q in queries.captured_queries]
    assert (_reads_of(sql, "accounts_bankaccount"), _reads_of(sql, "teller_denomination")) == ([], [])
    assert (op.status, op.account, op.customer_id) == ("posted", account, account.customer_id)
    assert _balance(cash["account"]) == 1_120_000
    assert _holdings(cash["session"])[50000] == 12


def test_a_deposit_adds_every_kind_of_note_in_one_statement_held_or_not(cash):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number, amount=Money(81_000, "AED"),
                          denominations={"50000": 1, "20000": 1, "10000": 1, "1000": 1})

    holding_statements = [q["sql"] for q in queries.captured_queries if '"teller_drawerholding"' in q["sql"]
                          or "teller_drawerholding " in q["sql"]]
    assert len(holding_statements) == 1
    assert _holdings(cash["session"]) == {50000: 11, 20000: 1, 10000: 21, 1000: 51}
    assert _drawer_cash(cash["session"]) == 831_000


def test_a_deposit_within_the_limits_writes_its_operation_once_posted(cash):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        op = cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number,
                               amount=Money(10_000, "AED"), denominations={"10000": 1})

    writes = [q["sql"].split(" ", 1)[0] for q in queries.captured_queries
              if q["sql"].startswith(("INSERT", "UPDATE")) and '"teller_cashoperation"' in q["sql"].split("(", 1)[0]]
    assert writes == ["INSERT"]
    stored = CashOperation.objects.get(pk=op.pk)
    assert (stored.status, stored.ledger_transaction_id, stored.reference) == ("posted", op.ledger_transaction_id,
                                                                               op.reference)
    assert stored.ledger_transaction.entries.count() == 2


def test_notes_of_another_currency_handed_to_a_deposit_are_not_taken_for_its_own(cash):
    from teller.models import Denomination

    usd = list(Denomination.objects.filter(currency_id="USD", active=True))

    op = cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number,
                           amount=Money(120_000, "AED"), denominations={"50000": 2, "10000": 2},
                           known_denominations=usd)

    assert op.status == "posted"
    assert _holdings(cash["session"])[50000] == 12


def test_an_account_handed_to_a_deposit_must_be_the_one_numbered(cash, staff):
    other = open_account(staff["csr"], staff["supervisor"])

    with pytest.raises(ValueError):
        cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number, amount=Money(10_000, "AED"),
                          denominations={"10000": 1}, account=other)

    assert not CashOperation.objects.filter(kind="deposit").exists()


def test_a_withdrawal_checks_identity_and_pays_in_held_notes(cash):
    op = cash_withdrawal_post(actor=cash["teller"], account_number=cash["account"].number,
                              amount=Money(60_000, "AED"), denominations={"50000": 1, "10000": 1}, party=ID)
    assert op.status == "posted"
    assert _balance(cash["account"]) == 940_000
    assert _drawer_cash(cash["session"]) == 690_000


@pytest.mark.parametrize(("amount", "notes", "party", "code"), [
    (60_000, {"50000": 1, "10000": 1}, {}, "IDENTITY_NOT_CHECKED"),
    (60_000, {"50000": 1}, ID, "COUNT_MISMATCH"),
    (60_000, {"20000": 3}, ID, "NOT_PAYABLE_IN_DENOMINATIONS"),
    (60_000, {"30000": 2}, ID, "UNKNOWN_DENOMINATION"),
    (0, {}, ID, "AMOUNT_NOT_POSITIVE"),
])
def test_bad_withdrawals_are_refused_and_nothing_is_posted(cash, amount, notes, party, code):
    before = (_balance(cash["account"]), _drawer_cash(cash["session"]), CashOperation.objects.count())
    with pytest.raises(ApplicationError) as err:
        cash_withdrawal_post(actor=cash["teller"], account_number=cash["account"].number,
                             amount=Money(amount, "AED"), denominations=notes, party=party)
    assert err.value.code == code
    assert (_balance(cash["account"]), _drawer_cash(cash["session"]), CashOperation.objects.count()) == before


def test_a_withdrawal_never_passes_the_available_balance(cash, staff):
    poor = fund(open_account(staff["csr"], staff["supervisor"]), 10_000)
    with pytest.raises(ApplicationError) as err:
        cash_withdrawal_post(actor=cash["teller"], account_number=poor.number, amount=Money(50_000, "AED"),
                             denominations={"50000": 1}, party=ID)
    assert err.value.code == "INSUFFICIENT_FUNDS"


def test_the_drawer_never_goes_below_zero(cash):
    with pytest.raises(IntegrityError, match="ledger_cash_not_negative"), transaction.atomic():
        LedgerAccount.objects.filter(pk=drawer_cash_account(cash["session"].drawer, "AED").pk).update(
            posted_credits=10**9)


def test_no_cash_operation_on_a_drawer_that_is_not_open_or_not_yours(cash, staff, branch):
    with pytest.raises(ApplicationError) as err:
        cash_deposit_post(actor=staff["csr"], account_number=cash["account"].number, amount=Money(1000, "AED"),
                          denominations={"1000": 1})
    assert err.value.code == "ROLE_NOT_ALLOWED"
    from tests.factories import make_staff

    other_teller = make_staff(branch, "teller", "teller2.dxb")
    with pytest.raises(ApplicationError) as err:
        cash_deposit_post(actor=other_teller, account_number=cash["account"].number, amount=Money(1000, "AED"),
                          denominations={"1000": 1})
    assert err.value.code == "DRAWER_NOT_OPEN"


def test_an_over_limit_withdrawal_waits_then_completes_on_approval_only(cash):
    op = cash_withdrawal_post(actor=cash["teller"], account_number=cash["account"].number,
                              amount=Money(600_000, "AED"), denominations={"50000": 10, "10000": 10}, party=ID)
    assert op.status == "awaiting_override"
    assert _balance(cash["account"]) == 1_000_000
    approval = Approval.objects.get(subject_id=str(op.public_id))
    with pytest.raises(ApplicationError):
        approval_decide(approval_id=approval.public_id, actor=cash["teller"], approve=True, reason="")
    assert _balance(cash["account"]) == 1_000_000

    approval_decide(approval_id=approval.public_id, actor=cash["supervisor"], approve=True, reason="known customer")

    op.refresh_from_db()
    assert op.status == "posted"
    assert _balance(cash["account"]) == 400_000
    assert _drawer_cash(cash["session"]) == 150_000
    assert ledger_verify().ok


def test_a_rejected_override_posts_nothing(cash):
    op = cash_withdrawal_post(actor=cash["teller"], account_number=cash["account"].number,
                              amount=Money(600_000, "AED"), denominations={"50000": 10, "10000": 10}, party=ID)
    approval = Approval.objects.get(subject_id=str(op.public_id))
    approval_decide(approval_id=approval.public_id, actor=cash["supervisor"], approve=False, reason="call the customer")
    op.refresh_from_db()
    assert op.status == "refused"
    assert _balance(cash["account"]) == 1_000_000


def test_large_cash_needs_report_details_and_creates_the_report(cash):
    notes = {"50000": 20}  # 10,000 AED = the threshold
    with pytest.raises(ApplicationError) as err:
        cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number,
                          amount=Money(1_000_000, "AED"), denominations=notes, party={"name": "Fatima"})
    assert err.value.code == "LARGE_CASH_DETAILS_REQUIRED"
    op = cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number,
                           amount=Money(1_000_000, "AED"), denominations=notes,
                           party={"name": "Fatima", "document": "P1", "occupation": "engineer",
                                  "source_of_funds": "salary"})
    report = LargeCashReport.objects.get(operation=op)
    assert (report.occupation, report.amount_branch_currency) == ("engineer", 1_000_000)


def test_structuring_alert_fires_on_the_third_deposit_that_crosses_the_threshold(cash):
    def deposit():
        return cash_deposit_post(actor=cash["teller"], account_number=cash["account"].number,
                                 amount=Money(400_000, "AED"), denominations={"50000": 8})

    deposit()
    deposit()
    assert not StructuringAlert.objects.exists()  # 8,000 < 10,000
    third = deposit()  # 12,000 over three deposits each under the threshold
    alert = StructuringAlert.objects.get()
    assert alert.total_branch_currency == 1_200_000
    assert alert.operations.count() == 3
    assert third in alert.operations.all()


def test_blind_close_posts_the_variance_to_over_short_and_a_supervisor_signs_off(cash, staff):
    session = cash["session"]
    # the teller counts 10 AED less than the 7,500 AED expected
    drawer_session_close(actor=cash["teller"], counts={"AED": {"50000": 10, "10000": 20, "1000": 49}})
    session.refresh_from_db()
    assert session.status == "closed"
    assert session.variance == {"AED": -1000}
    assert _drawer_cash(session) == 749_000
    over_short = LedgerAccount.objects.get(branch=session.drawer.branch, kind="cash_over_short", currency_id="AED")
    assert over_short.balance == 1000
    assert ledger_verify().ok

    approval = Approval.objects.get(kind="teller.eod_signoff", subject_id=str(session.public_id))
    with pytest.raises(ApplicationError) as err:
        approval_decide(approval_id=approval.public_id, actor=cash["teller"], approve=True, reason="")
    assert err.value.code in {"SELF_APPROVAL", "APPROVAL_NOT_FOUND"}
    approval_decide(approval_id=approval.public_id, actor=cash["supervisor"], approve=True, reason="ok")
    session.refresh_from_db()
    assert (session.status, session.signed_off_by) == ("signed_off", cash["supervisor"])


def test_postgresql_refuses_a_teller_signing_off_their_own_session(cash):
    session = cash["session"]
    drawer_session_close(actor=cash["teller"], counts={"AED": {"50000": 10, "10000": 20, "1000": 50}})
    with pytest.raises(IntegrityError, match="session_not_self_signed_off"), transaction.atomic():
        DrawerSession.objects.filter(pk=session.pk).update(status="signed_off", signed_off_by=cash["teller"])


def test_opening_flags_a_difference_from_the_last_close(cash):
    drawer_session_close(actor=cash["teller"], counts={"AED": {"50000": 10, "10000": 20, "1000": 50}})
    session = drawer_session_open(actor=cash["teller"], counts={"AED": {"50000": 10, "10000": 20, "1000": 48}})
    assert session.open_difference == {"AED": {"counted": 748_000, "expected": 750_000, "last_close": 750_000}}
    with pytest.raises(ApplicationError) as err:
        drawer_session_open(actor=cash["teller"], counts={"AED": {}})
    assert err.value.code in {"DRAWER_ALREADY_OPEN"}


@pytest.mark.django_db(transaction=True)
def test_two_windows_withdrawing_from_one_account_at_once_never_pass_its_limit():
    from tests.factories import BranchFactory, make_staff

    branch = BranchFactory(code="WIN01")
    setup_branch_cash(branch)
    csr, supervisor = make_staff(branch, "csr", "csr.win"), make_staff(branch, "supervisor", "sup.win")
    tellers = [make_staff(branch, "teller", f"t{i}.win") for i in range(2)]
    for i, teller in enumerate(tellers):
        open_drawer(teller, supervisor, f"W{i}")
    account = fund(open_account(csr, supervisor), 100_000)  # 1,000 AED
    start = threading.Barrier(2)
    results = []

    def withdraw(teller):
        try:
            start.wait()
            cash_withdrawal_post(actor=teller, account_number=account.number, amount=Money(60_000, "AED"),
                                 denominations={"50000": 1, "10000": 1}, party=ID)
            results.append("paid")
        except ApplicationError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=withdraw, args=(t,)) for t in tellers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results) == ["INSUFFICIENT_FUNDS", "paid"]
    assert LedgerAccount.objects.get(pk=account.ledger_id).balance == 40_000
    assert ledger_verify().ok
