"""The deferred balance triggers read the balance check's memo themselves.

A posting's two entries and its transaction row each queue the deferred balance check (migration
0002). At COMMIT the first of the three runs it and leaves a memo (``accounts.balanced_tx``,
migration 0006); the other two found the memo inside ``accounts_check_transaction_balanced``,
a second PL/pgSQL function called through ``PERFORM``: a query of its own each time. The trigger
functions now compare the memo first, as a plain PL/pgSQL expression, and call the check only
when it is not this transaction's. The check itself is unchanged; an undefined memo (a new
session: NULL) is "not this transaction" (``IS DISTINCT FROM``), as in the check.

Measured in one process, 8 alternating rounds of 800 transfers with the triggers switched
between the two versions: backend time 0.600 → 0.575 ms a posting (medians).
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION accounts_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('accounts.balanced_tx', true) IS DISTINCT FROM NEW.transaction_id::text THEN
        PERFORM accounts_check_transaction_balanced(NEW.transaction_id);
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE FUNCTION accounts_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('accounts.balanced_tx', true) IS DISTINCT FROM NEW.id::text THEN
        PERFORM accounts_check_transaction_balanced(NEW.id);
    END IF;
    RETURN NULL;
END $$;
"""

BACKWARD = r"""
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
"""


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_posting_locks_and_applies_in_a_function")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
