"""Maison Lune, the demo shop: its storefront's slug, the login `make demo` prints, the secrets
its connections sign with, its web address, its time zone and how it counts delivery days.

seed_demo creates the storefront from these; the history and the trickle sign, address and
date their events with them.
"""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

DEMO_SLUG = "demo"
DEMO_EMAIL = "merchant@example.com"
DEMO_PASSWORD = "recover-every-sale"  # noqa: S105 - printed on purpose; refused unless DEBUG
DEMO_SECRETS = [
    ("stripe", "whsec_demoDemoDemoDemoDemoDemo0000"),
    ("easypost", "easypost-demo-secret"),
    ("aftership", "aftership-demo-secret"),
    ("generic", "whsec_ZGVtby1nZW5lcmljLXNpZ25pbmcta2V5"),
]
SECRETS = dict(DEMO_SECRETS)
SHOP_URL = "https://maison-lune.example"
PARIS = ZoneInfo("Europe/Paris")


def business_days_after(day: date, count: int) -> date:
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day
