"""Screens of complaints: the branch's list with its deadline clocks, the log form, one
complaint with its timeline and the actions its status allows, the printable letter, and
the report for a period.

Thin, like every view: parse with a form, check the role, call one service or selector,
render. A service's ``ApplicationError`` is shown on the page (beside the field it names,
or above the form) and answered with its HTTP status.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from branch_ops import idempotency
from branch_ops.access import require_perm
from branch_ops.business_days import branch_calendar
from branch_ops.errors import ApplicationError
from branch_ops.models import Approval, StaffProfile
from branch_ops.money import Money
from branch_ops.roles import Perm, Role
from complaints import selectors, services
from complaints.forms import ACTION_FORMS, ComplaintLogForm, QueueFilterForm, ReportForm, action_form
from complaints.models import Category, Complaint, Deadline

LIST_PAGE = 50
#: a clock's colour as a Bootstrap badge
CLOCK_CSS = {"green": "success", "amber": "warning", "red": "danger", "done": "secondary"}
#: roles that may be handed a complaint
HANDLING_ROLES = (Role.CSR, Role.COORDINATOR, Role.SUPERVISOR)
REPORT_DAYS = 30
#: what each kind of timeline entry is called
ENTRY_LABELS = {
    "logged": gettext_lazy("Logged"),
    "acknowledged": gettext_lazy("Acknowledged (letter sent)"),
    "handed_over": gettext_lazy("Handed over"),
    "note": pgettext_lazy("complaint", "Note"),
    "escalated": gettext_lazy("Escalated"),
    "extended": gettext_lazy("Final deadline extended"),
    "decided": pgettext_lazy("complaint status", "Decided"),
    "redress_requested": gettext_lazy("Redress waiting for approval"),
    "redress_paid": gettext_lazy("Redress paid"),
    "closed": gettext_lazy("Closed (final response)"),
    "follow_up": gettext_lazy("Follow-up"),
    "reopened": gettext_lazy("Reopened"),
    "breach": gettext_lazy("Deadline missed"),
}


def _require(request, perm: Perm):
    try:
        return require_perm(request.user, perm)
    except ApplicationError as exc:
        raise PermissionDenied(exc.message) from None


def _show_error(form, exc: ApplicationError) -> int:
    """Put a service's error on the form field it names, else above the form; return the
    HTTP status to answer with."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return exc.status_code


def _problem(request, exc: ApplicationError):
    return render(request, "error.html", {"message": exc.message}, status=exc.status_code)


# --- clocks ------------------------------------------------------------------------------------------------

def _time_left(deadline: Deadline, colour: str, now: dt.datetime) -> str:
    if colour == "done":
        return _("met")
    if colour == "red":
        return _("overdue")
    minutes = int((deadline.due_at - now).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h left") % {"days": days, "hours": hours}
    return _("%(hours)s h %(minutes)s min left") % {"hours": hours, "minutes": minutes}


def _clocks(complaint: Complaint, now: dt.datetime) -> list[dict]:
    """The complaint's three clocks in order (acknowledgement, summary, final), each with
    its colour (from the service), badge class and time left."""
    order = {kind: i for i, kind in enumerate(Deadline.Kind.values)}
    clocks = []
    for deadline in sorted(complaint.deadlines.all(), key=lambda d: order.get(d.kind, 9)):
        colour = services.clock_colour(deadline, complaint.regime, now)
        clocks.append({"kind": deadline.kind, "label": deadline.get_kind_display(), "deadline": deadline,
                       "colour": colour, "css": CLOCK_CSS[colour], "left": _time_left(deadline, colour, now)})
    return clocks


# --- the list ------------------------------------------------------------------------------------------------

@login_required
@require_GET
def complaint_list(request):
    profile = _require(request, Perm.LOG_COMPLAINT)
    form = QueueFilterForm(request.GET)
    valid = form.is_valid()
    complaints = selectors.complaint_queue(actor=request.user, status=form.cleaned_data["status"] if valid else None)
    page = Paginator(complaints, LIST_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [{"complaint": c, "clocks": _clocks(c, now)} for c in page.object_list]
    context = {"page": page, "rows": rows, "filter_form": form, "time_zone": profile.branch.time_zone,
               "supervisor": profile.has(Perm.SUPERVISE_COMPLAINTS)}
    template = "complaints/_list.html" if request.htmx and valid else "complaints/list.html"
    return render(request, template, context, status=200 if valid else 400)


# --- logging a complaint -------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def complaint_new(request):
    profile = _require(request, Perm.LOG_COMPLAINT)
    currency = profile.branch.currency_id
    if request.method == "GET":
        form = ComplaintLogForm(currency=currency, locale=request.LANGUAGE_CODE)
        return render(request, "complaints/new.html", {"form": form})
    form = ComplaintLogForm(request.POST, currency=currency, locale=request.LANGUAGE_CODE)
    status = 400
    if form.is_valid():
        try:
            outcome = idempotency.run_idempotent(
                request, key=str(form.cleaned_data["idempotency_key"]), scope="complaint.log", required=True,
                data=form.idempotency_data(),
                perform=lambda claim: services.complaint_log(actor=request.user, idempotency_claim=claim,
                                                             **form.service_kwargs()),
                render=lambda c: (201, {"number": c.number}),
            )
        except ApplicationError as exc:
            status = _show_error(form, exc)
        else:
            number = outcome.body["number"]
            if outcome.replayed:
                messages.info(request, _("Complaint %(number)s had already been logged; nothing was logged again.")
                              % {"number": number})
            else:
                messages.success(request, _("Complaint %(number)s was logged.") % {"number": number})
            return redirect("complaint-detail", number=number)
    # a new key for the corrected form: the refused one logged nothing
    form.data = form.data.copy()
    form.data["idempotency_key"] = str(ComplaintLogForm.base_fields["idempotency_key"].initial())
    return render(request, "complaints/new.html", {"form": form}, status=status)


# --- one complaint -------------------------------------------------------------------------------------------

def _colleagues(branch_id, *, owner_id=None) -> list[tuple[str, str]]:
    """Staff of the branch who may be handed a complaint (not its owner)."""
    staff = (StaffProfile.objects.select_related("user")
             .filter(branch_id=branch_id, role__in=[r.value for r in HANDLING_ROLES],
                     kind=StaffProfile.Kind.PERSON, user__is_active=True)
             .exclude(user_id=owner_id).order_by("user__username"))
    return [(p.user.get_username(), f"{p.user.get_full_name() or p.user.get_username()} · {p.get_role_display()}")
            for p in staff]


def _redress_currency(complaint: Complaint) -> str:
    return complaint.account.currency_id if complaint.account_id else complaint.branch.currency_id


def _allowed(complaint: Complaint, user, profile, clocks: list[dict], now: dt.datetime) -> dict[str, bool]:
    """The actions the page offers the viewer in the complaint's status (the services
    decide in the end). Only the owner or a supervisor acts at all."""
    supervisor = profile.has(Perm.SUPERVISE_COMPLAINTS)
    if complaint.owner_id != user.pk and not supervisor:
        return dict.fromkeys(ACTION_FORMS, False)
    closed = complaint.status == Complaint.Status.CLOSED
    final = next((c["deadline"] for c in clocks if c["kind"] == Deadline.Kind.FINAL), None)
    upheld = complaint.decision in (Complaint.Decision.UPHELD, Complaint.Decision.PARTLY)
    return {
        "acknowledge": complaint.status == Complaint.Status.LOGGED,
        "handover": not closed,
        "note": not closed,
        "escalate": not closed and not complaint.escalated,
        "extend": (supervisor and not closed and not complaint.extended
                   and bool(complaint.regime.extended_final_business_days)
                   and final is not None and final.breached_at is None),
        "decide": not closed,
        "redress": not closed and upheld and complaint.account_id is not None,
        "close": not closed and bool(complaint.decision),
        "follow-up": closed and complaint.satisfaction is None,
        "reopen": closed and complaint.closed_at is not None and now - complaint.closed_at <= services.REOPEN_WINDOW,
    }


def _detail_page(request, number: str, *, action: str = "", form=None, error: ApplicationError | None = None,
                 status: int = 200):
    """The complaint page. After a refused action, ``form`` is that action's form as it
    was sent, with its errors (it keeps what was typed); ``error`` is the refusal."""
    profile = _require(request, Perm.LOG_COMPLAINT)
    try:
        complaint = selectors.complaint_detail(actor=request.user, number=number)
    except ApplicationError as exc:
        # a complaint the viewer may not see: say why the action was refused, or that it is not there
        return _problem(request, error or exc)
    now = timezone.now()
    clocks = _clocks(complaint, now)
    allowed = _allowed(complaint, request.user, profile, clocks, now)
    colleagues = _colleagues(complaint.branch_id, owner_id=complaint.owner_id) if allowed["handover"] else ()
    currency = _redress_currency(complaint)
    forms = {name: action_form(name, colleagues=colleagues, currency=currency, locale=request.LANGUAGE_CODE)
             for name, shown in allowed.items() if shown}
    message = ""
    if form is not None and allowed.get(action):
        forms[action] = form  # the refusal shows on the form, beside the field it names
    elif error is not None:
        message = error.message
    elif form is not None:
        message = " ".join(str(e) for errors in form.errors.values() for e in errors)
    approval = (Approval.objects.filter(kind=services.REDRESS, subject_id=str(complaint.public_id),
                                        status=Approval.Status.PENDING).order_by("-requested_at").first())
    decisions = dict(Complaint.Decision.choices)
    timeline = [{"entry": e, "label": ENTRY_LABELS.get(e.kind, e.kind),
                 "decision": decisions.get((e.data or {}).get("decision"), "")} for e in complaint.entries.all()]
    return render(request, "complaints/detail.html", {
        "complaint": complaint, "clocks": clocks, "timeline": timeline, "can_act": any(allowed.values()),
        # the template reads "follow-up" as follow_up
        "allowed": {k.replace("-", "_"): v for k, v in allowed.items()},
        "forms": {k.replace("-", "_"): v for k, v in forms.items()},
        "error": message, "approval": approval, "time_zone": complaint.branch.time_zone,
        "redress_currency": currency,
    }, status=status)


@login_required
@require_GET
def complaint_detail(request, number: str):
    return _detail_page(request, number)


def _call(action: str, user, number: str, data: dict):
    """The one service of ``action`` (as the API's ComplaintActionApi dispatches)."""
    calls = {
        "acknowledge": lambda: services.complaint_acknowledge(actor=user, number=number),
        "handover": lambda: services.complaint_handover(actor=user, number=number, to_username=data["to"],
                                                        reason=data["reason"]),
        "note": lambda: services.complaint_note(actor=user, number=number, text=data["text"],
                                                transaction_ref=str(data["transaction_ref"] or "")),
        "escalate": lambda: services.complaint_escalate(actor=user, number=number, reason=data["reason"]),
        "extend": lambda: services.complaint_extend(actor=user, number=number, reason=data["reason"]),
        "decide": lambda: services.complaint_decide(actor=user, number=number, decision=data["decision"],
                                                    reason=data["reason"]),
        "redress": lambda: services.complaint_redress(actor=user, number=number, amount=data["amount"],
                                                      reason=data["reason"]),
        "close": lambda: services.complaint_close(actor=user, number=number,
                                                  final_response=data["final_response"]),
        "follow-up": lambda: services.complaint_follow_up(actor=user, number=number,
                                                          satisfaction=data["satisfaction"],
                                                          comment=data["comment"]),
        "reopen": lambda: services.complaint_reopen(actor=user, number=number, reason=data["reason"]),
    }
    return calls[action]()


DONE = {
    "acknowledge": gettext_lazy("Complaint %(number)s is acknowledged: the letter is ready to print."),
    "handover": gettext_lazy("Complaint %(number)s was handed over."),
    "note": gettext_lazy("The note was added to complaint %(number)s."),
    "escalate": gettext_lazy("Complaint %(number)s is escalated."),
    "extend": gettext_lazy("The final deadline of complaint %(number)s is extended."),
    "decide": gettext_lazy("The decision on complaint %(number)s is recorded."),
    "redress": gettext_lazy("The redress was paid into the complainant's account."),
    "close": gettext_lazy("Complaint %(number)s is closed."),
    "follow-up": gettext_lazy("The follow-up of complaint %(number)s is recorded."),
    "reopen": gettext_lazy("Complaint %(number)s is reopened."),
}


@login_required
@require_POST
def complaint_action(request, number: str, action: str):
    profile = _require(request, Perm.LOG_COMPLAINT)
    if action not in ACTION_FORMS:
        raise Http404(_("No such action."))
    # the redress is typed in the account's currency: the form needs to know it
    currency = profile.branch.currency_id
    if action == "redress":
        linked = Complaint.objects.filter(number=number, branch=profile.branch).values_list(
            "account__currency_id", flat=True).first()
        currency = linked or currency
    form = action_form(action, request.POST, currency=currency, locale=request.LANGUAGE_CODE,
                       colleagues=_colleagues(profile.branch_id) if action == "handover" else ())
    if not form.is_valid():
        return _detail_page(request, number, action=action, form=form, status=400)
    try:
        complaint = _call(action, request.user, number, form.cleaned_data)
    except ApplicationError as exc:
        status = _show_error(form, exc)
        return _detail_page(request, number, action=action, form=form, error=exc, status=status)
    if action == "redress" and complaint.entries.order_by("-id").values_list("kind", flat=True).first() \
            == "redress_requested":
        messages.warning(request, _("The redress of %(amount)s waits for a supervisor's approval.")
                         % {"amount": form.cleaned_data["amount"].format(request.LANGUAGE_CODE)})
    else:
        messages.success(request, DONE[action] % {"number": number})
    return redirect("complaint-detail", number=number)


# --- the letter ----------------------------------------------------------------------------------------------

@login_required
@require_GET
def complaint_letter(request, number: str):
    _require(request, Perm.LOG_COMPLAINT)
    try:
        complaint = selectors.complaint_detail(actor=request.user, number=number)
    except ApplicationError as exc:
        return _problem(request, exc)
    # the letter as it was sent when acknowledged; before that, as it would be sent now
    letter = selectors.complaint_letter(complaint)
    language = letter["language"]
    return render(request, "complaints/letter.html", {
        "complaint": complaint, "letter": letter["text"], "sent": letter["sent"], "letter_language": language,
        "letter_dir": "rtl" if language.split("-")[0] in settings.LANGUAGES_BIDI else "ltr",
        "time_zone": complaint.branch.time_zone,
    })


# --- the report ----------------------------------------------------------------------------------------------

@login_required
@require_GET
def complaint_report(request):
    profile = _require(request, Perm.VIEW_REPORTS)
    today = branch_calendar(profile.branch).local_date(timezone.now())
    form = ReportForm(request.GET or None, initial={"start": today - dt.timedelta(days=REPORT_DAYS), "end": today})
    if form.is_bound and not form.is_valid():
        return render(request, "complaints/report.html", {"form": form, "report": None}, status=400)
    start = (form.cleaned_data.get("start") if form.is_bound else None) or form.initial["start"]
    end = (form.cleaned_data.get("end") if form.is_bound else None) or form.initial["end"]
    try:
        report = selectors.complaint_report(actor=request.user, start=start, end=end)
    except ApplicationError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return render(request, "complaints/report.html", {"form": form, "report": None}, status=exc.status_code)
    names = dict(Category.objects.values_list("code", "name"))

    def most(rows: dict) -> int:
        return max([1, *(n for counts in rows.values() for n in counts.values())])

    csv_url = reverse("api:complaint-report") + "?" + urlencode({"download": "csv", "start": start.isoformat(),
                                                                  "end": end.isoformat()})
    return render(request, "complaints/report.html", {
        "form": form, "report": report, "start": start, "end": end, "csv_url": csv_url,
        "most_category": most(report.by_category), "most_staff": most(report.by_staff),
        "upheld_percent": report.upheld_rate * 100 if report.upheld_rate is not None else None,
        "redress_paid": Money(report.redress_paid, profile.branch.currency_id).format(request.LANGUAGE_CODE),
        "by_category": [(names.get(code, code), code, counts) for code, counts in report.by_category.items()],
        "by_staff": list(report.by_staff.items()),
    })
