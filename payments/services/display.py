"""How a sale is shown in emails and pages: its amount in the reader's locale, its dashboard
link."""

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision
from django.conf import settings

from payments.models import LostSale


def amount_display(amount: int | None, currency: str, locale: str) -> str:
    if amount is None or not currency:
        return ""
    # Amounts are in the currency's minor unit, as providers send them: cents for EUR, yen
    # for JPY (no decimals), fils for KWD (three).
    major = Decimal(amount).scaleb(-get_currency_precision(currency))
    return format_currency(major, currency, locale=locale)


def lost_sale_url(lost_sale: LostSale) -> str:
    return f"{settings.SITE_URL}/app/{lost_sale.storefront.slug}/lost-sales/{lost_sale.pk}/"
