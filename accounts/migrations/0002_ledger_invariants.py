"""The ledger's invariants, kept by PostgreSQL whatever code or raw SQL writes the rows.

- ``ledger_balanced``: a deferred constraint trigger, checked at COMMIT, on every entry and
  every transaction: the transaction has at least two entries and, per currency, debits
  equal credits. An unbalanced posting cannot commit.
- an entry's currency must be its account's currency;
- entries and transactions are append-only (UPDATE/DELETE refused);
- a hold leaves ``pending`` exactly once and is never deleted.
Sequences give account and customer numbers.
"""

from django.db import migrations

LEDGER_SQL = r"""
CREATE SEQUENCE accounts_account_serial START 1000001;
CREATE SEQUENCE accounts_customer_serial START 100001;

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

CREATE TRIGGER entry_currency BEFORE INSERT ON accounts_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION accounts_entry_currency();

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

CREATE OR REPLACE FUNCTION accounts_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM accounts_check_transaction_balanced(NEW.transaction_id);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION accounts_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM accounts_check_transaction_balanced(NEW.id);
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_entry_balanced AFTER INSERT ON accounts_ledgerentry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION accounts_entry_balanced();

CREATE CONSTRAINT TRIGGER ledger_transaction_balanced AFTER INSERT ON accounts_ledgertransaction
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION accounts_transaction_balanced();

CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON accounts_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION branch_ops_refuse_change();
CREATE TRIGGER ledger_transaction_append_only BEFORE UPDATE OR DELETE ON accounts_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION branch_ops_refuse_change();

CREATE OR REPLACE FUNCTION accounts_hold_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'holds are records: DELETE refused' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'hold % was already %', OLD.public_id, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.amount <> OLD.amount OR NEW.account_id <> OLD.account_id THEN
        RAISE EXCEPTION 'a hold''s amount and account cannot change' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER hold_guard BEFORE UPDATE OR DELETE ON accounts_hold
    FOR EACH ROW EXECUTE FUNCTION accounts_hold_guard();
"""

LEDGER_REVERSE = r"""
DROP TRIGGER IF EXISTS hold_guard ON accounts_hold;
DROP FUNCTION IF EXISTS accounts_hold_guard();
DROP TRIGGER IF EXISTS ledger_transaction_append_only ON accounts_ledgertransaction;
DROP TRIGGER IF EXISTS ledger_entry_append_only ON accounts_ledgerentry;
DROP TRIGGER IF EXISTS ledger_transaction_balanced ON accounts_ledgertransaction;
DROP TRIGGER IF EXISTS ledger_entry_balanced ON accounts_ledgerentry;
DROP FUNCTION IF EXISTS accounts_transaction_balanced();
DROP FUNCTION IF EXISTS accounts_entry_balanced();
DROP FUNCTION IF EXISTS accounts_check_transaction_balanced(bigint);
DROP TRIGGER IF EXISTS entry_currency ON accounts_ledgerentry;
DROP FUNCTION IF EXISTS accounts_entry_currency();
DROP SEQUENCE IF EXISTS accounts_customer_serial;
DROP SEQUENCE IF EXISTS accounts_account_serial;
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("branch_ops", "0002_triggers")]

    operations = [migrations.RunSQL(LEDGER_SQL, LEDGER_REVERSE)]
