"""`make demo`: the seeded history (seed_demo) and the trickle of live webhooks (demo_trickle).

The history is seeded once for the module (it takes seconds) into the test database, with DEBUG
forced on as the command requires, and removed afterwards; each test runs in its own
transaction over it, so what a test posts or processes is rolled back."""

import io
import json
import random
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from demo import checkouts, events, numbers, orders, trickle
from demo.history import seed
from demo.shop import DEMO_EMAIL, DEMO_PASSWORD, DEMO_SLUG, SECRETS
from inbound.models import InboundEvent
from notifications.models import Message, Suppression
from payments.classification import classify
from payments.models import DailyStat, LostSale, PaymentAttempt
from payments.providers.lyra import webhooks as lyra_webhooks
from payments.providers.stripe import samples as stripe
from payments.providers.stripe.webhooks import parse
from payments.reasons import MERCHANT_ONLY, FailureReason
from payments.services import ingest
from storefront_settings import connections
from storefront_settings.models import ProviderSecret, Storefront
from storefront_settings.selectors import active_provider_secrets
from tests.payments_helpers import signal
from tracking import carriers
from tracking.models import Shipment
from tracking.normalisation import normalise
from tracking.services import ingest as tracking_ingest
from tracking.services import shipments as tracking_shipments
from tracking.statuses import FINAL, ShipmentStatus


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(DEBUG=True):
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
    yield out.getvalue()
    with django_db_blocker.unblock():
        Storefront.objects.filter(slug=DEMO_SLUG).delete()
        get_user_model().objects.filter(username=DEMO_EMAIL).delete()


@pytest.fixture
def shop(seeded, db):
    return Storefront.objects.get(slug=DEMO_SLUG)


def sales(shop):
    return LostSale.objects.for_storefront(shop)


# --- The history --------------------------------------------------------------------------------


def test_the_history_has_sales_for_every_reason_in_every_state(shop, seeded):
    assert "Demo history:" in seeded
    assert set(sales(shop).values_list("reason", flat=True)) == set(FailureReason.values)
    assert set(sales(shop).values_list("status", flat=True)) == {"open", "recovered", "lost"}
    recovered = sales(shop).filter(status="recovered")
    assert recovered.filter(recovered_after_click=True).exists()
    assert recovered.filter(recovered_after_click=False).exists()
    # Paid for the order itself, or with a new order in its place (the number after it).
    assert recovered.filter(recovered_by="same_order").exists()
    replaced = recovered.filter(recovered_by="another_order").select_related("recovered_by_payment")
    assert replaced.exists()
    for sale in replaced:
        number = int(sale.order_reference.removeprefix("ML-"))
        assert sale.recovered_by_payment.order_reference == f"ML-{number + 1}"
        assert sale.recovered_by_payment.buyer_email == sale.buyer_email
    assert sales(shop).filter(attempts__gt=1).exists()
    assert sales(shop).filter(buyer_email="").exists()  # unreachable buyers
    # Lost by the merchant's hand and by the recovery window.
    actions = shop.audit_logs.filter(action="lost_sale.marked_lost")
    assert actions.filter(actor__isnull=False).exists()
    assert actions.filter(actor__isnull=True).exists()
    # The overview's daily statistics are built from the backdated sales.
    assert DailyStat.objects.for_storefront(shop).filter(day__lt=timezone.localdate()).exists()
    # Nothing older than the recovery window is left open (the hourly expiry would close it).
    window = timezone.now() - timezone.timedelta(days=7)
    assert not sales(shop).filter(status="open", first_failed_at__lt=window).exists()


def test_the_history_spreads_its_sales_over_the_shops_payment_providers(shop):
    for provider in checkouts.MIX:
        rows = sales(shop).filter(provider=provider)
        assert rows.count() >= 3, provider
        assert not rows.filter(reason="").exists(), provider
        assert rows.filter(status="recovered").exists(), provider
        # Failed and paid through the same provider, whichever order paid.
        for sale in rows.filter(status="recovered").select_related("recovered_by_payment"):
            assert sale.recovered_by_payment.provider == provider
    # Stripe takes the largest share, and the reasons other providers have no code for.
    counts = {p: sales(shop).filter(provider=p).count() for p in checkouts.MIX}
    assert max(counts, key=counts.get) == "stripe"
    assert sales(shop).count() == sum(counts.values())
    # Each attempt carries its own provider's codes, as that provider's parser keeps them.
    keys = {
        "payplug": {"failure_code"},
        "mollie": {"status", "method"},
        "paypal": {"event_type"},
        "lyra": {"status"},
    }
    for provider, expected in keys.items():
        attempts = PaymentAttempt.objects.for_storefront(shop).filter(payment__provider=provider)
        assert attempts.exists(), provider
        assert all(expected <= set(codes) for codes in attempts.values_list("codes", flat=True))


def test_every_providers_events_were_stored_as_their_path_stores_them_and_processed(shop):
    stored = InboundEvent.objects.for_storefront(shop)
    assert not stored.filter(status=InboundEvent.Status.FAILED).exists()
    assert set(stored.values_list("status", flat=True)) == {InboundEvent.Status.PROCESSED}
    assert set(checkouts.MIX) <= set(stored.values_list("provider", flat=True))
    # PayPlug and Mollie: the event the worker stores after its fetch.
    for provider, prefix in (("payplug", "pay_"), ("mollie", "tr_")):
        for event in stored.filter(provider=provider):
            payment_id, state = event.event_id.split(":", 1)
            assert payment_id.startswith(prefix) and event.event_type == state
            assert state in ("paid", "expired") or state.startswith("failed")
            body = json.loads(event.body)
            assert set(body) == {"notified_at", "object"}
            assert body["object"]["payment"]["id"] == payment_id
    # Lyra: the signed IPN as the edge stores it, which the demo's secret verifies.
    for event in stored.filter(provider="lyra"):
        notification = lyra_webhooks.verify(event.body.encode(), [SECRETS["lyra"]])
        assert lyra_webhooks.event_id(notification) == event.event_id
    # PayPal: the event, without the signature only PayPal can make.
    for event in stored.filter(provider="paypal"):
        assert json.loads(event.body)["id"] == event.event_id
        assert "Paypal-Transmission-Sig" not in event.headers


@override_settings(DEBUG=True)
def test_the_dashboard_shows_each_provider_connected_and_its_lost_sales(client, shop):
    client.force_login(get_user_model().objects.get(username=DEMO_EMAIL))
    labels = {provider: connections.get(provider).label for provider in checkouts.MIX}
    page = client.get(f"/app/{shop.slug}/settings/providers/").content.decode()
    for provider in checkouts.MIX:
        section = page.split(f'id="provider-{provider}"')[1].split("</section>")[0]
        assert "No active secret" not in section, provider
        assert "Active secrets" in section
    listed, number = set(), 1
    while number:
        response = client.get(f"/app/{shop.slug}/lost-sales/", {"page": number})
        assert response.status_code == 200
        body = response.content.decode()
        listed |= {p for p, label in labels.items() if f"<td>{label}</td>" in body}
        number = number + 1 if f"page={number + 1}" in body else 0
    assert listed == set(labels)


def test_the_history_spans_six_weeks_in_the_past(shop):
    now = timezone.now()
    first = sales(shop).order_by("first_failed_at").first()
    assert now - first.first_failed_at > timezone.timedelta(days=35)
    for model, field in (
        (LostSale, "created_at"),
        (Message, "created_at"),
        (InboundEvent, "received_at"),
        (Shipment, "created_at"),
    ):
        rows = model.objects.for_storefront(shop)
        assert not rows.filter(**{f"{field}__gt": now}).exists()
        # Backdated: the seed ran seconds ago, the rows say weeks.
        assert rows.filter(**{f"{field}__lt": now - timezone.timedelta(days=20)}).exists()
    assert not sales(shop).filter(lost_at__gt=now - timezone.timedelta(minutes=5)).exists()


def test_buyers_orders_and_amounts_look_real_and_are_invented(shop):
    for sale in sales(shop):
        assert re.fullmatch(r"ML-\d{5}", sale.order_reference)
        assert sale.currency == "EUR" and 1000 < sale.amount < 100000
        assert not sale.buyer_email or sale.buyer_email.split("@")[1] in orders.DOMAINS
        assert sale.buyer_name
    emails = Message.objects.for_storefront(shop).values_list("to", flat=True)
    assert {email.split("@")[1] for email in emails} <= set(orders.DOMAINS)


def test_shipments_in_every_status_stalled_and_late(shop):
    shipments = Shipment.objects.for_storefront(shop)
    assert set(shipments.values_list("status", flat=True)) == set(ShipmentStatus.values)
    assert shipments.filter(stalled_since__isnull=False).exists()
    assert shipments.filter(late_since__isnull=False).exists()
    assert shipments.filter(status="pending", stalled_since__isnull=False).exists()
    assert len(set(shipments.values_list("carrier", flat=True))) >= 5
    for shipment in shipments:
        assert carriers.guess(shipment.tracking_number) == shipment.carrier
        if shipment.status != "pending":
            times = list(
                shipment.checkpoints.order_by("occurred_at").values_list("occurred_at", flat=True)
            )
            assert times and times[-1] == shipment.status_at
    delivered = shipments.filter(status="delivered").first()
    assert delivered.checkpoints.count() >= 3


def test_the_outbox_holds_every_state_and_nothing_is_due_at_start(shop):
    messages = Message.objects.for_storefront(shop)
    statuses = set(messages.values_list("status", flat=True))
    assert {"sent", "cancelled", "suppressed", "scheduled"} <= statuses
    deliveries = set(messages.values_list("delivery", flat=True))
    assert {"delivered", "opened", "clicked", "bounced"} <= deliveries
    # The worker starts with nothing overdue: the past was sent in the past.
    now = timezone.now()
    assert not messages.filter(status="scheduled", next_attempt_at__lte=now).exists()
    sent = messages.filter(status="sent")
    assert not sent.filter(sent_at__gt=now).exists()
    assert not sent.filter(body_html="").exists()
    reasons = set(Suppression.objects.for_storefront(shop).values_list("reason", flat=True))
    assert {"bounced", "manual", "unsubscribed"} <= reasons


@override_settings(DEBUG=True)
def test_seeding_again_adds_nothing(shop):
    counts = [sales(shop).count(), Shipment.objects.for_storefront(shop).count()]
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo history" not in out.getvalue()
    assert [sales(shop).count(), Shipment.objects.for_storefront(shop).count()] == counts
    assert Storefront.objects.filter(slug=DEMO_SLUG).count() == 1


@override_settings(DEBUG=True)
def test_seeding_again_connects_what_a_demo_storefront_made_earlier_lacks(shop):
    secrets = ProviderSecret.objects.for_storefront(shop)
    secrets.filter(provider="mollie").update(revoked_at=timezone.now())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert active_provider_secrets(storefront=shop, provider="mollie") == [SECRETS["mollie"]]
    assert "Demo secret added for mollie." in out.getvalue()
    assert "for payplug" not in out.getvalue()  # an active secret is kept as it is
    assert secrets.filter(provider="payplug").count() == 1


@override_settings(DEBUG=True)
def test_the_demo_login_goes_straight_into_the_dashboard(client, shop, fresh_cache):
    # No second factor asked: the demo storefront does not require one, nor has its merchant.
    assert not shop.require_two_factor
    response = client.post(
        "/login/", {"username": DEMO_EMAIL, "password": DEMO_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/app/{shop.slug}/"
    assert response.status_code == 200


def test_wipe_removes_a_storefronts_history_and_keeps_the_storefront(make_tenant):
    tenant = make_tenant("Aurora", "whsec_auroraauroraaurora")
    ingest.apply_signal(storefront=tenant.storefront, signal=signal())
    tracking_shipments.create_shipment(
        tenant.storefront,
        tracking_shipments.NewShipment(
            "ML-1", "camille@example.com", tracking_number="6A12345678901"
        ),
    )
    assert seed.has_history(tenant.storefront)
    seed.wipe(tenant.storefront)
    assert not seed.has_history(tenant.storefront)
    assert not Message.objects.for_storefront(tenant.storefront).exists()
    assert not DailyStat.objects.for_storefront(tenant.storefront).exists()
    assert Storefront.objects.filter(pk=tenant.storefront.pk).exists()


# --- What the events are made of ------------------------------------------------------------


@pytest.mark.parametrize("reason", FailureReason.values)
def test_each_reasons_stripe_codes_classify_as_that_reason(reason):
    rng = random.Random(1)
    order = orders.make_order(rng, "ML-10001")
    for codes in stripe.FAILURES[reason]:
        payment = stripe.new_payment(rng)
        event = events.stripe_failure(rng, order, payment, codes, timezone.now())
        parsed = parse(event)
        assert classify(parsed.provider, parsed.codes, parsed.kind) == reason, codes
        assert parsed.order_reference == "ML-10001" and parsed.amount == order.amount


@pytest.mark.parametrize("reason", FailureReason.values)
@pytest.mark.parametrize("provider", list(checkouts.MIX))
def test_each_providers_events_for_a_reason_read_back_as_that_reason(provider, reason):
    rng = random.Random(1)
    order = orders.make_order(rng, "ML-10001")
    checkout = checkouts.CHECKOUTS[provider]
    variants = checkout.variants(reason)
    if variants is None:
        # A reason the provider has no code for goes through Stripe.
        assert provider != "stripe"
        drawn = {checkouts.checkout_for(random.Random(n), reason) for n in range(40)}
        assert checkout not in drawn and checkouts.StripeCheckout in drawn
        return
    adapter = connections.get(provider).adapter
    for variant in variants:
        stored = checkout(rng, order).failure(rng, variant, timezone.now())
        assert stored.provider == provider
        (parsed,) = (stored.read or adapter.signals)(stored.body)
        assert classify(provider, parsed.codes, parsed.kind) == reason, variant
        assert parsed.order_reference == "ML-10001" and parsed.amount == order.amount
        assert parsed.buyer_email == order.buyer.email
    (paid,) = adapter.signals(checkout(rng, order).success(rng, timezone.now()).body)
    assert paid.kind == "succeeded" and paid.order_reference == "ML-10001"


def test_every_provider_has_codes_for_most_reasons_and_stripe_for_all():
    assert all(checkouts.StripeCheckout.variants(reason) for reason in FailureReason.values)
    for provider, checkout in checkouts.CHECKOUTS.items():
        covered = [r for r in FailureReason.values if checkout.variants(r) is not None]
        assert len(covered) >= 8, provider


@pytest.mark.parametrize("carrier", sorted(numbers.NUMBER_MAKERS))
def test_tracking_numbers_pass_their_carriers_check_digit(carrier):
    rng = random.Random(7)
    for _ in range(40):
        number = numbers.tracking_number(rng, carrier)
        formats = [f for f in carriers.FORMATS if f.carrier == carrier]
        matching = [f for f in formats if f.pattern.fullmatch(number)]
        assert matching, number
        assert any(f.check is None or f.check(number) for f in matching), number
        assert carriers.detect(number)[0] == carrier


@pytest.mark.parametrize("source", ["easypost", "aftership"])
def test_status_words_read_back_as_the_same_status(source):
    for status, (raw, detail) in events.SAMPLES[source].WORDS.items():
        assert normalise(source, raw, detail) == status


# --- The trickle --------------------------------------------------------------------------------


def client_sender(client):
    def send(method, path, body, headers):
        response = client.generic(
            method, path, data=body or b"", content_type="application/json", headers=headers
        )
        return response.status_code

    return send


def process(event: InboundEvent) -> str:
    if event.provider in trickle.TRICKLED:
        return ingest.process_inbound_event(event_id=event.pk)
    return tracking_ingest.process_inbound_event(event_id=event.pk)


def test_every_kind_of_trickle_event_is_accepted_by_the_real_endpoint(client, shop):
    seen = set()
    rng = random.Random(3)
    # Forty events, and more until a recovery after a click has come up: the draws depend on
    # the history, which depends on the day it is seeded, and that is one event in thirteen.
    # Lyra's share of the new sales makes its refusal come up too.
    for count in range(200):
        if (
            count >= 40
            and ("stripe", "payment_intent.succeeded", True) in seen
            and ("lyra", "rest.REFUSED", False) in seen
        ):
            break
        event = trickle.build_event(shop, rng, timezone.now())
        before = InboundEvent.objects.for_storefront(shop).count()
        send = client_sender(client)
        if event.click_path:
            assert send("GET", event.click_path, None, {}) == 302
        assert send("POST", event.path, event.body, event.headers) == 200
        stored = InboundEvent.objects.for_storefront(shop).order_by("-pk").first()
        assert InboundEvent.objects.for_storefront(shop).count() == before + 1
        assert (stored.provider, stored.event_type) == (event.provider, event.event_type)
        assert process(stored) == "processed"
        seen.add((event.provider, event.event_type, bool(event.click_path)))
    kinds = {(provider, kind) for provider, kind, _ in seen}
    assert ("stripe", "payment_intent.payment_failed") in kinds
    assert ("stripe", "payment_intent.succeeded") in kinds
    assert ("easypost", "tracker.updated") in kinds
    assert ("aftership", "tracking_update") in kinds
    assert ("lyra", "rest.REFUSED") in kinds
    assert ("stripe", "payment_intent.succeeded", True) in seen


def test_a_recovery_after_the_link_is_recorded_as_recovered_after_click(client, shop):
    rng = random.Random(0)
    event = None
    while event is None or not event.click_path:
        event = trickle._recovery(shop, rng, timezone.now())
    send = client_sender(client)
    assert send("GET", event.click_path, None, {}) == 302
    assert send("POST", event.path, event.body, event.headers) == 200
    process(InboundEvent.objects.for_storefront(shop).order_by("-pk").first())
    sale = sales(shop).get(order_reference=event.label)
    assert sale.status == "recovered" and sale.recovered_after_click


def test_lyra_ipns_trickle_in_signed_and_fail_try_again_and_recover_a_sale(
    client, shop, monkeypatch
):
    monkeypatch.setattr(trickle, "TRICKLED", ("lyra",))
    monkeypatch.setattr(trickle, "LYRA_SHARE", 1.0)
    rng, send = random.Random(6), client_sender(client)

    def post_and_process(event):
        assert event.provider == "lyra"
        assert send("POST", event.path, event.body, event.headers) == 200
        stored = InboundEvent.objects.for_storefront(shop).order_by("-pk").first()
        assert (stored.provider, stored.event_type) == ("lyra", event.event_type)
        assert process(stored) == "processed"
        return sales(shop).get(order_reference=event.label)

    # A sale the buyer can be written to, and that a refusal can follow again.
    sale = None
    while (
        sale is None
        or not sale.buyer_email
        or sale.reason in {*MERCHANT_ONLY, FailureReason.ABANDONED}
    ):
        event = trickle._new_failure(shop, rng, timezone.now())
        if event.provider == "lyra":  # a reason Lyra has a code for
            sale = post_and_process(event)
            assert (sale.provider, sale.status) == ("lyra", "open")
    again = None
    while again is None:
        again = trickle._another_attempt(shop, rng, timezone.now())
    attempts = sales(shop).get(order_reference=again.label).attempts
    assert post_and_process(again).attempts == attempts + 1
    paid = trickle._recovery(shop, rng, timezone.now())
    if paid.click_path:
        assert send("GET", paid.click_path, None, {}) == 302
    recovered = post_and_process(paid)
    assert (recovered.provider, recovered.status) == ("lyra", "recovered")


def test_a_parcel_update_moves_the_parcel_one_step_and_repeats_no_checkpoint(client, shop):
    rng = random.Random(5)
    event = trickle._parcel_update(shop, rng, timezone.now())
    number, status = event.label.split()
    shipment = Shipment.objects.for_storefront(shop).get(tracking_number=number)
    checkpoints = shipment.checkpoints.count()
    assert client_sender(client)("POST", event.path, event.body, event.headers) == 200
    assert process(InboundEvent.objects.for_storefront(shop).order_by("-pk").first()) == (
        "processed"
    )
    shipment.refresh_from_db()
    assert shipment.status == status
    assert shipment.checkpoints.count() == checkpoints + 1


def test_new_orders_get_new_references_before_the_worker_has_seen_the_last_one(shop):
    rng = random.Random(8)
    first = trickle._new_failure(shop, rng, timezone.now())
    second = trickle._new_failure(shop, rng, timezone.now())
    assert first.label != second.label
    assert not sales(shop).filter(order_reference__in=[first.label, second.label]).exists()


def test_a_wrongly_signed_event_is_refused(client, shop):
    event = trickle.build_event(shop, random.Random(2), timezone.now())
    tampered = event.body.replace(b"ML-", b"MX-")
    assert client_sender(client)("POST", event.path, tampered, event.headers) == 400


def test_one_tick_posts_one_event_and_logs_it(client, shop):
    before = InboundEvent.objects.for_storefront(shop).count()
    line = trickle.tick(shop, random.Random(11), client_sender(client))
    assert line.endswith("→ 200")
    assert line.split()[0] in {"stripe", "lyra", "easypost", "aftership"}
    assert InboundEvent.objects.for_storefront(shop).count() == before + 1


def test_the_trickle_leaves_stalled_parcels_alone(shop):
    stalled = set(
        Shipment.objects.for_storefront(shop)
        .filter(stalled_since__isnull=False)
        .values_list("tracking_number", flat=True)
    )
    rng = random.Random(4)
    for _ in range(30):
        event = trickle._parcel_update(shop, rng, timezone.now())
        assert event.label.split()[0] not in stalled
    moving = Shipment.objects.for_storefront(shop).exclude(status__in=sorted(FINAL))
    assert moving.exists()


@override_settings(DEBUG=False)
def test_the_trickle_runs_with_debug_on_only():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_trickle", "--every", "1")
