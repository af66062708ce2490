"""Floor screens under /floor/ (the approval inbox keeps its old addresses too)."""

from django.urls import path

from branch_ops.floor import views

urlpatterns = [
    path("floor/inbox/", views.inbox, name="approval-inbox"),
    path("floor/inbox/<uuid:approval_id>/decide/", views.inbox_decide, name="inbox-decide"),
    path("floor/board/", views.board, name="floor-board"),
    path("floor/audit/", views.audit, name="audit-trail"),
    path("floor/report/", views.report, name="floor-report"),
    # an approval's own page: the address every app links to stays /approvals/<id>/
    path("approvals/<uuid:approval_id>/", views.approval_detail, name="approval-page"),
    path("approvals/<uuid:approval_id>/status/", views.approval_status, name="approval-status"),
    # the old addresses of the inbox and the audit trail keep working
    path("approvals/", views.inbox),
    path("audit/", views.audit),
]
