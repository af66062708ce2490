"""/api/v1/floor/..."""

from django.urls import path

from branch_ops.floor import api

urlpatterns = [
    path("inbox/", api.InboxApi.as_view(), name="floor-inbox"),
    path("inbox/<str:approval_id>/decide/", api.InboxDecideApi.as_view(), name="floor-inbox-decide"),
    path("board/", api.BoardApi.as_view(), name="floor-board"),
    path("audit/events/", api.AuditSearchApi.as_view(), name="floor-audit"),
    path("audit/events.csv", api.AuditSearchCsvApi.as_view(), name="floor-audit-csv"),
    path("report/", api.ReportApi.as_view(), name="floor-report"),
    path("report.csv", api.ReportCsvApi.as_view(), name="floor-report-csv"),
]
