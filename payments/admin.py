from django.contrib import admin

from payments.models import LostSale, Payment, PaymentAttempt, PaymentReference
from payments.services import merchant
from storefront_settings.admin import TenantAdmin, TenantInline


class PaymentInline(TenantInline):
    model = Payment
    fields = ["provider", "status", "amount", "currency", "last_event_at", "succeeded_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class AttemptInline(TenantInline):
    model = PaymentAttempt
    fields = ["occurred_at", "event_type", "reason", "codes", "attempt_key"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReferenceInline(TenantInline):
    model = PaymentReference
    fields = ["reference"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description="Mark the selected open sales as lost (stops their emails)")
def mark_lost(modeladmin, request, queryset):
    count = sum(merchant.mark_lost(lost_sale=sale, actor=request.user) for sale in queryset)
    modeladmin.message_user(request, f"{count} sale(s) marked lost.")


@admin.register(LostSale)
class LostSaleAdmin(TenantAdmin):
    list_display = [
        "last_failed_at",
        "storefront",
        "order_reference",
        "buyer_email",
        "amount",
        "currency",
        "reason",
        "status",
        "attempts",
    ]
    list_filter = ["status", "reason", "provider"]
    search_fields = ["order_reference", "buyer_email", "storefront__slug", "storefront__name"]
    date_hierarchy = "last_failed_at"
    actions = [mark_lost]
    inlines = [PaymentInline]
    readonly_fields = [f.name for f in LostSale._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Payment)
class PaymentAdmin(TenantAdmin):
    list_display = ["created_at", "storefront", "provider", "order_reference", "status", "amount"]
    list_filter = ["status", "provider"]
    search_fields = ["order_reference", "buyer_email", "references__reference", "storefront__slug"]
    inlines = [ReferenceInline, AttemptInline]
    readonly_fields = [f.name for f in Payment._meta.fields]

    def has_add_permission(self, request):
        return False
