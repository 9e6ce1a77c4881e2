from django.contrib import admin

from inbound import services
from inbound.models import InboundEvent
from storefront_settings.admin import TenantAdmin


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
    list_display = ["received_at", "storefront", "provider", "event_type", "event_id", "status"]
    list_filter = ["provider", "status", "event_type"]
    search_fields = ["event_id", "event_type", "storefront__slug", "storefront__name"]
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
