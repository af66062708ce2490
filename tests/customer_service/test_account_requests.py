"""Account opening and closing as desk requests: every path through the same services the
screen and the API use, the approval rules per role, and the bad input."""

import base64
import uuid

import pytest
from django.db import transaction

from accounts.ledger import hold_place
from accounts.models import BankAccount, Customer, LedgerAccount, SpecimenSignature
from branch_ops.approvals import approval_decide
from branch_ops.errors import ApplicationError
from branch_ops.models import Approval, AuditEvent, OutboxEvent
from branch_ops.money import Money
from customer_service.models import RequestTransition, ServiceRequest
from customer_service.services import request_cancel, request_claim, request_create, request_fulfil
from tests.accounts.conftest import fund, open_account
from tests.factories import CustomerFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def desk(staff):
    account = fund(open_account(staff["csr"], staff["supervisor"]), 50_000)
    return {"account": account, "customer": account.customer, **staff}


def _open(desk, actor="csr", customer=None, **overrides):
    data = {"identity_verified": True, "document_seen": "passport P1234567", "product": "savings",
            "currency": "AED", "signature": PNG, **overrides}
    return request_create(actor=desk[actor], kind="account_open",
                          customer_number=(customer or desk["customer"]).number, data=data)


def _close(desk, account, actor="csr", **data):
    return request_create(actor=desk[actor], kind="account_close", customer_number=account.customer.number,
                          account_number=account.number, data=data)


def _decide(sr, actor, approve=True, reason="checked"):
    approval = Approval.objects.get(subject_id=str(sr.public_id), status="pending")
    approval_decide(approval_id=approval.public_id, actor=actor, approve=approve, reason=reason)
    sr.refresh_from_db()
    return sr


def _statuses(sr):
    return list(RequestTransition.objects.filter(request=sr).values_list("to_status", flat=True))


def _balance(account):
    return LedgerAccount.objects.get(pk=account.ledger_id).balance


# --- opening --------------------------------------------------------------------------------------------

def test_opening_without_deposit_activates_the_account_on_approval(desk):
    sr = _open(desk)
    account = BankAccount.objects.get(pk=sr.account_id)
    assert (sr.status, account.status, account.product) == ("awaiting_approval", "pending", "savings")
    assert SpecimenSignature.objects.filter(customer=desk["customer"]).count() == 1
    assert sr.data["signature"] == "captured"
    _decide(sr, desk["supervisor"])
    account.refresh_from_db()
    assert account.status == "active"
    assert _statuses(sr) == ["draft", "submitted", "awaiting_approval", "approved", "fulfilled"]
    assert OutboxEvent.objects.filter(event_type="account.opened", payload__number=account.number).exists()
    # one approval only: the request's, not a second accounts approval
    assert Approval.objects.filter(subject_id=str(account.public_id)).count() == 0


def test_opening_with_a_transfer_deposit_posts_it_on_fulfilment(desk):
    sr = _open(desk, initial_deposit={"amount": 20_000, "source": "transfer", "from_account": desk["account"].number})
    _decide(sr, desk["supervisor"])
    assert sr.status == "approved"
    new = BankAccount.objects.get(pk=sr.account_id)
    assert new.status == "active" and _balance(new) == 0
    request_claim(actor=desk["csr"], number=sr.number)
    request_fulfil(actor=desk["csr"], number=sr.number)
    sr.refresh_from_db()
    assert sr.status == "fulfilled"
    assert (_balance(new), _balance(desk["account"])) == (20_000, 30_000)
    assert sr.data["deposit_transaction"]


def test_opening_with_a_cash_deposit_leaves_an_instruction_for_the_teller(desk):
    sr = _open(desk, initial_deposit={"amount": 10_000, "source": "cash"})
    _decide(sr, desk["supervisor"])
    request_claim(actor=desk["csr"], number=sr.number)
    request_fulfil(actor=desk["csr"], number=sr.number)
    sr.refresh_from_db()
    assert (sr.status, sr.data["cash_deposit_due"], _balance(sr.account)) == ("fulfilled", True, 0)


def test_opening_for_a_new_customer_registers_them_in_the_same_transaction(desk):
    sr = request_create(actor=desk["csr"], kind="account_open", customer_number="", data={
        "new_customer": {"full_name": "سارة الهاشمي", "document_type": "passport", "document_number": "x998877",
                         "document_country": "AE", "date_of_birth": "1990-04-01"},
        "identity_verified": True, "document_seen": "passport X998877", "product": "current", "currency": "AED",
        "signature": base64.b64encode(PNG).decode()})
    customer = Customer.objects.get(document_number="X998877")
    assert sr.customer_id == customer.pk and customer.full_name == "سارة الهاشمي"
    # a refused opening for another new customer leaves no customer behind
    with pytest.raises(ApplicationError) as err:
        request_create(actor=desk["csr"], kind="account_open", customer_number="", data={
            "new_customer": {"full_name": "Nobody", "document_number": "N1"}, "identity_verified": False,
            "document_seen": "x", "product": "current", "currency": "AED", "signature": PNG})
    assert err.value.code == "IDENTITY_NOT_VERIFIED"
    assert not Customer.objects.filter(document_number="N1").exists()


def test_a_rejected_opening_closes_the_pending_account_unused(desk):
    sr = _open(desk)
    _decide(sr, desk["supervisor"], approve=False, reason="documents unclear")
    assert sr.status == "rejected"
    assert BankAccount.objects.get(pk=sr.account_id).status == "closed"


def test_a_cancelled_opening_closes_the_pending_account_and_withdraws_the_approval(desk):
    sr = _open(desk)
    request_cancel(actor=desk["csr"], number=sr.number, reason="customer changed their mind")
    assert BankAccount.objects.get(pk=sr.account_id).status == "closed"
    assert Approval.objects.get(subject_id=str(sr.public_id)).status == "cancelled"


@pytest.mark.parametrize(("overrides", "code"), [
    ({"identity_verified": False}, "IDENTITY_NOT_VERIFIED"),
    ({"document_seen": " "}, "DOCUMENT_NOT_SEEN"),
    ({"product": "gold"}, "UNKNOWN_PRODUCT"),
    ({"currency": "XXX"}, "UNKNOWN_CURRENCY"),
    ({"signature": None}, "SIGNATURE_REQUIRED"),
    ({"signature": b"GIF89a"}, "INVALID_IMAGE"),
    ({"signature": "not base64!"}, "INVALID_IMAGE"),
    ({"initial_deposit": {"amount": 12.5, "source": "cash"}}, "INVALID_DEPOSIT"),
    ({"initial_deposit": {"amount": -1, "source": "cash"}}, "INVALID_DEPOSIT"),
    ({"initial_deposit": {"amount": 100, "source": "cheque"}}, "INVALID_DEPOSIT_SOURCE"),
    ({"initial_deposit": {"amount": 100, "source": "transfer", "from_account": "123"}}, "INVALID_ACCOUNT_NUMBER"),
])
def test_bad_opening_input_is_refused_and_nothing_is_written(desk, overrides, code):
    accounts, signatures = BankAccount.objects.count(), SpecimenSignature.objects.count()
    with pytest.raises(ApplicationError) as err:
        _open(desk, **overrides)
    assert err.value.code == code
    assert (ServiceRequest.objects.count(), BankAccount.objects.count(), SpecimenSignature.objects.count()) == (
        0, accounts, signatures)


def test_an_opening_with_an_existing_account_number_is_refused(desk):
    with pytest.raises(ApplicationError) as err:
        request_create(actor=desk["csr"], kind="account_open", customer_number=desk["customer"].number,
                       account_number=desk["account"].number, data={
                           "identity_verified": True, "document_seen": "p", "product": "current", "currency": "AED",
                           "signature": PNG})
    assert err.value.code == "ACCOUNT_NOT_EXPECTED"


def test_a_deposit_from_someone_elses_account_or_another_currency_is_refused(desk):
    stranger = open_account(desk["csr"], desk["supervisor"])
    usd = open_account(desk["csr"], desk["supervisor"], customer=desk["customer"], currency="USD")
    for source in (stranger, usd):
        with pytest.raises(ApplicationError) as err:
            _open(desk, initial_deposit={"amount": 100, "source": "transfer", "from_account": source.number})
        assert err.value.code == "INVALID_COUNTERPART_ACCOUNT"


def test_an_inactive_customer_cannot_open(desk):
    blocked = CustomerFactory(home_branch=desk["csr"].staff.branch, status="blocked")
    with pytest.raises(ApplicationError) as err:
        _open(desk, customer=blocked)
    assert err.value.code == "CUSTOMER_NOT_ACTIVE"


def test_an_existing_signature_on_file_is_enough(desk):
    _open(desk)
    sr = _open(desk, signature=None)
    assert sr.data["signature"] == "on_file"


def test_a_transfer_deposit_larger_than_the_source_balance_fails_at_fulfilment_and_changes_nothing(desk):
    sr = _open(desk, initial_deposit={"amount": 90_000, "source": "transfer", "from_account": desk["account"].number})
    _decide(sr, desk["supervisor"])
    request_claim(actor=desk["csr"], number=sr.number)
    with pytest.raises(ApplicationError) as err:
        request_fulfil(actor=desk["csr"], number=sr.number)
    assert err.value.code == "INSUFFICIENT_FUNDS"
    sr.refresh_from_db()
    assert sr.status == "approved" and _balance(desk["account"]) == 50_000


# --- approval rules per role ------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "decider", "outcome"), [
    ("account_open", "supervisor2", "ok"),
    ("account_open", "coordinator", "ROLE_NOT_ALLOWED"),
    ("account_open", "csr", "APPROVAL_NOT_FOUND"),
    ("account_open", "teller", "APPROVAL_NOT_FOUND"),
    ("account_open", "supervisor", "SELF_APPROVAL"),
    ("account_close", "supervisor2", "ok"),
    ("account_close", "coordinator", "ROLE_NOT_ALLOWED"),
    ("account_close", "csr", "APPROVAL_NOT_FOUND"),
    ("account_close", "supervisor", "SELF_APPROVAL"),
])
def test_account_requests_need_another_supervisor(desk, kind, decider, outcome):
    if kind == "account_open":
        sr = _open(desk, actor="supervisor")
    else:
        sr = _close(desk, open_account(desk["csr"], desk["supervisor2"], customer=desk["customer"]),
                    actor="supervisor")
    if outcome == "ok":
        assert _decide(sr, desk[decider]).status == "approved" or sr.status == "fulfilled"
        return
    with pytest.raises(ApplicationError) as err:
        _decide(sr, desk[decider])
    assert err.value.code == outcome
    sr.refresh_from_db()
    assert sr.status == "awaiting_approval"


def test_only_create_request_roles_take_an_account_request(desk):
    with pytest.raises(ApplicationError) as err:
        _open(desk, actor="teller")
    assert err.value.code == "ROLE_NOT_ALLOWED"


# --- closing --------------------------------------------------------------------------------------------

def test_closing_moves_the_balance_to_another_account_of_the_customer_and_closes(desk):
    target = open_account(desk["csr"], desk["supervisor"], customer=desk["customer"])
    sr = _close(desk, desk["account"], transfer_to=target.number, reason="moving abroad")
    assert sr.status == "awaiting_approval" and sr.data["balance_at_request"] == 50_000
    _decide(sr, desk["supervisor"])
    assert sr.status == "approved"
    request_claim(actor=desk["csr"], number=sr.number)
    request_fulfil(actor=desk["csr"], number=sr.number)
    sr.refresh_from_db()
    desk["account"].refresh_from_db()
    assert (sr.status, desk["account"].status) == ("fulfilled", "closed")
    assert (_balance(desk["account"]), _balance(target)) == (0, 50_000)
    assert OutboxEvent.objects.filter(event_type="account.closed", payload__number=desk["account"].number).exists()
    assert AuditEvent.objects.filter(action="account.closed", object_id=str(desk["account"].public_id)).exists()


def test_closing_an_empty_account_needs_no_transfer(desk):
    empty = open_account(desk["csr"], desk["supervisor"], customer=desk["customer"])
    sr = _close(desk, empty)
    _decide(sr, desk["supervisor"])
    request_claim(actor=desk["csr"], number=sr.number)
    request_fulfil(actor=desk["csr"], number=sr.number)
    empty.refresh_from_db()
    assert empty.status == "closed"


def test_closing_with_money_and_no_transfer_is_refused(desk):
    with pytest.raises(ApplicationError) as err:
        _close(desk, desk["account"])
    assert err.value.code == "BALANCE_NOT_ZERO"
    assert not ServiceRequest.objects.exists()


def test_closing_with_a_pending_hold_is_refused(desk):
    target = open_account(desk["csr"], desk["supervisor"], customer=desk["customer"])
    with transaction.atomic():
        hold_place(account=desk["account"], amount=Money(1_000, "AED"), reason="card authorisation",
                   actor=desk["csr"])
    with pytest.raises(ApplicationError) as err:
        _close(desk, desk["account"], transfer_to=target.number)
    assert err.value.code == "PENDING_HOLDS"


def test_closing_an_account_of_another_branch_is_refused(desk, foreign_staff):
    foreign = open_account(foreign_staff["csr"], foreign_staff["supervisor"], currency="AED")
    with pytest.raises(ApplicationError) as err:
        request_create(actor=desk["csr"], kind="account_close", customer_number=foreign.customer.number,
                       account_number=foreign.number, data={})
    assert err.value.code == "ACCOUNT_OTHER_BRANCH"


def test_closing_to_someone_elses_account_or_twice_is_refused(desk):
    stranger = open_account(desk["csr"], desk["supervisor"])
    with pytest.raises(ApplicationError) as err:
        _close(desk, desk["account"], transfer_to=stranger.number)
    assert err.value.code == "INVALID_COUNTERPART_ACCOUNT"
    empty = open_account(desk["csr"], desk["supervisor"], customer=desk["customer"])
    _close(desk, empty)
    with pytest.raises(ApplicationError) as err:
        _close(desk, empty)
    assert err.value.code == "REQUEST_ALREADY_PENDING"


def test_money_arriving_after_approval_is_moved_out_too(desk):
    target = open_account(desk["csr"], desk["supervisor"], customer=desk["customer"])
    sr = _close(desk, desk["account"], transfer_to=target.number)
    _decide(sr, desk["supervisor"])
    fund(desk["account"], 5_000)
    request_claim(actor=desk["csr"], number=sr.number)
    request_fulfil(actor=desk["csr"], number=sr.number)
    assert (_balance(desk["account"]), _balance(target)) == (0, 55_000)


def test_fulfilling_before_approval_is_refused(desk):
    empty = open_account(desk["csr"], desk["supervisor"], customer=desk["customer"])
    sr = _close(desk, empty)
    with pytest.raises(ApplicationError) as err:
        request_claim(actor=desk["csr"], number=sr.number)
    assert err.value.code == "ALREADY_CLAIMED"


# --- the screen and the API call the same service --------------------------------------------------------

def test_the_screen_opens_an_account_with_a_signature_upload_and_a_transfer_deposit(client, desk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(desk["csr"])
    url = f"/desk/customers/{desk['customer'].number}/requests/new/?kind=account_open"
    page = client.get(url)
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
    form = {"kind": "account_open", "idempotency_key": str(uuid.uuid4()), "identity_verified": "on",
            "document_seen": "passport P1234567", "product": "savings", "currency": "AED",
            "deposit_amount": "150.00", "deposit_source": "transfer", "deposit_from_account": desk["account"].number}
    response = client.post(url, {**form, "signature": SimpleUploadedFile("sig.png", PNG, "image/png")})
    assert response.status_code == 302
    sr = ServiceRequest.objects.get(kind="account_open")
    assert sr.data["initial_deposit"] == {"amount": 15_000, "currency": "AED", "source": "transfer",
                                          "from_account": desk["account"].number}
    html = client.get(f"/desk/requests/{sr.number}/").content.decode()
    assert sr.account.number in html


def test_the_screen_keeps_what_was_typed_when_the_identity_is_not_verified(client, desk):
    client.force_login(desk["csr"])
    url = f"/desk/customers/{desk['customer'].number}/requests/new/?kind=account_open"
    response = client.post(url, {"kind": "account_open", "idempotency_key": str(uuid.uuid4()),
                                 "document_seen": "passport P7654321", "product": "current", "currency": "AED"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Verify the customer" in html and "P7654321" in html
    assert not ServiceRequest.objects.exists()


def test_the_screen_refuses_a_closing_with_money_and_no_destination(client, desk):
    client.force_login(desk["csr"])
    url = f"/desk/customers/{desk['customer'].number}/requests/new/?kind=account_close"
    response = client.post(url, {"kind": "account_close", "idempotency_key": str(uuid.uuid4()),
                                 "account": desk["account"].number})
    assert response.status_code == 409
    assert "The balance must be zero" in response.content.decode()


def test_the_api_opens_for_a_new_customer_and_closes_with_a_transfer(api, desk):
    client = api(desk["csr"])
    response = client.post("/api/v1/service-requests/", {
        "kind": "account_open", "data": {
            "new_customer": {"full_name": "王小明", "document_type": "passport", "document_number": "E1234567",
                             "document_country": "CN"},
            "identity_verified": True, "document_seen": "passport E1234567", "product": "current",
            "currency": "AED", "signature": base64.b64encode(PNG).decode()}},
        format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "awaiting_approval"
    target = open_account(desk["csr"], desk["supervisor"], customer=desk["customer"])
    response = client.post("/api/v1/service-requests/", {
        "kind": "account_close", "customer_number": desk["customer"].number, "account_number": desk["account"].number,
        "data": {"transfer_to": target.number}}, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 201
    sr = _decide(ServiceRequest.objects.get(number=response.json()["number"]), desk["supervisor"])
    assert client.post(f"/api/v1/service-requests/{sr.number}/claim/", {}, format="json").status_code == 200
    response = client.post(f"/api/v1/service-requests/{sr.number}/fulfil/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "fulfilled"
    bad = client.post("/api/v1/service-requests/", {
        "kind": "account_close", "customer_number": desk["customer"].number, "account_number": target.number,
        "data": {}}, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert (bad.status_code, bad.json()["code"]) == (409, "BALANCE_NOT_ZERO")


def test_the_event_feed_schema_documents_the_desk_events(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    feed = components["FeedEvent"]["oneOf"]
    refs = {item["$ref"].rsplit("/", 1)[1] for item in feed}
    assert {"ServiceRequestStatusChangedEvent", "CardBlockedEvent", "ChequeBookOrderedEvent", "EventOutput"} <= refs
    status_changed = components["ServiceRequestStatusChangedEvent"]["properties"]
    assert components[status_changed["type"]["$ref"].rsplit("/", 1)[1]]["enum"] == ["service_request.status_changed"]
    payload = components[status_changed["payload"]["$ref"].rsplit("/", 1)[1]]["properties"]
    assert set(payload) == {"number", "kind", "status", "previous_status", "customer", "account", "branch"}


def test_events_published_by_the_desk_match_their_documented_payload(desk):
    from customer_service.events import EVENTS

    target = open_account(desk["csr"], desk["supervisor"], customer=desk["customer"])
    sr = _close(desk, desk["account"], transfer_to=target.number)
    _decide(sr, desk["supervisor"])
    for event in OutboxEvent.objects.filter(event_type__in=list(EVENTS)):
        serializer = EVENTS[event.event_type][0](data=event.payload)
        assert serializer.is_valid(), (event.event_type, serializer.errors)
        assert set(event.payload) == set(serializer.fields)


def test_the_screen_opens_an_account_for_a_new_customer_in_one_step(client, desk):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(desk["csr"])
    url = "/desk/account-opening/new-customer/"
    assert client.get(url).status_code == 200
    form = {"kind": "account_open", "idempotency_key": str(uuid.uuid4()), "customer-full_name": "王小明",
            "customer-document_type": "passport", "customer-document_number": "E7654321",
            "customer-document_country": "CN", "customer-preferred_language": "zh-hans",
            "customer-risk_rating": "low", "identity_verified": "on", "document_seen": "passport E7654321",
            "product": "current", "currency": "AED", "deposit_amount": "500", "deposit_source": "cash"}
    refused = client.post(url, {**form, "identity_verified": ""})
    assert refused.status_code == 400 and "E7654321" in refused.content.decode()
    assert not Customer.objects.filter(document_number="E7654321").exists()
    response = client.post(url, {**form, "signature": SimpleUploadedFile("sig.png", PNG, "image/png")})
    assert response.status_code == 302, response.content.decode()[-2000:]
    sr = ServiceRequest.objects.get(kind="account_open")
    assert sr.customer.full_name == "王小明"
    assert sr.data["initial_deposit"] == {"amount": 50_000, "currency": "AED", "source": "cash", "from_account": None}


def test_the_supervisor_sees_the_opening_in_the_inbox_and_approves_it_on_screen(client, desk):
    sr = _open(desk, initial_deposit={"amount": 10_000, "source": "cash"})
    approval = Approval.objects.get(subject_id=str(sr.public_id))
    client.force_login(desk["supervisor2"])
    page = client.get(f"/approvals/{approval.public_id}/")
    html = page.content.decode()
    assert page.status_code == 200 and sr.account.number in html and "savings" in html
    client.force_login(desk["csr"])
    html = client.get(f"/desk/requests/{sr.number}/").content.decode()
    assert 'data-testid="approval-link"' in html and 'data-testid="initial-deposit"' in html


@pytest.mark.django_db(transaction=True)
def test_a_closing_and_a_transfer_in_at_the_same_moment_never_close_an_account_with_money(staff):
    import threading

    from django.db import connection

    from accounts.services import transfer_post

    csr, coordinator = staff["csr"], staff["coordinator"]
    account = fund(open_account(csr, staff["supervisor"]), 50_000)
    target = open_account(csr, staff["supervisor"], customer=account.customer)
    payer = fund(open_account(csr, staff["supervisor"]), 10_000)
    sr = _close({"csr": csr}, account, transfer_to=target.number)
    _decide(sr, staff["supervisor2"])
    request_claim(actor=csr, number=sr.number)
    barrier, errors = threading.Barrier(2), []

    def run(fn):
        try:
            barrier.wait()
            fn()
        except ApplicationError as exc:
            errors.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(lambda: request_fulfil(actor=csr, number=sr.number),)),
               threading.Thread(target=run, args=(lambda: transfer_post(
                   actor=coordinator, from_account=payer.number, to_account=account.number,
                   amount=Money(3_000, "AED")),))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    account.refresh_from_db()
    balance = _balance(account)
    if account.status == "closed":
        assert balance == 0 and _balance(target) == 50_000 + (3_000 if not errors else 0)
    else:
        assert balance == 53_000 and errors == ["BALANCE_NOT_ZERO"]
