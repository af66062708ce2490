"""The outbox events the service desk emits, documented in the event feed's OpenAPI schema
(registered in ``CustomerServiceConfig.ready``). The payload shapes are a contract with core
banking: add fields, never rename or remove one."""

from __future__ import annotations

from rest_framework import serializers

from branch_ops.outbox import event_schema_register
from customer_service.models import RequestKind


class RequestStatusChangedPayload(serializers.Serializer):
    number = serializers.CharField(help_text="the request number, e.g. SR0000042")
    kind = serializers.ChoiceField(choices=RequestKind.values)
    status = serializers.CharField()
    previous_status = serializers.CharField()
    customer = serializers.CharField(help_text="customer number")
    account = serializers.CharField(allow_null=True, help_text="account number, if the request has one")
    branch = serializers.CharField(help_text="branch code")


class CardPayload(serializers.Serializer):
    card = serializers.UUIDField(help_text="the card's id")
    masked_pan = serializers.RegexField(r"^[0-9]{6}\*{6}[0-9]{4}$", help_text="never a full card number")
    account = serializers.CharField()


class CardIssueRequestedPayload(serializers.Serializer):
    account = serializers.CharField()
    customer = serializers.CharField()


class CardBlockedPayload(CardPayload):
    reason = serializers.ChoiceField(choices=["lost", "stolen", "damaged", "customer_request"])


class CardUnblockedPayload(serializers.Serializer):
    card = serializers.UUIDField()
    masked_pan = serializers.RegexField(r"^[0-9]{6}\*{6}[0-9]{4}$")


class ChequeBookOrderedPayload(serializers.Serializer):
    account = serializers.CharField()
    leaves = serializers.ChoiceField(choices=[25, 50])
    first_number = serializers.IntegerField()


class ChequeBookStatusChangedPayload(serializers.Serializer):
    account = serializers.CharField()
    status = serializers.ChoiceField(choices=["printed", "received", "delivered"])
    request = serializers.CharField()


class ChequeStoppedPayload(serializers.Serializer):
    account = serializers.CharField()
    first_number = serializers.IntegerField()
    last_number = serializers.IntegerField()


EVENTS = {
    "service_request.status_changed": (RequestStatusChangedPayload,
                                       "A desk request core banking acts on changed status (account opening and "
                                       "closing, account update, cards, cheque books, loan intake)."),
    "card.issue_requested": (CardIssueRequestedPayload, "A new debit card is to be produced."),
    "card.replace_requested": (CardPayload, "A replacement of this card is to be produced."),
    "card.issued": (CardPayload, "A card was handed over and is active (masked number only)."),
    "card.blocked": (CardBlockedPayload, "A card was blocked at the desk, effective at once."),
    "card.unblocked": (CardUnblockedPayload, "A blocked card was unblocked after four-eyes approval."),
    "card.pin_issue_requested": (CardPayload, "The card processor is to send a PIN (never stored here)."),
    "card.pin_reset_requested": (CardPayload, "The card processor is to reset the PIN (never stored here)."),
    "cheque_book.ordered": (ChequeBookOrderedPayload, "A cheque book is to be printed."),
    "cheque_book.status_changed": (ChequeBookStatusChangedPayload, "A cheque book moved on its way to the customer."),
    "cheque.stopped": (ChequeStoppedPayload, "A cheque or a range of cheques must not be paid."),
}


def register_event_schemas() -> None:
    for event_type, (payload, description) in EVENTS.items():
        event_schema_register(event_type, payload, description)
