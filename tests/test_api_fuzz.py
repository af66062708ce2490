"""Schemathesis over the whole OpenAPI document, in process (the Django WSGI app, the test
database), authenticated with an API token of each role: no 5xx, every status code and
content type documented, every response body matching its schema.

Bounded: ``FUZZ_MAX_EXAMPLES`` examples per operation and role (default 12), derandomized so
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
from django.db import DatabaseError, close_old_connections, connection
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from branch_ops.services import api_token_issue
from tests.floor.conftest import make_every_kind

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
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


def _transaction_usable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True


def _token_for(user) -> str:
    _token, secret = api_token_issue(actor=user, username=user.get_username(), name="fuzz", rate_limit="100000/min")
    return secret


def _known_ids(branch) -> dict[str, dict[str, str]]:
    """Real path parameters of the branch, by the path's first segment and the parameter's
    name, so that the fuzz also reaches past the lookups (a random number is a 404)."""
    from accounts.models import BankAccount, Customer
    from branch_ops.floor.lobby.models import Ticket
    from branch_ops.models import Approval
    from complaints.models import Complaint
    from customer_service.models import ServiceRequest
    from teller.models import CashOperation, VaultTransfer

    def first(qs, attr):
        found = qs.first()
        return str(getattr(found, attr)) if found is not None else None

    ids = {
        "customers": {"number": first(Customer.objects.filter(home_branch=branch).order_by("id"), "number")},
        "accounts": {"number": first(BankAccount.objects.filter(branch=branch, status="active").order_by("id"),
                                     "number")},
        "complaints": {"number": first(Complaint.objects.filter(branch=branch).order_by("id"), "number")},
        "service-requests": {"number": first(ServiceRequest.objects.filter(branch=branch).order_by("id"), "number")},
        "approvals": {"approval_id": first(Approval.objects.filter(branch=branch, status="pending").order_by("id"),
                                           "public_id")},
        "floor": {"approval_id": first(Approval.objects.filter(branch=branch, status="pending").order_by("-id"),
                                       "public_id"),
                  "ticket_id": first(Ticket.objects.filter(branch=branch).order_by("id"), "public_id")},
        "teller": {"reference": first(CashOperation.objects.order_by("id"), "reference"),
                   "transfer_id": first(VaultTransfer.objects.order_by("-id"), "public_id")},
        "branches": {"code": branch.code},
    }
    return {segment: {k: v for k, v in values.items() if v} for segment, values in ids.items()}


def _strategies(operation, known: dict):
    """Random valid data, random invalid data, and valid data on the branch's real objects."""
    strategies = [operation.as_strategy(), operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)]
    names = {p.name for p in operation.path_parameters}
    if names:
        segment = operation.path.removeprefix("/api/v1/").split("/", 1)[0]
        values = {name: known.get(segment, {}).get(name) for name in names}
        if all(values.values()):
            strategies.append(operation.as_strategy(path_parameters=values))
    return st.one_of(strategies)


def _fuzz_operation(operation, headers: dict, known: dict) -> str | None:
    """Run the bounded fuzz of one operation; the failure text, or None."""
    failures: list[str] = []

    @hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=_strategies(operation, known))
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


#: the operations are fuzzed in this many slices per role, each a test of its own: a test's
#: transaction stays short (it holds the event feed's horizon back for the whole cluster,
#: which other workers' webhook tests wait for), and xdist spreads the slices
SLICES = 4


@pytest.mark.parametrize("part", range(SLICES))
@pytest.mark.parametrize("role", ["teller", "csr", "coordinator", "supervisor"])
def test_every_operation_answers_as_documented_for_each_role(openapi, role, part, staff, branch,
                                                             _keep_test_connection):
    make_every_kind(staff, branch)  # a branch with drawers, requests, complaints and approvals in every state
    known = _known_ids(branch)
    headers = {"Authorization": f"Bearer {_token_for(staff[role])}"}
    started = time.monotonic()
    failures = []
    operations = sorted((result.ok() for result in openapi.get_all_operations()), key=lambda op: op.label)
    for operation in operations[part::SLICES]:
        failure = _fuzz_operation(operation, headers, known)
        if failure:
            failures.append(f"{operation.label}: {failure}")
        if not _transaction_usable():
            failures.append(f"{operation.label}: a database error aborted the test's transaction (a 500 while "
                            "streaming a body?); the operations after it were not fuzzed")
            break
    elapsed = time.monotonic() - started
    assert not failures, f"{len(failures)} operation(s) failed as {role} ({elapsed:.0f} s):\n\n" + "\n\n".join(failures)
