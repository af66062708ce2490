"""Role × URL × branch matrix over EVERY route Django resolves (screens and /api/v1/).

For each route the table below declares, per HTTP method, exactly which roles may use it.
The test calls each route as each role of the branch (DXB01), as nobody, and — for routes
that name an object of the branch — as the same role of another branch (MIL01), and
asserts:

- an allowed role is let in (not 401/403/404, not sent to sign in);
- any other role is refused (403, or 404 for an object it may not even know about), and the
  database did not change (row counts of the main tables, audit and outbox included);
- nobody signed in is sent to the login page (screens) or gets 401 (API);
- staff of another branch get 404 for this branch's objects, as for ids that do not exist.

A route missing from the table fails ``test_every_route_is_declared``: a new endpoint
cannot slip in without someone deciding who may call it. To add one, add a line to
``ROUTES``: the route as Django prints it, a URL with ``{placeholders}`` from ``WORLD_KEYS``,
and the roles per method (``PUBLIC`` for routes anyone may call).

The world is the demo seed (``seed_demo``: both branches, every kind of object, made through
the real services), built once per test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

T, C, K, S = "teller", "csr", "coordinator", "supervisor"
ROLES = (T, C, K, S)
ALL = frozenset(ROLES)
DESK = frozenset({C, K, S})
LEADS = frozenset({K, S})
SUP = frozenset({S})
TELLER = frozenset({T})
NOBODY = frozenset()
#: anyone, signed in or not (sign-in page, health, the lobby kiosk and display)
PUBLIC = "public"


@dataclass(frozen=True)
class Route:
    pattern: str          #: as the resolver prints it (see ``_walk``)
    url: str              #: with {placeholders} filled from the world
    methods: dict = field(default_factory=dict)  #: method -> roles allowed (or PUBLIC)
    branch_object: bool = False  #: names an object of the branch: other branches get 404
    body: dict | None = None     #: what to POST (default: an empty form / JSON object); {placeholders} filled
    #: an allowed role may still be refused (403) by the object's owner or state rule (e.g. only
    #: the one who claimed a request starts it): the app's own tests cover that rule
    owner_rule: bool = False
    #: the actor must be signed in at a lobby counter first: without that, 409 before the
    #: ticket is even looked up (so it tells nothing about another branch's tickets)
    counter_first: bool = False


def R(pattern, url=None, *, branch_object=False, body=None, owner_rule=False, counter_first=False, **methods):
    return Route(pattern, url if url is not None else "/" + pattern, methods, branch_object, body, owner_rule,
                 counter_first)


COMPLAINT_ACTION_BODY = {"text": "matrix", "reason": "matrix", "to": "csr.dxb", "decision": "upheld",
                         "final_response": "matrix", "satisfaction": 4, "comment": "matrix",
                         "amount": {"amount": 1000, "currency": "AED"}}


ROUTES: list[Route] = [
    # --- sign-in, language, health, docs --------------------------------------------------------
    R("", GET=ALL),
    R("login/", GET=PUBLIC),
    R("favicon.ico", GET=PUBLIC),
    R("login/code/", GET=PUBLIC),
    R("login/two-factor-setup/", GET=PUBLIC),
    R("reauthenticate/", GET=ALL),
    # backup codes: only for two-factor roles; a new set (POST) needs a recent re-authentication
    R("two-factor/backup-codes/", GET=SUP, POST=SUP),
    R("logout/", POST=PUBLIC),
    R("i18n/setlang/", POST=PUBLIC),
    R("healthz", GET=PUBLIC),
    R("health/live", GET=PUBLIC),
    R("health/ready", GET=PUBLIC),
    R("metrics", GET=PUBLIC),
    R("api/docs/", GET=ALL),
    R("api/v1/schema/", GET=ALL),
    R("admin/login/", GET=PUBLIC),
    # --- the floor: approvals, board, audit, report -----------------------------------------------
    R("floor/inbox/", GET=ALL),
    R("approvals/", GET=ALL),
    R("floor/inbox/<uuid:approval_id>/decide/", "/floor/inbox/{approval}/decide/", POST=SUP, branch_object=True,
      body={"decision": "reject", "reason": "matrix"}),
    # the requester (the CSR) may withdraw it, a supervisor decide it (an account opening: four eyes)
    R("approvals/<uuid:approval_id>/", "/approvals/{approval2}/", GET=DESK, POST=SUP, branch_object=True,
      body={"decision": "reject", "reason": "matrix"}),
    R("approvals/<uuid:approval_id>/status/", "/approvals/{approval}/status/", GET=DESK, branch_object=True),
    R("floor/board/", GET=LEADS),
    R("floor/audit/", GET=SUP),
    R("audit/", GET=SUP),
    R("floor/report/", GET=SUP),
    R("floor/customers/<str:customer_number>/complaints/", "/floor/customers/{customer}/complaints/", GET=ALL),
    # --- customers and accounts (the bank's: any branch may serve them) --------------------------
    R("customers/", GET=ALL),
    R("customers/search/", "/customers/search/?q=Fatima", GET=ALL),
    R("customers/new/", GET=DESK, POST=DESK),
    R("customers/<str:number>/", "/customers/{customer}/", GET=ALL),
    R("customers/<str:number>/edit/", "/customers/{customer}/edit/", GET=DESK, POST=DESK),
    R("customers/<str:number>/signature/", "/customers/{customer}/signature/", GET=ALL),
    R("customers/<str:number>/signature/new/", "/customers/{customer}/signature/new/", POST=DESK),
    R("customers/<str:number>/accounts/new/", "/customers/{customer}/accounts/new/", GET=DESK, POST=DESK),
    R("accounts/<str:number>/", "/accounts/{account}/", GET=ALL),
    R("accounts/<str:number>/status/", "/accounts/{account}/status/", POST=DESK),
    R("transfers/new/", GET={T, C, K}, POST={T, C, K}),
    # --- the cash window ---------------------------------------------------------------------------
    R("teller/", GET=TELLER),
    R("teller/find/", "/teller/find/?q=Fatima", GET=TELLER),
    R("teller/operations/", GET=TELLER),
    R("teller/operations/<str:reference>/reverse/", "/teller/operations/{operation}/reverse/", POST=TELLER,
      branch_object=True, body={"reason": "matrix"}),
    R("teller/deposits/", POST=TELLER),
    R("teller/withdrawals/", POST=TELLER),
    R("teller/exchange/", GET=TELLER, POST=TELLER),
    R("teller/exchange/post/", POST=TELLER, body={"quote": "{quote}"}),
    R("teller/exchange/notes-in/", "/teller/exchange/notes-in/?quote={quote}", GET=TELLER),
    R("teller/rates/", GET={T, S}, POST=SUP),
    R("teller/payments/new/", GET={T, C, K}, POST={T, C, K}),
    R("teller/payments/<str:reference>/", "/teller/payments/{payment}/", GET={T, C, K}, branch_object=True),
    R("teller/receipts/<str:reference>/", "/teller/receipts/{operation}/", GET=TELLER, branch_object=True),
    R("teller/open/", GET=TELLER, POST=TELLER),
    R("teller/close/", GET=TELLER, POST=TELLER),
    R("teller/vault/", GET=TELLER, POST=TELLER),
    R("teller/vault/pending/", GET=SUP),
    R("teller/vault/<uuid:transfer_id>/decide/", "/teller/vault/{vault_transfer}/decide/", POST=SUP, branch_object=True,
      body={"decision": "reject"}),
    R("teller/journal/", GET=TELLER),
    R("teller/alerts/", GET=LEADS),
    # --- the service desk ------------------------------------------------------------------------------
    R("desk/requests/", GET=DESK),
    R("desk/requests/<str:number>/", "/desk/requests/{request}/", GET=DESK, branch_object=True),
    R("desk/requests/<str:number>/claim/", "/desk/requests/{request}/claim/", POST=DESK, branch_object=True),
    R("desk/requests/<str:number>/start/", "/desk/requests/{request}/start/", POST=DESK, branch_object=True,
      owner_rule=True),
    R("desk/requests/<str:number>/fulfil/", "/desk/requests/{request}/fulfil/", POST=DESK, branch_object=True,
      owner_rule=True),
    R("desk/requests/<str:number>/cancel/", "/desk/requests/{request}/cancel/", POST=DESK, branch_object=True),
    R("desk/requests/<str:number>/cheque-book/", "/desk/requests/{request}/cheque-book/", POST=DESK,
      branch_object=True),
    R("desk/requests/<str:number>/statement/", "/desk/requests/{statement}/statement/", GET=DESK, branch_object=True),
    R("desk/requests/<str:number>/statement.pdf", "/desk/requests/{statement}/statement.pdf", GET=DESK,
      branch_object=True),
    R("desk/requests/<str:number>/statement.csv", "/desk/requests/{statement}/statement.csv", GET=DESK,
      branch_object=True),
    R("desk/account-opening/new-customer/", GET=DESK, POST=DESK),
    R("desk/customers/<str:customer_number>/", "/desk/customers/{customer}/", GET=DESK),
    R("desk/customers/<str:customer_number>/requests/new/", "/desk/customers/{customer}/requests/new/?kind=inquiry",
      GET=DESK, POST=DESK),
    # --- complaints --------------------------------------------------------------------------------------
    R("complaints/", GET=ALL),
    R("complaints/new/", GET=ALL, POST=ALL),
    R("complaints/report/", GET=SUP),
    # the world's complaint is the CSR's: a supervisor sees every complaint, others their own only
    R("complaints/<str:number>/", "/complaints/{complaint}/", GET={C, S}, branch_object=True),
    R("complaints/<str:number>/letter/", "/complaints/{complaint}/letter/", GET={C, S}, branch_object=True),
    R("^complaints/(?P<number>[^/]+)/(?P<action>acknowledge|handover|note|escalate|extend|decide|redress|close"
      "|follow\\-up|reopen)/$", "/complaints/{complaint}/note/", POST={C, S}, branch_object=True,
      body={"text": "matrix note"}),
    # --- the lobby ---------------------------------------------------------------------------------------
    R("floor/lobby/kiosk/<str:code>/", "/floor/lobby/kiosk/DXB01/", GET=PUBLIC),
    R("floor/lobby/kiosk/<str:code>/take/", "/floor/lobby/kiosk/DXB01/take/", POST=PUBLIC, body={"service": "cash"}),
    R("floor/lobby/kiosk/<str:code>/ticket/<uuid:ticket_id>/", "/floor/lobby/kiosk/DXB01/ticket/{ticket}/", GET=PUBLIC),
    R("floor/lobby/display/<str:code>/", "/floor/lobby/display/DXB01/", GET=PUBLIC),
    R("floor/lobby/display/<str:code>/board/", "/floor/lobby/display/DXB01/board/", GET=PUBLIC),
    R("floor/lobby/counter/", GET=ALL),
    R("floor/lobby/counter/panel/", GET=ALL),
    R("floor/lobby/counter/<str:action>/", "/floor/lobby/counter/sign-out/", POST=ALL),
    # --- API: platform ---------------------------------------------------------------------------------
    R("api/v1/me/", GET=ALL),
    R("api/v1/branches/<str:code>/", "/api/v1/branches/DXB01/", GET=ALL),
    R("api/v1/staff/", GET=LEADS),
    R("api/v1/approvals/", GET=ALL),
    R("api/v1/approvals/<str:approval_id>/", "/api/v1/approvals/{approval}/", GET=DESK, branch_object=True),
    R("api/v1/approvals/<str:approval_id>/approve/", "/api/v1/approvals/{approval}/approve/", POST=SUP,
      branch_object=True, body={"reason": "matrix"}),
    R("api/v1/approvals/<str:approval_id>/reject/", "/api/v1/approvals/{approval3}/reject/", POST=SUP,
      branch_object=True, body={"reason": "matrix"}),
    R("api/v1/approvals/<str:approval_id>/cancel/", "/api/v1/approvals/{approval}/cancel/", POST={C},
      branch_object=True),
    R("api/v1/audit/events/", GET=SUP),
    R("api/v1/audit/verification/", GET=SUP),
    R("api/v1/events/", GET=SUP),
    R("api/v1/service-accounts/", GET=SUP, POST=SUP),
    R("api/v1/tokens/", GET=SUP, POST=SUP),
    R("api/v1/tokens/<uuid:token_id>/revoke/", "/api/v1/tokens/{token}/revoke/", POST=SUP, branch_object=True),
    R("api/v1/tokens/<uuid:token_id>/rotate/", "/api/v1/tokens/{token}/rotate/", POST=SUP, branch_object=True),
    R("api/v1/webhooks/", GET=SUP, POST=SUP),
    R("api/v1/webhooks/<uuid:subscription_id>/", "/api/v1/webhooks/{webhook}/", GET=SUP, branch_object=True),
    R("api/v1/webhooks/<uuid:subscription_id>/rotate-secret/", "/api/v1/webhooks/{webhook}/rotate-secret/",
      POST=SUP, branch_object=True),
    R("api/v1/webhooks/<uuid:subscription_id>/deactivate/", "/api/v1/webhooks/{webhook}/deactivate/", POST=SUP,
      branch_object=True),
    R("api/v1/webhooks/<uuid:subscription_id>/deliveries/", "/api/v1/webhooks/{webhook}/deliveries/", GET=SUP,
      branch_object=True),
    R("api/v1/webhook-deliveries/<uuid:delivery_id>/redeliver/", "/api/v1/webhook-deliveries/{delivery}/redeliver/",
      POST=SUP, branch_object=True),
    # --- API: customers and accounts -----------------------------------------------------------------
    R("api/v1/customers/", GET=ALL, POST=DESK),
    R("api/v1/customers/<str:number>/", "/api/v1/customers/{customer}/", GET=ALL, PATCH=DESK),
    R("api/v1/customers/<str:number>/signature/", "/api/v1/customers/{customer}/signature/", GET=ALL, POST=DESK),
    R("api/v1/accounts/opening-requests/", POST=DESK),
    R("api/v1/accounts/<str:number>/", "/api/v1/accounts/{account}/", GET=ALL),
    R("api/v1/accounts/<str:number>/balance/", "/api/v1/accounts/{account}/balance/", GET=ALL),
    R("api/v1/accounts/<str:number>/statement/", "/api/v1/accounts/{account}/statement/", GET=ALL),
    R("api/v1/accounts/<str:number>/freeze-requests/", "/api/v1/accounts/{account}/freeze-requests/", POST=DESK),
    R("api/v1/accounts/<str:number>/unfreeze-requests/", "/api/v1/accounts/{account}/unfreeze-requests/", POST=DESK),
    R("api/v1/accounts/<str:number>/close-requests/", "/api/v1/accounts/{account}/close-requests/", POST=DESK),
    R("api/v1/transfers/", POST={T, C, K}),
    # --- API: the cash window --------------------------------------------------------------------------
    R("api/v1/teller/session/", GET=TELLER),
    R("api/v1/teller/session/open/", POST=TELLER),
    R("api/v1/teller/session/close/", POST=TELLER),
    R("api/v1/teller/journal/", GET=TELLER),
    R("api/v1/teller/vault-transfers/", GET={T, S}, POST=TELLER),
    R("api/v1/teller/alerts/", GET=LEADS),
    R("api/v1/teller/vault-transfers/<uuid:transfer_id>/confirm/", "/api/v1/teller/vault-transfers/{vault_transfer}/confirm/",
      POST=SUP, branch_object=True),
    R("api/v1/teller/vault-transfers/<uuid:transfer_id>/reject/", "/api/v1/teller/vault-transfers/{vault_transfer}/reject/",
      POST=SUP, branch_object=True),
    R("api/v1/teller/deposits/", POST=TELLER),
    R("api/v1/teller/withdrawals/", POST=TELLER),
    R("api/v1/teller/operations/<str:reference>/", "/api/v1/teller/operations/{operation}/", GET=TELLER,
      branch_object=True),
    R("api/v1/teller/operations/<str:reference>/reversal-requests/",
      "/api/v1/teller/operations/{operation}/reversal-requests/", POST=TELLER, branch_object=True,
      body={"reason": "matrix"}),
    R("api/v1/teller/rates/", GET={T, S}, POST=SUP),
    R("api/v1/teller/quotes/", POST=TELLER),
    R("api/v1/teller/exchanges/", POST=TELLER),
    R("api/v1/teller/payments/", POST={T, C, K}),
    # --- API: the service desk ---------------------------------------------------------------------------
    R("api/v1/service-requests/", GET=DESK, POST=DESK),
    R("api/v1/service-requests/<str:number>/", "/api/v1/service-requests/{request}/", GET=DESK, branch_object=True),
    R("api/v1/service-requests/<str:number>/statement.csv", "/api/v1/service-requests/{statement}/statement.csv",
      GET=DESK, branch_object=True),
    R("api/v1/service-requests/<str:number>/statement.pdf", "/api/v1/service-requests/{statement}/statement.pdf",
      GET=DESK, branch_object=True),
    R("api/v1/customers/<str:number>/offers/", "/api/v1/customers/{customer}/offers/", GET=DESK, POST=DESK,
      body={"offer": "matrix-offer", "outcome": "offered"}),
    *[R(f"api/v1/service-requests/<str:number>/{action}/", f"/api/v1/service-requests/{{request}}/{action}/",
        POST=DESK, branch_object=True, body={"reason": "matrix"}, owner_rule=action in ("start", "fulfil"))
      for action in ("submit", "claim", "start", "fulfil", "cancel", "advance-cheque-book")],
    # --- API: complaints ------------------------------------------------------------------------------------
    R("api/v1/complaints/", GET=ALL, POST=ALL),
    R("api/v1/complaints/report/", GET=SUP),
    R("api/v1/complaints/<str:number>/", "/api/v1/complaints/{complaint}/", GET={C, S}, branch_object=True),
    R("api/v1/complaints/<str:number>/letter/", "/api/v1/complaints/{complaint}/letter/", GET={C, S},
      branch_object=True),
    # the owner (the CSR) and a supervisor act on it; which of them may take each step is the
    # complaint's own rule (tests/complaints)
    *[R(f"api/v1/complaints/<str:number>/{action}/", f"/api/v1/complaints/{{complaint}}/{action}/",
        POST={C, S}, branch_object=True, owner_rule=True, body=COMPLAINT_ACTION_BODY)
      for action in ("acknowledge", "handover", "note", "escalate", "extend", "decide", "redress", "close",
                     "follow-up", "reopen")],
    # --- API: the lobby and the floor ----------------------------------------------------------------------
    R("api/v1/floor/lobby/tickets/", GET=ALL, POST=ALL),
    R("api/v1/floor/lobby/call-next/", POST=ALL),
    R("api/v1/floor/lobby/counter/sign-in/", POST=ALL),
    R("api/v1/floor/lobby/counter/sign-out/", POST=ALL),
    R("api/v1/floor/lobby/summary/", GET=ALL),
    *[R(f"api/v1/floor/lobby/tickets/<str:ticket_id>/{action}/", f"/api/v1/floor/lobby/tickets/{{ticket}}/{action}/",
        POST=ALL, branch_object=True, counter_first=True)
      for action in ("call", "recall", "start", "no-show", "done")],
    R("api/v1/floor/inbox/", GET=ALL),
    R("api/v1/floor/inbox/<str:approval_id>/decide/", "/api/v1/floor/inbox/{approval4}/decide/", POST=SUP,
      branch_object=True, body={"decision": "reject", "reason": "matrix"}),
    R("api/v1/floor/board/", GET=LEADS),
    R("api/v1/floor/audit/events/", GET=SUP),
    R("api/v1/floor/audit/events.csv", GET=SUP),
    R("api/v1/floor/report/", GET=SUP),
    R("api/v1/floor/report.csv", GET=SUP),
]

#: the Django admin: its own staff-only site (superusers), checked by test_the_admin_is_for_superusers_only
ADMIN_PREFIX = "admin/"


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def all_routes() -> list[str]:
    return [r for r in _walk(get_resolver().url_patterns) if not r.startswith(ADMIN_PREFIX) or r == "admin/login/"]


def test_every_route_is_declared():
    declared = [r.pattern for r in ROUTES]
    assert len(declared) == len(set(declared)), "a route is declared twice"
    undeclared = sorted(set(all_routes()) - set(declared))
    assert undeclared == [], ("routes nobody decided who may call; declare them in ROUTES "
                              f"(tests/test_url_matrix.py): {undeclared}")
    assert sorted(set(declared) - set(all_routes())) == [], "ROUTES names routes that no longer exist"


def _views():
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p.callback
    return dict(walk(get_resolver().url_patterns))


def test_every_method_of_a_class_based_view_is_declared():
    """An API view that grows a PUT or DELETE must say who may call it."""
    views = _views()
    missing = {}
    for route in ROUTES:
        view_class = getattr(views[route.pattern], "view_class", None)
        if view_class is None or not route.pattern.startswith("api/v1/") or route.pattern == "api/v1/schema/":
            continue
        implemented = {m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)}
        if implemented != set(route.methods):
            missing[route.pattern] = sorted(implemented ^ set(route.methods))
    assert missing == {}


# --- the world: the demo seed, plus what it has no example of -------------------------------------------

#: the objects URLs name ({placeholders}); all of branch DXB01
WORLD_KEYS = ("quote", "approval", "approval2", "approval3", "approval4", "customer", "account", "request",
              "statement", "complaint", "operation", "payment", "vault_transfer", "ticket", "token", "webhook",
              "delivery")


def _build_world() -> dict:
    from accounts.models import BankAccount
    from accounts.services import account_open_request
    from branch_ops.demo import seed_demo
    from branch_ops.floor.lobby.models import Ticket
    from branch_ops.models import Approval, Branch, OutboxEvent, WebhookDelivery
    from branch_ops.services import api_token_issue, service_account_create
    from branch_ops.webhooks import webhook_subscription_create
    from complaints.models import Complaint
    from customer_service.models import ServiceRequest
    from teller.models import CashOperation, OutgoingPayment, VaultTransfer

    seed_demo()
    from customer_service.models import ProductOffer

    ProductOffer.objects.get_or_create(code="matrix-offer", defaults={"name": "Matrix", "pitch": "-", "conditions": {}})
    dxb = Branch.objects.get(code="DXB01")
    users = {role: _user(f"{prefix}.dxb") for role, prefix in PREFIX.items()}
    service_account_create(actor=users[S], username="core.dxb", role=T)
    token, _raw = api_token_issue(actor=users[S], username="core.dxb", name="matrix")
    webhook, _secret = webhook_subscription_create(actor=users[S], url="https://hooks.example.com/in",
                                                   event_types=["*"])
    from branch_ops.money import Money
    from teller.services.exchange import exchange_quote
    from teller.services.payments import outgoing_payment_post

    paying = BankAccount.objects.filter(customer__number="C0000101", status="active", currency_id="AED")[0]
    outgoing_payment_post(actor=users[T], account_number=paying.number, amount=Money(1000, "AED"),
                          beneficiary_name="Matrix Test", iban="DE89370400440532013000", bic="COBADEFFXXX")
    event = OutboxEvent.objects.filter(branch=dxb).order_by("pk").last()
    delivery = WebhookDelivery.objects.create(subscription=webhook, event=event, txid=event.txid,
                                              event_seq=event.pk, status="failed")
    return {
        "approval": Approval.objects.filter(branch=dxb, status="pending").order_by("pk").first().public_id,
        "customer": "C0000101",
        "account": BankAccount.objects.filter(customer__number="C0000101", status="active").order_by("pk")[0].number,
        "request": ServiceRequest.objects.filter(branch=dxb, kind="inquiry").order_by("pk")[0].number,
        "statement": ServiceRequest.objects.filter(branch=dxb, kind="statement").order_by("pk")[0].number,
        "complaint": Complaint.objects.filter(branch=dxb).order_by("pk")[0].number,
        "operation": CashOperation.objects.filter(session__drawer__branch=dxb, kind="deposit").order_by("pk")[0].reference,
        "payment": OutgoingPayment.objects.filter(branch=dxb).order_by("pk")[0].reference,
        "vault_transfer": VaultTransfer.objects.filter(session__drawer__branch=dxb).order_by("pk")[0].public_id,
        "ticket": Ticket.objects.filter(branch=dxb).order_by("pk")[0].public_id,
        "token": token.public_id,
        **{key: Approval.objects.get(subject_id=str(account_open_request(
            actor=users[C], customer_number=number, product="savings", currency=currency).public_id)).public_id
           for key, number, currency in (("approval2", "C0000102", "AED"), ("approval3", "C0000103", "AED"),
                                         ("approval4", "C0000102", "USD"))},
        "quote": exchange_quote(actor=users[T], from_currency="USD", to_currency="AED",
                                from_amount=Money(10000, "USD")).public_id,
        "webhook": webhook.public_id,
        "delivery": delivery.public_id,
    }


PREFIX = {T: "teller", C: "csr", K: "coord", S: "super"}


def _user(username):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


#: the tables whose row counts must not move when a call is refused (audit and outbox catch
#: every change a service makes, since each writes both)
STATE_TABLES = (
    "branch_ops_auditevent", "branch_ops_outboxevent", "branch_ops_approval", "branch_ops_apitoken",
    "branch_ops_staffprofile", "branch_ops_idempotencyrecord", "branch_ops_webhooksubscription",
    "branch_ops_webhookdelivery", "accounts_customer", "accounts_bankaccount", "accounts_ledgerentry",
    "customer_service_servicerequest", "customer_service_requesttransition", "complaints_complaint",
    "complaints_complaintentry", "teller_cashoperation", "teller_vaulttransfer", "teller_outgoingpayment",
    "lobby_ticket", "auth_user",
)


def _state() -> tuple:
    with connection.cursor() as cur:
        cur.execute(" UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in STATE_TABLES))
        return tuple(cur.fetchall())


def _call(client, method, url, body, *, api):
    kwargs = {"HTTP_IDEMPOTENCY_KEY": __import__("uuid").uuid4().hex, "REMOTE_ADDR": "127.0.0.1"}
    if method == "GET":
        return client.get(url, **kwargs)
    if api:
        return getattr(client, method.lower())(url, body or {}, content_type="application/json", **kwargs)
    return getattr(client, method.lower())(url, body or {}, **kwargs)


def _signed_out(response, *, api) -> bool:
    if api:
        return response.status_code == 401
    return response.status_code == 302 and response["Location"].startswith("/login/")


def _run_matrix(routes: list[Route]) -> list[str]:
    """Call every route as every role, nobody and the other branch; return what went wrong."""
    world = _build_world()
    clients = {}
    for role, prefix in PREFIX.items():
        for suffix in ("dxb", "mil"):
            client = Client()
            client.force_login(_user(f"{prefix}.{suffix}"))
            clients[role, suffix] = client
    problems = []
    for route in routes:
        url = route.url.format(**world)
        api = url.startswith("/api/")
        for method, allowed in route.methods.items():
            refused = NOBODY if allowed == PUBLIC else ALL - allowed
            calls = [(role, "dxb") for role in sorted(refused)]
            calls += [(role, "dxb") for role in sorted(ALL - refused)]
            if route.branch_object and allowed != PUBLIC:
                calls += [(role, "mil") for role in sorted(allowed)]
            calls.append((None, None))
            for role, suffix in calls:
                client = Client() if role is None or route.pattern == "logout/" else clients[role, suffix]
                if role is not None and route.pattern == "logout/":
                    client.force_login(_user(f"{PREFIX[role]}.{suffix}"))
                before = _state()
                body = {k: (v.format(**world) if isinstance(v, str) else v) for k, v in (route.body or {}).items()}
                response = _call(client, method, url, body, api=api)
                status = response.status_code
                who = f"{method} {url} as {role or 'nobody'}{'@' + suffix if suffix == 'mil' else ''}"
                if role is None:
                    if allowed != PUBLIC and not _signed_out(response, api=api):
                        problems.append(f"{who}: {status}, expected {'401' if api else 'redirect to login'}")
                    elif allowed != PUBLIC and _state() != before:
                        problems.append(f"{who}: refused but the database changed")
                elif suffix == "mil":
                    # 403 only where the role is refused before any lookup (it tells nothing either)
                    if status != 404 and not (route.counter_first and status == 409) \
                            and not (route.owner_rule and status == 403):
                        problems.append(f"{who}: {status}, expected 404 (another branch's object)")
                    elif _state() != before:
                        problems.append(f"{who}: refused but the database changed")
                elif allowed == PUBLIC:
                    if status in (401, 403, 404, 405):
                        problems.append(f"{who}: {status}, expected to be let in (public)")
                elif role in allowed:
                    if status in (401, 404, 405) or (status == 403 and not route.owner_rule) or _signed_out(response, api=api):
                        problems.append(f"{who}: {status} {response.get('Location', '')}, expected to be let in")
                else:
                    if status not in (403, 404):
                        problems.append(f"{who}: {status}, expected 403/404")
                    elif _state() != before:
                        problems.append(f"{who}: refused but the database changed")
    return problems


#: the routes in chunks, one test (and one world) each: a test's transaction stays short, so
#: the event feed's horizon (the oldest running transaction) is not held back for long
CHUNK = 15
CHUNKS = [ROUTES[i:i + CHUNK] for i in range(0, len(ROUTES), CHUNK)]


@pytest.mark.django_db
@pytest.mark.parametrize("chunk", CHUNKS, ids=[f"{c[0].pattern or '/'}..{c[-1].pattern}"[:60] for c in CHUNKS])
def test_role_url_branch_matrix(chunk):
    problems = _run_matrix(chunk)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_the_admin_is_for_superusers_only(client, staff, role):
    """Every /admin/ route is Django's admin site: branch staff (never ``is_staff``) are sent
    to sign in, whatever they ask for, and change nothing there."""
    from django.contrib.auth import get_user_model

    client.force_login(staff[role])
    before = _state()
    for url in ("/admin/", "/admin/auth/user/", f"/admin/auth/user/{staff[role].pk}/change/",
                "/admin/branch_ops/apitoken/"):
        assert client.get(url)["Location"].startswith("/admin/login/?next="), url
    response = client.post(f"/admin/auth/user/{staff[role].pk}/change/", {"username": staff[role].username,
                                                                         "is_superuser": "on", "is_staff": "on"})
    assert response.status_code == 302
    assert _state() == before
    assert not get_user_model().objects.get(pk=staff[role].pk).is_superuser
