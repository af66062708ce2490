"""Screens of the accounts app (customers, accounts, statements, transfers)."""

from django.urls import path

from accounts import views

urlpatterns: list = [
    path("customers/", views.customer_search, name="customer-search"),
    path("customers/search/", views.customer_search_results, name="customer-search-results"),
    path("customers/new/", views.customer_create, name="customer-create"),
    path("customers/<str:number>/", views.customer_detail, name="customer-detail"),
    path("customers/<str:number>/edit/", views.customer_edit, name="customer-edit"),
    path("customers/<str:number>/signature/", views.customer_signature, name="customer-signature"),
    path("customers/<str:number>/signature/new/", views.customer_signature_upload, name="customer-signature-upload"),
    path("customers/<str:number>/accounts/new/", views.account_open, name="account-open"),
    path("accounts/<str:number>/", views.account_page, name="account-page"),
    path("accounts/<str:number>/status/", views.account_status_request, name="account-status-request"),
    path("transfers/new/", views.transfer_create, name="transfer-create"),
]
