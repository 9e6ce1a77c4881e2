"""Settings pages: brand and trust, recovery and shipment emails, quiet hours and cap, my alerts,
the audit log. Each form saves through a service with one audit row, refuses bad values with a
400 that explains them and changes nothing, and is read only for viewers."""

from datetime import UTC, datetime, time

import pytest

from payments.reasons import FailureReason
from storefront_settings.models import (
    AuditLog,
    Membership,
    RecoveryPolicy,
    ShipmentPolicy,
    Storefront,
)
from storefront_settings.services import audit, preferences, storefronts

PAGES = ["brand", "recovery", "shipments", "sending", "alerts", "audit"]
EDIT_PAGES = ["brand", "recovery", "shipments", "sending", "alerts"]
# The storefront's settings; "alerts" is the member's own, which a viewer may change too.
STOREFRONT_PAGES = ["brand", "recovery", "shipments", "sending"]
VALID_SIRET = "73282932000074"
BUYER_REASONS = [
    "authentication_failed",
    "card_details_incorrect",
    "card_expired",
    "insufficient_funds",
    "limit_exceeded",
    "online_payment_not_enabled",
    "bank_declined",
    "processing_error",
    "abandoned",
    "unknown",
]


def url(slug: str, page: str) -> str:
    return f"/app/{slug}/settings/{page}/"


def audit_rows(storefront, action=None):
    rows = AuditLog.objects.for_storefront(storefront)
    return list(rows.filter(action=action) if action else rows)


def brand_data(**overrides):
    data = {
        "name": "Alpha",
        "shop_url": "",
        "logo_url": "",
        "brand_colour": "#1D2330",
        "accent_colour": "#2356D8",
        **{field: "" for field in Storefront.TRUST_FIELDS},
    }
    return {**data, **overrides}


def recovery_data(**overrides):
    data = {
        "emailed_reasons": BUYER_REASONS,
        "minimum_amount": "0",
        "email_delay_minutes": "15 min, 24 h, 72 h",
        "recovery_window_days": "7",
        "discount_code": "",
        "discount_wording": "",
        "checkout_url_template": "",
        "other_payment_methods": [],
    }
    return {**data, **overrides}


def shipments_data(**overrides):
    data = {
        "milestones": [
            "shipped",
            "out_for_delivery",
            "delivered",
            "failed_attempt",
            "available_for_pickup",
            "exception",
            "delay",
            "stalled",
        ],
        "stalled_days": "3",
    }
    return {**data, **overrides}


def sending_data(**overrides):
    data = {"quiet_hours_start": "21:00", "quiet_hours_end": "08:00", "buyer_messages_per_day": 3}
    return {**data, **overrides}


def alerts_data(**overrides):
    return {"receives_alerts": "on", "alert_frequency": "immediate", **overrides}


VALID = {
    "brand": brand_data(legal_name="Alpha SAS"),
    "recovery": recovery_data(email_delay_minutes="2 h, 24 h"),
    "shipments": shipments_data(stalled_days="5"),
    "sending": sending_data(buyer_messages_per_day=5),
    "alerts": alerts_data(alert_frequency="daily"),
}


def snapshot(storefront, membership):
    """Everything these pages may change, to prove a refused POST changed nothing."""
    storefront = Storefront.objects.get(pk=storefront.pk)
    recovery = RecoveryPolicy.for_storefront(storefront)
    shipment = ShipmentPolicy.for_storefront(storefront)
    member = Membership.objects.for_storefront(storefront).get(pk=membership.pk)
    return (
        [getattr(storefront, f) for f in storefronts.BRAND_AND_TRUST_FIELDS],
        [getattr(storefront, f) for f in storefronts.SENDING_FIELDS],
        [getattr(recovery, f) for f in storefronts.RECOVERY_POLICY_FIELDS],
        [getattr(shipment, f) for f in storefronts.SHIPMENT_POLICY_FIELDS],
        [getattr(member, f) for f in preferences.ALERT_FIELDS],
        len(audit_rows(storefront)),
    )


# Access ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", "staff", "viewer"])
def test_every_page_opens_for_every_role(client, two_storefronts, member_of, role):
    alpha, _ = two_storefronts
    client.force_login(member_of(alpha.storefront, role).user)
    for page in PAGES:
        response = client.get(url("alpha", page))
        assert response.status_code == 200, page
        body = response.content.decode()
        if page in EDIT_PAGES:
            # Viewers see the storefront's values, disabled, and no button; the others can
            # save, and everyone saves their own alerts.
            read_only = role == "viewer" and page in STOREFRONT_PAGES
            assert ("disabled" in body) == read_only, page
            assert ('<button type="submit">Save</button>' in body) != read_only, page


@pytest.mark.django_db
def test_the_index_leads_to_brand(alpha_client):
    response = alpha_client.get("/app/alpha/settings/")
    assert response.status_code == 302
    assert response.url == url("alpha", "brand")


@pytest.mark.django_db
def test_another_storefronts_settings_are_404(client, two_storefronts):
    alpha, bravo = two_storefronts
    client.force_login(alpha.owner)
    before = snapshot(bravo.storefront, bravo.membership)
    assert client.get("/app/bravo/settings/").status_code == 404
    assert client.get("/app/nowhere/settings/brand/").status_code == 404
    for page in PAGES:
        assert client.get(url("bravo", page)).status_code == 404, page
    for page in EDIT_PAGES:
        assert client.post(url("bravo", page), VALID[page]).status_code == 404, page
    assert snapshot(bravo.storefront, bravo.membership) == before


@pytest.mark.django_db
@pytest.mark.parametrize("page", [*STOREFRONT_PAGES, "audit"])
def test_a_viewers_post_is_403_and_changes_nothing(client, two_storefronts, member_of, page):
    alpha, _ = two_storefronts
    viewer = member_of(alpha.storefront, Membership.Role.VIEWER)
    client.force_login(viewer.user)
    before = snapshot(alpha.storefront, viewer)
    assert client.post(url("alpha", page), VALID.get(page, {})).status_code == 403
    assert snapshot(alpha.storefront, viewer) == before


@pytest.mark.django_db
def test_a_viewer_changes_their_own_alerts_and_nothing_else(client, two_storefronts, member_of):
    alpha, _ = two_storefronts
    viewer = member_of(alpha.storefront, Membership.Role.VIEWER)
    client.force_login(viewer.user)
    owner_before = snapshot(alpha.storefront, alpha.membership)[:-1]
    response = client.post(url("alpha", "alerts"), alerts_data(alert_frequency="daily"))
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert (viewer.alert_frequency, viewer.role) == ("daily", Membership.Role.VIEWER)
    # The storefront's settings and the owner's preferences are as they were.
    assert snapshot(alpha.storefront, alpha.membership)[:-1] == owner_before
    [row] = audit_rows(alpha.storefront, "member.alerts_changed")
    assert row.actor == viewer.user
    # A field of the membership the form does not carry cannot be slipped in.
    client.post(url("alpha", "alerts"), alerts_data(role="owner"))
    viewer.refresh_from_db()
    assert viewer.role == Membership.Role.VIEWER


@pytest.mark.django_db
@pytest.mark.parametrize("page", EDIT_PAGES)
def test_staff_save_every_page_with_one_audit_row(client, two_storefronts, member_of, page):
    alpha, _ = two_storefronts
    staff = member_of(alpha.storefront, Membership.Role.STAFF)
    client.force_login(staff.user)
    response = client.post(url("alpha", page), VALID[page])
    assert response.status_code == 302
    assert response.url == url("alpha", page)
    changes = [row for row in audit_rows(alpha.storefront) if "changed" in row.detail]
    assert len(changes) == 1
    assert changes[0].actor == staff.user
    assert "Saved. Changed:" in client.get(response.url).content.decode()


@pytest.mark.django_db
def test_other_methods_are_refused(alpha_client):
    assert alpha_client.put(url("alpha", "brand")).status_code == 405
    assert alpha_client.post(url("alpha", "audit")).status_code == 405


@pytest.mark.django_db
def test_saving_the_same_values_records_nothing(alpha_client, alpha):
    before = len(audit_rows(alpha.storefront))
    response = alpha_client.post(url("alpha", "sending"), sending_data(), follow=True)
    assert "Nothing to save" in response.content.decode()
    assert len(audit_rows(alpha.storefront)) == before


# Brand and trust ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_brand_and_trust_are_saved_and_audited_old_to_new(alpha_client, alpha):
    data = brand_data(
        name="Alpha Shop",
        legal_name="Alpha SAS",
        company_number="732 829 320 00074",
        brand_colour="#aa0000",
        logo_url="cdn.example/logo.png",
        support_email="help@alpha.example",
        support_phone="+33 1 23 45 67 89",
        withdrawal_url="https://alpha.example/withdrawal",
    )
    assert alpha_client.post(url("alpha", "brand"), data).status_code == 302
    storefront = Storefront.objects.get(pk=alpha.storefront.pk)
    assert storefront.name == "Alpha Shop"
    assert storefront.company_number == VALID_SIRET  # stored as digits
    assert storefront.brand_colour == "#AA0000"
    assert storefront.logo_url == "https://cdn.example/logo.png"  # https assumed
    [row] = audit_rows(alpha.storefront, "storefront.brand_changed")
    assert row.actor == alpha.owner
    assert row.detail["changed"] == {
        "name": {"from": "Alpha", "to": "Alpha Shop"},
        "logo_url": {"from": "", "to": "https://cdn.example/logo.png"},
        "brand_colour": {"from": "#1D2330", "to": "#AA0000"},
        "legal_name": {"from": "", "to": "Alpha SAS"},
        "company_number": {"from": "", "to": VALID_SIRET},
        "support_email": {"from": "", "to": "help@alpha.example"},
        "support_phone": {"from": "", "to": "+33 1 23 45 67 89"},
        "withdrawal_url": {"from": "", "to": "https://alpha.example/withdrawal"},
    }
    page = alpha_client.get(url("alpha", "brand")).content.decode()
    # The preview carries the saved colour in a style element the CSP allows (its nonce).
    assert "--brand: #AA0000" in page
    assert "<style nonce=" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "explanation"),
    [
        ("company_number", "73282932000075", "fails its check digit"),
        ("company_number", "1234", "Enter a SIREN (9 digits) or a SIRET (14 digits)."),
        ("brand_colour", "red", "Use a colour like #1D2330."),
        ("accent_colour", "#12345", "Use a colour like #1D2330."),
        ("logo_url", "not a link", "Enter a valid URL."),
        ("logo_url", "http://cdn.example/logo.png", "Use an https:// link"),
        ("terms_url", "https://", "Enter a valid URL."),
        ("support_email", "help@", "Enter a valid email address."),
        ("support_phone", "call us", "Enter a phone number"),
        ("name", "", "This field is required."),
    ],
)
def test_bad_brand_values_are_explained_and_nothing_is_saved(
    alpha_client, alpha, field, value, explanation
):
    before = snapshot(alpha.storefront, alpha.membership)
    response = alpha_client.post(url("alpha", "brand"), brand_data(**{field: value}))
    assert response.status_code == 400
    body = response.content.decode()
    assert explanation in body
    assert f'id="id_{field}_error"' in body  # the error sits next to its field
    assert "Nothing was saved" in body
    assert snapshot(alpha.storefront, alpha.membership) == before


@pytest.mark.django_db
def test_a_siren_alone_is_accepted(alpha_client, alpha):
    response = alpha_client.post(url("alpha", "brand"), brand_data(company_number="732829320"))
    assert response.status_code == 302
    assert Storefront.objects.get(pk=alpha.storefront.pk).company_number == "732829320"


# Recovery policy ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_recovery_policy_is_saved_in_minor_units_and_audited(alpha_client, alpha):
    data = recovery_data(
        emailed_reasons=[r for r in BUYER_REASONS if r not in {"abandoned", "unknown"}],
        minimum_amount="19,90",
        email_delay_minutes="0, 24h; 2 d",
        recovery_window_days="10",
        discount_code="MERCI10",
        discount_wording="a 10% code to make up for it",
        checkout_url_template="shop.example/checkout/{order_reference}?from=email",
        other_payment_methods=["paypal", "alma"],
    )
    assert alpha_client.post(url("alpha", "recovery"), data).status_code == 302
    policy = RecoveryPolicy.for_storefront(alpha.storefront)
    assert policy.disabled_reasons == ["abandoned", "unknown"]
    assert policy.minimum_amount == 1990
    assert policy.email_delay_minutes == [0, 1440, 2880]
    assert policy.recovery_window_days == 10
    assert policy.discount_code == "MERCI10"
    assert policy.checkout_url_template == (
        "https://shop.example/checkout/{order_reference}?from=email"
    )
    assert policy.other_payment_methods == ["paypal", "alma"]
    [row] = audit_rows(alpha.storefront, "recovery_policy.changed")
    assert row.detail["changed"]["minimum_amount"] == {"from": 0, "to": 1990}
    assert row.detail["changed"]["email_delay_minutes"] == {
        "from": [15, 1440, 4320],
        "to": [0, 1440, 2880],
    }
    assert "recovery_window_days" in row.detail["changed"]
    page = alpha_client.get(url("alpha", "recovery")).content.decode()
    assert 'value="19.90"' in page  # shown back in major units
    assert "https://shop.example/checkout/A-1042?from=email" in page  # the worked example


@pytest.mark.django_db
def test_merchant_only_reasons_are_never_offered(alpha_client, alpha):
    page = alpha_client.get(url("alpha", "recovery")).content.decode()
    assert 'value="suspected_fraud"' not in page
    assert 'value="merchant_configuration"' not in page
    assert str(FailureReason.SUSPECTED_FRAUD.label) in page  # named as never emailed
    before = snapshot(alpha.storefront, alpha.membership)
    forged = recovery_data(emailed_reasons=[*BUYER_REASONS, "suspected_fraud"])
    response = alpha_client.post(url("alpha", "recovery"), forged)
    assert response.status_code == 400
    assert "suspected_fraud is not one of the available choices" in response.content.decode()
    assert snapshot(alpha.storefront, alpha.membership) == before


@pytest.mark.django_db
def test_merchant_only_reasons_disabled_elsewhere_are_kept(alpha_client, alpha):
    policy = RecoveryPolicy.for_storefront(alpha.storefront)
    policy.disabled_reasons = ["suspected_fraud"]
    policy.save()
    data = recovery_data(emailed_reasons=[r for r in BUYER_REASONS if r != "card_expired"])
    assert alpha_client.post(url("alpha", "recovery"), data).status_code == 302
    policy.refresh_from_db()
    assert policy.disabled_reasons == ["card_expired", "suspected_fraud"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "explanation"),
    [
        ({"email_delay_minutes": "24 h, 1 h"}, "email_delay_minutes", "in increasing order"),
        ({"email_delay_minutes": "60, 1 h"}, "email_delay_minutes", "in increasing order"),
        ({"email_delay_minutes": "0, 0"}, "email_delay_minutes", "in increasing order"),
        ({"email_delay_minutes": "1, 2, 3, 4"}, "email_delay_minutes", "one to three delays"),
        ({"email_delay_minutes": ""}, "email_delay_minutes", "This field is required."),
        ({"email_delay_minutes": "soon"}, "email_delay_minutes", "“soon” is not a delay"),
        ({"email_delay_minutes": "1, -24"}, "email_delay_minutes", "“-24” is not a delay"),
        ({"email_delay_minutes": "3 weeks"}, "email_delay_minutes", "“3 weeks” is not a delay"),
        ({"email_delay_minutes": "1.5 h"}, "email_delay_minutes", "in minutes or with a unit"),
        (
            {"email_delay_minutes": "1 h, 24 h, 200 h", "recovery_window_days": "7"},
            "email_delay_minutes",
            "The last email (200 h after the failure) would come after the sale is given up "
            "(7 days = 168 h)",
        ),
        ({"minimum_amount": "-5"}, "minimum_amount", "cannot be negative"),
        ({"minimum_amount": "ten"}, "minimum_amount", "Enter an amount such as 20 or 19,90"),
        ({"minimum_amount": "1,999"}, "minimum_amount", "Enter an amount such as 20 or 19,90"),
        ({"recovery_window_days": "0"}, "recovery_window_days", "greater than or equal to 1"),
        ({"recovery_window_days": "61"}, "recovery_window_days", "less than or equal to 60"),
        (
            {"checkout_url_template": "https://shop.example/pay/{order_id}"},
            "checkout_url_template",
            "Only {order_reference} may appear between braces; remove {order_id}.",
        ),
        (
            {"checkout_url_template": "https://shop.example/checkout"},
            "checkout_url_template",
            "Put {order_reference} where the order",
        ),
        (
            {"checkout_url_template": "not a url {order_reference}"},
            "checkout_url_template",
            "Enter a valid URL.",
        ),
        (
            {"discount_wording": "a gift for you"},
            "discount_wording",
            "Give the discount code these words introduce",
        ),
        ({"other_payment_methods": ["cheque"]}, "other_payment_methods", "not one of the"),
    ],
)
def test_bad_recovery_values_are_explained_and_nothing_is_saved(
    alpha_client, alpha, overrides, field, explanation
):
    before = snapshot(alpha.storefront, alpha.membership)
    response = alpha_client.post(url("alpha", "recovery"), recovery_data(**overrides))
    assert response.status_code == 400
    body = response.content.decode()
    assert explanation in body
    assert f'id="id_{field}_error"' in body
    assert snapshot(alpha.storefront, alpha.membership) == before


# Shipment policy ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_shipment_policy_is_saved_and_audited(alpha_client, alpha):
    data = shipments_data(milestones=["delivered", "shipped"], stalled_days="5")
    assert alpha_client.post(url("alpha", "shipments"), data).status_code == 302
    policy = ShipmentPolicy.for_storefront(alpha.storefront)
    assert policy.milestones == ["shipped", "delivered"]  # in the canonical order
    assert policy.stalled_days == 5
    [row] = audit_rows(alpha.storefront, "shipment_policy.changed")
    assert row.detail["changed"]["stalled_days"] == {"from": 3, "to": 5}
    assert row.detail["changed"]["milestones"]["to"] == ["shipped", "delivered"]


@pytest.mark.django_db
def test_every_shipment_email_may_be_turned_off(alpha_client, alpha):
    assert alpha_client.post(url("alpha", "shipments"), {"stalled_days": "3"}).status_code == 302
    assert ShipmentPolicy.for_storefront(alpha.storefront).milestones == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "explanation"),
    [
        ({"stalled_days": "0"}, "stalled_days", "greater than or equal to 1"),
        ({"stalled_days": "31"}, "stalled_days", "less than or equal to 30"),
        ({"stalled_days": "two"}, "stalled_days", "Enter a whole number."),
        ({"milestones": ["teleported"]}, "milestones", "not one of the available choices"),
    ],
)
def test_bad_shipment_values_are_explained_and_nothing_is_saved(
    alpha_client, alpha, overrides, field, explanation
):
    before = snapshot(alpha.storefront, alpha.membership)
    response = alpha_client.post(url("alpha", "shipments"), shipments_data(**overrides))
    assert response.status_code == 400
    assert explanation in response.content.decode()
    assert f'id="id_{field}_error"' in response.content.decode()
    assert snapshot(alpha.storefront, alpha.membership) == before


# Quiet hours and cap -----------------------------------------------------------------------


@pytest.mark.django_db
def test_quiet_hours_and_cap_are_saved_and_audited(alpha_client, alpha):
    data = sending_data(
        quiet_hours_start="22:30", quiet_hours_end="07:00", buyer_messages_per_day=2
    )
    assert alpha_client.post(url("alpha", "sending"), data).status_code == 302
    storefront = Storefront.objects.get(pk=alpha.storefront.pk)
    assert (storefront.quiet_hours_start, storefront.quiet_hours_end) == (time(22, 30), time(7))
    assert storefront.buyer_messages_per_day == 2
    [row] = audit_rows(alpha.storefront, "storefront.sending_changed")
    assert row.detail["changed"] == {
        "quiet_hours_start": {"from": "21:00", "to": "22:30"},
        "quiet_hours_end": {"from": "08:00", "to": "07:00"},
        "buyer_messages_per_day": {"from": 3, "to": 2},
    }


@pytest.mark.django_db
def test_the_same_start_and_end_mean_no_quiet_hours(alpha_client, alpha):
    data = sending_data(quiet_hours_start="09:00", quiet_hours_end="09:00")
    assert alpha_client.post(url("alpha", "sending"), data).status_code == 302
    storefront = Storefront.objects.get(pk=alpha.storefront.pk)
    # 03:00 in Paris would be quiet with the defaults; now nothing is held.
    assert storefront.quiet_hours_end_after(datetime(2026, 1, 15, 2, 0, tzinfo=UTC)) is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field", "explanation"),
    [
        ({"buyer_messages_per_day": 0}, "buyer_messages_per_day", "greater than or equal to 1"),
        ({"buyer_messages_per_day": 21}, "buyer_messages_per_day", "less than or equal to 20"),
        ({"quiet_hours_start": "25:00"}, "quiet_hours_start", "Enter a valid time."),
        ({"quiet_hours_end": ""}, "quiet_hours_end", "This field is required."),
        (
            {"quiet_hours_start": "20:00", "quiet_hours_end": "14:00"},
            "quiet_hours_end",
            "These quiet hours last 18",
        ),
    ],
)
def test_bad_sending_values_are_explained_and_nothing_is_saved(
    alpha_client, alpha, overrides, field, explanation
):
    before = snapshot(alpha.storefront, alpha.membership)
    response = alpha_client.post(url("alpha", "sending"), sending_data(**overrides))
    assert response.status_code == 400
    assert explanation in response.content.decode()
    assert f'id="id_{field}_error"' in response.content.decode()
    assert snapshot(alpha.storefront, alpha.membership) == before


# My alerts ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_member_changes_only_their_own_alerts(client, two_storefronts, member_of):
    alpha, _ = two_storefronts
    staff = member_of(alpha.storefront, Membership.Role.STAFF)
    client.force_login(staff.user)
    response = client.post(url("alpha", "alerts"), {"alert_frequency": "daily"})
    assert response.status_code == 302
    staff.refresh_from_db()
    alpha.membership.refresh_from_db()
    assert (staff.receives_alerts, staff.alert_frequency) == (False, "daily")
    assert (alpha.membership.receives_alerts, alpha.membership.alert_frequency) == (
        True,
        "immediate",
    )
    [row] = audit_rows(alpha.storefront, "member.alerts_changed")
    assert row.detail["member"] == staff.user.email
    assert row.detail["changed"]["receives_alerts"] == {"from": True, "to": False}


@pytest.mark.django_db
def test_a_bad_alert_frequency_is_refused(alpha_client, alpha):
    before = snapshot(alpha.storefront, alpha.membership)
    response = alpha_client.post(url("alpha", "alerts"), alerts_data(alert_frequency="hourly"))
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert snapshot(alpha.storefront, alpha.membership) == before


# Audit log ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_audit_log_lists_changes_in_plain_words_and_never_a_secret(client, two_storefronts):
    alpha, bravo = two_storefronts
    client.force_login(alpha.owner)
    client.post(url("alpha", "brand"), brand_data(legal_name="Alpha SAS"))
    client.post(url("alpha", "recovery"), recovery_data(minimum_amount="20"))
    # A service that slipped a secret into its detail: the page still leaves it out.
    audit.record(
        storefront=alpha.storefront,
        actor=None,
        action="secret.added",
        provider="stripe",
        secret="whsec_leakleakleakleak",
    )
    audit.record(
        storefront=alpha.storefront,
        actor=alpha.owner,
        action="member.role_changed",
        member="camille@example.com",
        **{"from": "viewer", "to": "staff"},
    )
    audit.record(storefront=bravo.storefront, actor=None, action="bravo.only")
    response = client.get(url("alpha", "audit"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Brand and trust details changed" in body
    change = 'Legal name: <span class="old">(empty)</span> → <span class="new">Alpha SAS</span>'
    assert change in body
    assert "Recovery emails policy changed" in body
    assert "20,00\xa0€" in body  # the threshold in the shop's currency (French), not in cents
    assert "Provider: Stripe" in body  # facts in words, values by their labels
    assert "Member&#x27;s role changed" in body
    assert 'Role: <span class="old">Viewer</span> → <span class="new">Staff</span>' in body
    assert "Member: camille@example.com" in body
    assert alpha.owner.email in body
    assert "Aftersale (automatic)" in body
    # Neither the stray secret nor the provider secrets the fixture stored appear anywhere.
    assert "whsec_" not in body
    assert "Bravo only" not in body


@pytest.mark.django_db
def test_the_audit_log_shows_the_shops_time_and_filters_by_action(alpha_client, alpha):
    row = audit.record(storefront=alpha.storefront, actor=alpha.owner, action="member.invited")
    AuditLog.objects.for_storefront(alpha.storefront).filter(pk=row.pk).update(
        created_at=datetime(2026, 7, 1, 10, 5, tzinfo=UTC)
    )
    body = alpha_client.get(url("alpha", "audit"), {"action": "member.invited"}).content.decode()
    assert "1 Jul 2026 12:05" in body  # Paris in summer is UTC+2
    assert "Member invited" in body
    assert "API key created" not in body.split("<tbody>")[1]
    response = alpha_client.get(url("alpha", "audit"), {"action": "nonsense"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.django_db
def test_the_audit_log_is_paginated(alpha_client, alpha):
    for number in range(55):
        audit.record(storefront=alpha.storefront, actor=None, action="test.step", n=number)
    first = alpha_client.get(url("alpha", "audit")).content.decode()
    assert "Page 1 of 2" in first and "page=2" in first
    second = alpha_client.get(url("alpha", "audit"), {"page": 2}).content.decode()
    assert "Page 2 of 2" in second
