"""The Lyra adapter (PayZen, Systempay, Sogecommerce, Scellius): both IPN signatures, and parsing
of the fixtures.

Pure functions: no database. tests/payloads/lyra/ holds Lyra's own simulated REST IPN with its
kr-hash (rest.simulated_ipn.json, from lyra/rest-php-examples: www/helpers.php), REST payment
objects (rest.*.json: the kr-answer) and form notifications (form.*.json: the vads_ fields),
which the tests sign with their own keys.
"""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from inbound.errors import VerificationError
from payments.providers.lyra import CONNECTION, samples
from payments.providers.lyra.webhooks import (
    SIGNAL_STATUSES,
    Notification,
    event_id,
    form_signature,
    parse,
    read,
    rest_hash,
    stored_event_id,
    verify,
)
from payments.signals import PaymentSignal, SignalKind
from tests.factories import StorefrontFactory

PAYLOADS = Path(__file__).parent / "payloads" / "lyra"
# The demo shop's REST API password of Lyra's examples (lyra/rest-php-examples: www/keys.php),
# which signs its simulated IPN.
DEMO_PASSWORD = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M"
PASSWORD = "prodpassword_Q7sLw2Xk9Vd4Hn6Tb8Rc3Mz5"
OLD_PASSWORD = "prodpassword_A1b2C3d4E5f6G7h8I9j0K1l2"
KEY = "Zx8Qw3Lp5Rt7Yu9K"  # a form key (alphanumeric, as Lyra recommends)
OLD_KEY = "1111111111111111"  # the test key of Lyra's form examples (config/config.php)
AT = datetime(2025, 11, 20, 9, 0, 12, tzinfo=UTC)


def kr_hash(text: str, key: str) -> str:
    """REST's kr-hash written out independently of the adapter: hex HMAC-SHA256 of kr-answer."""
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def vads_signature(fields: dict, key: str) -> str:
    """The form's signature written out independently of the adapter: Base64 HMAC-SHA256, keyed
    by the key, of the vads_ values sorted by name, joined with "+", then "+key"."""
    text = "+".join([*(fields[k] for k in sorted(fields) if k.startswith("vads_")), key])
    return base64.b64encode(hmac.new(key.encode(), text.encode(), hashlib.sha256).digest()).decode()


def load(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text())


def rest_body(answer: dict | str, key: str = PASSWORD, **fields) -> bytes:
    """A REST IPN's body: kr-answer as given (a JSON text) or compact JSON, signed with `key`."""
    text = answer if isinstance(answer, str) else json.dumps(answer, separators=(",", ":"))
    form = {
        "kr-hash": kr_hash(text, key),
        "kr-hash-algorithm": "sha256_hmac",
        "kr-hash-key": "password",
        "kr-answer-type": "V4/Payment",
        "kr-answer": text,
        **fields,
    }
    return urlencode(form).encode()


def form_body(fields: dict, key: str = KEY, **extra) -> bytes:
    return urlencode({**fields, "signature": vads_signature(fields, key), **extra}).encode()


def simulated_ipn() -> bytes:
    return urlencode(load("rest.simulated_ipn.json")).encode()


# --- Compatibility with Lyra's own signatures ---------------------------------------------------


def test_lyras_simulated_ipn_verifies_with_the_demo_password():
    fields = load("rest.simulated_ipn.json")
    assert kr_hash(fields["kr-answer"], DEMO_PASSWORD) == fields["kr-hash"]
    notification = verify(simulated_ipn(), [DEMO_PASSWORD])
    assert notification.kind == "rest"
    assert notification.answer["orderStatus"] == "PAID"
    assert rest_hash(fields["kr-answer"], DEMO_PASSWORD) == fields["kr-hash"]


def test_the_simulated_ipn_with_its_amount_changed_does_not_verify():
    fields = load("rest.simulated_ipn.json")
    fields["kr-answer"] = fields["kr-answer"].replace(
        '"orderTotalAmount":990', '"orderTotalAmount":991'
    )
    with pytest.raises(VerificationError, match="no matching signature"):
        verify(urlencode(fields).encode(), [DEMO_PASSWORD])


# A worked example of the form signature in its legacy SHA-1 form, with non-ASCII values (UTF-8),
# from the tests of Entr'ouvert's eopayment (tests/test_systempayv2.py), which follows Lyra's own
# example (key 1122334455667788).
SHA1_EXAMPLE = {
    "vads_version": "V2",
    "vads_page_action": "PAYMENT",
    "vads_action_mode": "INTERACTIVE",
    "vads_payment_config": "SINGLE",
    "vads_site_id": "12345678",
    "vads_ctx_mode": "TEST",
    "vads_trans_id": "654321",
    "vads_trans_date": "20090501193530",
    "vads_amount": "1524",
    "vads_currency": "978",
    "vads_cust_first_name": "Sergheï",
    "vads_cust_last_name": "Mihaï",
}


def test_the_legacy_sha1_worked_example_verifies():
    key, signature = "1122334455667788", "4d2010d3b4566841ee0b0b2c74b6650bce65365e"
    assert form_signature(SHA1_EXAMPLE, key, algorithm="SHA-1") == signature
    body = urlencode({**SHA1_EXAMPLE, "signature": signature}).encode()
    assert verify(body, [key]).fields["vads_cust_first_name"] == "Sergheï"
    assert verify(urlencode({**SHA1_EXAMPLE, "signature": signature.upper()}).encode(), [key])
    tampered = urlencode({**SHA1_EXAMPLE, "vads_amount": "1525", "signature": signature})
    with pytest.raises(VerificationError, match="no matching signature"):
        verify(tampered.encode(), [key])


# --- verify -------------------------------------------------------------------------------------


def test_the_adapters_form_signature_is_the_documented_hmac():
    # Checked against this file's helper, not only against verify: a mistake shared by the
    # adapter's sign and verify would pass a round trip.
    fields = load("form.refused.json")
    assert form_signature(fields, KEY) == vads_signature(fields, KEY)
    assert samples.form_request(fields, KEY).body == form_body(fields)


def test_the_samples_rest_hash_is_the_documented_hmac():
    signed = samples.rest_request(load("rest.refused.json"), PASSWORD)
    fields = dict(_pairs(signed.body))
    assert fields["kr-hash"] == kr_hash(fields["kr-answer"], PASSWORD)
    assert fields["kr-hash-key"] == "password"
    assert signed.headers == {"Content-Type": "application/x-www-form-urlencoded"}


def _pairs(body: bytes):
    from urllib.parse import parse_qsl

    return parse_qsl(body.decode(), keep_blank_values=True)


def test_a_rest_ipn_verifies_and_gives_the_answer():
    answer = load("rest.refused.json")
    notification = verify(rest_body(answer), [PASSWORD])
    assert (notification.kind, notification.answer) == ("rest", answer)


def test_a_form_ipn_verifies_and_gives_its_fields():
    fields = load("form.refused.json")
    notification = verify(form_body(fields), [KEY])
    assert notification.kind == "form" and notification.answer is None
    assert notification.fields == {**fields, "signature": vads_signature(fields, KEY)}


def test_escaped_slashes_in_kr_answer_verify_as_lyras_sdk_reads_them():
    # Lyra signs "/" and some servers deliver "\/": its SDK unescapes before hashing.
    answer = load("rest.refused.json")
    signed = samples.rest_request(answer, PASSWORD, escape_slashes=True)
    posted = dict(_pairs(signed.body))["kr-answer"]
    assert "\\/" in posted
    assert verify(signed.body, [PASSWORD]).answer == answer
    # And a kr-answer signed exactly as posted, escapes included, verifies too.
    assert verify(rest_body(posted), [PASSWORD]).answer == answer


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda: rest_body(load("rest.refused.json"), OLD_PASSWORD), id="rest"),
        pytest.param(lambda: form_body(load("form.refused.json"), OLD_KEY), id="form"),
    ],
)
def test_any_active_secret_verifies_so_keys_can_be_rotated(body):
    assert verify(body(), [PASSWORD, KEY, OLD_PASSWORD, OLD_KEY])
    with pytest.raises(VerificationError, match="no matching signature"):
        verify(body(), [PASSWORD, KEY])  # the old secret revoked


def test_secrets_are_tried_whatever_kr_hash_key_says():
    # kr-hash-key only names the key Lyra used; the active secret that verifies decides.
    body = rest_body(load("rest.refused.json"), PASSWORD, **{"kr-hash-key": "sha256_hmac"})
    assert verify(body, [KEY, PASSWORD]).kind == "rest"


def test_a_secret_with_surrounding_spaces_still_verifies():
    assert verify(form_body(load("form.paid.json")), [f"  {KEY}\n"]).kind == "form"


def test_a_non_ascii_signature_is_a_mismatch_not_a_crash():
    fields = load("form.refused.json")
    body = urlencode({**fields, "signature": "é" * 44}).encode()
    with pytest.raises(VerificationError, match="no matching signature"):
        verify(body, [KEY])


def _tampered_form() -> bytes:
    fields = load("form.refused.json")
    signature = vads_signature(fields, KEY)
    return urlencode({**fields, "vads_amount": "1", "signature": signature}).encode()


def _tampered_rest() -> bytes:
    answer = load("rest.refused.json")
    text = json.dumps(answer, separators=(",", ":"))
    return rest_body(text).replace(b"8900", b"8901")


BAD_REQUESTS = {
    "rest, wrong key": (lambda: rest_body(load("rest.refused.json"), OLD_PASSWORD), "no matching"),
    "rest, amount changed": (_tampered_rest, "no matching signature"),
    "rest, no kr-hash": (
        lambda: rest_body(load("rest.refused.json"), **{"kr-hash": ""}),
        "no kr-hash",
    ),
    "rest, other algorithm": (
        lambda: rest_body(load("rest.refused.json"), **{"kr-hash-algorithm": "sha1"}),
        "unsupported kr-hash-algorithm",
    ),
    "rest, kr-answer not JSON": (lambda: rest_body("{not json"), "kr-answer is not a JSON object"),
    "rest, kr-answer a list": (lambda: rest_body("[1]"), "kr-answer is not a JSON object"),
    "form, wrong key": (lambda: form_body(load("form.refused.json"), OLD_KEY), "no matching"),
    "form, amount changed": (_tampered_form, "no matching signature"),
    "form, no signature": (
        lambda: urlencode(load("form.refused.json")).encode(),
        "no kr-answer or signature",
    ),
    "form, empty signature": (
        lambda: urlencode({**load("form.refused.json"), "signature": ""}).encode(),
        "no signature",
    ),
    "form, no vads_ fields": (lambda: b"signature=abc", "no vads_ fields"),
    "a field twice": (
        lambda: form_body(load("form.refused.json")) + b"&vads_amount=1",
        "a field is given twice",
    ),
    "not UTF-8": (lambda: b"vads_amount=\xff&signature=x", "body is not UTF-8"),
    "bad percent-escape": (lambda: b"vads_amount=%ff&signature=x", "body is not UTF-8"),
    "JSON body": (lambda: b'{"kr-answer": "{}"}', "no kr-answer or signature"),
    "empty body": (lambda: b"", "no kr-answer or signature"),
}


@pytest.mark.parametrize(("make", "reason"), BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_a_bad_request_is_refused_with_a_short_safe_reason(make, reason):
    with pytest.raises(VerificationError) as refused:
        verify(make(), [PASSWORD, KEY])
    message = str(refused.value)
    assert reason in message
    assert len(message) < 80
    for secret in (PASSWORD, KEY, OLD_PASSWORD, OLD_KEY):
        assert secret not in message


@pytest.mark.parametrize("keys", [[], [""], ["  "]])
def test_without_a_key_everything_is_refused(keys):
    with pytest.raises(VerificationError, match="no key configured"):
        verify(form_body(load("form.refused.json")), keys)


# --- parse --------------------------------------------------------------------------------------


def signal(kind: SignalKind, **fields) -> PaymentSignal:
    return PaymentSignal(provider="lyra", kind=kind, **fields)


def signed(name: str) -> bytes:
    if name == "rest.simulated_ipn.json":
        return simulated_ipn()
    if name.startswith("rest."):
        return rest_body(load(name))
    return form_body(load(name))


SECRETS = [DEMO_PASSWORD, PASSWORD, KEY]

EXPECTED = {
    # Lyra's own sample: a payment accepted (AUTHORISED), no name, the approval "0".
    "rest.simulated_ipn.json": signal(
        SignalKind.SUCCEEDED,
        event_id="971b6b3b9e364e87bfbe9886b3a75df4:AUTHORISED",
        event_type="rest.AUTHORISED",
        occurred_at=datetime(2018, 11, 8, 8, 35, 9, tzinfo=UTC),
        payment_id="971b6b3b9e364e87bfbe9886b3a75df4",
        order_reference="myOrderId-187033",
        amount=990,
        currency="EUR",
        buyer_email="sample@example.com",
        codes={"status": "AUTHORISED"},
        attempt_id="971b6b3b9e364e87bfbe9886b3a75df4",
    ),
    "rest.refused.json": signal(
        SignalKind.FAILED,
        event_id="5b2ff0c4e5a14f5d9f5e1a2b3c4d5e6f:REFUSED",
        event_type="rest.REFUSED",
        occurred_at=AT,
        payment_id="5b2ff0c4e5a14f5d9f5e1a2b3c4d5e6f",
        order_reference="ML-3001",
        amount=8900,
        currency="EUR",
        buyer_email="camille.martin@example.com",
        buyer_name="Camille Martin",
        buyer_phone="+33612345678",
        codes={
            "status": "REFUSED",
            "auth_result": "51",
            "error_code": "ACQ_001",
            "detailed_error_code": "51",
        },
        attempt_id="5b2ff0c4e5a14f5d9f5e1a2b3c4d5e6f",
    ),
    "rest.abandoned.json": signal(
        SignalKind.ABANDONED,
        event_id="0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f:ABANDONED",
        event_type="rest.ABANDONED",
        occurred_at=datetime(2025, 11, 20, 9, 30, tzinfo=UTC),
        payment_id="0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f",
        order_reference="ML-3002",
        amount=4500,
        currency="EUR",
        buyer_email="jules.bernard@example.com",
        buyer_name="Jules Bernard",
        codes={"status": "ABANDONED"},
        attempt_id="0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f",
    ),
    "form.refused.json": signal(
        SignalKind.FAILED,
        event_id="9f8e7d6c5b4a49382716f5e4d3c2b1a0:REFUSED",
        event_type="form.REFUSED",
        occurred_at=datetime(2025, 11, 21, 14, 5, 40, tzinfo=UTC),
        payment_id="9f8e7d6c5b4a49382716f5e4d3c2b1a0",
        related_ids=("trans:12345678:20251121140440:301245",),
        order_reference="ML-3003",
        amount=12450,
        currency="EUR",
        buyer_email="lea.petit@example.com",
        buyer_name="Léa Petit",
        codes={"status": "REFUSED", "result": "05", "auth_result": "05"},
        attempt_id="9f8e7d6c5b4a49382716f5e4d3c2b1a0",
    ),
    "form.paid.json": signal(
        SignalKind.SUCCEEDED,
        event_id="1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6:AUTHORISED",
        event_type="form.AUTHORISED",
        occurred_at=datetime(2025, 11, 21, 14, 20, 3, tzinfo=UTC),
        payment_id="1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6",
        related_ids=("trans:12345678:20251121141903:301246",),
        order_reference="ML-3003",
        amount=12450,
        currency="EUR",
        buyer_email="lea.petit@example.com",
        buyer_name="Léa Petit",
        codes={"status": "AUTHORISED"},
        attempt_id="1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6",
    ),
    # No transaction was created: the payment request is the payment, the event its own attempt.
    "form.abandoned.json": signal(
        SignalKind.ABANDONED,
        event_id="trans:12345678:20251122095900:301300:ABANDONED",
        event_type="form.ABANDONED",
        occurred_at=datetime(2025, 11, 22, 9, 59, tzinfo=UTC),
        payment_id="trans:12345678:20251122095900:301300",
        order_reference="ML-3004",
        amount=3500,
        currency="EUR",
        buyer_email="hugo.moreau@example.com",
        buyer_name="Hugo Moreau",
        codes={"status": "ABANDONED", "result": "17"},
    ),
}


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items(), ids=EXPECTED.keys())
def test_each_fixture_parses_to_its_signal(name, expected):
    assert parse(verify(signed(name), SECRETS)) == expected


@pytest.mark.parametrize("name", EXPECTED)
def test_a_stored_body_parses_the_same_way(name):
    # The edge stores the IPN's body as posted; the worker reads it without verifying again.
    body = signed(name).decode()
    assert CONNECTION.adapter.signals(body) == [EXPECTED[name]]


def test_the_fixtures_classify_as_their_codes_say():
    classify = CONNECTION.adapter.classify
    reasons = {name: classify(s.codes, s.kind) for name, s in EXPECTED.items() if s.codes}
    assert reasons["rest.refused.json"] == "insufficient_funds"
    assert reasons["form.refused.json"] == "bank_declined"
    assert reasons["rest.abandoned.json"] == reasons["form.abandoned.json"] == "abandoned"


def test_a_body_that_is_not_an_ipn_gives_no_signal():
    assert CONNECTION.adapter.signals("a=1") == []
    assert CONNECTION.adapter.signals("kr-answer=%5B%5D") == []
    assert CONNECTION.adapter.parse({"not": "a notification"}) is None


# --- Identity -----------------------------------------------------------------------------------


def test_a_retried_ipn_has_the_same_identity_and_a_later_state_another():
    fields = load("form.refused.json")
    first = verify(form_body(fields), [KEY])
    # Lyra's automatic retry, or a resend from the Back Office: another source, the same fact.
    retried = verify(form_body({**fields, "vads_url_check_src": "RETRY"}), [KEY])
    assert event_id(first) == event_id(retried) == "9f8e7d6c5b4a49382716f5e4d3c2b1a0:REFUSED"
    later = verify(form_body({**fields, "vads_trans_status": "CANCELLED"}), [KEY])
    assert event_id(later) == "9f8e7d6c5b4a49382716f5e4d3c2b1a0:CANCELLED"


def test_the_same_transaction_says_the_same_in_either_integration():
    # The statuses are one vocabulary: a shop posting both formats for one attempt stores it once.
    rest = read(rest_body(load("rest.refused.json")).decode())
    form = Notification(
        fields={
            "vads_trans_uuid": "5b2ff0c4e5a14f5d9f5e1a2b3c4d5e6f",
            "vads_trans_status": "REFUSED",
        }
    )
    assert event_id(rest) == event_id(form)


def test_a_rest_payment_without_a_transaction_is_named_by_its_order():
    answer = load("rest.abandoned.json")
    answer["transactions"] = []
    notification = verify(rest_body(answer), [PASSWORD])
    assert event_id(notification) == "order:ML-3002:ABANDONED"
    assert parse(notification).payment_id == "order:ML-3002"


def test_a_notification_that_names_nothing_is_refused_at_the_edge():
    answer = load("rest.abandoned.json")
    answer["transactions"] = []
    del answer["orderDetails"]["orderId"]
    notification = verify(rest_body(answer), [PASSWORD])
    assert event_id(notification) == ""
    with pytest.raises(VerificationError, match="names no transaction"):
        CONNECTION.adapter.events(None, b"", notification)


def test_an_identity_longer_than_the_column_is_stored_as_its_digest():
    assert stored_event_id("x" * 255) == "x" * 255
    digest = stored_event_id("x" * 256)
    assert digest.startswith("sha256:") and len(digest) == 71
    assert stored_event_id("x" * 256) == digest


# --- Which notifications are read ---------------------------------------------------------------


@pytest.mark.parametrize(("status", "kind"), SIGNAL_STATUSES.items())
def test_each_read_status_gives_its_kind(status, kind):
    fields = {**load("form.refused.json"), "vads_trans_status": status}
    assert parse(Notification(fields=fields)).kind == kind
    answer = load("rest.refused.json")
    answer["transactions"][0]["detailedStatus"] = status
    assert parse(Notification(fields={}, answer=answer)).kind == kind


@pytest.mark.parametrize(
    "status",
    [
        "INITIAL",
        "WAITING_AUTHORISATION",
        "WAITING_AUTHORISATION_TO_VALIDATE",
        "UNDER_VERIFICATION",
        "WAITING_FOR_PAYMENT",
        "PRE_AUTHORISED",
        "SUSPENDED",
        "CAPTURE_FAILED",
        "EXPIRED",
        "ACCEPTED",
        "RUNNING",
        "SOMETHING_NEW",
        "",
    ],
)
def test_payments_under_way_and_unknown_statuses_give_no_signal(status):
    fields = {**load("form.refused.json"), "vads_trans_status": status}
    assert parse(Notification(fields=fields)) is None


@pytest.mark.parametrize("operation", ["CREDIT", "VERIFICATION"])
def test_refunds_and_card_verifications_are_not_payments(operation):
    fields = {**load("form.refused.json"), "vads_operation_type": operation}
    assert parse(Notification(fields=fields)) is None
    answer = load("rest.refused.json")
    answer["transactions"][0]["operationType"] = operation
    assert parse(Notification(fields={}, answer=answer)) is None


def test_rest_reads_the_order_status_when_there_is_no_transaction():
    answer = load("rest.refused.json")
    answer["transactions"] = []
    parsed = parse(Notification(fields={}, answer=answer))
    assert (parsed.kind, parsed.codes, parsed.amount) == (
        SignalKind.FAILED,
        {"status": "UNPAID"},
        8900,  # orderDetails.orderTotalAmount
    )


# --- Fields -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numeric", "alpha"), [("978", "EUR"), ("840", "USD"), ("953", "XPF"), ("999", ""), ("", "")]
)
def test_the_forms_numeric_currency_is_read_as_iso_alpha(numeric, alpha):
    fields = {**load("form.refused.json"), "vads_currency": numeric}
    assert parse(Notification(fields=fields)).currency == alpha


def test_the_form_dates_are_utc_and_the_transactions_own_date_comes_first():
    fields = load("form.refused.json")
    assert parse(Notification(fields=fields)).occurred_at == datetime(
        2025, 11, 21, 14, 5, 40, tzinfo=UTC
    )
    del fields["vads_effective_creation_date"]
    assert parse(Notification(fields=fields)).occurred_at == datetime(
        2025, 11, 21, 14, 4, 40, tzinfo=UTC
    )
    fields["vads_trans_date"] = "2025-11-21"
    assert parse(Notification(fields=fields)) is None  # cannot be placed in time


def test_rest_dates_are_read_with_their_offset_as_utc():
    answer = load("rest.refused.json")
    answer["serverDate"] = "2025-11-20T10:00:12+01:00"
    assert parse(Notification(fields={}, answer=answer)).occurred_at == AT
    answer["serverDate"] = None
    # The transaction's creation date stands in (two seconds earlier in the fixture).
    assert parse(Notification(fields={}, answer=answer)).occurred_at == datetime(
        2025, 11, 20, 9, 0, 10, tzinfo=UTC
    )


def test_codes_given_as_numbers_or_null_are_read_as_text():
    answer = load("rest.refused.json")
    card = answer["transactions"][0]["transactionDetails"]["cardDetails"]
    card["authorizationResponse"]["authorizationResult"] = 5
    answer["transactions"][0]["detailedErrorCode"] = None
    codes = parse(Notification(fields={}, answer=answer)).codes
    assert codes == {"status": "REFUSED", "auth_result": "5", "error_code": "ACQ_001"}
    assert CONNECTION.adapter.classify(codes, SignalKind.FAILED) == "bank_declined"  # 05


def test_the_legacy_single_name_field_is_read_when_there_are_no_first_and_last_names():
    fields = {**load("form.refused.json"), "vads_cust_first_name": "", "vads_cust_last_name": ""}
    fields["vads_cust_name"] = "L. Petit"
    assert parse(Notification(fields=fields)).buyer_name == "L. Petit"


# --- The test event and the secret format -------------------------------------------------------


@pytest.mark.parametrize(("secret", "kind"), [(PASSWORD, "rest"), (KEY, "form")])
def test_the_test_event_verifies_with_its_secret_and_is_not_a_payment(secret, kind):
    storefront = StorefrontFactory.build()
    request = samples.test_event(storefront, secret, 1_763_629_212)
    notification = verify(request.body, [secret])
    assert notification.kind == kind
    assert event_id(notification)  # stored like any notification…
    assert parse(notification) is None  # …and read as no payment
    other = verify(samples.test_event(storefront, secret, 1_763_629_212).body, [secret])
    assert event_id(other) != event_id(notification)  # one row per click


@pytest.mark.parametrize(
    "secret",
    [DEMO_PASSWORD, PASSWORD, "testpassword_abcd1234", KEY, OLD_KEY, "ABCDEFGH12345678"],
)
def test_the_secret_format_accepts_a_rest_password_or_a_form_key(secret):
    assert CONNECTION.secret_format.accepts(secret)


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "password_abcdefgh1234",
        "testpassword_",
        "testpassword_short",
        "111111111111111",  # fifteen
        "11111111111111111",  # seventeen
        "1111-1111-1111-11",
        "whsec_abcdefghijklmnop",
        "38453613e7f44dc58732bad3dca2bca3",  # the browser return's HMAC-SHA-256 key: no IPN
        f"{KEY} ",
    ],
)
def test_the_secret_format_refuses_anything_else(secret):
    assert not CONNECTION.secret_format.accepts(secret)
    assert "REST API password" in CONNECTION.secret_format.expected
    assert "16-character" in CONNECTION.secret_format.expected
