"""Screens of the service desk: the branch's request queue, one request with its timeline
and the actions its status allows, the customer at a glance for the desk, and the form
that takes a new request of any kind.

Thin, like every view: parse with a form, check the role, call one service or selector,
render. A service's ``ApplicationError`` is shown on the page (on the field it names, or
above the form) with its HTTP status.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors as account_selectors
from branch_ops import idempotency
from branch_ops.access import require_perm
from branch_ops.errors import ApplicationError
from branch_ops.models import Approval
from branch_ops.roles import Perm
from customer_service import selectors, services
from customer_service.forms import (
    BLOCK_REASONS,
    INQUIRY_TOPICS,
    LOAN_DOCUMENT_LABELS,
    LOAN_PRODUCT_LABELS,
    MASKED_PAN_KINDS,
    QUEUE_FILTERS,
    CancelForm,
    ChequeBookAdvanceForm,
    ClaimForm,
    FulfilForm,
    RequestCreateForm,
    queue_filter_form,
)
from customer_service.models import OPEN_STATUSES, TRANSITIONS, Card, ChequeBook, RequestKind, RequestStatus
from customer_service.services import LOAN_DOCUMENTS

QUEUE_PAGE = 50
#: statuses in which someone works on a request (and may take it)
WORKING_STATUSES = ("submitted", "approved", "in_progress")


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


# --- the queue -----------------------------------------------------------------------------------------

def _queue_params(request) -> QueryDict:
    """The filters asked for; with none, the open requests."""
    if any(name in request.GET for name in QUEUE_FILTERS):
        return request.GET
    return QueryDict("open=true")


def _queue_page(request, profile, *, error: str = "", status: int = 200):
    params = _queue_params(request)
    requests = selectors.request_queue(actor=request.user, params=params, request=request)
    page = Paginator(requests, QUEUE_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page, "filter_form": queue_filter_form(params, request), "error": error, "now": timezone.now(),
        "open_statuses": OPEN_STATUSES, "working_statuses": WORKING_STATUSES, "time_zone": profile.branch.time_zone,
    }
    template = "customer_service/_queue.html" if request.htmx and not error else "customer_service/queue.html"
    return render(request, template, context, status=status)


@login_required
@require_GET
def request_queue(request):
    profile = _require(request, Perm.CREATE_REQUEST)
    return _queue_page(request, profile)


@login_required
@require_POST
def request_claim(request, number: str):
    profile = _require(request, Perm.CREATE_REQUEST)
    form = ClaimForm(request.POST)
    origin = form.cleaned_data["origin"] if form.is_valid() else "queue"
    try:
        services.request_claim(actor=request.user, number=number)
    except ApplicationError as exc:
        if origin == "detail":
            return _detail_page(request, number, error=exc.message, status=exc.status_code)
        return _queue_page(request, profile, error=exc.message, status=exc.status_code)
    messages.success(request, _("You took request %(number)s.") % {"number": number})
    return redirect("request-detail", number=number)


# --- one request ---------------------------------------------------------------------------------------

def _actions(sr, user) -> dict[str, bool]:
    """What the page offers in the request's status (the services decide in the end)."""
    mine = sr.assigned_to_id == user.pk
    working = sr.status in WORKING_STATUSES
    cheque_book = sr.kind == RequestKind.CHEQUE_BOOK
    return {
        "claim": working and sr.assigned_to_id is None,
        "start": mine and sr.status in ("submitted", "approved"),
        "fulfil": mine and working and not cheque_book,
        "cancel": "cancelled" in TRANSITIONS.get(sr.status, set()),
        "cheque_book": cheque_book and sr.status in ("submitted", "in_progress"),
    }


def _shown(sr) -> dict:
    """What the request's data says, ready to show: labels for codes, the cards by their
    masked number, the cheque book's progress, the approval it waits for."""
    data = sr.data or {}
    shown: dict = {
        "product": LOAN_PRODUCT_LABELS.get(data.get("product", ""), data.get("product", "")),
        "documents": [(LOAN_DOCUMENT_LABELS.get(doc, doc), bool((data.get("documents") or {}).get(doc)))
                      for doc in LOAN_DOCUMENTS if doc in (data.get("documents") or {})],
        "block_reason": dict(BLOCK_REASONS).get(data.get("reason", ""), ""),
        "topic": dict(INQUIRY_TOPICS).get(data.get("topic", ""), data.get("topic", "")),
        "changes": (data.get("changes") or {}).items(),
    }
    if data.get("card") and sr.account_id:
        shown["card"] = Card.objects.filter(public_id=data["card"], account_id=sr.account_id).first()
    if data.get("cheque_book") and sr.account_id:
        shown["cheque_book"] = ChequeBook.objects.filter(public_id=data["cheque_book"], account_id=sr.account_id).first()
    if sr.status == RequestStatus.AWAITING_APPROVAL:
        shown["approval"] = (Approval.objects.filter(subject_id=str(sr.public_id))
                             .order_by("-requested_at").first())
    return shown


def _detail_page(request, number: str, *, forms: dict | None = None, error: str = "", status: int = 200):
    try:
        sr = selectors.request_detail(actor=request.user, number=number)
    except ApplicationError as exc:
        return _problem(request, exc)
    labels = dict(RequestStatus.choices)
    timeline = [{"from": labels.get(step.from_status, ""), "to": labels.get(step.to_status, step.to_status),
                 "to_status": step.to_status, "actor": step.actor, "at": step.at, "reason": step.reason}
                for step in sr.timeline.all()]
    forms = {
        "fulfil": FulfilForm(), "cancel": CancelForm(), "cheque_book": ChequeBookAdvanceForm(),
        **(forms or {}),
    }
    return render(request, "customer_service/detail.html", {
        "sr": sr, "timeline": timeline, "shown": _shown(sr), "actions": _actions(sr, request.user), "forms": forms,
        "error": error, "currency": sr.branch.currency_id, "time_zone": sr.branch.time_zone,
        "masked_pan_kind": sr.kind in MASKED_PAN_KINDS,
    }, status=status)


@login_required
@require_GET
def request_detail(request, number: str):
    _require(request, Perm.CREATE_REQUEST)
    return _detail_page(request, number)


@login_required
@require_POST
def request_start(request, number: str):
    _require(request, Perm.CREATE_REQUEST)
    try:
        services.request_start(actor=request.user, number=number)
    except ApplicationError as exc:
        return _detail_page(request, number, error=exc.message, status=exc.status_code)
    messages.success(request, _("Work on request %(number)s has started.") % {"number": number})
    return redirect("request-detail", number=number)


@login_required
@require_POST
def request_fulfil(request, number: str):
    _require(request, Perm.CREATE_REQUEST)
    form = FulfilForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.request_fulfil(actor=request.user, number=number, note=form.cleaned_data["note"],
                                    data=form.service_data())
        except ApplicationError as exc:
            status = _show_error(form, exc)
        else:
            messages.success(request, _("Request %(number)s is fulfilled.") % {"number": number})
            return redirect("request-detail", number=number)
    return _detail_page(request, number, forms={"fulfil": form}, status=status)


@login_required
@require_POST
def request_cancel(request, number: str):
    _require(request, Perm.CREATE_REQUEST)
    form = CancelForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.request_cancel(actor=request.user, number=number, reason=form.cleaned_data["reason"])
        except ApplicationError as exc:
            status = _show_error(form, exc)
        else:
            messages.success(request, _("Request %(number)s was cancelled.") % {"number": number})
            return redirect("request-detail", number=number)
    return _detail_page(request, number, forms={"cancel": form}, status=status)


@login_required
@require_POST
def cheque_book_advance(request, number: str):
    _require(request, Perm.CREATE_REQUEST)
    form = ChequeBookAdvanceForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            book = services.cheque_book_advance(actor=request.user, number=number,
                                                document=form.cleaned_data["document"])
        except ApplicationError as exc:
            status = _show_error(form, exc)
        else:
            messages.success(request, _("The cheque book is now: %(status)s.") % {"status": book.get_status_display()})
            return redirect("request-detail", number=number)
    return _detail_page(request, number, forms={"cheque_book": form}, status=status)


# --- the customer at the desk ----------------------------------------------------------------------------

def _desk_customer(request, number: str):
    """The customer at a glance (identity, accounts with balances) and what the desk adds
    (cards, cheque books, open requests, inquiries)."""
    glance = account_selectors.customer_at_a_glance(actor=request.user, number=number)
    return glance, selectors.customer_desk_view(actor=request.user, customer=glance.customer)


@login_required
@require_GET
def desk_customer(request, customer_number: str):
    profile = _require(request, Perm.CREATE_REQUEST)
    try:
        glance, desk = _desk_customer(request, customer_number)
    except ApplicationError as exc:
        return _problem(request, exc)
    return render(request, "customer_service/desk_customer.html", {
        "customer": glance.customer, "accounts": glance.accounts, **desk, "kinds": RequestKind.choices,
        "time_zone": profile.branch.time_zone,
    })


# --- a new request -------------------------------------------------------------------------------------

def _request_form(request, profile, kind: str, glance, desk, data=None, files=None) -> RequestCreateForm:
    accounts = [line.account for line in glance.accounts if line.account.status not in ("pending", "closed")]
    cards = [card for card in desk["cards"] if card.status != Card.Status.REPLACED]
    return RequestCreateForm(data, files, kind=kind, accounts=accounts, cards=cards, currency=profile.branch.currency_id,
                             locale=request.LANGUAGE_CODE)


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request, customer_number: str):
    profile = _require(request, Perm.CREATE_REQUEST)
    kind = request.POST.get("kind") if request.method == "POST" else request.GET.get("kind", "")
    try:
        glance, desk = _desk_customer(request, customer_number)
    except ApplicationError as exc:
        return _problem(request, exc)
    context = {"customer": glance.customer, "kinds": RequestKind.choices, "kind": kind}
    if kind not in services.KIND_RULES:  # no kind (or an unknown one): choose one
        return render(request, "customer_service/request_form.html", {**context, "form": None},
                      status=400 if kind or request.method == "POST" else 200)
    context["kind_label"] = RequestKind(kind).label
    if request.method == "GET":
        form = _request_form(request, profile, kind, glance, desk)
        return render(request, "customer_service/request_form.html", {**context, "form": form})
    form = _request_form(request, profile, kind, glance, desk, data=request.POST, files=request.FILES)
    status = 400
    if form.is_valid():
        account_number, data = form.account_number(), form.service_data()
        try:
            outcome = idempotency.run_idempotent(
                request, key=str(form.cleaned_data["idempotency_key"]), scope="service_request.create", required=True,
                data={"kind": kind, "customer_number": customer_number, "account_number": account_number, "data": data},
                perform=lambda claim: services.request_create(
                    actor=request.user, kind=kind, customer_number=customer_number, account_number=account_number,
                    data=data, idempotency_claim=claim),
                render=lambda sr: (201, {"number": sr.number, "status": sr.status}),
            )
        except ApplicationError as exc:
            status = _show_error(form, exc, fields={"account_number": "account", "initial_deposit": "deposit_amount"})
        else:
            number = outcome.body["number"]
            if outcome.replayed:
                messages.info(request, _("Request %(number)s had already been taken; nothing was taken again.")
                              % {"number": number})
            elif outcome.body.get("status") == RequestStatus.AWAITING_APPROVAL:
                messages.success(request, _("Request %(number)s was taken. It takes effect when it is approved.")
                                 % {"number": number})
            else:
                messages.success(request, _("Request %(number)s was taken.") % {"number": number})
            return redirect("request-detail", number=number)
    # a new key for the corrected form: the refused one took nothing
    form.data = form.data.copy()
    form.data["idempotency_key"] = str(RequestCreateForm.base_fields["idempotency_key"].initial())
    return render(request, "customer_service/request_form.html", {**context, "form": form}, status=status)


# --- a statement: on screen (printable), as PDF and as CSV ------------------------------------------------

@login_required
@require_GET
def statement_page(request, number: str):
    _require(request, Perm.CREATE_REQUEST)
    try:
        statement = selectors.request_statement(actor=request.user, number=number)
    except ApplicationError as exc:
        return _problem(request, exc)
    return render(request, "customer_service/statement.html", {
        "st": statement, "sr": statement.request, "currency": statement.currency,
        "time_zone": statement.request.branch.time_zone})


@login_required
@require_GET
def statement_download(request, number: str, fmt: str):
    from django.http import HttpResponse

    from customer_service.statement_pdf import statement_pdf

    _require(request, Perm.CREATE_REQUEST)
    try:
        if fmt == "csv":
            filename, text = selectors.statement_csv(actor=request.user, number=number)
            response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        else:
            statement = selectors.request_statement(actor=request.user, number=number)
            filename = f"statement-{statement.account.number}-{statement.start}-{statement.end}.pdf"
            response = HttpResponse(statement_pdf(statement, locale=request.LANGUAGE_CODE),
                                    content_type="application/pdf")
    except ApplicationError as exc:
        return _problem(request, exc)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- an account opening for a new customer ------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def account_open_new_customer(request):
    """The customer's KYC details and the opening on one page: the service registers the
    customer and takes the opening in one transaction (a refused opening leaves no customer)."""
    from accounts.forms import CustomerForm

    profile = _require(request, Perm.CREATE_REQUEST)
    _require(request, Perm.MANAGE_CUSTOMER)
    data = request.POST if request.method == "POST" else None
    customer_form = CustomerForm(data, prefix="customer")
    form = RequestCreateForm(data, request.FILES or None, kind="account_open", currency=profile.branch.currency_id,
                             locale=request.LANGUAGE_CODE)
    # a new customer has no account to transfer from: the initial deposit is cash at the window
    form.fields.pop("deposit_from_account")
    form.fields["deposit_source"].choices = [("", "—"), ("cash", _("Cash at the window"))]
    status = 200
    if request.method == "POST":
        status = 400
        if customer_form.is_valid() and form.is_valid():
            new_customer = {k: v for k, v in customer_form.cleaned_data.items() if v not in (None, "")}
            service_data = {**form.service_data(), "new_customer": new_customer}
            try:
                outcome = idempotency.run_idempotent(
                    request, key=str(form.cleaned_data["idempotency_key"]), scope="service_request.create",
                    required=True, data={"kind": "account_open", "customer_number": "", "data": service_data},
                    perform=lambda claim: services.request_create(
                        actor=request.user, kind="account_open", customer_number="", data=service_data,
                        idempotency_claim=claim),
                    render=lambda sr: (201, {"number": sr.number, "status": sr.status}),
                )
            except ApplicationError as exc:
                target = customer_form if exc.field in customer_form.fields else form
                status = _show_error(target, exc, fields={"initial_deposit": "deposit_amount"})
            else:
                messages.success(request, _("Request %(number)s was taken. It takes effect when it is approved.")
                                 % {"number": outcome.body["number"]})
                return redirect("request-detail", number=outcome.body["number"])
        form.data = form.data.copy()
        form.data["idempotency_key"] = str(RequestCreateForm.base_fields["idempotency_key"].initial())
    return render(request, "customer_service/account_open_new.html",
                  {"customer_form": customer_form, "form": form}, status=status)

