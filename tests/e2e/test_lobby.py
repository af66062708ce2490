"""The lobby queue in real browsers: a customer takes a ticket at the kiosk, the lobby display
shows it waiting, a teller sits down at a counter and calls it, the display shows the call,
the teller serves the customer."""

import re

import pytest
from playwright.sync_api import expect

from branch_ops.floor.lobby.models import Ticket
from tests.e2e.conftest import login, screenshot
from tests.e2e.data import branch_with_staff
from tests.floor.lobby.conftest import lobby_setup

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_lobby_queue_from_ticket_to_call(new_page):
    branch, staff = branch_with_staff()
    lobby_setup(branch, {"1": ("cash",), "3": ("desk", "complaints")})

    display = new_page()
    display.goto("/floor/lobby/display/DXB01/")
    expect(display.get_by_role("heading", name="Now serving")).to_be_visible()

    # the customer takes a ticket for the cash window at the kiosk (no login)
    kiosk = new_page()
    kiosk.goto("/floor/lobby/kiosk/DXB01/")
    kiosk.get_by_test_id("kiosk-service-cash").click()
    code = kiosk.get_by_test_id("ticket-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z]\d{3}", code), code
    expect(kiosk.get_by_text("Please take a seat")).to_be_visible()

    # the teller sits down at counter 1 and calls the next customer
    teller = new_page()
    login(teller, "teller.dxb")
    teller.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Lobby queue").click()
    panel = teller.get_by_test_id("lobby-counter-panel")
    panel.get_by_label("Counter").select_option(label="Counter 1")
    panel.get_by_role("button", name="Sit down").click()
    panel.get_by_test_id("lobby-call-next").click()
    expect(panel.get_by_test_id("lobby-current")).to_contain_text(code)

    # the display shows the call (it polls every few seconds)
    latest = display.get_by_test_id("display-latest")
    expect(latest).to_contain_text(code, timeout=10_000)
    expect(latest).to_contain_text("Counter 1")
    screenshot(display, "lobby-display")

    # the customer comes; the teller serves them and the counter is free again
    panel.get_by_role("button", name="Customer is here").click()
    panel.get_by_role("button", name="Served").click()
    expect(panel.get_by_test_id("lobby-call-next")).to_be_visible()
    expect(panel.get_by_test_id("lobby-current")).to_have_count(0)

    # what the database says
    ticket = Ticket.objects.get()
    assert ticket.status == "done"
    assert ticket.counter.number == "1" and ticket.called_by == staff["teller"]
    assert ticket.called_at <= ticket.served_at <= ticket.done_at
