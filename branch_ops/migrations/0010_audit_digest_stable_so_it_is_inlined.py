"""The audit digest is declared STABLE, which is what its body is, so PostgreSQL inlines it.

``branch_ops_audit_digest`` (migration 0002) is an SQL function declared IMMUTABLE, but its
body calls ``to_char`` and ``convert_to``, which are STABLE. PostgreSQL inlines an SQL
function into the expression that calls it only when the body is no more volatile than the
declaration, so every audit event ran the digest as a separate function call, with an
executor of its own (``fmgr_sql``). Declared STABLE it is inlined into the chain head's UPDATE
(the insert trigger of migration 0008) and into ``audit_chain_verify``'s query. The digest
itself, and so every stored hash, is unchanged; the audit chain tests recompute it.

Measured with ``perf`` on the backend (one client, transfers): the digest's own executor
(``fmgr_sql``) took 0.018 ms of the 0.59 ms a transfer, and is gone. Two A/B runs in one process
(8 alternating rounds of 800 transfers, the function switched between the declarations) gave
-0.037 and +0.006 ms: within the machine's noise, which is larger than the gain.
"""

from django.db import migrations

SIGNATURE = ("branch_ops_audit_digest(text, bigint, bigint, timestamptz, bigint, text, bigint, text, text, text, "
             "text, jsonb, jsonb, text, uuid)")


class Migration(migrations.Migration):
    dependencies = [("branch_ops", "0009_one_backup_code_device_per_person")]

    operations = [migrations.RunSQL(f"ALTER FUNCTION {SIGNATURE} STABLE;", f"ALTER FUNCTION {SIGNATURE} IMMUTABLE;")]
