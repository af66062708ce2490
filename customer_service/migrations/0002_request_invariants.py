"""What PostgreSQL keeps for service requests: status = last transition's to_status (and a
transition starts from the current status); transitions append-only; request numbers."""

from django.db import migrations

SQL = r"""
CREATE SEQUENCE customer_service_request_serial START 1001;

CREATE OR REPLACE FUNCTION cs_request_status_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_to text;
    v_from text;
    v_request bigint;
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status OR NEW.last_transition_id IS DISTINCT FROM OLD.last_transition_id THEN
        SELECT to_status, from_status, request_id INTO v_to, v_from, v_request
            FROM customer_service_requesttransition WHERE id = NEW.last_transition_id;
        IF v_to IS DISTINCT FROM NEW.status OR v_request IS DISTINCT FROM NEW.id
           OR NEW.last_transition_id IS NOT DISTINCT FROM OLD.last_transition_id  -- a status change needs a new step
           OR (OLD.last_transition_id IS NULL AND v_from <> '')
           OR (OLD.last_transition_id IS NOT NULL AND v_from IS DISTINCT FROM OLD.status) THEN
            RAISE EXCEPTION 'request % status % does not follow its last transition', NEW.number, NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'request_status_follows_transition';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER request_status_guard BEFORE UPDATE ON customer_service_servicerequest
    FOR EACH ROW EXECUTE FUNCTION cs_request_status_guard();

CREATE TRIGGER transition_append_only BEFORE UPDATE OR DELETE ON customer_service_requesttransition
    FOR EACH ROW EXECUTE FUNCTION branch_ops_refuse_change();
"""

REVERSE = r"""
DROP TRIGGER IF EXISTS transition_append_only ON customer_service_requesttransition;
DROP TRIGGER IF EXISTS request_status_guard ON customer_service_servicerequest;
DROP FUNCTION IF EXISTS cs_request_status_guard();
DROP SEQUENCE IF EXISTS customer_service_request_serial;
"""


class Migration(migrations.Migration):
    dependencies = [("customer_service", "0001_initial"), ("branch_ops", "0002_triggers")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
