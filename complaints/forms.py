"""Forms of the complaints screens. They only parse what was typed (choices, amounts in a
currency, transaction references, dates); every business rule (a category and a
description are needed, who may act, what a status allows, redress thresholds) is the
services' and comes back as an ``ApplicationError`` that the view shows on the form.

Texts the services require (description, note, reasons, final response) are optional
here on purpose: the service's own message is the one shown beside the field.
"""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.forms import StyledForm
from branch_ops.errors import ApplicationError
from branch_ops.money import Money
from complaints.models import Category, Complaint

_NUMBER = {"inputmode": "numeric", "dir": "ltr", "autocomplete": "off"}
_AMOUNT = {"inputmode": "decimal", "dir": "ltr", "autocomplete": "off"}
_REFERENCE = {"dir": "ltr", "autocomplete": "off", "spellcheck": "false"}
_DATE = {"type": "date"}
#: a sub-category is shown indented under its parent (no-break spaces survive in an <option>)
_INDENT = "\u00a0\u00a0\u00a0\u00a0"


def _text(label, *, rows: int = 2, required: bool = False, max_length: int = 4000, help_text: str = ""):
    return forms.CharField(label=label, required=required, max_length=max_length, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows, "dir": "auto"}))


def _parse_money(text: str, currency: str, locale: str) -> Money:
    try:
        return Money.parse(text, currency, locale=locale)
    except ApplicationError as exc:
        raise forms.ValidationError(exc.message, code="invalid") from None


def category_choices() -> list[tuple[str, str]]:
    """Top-level categories in order, each followed by its sub-categories, indented."""
    categories = list(Category.objects.all())
    children: dict[int | None, list[Category]] = {}
    for cat in categories:
        children.setdefault(cat.parent_id, []).append(cat)
    choices: list[tuple[str, str]] = [("", "—")]

    def walk(parent_id, depth):
        for cat in sorted(children.get(parent_id, []), key=lambda c: c.code):
            choices.append((cat.code, _INDENT * depth + str(cat.name)))
            walk(cat.pk, depth + 1)

    walk(None, 0)
    return choices


# --- the list --------------------------------------------------------------------------------------------

class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *Complaint.Status.choices],
                               widget=forms.Select(attrs={"class": "form-select form-select-sm"}))


# --- logging a complaint -----------------------------------------------------------------------------------

class ComplaintLogForm(StyledForm):
    """The log form. ``currency`` is the branch's (the amount in dispute is typed in it),
    ``locale`` the page's language (how the amount is written)."""

    #: one per filled-in form: sending the same form twice logs one complaint
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    channel = forms.ChoiceField(label=_("Channel"), choices=Complaint.Channel.choices,
                                initial=Complaint.Channel.BRANCH)
    category = forms.ChoiceField(label=_("Category"), required=False, choices=())
    customer_number = forms.CharField(label=_("Customer number"), max_length=20, required=False,
                                      help_text=_("Leave empty when the complainant is not a customer: "
                                                  "give their name and contact instead."),
                                      widget=forms.TextInput(attrs=_REFERENCE))
    complainant_name = forms.CharField(label=_("Complainant's name"), max_length=200, required=False,
                                       help_text=_("Taken from the customer record when left empty."),
                                       widget=forms.TextInput(attrs={"dir": "auto", "autocomplete": "off"}))
    complainant_contact = forms.CharField(label=_("Contact (phone or e-mail)"), max_length=200, required=False,
                                          widget=forms.TextInput(attrs={"dir": "ltr", "autocomplete": "off"}))
    account_number = forms.CharField(label=_("Account number"), max_length=34, required=False,
                                     widget=forms.TextInput(attrs=_NUMBER))
    transaction_ref = forms.UUIDField(label=_("Transaction reference"), required=False,
                                      widget=forms.TextInput(attrs=_REFERENCE))
    amount_disputed = forms.CharField(label=_("Amount in dispute"), max_length=40, required=False,
                                      widget=forms.TextInput(attrs=_AMOUNT))
    description = _text(_("Description"), rows=5, max_length=10000)

    def __init__(self, *args, currency: str, locale: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency, self.locale = currency, locale
        self.fields["category"].choices = category_choices()
        self.fields["amount_disputed"].help_text = _("In %(currency)s. Leave empty when no amount is disputed.") % {
            "currency": currency}

    def clean_customer_number(self):
        return self.cleaned_data["customer_number"].strip().upper()

    def clean_account_number(self):
        return self.cleaned_data["account_number"].replace(" ", "").replace("-", "")

    def clean_amount_disputed(self) -> Money | None:
        text = (self.cleaned_data.get("amount_disputed") or "").strip()
        return _parse_money(text, self.currency, self.locale) if text else None

    def service_kwargs(self) -> dict:
        """What ``services.complaint_log`` takes."""
        data = self.cleaned_data
        return {
            "channel": data["channel"], "category": data["category"], "description": data["description"],
            "customer_number": data["customer_number"], "complainant_name": data["complainant_name"].strip(),
            "complainant_contact": data["complainant_contact"].strip(), "account_number": data["account_number"],
            "transaction_ref": str(data["transaction_ref"]) if data["transaction_ref"] else "",
            "amount_disputed": data["amount_disputed"],
        }

    def idempotency_data(self) -> dict:
        """The same request, as JSON (to recognise the same form sent twice)."""
        kwargs = self.service_kwargs()
        amount = kwargs.pop("amount_disputed")
        return {**kwargs, "amount_disputed": amount.as_dict() if amount else None}


# --- actions on one complaint ----------------------------------------------------------------------------

class ActionForm(StyledForm):
    """An action's small form. Several sit on one page: each gets its own element ids
    (``id_<action>_<field>``) while the names posted stay the service's."""

    action = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.action.replace('-', '_')}_%s")
        super().__init__(*args, **kwargs)


class AcknowledgeForm(ActionForm):
    action = "acknowledge"


class HandoverForm(ActionForm):
    action = "handover"
    to = forms.ChoiceField(label=_("Hand over to"), choices=())
    reason = _text(_("Reason"))

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [("", "—"), *colleagues]


class NoteForm(ActionForm):
    action = "note"
    text = _text(pgettext_lazy("complaint", "Note"), rows=3)
    transaction_ref = forms.UUIDField(label=_("Transaction reference"), required=False,
                                      widget=forms.TextInput(attrs=_REFERENCE))


class EscalateForm(ActionForm):
    action = "escalate"
    reason = _text(_("Reason"))


class ExtendForm(ActionForm):
    action = "extend"
    reason = _text(_("Reason"), help_text=_("Send the complainant a holding reply that says why and by when."))


class DecideForm(ActionForm):
    action = "decide"
    decision = forms.ChoiceField(label=_("Decision"), required=False,
                                 choices=[("", "—"), *Complaint.Decision.choices])
    reason = _text(_("Reason"), rows=3)


class RedressForm(ActionForm):
    """Redress typed in the currency of the complainant's account."""

    action = "redress"
    amount = forms.CharField(label=_("Amount"), max_length=40, required=False, widget=forms.TextInput(attrs=_AMOUNT))
    reason = _text(_("Reason"), help_text=_("Needed when the redress is more than the amount in dispute."))

    def __init__(self, *args, currency: str = "", locale: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency, self.locale = currency, locale
        self.fields["amount"].help_text = _("In %(currency)s, the account's currency.") % {"currency": currency}

    def clean_amount(self) -> Money:
        text = (self.cleaned_data.get("amount") or "").strip()
        if not text:
            raise forms.ValidationError(_("Give the amount."), code="required")
        return _parse_money(text, self.currency, self.locale)


class CloseForm(ActionForm):
    action = "close"
    final_response = _text(_("Final response"), rows=5, max_length=10000)


class FollowUpForm(ActionForm):
    action = "follow-up"
    satisfaction = forms.TypedChoiceField(label=_("Satisfaction (1 to 5)"), coerce=int, required=False,
                                          empty_value=None,
                                          choices=[("", "—"), *((n, str(n)) for n in range(1, 6))])
    comment = _text(_("Comment"))


class ReopenForm(ActionForm):
    action = "reopen"
    reason = _text(_("Why does the customer disagree?"))


ACTION_FORMS: dict[str, type[ActionForm]] = {
    form.action: form for form in (AcknowledgeForm, HandoverForm, NoteForm, EscalateForm, ExtendForm, DecideForm,
                                   RedressForm, CloseForm, FollowUpForm, ReopenForm)
}


def action_form(action: str, data=None, *, colleagues=(), currency: str = "", locale: str = "en") -> ActionForm:
    """The form of ``action``, with what it needs to know."""
    form_class = ACTION_FORMS[action]
    if form_class is HandoverForm:
        return form_class(data, colleagues=colleagues)
    if form_class is RedressForm:
        return form_class(data, currency=currency, locale=locale)
    return form_class(data)


# --- the report --------------------------------------------------------------------------------------------

class ReportForm(StyledForm):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", forms.ValidationError(_("The end comes after the start."), code="invalid"))
        return data
