"""The OpenAPI document as a contract: every operation has a response schema and documents
its problem responses; every creating or money-moving POST documents Idempotency-Key; every
list follows the one list convention (cursor pages, django-filter filters)."""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

#: POSTs that neither create nor move money: a state transition that a repeat cannot do
#: twice (the state machine refuses it, or it is already in the state asked for).
NOT_CREATING = {
    "/api/v1/approvals/{approval_id}/cancel/",
    "/api/v1/complaints/{number}/acknowledge/", "/api/v1/complaints/{number}/close/",
    "/api/v1/complaints/{number}/decide/", "/api/v1/complaints/{number}/escalate/",
    "/api/v1/complaints/{number}/extend/", "/api/v1/complaints/{number}/follow-up/",
    "/api/v1/complaints/{number}/handover/", "/api/v1/complaints/{number}/reopen/",
    "/api/v1/floor/lobby/counter/sign-in/", "/api/v1/floor/lobby/counter/sign-out/",
    "/api/v1/floor/lobby/tickets/{ticket_id}/call/", "/api/v1/floor/lobby/tickets/{ticket_id}/done/",
    "/api/v1/floor/lobby/tickets/{ticket_id}/no-show/", "/api/v1/floor/lobby/tickets/{ticket_id}/recall/",
    "/api/v1/floor/lobby/tickets/{ticket_id}/start/",
    "/api/v1/service-requests/{number}/advance-cheque-book/", "/api/v1/service-requests/{number}/cancel/",
    "/api/v1/service-requests/{number}/claim/", "/api/v1/service-requests/{number}/start/",
    "/api/v1/service-requests/{number}/submit/",
    "/api/v1/tokens/{token_id}/revoke/", "/api/v1/webhooks/{subscription_id}/deactivate/",
    "/api/v1/webhook-deliveries/{delivery_id}/redeliver/",
}
#: lists with a cursor of their own (a gap-free feed, a statement with running balances), a
#: ranked search, or a small fixed set; docs/api.md says why
NOT_CURSOR_PAGED = {
    "/api/v1/events/", "/api/v1/accounts/{number}/statement/", "/api/v1/customers/",
    "/api/v1/teller/rates/", "/api/v1/customers/{number}/offers/",
}


@pytest.fixture(scope="module")
def document():
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_every_operation_has_a_success_response_with_a_schema(document):
    missing = []
    for path, method, operation in _operations(document):
        successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        if not successes:
            missing.append(f"{method.upper()} {path}: no 2xx response")
        for code, response in successes.items():
            if code == "204":
                continue
            content = response.get("content") or {}
            if not content or not all(media.get("schema") for media in content.values()):
                missing.append(f"{method.upper()} {path}: {code} without a schema")
    assert missing == []


def test_every_write_with_a_body_documents_its_request_schema(document):
    missing = [f"{m.upper()} {p}" for p, m, op in _operations(document)
               if m in {"put", "patch"} and not op.get("requestBody")]
    assert missing == []


def test_every_operation_documents_its_problem_responses(document):
    missing = []
    for path, method, operation in _operations(document):
        wanted = {"400", "401", "403", "404", "429"} | ({"409"} if method != "get" else set())
        for code in sorted(wanted - set(operation["responses"])):
            missing.append(f"{method.upper()} {path}: {code}")
        for code in wanted & set(operation["responses"]):
            content = operation["responses"][code]["content"]
            assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert missing == []


def test_every_creating_or_money_moving_post_documents_idempotency_key(document):
    missing = []
    for path, method, operation in _operations(document):
        if method != "post" or path in NOT_CREATING:
            continue
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == "Idempotency-Key"]
        if not headers:
            missing.append(path)
    assert missing == []


def test_the_exemptions_name_real_operations(document):
    posts = {p for p, m, _ in _operations(document) if m == "post"}
    gets = {p for p, m, _ in _operations(document) if m == "get"}
    assert NOT_CREATING <= posts
    assert NOT_CURSOR_PAGED <= gets


def test_every_list_is_cursor_paged_with_limit(document):
    """A GET whose answer is a list of things answers a page: {next, previous, results}, with
    the cursor and limit parameters."""
    wrong = []
    for path, method, operation in _operations(document):
        if method != "get" or path in NOT_CURSOR_PAGED:
            continue
        schema = operation["responses"]["200"]["content"].get("application/json", {}).get("schema", {})
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        if schema.get("type") == "array":
            wrong.append(f"{path}: a bare array")
        elif "results" in schema.get("properties", {}):
            names = {p["name"] for p in operation.get("parameters", [])}
            if not {"cursor", "limit"} <= names:
                wrong.append(f"{path}: paged without cursor/limit parameters")
    assert wrong == []


def test_the_main_operations_have_examples(document):
    main = [("post", "/api/v1/transfers/"), ("post", "/api/v1/customers/"), ("post", "/api/v1/teller/deposits/"),
            ("post", "/api/v1/teller/withdrawals/"), ("post", "/api/v1/service-requests/"),
            ("post", "/api/v1/complaints/"), ("post", "/api/v1/accounts/opening-requests/"),
            ("post", "/api/v1/teller/payments/"), ("post", "/api/v1/webhooks/"),
            ("post", "/api/v1/teller/vault-transfers/"), ("post", "/api/v1/teller/quotes/")]
    without = [f"{m.upper()} {p}" for m, p in main
               if not document["paths"][p][m]["requestBody"]["content"]["application/json"].get("examples")]
    assert without == []
