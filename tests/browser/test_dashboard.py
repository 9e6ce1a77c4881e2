"""A merchant's day in the dashboard, in a real browser: the issue's "done when" path.

Each step leaves a screenshot of the page it reached in SCREENSHOT_DIR. A check of what a click
led to uses Playwright's `expect`, which waits for the next page (`is_visible()` and `count()`
answer at once, possibly from the page being left)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from notifications.models import Message
from payments.models import LostSale
from payments.services import ingest
from payments.signals import SignalKind
from storefront_settings.models import AuditLog, ProviderSecret, RecoveryPolicy
from tests.payments_helpers import signal
from tracking.models import Shipment
from tracking.services import shipments

pytestmark = pytest.mark.django_db(transaction=True)

DECLINES = [
    ("ML-101", {"code": "card_declined", "decline_code": "insufficient_funds"}, 8900),
    ("ML-102", {"code": "authentication_required"}, 12000),
    ("ML-103", {"code": "expired_card"}, 4550),
    ("ML-104", {"code": "card_declined", "decline_code": "do_not_honor"}, 23900),
    ("ML-105", {"code": "incorrect_cvc"}, 6400),
]
CSV_ONE_BAD_ROW = (
    "order_reference,buyer_email,tracking_number,carrier\n"
    "ML-201,one@example.com,6A12345678901,\n"
    "ML-202,not-an-email,6A12345678902,\n"
    "ML-203,three@example.com,1Z999AA10123456784,ups\n"
)

# What sticks out of a 390 px screen, outside the boxes that scroll on purpose.
WIDER_THAN_THE_SCREEN = """[...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > 391 && !e.closest('.table-scroll, table.data'))
  .map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""


@pytest.fixture
def shop(make_tenant):
    """Alpha with five failed payments in the last days, one of them paid since."""
    alpha = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    yesterday = timezone.now() - timedelta(days=1)
    with transaction.atomic():  # as the worker applies them
        _fail_and_recover(alpha.storefront, yesterday)
    return alpha


def _fail_and_recover(storefront, yesterday):
    for number, (order, codes, amount) in enumerate(DECLINES):
        ingest.apply_signal(
            storefront=storefront,
            signal=signal(
                order_reference=order,
                payment_id=f"pi_{order}",
                codes=codes,
                amount=amount,
                buyer_email=f"buyer{number}@example.com",
                occurred_at=yesterday + timedelta(minutes=number),
            ),
        )
    ingest.apply_signal(
        storefront=storefront,
        signal=signal(
            SignalKind.SUCCEEDED,
            order_reference="ML-103",
            payment_id="pi_ML-103",
            amount=4550,
            occurred_at=yesterday + timedelta(hours=2),
        ),
    )


def figure(page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"]').get_attribute("data-value")


def test_a_merchants_round_of_the_dashboard(page, log_in, screenshot, shop):
    storefront = shop.storefront
    sales = LostSale.objects.for_storefront(storefront)
    log_in(shop.owner)

    # The overview's numbers are the database's.
    page.goto("/app/alpha/")
    assert figure(page, "failed_count") == str(sales.count()) == "5"
    for status in ("open", "recovered", "lost"):
        assert figure(page, f"{status}_count") == str(sales.filter(status=status).count())
    recovered = sum(
        sale.recovered_amount or sale.amount for sale in sales.filter(status="recovered")
    )
    assert figure(page, "recovered_revenue") == str(recovered) == "4550"
    screenshot(page, "overview")

    # Filter the lost sales by reason, open one, stop its emails.
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Lost sales").click()
    screenshot(page, "lost-sales")
    page.get_by_label("Reason").select_option("insufficient_funds")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(1)
    assert "ML-101" in rows.first.inner_text()
    rows.first.get_by_role("link", name="ML-101").click()
    sale = sales.get(order_reference="ML-101")
    scheduled = Message.objects.for_storefront(storefront).filter(
        group=sale.group, status=Message.Status.SCHEDULED, audience="buyer"
    )
    assert scheduled.count() == 3
    screenshot(page, "lost-sale")
    page.get_by_role("button", name="Stop the recovery emails").click()
    expect(page.get_by_role("status").first).to_contain_text("scheduled emails stopped")
    assert scheduled.count() == 0

    # A bad value in a setting is explained next to its field, and nothing is saved.
    before = RecoveryPolicy.for_storefront(storefront).email_delay_minutes
    page.goto("/app/alpha/settings/recovery/")
    page.get_by_label("When to send the emails (minutes after the failure)").fill("24 h, 1 h")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("increasing order").first).to_be_visible()
    screenshot(page, "settings-recovery-error")
    assert RecoveryPolicy.objects.for_storefront(storefront).get().email_delay_minutes == before

    # Rotate Stripe's secret: add the new one, both work, revoke the old, test the new.
    secrets = ProviderSecret.objects.for_storefront(storefront).filter(
        provider="stripe", revoked_at__isnull=True
    )
    old = secrets.get()
    page.goto("/app/alpha/settings/providers/")
    stripe = page.locator("#provider-stripe")
    stripe.get_by_label("Signing secret").fill("whsec_newnewnewnewnewnewnew1")
    stripe.get_by_role("button", name="Add the new secret").click()
    stripe = page.locator("#provider-stripe")
    expect(stripe.get_by_text("Rotation in progress")).to_be_visible()
    assert secrets.count() == 2
    page.once("dialog", lambda dialog: dialog.accept())
    stripe.locator(f'form[action$="/secrets/{old.pk}/revoke/"] button').click()
    page.wait_for_load_state()
    expect(stripe.locator(f'form[action$="/secrets/{old.pk}/revoke/"]')).to_have_count(0)
    assert [s.hint for s in secrets] == [secrets.get().hint] and secrets.get().pk != old.pk
    page.locator("#provider-stripe").get_by_role("button", name="Send a test event").click()
    expect(page.locator("#test-result").get_by_text("Test event accepted.")).to_be_visible()
    assert "whsec_newnewnewnewnewnewnew1" not in page.content()
    screenshot(page, "settings-providers")

    # Upload a CSV with one bad row: the good rows are in, the bad one is named.
    page.goto("/app/alpha/shipments/import/")
    page.get_by_label("CSV file").set_input_files(
        files=[
            {"name": "shipments.csv", "mimeType": "text/csv", "buffer": CSV_ONE_BAD_ROW.encode()}
        ]
    )
    page.get_by_role("button", name="Import").click()
    report = page.locator("main")
    expect(report).to_contain_text("buyer_email: Enter a valid email address.")
    screenshot(page, "shipments-import")
    numbers = set(
        Shipment.objects.for_storefront(storefront).values_list("order_reference", flat=True)
    )
    assert numbers == {"ML-201", "ML-203"}

    # Every change above left its line in the audit log.
    actions = set(AuditLog.objects.for_storefront(storefront).values_list("action", flat=True))
    assert {"shipments.imported"} <= actions
    page.goto("/app/alpha/settings/audit/")
    screenshot(page, "settings-audit")


def test_the_other_pages_render(page, log_in, screenshot, shop):
    """One screenshot of every other main page, on a laptop and, for two, on a phone."""
    log_in(shop.owner)
    sale = LostSale.objects.for_storefront(shop.storefront).get(order_reference="ML-101")
    message = Message.objects.for_storefront(shop.storefront).filter(group=sale.group).first()
    with transaction.atomic():
        shipment = shipments.create_shipment(
            shop.storefront,
            shipments.NewShipment(
                order_reference="ML-301",
                buyer_email="camille@example.com",
                tracking_number="6A12345678901",
            ),
        )
    for name, path in [
        ("shipment", f"/app/alpha/shipments/{shipment.pk}/"),
        ("settings-shipments", "/app/alpha/settings/shipments/"),
        ("settings-sending", "/app/alpha/settings/sending/"),
        ("settings-alerts", "/app/alpha/settings/alerts/"),
        ("messages", "/app/alpha/messages/"),
        ("message", f"/app/alpha/messages/{message.pk}/"),
        ("suppressions", "/app/alpha/suppressions/"),
        ("shipments", "/app/alpha/shipments/"),
        ("settings-brand", "/app/alpha/settings/brand/"),
        ("settings-members", "/app/alpha/settings/members/"),
        ("settings-api-keys", "/app/alpha/settings/api-keys/"),
        ("settings-security", "/app/alpha/settings/security/"),
        ("settings-two-factor", "/app/alpha/settings/two-factor/"),
        ("api-docs", "/api/docs/"),
    ]:
        response = page.goto(path)
        assert response.status == 200, path
        screenshot(page, name)
    page.set_viewport_size({"width": 390, "height": 844})
    for name, path in [
        ("phone-overview", "/app/alpha/"),
        ("phone-lost-sale", f"/app/alpha/lost-sales/{sale.pk}/"),
    ]:
        page.goto(path)
        # Nothing wider than the phone's screen: tables scroll inside their own box.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (name, page.evaluate(WIDER_THAN_THE_SCREEN))
        screenshot(page, name)


def test_a_french_merchant_sees_french(browser, live_server, screenshot, shop):
    from tests.conftest import PASSWORD

    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login/")
    page.get_by_label("E-mail").fill(shop.owner.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/app/alpha/")
    sections = page.get_by_role("navigation", name="Rubriques")
    links = sections.get_by_role("link").all_inner_texts()
    assert links == [
        "Alpha",
        "Vue d'ensemble",
        "Ventes perdues",
        "Expéditions",
        "E-mails",
        "Réglages",
    ]
    assert page.locator('[data-figure="recovered_revenue"]').inner_text() == "45,50\xa0€"
    screenshot(page, "overview-fr")
    page.goto("/app/alpha/settings/recovery/")
    screenshot(page, "settings-recovery-fr")
    context.close()
