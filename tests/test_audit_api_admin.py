"""The audit log covers the REST API (the key's name and prefix as actor, never the key) and
Django admin (the staff user as actor, in the log of the storefront whose rows changed)."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.forms import CheckboxInput, MultiWidget
from django.test import Client
from django.urls import reverse

from notifications.models import Message, Suppression
from payments.models import LostSale
from payments.services import ingest
from storefront_settings.models import AuditLog
from tests.factories import InboundEventFactory
from tests.payments_helpers import signal
from tests.tracking_helpers import point, update
from tracking.models import Shipment
from tracking.services import ingest as tracking_ingest
from tracking.services import shipments

SHIPMENT = {
    "order_reference": "ML-10428",
    "buyer_email": "camille@example.com",
    "tracking_number": "6A12345678901",
}


def api(client, tenant, method, url, data=None):
    return getattr(client, method)(
        url,
        json.dumps(data) if data is not None else None,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tenant.raw_api_key}",
    )


def log(tenant, **filters):
    return AuditLog.objects.for_storefront(tenant.storefront).filter(**filters)


def audit_page(tenant, **params) -> str:
    client = Client()  # not the test's client, which may be ops' in admin
    client.force_login(tenant.owner)
    response = client.get(f"/app/{tenant.storefront.slug}/settings/audit/", params)
    assert response.status_code == 200
    return response.content.decode()


def assert_names_the_key(entry, tenant):
    assert entry.actor is None
    assert entry.detail["api_key"] == {"name": "test", "prefix": tenant.api_key.prefix}
    stored = json.dumps(entry.detail)
    assert tenant.raw_api_key not in stored
    assert tenant.raw_api_key[len(tenant.api_key.prefix) :] not in stored
    assert tenant.api_key.key_hash not in stored


# --- the API --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_marking_a_sale_lost_through_the_api_names_the_key(client, two_storefronts):
    alpha, bravo = two_storefronts
    ingest.apply_signal(storefront=alpha.storefront, signal=signal())
    sale = LostSale.objects.for_storefront(alpha.storefront).get()
    response = api(client, alpha, "post", f"/api/v1/lost-sales/{sale.pk}/mark-lost/")
    assert response.status_code == 200
    entry = log(alpha, action="lost_sale.marked_lost").get()
    assert_names_the_key(entry, alpha)
    assert entry.detail["lost_sale"] == sale.pk
    # Refused the second time (409): nothing more recorded.
    assert api(client, alpha, "post", f"/api/v1/lost-sales/{sale.pk}/mark-lost/").status_code == 409
    assert log(alpha, action="lost_sale.marked_lost").count() == 1
    assert not log(bravo, action="lost_sale.marked_lost").exists()
    page = audit_page(alpha)
    assert f"API key test ({alpha.api_key.prefix}…)" in page
    assert "Lost sale marked lost" in page
    assert alpha.raw_api_key not in page


@pytest.mark.django_db
def test_recording_a_shipment_through_the_api_names_the_key(client, two_storefronts):
    alpha, bravo = two_storefronts
    response = api(client, alpha, "post", "/api/v1/shipments/", SHIPMENT)
    assert response.status_code == 201
    entry = log(alpha, action="shipment.created").get()
    assert_names_the_key(entry, alpha)
    assert entry.detail["shipment"] == response.json()["id"]
    assert entry.detail["tracking_number"] == "6A12345678901"
    # The same parcel again is a 409 and no second row.
    assert api(client, alpha, "post", "/api/v1/shipments/", SHIPMENT).status_code == 409
    assert log(alpha, action="shipment.created").count() == 1
    assert not log(bravo, action="shipment.created").exists()
    page = audit_page(alpha)
    assert "Shipment recorded" in page and f"API key test ({alpha.api_key.prefix}…)" in page


@pytest.mark.django_db
def test_correcting_the_buyers_email_through_the_api_records_old_and_new(client, make_tenant):
    alpha = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    created = api(client, alpha, "post", "/api/v1/shipments/", SHIPMENT).json()
    url = f"/api/v1/shipments/{created['id']}/"
    response = api(client, alpha, "patch", url, {"buyer_email": "Camille.M@Example.org"})
    assert response.status_code == 200
    entry = log(alpha, action="shipment.corrected").get()
    assert_names_the_key(entry, alpha)
    assert entry.detail["changed"] == {
        "buyer_email": {"from": "camille@example.com", "to": "camille.m@example.org"}
    }
    # The same value again changes nothing: no row.
    api(client, alpha, "patch", url, {"buyer_email": "camille.m@example.org"})
    assert log(alpha, action="shipment.corrected").count() == 1
    # A carrier and a date: both, old → new, in one row.
    api(client, alpha, "patch", url, {"carrier": "dhl", "promised_delivery_date": "2026-11-30"})
    latest = log(alpha, action="shipment.corrected").order_by("-pk").first()
    assert latest.detail["changed"] == {
        "carrier": {"from": "colissimo", "to": "dhl"},
        "promised_delivery_date": {"from": None, "to": "2026-11-30"},
    }
    page = audit_page(alpha, action="shipment.corrected")
    assert "Shipment corrected" in page
    assert (
        'Buyer email: <span class="old">camille@example.com</span> → '
        '<span class="new">camille.m@example.org</span>'
    ) in page
    assert (
        'Carrier: <span class="old">La Poste / Colissimo</span> → <span class="new">DHL</span>'
    ) in page
    assert '<option value="shipment.corrected" selected>Shipment corrected</option>' in page


@pytest.mark.django_db
def test_the_admins_audit_list_names_the_key_too(ops, make_tenant):
    alpha = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    assert api(ops, alpha, "post", "/api/v1/shipments/", SHIPMENT).status_code == 201
    body = ops.get(reverse("admin:storefront_settings_auditlog_changelist")).content.decode()
    assert f"test ({alpha.api_key.prefix}…)" in body
    assert alpha.raw_api_key not in body


@pytest.mark.django_db
def test_a_refused_correction_records_nothing(client, make_tenant):
    alpha = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    created = api(client, alpha, "post", "/api/v1/shipments/", SHIPMENT).json()
    url = f"/api/v1/shipments/{created['id']}/"
    assert api(client, alpha, "patch", url, {"status": "delivered"}).status_code == 400
    assert api(client, alpha, "patch", url, {"buyer_email": "nope"}).status_code == 400
    assert not log(alpha, action="shipment.corrected").exists()


# --- Django admin ---------------------------------------------------------------------------


def _field_data(form, prefix_name) -> dict:
    """What the browser would post for one form as the admin drew it."""
    data = {}
    for name, field in form.fields.items():
        key = prefix_name(name)
        value = form[name].value()
        widget = field.widget
        if isinstance(widget, MultiWidget):
            parts = widget.decompress(value)
            for index, part in enumerate(parts):
                data[f"{key}_{index}"] = widget.widgets[index].format_value(part) or ""
        elif isinstance(widget, CheckboxInput):
            if value:
                data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(v) for v in value]
        elif value is not None:
            data[key] = widget.format_value(value) if hasattr(widget, "format_value") else value
            if data[key] is None:
                data[key] = ""
    return data


def admin_form(response) -> dict:
    """The change form's current values, inlines included, ready to post back."""
    form = response.context["adminform"].form
    data = _field_data(form, lambda name: name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update(_field_data(management, management.add_prefix))
        for each in formset.forms:
            data.update(_field_data(each, each.add_prefix))
    return data


def change(ops, obj, **values):
    info = (obj._meta.app_label, obj._meta.model_name)
    url = reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
    page = ops.get(url)
    assert page.status_code == 200, (page.status_code, page.get("Location"))
    data = admin_form(page)
    data.update(values)
    response = ops.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def ship(storefront, number="6A12345678901"):
    return shipments.create_shipment(
        storefront,
        shipments.NewShipment(
            order_reference="ML-1", buyer_email="a@example.com", tracking_number=number
        ),
    )


@pytest.fixture
def staff(ops):
    return ops, get_user_model().objects.get(username="ops@example.com")


@pytest.mark.django_db
def test_an_admin_change_to_a_shipment_is_in_its_storefronts_log_only(
    client, staff, two_storefronts
):
    ops, ops_user = staff
    alpha, bravo = two_storefronts
    shipment = ship(alpha.storefront)
    ship(bravo.storefront)
    # With its journey shown inline (rows the admin posts back).
    tracking_ingest.apply_signal(storefront=alpha.storefront, signal=update(point("in_transit", 1)))
    assert shipment.checkpoints.count() == 1
    before_bravo = log(bravo).count()
    change(ops, shipment, buyer_email="b@example.com", order_reference="ML-1b")
    entry = log(alpha, action="admin.changed").get()
    assert entry.actor == ops_user
    assert entry.detail["model"] == "tracking.shipment"
    assert entry.detail["changed"] == {
        "order_reference": {"from": "ML-1", "to": "ML-1b"},
        "buyer_email": {"from": "a@example.com", "to": "b@example.com"},
    }
    assert log(bravo).count() == before_bravo
    # The page names the staff member as such, and the change old → new.
    page = audit_page(alpha)
    assert "Changed by Aftersale&#x27;s staff" in page
    assert "ops@example.com (Aftersale&#x27;s staff)" in page
    assert 'Buyer email: <span class="old">a@example.com</span>' in page
    assert "Page token" not in page and shipment.page_token not in page
    # Saving the form as it is changes nothing: no row.
    change(ops, Shipment.unscoped.get(pk=shipment.pk))
    assert log(alpha, action="admin.changed").count() == 1


@pytest.mark.django_db
def test_an_admin_change_to_a_storefront_and_its_members_is_in_its_log(staff, two_storefronts):
    ops, ops_user = staff
    alpha, bravo = two_storefronts
    before_bravo = log(bravo).count()
    change(
        ops,
        alpha.storefront,
        name="Alpha & Co",
        **{"memberships-0-role": "viewer"},
    )
    rows = {e.detail["model"]: e for e in log(alpha, action="admin.changed")}
    assert rows["storefront_settings.storefront"].detail["changed"] == {
        "name": {"from": "Alpha", "to": "Alpha & Co"}
    }
    assert rows["storefront_settings.membership"].detail["changed"] == {
        "role": {"from": "owner", "to": "viewer"}
    }
    assert {e.actor for e in rows.values()} == {ops_user}
    assert log(bravo).count() == before_bravo


@pytest.mark.django_db
def test_moving_a_row_to_another_storefront_is_in_both_logs_without_naming_the_other(
    staff, two_storefronts
):
    ops, _ = staff
    alpha, bravo = two_storefronts
    shipment = ship(alpha.storefront)
    change(ops, shipment, storefront=str(bravo.storefront.pk))
    mine = log(alpha, action="admin.changed").get().detail["changed"]["storefront"]
    theirs = log(bravo, action="admin.changed").get().detail["changed"]["storefront"]
    assert mine == {"from": "Alpha", "to": "(another storefront)"}
    assert theirs == {"from": "(another storefront)", "to": "Bravo"}


@pytest.mark.django_db
def test_a_bulk_delete_in_admin_is_recorded_per_storefront(client, staff, two_storefronts):
    ops, ops_user = staff
    alpha, bravo = two_storefronts
    mine = [ship(alpha.storefront, n) for n in ("6A12345678901", "6A12345678902")]
    theirs = ship(bravo.storefront, "6A99999999999")
    response = ops.post(
        reverse("admin:tracking_shipment_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [s.pk for s in [*mine, theirs]],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Shipment.unscoped.exists()
    alpha_row = log(alpha, action="admin.deleted").get()
    bravo_row = log(bravo, action="admin.deleted").get()
    assert alpha_row.actor == bravo_row.actor == ops_user
    assert alpha_row.detail["count"] == 2
    assert all("6A1234567890" in label for label in alpha_row.detail["objects"])
    assert bravo_row.detail["count"] == 1
    assert "6A99999999999" not in json.dumps(alpha_row.detail)
    page = audit_page(alpha)
    assert "Deleted by Aftersale&#x27;s staff" in page and "Kind: Shipment" in page


@pytest.mark.django_db
def test_deleting_a_provider_secret_in_admin_records_its_hint_only(staff, two_storefronts):
    ops, _ = staff
    alpha, _ = two_storefronts
    secret = alpha.stripe_secret
    url = reverse("admin:storefront_settings_providersecret_delete", args=[secret.pk])
    assert ops.post(url, {"post": "yes"}).status_code == 302
    entry = log(alpha, action="admin.deleted").get()
    assert entry.detail["objects"] == [f"Stripe secret …{secret.hint}"]
    assert secret.secret not in json.dumps(entry.detail)


@pytest.mark.django_db
def test_revoking_keys_and_secrets_in_admin_is_recorded(staff, two_storefronts):
    ops, ops_user = staff
    alpha, bravo = two_storefronts
    for model, item in (("apikey", alpha.api_key), ("providersecret", alpha.stripe_secret)):
        ops.post(
            reverse(f"admin:storefront_settings_{model}_changelist"),
            {"action": "revoke", "_selected_action": [item.pk]},
        )
    key_row = log(alpha, action="api_key.revoked").get()
    secret_row = log(alpha, action="secret.revoked").get()
    assert key_row.actor == secret_row.actor == ops_user
    assert secret_row.detail == {"provider": "stripe", "hint": alpha.stripe_secret.hint}
    assert alpha.stripe_secret.secret not in json.dumps(secret_row.detail)
    assert not log(bravo, action__endswith=".revoked").exists()


@pytest.mark.django_db
def test_adding_a_suppression_in_admin_is_recorded(staff, two_storefronts):
    ops, ops_user = staff
    alpha, bravo = two_storefronts
    before_bravo = log(bravo).count()
    response = ops.post(
        reverse("admin:notifications_suppression_add"),
        {
            "storefront": alpha.storefront.pk,
            "email": "gone@example.com",
            "reason": Suppression._meta.get_field("reason").choices[0][0],
            "note": "asked by phone",
        },
    )
    assert response.status_code == 302
    entry = log(alpha, action="admin.added").get()
    assert entry.actor == ops_user
    assert entry.detail["model"] == "notifications.suppression"
    assert "gone@example.com" in entry.detail["object"]
    assert log(bravo).count() == before_bravo


@pytest.mark.django_db
def test_admin_actions_on_messages_and_events_are_recorded(staff, two_storefronts):
    ops, ops_user = staff
    alpha, _ = two_storefronts
    shipment = ship(alpha.storefront)
    message = Message.objects.for_storefront(alpha.storefront).get(about_id=str(shipment.pk))
    changelist = reverse("admin:notifications_message_changelist")
    ops.post(changelist, {"action": "cancel_scheduled", "_selected_action": [message.pk]})
    assert Message.objects.for_storefront(alpha.storefront).get(pk=message.pk).status == (
        "cancelled"
    )
    cancelled = log(alpha, action="message.cancelled").get()
    assert cancelled.actor == ops_user and cancelled.detail["message"] == message.pk
    Message.objects.for_storefront(alpha.storefront).filter(pk=message.pk).update(status="failed")
    ops.post(changelist, {"action": "resend_failed", "_selected_action": [message.pk]})
    assert log(alpha, action="message.resent").get().actor == ops_user
    # A lost sale marked lost from admin, and an event replayed.
    ingest.apply_signal(storefront=alpha.storefront, signal=signal())
    sale = LostSale.objects.for_storefront(alpha.storefront).get()
    ops.post(
        reverse("admin:payments_lostsale_changelist"),
        {"action": "mark_lost", "_selected_action": [sale.pk]},
    )
    assert log(alpha, action="lost_sale.marked_lost").get().actor == ops_user
    event = InboundEventFactory(
        storefront=alpha.storefront, event_id="evt_admin_1", status="failed"
    )
    ops.post(
        reverse("admin:inbound_inboundevent_changelist"),
        {"action": "replay", "_selected_action": [event.pk]},
    )
    replayed = log(alpha, action="inbound_event.replayed").get()
    assert replayed.actor == ops_user and replayed.detail["event_id"] == "evt_admin_1"
