from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard.api import LostSaleFilter, messages_by_sale
from notifications import services as notifications
from payments.models import LostSale, PaymentAttempt
from payments.services import amount_display
from storefront_settings.models import Membership
from storefront_settings.selectors import (
    get_storefront_for_user,
    membership,
    storefronts_for_user,
)

PAGE_SIZE = 25


@login_required
def home(request):
    storefronts = list(storefronts_for_user(user=request.user))
    if len(storefronts) == 1:
        return redirect("dashboard:storefront", slug=storefronts[0].slug)
    return render(request, "dashboard/home.html", {"storefronts": storefronts})


@login_required
def storefront(request, slug):
    current = get_storefront_for_user(user=request.user, slug=slug)
    return render(
        request,
        "dashboard/storefront.html",
        {"storefront": current, "storefronts": storefronts_for_user(user=request.user)},
    )


def _sale_rows(storefront, sales):
    locale = storefront.language
    return [(sale, amount_display(sale.amount, sale.currency, locale)) for sale in sales]


@login_required
def lost_sales(request, slug):
    current = get_storefront_for_user(user=request.user, slug=slug)
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


def _sale(request, slug, pk):
    current = get_storefront_for_user(user=request.user, slug=slug)
    # Another storefront's sale, or none: the same 404.
    sale = LostSale.objects.for_storefront(current).filter(pk=pk).first()
    if sale is None:
        raise Http404("No such lost sale.")
    return current, sale


def _can_change(storefront, user) -> bool:
    member = membership(storefront=storefront, user=user)
    return member is not None and member.role != Membership.Role.VIEWER


@login_required
def lost_sale(request, slug, pk):
    current, sale = _sale(request, slug, pk)
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
            "can_change": _can_change(current, request.user),
        },
    )


@login_required
@require_POST
def stop_sequence(request, slug, pk):
    current, sale = _sale(request, slug, pk)
    # Checked here, not only by hiding the button: viewers change nothing.
    if not _can_change(current, request.user):
        raise PermissionDenied
    stopped = notifications.cancel(current, sale.group)
    messages.success(request, _("%(count)d scheduled email(s) stopped.") % {"count": stopped})
    return redirect("dashboard:lost-sale", slug=slug, pk=pk)
