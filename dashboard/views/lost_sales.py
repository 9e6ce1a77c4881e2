from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard.access import member_view, scoped_or_404
from dashboard.api import LostSaleFilter, messages_by_sale
from notifications import services as notifications
from payments.models import LostSale, PaymentAttempt
from payments.services import amount_display

PAGE_SIZE = 25


def _sale_rows(storefront, sales):
    locale = storefront.language
    return [(sale, amount_display(sale.amount, sale.currency, locale)) for sale in sales]


@member_view
def lost_sales(request):
    current = request.storefront
    queryset = LostSale.objects.for_storefront(current).order_by("-last_failed_at", "-pk")
    filtered = LostSaleFilter(request.GET, queryset=queryset)
    page = Paginator(filtered.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "dashboard/lost_sales.html",
        {
            "storefront": current,
            "filter": filtered,
            "page": page,
            "rows": _sale_rows(current, page.object_list),
        },
        status=200 if filtered.is_valid() else 400,
    )


@member_view
def lost_sale(request, pk):
    current = request.storefront
    sale = scoped_or_404(LostSale, current, pk=pk)
    attempts = PaymentAttempt.objects.for_storefront(current).filter(payment__lost_sale=sale)
    return render(
        request,
        "dashboard/lost_sale.html",
        {
            "storefront": current,
            "sale": sale,
            "amount": amount_display(sale.amount, sale.currency, current.language),
            "attempts": attempts.order_by("-occurred_at"),
            "messages_sent": messages_by_sale(current, [sale.pk]).get(str(sale.pk), []),
            "can_change": request.can_change,
        },
    )


@require_POST
@member_view
def stop_sequence(request, pk):
    sale = scoped_or_404(LostSale, request.storefront, pk=pk)
    stopped = notifications.cancel(request.storefront, sale.group)
    messages.success(request, _("%(count)d scheduled email(s) stopped.") % {"count": stopped})
    return redirect("dashboard:lost-sale", slug=request.storefront.slug, pk=pk)


urlpatterns = [
    path("lost-sales/", lost_sales, name="lost-sales"),
    path("lost-sales/<int:pk>/", lost_sale, name="lost-sale"),
    path("lost-sales/<int:pk>/stop/", stop_sequence, name="stop-sequence"),
]
