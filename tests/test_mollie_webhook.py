"""Mollie end to end: the edge stores each notification (`id=tr_…`), the worker fetches the payment
from a stand-in of Mollie's API (mocked at the HTTP boundary with `responses`, so requests,
urllib3's retries and inbound.remote run for real), stores the state fetched once, and the domain
makes a lost sale of a failure and recovers it on a success. Real PostgreSQL and Redis."""

import json
from datetime import timedelta

import pytest
import responses
from django.utils import timezone
from responses import matchers

from inbound import services as inbound
from inbound.models import InboundEvent
from inbound.notified import NOTIFICATION
from inbound.tasks import process_inbound_event
from notifications.models import Message
from payments.models import LostSale, Payment
from payments.providers.mollie import samples
from payments.services import ingest
from storefront_settings.models import ProviderSecret
from storefront_settings.services.credentials import add_provider_secret, revoke_provider_secret
from tests.conftest import wait_for

API = "https://api.mollie.stand-in.test"
KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
LIVE_KEY = "live_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
BRAVO_KEY = "test_4BBB6H4s2jGi3ajsx4E2KqY5sxSXaRV"
TR_1 = "tr_5B8cwPMGnU6qLbRvo7qEZo"
TR_2 = "tr_WDqYK6vllg"


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    # urllib3 sleeps between retries; the retries' count and order are what is tested here.
    monkeypatch.setattr("urllib3.util.retry.Retry.sleep", lambda self, response=None: None)


@pytest.fixture
def api(settings):
    """The stand-in of Mollie's API, at a base URL of its own: the setting is read at each call."""
    settings.MOLLIE_API_BASE = API
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def shop(alpha):
    add_provider_secret(storefront=alpha.storefront, provider="mollie", secret=KEY)
    return alpha


def answer(api, payment: dict, key: str = KEY, status: int = 200):
    """The stand-in answers GET /v2/payments/<id> for `key` with `payment` (in turn, when one
    URL is given several answers: the last one repeats)."""
    api.get(
        f"{API}/v2/payments/{payment['id']}",
        json=payment,
        status=status,
        match=[matchers.header_matcher({"Authorization": f"Bearer {key}"})],
    )


def not_found(api, payment_id: str, key: str = KEY):
    api.get(
        f"{API}/v2/payments/{payment_id}",
        status=404,
        json={"status": 404, "title": "Not Found", "detail": "No payment exists with token."},
        match=[matchers.header_matcher({"Authorization": f"Bearer {key}"})],
    )


def now():
    return timezone.now().replace(microsecond=0) - timedelta(minutes=1)


def notify(client, storefront, payment_id: str):
    request = samples.notification(payment_id)
    return client.post(
        f"/webhooks/mollie/{storefront.public_id}/",
        data=request.body,
        content_type=request.headers["Content-Type"],
        HTTP_USER_AGENT=request.headers["User-Agent"],
    )


def events(tenant):
    return InboundEvent.objects.for_storefront(tenant.storefront)


def work(tenant) -> list[str]:
    """Run the worker's task, as the dispatcher would, on each notification still waiting."""
    waiting = events(tenant).filter(event_type=NOTIFICATION, status="received").order_by("pk")
    return [process_inbound_event.apply(args=[e.pk, "mollie"]).get() for e in waiting]


def sales(tenant):
    return LostSale.objects.for_storefront(tenant.storefront)


def recovery_emails(tenant):
    return Message.objects.for_storefront(tenant.storefront).filter(kind="payment_recovery")


# --- The edge -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_notification_is_stored_as_it_came_and_answered_200(client, shop):
    response = notify(client, shop.storefront, TR_1)
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    event = events(shop).get()
    assert (event.event_type, event.status, event.body) == (NOTIFICATION, "received", f"id={TR_1}")
    assert event.event_id.startswith(f"{TR_1}@")
    assert event.headers == {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "Mollie HTTP client/1.0",
    }


@pytest.mark.django_db
def test_each_notification_is_kept_even_of_one_payment(client, shop):
    # Two notifications of one payment may announce two states: neither is dropped at the edge.
    assert notify(client, shop.storefront, TR_1).status_code == 200
    assert notify(client, shop.storefront, TR_1).json() == {"received": True, "duplicate": False}
    assert events(shop).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no payment id (expected id=tr_…)"),
        (b"id=ord_kEn1PlbGa", "a Mollie order (ord_…): only payments (tr_…) are read"),
        (b"id=tr_../../v2/customers", "not a Mollie payment id (expected id=tr_…)"),
        (b"id=tr_1&id=tr_2", "more than one id"),
        (b'{"id": "tr_d0b0E3EA3v"}', "a JSON body"),
        (b"id=tr_\xff", "body is not UTF-8"),
    ],
)
def test_a_body_naming_no_payment_is_400_with_its_reason_and_stores_nothing(
    client, shop, body, reason
):
    response = client.post(
        f"/webhooks/mollie/{shop.storefront.public_id}/",
        data=body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith(reason)
    assert KEY not in response.content.decode()
    assert not InboundEvent.unscoped.exists()


@pytest.mark.django_db
def test_a_storefront_without_a_key_is_400_until_it_adds_one(client, alpha):
    # Mollie retries anything but a 200 for 26 hours: a key added meanwhile gets the event.
    response = notify(client, alpha.storefront, TR_1)
    assert response.status_code == 400
    assert response.json() == {"error": "no API key configured"}
    assert not InboundEvent.unscoped.exists()
    add_provider_secret(storefront=alpha.storefront, provider="mollie", secret=KEY)
    assert notify(client, alpha.storefront, TR_1).status_code == 200
    assert events(alpha).count() == 1


@pytest.mark.django_db
def test_the_test_event_is_answered_and_stored_nowhere(client, shop):
    request = samples.test_event(shop.storefront, KEY, 0)
    response = client.post(
        f"/webhooks/mollie/{shop.storefront.public_id}/",
        data=request.body,
        content_type=request.headers["Content-Type"],
    )
    assert response.status_code == 200
    assert response.json() == {"received": True, "ignored": True}
    assert not InboundEvent.unscoped.exists()


@pytest.mark.django_db
def test_an_unknown_storefront_is_404_and_get_is_405(client, shop):
    request = samples.notification(TR_1)
    assert (
        client.post("/webhooks/mollie/sf_nope/", data=request.body, content_type="a/b").status_code
        == 404
    )
    assert client.get(f"/webhooks/mollie/{shop.storefront.public_id}/").status_code == 405


# --- The worker: failure, success, order --------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_payment_becomes_a_lost_sale_with_its_reason_and_emails(client, shop, api):
    at = now()
    answer(api, samples.failed(TR_1, "insufficient_funds", at=at, amount="1007.00"))
    notify(client, shop.storefront, TR_1)

    assert work(shop) == ["processed"]

    call = api.calls[0].request
    assert call.url == f"{API}/v2/payments/{TR_1}"
    assert call.headers["Authorization"] == f"Bearer {KEY}"
    notification, fetched = events(shop).order_by("pk")
    assert (notification.status, fetched.status) == ("processed", "processed")
    assert (fetched.event_id, fetched.event_type) == (f"{TR_1}:failed", "failed")
    body = json.loads(fetched.body)
    assert body["object"]["payment"]["id"] == TR_1
    assert body["notified_at"] == notification.received_at.isoformat()
    sale = sales(shop).get()
    assert (sale.provider, sale.reason, sale.order_reference) == (
        "mollie",
        "insufficient_funds",
        "ML-1",
    )
    assert (sale.amount, sale.currency, sale.buyer_email) == (100700, "EUR", "camille@example.com")
    assert sale.codes == {
        "status": "failed",
        "failure_reason": "insufficient_funds",
        "method": "creditcard",
    }
    assert sale.first_failed_at == at  # failedAt
    assert recovery_emails(shop).filter(status="scheduled").count() == 3
    assert (
        recovery_emails(shop).get(idempotency_key__endswith=":recovery:1").to
        == "camille@example.com"
    )
    assert (
        Message.objects.for_storefront(shop.storefront)
        .filter(kind="merchant_failed_payment_alert")
        .exists()
    )


@pytest.mark.django_db
def test_an_expired_payment_is_an_abandoned_sale(client, shop, api):
    answer(api, samples.payment(TR_1, "expired", at=now(), method=None))
    notify(client, shop.storefront, TR_1)
    assert work(shop) == ["processed"]
    sale = sales(shop).get()
    assert (sale.reason, sale.codes) == ("abandoned", {"status": "expired"})
    assert Payment.objects.for_storefront(shop.storefront).get().status == "abandoned"


@pytest.mark.django_db
def test_a_new_payment_of_the_same_order_paid_recovers_the_sale(client, shop, api):
    at = now()
    answer(api, samples.failed(TR_1, "card_declined", at=at))
    answer(api, samples.paid(TR_2, at=at + timedelta(seconds=30)))
    notify(client, shop.storefront, TR_1)
    work(shop)
    assert recovery_emails(shop).filter(status="scheduled").count() == 3

    notify(client, shop.storefront, TR_2)
    assert work(shop) == ["processed"]

    sale = sales(shop).get()
    assert (sale.status, sale.recovered_amount) == ("recovered", 8900)
    assert sale.recovered_at == at + timedelta(seconds=30)  # paidAt
    assert not recovery_emails(shop).filter(status="scheduled").exists()


@pytest.mark.django_db
def test_one_payment_failed_then_paid_is_two_events_and_recovered(client, shop, api):
    # Mollie's failed is final, but the path does not rely on it: a new state is a new event.
    at = now()
    answer(api, samples.failed(TR_1, "insufficient_funds", at=at))
    answer(api, samples.paid(TR_1, at=at + timedelta(minutes=2)))
    notify(client, shop.storefront, TR_1)
    notify(client, shop.storefront, TR_1)

    assert work(shop) == ["processed", "processed"]

    fetched = events(shop).exclude(event_type=NOTIFICATION).order_by("pk")
    assert [e.event_id for e in fetched] == [f"{TR_1}:failed", f"{TR_1}:paid"]
    assert sales(shop).get().status == "recovered"


@pytest.mark.django_db
def test_the_same_state_notified_twice_is_one_event(client, shop, api):
    answer(api, samples.failed(TR_1, "insufficient_funds", at=now()))
    notify(client, shop.storefront, TR_1)
    notify(client, shop.storefront, TR_1)  # Mollie's retry, or a relay's second try

    assert work(shop) == ["processed", "duplicate"]

    assert events(shop).exclude(event_type=NOTIFICATION).get().event_id == f"{TR_1}:failed"
    second = events(shop).filter(event_type=NOTIFICATION).order_by("pk").last()
    assert (second.status, second.last_error) == ("ignored", "this state was received before")
    assert sales(shop).get().attempts == 1
    assert recovery_emails(shop).count() == 3


@pytest.mark.django_db
def test_a_refund_on_a_paid_payment_is_the_same_state_and_changes_nothing(client, shop, api):
    at = now()
    answer(api, samples.paid(TR_1, at=at))
    refunded = samples.paid(TR_1, at=at)
    refunded["amountRefunded"] = {"value": "89.00", "currency": "EUR"}
    answer(api, refunded)
    notify(client, shop.storefront, TR_1)
    notify(client, shop.storefront, TR_1)
    assert work(shop) == ["processed", "duplicate"]
    assert events(shop).exclude(event_type=NOTIFICATION).count() == 1
    assert Payment.objects.for_storefront(shop.storefront).get().status == "succeeded"
    assert not sales(shop).exists()


@pytest.mark.django_db
def test_paid_processed_before_the_failure_leaves_the_sale_recovered(client, shop, api):
    at = now()
    answer(api, samples.failed(TR_1, "refused_by_issuer", at=at))
    answer(api, samples.paid(TR_2, at=at + timedelta(minutes=1)))
    notify(client, shop.storefront, TR_2)
    notify(client, shop.storefront, TR_1)

    work(shop)  # the success first, as the notifications came

    sale = sales(shop).get()
    assert (sale.status, sale.reason) == ("recovered", "bank_declined")
    assert not recovery_emails(shop).filter(status="scheduled").exists()


@pytest.mark.django_db
def test_an_open_payment_is_stored_and_ignored_and_its_outcome_follows(client, shop, api):
    at = now()
    answer(api, samples.payment(TR_1, "open", at=at))
    answer(api, samples.failed(TR_1, "card_expired", at=at + timedelta(minutes=1)))
    notify(client, shop.storefront, TR_1)
    assert work(shop) == ["ignored"]
    assert not sales(shop).exists()
    notify(client, shop.storefront, TR_1)
    assert work(shop) == ["processed"]
    assert sales(shop).get().reason == "card_expired"


# --- The buyer on the customer ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_customer_is_fetched_only_for_its_email_and_kept_for_replays(client, shop, api):
    payment = samples.failed(TR_1, at=now(), email="c@example.com", email_in="customer")
    payment["customerId"] = "cst_8wmqcHMN4U"
    answer(api, payment)
    api.get(
        f"{API}/v2/customers/cst_8wmqcHMN4U",
        json=samples.customer("cst_8wmqcHMN4U", email="c@example.com"),
        match=[matchers.header_matcher({"Authorization": f"Bearer {KEY}"})],
    )
    notify(client, shop.storefront, TR_1)
    work(shop)
    assert [c.request.url for c in api.calls] == [
        f"{API}/v2/payments/{TR_1}",
        f"{API}/v2/customers/cst_8wmqcHMN4U",
    ]
    assert sales(shop).get().buyer_email == "c@example.com"
    fetched = events(shop).exclude(event_type=NOTIFICATION).get()
    assert json.loads(fetched.body)["object"]["customer"]["email"] == "c@example.com"

    # Ops replay the fetched event: it is read from what was stored, with no call.
    calls = len(api.calls)
    InboundEvent.objects.for_storefront(shop.storefront).filter(pk=fetched.pk).update(
        status="received"
    )
    assert ingest.process_inbound_event(event_id=fetched.pk) == "processed"
    assert len(api.calls) == calls


@pytest.mark.django_db
def test_no_customer_call_when_the_payment_has_the_email(client, shop, api):
    payment = samples.failed(TR_1, at=now())
    payment["customerId"] = "cst_8wmqcHMN4U"
    answer(api, payment)
    notify(client, shop.storefront, TR_1)
    work(shop)
    assert len(api.calls) == 1


@pytest.mark.django_db
def test_a_deleted_customer_leaves_the_sale_without_an_address(client, shop, api):
    payment = samples.failed(TR_1, at=now(), email="c@example.com", email_in="customer")
    payment["customerId"] = "cst_8wmqcHMN4U"
    answer(api, payment)
    api.get(f"{API}/v2/customers/cst_8wmqcHMN4U", status=404)
    notify(client, shop.storefront, TR_1)
    assert work(shop) == ["processed"]
    assert sales(shop).get().buyer_email == ""
    assert not recovery_emails(shop).exists()


# --- What is not trusted: forged, another tenant's, refused -------------------------------------


@pytest.mark.django_db
def test_a_forged_notification_is_rejected_and_changes_nothing(client, shop, api):
    not_found(api, "tr_forged12345")
    notify(client, shop.storefront, "tr_forged12345")

    assert work(shop) == ["rejected"]

    event = events(shop).get()
    assert (event.status, event.last_error) == ("rejected", "Mollie has no tr_forged12345")
    assert not Payment.objects.for_storefront(shop.storefront).exists()
    assert not Message.objects.for_storefront(shop.storefront).exists()


@pytest.mark.django_db
def test_another_tenants_payment_is_fetched_with_this_tenants_key_only(client, shop, bravo, api):
    add_provider_secret(storefront=bravo.storefront, provider="mollie", secret=BRAVO_KEY)
    answer(api, samples.failed(TR_1, at=now()), key=KEY)  # alpha's payment, for alpha's key
    not_found(api, TR_1, key=BRAVO_KEY)
    notify(client, bravo.storefront, TR_1)  # someone posts it to bravo's endpoint

    assert work(bravo) == ["rejected"]

    assert [c.request.headers["Authorization"] for c in api.calls] == [f"Bearer {BRAVO_KEY}"]
    assert not LostSale.unscoped.exists()
    assert not events(shop).exists()


@pytest.mark.django_db
def test_with_a_live_and_a_test_key_the_one_that_knows_the_payment_is_used(client, shop, api):
    add_provider_secret(storefront=shop.storefront, provider="mollie", secret=LIVE_KEY)
    not_found(api, TR_1, key=LIVE_KEY)  # a test payment: the live key does not see it
    answer(api, samples.failed(TR_1, at=now()), key=KEY)
    notify(client, shop.storefront, TR_1)
    assert work(shop) == ["processed"]
    assert sales(shop).count() == 1


@pytest.mark.django_db
def test_a_refused_key_fails_the_event_for_ops_naming_no_key(client, shop, api):
    api.get(f"{API}/v2/payments/{TR_1}", status=401, json={"status": 401, "title": "Unauthorized"})
    notify(client, shop.storefront, TR_1)

    assert work(shop) == ["failed"]

    event = events(shop).get()
    assert (event.status, event.attempts) == ("failed", 1)
    assert event.last_error == f"Refused: Mollie GET /v2/payments/{TR_1}: refused (HTTP 401)"
    assert KEY not in event.last_error
    assert len(api.calls) == 1  # a 4xx is not retried


@pytest.mark.django_db
def test_a_key_revoked_before_the_worker_came_fails_the_event_until_one_is_added(client, shop, api):
    notify(client, shop.storefront, TR_1)
    for secret in ProviderSecret.objects.for_storefront(shop.storefront).filter(provider="mollie"):
        revoke_provider_secret(storefront=shop.storefront, provider_secret=secret)
    assert work(shop) == ["failed"]
    event = events(shop).get()
    assert event.last_error == f"NoKey: no Mollie API key to fetch {TR_1} with"
    assert not api.calls


# --- Outages: retried ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_500_then_an_answer_is_processed_in_the_same_attempt(client, shop, api):
    api.get(f"{API}/v2/payments/{TR_1}", status=500)
    answer(api, samples.failed(TR_1, at=now()))
    notify(client, shop.storefront, TR_1)
    assert work(shop) == ["processed"]
    assert len(api.calls) == 2
    assert events(shop).filter(event_type=NOTIFICATION).get().attempts == 0


@pytest.mark.django_db
def test_a_longer_outage_is_retried_by_the_task_then_processed(client, shop, api):
    for _ in range(4):  # the first attempt's call and its three retries
        api.get(f"{API}/v2/payments/{TR_1}", status=503)
    answer(api, samples.failed(TR_1, at=now()))
    notify(client, shop.storefront, TR_1)

    assert work(shop) == ["processed"]

    notification = events(shop).filter(event_type=NOTIFICATION).get()
    assert (notification.status, notification.attempts) == ("processed", 1)
    # One attempt failed (Unavailable: a temporary error) and was retried with the event's backoff.
    assert len(api.calls) == 5
    assert sales(shop).count() == 1


# --- With a real worker -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_dispatcher_and_a_worker_take_a_notification_to_a_lost_sale(
    client, shop, api, celery_worker
):
    answer(api, samples.failed(TR_1, "possible_fraud", at=now()))
    assert notify(client, shop.storefront, TR_1).status_code == 200

    assert inbound.dispatch() == 1
    wait_for(lambda: sales(shop).exists() and not events(shop).filter(status="received").exists())

    sale = sales(shop).get()
    assert sale.reason == "suspected_fraud"
    assert not recovery_emails(shop).exists()  # fraud is never told to the buyer
    assert set(events(shop).values_list("status", flat=True)) == {"processed"}


# --- The connections page -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_connections_page_has_mollie_with_its_guide_and_never_the_key(client, shop):
    client.force_login(shop.owner)
    page = client.get("/app/alpha/settings/providers/").content.decode()
    assert 'id="provider-mollie"' in page
    assert f"/webhooks/mollie/{shop.storefront.public_id}/" in page
    assert "has no setting for it in its dashboard" in page  # where: the honest answer
    assert "choose Failed, Canceled or Expired on Mollie&#x27;s test checkout" in page
    assert KEY not in page and f"…{KEY[-4:]}" in page
