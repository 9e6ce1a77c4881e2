"""The Mollie adapter's pure parts: the notified id, the classification tables, the parsing of
fetched payments, the state that names a fetched event, the API key's format and the test event.
No database, no network."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from inbound.errors import VerificationError
from payments.classification import classify
from payments.providers.mollie import CONNECTION, samples
from payments.providers.mollie import codes as mollie
from payments.providers.mollie.webhooks import (
    TEST_PAYMENT_ID,
    notified_payment_id,
    parse,
    state,
)
from payments.reasons import FailureReason as R
from payments.signals import SignalKind

FAILED = SignalKind.FAILED
ABANDONED = SignalKind.ABANDONED
AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NOTIFIED = AT + timedelta(seconds=2)
PAYMENT = "tr_5B8cwPMGnU6qLbRvo7qEZo"


def stored(payment: dict, customer: dict | None = None, notified_at: datetime = NOTIFIED):
    """A fetched event's body, as inbound.notified stores it (JSON-decoded)."""
    fetched = (
        {"payment": payment} if customer is None else {"payment": payment, "customer": customer}
    )
    return json.loads(json.dumps({"notified_at": notified_at.isoformat(), "object": fetched}))


# --- The notification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"id=tr_d0b0E3EA3v",  # Mollie's own example (source/overview/webhooks.rst)
        b"id=tr_5B8cwPMGnU6qLbRvo7qEZo",  # today's longer ids (docs.mollie.com/reference/webhooks)
        b"id=tr_d0b0E3EA3v&testByMollie=1",  # a field Mollie might add is not ours to refuse
    ],
)
def test_a_notification_names_its_payment(body):
    assert notified_payment_id(body) == body.decode().split("&")[0].removeprefix("id=")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no payment id (expected id=tr_…)"),
        (b"id=", "not a Mollie payment id (expected id=tr_…)"),
        (b"foo=bar", "no payment id (expected id=tr_…)"),
        (b"id=tr_1&id=tr_2", "more than one id"),
        (b"id=ord_kEn1PlbGa", "a Mollie order (ord_…): only payments (tr_…) are read"),
        (b"id=pl_4Y0eZitmBnQ6IDoMqZQKh", "not a Mollie payment id (expected id=tr_…)"),
        (b"id=tr_", "not a Mollie payment id (expected id=tr_…)"),
        (b"id=tr_abc%2F..%2Fcustomers", "not a Mollie payment id (expected id=tr_…)"),
        (b"id=tr_" + b"a" * 65, "not a Mollie payment id (expected id=tr_…)"),
        (b"id=TR_d0b0E3EA3v", "not a Mollie payment id (expected id=tr_…)"),
        (b"id=tr_\xff", "body is not UTF-8"),
        (b'{"id": "tr_d0b0E3EA3v"}', "a JSON body: this URL takes Mollie's classic webhooks"),
        (b"&".join(b"f%d=1" % n for n in range(20)), "not a Mollie notification (id=tr_…)"),
    ],
)
def test_a_body_that_names_no_payment_is_refused_with_its_reason(body, reason):
    with pytest.raises(VerificationError) as refused:
        notified_payment_id(body)
    assert str(refused.value).startswith(reason)


def test_the_test_event_names_the_test_payment_and_needs_no_key():
    request = samples.test_event(storefront=None, secret="", now=0)
    assert request.body == b"id=" + TEST_PAYMENT_ID.encode()
    assert notified_payment_id(request.body) == TEST_PAYMENT_ID == "tr_aftersaletest"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


# --- The API key --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",  # Mollie's example key: 30 after the prefix
        "live_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",
        "test_4BBB6H4s2jGi3ajsx4E2KqY5sxSXaRV",  # 31, also in Mollie's documentation
    ],
)
def test_mollie_api_keys_are_accepted(key):
    assert CONNECTION.secret_format.accepts(key)


@pytest.mark.parametrize(
    "value",
    [
        "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXs",  # 29: shorter than any Mollie key
        "access_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",  # an access token sees test payments only
        "sk_live_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",  # PayPlug's secret key
        "Test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",
        " test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM",
        "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM!",
        "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsé",  # \w is ASCII here
        "pfl_QkEhN94Ba",  # a profile id
    ],
)
def test_anything_else_is_refused_with_the_expected_format(value):
    assert not CONNECTION.secret_format.accepts(value)
    assert "'live_' or 'test_'" in CONNECTION.secret_format.expected


# --- Every row of every table -------------------------------------------------------------------

# Source: https://docs.mollie.com/reference/get-payment, credit card details.failureReason
# ("Possible values"), the same in Mollie's OpenAPI description of June 2026.
DOCUMENTED_FAILURE_REASONS = [
    "authentication_abandoned",
    "authentication_failed",
    "authentication_required",
    "authentication_unavailable_acs",
    "card_declined",
    "card_expired",
    "inactive_card",
    "insufficient_funds",
    "invalid_cvv",
    "invalid_card_holder_name",
    "invalid_card_number",
    "invalid_card_type",
    "possible_fraud",
    "refused_by_issuer",
    "unknown_reason",
]
# Source: https://help.mollie.com/hc/en-gb/articles/115000309865 (failed SEPA direct debits).
DOCUMENTED_BANK_REASON_CODES = [
    "AC01",
    "AC04",
    "AC06",
    "AG02",
    "AM04",
    "MD01",
    "MD06",
    "MD07",
    "MS02",
    "MS03",
    "SL01",
]

TABLES = [
    ("failure_reason", mollie.FAILURE_REASONS),
    ("bank_reason_code", mollie.BANK_REASON_CODES),
    ("status", mollie.STATUSES),
]
ROWS = [
    pytest.param(key, code, reason, id=f"{key}-{code}")
    for key, table in TABLES
    for code, reason in table.items()
]


@pytest.mark.parametrize(("key", "code", "expected"), ROWS)
def test_every_table_row(key, code, expected):
    assert classify("mollie", {key: code}, FAILED) == expected
    assert classify("mollie", {key: f" {code.swapcase()} "}, FAILED) == expected


@pytest.mark.parametrize(
    ("documented", "table"),
    [
        pytest.param(DOCUMENTED_FAILURE_REASONS, mollie.FAILURE_REASONS, id="failure-reason"),
        pytest.param(DOCUMENTED_BANK_REASON_CODES, mollie.BANK_REASON_CODES, id="sepa"),
    ],
)
def test_every_documented_code_has_a_row_and_no_row_is_undocumented(documented, table):
    assert len(documented) == len(set(documented))
    assert set(documented) == set(table)
    assert all(isinstance(reason, R) for reason in table.values())


# --- Precedence, from what the codes mean -------------------------------------------------------

CASES = [
    ({"status": "failed", "failure_reason": "insufficient_funds"}, FAILED, R.INSUFFICIENT_FUNDS),
    ({"status": "failed", "failure_reason": "possible_fraud"}, FAILED, R.SUSPECTED_FRAUD),
    (
        {"status": "failed", "failure_reason": "authentication_abandoned"},
        FAILED,
        R.AUTHENTICATION_FAILED,
    ),
    # A card declined, then the buyer left the method selection: the decline says more.
    ({"status": "expired", "failure_reason": "card_expired"}, ABANDONED, R.CARD_EXPIRED),
    # An unmapped failure reason is unknown: never a guess from the vaguer status.
    ({"status": "canceled", "failure_reason": "new_reason_2027"}, ABANDONED, R.UNKNOWN),
    ({"status": "failed", "failure_reason": "unknown_reason"}, FAILED, R.UNKNOWN),
    (
        {"status": "failed", "bank_reason_code": "AM04", "method": "directdebit"},
        FAILED,
        R.INSUFFICIENT_FUNDS,
    ),
    ({"status": "failed", "bank_reason_code": "MD07"}, FAILED, R.MERCHANT_CONFIGURATION),
    ({"status": "failed", "bank_reason_code": "FF01"}, FAILED, R.UNKNOWN),
    # The card's reason comes first (a Bancontact payment may carry both in principle).
    ({"failure_reason": "card_declined", "bank_reason_code": "AM04"}, FAILED, R.BANK_DECLINED),
    ({"status": "canceled"}, ABANDONED, R.ABANDONED),
    ({"status": "expired", "method": "ideal"}, ABANDONED, R.ABANDONED),
    # A failed iDEAL or PayPal payment: Mollie gives no reason.
    ({"status": "failed", "method": "ideal"}, FAILED, R.UNKNOWN),
    ({}, FAILED, R.UNKNOWN),
    ({}, ABANDONED, R.ABANDONED),
    ({"failure_reason": "", "bank_reason_code": "", "status": "expired"}, FAILED, R.ABANDONED),
]


@pytest.mark.parametrize(("codes", "kind", "expected"), CASES)
def test_precedence(codes, kind, expected):
    assert classify("mollie", codes, kind) == expected


# --- Parsing a fetched payment ------------------------------------------------------------------


def test_a_failed_card_payment():
    payment = samples.failed(PAYMENT, "insufficient_funds", at=AT, amount="1007.00")
    signal = parse(stored(payment))
    assert signal.kind == SignalKind.FAILED
    assert (signal.event_id, signal.event_type) == (f"{PAYMENT}:failed", "failed")
    assert (signal.payment_id, signal.attempt_id, signal.related_ids) == (PAYMENT, PAYMENT, ())
    assert signal.occurred_at == AT  # failedAt
    assert (signal.order_reference, signal.amount, signal.currency) == ("ML-1", 100700, "EUR")
    assert (signal.buyer_email, signal.buyer_name) == ("camille@example.com", "Camille Martin")
    assert signal.codes == {
        "status": "failed",
        "failure_reason": "insufficient_funds",
        "method": "creditcard",
    }
    assert signal.recovery_url == ""


@pytest.mark.parametrize(
    ("status", "kind", "date_field"),
    [
        ("failed", SignalKind.FAILED, "failedAt"),
        ("canceled", SignalKind.ABANDONED, "canceledAt"),
        ("expired", SignalKind.ABANDONED, "expiredAt"),
        ("paid", SignalKind.SUCCEEDED, "paidAt"),
        ("authorized", SignalKind.SUCCEEDED, "authorizedAt"),
    ],
)
def test_each_settled_status_and_the_time_it_was_reached(status, kind, date_field):
    payment = samples.payment(PAYMENT, status, at=AT)
    assert payment[date_field] == "2026-11-20T10:00:00+00:00"
    signal = parse(stored(payment))
    assert (signal.kind, signal.occurred_at, signal.event_id) == (kind, AT, f"{PAYMENT}:{status}")


@pytest.mark.parametrize("status", ["open", "pending", "refunded", ""])
def test_a_payment_not_settled_says_nothing(status):
    assert parse(stored(samples.payment(PAYMENT, status, at=AT))) is None


def test_without_its_status_date_the_notification_time_is_used_never_created_at():
    payment = samples.payment(PAYMENT, "expired", at=AT)
    del payment["expiredAt"]
    assert parse(stored(payment)).occurred_at == NOTIFIED
    payment["expiredAt"] = "2026-11-20T11:00:00"  # no offset: UTC
    assert parse(stored(payment)).occurred_at == AT + timedelta(hours=1)
    payment["expiredAt"] = "2026-11-20T12:00:00+02:00"
    assert parse(stored(payment)).occurred_at == AT


def test_not_a_payment_is_nothing():
    assert parse({"notified_at": NOTIFIED.isoformat(), "object": {}}) is None
    assert parse({"object": {"payment": {"id": "ord_1", "status": "paid"}}}) is None
    assert parse({"object": {"payment": samples.paid(PAYMENT, at=AT) | {"paidAt": None}}}) is None


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ({"currency": "EUR", "value": "10.00"}, (1000, "EUR")),
        ({"currency": "eur", "value": "0.99"}, (99, "EUR")),
        ({"currency": "JPY", "value": "1000"}, (1000, "JPY")),  # no minor unit
        ({"currency": "KWD", "value": "1.234"}, (1234, "KWD")),  # three decimals
        ({"currency": "EUR", "value": "10.005"}, (1001, "EUR")),  # half up
        ({"currency": "EUR", "value": "ten"}, (None, "EUR")),
        ({"currency": "EUR", "value": "-1.00"}, (None, "EUR")),
        ({"currency": "EUR", "value": "NaN"}, (None, "EUR")),
        ({"currency": "EURO", "value": "10.00"}, (None, "")),
        ({"currency": "EUR", "value": 10}, (None, "EUR")),  # Mollie writes a string
        (None, (None, "")),
    ],
)
def test_amounts_in_the_currencys_minor_unit(amount, expected):
    payment = samples.failed(PAYMENT, at=AT)
    payment["amount"] = amount
    signal = parse(stored(payment))
    assert (signal.amount, signal.currency) == expected


@pytest.mark.parametrize(
    ("metadata", "order"),
    [
        ({"order_id": "ML-1"}, "ML-1"),
        ({"order_id": 12345}, "12345"),
        ({"order_reference": "ML-2"}, "ML-2"),
        ({"order_id": " ", "order_reference": "ML-3"}, "ML-3"),
        ('{"order_id": 12345}', "12345"),  # metadata as a JSON text of an object
        ("12345", ""),
        ("not json", ""),
        ({"order_id": True}, ""),
        (None, ""),
    ],
)
def test_the_order_comes_from_the_shops_metadata(metadata, order):
    payment = samples.failed(PAYMENT, at=AT)
    payment["metadata"] = metadata
    assert parse(stored(payment)).order_reference == order


def test_the_description_is_never_the_order():
    payment = samples.failed(PAYMENT, at=AT, order_id=None)
    assert payment["description"] == "Payment"
    assert parse(stored(payment)).order_reference == ""


def test_the_buyers_email_in_order_metadata_billing_shipping_bank_transfer_then_customer():
    payment = samples.failed(PAYMENT, at=AT, email="billing@example.com")
    payment["metadata"]["email"] = "meta@example.com"
    payment["shippingAddress"] = {"email": "shipping@example.com"}
    payment["details"]["billingEmail"] = "transfer@example.com"
    customer = samples.customer("cst_8wmqcHMN4U", email="customer@example.com")
    emails = []
    for field in ("metadata", "billingAddress", "shippingAddress", "details"):
        emails.append(parse(stored(payment, customer)).buyer_email)
        payment[field].pop("email" if field != "details" else "billingEmail")
    emails.append(parse(stored(payment, customer)).buyer_email)
    emails.append(parse(stored(payment)).buyer_email)
    assert emails == [
        "meta@example.com",
        "billing@example.com",
        "shipping@example.com",
        "transfer@example.com",
        "customer@example.com",
        "",
    ]


def test_the_buyers_name_and_phone():
    payment = samples.failed(PAYMENT, at=AT, name=("", ""), email=None)
    customer = samples.customer("cst_8wmqcHMN4U", email="c@example.com", name="Camille M.")
    assert parse(stored(payment, customer)).buyer_name == "Camille M."
    payment["billingAddress"] = {"givenName": "Camille", "phone": "+33612345678"}
    signal = parse(stored(payment, customer))
    assert (signal.buyer_name, signal.buyer_phone) == ("Camille", "+33612345678")
    paid = samples.paid(PAYMENT, at=AT, name=("", ""))
    paid["details"]["cardHolder"] = "C MARTIN"
    assert parse(stored(paid)).buyer_name == "C MARTIN"


def test_a_failed_direct_debit_carries_its_sepa_reason():
    payment = samples.failure(PAYMENT, R.MERCHANT_CONFIGURATION, at=AT)
    signal = parse(stored(payment))
    assert signal.codes == {"status": "failed", "bank_reason_code": "AG02", "method": "directdebit"}
    assert classify("mollie", signal.codes, signal.kind) == R.MERCHANT_CONFIGURATION


@pytest.mark.parametrize("reason", list(samples.FAILURES))
def test_each_sample_failure_gives_its_reason(reason):
    signal = parse(stored(samples.failure(PAYMENT, reason, at=AT)))
    assert classify("mollie", signal.codes, signal.kind) == reason


# --- The state that names a fetched event -------------------------------------------------------


@pytest.mark.parametrize(
    ("payment", "expected"),
    [
        (samples.failed(PAYMENT, "card_declined", at=AT), "failed"),
        (samples.failed(PAYMENT, "insufficient_funds", at=AT), "failed"),  # final: one state
        (samples.paid(PAYMENT, at=AT), "paid"),
        # A refund or a chargeback leaves the payment paid: the same state, no new event.
        (
            samples.paid(PAYMENT, at=AT)
            | {"amountRefunded": {"value": "89.00", "currency": "EUR"}},
            "paid",
        ),
        (samples.payment(PAYMENT, "open", at=AT), "open"),
        ({"id": PAYMENT, "status": "paid:1"}, "unknown"),
        ({"id": PAYMENT, "status": None}, "unknown"),
        ({"id": PAYMENT}, "unknown"),
    ],
)
def test_state_is_the_status(payment, expected):
    assert state({"payment": payment}) == expected
