from django.contrib import admin
from django.db import models
from django.forms import ModelChoiceField
from django.forms.models import BaseInlineFormSet

from storefront_settings.admin_audit import AuditedAdminMixin
from storefront_settings.models import (
    ApiKey,
    AuditLog,
    ConnectedAccount,
    Membership,
    ProviderSecret,
    RecoveryPolicy,
    ShipmentPolicy,
    Storefront,
)
from storefront_settings.services import credentials


class UnscopedAdminMixin:
    """Ops staff see every tenant: admin is where crossing tenants is intended."""

    def get_queryset(self, request):
        queryset = self.model.unscoped.get_queryset()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset


# Links merchants enter are https unless they say otherwise.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class TenantAdmin(AuditedAdminMixin, UnscopedAdminMixin, admin.ModelAdmin):
    list_select_related = ["storefront"]
    formfield_overrides = URL_FIELDS


class TenantInlineFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        # Django looks each posted row up through the model's default manager, which refuses
        # an unscoped query; this formset's own rows (those of the parent) are the right set.
        pk = self.model._meta.pk.name
        if isinstance(form.fields.get(pk), ModelChoiceField):
            form.fields[pk].queryset = self.queryset


class TenantInline(UnscopedAdminMixin, admin.TabularInline):
    extra = 0
    formset = TenantInlineFormSet


class MembershipInline(TenantInline):
    model = Membership
    autocomplete_fields = ["user"]


class ConnectedAccountInline(TenantInline):
    """The accounts connected to this storefront's provider account (it is the platform), and
    the storefront each one's events belong to."""

    model = ConnectedAccount
    fk_name = "storefront"
    autocomplete_fields = ["connected_storefront"]


@admin.register(Storefront)
class StorefrontAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "public_id", "language", "currency", "created_at"]
    search_fields = ["name", "slug", "public_id"]
    readonly_fields = ["public_id", "created_at"]
    inlines = [MembershipInline, ConnectedAccountInline]
    formfield_overrides = URL_FIELDS


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ["user", "storefront", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "storefront__name", "storefront__slug"]
    autocomplete_fields = ["user", "storefront"]


@admin.action(description="Revoke the selected items")
def revoke(modeladmin, request, queryset):
    # Through the services, so that each revocation leaves its row in the storefront's log.
    count = sum(
        modeladmin.revoke_one(storefront=item.storefront, item=item, actor=request.user)
        for item in queryset.filter(revoked_at__isnull=True).select_related("storefront")
    )
    modeladmin.message_user(request, f"Revoked {count}.")


class NoAddAdmin(TenantAdmin):
    # Keys and secrets are created where their raw value can be shown once (the command line
    # and the dashboard), never through a form that would echo them back.
    def has_add_permission(self, request):
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(NoAddAdmin):
    list_display = ["prefix", "name", "storefront", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "storefront__slug"]
    fields = [
        "storefront",
        "name",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["storefront", "prefix", "created_by", "created_at", "last_used_at"]
    actions = [revoke]

    @staticmethod
    def revoke_one(*, storefront, item, actor) -> bool:
        return credentials.revoke_api_key(storefront=storefront, api_key=item, actor=actor)


@admin.register(ProviderSecret)
class ProviderSecretAdmin(NoAddAdmin):
    list_display = ["provider", "hint", "storefront", "created_at", "revoked_at"]
    list_filter = ["provider"]
    search_fields = ["storefront__slug"]
    fields = ["storefront", "provider", "hint", "created_by", "created_at", "revoked_at"]
    readonly_fields = ["storefront", "provider", "hint", "created_by", "created_at"]
    actions = [revoke]

    @staticmethod
    def revoke_one(*, storefront, item, actor) -> bool:
        return credentials.revoke_provider_secret(
            storefront=storefront, provider_secret=item, actor=actor
        )


@admin.register(AuditLog)
class AuditLogAdmin(TenantAdmin):
    list_display = ["created_at", "storefront", "actor", "api_key", "action"]
    list_filter = ["action"]
    search_fields = ["storefront__slug", "action"]
    readonly_fields = ["storefront", "actor", "action", "detail", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="API key")
    def api_key(self, entry):
        key = entry.detail.get("api_key") if isinstance(entry.detail, dict) else None
        return f"{key.get('name')} ({key.get('prefix')}…)" if isinstance(key, dict) else ""


@admin.register(RecoveryPolicy)
class RecoveryPolicyAdmin(TenantAdmin):
    list_display = ["storefront", "minimum_amount", "email_delay_minutes", "recovery_window_days"]
    search_fields = ["storefront__slug", "storefront__name"]
    autocomplete_fields = ["storefront"]


@admin.register(ShipmentPolicy)
class ShipmentPolicyAdmin(TenantAdmin):
    list_display = ["storefront", "milestones", "stalled_days"]
    search_fields = ["storefront__slug", "storefront__name"]
    autocomplete_fields = ["storefront"]
