"""The floor's complaints panel on the desk's customer page."""

import pytest

from complaints.models import Category, Regime
from complaints.reference_data import complaints_reference_load
from complaints.services import complaint_log
from tests.accounts.conftest import open_account

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def reference(db):
    complaints_reference_load(Regime, Category)


def test_the_desk_page_loads_the_panel_and_the_panel_lists_open_complaints_with_their_colour(client, staff):
    account = open_account(staff["csr"], staff["supervisor"])
    number = account.customer.number
    complaint = complaint_log(actor=staff["csr"], channel="branch", category="accounts.charges",
                              description="Charged twice", customer_number=number)
    other = open_account(staff["csr"], staff["supervisor"])
    complaint_log(actor=staff["csr"], channel="branch", category="accounts.charges", description="Not this one",
                  customer_number=other.customer.number)
    client.force_login(staff["csr"])
    page = client.get(f"/desk/customers/{number}/").content.decode()
    assert f"/floor/customers/{number}/complaints/" in page
    panel = client.get(f"/floor/customers/{number}/complaints/", **HTMX)
    html = panel.content.decode()
    assert panel.status_code == 200 and "<html" not in html
    assert complaint.number in html and 'data-colour="green"' in html
    assert html.count('data-testid="complaint-clock"') == 1


def test_a_teller_sees_only_complaints_they_took_and_other_branches_see_none(client, staff, foreign_staff):
    account = open_account(staff["csr"], staff["supervisor"])
    number = account.customer.number
    complaint_log(actor=staff["csr"], channel="branch", category="accounts.charges", description="x",
                  customer_number=number)
    client.force_login(staff["teller"])
    assert "No open complaints" in client.get(f"/floor/customers/{number}/complaints/", **HTMX).content.decode()
    client.force_login(staff["supervisor"])
    assert 'data-colour="green"' in client.get(f"/floor/customers/{number}/complaints/", **HTMX).content.decode()
    client.force_login(foreign_staff["supervisor"])
    assert "No open complaints" in client.get(f"/floor/customers/{number}/complaints/", **HTMX).content.decode()
