"""The PayPlug endpoint and its worker, end to end against a stand-in of PayPlug's API (mocked at
its HTTP boundary with `responses`, so inbound.remote's timeouts and retries run for real): the
edge stores each notification; the worker fetches the payment with the storefront's key and
stores what it fetched, once per payment and state; a payment PayPlug does not know changes
nothing."""

import json
import time

import pytest
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from inbound import services as inbound
from inbound.models import InboundEvent
from inbound.tasks import process_inbound_event
from notifications.models import Message
from payments.models import LostSale, Payment
from payments.providers.payplug import samples, webhooks
from payments.reasons import FailureReason as R
from storefront_settings.services.credentials import add_provider_secret
from tests.conftest import wait_for

API = "https://api.payplug.test"
KEY = "sk_test_7c5cb3b54abcf5062f056639e809368c"
LIVE_KEY = "sk_live_43b7e007298f57f7aedee32800a52301"
BRAVO_KEY = "sk_test_b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
PAY_A = "pay_5iHMDxy4ABR4YBVW4UscIn"
PAY_B = "pay_3nfaejGO3m9dyHFIwfsUTR"
PAY_LATER = "pay_12uazeAbq5ttYietdC2QxP"
PLAN = "inst_13TPOO67A5prqs9zZXW3qW"
Status = InboundEvent.Status


@pytest.fixture(autouse=True)
def stand_in(settings, monkeypatch):
    """PayPlug's API at API: each test registers what it answers. urllib3 sleeps between
    retries; their number and order are what is tested, not the wait."""
    settings.PAYPLUG_API_BASE = API
    monkeypatch.setattr("urllib3.util.retry.Retry.sleep", lambda self, response=None: None)


@pytest.fixture
def shop(alpha):
    add_provider_secret(storefront=alpha.storefront, provider="payplug", secret=KEY)
    return alpha


def now() -> int:
    return int(time.time())


def answer(obj: dict, key: str = KEY, status: int = 200) -> None:
    """The stand-in answers GET /v1/payments/<id> (or /v1/installment_plans/<id>) with `obj`,
    to a request made with `key` and PayPlug's API version."""
    resource = "installment_plans" if obj["id"].startswith("inst_") else "payments"
    responses.get(
        f"{API}/v1/{resource}/{obj['id']}",
        json=obj,
        status=status,
        match=[
            matchers.header_matcher(
                {"Authorization": f"Bearer {key}", "PayPlug-Version": "2019-08-06"}
            )
        ],
    )


def notify(client, storefront, request=None, *, payment_id: str = PAY_A):
    request = request or samples.payment_notification(payment_id)
    return client.post(
        f"/webhooks/payplug/{storefront.public_id}/",
        data=request.body,
        content_type="application/json",
    )


def events(tenant):
    return InboundEvent.objects.for_storefront(tenant.storefront)


def work(tenant) -> list[str]:
    """The worker's task on every notification still waiting, in the order they came."""
    waiting = events(tenant).filter(event_type="notification", status=Status.RECEIVED)
    return [
        process_inbound_event.apply(args=[pk, "payplug"]).get()
        for pk in waiting.order_by("received_at", "pk").values_list("pk", flat=True)
    ]


def fetched(tenant):
    return events(tenant).exclude(event_type="notification").order_by("received_at", "pk")


def sale(tenant) -> LostSale:
    return LostSale.objects.for_storefront(tenant.storefront).get()


def recovery(tenant):
    return Message.objects.for_storefront(tenant.storefront).filter(kind="payment_recovery")


# --- The edge ----------------------------------------------------------------------------------


@pytest.mark.django_db
@responses.activate
def test_a_notification_is_stored_as_it_came_and_nothing_is_fetched_in_the_request(client, shop):
    response = notify(client, shop.storefront)
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    event = events(shop).get()
    assert (event.event_type, event.status) == ("notification", Status.RECEIVED)
    assert event.event_id.startswith(f"{PAY_A}@")
    assert json.loads(event.body) == {"id": PAY_A, "object": "payment", "is_paid": False}
    assert len(responses.calls) == 0  # PayPlug is asked by the worker, never by the request
    # Each notification is kept: two may announce two states of one payment.
    assert notify(client, shop.storefront).json() == {"received": True, "duplicate": False}
    assert events(shop).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"[]", "body is not a JSON object"),
        (
            b'{"object": "payment", "id": "tr_WDqYK6vllg"}',
            "the payment notification has no valid id",
        ),
        (b'{"object": "refund", "id": "re_1"}', "the refund notification has no valid payment_id"),
        (
            b'{"object": "card", "id": "card_1"}',
            "not a PayPlug payment, refund or installment plan",
        ),
    ],
)
def test_a_malformed_notification_is_400_and_stores_nothing(client, shop, body, reason):
    response = client.post(
        f"/webhooks/payplug/{shop.storefront.public_id}/",
        data=body,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert not events(shop).exists()


@pytest.mark.django_db
def test_a_storefront_without_a_key_is_400_and_stores_nothing(client, alpha):
    response = notify(client, alpha.storefront)
    assert (response.status_code, response.json()) == (400, {"error": "no API key configured"})
    assert not events(alpha).exists()


@pytest.mark.django_db
@responses.activate
def test_the_test_event_is_answered_and_stored_nowhere(client, shop):
    request = samples.test_event(shop.storefront, KEY, now())
    response = notify(client, shop.storefront, request)
    assert (response.status_code, response.json()) == (200, {"received": True, "ignored": True})
    assert not events(shop).exists()
    assert len(responses.calls) == 0


# --- The worker: a failure, a success -----------------------------------------------------------


@pytest.mark.django_db
@responses.activate
def test_a_declined_payment_becomes_a_lost_sale_with_its_reason_and_recovery_emails(client, shop):
    answer(samples.payment(PAY_A, created_at=now() - 60, failure="insufficient_funds"))
    notify(client, shop.storefront)
    assert work(shop) == ["processed"]

    notification = events(shop).get(event_type="notification")
    assert notification.status == Status.PROCESSED
    event = fetched(shop).get()
    assert (event.event_id, event.event_type, event.status) == (
        f"{PAY_A}:failed:insufficient_funds",
        "failed:insufficient_funds",
        Status.PROCESSED,
    )
    stored_body = json.loads(event.body)
    assert stored_body["object"]["payment"]["id"] == PAY_A
    assert stored_body["notified_at"] == notification.received_at.isoformat()

    lost = sale(shop)
    assert (lost.provider, lost.reason, lost.status) == ("payplug", R.INSUFFICIENT_FUNDS, "open")
    assert (lost.order_reference, lost.amount, lost.buyer_email) == (
        "ML-1",
        8900,
        "camille@example.com",
    )
    assert lost.codes == {"failure_code": "insufficient_funds"}
    assert recovery(shop).count() == 3
    # Asked with the storefront's key and PayPlug's API version (the stand-in matched both).
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.django_db
@responses.activate
def test_a_buyer_who_left_the_payment_page_is_an_abandoned_sale(client, shop):
    answer(samples.payment(PAY_A, created_at=now() - 600, failure="timeout"))
    notify(client, shop.storefront)
    work(shop)
    assert sale(shop).reason == R.ABANDONED
    assert Payment.objects.for_storefront(shop.storefront).get().status == "abandoned"


@pytest.mark.django_db
@responses.activate
def test_a_later_payment_of_the_order_recovers_the_sale_and_cancels_the_emails(client, shop):
    answer(samples.payment(PAY_A, created_at=now() - 600, failure="card_declined"))
    answer(samples.paid_payment(PAY_B, paid_at=now() - 10))
    notify(client, shop.storefront, payment_id=PAY_A)
    work(shop)
    assert sale(shop).reason == R.BANK_DECLINED
    notify(client, shop.storefront, payment_id=PAY_B)
    work(shop)

    lost = sale(shop)
    assert (lost.status, lost.recovered_amount) == ("recovered", 8900)
    assert set(recovery(shop).values_list("status", flat=True)) == {"cancelled"}
    assert [e.event_id for e in fetched(shop)] == [f"{PAY_A}:failed:card_declined", f"{PAY_B}:paid"]


@pytest.mark.django_db
@responses.activate
def test_a_success_processed_before_the_failure_still_recovers_the_sale(client, shop):
    answer(samples.paid_payment(PAY_B, paid_at=now() - 10))
    answer(samples.payment(PAY_A, created_at=now() - 600, failure="card_declined"))
    notify(client, shop.storefront, payment_id=PAY_B)
    work(shop)
    notify(client, shop.storefront, payment_id=PAY_A)
    work(shop)
    assert sale(shop).status == "recovered"
    assert not recovery(shop).filter(status="scheduled").exists()


# --- One event per payment and state ------------------------------------------------------------


@pytest.mark.django_db
@responses.activate
def test_the_same_state_notified_twice_is_one_event(client, shop):
    answer(samples.payment(PAY_A, created_at=now() - 60, failure="card_declined"))
    notify(client, shop.storefront)
    notify(client, shop.storefront)
    assert work(shop) == ["processed", "duplicate"]

    assert fetched(shop).count() == 1
    second = events(shop).filter(event_type="notification").order_by("pk").last()
    assert (second.status, second.last_error) == (Status.IGNORED, "this state was received before")
    assert sale(shop).attempts == 1
    assert recovery(shop).count() == 3


@pytest.mark.django_db
@responses.activate(registry=OrderedRegistry)
def test_a_payment_that_fails_then_is_paid_is_two_events_and_recovered(client, shop):
    # The stand-in answers the first fetch "failed", the second "paid": a state each.
    answer(samples.payment(PAY_A, created_at=now() - 600, failure="processing_error"))
    answer(samples.paid_payment(PAY_A, paid_at=now() - 5))
    notify(client, shop.storefront)
    notify(client, shop.storefront)
    assert work(shop) == ["processed", "processed"]

    assert [e.event_id for e in fetched(shop)] == [
        f"{PAY_A}:failed:processing_error",
        f"{PAY_A}:paid",
    ]
    assert sale(shop).status == "recovered"
    assert Payment.objects.for_storefront(shop.storefront).get().status == "succeeded"


@pytest.mark.django_db
@responses.activate(registry=OrderedRegistry)
def test_an_oney_payment_pending_then_refused_is_read_once_refused(client, shop):
    pending = samples.payment(PAY_A, created_at=now() - 600, oney="oney_x3_with_fees", pending=True)
    answer(pending)
    answer(
        samples.payment(
            PAY_A, created_at=now() - 600, oney="oney_x3_with_fees", failure="card_declined"
        )
    )
    notify(client, shop.storefront)
    notify(client, shop.storefront)
    work(shop)
    assert [(e.event_type, e.status) for e in fetched(shop)] == [
        ("pending", Status.IGNORED),
        ("failed:card_declined", Status.PROCESSED),
    ]
    assert sale(shop).reason == R.BANK_DECLINED


@pytest.mark.django_db
@responses.activate
def test_a_refund_notification_fetches_its_payment_which_was_paid(client, shop):
    answer(samples.paid_payment(PAY_A, paid_at=now() - 600))
    notify(client, shop.storefront)
    notify(client, shop.storefront, samples.refund_notification(PAY_A))
    assert work(shop) == ["processed", "duplicate"]
    assert [e.event_id for e in fetched(shop)] == [f"{PAY_A}:paid"]
    assert Payment.objects.for_storefront(shop.storefront).get().status == "succeeded"
    assert not LostSale.objects.for_storefront(shop.storefront).exists()


# --- Installment plans --------------------------------------------------------------------------


@pytest.mark.django_db
@responses.activate
def test_a_plans_notification_reads_the_payment_of_its_first_instalment(client, shop):
    answer(
        samples.installment_plan(
            PLAN, created_at=now() - 600, first_payments=[PAY_A], failure="3ds_declined"
        )
    )
    answer(
        samples.payment(
            PAY_A, created_at=now() - 600, failure="3ds_declined", installment_plan_id=PLAN
        )
    )
    notify(client, shop.storefront, samples.plan_notification(PLAN))
    notify(client, shop.storefront, payment_id=PAY_A)
    assert work(shop) == ["processed", "processed"]

    # The plan's notification and the payment's are one payment of one sale, one attempt.
    assert [e.event_id for e in fetched(shop)] == [
        f"{PLAN}:failed:3ds_declined",
        f"{PAY_A}:failed:3ds_declined",
    ]
    lost = sale(shop)
    assert (lost.reason, lost.attempts) == (R.AUTHENTICATION_FAILED, 1)
    assert Payment.objects.for_storefront(shop.storefront).count() == 1


@pytest.mark.django_db
@responses.activate
def test_a_later_instalment_that_fails_is_not_a_lost_sale(client, shop):
    answer(
        samples.installment_plan(
            PLAN,
            created_at=now() - 600,
            first_payments=[PAY_A],
            later_payments=(PAY_LATER,),
            is_active=True,
        )
    )
    answer(
        samples.payment(
            PAY_LATER, created_at=now() - 60, failure="insufficient_funds", installment_plan_id=PLAN
        )
    )
    notify(client, shop.storefront, payment_id=PAY_LATER)
    work(shop)
    assert [(e.event_type, e.status) for e in fetched(shop)] == [
        ("instalment:failed:insufficient_funds", Status.IGNORED)
    ]
    assert not LostSale.objects.for_storefront(shop.storefront).exists()


# --- What PayPlug's API says, or does not ------------------------------------------------------


@pytest.mark.django_db
@responses.activate
def test_a_payment_payplug_does_not_know_is_rejected_and_changes_nothing(client, shop):
    responses.get(f"{API}/v1/payments/{PAY_A}", status=404, json={"message": "Not found"})
    notify(client, shop.storefront)
    assert work(shop) == ["rejected"]
    notification = events(shop).get()
    assert (notification.status, notification.last_error) == (
        Status.REJECTED,
        f"PayPlug has no {PAY_A}",
    )
    assert not fetched(shop).exists()
    assert not Payment.objects.for_storefront(shop.storefront).exists()
    assert not Message.objects.for_storefront(shop.storefront).exists()


@pytest.mark.django_db
@responses.activate(registry=OrderedRegistry)
def test_a_5xx_then_an_answer_is_retried_in_the_call(client, shop):
    responses.get(f"{API}/v1/payments/{PAY_A}", status=500)
    responses.get(f"{API}/v1/payments/{PAY_A}", status=429)
    answer(samples.payment(PAY_A, created_at=now() - 60, failure="card_declined"))
    notify(client, shop.storefront)
    assert work(shop) == ["processed"]
    assert len(responses.calls) == 3
    assert sale(shop).reason == R.BANK_DECLINED


@pytest.mark.django_db
@responses.activate(registry=OrderedRegistry)
def test_an_outage_longer_than_the_calls_retries_is_retried_by_the_task(client, shop):
    for _ in range(4):  # the call and its three retries
        responses.get(f"{API}/v1/payments/{PAY_A}", status=503)
    answer(samples.payment(PAY_A, created_at=now() - 60, failure="card_declined"))
    notify(client, shop.storefront)
    # Eagerly, Celery runs the task's retry at once, whatever its countdown.
    assert work(shop) == ["processed"]
    notification = events(shop).get(event_type="notification")
    # One failed attempt counted, then processed.
    assert (notification.status, notification.attempts) == (Status.PROCESSED, 1)
    assert len(responses.calls) == 5
    assert sale(shop).reason == R.BANK_DECLINED


@pytest.mark.django_db
@responses.activate
def test_a_refused_key_fails_the_event_for_ops_and_names_no_key(client, shop):
    responses.get(f"{API}/v1/payments/{PAY_A}", status=401, json={"message": "Unauthorized"})
    notify(client, shop.storefront)
    assert work(shop) == ["failed"]
    notification = events(shop).get()
    assert notification.status == Status.FAILED
    assert notification.last_error == (
        f"Refused: PayPlug GET /v1/payments/{PAY_A}: refused (HTTP 401)"
    )
    assert KEY not in notification.last_error and KEY[8:] not in notification.last_error
    assert len(responses.calls) == 1  # a refusal is not retried
    assert not LostSale.objects.for_storefront(shop.storefront).exists()


@pytest.mark.django_db
@responses.activate
def test_a_live_and_a_test_key_side_by_side_each_find_their_payments(client, shop):
    add_provider_secret(storefront=shop.storefront, provider="payplug", secret=LIVE_KEY)
    # The live key (newest, asked first) does not know a test payment; the test key does.
    responses.get(
        f"{API}/v1/payments/{PAY_A}",
        status=404,
        match=[matchers.header_matcher({"Authorization": f"Bearer {LIVE_KEY}"})],
    )
    answer(samples.payment(PAY_A, created_at=now() - 60, failure="card_declined"), key=KEY)
    notify(client, shop.storefront)
    assert work(shop) == ["processed"]
    assert [c.request.headers["Authorization"] for c in responses.calls] == [
        f"Bearer {LIVE_KEY}",
        f"Bearer {KEY}",
    ]
    assert sale(shop).reason == R.BANK_DECLINED


@pytest.mark.django_db
@responses.activate
def test_another_tenants_payment_is_fetched_with_this_tenants_key_only(client, shop, bravo):
    add_provider_secret(storefront=bravo.storefront, provider="payplug", secret=BRAVO_KEY)
    # PayPlug knows PAY_A in alpha's account only.
    answer(samples.payment(PAY_A, created_at=now() - 60, failure="card_declined"), key=KEY)
    responses.get(
        f"{API}/v1/payments/{PAY_A}",
        status=404,
        match=[matchers.header_matcher({"Authorization": f"Bearer {BRAVO_KEY}"})],
    )
    notify(client, bravo.storefront, payment_id=PAY_A)
    assert work(bravo) == ["rejected"]
    assert [c.request.headers["Authorization"] for c in responses.calls] == [f"Bearer {BRAVO_KEY}"]
    assert events(bravo).get().status == Status.REJECTED
    assert not LostSale.objects.for_storefront(bravo.storefront).exists()
    assert (
        not events(shop).exists() and not LostSale.objects.for_storefront(shop.storefront).exists()
    )


@pytest.mark.django_db
@responses.activate
def test_an_answer_about_another_payment_is_refused_for_ops(client, shop):
    other = samples.payment(PAY_B, created_at=now() - 60, failure="card_declined")
    responses.get(f"{API}/v1/payments/{PAY_A}", json=other)
    notify(client, shop.storefront)
    assert work(shop) == ["failed"]
    assert "not the object asked for" in events(shop).get().last_error
    assert not LostSale.objects.for_storefront(shop.storefront).exists()


# --- The whole path, with the dispatcher and a real worker -------------------------------------


@pytest.mark.django_db(transaction=True)
@responses.activate
def test_a_notification_becomes_a_lost_sale_through_the_dispatcher_and_a_worker(
    client, shop, celery_worker
):
    answer(samples.payment(PAY_A, created_at=now() - 60, failure="fraud_suspected"))
    assert notify(client, shop.storefront).status_code == 200
    assert inbound.dispatch() == 1
    wait_for(lambda: LostSale.objects.for_storefront(shop.storefront).exists())
    wait_for(lambda: not events(shop).filter(status=Status.RECEIVED).exists())
    assert set(events(shop).values_list("status", flat=True)) == {Status.PROCESSED}
    lost = sale(shop)
    assert lost.reason == R.SUSPECTED_FRAUD
    assert not recovery(shop).exists()  # fraud is never told to the buyer
    assert webhooks.TEST_ID not in {e.event_id for e in events(shop)}


# --- The connections page ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_connections_page_has_payplug_its_guide_and_its_test_button(alpha_client, alpha):
    page = alpha_client.get("/app/alpha/settings/providers/").content.decode()
    section = page[page.index('id="provider-payplug"') :]
    section = section[: section.index("</section>")]
    assert f"/webhooks/payplug/{alpha.storefront.public_id}/" in section
    assert "no dashboard setting for this URL" in section
    assert "My account → API credentials" in section
    assert "4242 4242 4242 4242" in section  # how to test the whole path in test mode
    assert "Send a test event" in section
