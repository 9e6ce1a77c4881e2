"""What happened to a payment, and what to say about it.

process_inbound_event() turns a stored webhook event into PaymentSignals (the provider
adapters) and applies each: a failure or an abandoned checkout opens (or updates) the order's
lost sale, classified by reason, and schedules the recovery emails and the merchant alert; a
success marks the lost sale recovered and cancels what is still scheduled.

Events arrive duplicated and out of order. Every write here is idempotent (unique keys, INSERT …
ON CONFLICT DO NOTHING), a payment's fields follow the newest event by the provider's `created`
time, and a success is final, so any order of the same events gives the same state.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

from babel.numbers import format_currency, get_currency_precision
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from inbound import services as inbound
from inbound.models import InboundEvent
from notifications import services as notifications
from notifications.models import Audience, Message
from payments import links, stats
from payments.classification import classify
from payments.models import LostSale, Payment, PaymentAttempt, PaymentReference
from payments.providers import PaymentSignal, SignalKind, parse_stored
from payments.reasons import ANOTHER_METHOD_HELPS, MERCHANT_ONLY
from storefront_settings.models import Membership, PaymentMethod, RecoveryPolicy, Storefront
from storefront_settings.services import record
from storefront_settings.tenancy import lock_keys

logger = logging.getLogger(__name__)


def process_inbound_event(*, event_id: int) -> str:
    """Apply one stored event; returns what became of it. Safe to run twice, or concurrently."""
    with transaction.atomic():
        event = inbound.claim(event_id)
        if event is None:
            return "skipped"  # processed already, or another worker holds it
        signals = parse_stored(event.provider, event.body)
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
    references = [signal.payment_id, *signal.related_ids]
    _lock(storefront, signal.provider, references)
    payment = _payment_for(storefront, signal, references)
    if signal.kind == SignalKind.SUCCEEDED:
        _record_success(payment, signal)
    else:
        _record_failure(payment, signal, inbound_event)
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


def _record_failure(payment: Payment, signal: PaymentSignal, inbound_event) -> None:
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
        _refresh_lost_sale(lost_sale, signal)
    if lost_sale.status == LostSale.Status.OPEN:
        # Idempotent (one key per sale and step, per sale and member): a later event that
        # brings the buyer's address schedules what an earlier one could not.
        policy = RecoveryPolicy.for_storefront(lost_sale.storefront)
        _schedule_recovery(lost_sale, policy)
        _alert_members(lost_sale, policy)


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


def _refresh_lost_sale(lost_sale: LostSale, signal: PaymentSignal) -> None:
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
    notifications.cancel(lost_sale.storefront, lost_sale.group)


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
            notifications.cancel(lost_sale.storefront, lost_sale.group)
            record(
                storefront=lost_sale.storefront,
                actor=actor,
                action="lost_sale.marked_lost",
                lost_sale=lost_sale.pk,
            )
    lost_sale.refresh_from_db()
    return bool(changed)


def expire_lost_sales(*, now: datetime | None = None) -> int:
    """Open sales older than their storefront's recovery window become lost."""
    now = now or timezone.now()
    expired = 0
    for policy in RecoveryPolicy.unscoped.select_related("storefront"):
        stale = LostSale.objects.for_storefront(policy.storefront).filter(
            status=LostSale.Status.OPEN,
            first_failed_at__lt=now - timedelta(days=policy.recovery_window_days),
        )
        for lost_sale in stale:
            expired += mark_lost(lost_sale=lost_sale)
    return expired


def record_click(lost_sale: LostSale) -> None:
    """The buyer opened a recovery link (kept once: the first click counts)."""
    LostSale.objects.for_storefront(lost_sale.storefront).filter(
        pk=lost_sale.pk, recovery_clicked_at__isnull=True
    ).update(recovery_clicked_at=timezone.now())


def retry_target(lost_sale: LostSale) -> str:
    """Where a buyer pays again: the provider's recovery URL, else the shop's checkout URL for
    the order, else the shop itself."""
    if lost_sale.recovery_url:
        return lost_sale.recovery_url
    policy = RecoveryPolicy.for_storefront(lost_sale.storefront)
    if policy.checkout_url_template and lost_sale.order_reference:
        return policy.checkout_url_template.replace(
            "{order_reference}", quote(lost_sale.order_reference, safe="")
        )
    return lost_sale.storefront.shop_url


def amount_display(amount: int | None, currency: str, locale: str) -> str:
    if amount is None or not currency:
        return ""
    # Amounts are in the currency's minor unit, as providers send them: cents for EUR, yen
    # for JPY (no decimals), fils for KWD (three).
    major = Decimal(amount).scaleb(-get_currency_precision(currency))
    return format_currency(major, currency, locale=locale)


def _emails_buyer(lost_sale: LostSale, policy: RecoveryPolicy) -> bool:
    """Whether the policy lets Aftersale write to this sale's buyer."""
    if lost_sale.reason in MERCHANT_ONLY or lost_sale.reason in policy.disabled_reasons:
        return False
    if lost_sale.amount is not None and lost_sale.amount < policy.minimum_amount:
        return False
    return lost_sale.is_reachable  # else counted as unreachable in the dashboard


def _schedule_recovery(lost_sale: LostSale, policy: RecoveryPolicy) -> int:
    """Schedule the buyer's recovery emails per the storefront's policy; returns how many."""
    storefront = lost_sale.storefront
    reason = lost_sale.reason
    if not _emails_buyer(lost_sale, policy):
        return 0
    locale = storefront.language
    methods = []
    if reason in ANOTHER_METHOD_HELPS:
        methods = [str(PaymentMethod(m).label) for m in policy.other_payment_methods]
    steps = len(policy.email_delays)
    for step, delay in enumerate(policy.email_delays, start=1):
        is_last = step == steps
        notifications.schedule(
            storefront,
            to=lost_sale.buyer_email,
            template=f"payment_recovery_{reason}",
            context={
                "order_reference": lost_sale.order_reference,
                "amount_display": amount_display(lost_sale.amount, lost_sale.currency, locale),
                "buyer_name": lost_sale.buyer_name,
                "retry_url": links.retry_url(lost_sale, step=step),
                "step": step,
                "steps": steps,
                "is_last": is_last,
                "discount_code": policy.discount_code if is_last else "",
                "discount_wording": policy.discount_wording if is_last else "",
                "other_methods": methods,
            },
            send_at=lost_sale.first_failed_at + timedelta(hours=delay),
            idempotency_key=f"lost-sale:{lost_sale.pk}:recovery:{step}",
            group=lost_sale.group,
            kind="payment_recovery",
            locale=locale,
            about=lost_sale,
        )
    return steps


def _alert_members(lost_sale: LostSale, policy: RecoveryPolicy) -> int:
    """Alert, at once, the members who want each failure as it happens (the others get it in
    their daily digest)."""
    storefront = lost_sale.storefront
    members = (
        Membership.objects.for_storefront(storefront)
        .filter(receives_alerts=True, alert_frequency=Membership.AlertFrequency.IMMEDIATE)
        .select_related("user")
    )
    locale = storefront.language
    emailing_buyer = _emails_buyer(lost_sale, policy)
    count = 0
    for member in members:
        if not member.user.email:
            continue
        notifications.schedule(
            storefront,
            to=member.user.email,
            template="merchant_failed_payment_alert",
            context={
                "reason": lost_sale.reason,
                "order_reference": lost_sale.order_reference,
                "amount_display": amount_display(lost_sale.amount, lost_sale.currency, locale),
                "buyer_name": lost_sale.buyer_name,
                "buyer_email": lost_sale.buyer_email,
                "buyer_phone": lost_sale.buyer_phone,
                "provider": lost_sale.provider,
                "codes_display": ", ".join(f"{k}={v}" for k, v in sorted(lost_sale.codes.items())),
                "lost_sale_url": lost_sale_url(lost_sale),
                "attempts": lost_sale.attempts,
                "recovery_emails": emailing_buyer,
                "unreachable": not lost_sale.is_reachable,
            },
            send_at=timezone.now(),
            idempotency_key=f"lost-sale:{lost_sale.pk}:alert:{member.pk}",
            # In the sale's group: recovered before it went out, the alert is not sent.
            group=lost_sale.group,
            kind="merchant_failed_payment_alert",
            audience=Audience.MERCHANT,
            locale=locale,
            about=lost_sale,
        )
        count += 1
    return count


DIGEST_HOUR = 8  # local time of the storefront


def send_daily_digests(*, now: datetime | None = None) -> int:
    """At 08:00 in each storefront's time zone, schedule the digest of the last day's failed
    payments for the members who chose it. Beat runs this hourly; the idempotency key (member
    and local date) makes a second run in the same hour a no-op."""
    now = now or timezone.now()
    scheduled = 0
    members = (
        Membership.unscoped.filter(
            receives_alerts=True, alert_frequency=Membership.AlertFrequency.DAILY
        )
        .select_related("storefront", "user")
        .order_by("storefront_id")
    )
    for member in members:
        storefront = member.storefront
        local = now.astimezone(storefront.zone)
        if local.hour != DIGEST_HOUR or not member.user.email:
            continue
        since = now - timedelta(days=1)
        sales = LostSale.objects.for_storefront(storefront)
        failed = list(sales.filter(first_failed_at__gte=since).order_by("-last_failed_at")[:50])
        if not failed:
            continue
        locale = storefront.language
        notifications.schedule(
            storefront,
            to=member.user.email,
            template="merchant_daily_digest",
            context={
                "failures": [
                    {
                        "order_reference": sale.order_reference,
                        "amount_display": amount_display(sale.amount, sale.currency, locale),
                        "reason": sale.reason,
                        "buyer_email": sale.buyer_email,
                        "lost_sale_url": lost_sale_url(sale),
                    }
                    for sale in failed
                ],
                "count": sales.filter(first_failed_at__gte=since).count(),
                "recovered_count": sales.filter(recovered_at__gte=since).count(),
                "dashboard_url": f"{settings.SITE_URL}/app/{storefront.slug}/",
            },
            send_at=now,
            idempotency_key=f"digest:{member.pk}:{local.date().isoformat()}",
            kind="merchant_daily_digest",
            audience=Audience.MERCHANT,
            locale=locale,
        )
        scheduled += 1
    return scheduled


def lost_sale_url(lost_sale: LostSale) -> str:
    return f"{settings.SITE_URL}/app/{lost_sale.storefront.slug}/lost-sales/{lost_sale.pk}/"


def send_recovery_email_now(*, lost_sale: LostSale, actor=None) -> Message | None:
    """The merchant asks for the sale's next recovery email now rather than at its step's time.
    Returns that message, or None when none is scheduled (the sale is settled, stopped, the
    buyer unreachable or suppressed, or every step went out)."""
    if lost_sale.status != LostSale.Status.OPEN:
        return None
    with transaction.atomic():
        message = notifications.bring_forward(
            lost_sale.storefront, group=lost_sale.group, kind="payment_recovery"
        )
        if message is not None:
            record(
                storefront=lost_sale.storefront,
                actor=actor,
                action="lost_sale.recovery_email_sent_now",
                lost_sale=lost_sale.pk,
                message=message.pk,
                step=message.context.get("step"),
            )
    return message


def stop_recovery(*, lost_sale: LostSale, actor=None) -> int:
    """The merchant stops what is still scheduled about this sale; returns how many emails."""
    with transaction.atomic():
        stopped = notifications.cancel(lost_sale.storefront, lost_sale.group)
        if stopped:
            record(
                storefront=lost_sale.storefront,
                actor=actor,
                action="lost_sale.sequence_stopped",
                lost_sale=lost_sale.pk,
                cancelled=stopped,
            )
    return stopped
