"""The outbox, played forward: what fell due is marked sent when it would have gone (after quiet
hours), rendered, with the ESP's news about it (delivered, opened, clicked, bounced), and the
addresses the shop never writes to.

Before each step that settles a sale, the history lets this stand-in for the outbox send what
was due, so nothing from the past is left for the real worker to send the moment the demo
starts: only future recovery steps stay scheduled. Clicks and bounces go through the real path
(notifications.events.record_esp_event), so a bounce suppresses the address.
"""

from datetime import datetime, timedelta
from email.utils import make_msgid

from anymail.signals import AnymailTrackingEvent
from django.db.models import F

from demo import orders
from demo.history.timeline import Timeline
from notifications.events import record_esp_event
from notifications.models import Audience, EmailEvent, Message, Suppression
from notifications.rendering import render
from notifications.services import sending, suppressions

ESP = "postmark"  # the ESP the demo pretends to send through (its news is made up)


def deliver_due(timeline: Timeline, until: datetime) -> None:
    """Mark what fell due by `until` as sent when it would have gone, with the ESP's news."""
    timeline.stamps.apply()
    due = (
        Message.objects.for_storefront(timeline.storefront)
        .filter(status=Message.Status.SCHEDULED, next_attempt_at__lte=until)
        .order_by("next_attempt_at", "pk")
    )
    for message in due:
        when = message.next_attempt_at
        if message.audience == Audience.BUYER:
            when = timeline.sending_time(when)
        if when > until:
            Message.objects.for_storefront(timeline.storefront).filter(pk=message.pk).update(
                next_attempt_at=when
            )
            continue
        rendered = render(
            template=message.template,
            storefront=timeline.storefront,
            context=message.context,
            locale=message.locale,
            recipient=message.to,
            audience=message.audience,
        )
        message.status = Message.Status.SENT
        message.attempts = 1
        message.last_attempt_at = when
        message.sent_at = when + timedelta(seconds=timeline.rng.randint(1, 4))
        message.subject = rendered.subject[:300]
        message.body_text = rendered.text
        message.body_html = rendered.html
        message.esp_message_id = make_msgid(idstring=f"m{message.pk}", domain="localhost")
        bounce = _esp_news(timeline, message, message.sent_at)
        message.save()
        if bounce:
            # Through the real path: the bounce suppresses the address.
            esp_event(timeline, message, "bounced", bounce)


def _esp_news(timeline: Timeline, message: Message, sent: datetime) -> datetime | None:
    """What the ESP said about a sent message. Delivered and opened are set on the row and
    their events kept for one insert at the end (thousands of them, and they change nothing
    else); a bounce's time is returned, for the real path."""
    rng = timeline.rng
    buyer = message.audience == Audience.BUYER
    if buyer and (message.to in timeline.bounced or rng.random() < 0.012):
        timeline.bounced.add(message.to)
        return sent + timedelta(seconds=rng.randint(5, 90))
    news = [("delivered", sent + timedelta(seconds=rng.randint(2, 30)))]
    opened = sent + timedelta(minutes=rng.randint(3, 600))
    if rng.random() < (0.5 if buyer else 0.7) and opened < timeline.now:
        news.append(("opened", opened))
    for event_type, when in news:
        timeline.esp_news.append(
            EmailEvent(
                storefront=timeline.storefront,
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


def esp_event(timeline: Timeline, message: Message, event_type: str, when: datetime) -> None:
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
        _date_suppressions(timeline, when)


def store_esp_news(timeline: Timeline) -> None:
    """The delivered and opened news kept by _esp_news, in one insert."""
    EmailEvent.objects.bulk_create(timeline.esp_news)
    # received_at is stamped on insert, here and by record_esp_event (the clicks and bounces):
    # the ESP told us when it happened.
    EmailEvent.objects.for_storefront(timeline.storefront).filter(
        received_at__gte=timeline.stamped_after
    ).update(received_at=F("occurred_at"))


# --- Addresses never written to -----------------------------------------------------------------


def plan_suppressions(timeline: Timeline) -> None:
    """A few addresses the shop never writes to: two asked by phone, one unsubscribed
    (bounces add their own as they happen)."""
    for days, reason, note in (
        (30, Suppression.Reason.MANUAL, "Demande par téléphone au service client"),
        (12, Suppression.Reason.UNSUBSCRIBED, ""),
        (2, Suppression.Reason.MANUAL, "Client B2B, relances par le commercial"),
    ):
        email = orders.make_buyer(timeline.rng).email
        when = timeline.now - timedelta(days=days, hours=timeline.rng.randint(1, 9))
        timeline.at(
            when,
            lambda e=email, r=reason, n=note, w=when: _suppress(timeline, e, r, n, w),
            settles=True,
        )


def _suppress(timeline: Timeline, email: str, reason: str, note: str, when: datetime) -> None:
    suppressions.suppress(timeline.storefront, email, reason, note)
    _date_suppressions(timeline, when)


def _date_suppressions(timeline: Timeline, when: datetime) -> None:
    Suppression.objects.for_storefront(timeline.storefront).filter(
        created_at__gte=timeline.stamped_after
    ).update(created_at=when)
