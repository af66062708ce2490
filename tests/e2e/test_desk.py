"""The service desk in a real browser: a CSR finds the customer, takes an account opening
that a supervisor approves from their own browser, blocks a lost card, orders a cheque book."""

import pytest
from playwright.sync_api import expect

from accounts.models import BankAccount
from customer_service.models import Card, ChequeBook, ServiceRequest
from tests.e2e.conftest import login, screenshot
from tests.e2e.data import assert_ledger_balanced, branch_with_staff, desk_customer, tiny_png

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def new_request(page, kind_label):
    page.get_by_test_id("new-request-links").get_by_role("link", name=kind_label, exact=True).click()
    return page.get_by_test_id("request-form")


def taken_number(page) -> str:
    message = page.get_by_role("alert").filter(has_text="was taken")
    expect(message).to_be_visible()
    return page.get_by_test_id("request-number").inner_text()


def test_a_csr_opens_an_account_blocks_a_card_and_orders_a_cheque_book(new_page):
    branch, staff = branch_with_staff()
    data = desk_customer(branch, staff)
    customer, account = data["customer"], data["account"]
    csr = new_page()
    login(csr, "csr.dxb")

    # find the customer from the menu, go to their desk page
    csr.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Customers").click()
    csr.get_by_label("Name, customer number, account number, document number or phone").press_sequentially("Omar Kh")
    csr.get_by_role("link", name=customer.number).click()
    csr.get_by_test_id("desk-link").click()
    expect(csr.get_by_test_id("customer-name")).to_have_text("Omar Khalil")
    expect(csr.get_by_test_id("cards-table")).to_contain_text("411111******1234")
    screenshot(csr, "csr-desk")

    # an account opening: identity checked, a savings account, the specimen signature uploaded
    form = new_request(csr, "Account opening")
    form.get_by_label("I have verified the customer's identity against the original document").check()
    form.get_by_label("Document seen (type and number)").fill("Passport P7654321")
    form.get_by_label("Product").select_option(label="Savings account")
    form.get_by_label("Currency").select_option("AED")
    form.get_by_label("Specimen signature (PNG or JPEG)").set_input_files(
        files=[{"name": "signature.png", "mimeType": "image/png", "buffer": tiny_png()}])
    form.get_by_role("button", name="Take the request").click()
    opening = taken_number(csr)
    expect(csr.get_by_role("alert").filter(has_text="It takes effect when it is approved.")).to_be_visible()
    expect(csr.get_by_test_id("request-status").first).to_have_text("Awaiting approval")

    # the supervisor approves it from the inbox, in their own browser
    supervisor = new_page()
    login(supervisor, "super.dxb")
    supervisor.goto("/floor/inbox/")
    item = supervisor.locator('[data-testid="inbox-item"][data-kind="cs.request.four_eyes"]')
    expect(item).to_contain_text(opening)
    item.get_by_label("Reason").fill("Documents seen")
    item.get_by_role("button", name="Approve").click()
    expect(item).to_contain_text("Approved")

    csr.reload()
    expect(csr.get_by_test_id("request-status").first).to_have_text("Fulfilled")

    # the customer lost their card: blocked at once
    csr.get_by_role("link", name="Omar Khalil").click()
    form = new_request(csr, "Debit card: block")
    form.get_by_role("combobox", name="Card", exact=True).select_option(index=1)
    form.get_by_label("Why is the card blocked?").select_option(label="Lost")
    form.get_by_role("button", name="Take the request").click()
    block = taken_number(csr)
    expect(csr.get_by_test_id("request-status").first).to_have_text("Fulfilled")

    # and a cheque book of 25 leaves on the current account
    csr.get_by_role("link", name="Omar Khalil").click()
    expect(csr.get_by_test_id("cards-table")).to_contain_text("Blocked")
    form = new_request(csr, "Cheque book")
    form.get_by_label("Account").select_option(account.number)
    form.get_by_label("Leaves").select_option("25")
    form.get_by_role("button", name="Take the request").click()
    cheque = taken_number(csr)
    csr.get_by_role("link", name="Omar Khalil").click()
    expect(csr.get_by_test_id("cheque-books-table")).to_contain_text("Ordered")

    # what the database says
    opened = ServiceRequest.objects.get(number=opening)
    assert opened.status == "fulfilled"
    new_account = BankAccount.objects.get(customer=customer, product="savings")
    assert new_account.status == "active"
    assert ServiceRequest.objects.get(number=block).status == "fulfilled"
    assert Card.objects.get(pk=data["card"].pk).status == "blocked"
    assert ServiceRequest.objects.get(number=cheque).kind == "cheque_book"
    assert ChequeBook.objects.get(account=account).status == "ordered"
    assert_ledger_balanced()
