"""A member's own preferences: whether, and how often, they hear about failed payments and
parcels."""

from django.db import transaction

from storefront_settings.models import AuditAction, Membership
from storefront_settings.services._common import member_label, save_changes

ALERT_FIELDS = ("receives_alerts", "alert_frequency")


@transaction.atomic
def update_alert_preferences(*, membership: Membership, actor, values: dict) -> dict:
    """Change whether, and how often, one member hears about failed payments and parcels."""
    storefront = membership.storefront
    row = Membership.objects.for_storefront(storefront).select_for_update().get(pk=membership.pk)
    changed = save_changes(
        storefront=storefront,
        actor=actor,
        row=row,
        values=values,
        fields=ALERT_FIELDS,
        action=AuditAction.MEMBER_ALERTS_CHANGED,
        member=member_label(row),
    )
    for field in changed:
        setattr(membership, field, getattr(row, field))
    return changed
