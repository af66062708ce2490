"""Forms of the accounts screens. They only parse what was typed; every business rule
(expired documents, funds, statuses, permissions) is the services' and comes back as an
``ApplicationError`` that the view shows on the form."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import BankAccount, Customer
from accounts.numbers import account_number_is_valid
from accounts.services import CUSTOMER_FIELDS
from branch_ops.models import Currency

_DATE = {"type": "date"}


class StyledForm(forms.Form):
    """A form whose widgets carry Bootstrap's classes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()

    def _style(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if widget.is_hidden:
                continue
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = css


class CustomerSearchForm(forms.Form):
    q = forms.CharField(label=_("Find a customer"), required=False, max_length=100, strip=True)


class CustomerForm(StyledForm):
    """The KYC details of a customer, as checked at the desk (labels are the model's)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = forms.fields_for_model(
            Customer,
            fields=CUSTOMER_FIELDS,
            widgets={
                "date_of_birth": forms.DateInput(attrs=_DATE, format="%Y-%m-%d"),
                "document_expiry": forms.DateInput(attrs=_DATE, format="%Y-%m-%d"),
                "address": forms.Textarea(attrs={"rows": 2}),
            },
        )
        fields["preferred_language"] = forms.ChoiceField(label=fields["preferred_language"].label,
                                                         choices=settings.LANGUAGES, initial="en")
        fields["document_country"].widget.attrs.update({"maxlength": 2, "size": 2, "autocapitalize": "characters"})
        fields["full_name"].widget.attrs.update({"autofocus": True, "dir": "auto"})
        fields["latin_name"].widget.attrs["dir"] = "ltr"
        self.fields.update(fields)
        self._style()


class AccountOpenForm(StyledForm):
    product = forms.ChoiceField(label=_("Product"), choices=BankAccount.Product.choices)
    currency = forms.ModelChoiceField(label=_("Currency"), queryset=Currency.objects.filter(active=True),
                                      to_field_name="code", empty_label=None)
    overdraft_limit = forms.CharField(label=_("Overdraft limit"), required=False, max_length=40,
                                      help_text=_("Leave empty for no overdraft."),
                                      widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr"}))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class StatementForm(StyledForm):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"))
    after = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)


class AccountStatusRequestForm(StyledForm):
    action = forms.ChoiceField(choices=[("freeze", _("Freeze")), ("unfreeze", _("Unfreeze")), ("close", _("Close"))])
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class TransferForm(StyledForm):
    from_account = forms.CharField(label=_("From account"), max_length=34,
                                   widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "numeric",
                                                                 "dir": "ltr", "autocomplete": "off"}))
    to_account = forms.CharField(label=_("To account"), max_length=34,
                                 widget=forms.TextInput(attrs={"inputmode": "numeric", "dir": "ltr",
                                                               "autocomplete": "off"}))
    currency = forms.ModelChoiceField(label=_("Currency"), queryset=Currency.objects.filter(active=True),
                                      to_field_name="code", empty_label=None)
    amount = forms.CharField(label=_("Amount"), max_length=40,
                             widget=forms.TextInput(attrs={"inputmode": "decimal", "dir": "ltr",
                                                           "autocomplete": "off"}))
    description = forms.CharField(label=_("Description"), required=False, max_length=200)
    #: one per filled-in form: sending the same form twice posts once and shows the same receipt
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    @staticmethod
    def _account_number(value: str) -> str:
        number = value.replace(" ", "").replace("-", "")
        if not account_number_is_valid(number):
            raise forms.ValidationError(_("The account number is not valid (check digits)."), code="invalid")
        return number

    def clean_from_account(self):
        return self._account_number(self.cleaned_data["from_account"])

    def clean_to_account(self):
        return self._account_number(self.cleaned_data["to_account"])
