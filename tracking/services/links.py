"""The buyer's tracking page link: the shipment's own random token, and its revocation."""

from typing import NamedTuple

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.urls import reverse

from notifications.services import outbox
from storefront_settings.models import AuditAction, Storefront
from storefront_settings.services.audit import record
from tracking.models import Shipment, new_page_token

# The salt of the signed links issued before random tokens (still read, never issued).
SIGNED_PAGE_SALT = "tracking.page"


def tracking_page_url(shipment: Shipment) -> str:
    """The buyer's link: SITE_URL and /t/<the shipment's random token>/, no id in it."""
    return settings.SITE_URL + reverse("tracking:page", args=[shipment.page_token])


class PageVersion(NamedTuple):
    """The shipment a tracking page token opens, and what its page is made of now: a digest
    of every column of the shipment's row and of its storefront's."""

    shipment_id: int
    storefront_id: int
    rows_digest: str


def page_version(token: str) -> PageVersion | None:
    """The shipment whose tracking page this token opens; None for a guessed, altered or
    revoked one. The token alone names the shipment (and so its storefront).

    One query on an index (page_token, or the primary key for an old signed link) that never
    loads a model: the page is served from the cache when the digest has not changed
    (tracking.page_cache), and PostgreSQL's text of the whole rows changes with any column,
    however it was written (a save, a queryset update, the watchers' raw UPDATE)."""
    # Crossing tenants is the point: the token is what tells us the storefront.
    where, params = "s.page_token = %s", [token]
    # A signed link issued before random tokens (a random one has no colon), honoured until
    # the shipment's link is first revoked.
    if ":" in token and (signed := _signed_link(token)) is not None:
        storefront_id, shipment_id = signed
        where += " OR (s.storefront_id = %s AND s.id = %s AND s.signed_link_valid)"
        params += [storefront_id, shipment_id]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT s.id, s.storefront_id, md5(s::text) || md5(f::text)
            FROM {Shipment._meta.db_table} s
            JOIN {Storefront._meta.db_table} f ON f.id = s.storefront_id
            WHERE {where}
            ORDER BY s.id
            LIMIT 1
            """,  # noqa: S608 - table names come from the models, values are parameters
            params,
        )
        row = cursor.fetchone()
    return None if row is None else PageVersion(*row)


def _signed_link(token: str) -> tuple[int, int] | None:
    """The storefront and shipment ids an old signed link names, if its signature holds."""
    try:
        payload = signing.loads(token, salt=SIGNED_PAGE_SALT)
        return int(payload["s"]), int(payload["h"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


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
