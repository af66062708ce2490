"""The admin: superusers manage branches, staff (one role at one branch), currencies.
Every change made here is audited like any service. The audit trail, approvals and API
tokens are read-only here: they change only through their services."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction

from branch_ops.audit import audit_event_write
from branch_ops.models import ApiToken, Approval, AuditEvent, Branch, Currency, StaffProfile

User = get_user_model()


class AuditedAdmin(admin.ModelAdmin):
    """Writes an audit event with before/after of the changed fields on every save."""

    def save_model(self, request, obj, form, change):
        changed = list(form.changed_data)
        before = {}
        if change and changed:
            old = type(obj).objects.get(pk=obj.pk)
            before = {f: str(getattr(old, f, "")) for f in changed}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_event_write(
                actor=request.user, action=f"admin.{obj._meta.model_name}.{'changed' if change else 'created'}",
                obj=obj, branch=obj if isinstance(obj, Branch) else getattr(obj, "branch", None),
                before=before, after={f: str(getattr(obj, f, "")) for f in changed},
            )


@admin.register(Currency)
class CurrencyAdmin(AuditedAdmin):
    list_display = ("code", "name", "minor_units", "active")
    list_filter = ("active", "minor_units")
    search_fields = ("code", "name")

    def get_readonly_fields(self, request, obj=None):
        return ("code", "minor_units") if obj else ()


@admin.register(Branch)
class BranchAdmin(AuditedAdmin):
    list_display = ("code", "name", "currency", "time_zone", "country", "active")
    list_filter = ("active", "country")
    search_fields = ("code", "name")


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    max_num = 1
    fk_name = "user"


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [StaffProfileInline]
    list_display = ("username", "first_name", "last_name", "role", "branch", "is_active", "is_superuser")
    list_filter = ("is_active", "is_superuser", "staff__role", "staff__branch")

    @admin.display(description="role")
    def role(self, obj):
        return getattr(getattr(obj, "staff", None), "role", "")

    @admin.display(description="branch")
    def branch(self, obj):
        profile = getattr(obj, "staff", None)
        return profile.branch.code if profile else ""

    def save_related(self, request, form, formsets, change):
        with transaction.atomic():
            super().save_related(request, form, formsets, change)
            profile = getattr(form.instance, "staff", None)
            if profile is not None:
                group, _ = Group.objects.get_or_create(name=f"role:{profile.role}")
                form.instance.groups.set([group])
            audit_event_write(
                actor=request.user, action="admin.staff.saved", object_type="auth.user",
                object_id=form.instance.get_username(), branch=profile.branch if profile else None,
                after={"role": profile.role if profile else None, "active": form.instance.is_active},
            )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "branch", "seq", "actor", "actor_role", "action", "object_type", "object_id")
    list_filter = ("branch", "actor_role")
    search_fields = ("action", "object_id", "customer_ref", "request_id")


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    list_display = ("requested_at", "branch", "kind", "status", "requested_by", "decided_by")
    list_filter = ("branch", "kind", "status")


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
