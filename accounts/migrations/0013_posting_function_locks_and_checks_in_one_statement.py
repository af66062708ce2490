"""``accounts_ledger_apply`` locks the accounts and checks the rules in one statement.

Migration 0010's function ran four statements: the lock (``ARRAY(SELECT ... FOR NO KEY
UPDATE)``), the rules (a ``SELECT`` over ``unnest`` of the locked rows), the totals UPDATE and
the rows it returns. The first two are now one ``SELECT``: the rules aggregate the rows as the
locking sub-select (``ORDER BY id FOR NO KEY UPDATE``) hands them up, and ``array_agg`` keeps
the rows for the rest of the function. The locks are taken in the same order, a lock wait still
re-reads the newer row before the rules see it, and the rules and what the function returns
are unchanged; one statement fewer is started and ended, and the locked rows are no longer
unpacked from an array to be checked.

Measured with ``perf`` on one client's backend (a transfer at a time): the function's share of
the backend's time 26.5% -> 24.8%, about 0.01 ms a transfer.
"""

from django.db import migrations

FUNCTION = r"""CREATE OR REPLACE FUNCTION accounts_ledger_apply(
    p_ids bigint[], p_debits bigint[], p_credits bigint[], p_released bigint[], p_lines bigint[],
    p_currencies text[], p_check_status boolean)
RETURNS TABLE (place bigint, ok boolean, account accounts_ledgeraccount, bank_number varchar,
               customer_number varchar)
LANGUAGE plpgsql AS $$
DECLARE
    v_rows accounts_ledgeraccount[];
    v_ok boolean;
BEGIN
    -- 1. lock, in ascending id order (a lock wait re-reads the newer version of the row), and
    -- 2. on the locked rows: every account exists and is named once (the locked rows are the
    -- distinct ids of p_ids that exist: all are there, each once, when there are as many), is
    -- in the currency of its lines, may be debited/credited in its status, and no limit of the
    -- CHECK constraints would break; a row's amounts are those of its place i among the ids
    SELECT array_agg(l.la),
           count(*) = cardinality(p_ids)
           AND NOT coalesce(bool_or(
                   (l.kind = 'customer' AND l.posted_credits + p_credits[i]
                                            < l.posted_debits + p_debits[i] + l.pending_debits - p_released[i]
                                              - l.overdraft_limit)
                   OR (l.kind IN ('drawer_cash', 'vault_cash')
                       AND l.posted_debits + p_debits[i] < l.posted_credits + p_credits[i])
                   OR l.pending_debits - p_released[i] < 0
                   OR l.currency_id <> p_currencies[i]
                   OR (p_check_status AND l.kind = 'customer'
                       AND ((p_debits[i] > 0 AND l.bank_status <> 'active')
                            OR (p_credits[i] > 0 AND l.bank_status NOT IN ('active', 'dormant', 'frozen'))))), false)
      INTO v_rows, v_ok
      FROM (SELECT la, la.id, la.kind, la.posted_debits, la.posted_credits, la.pending_debits, la.overdraft_limit,
                   la.currency_id, la.bank_status, array_position(p_ids, la.id) AS i
            FROM accounts_ledgeraccount la WHERE la.id = ANY(p_ids)
            ORDER BY la.id FOR NO KEY UPDATE) AS l;
    IF v_ok THEN
        -- 3. the new totals, in a snapshot taken after the locks
        UPDATE accounts_ledgeraccount a
           SET posted_debits = a.posted_debits + p_debits[array_position(p_ids, a.id)],
               posted_credits = a.posted_credits + p_credits[array_position(p_ids, a.id)],
               pending_debits = a.pending_debits - p_released[array_position(p_ids, a.id)],
               version = a.version + p_lines[array_position(p_ids, a.id)]
         WHERE a.id = ANY(p_ids);
        -- the rows as locked, by place; their numbers are only read to explain a refusal
        RETURN QUERY SELECT array_position(p_ids, l.id)::bigint, true, l, NULL::varchar, NULL::varchar
                     FROM unnest(v_rows) AS l;
        RETURN;
    END IF;
    RETURN QUERY
        SELECT t.place, v_ok, l, ba.number, c.number
        FROM unnest(p_ids) WITH ORDINALITY AS t(id, place)
        LEFT JOIN unnest(v_rows) AS l ON l.id = t.id
        LEFT JOIN accounts_bankaccount ba ON ba.ledger_id = t.id
        LEFT JOIN accounts_customer c ON c.id = ba.customer_id;
END
$$;
"""


def _previous() -> str:
    from importlib import import_module

    return import_module("accounts.migrations.0010_posting_function_without_joins").FUNCTION


class Migration(migrations.Migration):
    dependencies = [("accounts", "0012_ledger_kinds_as_a_table")]

    operations = [migrations.RunSQL(FUNCTION, _previous())]
