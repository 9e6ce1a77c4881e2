"""The lost sales list's filters: what the merchant typed, checked and turned into a query.

Dates are the storefront's calendar days (a merchant in Paris means Paris days), and the minimum
amount is typed as the merchant reads prices ("50", "49,90"), not in cents.
"""

import re
from datetime import datetime
from decimal import Decimal

from babel.numbers import get_currency_precision
from django import forms
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from dashboard.forms.periods import ANY_TIME, PERIODS, StorefrontListFilterForm, add_day_fields
from payments.models import LostSale
from payments.reasons import FailureReason
from storefront_settings.models import Storefront

# ?sort= whitelist → ORDER BY. Every order ends on the primary key, so rows with equal values
# keep one order from page to page (no sale shown twice or skipped between two pages).
_STATUS_RANK = Case(
    When(status=LostSale.Status.OPEN, then=Value(0)),
    When(status=LostSale.Status.RECOVERED, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
SORTS = {
    "-date": [F("last_failed_at").desc(), F("pk").desc()],
    "date": [F("last_failed_at").asc(), F("pk").asc()],
    "-amount": [F("amount").desc(nulls_last=True), F("last_failed_at").desc(), F("pk").desc()],
    "amount": [F("amount").asc(nulls_last=True), F("last_failed_at").desc(), F("pk").desc()],
    "status": [_STATUS_RANK.asc(), F("last_failed_at").desc(), F("pk").desc()],
    "-status": [_STATUS_RANK.desc(), F("last_failed_at").desc(), F("pk").desc()],
}
DEFAULT_SORT = "-date"

# Digits, then at most one decimal separator (comma or point) and the cents.
_AMOUNT = re.compile(r"(?P<units>\d{1,12})(?:[.,](?P<fraction>\d+))?")
# Spaces a merchant may type or paste as thousands separators (French uses a narrow one).
_SPACES = re.compile(r"[\s\u00a0\u202f]")


class LostSaleFilterForm(StorefrontListFilterForm):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *LostSale.Status.choices],
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        required=False,
        choices=[("", _("Any reason")), *FailureReason.choices],
    )
    period = forms.ChoiceField(label=_("Period"), required=False, choices=[ANY_TIME, *PERIODS])
    min_amount = forms.CharField(
        label=_("Minimum amount"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8, "placeholder": "49,90"}),
    )
    q = forms.CharField(
        label=_("Order or email"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    sort = forms.ChoiceField(
        required=False, choices=[(key, key) for key in SORTS], widget=forms.HiddenInput
    )

    def __init__(self, data, *, storefront: Storefront, now: datetime | None = None):
        super().__init__(data, storefront=storefront, now=now)
        self.currency = storefront.currency

    def clean_min_amount(self) -> int | None:
        """The amount in minor units (cents), or None."""
        typed = _SPACES.sub("", self.cleaned_data["min_amount"])
        if not typed:
            return None
        digits = get_currency_precision(self.currency)
        match = _AMOUNT.fullmatch(typed)
        fraction = (match and match["fraction"]) or ""
        if match is None or len(fraction) > digits:
            raise forms.ValidationError(
                _("Enter an amount such as 50 or 49,90 (in %(currency)s, not in cents).")
                % {"currency": self.currency}
            )
        return int(Decimal(f"{match['units']}.{fraction or '0'}").scaleb(digits))

    @property
    def sort_key(self) -> str:
        if self.is_bound and self.is_valid() and self.cleaned_data.get("sort"):
            return self.cleaned_data["sort"]
        return DEFAULT_SORT

    @property
    def is_filtering(self) -> bool:
        """Whether anything narrows the list (the empty state says so)."""
        names = ("status", "reason", "period", "from", "to", "min_amount", "q")
        return any(self.cleaned_data.get(name) not in (None, "") for name in names)

    def filter(self, queryset: QuerySet) -> QuerySet:
        """The queryset narrowed and ordered by the valid form."""
        data = self.cleaned_data
        if data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["reason"]:
            queryset = queryset.filter(reason=data["reason"])
        queryset = self.filter_dates(queryset, "last_failed_at")
        if data["min_amount"] is not None:
            queryset = queryset.filter(amount__gte=data["min_amount"])
        if data["q"]:
            term = data["q"].strip()
            queryset = queryset.filter(
                Q(order_reference__icontains=term) | Q(buyer_email__icontains=term)
            )
        return queryset.order_by(*SORTS[self.sort_key])


add_day_fields(LostSaleFilterForm)
