"""``/api/v1/floor/lobby/`` (included by branch_ops/urls.py inside the ``api`` namespace)."""

from django.urls import path

from branch_ops.floor.lobby import api

urlpatterns = [
    path("tickets/", api.TicketListTakeApi.as_view(), name="lobby-tickets"),
    path("call-next/", api.CallNextApi.as_view(), name="lobby-call-next"),
    path("counter/sign-in/", api.CounterSignInApi.as_view(), name="lobby-counter-sign-in"),
    path("counter/sign-out/", api.CounterSignOutApi.as_view(), name="lobby-counter-sign-out"),
    path("summary/", api.SummaryApi.as_view(), name="lobby-summary"),
    *[path(f"tickets/<str:ticket_id>/{action}/", api.action_view(action), name=f"lobby-ticket-{action}")
      for action in api.ACTIONS],
]
