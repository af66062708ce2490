"""Forms of the service-desk screens. They only parse what was typed (amounts in the
branch currency, numbers, choices); every business rule (which transitions are legal,
loan bounds, masked card numbers, full card numbers and PINs refused) is the services'
and comes back as an ``ApplicationError`` that the view shows on the form.

Never a PIN field: a PIN is the card processor's business, not the desk's.
"""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import StyledForm
from branch_ops.errors import ApplicationError
from branch_ops.money import Money
from customer_service.models import ServiceRequest
from customer_service.selectors import RequestFilter
from customer_service.services import KIND_RULES, LOAN_DOCUMENTS, LOAN_PRODUCTS

_NUMBER = {"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"}
_AMOUNT = {"inputmode": "decimal", "dir": "ltr", "autocomplete": "off"}
_DATE = {"type": "date"}
#: the largest cheque number a cheque book can carry
MAX_CHEQUE_NUMBER = 999_999_999

LOAN_PRODUCT_LABELS = {"personal": _("Personal loan"), "car": _("Car loan")}
LOAN_DOCUMENT_LABELS = {
    "identity_document": _("Identity document"),
    "salary_certificate": _("Salary certificate"),
    "bank_statements_3_months": _("Bank statements (last 3 months)"),
    "proof_of_address": _("Proof of address"),
}
BLOCK_REASONS = [
    ("lost", _("Lost")),
    ("stolen", _("Stolen")),
    ("damaged", _("Damaged")),
    ("customer_request", _("At the customer's request")),
]
INQUIRY_TOPICS = [
    ("balance", _("Balance")),
    ("charges", _("Charges")),
    ("products", _("Products")),
    ("transaction", _("A transaction")),
    ("other", _("Other")),
]
#: kinds that act on one of the customer's cards (the account is the card's)
CARD_KINDS = {"card_block", "card_unblock", "card_replace", "pin_issue", "pin_reset"}
#: kinds whose fulfilment records the new card's masked number
MASKED_PAN_KINDS = {"card_issue", "card_replace"}


# --- the queue ---------------------------------------------------------------------------------------

QUEUE_FILTERS = ("kind", "status", "mine", "overdue", "open", "customer")


def queue_filter_form(params, request) -> forms.Form:
    """The queue's filter bar: the form of the selectors' ``RequestFilter`` (so the screen
    and the API filter alike), with Bootstrap classes and yes/no filters as checkboxes."""
    form = RequestFilter(params, queryset=ServiceRequest.objects.none(), request=request).form
    labels = {"kind": _("Kind"), "status": _("Status"), "mine": _("Mine only"), "overdue": _("Overdue only"),
              "open": _("Open only"), "customer": _("Customer number")}
    for name, field in form.fields.items():
        field.label = labels.get(name, field.label)
        if name in ("mine", "overdue", "open"):
            # sends "true", which the filter's yes/no field reads (a bare checkbox sends "on")
            field.widget = forms.CheckboxInput(attrs={"class": "form-check-input", "value": "true"})
        elif isinstance(field.widget, forms.Select):
            field.widget.attrs["class"] = "form-select form-select-sm"
        else:
            field.widget.attrs.update({"class": "form-control form-control-sm", "dir": "ltr", "autocomplete": "off"})
    return form


class ClaimForm(forms.Form):
    """"Take": which page to answer on when someone else was quicker."""

    origin = forms.ChoiceField(choices=[("queue", "queue"), ("detail", "detail")], required=False,
                               widget=forms.HiddenInput)


# --- actions on one request ----------------------------------------------------------------------------

class FulfilForm(StyledForm):
    masked_pan = forms.CharField(
        label=_("Masked card number"), max_length=19, required=False,
        help_text=_("As printed on the card carrier: the first 6 and the last 4 digits, 6 stars between them."),
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off", "spellcheck": "false"}))
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def service_data(self) -> dict:
        """The masked number matters for card issue and replacement only (the page shows
        its field for those kinds); the service ignores it otherwise."""
        return {"masked_pan": self.cleaned_data["masked_pan"]} if self.cleaned_data["masked_pan"] else {}


class CancelForm(StyledForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ChequeBookAdvanceForm(StyledForm):
    document = forms.CharField(
        label=_("Identity document number"), max_length=80, required=False,
        help_text=_("Needed when the book is handed to the customer: check the document and record its number."),
        widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"}))


# --- a new request -------------------------------------------------------------------------------------

class RequestCreateForm(StyledForm):
    """One form for every kind: it carries only the fields of the chosen kind.

    ``accounts`` are the customer's accounts (``BankAccount``), ``cards`` the customer's
    cards; amounts are parsed in ``currency`` with the conventions of ``locale``."""

    kind = forms.CharField(widget=forms.HiddenInput)
    #: one per filled-in form: sending the same form twice takes the request once
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, kind: str, accounts=(), cards=(), currency: str = "", locale: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.request_kind, self.currency, self.locale = kind, currency, locale
        self._accounts = {a.number: a for a in accounts}
        self._cards = {str(c.public_id): c for c in cards}
        self.fields["kind"].initial = kind
        self.fields.update(self._kind_fields(kind))
        self._style()
        for name in ("documents",):
            if name in self.fields:
                self.fields[name].widget.attrs["class"] = "form-check-input"

    # the fields of each kind
    def _kind_fields(self, kind: str) -> dict[str, forms.Field]:
        fields: dict[str, forms.Field] = {}
        if kind in CARD_KINDS:
            fields["card"] = forms.ChoiceField(
                label=_("Card"), choices=[("", "—")] + [(pk, self._card_label(c)) for pk, c in self._cards.items()])
        elif KIND_RULES[kind].needs_account:
            fields["account"] = forms.ChoiceField(
                label=_("Account"),
                choices=[("", "—")] + [(number, self._account_label(a)) for number, a in self._accounts.items()])
        if kind == "card_block":
            fields["reason"] = forms.ChoiceField(label=_("Why is the card blocked?"), choices=[("", "—"), *BLOCK_REASONS])
        elif kind == "cheque_book":
            fields["leaves"] = forms.TypedChoiceField(label=_("Leaves"), coerce=int, initial=25,
                                                      choices=[(25, "25"), (50, "50")])
        elif kind == "cheque_stop":
            fields["first_number"] = forms.IntegerField(label=_("Cheque number (or first of a range)"), min_value=1,
                                                        max_value=MAX_CHEQUE_NUMBER,
                                                        widget=forms.TextInput(attrs=_NUMBER))
            fields["last_number"] = forms.IntegerField(label=_("Last cheque number of the range"), min_value=1,
                                                       max_value=MAX_CHEQUE_NUMBER, required=False,
                                                       help_text=_("Leave empty to stop one cheque."),
                                                       widget=forms.TextInput(attrs=_NUMBER))
            fields["reason"] = forms.CharField(label=_("Reason"), max_length=200)
        elif kind == "loan_intake":
            fields["product"] = forms.ChoiceField(
                label=_("Loan product"),
                choices=[(code, LOAN_PRODUCT_LABELS.get(code, code)) for code in LOAN_PRODUCTS])
            fields["amount"] = forms.CharField(label=_("Amount"), max_length=40, widget=forms.TextInput(attrs=_AMOUNT))
            fields["term_months"] = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=600,
                                                       widget=forms.TextInput(attrs=_NUMBER))
            fields["purpose"] = forms.CharField(label=_("Purpose"), max_length=200, required=False,
                                                widget=forms.TextInput(attrs={"dir": "auto"}))
            fields["monthly_income"] = forms.CharField(label=_("Monthly income"), max_length=40,
                                                       widget=forms.TextInput(attrs=_AMOUNT))
            fields["monthly_obligations"] = forms.CharField(
                label=_("Monthly obligations"), max_length=40, required=False,
                help_text=_("Instalments of other loans and cards; leave empty for none."),
                widget=forms.TextInput(attrs=_AMOUNT))
            fields["documents"] = forms.MultipleChoiceField(
                label=_("Documents received"), required=False, widget=forms.CheckboxSelectMultiple,
                choices=[(doc, LOAN_DOCUMENT_LABELS.get(doc, doc)) for doc in LOAN_DOCUMENTS])
        elif kind == "inquiry":
            fields["topic"] = forms.ChoiceField(label=_("Topic"), choices=INQUIRY_TOPICS)
            fields["question"] = forms.CharField(label=_("Question"), max_length=2000,
                                                 widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}))
            fields["answer"] = forms.CharField(label=_("Answer given"), max_length=4000, required=False,
                                               widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}))
        elif kind == "statement":
            fields["start"] = forms.DateField(label=_("From"), widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"))
            fields["end"] = forms.DateField(label=_("To"), widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"))
        elif kind == "account_open":
            fields.update(self._open_fields())
        elif kind == "account_close":
            fields["transfer_to"] = forms.ChoiceField(
                label=_("Move the balance to"), required=False,
                help_text=_("Another account of the customer in the same currency; leave empty when the balance is "
                            "zero (pay out cash at the window first)."),
                choices=[("", "—")] + [(number, self._account_label(a)) for number, a in self._accounts.items()
                                       if a.status == "active"])
            fields["reason"] = forms.CharField(label=_("Reason"), max_length=500, required=False,
                                               widget=forms.TextInput(attrs={"dir": "auto"}))
        elif kind == "account_update":
            fields["address"] = forms.CharField(label=_("New address"), max_length=500, required=False,
                                                widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}))
            fields["phone"] = forms.CharField(label=_("New phone"), max_length=40, required=False,
                                              widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "tel"}))
            fields["email"] = forms.CharField(label=_("New e-mail"), max_length=254, required=False,
                                              widget=forms.EmailInput(attrs={"dir": "ltr"}))
        return fields

    def _open_fields(self) -> dict[str, forms.Field]:
        from accounts.models import BankAccount
        from branch_ops.models import Currency

        currencies = list(Currency.objects.filter(active=True).order_by("code").values_list("code", flat=True))
        return {
            "identity_verified": forms.BooleanField(
                label=_("I have verified the customer's identity against the original document"), required=False),
            "document_seen": forms.CharField(label=_("Document seen (type and number)"), max_length=80,
                                             widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"})),
            "product": forms.ChoiceField(label=_("Product"), choices=BankAccount.Product.choices),
            "currency": forms.ChoiceField(label=_("Currency"), initial=self.currency,
                                          choices=[(code, code) for code in currencies]),
            "signature": forms.FileField(
                label=_("Specimen signature (PNG or JPEG)"), required=False,
                help_text=_("Leave empty to keep the signature already on file."),
                widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"})),
            "deposit_amount": forms.CharField(label=_("Initial deposit"), max_length=40, required=False,
                                              help_text=_("In the account's currency; leave empty for none."),
                                              widget=forms.TextInput(attrs=_AMOUNT)),
            "deposit_source": forms.ChoiceField(label=_("Paid by"), required=False, choices=[
                ("", "—"), ("cash", _("Cash at the window")), ("transfer", _("Transfer from an account"))]),
            "deposit_from_account": forms.ChoiceField(
                label=_("From account"), required=False,
                choices=[("", "—")] + [(number, self._account_label(a)) for number, a in self._accounts.items()
                                       if a.status == "active"]),
        }

    @staticmethod
    def _account_label(account) -> str:
        return f"{account.number} · {account.get_product_display()} · {account.currency_id} · {account.get_status_display()}"

    @staticmethod
    def _card_label(card) -> str:
        return f"{card.masked_pan} · {card.get_status_display()} · ••{card.account.number[-4:]}"

    # amounts typed in the branch currency, in the page's language
    def _amount(self, name: str, *, required: bool = True) -> int:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text and not required:
            return 0
        try:
            return Money.parse(text, self.currency, locale=self.locale).amount
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message, code="invalid") from None

    def clean_amount(self):
        return self._amount("amount")

    def clean_monthly_income(self):
        return self._amount("monthly_income")

    def clean_monthly_obligations(self):
        return self._amount("monthly_obligations", required=False)

    def clean(self):
        data = super().clean()
        if self.request_kind == "account_open" and data.get("currency"):
            text = (data.get("deposit_amount") or "").strip()
            try:
                data["deposit_amount"] = Money.parse(text, data["currency"], locale=self.locale).amount if text else 0
            except ApplicationError as exc:
                self.add_error("deposit_amount", exc.message)
        return data

    def clean_kind(self):
        if self.cleaned_data["kind"] != self.request_kind:
            raise forms.ValidationError(_("Unknown kind of request."), code="invalid")
        return self.cleaned_data["kind"]

    # what the service takes
    def account_number(self) -> str | None:
        data = self.cleaned_data
        if "card" in data:
            return self._cards[data["card"]].account.number
        return data.get("account") or None

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("kind", "idempotency_key", "account")}
        if self.request_kind == "loan_intake":
            chosen = set(data.pop("documents", []))
            data["documents"] = {doc: doc in chosen for doc in LOAN_DOCUMENTS}
        elif self.request_kind == "cheque_stop" and data.get("last_number") is None:
            data.pop("last_number", None)
        elif self.request_kind == "statement":
            data = {"start": data["start"].isoformat(), "end": data["end"].isoformat()}
        elif self.request_kind == "account_update":
            data = {k: v.strip() for k, v in data.items() if v and v.strip()}
        elif self.request_kind == "account_open":
            import base64

            upload = data.pop("signature", None)
            deposit = {"amount": data.pop("deposit_amount") or 0, "source": data.pop("deposit_source") or None,
                       "from_account": data.pop("deposit_from_account", None) or None}
            data["initial_deposit"] = deposit if deposit["amount"] else None
            if upload:
                data["signature"] = base64.b64encode(upload.read()).decode()
        elif self.request_kind == "account_close":
            data = {"transfer_to": data.get("transfer_to") or None, "reason": data.get("reason", "")}
        return data
