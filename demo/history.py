"""Six weeks of Maison Lune's history, for `make demo`.

Everything goes through the real paths: each provider event is built in the provider's format
(demo.events), stored as an InboundEvent and processed by the domain's own
process_inbound_event, so lost sales, attempts, recovery emails, alerts, shipments, checkpoints
and milestone emails are what production would have made of the same webhooks. Merchant actions
and buyer clicks use the services the dashboard and the recovery link use (mark_lost,
record_click), ESP news goes through notifications.events.record_esp_event.

The events are replayed in time order. Services stamp "now" on some rows (created_at, alerts
due at once, lost_at…): what each event stamped is moved back to the event's time (the rows it
inserted are known by their ids, and moved in one statement per table, see _Stamps). Before
each event that settles a sale, a stand-in for the outbox marks what fell due as sent at the
time it would have gone (after quiet hours), rendered, so nothing from the past is left for
the real worker to send the moment the demo starts: only future recovery steps stay scheduled.

It runs a few thousand short queries; speed matters because `make demo` waits for it.
"""

import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.utils import make_msgid

from anymail.signals import AnymailTrackingEvent
from django.db import connection, transaction
from django.db.models import F, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from demo import events, numbers, orders, shop
from inbound import services as inbound
from inbound.models import InboundEvent
from notifications.events import record_esp_event
from notifications.models import Audience, EmailEvent, Message, MessageKind, Suppression
from notifications.rendering import render
from notifications.services import sending, suppressions
from payments import stats
from payments.models import DailyStat, LostSale, Payment, PaymentAttempt
from payments.providers.stripe import samples as stripe
from payments.reasons import MERCHANT_ONLY, FailureReason
from payments.services import ingest, merchant, recovery
from storefront_settings.models import (
    AuditLog,
    Membership,
    PaymentMethod,
    RecoveryPolicy,
    ShipmentPolicy,
    Storefront,
)
from tracking.models import Shipment
from tracking.providers import Step
from tracking.services import ingest as tracking_ingest
from tracking.services import shipments as tracking_shipments
from tracking.services import watch
from tracking.statuses import ShipmentStatus as S

logger = logging.getLogger(__name__)

DAYS = 42
SEED = 2026
ESP = "postmark"  # the ESP the demo pretends to send through (its news is made up)
# Kinds of messages the services schedule "at once" (send_at = now): moved to the event's time.
SENT_AT_ONCE = (MessageKind.MERCHANT_FAILED_PAYMENT_ALERT, MessageKind.SHIPMENT_UPDATE)
# The headers stored with each event: a tracking source's are those its samples send, less the
# signature.
HEADERS = {
    "stripe": {"Content-Type": "application/json", "User-Agent": "Stripe/1.0"},
    **{source: samples.HEADERS for source, samples in events.SAMPLES.items()},
}


# Parcels every demo shows whatever the dice say: (shipped hours ago, carrier, steps as
# (status, hours after shipping)). Stalled ones have had no news for days (one never had any);
# the late one still moves, past the date the shop promised.
SCENARIOS = (
    (3, "colissimo", []),
    (120, "mondial_relay", []),
    (20, "chronopost", [(S.INFO_RECEIVED, 1)]),
    (216, "colissimo", [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 10), (S.IN_TRANSIT, 30)]),
    (190, "dpd", [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 12), (S.IN_TRANSIT, 40)]),
    (
        150,
        "colissimo",
        [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 10), (S.IN_TRANSIT, 60), (S.IN_TRANSIT, 125)],
    ),
    (
        46,
        "ups",
        [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 10), (S.IN_TRANSIT, 30), (S.OUT_FOR_DELIVERY, 43)],
    ),
    (
        52,
        "colissimo",
        [
            (S.INFO_RECEIVED, 1),
            (S.IN_TRANSIT, 10),
            (S.OUT_FOR_DELIVERY, 44),
            (S.FAILED_ATTEMPT, 47),
        ],
    ),
    (
        62,
        "mondial_relay",
        [
            (S.INFO_RECEIVED, 1),
            (S.IN_TRANSIT, 10),
            (S.IN_TRANSIT, 30),
            (S.AVAILABLE_FOR_PICKUP, 52),
        ],
    ),
    (74, "gls", [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 10), (S.EXCEPTION, 60)]),
    (
        480,
        "chronopost",
        [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 10), (S.EXCEPTION, 60), (S.RETURNED, 170)],
    ),
    (910, "colissimo", [(S.INFO_RECEIVED, 1), (S.EXPIRED, 24 * 30 + 2)]),
    (
        300,
        "dhl",
        [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, 9), (S.OUT_FOR_DELIVERY, 30), (S.DELIVERED, 33)],
    ),
)


@dataclass
class Summary:
    sales: int = 0
    shipments: int = 0
    events: int = 0
    messages: int = 0


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    action: object = field(compare=False)
    settles: bool = field(default=False, compare=False)


def has_history(storefront: Storefront) -> bool:
    return (
        LostSale.objects.for_storefront(storefront).exists()
        or Shipment.objects.for_storefront(storefront).exists()
    )


@transaction.atomic
def wipe(storefront: Storefront) -> None:
    """Remove what the history (and the trickle) made; the storefront, its members, keys,
    secrets and settings stay."""
    for model in (Message, Suppression, Payment, LostSale, DailyStat, Shipment, InboundEvent):
        model.objects.for_storefront(storefront).delete()
    AuditLog.objects.for_storefront(storefront).filter(action__startswith="lost_sale.").delete()


def configure(storefront: Storefront) -> None:
    """The demo shop's policies: three recovery emails with a discount in the last, a checkout
    link per order, PayPal and bank transfer suggested when a card will not do."""
    policy = RecoveryPolicy.for_storefront(storefront)
    policy.discount_code = "LUNE10"
    policy.discount_wording = "un code de 10 % pour vous remercier de votre patience"
    policy.checkout_url_template = f"{shop.SHOP_URL}/commande/{{order_reference}}/paiement"
    policy.other_payment_methods = [PaymentMethod.PAYPAL, PaymentMethod.BANK_TRANSFER]
    policy.save()
    ShipmentPolicy.for_storefront(storefront)


def seed_history(storefront: Storefront, *, now: datetime | None = None, seed: int = SEED):
    """Fill an empty storefront with DAYS days of history ending at `now`."""
    rng = random.Random(seed)  # noqa: S311 - made-up data, not a secret
    return _History(storefront, now or timezone.now(), rng).run()


class _History:
    def __init__(self, storefront: Storefront, now: datetime, rng: random.Random):
        self.storefront = storefront
        self.now = now.replace(microsecond=0)
        self.rng = rng
        self.start = self.now - timedelta(days=DAYS)
        # Rows stamped by the services during the seed have times after this.
        self.stamped_after = timezone.now() - timedelta(seconds=1)
        self.owner = (
            Membership.objects.for_storefront(storefront)
            .filter(role=Membership.Role.OWNER)
            .select_related("user")
            .first()
            .user
        )
        self.policy = RecoveryPolicy.for_storefront(storefront)
        self.stalled_days = ShipmentPolicy.for_storefront(storefront).stalled_days
        self.steps: list[_Step] = []
        self.summary = Summary()
        self.bounced: set[str] = set()
        self.esp_news: list[EmailEvent] = []
        # Reasons not yet seen in the last days (True) and before them (False).
        self.to_cover = {True: list(FailureReason), False: list(FailureReason)}
        self.stamps = _Stamps(storefront, self.stamped_after)

    # --- The timeline -------------------------------------------------------------------------

    def at(self, when: datetime, action, *, settles: bool = False) -> None:
        """Plan an action at `when`. One that settles a sale (a click, a payment, giving up)
        first lets the outbox send what was due, as the real one would have by then."""
        self.steps.append(_Step(when.replace(microsecond=0), len(self.steps), action, settles))

    def run(self) -> Summary:
        for kind, when, order, scenario in self._orders():
            if kind == "sale":
                self._plan_sale(when, order)
            else:
                self._plan_shipment(when, order, scenario)
        self._plan_suppressions()
        self.steps.sort()
        with transaction.atomic():
            self._backdate_storefront()
            for step in self.steps:
                if step.settles:
                    self._deliver_due(step.at)
                step.action()
                self.stamps.mark(step.at)
            self._deliver_due(self.now)
            self._flag_shipments()
            self._deliver_due(self.now)
            EmailEvent.objects.bulk_create(self.esp_news)
            # received_at is stamped on insert, here and by record_esp_event (the clicks and
            # bounces): the ESP told us when it happened.
            EmailEvent.objects.for_storefront(self.storefront).filter(
                received_at__gte=self.stamped_after
            ).update(received_at=F("occurred_at"))
            self._finish_dates()
            rebuild_aggregates(self.storefront)
        self.summary.messages = Message.objects.for_storefront(self.storefront).count()
        return self.summary

    def _orders(self) -> list[tuple[str, datetime, orders.Order, tuple | None]]:
        """Every order the history talks about, numbered in time order: sales in trouble (about
        three a day), shipments (about two a day) and the parcels every demo should show."""
        planned = []
        for day in range(DAYS, -1, -1):
            for kind, count in (("sale", self.rng.randint(2, 4)), ("ship", self.rng.randint(1, 3))):
                for _ in range(count):
                    when = self._daytime(day)
                    if when < self.now - timedelta(minutes=20):
                        planned.append((when, kind, None))
        for hours_ago, carrier, journey in SCENARIOS:
            planned.append((self.now - timedelta(hours=hours_ago), "ship", (carrier, journey)))
        planned.sort(key=lambda item: item[0])
        made, number = [], 10412
        for when, kind, scenario in planned:
            number += self.rng.randint(2, 9)
            reachable = kind == "ship" or self.rng.random() > 0.06
            order = orders.make_order(self.rng, orders.order_reference(number), reachable=reachable)
            made.append((kind, when, order, scenario))
        return made

    def _daytime(self, days_ago: int) -> datetime:
        # People shop from morning to late evening, Paris time, most in the evening.
        day = (self.now - timedelta(days=days_ago)).astimezone(shop.PARIS).date()
        hour = self.rng.choices(
            range(7, 24), weights=[1, 2, 3, 3, 4, 4, 3, 3, 3, 4, 5, 6, 7, 8, 8, 6, 3]
        )[0]
        local = datetime.combine(day, time(hour, self.rng.randint(0, 59)), tzinfo=shop.PARIS)
        return local.astimezone(UTC) + timedelta(seconds=self.rng.randint(0, 59))

    # --- Sales --------------------------------------------------------------------------------

    def _plan_sale(self, t0: datetime, order: orders.Order) -> None:
        rng = self.rng
        self.summary.sales += 1
        reason = self._reason_for(t0)
        payment = stripe.new_payment(rng)
        variants = stripe.FAILURES[reason]
        self.at(
            t0,
            lambda: self._stripe(
                events.stripe_failure(rng, order, payment, rng.choice(variants), t0)
            ),
        )
        last = t0
        # Some buyers try again at once, with the same result.
        if rng.random() < 0.25 and not variants[0].get("expire"):
            for _ in range(rng.choice([1, 1, 2])):
                last = last + timedelta(minutes=rng.randint(2, 40))
                if last < self.now:
                    when = last
                    self.at(
                        when,
                        lambda when=when: self._stripe(
                            events.stripe_failure(rng, order, payment, rng.choice(variants), when)
                        ),
                    )
        old = self.now - t0 > timedelta(days=self.policy.recovery_window_days)
        emailed = reason not in MERCHANT_ONLY and bool(order.buyer.email)
        roll = rng.random()
        if reason == FailureReason.SUSPECTED_FRAUD:
            if old or roll < 0.5:
                self._plan_lost(order, last + timedelta(hours=rng.randint(2, 30)), by_merchant=True)
        elif (old and roll < 0.45) or (not old and roll < 0.3):
            clicked = emailed and rng.random() < 0.6
            self._plan_recovery(order, payment, t0, last, clicked=clicked)
        elif old:
            by_merchant = rng.random() < 0.25
            when = last + timedelta(days=rng.randint(2, 5)) if by_merchant else None
            # The hourly expiry comes some minutes after the window ends. A sale whose window
            # ended just before the seed is expired a little early rather than left open, and
            # still dated in the past like the rest of the history.
            expiry = t0 + timedelta(days=self.policy.recovery_window_days, minutes=20)
            latest = self.now - timedelta(minutes=10)
            self._plan_lost(order, when or min(expiry, latest), by_merchant=by_merchant)

    def _reason_for(self, t0: datetime) -> str:
        # Every reason shows up in the last week (open sales) and before it (settled ones);
        # the rest follow the usual mix.
        recent = self.now - t0 < timedelta(days=6)
        pool = self.to_cover[recent]
        if pool:
            return pool.pop(self.rng.randrange(len(pool)))
        return orders.pick_reason(self.rng)

    def _plan_recovery(self, order, payment, t0, last, *, clicked: bool) -> None:
        rng = self.rng
        if clicked:
            step = rng.choices([1, 2, 3], weights=[6, 3, 2])[0]
            sent = self._sending_time(t0 + timedelta(hours=self.policy.email_delays[step - 1]))
            click = sent + timedelta(minutes=rng.randint(4, 300))
            paid = click + timedelta(minutes=rng.randint(3, 25))
            if paid >= self.now:
                return  # not yet: the sale stays open
            self.at(click, lambda: self._click(order, step, click), settles=True)
            # Back through the link, the buyer pays in a new checkout: a new payment intent.
            again = stripe.new_payment(rng)
            self.at(
                paid,
                lambda: self._stripe(events.stripe_success(rng, order, again, paid)),
                settles=True,
            )
        else:
            paid = last + timedelta(minutes=rng.randint(8, 60 * 30))
            if paid >= self.now:
                return
            self.at(
                paid,
                lambda: self._stripe(events.stripe_success(rng, order, payment, paid)),
                settles=True,
            )

    def _plan_lost(self, order, when: datetime, *, by_merchant: bool) -> None:
        if when < self.now:
            actor = self.owner if by_merchant else None
            self.at(when, lambda: self._give_up(order, actor, when), settles=True)

    def _sending_time(self, due: datetime) -> datetime:
        return self.storefront.quiet_hours_end_after(due) or due

    def _sale(self, order) -> LostSale:
        return LostSale.objects.for_storefront(self.storefront).get(key=f"order:{order.reference}")

    def _give_up(self, order, actor, when: datetime) -> None:
        # The merchant's "mark lost", or the hourly expiry (no actor) once the window passed.
        sale = self._sale(order)
        if merchant.mark_lost(lost_sale=sale, actor=actor):
            LostSale.objects.for_storefront(self.storefront).filter(pk=sale.pk).update(lost_at=when)

    def _click(self, order, step: int, when: datetime) -> None:
        sale = self._sale(order)
        recovery.record_click(sale)
        LostSale.objects.for_storefront(self.storefront).filter(pk=sale.pk).update(
            recovery_clicked_at=when
        )
        message = (
            Message.objects.for_storefront(self.storefront)
            .filter(idempotency_key=f"lost-sale:{sale.pk}:recovery:{step}", status="sent")
            .first()
        )
        if message is not None:
            self._esp_event(message, "clicked", when)

    def _stripe(self, event: dict) -> None:
        stored = self._store("stripe", event["id"], event["type"], event)
        ingest.process_inbound_event(event_id=stored.pk)

    def _store(self, provider: str, event_id: str, event_type: str, event: dict):
        self.summary.events += 1
        return inbound.store(
            storefront=self.storefront,
            provider=provider,
            event_id=event_id,
            event_type=event_type,
            body=events.encode(event).decode(),
            headers=HEADERS[provider],
        )

    # --- Shipments ----------------------------------------------------------------------------

    def _plan_shipment(self, shipped: datetime, order: orders.Order, scenario) -> None:
        rng = self.rng
        self.summary.shipments += 1
        if scenario:
            carrier, journey = scenario
        else:
            carrier = numbers.pick_carrier(rng)
            journey = self._journey(self.now - shipped, events.source_for(carrier))
        number = numbers.tracking_number(rng, carrier)
        promised = shop.business_days_after(
            shipped.astimezone(shop.PARIS).date(), 4 if carrier == "mondial_relay" else 2
        )
        data = tracking_shipments.NewShipment(
            order_reference=order.reference,
            buyer_email=order.buyer.email,
            buyer_name=order.buyer.name,
            tracking_number=number,
            # Most shops name the carrier; some leave it to the number's format.
            carrier="" if rng.random() < 0.2 else carrier,
            shipped_at=shipped,
            promised_delivery_date=promised,
            items=tuple(
                {"name": name, "quantity": 1, "price": price} for name, price in order.items
            ),
        )
        self.at(shipped, lambda: self._create_shipment(data))
        steps: list[Step] = []
        for status, hours in journey:
            when = shipped + timedelta(hours=hours, minutes=rng.randint(0, 50))
            if when >= self.now:
                break
            steps.append(events.make_step(rng, status, when, first=not steps))
        for index, step in enumerate(steps):
            # One update per change of status (a scan that changes nothing rides along with
            # the next one): fewer events to replay, the same checkpoints in the end.
            if index + 1 < len(steps) and steps[index + 1].status == step.status:
                continue
            so_far = steps[: index + 1]
            self.at(
                step.at, lambda so_far=so_far: self._track(carrier, number, order, so_far, promised)
            )

    def _journey(self, age: timedelta, source: str) -> list[tuple[str, float]]:
        """A parcel's steps (status, hours after shipping), chosen to fit its age."""
        rng, hours = self.rng, age.total_seconds() / 3600
        start = [(S.INFO_RECEIVED, 1), (S.IN_TRANSIT, rng.uniform(8, 14))]
        attempts = source == "aftership"  # EasyPost has no "failed attempt"
        finals = [
            (70, [(S.IN_TRANSIT, 26), (S.OUT_FOR_DELIVERY, 44), (S.DELIVERED, 49)]),
            (12, [(S.IN_TRANSIT, 30), (S.AVAILABLE_FOR_PICKUP, 50), (S.DELIVERED, 98)]),
            (
                6 * attempts,
                [
                    (S.OUT_FOR_DELIVERY, 44),
                    (S.FAILED_ATTEMPT, 47),
                    (S.OUT_FOR_DELIVERY, 68),
                    (S.DELIVERED, 71),
                ],
            ),
            (4, [(S.IN_TRANSIT, 30), (S.EXCEPTION, 60), (S.RETURNED, 170)]),
            (
                3,
                [
                    (S.EXCEPTION, 40),
                    (S.IN_TRANSIT, 70),
                    (S.OUT_FOR_DELIVERY, 92),
                    (S.DELIVERED, 95),
                ],
            ),
        ]
        if hours > 24 * 32 and rng.random() < 0.08:
            return [(S.INFO_RECEIVED, 1), (S.EXPIRED, 24 * 30 + 2)]
        if hours > 24 * 9 and rng.random() < 0.04:
            return [*start, (S.EXCEPTION, 36)]  # never resolved: stalled in exception
        if hours < 6:
            return [] if rng.random() < 0.5 else start[:1]  # pending, or label created
        if hours > 24 * 5:
            weights, tails = zip(*finals, strict=True)
            return start + rng.choices(tails, weights=weights)[0]
        # Under five days: the parcel is somewhere on its way.
        now_h = hours - rng.uniform(0.5, 10)
        current = rng.choices(
            [
                S.IN_TRANSIT,
                S.OUT_FOR_DELIVERY,
                S.FAILED_ATTEMPT,
                S.AVAILABLE_FOR_PICKUP,
                S.EXCEPTION,
                S.DELIVERED,
            ],
            weights=[30, 8, 6 * attempts, 8, 6, 30],
        )[0]
        middle = [(S.IN_TRANSIT, h) for h in (20, 34, 50, 70) if h < now_h - 6]
        if current == S.FAILED_ATTEMPT:
            middle.append((S.OUT_FOR_DELIVERY, now_h - 3))
        if current == S.DELIVERED:
            middle.append((S.OUT_FOR_DELIVERY, now_h - 5))
        return [*start, *middle, (current, now_h)] if now_h > 16 else start

    def _create_shipment(self, data: tracking_shipments.NewShipment) -> None:
        shipment = tracking_shipments.create_shipment(self.storefront, data)
        Shipment.objects.for_storefront(self.storefront).filter(pk=shipment.pk).update(
            created_at=data.shipped_at, last_news_at=data.shipped_at
        )

    def _track(self, carrier, number, order, steps, promised) -> None:
        source, event = events.tracking_event(
            self.rng,
            carrier=carrier,
            number=number,
            order_reference=order.reference,
            steps=steps,
            estimated=promised,
        )
        event_id, event_type = events.identity(source, event)
        stored = self._store(source, event_id, event_type, event)
        tracking_ingest.process_inbound_event(event_id=stored.pk)

    def _flag_shipments(self) -> None:
        """The hourly watchers, as they would have flagged these parcels: run now, then dated
        to when each parcel crossed the line."""
        watch.flag_stalled(now=self.now)
        watch.flag_late(now=self.now)
        shipments = Shipment.objects.for_storefront(self.storefront)
        for shipment in shipments.filter(stalled_since__isnull=False):
            when = min(
                shipment.last_news_at + timedelta(days=self.stalled_days, minutes=15), self.now
            )
            shipments.filter(pk=shipment.pk).update(stalled_since=when)
            self._date_flag_email(shipment, "shipment_stalled", when)
        for shipment in shipments.filter(late_since__isnull=False):
            day = shipment.promised_delivery_date + timedelta(days=1)
            when = min(datetime.combine(day, time(6, 15), tzinfo=shop.PARIS), self.now)
            shipments.filter(pk=shipment.pk).update(late_since=when)
            self._date_flag_email(shipment, "shipment_delay", when)

    def _date_flag_email(self, shipment, template: str, when: datetime) -> None:
        Message.objects.for_storefront(self.storefront).filter(
            about_id=str(shipment.pk), template=template, created_at__gte=self.stamped_after
        ).update(send_at=when, next_attempt_at=when, created_at=when)

    # --- Suppressions -------------------------------------------------------------------------

    def _plan_suppressions(self) -> None:
        """A few addresses the shop never writes to: two asked by phone, one unsubscribed
        (bounces add their own as they happen)."""
        for days, reason, note in (
            (30, Suppression.Reason.MANUAL, "Demande par téléphone au service client"),
            (12, Suppression.Reason.UNSUBSCRIBED, ""),
            (2, Suppression.Reason.MANUAL, "Client B2B, relances par le commercial"),
        ):
            email = orders.make_buyer(self.rng).email
            when = self.now - timedelta(days=days, hours=self.rng.randint(1, 9))
            self.at(
                when,
                lambda e=email, r=reason, n=note, w=when: self._suppress(e, r, n, w),
                settles=True,
            )

    # --- The outbox, played forward -----------------------------------------------------------

    def _deliver_due(self, until: datetime) -> None:
        """Mark what fell due by `until` as sent when it would have gone, with the ESP's news."""
        self.stamps.apply()
        due = (
            Message.objects.for_storefront(self.storefront)
            .filter(status=Message.Status.SCHEDULED, next_attempt_at__lte=until)
            .order_by("next_attempt_at")
        )
        for message in due:
            when = message.next_attempt_at
            if message.audience == Audience.BUYER:
                when = self._sending_time(when)
            if when > until:
                Message.objects.for_storefront(self.storefront).filter(pk=message.pk).update(
                    next_attempt_at=when
                )
                continue
            rendered = render(
                template=message.template,
                storefront=self.storefront,
                context=message.context,
                locale=message.locale,
                recipient=message.to,
                audience=message.audience,
            )
            message.status = Message.Status.SENT
            message.attempts = 1
            message.last_attempt_at = when
            message.sent_at = when + timedelta(seconds=self.rng.randint(1, 4))
            message.subject = rendered.subject[:300]
            message.body_text = rendered.text
            message.body_html = rendered.html
            message.esp_message_id = make_msgid(idstring=f"m{message.pk}", domain="localhost")
            bounce = self._esp_news(message, message.sent_at)
            message.save()
            if bounce:
                # Through the real path: the bounce suppresses the address.
                self._esp_event(message, "bounced", bounce)

    def _esp_news(self, message: Message, sent: datetime) -> datetime | None:
        """What the ESP said about a sent message. Delivered and opened are set on the row and
        their events kept for one insert at the end (thousands of them, and they change nothing
        else); a bounce's time is returned, for the real path."""
        rng = self.rng
        buyer = message.audience == Audience.BUYER
        if buyer and (message.to in self.bounced or rng.random() < 0.012):
            self.bounced.add(message.to)
            return sent + timedelta(seconds=rng.randint(5, 90))
        news = [("delivered", sent + timedelta(seconds=rng.randint(2, 30)))]
        opened = sent + timedelta(minutes=rng.randint(3, 600))
        if rng.random() < (0.5 if buyer else 0.7) and opened < self.now:
            news.append(("opened", opened))
        for event_type, when in news:
            self.esp_news.append(
                EmailEvent(
                    storefront=self.storefront,
                    message=message,
                    esp=ESP,
                    event_id=f"demo-{message.pk}-{event_type}",
                    event_type=event_type,
                    occurred_at=when,
                    received_at=when,
                )
            )
        message.delivery, message.delivery_updated_at = news[-1]
        return None

    def _esp_event(self, message: Message, event_type: str, when: datetime) -> None:
        record_esp_event(
            esp=ESP,
            event=AnymailTrackingEvent(
                event_type=event_type,
                timestamp=when,
                event_id=f"demo-{message.pk}-{event_type}",
                message_id=message.esp_message_id,
                recipient=message.to,
                metadata=sending.esp_metadata(message),
                description=(
                    "550 5.1.1 The email account that you tried to reach does not exist."
                    if event_type == "bounced"
                    else ""
                ),
            ),
        )
        if event_type == "bounced":
            self._date_suppressions(when)

    def _suppress(self, email: str, reason: str, note: str, when: datetime) -> None:
        suppressions.suppress(self.storefront, email, reason, note)
        self._date_suppressions(when)

    def _date_suppressions(self, when: datetime) -> None:
        Suppression.objects.for_storefront(self.storefront).filter(
            created_at__gte=self.stamped_after
        ).update(created_at=when)

    # --- Dates --------------------------------------------------------------------------------

    def _backdate_storefront(self) -> None:
        opened = self.start - timedelta(days=3)
        Storefront.objects.filter(pk=self.storefront.pk).update(created_at=opened)
        AuditLog.objects.for_storefront(self.storefront).update(created_at=opened)
        Membership.objects.for_storefront(self.storefront).update(created_at=opened)

    def _finish_dates(self) -> None:
        sf = self.storefront
        LostSale.objects.for_storefront(sf).update(created_at=F("first_failed_at"))
        for status, column in (("recovered", "recovered_at"), ("lost", "lost_at")):
            LostSale.objects.for_storefront(sf).filter(status=status).update(updated_at=F(column))
        LostSale.objects.for_storefront(sf).filter(status="open").update(
            updated_at=F("last_failed_at")
        )
        first_attempt = (
            PaymentAttempt.objects.for_storefront(sf)
            .filter(payment=OuterRef("pk"))
            .values("payment")
            .annotate(first=Min("occurred_at"))
            .values("first")
        )
        payments_ = Payment.objects.for_storefront(sf)
        payments_.update(
            created_at=Coalesce(Subquery(first_attempt), F("last_event_at")),
            updated_at=F("last_event_at"),
        )
        shipments = Shipment.objects.for_storefront(sf)
        shipments.update(updated_at=F("last_news_at"))
        Message.objects.for_storefront(sf).filter(sent_at__isnull=False).update(
            updated_at=F("sent_at")
        )


def rebuild_aggregates(storefront: Storefront) -> None:
    """The overview's daily statistics, recomputed from the backdated sales (the services kept
    them as they went; a rebuild makes sure they match the dates moved since)."""
    stats.rebuild(storefront=storefront)


class _Stamps:
    """Moves what each event inserted back to the event's time.

    After each event, the newest id of each table the services insert into "now" is noted (one
    query); apply() then dates every range of ids to its event in one UPDATE per table."""

    TABLES = (Message, InboundEvent, AuditLog)

    def __init__(self, storefront: Storefront, after: datetime):
        self.storefront = storefront
        self.after = after
        self.last = self._newest()
        self.pending: list[tuple[tuple[int, ...], tuple[int, ...], datetime]] = []

    def _newest(self) -> tuple[int, ...]:
        with connection.cursor() as cursor:
            newest = ", ".join(
                f"(SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table})"  # noqa: S608
                for model in self.TABLES
            )
            # Table names come from the models.
            cursor.execute(f"SELECT {newest}")
            return tuple(cursor.fetchone())

    def mark(self, when: datetime) -> None:
        newest = self._newest()
        if newest != self.last:
            self.pending.append((self.last, newest, when))
            self.last = newest

    def apply(self) -> None:
        if not self.pending:
            return
        statements = {
            Message: """
                UPDATE {table} AS t SET created_at = v.at, updated_at = v.at,
                    send_at = CASE WHEN t.kind = ANY(%s) AND t.send_at >= %s
                                   THEN v.at ELSE t.send_at END,
                    next_attempt_at = CASE WHEN t.kind = ANY(%s) AND t.send_at >= %s
                                   THEN v.at ELSE t.next_attempt_at END
                FROM (VALUES {values}) AS v(lo, hi, at)
                WHERE t.id > v.lo AND t.id <= v.hi AND t.storefront_id = %s
            """,
            InboundEvent: """
                UPDATE {table} AS t SET received_at = v.at, enqueued_at = v.at,
                    processed_at = v.at + interval '0.3 seconds'
                FROM (VALUES {values}) AS v(lo, hi, at)
                WHERE t.id > v.lo AND t.id <= v.hi AND t.storefront_id = %s
            """,
            AuditLog: """
                UPDATE {table} AS t SET created_at = v.at
                FROM (VALUES {values}) AS v(lo, hi, at)
                WHERE t.id > v.lo AND t.id <= v.hi AND t.storefront_id = %s
            """,
        }
        with connection.cursor() as cursor:
            for index, model in enumerate(self.TABLES):
                ranges = [(lo[index], hi[index], at) for lo, hi, at in self.pending]
                ranges = [r for r in ranges if r[1] > r[0]]
                if not ranges:
                    continue
                values = ", ".join(["(%s::bigint, %s::bigint, %s::timestamptz)"] * len(ranges))
                params = [item for r in ranges for item in r]
                sql = statements[model].format(table=model._meta.db_table, values=values)
                if model is Message:
                    kinds = list(SENT_AT_ONCE)
                    params = [kinds, self.after, kinds, self.after, *params]
                cursor.execute(sql, [*params, self.storefront.pk])
        self.pending = []
