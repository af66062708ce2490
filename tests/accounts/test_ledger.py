import random
import threading
import uuid

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from rest_framework.test import APIClient

from accounts.ledger import (
    CREDIT,
    DEBIT,
    LedgerError,
    Line,
    hold_place,
    hold_settle,
    hold_void,
    ledger_post,
    ledger_reverse,
    ledger_verify,
)
from accounts.models import BankAccount, LedgerAccount, LedgerEntry, LedgerKind, LedgerTransaction
from accounts.selectors import account_statement
from accounts.services import internal_account, transfer_post, transfer_post_in_transaction
from branch_ops.errors import ApplicationError
from branch_ops.money import Money
from tests.accounts.conftest import fund, open_account


def _ledger(account):
    return LedgerAccount.objects.get(pk=account.ledger_id)


# --- what PostgreSQL refuses by itself ------------------------------------------------------------------

def _raw_tx(sql_entries, branch_id=None):
    """Insert a ledger transaction and the given entries with raw SQL, then COMMIT."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("INSERT INTO accounts_ledgertransaction (public_id, kind, description, posted_at, metadata) "
                    "VALUES (gen_random_uuid(), 'raw', '', now(), '{}') RETURNING id")
        (tx_id,) = cur.fetchone()
        for account_id, side, amount, currency, version in sql_entries:
            cur.execute("INSERT INTO accounts_ledgerentry (transaction_id, account_id, side, amount, currency_id, "
                        "account_version, balance_after, posted_at) VALUES (%s, %s, %s, %s, %s, %s, 0, now())",
                        [tx_id, account_id, side, amount, currency, version])


@pytest.mark.django_db(transaction=True)
def test_raw_sql_unbalanced_transaction_is_refused_at_commit(staff):
    a = open_account(staff["csr"], staff["supervisor"])
    suspense = internal_account(branch=a.branch, kind="suspense", currency="AED")
    before = LedgerEntry.objects.count()
    with pytest.raises(IntegrityError, match="unbalanced"):
        _raw_tx([(suspense.pk, "D", 100, "AED", 1001), (a.ledger_id, "C", 99, "AED", 1001)])
    with pytest.raises(IntegrityError, match="at least two"):
        _raw_tx([(suspense.pk, "D", 100, "AED", 1002)])
    with pytest.raises(IntegrityError, match="at least two"):
        _raw_tx([])
    assert LedgerEntry.objects.count() == before
    assert ledger_verify().ok


def _raw_entry(cur, tx_id, account_id, side, amount, version):
    cur.execute("INSERT INTO accounts_ledgerentry (transaction_id, account_id, side, amount, currency_id, "
                "account_version, balance_after, posted_at) VALUES (%s, %s, %s, %s, 'AED', %s, 0, now())",
                [tx_id, account_id, side, amount, version])


@pytest.mark.parametrize("stay_immediate", [False, True])
@pytest.mark.django_db(transaction=True)
def test_an_entry_added_after_a_passed_balance_check_is_checked_again_at_commit(staff, stay_immediate):
    """The balance is checked once per ledger transaction at COMMIT; an entry inserted after
    a check that passed (constraints made IMMEDIATE in between) must not ride on it: neither
    at COMMIT nor, with the constraints left IMMEDIATE, at the end of its own statement."""
    a = open_account(staff["csr"], staff["supervisor"])
    suspense = internal_account(branch=a.branch, kind="suspense", currency="AED")
    before = LedgerEntry.objects.count()
    with pytest.raises(IntegrityError, match="unbalanced"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("INSERT INTO accounts_ledgertransaction (public_id, kind, description, posted_at, metadata) "
                        "VALUES (gen_random_uuid(), 'raw', '', now(), '{}') RETURNING id")
            (tx_id,) = cur.fetchone()
            _raw_entry(cur, tx_id, suspense.pk, "D", 100, 2001)
            _raw_entry(cur, tx_id, a.ledger_id, "C", 100, 2001)
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the check runs now, and passes
            if not stay_immediate:
                cur.execute("SET CONSTRAINTS ALL DEFERRED")
            _raw_entry(cur, tx_id, a.ledger_id, "C", 1, 2002)
    assert LedgerEntry.objects.count() == before
    assert ledger_verify().ok


@pytest.mark.django_db(transaction=True)
def test_an_entry_appended_to_a_committed_ledger_transaction_is_checked(staff):
    """A later database transaction that adds an entry to a posted ledger transaction starts
    with no memo of an earlier check: the entry's own trigger runs the check in full."""
    a = open_account(staff["csr"], staff["supervisor"])
    suspense = internal_account(branch=a.branch, kind="suspense", currency="AED")
    _raw_tx([(suspense.pk, "D", 100, "AED", 4001), (a.ledger_id, "C", 100, "AED", 4001)])
    tx_id = LedgerEntry.objects.get(account_id=suspense.pk, account_version=4001).transaction_id
    before = LedgerEntry.objects.count()
    connection.close()  # a new session, where the memo setting was never even defined
    with pytest.raises(IntegrityError, match="unbalanced"):
        with transaction.atomic(), connection.cursor() as cur:
            _raw_entry(cur, tx_id, a.ledger_id, "C", 1, 4002)
    assert LedgerEntry.objects.count() == before


@pytest.mark.django_db(transaction=True)
def test_two_balanced_raw_transactions_in_one_commit_are_both_checked(staff):
    a = open_account(staff["csr"], staff["supervisor"])
    suspense = internal_account(branch=a.branch, kind="suspense", currency="AED")
    with pytest.raises(IntegrityError, match="unbalanced"):
        with transaction.atomic(), connection.cursor() as cur:
            ids = []
            for _ in range(2):
                cur.execute("INSERT INTO accounts_ledgertransaction (public_id, kind, description, posted_at, "
                            "metadata) VALUES (gen_random_uuid(), 'raw', '', now(), '{}') RETURNING id")
                ids.append(cur.fetchone()[0])
            _raw_entry(cur, ids[0], suspense.pk, "D", 100, 3001)
            _raw_entry(cur, ids[0], a.ledger_id, "C", 100, 3001)
            _raw_entry(cur, ids[1], suspense.pk, "D", 100, 3002)
            _raw_entry(cur, ids[1], a.ledger_id, "C", 50, 3002)
    assert ledger_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_transaction_in_two_currencies_balances_in_each_of_them(staff):
    """Debits equal credits in every currency, not in the sum of all: 100 AED against 100 USD
    is refused; 100 AED and 50 USD, each against itself, is posted."""
    a = open_account(staff["csr"], staff["supervisor"])
    aed = internal_account(branch=a.branch, kind="suspense", currency="AED")
    usd = internal_account(branch=a.branch, kind="suspense", currency="USD")
    usd_fx = internal_account(branch=a.branch, kind="fx_position", currency="USD")
    before = LedgerEntry.objects.count()
    with pytest.raises(IntegrityError, match="unbalanced in AED"):
        _raw_tx([(aed.pk, "D", 100, "AED", 5001), (usd.pk, "C", 100, "USD", 5001)])
    assert LedgerEntry.objects.count() == before
    _raw_tx([(aed.pk, "D", 100, "AED", 5001), (a.ledger_id, "C", 100, "AED", 5001),
             (usd.pk, "D", 50, "USD", 5001), (usd_fx.pk, "C", 50, "USD", 5001)])
    assert LedgerEntry.objects.count() == before + 4


@pytest.mark.django_db(transaction=True)
def test_raw_sql_entry_in_another_currency_than_its_account_is_refused(staff):
    a = open_account(staff["csr"], staff["supervisor"])
    usd = internal_account(branch=a.branch, kind="suspense", currency="USD")
    before = LedgerEntry.objects.count()
    with pytest.raises(IntegrityError, match="entry_currency_is_account_currency"):
        _raw_tx([(usd.pk, "D", 100, "AED", 1), (a.ledger_id, "C", 100, "AED", 1)])
    # the same key refuses an entry on no account at all
    with pytest.raises(IntegrityError, match="entry_currency_is_account_currency"):
        _raw_tx([(usd.pk + 10_000, "D", 100, "AED", 1), (a.ledger_id, "C", 100, "AED", 1)])
    assert LedgerEntry.objects.count() == before


@pytest.mark.parametrize("sql", [
    "UPDATE accounts_ledgerentry SET amount = amount + 1 WHERE id = %s",
    "DELETE FROM accounts_ledgerentry WHERE id = %s",
    "UPDATE accounts_ledgertransaction SET description = 'x' "
    "WHERE id = (SELECT transaction_id FROM accounts_ledgerentry WHERE id = %s)",
    "DELETE FROM accounts_ledgertransaction WHERE id = (SELECT transaction_id FROM accounts_ledgerentry WHERE id = %s)",
])
def test_entries_and_transactions_are_append_only(accounts_pair, sql):
    entry = LedgerEntry.objects.first()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, [entry.pk])


def test_check_constraint_keeps_a_customer_within_its_overdraft(accounts_pair):
    a, _b = accounts_pair
    with pytest.raises(IntegrityError, match="ledger_customer_within_overdraft"), transaction.atomic():
        LedgerAccount.objects.filter(pk=a.ledger_id).update(posted_debits=200_000)


def test_check_constraint_keeps_cash_at_or_above_zero(branch):
    vault = LedgerAccount.objects.create(kind="vault_cash", currency_id="AED", branch=branch, name="vault",
                                         debit_normal=True)
    with pytest.raises(IntegrityError, match="ledger_cash_not_negative"), transaction.atomic():
        LedgerAccount.objects.filter(pk=vault.pk).update(posted_credits=1)


@pytest.mark.parametrize("column", ["posted_debits", "posted_credits", "pending_debits", "overdraft_limit", "version"])
def test_no_total_of_a_ledger_account_goes_below_zero(branch, accounts_pair, column):
    # a suspense account breaks no other rule by going below zero; an overdraft is a customer's
    suspense, _ = LedgerAccount.objects.get_or_create(kind="suspense", currency_id="AED", branch=branch,
                                                      defaults={"name": "suspense", "debit_normal": True})
    account_id = accounts_pair[0].ledger_id if column == "overdraft_limit" else suspense.pk
    with pytest.raises(IntegrityError, match="ledger_totals_non_negative"), transaction.atomic():
        LedgerAccount.objects.filter(pk=account_id).update(**{column: -1})


@pytest.mark.parametrize(("kind", "debit_normal", "allowed"), [
    ("vault_cash", True, True), ("fx_position", True, True), ("customer", False, True), ("clearing", False, True),
    ("vault_cash", False, False), ("fees", True, False), ("customer", True, False), ("lottery", True, False),
])
def test_a_ledger_account_is_of_a_known_kind_on_its_normal_side(branch, kind, debit_normal, allowed):
    """(kind, debit_normal) is a key of the kinds table (the foreign key
    ``ledger_normal_side_by_kind``): any other pair is refused at the account's INSERT."""
    account = LedgerAccount(kind=kind, currency_id="AED", branch=branch, name="x", debit_normal=debit_normal)
    if allowed:
        account.save()
        assert LedgerAccount.objects.get(pk=account.pk).balance == 0
        return
    with pytest.raises(IntegrityError, match="ledger_normal_side_by_kind"), transaction.atomic():
        account.save()
    assert not LedgerAccount.objects.filter(name="x").exists()


def test_a_ledger_accounts_kind_or_side_cannot_be_changed_to_a_wrong_pair(staff):
    """The foreign key is checked again whenever the kind or the side is written, by any UPDATE."""
    ledger = _ledger(open_account(staff["csr"], staff["supervisor"]))
    for change in ({"debit_normal": True}, {"kind": "vault_cash"}, {"kind": "lottery"}):
        with pytest.raises(IntegrityError, match="ledger_normal_side_by_kind"), transaction.atomic():
            LedgerAccount.objects.filter(pk=ledger.pk).update(**change)
    LedgerAccount.objects.filter(pk=ledger.pk).update(kind="fees")  # credit-normal too: a valid pair
    assert LedgerAccount.objects.get(pk=ledger.pk).kind == "fees"


@pytest.mark.django_db
def test_the_kinds_table_holds_each_kind_of_the_code_on_its_side():
    assert dict(LedgerKind.objects.values_list("code", "debit_normal")) == {
        kind: kind in LedgerAccount.DEBIT_NORMAL for kind in LedgerAccount.Kind.values}


@pytest.mark.django_db(transaction=True)
def test_the_kinds_are_back_after_a_flush():
    """A transactional test's flush empties every table; ``post_migrate`` loads the kinds again."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    assert LedgerKind.objects.count() == len(LedgerAccount.Kind.values)


# --- service-level refusals: coded, translated, nothing written ---------------------------------------

def test_the_ledger_row_carries_its_bank_accounts_status_and_nothing_else_can_set_it(staff):
    a = open_account(staff["csr"], staff["supervisor"])
    assert _ledger(a).bank_status == "active"
    BankAccount.objects.filter(pk=a.pk).update(status="frozen")  # any writer, even a raw UPDATE
    assert _ledger(a).bank_status == "frozen"
    with pytest.raises(IntegrityError, match="not its bank account's status"), transaction.atomic():
        LedgerAccount.objects.filter(pk=a.ledger_id).update(bank_status="active")
    assert _ledger(a).bank_status == "frozen"


def _nothing_written(before):
    assert (LedgerTransaction.objects.count(), LedgerEntry.objects.count()) == before


@pytest.mark.parametrize(("amount", "code"), [(0, "AMOUNT_NOT_POSITIVE"), (-5, "AMOUNT_NOT_POSITIVE"),
                                              (100_001, "INSUFFICIENT_FUNDS")])
def test_bad_amounts_are_refused(staff, accounts_pair, amount, code):
    a, b = accounts_pair
    before = (LedgerTransaction.objects.count(), LedgerEntry.objects.count())
    with pytest.raises(ApplicationError) as err:
        transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(amount, "AED"))
    assert err.value.code == code
    _nothing_written(before)


def test_overdraft_limit_lets_the_balance_go_below_zero_but_no_further(staff):
    a = open_account(staff["csr"], staff["supervisor"], overdraft=50_000)
    b = open_account(staff["csr"], staff["supervisor"])
    transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(50_000, "AED"))
    assert (_ledger(a).balance, _ledger(a).available) == (-50_000, 0)
    with pytest.raises(ApplicationError) as err:
        transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(1, "AED"))
    assert err.value.code == "INSUFFICIENT_FUNDS"


def test_currency_mismatch_is_refused(staff, accounts_pair):
    a, _b = accounts_pair
    usd = open_account(staff["csr"], staff["supervisor"], currency="USD")
    with pytest.raises(ApplicationError) as err:
        transfer_post(actor=staff["teller"], from_account=a.number, to_account=usd.number, amount=Money(10, "AED"))
    assert err.value.code == "CURRENCY_MISMATCH"
    with pytest.raises(LedgerError) as err, transaction.atomic():
        ledger_post(kind="x", lines=[Line(a.ledger, DEBIT, Money(10, "USD")), Line(usd.ledger, CREDIT, Money(10, "USD"))])
    assert err.value.code == "CURRENCY_MISMATCH"


def test_one_account_in_two_currencies_or_named_twice_is_refused_and_nothing_is_written(staff, accounts_pair):
    """The posting statement writes nothing when an account's lines disagree on the currency or
    when a line names an account by number that another line names by id; the coded error
    comes from the checks on the locked rows."""
    a, b = accounts_pair
    usd = open_account(staff["csr"], staff["supervisor"], currency="USD")
    fund(usd, 1_000)
    before = LedgerEntry.objects.count()
    with pytest.raises(LedgerError) as err, transaction.atomic():
        ledger_post(kind="x", lines=[Line(a.ledger, DEBIT, Money(10, "AED")), Line(a.ledger, DEBIT, Money(10, "USD")),
                                     Line(b.ledger, CREDIT, Money(10, "AED")), Line(usd.ledger, CREDIT, Money(10, "USD"))])
    assert err.value.code == "CURRENCY_MISMATCH"
    with pytest.raises(LedgerError) as err, transaction.atomic():
        ledger_post(kind="x", lines=[Line(a.ledger_id, DEBIT, Money(10, "AED")), Line(a.number, CREDIT, Money(5, "AED")),
                                     Line(b.number, CREDIT, Money(5, "AED"))])
    assert err.value.code == "POSTING_REFUSED"
    with pytest.raises(LedgerError) as err, transaction.atomic():
        ledger_post(kind="x", lines=[Line(a.number, DEBIT, Money(10, "AED")), Line("000999999999", CREDIT, Money(10, "AED"))])
    assert err.value.code == "ACCOUNT_NOT_FOUND"
    assert LedgerEntry.objects.count() == before


def test_unbalanced_or_single_entry_postings_are_refused_by_the_service(accounts_pair):
    a, b = accounts_pair
    with pytest.raises(LedgerError) as err, transaction.atomic():
        ledger_post(kind="x", lines=[Line(a.ledger, DEBIT, Money(10, "AED")), Line(b.ledger, CREDIT, Money(9, "AED"))])
    assert err.value.code == "UNBALANCED"
    with pytest.raises(LedgerError) as err, transaction.atomic():
        ledger_post(kind="x", lines=[Line(a.ledger, DEBIT, Money(10, "AED"))])
    assert err.value.code == "UNBALANCED"


@pytest.mark.parametrize(("status", "code"), [("frozen", "ACCOUNT_FROZEN"), ("closed", "ACCOUNT_CLOSED"),
                                              ("dormant", "ACCOUNT_DORMANT")])
def test_money_cannot_leave_a_frozen_closed_or_dormant_account(staff, accounts_pair, status, code):
    a, b = accounts_pair
    BankAccount.objects.filter(pk=a.pk).update(status=status)
    with pytest.raises(ApplicationError) as err:
        transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(10, "AED"))
    assert err.value.code == code


def test_money_can_arrive_on_a_frozen_account_but_not_a_closed_one(staff, accounts_pair):
    a, b = accounts_pair
    BankAccount.objects.filter(pk=b.pk).update(status="frozen")
    transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(10, "AED"))
    BankAccount.objects.filter(pk=b.pk).update(status="closed")
    with pytest.raises(ApplicationError) as err:
        transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(10, "AED"))
    assert err.value.code == "ACCOUNT_CLOSED"


def _refusal_in_the_same_transaction(post):
    """Run ``post`` (which must be refused) and count, still inside its transaction, what the
    posting statement wrote: the statement refuses by itself, not only the rollback after it."""
    from branch_ops.models import AuditEvent, OutboxEvent

    counts = lambda: tuple(m.objects.count() for m in (LedgerTransaction, LedgerEntry, AuditEvent, OutboxEvent))  # noqa: E731
    with transaction.atomic():
        before = counts()
        with pytest.raises(ApplicationError) as err:
            post()
        assert counts() == before
        versions = list(LedgerAccount.objects.order_by("pk").values_list("pk", "version"))
    assert versions == list(LedgerAccount.objects.order_by("pk").values_list("pk", "version"))
    return err.value.code


@pytest.mark.parametrize(("debited", "credited", "amount", "code"), [
    ("frozen", "active", 10, "ACCOUNT_FROZEN"),
    ("dormant", "active", 10, "ACCOUNT_DORMANT"),
    ("pending", "active", 10, "ACCOUNT_NOT_ACTIVE"),
    ("active", "closed", 10, "ACCOUNT_CLOSED"),
    ("active", "pending", 10, "ACCOUNT_NOT_ACTIVE"),
    ("active", "active", 100_001, "INSUFFICIENT_FUNDS"),
])
def test_the_posting_statement_itself_writes_nothing_it_refuses(staff, accounts_pair, debited, credited, amount,
                                                                code):
    a, b = accounts_pair
    BankAccount.objects.filter(pk=a.pk).update(status=debited)
    BankAccount.objects.filter(pk=b.pk).update(status=credited)
    assert _refusal_in_the_same_transaction(lambda: transfer_post_in_transaction(
        actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(amount, "AED"))) == code


@pytest.mark.parametrize("kind", sorted(LedgerAccount.CASH_KINDS))
def test_the_posting_statement_refuses_cash_below_zero_for_every_kind_of_cash(staff, kind):
    """The rules of the statement are spelled out in ``accounts_ledger_apply`` (migration 0009),
    and they must name every kind of cash ``LedgerAccount.CASH_KINDS`` names: a kind missing
    there would be written and only stopped by the CHECK constraint, as a database error."""
    branch = staff["teller"].staff.branch
    cash = LedgerAccount.objects.create(kind=kind, currency_id="AED", branch=branch, name=f"test {kind}",
                                        debit_normal=True)
    suspense = internal_account(branch=branch, kind="suspense", currency="AED")
    assert _refusal_in_the_same_transaction(lambda: ledger_post(
        kind="test", lines=[Line(suspense, DEBIT, Money(100, "AED")), Line(cash, CREDIT, Money(100, "AED"))],
    )) == "INSUFFICIENT_CASH"


@pytest.mark.parametrize("status", BankAccount.Status.values)
def test_the_posting_statement_credits_exactly_the_statuses_that_may_be_credited(staff, accounts_pair, status):
    """Money may arrive on an active, frozen or dormant account and on no other: the statement's
    own list (migration 0009) against the one the refusal is explained by in Python."""
    from accounts.ledger import _CREDITABLE

    a, b = accounts_pair
    BankAccount.objects.filter(pk=b.pk).update(status=status)
    post = lambda: transfer_post_in_transaction(  # noqa: E731
        actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(10, "AED"))
    if status in _CREDITABLE:
        with transaction.atomic():
            post()
        assert _ledger(b).balance == 10
    else:
        assert _refusal_in_the_same_transaction(post) in ("ACCOUNT_CLOSED", "ACCOUNT_NOT_ACTIVE")


def test_the_posting_statement_refuses_an_unknown_account_or_another_currency(staff, accounts_pair):
    a, b = accounts_pair
    usd = open_account(staff["csr"], staff["supervisor"], currency="USD")
    suspense = internal_account(branch=a.branch, kind="suspense", currency="AED")
    assert _refusal_in_the_same_transaction(lambda: transfer_post_in_transaction(
        actor=staff["teller"], from_account=a.number, to_account=usd.number, amount=Money(10, "AED"))) \
        == "CURRENCY_MISMATCH"
    assert _refusal_in_the_same_transaction(lambda: ledger_post(
        kind="x", lines=[Line(suspense, DEBIT, Money(10, "AED")), Line(10**12, CREDIT, Money(10, "AED"))])) \
        == "ACCOUNT_NOT_FOUND"


def test_a_reversal_may_take_money_back_from_a_frozen_account(staff, accounts_pair):
    """Reversals and hold settlements skip the status rule (``check_status=False``), in the
    statement as in Python."""
    a, b = accounts_pair
    tx = transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(500, "AED"))
    BankAccount.objects.filter(pk=b.pk).update(status="frozen")
    with transaction.atomic():
        ledger_reverse(original=tx, actor=staff["supervisor"], reason="sent to the wrong account")
    assert (_ledger(a).balance, _ledger(b).balance) == (100_000, 0)
    assert ledger_verify().ok


def test_wrong_check_digits_are_refused(staff, accounts_pair):
    a, b = accounts_pair
    wrong = b.number[:-1] + str((int(b.number[-1]) + 1) % 10)
    with pytest.raises(ApplicationError) as err:
        transfer_post(actor=staff["teller"], from_account=a.number, to_account=wrong, amount=Money(10, "AED"))
    assert err.value.code == "INVALID_ACCOUNT_NUMBER"


def test_a_supervisor_does_not_execute_transfers(staff, accounts_pair):
    a, b = accounts_pair
    with pytest.raises(ApplicationError) as err:
        transfer_post(actor=staff["supervisor"], from_account=a.number, to_account=b.number, amount=Money(1, "AED"))
    assert err.value.code == "ROLE_NOT_ALLOWED"


# --- postings, balances, entries --------------------------------------------------------------------

def test_a_transfer_moves_money_and_records_versions_and_running_balances(staff, accounts_pair):
    a, b = accounts_pair
    tx = transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number,
                       amount=Money(12_345, "AED"), description="rent")
    la, lb = _ledger(a), _ledger(b)
    assert (la.balance, lb.balance) == (100_000 - 12_345, 12_345)
    credit, debit = tx.entries.order_by("side")
    assert (credit.side, credit.account_id, credit.balance_after, credit.account_version) == ("C", lb.pk, 12_345, 1)
    assert (debit.side, debit.account_id, debit.balance_after, debit.account_version) == ("D", la.pk, 87_655, 2)
    assert ledger_verify().ok


def test_the_posting_statements_are_prepared_once_per_connection(staff, accounts_pair):
    """A transfer's posting statement is parsed and planned once per connection and then
    reused with its generic plan: half of a transfer's database CPU was re-parsing and
    re-planning it, and PostgreSQL's automatic choice kept making a custom plan each time."""
    from django.test.utils import CaptureQueriesContext

    a, b = accounts_pair
    for _ in range(3):
        with CaptureQueriesContext(connection) as logged:
            transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(100, "AED"))
    # the query log still shows a prepared statement's SQL (debugging, CaptureQueriesContext)
    assert any("accounts_ledger_apply(" in (q["sql"] or "") for q in logged.captured_queries)
    assert all(q["sql"] for q in logged.captured_queries)
    with connection.cursor() as cur:
        cur.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements WHERE NOT from_sql")
        prepared = cur.fetchall()
    posting = [row for row in prepared if "accounts_ledger_apply(" in row[0] and "INSERT INTO accounts_ledgerentry"
               in row[0]]
    assert len(posting) == 1
    assert posting[0][1] >= 2 and posting[0][2] == 0  # generic plan every time, never re-planned


def test_a_transaction_is_reversed_at_most_once(staff, accounts_pair):
    a, b = accounts_pair
    tx = transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(500, "AED"))
    with transaction.atomic():
        reversal = ledger_reverse(original=tx, actor=staff["supervisor"], reason="wrong account")
    assert reversal.reverses == tx
    assert (_ledger(a).balance, _ledger(b).balance) == (100_000, 0)
    with pytest.raises(ApplicationError) as err, transaction.atomic():
        ledger_reverse(original=tx, actor=staff["supervisor"], reason="again")
    assert err.value.code == "ALREADY_REVERSED"
    with pytest.raises(IntegrityError, match="ledger_reversed_at_most_once"), transaction.atomic():
        LedgerTransaction.objects.create(kind="reversal", reverses=tx)  # the database's own key
    assert ledger_verify().ok


def test_holds_lower_the_available_balance_and_settle_exactly_once(staff, accounts_pair):
    a, b = accounts_pair
    with transaction.atomic():
        hold = hold_place(account=a, amount=Money(30_000, "AED"), reason="card authorisation", actor=staff["teller"])
    assert (_ledger(a).balance, _ledger(a).available, _ledger(a).pending_debits) == (100_000, 70_000, 30_000)
    with pytest.raises(ApplicationError) as err:
        transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(70_001, "AED"))
    assert err.value.code == "INSUFFICIENT_FUNDS"
    with transaction.atomic():
        hold_settle(hold=hold, counter_account=b.ledger, actor=staff["teller"])
    assert (_ledger(a).balance, _ledger(a).available, _ledger(a).pending_debits) == (70_000, 70_000, 0)
    for again in (lambda: hold_settle(hold=hold, counter_account=b.ledger, actor=staff["teller"]),
                  lambda: hold_void(hold=hold, actor=staff["teller"])):
        with pytest.raises(ApplicationError) as err, transaction.atomic():
            again()
        assert err.value.code == "HOLD_ALREADY_SETTLED"
    assert ledger_verify().ok


def test_a_voided_hold_gives_the_money_back(staff, accounts_pair):
    a, _b = accounts_pair
    with transaction.atomic():
        hold = hold_place(account=a, amount=Money(100_000, "AED"), reason="x", actor=staff["teller"])
    with pytest.raises(ApplicationError) as err, transaction.atomic():
        hold_place(account=a, amount=Money(1, "AED"), reason="y", actor=staff["teller"])
    assert err.value.code == "INSUFFICIENT_FUNDS"
    with transaction.atomic():
        hold_void(hold=hold, actor=staff["teller"])
    assert _ledger(a).available == 100_000
    assert ledger_verify().ok


def test_statement_running_balances_match_the_entries(staff, accounts_pair):
    import datetime as dt

    from django.utils import timezone

    a, b = accounts_pair
    for amount in (1_000, 2_500, 300):
        transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(amount, "AED"))
    transfer_post(actor=staff["teller"], from_account=b.number, to_account=a.number, amount=Money(800, "AED"))
    today = timezone.localdate()

    first = account_statement(account=a, start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=1), limit=3)
    rest = account_statement(account=a, start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=1),
                             after=first.next_cursor, limit=3)
    lines = first.lines + rest.lines

    assert first.opening_balance == 0
    assert rest.next_cursor is None
    running = first.opening_balance
    for line in lines:
        running += line.credit - line.debit
        assert line.balance == running
    assert [(ln.debit, ln.credit) for ln in lines] == [(0, 100_000), (1_000, 0), (2_500, 0), (300, 0), (0, 800)]
    assert first.closing_balance == running == _ledger(a).balance == 97_000


def test_verify_ledger_reports_a_tampered_total(accounts_pair):
    from django.core.management import CommandError, call_command

    a, _b = accounts_pair
    call_command("verify_ledger")
    LedgerAccount.objects.filter(pk=a.ledger_id).update(posted_credits=100_001)
    report = ledger_verify()
    assert not report.ok
    assert str(a.ledger_id) in report.problems[0]
    with pytest.raises(CommandError, match="INCONSISTENT"):
        call_command("verify_ledger")


# --- concurrency with real connections -------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_8_threads_x_200_random_transfers_keep_the_total_and_every_limit():
    from tests.factories import BranchFactory, make_staff

    branch = BranchFactory(code="LOAD1")
    csr, supervisor = make_staff(branch, "csr", "csr.load"), make_staff(branch, "supervisor", "sup.load")
    tellers = [make_staff(branch, "teller", f"t{i}.load") for i in range(8)]
    accounts = []
    for i in range(10):
        acc = open_account(csr, supervisor, overdraft=5_000 if i % 3 == 0 else None)
        accounts.append(fund(acc, 10_000))
    numbers = [a.number for a in accounts]
    ids = [a.ledger_id for a in accounts]
    total_before = sum(LedgerAccount.objects.get(pk=i).balance for i in ids)
    start = threading.Barrier(8)
    outcomes = {"ok": 0, "refused": 0, "errors": []}
    lock = threading.Lock()

    def client(teller, seed):
        rnd = random.Random(seed)
        try:
            start.wait()
            for _ in range(200):
                src, dst = rnd.sample(numbers, 2)
                try:
                    transfer_post(actor=teller, from_account=src, to_account=dst,
                                  amount=Money(rnd.randint(1, 4_000), "AED"))
                    with lock:
                        outcomes["ok"] += 1
                except ApplicationError as exc:
                    assert exc.code == "INSUFFICIENT_FUNDS", exc.code
                    with lock:
                        outcomes["refused"] += 1
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            outcomes["errors"].append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(t, n)) for n, t in enumerate(tellers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes["errors"] == []
    assert outcomes["ok"] + outcomes["refused"] == 1600
    assert outcomes["ok"] > 800
    ledgers = LedgerAccount.objects.filter(pk__in=ids)
    assert sum(la.balance for la in ledgers) == total_before
    assert all(la.available >= 0 for la in ledgers)
    assert all(la.balance >= -la.overdraft_limit for la in ledgers)
    assert LedgerTransaction.objects.filter(kind="transfer").count() == outcomes["ok"]
    report = ledger_verify()
    assert report.ok, report.problems


@pytest.mark.django_db(transaction=True)
def test_one_idempotency_key_sent_by_two_threads_at_once_posts_once():
    from tests.factories import BranchFactory, make_staff

    branch = BranchFactory(code="IDEM2")
    csr, supervisor = make_staff(branch, "csr", "csr.idem2"), make_staff(branch, "supervisor", "sup.idem2")
    teller = make_staff(branch, "teller", "t.idem2")
    a = fund(open_account(csr, supervisor), 50_000)
    b = open_account(csr, supervisor)
    body = {"from_account": a.number, "to_account": b.number, "amount": {"amount": 1_000, "currency": "AED"}}
    key = str(uuid.uuid4())
    start = threading.Barrier(2)
    responses = []

    def post():
        c = APIClient()
        c.force_authenticate(teller)
        try:
            start.wait()
            r = c.post("/api/v1/transfers/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
            responses.append((r.status_code, r.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [s for s, _ in responses] == [201, 201]
    assert responses[0][1] == responses[1][1]
    assert LedgerTransaction.objects.filter(kind="transfer").count() == 1
    assert LedgerAccount.objects.get(pk=a.ledger_id).balance == 49_000


def _transfer_that_waits_for(hold, transfer) -> str | None:
    """Run ``hold()`` in a transaction of its own thread and keep that transaction open until
    another connection waits for a lock, then commit; ``transfer()`` runs in a second thread
    once ``hold()`` has. The transfer's outcome: "posted", or its error code."""
    import time

    locked, outcome = threading.Event(), {}

    def holder():
        try:
            with transaction.atomic():
                hold()
                locked.set()
                deadline = time.monotonic() + 10
                with connection.cursor() as cur:  # commit only once the transfer waits for the lock
                    while time.monotonic() < deadline:
                        cur.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                        if cur.fetchone()[0]:
                            break
                        time.sleep(0.02)
        finally:
            connection.close()

    def waiter():
        locked.wait(10)
        try:
            transfer()
            outcome["code"] = "posted"
        except ApplicationError as exc:
            outcome["code"] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcome.get("code")


@pytest.mark.django_db(transaction=True)
def test_a_transfer_that_waited_for_a_closing_sees_the_account_closed():
    """The status of the credited account is read after its ledger lock is held: a posting
    that waited for the closing's lock must see "closed", not the status from before it waited
    (a joined row in the locking statement is not re-read; a closed account got money)."""
    from accounts.ledger import lock_ledger_accounts
    from tests.factories import BranchFactory, make_staff

    branch = BranchFactory(code="RACE1")
    csr, supervisor = make_staff(branch, "csr", "csr.race"), make_staff(branch, "supervisor", "sup.race")
    coordinator = make_staff(branch, "coordinator", "coord.race")
    closing, payer = open_account(csr, supervisor), fund(open_account(csr, supervisor), 10_000)

    def close_it():
        lock_ledger_accounts([closing.ledger_id])
        BankAccount.objects.filter(pk=closing.pk).update(status="closed")

    code = _transfer_that_waits_for(close_it, lambda: transfer_post(
        actor=coordinator, from_account=payer.number, to_account=closing.number, amount=Money(3_000, "AED")))

    assert code is not None and code != "posted"
    assert LedgerAccount.objects.get(pk=closing.ledger_id).balance == 0
    assert LedgerAccount.objects.get(pk=payer.ledger_id).balance == 10_000


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("second", "code", "left"), [(1_500, "posted", 500), (2_500, "INSUFFICIENT_FUNDS", 2_000)])
def test_a_posting_that_waited_for_the_account_counts_from_the_posting_before_it(second, code, left):
    """Two debits of one account at once: the second waits for the first one's lock and is then
    checked, numbered and written from the balance the first one left (10,000 - 8,000), not from
    the row it would have read before it waited. A lost update would leave 8,500; a check on the
    old row would let 2,500 through and break the account's limit."""
    from tests.factories import BranchFactory, make_staff

    branch = BranchFactory(code="RACE2")
    csr, supervisor = make_staff(branch, "csr", "csr.race2"), make_staff(branch, "supervisor", "sup.race2")
    teller = make_staff(branch, "teller", "teller.race2")
    payer, first_payee, second_payee = (fund(open_account(csr, supervisor), 10_000), open_account(csr, supervisor),
                                        open_account(csr, supervisor))
    outcome = _transfer_that_waits_for(
        lambda: transfer_post_in_transaction(actor=teller, from_account=payer.number, to_account=first_payee.number,
                                             amount=Money(8_000, "AED")),
        lambda: transfer_post(actor=teller, from_account=payer.number, to_account=second_payee.number,
                              amount=Money(second, "AED")))

    assert outcome == code
    ledger = _ledger(payer)
    assert ledger.balance == left
    entries = list(LedgerEntry.objects.filter(account_id=ledger.pk).order_by("account_version")
                   .values_list("account_version", "balance_after"))
    expected = [(1, 10_000), (2, 2_000)] + ([(3, 500)] if code == "posted" else [])
    assert entries == expected and ledger.version == len(expected)
    assert ledger_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_transfer_with_a_key_is_one_statement_that_commits_itself(staff):
    """The key's record is written by the posting statement, so the statement is the whole
    transfer: outside any transaction it runs in autocommit and commits itself (one round
    trip; it was BEGIN, the record's INSERT, the posting, the record's UPDATE, COMMIT). A
    refused one commits nothing, not even its key."""
    import psycopg
    from django.test.utils import CaptureQueriesContext

    from branch_ops import idempotency
    from branch_ops.models import AuditEvent, IdempotencyRecord, OutboxEvent

    a = fund(open_account(staff["csr"], staff["supervisor"]), 50_000)
    b = open_account(staff["csr"], staff["supervisor"])
    teller = staff["teller"]
    teller.staff  # the actor's profile, as the request's middleware has already read it

    def claim(key):
        return idempotency.Claim(user=teller, key=key, scope="transfer", request_hash="h",
                                 render=lambda tx: (201, {"id": str(tx.public_id)}))

    with CaptureQueriesContext(connection) as queries:
        tx = transfer_post(actor=teller, from_account=a.number, to_account=b.number, amount=Money(100, "AED"),
                           idempotency_claim=claim("k-1"))
    sent = [q["sql"] for q in queries.captured_queries]
    assert len(sent) == 1, sent
    assert "INSERT INTO accounts_ledgertransaction" in sent[0] and '"branch_ops_idempotencyrecord"' in sent[0]
    assert not connection.in_atomic_block
    assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # committed
    assert IdempotencyRecord.objects.get(key="k-1").result_id == str(tx.public_id)

    counts = lambda: [m.objects.count() for m in (LedgerTransaction, AuditEvent, OutboxEvent, IdempotencyRecord)]  # noqa: E731
    before = counts()
    with pytest.raises(ApplicationError) as err:
        transfer_post(actor=teller, from_account=a.number, to_account=b.number, amount=Money(10**9, "AED"),
                      idempotency_claim=claim("k-2"))
    assert err.value.code == "INSUFFICIENT_FUNDS"
    assert counts() == before
    assert (_ledger(a).balance, _ledger(b).balance) == (49_900, 100)
    assert ledger_verify().ok


def test_the_posting_statements_array_literals_take_only_integers_and_plain_codes():
    """The write's columns go to PostgreSQL as array literals built in Python: an element that
    could break out of one (a comma, a brace, a space, a quote) is refused before anything is sent."""
    from accounts.ledger import _array

    assert _array([7, None, "AED", LedgerEntry.Side.DEBIT, LedgerAccount.Kind.CUSTOMER]) == "{7,NULL,AED,D,customer}"
    for bad in ["1,2", "{1}", "a b", 'x"', "\\", True, 1.5]:
        with pytest.raises(ValueError):
            _array([bad])


def test_a_transfer_returns_the_time_postgresql_stored_and_writes_its_json_as_given(staff, accounts_pair):
    """The posting returns its time as integer microseconds and sends its JSON as text cast by
    the statement: what the caller gets and what PostgreSQL stored are the same."""
    from datetime import timedelta

    from branch_ops.models import AuditEvent, OutboxEvent

    a, b = accounts_pair
    tx = transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(250, "AED"),
                       description="rent, 11/2026 «ok» 租金")
    stored = LedgerTransaction.objects.get(pk=tx.pk)
    assert tx.posted_at == stored.posted_at
    assert tx.posted_at.utcoffset() == timedelta(0)
    details = {"from": a.number, "to": b.number, "amount": 250, "currency": "AED"}
    assert stored.metadata == details
    assert OutboxEvent.objects.get(aggregate_id=str(tx.public_id)).payload == {
        **details, "description": "rent, 11/2026 «ok» 租金"}
    assert AuditEvent.objects.get(object_id=str(tx.public_id), action="transfer.posted").after == details


def test_transfers_leave_no_reference_cycles_for_the_garbage_collector(staff, accounts_pair):
    """Everything a posting builds is freed as soon as it is no longer used: a reference cycle
    would wait for the garbage collector, whose full collections of a worker's heap take
    milliseconds (one a few thousand transfers, measured)."""
    import gc

    a, b = accounts_pair
    transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(1, "AED"))
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            transfer_post(actor=staff["teller"], from_account=a.number, to_account=b.number, amount=Money(1, "AED"))
        assert gc.collect() == 0
    finally:
        gc.enable()
