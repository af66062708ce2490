"""A full card number (PAN) or a PIN typed anywhere in the card flows — issue, block, PIN
reset, the notes and reasons around them, a complaint about the card — is never stored in
any text column of any table, nor written to the logs (as the configured log handler writes
them). Through the API and the screens, as a person would type it."""

import io
import logging
import re

import pytest
from django.db import connection

from customer_service.models import Card
from tests.accounts.conftest import open_account

PANS = ["4111111111111111", "5500005555555559", "378282246310005", "6011 0009 9013 9424"]
PIN = "4921"
MASKED = "411111******1111"

_CANDIDATE = re.compile(r"(?<![\dA-Za-z])(?:\d[ -]?){12,18}\d(?![\dA-Za-z])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_numbers_in(text: str) -> list[str]:
    """13–19 digit runs (optionally grouped by spaces or dashes) that pass the Luhn check."""
    found = []
    for match in _CANDIDATE.finditer(text or ""):
        digits = re.sub(r"[ -]", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.append(digits)
    return found


def test_the_scanner_finds_what_it_should():
    assert card_numbers_in("card 4111111111111111 and 6011 0009 9013 9424.") == ["4111111111111111",
                                                                             "6011000990139424"]
    assert card_numbers_in("411111******1111 4111111111111112 a1b2 0123456789012") == []


@pytest.fixture
def log_output():
    """What the configured console handler (redaction filter and formatter) would write,
    everything from DEBUG up."""
    root = logging.getLogger()
    console = next(h for h in root.handlers if isinstance(h, logging.StreamHandler) and h.filters)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(console.formatter)
    for f in console.filters:
        handler.addFilter(f)
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(old_level)


def _every_text_value():
    with connection.cursor() as cur:
        cur.execute("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema='public' "
                    "AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'character')")
        for table, column in cur.fetchall():
            cur.execute(f'SELECT "{column}"::text FROM "{table}" WHERE "{column}" IS NOT NULL')
            for (value,) in cur.fetchall():
                yield f"{table}.{column}", value


def test_card_flows_with_a_full_pan_typed_everywhere_store_and_log_none(client, api, staff, log_output):
    account = open_account(staff["csr"], staff["supervisor"])
    customer = account.customer
    csr = api(staff["csr"])
    pan, spaced = PANS[0], PANS[3]

    def create(kind, data):
        return csr.post("/api/v1/service-requests/", {"kind": kind, "customer_number": customer.number,
                                                      "account_number": account.number, "data": data},
                        format="json", HTTP_IDEMPOTENCY_KEY=f"k-{kind}-{len(data)}-{data.get('reason', '')}")

    # card issue: the PAN typed into the request and, at fulfilment, as the "masked" number
    issue = create("card_issue", {"note": f"customer says old card {pan}"})
    assert issue.status_code in (201, 400)
    issue = create("card_issue", {})
    assert issue.status_code == 201, issue.content
    number = issue.json()["number"]
    assert csr.post(f"/api/v1/service-requests/{number}/claim/", {}, format="json").status_code == 200
    refused = csr.post(f"/api/v1/service-requests/{number}/fulfil/",
                       {"data": {"masked_pan": pan}, "note": f"issued {spaced}"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "FULL_PAN_REFUSED"
    done = csr.post(f"/api/v1/service-requests/{number}/fulfil/", {"data": {"masked_pan": MASKED}}, format="json")
    assert done.status_code == 200, done.content
    card = Card.objects.get(customer=customer)

    # PIN reset with a PIN, and a PAN in the reason; a block with the PAN in the note
    pin = create("pin_reset", {"card": str(card.public_id), "pin": PIN})
    assert pin.status_code == 400 and pin.json()["code"] == "PIN_NOT_ACCEPTED"
    pin = create("pin_reset", {"card": str(card.public_id), "reason": f"forgot pin of {PANS[1]}"})
    assert pin.status_code in (201, 400)
    assert create("pin_reset", {"card": str(card.public_id)}).status_code == 201
    block = create("card_block", {"card": str(card.public_id), "reason": "lost", "note": f"lost {PANS[2]}"})
    assert block.status_code in (201, 400)
    block = create("card_block", {"card": str(card.public_id), "reason": "lost"})
    assert block.status_code == 201, block.content
    # an inquiry and a complaint about the card, a customer search by card number
    assert create("inquiry", {"topic": "cards", "question": f"was {pan} charged twice?"}).status_code == 400
    complaint = csr.post("/api/v1/complaints/", {"channel": "branch", "category": "cards",
                                                 "description": f"card {pan} PIN {PIN} charged twice",
                                                 "customer_number": customer.number}, format="json")
    assert complaint.status_code in (201, 400)
    assert csr.get("/api/v1/customers/", {"q": pan}).status_code in (200, 400)
    client.force_login(staff["csr"])
    client.get(f"/customers/search/?q={pan}")
    client.get(f"/desk/requests/{pan}/")  # a PAN in a URL: 404, and the path is logged
    client.post(f"/desk/customers/{customer.number}/requests/new/?kind=inquiry",
                {"kind": "inquiry", "account": account.number, "topic": "cards", "question": f"card {spaced}"})

    stored = [(where, found) for where, value in _every_text_value() for found in card_numbers_in(value)]
    from branch_ops.models import AuditEvent

    assert stored == [], [(e.action, e.after) for e in AuditEvent.objects.filter(after__icontains=pan[:8])]
    logged = log_output.getvalue()
    assert "request" in logged  # the handler did see the requests
    assert card_numbers_in(logged) == []
    assert f"pin={PIN}" not in logged.replace(" ", "") and f'"pin": "{PIN}"' not in logged
