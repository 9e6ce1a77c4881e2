"""Writing to the buyer of a lost sale: the recovery emails its storefront's policy schedules,
the link they carry (record_click, retry_target), and the end of the recovery window."""

from datetime import datetime, timedelta
from urllib.parse import quote

from django.utils import timezone

from notifications.models import MessageKind
from notifications.services import outbox
from payments import links
from payments.models import LostSale
from payments.reasons import ANOTHER_METHOD_HELPS, MERCHANT_ONLY
from payments.services.display import amount_display
from payments.services.merchant import mark_lost
from storefront_settings.models import PaymentMethod, RecoveryPolicy


def emails_buyer(lost_sale: LostSale, policy: RecoveryPolicy) -> bool:
    """Whether the policy lets Aftersale write to this sale's buyer."""
    if lost_sale.reason in MERCHANT_ONLY or lost_sale.reason in policy.disabled_reasons:
        return False
    if lost_sale.amount is not None and lost_sale.amount < policy.minimum_amount:
        return False
    return lost_sale.is_reachable  # else counted as unreachable in the dashboard


def schedule_recovery(lost_sale: LostSale, policy: RecoveryPolicy) -> int:
    """Schedule the buyer's recovery emails per the storefront's policy; returns how many.

    Each goes its delay (minutes) after the sale's first failure. A delay of 0, or a delay
    already past when the failure is processed, makes the email due now: the outbox sends it
    on commit, through the same guards as every buyer email (suppression list, quiet hours,
    daily cap), which may hold it later (Message.next_attempt_at; send_at keeps the time asked
    for)."""
    storefront = lost_sale.storefront
    reason = lost_sale.reason
    if not emails_buyer(lost_sale, policy):
        return 0
    locale = storefront.language
    methods = []
    if reason in ANOTHER_METHOD_HELPS:
        methods = [str(PaymentMethod(m).label) for m in policy.other_payment_methods]
    steps = len(policy.email_delay_minutes)
    for step, delay in enumerate(policy.email_delay_minutes, start=1):
        is_last = step == steps
        outbox.schedule(
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
            send_at=lost_sale.first_failed_at + timedelta(minutes=delay),
            idempotency_key=f"lost-sale:{lost_sale.pk}:recovery:{step}",
            group=lost_sale.group,
            kind=MessageKind.PAYMENT_RECOVERY,
            locale=locale,
            about=lost_sale,
        )
    return steps


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
