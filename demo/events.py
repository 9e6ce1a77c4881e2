"""The demo shop's raw material: buyers, orders, tracking numbers, and the provider events about
them, in each provider's own format and signed as the provider signs them.

The history (demo.history) and the trickle of live webhooks (demo.trickle) both build their
events here, so a seeded sale and a live one go through the same adapters and look alike. The
events themselves are the providers' own samples (payments.providers.stripe.samples,
tracking.providers.easypost.samples and aftership.samples): the demo gives them its orders,
parcels and datetimes, and decides which source reports which carrier.

Nothing here touches the database. Names and addresses are invented: email domains are only
example.com and example.org (reserved, RFC 2606), phone numbers are in the range ARCEP keeps
for fiction (+33 6 39 98 xx xx), and tracking numbers pass their carrier's check digit.
"""

import json
import random
import string
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from payments.providers.stripe import samples as stripe
from payments.reasons import FailureReason
from storefront_settings import connections
from tracking import carriers
from tracking.carriers import Carrier
from tracking.providers import Step
from tracking.providers.aftership import samples as aftership
from tracking.providers.easypost import samples as easypost
from tracking.statuses import ShipmentStatus as S

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

# --- Buyers and orders --------------------------------------------------------------------------

FIRST_NAMES = [
    "Camille",
    "Léa",
    "Manon",
    "Chloé",
    "Inès",
    "Jade",
    "Louise",
    "Emma",
    "Sarah",
    "Juliette",
    "Zoé",
    "Clémence",
    "Mathilde",
    "Élodie",
    "Margaux",
    "Anaïs",
    "Pauline",
    "Océane",
    "Lucas",
    "Hugo",
    "Louis",
    "Gabriel",
    "Arthur",
    "Jules",
    "Nathan",
    "Théo",
    "Raphaël",
    "Paul",
    "Antoine",
    "Maxime",
    "Julien",
    "Thomas",
    "Baptiste",
    "Étienne",
    "Noé",
    "Adrien",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
]
DOMAINS = ("example.com", "example.org")

# (name, price in cents) of what Maison Lune sells: linen, ceramics, candles.
PRODUCTS = (
    ("Parure de lit en lin lavé", 18900),
    ("Plaid en laine mérinos", 8900),
    ("Lampe à poser Lune, céramique", 12400),
    ("Bougie parfumée Nuit d'été", 3200),
    ("Service à thé Aube, 6 tasses", 7600),
    ("Coussin velours côtelé", 4500),
    ("Miroir rond en laiton", 14900),
    ("Nappe en lin brodée", 6900),
    ("Vase soufflé bouche", 5400),
    ("Peignoir en gaze de coton", 7900),
    ("Rideaux en lin, la paire", 15900),
    ("Tapis berbère 160 × 230", 34900),
)
SHIPPING_FEE = 590


@dataclass(frozen=True)
class Buyer:
    name: str
    email: str  # "" for a buyer the shop collected no address for (unreachable)
    phone: str


@dataclass(frozen=True)
class Order:
    reference: str
    buyer: Buyer
    amount: int  # cents, shipping included
    items: tuple[tuple[str, int], ...]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def make_buyer(rng: random.Random, *, reachable: bool = True) -> Buyer:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    local = rng.choice(
        [
            f"{_ascii(first)}.{_ascii(last)}",
            f"{_ascii(first)[0]}.{_ascii(last)}",
            f"{_ascii(first)}.{_ascii(last)}{rng.randint(70, 99)}",
            f"{_ascii(first)}{_ascii(last)[0]}",
        ]
    ).replace(" ", "")
    email = f"{local}@{rng.choice(DOMAINS)}" if reachable else ""
    phone = f"+33 6 39 98 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"
    return Buyer(name=f"{first} {last}", email=email, phone=phone)


def make_order(rng: random.Random, reference: str, *, reachable: bool = True) -> Order:
    count = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
    items = tuple(rng.sample(PRODUCTS, count))
    amount = sum(price for _, price in items) + SHIPPING_FEE
    return Order(reference, make_buyer(rng, reachable=reachable), amount, items)


def order_reference(number: int) -> str:
    return f"ML-{number}"


# How often each reason comes up in a French shop's week, roughly.
REASON_WEIGHTS: dict[str, int] = {
    FailureReason.ABANDONED: 20,
    FailureReason.INSUFFICIENT_FUNDS: 17,
    FailureReason.BANK_DECLINED: 15,
    FailureReason.AUTHENTICATION_FAILED: 13,
    FailureReason.CARD_DETAILS_INCORRECT: 8,
    FailureReason.CARD_EXPIRED: 6,
    FailureReason.LIMIT_EXCEEDED: 5,
    FailureReason.PROCESSING_ERROR: 5,
    FailureReason.ONLINE_PAYMENT_NOT_ENABLED: 4,
    FailureReason.SUSPECTED_FRAUD: 3,
    FailureReason.MERCHANT_CONFIGURATION: 2,
    FailureReason.UNKNOWN: 2,
}


def pick_reason(rng: random.Random) -> str:
    return rng.choices(list(REASON_WEIGHTS), weights=list(REASON_WEIGHTS.values()))[0]


# --- Stripe events ------------------------------------------------------------------------------

# Stripe's own samples (payments.providers.stripe.samples) make the events; the demo gives them
# its orders and datetimes.


def stripe_order(order: Order) -> stripe.Order:
    buyer = stripe.Buyer(email=order.buyer.email, name=order.buyer.name, phone=order.buyer.phone)
    return stripe.Order(order.reference, order.amount, buyer, shipping=SHIPPING_FEE)


def stripe_failure(
    rng: random.Random, order: Order, payment: stripe.Payment, codes: dict, at: datetime
) -> dict:
    """The Stripe event that reports a failed or abandoned payment with these codes."""
    return stripe.failure(rng, stripe_order(order), payment, codes, at=int(at.timestamp()))


def stripe_success(rng: random.Random, order: Order, payment: stripe.Payment, at: datetime) -> dict:
    """payment_intent.succeeded for the order: the buyer paid in the end."""
    return stripe.success(rng, stripe_order(order), payment, at=int(at.timestamp()))


# --- Tracking numbers that pass their carrier's check digit -------------------------------------

# The check-digit rules are tracking.carriers' own, next to the formats they check: a number is
# made by drawing its other characters and trying each check character until the carrier's
# format accepts one (exactly one passes), so the demo keeps no copy of the arithmetic.


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def _checked(carrier: str, before: str, after: str = "", alphabet: str = string.digits) -> str:
    """before + the check character the carrier's checked formats accept + after."""
    formats = [f for f in carriers.FORMATS if f.carrier == carrier and f.check is not None]
    for char in alphabet:
        number = f"{before}{char}{after}"
        if any(f.pattern.fullmatch(number) and f.check(number) for f in formats):
            return number
    raise ValueError(f"no check character makes {before}_{after} a {carrier} number")


def _ups(rng: random.Random) -> str:
    body = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
    body += rng.choice(["03", "12", "13", "42"]) + _digits(rng, 7)
    return _checked(Carrier.UPS, f"1Z{body}")


def _dpd(rng: random.Random) -> str:
    data = f"{rng.choice(['0250', '0176', '0530'])}{_digits(rng, 10)}"
    return _checked(Carrier.DPD, data, alphabet=string.digits + string.ascii_uppercase)


NUMBER_MAKERS = {
    Carrier.COLISSIMO: lambda rng: rng.choice(["6A", "6C", "8R"]) + _digits(rng, 11),
    # Chronopost skybill: UPU S10 serial and check digit between "XW" and "FR".
    Carrier.CHRONOPOST: lambda rng: _checked(Carrier.CHRONOPOST, "XW" + _digits(rng, 8), "FR"),
    Carrier.UPS: _ups,
    # DHL Express air waybill: nine digits and their remainder mod 7.
    Carrier.DHL: lambda rng: _checked(Carrier.DHL, str(rng.randint(10**8, 10**9 - 1))),
    Carrier.DPD: _dpd,
    Carrier.GLS: lambda rng: _checked(Carrier.GLS, _digits(rng, 11)),
    Carrier.MONDIAL_RELAY: lambda rng: _digits(rng, 8),
}
CARRIER_WEIGHTS = {
    Carrier.COLISSIMO: 40,
    Carrier.MONDIAL_RELAY: 18,
    Carrier.CHRONOPOST: 12,
    Carrier.DPD: 10,
    Carrier.GLS: 8,
    Carrier.UPS: 7,
    Carrier.DHL: 5,
}


def tracking_number(rng: random.Random, carrier: str) -> str:
    """A number in the carrier's format with a valid check digit, that tracking.carriers
    recognises as that carrier's first (a 12-digit GLS number can also pass FedEx's check;
    such a number is drawn again)."""
    while True:
        number = NUMBER_MAKERS[carrier](rng)
        if carriers.guess(number) == carrier:
            return number


def pick_carrier(rng: random.Random) -> str:
    return rng.choices(list(CARRIER_WEIGHTS), weights=list(CARRIER_WEIGHTS.values()))[0]


# --- Tracking events ----------------------------------------------------------------------------

# Which source reports each carrier's parcels in the demo, under that source's name for the
# carrier: the French networks through AfterShip (its courier slugs), the express carriers
# through EasyPost (its carrier names). The events themselves are the sources' own samples
# (tracking.providers.<source>.samples), which write each step in the source's words.
EASYPOST_CARRIERS = {Carrier.UPS: "UPS", Carrier.DHL: "DHLExpress", Carrier.GLS: "GLS"}
AFTERSHIP_SLUGS = {
    Carrier.COLISSIMO: "la-poste-colissimo",
    Carrier.CHRONOPOST: "chronopost-france",
    Carrier.DPD: "dpd-fr",
    Carrier.MONDIAL_RELAY: "mondialrelay",
}
SAMPLES = {"easypost": easypost, "aftership": aftership}


def source_for(carrier: str) -> str:
    return "easypost" if carrier in EASYPOST_CARRIERS else "aftership"


# What the carrier says at each step, in French as French carriers say it.
MESSAGES = {
    S.PENDING: "En attente de prise en charge",
    S.INFO_RECEIVED: "Votre colis est prêt à être expédié, il va être remis au transporteur.",
    S.IN_TRANSIT: (
        "Votre colis a été pris en charge.",
        "Votre colis est en cours d'acheminement.",
        "Votre colis est arrivé sur son site de distribution.",
    ),
    S.OUT_FOR_DELIVERY: "Votre colis est en cours de livraison.",
    S.FAILED_ATTEMPT: "Votre colis n'a pas pu être livré : destinataire absent. Avis de passage.",
    S.AVAILABLE_FOR_PICKUP: "Votre colis est disponible dans votre point de retrait.",
    S.DELIVERED: "Votre colis est livré.",
    S.EXCEPTION: (
        "Incident de livraison : adresse incomplète.",
        "Votre colis a subi un retard dû à un incident d'exploitation.",
        "Colis endommagé, en cours de vérification.",
    ),
    S.RETURNED: "Votre colis est retourné à l'expéditeur.",
    S.EXPIRED: "Aucune information depuis 30 jours.",
}
HUBS = (
    "Lyon Plateforme Colis",
    "Chilly-Mazarin PFC",
    "Bordeaux Mérignac",
    "Lille Lesquin",
    "Marseille Vitrolles",
    "Nantes Carquefou",
    "Toulouse Colomiers",
    "Strasbourg Hautepierre",
    "Rennes Centre Colis",
    "Paris Gennevilliers",
)
ORIGIN = "Lyon Plateforme Colis"


def make_step(rng: random.Random, status: str, at: datetime, *, first: bool = False) -> Step:
    message = MESSAGES[status]
    if isinstance(message, tuple):
        message = message[0] if first else rng.choice(message)
    location = ORIGIN if first else rng.choice(HUBS)
    if status == S.AVAILABLE_FOR_PICKUP:
        location = f"Relais {rng.choice(['Tabac de la Gare', 'Presse du Marché', 'Fleurs & Co'])}"
    return Step(at.astimezone(UTC).replace(microsecond=0), status, message, location)


def tracking_event(
    rng: random.Random,
    *,
    carrier: str,
    number: str,
    order_reference: str,
    steps: list[Step],
    estimated: date | None = None,
) -> tuple[str, dict]:
    """(source, event): the tracking update a source sends with every step so far (each with a
    status in the source's samples.WORDS)."""
    source = source_for(carrier)
    if source == "easypost":
        return source, easypost.tracker_event(
            rng,
            tracking_code=number,
            carrier=EASYPOST_CARRIERS[carrier],
            steps=steps,
            estimated_delivery=estimated,
            public_url=f"https://track.easypost.com/demo/{number}",
        )
    return source, aftership.tracking_update(
        rng,
        tracking_number=number,
        slug=AFTERSHIP_SLUGS[carrier],
        steps=steps,
        order_id=order_reference,
        estimated_delivery=estimated,
        tracking_link=carriers.tracking_url(carrier, number),
    )


def identity(source: str, event: dict) -> tuple[str, str]:
    """(event id, event type) of a source's tracking event, as its adapter reads them."""
    signal = connections.get(source).adapter.parse(event)
    return signal.event_id, signal.event_type


def encode(event: dict) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def business_days_after(day: date, count: int) -> date:
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day
