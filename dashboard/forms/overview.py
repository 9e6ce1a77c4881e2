"""The overview's period: the last 7, 30 or 90 days, or the merchant's own dates.

Days are the storefront's calendar days: "the last 7 days" is today in the shop's time zone and
the 6 days before it. The URL keeps the words the lost sales list uses (?period=30,
?from=2026-11-01&to=2026-11-30), so a figure links to the list with the same dates.
"""

from datetime import date, datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dashboard.forms.periods import PERIODS as PRESETS
from dashboard.forms.periods import add_day_fields, first_day
from storefront_settings.models import Storefront

DEFAULT_PERIOD = "30"
CUSTOM = "custom"
PERIODS = [*PRESETS, (CUSTOM, _("Chosen dates"))]
# A custom range is drawn day by day: keep it to a year.
MAX_DAYS = 366


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), required=False, choices=PERIODS)

    def __init__(self, data, *, storefront: Storefront, now: datetime | None = None):
        # What the select shows is the period used: 30 days when nothing is asked, "dates
        # below" when only dates are.
        data = data.copy()
        if not data.get("period"):
            data["period"] = CUSTOM if (data.get("from") or data.get("to")) else DEFAULT_PERIOD
        super().__init__(data)
        self.today = (now or timezone.now()).astimezone(storefront.zone).date()

    def clean(self):
        cleaned = super().clean()
        period, start, end = cleaned.get("period"), cleaned.get("from"), cleaned.get("to")
        if self.errors:
            return cleaned
        if period != CUSTOM:
            if start or end:
                raise forms.ValidationError(
                    _("Choose a period or dates, not both."), code="period_and_dates"
                )
            cleaned["start"] = first_day(period, self.today)
            cleaned["end"] = self.today
        else:
            if not start or not end:
                raise forms.ValidationError(
                    _("Give both a start date and an end date."), code="dates_missing"
                )
            if start > end:
                self.add_error("to", _("The end date is before the start date."))
                return cleaned
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(
                    _("Choose at most %(days)d days.") % {"days": MAX_DAYS}, code="too_long"
                )
            cleaned["start"], cleaned["end"] = start, end
        return cleaned

    @property
    def range(self) -> tuple[date, date]:
        """The first and last day of the valid period (both included)."""
        return self.cleaned_data["start"], self.cleaned_data["end"]


add_day_fields(PeriodForm)
