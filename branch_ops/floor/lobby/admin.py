"""Admin for the lobby's data: services, counters and priority rules. Tickets are read-only
here: they move only through the services. Who sits at a counter is changed by signing in
and out, not in the admin."""

from django.contrib import admin

from branch_ops.floor.lobby.models import Counter, LobbyService, PriorityRule, Ticket


@admin.register(LobbyService)
class LobbyServiceAdmin(admin.ModelAdmin):
    list_display = ("branch", "letter", "code", "name", "sort_order", "active")
    list_filter = ("branch", "active")


@admin.register(PriorityRule)
class PriorityRuleAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sort_order", "active")


@admin.register(Counter)
class CounterAdmin(admin.ModelAdmin):
    list_display = ("branch", "number", "name", "staff", "active")
    list_filter = ("branch", "active")
    filter_horizontal = ("services",)
    readonly_fields = ("staff", "signed_in_at")


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("branch", "day", "number", "service", "status", "priority", "counter", "taken_at", "called_at",
                    "done_at")
    list_filter = ("branch", "status", "day")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
