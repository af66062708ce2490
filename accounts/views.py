"""Screens of the accounts app: find a customer, the customer at a glance, KYC details,
account opening, the account page with its statement, status requests and transfers.

Thin, like every view: parse with a form, check the role, call one service or selector,
render. A service's ``ApplicationError`` is shown on the page (on the field it names, or
above the form) with its HTTP status.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import replace_url

from accounts import selectors, services
from accounts.forms import (
    AccountOpenForm,
    AccountStatusRequestForm,
    CustomerForm,
    CustomerSearchForm,
    StatementForm,
    TransferForm,
)
from accounts.services import CUSTOMER_FIELDS
from branch_ops import idempotency
from branch_ops.access import require_perm
from branch_ops.approvals import approval_kind_get
from branch_ops.business_days import branch_day
from branch_ops.errors import ApplicationError, NotFound
from branch_ops.money import Money
from branch_ops.roles import Perm

#: the statement shows this many days up to today unless the user picks a range
STATEMENT_DEFAULT_DAYS = 30
STATEMENT_PAGE = 100


def _require(request, perm: Perm):
    try:
        return require_perm(request.user, perm)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from None


def _show_error(form, exc: ApplicationError, *, fields: dict[str, str] | None = None) -> int:
    """Put a service's error on the form field it names (``fields`` maps a service's field
    name to the form's), else above the form; return the HTTP status to answer with."""
    name = (fields or {}).get(exc.field, exc.field)
    form.add_error(name if name in form.fields else None, exc.message)
    return exc.status_code


def _problem(request, exc: ApplicationError):
    return render(request, "error.html", {"message": exc.message}, status=exc.status_code)


# --- customers ---------------------------------------------------------------------------------------

def _search(request) -> dict:
    form = CustomerSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    results = selectors.customer_search(actor=request.user, query=query) if query else []
    return {"form": form, "query": query, "results": results}


@login_required
@require_GET
def customer_search(request):
    profile = _require(request, Perm.VIEW_CUSTOMER)
    return render(request, "accounts/customer_search.html",
                  {**_search(request), "can_create": profile.has(Perm.MANAGE_CUSTOMER)})


@login_required
@require_GET
def customer_search_results(request):
    """The results table alone, for search-as-you-type."""
    _require(request, Perm.VIEW_CUSTOMER)
    context = _search(request)
    response = render(request, "accounts/_customer_results.html", context)
    if request.htmx:  # the address bar keeps the query: Back and reload show the same results
        page = reverse("customer-search")
        replace_url(response, f"{page}?{urlencode({'q': context['query']})}" if context["query"] else page)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request):
    _require(request, Perm.MANAGE_CUSTOMER)
    form = CustomerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                customer = services.customer_create(actor=request.user, data=form.cleaned_data)
            except ApplicationError as exc:
                status = _show_error(form, exc)
            else:
                messages.success(request, _("Customer %(number)s was registered.") % {"number": customer.number})
                return redirect("customer-detail", number=customer.number)
    return render(request, "accounts/customer_form.html", {"form": form, "customer": None}, status=status)


@login_required
@require_GET
def customer_detail(request, number: str):
    profile = _require(request, Perm.VIEW_CUSTOMER)
    try:
        glance = selectors.customer_at_a_glance(actor=request.user, number=number)
    except ApplicationError as exc:
        return _problem(request, exc)
    return render(request, "accounts/customer_detail.html", {
        "customer": glance.customer, "accounts": glance.accounts,
        "can_manage": profile.has(Perm.MANAGE_CUSTOMER), "can_transfer": profile.has(Perm.POST_TRANSFER),
        "can_request": profile.has(Perm.CREATE_REQUEST),  # the desk page: cards, cheque books, requests
        "has_signature": selectors.has_specimen_signature(number),
    })


@login_required
@require_GET
def customer_signature(request, number: str):
    """The specimen signature image (for the customer page and the teller's withdrawal)."""
    from django.http import HttpResponse

    _require(request, Perm.VIEW_CUSTOMER)
    signature = selectors.specimen_signature(actor=request.user, customer_number=number)
    if signature is None:
        return _problem(request, NotFound(_("No specimen signature on file."), code="NO_SIGNATURE"))
    response = HttpResponse(bytes(signature.image), content_type=signature.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def customer_signature_upload(request, number: str):
    _require(request, Perm.MANAGE_CUSTOMER)
    upload = request.FILES.get("image")
    try:
        if upload is None or upload.size > services.SIGNATURE_MAX_BYTES:
            raise ApplicationError(_("The image is too large (200 KB at most).") if upload else
                                   _("Upload the signature as a PNG or JPEG image."), code="INVALID_IMAGE",
                                   field="image")
        services.specimen_signature_capture(actor=request.user, customer_number=number, image=upload.read())
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The specimen signature is saved."))
    return redirect("customer-detail", number=number)


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request, number: str):
    _require(request, Perm.MANAGE_CUSTOMER)
    if request.method == "GET":
        try:
            customer = selectors.customer_at_a_glance(actor=request.user, number=number).customer
        except ApplicationError as exc:
            return _problem(request, exc)
        form = CustomerForm(initial={name: getattr(customer, name) for name in CUSTOMER_FIELDS})
        return render(request, "accounts/customer_form.html", {"form": form, "number": number})
    form = CustomerForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.customer_update(actor=request.user, number=number, data=form.cleaned_data)
        except ApplicationError as exc:
            status = _show_error(form, exc)
        else:
            messages.success(request, _("The customer's details were saved."))
            return redirect("customer-detail", number=number)
    return render(request, "accounts/customer_form.html", {"form": form, "number": number}, status=status)


# --- accounts ----------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def account_open(request, number: str):
    profile = _require(request, Perm.MANAGE_CUSTOMER)
    if request.method == "GET":
        try:
            customer = selectors.customer_at_a_glance(actor=request.user, number=number).customer
        except ApplicationError as exc:
            return _problem(request, exc)
        form = AccountOpenForm(initial={"currency": profile.branch.currency_id, "product": "current"})
        return render(request, "accounts/account_open.html", {"form": form, "number": number, "customer": customer})
    form = AccountOpenForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        currency = data["currency"].code
        try:
            limit = data["overdraft_limit"].strip()
            overdraft = Money.parse(limit, currency, locale=request.LANGUAGE_CODE) if limit else None
            account = services.account_open_request(actor=request.user, customer_number=number, product=data["product"],
                                                    currency=currency, reason=data["reason"], overdraft_limit=overdraft)
        except ApplicationError as exc:
            status = _show_error(form, exc, fields={"amount": "overdraft_limit"})
        else:
            messages.success(request, _("Account %(number)s was requested. It opens when a supervisor approves it.")
                             % {"number": account.number})
            return redirect("customer-detail", number=number)
    return render(request, "accounts/account_open.html", {"form": form, "number": number}, status=status)


def _statement_form(request, account) -> StatementForm:
    """The date range asked for, or the last days up to today in the account's branch zone."""
    if "start" in request.GET or "end" in request.GET:
        return StatementForm(request.GET)
    today = branch_day(account.branch)
    start = today - dt.timedelta(days=STATEMENT_DEFAULT_DAYS - 1)
    return StatementForm({"start": start.isoformat(), "end": today.isoformat(), "after": request.GET.get("after", "")})


def _account_page(request, profile, account, *, status_form=None, status: int = 200):
    form = _statement_form(request, account)
    statement = None
    if form.is_valid():
        try:
            statement = selectors.account_statement(account=account, start=form.cleaned_data["start"],
                                                    end=form.cleaned_data["end"], after=form.cleaned_data["after"] or None,
                                                    limit=STATEMENT_PAGE)
        except ApplicationError as exc:
            status = max(status, _show_error(form, exc))
    else:
        status = max(status, 400)
    context = {
        "account": account, "form": form, "statement": statement, "currency": account.currency_id,
        "time_zone": account.branch.time_zone, "continued": bool(form.data.get("after")),
    }
    if statement is not None and statement.next_cursor:
        query = urlencode({"start": statement.start.isoformat(), "end": statement.end.isoformat(),
                           "after": statement.next_cursor})
        context["more_url"] = f"{reverse('account-page', args=[account.number])}?{query}"
    if request.htmx and context["continued"] and statement is not None:
        return render(request, "accounts/_statement_rows.html", context, status=status)
    manage = profile.has(Perm.MANAGE_CUSTOMER)
    pending = selectors.account_pending_approval(account)
    context.update({
        "pending_approval": pending,
        "pending_kind": approval_kind_get(pending.kind).label if pending is not None else "",
        "line": selectors.account_balances(account),
        "holders": account.holder_links.select_related("customer").order_by("-primary", "customer__number"),
        "status_form": status_form or AccountStatusRequestForm(),
        "may_freeze": manage and account.status in ("active", "dormant"),
        "may_unfreeze": manage and account.status == "frozen",
        "may_close": manage and account.status in ("active", "dormant"),
    })
    return render(request, "accounts/account_page.html", context, status=status)


@login_required
@require_GET
def account_page(request, number: str):
    profile = _require(request, Perm.VIEW_CUSTOMER)
    try:
        account = selectors.account_detail(actor=request.user, number=number)
    except ApplicationError as exc:
        return _problem(request, exc)
    return _account_page(request, profile, account)


_STATUS_REQUESTS = {
    "freeze": services.account_freeze_request,
    "unfreeze": services.account_unfreeze_request,
    "close": services.account_close_request,
}


@login_required
@require_POST
def account_status_request(request, number: str):
    profile = _require(request, Perm.MANAGE_CUSTOMER)
    form = AccountStatusRequestForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            _STATUS_REQUESTS[form.cleaned_data["action"]](actor=request.user, number=number,
                                                          reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            status = _show_error(form, exc)
        else:
            messages.success(request, _("Your request was sent. It takes effect when a supervisor approves it."))
            return redirect("account-page", number=number)
    try:
        account = selectors.account_detail(actor=request.user, number=number)
    except ApplicationError as exc:
        return _problem(request, exc)
    return _account_page(request, profile, account, status_form=form, status=status)


# --- transfers ---------------------------------------------------------------------------------------

def _receipt_body(tx, amount: Money) -> tuple[int, dict]:
    """What a transfer's receipt shows; stored with the idempotency key, so sending the same
    form again shows this receipt instead of posting again."""
    return 201, {
        "reference": str(tx.public_id), "posted_at": tx.posted_at.isoformat(), "description": tx.description,
        "from_account": tx.metadata.get("from"), "to_account": tx.metadata.get("to"), **amount.as_dict(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def transfer_create(request):
    profile = _require(request, Perm.POST_TRANSFER)
    if request.method == "GET":
        source = request.GET.get("from", "")
        form = TransferForm(initial={"currency": profile.branch.currency_id, "from_account": source})
        if source:  # came from an account's row: the cursor waits in the next field
            form.fields["from_account"].widget.attrs.pop("autofocus", None)
            form.fields["to_account"].widget.attrs["autofocus"] = True
        return render(request, "accounts/transfer_form.html", {"form": form})
    form = TransferForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            amount = Money.parse(data["amount"], data["currency"].code, locale=request.LANGUAGE_CODE)
            outcome = idempotency.run_idempotent(
                request, key=str(data["idempotency_key"]), scope="transfer.post", required=True,
                data={"from_account": data["from_account"], "to_account": data["to_account"], **amount.as_dict(),
                      "description": data["description"]},
                perform=lambda claim: services.transfer_post(
                    actor=request.user, from_account=data["from_account"], to_account=data["to_account"], amount=amount,
                    description=data["description"], idempotency_claim=claim),
                render=lambda tx: _receipt_body(tx, amount),
            )
        except ApplicationError as exc:
            status = _show_error(form, exc)
        else:
            body = outcome.body
            return render(request, "accounts/transfer_receipt.html", {
                "receipt": body, "amount": Money(body["amount"], body["currency"]),
                "posted_at": dt.datetime.fromisoformat(body["posted_at"]), "replayed": outcome.replayed,
                "time_zone": profile.branch.time_zone,
            })
    # a new key for the corrected form: the rejected one posted nothing
    form.data = form.data.copy()
    form.data["idempotency_key"] = str(TransferForm.base_fields["idempotency_key"].initial())
    return render(request, "accounts/transfer_form.html", {"form": form}, status=status)
