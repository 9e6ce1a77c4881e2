"""What a storefront's team does to a lost sale (dashboard, admin): give up on it, send its
next recovery email now, stop its emails. Each leaves an audit row naming who did it."""

from django.db import transaction
from django.utils import timezone

from notifications.models import Message, MessageKind
from notifications.services import outbox
from payments import stats
from payments.models import LostSale
from storefront_settings.models import AuditAction
from storefront_settings.services.audit import record


def mark_lost(*, lost_sale: LostSale, actor=None) -> bool:
    """The merchant (or the recovery window) gives up on an open sale: stop its emails."""
    storefront = lost_sale.storefront
    with transaction.atomic():
        # Locked, so that the daily statistics move it from open to lost exactly once.
        locked = (
            LostSale.objects.for_storefront(storefront)
            .select_for_update()
            .filter(pk=lost_sale.pk, status=LostSale.Status.OPEN)
            .first()
        )
        changed = locked is not None
        if changed:
            with stats.upkeep(storefront=storefront, lost_sale=locked):
                locked.status, locked.lost_at = LostSale.Status.LOST, timezone.now()
                locked.save(update_fields=["status", "lost_at", "updated_at"])
            outbox.cancel(lost_sale.storefront, lost_sale.group)
            record(
                storefront=lost_sale.storefront,
                actor=actor,
                action=AuditAction.LOST_SALE_MARKED_LOST,
                lost_sale=lost_sale.pk,
            )
    lost_sale.refresh_from_db()
    return bool(changed)


def send_recovery_email_now(*, lost_sale: LostSale, actor=None) -> Message | None:
    """The merchant asks for the sale's next recovery email now rather than at its step's time.
    Returns that message, or None when none is scheduled (the sale is settled, stopped, the
    buyer unreachable or suppressed, or every step went out)."""
    if lost_sale.status != LostSale.Status.OPEN:
        return None
    with transaction.atomic():
        message = outbox.bring_forward(
            lost_sale.storefront, group=lost_sale.group, kind=MessageKind.PAYMENT_RECOVERY
        )
        if message is not None:
            record(
                storefront=lost_sale.storefront,
                actor=actor,
                action=AuditAction.LOST_SALE_RECOVERY_EMAIL_SENT_NOW,
                lost_sale=lost_sale.pk,
                message=message.pk,
                step=message.context.get("step"),
            )
    return message


def stop_recovery(*, lost_sale: LostSale, actor=None) -> int:
    """The merchant stops what is still scheduled about this sale; returns how many emails."""
    with transaction.atomic():
        stopped = outbox.cancel(lost_sale.storefront, lost_sale.group)
        if stopped:
            record(
                storefront=lost_sale.storefront,
                actor=actor,
                action=AuditAction.LOST_SALE_SEQUENCE_STOPPED,
                lost_sale=lost_sale.pk,
                cancelled=stopped,
            )
    return stopped
