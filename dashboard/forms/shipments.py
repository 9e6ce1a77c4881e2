"""The shipments list's filters and the CSV upload form."""

import csv

import django_filters
from django import forms
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from dashboard.forms.periods import PERIODS, PeriodOrDatesForm, day_input, in_dates
from notifications.services.outbox import normalise_email
from tracking.carriers import normalise_tracking_number
from tracking.filters import ShipmentFilter
from tracking.imports import read_rows
from tracking.selectors import ATTENTION
from tracking.statuses import ShipmentStatus

YES_NO = [("true", _("Yes")), ("false", _("No"))]

# Problems first when sorted by status: what a merchant sorts by status to find.
_STATUS_RANK = Case(
    *(
        When(status=status, then=Value(rank))
        for rank, status in enumerate(
            [
                ShipmentStatus.EXCEPTION,
                ShipmentStatus.FAILED_ATTEMPT,
                ShipmentStatus.RETURNED,
                ShipmentStatus.EXPIRED,
                ShipmentStatus.AVAILABLE_FOR_PICKUP,
                ShipmentStatus.OUT_FOR_DELIVERY,
                ShipmentStatus.IN_TRANSIT,
                ShipmentStatus.INFO_RECEIVED,
                ShipmentStatus.PENDING,
                ShipmentStatus.DELIVERED,
            ]
        )
    ),
    default=Value(99),
    output_field=IntegerField(),
)
# ?sort= whitelist -> ORDER BY. Every order ends on the primary key, so rows with equal values
# keep one order from page to page (none shown twice or skipped between two pages).
SORTS = {
    "-created": [F("created_at").desc(), F("pk").desc()],
    "created": [F("created_at").asc(), F("pk").asc()],
    "promised": [F("promised_delivery_date").asc(nulls_last=True), F("pk").desc()],
    "-promised": [F("promised_delivery_date").desc(nulls_last=True), F("pk").desc()],
    "-updated": [F("last_news_at").desc(), F("pk").desc()],
    "updated": [F("last_news_at").asc(), F("pk").asc()],
    "status": [_STATUS_RANK.asc(), F("created_at").desc(), F("pk").desc()],
    "-status": [_STATUS_RANK.desc(), F("created_at").desc(), F("pk").desc()],
}
DEFAULT_SORT = "-created"


class ShipmentListFilter(ShipmentFilter):
    """The API's shipment filter (status, carrier) with what a person types in a page: a period
    or dates in the shop's time zone, a search box, a sort order, and strict yes/no flags (the
    API's lenient booleans ignore a value they do not know; a page says it is wrong)."""

    stalled = django_filters.ChoiceFilter(
        label=_("Stalled"), choices=YES_NO, field_name="stalled_since", method="flagged"
    )
    late = django_filters.ChoiceFilter(
        label=_("Late"), choices=YES_NO, field_name="late_since", method="flagged"
    )
    period = django_filters.ChoiceFilter(
        label=_("Shipped"), choices=PERIODS, empty_label=_("Any time"), method="in_period"
    )
    q = django_filters.CharFilter(
        label=_("Tracking number, order or email"),
        max_length=200,
        method="search",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    sort = django_filters.ChoiceFilter(
        choices=[(key, key) for key in SORTS], method="sort_by", widget=forms.HiddenInput
    )

    class Meta(ShipmentFilter.Meta):
        # The same rules as the lost sales list: a period or dates, the end not before the start.
        form = PeriodOrDatesForm
        fields = ["status", "carrier"]

    def __init__(self, data=None, *args, storefront, now=None, **kwargs):
        self.storefront = storefront
        self.now = now or timezone.now()
        super().__init__(data, *args, **kwargs)
        for name, label, empty in (
            ("status", _("Status"), _("Any status")),
            ("carrier", _("Carrier"), _("Any carrier")),
            ("stalled", _("Stalled"), _("Either")),
            ("late", _("Late"), _("Either")),
        ):
            self.filters[name].label = label
            self.filters[name].extra["empty_label"] = empty

    @property
    def sort_key(self) -> str:
        if self.is_valid() and self.form.cleaned_data.get("sort"):
            return self.form.cleaned_data["sort"]
        return DEFAULT_SORT

    @property
    def is_filtering(self) -> bool:
        """Whether anything narrows the list (the empty state says so)."""
        names = ("status", "carrier", "stalled", "late", "period", "from", "to", "q")
        return any(self.form.cleaned_data.get(name) not in (None, "") for name in names)

    def flagged(self, queryset, name, value):
        # The overview's conditions, so its counts and the lists they link to agree: "late"
        # is a parcel still on its way past its promised date (one delivered late is done).
        condition = ATTENTION[name.removesuffix("_since")]
        return queryset.filter(condition) if value == "true" else queryset.exclude(condition)

    def in_period(self, queryset, name, value):
        return self._shipped(queryset, period=value)

    def on_or_after(self, queryset, name, value):
        return self._shipped(queryset, start=value)

    def on_or_before(self, queryset, name, value):
        return self._shipped(queryset, end=value)

    def _shipped(self, queryset, **period_or_dates):
        # Days in the shop's calendar, the end date included, as on the other lists.
        return in_dates(
            queryset, "shipped_at", zone=self.storefront.zone, now=self.now, **period_or_dates
        )

    def search(self, queryset, name, value):
        # Exact matches, each answered by an index on a big shop: the tracking number as
        # carriers print it (spaces and dashes dropped), the order reference, the buyer's
        # address (stored lower-case).
        value = value.strip()
        match = Q(order_reference=value)
        number = normalise_tracking_number(value)
        if number:
            match |= Q(tracking_number=number)
        if "@" in value:
            match |= Q(buyer_email=normalise_email(value))
        return queryset.filter(match)

    def sort_by(self, queryset, name, value):
        return queryset.order_by(*SORTS[value])


# "from" is a Python keyword, so these two cannot be declared in the class body; the URL keeps
# the plain words the lost sales list uses (?from=2026-11-01&to=2026-11-30). The API's
# shipped_after/shipped_before (ISO timestamps) give way to them, and the fields take the order
# the page shows them in.
_filters = ShipmentListFilter.base_filters
_filters["from"] = django_filters.DateFilter(
    label=_("From"),
    method="on_or_after",
    widget=day_input(),
)
_filters["to"] = django_filters.DateFilter(
    label=_("To"),
    method="on_or_before",
    widget=day_input(),
)
ShipmentListFilter.base_filters = {
    name: _filters[name]
    for name in ("q", "status", "carrier", "stalled", "late", "period", "from", "to", "sort")
}


MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Each row is a shipment and a scheduled email (about ten queries), imported while the merchant
# waits: a bound that keeps the request well inside gunicorn's 30-second timeout even on a busy
# database. Bigger files go through `manage.py import_shipments` or the API.
MAX_UPLOAD_ROWS = 1000


class ShipmentImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=format_lazy(
            _("UTF-8 text with a header row; at most {size} MB and {rows} rows per file."),
            size=MAX_UPLOAD_BYTES // (1024 * 1024),
            rows=MAX_UPLOAD_ROWS,
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _(
                    "This file is %(size)s MB; the limit is %(limit)d MB. Split it into "
                    "smaller files."
                ),
                params={
                    "size": f"{upload.size / (1024 * 1024):.1f}",
                    "limit": MAX_UPLOAD_BYTES // (1024 * 1024),
                },
            )
        data = upload.read()
        save_as_csv = _('If it is a spreadsheet, save it as "CSV UTF-8" and upload that.')
        # UTF-16 (a spreadsheet's "Unicode text") is full of zero bytes too: say which it is.
        if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise forms.ValidationError(
                _("This file is not a CSV file: it holds binary data. %(hint)s"),
                params={"hint": save_as_csv},
            )
        try:
            text = data.decode("utf-8-sig")  # spreadsheets often start UTF-8 with a BOM
        except UnicodeDecodeError:
            raise forms.ValidationError(
                _("This file is not UTF-8 text. %(hint)s"), params={"hint": save_as_csv}
            ) from None
        try:
            rows, error = read_rows(text)
        except csv.Error as problem:
            raise forms.ValidationError(
                _("This file is not a CSV file we can read: %(problem)s"),
                params={"problem": problem},
            ) from None
        if error:
            raise forms.ValidationError(
                _("This is not a shipments CSV file: %(problem)s."), params={"problem": error}
            )
        if not rows:
            raise forms.ValidationError(_("This file has a header row but no shipment."))
        if len(rows) > MAX_UPLOAD_ROWS:
            raise forms.ValidationError(
                _(
                    "This file has %(count)d rows; the limit is %(limit)d per upload. Split it "
                    "into smaller files."
                ),
                params={"count": len(rows), "limit": MAX_UPLOAD_ROWS},
            )
        self.cleaned_data["rows"] = rows
        return upload
