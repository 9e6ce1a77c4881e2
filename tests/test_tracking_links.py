"""The buyer's tracking link: a random token per shipment with no id in it, revocable from the
dashboard; the signed links issued before keep working until the shipment's link is revoked."""

import base64
import re

import pytest
from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from notifications.models import Message
from storefront_settings.models import AuditLog, Membership
from tests.tracking_helpers import point, update
from tracking.models import Shipment
from tracking.services import ingest, links, shipments


def ship(storefront, number, **fields):
    values = {"order_reference": f"O-{number}", "buyer_email": f"{number.lower()}@example.com"}
    values.update(fields)
    return shipments.create_shipment(
        storefront, shipments.NewShipment(tracking_number=number, **values)
    )


def signed_link(shipment) -> str:
    """A link of the kind issued before random tokens (what buyers have in their mailboxes)."""
    payload = {"s": shipment.storefront_id, "h": shipment.pk}
    return f"/t/{signing.dumps(payload, salt=links.SIGNED_PAGE_SALT)}/"


def issued_before(shipment) -> None:
    """What the data migration (tracking 0004) did to every shipment that existed then."""
    Shipment.objects.for_storefront(shipment.storefront).filter(pk=shipment.pk).update(
        signed_link_valid=True
    )


def fresh(shipment) -> Shipment:
    return Shipment.objects.for_storefront(shipment.storefront).get(pk=shipment.pk)


def revoke_url(shipment, slug="alpha") -> str:
    return f"/app/{slug}/shipments/{shipment.pk}/revoke-link/"


@pytest.fixture
def tenants(client, two_storefronts):
    alpha, bravo = two_storefronts
    client.force_login(alpha.owner)
    return alpha, bravo


@pytest.fixture
def parcel(tenants):
    alpha, _ = tenants
    return ship(alpha.storefront, "6A12345678901")


@pytest.mark.django_db
def test_the_link_is_a_random_token_that_names_no_id(tenants, parcel):
    alpha, bravo = tenants
    other = ship(bravo.storefront, "6A12345678901")
    token = parcel.page_token
    # 22 random bytes in URL-safe base64: 176 bits, nothing else.
    assert re.fullmatch(r"[A-Za-z0-9_-]{30}", token)
    assert len(base64.urlsafe_b64decode(token + "==")) == 22
    with pytest.raises(signing.BadSignature):
        signing.loads(token, salt=links.SIGNED_PAGE_SALT)
    assert links.tracking_page_url(parcel) == f"{settings.SITE_URL}/t/{token}/"
    # Same number, next id, another storefront: nothing in common.
    assert other.page_token != token and other.page_token[:8] != token[:8]
    # The shipped email carries that link.
    shipped = Message.objects.for_storefront(alpha.storefront).get(template="shipment_shipped")
    assert shipped.context["tracking_url"] == links.tracking_page_url(parcel)


@pytest.mark.django_db
def test_a_token_opens_its_own_shipment_only(client, tenants):
    alpha, bravo = tenants
    mine = ship(alpha.storefront, "6A11111111111", buyer_name="Alice Alpha")
    theirs = ship(bravo.storefront, "6A22222222222", buyer_name="Bob Bravo")
    page = client.get(f"/t/{mine.page_token}/").content.decode()
    assert "6A11111111111" in page and "6A22222222222" not in page
    page = client.get(f"/t/{theirs.page_token}/").content.decode()
    assert "6A22222222222" in page and "6A11111111111" not in page
    # An old signed link naming A's storefront and B's shipment (or the reverse) opens nothing,
    # even for shipments whose old links are still honoured.
    issued_before(mine)
    issued_before(theirs)
    for payload in (
        {"s": alpha.storefront.pk, "h": theirs.pk},
        {"s": bravo.storefront.pk, "h": mine.pk},
    ):
        token = signing.dumps(payload, salt=links.SIGNED_PAGE_SALT)
        assert client.get(f"/t/{token}/").status_code == 404


@pytest.mark.django_db
def test_an_old_signed_link_works_until_the_link_is_revoked(client, tenants, parcel):
    alpha, _ = tenants
    issued_before(parcel)
    old_random, old_signed = f"/t/{parcel.page_token}/", signed_link(parcel)
    assert client.get(old_signed).status_code == 200
    assert client.get(old_random).status_code == 200

    response = client.post(revoke_url(parcel))
    assert response.status_code == 302
    assert response.url == f"/app/alpha/shipments/{parcel.pk}/"

    assert client.get(old_random).status_code == 404
    assert client.get(old_signed).status_code == 404
    new = fresh(parcel)
    assert new.page_token != parcel.page_token and not new.signed_link_valid
    new_page = client.get(f"/t/{new.page_token}/")
    assert new_page.status_code == 200 and "6A12345678901" in new_page.content.decode()
    # The dashboard now shows (and copies, and opens) the new link.
    body = client.get(response.url).content.decode()
    assert f'value="{settings.SITE_URL}/t/{new.page_token}/"' in body
    assert parcel.page_token not in body
    # One audit row, naming the owner and the parcel, never the token.
    entry = AuditLog.objects.for_storefront(alpha.storefront).get(action="shipment.link_revoked")
    assert entry.actor == alpha.owner
    assert entry.detail == {"shipment": parcel.pk, "tracking_number": "6A12345678901"}
    audit = client.get("/app/alpha/settings/audit/").content.decode()
    assert "Buyer&#x27;s tracking link revoked (a new one made)" in audit


@pytest.mark.django_db
def test_a_signed_link_is_never_honoured_for_a_shipment_made_after_random_tokens(client, parcel):
    # No signed link was ever issued for it: one forged with a leaked key opens nothing.
    assert not parcel.signed_link_valid
    assert client.get(signed_link(parcel)).status_code == 404


@pytest.mark.django_db
def test_revoking_twice_leaves_only_the_newest_link(client, parcel):
    client.post(revoke_url(parcel))
    second = fresh(parcel).page_token
    client.post(revoke_url(parcel))
    third = fresh(parcel).page_token
    assert len({parcel.page_token, second, third}) == 3
    assert [client.get(f"/t/{t}/").status_code for t in (parcel.page_token, second, third)] == [
        404,
        404,
        200,
    ]


@pytest.mark.django_db
def test_everything_that_builds_the_link_uses_the_new_token(client, tenants, parcel, settings):
    alpha, _ = tenants
    settings.RATELIMIT_ENABLE = False
    # An email not sent yet (due later, or failed and resendable) gets the new link; one sent
    # already keeps what it said.
    messages = Message.objects.for_storefront(alpha.storefront)
    shipped = messages.get(template="shipment_shipped")
    old_url = shipped.context["tracking_url"]
    sent = messages.get(pk=shipped.pk)
    sent.pk, sent.idempotency_key, sent.status = None, "copy-sent", Message.Status.SENT
    sent.save()
    client.post(revoke_url(parcel))
    new_url = f"{settings.SITE_URL}/t/{fresh(parcel).page_token}/"
    assert messages.get(pk=shipped.pk).context["tracking_url"] == new_url
    assert messages.get(pk=sent.pk).context["tracking_url"] == old_url
    # Later milestone emails.
    ingest.apply_signal(
        storefront=alpha.storefront,
        signal=update(point("out_for_delivery", 1), number=parcel.tracking_number),
    )
    later = messages.get(template="shipment_out_for_delivery")
    assert later.context["tracking_url"] == new_url
    # The API's field.
    api = client.get(
        f"/api/v1/shipments/{parcel.pk}/", HTTP_AUTHORIZATION=f"Bearer {alpha.raw_api_key}"
    )
    assert api.json()["tracking_url"] == new_url
    # The lookup form's redirect.
    found = client.post(
        "/track/alpha/", {"order_reference": parcel.order_reference, "email": parcel.buyer_email}
    )
    assert found.status_code == 302 and found.url == new_url.removeprefix(settings.SITE_URL)


@pytest.mark.django_db
def test_a_viewer_cannot_revoke(client, tenants, parcel):
    alpha, _ = tenants
    alpha.membership.role = Membership.Role.VIEWER
    alpha.membership.save()
    assert client.post(revoke_url(parcel)).status_code == 403
    assert fresh(parcel).page_token == parcel.page_token
    assert client.get(f"/t/{parcel.page_token}/").status_code == 200
    assert not AuditLog.objects.for_storefront(alpha.storefront).filter(
        action="shipment.link_revoked"
    )


@pytest.mark.django_db
def test_staff_members_may_revoke(client, tenants, parcel):
    alpha, _ = tenants
    alpha.membership.role = Membership.Role.STAFF
    alpha.membership.save()
    assert client.post(revoke_url(parcel)).status_code == 302
    assert client.get(f"/t/{parcel.page_token}/").status_code == 404


@pytest.mark.django_db
def test_another_storefronts_shipment_cannot_be_revoked(client, tenants, parcel):
    alpha, bravo = tenants
    theirs = ship(bravo.storefront, "6A99999999999")
    assert client.post(revoke_url(theirs)).status_code == 404
    assert client.post(revoke_url(theirs, slug="bravo")).status_code == 404
    assert client.get(revoke_url(parcel)).status_code == 405  # a POST-only page
    assert fresh(theirs).page_token == theirs.page_token
    assert client.get(f"/t/{theirs.page_token}/").status_code == 200
    assert not AuditLog.unscoped.filter(action="shipment.link_revoked").exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_each_existing_shipment_a_token_and_honours_its_signed_link(
    client, make_tenant
):
    before, after = ("tracking", "0003_search_indexes"), ("tracking", "0005_page_token_unique")
    executor = MigrationExecutor(connection)
    try:
        executor.migrate([before])
        old_apps = executor.loader.project_state([before]).apps
        OldShipment = old_apps.get_model("tracking", "Shipment")
        storefront = make_tenant("Alpha", "whsec_alphaalphaalphaalpha").storefront
        common = {"storefront_id": storefront.pk, "last_news_at": "2026-11-20T10:00Z"}
        safe = OldShipment.objects.create(
            tracking_number="6A1", carrier_tracking_url="https://carrier.example/6A1", **common
        )
        unsafe = OldShipment.objects.create(
            tracking_number="6A2", carrier_tracking_url="javascript:alert(1)", **common
        )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([after])
    migrated = {s.tracking_number: s for s in Shipment.objects.for_storefront(storefront)}
    assert migrated["6A1"].page_token != migrated["6A2"].page_token
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{30}", s.page_token) for s in migrated.values())
    assert all(s.signed_link_valid for s in migrated.values())
    assert migrated["6A1"].carrier_tracking_url == "https://carrier.example/6A1"
    assert migrated["6A2"].carrier_tracking_url == ""
    for old in (safe, unsafe):
        assert client.get(signed_link(old)).status_code == 200
    # A shipment made now gets its own token, and no signed link.
    new = ship(storefront, "6A12345678901")
    assert not new.signed_link_valid and new.page_token not in {
        s.page_token for s in migrated.values()
    }
