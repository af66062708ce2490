"""Invariants PostgreSQL keeps itself, whatever code or raw SQL writes the rows.

- Audit events: append-only (UPDATE/DELETE refused); on INSERT the trigger numbers the event
  in its branch's chain and computes ``hash = sha256(prev_hash | content)`` under a row lock
  on the chain head, so concurrent writers of one branch are serialised.
- Approvals: never decided by the requester (also a CHECK); decided only by a *person*
  whose role is in ``decider_roles`` at the approval's branch; decided at most once;
  never deleted.
- Outbox: ``txid`` is always the writing transaction's id; rows are never updated.
"""

from django.db import migrations

AUDIT_SQL = r"""
CREATE OR REPLACE FUNCTION branch_ops_audit_digest(
    p_prev_hash text, p_chain_key bigint, p_seq bigint, p_occurred_at timestamptz,
    p_actor_id bigint, p_actor_role text, p_branch_id bigint, p_action text,
    p_object_type text, p_object_id text, p_customer_ref text, p_before jsonb, p_after jsonb,
    p_request_id text, p_public_id uuid
) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws(E'\x1f',
        p_prev_hash, p_chain_key::text, p_seq::text,
        to_char(p_occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        coalesce(p_actor_id::text, ''), p_actor_role, coalesce(p_branch_id::text, ''),
        p_action, p_object_type, p_object_id, p_customer_ref,
        p_before::text, p_after::text, p_request_id, p_public_id::text
    ), 'UTF8')), 'hex')
$$;

CREATE OR REPLACE FUNCTION branch_ops_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
    v_hash text;
BEGIN
    NEW.chain_key := coalesce(NEW.branch_id, 0);
    NEW.occurred_at := clock_timestamp();
    INSERT INTO branch_ops_auditchainhead (chain_key, last_seq, last_hash)
        VALUES (NEW.chain_key, 0, '') ON CONFLICT (chain_key) DO NOTHING;
    SELECT last_seq, last_hash INTO v_seq, v_hash
        FROM branch_ops_auditchainhead WHERE chain_key = NEW.chain_key FOR UPDATE;
    NEW.seq := v_seq + 1;
    NEW.prev_hash := v_hash;
    NEW.hash := branch_ops_audit_digest(
        NEW.prev_hash, NEW.chain_key, NEW.seq, NEW.occurred_at, NEW.actor_id, NEW.actor_role,
        NEW.branch_id, NEW.action, NEW.object_type, NEW.object_id, NEW.customer_ref,
        NEW.before, NEW.after, NEW.request_id, NEW.public_id);
    UPDATE branch_ops_auditchainhead SET last_seq = NEW.seq, last_hash = NEW.hash
        WHERE chain_key = NEW.chain_key;
    RETURN NEW;
END $$;

CREATE TRIGGER audit_chain BEFORE INSERT ON branch_ops_auditevent
    FOR EACH ROW EXECUTE FUNCTION branch_ops_audit_chain();

CREATE OR REPLACE FUNCTION branch_ops_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON branch_ops_auditevent
    FOR EACH ROW EXECUTE FUNCTION branch_ops_refuse_change();
"""

AUDIT_REVERSE = r"""
DROP TRIGGER IF EXISTS audit_append_only ON branch_ops_auditevent;
DROP TRIGGER IF EXISTS audit_chain ON branch_ops_auditevent;
DROP FUNCTION IF EXISTS branch_ops_audit_chain();
DROP FUNCTION IF EXISTS branch_ops_refuse_change();
DROP FUNCTION IF EXISTS branch_ops_audit_digest(text, bigint, bigint, timestamptz, bigint, text, bigint, text, text, text, text, jsonb, jsonb, text, uuid);
"""

APPROVAL_SQL = r"""
CREATE OR REPLACE FUNCTION branch_ops_approval_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_role text;
    v_branch bigint;
    v_kind text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'approvals are records: DELETE refused'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF OLD.status <> 'pending' THEN
        RAISE EXCEPTION 'approval % was already decided (%)', OLD.public_id, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.requested_by_id <> OLD.requested_by_id OR NEW.kind <> OLD.kind
       OR NEW.branch_id <> OLD.branch_id OR NEW.subject_type <> OLD.subject_type
       OR NEW.subject_id <> OLD.subject_id OR NEW.decider_roles <> OLD.decider_roles THEN
        RAISE EXCEPTION 'what an approval approves cannot be changed'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.status IN ('approved', 'rejected') THEN
        IF NEW.decided_by_id = NEW.requested_by_id THEN
            RAISE EXCEPTION 'an approval cannot be decided by the person who requested it'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_not_self_decided';
        END IF;
        SELECT role, branch_id, kind INTO v_role, v_branch, v_kind
            FROM branch_ops_staffprofile WHERE user_id = NEW.decided_by_id;
        IF v_role IS NULL OR v_kind <> 'person' OR v_branch <> NEW.branch_id
           OR NOT (NEW.decider_roles ? v_role) THEN
            RAISE EXCEPTION 'this person may not decide approval %', NEW.public_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'approval_decider_allowed';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER approval_guard BEFORE UPDATE OR DELETE ON branch_ops_approval
    FOR EACH ROW EXECUTE FUNCTION branch_ops_approval_guard();
"""

APPROVAL_REVERSE = r"""
DROP TRIGGER IF EXISTS approval_guard ON branch_ops_approval;
DROP FUNCTION IF EXISTS branch_ops_approval_guard();
"""

OUTBOX_SQL = r"""
CREATE OR REPLACE FUNCTION branch_ops_outbox_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.txid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END $$;

CREATE TRIGGER outbox_txid BEFORE INSERT ON branch_ops_outboxevent
    FOR EACH ROW EXECUTE FUNCTION branch_ops_outbox_txid();

CREATE TRIGGER outbox_no_update BEFORE UPDATE ON branch_ops_outboxevent
    FOR EACH ROW EXECUTE FUNCTION branch_ops_refuse_change();
"""

OUTBOX_REVERSE = r"""
DROP TRIGGER IF EXISTS outbox_no_update ON branch_ops_outboxevent;
DROP TRIGGER IF EXISTS outbox_txid ON branch_ops_outboxevent;
DROP FUNCTION IF EXISTS branch_ops_outbox_txid();
"""


class Migration(migrations.Migration):
    dependencies = [("branch_ops", "0001_initial")]

    operations = [
        migrations.RunSQL(AUDIT_SQL, AUDIT_REVERSE),
        migrations.RunSQL(APPROVAL_SQL, APPROVAL_REVERSE),
        migrations.RunSQL(OUTBOX_SQL, OUTBOX_REVERSE),
    ]
