"""The kiosk (no login, in the customer's language), the lobby display and the counter panel."""

import pytest
from django.urls import reverse

from branch_ops.floor.lobby import services
from branch_ops.floor.lobby.models import Ticket
from tests.floor.lobby.conftest import seat

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_kiosk_in_arabic_renders_right_to_left(client, branch, lobby):
    response = client.get(reverse("lobby-kiosk", args=["DXB01"]), {"lang": "ar"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="ar" dir="rtl"' in html
    assert "bootstrap.rtl.min.css" in html
    assert 'data-testid="kiosk-service-cash"' in html


def test_kiosk_in_english_is_left_to_right_and_offers_the_four_languages(client, branch, lobby):
    html = client.get(reverse("lobby-kiosk", args=["DXB01"])).content.decode()
    assert 'lang="en" dir="ltr"' in html
    for code in ("en", "ar", "it", "zh-hans"):
        assert f'hreflang="{code}"' in html
    assert "<script>" not in html  # no inline script (CSP)


def test_kiosk_takes_a_ticket_and_shows_its_number_in_the_customers_language(client, branch, lobby):
    response = client.post(reverse("lobby-kiosk-take", args=["DXB01"]),
                           {"service": "desk", "language": "ar", "priority_rule": "disabled"})
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.code, ticket.language, ticket.priority_rule.code) == ("B001", "ar", "disabled")
    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'data-testid="ticket-code">B001<' in html
    assert 'dir="rtl"' in html


def test_kiosk_unknown_branch_or_service(client, branch, lobby):
    assert client.get(reverse("lobby-kiosk", args=["NOPE1"])).status_code == 404
    response = client.post(reverse("lobby-kiosk-take", args=["DXB01"]), {"service": "loans", "language": "it"})
    assert response.status_code == 404
    assert Ticket.objects.count() == 0


def test_display_shows_called_tickets_with_their_counters(client, branch, staff, lobby):
    seat(staff["teller"], "1")
    services.ticket_take(branch=branch, service="cash")
    services.ticket_call_next(actor=staff["teller"])
    page = client.get(reverse("lobby-display", args=["DXB01"]))
    html = page.content.decode()
    assert 'hx-trigger="every 3s"' in html
    board = client.get(reverse("lobby-display-board", args=["DXB01"]), **HTMX).content.decode()
    assert "A001" in board and "data-testid=\"display-latest\"" in board


def test_counter_panel_sign_in_call_next_done(client, branch, staff, lobby):
    client.force_login(staff["csr"])
    home = client.get(reverse("home")).content.decode()
    assert reverse("lobby-counter") in home  # the menu links to it
    page = client.get(reverse("lobby-counter")).content.decode()
    assert 'data-testid="lobby-counter-panel"' in page
    services.ticket_take(branch=branch, service="complaints")
    panel = client.post(reverse("lobby-counter-action", args=["sign-in"]), {"counter": "2"}, **HTMX)
    assert "lobby-call-next" in panel.content.decode()
    panel = client.post(reverse("lobby-counter-action", args=["call-next"]), **HTMX).content.decode()
    assert 'data-testid="lobby-current">C001' in panel
    ticket = Ticket.objects.get()
    panel = client.post(reverse("lobby-counter-action", args=["done"]),
                        {"ticket": str(ticket.public_id), "served_ref": "complaints:CMP0001001"}, **HTMX)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.served_app, ticket.served_ref) == ("done", "complaints", "CMP0001001")
    panel = client.post(reverse("lobby-counter-action", args=["call-next"]), **HTMX).content.decode()
    assert 'data-testid="lobby-error"' in panel  # nobody waiting: the message, in the panel


def test_teller_home_links_to_the_counter_and_includes_the_panel(client, staff, lobby):
    client.force_login(staff["teller"])
    html = client.get(reverse("home")).content.decode()
    assert reverse("lobby-counter") in html
    assert f'hx-get="{reverse("lobby-counter-panel")}"' in html


def test_display_in_chinese_keeps_its_language_when_polling(client, branch, lobby):
    html = client.get(reverse("lobby-display", args=["DXB01"]), {"lang": "zh-hans"}).content.decode()
    assert 'lang="zh-hans"' in html
    assert "board/?lang=zh-hans" in html

