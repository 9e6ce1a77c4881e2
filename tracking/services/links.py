"""The buyer's tracking page link: the shipment's own random token, and its revocation."""

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from notifications.services import outbox
from storefront_settings.models import AuditAction
from storefront_settings.services.audit import record
from tracking.models import Shipment, new_page_token

# The salt of the signed links issued before random tokens (still read, never issued).
SIGNED_PAGE_SALT = "tracking.page"


def tracking_page_url(shipment: Shipment) -> str:
    """The buyer's link: SITE_URL and /t/<the shipment's random token>/, no id in it."""
    return settings.SITE_URL + reverse("tracking:page", args=[shipment.page_token])


def shipment_for_page(token: str) -> Shipment | None:
    """The shipment whose tracking page this token opens; None for a guessed, altered or
    revoked one. The token alone names the shipment (and so its storefront)."""
    # Crossing tenants is the point: the token is what tells us the storefront.
    shipment = Shipment.unscoped.select_related("storefront").filter(page_token=token).first()
    if shipment is not None or ":" not in token:
        return shipment
    # A signed link issued before random tokens (a random one has no colon), honoured until
    # the shipment's link is first revoked.
    try:
        payload = signing.loads(token, salt=SIGNED_PAGE_SALT)
        storefront_id, shipment_id = int(payload["s"]), int(payload["h"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (
        Shipment.objects.for_storefront(storefront_id)
        .select_related("storefront")
        .filter(pk=shipment_id, signed_link_valid=True)
        .first()
    )


@transaction.atomic
def revoke_page_link(*, shipment: Shipment, actor) -> Shipment:
    """Give the shipment a new tracking link; the old one (and any older signed link) is 404
    from now on. Emails not yet sent get the new link."""
    storefront = shipment.storefront
    locked = Shipment.objects.for_storefront(storefront).select_for_update().get(pk=shipment.pk)
    old_url = tracking_page_url(locked)
    locked.page_token = new_page_token()
    locked.signed_link_valid = False
    locked.save(update_fields=["page_token", "signed_link_valid", "updated_at"])
    # Their context was written with the old link when they were scheduled.
    outbox.replace_in_unsent(
        storefront, about=locked, key="tracking_url", old=old_url, new=tracking_page_url(locked)
    )
    record(
        storefront=storefront,
        actor=actor,
        action=AuditAction.SHIPMENT_LINK_REVOKED,
        shipment=locked.pk,
        tracking_number=locked.tracking_number,
    )
    shipment.page_token, shipment.signed_link_valid = locked.page_token, False
    return shipment
