"""A database connection that drops mid-request (a restart, a killed backend) is a 503 that
tells the client to send the same request again with the same Idempotency-Key — never a 500
saying "nothing was changed", which it cannot know. Found by ``make chaos``."""

import uuid

import pytest
from django.db import OperationalError, connection, connections
from django.test import RequestFactory

from teller.models import CashOperation


def _kill_my_connection() -> None:
    """Terminate this test's own database backend from another connection, as
    ``pg_terminate_backend`` or a PostgreSQL restart does to a gunicorn worker."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        (pid,) = cur.fetchone()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_is_a_503_and_the_same_key_then_posts_once(api, cash):
    client = api(cash["teller"])
    body = {"account": cash["account"].number, "amount": {"amount": 60_000, "currency": "AED"},
            "denominations": {"50000": 1, "10000": 1}}
    key = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}

    _kill_my_connection()
    lost = client.post("/api/v1/teller/deposits/", body, format="json", **key)
    connection.close()  # what Django does between two requests with CONN_HEALTH_CHECKS
    first = client.post("/api/v1/teller/deposits/", body, format="json", **key)
    again = client.post("/api/v1/teller/deposits/", body, format="json", **key)

    assert lost.status_code == 503, lost.content
    assert lost["Content-Type"] == "application/problem+json"
    assert lost["Retry-After"] == "1"
    assert lost.json()["code"] == "DATABASE_UNAVAILABLE"
    assert "same Idempotency-Key" in lost.json()["detail"]
    assert first.status_code == 201, first.content
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert CashOperation.objects.filter(kind="deposit").count() == 1


def test_a_database_error_outside_the_api_view_is_a_503_problem_too():
    """The bearer-token lookup or a middleware can hit the dead connection before DRF's
    handler runs: Django's 500 handler answers the same 503."""
    from branch_ops.views import server_error

    request = RequestFactory().post("/api/v1/transfers/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(request)

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response["Content-Type"] == "application/problem+json"
    assert b"DATABASE_UNAVAILABLE" in response.content


def test_any_other_error_outside_the_api_view_stays_a_500():
    from branch_ops.views import server_error

    request = RequestFactory().post("/api/v1/transfers/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)

    assert response.status_code == 500
    assert b"SERVER_ERROR" in response.content
