"""The staff idle timeout: the last-activity time is written to the session at most once
per resolution (a minute by default), and a session still ends no later than the timeout
after its last request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from branch_ops import middleware
from branch_ops.middleware import LAST_SEEN_KEY, last_seen_resolution

ME = "/api/v1/me/"
T0 = 1_800_000_000.0


@pytest.fixture
def clock(monkeypatch):
    now = {"t": T0}
    monkeypatch.setattr(middleware, "_now", lambda: now["t"])
    return now


@pytest.fixture
def teller(client, staff, clock):
    """A signed-in teller whose first request, at T0, stored its last-activity time."""
    client.force_login(staff["teller"])
    assert client.get(ME).status_code == 200
    assert client.session[LAST_SEEN_KEY] == int(T0)
    return client


def _get(client, clock, at: float) -> tuple[int, int]:
    """(status, session writes) of a request at T0 + ``at`` seconds."""
    clock["t"] = T0 + at
    with CaptureQueriesContext(connection) as queries:
        status = client.get(ME).status_code
    return status, sum('UPDATE "django_session"' in q["sql"] for q in queries.captured_queries)


def test_the_resolution_is_a_minute_or_a_tenth_of_a_short_timeout():
    assert [last_seen_resolution(t) for t in (15 * 60, 10 * 60, 300, 60, 5)] == [60, 60, 30, 6, 1]


def test_requests_within_a_minute_do_not_write_the_session(teller, clock, settings):
    assert settings.STAFF_IDLE_TIMEOUT_SECONDS == 15 * 60
    assert [_get(teller, clock, at) for at in (1, 30, 59.9)] == [(200, 0)] * 3
    assert teller.session[LAST_SEEN_KEY] == int(T0)

    assert _get(teller, clock, 60) == (200, 1)
    assert teller.session[LAST_SEEN_KEY] == int(T0) + 60


def test_an_active_teller_is_never_signed_out(teller, clock, settings):
    timeout, resolution = settings.STAFF_IDLE_TIMEOUT_SECONDS, 60
    at, statuses = 0.0, []
    # short gaps that are not written, each followed by the longest gap an active session may have
    for gap in [resolution - 1, timeout - resolution, 30, 29, timeout - resolution, 1, timeout - resolution] * 3:
        at += gap
        statuses.append(_get(teller, clock, at)[0])
    assert statuses == [200] * len(statuses)


@pytest.mark.parametrize("unwritten", [None, 0.5, 1, 59, 59.9])
def test_the_session_ends_no_later_than_the_timeout_after_the_last_request(teller, clock, settings, unwritten):
    timeout = settings.STAFF_IDLE_TIMEOUT_SECONDS
    last = 0.0
    if unwritten is not None:  # a last request that did not write the session
        assert _get(teller, clock, unwritten) == (200, 0)
        last = unwritten

    response_status, _writes = _get(teller, clock, last + timeout + 0.01)

    assert response_status == 401
    assert "_auth_user_id" not in teller.session


def test_the_stored_time_is_rounded_down_so_the_timeout_is_not_a_second_late(client, staff, clock, settings):
    clock["t"] = T0 + 0.9
    client.force_login(staff["teller"])
    assert client.get(ME).status_code == 200
    assert client.session[LAST_SEEN_KEY] == int(T0)

    assert _get(client, clock, 0.9 + settings.STAFF_IDLE_TIMEOUT_SECONDS + 0.05)[0] == 401


def test_a_session_lives_until_the_timeout_has_passed(teller, clock, settings):
    assert _get(teller, clock, settings.STAFF_IDLE_TIMEOUT_SECONDS)[0] == 200


def test_a_short_timeout_keeps_an_active_teller_signed_in_and_still_expires(teller, clock, settings):
    settings.STAFF_IDLE_TIMEOUT_SECONDS = 60  # written every 6 s
    statuses = [_get(teller, clock, at)[0] for at in range(50, 600, 50)]
    assert statuses == [200] * len(statuses)

    assert _get(teller, clock, 550 + 61)[0] == 401
