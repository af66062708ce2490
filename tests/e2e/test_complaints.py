"""A complaint in a real browser, from logging at the desk to redress paid into the
complainant's account, the final response and the follow-up call."""

import pytest
from playwright.sync_api import expect

from accounts.models import LedgerAccount
from complaints.models import Category, Complaint, Regime
from complaints.reference_data import complaints_reference_load
from tests.e2e.conftest import login
from tests.e2e.data import assert_ledger_balanced, branch_with_staff, desk_customer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def act(page, action, button, **fields):
    """Fill one action's form on the complaint page (``label=value``) and send it."""
    form = page.get_by_test_id(f"action-{action}")
    for label, value in fields.items():
        field = form.get_by_label(label)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(label=value)
        else:
            field.fill(value)
    form.get_by_role("button", name=button).click()


def test_a_complaint_from_logging_to_redress_and_follow_up(new_page):
    branch, staff = branch_with_staff()
    complaints_reference_load(Regime, Category)
    data = desk_customer(branch, staff)
    customer, account = data["customer"], data["account"]
    csr = new_page()
    login(csr, "csr.dxb")

    # logged at the desk, from the menu
    csr.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Complaints").click()
    csr.get_by_role("link", name="Log a complaint").click()
    form = csr.get_by_test_id("complaint-form")
    form.get_by_label("Channel").select_option(label="At the branch")
    form.get_by_label("Category").select_option(label="Charges and fees")
    form.get_by_label("Customer number").fill(customer.number)
    form.get_by_label("Account number").fill(account.number)
    form.get_by_label("Amount in dispute").fill("75.00")
    form.get_by_label("Description").fill("Charged the card fee twice this month")
    form.get_by_role("button", name="Log the complaint").click()
    number = csr.get_by_test_id("complaint-number").inner_text()
    expect(csr.get_by_test_id("amount-disputed")).to_contain_text("75.00")
    expect(csr.get_by_test_id("owner")).to_have_text("csr.dxb")

    # acknowledged, upheld, redress paid, closed with the final response, followed up
    act(csr, "acknowledge", "Acknowledge")
    act(csr, "decide", "Decide", Decision="Upheld", Reason="The fee was charged twice")
    expect(csr.get_by_test_id("decision")).to_have_text("Upheld")
    act(csr, "redress", "Pay redress", Amount="75.00")
    expect(csr.get_by_test_id("redress-paid")).to_contain_text("75.00")
    act(csr, "close", "Close with the final response", **{"Final response": "We refunded the second fee."})
    act(csr, "follow-up", "Follow-up call", **{"Satisfaction (1 to 5)": "5", "Comment": "Happy"})
    expect(csr.get_by_test_id("satisfaction")).to_contain_text("5/5")
    expect(csr.get_by_role("heading", level=1)).to_contain_text("Closed")
    kinds = csr.get_by_test_id("timeline-entry").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == ["logged", "acknowledged", "decided", "redress_paid", "closed", "follow_up"]

    # what the database says
    complaint = Complaint.objects.get(number=number)
    assert complaint.status == "closed" and complaint.decision == "upheld"
    assert complaint.redress_paid == 7_500 and complaint.satisfaction == 5
    assert LedgerAccount.objects.get(pk=account.ledger.pk).balance == 250_000 + 7_500
    assert_ledger_balanced()
