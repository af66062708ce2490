"""What the teller screens share: role checks, showing a service's error, the session, approvals waiting, receipts."""

from __future__ import annotations

from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.views.decorators.http import require_GET

from branch_ops.access import require_perm
from branch_ops.errors import ApplicationError, NotFound
from branch_ops.models import Approval, StaffProfile
from branch_ops.money import Money
from branch_ops.roles import Perm
from teller import selectors, services
from teller.models import CashOperation, DrawerSession

#: currencies the opening count always offers besides the branch's own and those the drawer holds
OPENING_CURRENCIES = ("USD",)
#: operations of the session the window lists besides those waiting for a supervisor
WINDOW_RECENT_OPERATIONS = 10

# a service's field name -> the cash form's (None: above the form)
_CASH_FIELDS = {"account": None, "currency": None, "amount": "amount", "denominations": "denominations",
                "document": "document", "name": "name", "occupation": "occupation",
                "source_of_funds": "source_of_funds"}
_GRID_FIELDS = {"amount": "denominations", "currency": None}



def _require(request, perm: Perm):
    try:
        return require_perm(request.user, perm)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from None


def _show_error(form, exc: ApplicationError, *, fields: dict | None = None) -> int:
    """Put a service's error on the form field it names (``fields`` maps a service's field
    name to the form's), else above the form; return the HTTP status to answer with."""
    name = (fields or {}).get(exc.field, exc.field)
    form.add_error(name if name in form.fields else None, exc.message)
    return exc.status_code


def _problem(request, exc: ApplicationError):
    return render(request, "error.html", {"message": exc.message}, status=exc.status_code)


def _my_session(user) -> DrawerSession | None:
    """The teller's open session, else their latest, else None."""
    try:
        return selectors.my_open_session(actor=user)
    except NotFound:
        return None


def _is_open(session: DrawerSession | None) -> bool:
    return session is not None and session.status == DrawerSession.Status.OPEN


def _pending_approvals(kind: str, subjects) -> dict[str, str]:
    """``{subject public id: approval public id}`` of the pending approvals of ``kind``."""
    ids = [str(subject.public_id) for subject in subjects]
    if not ids:
        return {}
    return {subject_id: str(public_id) for subject_id, public_id in Approval.objects.filter(
        kind=kind, subject_id__in=ids, status=Approval.Status.PENDING).values_list("subject_id", "public_id")}


def _approval_of(kind: str, subject) -> str | None:
    return _pending_approvals(kind, [subject]).get(str(subject.public_id))



# --- receipts -------------------------------------------------------------------------------------

def _decimal_text(value: Decimal, language: str) -> str:
    """A rate in ``language``'s conventions, with 4 to 10 decimals."""
    try:
        locale = Locale.parse(translation.to_locale(language or "en"))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    return format_decimal(value, format="#,##0.0000######", locale=locale)


def _rate_line(from_currency: str, to_currency: str, rate: Decimal, language: str) -> dict:
    """``1 <unit> = <value> <other>``, the way round that reads above 1 (the way the board
    shows it): a rate of 0.2710 AED→USD reads "1 USD = 3.6900 AED"."""
    if rate <= 0 or rate >= 1:
        return {"unit": from_currency, "other": to_currency, "value": _decimal_text(rate, language)}
    return {"unit": to_currency, "other": from_currency,
            "value": _decimal_text((Decimal(1) / rate).quantize(Decimal("1e-6")), language)}


def _note_lines(denominations: dict, currency: str) -> list[dict]:
    notes = sorted(((int(value), qty) for value, qty in (denominations or {}).items()), reverse=True)
    return [{"note": Money(value, currency), "quantity": qty, "total": Money(value * qty, currency)}
            for value, qty in notes]


def _receipt_language(operation: CashOperation) -> str:
    """The customer's preferred language when the product speaks it, else the page's."""
    preferred = (operation.customer.preferred_language or "").lower() if operation.customer_id else ""
    if preferred in dict(settings.LANGUAGES):
        return preferred
    return translation.get_language() or settings.LANGUAGE_CODE


def _receipt_block(operation: CashOperation, *, copy: bool, language: str) -> str:
    """The receipt itself, rendered in ``language`` (the page around it stays in the
    teller's)."""
    currency = operation.currency_id
    with translation.override(language):
        context = {
            "operation": operation, "branch": operation.session.drawer.branch,
            "time_zone": operation.session.drawer.branch.time_zone, "amount": Money(operation.amount, currency),
            "notes": _note_lines(operation.denominations, currency), "copy": copy,
            "receipt_language": language, "receipt_rtl": translation.get_language_bidi(),
        }
        if operation.kind == CashOperation.Kind.EXCHANGE and operation.details.get("from_currency"):
            d = operation.details
            context["exchange"] = {
                "gives": Money(int(d["from_amount"]), d["from_currency"]),
                "gets": Money(int(d["to_amount"]), d["to_currency"]),
                "rate": _rate_line(d["from_currency"], d["to_currency"], Decimal(str(d["rate"])), language),
                "notes_in": _note_lines(d.get("denominations_in"), d["from_currency"]),
            }
        return render_to_string("teller/_receipt.html", context)


def _header_branch_from(request, branch) -> None:
    """The page's header names the teller's branch; when it is the operation's branch,
    already read with the operation, the header does not read it again."""
    profile = getattr(request.user, "staff", None)
    if profile is not None and profile.branch_id == branch.pk and not StaffProfile.branch.is_cached(profile):
        profile.branch = branch


def _receipt(request, operation: CashOperation, *, copy: bool, replayed: bool = False):
    _header_branch_from(request, operation.session.drawer.branch)
    page_language = translation.get_language()
    language = _receipt_language(operation)
    return render(request, "teller/receipt.html", {
        "operation": operation, "amount": Money(operation.amount, operation.currency_id),
        "receipt": _receipt_block(operation, copy=copy, language=language),
        "receipt_language_name": (translation.get_language_info(language)["name_translated"]
                                  if language != page_language else ""),
        "copy": copy, "replayed": replayed,
        "approval": (_approval_of(services.OVERRIDE, operation)
                     if operation.status == CashOperation.Status.AWAITING_OVERRIDE else None),
    })


@login_required
@require_GET
def receipt(request, reference: str):
    """A receipt in the customer's preferred language (else the page's); ``?copy=1`` is a
    reprint and says so."""
    try:
        operation = selectors.operation_by_reference(actor=request.user, reference=reference)
    except ApplicationError as exc:
        return _problem(request, exc)
    return _receipt(request, operation, copy=request.GET.get("copy") == "1")


