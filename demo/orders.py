"""Maison Lune's buyers and orders, drawn from the caller's random generator (so a seeded demo
is the same every time), and how often each reason makes a payment fail.

The history (demo.history) and the trickle (demo.trickle) make their orders here. Nothing here
touches the database. Names and addresses are invented: email domains are only example.com and
example.org (reserved, RFC 2606), and phone numbers are in the range ARCEP keeps for fiction
(+33 6 39 98 xx xx).
"""

import random
import unicodedata
from dataclasses import dataclass

from payments.reasons import FailureReason

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


def replacement(order: Order) -> Order:
    """The order a buyer places in place of one whose payment failed (a new basket, the same
    things): the number right after it, which the history never gives (its numbers go up by at
    least two), so it names no other order."""
    number = int(order.reference.removeprefix("ML-")) + 1
    return Order(order_reference(number), order.buyer, order.amount, order.items)


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
