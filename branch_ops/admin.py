"""The admin: superusers manage branches, staff (one role at one branch), currencies.
Every change made here is audited like any service. The audit trail, approvals and API
tokens are read-only here: they change only through their services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from branch_ops import services, webhooks
from branch_ops.audit import audit_event_write
from branch_ops.errors import ApplicationError
from branch_ops.models import (
    ApiToken,
    Approval,
    AuditEvent,
    Branch,
    Currency,
    StaffProfile,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

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


def _run_each(modeladmin, request, queryset, action, done):
    """Run a service per selected row; report each outcome (and each coded error)."""
    for obj in queryset:
        try:
            message = action(obj)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            modeladmin.message_user(request, message or done % {"obj": obj}, messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens change only through their services: rotate or revoke here (audited)."""

    list_display = ("prefix", "name", "user", "rate_limit", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    actions = ["rotate", "revoke"]

    @admin.action(description=_("Rotate: issue a new secret, revoke the old one"))
    def rotate(self, request, queryset):
        def one(token):
            new, raw = services.api_token_rotate(actor=request.user, token_id=token.public_id)
            return _t("New secret for %(name)s (shown once): %(secret)s") % {"name": new.name, "secret": raw}

        _run_each(self, request, queryset, one, "")

    @admin.action(description=_("Revoke at once"))
    def revoke(self, request, queryset):
        _run_each(self, request, queryset,
                  lambda t: services.api_token_revoke(actor=request.user, token_id=t.public_id) and None,
                  _t("Revoked %(obj)s."))


class WebhookSubscriptionAddForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types_text = forms.CharField(label=_("Event types"), initial="*",
                                       help_text=_("Comma-separated event types, or * for every type."))

    class Meta:
        model = WebhookSubscription
        fields = ("branch", "url", "description")

    def clean(self):
        data = super().clean()
        try:
            if data.get("url"):
                webhooks.webhook_url_check(data["url"])
            data["event_types"] = webhooks.webhook_event_types_check(
                [t.strip() for t in data.get("event_types_text", "").split(",") if t.strip()])
        except ApplicationError as exc:
            raise forms.ValidationError({exc.field if exc.field != "event_types" else "event_types_text": exc.message})
        return data


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Created, rotated and deactivated through the webhook services (audited)."""

    list_display = ("url", "branch", "event_types", "active", "created_at", "previous_secret_expires_at")
    list_filter = ("branch", "active")
    actions = ["rotate_secret", "deactivate"]
    readonly_fields = ("branch", "url", "description", "event_types", "active", "cursor", "created_by", "created_at",
                       "deactivated_at", "previous_secret_expires_at")
    exclude = ("secret", "previous_secret")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = WebhookSubscriptionAddForm
            kwargs["fields"] = ("branch", "url", "description", "event_types_text")
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def get_exclude(self, request, obj=None):
        return self.exclude if obj else None

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # not inside the admin's transaction: the service runs its own (durable) one
        return self._changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        created, secret = webhooks.webhook_subscription_create(
            actor=request.user, branch=form.cleaned_data["branch"], url=form.cleaned_data["url"],
            event_types=form.cleaned_data["event_types"], description=form.cleaned_data.get("description", ""))
        obj.pk, obj.public_id, obj.secret = created.pk, created.public_id, created.secret
        self.message_user(request, _t("Signing secret (shown once): %(secret)s") % {"secret": secret}, messages.WARNING)

    @admin.action(description=_("Rotate the signing secret (the old one signs for the grace period)"))
    def rotate_secret(self, request, queryset):
        def one(sub):
            _sub, secret = webhooks.webhook_secret_rotate(actor=request.user, subscription_id=sub.public_id)
            return _t("New secret for %(url)s (shown once): %(secret)s") % {"url": sub.url, "secret": secret}

        _run_each(self, request, queryset, one, "")

    @admin.action(description=_("Deactivate"))
    def deactivate(self, request, queryset):
        _run_each(self, request, queryset,
                  lambda sub: webhooks.webhook_subscription_deactivate(actor=request.user, subscription_id=sub.public_id)
                  and None, _t("Deactivated %(obj)s."))


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "started_at", "status_code", "latency_ms", "error")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "subscription", "event", "status", "attempts", "last_status_code", "next_attempt_at")
    list_filter = ("status", "subscription__branch")
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Redeliver"))
    def redeliver(self, request, queryset):
        _run_each(self, request, queryset,
                  lambda d: webhooks.webhook_redeliver(actor=request.user, delivery_id=d.public_id) and None,
                  _t("Queued %(obj)s again."))
