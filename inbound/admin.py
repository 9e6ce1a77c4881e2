from django.contrib import admin
from django.utils.text import Truncator

from inbound import services
from inbound.models import InboundEvent
from storefront_settings.admin import TenantAdmin

ERROR_PREVIEW = 80  # characters of the last error in the list; the event's page has all of it


@admin.action(description="Replay the selected events (process them again from the stored body)")
def replay(modeladmin, request, queryset):
    replayed = [
        services.replay(event, actor=request.user)
        for event in queryset.select_related("storefront")
    ]
    modeladmin.message_user(
        request, f"{len(replayed)} event(s) queued again ({replayed.count(False)} not enqueued)."
    )


@admin.register(InboundEvent)
class InboundEventAdmin(TenantAdmin):
    """Ops find the failed events under Status → Failed (first of the filters), with their
    attempts and error in the list, and replay them once the cause is fixed."""

    list_display = [
        "received_at",
        "storefront",
        "provider",
        "event_type",
        "event_id",
        "status",
        "attempts",
        "error",
    ]
    list_filter = ["status", "provider", "event_type"]
    search_fields = [
        "event_id",
        "event_type",
        "last_error",
        "storefront__slug",
        "storefront__name",
    ]
    date_hierarchy = "received_at"
    actions = [replay]
    readonly_fields = [
        "storefront",
        "provider",
        "event_id",
        "event_type",
        "body",
        "headers",
        "status",
        "attempts",
        "last_error",
        "received_at",
        "enqueued_at",
        "processed_at",
    ]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Last error")
    def error(self, event):
        return Truncator(event.last_error).chars(ERROR_PREVIEW)
