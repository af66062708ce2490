"""An entry's account and currency are checked by one composite foreign key.

Before: an entry had a foreign key to its ledger account, another to its currency, and a
``BEFORE INSERT`` trigger (``entry_currency``) whose query compared the entry's currency with
its account's. Now one deferred foreign key, (account_id, currency_id) -> the ledger
account's unique (id, currency_id), holds all three rules: the account exists, the entry is
in its currency, and that currency is a known one (the account's own foreign key). A
posting's two entries cost two key checks at COMMIT instead of four, plus two trigger calls
and their queries.

The trigger also forgot the balance check's memo (``accounts.balanced_tx``, migration 0006)
whenever an entry was inserted, so that an entry added after a check is checked again. A
``BEFORE INSERT ... FOR EACH STATEMENT`` trigger does that now, once per statement that
inserts entries. It must run *before* the statement's rows: with ``SET CONSTRAINTS ALL
IMMEDIATE`` the new rows' balance checks fire at the end of that very statement, and they
must not find the memo of an earlier check.

The ledger accounts' index on currency alone goes: nothing looks them up by currency.
"""

import django.db.models.deletion
from django.db import migrations, models

FORWARD = r"""
ALTER TABLE accounts_ledgerentry ADD CONSTRAINT entry_currency_is_account_currency
    FOREIGN KEY (account_id, currency_id) REFERENCES accounts_ledgeraccount (id, currency_id)
    DEFERRABLE INITIALLY DEFERRED;
DROP TRIGGER entry_currency ON accounts_ledgerentry;
DROP FUNCTION accounts_entry_currency();
CREATE FUNCTION accounts_balance_memo_forget() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('accounts.balanced_tx', true) <> '' THEN
        PERFORM set_config('accounts.balanced_tx', '', true);  -- new entries: the next check runs in full
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_entry_memo_forget BEFORE INSERT ON accounts_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION accounts_balance_memo_forget();
"""

BACKWARD = r"""
DROP TRIGGER ledger_entry_memo_forget ON accounts_ledgerentry;
DROP FUNCTION accounts_balance_memo_forget();
CREATE FUNCTION accounts_entry_currency() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER entry_currency BEFORE INSERT ON accounts_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION accounts_entry_currency();
ALTER TABLE accounts_ledgerentry DROP CONSTRAINT entry_currency_is_account_currency;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_bank_status_on_the_ledger_row'),
        ('branch_ops', '0009_one_backup_code_device_per_person'),
    ]

    operations = [
        migrations.AlterField(
            model_name='ledgeraccount',
            name='currency',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, to='branch_ops.currency'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='account',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='accounts.ledgeraccount'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='currency',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='branch_ops.currency'),
        ),
        migrations.AddConstraint(
            model_name='ledgeraccount',
            constraint=models.UniqueConstraint(fields=('id', 'currency'), name='ledger_account_id_currency'),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
