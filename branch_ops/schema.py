"""OpenAPI descriptions of our authentication classes (drf-spectacular extensions)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "branch_ops.api_auth.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token of a staff user or service account: `Authorization: Bearer bo_...`",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "branch_ops.api_auth.StaffSessionAuthentication"
    name = "sessionCookie"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid",
                "description": "The browser session of a signed-in staff member (CSRF token required on writes)."}


# --- problem documents on every operation ------------------------------------------------------------

PROBLEM_COMPONENT = {
    "type": "object",
    "description": "An RFC 7807 problem document: every error of the API has this shape "
                   "(`application/problem+json`). Branch on `code`; show `detail` (in the caller's language).",
    "properties": {
        "type": {"type": "string", "example": "urn:branch-ops:problem:insufficient-funds"},
        "title": {"type": "string", "example": "Bad request"},
        "status": {"type": "integer", "example": 400},
        "detail": {"type": "string", "example": "The available balance is not enough."},
        "code": {"type": "string", "description": "stable error code (see docs/api.md for the list per app)",
                 "example": "INSUFFICIENT_FUNDS"},
        "errors": {"type": "array", "items": {
            "type": "object",
            "properties": {"field": {"type": "string", "nullable": True}, "message": {"type": "string"},
                           "code": {"type": "string"}},
            "required": ["field", "message", "code"],
        }},
        "request_id": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail", "code", "errors", "request_id"],
    "additionalProperties": True,
}

#: status -> (description, example code, example detail)
PROBLEMS = {
    400: ("The request is not valid: VALIDATION_FAILED (field errors in `errors`), MALFORMED_REQUEST, "
          "INVALID_FILTER, INVALID_CURSOR, IDEMPOTENCY_KEY_REQUIRED, IDEMPOTENCY_KEY_INVALID, or a business rule "
          "of the operation (INSUFFICIENT_FUNDS, DRAWER_NOT_OPEN, TOO_MANY_DECIMALS, ...).",
          "VALIDATION_FAILED", "Some fields are not valid."),
    401: ("No valid credentials: NOT_AUTHENTICATED, AUTHENTICATION_FAILED (unknown, expired or revoked token).",
          "NOT_AUTHENTICATED", "Authentication credentials were not provided."),
    403: ("The caller may not do this: NOT_STAFF, ROLE_NOT_ALLOWED, OWN_REQUEST (nobody approves their own work), "
          "or a rule of the operation.", "ROLE_NOT_ALLOWED", "Your role does not allow this."),
    404: ("Not found, or of another branch (the same answer, so ids cannot be probed): NOT_FOUND, "
          "CUSTOMER_NOT_FOUND, ACCOUNT_NOT_FOUND, APPROVAL_NOT_FOUND, ...", "NOT_FOUND", "Not found."),
    409: ("The state does not allow it: IDEMPOTENCY_KEY_REUSED (the same key with another body), "
          "APPROVAL_ALREADY_DECIDED, a state-machine conflict of the operation, ...",
          "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used for a different request."),
    429: ("Over the token's rate limit: RATE_LIMITED (see Retry-After).", "RATE_LIMITED",
          "Request was throttled."),
}
WRITE_ONLY_PROBLEMS = {409}


def _problem_response(status: int) -> dict:
    description, code, detail = PROBLEMS[status]
    return {
        "description": description,
        "content": {"application/problem+json": {
            "schema": {"$ref": "#/components/schemas/Problem"},
            "examples": {code: {"value": {
                "type": f"urn:branch-ops:problem:{code.lower().replace('_', '-')}", "title": "", "status": status,
                "detail": detail, "code": code, "errors": [], "request_id": "9f1c2d3e4b5a6978"}}},
        }},
    }


def problem_responses_hook(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents its problem responses
    (400, 401, 403, 404, 429; 409 on writes), all with the one ``Problem`` schema."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_COMPONENT
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status in PROBLEMS:
                if status in WRITE_ONLY_PROBLEMS and method == "get":
                    continue
                responses.setdefault(str(status), _problem_response(status))
    return result
