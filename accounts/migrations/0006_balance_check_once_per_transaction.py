"""Check each ledger transaction's balance once at COMMIT, not once per entry and once more.

The invariant is unchanged: no database transaction commits a ledger transaction with fewer
than two entries or whose debits and credits differ in any currency, whatever code or raw SQL
wrote it. Both deferred constraint triggers stay (on every entry and on every transaction, so an
entry appended to an old transaction is checked too); what changes is the work they do:

- the check is one aggregate query instead of two (count, then per-currency sums);
- a check that passed remembers its ledger transaction in a transaction-local setting
  (``accounts.balanced_tx``), and the deferred triggers that fire right after it for the same
  ledger transaction — its entries' — skip the query;
- the BEFORE INSERT trigger every entry already passes (its currency must be its account's)
  forgets that memo, so an entry inserted after a check (``SET CONSTRAINTS ALL IMMEDIATE``,
  then more entries) is checked again when its own deferred trigger fires. A savepoint that
  rolls back restores the memo together with the rows it covered.

A two-entry posting thus runs one balance query at COMMIT instead of six.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION accounts_check_transaction_balanced(p_tx bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_count bigint;
    v_currency text;
BEGIN
    IF current_setting('accounts.balanced_tx', true) = p_tx::text THEN
        RETURN;  -- checked at this COMMIT, and no entry has been inserted since
    END IF;
    SELECT sum(n), min(currency_id) FILTER (WHERE net <> 0) INTO v_count, v_currency
    FROM (SELECT currency_id, count(*) AS n, sum(CASE side WHEN 'D' THEN amount ELSE -amount END) AS net
          FROM accounts_ledgerentry WHERE transaction_id = p_tx GROUP BY currency_id) per_currency;
    IF coalesce(v_count, 0) < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has % entries; at least two are required', p_tx, coalesce(v_count, 0)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
    END IF;
    IF v_currency IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced in %: debits differ from credits', p_tx, v_currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
    END IF;
    PERFORM set_config('accounts.balanced_tx', p_tx::text, true);
END $$;

CREATE OR REPLACE FUNCTION accounts_entry_currency() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_currency text;
BEGIN
    SELECT currency_id INTO v_currency FROM accounts_ledgeraccount WHERE id = NEW.account_id;
    IF v_currency IS DISTINCT FROM NEW.currency_id THEN
        RAISE EXCEPTION 'entry currency % differs from ledger account % currency %',
            NEW.currency_id, NEW.account_id, v_currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'entry_currency_is_account_currency';
    END IF;
    IF current_setting('accounts.balanced_tx', true) <> '' THEN
        PERFORM set_config('accounts.balanced_tx', '', true);  -- a new entry: the next check runs in full
    END IF;
    RETURN NEW;
END $$;
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION accounts_check_transaction_balanced(p_tx bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
    v_currency text;
BEGIN
    SELECT count(*) INTO v_count FROM accounts_ledgerentry WHERE transaction_id = p_tx;
    IF v_count < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has % entries; at least two are required', p_tx, v_count
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
    END IF;
    SELECT currency_id INTO v_currency FROM accounts_ledgerentry WHERE transaction_id = p_tx
        GROUP BY currency_id
        HAVING sum(CASE side WHEN 'D' THEN amount ELSE -amount END) <> 0
        LIMIT 1;
    IF v_currency IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced in %: debits differ from credits', p_tx, v_currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
    END IF;
END $$;

CREATE OR REPLACE FUNCTION accounts_entry_currency() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_currency text;
BEGIN
    SELECT currency_id INTO v_currency FROM accounts_ledgeraccount WHERE id = NEW.account_id;
    IF v_currency IS DISTINCT FROM NEW.currency_id THEN
        RAISE EXCEPTION 'entry currency % differs from ledger account % currency %',
            NEW.currency_id, NEW.account_id, v_currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'entry_currency_is_account_currency';
    END IF;
    RETURN NEW;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_uuid7_public_ids")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
