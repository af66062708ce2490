"""Lobby queue API (``/api/v1/floor/lobby/``): the same services as the kiosk, the lobby
display and the counter panel. Tickets are named by their ``id`` (a UUID); ``code`` (A007)
is what the customer reads."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from branch_ops import idempotency
from branch_ops.access import staff_profile
from branch_ops.api import IDEMPOTENCY_PARAM, CursorListApi, respond
from branch_ops.floor.lobby import selectors, services
from branch_ops.floor.lobby.models import LANGUAGE_CODES, Ticket
from branch_ops.roles import Perm


class TicketOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    code = serializers.CharField()
    service = serializers.CharField(source="service.code")
    day = serializers.DateField()
    number = serializers.IntegerField()
    language = serializers.CharField()
    priority = serializers.BooleanField()
    priority_rule = serializers.CharField(source="priority_rule.code", allow_null=True, default=None)
    status = serializers.ChoiceField(choices=Ticket.Status.values)
    counter = serializers.CharField(source="counter.number", allow_null=True, default=None)
    called_by = serializers.CharField(source="called_by.username", allow_null=True, default=None)
    taken_at = serializers.DateTimeField()
    called_at = serializers.DateTimeField(allow_null=True)
    served_at = serializers.DateTimeField(allow_null=True)
    done_at = serializers.DateTimeField(allow_null=True)
    recall_count = serializers.IntegerField()
    wait_seconds = serializers.IntegerField(allow_null=True)
    served_as = serializers.SerializerMethodField()

    def get_served_as(self, ticket) -> str | None:
        return f"{ticket.served_app}:{ticket.served_ref}" if ticket.served_app else None


def _ticket(ticket: Ticket) -> tuple[int, dict]:
    return 201, TicketOutput(ticket).data


class ServiceFigures(serializers.Serializer):
    waiting = serializers.IntegerField()
    longest_wait_seconds = serializers.FloatField(allow_null=True)
    taken = serializers.IntegerField()
    called = serializers.IntegerField()
    served = serializers.IntegerField()
    no_show = serializers.IntegerField()
    wait_median_seconds = serializers.FloatField(allow_null=True)
    wait_p90_seconds = serializers.FloatField(allow_null=True)
    service_median_seconds = serializers.FloatField(allow_null=True)
    service_p90_seconds = serializers.FloatField(allow_null=True)


class ServiceSummary(ServiceFigures):
    code = serializers.CharField()
    letter = serializers.CharField()
    name = serializers.CharField()


class SummaryOutput(serializers.Serializer):
    branch = serializers.CharField()
    day = serializers.DateField()
    as_of = serializers.DateTimeField(required=False)
    services = ServiceSummary(many=True)
    total = ServiceFigures()


class TicketFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Ticket.Status.choices)
    service = django_filters.CharFilter(field_name="service__code")

    class Meta:
        model = Ticket
        fields = ["status", "service"]


class TicketListTakeApi(CursorListApi):
    required_perm = Perm.SERVE_LOBBY
    serializer_class = TicketOutput
    filterset_class = TicketFilter
    cursor_ordering = ("-priority", "taken_at", "id")

    class TakeInput(serializers.Serializer):
        service = serializers.CharField(max_length=30)
        language = serializers.ChoiceField(choices=LANGUAGE_CODES, default="en")
        priority_rule = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")

    def scoped_queryset(self):
        return selectors.lobby_ticket_queryset(staff_profile(self.request.user).branch)

    @extend_schema(summary="Today's tickets of my branch in queue order (priority first, then oldest)")
    def get(self, request):
        return super().get(request)

    @extend_schema(request=TakeInput, responses={201: TicketOutput}, parameters=[IDEMPOTENCY_PARAM],
                   examples=[OpenApiExample("Elderly customer, cash", request_only=True,
                                            value={"service": "cash", "language": "ar", "priority_rule": "elderly"})],
                   summary="Take a ticket for a customer at my branch (as the kiosk does)")
    def post(self, request):
        data = self.TakeInput(data=request.data)
        data.is_valid(raise_exception=True)
        branch = staff_profile(request.user).branch
        v = data.validated_data
        outcome = idempotency.run_idempotent(
            request, scope="lobby.ticket_take", data=request.data, required=False,
            perform=lambda claim: services.ticket_take(branch=branch, service=v["service"], language=v["language"],
                                                       priority_rule=v["priority_rule"] or None,
                                                       idempotency_claim=claim),
            render=_ticket)
        return respond(outcome)


class CounterInput(serializers.Serializer):
    counter = serializers.CharField(max_length=10)


class CounterOutput(serializers.Serializer):
    number = serializers.CharField()
    name = serializers.CharField()
    services = serializers.SerializerMethodField()
    staff = serializers.CharField(source="staff.username", allow_null=True, default=None)
    signed_in_at = serializers.DateTimeField(allow_null=True)

    def get_services(self, counter) -> list[str]:
        return [s.code for s in counter.services.all()]


class CounterSignInApi(APIView):
    required_perm = Perm.SERVE_LOBBY

    @extend_schema(request=CounterInput, responses=CounterOutput, summary="Sit down at a counter of my branch")
    def post(self, request):
        data = CounterInput(data=request.data)
        data.is_valid(raise_exception=True)
        counter = services.counter_sign_in(actor=request.user, counter_number=data.validated_data["counter"])
        return Response(CounterOutput(counter).data)


class CounterSignOutApi(APIView):
    required_perm = Perm.SERVE_LOBBY

    @extend_schema(request=None, responses=CounterOutput, summary="Leave my counter (no ticket may be open)")
    def post(self, request):
        return Response(CounterOutput(services.counter_sign_out(actor=request.user)).data)


class CallNextApi(APIView):
    required_perm = Perm.SERVE_LOBBY

    @extend_schema(request=None, responses={201: TicketOutput}, parameters=[IDEMPOTENCY_PARAM],
                   summary="Call the next ticket to my counter (priority first, then the oldest); "
                           "404 QUEUE_EMPTY when nobody waits")
    def post(self, request):
        outcome = idempotency.run_idempotent(
            request, scope="lobby.call_next", data={}, required=False,
            perform=lambda claim: services.ticket_call_next(actor=request.user, idempotency_claim=claim),
            render=_ticket)
        return respond(outcome)


class DoneInput(serializers.Serializer):
    served_ref = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                       help_text='the operation served as, "app:public id", e.g. "teller:3f2a…"')


class TicketActionApi(APIView):
    required_perm = Perm.SERVE_LOBBY
    action = ""

    def post(self, request, ticket_id: str):
        u = request.user
        if self.action == "done":
            data = DoneInput(data=request.data)
            data.is_valid(raise_exception=True)
            ticket = services.ticket_done(actor=u, ticket_id=ticket_id, served_ref=data.validated_data["served_ref"])
        else:
            ticket = {"call": services.ticket_call, "recall": services.ticket_recall, "start": services.ticket_start,
                      "no-show": services.ticket_no_show}[self.action](actor=u, ticket_id=ticket_id)
        return Response(TicketOutput(ticket).data)


ACTIONS = ("call", "recall", "start", "no-show", "done")


def action_view(name: str):
    summary = {"call": "Call this waiting ticket to my counter", "recall": "Call my ticket again",
               "start": "The customer came: serving starts", "no-show": "The called customer did not come",
               "done": "The customer was served (optionally as an operation)"}[name]

    def post(self, request, ticket_id: str):
        return TicketActionApi.post(self, request, ticket_id)

    post = extend_schema(request=DoneInput if name == "done" else None, responses=TicketOutput,
                         summary=summary)(post)
    return type(f"Ticket{name.title().replace('-', '')}Api", (TicketActionApi,),
                {"action": name, "post": post}).as_view()


class SummaryApi(APIView):
    required_perm = Perm.SERVE_LOBBY

    @extend_schema(responses=SummaryOutput,
                   summary="My branch's lobby now: waiting and longest wait per service; today's served count, "
                           "median and 90th-percentile waiting and service times (seconds)")
    def get(self, request):
        return Response(SummaryOutput(selectors.lobby_summary(staff_profile(request.user).branch)).data)
