from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard.access import member_view, scoped_or_404
from dashboard.forms.outbox import describe_template
from dashboard.forms.shipments import (
    DEFAULT_SORT,
    SORTS,
    ShipmentImportForm,
    ShipmentListFilter,
)
from dashboard.views.lists import page_of, sort_links
from notifications.models import Message
from tracking.carriers import Carrier, tracking_url
from tracking.imports import import_upload
from tracking.models import Checkpoint, Shipment
from tracking.services import links
from tracking.statuses import ShipmentStatus

PAGE_SIZE = 25
TIMELINE_LIMIT = 200

# How each status reads at a glance; the others are plain.
STATUS_BADGES = {
    ShipmentStatus.DELIVERED: "good",
    ShipmentStatus.AVAILABLE_FOR_PICKUP: "good",
    ShipmentStatus.OUT_FOR_DELIVERY: "good",
    ShipmentStatus.FAILED_ATTEMPT: "warn",
    ShipmentStatus.EXCEPTION: "bad",
    ShipmentStatus.RETURNED: "bad",
    ShipmentStatus.EXPIRED: "bad",
}

# The columns of the import (tracking/imports.py), explained on the upload page, and the sample.
SAMPLE_CSV = (
    "order_reference,buyer_email,tracking_number,buyer_name,language,carrier,shipped_at,"
    "promised_delivery_date\r\n"
    "1001,anne@example.com,6A12345678901,Anne Martin,fr,colissimo,2026-11-24T16:30:00+01:00,"
    "2026-11-27\r\n"
    "1002,bob@example.com,1Z999AA10123456784,Bob Smith,en,,,\r\n"
)


# The sortable columns; newest, problems, soonest promised first on the first click.
SORTABLE = ("created", "status", "updated", "promised")
ASCENDING_FIRST = ("status", "promised")


@member_view
def shipments(request):
    current = request.storefront
    filtered = ShipmentListFilter(
        request.GET,
        queryset=Shipment.objects.for_storefront(current).order_by(*SORTS[DEFAULT_SORT]),
        storefront=current,
    )
    context = {
        "storefront": current,
        "filter": filtered,
        "sort": DEFAULT_SORT,
        "page": None,
        "can_change": request.can_change,
    }
    if not filtered.is_valid():
        # The page is still drawn, with the form and what is wrong with it, but no list: a list
        # that silently ignored a filter would pass for the filtered one.
        return render(request, "dashboard/shipments/list.html", context, status=400)
    page = page_of(request, filtered.qs, PAGE_SIZE)
    context.update(
        page=page,
        sort=filtered.sort_key,
        columns=sort_links(SORTABLE, filtered.sort_key, ascending_first=ASCENDING_FIRST),
        filtering=filtered.is_filtering,
        rows=[(shipment, STATUS_BADGES.get(shipment.status, "")) for shipment in page],
    )
    return render(request, "dashboard/shipments/list.html", context)


@member_view
def shipment(request, pk):
    current = request.storefront
    item = scoped_or_404(Shipment, current, pk=pk)
    checkpoints = (
        Checkpoint.objects.for_storefront(current)
        .filter(shipment=item)
        .order_by("-occurred_at", "-pk")[:TIMELINE_LIMIT]
    )
    sent = (
        Message.objects.for_storefront(current)
        .filter(about_type=ContentType.objects.get_for_model(Shipment), about_id=str(item.pk))
        .order_by("-send_at", "-pk")
    )
    return render(
        request,
        "dashboard/shipments/detail.html",
        {
            "storefront": current,
            "shipment": item,
            "badge": STATUS_BADGES.get(item.status, ""),
            "checkpoints": checkpoints,
            "messages_sent": [(message, describe_template(message.template)) for message in sent],
            # The same link as in the buyer's emails (SITE_URL and /t/<token>/).
            "page_url": links.tracking_page_url(item),
            "can_change": request.can_change,
            "carrier_url": item.carrier_tracking_url
            or tracking_url(item.carrier, item.tracking_number),
            "carrier_other": item.carrier in ("", Carrier.OTHER),
        },
    )


@require_POST
@member_view
def revoke_link(request, pk):
    item = scoped_or_404(Shipment, request.storefront, pk=pk)
    links.revoke_page_link(shipment=item, actor=request.user)
    messages.success(
        request,
        _(
            "The old tracking link no longer opens the page. Here is the new one: send it to "
            "the buyer; emails not sent yet carry it."
        ),
    )
    return redirect("dashboard:shipment", slug=request.storefront.slug, pk=item.pk)


@member_view
def shipments_import(request):
    current = request.storefront
    form = ShipmentImportForm(request.POST or None, request.FILES or None)
    report, filename, status = None, "", 200
    if request.method == "POST":  # member_view has already refused viewers
        if form.is_valid():
            filename = form.cleaned_data["file"].name
            report = import_upload(
                storefront=current,
                actor=request.user,
                rows=form.cleaned_data["rows"],
                filename=filename,
            )
            form = ShipmentImportForm()  # ready for the next file
        else:
            status = 400  # the form says what is wrong; nothing was imported
    return render(
        request,
        "dashboard/shipments/import.html",
        {
            "storefront": current,
            "form": form,
            "report": report,
            "filename": filename,
            "can_change": request.can_change,
            "carriers": Carrier.choices,
        },
        status=status,
    )


@member_view
def shipments_import_sample(request):
    response = HttpResponse(SAMPLE_CSV, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="shipments-sample.csv"'
    return response


urlpatterns = [
    path("shipments/", shipments, name="shipments"),
    path("shipments/<int:pk>/", shipment, name="shipment"),
    path("shipments/<int:pk>/revoke-link/", revoke_link, name="shipment-revoke-link"),
    path("shipments/import/", shipments_import, name="shipments-import"),
    path("shipments/import/sample.csv", shipments_import_sample, name="shipments-import-sample"),
]
