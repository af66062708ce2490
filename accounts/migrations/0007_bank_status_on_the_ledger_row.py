"""A customer ledger account carries its bank account's status, kept by PostgreSQL.

A posting locks its ledger accounts with ``SELECT … FOR NO KEY UPDATE`` and must then know
each bank account's status as it is *now*: a locking SELECT that waited for another
transaction re-reads the rows it locks, but not rows it only joined, so the status used to be
read by a second statement after the lock (ADR 0007). With the status copied onto the ledger
row, the locking statement reads it from the row it locks: one statement, one round trip, and
one round trip less for which a hot account's row lock is held.

- ``accounts_bank_status_copy``: AFTER INSERT, or UPDATE OF status, on a bank account, sets
  ``bank_status`` on its ledger account (taking that row's lock, as postings do).
- ``accounts_bank_status_guard``: BEFORE UPDATE OF bank_status on a ledger account refuses a
  value that is not its bank account's status, so nothing else can make the copy lie.
"""

from django.db import migrations, models

FORWARD = r"""
UPDATE accounts_ledgeraccount la SET bank_status = ba.status
FROM accounts_bankaccount ba WHERE ba.ledger_id = la.id;

CREATE OR REPLACE FUNCTION accounts_bank_status_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts_ledgeraccount SET bank_status = NEW.status
    WHERE id = NEW.ledger_id AND bank_status IS DISTINCT FROM NEW.status;
    RETURN NULL;
END $$;

CREATE TRIGGER bank_status_copy AFTER INSERT OR UPDATE OF status, ledger_id ON accounts_bankaccount
    FOR EACH ROW EXECUTE FUNCTION accounts_bank_status_copy();

CREATE OR REPLACE FUNCTION accounts_bank_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_status text;
BEGIN
    SELECT status INTO v_status FROM accounts_bankaccount WHERE ledger_id = NEW.id;
    IF coalesce(v_status, '') IS DISTINCT FROM NEW.bank_status THEN
        RAISE EXCEPTION 'ledger account % bank_status % is not its bank account''s status %',
            NEW.id, NEW.bank_status, coalesce(v_status, '')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_bank_status_is_a_copy';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER bank_status_guard BEFORE UPDATE OF bank_status ON accounts_ledgeraccount
    FOR EACH ROW WHEN (NEW.bank_status IS DISTINCT FROM OLD.bank_status)
    EXECUTE FUNCTION accounts_bank_status_guard();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS bank_status_guard ON accounts_ledgeraccount;
DROP FUNCTION IF EXISTS accounts_bank_status_guard();
DROP TRIGGER IF EXISTS bank_status_copy ON accounts_bankaccount;
DROP FUNCTION IF EXISTS accounts_bank_status_copy();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_balance_check_once_per_transaction'),
    ]

    operations = [
        migrations.AddField(
            model_name='ledgeraccount',
            name='bank_status',
            field=models.CharField(blank=True, default='', editable=False, max_length=10),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
