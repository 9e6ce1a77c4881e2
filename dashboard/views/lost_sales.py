"""Lost sales: the list (filters, sort, pages), one sale in full, and what a merchant can do
about it (send the next recovery email now, stop the emails, mark it lost)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from dashboard.access import member_view, scoped_or_404
from dashboard.forms.lost_sales import DEFAULT_SORT, LostSaleFilterForm
from dashboard.forms.outbox import describe_template
from dashboard.views.lists import page_of, sort_links
from notifications.models import Message, MessageKind
from payments.models import LostSale, PaymentAttempt, PaymentReference
from payments.selectors import messages_by_sale
from payments.services import merchant
from payments.services.display import amount_display

PAGE_SIZE = 25

# The sortable columns; newest, largest, open first on the first click: what a merchant looks for.
SORTABLE = ("date", "amount", "status")
ASCENDING_FIRST = ("status",)


@member_view
def lost_sales(request):
    current = request.storefront
    form = LostSaleFilterForm(request.GET, storefront=current)
    context = {"storefront": current, "form": form, "sort": DEFAULT_SORT, "listed": False}
    if not form.is_valid():
        # The page is still drawn, with the form and what is wrong with it, but no list: a list
        # that silently ignored a filter would pass for the filtered one.
        return render(request, "dashboard/lost_sales/list.html", context, status=400)
    # The paying order of a sale paid with another order is named in the list.
    sales = form.filter(
        LostSale.objects.for_storefront(current).select_related("recovered_by_payment")
    )
    page = page_of(request, sales, PAGE_SIZE)
    locale = current.language
    context.update(
        listed=True,
        page=page,
        sort=form.sort_key,
        columns=sort_links(SORTABLE, form.sort_key, ascending_first=ASCENDING_FIRST),
        filtering=form.is_filtering,
        rows=[
            (sale, amount_display(sale.amount, sale.currency, locale)) for sale in page.object_list
        ],
    )
    return render(request, "dashboard/lost_sales/list.html", context)


@member_view
def lost_sale(request, pk):
    current = request.storefront
    sale = scoped_or_404(LostSale, current, pk=pk)
    attempts = PaymentAttempt.objects.for_storefront(current).filter(payment__lost_sale=sale)
    references = (
        PaymentReference.objects.for_storefront(current)
        .filter(payment__lost_sale=sale)
        .order_by("payment_id", "pk")
        .values_list("reference", flat=True)
    )
    emails = messages_by_sale(storefront=current, sale_ids=[sale.pk]).get(str(sale.pk), [])
    return render(
        request,
        "dashboard/lost_sales/detail.html",
        {
            "storefront": current,
            "sale": sale,
            "amount": amount_display(sale.amount, sale.currency, current.language),
            "recovered_amount": amount_display(
                sale.recovered_amount, sale.currency, current.language
            ),
            "paid_with": _paid_with(sale, current.language),
            "references": list(references),
            "attempts": attempts.order_by("occurred_at", "pk"),
            "emails": [(message, describe_email(message)) for message in emails],
            "next_recovery_email": next(
                (
                    m
                    for m in emails
                    if m.kind == MessageKind.PAYMENT_RECOVERY
                    and m.status == Message.Status.SCHEDULED
                ),
                None,
            ),
        },
    )


def _paid_with(sale: LostSale, locale: str) -> dict | None:
    """The other order that paid for this sale, as the page names it: its reference and what
    it paid (the sale's own recovered amount may be 0, its revenue being counted once, on
    another sale)."""
    if sale.recovered_by != LostSale.RecoveredBy.ANOTHER_ORDER:
        return None
    payment = sale.recovered_by_payment
    if payment is None:
        return {"order": "", "amount": ""}
    return {
        "order": payment.order_reference,
        "amount": amount_display(payment.amount, payment.currency, locale),
    }


def describe_email(message: Message) -> str:
    """An email about a lost sale, in plain words."""
    if message.kind == MessageKind.PAYMENT_RECOVERY:
        step, steps = message.context.get("step"), message.context.get("steps")
        if step and steps:
            return _("Recovery email %(step)s of %(steps)s") % {"step": step, "steps": steps}
        return _("Recovery email")
    if message.kind == MessageKind.MERCHANT_FAILED_PAYMENT_ALERT:
        return _("Alert to a team member")
    return describe_template(message.template)


def _back(request, sale):
    return redirect("dashboard:lost-sale", slug=request.storefront.slug, pk=sale.pk)


@require_POST
@member_view
def send_now(request, pk):
    current = request.storefront
    sale = scoped_or_404(LostSale, current, pk=pk)
    if sale.status != LostSale.Status.OPEN:
        messages.error(
            request,
            _("This sale is %(status)s: no recovery email is sent any more.")
            % {"status": sale.get_status_display().lower()},
        )
        return _back(request, sale)
    message = merchant.send_recovery_email_now(lost_sale=sale, actor=request.user)
    if message is None:
        messages.error(
            request,
            _(
                "No recovery email is scheduled for this sale: they were all sent or stopped, "
                "or the buyer cannot be written to (no address, unsubscribed, or a reason "
                "your recovery policy does not email about)."
            ),
        )
        return _back(request, sale)
    # Quiet hours still apply. The merchant set them on the settings page as a promise to
    # their buyers ("never during quiet hours", in the README too), and one button on one
    # sale should not break it behind their back; what "now" means then is said plainly here,
    # with the time it will go. The merchant can change the quiet hours if they disagree.
    quiet_until = current.quiet_hours_end_after(timezone.now())
    if quiet_until is not None:
        messages.warning(
            request,
            _(
                "It is quiet hours for your buyers: the recovery email to %(email)s will go "
                "at %(time)s (shop time). Suppression and the daily limit per buyer still apply."
            )
            % {
                "email": message.to,
                "time": formats.time_format(timezone.localtime(quiet_until, current.zone)),
            },
        )
    else:
        messages.success(
            request,
            _(
                "The recovery email to %(email)s goes out within a minute, unless the buyer "
                "has reached today's limit of emails."
            )
            % {"email": message.to},
        )
    return _back(request, sale)


@require_POST
@member_view
def stop_sequence(request, pk):
    sale = scoped_or_404(LostSale, request.storefront, pk=pk)
    stopped = merchant.stop_recovery(lost_sale=sale, actor=request.user)
    if stopped:
        text = ngettext(
            "%(count)d scheduled email stopped.", "%(count)d scheduled emails stopped.", stopped
        )
        messages.success(request, text % {"count": stopped})
    else:
        messages.info(request, _("Nothing was scheduled for this sale: no email to stop."))
    return _back(request, sale)


@require_POST
@member_view
def mark_lost(request, pk):
    sale = scoped_or_404(LostSale, request.storefront, pk=pk)
    # mark_lost changes only an open sale (in one UPDATE … WHERE status = 'open'), so a sale
    # recovered a moment ago by a webhook is never overwritten by a stale page.
    if merchant.mark_lost(lost_sale=sale, actor=request.user):
        messages.success(request, _("Marked lost: its scheduled emails are stopped."))
    else:
        messages.error(
            request,
            _("Only an open sale can be marked lost; this one is %(status)s. Nothing changed.")
            % {"status": sale.get_status_display().lower()},
        )
    return _back(request, sale)


urlpatterns = [
    path("lost-sales/", lost_sales, name="lost-sales"),
    path("lost-sales/<int:pk>/", lost_sale, name="lost-sale"),
    path("lost-sales/<int:pk>/send-now/", send_now, name="lost-sale-send-now"),
    path("lost-sales/<int:pk>/stop/", stop_sequence, name="stop-sequence"),
    path("lost-sales/<int:pk>/mark-lost/", mark_lost, name="lost-sale-mark-lost"),
]
