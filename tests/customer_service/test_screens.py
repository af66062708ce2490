"""The service-desk screens: the queue (filters, taking a request, refresh, pagination),
one request with its timeline and actions, the customer at the desk, and the new-request
form of every kind. Set-up goes through the real services and the screens themselves."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from branch_ops.models import Approval
from branch_ops.money import Money
from customer_service.models import Card, ChequeBook, ServiceRequest
from customer_service.services import annuity_instalment, request_claim, request_create, request_fulfil
from tests.accounts.conftest import open_account

MASKED = "411111******1111"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def desk(staff):
    account = open_account(staff["csr"], staff["supervisor"])
    return {"account": account, "customer": account.customer, **staff}


def _create(desk, kind, data=None, actor="csr"):
    return request_create(actor=desk[actor], kind=kind, customer_number=desk["customer"].number,
                          account_number=desk["account"].number, data=data or {})


def _new(client, desk, kind, **fields):
    """Send the new-request form of ``kind`` for the desk's customer."""
    data = {"kind": kind, "idempotency_key": str(uuid.uuid4()), **fields}
    return client.post(f"/desk/customers/{desk['customer'].number}/requests/new/?kind={kind}", data)


def _only_request(kind) -> ServiceRequest:
    return ServiceRequest.objects.get(kind=kind)


def _card(desk) -> Card:
    """A card made by fulfilling a card issue."""
    sr = _create(desk, "card_issue")
    request_claim(actor=desk["csr"], number=sr.number)
    request_fulfil(actor=desk["csr"], number=sr.number, data={"masked_pan": MASKED})
    return Card.objects.get(customer=desk["customer"])


# --- the queue ------------------------------------------------------------------------------------------

def test_the_queue_lists_a_request_and_filters_by_kind_and_overdue(client, desk):
    card = _create(desk, "card_issue")
    book = _create(desk, "cheque_book", {"leaves": 25})
    ServiceRequest.objects.filter(pk=book.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    client.force_login(desk["csr"])

    html = client.get("/desk/requests/").content.decode()
    assert card.number in html and book.number in html
    assert f"••{desk['account'].number[-4:]}" in html
    assert desk["account"].number not in html  # masked to its last four digits
    assert 'hx-trigger="every 15s"' in html

    html = client.get("/desk/requests/", {"kind": "card_issue"}).content.decode()
    assert card.number in html and book.number not in html

    html = client.get("/desk/requests/", {"overdue": "true"}).content.decode()
    assert book.number in html and card.number not in html
    assert html.count('data-overdue="true"') == 1


def test_the_queue_refresh_answers_with_the_table_alone(client, desk):
    sr = _create(desk, "card_issue")
    client.force_login(desk["csr"])
    response = client.get("/desk/requests/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert sr.number in html
    assert "<html" not in html and 'id="request-queue"' in html


def test_the_queue_shows_fifty_requests_a_page(client, desk):
    for _ in range(51):
        _create(desk, "card_issue")
    client.force_login(desk["csr"])
    first = client.get("/desk/requests/").content.decode()
    second = client.get("/desk/requests/", {"page": 2}).content.decode()
    assert first.count('data-testid="queue-row"') == 50
    assert second.count('data-testid="queue-row"') == 1


def test_taking_a_request_assigns_it_and_a_second_person_is_told_it_is_taken(client, desk):
    sr = _create(desk, "card_issue")
    client.force_login(desk["csr"])
    response = client.post(f"/desk/requests/{sr.number}/claim/", {"origin": "queue"})
    assert response.status_code == 302 and response["Location"] == f"/desk/requests/{sr.number}/"
    sr.refresh_from_db()
    assert sr.assigned_to == desk["csr"]

    client.force_login(desk["coordinator"])
    response = client.post(f"/desk/requests/{sr.number}/claim/", {"origin": "queue"})
    assert response.status_code == 409
    assert "Someone else has already taken this request" in response.content.decode()
    sr.refresh_from_db()
    assert sr.assigned_to == desk["csr"]


def test_a_teller_may_not_see_the_queue(client, desk):
    client.force_login(desk["teller"])
    assert client.get("/desk/requests/").status_code == 403


def test_the_queue_is_right_to_left_in_arabic(client, desk):
    client.force_login(desk["csr"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    html = client.get("/desk/requests/").content.decode()
    assert 'lang="ar" dir="rtl"' in html


# --- the new-request form, every kind ------------------------------------------------------------------------

def test_a_card_issue_is_taken_then_fulfilled_with_its_masked_number(client, desk):
    client.force_login(desk["csr"])
    response = _new(client, desk, "card_issue", account=desk["account"].number)
    sr = _only_request("card_issue")
    assert response.status_code == 302 and response["Location"] == f"/desk/requests/{sr.number}/"
    assert (sr.status, sr.account) == ("submitted", desk["account"])

    client.post(f"/desk/requests/{sr.number}/claim/", {"origin": "detail"})
    response = client.post(f"/desk/requests/{sr.number}/fulfil/", {"masked_pan": MASKED, "note": ""})
    assert response.status_code == 302
    sr.refresh_from_db()
    assert sr.status == "fulfilled"
    assert Card.objects.get(customer=desk["customer"]).masked_pan == MASKED


def test_fulfilling_a_card_issue_with_a_full_card_number_is_refused_beside_the_field(client, desk):
    sr = _create(desk, "card_issue")
    client.force_login(desk["csr"])
    client.post(f"/desk/requests/{sr.number}/claim/", {"origin": "detail"})
    response = client.post(f"/desk/requests/{sr.number}/fulfil/", {"masked_pan": "4111111111111111"})
    assert response.status_code == 400
    assert "Never enter a full card number" in response.content.decode()
    assert not Card.objects.exists()


def test_a_card_block_on_a_card_made_by_a_card_issue(client, desk):
    card = _card(desk)
    client.force_login(desk["csr"])
    page = client.get(f"/desk/customers/{desk['customer'].number}/requests/new/", {"kind": "card_block"})
    assert MASKED in page.content.decode()
    response = _new(client, desk, "card_block", card=str(card.public_id), reason="lost")
    sr = _only_request("card_block")
    assert response.status_code == 302
    assert (sr.status, sr.account) == ("fulfilled", desk["account"])
    card.refresh_from_db()
    assert (card.status, card.block_reason) == ("blocked", "lost")


def test_a_cheque_book_is_ordered_and_its_book_shown(client, desk):
    client.force_login(desk["csr"])
    response = _new(client, desk, "cheque_book", account=desk["account"].number, leaves="50")
    sr = _only_request("cheque_book")
    assert response.status_code == 302
    book = ChequeBook.objects.get(account=desk["account"])
    assert (book.leaves, book.status, sr.status) == (50, "ordered", "submitted")
    html = client.get(f"/desk/requests/{sr.number}/").content.decode()
    assert str(book.first_number) in html and "Ordered" in html


def test_a_cheque_book_is_handed_over_only_with_an_identity_document(client, desk):
    sr = _create(desk, "cheque_book", {"leaves": 25})
    client.force_login(desk["csr"])
    url = f"/desk/requests/{sr.number}/cheque-book/"
    assert client.post(url, {"document": ""}).status_code == 302  # printed
    assert client.post(url, {"document": ""}).status_code == 302  # received at the branch
    response = client.post(url, {"document": ""})
    assert response.status_code == 400
    assert "identity document" in response.content.decode()
    assert client.post(url, {"document": "P1234567"}).status_code == 302
    sr.refresh_from_db()
    assert sr.status == "fulfilled"
    assert ChequeBook.objects.get(account=desk["account"]).delivered_document == "P1234567"


def test_a_loan_intake_shows_the_instalment_on_the_request_page(client, desk):
    client.force_login(desk["csr"])
    response = _new(client, desk, "loan_intake", product="personal", amount="50,000", term_months="24",
                    purpose="Car repair", monthly_income="20,000", monthly_obligations="1,500",
                    documents=["identity_document", "salary_certificate"])
    sr = _only_request("loan_intake")
    assert response.status_code == 302
    assert (sr.data["amount"], sr.data["monthly_income"], sr.data["monthly_obligations"]) == (5_000_000, 2_000_000, 150_000)
    assert sr.data["documents"] == {"identity_document": True, "salary_certificate": True,
                                    "bank_statements_3_months": False, "proof_of_address": False}
    instalment = annuity_instalment(5_000_000, Decimal("7.5"), 24)
    assert sr.data["instalment"] == instalment
    html = client.get(f"/desk/requests/{sr.number}/").content.decode()
    assert Money(instalment, "AED").format("en") in html
    assert sr.data["debt_to_income_percent"] in html


def test_a_loan_amount_outside_the_bounds_is_shown_beside_the_amount(client, desk):
    client.force_login(desk["csr"])
    response = _new(client, desk, "loan_intake", product="personal", amount="10", term_months="24",
                    monthly_income="20,000")
    html = response.content.decode()
    assert response.status_code == 400
    assert "outside this product" in html and 'value="10"' in html
    assert not ServiceRequest.objects.exists()


def test_an_inquiry_is_recorded_and_answered_at_once(client, desk):
    client.force_login(desk["csr"])
    response = _new(client, desk, "inquiry", topic="charges", question="Why was I charged 25 AED?",
                    answer="Monthly fee on the account.")
    sr = _only_request("inquiry")
    assert response.status_code == 302
    assert sr.status == "fulfilled" and sr.account is None
    assert sr.data == {"topic": "charges", "question": "Why was I charged 25 AED?",
                       "answer": "Monthly fee on the account."}


def test_a_full_card_number_in_an_inquiry_is_refused_and_the_form_keeps_the_text(client, desk):
    client.force_login(desk["csr"])
    typed = "My card 4111 1111 1111 1111 was charged twice"
    response = _new(client, desk, "inquiry", topic="transaction", question=typed)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Never enter a full card number" in html
    assert typed in html
    assert not ServiceRequest.objects.exists()


def test_an_account_update_waits_for_approval(client, desk):
    client.force_login(desk["csr"])
    response = _new(client, desk, "account_update", address="", phone="+971 50 765 4321", email="")
    sr = _only_request("account_update")
    assert response.status_code == 302
    assert sr.status == "awaiting_approval" and sr.data == {"changes": {"phone": "+971 50 765 4321"}}
    approval = Approval.objects.get(subject_id=str(sr.public_id))
    assert approval.status == "pending"
    html = client.get(f"/desk/requests/{sr.number}/").content.decode()
    assert f"/approvals/{approval.public_id}/" in html


def test_sending_the_same_form_twice_takes_the_request_once(client, desk):
    client.force_login(desk["csr"])
    key = str(uuid.uuid4())
    url = f"/desk/customers/{desk['customer'].number}/requests/new/?kind=inquiry"
    form = {"kind": "inquiry", "idempotency_key": key, "topic": "other", "question": "Opening hours?"}
    first, again = client.post(url, form), client.post(url, form)
    assert first["Location"] == again["Location"]
    assert ServiceRequest.objects.count() == 1


def test_the_form_has_no_pin_field(client, desk):
    card = _card(desk)
    client.force_login(desk["csr"])
    html = client.get(f"/desk/customers/{desk['customer'].number}/requests/new/", {"kind": "pin_reset"}).content.decode()
    assert 'name="pin' not in html
    assert _new(client, desk, "pin_reset", card=str(card.public_id)).status_code == 302
    assert _only_request("pin_reset").status == "fulfilled"


# --- one request, and the customer at the desk ----------------------------------------------------------------

def test_the_request_page_shows_the_timeline(client, desk):
    sr = _create(desk, "card_issue")
    client.force_login(desk["csr"])
    client.post(f"/desk/requests/{sr.number}/claim/", {"origin": "detail"})
    assert client.post(f"/desk/requests/{sr.number}/start/").status_code == 302
    response = client.post(f"/desk/requests/{sr.number}/cancel/", {"reason": "Customer changed their mind"})
    assert response.status_code == 302
    html = client.get(f"/desk/requests/{sr.number}/").content.decode()
    assert html.count('data-testid="timeline-step"') == 4
    for label in ("Draft", "Submitted", "In progress", "Cancelled", "Customer changed their mind"):
        assert label in html


def test_cancelling_without_a_reason_is_refused_beside_the_reason(client, desk):
    sr = _create(desk, "card_issue")
    client.force_login(desk["csr"])
    response = client.post(f"/desk/requests/{sr.number}/cancel/", {"reason": ""})
    assert response.status_code == 400
    sr.refresh_from_db()
    assert sr.status == "submitted"


def test_the_desk_customer_page_shows_the_masked_card_and_the_open_requests(client, desk):
    _card(desk)
    open_request = _create(desk, "cheque_book", {"leaves": 25})
    client.force_login(desk["csr"])
    html = client.get(f"/desk/customers/{desk['customer'].number}/").content.decode()
    assert MASKED in html
    assert open_request.number in html
    assert f"/desk/customers/{desk['customer'].number}/requests/new/?kind=card_block" in html


@pytest.mark.parametrize("url", ["/desk/customers/{customer}/", "/desk/customers/{customer}/requests/new/?kind=inquiry",
                                 "/desk/requests/{number}/"])
def test_a_teller_may_not_use_the_desk_screens(client, desk, url):
    sr = _create(desk, "card_issue")
    client.force_login(desk["teller"])
    assert client.get(url.format(customer=desk["customer"].number, number=sr.number)).status_code == 403
