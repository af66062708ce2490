"""Schemathesis over the whole OpenAPI document, in process (the Django WSGI app, the test
database), authenticated with an API token of each role: no 5xx, every status code and
content type documented, every response body matching its schema.

Bounded: ``FUZZ_MAX_EXAMPLES`` examples per operation and role (default 6), derandomized so
that a CI run is repeatable. One test per role, so xdist spreads them over the workers. A
failure lists every operation that failed, with the request that did it.
"""

from __future__ import annotations

import json
import os
import time

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from branch_ops.services import api_token_issue
from tests.floor.conftest import make_every_kind

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "6"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


def _openapi_document() -> dict:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


@pytest.fixture(scope="module")
def openapi():
    loaded = schemathesis.openapi.from_dict(_openapi_document())
    loaded.app = get_wsgi_application()
    return loaded


@pytest.fixture
def _keep_test_connection():
    """The real WSGI handler closes the database connection after each request (Django's
    test client switches that off, and so do we): the test's transaction must survive."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _token_for(user) -> str:
    _token, secret = api_token_issue(actor=user, username=user.get_username(), name="fuzz", rate_limit="100000/min")
    return secret


def _fuzz_operation(operation, headers: dict) -> str | None:
    """Run the bounded fuzz of one operation; the failure text, or None."""
    failures: list[str] = []

    @hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy())
    def run(case):
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except BaseException as exc:  # noqa: BLE001 - schemathesis raises a BaseExceptionGroup
            failures.append(f"{case.method} {case.formatted_path} body={case.body!r} query={case.query!r}: "
                            f"{str(exc)[:1500]}")
            raise

    try:
        run()
    except BaseException:  # noqa: BLE001
        return failures[-1] if failures else "failed"
    return None


@pytest.mark.parametrize("role", ["teller", "csr", "coordinator", "supervisor"])
def test_every_operation_answers_as_documented_for_each_role(openapi, role, staff, branch, _keep_test_connection):
    make_every_kind(staff, branch)  # a branch with drawers, requests, complaints and approvals in every state
    headers = {"Authorization": f"Bearer {_token_for(staff[role])}"}
    started = time.monotonic()
    failures = []
    for result in openapi.get_all_operations():
        operation = result.ok()
        failure = _fuzz_operation(operation, headers)
        if failure:
            failures.append(f"{operation.label}: {failure}")
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} operation(s) failed as {role} ({elapsed:.0f} s):\n\n" + "\n\n".join(failures)
