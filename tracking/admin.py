from django.contrib import admin

from storefront_settings.admin import TenantAdmin, TenantInline
from tracking.models import Checkpoint, Shipment


class CheckpointInline(TenantInline):
    model = Checkpoint
    fields = ["occurred_at", "status", "description", "location", "source", "raw_status"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class FlagFilter(admin.SimpleListFilter):
    """Stalled / late, from the flag's timestamp."""

    field = ""

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(**{f"{self.field}__isnull": self.value() == "no"})
        return queryset


class StalledFilter(FlagFilter):
    title = parameter_name = "stalled"
    field = "stalled_since"


class LateFilter(FlagFilter):
    title = parameter_name = "late"
    field = "late_since"


@admin.register(Shipment)
class ShipmentAdmin(TenantAdmin):
    list_display = [
        "created_at",
        "storefront",
        "order_reference",
        "carrier",
        "tracking_number",
        "status",
        "stalled_since",
        "late_since",
    ]
    list_filter = ["status", "carrier", StalledFilter, LateFilter]
    search_fields = ["tracking_number", "order_reference", "buyer_email", "storefront__slug"]
    date_hierarchy = "created_at"
    inlines = [CheckpointInline]
    readonly_fields = ["status", "status_at", "last_news_at", "stalled_since", "late_since"]
