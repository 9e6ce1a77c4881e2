"""PayPlug's connection, without the network: what a notification names, the state of a fetched
payment, a fetched payment read as a signal, and every row of the failure code table."""

import json
from datetime import UTC, datetime

import pytest

from inbound.errors import VerificationError
from payments.classification import classify
from payments.providers.payplug import codes, samples, webhooks
from payments.reasons import FailureReason as R
from payments.signals import SignalKind

T0 = 1_795_000_000  # 2026-11-19, Unix seconds
NOTIFIED_AT = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
PAY = "pay_5iHMDxy4ABR4YBVW4UscIn"
PAY_2 = "pay_3nfaejGO3m9dyHFIwfsUTR"
PAY_LATER = "pay_12uazeAbq5ttYietdC2QxP"
PLAN = "inst_13TPOO67A5prqs9zZXW3qW"

# The failure codes PayPlug gives (codes.py names the sources): each must have a table row.
PAYPLUG_FAILURE_CODES = [
    "processing_error",
    "card_declined",
    "insufficient_funds",
    "3ds_declined",
    "incorrect_number",
    "fraud_suspected",
    "method_unsupported",
    "timeout",
    "aborted",
    "card_stolen",
]


def stored(fetched: dict, notified_at: datetime = NOTIFIED_AT) -> dict:
    """The body inbound.notified stores for a fetched payment."""
    return {"notified_at": notified_at.isoformat(), "object": fetched}


def read(fetched: dict):
    return webhooks.parse(stored(fetched))


# --- The code table ----------------------------------------------------------------------------


def test_every_failure_code_has_a_row_and_nothing_else_does():
    assert sorted(codes.FAILURE_CODES) == sorted(PAYPLUG_FAILURE_CODES)


@pytest.mark.parametrize(("code", "reason"), list(codes.FAILURE_CODES.items()))
def test_every_table_row(code, reason):
    kind = SignalKind.ABANDONED if codes.abandons(code) else SignalKind.FAILED
    assert classify("payplug", {"failure_code": code}, kind) == reason
    # Codes are compared stripped and case-folded.
    assert classify("payplug", {"failure_code": f"  {code.upper()} "}, kind) == reason


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("timeout", R.ABANDONED),
        ("aborted", R.ABANDONED),
        ("3ds_declined", R.AUTHENTICATION_FAILED),
        ("fraud_suspected", R.SUSPECTED_FRAUD),
        ("insufficient_funds", R.INSUFFICIENT_FUNDS),
    ],
)
def test_the_codes_that_decide_what_the_buyer_is_told(code, reason):
    assert codes.FAILURE_CODES[code] == reason


def test_only_timeout_and_aborted_mean_the_buyer_left():
    assert {code for code in codes.FAILURE_CODES if codes.abandons(code)} == {"timeout", "aborted"}


def test_an_unknown_code_stays_unknown_and_no_code_falls_back_to_the_kind():
    assert classify("payplug", {"failure_code": "card_melted"}, SignalKind.FAILED) == R.UNKNOWN
    assert classify("payplug", {"failure_code": "card_melted"}, SignalKind.ABANDONED) == R.UNKNOWN
    assert classify("payplug", {}, SignalKind.FAILED) == R.UNKNOWN
    assert classify("payplug", {}, SignalKind.ABANDONED) == R.ABANDONED


def test_the_samples_fail_a_payment_for_every_reason_payplug_gives():
    assert set(samples.FAILURES) == set(codes.FAILURE_CODES.values())
    for reason, code in samples.FAILURES.items():
        assert codes.FAILURE_CODES[code] == reason


# --- What a notification names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"object": "payment", "id": PAY, "is_paid": True}, PAY),
        ({"object": "refund", "id": "re_1", "payment_id": PAY}, PAY),
        ({"object": "installment_plan", "id": PLAN}, PLAN),
    ],
)
def test_a_notification_names_the_payment_or_plan_to_fetch(body, named):
    assert webhooks.notified_id(json.dumps(body).encode()) == named


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"[1, 2]", "body is not a JSON object"),
        (b'{"id": "pay_\xff"}', "body is not UTF-8"),
        (b"{}", "not a PayPlug payment, refund or installment plan notification"),
        (b'{"object": "customer", "id": "cus_1"}', "not a PayPlug payment"),
        (b'{"object": "payment"}', "the payment notification has no valid id"),
        (b'{"object": "payment", "id": 12}', "the payment notification has no valid id"),
        (b'{"object": "payment", "id": "inst_1"}', "the payment notification has no valid id"),
        (b'{"object": "payment", "id": "pay_../v1/x"}', "has no valid id"),
        (b'{"object": "payment", "id": "pay_"}', "has no valid id"),
        (b'{"object": "refund", "id": "re_1"}', "the refund notification has no valid payment_id"),
        (b'{"object": "installment_plan", "id": "pay_1"}', "has no valid id"),
    ],
)
def test_a_body_that_names_nothing_fetchable_is_refused(body, reason):
    with pytest.raises(VerificationError, match=reason.replace("(", r"\(")):
        webhooks.notified_id(body)


def test_the_test_event_names_the_test_payment():
    request = samples.test_event(None, "sk_test_" + "a" * 24, T0)
    assert webhooks.notified_id(request.body) == webhooks.TEST_ID
    assert webhooks.Adapter().test_id == webhooks.TEST_ID


# --- The state fetched -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fetched", "state"),
    [
        ({"payment": samples.payment(PAY, created_at=T0)}, "pending"),
        (
            {"payment": samples.payment(PAY, created_at=T0, failure="card_declined")},
            "failed:card_declined",
        ),
        (
            {"payment": samples.payment(PAY, created_at=T0, failure="3DS_Declined ")},
            "failed:3ds_declined",
        ),
        ({"payment": {**samples.payment(PAY, created_at=T0), "failure": {"code": None}}}, "failed"),
        ({"payment": samples.paid_payment(PAY, paid_at=T0)}, "paid"),
        # A refunded payment was paid: the refund adds no state of ours.
        ({"payment": {**samples.paid_payment(PAY, paid_at=T0), "is_refunded": True}}, "paid"),
        (
            {
                "payment": {
                    **samples.payment(PAY, created_at=T0),
                    "authorization": {"authorized_at": T0},
                }
            },
            "authorized",
        ),
        (
            {
                "payment": samples.payment(
                    PAY, created_at=T0, oney="oney_x3_with_fees", pending=True
                )
            },
            "pending",
        ),
        (
            {
                "payment": samples.payment(
                    PAY_LATER, created_at=T0, failure="insufficient_funds", installment_plan_id=PLAN
                ),
                "installment_plan": samples.installment_plan(
                    PLAN, created_at=T0, first_payments=[PAY], later_payments=(PAY_LATER,)
                ),
            },
            "instalment:failed:insufficient_funds",
        ),
        (
            {
                "installment_plan": samples.installment_plan(
                    PLAN, created_at=T0, first_payments=[], failure="timeout"
                )
            },
            "failed:timeout",
        ),
    ],
    ids=[
        "created",
        "declined",
        "code-normalised",
        "failure-without-code",
        "paid",
        "refunded",
        "authorized",
        "oney-pending",
        "later-instalment",
        "plan-without-payment",
    ],
)
def test_the_state_of_a_fetched_payment(fetched, state):
    assert webhooks.state(fetched) == state


# --- A fetched payment read as a signal --------------------------------------------------------


def test_a_declined_payment_is_a_failure_with_its_code_buyer_and_order():
    signal = read({"payment": samples.payment(PAY, created_at=T0, failure="insufficient_funds")})
    assert signal.kind == SignalKind.FAILED
    assert (signal.provider, signal.payment_id, signal.event_id) == (
        "payplug",
        PAY,
        f"{PAY}:failed:insufficient_funds",
    )
    assert signal.event_type == "payment.failed:insufficient_funds"
    assert signal.codes == {"failure_code": "insufficient_funds"}
    assert (signal.order_reference, signal.amount, signal.currency) == ("ML-1", 8900, "EUR")
    assert (signal.buyer_email, signal.buyer_name, signal.buyer_phone) == (
        "camille@example.com",
        "Camille Martin",
        "+33612345678",
    )
    # A failure has no date of its own: the notification's time.
    assert signal.occurred_at == NOTIFIED_AT
    assert signal.attempt_id == PAY  # a PayPlug payment fails once
    # Its payment page takes no card any more: the recovery link goes to the shop.
    assert signal.recovery_url == ""
    assert signal.related_ids == ()


@pytest.mark.parametrize("code", ["timeout", "aborted"])
def test_a_buyer_who_left_is_abandoned(code):
    signal = read({"payment": samples.payment(PAY, created_at=T0, failure=code)})
    assert signal.kind == SignalKind.ABANDONED
    assert classify("payplug", signal.codes, signal.kind) == R.ABANDONED


def test_a_paid_payment_succeeds_when_it_was_paid():
    signal = read({"payment": samples.paid_payment(PAY, paid_at=T0)})
    assert signal.kind == SignalKind.SUCCEEDED
    assert signal.occurred_at == datetime.fromtimestamp(T0, tz=UTC)
    assert (signal.codes, signal.attempt_id) == ({}, "")


def test_the_payment_pages_paid_at_and_an_authorization_date_the_success():
    page_only = {**samples.paid_payment(PAY, paid_at=T0), "paid_at": None}
    assert read({"payment": page_only}).occurred_at == datetime.fromtimestamp(T0, tz=UTC)
    authorized = {**samples.payment(PAY, created_at=T0), "authorization": {"authorized_at": T0 + 5}}
    signal = read({"payment": authorized})
    assert signal.kind == SignalKind.SUCCEEDED
    assert signal.occurred_at == datetime.fromtimestamp(T0 + 5, tz=UTC)
    # A paid payment with no date at all: when PayPlug told us.
    undated = {**samples.paid_payment(PAY, paid_at=T0), "paid_at": None, "hosted_payment": {}}
    assert read({"payment": undated}).occurred_at == NOTIFIED_AT


def test_a_payment_still_pending_says_nothing():
    assert read({"payment": samples.payment(PAY, created_at=T0)}) is None
    oney = samples.payment(PAY, created_at=T0, oney="oney_x4_without_fees", pending=True)
    assert read({"payment": oney}) is None


@pytest.mark.parametrize("method", ["oney_x3_with_fees", "oney_x4_without_fees"])
def test_oney_payments_are_payments_like_the_rest(method):
    failed = read(
        {"payment": samples.payment(PAY, created_at=T0, oney=method, failure="card_declined")}
    )
    assert (failed.kind, failed.codes) == (SignalKind.FAILED, {"failure_code": "card_declined"})
    paid = read({"payment": samples.paid_payment(PAY, paid_at=T0, oney=method)})
    assert paid.kind == SignalKind.SUCCEEDED


def test_the_order_is_metadata_order_id_else_order_reference():
    assert (
        read(
            {"payment": samples.payment(PAY, created_at=T0, failure="aborted", order=1234)}
        ).order_reference
        == "1234"
    )
    by_reference = samples.payment(PAY, created_at=T0, failure="aborted", order=None)
    by_reference["metadata"] = {"order_reference": " ML-9 ", "customer_id": 7}
    assert read({"payment": by_reference}).order_reference == "ML-9"
    by_reference["metadata"] = {"customer_id": 7}
    assert read({"payment": by_reference}).order_reference == ""
    assert read({"payment": {**by_reference, "metadata": None}}).order_reference == ""


def test_the_buyer_of_an_older_api_version_is_in_customer():
    legacy = samples.payment(PAY, created_at=T0, failure="card_declined")
    legacy.pop("billing")
    legacy.pop("shipping")
    legacy["customer"] = {"email": "jo@example.com", "first_name": "Jo", "last_name": None}
    signal = read({"payment": legacy})
    assert (signal.buyer_email, signal.buyer_name, signal.buyer_phone) == (
        "jo@example.com",
        "Jo",
        "",
    )


def test_odd_values_are_read_as_nothing():
    odd = samples.payment(PAY, created_at=T0, failure="card_declined", currency=None)
    odd.update(amount="89.00", billing="camille", shipping=None)
    signal = read({"payment": odd})
    assert (signal.amount, signal.currency, signal.buyer_email) == (None, "", "")
    paid = {**samples.paid_payment(PAY, paid_at=T0), "paid_at": 10**15, "hosted_payment": None}
    assert read({"payment": paid}).occurred_at == NOTIFIED_AT
    assert webhooks.parse({"object": {"payment": {"failure": {"code": "timeout"}}}}) is None
    assert webhooks.parse({"notified_at": "yesterday", "object": {"payment": paid}}) is None
    assert webhooks.Adapter().parse(["not", "a", "body"]) is None


# --- Installment plans -------------------------------------------------------------------------


def plan(**fields):
    fields.setdefault("first_payments", [PAY_2, PAY])
    return samples.installment_plan(PLAN, created_at=T0, **fields)


def test_the_first_instalment_is_the_checkout_and_joins_its_plan():
    payment = samples.payment(PAY, created_at=T0, failure="3ds_declined", installment_plan_id=PLAN)
    signal = read({"payment": payment, "installment_plan": plan()})
    assert (signal.kind, signal.payment_id, signal.related_ids) == (SignalKind.FAILED, PAY, (PLAN,))
    assert classify("payplug", signal.codes, signal.kind) == R.AUTHENTICATION_FAILED


def test_a_later_instalment_is_not_a_lost_checkout():
    later = samples.payment(
        PAY_LATER, created_at=T0, failure="insufficient_funds", installment_plan_id=PLAN
    )
    assert read({"payment": later, "installment_plan": plan(later_payments=(PAY_LATER,))}) is None


def test_a_plan_with_no_payment_yet_is_read_as_itself():
    signal = read({"installment_plan": plan(first_payments=[], failure="timeout")})
    assert (signal.kind, signal.payment_id, signal.related_ids) == (SignalKind.ABANDONED, PLAN, ())
    assert (signal.amount, signal.event_type) == (8900, "installment_plan.failed:timeout")
    assert (signal.order_reference, signal.buyer_email) == ("ML-1", "camille@example.com")
    assert read({"installment_plan": plan(first_payments=[])}) is None  # nothing happened yet


def test_the_first_instalment_is_the_earliest_date_and_its_newest_payment():
    scheduled = plan(later_payments=(PAY_LATER,))
    scheduled["schedule"].reverse()
    scheduled["schedule"][0]["payment_ids"].append("not an id")
    assert webhooks.first_instalment_payments(scheduled) == [PAY_2, PAY]
    assert webhooks.first_instalment_payments({"schedule": None}) == []
