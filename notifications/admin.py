from django.contrib import admin

from notifications.models import EmailEvent, Message, Suppression
from notifications.services import sending
from storefront_settings.admin import TenantAdmin, TenantInline


class EmailEventInline(TenantInline):
    model = EmailEvent
    can_delete = False
    fields = ["occurred_at", "esp", "event_type", "description"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description="Resend the selected failed messages")
def resend_failed(modeladmin, request, queryset):
    failed = queryset.filter(status="failed").select_related("storefront")
    count = sum(sending.resend(message, actor=request.user) for message in failed)
    modeladmin.message_user(request, f"{count} message(s) queued to send again.")


@admin.action(description="Cancel the selected scheduled messages")
def cancel_scheduled(modeladmin, request, queryset):
    scheduled = queryset.filter(status="scheduled").select_related("storefront")
    count = sum(sending.cancel_message(message, actor=request.user) for message in scheduled)
    modeladmin.message_user(request, f"{count} message(s) cancelled.")


@admin.register(Message)
class MessageAdmin(TenantAdmin):
    list_display = [
        "created_at",
        "storefront",
        "kind",
        "to",
        "status",
        "delivery",
        "send_at",
        "sent_at",
        "attempts",
    ]
    list_filter = ["status", "delivery", "audience", "kind"]
    search_fields = [
        "to",
        "storefront__slug",
        "storefront__name",
        "idempotency_key",
        "esp_message_id",
    ]
    date_hierarchy = "created_at"
    actions = [resend_failed, cancel_scheduled]
    inlines = [EmailEventInline]
    readonly_fields = [
        "storefront",
        "kind",
        "audience",
        "to",
        "template",
        "context",
        "locale",
        "idempotency_key",
        "group",
        "status",
        "send_at",
        "next_attempt_at",
        "attempts",
        "last_attempt_at",
        "sent_at",
        "error_code",
        "last_error",
        "subject",
        "body_text",
        "esp_message_id",
        "delivery",
        "delivery_updated_at",
        "about_type",
        "about_id",
        "created_at",
        "updated_at",
    ]
    exclude = ["body_html"]

    def has_add_permission(self, request):
        return False


@admin.register(Suppression)
class SuppressionAdmin(TenantAdmin):
    list_display = ["email", "storefront", "reason", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email", "storefront__slug", "storefront__name"]
    autocomplete_fields = ["storefront"]
    fields = ["storefront", "email", "reason", "note"]


@admin.register(EmailEvent)
class EmailEventAdmin(TenantAdmin):
    list_display = ["received_at", "storefront", "esp", "event_type", "message"]
    list_filter = ["esp", "event_type"]
    search_fields = ["event_id", "message__to", "storefront__slug"]
    raw_id_fields = ["message"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
