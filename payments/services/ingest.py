"""What happened to a payment: the signals of the provider adapters applied to the database.

process_inbound_event() turns a stored webhook event into PaymentSignals (the provider
adapters) and applies each: a failure or an abandoned checkout opens (or updates) the order's
lost sale, classified by reason, and schedules the recovery emails (recovery) and the merchant
alert (alerts); a success marks the lost sale recovered and cancels what is still scheduled.

Events arrive duplicated and out of order. Every write here is idempotent (unique keys, INSERT …
ON CONFLICT DO NOTHING), a payment's fields follow the newest event by the provider's `created`
time, and a success is final, so any order of the same events gives the same state.
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from django.db import transaction

from inbound import services as inbound
from inbound.models import InboundEvent
from notifications.services import outbox
from payments import stats
from payments.classification import classify
from payments.models import LostSale, Payment, PaymentAttempt, PaymentReference
from payments.services import alerts, recovery
from payments.signals import PaymentSignal, SignalKind
from storefront_settings import connections
from storefront_settings.models import RecoveryPolicy, Storefront
from storefront_settings.tenancy import lock_keys

INVALID_EMAIL_KEPT = LostSale._meta.get_field("invalid_buyer_email").max_length


def process_inbound_event(
    *, event_id: int, read: Callable[[str], list[PaymentSignal]] | None = None
) -> str:
    """Apply one stored event; returns what became of it. Safe to run twice, or concurrently.

    `read` turns the stored body into signals; by default, the connection's adapter's
    signals(). An adapter that learnt more in the worker than the body says (PayPal's buyer,
    fetched from the order) passes its own."""
    with transaction.atomic():
        event = inbound.claim(event_id)
        if event is None:
            return "skipped"  # processed already, or another worker holds it
        if read is None:
            read = connections.get(event.provider).adapter.signals
        signals = read(event.body)
        if not signals:
            inbound.finish(event, status=InboundEvent.Status.IGNORED)
            return "ignored"
        for signal in signals:
            apply_signal(storefront=event.storefront, signal=signal, inbound_event=event)
        inbound.finish(event, status=InboundEvent.Status.PROCESSED)
        return "processed"


def apply_signal(
    *, storefront: Storefront, signal: PaymentSignal, inbound_event: InboundEvent | None = None
) -> Payment:
    # An address no email can go to (a quoted local part with spaces…) is bad data no retry
    # fixes: the payment and its sale are recorded without it (the sale is unreachable, its
    # merchant alert still goes out), and the sale keeps it as given for the merchant to see.
    invalid_email = ""
    if signal.buyer_email and not outbox.is_valid_address(signal.buyer_email):
        invalid_email, signal = signal.buyer_email, replace(signal, buyer_email="")
    references = [signal.payment_id, *signal.related_ids]
    _lock(storefront, signal.provider, references)
    payment = _payment_for(storefront, signal, references)
    if signal.kind == SignalKind.SUCCEEDED:
        _record_success(payment, signal)
    else:
        _record_failure(payment, signal, inbound_event, invalid_email)
    return payment


def _lock(storefront: Storefront, provider: str, keys: list[str]) -> None:
    # Two events about one payment (a charge and its payment intent, say) may be processed by
    # two workers at once; each would find no Payment and make one. A transaction-scoped
    # advisory lock per provider id serialises them.
    lock_keys(f"{storefront.pk}:{provider}:{key}" for key in keys if key)


def _payment_for(storefront: Storefront, signal: PaymentSignal, references: list[str]) -> Payment:
    known = (
        PaymentReference.objects.for_storefront(storefront)
        .filter(provider=signal.provider, reference__in=references)
        .values_list("payment_id", flat=True)
        .first()
    )
    if known is not None:
        payment = Payment.objects.for_storefront(storefront).select_for_update().get(pk=known)
    else:
        payment = Payment.objects.create(
            storefront=storefront,
            provider=signal.provider,
            last_event_at=signal.occurred_at,
        )
    PaymentReference.objects.bulk_create(
        [
            PaymentReference(
                storefront=storefront, provider=signal.provider, reference=ref, payment=payment
            )
            for ref in references
            if ref
        ],
        ignore_conflicts=True,
    )
    return payment


def _take_details(target, signal: PaymentSignal, *, newer: bool) -> list[str]:
    """Copy what the signal knows onto a Payment or LostSale: blanks are always filled, known
    values are replaced only by a newer event. Returns the fields changed."""
    changed = []
    for name in ("order_reference", "buyer_email", "buyer_name", "buyer_phone", "currency"):
        value = getattr(signal, name)
        if value and (newer or not getattr(target, name)) and getattr(target, name) != value:
            setattr(target, name, value)
            changed.append(name)
    amount_known = signal.amount is not None and target.amount != signal.amount
    if amount_known and (newer or target.amount is None):
        target.amount = signal.amount
        changed.append("amount")
    return changed


def _record_failure(
    payment: Payment, signal: PaymentSignal, inbound_event, invalid_email: str
) -> None:
    storefront = payment.storefront
    reason = classify(signal.provider, signal.codes, signal.kind)
    PaymentAttempt.objects.bulk_create(
        [
            PaymentAttempt(
                storefront=storefront,
                payment=payment,
                inbound_event=inbound_event,
                attempt_key=signal.attempt_id or signal.event_id,
                event_type=signal.event_type,
                occurred_at=signal.occurred_at,
                reason=reason,
                codes=signal.codes,
            )
        ],
        ignore_conflicts=True,
    )
    newer = signal.occurred_at >= payment.last_event_at
    changed = _take_details(payment, signal, newer=newer)
    if payment.status != Payment.Status.SUCCEEDED and newer:
        # A success is final: a late failure event does not undo it.
        payment.status = (
            Payment.Status.ABANDONED
            if signal.kind == SignalKind.ABANDONED
            else Payment.Status.FAILED
        )
        payment.last_event_at = signal.occurred_at
        changed += ["status", "last_event_at"]

    lost_sale = _lost_sale_for(payment, signal, reason)
    with stats.upkeep(storefront=storefront, lost_sale=lost_sale):
        if payment.lost_sale_id != lost_sale.pk:
            # Found by the order's key: a success that came first may already settle it.
            if lost_sale.status == LostSale.Status.OPEN:
                _recover_if_already_paid(lost_sale, payment)
            payment.lost_sale = lost_sale
            changed.append("lost_sale")
        if changed:
            payment.save(update_fields=[*set(changed), "updated_at"])
        _refresh_lost_sale(lost_sale, signal, invalid_email)
    if lost_sale.status == LostSale.Status.OPEN:
        # Idempotent (one key per sale and step, per sale and member): a later event that
        # brings the buyer's address schedules what an earlier one could not.
        policy = RecoveryPolicy.for_storefront(lost_sale.storefront)
        recovery.schedule_recovery(lost_sale, policy)
        alerts.alert_members(lost_sale, policy)


def _lost_sale_key(signal: PaymentSignal) -> str:
    # One lost sale per order, however many payments and attempts it took. Without an order
    # reference, the payment is the order.
    if signal.order_reference:
        return f"order:{signal.order_reference}"
    return f"payment:{signal.payment_id}"


def _lost_sale_for(payment: Payment, signal: PaymentSignal, reason: str) -> LostSale:
    """The payment's sale, else the order's (made now if there is none), locked."""
    storefront = payment.storefront
    if payment.lost_sale_id:
        sale = LostSale.objects.for_storefront(storefront).select_for_update()
        return sale.get(pk=payment.lost_sale_id)
    key = _lost_sale_key(signal)
    LostSale.objects.bulk_create(
        [
            LostSale(
                storefront=storefront,
                key=key,
                order_reference=signal.order_reference,
                provider=signal.provider,
                reason=reason,
                codes=signal.codes,
                first_failed_at=signal.occurred_at,
                last_failed_at=signal.occurred_at,
            )
        ],
        ignore_conflicts=True,
    )
    return LostSale.objects.for_storefront(storefront).select_for_update().get(key=key)


def _recover_if_already_paid(lost_sale: LostSale, payment: Payment) -> None:
    """A success that arrived before this failure (events out of order) already settles it:
    this very payment, or another one for the same order."""
    success = payment if payment.status == Payment.Status.SUCCEEDED else None
    if success is None and lost_sale.order_reference:
        success = (
            Payment.objects.for_storefront(lost_sale.storefront)
            .filter(status=Payment.Status.SUCCEEDED, order_reference=lost_sale.order_reference)
            .order_by("succeeded_at")
            .first()
        )
    if success is not None:
        _mark_recovered(lost_sale, amount=success.amount, at=success.succeeded_at)


def _refresh_lost_sale(lost_sale: LostSale, signal: PaymentSignal, invalid_email: str) -> None:
    """Recompute the sale from its attempts: the same whatever order the events came in."""
    attempts = PaymentAttempt.objects.for_storefront(lost_sale.storefront).filter(
        payment__lost_sale=lost_sale
    )
    newest = attempts.order_by("-occurred_at", "-pk").first()
    lost_sale.attempts = attempts.count()
    lost_sale.first_failed_at = attempts.order_by("occurred_at").first().occurred_at
    lost_sale.last_failed_at = newest.occurred_at
    lost_sale.reason = newest.reason
    lost_sale.codes = newest.codes
    newer = signal.occurred_at >= newest.occurred_at
    _take_details(lost_sale, signal, newer=newer)
    if lost_sale.buyer_email:
        lost_sale.invalid_buyer_email = ""  # a valid address came: the invalid one is moot
    elif invalid_email and (newer or not lost_sale.invalid_buyer_email):
        lost_sale.invalid_buyer_email = invalid_email[:INVALID_EMAIL_KEPT]
    if signal.recovery_url and (newer or not lost_sale.recovery_url):
        lost_sale.recovery_url = signal.recovery_url
    lost_sale.save()


def _record_success(payment: Payment, signal: PaymentSignal) -> None:
    storefront = payment.storefront
    changed = _take_details(payment, signal, newer=True)
    if payment.status != Payment.Status.SUCCEEDED:
        payment.status = Payment.Status.SUCCEEDED
        payment.succeeded_at = signal.occurred_at
        payment.last_event_at = max(payment.last_event_at, signal.occurred_at)
        changed += ["status", "succeeded_at", "last_event_at"]
    if changed:
        payment.save(update_fields=[*set(changed), "updated_at"])
    lost_sale = None
    if payment.lost_sale_id:
        lost_sale = LostSale.objects.for_storefront(storefront).select_for_update()
        lost_sale = lost_sale.get(pk=payment.lost_sale_id)
    elif signal.order_reference:
        lost_sale = (
            LostSale.objects.for_storefront(storefront)
            .select_for_update()
            .filter(key=_lost_sale_key(signal))
            .first()
        )
    if lost_sale is not None:
        if payment.lost_sale_id != lost_sale.pk:
            Payment.objects.for_storefront(storefront).filter(pk=payment.pk).update(
                lost_sale=lost_sale
            )
        with stats.upkeep(storefront=storefront, lost_sale=lost_sale):
            _mark_recovered(lost_sale, amount=signal.amount, at=signal.occurred_at)


def _mark_recovered(lost_sale: LostSale, *, amount: int | None, at: datetime) -> None:
    if lost_sale.status == LostSale.Status.RECOVERED:
        return  # final; the first success recorded stays
    lost_sale.status = LostSale.Status.RECOVERED
    lost_sale.recovered_at = at
    lost_sale.recovered_amount = amount
    # Attribution: the buyer clicked a recovery link before paying.
    lost_sale.recovered_after_click = bool(
        lost_sale.recovery_clicked_at and lost_sale.recovery_clicked_at <= at
    )
    lost_sale.save()
    outbox.cancel(lost_sale.storefront, lost_sale.group)
