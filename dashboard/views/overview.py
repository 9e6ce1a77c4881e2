"""The storefront's overview: what was lost, why, what came back, and the parcels to look at.

Every figure comes from a few index reads whatever the shop's size: the lost sales from the
daily statistics (payments.stats, kept current in the transactions that change a sale), the
parcels and the unreachable buyers from partial indexes. bench/overview.py measures it.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from babel.numbers import format_decimal, format_percent
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from dashboard.access import member_view
from dashboard.forms.overview import PRESETS, PeriodForm
from payments import selectors as payments
from payments.reasons import FailureReason
from payments.services.display import amount_display
from tracking import selectors as tracking

CHART_HEIGHT = 100  # SVG units of the tallest bar
DAY_WIDTH = 12  # SVG units per day: two bars of 5 and a gap


@dataclass
class Figure:
    """One headline number: `name` is its data-figure attribute, `value` the raw number the
    browser tests compare with the database, `display` what the merchant reads."""

    name: str
    label: str
    display: str
    value: int | str
    link: str = ""
    others: tuple[str, ...] = ()  # the same amount in the shop's other currencies


class Money:
    """Amounts per currency shown in the storefront's currency first, in its language."""

    def __init__(self, storefront):
        self.currency, self.locale = storefront.currency, storefront.language
        # babel's formatting is the page's costliest call; a chart repeats amounts (zeros).
        self._shown: dict[tuple[int, str], str] = {}

    def show(self, amount: int, currency: str) -> str:
        key = (amount, currency)
        if key not in self._shown:
            self._shown[key] = amount_display(amount, currency, self.locale)
        return self._shown[key]

    def main(self, amounts: dict[str, int]) -> str:
        return self.show(amounts.get(self.currency, 0), self.currency)

    def others(self, amounts: dict[str, int]) -> tuple[str, ...]:
        return tuple(
            self.show(amount, currency)
            for currency, amount in sorted(amounts.items())
            if currency != self.currency and amount
        )


def _link(base: str, **params) -> str:
    return f"{base}?{urlencode(params)}" if params else base


def _count(n: int, locale: str) -> str:
    return format_decimal(n, locale=locale)


def _rate(recovered: int, failed: int, locale: str) -> tuple[str, str]:
    if not failed:
        return "—", ""
    rate = recovered / failed
    # One decimal at most, in the locale's own pattern (33,3 % in French, 33.3% in English).
    shown = Decimal(rate).quantize(Decimal("0.001"))
    return format_percent(shown, locale=locale, decimal_quantization=False), f"{rate:.4f}"


def _lost_sale_figures(storefront, overview, start: date, end: date) -> list[Figure]:
    money, locale = Money(storefront), storefront.language
    counts, amounts = overview.totals.counts, overview.totals.amounts
    lost_sales = reverse("dashboard:lost-sales", args=[storefront.slug])
    dates = {"from": start.isoformat(), "to": end.isoformat()}
    rate_display, rate_value = _rate(counts["recovered_count"], counts["failed_count"], locale)

    def count(name, label, **params):
        link = _link(lost_sales, **params, **dates)
        return Figure(name, label, _count(counts[name], locale), counts[name], link)

    def amount(name, label, field=None):
        by_currency = amounts.get(field or name, {})
        value = by_currency.get(storefront.currency, 0)
        return Figure(name, label, money.main(by_currency), value, others=money.others(by_currency))

    return [
        count("failed_count", _("Failed payments")),
        amount("failed_amount", _("Amount of the failed payments")),
        count("open_count", _("Still open"), status="open"),
        count("recovered_count", _("Recovered"), status="recovered"),
        count("lost_count", _("Lost"), status="lost"),
        amount("recovered_revenue", _("Recovered revenue")),
        Figure("recovery_rate", _("Recovery rate"), rate_display, rate_value),
        amount(
            "recovered_after_click",
            _("Recovered after a recovery email was clicked"),
            field="recovered_after_click_revenue",
        ),
    ]


def _reasons(storefront, overview, start: date, end: date) -> list[dict]:
    money, locale = Money(storefront), storefront.language
    lost_sales = reverse("dashboard:lost-sales", args=[storefront.slug])
    rows = []
    for reason, figures in overview.by_reason.items():
        counts = figures.counts
        if not counts["failed_count"] and not counts["recoveries"]:
            continue
        failed = figures.amounts.get("failed_amount", {})
        recovered = figures.amounts.get("recovered_revenue", {})
        rows.append(
            {
                "reason": reason,
                "label": FailureReason(reason).label,
                "failed_count": counts["failed_count"],
                "failed_count_display": _count(counts["failed_count"], locale),
                "failed_amount": money.main(failed),
                "failed_others": money.others(failed),
                "recovered_count_display": _count(counts["recovered_count"], locale),
                "recovery_rate": _rate(counts["recovered_count"], counts["failed_count"], locale)[
                    0
                ],
                "recovered_revenue": money.main(recovered),
                "link": _link(
                    lost_sales, reason=reason, **{"from": start.isoformat(), "to": end.isoformat()}
                ),
            }
        )
    rows.sort(key=lambda row: (-row["failed_count"], row["reason"]))
    return rows


def _chart(storefront, by_day) -> dict:
    """Bars of the failed amount and the recovered revenue per day, in SVG units."""
    money = Money(storefront)
    tallest = max((max(failed, recovered) for _day, failed, recovered in by_day), default=0)
    scale = CHART_HEIGHT / tallest if tallest else 0
    days = []
    for i, (day, failed, recovered) in enumerate(by_day):
        failed_height, recovered_height = round(failed * scale, 2), round(recovered * scale, 2)
        days.append(
            {
                "day": day,
                "failed": money.main({money.currency: failed}),
                "recovered": money.main({money.currency: recovered}),
                "x_failed": i * DAY_WIDTH + 1,
                "x_recovered": i * DAY_WIDTH + 6,
                "failed_height": failed_height,
                "failed_y": CHART_HEIGHT - failed_height,
                "recovered_height": recovered_height,
                "recovered_y": CHART_HEIGHT - recovered_height,
            }
        )
    return {
        "days": days,
        "width": len(by_day) * DAY_WIDTH,
        "height": CHART_HEIGHT,
        "tallest": money.main({money.currency: tallest}),
        "empty": not tallest,
    }


# The parcels to look at: each figure's name (its key in tracking's attention counts), its
# label, and the shipments list's filter that lists those parcels.
SHIPMENT_FIGURES = [
    ("stalled", _("Stalled"), {"stalled": "true"}),
    ("late", _("Late"), {"late": "true"}),
    ("exception", _("Problem in delivery"), {"status": "exception"}),
]


def _shipment_figures(storefront) -> list[Figure]:
    locale = storefront.language
    counts = tracking.attention_counts(storefront=storefront)
    shipments = reverse("dashboard:shipments", args=[storefront.slug])
    return [
        Figure(name, label, _count(counts[name], locale), counts[name], _link(shipments, **query))
        for name, label, query in SHIPMENT_FIGURES
    ]


# require_safe inside member_view: a viewer's POST is refused as every change is (403), anyone
# else's is 405, since this page changes nothing.
@member_view
@require_safe
def overview(request):
    storefront = request.storefront
    # Always bound: no parameters at all is the default period, a valid choice.
    form = PeriodForm(request.GET, storefront=storefront)
    context = {
        "storefront": storefront,
        "form": form,
        "periods": PRESETS,
        "start_value": "",
        "end_value": "",
    }
    if not form.is_valid():
        return render(request, "dashboard/overview.html", context, status=400)
    start, end = form.range
    figures = payments.lost_sales_overview(storefront=storefront, start=start, end=end)
    unreachable = payments.unreachable_open_sales(storefront=storefront)
    lost_sales = reverse("dashboard:lost-sales", args=[storefront.slug])
    context.update(
        {
            "start": start,
            "end": end,
            "start_value": start.isoformat(),
            "end_value": end.isoformat(),
            "figures": _lost_sale_figures(storefront, figures, start, end),
            "unreachable": Figure(
                "unreachable",
                _("Unreachable buyers"),
                _count(unreachable, storefront.language),
                unreachable,
                _link(lost_sales, status="open"),
            ),
            "reasons": _reasons(storefront, figures, start, end),
            "chart": _chart(storefront, figures.by_day),
            "shipments": _shipment_figures(storefront),
        }
    )
    return render(request, "dashboard/overview.html", context)


urlpatterns = [path("", overview, name="storefront")]
