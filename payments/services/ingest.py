"""What happened to a payment: the signals of the provider adapters applied to the database.

process_inbound_event() turns a stored webhook event into PaymentSignals (the provider
adapters) and applies each: a failure or an abandoned checkout opens (or updates) the order's
lost sale, classified by reason, and schedules the recovery emails (recovery) and the merchant
alert (alerts); a success marks the lost sale recovered and cancels what is still scheduled.

A success recovers the sale of its own order (the same payment, or the same order reference:
`same_order`), and also the buyer's sales it pays for in their place (`another_order`): a buyer
who failed order A and then paid order B has come back, and must not be written to about A. The
rule, judged on the sale and the successful payment as known at the time:

- same storefront (a success never reaches another tenant's sale), and the same buyer address
  compared normalised (case and surrounding spaces: LOWER(TRIM(…)) on both sides);
- the success is not before the sale's first failed attempt (a payment made before the failure
  is not a buyer coming back), and at most the storefront's recovery window
  (RecoveryPolicy.recovery_window_days, the one that makes an open sale lost) after its latest
  one. Both bounds only widen as a sale's attempts come in, in whatever order, so a success
  that qualifies once always does;
- same currency, both amounts known, and the success pays at least
  settings.RECOVERY_OTHER_ORDER_MIN_SHARE of the sale's amount. Amounts in two currencies are
  not comparable without a rate of the day, and an unknown amount could be a 5 € add-on to a
  200 € basket: neither is taken as the buyer paying for the lost sale;
- the sale is not recovered by its own order. Open and lost sales alike: a sale given up (by the
  merchant or the window's end) that the buyer pays for within the window is recovered, as a
  payment for its own order would do.

One success recovers every sale of the buyer it satisfies (a buyer who failed two baskets and
then paid a third is written to about neither), but its revenue counts once (_credit). Which
payment a sale is recovered by may change while recovered, so that the outcome does not depend
on the order events are processed in: its own order's success outranks another order's, and an
earlier success of another order a later one.

Events arrive duplicated and out of order. Every write here is idempotent (unique keys, INSERT …
ON CONFLICT DO NOTHING), a payment's fields follow the newest event by the provider's `created`
time, and a success is final, so any order of the same events gives the same state. (One limit:
whether another order pays for a sale is judged on the sale's amount and address as known when
the two meet; a failure event that arrives later and changes them does not undo it.)
"""

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from fractions import Fraction

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower, Trim

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
RecoveredBy = LostSale.RecoveredBy


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


def _lock_buyers(storefront: Storefront, addresses) -> None:
    # A failure of order A and a success of order B for one buyer, processed by two workers at
    # once: each looks for the other before the other is committed, and A stays open with its
    # emails going. A transaction-scoped advisory lock per (storefront, normalised address),
    # taken before either path looks and before it locks any sale row (the same order on both
    # paths, so they cannot deadlock), makes the second wait for the first and then see it.
    lock_keys(
        f"{storefront.pk}:buyer:{outbox.normalise_email(address)}"
        for address in addresses
        if address and address.strip()
    )


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

    _lock_buyers(
        storefront, [signal.buyer_email, payment.buyer_email, _sale_address(payment, signal)]
    )
    policy = RecoveryPolicy.for_storefront(storefront)
    lost_sale = _lost_sale_for(payment, signal, reason)
    to_credit: set[int | None] = set()
    with stats.upkeep(storefront=storefront, lost_sale=lost_sale):
        if payment.lost_sale_id != lost_sale.pk:
            # Found by the order's key: a success that came first may already settle it.
            if lost_sale.recovered_by != RecoveredBy.SAME_ORDER:
                to_credit |= _recover_if_already_paid(lost_sale, payment)
            payment.lost_sale = lost_sale
            changed.append("lost_sale")
        if changed:
            payment.save(update_fields=[*set(changed), "updated_at"])
        _refresh_lost_sale(lost_sale, signal, invalid_email)
        # A success of another order that came first (events out of order, or the buyer paid
        # the new order before this failure was processed) settles it now, before any email.
        to_credit |= _recover_by_another_order(lost_sale, policy)
    if payment.status == Payment.Status.SUCCEEDED:
        # A late failure of a paid payment may bring the address its success lacked.
        to_credit |= _recover_other_orders(payment)
    _credit(storefront, to_credit)
    if lost_sale.status == LostSale.Status.OPEN:
        # Idempotent (one key per sale and step, per sale and member): a later event that
        # brings the buyer's address schedules what an earlier one could not.
        recovery.schedule_recovery(lost_sale, policy)
        alerts.alert_members(lost_sale, policy)


def _lost_sale_key(signal: PaymentSignal) -> str:
    # One lost sale per order, however many payments and attempts it took. Without an order
    # reference, the payment is the order.
    if signal.order_reference:
        return f"order:{signal.order_reference}"
    return f"payment:{signal.payment_id}"


def _sale_address(payment: Payment, signal: PaymentSignal) -> str:
    """The address of the sale this failure will update, read without locking it: the buyer
    lock is taken before any sale row is locked."""
    sales = LostSale.objects.for_storefront(payment.storefront)
    if payment.lost_sale_id:
        sales = sales.filter(pk=payment.lost_sale_id)
    else:
        sales = sales.filter(key=_lost_sale_key(signal))
    return sales.values_list("buyer_email", flat=True).first() or ""


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


def _recover_if_already_paid(lost_sale: LostSale, payment: Payment) -> set[int | None]:
    """A success that arrived before this failure (events out of order) already settles it:
    this very payment, or another one for the same order. Returns the payments whose revenue
    must be counted again (_credit)."""
    success = payment if payment.status == Payment.Status.SUCCEEDED else None
    if success is None and lost_sale.order_reference:
        success = (
            Payment.objects.for_storefront(lost_sale.storefront)
            .filter(status=Payment.Status.SUCCEEDED, order_reference=lost_sale.order_reference)
            .order_by("succeeded_at")
            .first()
        )
    if success is None:
        return set()
    return _mark_recovered(
        lost_sale,
        amount=success.amount,
        at=success.succeeded_at,
        by=RecoveredBy.SAME_ORDER,
        payment=success,
    )


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
    _lock_buyers(storefront, [payment.buyer_email])
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
    to_credit: set[int | None] = set()
    if lost_sale is not None:
        if payment.lost_sale_id != lost_sale.pk:
            Payment.objects.for_storefront(storefront).filter(pk=payment.pk).update(
                lost_sale=lost_sale
            )
            payment.lost_sale = lost_sale
        with stats.upkeep(storefront=storefront, lost_sale=lost_sale):
            to_credit |= _mark_recovered(
                lost_sale,
                amount=signal.amount,
                at=signal.occurred_at,
                by=RecoveredBy.SAME_ORDER,
                payment=payment,
            )
    to_credit |= _recover_other_orders(payment)
    _credit(storefront, to_credit)


def _outranks(lost_sale: LostSale, *, by: str, at: datetime) -> bool:
    """Whether a success (`by`, at `at`) takes the place of the one that recovered the sale:
    its own order's success outranks another order's, and an earlier success of another order
    a later one; a success of its own order is final (the first one recorded stays)."""
    if lost_sale.recovered_by != RecoveredBy.ANOTHER_ORDER:
        return False
    return by == RecoveredBy.SAME_ORDER or at < lost_sale.recovered_at


def _mark_recovered(
    lost_sale: LostSale,
    *,
    amount: int | None,
    at: datetime,
    by: str,
    payment: Payment | None,
) -> set[int | None]:
    """Settle the (locked) sale as recovered by `payment`, a success of its own order or of
    another, and stop its emails. Returns the payments whose revenue must be counted again
    (_credit): this one, and the one of another order it replaces."""
    if lost_sale.status == LostSale.Status.RECOVERED and not _outranks(lost_sale, by=by, at=at):
        return set()
    replaced = lost_sale.recovered_by_payment_id
    lost_sale.status = LostSale.Status.RECOVERED
    lost_sale.recovered_at = at
    lost_sale.recovered_amount = amount
    lost_sale.recovered_by = by
    lost_sale.recovered_by_payment = payment
    # Attribution: the buyer clicked a recovery link before paying, this order or another.
    lost_sale.recovered_after_click = bool(
        lost_sale.recovery_clicked_at and lost_sale.recovery_clicked_at <= at
    )
    lost_sale.save()
    outbox.cancel(lost_sale.storefront, lost_sale.group)
    return {replaced, payment.pk if payment is not None else None}


def _share() -> Fraction:
    # Exact: 0.8 is 4/5, so the amount rule has no rounding at its edge.
    return Fraction(str(settings.RECOVERY_OTHER_ORDER_MIN_SHARE))


def _same_buyer(address: str) -> Q:
    # Normalised by the database on both sides, as the indexes lost_sale_buyer and
    # payment_success_buyer are: LOWER(TRIM(buyer_email)).
    return Q(buyer=Lower(Trim(models.Value(address, output_field=models.CharField()))))


def _recover_other_orders(payment: Payment) -> set[int | None]:
    """A success settles the buyer's sales of other orders it pays for (the module's rule):
    open or lost ones, and those recovered by a later success of another order. Returns the
    payments whose revenue must be counted again."""
    if (
        payment.status != Payment.Status.SUCCEEDED
        or not payment.buyer_email
        or payment.amount is None
        or not payment.currency
        or payment.succeeded_at is None
    ):
        return set()
    storefront, at = payment.storefront, payment.succeeded_at
    policy = RecoveryPolicy.for_storefront(storefront)
    sales = (
        LostSale.objects.for_storefront(storefront)
        .alias(buyer=Lower(Trim("buyer_email")))
        .filter(
            _same_buyer(payment.buyer_email),
            Q(status__in=[LostSale.Status.OPEN, LostSale.Status.LOST])
            | Q(recovered_by=RecoveredBy.ANOTHER_ORDER, recovered_at__gt=at),
            attempts__gt=0,
            first_failed_at__lte=at,
            last_failed_at__gte=at - timedelta(days=policy.recovery_window_days),
            currency__iexact=payment.currency,
            # amount × share ≤ paid, in whole minor units.
            amount__lte=math.floor(payment.amount / _share()),
        )
        .exclude(pk=payment.lost_sale_id)
    )
    if payment.order_reference:
        sales = sales.exclude(order_reference=payment.order_reference)
    to_credit: set[int | None] = set()
    for lost_sale in sales.select_for_update().order_by("pk"):
        with stats.upkeep(storefront=storefront, lost_sale=lost_sale):
            to_credit |= _mark_recovered(
                lost_sale,
                amount=payment.amount,
                at=at,
                by=RecoveredBy.ANOTHER_ORDER,
                payment=payment,
            )
    return to_credit


def _recover_by_another_order(lost_sale: LostSale, policy: RecoveryPolicy) -> set[int | None]:
    """The earliest success of another order that pays for this (locked) sale, if any, settles
    it (the module's rule). Returns the payments whose revenue must be counted again."""
    if (
        lost_sale.recovered_by == RecoveredBy.SAME_ORDER
        or not lost_sale.buyer_email
        or lost_sale.amount is None
        or not lost_sale.currency
    ):
        return set()
    window = timedelta(days=policy.recovery_window_days)
    successes = (
        Payment.objects.for_storefront(lost_sale.storefront)
        .alias(buyer=Lower(Trim("buyer_email")))
        .filter(
            _same_buyer(lost_sale.buyer_email),
            status=Payment.Status.SUCCEEDED,
            succeeded_at__gte=lost_sale.first_failed_at,
            succeeded_at__lte=lost_sale.last_failed_at + window,
            currency__iexact=lost_sale.currency,
            amount__gte=math.ceil(lost_sale.amount * _share()),
        )
        .exclude(lost_sale=lost_sale)
    )
    if lost_sale.order_reference:
        successes = successes.exclude(order_reference=lost_sale.order_reference)
    if lost_sale.status == LostSale.Status.RECOVERED:
        successes = successes.filter(succeeded_at__lt=lost_sale.recovered_at)
    success = successes.order_by("succeeded_at", "pk").first()
    if success is None:
        return set()
    return _mark_recovered(
        lost_sale,
        amount=success.amount,
        at=success.succeeded_at,
        by=RecoveredBy.ANOTHER_ORDER,
        payment=success,
    )


def _credit(storefront: Storefront, payment_ids: set[int | None]) -> None:
    """Count each success's revenue once. A payment that recovers several sales of other
    orders counts on one of them (the one a recovery link was clicked for, else the latest to
    fail, else by key), 0 on the others; and on none of them when its own order has a lost sale
    (that sale counts it, as the same order's recovery). Recomputed from the settled state each
    time one of these payments gains or loses a sale, so it does not depend on event order."""
    payments = Payment.objects.for_storefront(storefront).filter(pk__in=payment_ids - {None})
    for payment in payments.order_by("pk"):
        settled = list(
            LostSale.objects.for_storefront(storefront)
            .select_for_update()
            .filter(recovered_by_payment=payment)
            .order_by("pk")
        )
        others = [sale for sale in settled if sale.recovered_by == RecoveredBy.ANOTHER_ORDER]
        if not others:
            continue
        counted = None
        if payment.lost_sale_id is None and len(others) == len(settled):
            counted = max(others, key=lambda s: (s.recovered_after_click, s.last_failed_at, s.key))
        for lost_sale in others:
            amount = payment.amount if lost_sale is counted else 0
            if lost_sale.recovered_amount != amount:
                with stats.upkeep(storefront=storefront, lost_sale=lost_sale):
                    lost_sale.recovered_amount = amount
                    lost_sale.save(update_fields=["recovered_amount", "updated_at"])
