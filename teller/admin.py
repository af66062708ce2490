"""Admin for the cash window's reference data and settings (denominations, limits,
branch cash settings, drawers). Cash itself moves only through the services."""

from django.contrib import admin

from teller.models import BranchCashSettings, CashLimit, CashOperation, Denomination, Drawer, DrawerSession


@admin.register(Denomination)
class DenominationAdmin(admin.ModelAdmin):
    list_display = ("currency", "value", "kind", "active")
    list_filter = ("currency", "kind", "active")


@admin.register(BranchCashSettings)
class BranchCashSettingsAdmin(admin.ModelAdmin):
    list_display = ("branch", "large_cash_threshold", "quote_validity_seconds")


@admin.register(CashLimit)
class CashLimitAdmin(admin.ModelAdmin):
    list_display = ("branch", "role", "operation", "currency", "max_amount")
    list_filter = ("branch", "role", "operation", "currency")


@admin.register(Drawer)
class DrawerAdmin(admin.ModelAdmin):
    list_display = ("branch", "code", "teller", "active")
    list_filter = ("branch", "active")


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DrawerSession)
class DrawerSessionAdmin(ReadOnly):
    list_display = ("drawer", "teller", "business_date", "status", "signed_off_by")
    list_filter = ("status",)


@admin.register(CashOperation)
class CashOperationAdmin(ReadOnly):
    list_display = ("reference", "kind", "status", "amount", "currency", "account", "created_by", "created_at")
    list_filter = ("kind", "status", "currency")
    search_fields = ("reference",)
