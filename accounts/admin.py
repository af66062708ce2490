from django.contrib import admin

from accounts.models import BankAccount, Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("number", "full_name", "latin_name", "home_branch")
    search_fields = ("number", "full_name", "latin_name")


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    list_display = ("number", "customer", "product", "currency", "branch", "status")
    list_filter = ("status", "product", "currency", "branch")
    readonly_fields = ("status", "ledger")
