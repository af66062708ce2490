"""The audit chain trigger in one statement instead of three.

Before: ``INSERT … ON CONFLICT DO NOTHING`` of the chain head on every audit event (although the
head exists from the branch's first event on), ``SELECT … FOR UPDATE``, then ``UPDATE``. Now one
``UPDATE … RETURNING`` takes the head's row lock, numbers the event and computes its hash: every
expression of an UPDATE's SET list reads the row as it was, so ``last_prev_hash = last_hash``
keeps the previous hash that the new one chains to, and RETURNING hands both to the trigger.
Only a chain's very first event creates its head first (two first events racing each other still
get 1 and 2: the second waits on the first's insert, then updates the committed head). The hash,
the chain and what ``audit_chain_verify`` checks are unchanged.
"""

from django.db import migrations, models

FORWARD = r"""
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
        -- the chain's first event: create its head, then number the event as above
        INSERT INTO branch_ops_auditchainhead (chain_key, last_seq, last_hash, last_prev_hash)
            VALUES (NEW.chain_key, 0, '', '') ON CONFLICT (chain_key) DO NOTHING;
    END LOOP;
    RAISE EXCEPTION 'audit chain head % could not be created', NEW.chain_key;
END $$;
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION branch_ops_audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
    v_hash text;
BEGIN
    NEW.chain_key := coalesce(NEW.branch_id, 0);
    NEW.occurred_at := clock_timestamp();
    INSERT INTO branch_ops_auditchainhead (chain_key, last_seq, last_hash, last_prev_hash)
        VALUES (NEW.chain_key, 0, '', '') ON CONFLICT (chain_key) DO NOTHING;
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
"""


class Migration(migrations.Migration):

    dependencies = [
        ('branch_ops', '0006_uuid7_public_ids'),
    ]

    operations = [
        migrations.AddField(
            model_name='auditchainhead',
            name='last_prev_hash',
            field=models.CharField(default='', max_length=64),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
