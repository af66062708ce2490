"""Screens of the teller window (the drawer, cash at the window, receipts, vault, journal,
exchange and the rate board, outgoing payments, reversals, cash alerts)."""

from django.urls import path

from teller import views

urlpatterns: list = [
    path("teller/", views.window, name="teller-window"),
    path("teller/find/", views.find, name="teller-find"),
    path("teller/operations/", views.operations, name="teller-operations"),
    path("teller/operations/<str:reference>/reverse/", views.reversal_request, name="teller-reversal-request"),
    path("teller/deposits/", views.deposit, name="teller-deposit"),
    path("teller/withdrawals/", views.withdrawal, name="teller-withdrawal"),
    path("teller/exchange/", views.exchange, name="teller-exchange"),
    path("teller/exchange/post/", views.exchange_post, name="teller-exchange-post"),
    path("teller/exchange/notes-in/", views.exchange_notes_in, name="teller-exchange-notes-in"),
    path("teller/rates/", views.rate_board, name="rate-board"),
    path("teller/payments/new/", views.payment_new, name="teller-payment"),
    path("teller/payments/<str:reference>/", views.payment_detail, name="teller-payment-receipt"),
    path("teller/receipts/<str:reference>/", views.receipt, name="teller-receipt"),
    path("teller/open/", views.drawer_open, name="teller-open"),
    path("teller/close/", views.drawer_close, name="teller-close"),
    path("teller/vault/", views.vault, name="teller-vault"),
    path("teller/vault/pending/", views.vault_pending, name="vault-pending"),
    path("teller/vault/<uuid:transfer_id>/decide/", views.vault_decide, name="vault-decide"),
    path("teller/journal/", views.journal, name="teller-journal"),
    path("teller/alerts/", views.cash_alerts, name="cash-alerts"),
]
