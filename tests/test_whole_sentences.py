"""Sentences are translated whole, with named placeholders, never glued together from
separately translated pieces (word order differs in Arabic and Chinese)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from branch_ops.floor.lobby import services
from tests.floor.lobby.conftest import lobby_setup, seat

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
#: a translated piece and a variable side by side, with only spaces between them
GLUED = re.compile(r'\{% (trans|translate) "[^"]*"( context "[^"]*")? %\} *\{\{|\}\} *\{% (trans|translate) "')
#: owned by another team (accounts); "Branch DXB01" is a label with a code, listed here so
#: that nothing new is added
KNOWN = {"accounts/account_page.html"}


def test_no_template_glues_a_translated_piece_to_a_variable():
    glued = [f"{path.relative_to(TEMPLATES)}:{n}" for path in sorted(TEMPLATES.rglob("*.html"))
             for n, line in enumerate(path.read_text().splitlines(), 1)
             if GLUED.search(line) and str(path.relative_to(TEMPLATES)) not in KNOWN]
    assert glued == []


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "As of 23/11/2026 09:30, business day"),
    ("zh-hans", "截至"),
    ("ar", "كما في"),
])
def test_each_whole_sentence_is_translated_with_its_placeholders(language, expected):
    sentences = {
        "As of %(now)s, business day %(day)s": {"now": "N", "day": "D"},
        "The customer with ticket %(code)s did not come.": {"code": "A007"},
        "%(counted)s (expected %(expected)s)": {"counted": "C", "expected": "E"},
        "asked by %(name)s": {"name": "Layla"},
        "%(count)s past due": {"count": "3"},
        "Receipt %(reference)s": {"reference": "R-1"},
    }
    with translation.override(language):
        for msgid, values in sentences.items():
            text = translation.gettext(msgid) % values
            assert all(value in text for value in values.values()), (language, msgid, text)
            if language != "en":
                assert translation.gettext(msgid) != msgid, (language, msgid)
        board = translation.gettext("As of %(now)s, business day %(day)s") % {"now": "23/11/2026 09:30", "day": "X"}
    assert expected in board
    with translation.override("zh-hans"):
        # Chinese puts the number before the counter: "1 号窗口", not "窗口 1"
        assert translation.pgettext("lobby", "Counter %(number)s") % {"number": "1"} == "1 号窗口"


@pytest.mark.django_db
def test_the_no_show_message_names_the_ticket_in_one_sentence(client, branch, staff):
    lobby_setup(branch)
    seat(staff["teller"], "1")
    services.ticket_take(branch=branch, service="cash")
    ticket = services.ticket_call_next(actor=staff["teller"])
    client.force_login(staff["teller"])
    client.cookies["django_language"] = "zh-hans"
    html = client.post(reverse("lobby-counter-action", args=["no-show"]), {"ticket": str(ticket.public_id)},
                       HTTP_HX_REQUEST="true").content.decode()
    assert f"排队号 {ticket.code} 的客户未到场。" in html
