"""The balance check reads a single-currency ledger transaction with one plain aggregate.

Migration 0006's check grouped a ledger transaction's entries by currency and aggregated the
groups: a sort and two aggregates, started and run at the COMMIT of every posting. Nearly every
posting is in one currency (only a currency exchange has two), so the check now takes the count,
the lowest and highest currency and the net of all the entries in one aggregate over the
transaction's index range. In one currency the net must be zero; with several, each currency
must balance on its own, and only then are the entries grouped by currency as before. The rule
is unchanged: fewer than two entries, or debits that differ from credits in any currency, are
refused at COMMIT with the same messages.

Measured with ``perf`` on one client's backend (a transfer at a time): the deferred balance
triggers' share of the backend's time 7.9% -> 5.8%.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION accounts_check_transaction_balanced(p_tx bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_count bigint;
    v_first text;
    v_last text;
    v_net bigint;
    v_currency text;
BEGIN
    IF current_setting('accounts.balanced_tx', true) = p_tx::text THEN
        RETURN;  -- checked at this COMMIT, and no entry has been inserted since
    END IF;
    SELECT count(*), min(currency_id), max(currency_id), sum(CASE side WHEN 'D' THEN amount ELSE -amount END)
      INTO v_count, v_first, v_last, v_net
      FROM accounts_ledgerentry WHERE transaction_id = p_tx;
    IF v_count < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has % entries; at least two are required', p_tx, v_count
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
    END IF;
    IF v_first = v_last THEN
        v_currency := CASE WHEN v_net <> 0 THEN v_first END;
    ELSE  -- several currencies: each must balance on its own
        SELECT min(currency_id) INTO v_currency
        FROM (SELECT currency_id FROM accounts_ledgerentry WHERE transaction_id = p_tx GROUP BY currency_id
              HAVING sum(CASE side WHEN 'D' THEN amount ELSE -amount END) <> 0) unbalanced;
    END IF;
    IF v_currency IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % is unbalanced in %: debits differ from credits', p_tx, v_currency
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balanced';
    END IF;
    PERFORM set_config('accounts.balanced_tx', p_tx::text, true);
END $$;
"""


def _previous() -> str:
    from importlib import import_module

    forward = import_module("accounts.migrations.0006_balance_check_once_per_transaction").FORWARD
    return forward[:forward.index("CREATE OR REPLACE FUNCTION accounts_entry_currency")]


class Migration(migrations.Migration):
    dependencies = [("accounts", "0013_posting_function_locks_and_checks_in_one_statement")]

    operations = [migrations.RunSQL(FORWARD, _previous())]
