"""A posting's accounts are locked, checked and updated by a function of their own.

Before: the posting statement locked the accounts in one of its CTEs (``FOR NO KEY UPDATE``),
checked them in another and updated their totals in a third. On a hot account every posting
waits for the one before it, and a locking statement that waited re-checks the newer row
version (EvalPlanQual). PostgreSQL prepares that re-check by initialising *every* sub-plan of
the statement again: all its CTEs, the inserts of the transaction, entries, audit, outbox and
idempotency rows included. The totals UPDATE, reading with the statement's snapshot (taken
before the wait), met the row version it could not see and paid the same re-check a second
time. Both ran while the hot account's lock was held: about 0.28 ms of backend time per
posting, a quarter of a hot account's critical section.

Now ``accounts_ledger_apply`` does those three steps, each a statement of its own:

1. the locking SELECT, in ascending id order (a lock wait re-checks this small statement only);
2. the rules on the locked rows, the same as before (``ok``);
3. when ``ok``, the totals UPDATE, in a snapshot taken after the locks (READ COMMITTED takes
   one per statement in a volatile function), so it sees the latest row versions and
   re-checks nothing.

It returns, for each of the posting's accounts (in the order given), whether the posting may be
written, the locked row as it was before the update, and its bank account's and customer's
numbers. The posting statement inserts the transaction, its entries and its extra rows only
when ``ok``; a refused posting changes nothing (the UPDATE did not run).

The rules are those of ``accounts.ledger._check_posting`` (which explains a refusal in Python):
the kinds of cash (``LedgerAccount.CASH_KINDS``) and the statuses a customer account may be
credited in (``_CREDITABLE``) are written out here. Two tests in ``tests/accounts/test_ledger.py``
fail if they drift apart: every cash kind is refused below zero by the statement itself, and
exactly the creditable statuses may be credited.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION accounts_ledger_apply(
    p_ids bigint[], p_debits bigint[], p_credits bigint[], p_released bigint[], p_lines bigint[],
    p_currencies text[], p_check_status boolean)
RETURNS TABLE (place bigint, ok boolean, account accounts_ledgeraccount, bank_number varchar,
               customer_number varchar)
LANGUAGE plpgsql AS $$
DECLARE
    v_rows accounts_ledgeraccount[];
    v_ok boolean;
BEGIN
    -- 1. lock, in ascending id order; a lock wait re-reads the newer version of the row
    v_rows := ARRAY(SELECT la FROM accounts_ledgeraccount la WHERE la.id = ANY(p_ids)
                    ORDER BY la.id FOR NO KEY UPDATE);
    -- 2. every account exists and is named once, is in the currency of its lines, may be
    -- debited/credited in its status, and no limit of the CHECK constraints would break
    SELECT count(l.id) = count(*) AND count(DISTINCT t.id) = count(*)
           AND NOT coalesce(bool_or(
                   (l.kind = 'customer' AND l.posted_credits + t.credits
                                            < l.posted_debits + t.debits + l.pending_debits - t.released
                                              - l.overdraft_limit)
                   OR (l.kind IN ('drawer_cash', 'vault_cash') AND l.posted_debits + t.debits < l.posted_credits + t.credits)
                   OR l.pending_debits - t.released < 0
                   OR l.currency_id <> t.currency
                   OR (p_check_status AND l.kind = 'customer'
                       AND ((t.debits > 0 AND l.bank_status <> 'active')
                            OR (t.credits > 0 AND l.bank_status NOT IN ('active', 'dormant', 'frozen'))))), false)
      INTO v_ok
      FROM unnest(p_ids, p_debits, p_credits, p_released, p_currencies) AS t(id, debits, credits, released, currency)
      LEFT JOIN unnest(v_rows) AS l ON l.id = t.id;
    -- 3. the new totals, in a snapshot taken after the locks
    IF v_ok THEN
        UPDATE accounts_ledgeraccount a
           SET posted_debits = a.posted_debits + t.debits, posted_credits = a.posted_credits + t.credits,
               pending_debits = a.pending_debits - t.released, version = a.version + t.lines
          FROM unnest(p_ids, p_debits, p_credits, p_released, p_lines) AS t(id, debits, credits, released, lines)
         WHERE a.id = t.id;
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

BACKWARD = r"""
DROP FUNCTION accounts_ledger_apply(bigint[], bigint[], bigint[], bigint[], bigint[], text[], boolean);
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_entry_currency_by_composite_key")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
