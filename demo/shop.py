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
# One secret per connection the demo's history uses, each well-formed for its connection (so the
# connections page shows it connected) and plainly made up: none opens an account anywhere, and
# the demo never calls a provider's API with one (demo.checkouts).
DEMO_SECRETS = [
    ("stripe", "whsec_demoDemoDemoDemoDemoDemo0000"),
    # PayPlug's secret API key (sk_live_…) and Mollie's API key (live_…): the keys the worker
    # would fetch notified payments with.
    ("payplug", "sk_live_MaisonLuneDemoDemoDemo7Q2p"),
    ("mollie", "live_MaisonLuneDemoDemoDemoDemo0000Mx4k"),
    # PayPal: the REST app's client id and secret and the webhook's id, joined by colons.
    ("paypal", "MaisonLune-demo-client-0000:MaisonLune-demo-secret-0000:DEMOWEBHOOK0PP31"),
    # Lyra: the REST API's production password, which signs the IPNs (kr-hash).
    ("lyra", "prodpassword_MaisonLuneDemoDemoLy5r"),
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
