"""Screens of the service desk (the request queue, one request and its actions, the
customer at the desk, a new request)."""

from django.urls import path

from customer_service import views

urlpatterns: list = [
    path("desk/requests/", views.request_queue, name="request-queue"),
    path("desk/requests/<str:number>/", views.request_detail, name="request-detail"),
    path("desk/requests/<str:number>/claim/", views.request_claim, name="request-claim"),
    path("desk/requests/<str:number>/start/", views.request_start, name="request-start"),
    path("desk/requests/<str:number>/fulfil/", views.request_fulfil, name="request-fulfil"),
    path("desk/requests/<str:number>/cancel/", views.request_cancel, name="request-cancel"),
    path("desk/requests/<str:number>/cheque-book/", views.cheque_book_advance, name="request-cheque-book"),
    path("desk/requests/<str:number>/statement/", views.statement_page, name="request-statement"),
    path("desk/requests/<str:number>/statement.pdf", views.statement_download, {"fmt": "pdf"},
         name="request-statement-pdf"),
    path("desk/requests/<str:number>/statement.csv", views.statement_download, {"fmt": "csv"},
         name="request-statement-csv"),
    path("desk/account-opening/new-customer/", views.account_open_new_customer, name="account-open-new-customer"),
    path("desk/customers/<str:customer_number>/", views.desk_customer, name="desk-customer"),
    path("desk/customers/<str:customer_number>/requests/new/", views.request_new, name="request-new"),
]
