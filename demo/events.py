"""The provider events about the demo's orders and parcels, in each provider's own format.

The history (demo.history) and the trickle of live webhooks (demo.trickle) both build their
events here, so a seeded sale and a live one go through the same adapters and look alike. The
events themselves are the providers' own samples (payments.providers.stripe.samples,
tracking.providers.easypost.samples and aftership.samples): the demo gives them its orders
(demo.orders), parcels (demo.numbers) and datetimes, and decides which source reports which
carrier. Nothing here touches the database.
"""

import json
import random
from datetime import UTC, date, datetime

from demo import orders
from payments.providers.stripe import samples as stripe
from storefront_settings import connections
from tracking import carriers
from tracking.carriers import Carrier
from tracking.providers import Step
from tracking.providers.aftership import samples as aftership
from tracking.providers.easypost import samples as easypost
from tracking.statuses import ShipmentStatus as S

# --- Stripe events ------------------------------------------------------------------------------

# Stripe's own samples (payments.providers.stripe.samples) make the events; the demo gives them
# its orders and datetimes.


def stripe_order(order: orders.Order) -> stripe.Order:
    buyer = stripe.Buyer(email=order.buyer.email, name=order.buyer.name, phone=order.buyer.phone)
    return stripe.Order(order.reference, order.amount, buyer, shipping=orders.SHIPPING_FEE)


def stripe_failure(
    rng: random.Random, order: orders.Order, payment: stripe.Payment, codes: dict, at: datetime
) -> dict:
    """The Stripe event that reports a failed or abandoned payment with these codes."""
    return stripe.failure(rng, stripe_order(order), payment, codes, at=int(at.timestamp()))


def stripe_success(
    rng: random.Random, order: orders.Order, payment: stripe.Payment, at: datetime
) -> dict:
    """payment_intent.succeeded for the order: the buyer paid in the end."""
    return stripe.success(rng, stripe_order(order), payment, at=int(at.timestamp()))


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
