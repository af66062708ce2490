"""The posting engine of the double-entry ledger.

Everything here runs *inside* the calling service's transaction (each business service —
a transfer, a cash deposit, a redress payment — is one ``transaction.atomic(durable=True)``
that calls these), but for a posting that is its service's whole transaction: outside any
transaction, ``ledger_post(commit=True)`` lets its statement commit itself (a transfer). A
posting (``ledger_post``) is one statement, built entirely before it is sent:

1. it locks every ledger account touched, in ascending id order (by ids or by bank-account
   numbers), reading each bank account's status from the locked row;
2. from the locked rows it writes the transaction, its entries (each with the account's new
   version and balance), the new totals and the posting's audit and outbox rows — only if
   every rule holds on them: each account exists and is in the currency of its lines, may be
   debited/credited in its status, and no limit (funds available, cash not negative) would
   break; otherwise it writes nothing;
3. it returns the new transaction's id, or, refused, the locked rows as they were: the same
   rules run on them in Python to say which one broke, as a coded error, and the caller's
   transaction rolls back. Amounts positive and debits equal to credits per currency are
   checked before anything is sent. PostgreSQL re-checks the balance, the limits and the
   audit chain at commit whatever wrote the rows.

``lock_ledger_accounts`` locks accounts the same way for the other writers (holds, closing).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, JSONField, Model
from django.db.models.expressions import DatabaseDefault
from django.db.models.fields import AutoFieldMixin
from django.utils.translation import gettext as _

from accounts.models import BankAccount, Hold, LedgerAccount, LedgerTransaction
from branch_ops.errors import ApplicationError, Conflict
from branch_ops.ids import uuid7
from branch_ops.metrics import POSTINGS
from branch_ops.money import Money
from branch_ops.rows import NewRow

DEBIT, CREDIT = "D", "C"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LedgerError(ApplicationError):
    status_code = 400


@dataclass(frozen=True)
class Line:
    """One side of a posting: debit or credit ``amount`` on ``account``: a ledger account,
    its id, or the number (a ``str``) of the bank account whose ledger it is."""

    account: LedgerAccount | int | str
    side: str
    amount: Money


@dataclass(frozen=True)
class SqlValue:
    """A column value that PostgreSQL works out in the posting statement itself (a row of
    ``ledger_post(with_rows=...)`` may hold one where the value depends on what the
    statement locks): ``sql`` is a parenthesised expression with ``%s`` for ``params``."""

    sql: str
    params: tuple = ()


def customer_number_of(account_number: str) -> SqlValue:
    """The number of the customer who holds bank account ``account_number``, one of the
    accounts the posting locks (empty if it is none of them), read by the posting statement
    from the row it locked."""
    return SqlValue("(SELECT coalesce(min(customer_number), '') FROM locked WHERE bank_number = %s)",
                    (account_number,))


# Locks in ascending ledger-account id order whatever the caller asked by: ids, and/or the
# numbers of bank accounts (the posting statement locks the same way). The rows are sorted
# before they are locked (LockRows runs above the Sort). The numbers are turned into ids by
# an ARRAY(...) sub-select, which PostgreSQL runs once, before the scan: a join or an IN (...)
# semi-join there would be re-checked after a lock wait (EvalPlanQual) and could drop a row
# that another transaction had just updated. The bank account's status comes from the locked
# row itself (``bank_status``, kept by a trigger): a locking SELECT that waited re-reads the
# rows it locks but not the rows it joins, so a joined status could be the one from before the
# wait. The joined numbers never change. Every ledger column, in the model's field order, so
# rows become instances by ``Model.from_db`` (positional: far cheaper than keyword
# construction).
_LOCK_SQL = """
SELECT {columns}, ba.number, c.number
FROM accounts_ledgeraccount la
LEFT JOIN accounts_bankaccount ba ON ba.ledger_id = la.id
LEFT JOIN accounts_customer c ON c.id = ba.customer_id
WHERE la.id = ANY(%s::bigint[] || ARRAY(SELECT ledger_id FROM accounts_bankaccount WHERE number = ANY(%s::varchar[])))
ORDER BY la.id FOR NO KEY UPDATE OF la
""".format(columns=", ".join(f"la.{f.column}" for f in LedgerAccount._meta.concrete_fields))


#: psycopg prepares a statement the second time a connection runs it. Django sets the
#: connection's ``prepare_threshold`` to None (never prepare) unless OPTIONS says otherwise,
#: and its default client-side cursors never prepare whatever the threshold, so raising it
#: here prepares exactly the statements run through :func:`_prepared_cursor`.
PREPARE_THRESHOLD = 1


def _prepared_cursor():
    """A cursor with server-side parameter binding whose statements psycopg prepares on the
    connection: the posting statements — the same text on every call — are parsed and
    planned once per connection, not per posting (unprepared, parsing and planning them was
    half of a transfer's CPU time in PostgreSQL). The rest of Django keeps client-side
    binding; this cursor is still Django's wrapper, so query logging and
    ``CaptureQueriesContext`` see its statements."""
    conn = _conn()
    conn.ensure_connection()
    raw = conn.connection
    kept = getattr(conn, "_posting_cursor", None)  # one per connection, kept open: its loaders are set up once
    if kept is None or kept.connection is not raw or kept.closed:
        if raw.prepare_threshold is None:
            raw.prepare_threshold = PREPARE_THRESHOLD
        kept = conn._posting_cursor = _PostingCursor(raw)
    return conn._prepare_cursor(kept)


class _KeptOpen:
    """Django's cursor wrapper closes its cursor on ``with`` exit; a posting cursor stays
    open for the next posting on the same connection."""

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def __enter__(self):
        return self.wrapper

    def __exit__(self, *exc):
        return False


def _posting_cursor() -> _KeptOpen:
    """The connection's posting cursor (:func:`_prepared_cursor`), for ``with``."""
    return _KeptOpen(_prepared_cursor())


def _posting_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PostingCursor(ServerBindingCursor):
        """psycopg runs an already-prepared statement without recording it as the cursor's
        last query, which is where Django's query log (``last_executed_query``) reads the
        SQL from: record it, as psycopg does for every other way of sending a query."""

        def _send_query_prepared(self, name, pgq, *, binary=None):
            self._query = pgq
            return super()._send_query_prepared(name, pgq, binary=binary)

    return PostingCursor


_PostingCursor = _posting_cursor_class()


def _conn():
    """This thread's connection wrapper itself: every attribute read through
    ``django.db.connection`` (a proxy) is an asgiref-local lookup, which adds up on the
    posting path."""
    return connections[DEFAULT_DB_ALIAS]


def _array(values) -> str:
    """A PostgreSQL array literal of integers or plain codes (account ids, amounts, "D"/"C",
    currency codes), cast by the statement (``%s::bigint[]``): psycopg's list adaptation
    costs more Python than the whole rest of a parameter's handling."""
    out = []
    for value in values:
        if value is None:
            out.append("NULL")
        elif type(value) is int:
            out.append(str(value))
        elif isinstance(value, str) and value.isalnum():  # a TextChoices member too
            out.append(str.__str__(value))
        elif isinstance(value, int) and not isinstance(value, bool):  # an IntegerChoices member
            out.append(str(int(value)))
        else:
            raise ValueError(f"not an integer or a plain code: {value!r}")
    return "{" + ",".join(out) + "}"


def lock_ledger_accounts(ids: Iterable[int] = (), *, numbers: Iterable[str] = ()) -> dict[int, LedgerAccount]:
    """Row-lock ledger accounts in ascending id order (the one lock helper of this app): those
    with the given ``ids`` and those of the bank accounts with the given ``numbers``. Each
    returned account also carries its bank account's ``bank_number`` and ``customer_number``
    (None for internal accounts); ``bank_status`` is read from the locked row. An unknown
    number is simply absent from the result."""
    with _posting_cursor() as cur:
        cur.execute(_LOCK_SQL, [_array(sorted(set(ids))), _array(sorted(set(numbers)))])
        return _locked(cur.fetchall())


def _locked(rows) -> dict[int, LedgerAccount]:
    """The rows of ``_LOCK_SQL`` as ledger accounts by id."""
    locked = {}
    for *columns, number, customer_number in rows:
        account = LedgerAccount.from_db(DEFAULT_DB_ALIAS, None, columns)
        account.bank_number, account.customer_number = number, customer_number
        locked[account.pk] = account
    return locked


def _pk(account) -> int | str:
    """A line's account as the posting statement knows it: a ledger-account id, or a bank
    account number."""
    return account if isinstance(account, (int, str)) else account.pk


def _split(key: int | str) -> tuple[int | None, str | None]:
    """A line's account key as the (ledger id, bank account number) pair of the write's arrays."""
    return (key, None) if isinstance(key, int) else (None, key)


def _require_atomic() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger operations run inside the calling service's transaction")


def outside_any_transaction() -> bool:
    """True when this connection is in no transaction (autocommit, no ``atomic`` block): a
    service whose whole transaction is one posting statement may then let the statement
    commit itself (``ledger_post(commit=True)``)."""
    conn = _conn()
    return not conn.in_atomic_block and conn.get_autocommit()


_DEBIT_STATUS_ERRORS = {
    "pending": ("ACCOUNT_NOT_ACTIVE", "Account %(number)s is not open yet."),
    "frozen": ("ACCOUNT_FROZEN", "Account %(number)s is frozen: no money can leave it."),
    "dormant": ("ACCOUNT_DORMANT", "Account %(number)s is dormant: reactivate it first."),
    "closed": ("ACCOUNT_CLOSED", "Account %(number)s is closed."),
}


#: The statuses of a bank account that may be credited (only an active one may be debited).
_CREDITABLE = frozenset({BankAccount.Status.ACTIVE, BankAccount.Status.FROZEN, BankAccount.Status.DORMANT})


def _status_error(number: str, status: str) -> LedgerError:
    code, message = _DEBIT_STATUS_ERRORS[status]
    return LedgerError(_(message) % {"number": number}, code=code, status_code=409)


def _check_customer_statuses(accounts: dict[int, LedgerAccount], debited: set[int], credited: set[int]) -> None:
    for pk, account in accounts.items():
        if account.kind != LedgerAccount.Kind.CUSTOMER:
            continue
        status, number = account.bank_status or "closed", account.bank_number or "?"
        if pk in debited and status != BankAccount.Status.ACTIVE:
            raise _status_error(number, status)
        if pk in credited and status not in _CREDITABLE:
            raise _status_error(number, status)


def ledger_post(
    *,
    kind: str,
    lines: list[Line],
    actor=None,
    branch=None,
    description: str = "",
    reverses: LedgerTransaction | None = None,
    metadata: dict | None = None,
    release_holds: dict[int, int] | None = None,
    check_status: bool = True,
    with_rows: Callable[[LedgerTransaction], Iterable[Model | NewRow]] | None = None,
    explain: Callable[[dict[int, LedgerAccount]], None] | None = None,
    commit: bool = False,
) -> LedgerTransaction:
    """Post one balanced transaction. ``release_holds`` ({ledger account id: amount})
    lowers pending debits in the same step (posting a hold).

    ``with_rows(tx)`` returns unsaved rows that belong to the posting — its audit event
    (``audit_event_row``) and its outbox event (``event_row``), which may refer to
    ``tx`` by its ``public_id`` — and they are inserted by the same statement that writes
    the ledger rows. A value that depends on the locked accounts is a :class:`SqlValue`.

    Everything is built before any lock is taken; then one statement locks every account in
    ascending id order and writes the posting from the rows it locked (each entry gets its
    account's next version and the balance after it) only if every rule holds on them: each
    account exists, is named once and is in the currency of its lines; a customer account is
    active to be debited and active, frozen or dormant to be credited (unless
    ``check_status`` is false); no limit of PostgreSQL's CHECK constraints would break. So the
    lock is held for the rest of one statement and until the COMMIT that follows it. A posting
    that was written costs no more Python; one that was refused comes back
    with the locked rows as they were, and the same rules, run on them in Python, say which
    one broke: a coded error (and the caller's transaction rolls back).

    ``explain(accounts)`` is the caller's own reading of a refusal, run on the locked
    accounts ({id: account}, each with ``bank_number``, ``customer_number`` and
    ``bank_status``) before the ledger's own: a transfer's "no such account" on the right
    field. It only explains: whatever it would refuse, the statement refuses too.

    ``commit``: the posting is the caller's whole transaction, and the caller is in none yet
    (:func:`outside_any_transaction`). The statement then runs in autocommit and commits itself,
    its deferred checks included: the posting and its COMMIT are one round trip, and a hot
    account's lock is released without waiting for the client. A refused posting commits
    nothing."""
    if commit:
        if not outside_any_transaction():
            raise RuntimeError("ledger_post(commit=True) runs outside any transaction")
    else:
        _require_atomic()
    release_holds = release_holds or {}
    if len(lines) < 2:
        raise LedgerError(_("A posting needs at least two entries."), code="UNBALANCED")
    per_currency: dict[str, int] = defaultdict(int)
    for line in lines:
        if line.side not in (DEBIT, CREDIT):
            raise LedgerError(_("An entry is a debit or a credit."), code="INVALID_SIDE")
        if line.amount.amount <= 0:
            raise LedgerError(_("The amount must be greater than zero."), code="AMOUNT_NOT_POSITIVE", field="amount")
        per_currency[line.amount.currency] += line.amount.amount if line.side == DEBIT else -line.amount.amount
    if any(per_currency.values()):
        raise LedgerError(_("Debits and credits differ: the posting does not balance."), code="UNBALANCED")

    keys = [_pk(line.account) for line in lines]
    created_by = actor if actor is not None and actor.is_authenticated else None
    tx = _new_transaction(kind=kind, description=description[:200], branch=branch, created_by=created_by,
                          reverses=reverses, metadata=metadata or {})
    inserts, extra_params = [], []
    for row in with_rows(tx) if with_rows is not None else ():
        sql, params = _insert_sql(row)
        inserts.append(sql)
        extra_params.extend(params)
    # What each line adds to its account, counted from the locked row that the statement reads:
    # the line's place among the account's lines (its version) and the debits and credits so far
    # (its balance after); then each account's totals.
    # (an account's currency is that of its lines: "MIXED" when they differ, which refuses the posting)
    entries, totals = [], {key: [0, 0, amount, 0, None] for key, amount in release_holds.items()}
    for key, line in zip(keys, lines, strict=True):
        total = totals.setdefault(key, [0, 0, 0, 0, None])
        total[0 if line.side == DEBIT else 1] += line.amount.amount
        total[3] += 1
        total[4] = line.amount.currency if total[4] in (None, line.amount.currency) else "MIXED"
        entries.append((key, line.side, line.amount.amount, line.amount.currency, total[3], total[0], total[1]))
    place = {key: i for i, key in enumerate(totals, 1)}  # a line names its account by its place in the totals
    entries = [(place[key], *rest) for key, *rest in entries]
    write_params = [*_columns([(*_split(key), *total) for key, total in totals.items()], 7), bool(check_status),
                    str(tx.public_id), kind, tx.description, tx.branch_id, tx.created_by_id, tx.reverses_id,
                    _dumps(tx.metadata), *_columns(entries, 7), *extra_params]

    with _posting_cursor() as cursor:
        cursor.execute(_post_statement(tuple(inserts)), write_params)
        rows = cursor.fetchall()
    tx.pk, micros = rows[0][:2]
    if tx.pk is None:  # refused: which rule broke, read from the locked rows
        accounts = _locked(row[2:] for row in rows if row[2] is not None)
        _check_posting(accounts, lines, release_holds, check_status, explain)
        raise LedgerError(_("The posting was refused."), code="POSTING_REFUSED", status_code=409)
    tx.posted_at = _EPOCH + timedelta(microseconds=micros)
    tx._state.adding, tx._state.db = False, DEFAULT_DB_ALIAS
    counter = _POSTED.get(kind) or _POSTED.setdefault(kind, POSTINGS.labels(kind=kind))
    transaction.on_commit(counter.inc)  # counted only once it really committed
    return tx


def _new_transaction(*, kind, description, branch, created_by, reverses, metadata) -> LedgerTransaction:
    """An unsaved :class:`LedgerTransaction` with its related rows cached, built from its
    column values in field order (keyword construction, which goes through each relation's
    descriptor, was a tenth of a transfer's Python)."""
    values = {"id": None, "public_id": uuid7(), "kind": kind, "description": description,
              "branch_id": branch.pk if branch is not None else None,
              "created_by_id": created_by.pk if created_by is not None else None, "posted_at": None,
              "reverses_id": reverses.pk if reverses is not None else None, "metadata": metadata}
    tx = LedgerTransaction(*(values[f.attname] for f in _TX_FIELDS))
    cache = tx._state.fields_cache
    for name, related in (("branch", branch), ("created_by", created_by), ("reverses", reverses)):
        if related is not None:
            cache[name] = related
    return tx


_TX_FIELDS = LedgerTransaction._meta.concrete_fields
_POSTED: dict = {}  # the postings counter of each kind (``labels()`` takes a lock and builds a key)


def _check_posting(accounts: dict[int, LedgerAccount], lines: list[Line], release_holds: dict[int, int],
                   check_status: bool, explain) -> None:
    """The rules of a posting, run on its locked accounts (which they bring up to date: totals,
    version, as the write statement would have) to say which one refused it."""
    if explain is not None:
        explain(accounts)
    by_number = {account.bank_number: account for account in accounts.values() if account.bank_number}
    line_accounts = []
    for line in lines:
        key = _pk(line.account)
        account = by_number.get(key) if isinstance(key, str) else accounts.get(key)
        if account is None:
            raise LedgerError(_("No such account."), code="ACCOUNT_NOT_FOUND", status_code=404)
        if account.currency_id != line.amount.currency:
            raise LedgerError(
                _("The amount is in %(given)s but the account is in %(expected)s.")
                % {"given": line.amount.currency, "expected": account.currency_id},
                code="CURRENCY_MISMATCH", field="currency",
            )
        line_accounts.append(account)
    pairs = list(zip(line_accounts, lines, strict=True))
    if check_status:
        _check_customer_statuses(accounts, {a.pk for a, ln in pairs if ln.side == DEBIT},
                                 {a.pk for a, ln in pairs if ln.side == CREDIT})

    available_before = {pk: a.available for pk, a in accounts.items()}
    for pk, amount in release_holds.items():
        accounts[pk].pending_debits -= amount
    for account, line in pairs:
        if line.side == DEBIT:
            account.posted_debits += line.amount.amount
        else:
            account.posted_credits += line.amount.amount
        account.version += 1
    for account in accounts.values():
        if account.kind == LedgerAccount.Kind.CUSTOMER and account.available < 0:
            raise LedgerError(
                _("Not enough money in the account: available %(available)s.")
                % {"available": Money(max(available_before[account.pk], 0), account.currency_id).format(_lang())},
                code="INSUFFICIENT_FUNDS", status_code=409,
            )
        if account.kind in LedgerAccount.CASH_KINDS and account.balance < 0:
            raise LedgerError(
                _("Not enough cash in %(name)s for this.") % {"name": account.name},
                code="INSUFFICIENT_CASH", status_code=409,
            )


# A posting in one statement. ``locked``: the function ``accounts_ledger_apply`` (accounts
# migration 0009) takes each account the posting touches (a ledger id, or a bank account number
# turned into its ledger id by an ARRAY(...) sub-select) with what the posting adds to it; it
# locks them in ascending id order, checks every rule on the locked rows (each account exists
# and was named once, is in the currency of its lines, may be debited/credited in its status
# unless the caller skips statuses (the ``%s`` flag), and no limit of the CHECK constraints
# would break) and, only if they all hold, updates their totals. The lock and the rules are one
# small statement of the function's own (migration 0013), the UPDATE another: a lock wait
# re-checks that small statement, not this one, and the UPDATE reads in a snapshot taken after
# the locks, so it re-checks nothing (migration 0009 says why that matters on a hot account).
# It returns, per account, ``ok`` and the locked row as it was before the update (with its bank
# account's and customer's numbers only when refused, migration 0010). The rest writes only
# when ``ok``: the transaction, its entries (each with its account's version and the balance
# after it, from the locked row and what the lines before it on that account added: counted in
# Python) and the extra rows. The main SELECT returns one row, the new transaction's id and
# time (in microseconds since 1970, an integer: psycopg's C loader reads it, where Django's
# timestamptz loader is Python), or, refused, the locked rows as they were (the id NULL).
# Lines and totals travel as arrays (one per column), so the text is the same whatever the
# number of lines: one prepared statement per kind of extra rows.
_POST_SQL = """
WITH locked AS MATERIALIZED (
    SELECT a.place, a.ok, (a.account).*, a.bank_number, a.customer_number
    FROM accounts_ledger_apply(
        ARRAY(SELECT coalesce(t.account_id, (SELECT ledger_id FROM accounts_bankaccount WHERE number = t.number))
              FROM unnest(%s::bigint[], %s::varchar[]) WITH ORDINALITY AS t(account_id, number, place)
              ORDER BY t.place),
        %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s) AS a
), tx AS (
    INSERT INTO accounts_ledgertransaction (public_id, kind, description, branch_id, created_by_id, reverses_id,
                                            metadata, posted_at)
    SELECT %s, %s, %s, %s, %s, %s, %s::jsonb, clock_timestamp() WHERE (SELECT bool_and(ok) FROM locked)
    RETURNING id, posted_at
), entries AS (
    INSERT INTO accounts_ledgerentry (transaction_id, account_id, side, amount, currency_id, account_version,
                                      balance_after, posted_at)
    SELECT tx.id, a.id, l.side, l.amount, l.currency, a.version + l.nth,
           CASE WHEN a.debit_normal THEN (a.posted_debits + l.debits) - (a.posted_credits + l.credits)
                ELSE (a.posted_credits + l.credits) - (a.posted_debits + l.debits) END,
           clock_timestamp()
    FROM tx, unnest(%s::bigint[], %s::text[], %s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[])
                 WITH ORDINALITY AS l(account, side, amount, currency, nth, debits, credits, n)
         JOIN locked a ON a.place = l.account
    ORDER BY l.n
    RETURNING 1
){{rows}}
SELECT tx.id, (extract(epoch FROM tx.posted_at) * 1000000)::bigint, {columns}, locked.bank_number, locked.customer_number
FROM (VALUES (1)) AS one LEFT JOIN tx ON true LEFT JOIN locked ON tx.id IS NULL
ORDER BY locked.id
""".format(columns=", ".join(f"locked.{f.column}" for f in LedgerAccount._meta.concrete_fields))


#: The posting statement of each combination of row INSERTs (``_INSERT_SQL`` texts): a handful.
_POST_STATEMENTS: dict[tuple[str, ...], str] = {}


def _post_statement(inserts: tuple[str, ...]) -> str:
    """The posting statement that also runs these INSERTs, as the same ``str`` object every
    time: psycopg keeps a cursor's adaptation state (its ``Transformer``: the parameters'
    dumpers, the result's loaders) only while each query is the very object of the cursor's
    previous one; a new string, even an equal one, rebuilds it."""
    sql = _POST_STATEMENTS.get(inserts)
    if sql is None:
        rows = "".join(f", row{i} AS ({insert} FROM tx)" for i, insert in enumerate(inserts))
        sql = _POST_STATEMENTS[inserts] = _POST_SQL.format(rows=rows)
    return sql


def _columns(rows: list[tuple], width: int) -> list[str]:
    """Rows of ``width`` values -> ``width`` array literals (the columns the write statement
    unnests)."""
    columns = [_array(column) for column in zip(*rows, strict=True)]
    return columns or ["{}"] * width


_INSERT_FIELDS: dict[type, list] = {}
_INSERT_SQL: dict[tuple, str] = {}
_ROW_COLUMNS: dict[type, dict[str, tuple[str, Callable[[object], str] | None]]] = {}


def _json_text(field: JSONField) -> Callable[[object], str]:
    """The JSON text of a value of ``field``, encoded as Django encodes it (the field's
    encoder; ``json.dumps`` without one)."""
    return (field.encoder or json.JSONEncoder)().encode


def _row_sql(row: NewRow) -> tuple[str, list]:
    """``INSERT`` of a :class:`NewRow`: its values go as they are, but for JSON fields,
    which go as JSON text cast by the statement (``%s::jsonb``), encoded by the field's own
    encoder (a ``Jsonb`` parameter costs psycopg a Python-level dumper); ``None`` is SQL
    NULL, as in Django's own INSERT."""
    columns = _ROW_COLUMNS.get(row.model)
    if columns is None:
        columns = _ROW_COLUMNS[row.model] = {
            f.attname: (f.column, _json_text(f) if isinstance(f, JSONField) else None)
            for f in row.model._meta.concrete_fields}
    names, values, params = [], [], []
    for name, value in row.values.items():
        column, json_text = columns[name]
        names.append(column)
        if isinstance(value, SqlValue):
            values.append(value.sql)
            params.extend(value.params)
        elif json_text is None:
            values.append("%s")
            params.append(value)
        else:
            values.append("%s::jsonb")
            params.append(None if value is None else json_text(value))
    return _cached_insert(row.model._meta.db_table, names, values), params


def _cached_insert(table: str, columns: list[str], values: list[str]) -> str:
    key = (table, tuple(columns), tuple(values))
    sql = _INSERT_SQL.get(key)
    if sql is None:
        quote = _conn().ops.quote_name
        sql = _INSERT_SQL[key] = "INSERT INTO {} ({}) SELECT {}".format(
            quote(table), ", ".join(map(quote, columns)), ", ".join(values))
    return sql


def _insert_sql(row: Model | NewRow) -> tuple[str, list]:
    """``INSERT`` of one unsaved model instance, values prepared as Django's own INSERT
    prepares them (``pre_save``, ``get_db_prep_save``); database defaults and the
    auto-increment key are left to PostgreSQL."""
    if isinstance(row, NewRow):
        return _row_sql(row)
    meta, conn = row._meta, _conn()
    fields = _INSERT_FIELDS.get(type(row))
    if fields is None:
        fields = _INSERT_FIELDS[type(row)] = [
            f for f in meta.concrete_fields if not (f.primary_key and isinstance(f, AutoFieldMixin))]
    columns, values, params = [], [], []
    for field in fields:
        value = field.pre_save(row, add=True)
        if isinstance(value, DatabaseDefault):
            continue
        columns.append(field.column)
        if isinstance(value, SqlValue):
            values.append(value.sql)
            params.extend(value.params)
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(value, conn))
    return _cached_insert(meta.db_table, columns, values), params


_dumps = DjangoJSONEncoder().encode  # json.dumps(value, cls=...) builds an encoder at every call


def _lang() -> str:
    from django.utils.translation import get_language

    return get_language() or "en"


def ledger_reverse(*, original: LedgerTransaction, actor, reason: str, branch=None) -> LedgerTransaction:
    """Undo ``original`` with a new transaction of the opposite entries (at most once)."""
    _require_atomic()
    if LedgerTransaction.objects.filter(reverses=original).exists():
        raise Conflict(_("This transaction has already been reversed."), code="ALREADY_REVERSED")
    if original.reverses_id is not None:
        raise Conflict(_("A reversal cannot itself be reversed; post a new transaction."), code="CANNOT_REVERSE_REVERSAL")
    lines = [
        Line(account=e.account, side=CREDIT if e.side == DEBIT else DEBIT, amount=Money(e.amount, e.currency_id))
        for e in original.entries.select_related("account").order_by("id")
    ]
    sid = transaction.savepoint()
    try:
        tx = ledger_post(kind="reversal", lines=lines, actor=actor, branch=branch or original.branch,
                         description=reason, reverses=original, metadata={"reverses": str(original.public_id)},
                         check_status=False)
        transaction.savepoint_commit(sid)
    except Exception as exc:
        transaction.savepoint_rollback(sid)
        from django.db import IntegrityError

        if isinstance(exc, IntegrityError):
            raise Conflict(_("This transaction has already been reversed."), code="ALREADY_REVERSED") from None
        raise
    return tx


# --- holds -------------------------------------------------------------------------------------------

def hold_place(*, account: BankAccount, amount: Money, reason: str, actor) -> Hold:
    _require_atomic()
    if amount.amount <= 0:
        raise LedgerError(_("The amount must be greater than zero."), code="AMOUNT_NOT_POSITIVE", field="amount")
    ledger = lock_ledger_accounts([account.ledger_id])[account.ledger_id]
    if ledger.currency_id != amount.currency:
        raise LedgerError(_("The amount is in %(given)s but the account is in %(expected)s.")
                          % {"given": amount.currency, "expected": ledger.currency_id}, code="CURRENCY_MISMATCH")
    _check_customer_statuses({ledger.pk: ledger}, {ledger.pk}, set())
    if ledger.available < amount.amount:
        raise LedgerError(_("Not enough money in the account: available %(available)s.")
                          % {"available": Money(ledger.available, ledger.currency_id).format(_lang())},
                          code="INSUFFICIENT_FUNDS", status_code=409)
    LedgerAccount.objects.filter(pk=ledger.pk).update(pending_debits=F("pending_debits") + amount.amount)
    return Hold.objects.create(account=ledger, amount=amount.amount, reason=reason[:200], created_by=actor)


def _lock_pending_hold(hold: Hold) -> Hold:
    locked = Hold.objects.select_for_update(no_key=True, of=("self",)).select_related("account").get(pk=hold.pk)
    if locked.status != Hold.Status.PENDING:
        raise Conflict(_("This hold was already %(status)s.") % {"status": locked.get_status_display()},
                       code="HOLD_ALREADY_SETTLED")
    return locked


def hold_settle(*, hold: Hold, counter_account: LedgerAccount, actor, description: str = "") -> LedgerTransaction:
    """Turn a hold into a posting: debit the held account, credit ``counter_account``."""
    _require_atomic()
    from django.utils import timezone

    hold = _lock_pending_hold(hold)
    money = Money(hold.amount, hold.account.currency_id)
    tx = ledger_post(kind="hold_settlement", lines=[Line(hold.account, DEBIT, money),
                                                   Line(counter_account, CREDIT, money)],
                     actor=actor, description=description or hold.reason, release_holds={hold.account_id: hold.amount},
                     check_status=False)
    hold.status, hold.settled_at, hold.transaction = Hold.Status.POSTED, timezone.now(), tx
    hold.save(update_fields=["status", "settled_at", "transaction"])
    return tx


def hold_void(*, hold: Hold, actor) -> Hold:
    _require_atomic()
    from django.utils import timezone

    hold = _lock_pending_hold(hold)
    lock_ledger_accounts([hold.account_id])
    LedgerAccount.objects.filter(pk=hold.account_id).update(pending_debits=F("pending_debits") - hold.amount)
    hold.status, hold.settled_at = Hold.Status.VOIDED, timezone.now()
    hold.save(update_fields=["status", "settled_at"])
    return hold


# --- verification -----------------------------------------------------------------------------------

_VERIFY_TOTALS = """
SELECT a.id, a.name, a.posted_debits, a.posted_credits, a.version, a.pending_debits,
       coalesce(e.debits, 0), coalesce(e.credits, 0), coalesce(e.max_version, 0), coalesce(h.pending, 0)
FROM accounts_ledgeraccount a
LEFT JOIN (SELECT account_id, sum(amount) FILTER (WHERE side = 'D') AS debits,
                  sum(amount) FILTER (WHERE side = 'C') AS credits, max(account_version) AS max_version
           FROM accounts_ledgerentry GROUP BY account_id) e ON e.account_id = a.id
LEFT JOIN (SELECT account_id, sum(amount) AS pending FROM accounts_hold WHERE status = 'pending'
           GROUP BY account_id) h ON h.account_id = a.id
WHERE a.posted_debits <> coalesce(e.debits, 0) OR a.posted_credits <> coalesce(e.credits, 0)
   OR a.version <> coalesce(e.max_version, 0) OR a.pending_debits <> coalesce(h.pending, 0)
"""

_VERIFY_RUNNING = """
SELECT account_id, account_version, balance_after, running FROM (
    SELECT e.account_id, e.account_version, e.balance_after,
           sum(CASE WHEN (e.side = 'D') = a.debit_normal THEN e.amount ELSE -e.amount END)
               OVER (PARTITION BY e.account_id ORDER BY e.account_version) AS running,
           row_number() OVER (PARTITION BY e.account_id ORDER BY e.account_version) AS n
    FROM accounts_ledgerentry e JOIN accounts_ledgeraccount a ON a.id = e.account_id
) x WHERE balance_after <> running OR account_version <> n
LIMIT 100
"""

_VERIFY_BALANCED = """
SELECT transaction_id, currency_id FROM accounts_ledgerentry GROUP BY transaction_id, currency_id
HAVING sum(CASE side WHEN 'D' THEN amount ELSE -amount END) <> 0 LIMIT 100
"""


@dataclass(frozen=True)
class LedgerReport:
    accounts_checked: int
    entries_checked: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def ledger_verify() -> LedgerReport:
    """Recompute every balance from the entries and compare (see ``manage.py verify_ledger``)."""
    problems = []
    with connection.cursor() as cur:
        cur.execute(_VERIFY_TOTALS)
        for pk, name, pd, pc, ver, pend, ed, ec, ev, hp in cur.fetchall():
            problems.append(
                f"account {pk} ({name}): stored debits/credits/version/pending {pd}/{pc}/{ver}/{pend}, "
                f"from entries {ed}/{ec}/{ev}/{hp}"
            )
        cur.execute(_VERIFY_RUNNING)
        for account_id, version, after, running in cur.fetchall():
            problems.append(f"account {account_id} entry v{version}: balance_after {after}, recomputed {running}")
        cur.execute(_VERIFY_BALANCED)
        for tx_id, currency in cur.fetchall():
            problems.append(f"transaction {tx_id} does not balance in {currency}")
        cur.execute("SELECT (SELECT count(*) FROM accounts_ledgeraccount), (SELECT count(*) FROM accounts_ledgerentry)")
        n_accounts, n_entries = cur.fetchone()
    return LedgerReport(accounts_checked=n_accounts, entries_checked=n_entries, problems=problems)
