"""The PayPal connection end to end: the edge stores each event with its signature headers, the
worker has PayPal verify it (a stand-in of PayPal's API at the HTTP boundary,
tests/paypal_stand_in.py), asks the order for the buyer, and applies it."""

import json
import random
import time

import pytest
import responses

from inbound import services as inbound
from inbound.models import InboundEvent
from inbound.tasks import process_inbound_event
from notifications.models import Message
from payments.models import LostSale, Payment
from payments.providers.paypal import samples, webhooks
from storefront_settings.models import AuditLog, ProviderSecret
from storefront_settings.services import credentials
from tests.conftest import wait_for
from tests.paypal_stand_in import LIVE, SANDBOX, StandIn

STAND_IN = "https://paypal.stand-in.test"
ORDER = samples.Order(
    "ML-1042", 8900, email="camille@example.com", given_name="Camille", surname="Martin"
)


@pytest.fixture(autouse=True)
def _quick_retries_and_own_cache(monkeypatch, fresh_cache):
    # urllib3 sleeps between retries; what is tested is their count. Each test has its own
    # cache prefix, so no token cached by another test is found.
    monkeypatch.setattr("urllib3.util.retry.Retry.sleep", lambda self, response=None: None)


@pytest.fixture
def paypal(settings):
    """PayPal's live API, its sandbox and a stand-in base, answered by one StandIn."""
    settings.PAYPAL_API_BASE = ""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield StandIn().install(mock, bases=(LIVE, SANDBOX, STAND_IN))


@pytest.fixture
def shop(alpha, paypal):
    """Alpha with a live REST app and its webhook; the app's orders are the stand-in's."""
    app = paypal.app("Alpha")
    credentials.add_provider_secret(
        storefront=alpha.storefront, provider="paypal", secret=app.secret()
    )
    alpha.app = app
    return alpha


class Sale:
    """One order's payment through PayPal: its events as PayPal delivers them to a webhook."""

    def __init__(self, paypal: StandIn, app, order=ORDER, *, seed=1, sandbox=False):
        self.rng = random.Random(seed)
        self.order, self.app, self.sandbox = order, app, sandbox
        self.payment = samples.new_payment(self.rng)
        paypal.order(app, samples.order_resource(order, self.payment, "VOIDED"))
        self.at = int(time.time()) - 600

    def failure(self, codes=None, **kwargs) -> dict:
        self.at += 60
        codes = codes if codes is not None else {"response_code": "5120"}
        return samples.failure(self.rng, self.order, self.payment, codes, at=self.at, **kwargs)

    def success(self) -> dict:
        self.at += 60
        return samples.success(self.rng, self.order, self.payment, at=self.at)

    def delivered(self, event: dict, webhook_id: str | None = None):
        webhook = webhook_id or next(iter(self.app.webhook_ids))
        return samples.delivered(event, webhook, now=self.at, sandbox=self.sandbox, rng=self.rng)


def post(client, storefront, delivered):
    headers = {k: v for k, v in delivered.headers.items() if k != "Content-Type"}
    return client.post(
        f"/webhooks/paypal/{storefront.public_id}/",
        data=delivered.body,
        content_type="application/json",
        headers=headers,
    )


def deliver(client, storefront, sale: Sale, event: dict, **kwargs) -> InboundEvent:
    response = post(client, storefront, sale.delivered(event, **kwargs))
    assert response.status_code == 200, response.content
    return stored(storefront).get(event_id=event["id"])


def work(event: InboundEvent) -> str:
    return process_inbound_event.apply(args=[event.pk, "paypal"]).get()


def stored(storefront):
    return InboundEvent.objects.for_storefront(storefront)


def sales(storefront):
    return LostSale.objects.for_storefront(storefront)


def recovery_emails(storefront):
    return Message.objects.for_storefront(storefront).filter(kind="payment_recovery")


def reloaded(event: InboundEvent) -> InboundEvent:
    event.refresh_from_db()
    return event


# --- The edge -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_event_is_stored_raw_with_its_signature_headers_and_acknowledged(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    event = sale.failure()
    delivered = sale.delivered(event)
    response = post(client, shop.storefront, delivered)
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    row = stored(shop.storefront).get()
    assert (row.event_id, row.event_type, row.status) == (
        event["id"],
        "PAYMENT.CAPTURE.DECLINED",
        "received",
    )
    assert row.body == delivered.body.decode()
    # The five headers the worker's postback needs, with the body; nothing else PayPal sends.
    kept = {name.lower(): value for name, value in row.headers.items()}
    sent = {name.lower(): value for name, value in delivered.headers.items()}
    del sent["paypal-auth-version"]
    assert kept == sent
    assert paypal.calls == []  # nothing is asked of PayPal in the request


@pytest.mark.django_db
def test_paypal_retrying_an_event_stores_it_once(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    event = sale.failure()
    post(client, shop.storefront, sale.delivered(event))
    # PayPal's retry: the same event, another transmission.
    again = post(client, shop.storefront, sale.delivered(event))
    assert again.json() == {"received": True, "duplicate": True}
    assert stored(shop.storefront).count() == 1


def test_a_flood_of_forged_events_is_cut_off_before_paypal_is_asked(client, shop, paypal, settings):
    # Each stored event costs a postback with the merchant's credentials: a flood of forgeries
    # is refused at the edge, past the storefront's allowance.
    settings.UNVERIFIED_WEBHOOKS_PER_MINUTE = 2
    sale = Sale(paypal, shop.app)
    answers = [post(client, shop.storefront, sale.delivered(sale.failure())) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[2].json() == {"error": "too many notifications; try again in a minute"}
    assert stored(shop.storefront).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", ["PAYMENT.CAPTURE.PENDING", "CHECKOUT.ORDER.APPROVED"])
def test_an_event_type_we_do_not_read_is_answered_and_stored_nowhere(
    client, shop, paypal, event_type
):
    sale = Sale(paypal, shop.app)
    event = {**sale.failure(), "event_type": event_type}
    response = post(client, shop.storefront, sale.delivered(event))
    assert response.status_code == 200
    assert response.json() == {"received": True, "ignored": True}
    assert not stored(shop.storefront).exists()


def _without(header):
    def change(body, headers):
        return body, {k: v for k, v in headers.items() if k != header}

    return change


def _body(new_body):
    return lambda body, headers: (new_body, headers)


def _event(**changes):
    def change(body, headers):
        event = {**json.loads(body), **changes}
        return json.dumps({k: v for k, v in event.items() if v is not None}).encode(), headers

    return change


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_without("PAYPAL-TRANSMISSION-ID"), "missing PAYPAL-TRANSMISSION-ID"),
        (_without("PAYPAL-TRANSMISSION-TIME"), "missing PAYPAL-TRANSMISSION-TIME"),
        (_without("PAYPAL-TRANSMISSION-SIG"), "missing PAYPAL-TRANSMISSION-SIG"),
        (_without("PAYPAL-CERT-URL"), "missing PAYPAL-CERT-URL"),
        (_without("PAYPAL-AUTH-ALGO"), "missing PAYPAL-AUTH-ALGO"),
        (_body(b"not json"), "body is not valid JSON"),
        (_body(b"[]"), "body is not a JSON object"),
        (_body(b"\xff\xfe"), "body is not UTF-8"),
        (_event(id=None), "no PayPal event id (WH-…)"),
        (_event(id="8PT597110X687430LKGECATA"), "no PayPal event id (WH-…)"),
        (_event(id="WH-1 2"), "no PayPal event id (WH-…)"),
        (_event(event_type=None), "no event_type"),
        (_event(event_type=" "), "no event_type"),
    ],
)
def test_a_bad_request_is_400_and_stores_nothing(client, shop, paypal, change, reason):
    sale = Sale(paypal, shop.app)
    delivered = sale.delivered(sale.failure())
    body, headers = change(delivered.body, delivered.headers)
    response = post(client, shop.storefront, type(delivered)(body, headers))
    assert response.status_code == 400
    assert response.json() == {"error": reason}
    assert not stored(shop.storefront).exists()


@pytest.mark.django_db
def test_without_an_active_paypal_secret_the_edge_refuses(client, shop, paypal):
    secret = ProviderSecret.objects.for_storefront(shop.storefront).get(provider="paypal")
    credentials.revoke_provider_secret(storefront=shop.storefront, provider_secret=secret)
    sale = Sale(paypal, shop.app)
    response = post(client, shop.storefront, sale.delivered(sale.failure()))
    assert response.status_code == 400
    assert response.json() == {"error": "no PayPal credentials configured"}
    assert not stored(shop.storefront).exists()


@pytest.mark.django_db(transaction=True)
def test_the_test_button_is_answered_and_ignored_without_asking_paypal(
    client, live_server, shop, paypal, settings
):
    settings.SITE_URL = live_server.url
    client.force_login(shop.owner)
    # Posted over real HTTP (urllib, which the stand-in's mock does not intercept).
    response = client.post("/app/alpha/settings/providers/paypal/test/")
    body = response.content.decode()
    assert "Test event accepted." in body
    assert "received and ignored, as a test event should be" in body
    assert not stored(shop.storefront).exists()
    assert paypal.calls == []
    sent = AuditLog.objects.for_storefront(shop.storefront).get(action="webhook.test_sent")
    assert sent.detail == {"provider": "paypal", "status": 200, "accepted": True}


@pytest.mark.django_db
def test_the_connections_page_shows_paypal_with_its_guide(client, shop):
    client.force_login(shop.owner)
    page = client.get("/app/alpha/settings/providers/").content.decode()
    assert f"/webhooks/paypal/{shop.storefront.public_id}/" in page
    assert "Apps &amp; Credentials" in page and "Add webhook" in page
    assert "CHECKOUT.PAYMENT-APPROVAL.REVERSED" in page
    assert "verify-webhook-signature API" in page  # the test guide: the sandbox is the test
    assert "client id:secret:webhook id" in page


# --- The worker: verified, then applied -----------------------------------------------------------


@pytest.mark.django_db
def test_a_declined_capture_becomes_a_lost_sale_with_its_reason_and_recovery_emails(
    client, shop, paypal
):
    sale = Sale(paypal, shop.app)
    event = deliver(client, shop.storefront, sale, sale.failure({"response_code": "5120"}))
    assert work(event) == "processed"
    assert reloaded(event).status == "processed"
    lost = sales(shop.storefront).get()
    assert (lost.provider, lost.reason, lost.order_reference) == (
        "paypal",
        "insufficient_funds",
        "ML-1042",
    )
    assert (lost.amount, lost.currency) == (8900, "EUR")
    # The capture names no buyer: the order does.
    assert (lost.buyer_email, lost.buyer_name) == ("camille@example.com", "Camille Martin")
    assert lost.codes["response_code"] == "5120"
    assert recovery_emails(shop.storefront).count() == 3
    assert [e for _, e in paypal.calls] == ["token", "verify", "order"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("codes", "reason"),
    [
        ({"response_code": "5400"}, "card_expired"),
        ({"response_code": "5650"}, "authentication_failed"),
        ({"response_code": "9500"}, "suspected_fraud"),
        ({"status_reason": "PENDING_REVIEW"}, "suspected_fraud"),
        ({}, "bank_declined"),
    ],
)
def test_each_failure_gets_its_reason(client, shop, paypal, codes, reason):
    sale = Sale(paypal, shop.app)
    event = deliver(client, shop.storefront, sale, sale.failure(codes))
    assert work(event) == "processed"
    assert sales(shop.storefront).get().reason == reason


@pytest.mark.django_db
def test_a_completed_capture_recovers_the_sale_and_cancels_its_emails(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    failed = deliver(client, shop.storefront, sale, sale.failure())
    paid = deliver(client, shop.storefront, sale, sale.success())
    assert work(failed) == "processed"
    calls = len(paypal.calls)
    assert work(paid) == "processed"
    lost = sales(shop.storefront).get()
    assert (lost.status, lost.recovered_amount) == ("recovered", 8900)
    assert not recovery_emails(shop.storefront).filter(status="scheduled").exists()
    # The success is verified too, with the cached token, and needs no order.
    assert [e for _, e in paypal.calls[calls:]] == ["verify"]
    assert Payment.objects.for_storefront(shop.storefront).count() == 1  # linked by the order id


@pytest.mark.django_db
def test_paid_processed_before_the_failure_ends_recovered(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    failed = deliver(client, shop.storefront, sale, sale.failure())
    paid = deliver(client, shop.storefront, sale, sale.success())
    assert work(paid) == "processed"
    assert work(failed) == "processed"
    assert sales(shop.storefront).get().status == "recovered"
    assert not recovery_emails(shop.storefront).filter(status="scheduled").exists()


@pytest.mark.django_db
def test_an_event_processed_twice_is_applied_once(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    event = deliver(client, shop.storefront, sale, sale.failure())
    assert work(event) == "processed"
    assert work(event) == "skipped"
    assert sales(shop.storefront).count() == 1
    assert recovery_emails(shop.storefront).count() == 3


@pytest.mark.django_db
def test_an_approval_reversed_is_the_shops_failure_and_reaches_no_buyer(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    event = deliver(client, shop.storefront, sale, sale.failure({"reversed": True}))
    assert work(event) == "processed"
    lost = sales(shop.storefront).get()
    assert (lost.reason, lost.order_reference, lost.amount) == (
        "merchant_configuration",
        "ML-1042",
        8900,
    )
    assert lost.buyer_email == "camille@example.com"  # from the order, for the merchant to see
    assert not recovery_emails(shop.storefront).exists()  # merchant only
    assert (
        Message.objects.for_storefront(shop.storefront)
        .filter(kind="merchant_failed_payment_alert")
        .exists()
    )


@pytest.mark.django_db
def test_a_buyer_the_event_names_is_not_asked_of_the_order(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    resource = samples.reversed_approval(ORDER, sale.payment, with_payer=True)
    event = samples.event(sale.rng, webhooks.APPROVAL_REVERSED, resource, at=sale.at)
    assert work(deliver(client, shop.storefront, sale, event)) == "processed"
    assert sales(shop.storefront).get().buyer_email == "camille@example.com"
    assert paypal.count("order") == 0


@pytest.mark.django_db
def test_an_order_paypal_will_not_show_leaves_the_buyer_unknown(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    paypal.orders.clear()
    event = deliver(client, shop.storefront, sale, sale.failure())
    assert work(event) == "processed"
    lost = sales(shop.storefront).get()
    assert (lost.reason, lost.buyer_email) == ("insufficient_funds", "")
    assert not recovery_emails(shop.storefront).exists()
    assert paypal.count("order") == 1


# --- Forged, unverifiable, another tenant's -------------------------------------------------------


def _tampered(delivered, **resource_changes):
    event = json.loads(delivered.body)
    event["resource"].update(resource_changes)
    return type(delivered)(json.dumps(event, separators=(",", ":")).encode(), delivered.headers)


@pytest.mark.django_db
def test_a_forged_event_is_rejected_and_changes_nothing(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    # A genuine delivery, altered: a success claimed for a payment that failed.
    genuine = sale.delivered(sale.success())
    forged = _tampered(genuine, amount={"currency_code": "EUR", "value": "1.00"})
    assert post(client, shop.storefront, forged).status_code == 200
    event = stored(shop.storefront).get()
    assert work(event) == "rejected"
    event = reloaded(event)
    assert event.status == InboundEvent.Status.REJECTED
    assert event.last_error.startswith("PayPal did not verify this event")
    assert not Payment.objects.for_storefront(shop.storefront).exists()
    assert not sales(shop.storefront).exists()
    assert paypal.count("order") == 0
    # The postback sent PayPal the event exactly as it came.
    assert forged.body in paypal.postbacks[0]


@pytest.mark.django_db
def test_an_event_with_a_made_up_signature_is_rejected(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    delivered = sale.delivered(sale.failure())
    delivered.headers["PAYPAL-TRANSMISSION-SIG"] = "bm90IGEgc2lnbmF0dXJl"
    post(client, shop.storefront, delivered)
    event = stored(shop.storefront).get()
    assert work(event) == "rejected"
    assert not sales(shop.storefront).exists()
    assert not Message.objects.for_storefront(shop.storefront).exists()


@pytest.mark.django_db
def test_another_shops_genuine_event_is_verified_with_this_shops_webhook_only(
    client, shop, bravo, paypal
):
    """Alpha's event posted to Bravo's URL: Bravo's app and webhook are the ones asked, and
    PayPal says the event was not sent to that webhook."""
    bravo_app = paypal.app("Bravo")
    credentials.add_provider_secret(
        storefront=bravo.storefront, provider="paypal", secret=bravo_app.secret()
    )
    sale = Sale(paypal, shop.app)
    event = deliver(client, bravo.storefront, sale, sale.failure())
    assert work(event) == "rejected"
    assert not sales(bravo.storefront).exists() and not sales(shop.storefront).exists()
    assert json.loads(paypal.postbacks[0])["webhook_id"] in bravo_app.webhook_ids
    assert not stored(shop.storefront).exists()


@pytest.mark.django_db
def test_headers_paypal_finds_malformed_are_a_failure_to_verify(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    event = deliver(client, shop.storefront, sale, sale.failure())
    paypal.outages["verify"] = [400]  # PayPal's VALIDATION_ERROR, not retried
    assert work(event) == "rejected"
    assert not sales(shop.storefront).exists()


@pytest.mark.django_db
def test_a_forgery_is_rejected_even_beside_a_secret_paypal_refuses(client, shop, paypal):
    """PayPal answered FAILURE for one secret's webhook: that is an answer about the event,
    whatever became of the other secret (refused credentials)."""
    stale = paypal.app("Stale")
    credentials.add_provider_secret(
        storefront=shop.storefront,
        provider="paypal",
        secret=f"{stale.client_id}:EStaleSecretAbcdefghijklmnop:{next(iter(stale.webhook_ids))}",
    )
    sale = Sale(paypal, shop.app)
    delivered = sale.delivered(sale.failure())
    delivered.headers["PAYPAL-TRANSMISSION-SIG"] = "bm90IGEgc2lnbmF0dXJl"
    post(client, shop.storefront, delivered)
    assert work(stored(shop.storefront).get()) == "rejected"


@pytest.mark.django_db
def test_every_active_secret_is_tried_so_rotation_works(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    newer = paypal.app("Newer")
    credentials.add_provider_secret(
        storefront=shop.storefront, provider="paypal", secret=newer.secret()
    )
    event = deliver(client, shop.storefront, sale, sale.failure())  # to the older app's webhook
    assert work(event) == "processed"
    webhook_ids = [json.loads(body)["webhook_id"] for body in paypal.postbacks]
    assert webhook_ids == [*newer.webhook_ids, *shop.app.webhook_ids]  # newest first
    # The order is asked with the app that verified the event.
    assert sales(shop.storefront).get().buyer_email == "camille@example.com"


@pytest.mark.django_db
def test_one_app_with_two_webhooks_each_a_secret(client, alpha, paypal):
    app = paypal.app("Twin", webhooks=2)
    first, second = sorted(app.webhook_ids)
    for webhook_id in (first, second):
        credentials.add_provider_secret(
            storefront=alpha.storefront, provider="paypal", secret=app.secret(webhook_id)
        )
    sale = Sale(paypal, app)
    event = deliver(client, alpha.storefront, sale, sale.failure(), webhook_id=first)
    assert work(event) == "processed"
    assert paypal.count("token") == 1  # one client id: one token for both


# --- PayPal's failures ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_paypal_down_then_up_is_retried_and_processed(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    event = deliver(client, shop.storefront, sale, sale.failure())
    # Every try of the first attempt (1 + urllib3's retries) answers 503.
    paypal.outages["verify"] = [503] * 4
    assert work(event) == "processed"  # the task's own retry
    event = reloaded(event)
    assert (event.status, event.attempts) == ("processed", 1)
    assert paypal.count("verify") == 5
    assert sales(shop.storefront).get().reason == "insufficient_funds"


@pytest.mark.django_db
def test_refused_credentials_fail_the_event_for_ops_naming_no_secret(client, alpha, paypal):
    app = paypal.app("Alpha")
    wrong = (
        f"{app.client_id}:EWrongSecretAbcdefghijklmnopqrstuvwxyz0123:{next(iter(app.webhook_ids))}"
    )
    credentials.add_provider_secret(storefront=alpha.storefront, provider="paypal", secret=wrong)
    sale = Sale(paypal, app)
    event = deliver(client, alpha.storefront, sale, sale.failure())
    assert work(event) == "failed"
    event = reloaded(event)
    assert (event.status, event.attempts) == ("failed", 1)  # permanent: not retried
    assert "refused the client id and secret of every active PayPal secret" in event.last_error
    assert f"…{next(iter(app.webhook_ids))[-4:]}" in event.last_error
    for part in wrong.split(":")[:2]:
        assert part not in event.last_error
    assert not sales(alpha.storefront).exists()
    assert paypal.count("verify") == 0


@pytest.mark.django_db
def test_a_secret_revoked_after_the_event_came_fails_it_for_ops(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    event = deliver(client, shop.storefront, sale, sale.failure())
    secret = ProviderSecret.objects.for_storefront(shop.storefront).get(provider="paypal")
    credentials.revoke_provider_secret(storefront=shop.storefront, provider_secret=secret)
    assert work(event) == "failed"
    assert reloaded(event).last_error == "NoCredentials: no PayPal secret to verify the event with"
    assert paypal.calls == []


@pytest.mark.django_db
def test_the_token_is_cached_under_a_key_that_holds_no_credential(client, shop, paypal):
    from django.core.cache import cache

    sale = Sale(paypal, shop.app)
    first = deliver(client, shop.storefront, sale, sale.failure())
    second = deliver(client, shop.storefront, sale, sale.success())
    assert work(first) == work(second) == "processed"
    assert paypal.count("token") == 1
    redis = cache._cache.get_client()
    keys = [key.decode() for key in redis.keys(f"*{cache.key_prefix}*paypal*")]
    assert len(keys) == 1
    assert shop.app.client_id not in keys[0] and shop.app.client_secret not in keys[0]
    # Kept until a minute before PayPal's nine hours run out.
    assert 32400 - 60 - 5 <= redis.ttl(keys[0]) <= 32400 - 60


@pytest.mark.django_db
def test_a_token_paypal_no_longer_takes_is_dropped_and_fetched_once_more(client, shop, paypal):
    sale = Sale(paypal, shop.app)
    first = deliver(client, shop.storefront, sale, sale.failure())
    second = deliver(client, shop.storefront, sale, sale.success())
    assert work(first) == "processed"
    paypal.revoke_tokens()
    assert work(second) == "processed"
    assert [e for _, e in paypal.calls] == [
        *["token", "verify", "order"],
        *["verify", "token", "verify"],
    ]
    assert sales(shop.storefront).get().status == "recovered"


# --- Sandbox and live -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_sandbox_event_is_verified_by_the_sandbox(client, alpha, paypal):
    app = paypal.app("Sandy", base=SANDBOX)
    credentials.add_provider_secret(
        storefront=alpha.storefront, provider="paypal", secret=app.secret()
    )
    sale = Sale(paypal, app, sandbox=True)
    event = deliver(client, alpha.storefront, sale, sale.failure())
    assert work(event) == "processed"
    assert sales(alpha.storefront).get().buyer_email == "camille@example.com"
    assert {base for base, _ in paypal.calls} == {SANDBOX}


@pytest.mark.django_db
def test_a_forged_sandbox_event_with_live_credentials_fails_verification(client, shop, paypal):
    """The event claims PayPal's sandbox sent it, so the sandbox is asked: it knows neither the
    live app nor its webhook. Nothing is processed, and the live API is never called."""
    sale = Sale(paypal, shop.app, sandbox=True)
    event = deliver(client, shop.storefront, sale, sale.failure())
    assert work(event) == "failed"
    event = reloaded(event)
    assert event.last_error.startswith("CredentialsRefused: PayPal's sandbox refused")
    assert not sales(shop.storefront).exists()
    assert {base for base, _ in paypal.calls} == {SANDBOX}


@pytest.mark.django_db
def test_a_set_api_base_wins_over_what_the_event_says(client, alpha, paypal, settings):
    settings.PAYPAL_API_BASE = STAND_IN
    app = paypal.app("Staged", base=STAND_IN)
    credentials.add_provider_secret(
        storefront=alpha.storefront, provider="paypal", secret=app.secret()
    )
    sale = Sale(paypal, app, sandbox=True)  # an event that names the sandbox
    assert work(deliver(client, alpha.storefront, sale, sale.failure())) == "processed"
    assert {base for base, _ in paypal.calls} == {STAND_IN}


# --- Through the real queue -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_through_the_dispatcher_and_a_real_worker(client, shop, paypal, celery_worker):
    sale = Sale(paypal, shop.app)
    failed = deliver(client, shop.storefront, sale, sale.failure())
    forged = _tampered(
        sale.delivered(sale.success()), amount={"currency_code": "EUR", "value": "1"}
    )
    assert post(client, shop.storefront, forged).status_code == 200
    assert inbound.dispatch() == 2
    wait_for(lambda: not stored(shop.storefront).filter(status="received").exists())
    statuses = dict(stored(shop.storefront).values_list("pk", "status"))
    assert statuses.pop(failed.pk) == "processed"
    assert list(statuses.values()) == ["rejected"]
    assert sales(shop.storefront).get().status == "open"  # the forged success recovered nothing
