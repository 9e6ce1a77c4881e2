"""Telling a storefront's members about failed payments: at once (alert_members, when a sale is
opened or updated) or in a daily digest, as each member chose."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from notifications.models import Audience, MessageKind
from notifications.services import outbox
from payments.models import LostSale
from payments.services.display import amount_display, lost_sale_url
from payments.services.recovery import emails_buyer
from storefront_settings.models import Membership, RecoveryPolicy


def alert_members(lost_sale: LostSale, policy: RecoveryPolicy) -> int:
    """Alert, at once, the members who want each failure as it happens (the others get it in
    their daily digest)."""
    storefront = lost_sale.storefront
    members = (
        Membership.objects.for_storefront(storefront)
        .filter(receives_alerts=True, alert_frequency=Membership.AlertFrequency.IMMEDIATE)
        .select_related("user")
    )
    locale = storefront.language
    emailing_buyer = emails_buyer(lost_sale, policy)
    count = 0
    for member in members:
        if not member.user.email:
            continue
        outbox.schedule(
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
            kind=MessageKind.MERCHANT_FAILED_PAYMENT_ALERT,
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
        outbox.schedule(
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
            kind=MessageKind.MERCHANT_DAILY_DIGEST,
            audience=Audience.MERCHANT,
            locale=locale,
        )
        scheduled += 1
    return scheduled
