"""Screens of complaints (the list, logging one, one complaint and its actions, the
printable letter, the report)."""

import re

from django.urls import path, re_path

from complaints import views
from complaints.forms import ACTION_FORMS

_ACTIONS = "|".join(re.escape(name) for name in ACTION_FORMS)

urlpatterns: list = [
    path("complaints/", views.complaint_list, name="complaint-list"),
    path("complaints/new/", views.complaint_new, name="complaint-new"),
    path("complaints/report/", views.complaint_report, name="complaint-report"),
    path("complaints/<str:number>/", views.complaint_detail, name="complaint-detail"),
    path("complaints/<str:number>/letter/", views.complaint_letter, name="complaint-letter"),
    re_path(rf"^complaints/(?P<number>[^/]+)/(?P<action>{_ACTIONS})/$", views.complaint_action,
            name="complaint-action"),
]
