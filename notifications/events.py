"""What ESPs tell us after sending, through anymail's tracking webhooks
(/webhooks/email/<esp>/tracking/, mounted only with a webhook secret, which anymail's basic-auth
check then requires, plus the ESP's own signature where it has one: notifications.esp_urls).

Processing is two short statements, so it runs in the request: one INSERT of the event, unique
on the ESP's event id (a redelivered webhook changes nothing), then the message's delivery status
and, for bounces, complaints and unsubscribes, a suppression.
"""

import logging

from anymail.signals import EventType, RejectReason, tracking
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from notifications.models import Audience, EmailEvent, Message, Suppression
from notifications.services import sending, suppressions

logger = logging.getLogger(__name__)

DELIVERY_RANK = {
    Message.Delivery.DEFERRED: 1,
    Message.Delivery.DELIVERED: 2,
    Message.Delivery.OPENED: 3,
    Message.Delivery.CLICKED: 4,
    Message.Delivery.REJECTED: 5,
    Message.Delivery.BOUNCED: 5,
    Message.Delivery.COMPLAINED: 6,
}

SUPPRESSING = {
    EventType.BOUNCED: Suppression.Reason.BOUNCED,
    EventType.COMPLAINED: Suppression.Reason.COMPLAINED,
    EventType.UNSUBSCRIBED: Suppression.Reason.UNSUBSCRIBED,
}


@receiver(tracking, dispatch_uid="notifications.record_esp_event")
def on_tracking(sender, event, esp_name, **kwargs):
    record_esp_event(esp=esp_name, event=event)


def find_message(event) -> Message | None:
    """The message an ESP event is about, or None when it names none of ours.

    The ESP's own message id, kept when the message was handed over, names it. Where the ESP
    echoes our metadata, it must agree: the storefront's public id and the message's id, and
    our token for the pair (services.esp_metadata_token). An event with no ESP id, or about a
    message whose ESP id was never kept (its worker died handing it over), is matched through
    the metadata only when that token checks. Our own message ids are sequential and
    shared by every tenant, so an id alone is never trusted: an event that names another
    storefront's message, or a message with a token that does not match, changes nothing."""
    metadata = event.metadata or {}
    public_id = str(metadata.get("storefront", ""))
    our_id = str(metadata.get("message", ""))
    token = str(metadata.get("token", ""))
    if token and not (
        public_id
        and our_id.isdigit()
        and constant_time_compare(token, sending.esp_metadata_token(public_id, our_id))
    ):
        return None
    messages = Message.unscoped.select_related("storefront")
    if public_id:
        messages = messages.filter(storefront__public_id=public_id)
    if our_id.isdigit():
        messages = messages.filter(pk=int(our_id))
    if event.message_id:
        found = list(messages.filter(esp_message_id=str(event.message_id))[:2])
        if not found and token:
            # The ESP took the message, but its worker died before keeping the ESP's id: the
            # message is in doubt (sending.fail_stale_sends), and this event settles it.
            found = list(messages.filter(esp_message_id="", status=Message.Status.SENDING)[:1])
    elif token:
        found = list(messages[:1])
    else:
        return None
    # Two messages with one ESP id (two ESP accounts, say) are ambiguous: neither is touched.
    return found[0] if len(found) == 1 else None


def record_esp_event(*, esp: str, event) -> bool:
    """Record one ESP event; False when it was already recorded or names no message of ours."""
    message = find_message(event)
    if message is None:
        logger.info("%s %s event for an unknown message", esp, event.event_type)
        return False
    occurred_at = event.timestamp or timezone.now()
    # Some ESPs give an id only to some events: derive a stable one from what the event says.
    stamp = int(occurred_at.timestamp())
    event_id = str(event.event_id or f"{event.event_type}:{event.message_id}:{stamp}")
    try:
        with transaction.atomic():
            EmailEvent.objects.create(
                storefront=message.storefront,
                message=message,
                esp=esp,
                event_id=event_id[:200],
                event_type=event.event_type,
                occurred_at=occurred_at,
                description=(event.description or event.mta_response or "")[:2000],
            )
    except IntegrityError:
        return False  # the ESP delivered this event before
    _update_delivery(message, event.event_type, occurred_at)
    _suppress_if_needed(message, event)
    return True


def _update_delivery(message: Message, event_type: str, occurred_at) -> None:
    if event_type not in Message.Delivery.values or event_type not in DELIVERY_RANK:
        return
    if DELIVERY_RANK[event_type] <= DELIVERY_RANK.get(message.delivery, 0):
        return
    Message.objects.for_storefront(message.storefront).filter(pk=message.pk).update(
        delivery=event_type, delivery_updated_at=occurred_at
    )


def _suppress_if_needed(message: Message, event) -> None:
    reason = SUPPRESSING.get(event.event_type)
    if event.event_type == EventType.REJECTED and event.reject_reason in (
        RejectReason.INVALID,
        RejectReason.BOUNCED,
    ):
        reason = Suppression.Reason.BOUNCED
    if reason is None:
        return
    if message.audience == Audience.MERCHANT:
        if reason != Suppression.Reason.BOUNCED:
            suppressions.opt_out_member_alerts(message.storefront, message.to)
        return
    suppressions.suppress(message.storefront, message.to, reason, note=f"{message.kind} via ESP")
