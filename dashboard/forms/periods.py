"""The period and date filters the dashboard's lists share: ?period=7|30|90, or ?from=…&to=….

Days are the storefront's calendar days (a merchant in Paris means Paris days): "the last 7
days" is today in the shop's time zone and the 6 days before it, and an end date is included.
The lost sales list, the shipments list, the messages log and the overview use the same words in
the URL, so a figure on one page links to a list with the same dates.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from storefront_settings.models import Storefront

# The periods a merchant picks from; each list adds its own "any time" or "chosen dates".
PERIODS = [
    ("7", _("Last 7 days")),
    ("30", _("Last 30 days")),
    ("90", _("Last 90 days")),
]
ANY_TIME = ("", _("Any time"))


def day_input() -> forms.DateInput:
    # ISO on the way out too, the only format a browser's date input reads.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def day_field(label) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=day_input())


def add_day_fields(form_class: type[forms.Form]) -> None:
    """Add the optional "from" and "to" days, after the fields the class declares.

    "from" is a Python keyword, so these two cannot be declared in a class body; the URL keeps
    the plain words (?from=2026-11-01&to=2026-11-30)."""
    form_class.base_fields["from"] = day_field(_("From"))
    form_class.base_fields["to"] = day_field(_("To"))


class PeriodOrDatesForm(forms.Form):
    """A filter form with an optional period or dates, never both, and no end before start."""

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("from"), cleaned.get("to")
        if cleaned.get("period") and (start or end):
            raise forms.ValidationError(
                _("Choose a period or dates, not both."), code="period_and_dates"
            )
        if start and end and start > end:
            self.add_error("to", _("The end date is before the start date."))
        return cleaned


class StorefrontListFilterForm(PeriodOrDatesForm):
    """A list's filters for one storefront, whose time zone says where its days begin; `now`
    is for tests. The subclass declares a "period" field and calls add_day_fields()."""

    def __init__(self, data, *, storefront: Storefront, now: datetime | None = None):
        super().__init__(data)
        self.storefront = storefront
        self.now = now or timezone.now()

    def filter_dates(self, queryset: QuerySet, field: str) -> QuerySet:
        """The valid form's period or dates applied to `field` (a datetime)."""
        return in_dates(
            queryset,
            field,
            zone=self.storefront.zone,
            now=self.now,
            period=self.cleaned_data["period"],
            start=self.cleaned_data["from"],
            end=self.cleaned_data["to"],
        )


def first_day(period: str, today: date) -> date:
    # "Last 7 days" is today and the 6 days before it, in the shop's calendar.
    return today - timedelta(days=int(period) - 1)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    # Built as a wall-clock time in the shop's zone, so a daylight-saving day is handled.
    return datetime.combine(day, time.min, tzinfo=zone)


def in_dates(
    queryset: QuerySet,
    field: str,
    *,
    zone: ZoneInfo,
    now: datetime,
    period: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> QuerySet:
    """`queryset` narrowed to the rows whose `field` falls in the period or between the dates
    (each optional; a valid form has given one or the other, not both)."""
    if period:
        since = first_day(period, now.astimezone(zone).date())
        queryset = queryset.filter(**{f"{field}__gte": local_midnight(since, zone)})
    if start:
        queryset = queryset.filter(**{f"{field}__gte": local_midnight(start, zone)})
    if end:
        # The end date is included: everything before the next local midnight.
        next_day = local_midnight(end + timedelta(days=1), zone)
        queryset = queryset.filter(**{f"{field}__lt": next_day})
    return queryset
