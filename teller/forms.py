"""Forms of the teller window. They only parse what was typed: an amount as text (the view
parses it in the user's language with ``Money.parse``), counts of notes and coins, the
identity document seen. Every business rule (limits, funds, notes held, counts that must add
up) is the services'; their ``ApplicationError`` comes back and is shown on the form.

Denomination grids have one number input per active note and coin of a currency, largest
first: ``d_<value>`` on the deposit, withdrawal and vault forms (one currency), and
``d_<currency>_<value>`` on the opening and closing counts (several currencies).
"""

from __future__ import annotations

import copy
import functools
import uuid

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.forms import StyledForm
from branch_ops.models import Currency
from branch_ops.money import Money
from teller.models import Denomination, VaultTransfer

#: the most notes or coins of one kind one form may count (a typo guard, not a business rule)
MAX_PIECES = 1_000_000

_TEXT = {"dir": "ltr", "autocomplete": "off"}


def denominations_of(currency: str) -> list[Denomination]:
    return list(Denomination.objects.filter(currency_id=currency, active=True).order_by("-value"))


@functools.lru_cache(maxsize=512)
def _count_field_prototype(value: int, currency: str, language: str) -> forms.IntegerField:
    """The count input of one note or coin in one language, built once; forms get copies
    (as Django copies a form's declared fields), never this one."""
    label = Money(value, currency).format(language, with_currency=False)
    return forms.IntegerField(
        label=label, required=False, min_value=0, max_value=MAX_PIECES,
        widget=forms.NumberInput(attrs={"min": 0, "step": 1, "inputmode": "numeric", "dir": "ltr",
                                        "autocomplete": "off", "placeholder": "0"}),
    )


def _count_field(denomination: Denomination, currency: str) -> forms.IntegerField:
    return copy.deepcopy(_count_field_prototype(denomination.value, currency, get_language() or "en"))


class GridForm(StyledForm):
    """A form with denomination grids. ``denominations`` never renders as an input: it is
    where a service's error about the notes as a whole (``COUNT_MISMATCH``) is shown, under
    the grid."""

    denominations = forms.Field(required=False, disabled=True, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: every note and coin read for the grids: a service need not read them again
        self.known_denominations: list[Denomination] = []

    def _grid(self, currency: str, name_format: str) -> list[dict]:
        rows = []
        denominations = denominations_of(currency)
        self.known_denominations += denominations
        for denomination in denominations:
            name = name_format.format(currency=currency, value=denomination.value)
            self.fields[name] = _count_field(denomination, currency)
            rows.append({"name": name, "value": denomination.value, "kind": denomination.kind, "held": None})
        return rows

    def _focus_first(self, rows: list[dict]) -> None:
        """Keyboard first: the cursor waits in the first count input."""
        if rows:
            self.fields[rows[0]["name"]].widget.attrs["autofocus"] = True

    def _bound_rows(self, rows: list[dict]) -> list[dict]:
        return [{**row, "field": self[row["name"]]} for row in rows]

    def _breakdown(self, rows: list[dict]) -> dict[str, int]:
        """``{"<value>": quantity}`` of the pieces counted (empty inputs and zeros left out)."""
        data = self.cleaned_data
        return {str(row["value"]): data[row["name"]] for row in rows if data.get(row["name"])}


class FinderForm(forms.Form):
    q = forms.CharField(label=_("Find a customer or an account"), required=False, max_length=100, strip=True)


class WindowForm(forms.Form):
    """What the window was asked to show: an account chosen in the finder."""

    account = forms.CharField(required=False, max_length=34, strip=True)

    def clean_account(self):
        return self.cleaned_data["account"].replace(" ", "").replace("-", "")


class CashForm(GridForm):
    """A cash deposit or withdrawal on one account, in the account's currency."""

    account = forms.CharField(max_length=34, widget=forms.HiddenInput)
    amount = forms.CharField(label=_("Amount"), max_length=40,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", **_TEXT}))
    description = forms.CharField(label=_("Description"), required=False, max_length=200)
    occupation = forms.CharField(label=_("Occupation"), required=False, max_length=120)
    source_of_funds = forms.CharField(label=_("Source of funds"), required=False, max_length=200)
    #: one per filled-in form: sending the same form twice posts once and shows the same receipt
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    #: the fields of the large-cash report, folded away until the report needs them
    REPORT_FIELDS = ("occupation", "source_of_funds")

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self._rows = self._grid(currency, "d_{value}")
        self._style()

    def show_held(self, held: dict) -> None:
        """Show beside each note how many the drawer holds (``{"<value>": quantity}``)."""
        for row in self._rows:
            row["held"] = held.get(str(row["value"]), 0)

    @property
    def grid(self) -> list[dict]:
        return self._bound_rows(self._rows)

    def breakdown(self) -> dict[str, int]:
        return self._breakdown(self._rows)

    def party(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in ("name", "document", "occupation", "source_of_funds") if data.get(name)}

    @property
    def report_open(self) -> bool:
        """Unfold the large-cash details when one of them is what went wrong."""
        return any(name in self.errors for name in self.REPORT_FIELDS)

    def renew_key(self) -> None:
        """A new key for the corrected form: the rejected one posted nothing."""
        self.data = self.data.copy()
        self.data["idempotency_key"] = str(uuid.uuid4())


class DepositForm(CashForm):
    name = forms.CharField(label=_("Depositor's name, if not the holder"), required=False, max_length=200,
                           widget=forms.TextInput(attrs={"dir": "auto", "autocomplete": "off"}))
    document = forms.CharField(label=_("Depositor's identity document"), required=False, max_length=80,
                               widget=forms.TextInput(attrs=_TEXT))


class WithdrawalForm(CashForm):
    document = forms.CharField(label=_("Identity document number"), max_length=80,
                               widget=forms.TextInput(attrs=_TEXT),
                               error_messages={"required": _("Record the number of the identity document you checked.")})
    document_checked = forms.BooleanField(
        label=_("Identity document checked"),
        error_messages={"required": _("Check the customer's identity document and tick this box before paying out.")})
    name = forms.CharField(label=_("Name of the person collecting, if not the holder"), required=False,
                           max_length=200, widget=forms.TextInput(attrs={"dir": "auto", "autocomplete": "off"}))

    REPORT_FIELDS = ("name", "occupation", "source_of_funds")

    def party(self) -> dict:
        return {**super().party(), "document_checked": bool(self.cleaned_data.get("document_checked"))}


class CountsForm(GridForm):
    """A count of the drawer by denomination in several currencies (opening, blind close)."""

    def __init__(self, *args, currencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self._grids = [(currency, self._grid(currency, "d_{currency}_{value}")) for currency in currencies]
        self._style()
        self._focus_first([row for _currency, rows in self._grids for row in rows])

    @property
    def grids(self) -> list[dict]:
        return [{"currency": currency, "rows": self._bound_rows(rows)} for currency, rows in self._grids]

    def counts(self) -> dict[str, dict[str, int]]:
        """``{currency: {"<value>": quantity}}``; a currency left empty is left out (the
        service counts the drawer's own currencies as zero when they are missing)."""
        counted = {currency: self._breakdown(rows) for currency, rows in self._grids}
        return {currency: breakdown for currency, breakdown in counted.items() if breakdown}


class VaultCurrencyForm(forms.Form):
    currency = forms.ModelChoiceField(
        label=_("Currency"), to_field_name="code", empty_label=None,
        queryset=Currency.objects.filter(active=True, denominations__active=True).distinct(),
        widget=forms.Select(attrs={"class": "form-select js-autosubmit"}))


class VaultTransferForm(GridForm):
    direction = forms.ChoiceField(label=_("Direction"), choices=VaultTransfer.Direction.choices,
                                  initial=VaultTransfer.Direction.TO_DRAWER, widget=forms.RadioSelect)
    currency = forms.CharField(max_length=3, widget=forms.HiddenInput)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self._rows = self._grid(currency, "d_{value}")
        self._style()
        self.fields["direction"].widget.attrs["class"] = "form-check-input"
        self._focus_first(self._rows)

    @property
    def grid(self) -> list[dict]:
        return self._bound_rows(self._rows)

    def breakdown(self) -> dict[str, int]:
        return self._breakdown(self._rows)


class VaultDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("confirm", _("Confirm")), ("reject", _("Reject"))])


# --- exchange, rates, payments, reversals ------------------------------------------------------------

def _exchange_currencies():
    return Currency.objects.filter(active=True, denominations__active=True).distinct().order_by("code")


def renew_key(form: forms.Form) -> None:
    """A new idempotency key for a corrected form: the rejected one posted nothing."""
    form.data = form.data.copy()
    form.data["idempotency_key"] = str(uuid.uuid4())


class ExchangeQuoteForm(StyledForm):
    """Step 1 of an exchange: the two currencies and either side's amount (typed in the
    user's language, read with ``Money.parse`` by the view)."""

    from_currency = forms.ModelChoiceField(label=_("Customer gives"), to_field_name="code", empty_label=None,
                                           queryset=_exchange_currencies())
    to_currency = forms.ModelChoiceField(label=_("Customer gets"), to_field_name="code", empty_label=None,
                                         queryset=_exchange_currencies())
    from_amount = forms.CharField(label=_("Amount handed over"), required=False, max_length=40,
                                  widget=forms.TextInput(attrs={"inputmode": "decimal", "autofocus": True, **_TEXT}))
    to_amount = forms.CharField(label=_("Amount wanted"), required=False, max_length=40,
                                widget=forms.TextInput(attrs={"inputmode": "decimal", **_TEXT}))

    def clean(self):
        data = super().clean()
        given, wanted = data.get("from_amount"), data.get("to_amount")
        if given and wanted:
            self.add_error("to_amount", _("Give either the amount handed over or the amount wanted, not both."))
        elif not given and not wanted:
            self.add_error("from_amount", _("Give either the amount handed over or the amount wanted."))
        return data

    @property
    def amount_field(self) -> str:
        """The amount the teller typed: ``from_amount`` or ``to_amount``."""
        return "to_amount" if self.cleaned_data.get("to_amount") else "from_amount"


class ExchangeForm(GridForm):
    """Step 2 of an exchange, on a live quote: the notes taken in (none when an account pays,
    account-to-cash) and the notes paid out. ``denominations`` carries the errors of the
    notes paid out, ``denominations_in`` those of the notes taken in."""

    quote = forms.UUIDField(widget=forms.HiddenInput)
    account = forms.CharField(label=_("Account number, if the customer pays from an account"), required=False,
                              max_length=34, widget=forms.TextInput(attrs={"inputmode": "numeric", **_TEXT}))
    denominations_in = forms.Field(required=False, disabled=True, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Customer's name"), required=False, max_length=200,
                           widget=forms.TextInput(attrs={"dir": "auto", "autocomplete": "off"}))
    document = forms.CharField(label=_("Identity document"), required=False, max_length=80,
                               widget=forms.TextInput(attrs=_TEXT))
    occupation = forms.CharField(label=_("Occupation"), required=False, max_length=120)
    source_of_funds = forms.CharField(label=_("Source of funds"), required=False, max_length=200)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    REPORT_FIELDS = ("name", "document", "occupation", "source_of_funds")

    def __init__(self, *args, from_currency: str, to_currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.from_currency, self.to_currency = from_currency, to_currency
        self._rows_in = self._grid(from_currency, "in_{value}")
        self._rows_out = self._grid(to_currency, "out_{value}")
        self._style()
        if not self.is_bound:
            self._focus_first(self._rows_in or self._rows_out)

    def show_held(self, held: dict) -> None:
        """Show beside each note paid out how many the drawer holds (``{"<value>": quantity}``)."""
        for row in self._rows_out:
            row["held"] = held.get(str(row["value"]), 0)

    def clean_account(self):
        return self.cleaned_data["account"].replace(" ", "").replace("-", "")

    @property
    def from_account(self) -> bool:
        """Account-to-cash: an account number was given, no notes come in."""
        value = self["account"].value() if self.is_bound else self.initial.get("account")
        return bool((value or "").strip())

    @property
    def grid_in(self) -> list[dict]:
        return self._bound_rows(self._rows_in)

    @property
    def grid_out(self) -> list[dict]:
        return self._bound_rows(self._rows_out)

    def breakdown_in(self) -> dict[str, int]:
        return {} if self.cleaned_data.get("account") else self._breakdown(self._rows_in)

    def breakdown_out(self) -> dict[str, int]:
        return self._breakdown(self._rows_out)

    def party(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in self.REPORT_FIELDS if data.get(name)}

    @property
    def report_open(self) -> bool:
        return any(name in self.errors for name in self.REPORT_FIELDS)


class RateForm(StyledForm):
    """A supervisor's new buy and sell rate for one currency (branch-currency units per unit)."""

    currency = forms.ModelChoiceField(label=_("Currency"), to_field_name="code", empty_label=None,
                                      queryset=Currency.objects.none())
    buy = forms.DecimalField(label=_("We buy at"), max_digits=18, decimal_places=8, localize=True,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", **_TEXT}))
    sell = forms.DecimalField(label=_("We sell at"), max_digits=18, decimal_places=8, localize=True,
                              widget=forms.TextInput(attrs={"inputmode": "decimal", **_TEXT}))

    def __init__(self, *args, home_currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].queryset = _exchange_currencies().exclude(code=home_currency)


class PaymentForm(StyledForm):
    """An outgoing payment from a customer's account to another bank."""

    account = forms.CharField(label=_("From account"), max_length=34,
                              widget=forms.TextInput(attrs={"inputmode": "numeric", "autofocus": True, **_TEXT}))
    amount = forms.CharField(label=_("Amount"), max_length=40, help_text=_("In the account's currency."),
                             widget=forms.TextInput(attrs={"inputmode": "decimal", **_TEXT}))
    beneficiary_name = forms.CharField(label=_("Beneficiary's name"), max_length=140,
                                       widget=forms.TextInput(attrs={"dir": "auto", "autocomplete": "off"}))
    iban = forms.CharField(label=_("Beneficiary's IBAN"), max_length=42,
                           widget=forms.TextInput(attrs={"spellcheck": "false", **_TEXT}))
    bic = forms.CharField(label=_("Beneficiary's bank (BIC)"), max_length=11,
                          widget=forms.TextInput(attrs={"spellcheck": "false", **_TEXT}))
    remittance = forms.CharField(label=_("Remittance information"), required=False, max_length=140,
                                 widget=forms.TextInput(attrs={"dir": "auto", "autocomplete": "off"}))
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def clean_account(self):
        return self.cleaned_data["account"].replace(" ", "").replace("-", "")


class ReversalForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000, strip=True)
