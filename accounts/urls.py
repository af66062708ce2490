"""Screens of the accounts app (customers, accounts, statements, transfers)."""


urlpatterns: list = []
