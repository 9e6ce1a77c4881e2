"""The PayPal connection's parts without the database: its code tables and their precedence,
parsing PayPal's events into signals, its secret format, where its API calls go and what the
signature postback sends."""

import json
import random
from datetime import UTC, datetime

import pytest
import responses

from payments.classification import classify
from payments.providers.paypal import CONNECTION, client, samples, webhooks
from payments.providers.paypal import codes as paypal
from payments.reasons import FailureReason as R
from payments.signals import SignalKind

FAILED = SignalKind.FAILED
SUCCEEDED = SignalKind.SUCCEEDED
AT = 1_795_000_000  # 2026-11-18T11:06:40Z


def _words(text: str) -> list[str]:
    return text.split()


# --- The code tables ------------------------------------------------------------------------------

# paypal/PayPal-Python-Server-SDK:doc/models/processor-response-code.md, in its order (the same
# 154 values as the `response_code` enum of paypal/paypal-rest-api-specifications:
# openapi/payments_payment_v2.json).
DOCUMENTED_RESPONSE_CODES = _words("""
0000 00N7 0100 0390 0500 0580 0800 0880 0890 0960 0R00 1000 10BR 1300 1310 1312 1317 1320
1330 1335 1340 1350 1352 1360 1370 1380 1382 1384 1390 1393 5100 5110 5120 5130 5135 5140
5150 5160 5170 5180 5190 5200 5210 5400 5500 5650 5700 5710 5800 5900 5910 5920 5930 5950
6300 7600 7700 7710 7800 7900 8000 8010 8020 8030 8100 8110 8220 9100 9500 9510 9520 9530
9540 9600 PCNR PCVV PP06 PPRN PPAD PPAB PPAE PPAG PPAI PPAR PPAU PPAV PPAX PPBG PPC2 PPCE
PPCO PPCR PPCT PPCU PPD3 PPDC PPDI PPDV PPDT PPEF PPEL PPER PPEX PPFE PPFI PPFR PPFV PPGR
PPH1 PPIF PPII PPIM PPIT PPLR PPLS PPMB PPMC PPMD PPNC PPNL PPNM PPNT PPPH PPPI PPPM PPQC
PPRE PPRF PPRR PPS0 PPS1 PPS2 PPS3 PPS4 PPS5 PPS6 PPSC PPSD PPSE PPTE PPTF PPTI PPTR PPTT
PPTV PPUA PPUC PPUE PPUI PPUP PPUR PPVC PPVE PPVT
""")

# paypal/PayPal-Python-Server-SDK:doc/models/capture-incomplete-reason.md.
DOCUMENTED_CAPTURE_REASONS = _words("""
BUYER_COMPLAINT CHARGEBACK ECHECK INTERNATIONAL_WITHDRAWAL OTHER PENDING_REVIEW
RECEIVING_PREFERENCE_MANDATES_MANUAL_ACTION REFUNDED TRANSACTION_APPROVED_AWAITING_FUNDING
UNILATERAL VERIFICATION_REQUIRED DECLINED_BY_RISK_FRAUD_FILTERS
""")

TABLES = [
    ("response_code", paypal.RESPONSE_CODES),
    ("status_reason", paypal.CAPTURE_STATUS_REASONS),
    ("event_type", paypal.EVENT_TYPES),
]
ROWS = [
    pytest.param(key, code, reason, id=f"{key}-{code}")
    for key, table in TABLES
    for code, reason in table.items()
]


@pytest.mark.parametrize(("key", "code", "expected"), ROWS)
def test_every_table_row(key, code, expected):
    assert classify("paypal", {key: code}, FAILED) == expected


@pytest.mark.parametrize(("key", "code", "expected"), ROWS)
def test_every_table_row_ignores_case_and_whitespace(key, code, expected):
    assert classify("paypal", {key: f"  {code.lower()} "}, FAILED) == expected


@pytest.mark.parametrize(
    ("documented", "table"),
    [
        pytest.param(DOCUMENTED_RESPONSE_CODES, paypal.RESPONSE_CODES, id="response-codes"),
        pytest.param(DOCUMENTED_CAPTURE_REASONS, paypal.CAPTURE_STATUS_REASONS, id="reasons"),
    ],
)
def test_every_documented_code_has_a_row_and_no_other(documented, table):
    assert len(documented) == len(set(documented))
    assert set(documented) == set(table)


def test_the_tables_sizes():
    assert (len(paypal.RESPONSE_CODES), len(paypal.CAPTURE_STATUS_REASONS)) == (154, 12)
    for _, table in TABLES:
        assert all(isinstance(reason, R) for reason in table.values())
        assert len({code.casefold() for code in table}) == len(table)


CASES = [
    # The reasons the issue names.
    ({"response_code": "5120"}, R.INSUFFICIENT_FUNDS),
    ({"response_code": "5400"}, R.CARD_EXPIRED),
    ({"response_code": "5650"}, R.AUTHENTICATION_FAILED),
    ({"response_code": "9500"}, R.SUSPECTED_FRAUD),
    # The processor's code wins over the capture's reason and the event type.
    (
        {"response_code": "5120", "status_reason": "PENDING_REVIEW", "event_type": "x"},
        R.INSUFFICIENT_FUNDS,
    ),
    # An unknown processor code is unknown: no guess from the vaguer signals.
    ({"response_code": "PPZZ", "event_type": webhooks.CAPTURE_DECLINED}, R.UNKNOWN),
    ({"response_code": "PPZZ", "status_reason": "PENDING_REVIEW"}, R.UNKNOWN),
    # A denied capture: its reason.
    ({"status_reason": "PENDING_REVIEW", "event_type": webhooks.CAPTURE_DENIED}, R.SUSPECTED_FRAUD),
    ({"status_reason": "UNILATERAL"}, R.MERCHANT_CONFIGURATION),
    ({"status_reason": "NEW_REASON", "event_type": webhooks.CAPTURE_DECLINED}, R.UNKNOWN),
    # Without codes: the event type.
    ({"event_type": webhooks.CAPTURE_DECLINED}, R.BANK_DECLINED),
    ({"event_type": webhooks.APPROVAL_REVERSED}, R.MERCHANT_CONFIGURATION),
    ({"event_type": webhooks.CAPTURE_DENIED}, R.UNKNOWN),
    # The network's advice never decides the reason.
    ({"advice_code": "02", "event_type": webhooks.CAPTURE_DECLINED}, R.BANK_DECLINED),
    ({}, R.UNKNOWN),
]


@pytest.mark.parametrize(("codes", "expected"), CASES)
def test_precedence(codes, expected):
    assert classify("paypal", codes, FAILED) == expected


def test_no_codes_when_abandoned_is_abandoned_and_none_values_are_missing():
    assert classify("paypal", {}, SignalKind.ABANDONED) == R.ABANDONED
    assert classify("paypal", {"response_code": None, "status_reason": "ECHECK"}, FAILED) == (
        R.BANK_DECLINED
    )


@pytest.mark.parametrize(("reason", "entries"), list(samples.FAILURES.items()))
def test_each_sample_failure_is_classified_as_its_reason(reason, entries):
    """The samples the tests and the benchmarks send give the reason they stand for."""
    rng = random.Random(7)
    order = samples.Order("ML-1", 8900)
    for codes in entries:
        signal = webhooks.parse(samples.failure(rng, order, samples.new_payment(rng), codes, at=AT))
        assert signal.kind == FAILED
        assert classify("paypal", signal.codes, signal.kind) == reason, codes


# --- Parsing --------------------------------------------------------------------------------------

ORDER = samples.Order("ML-1042", 8900, email="camille@example.com", given_name="Camille")


def made(codes=None, *, success=False, sandbox=False):
    rng = random.Random(1)
    payment = samples.new_payment(rng)
    if success:
        return samples.success(rng, ORDER, payment, at=AT, sandbox=sandbox), payment
    return samples.failure(rng, ORDER, payment, codes or {}, at=AT, sandbox=sandbox), payment


def test_a_declined_capture():
    event, payment = made({"response_code": "5120", "advice_code": "02"})
    signal = webhooks.parse(event)
    capture_id = payment.captures[0]
    assert (signal.kind, signal.event_id, signal.event_type) == (
        FAILED,
        event["id"],
        "PAYMENT.CAPTURE.DECLINED",
    )
    assert (signal.payment_id, signal.related_ids, signal.attempt_id) == (
        capture_id,
        (payment.order_id,),
        capture_id,
    )
    assert (signal.order_reference, signal.amount, signal.currency) == ("ML-1042", 8900, "EUR")
    assert signal.occurred_at == datetime(2026, 11, 18, 11, 6, 40, tzinfo=UTC)
    assert signal.codes == {
        "event_type": "PAYMENT.CAPTURE.DECLINED",
        "response_code": "5120",
        "advice_code": "02",
    }
    assert signal.buyer_email == ""  # a capture names no buyer: the worker asks the order


def test_a_denied_capture_keeps_its_status_reason():
    event, _ = made({"status_reason": "PENDING_REVIEW"})
    signal = webhooks.parse(event)
    assert signal.event_type == "PAYMENT.CAPTURE.DENIED"
    assert signal.codes == {
        "event_type": "PAYMENT.CAPTURE.DENIED",
        "status_reason": "PENDING_REVIEW",
    }


def test_a_completed_capture_is_a_success_with_its_ids():
    event, payment = made(success=True)
    signal = webhooks.parse(event)
    assert signal.kind == SUCCEEDED
    assert (signal.payment_id, signal.related_ids) == (payment.captures[0], (payment.order_id,))
    assert (signal.order_reference, signal.amount) == ("ML-1042", 8900)


def test_an_approval_reversed_names_the_order_and_its_payer_when_there():
    rng = random.Random(3)
    payment = samples.new_payment(rng)
    resource = samples.reversed_approval(ORDER, payment, with_payer=True)
    signal = webhooks.parse(samples.event(rng, webhooks.APPROVAL_REVERSED, resource, at=AT))
    assert (signal.kind, signal.payment_id, signal.related_ids) == (FAILED, payment.order_id, ())
    assert (signal.order_reference, signal.amount, signal.currency) == ("ML-1042", 8900, "EUR")
    assert (signal.buyer_email, signal.buyer_name) == ("camille@example.com", "Camille")
    assert signal.codes == {"event_type": "CHECKOUT.PAYMENT-APPROVAL.REVERSED"}


def test_the_order_reference_is_the_invoice_id_else_the_custom_id():
    event, _ = made({"response_code": "5100"})
    del event["resource"]["invoice_id"]
    event["resource"]["custom_id"] = " shop-42 "
    assert webhooks.parse(event).order_reference == "shop-42"
    del event["resource"]["custom_id"]
    assert webhooks.parse(event).order_reference == ""


@pytest.mark.parametrize(
    ("money", "expected"),
    [
        ({"currency_code": "EUR", "value": "89.00"}, (8900, "EUR")),
        ({"currency_code": "eur", "value": "0.5"}, (50, "EUR")),
        ({"currency_code": "JPY", "value": "8900"}, (8900, "JPY")),  # no minor unit
        ({"currency_code": "KWD", "value": "1.250"}, (1250, "KWD")),  # three places
        ({"currency_code": "EUR", "value": "89.001"}, (None, "EUR")),  # not an exact amount
        ({"currency_code": "EUR", "value": "-1.00"}, (None, "EUR")),
        ({"currency_code": "EUR", "value": "NaN"}, (None, "EUR")),
        ({"currency_code": "EUR", "value": "1e30"}, (None, "EUR")),
        ({"currency_code": "EUR", "value": ""}, (None, "EUR")),
        ({"currency_code": "EUR", "value": 89}, (None, "EUR")),  # PayPal sends strings
        ({"value": "89.00"}, (None, "")),
        ({}, (None, "")),
    ],
)
def test_amounts_in_minor_units(money, expected):
    assert webhooks.minor_units(money) == expected


def test_an_event_that_cannot_be_placed_or_is_not_read_gives_nothing():
    event, _ = made({"response_code": "5120"})
    assert webhooks.parse({**event, "create_time": "yesterday"}) is None
    assert webhooks.parse({**event, "resource": {**event["resource"], "id": ""}}) is None
    assert webhooks.parse({**event, "event_type": "PAYMENT.CAPTURE.PENDING"}) is None
    assert webhooks.parse({**event, "resource": "not an object"}) is None


def test_a_create_time_without_an_offset_is_read_as_utc():
    event, _ = made({"response_code": "5120"})
    event["create_time"] = "2026-11-18T09:46:40"
    assert webhooks.parse(event).occurred_at == datetime(2026, 11, 18, 9, 46, 40, tzinfo=UTC)


def test_the_buyer_of_an_order_from_payer_else_the_paypal_wallet():
    rng = random.Random(5)
    order = samples.order_resource(
        samples.Order("ML-1", 100, email="a@example.com", given_name="Ana", surname="Lopes"),
        samples.new_payment(rng),
    )
    assert webhooks.buyer(order) == ("a@example.com", "Ana Lopes")
    del order["payer"]
    assert webhooks.buyer(order) == ("a@example.com", "Ana Lopes")
    assert webhooks.buyer({"payer": {"name": {"full_name": "Ana L."}}}) == ("", "Ana L.")
    assert webhooks.FromOrder.of(order).reference == "ML-1"


# --- The secret -----------------------------------------------------------------------------------

CLIENT_ID = "AV8hdBBM7nB9W2fGsS-yzNpW9pQ7j0fqOGm1RjbhT2aXEVtA3TLxGSs_RjbB2vKSf1aA5VeVgXn1K6Ky"
CLIENT_SECRET = "EJuSmYMfsVyQ3kDOoAHsG1QTmUdaL3b6sk-2VBqS7pBwDrLnoC_jpMfTmV7kaW5y0CbW8fq2yW0L9A"


@pytest.mark.parametrize(
    "secret",
    [
        f"{CLIENT_ID}:{CLIENT_SECRET}:8PT597110X687430LKGECATA",
        f"{CLIENT_ID}:{CLIENT_SECRET}:1JE4291016473214C",
    ],
)
def test_the_secret_format_accepts_a_rest_apps_credentials_and_webhook_id(secret):
    assert CONNECTION.secret_format.accepts(secret)
    app = client.credentials(secret)
    assert (app.client_id, app.client_secret) == (CLIENT_ID, CLIENT_SECRET)
    assert CLIENT_SECRET not in repr(app) and CLIENT_ID not in repr(app)


@pytest.mark.parametrize(
    "secret",
    [
        f"{CLIENT_ID}:{CLIENT_SECRET}",  # no webhook id
        f"{CLIENT_ID}:8PT597110X687430LKGECATA",  # no client secret
        f"{CLIENT_ID} {CLIENT_SECRET} 8PT597110X687430LKGECATA",  # not joined by colons
        f"{CLIENT_ID}:{CLIENT_SECRET}:WH-8PT597110X687430",  # an event id, not a webhook id
        f"{CLIENT_ID}:{CLIENT_SECRET}:8PT597110X687430LKGECATA:extra",
        "whsec_abcdefghijklmnop1234",
    ],
)
def test_the_secret_format_refuses_anything_else_with_a_clear_message(secret):
    assert not CONNECTION.secret_format.accepts(secret)
    assert client.credentials(secret) is None
    assert CONNECTION.secret_format.expected.startswith(
        "expected <client id>:<client secret>:<webhook id>"
    )


def test_the_guide_lists_the_events_read_and_how_to_test_in_the_sandbox():
    assert CONNECTION.guide.events == (
        "PAYMENT.CAPTURE.COMPLETED",
        "PAYMENT.CAPTURE.DECLINED",
        "PAYMENT.CAPTURE.DENIED",
        "CHECKOUT.PAYMENT-APPROVAL.REVERSED",
    )
    assert "Webhooks simulator" in str(CONNECTION.guide.test)
    assert "sandbox" in str(CONNECTION.guide.test)


# --- Where the calls go, and what the postback sends ----------------------------------------------


def test_a_set_api_base_always_wins(settings):
    settings.PAYPAL_API_BASE = "https://paypal.stand-in.test/"
    sandbox = {"Paypal-Cert-Url": "https://api.sandbox.paypal.com/v1/notifications/certs/C"}
    assert client.api_base(sandbox, {}) == "https://paypal.stand-in.test"


@pytest.mark.parametrize(
    ("headers", "event", "expected"),
    [
        ({"PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/C"}, {}, "live"),
        ({"paypal-cert-url": "https://api.sandbox.paypal.com/v1/certs/C"}, {}, "sandbox"),
        ({"Paypal-Cert-Url": "https://api-m.sandbox.paypal.com/v1/certs/C"}, {}, "sandbox"),
        (
            {"Paypal-Cert-Url": "https://api.paypal.com/v1/certs/C"},
            {"links": [{"href": "https://api.sandbox.paypal.com/v1/notifications/x"}]},
            "sandbox",
        ),
        # A host that merely names the sandbox in its path is not the sandbox.
        ({"Paypal-Cert-Url": "https://evil.test/api.sandbox.paypal.com"}, {}, "live"),
        ({"Paypal-Cert-Url": "not a url ["}, {"links": "nonsense"}, "live"),
    ],
)
def test_without_the_setting_the_event_says_sandbox_or_live(settings, headers, event, expected):
    settings.PAYPAL_API_BASE = ""
    base = {"live": client.LIVE_API, "sandbox": client.SANDBOX_API}[expected]
    assert client.api_base(headers, event) == base


def test_the_postback_carries_the_headers_the_webhook_id_and_the_event_verbatim():
    event, _ = made({"response_code": "5120"})
    delivered = samples.delivered(event, "8PT597110X687430LKGECATA", now=AT)
    raw = delivered.body.decode()
    body = client.postback_body(delivered.headers, "8PT597110X687430LKGECATA", raw)
    assert delivered.body in body  # the event's own bytes, not written again
    fields = json.loads(body)
    assert fields["webhook_event"] == event
    assert fields == {
        "auth_algo": "SHA256withRSA",
        "cert_url": "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77",
        "transmission_id": delivered.headers["PAYPAL-TRANSMISSION-ID"],
        "transmission_sig": delivered.headers["PAYPAL-TRANSMISSION-SIG"],
        "transmission_time": "2026-11-18T11:06:40Z",
        "webhook_id": "8PT597110X687430LKGECATA",
        "webhook_event": event,
    }


def test_the_stand_in_signature_changes_with_the_webhook_the_body_and_the_transmission():
    body = b'{"id":"WH-1"}'
    signature = samples.stand_in_signature(body, "WEBHOOK1A", "t-1", "2026-11-18T09:46:40Z")
    assert signature != samples.stand_in_signature(body, "WEBHOOK2B", "t-1", "2026-11-18T09:46:40Z")
    assert signature != samples.stand_in_signature(
        b'{"id":"WH-2"}', "WEBHOOK1A", "t-1", "2026-11-18T09:46:40Z"
    )
    assert signature != samples.stand_in_signature(body, "WEBHOOK1A", "t-2", "2026-11-18T09:46:40Z")


@pytest.mark.django_db
def test_a_token_too_short_lived_to_keep_a_minute_is_not_kept(settings, fresh_cache):
    app = client.credentials(f"{CLIENT_ID}:{CLIENT_SECRET}:8PT597110X687430LKGECATA")
    with responses.RequestsMock() as mock:
        mock.post(f"{client.LIVE_API}/v1/oauth2/token", json=samples.token("A21AAshort", 45))
        mock.post(f"{client.LIVE_API}/v1/oauth2/token", json=samples.token("A21AAlong", 600))
        assert client.access_token(client.LIVE_API, app) == "A21AAshort"
        assert client.access_token(client.LIVE_API, app) == "A21AAlong"
        assert client.access_token(client.LIVE_API, app) == "A21AAlong"  # kept now
        assert len(mock.calls) == 2
        # Basic auth with the app's credentials, the client-credentials grant.
        request = mock.calls[0].request
        assert request.headers["Authorization"].startswith("Basic ")
        assert request.body == "grant_type=client_credentials"
