"""Read queries over payments. Every one takes the storefront first."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, Sum
from django.db.models.functions import Lower

from notifications.models import Message, Suppression
from payments.models import DailyStat, LostSale
from payments.stats import FIELDS
from storefront_settings.models import Storefront


@dataclass
class Figures:
    """Counts, and amounts per currency (minor units), of one slice of the daily statistics."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    amounts: dict[str, dict[str, int]] = field(default_factory=dict)

    AMOUNT_FIELDS = ("failed_amount", "recovered_revenue", "recovered_after_click_revenue")

    def add(self, row: dict) -> None:
        for name in FIELDS:
            if name in self.AMOUNT_FIELDS:
                if row[name] and row["currency"]:
                    by_currency = self.amounts.setdefault(name, {})
                    by_currency[row["currency"]] = by_currency.get(row["currency"], 0) + row[name]
            else:
                self.counts[name] += row[name]


@dataclass
class LostSalesOverview:
    totals: Figures
    by_reason: dict[str, Figures]
    # Every day of the period, in order: (day, failed amount, recovered revenue), in the
    # storefront's currency.
    by_day: list[tuple[date, int, int]]


def lost_sales_overview(*, storefront: Storefront, start: date, end: date) -> LostSalesOverview:
    """The period's figures (local days `start` to `end`, both included), from the daily
    statistics (payments.stats): two index range scans, however big the shop."""
    stats = DailyStat.objects.for_storefront(storefront).filter(day__gte=start, day__lte=end)
    totals = Figures()
    by_reason: dict[str, Figures] = {}
    for row in stats.values("reason", "currency").annotate(**{f: Sum(f) for f in FIELDS}):
        totals.add(row)
        by_reason.setdefault(row["reason"], Figures()).add(row)
    daily = {
        row["day"]: (row["failed"], row["recovered"])
        for row in stats.filter(currency=storefront.currency)
        .values("day")
        .annotate(failed=Sum("failed_amount"), recovered=Sum("recovered_revenue"))
    }
    by_day = []
    day = start
    while day <= end:
        by_day.append((day, *daily.get(day, (0, 0))))
        day += timedelta(days=1)
    return LostSalesOverview(totals=totals, by_reason=by_reason, by_day=by_day)


def unreachable_open_sales(*, storefront: Storefront) -> int:
    """Open sales whose buyer cannot be emailed: no address, or one on the storefront's
    suppression list (stored lower-case)."""
    suppressed = Suppression.objects.for_storefront(storefront).filter(
        email=Lower(OuterRef("buyer_email"))
    )
    # No `attempts > 0` (what payments.stats counts from): a sale without an attempt exists only
    # inside the transaction that records its first one; and without it, the partial index
    # lost_sale_open_email answers alone.
    return (
        LostSale.objects.for_storefront(storefront)
        .filter(status=LostSale.Status.OPEN)
        .filter(Q(buyer_email="") | Exists(suppressed))
        .count()
    )


def messages_by_sale(*, storefront: Storefront, sale_ids) -> dict[str, list[Message]]:
    """The messages about each of these lost sales, in one query, keyed by the sale's id as a
    string (Message.about_id), each list in send order. The API and the sale's page both show
    them."""
    content_type = ContentType.objects.get_for_model(LostSale)
    found: dict[str, list[Message]] = {}
    for message in (
        Message.objects.for_storefront(storefront)
        .filter(about_type=content_type, about_id__in=[str(pk) for pk in sale_ids])
        .order_by("send_at", "pk")
    ):
        found.setdefault(message.about_id, []).append(message)
    return found
