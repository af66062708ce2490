"""Each role's main screens in a real browser, on a branch with work in it: every page in the
role's menu loads with no console error (a Content-Security-Policy violation is one) and no
script error; the coordinator's queue and the supervisor's board are saved as screenshots."""

import pytest
from playwright.sync_api import expect

from complaints.models import Category, Regime
from complaints.reference_data import complaints_reference_load
from complaints.services import complaint_log
from customer_service.services import request_create
from tests.e2e.conftest import login, screenshot
from tests.e2e.data import branch_with_staff, cash_window, desk_customer
from tests.floor.lobby.conftest import lobby_setup

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

USERS = {"teller": "teller.dxb", "csr": "csr.dxb", "coordinator": "coord.dxb", "supervisor": "super.dxb"}


def busy_branch():
    branch, staff = branch_with_staff()
    complaints_reference_load(Regime, Category)
    lobby_setup(branch)
    cash_window(branch, staff)
    desk = desk_customer(branch, staff)
    customer, account = desk["customer"], desk["account"]
    request_create(actor=staff["csr"], kind="account_update", customer_number=customer.number,
                   account_number=account.number, data={"phone": "+971 50 111 2222"})
    request_create(actor=staff["csr"], kind="cheque_book", customer_number=customer.number,
                   account_number=account.number, data={"leaves": 25})
    complaint_log(actor=staff["csr"], channel="branch", category="accounts.charges", description="Charged twice",
                  customer_number=customer.number, account_number=account.number)
    return branch, staff


def menu_pages(page) -> list[str]:
    links = page.get_by_role("navigation", name="Main navigation").get_by_role("list").get_by_role("link")
    return [href for href in links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
            if not href.startswith("/api/")]


@pytest.mark.parametrize("role", list(USERS))
def test_every_page_of_a_roles_menu_loads_without_browser_errors(new_page, role):
    busy_branch()
    page = new_page()
    login(page, USERS[role])
    expect(page.get_by_test_id("home-heading")).to_be_visible()
    pages = menu_pages(page)
    assert len(pages) >= 4, pages
    for href in pages:
        response = page.goto(href)
        assert response is not None and response.ok, (href, response and response.status)
        page.wait_for_load_state("networkidle")
    if role == "coordinator":
        page.goto("/desk/requests/")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        screenshot(page, "coordinator-queue")
    if role == "supervisor":
        page.goto("/floor/board/")
        page.wait_for_load_state("networkidle")
        screenshot(page, "supervisor-board")
