"""Screens of the accounts app (customers, accounts, statements, transfers)."""

from django.urls import path

urlpatterns: list = []
