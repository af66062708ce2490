"""Each branch's audit trail is kept in up to 64 hash chains ("lanes") instead of one.

A writer holds its chain's head row lock from its first audit event until it commits — COMMIT's
WAL flush and the client's round trip included — so with one chain per branch every writing
transaction of a branch queued behind the one before it (measured: 4 clients posting at one
branch, 711 postings/s with 1.44 of 2 cores busy; at 4 branches, 1,064/s, CPU-bound). An event
now goes to lane ``pg_backend_pid() % 64`` of its branch: the events of one connection, and so
of one transaction, stay in one chain in order, and two connections seldom share a lane.

``chain_key = coalesce(branch_id, 0) + lane * 2^40``. Lane 0 is the old key (the branch id), so
every chain written before this migration is lane 0 of its branch and verifies unchanged; the
digest already covers ``chain_key``, so an event cannot be moved to another lane unnoticed.
See ADR 0008.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION branch_ops_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.chain_key := coalesce(NEW.branch_id, 0) + ((pg_backend_pid() % 64)::bigint << 40);
    NEW.occurred_at := clock_timestamp();
    FOR attempt IN 1..2 LOOP
        UPDATE branch_ops_auditchainhead
           SET last_seq = last_seq + 1,
               last_prev_hash = last_hash,
               last_hash = branch_ops_audit_digest(
                   last_hash, NEW.chain_key, last_seq + 1, NEW.occurred_at, NEW.actor_id, NEW.actor_role,
                   NEW.branch_id, NEW.action, NEW.object_type, NEW.object_id, NEW.customer_ref,
                   NEW.before, NEW.after, NEW.request_id, NEW.public_id)
         WHERE chain_key = NEW.chain_key
        RETURNING last_seq, last_prev_hash, last_hash INTO NEW.seq, NEW.prev_hash, NEW.hash;
        IF FOUND THEN
            RETURN NEW;
        END IF;
        -- the chain's first event: create its head, then number the event as above
        INSERT INTO branch_ops_auditchainhead (chain_key, last_seq, last_hash, last_prev_hash)
            VALUES (NEW.chain_key, 0, '', '') ON CONFLICT (chain_key) DO NOTHING;
    END LOOP;
    RAISE EXCEPTION 'audit chain head % could not be created', NEW.chain_key;
END $$;
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION branch_ops_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.chain_key := coalesce(NEW.branch_id, 0);
    NEW.occurred_at := clock_timestamp();
    FOR attempt IN 1..2 LOOP
        UPDATE branch_ops_auditchainhead
           SET last_seq = last_seq + 1,
               last_prev_hash = last_hash,
               last_hash = branch_ops_audit_digest(
                   last_hash, NEW.chain_key, last_seq + 1, NEW.occurred_at, NEW.actor_id, NEW.actor_role,
                   NEW.branch_id, NEW.action, NEW.object_type, NEW.object_id, NEW.customer_ref,
                   NEW.before, NEW.after, NEW.request_id, NEW.public_id)
         WHERE chain_key = NEW.chain_key
        RETURNING last_seq, last_prev_hash, last_hash INTO NEW.seq, NEW.prev_hash, NEW.hash;
        IF FOUND THEN
            RETURN NEW;
        END IF;
        INSERT INTO branch_ops_auditchainhead (chain_key, last_seq, last_hash, last_prev_hash)
            VALUES (NEW.chain_key, 0, '', '') ON CONFLICT (chain_key) DO NOTHING;
    END LOOP;
    RAISE EXCEPTION 'audit chain head % could not be created', NEW.chain_key;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("branch_ops", "0007_audit_chain_one_statement")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
