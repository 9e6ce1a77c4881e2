"""The Stripe adapter: signature verification and parsing of the payload fixtures.

Pure functions: no database. The fixtures in tests/payloads/stripe/ follow Stripe's documented
event, payment intent, charge and checkout session objects.
"""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import stripe as stripe_library

from inbound.errors import VerificationError
from payments.providers.stripe import CONNECTION
from payments.providers.stripe import webhooks as adapter
from payments.providers.stripe.webhooks import parse, verify
from payments.signals import PaymentSignal, SignalKind

PAYLOADS = Path(__file__).parent / "payloads" / "stripe"
SECRET = "whsec_aftersaletestsecret0123456789abcdef"
OLD_SECRET = "whsec_aftersaleoldsecret9876543210fedcba"
NOW = 1763629200  # 2025-11-20 09:00:00 UTC
T0 = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)


def raw(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def load(name: str) -> dict:
    return json.loads(raw(name))


def sign(payload: bytes, secret: str = SECRET, timestamp: int = NOW) -> str:
    """A Stripe-Signature header: HMAC-SHA256 keyed with the whole `whsec_…` string, over
    f"{t}.{body}", hex-encoded."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(NOW + seconds, tz=UTC)


# --- verify -------------------------------------------------------------------------------------


def test_the_signing_helper_agrees_with_the_stripe_library():
    body = raw("payment_intent.payment_failed.json")
    header = stripe_library.WebhookSignature.generate_signature_header(
        body.decode(), SECRET, timestamp=NOW
    )
    assert sign(body) == header


def test_the_adapters_sign_makes_the_header_of_the_documented_scheme():
    # Checked against this file's own helper, not only against verify: a mistake shared by the
    # adapter's sign and verify would pass a round trip.
    body = raw("payment_intent.payment_failed.json")
    assert adapter.sign(body, SECRET, timestamp=NOW) == {"Stripe-Signature": sign(body)}


def test_what_the_adapter_signs_verifies_and_a_changed_byte_is_refused():
    body = raw("charge.failed.json")
    header = adapter.sign(body, SECRET, timestamp=NOW)["Stripe-Signature"]
    assert verify(body, header, [SECRET], now=NOW) == json.loads(body)

    changed = body.replace(b"ch_", b"cH_", 1)
    assert sum(a != b for a, b in zip(body, changed, strict=True)) == 1
    with pytest.raises(VerificationError, match="no matching signature"):
        verify(changed, header, [SECRET], now=NOW)


def test_the_right_secret_is_accepted_and_the_event_returned():
    body = raw("payment_intent.payment_failed.json")
    assert verify(body, sign(body), [SECRET], now=NOW) == json.loads(body)


def test_any_active_secret_is_accepted_so_a_secret_can_be_rotated():
    body = raw("charge.failed.blocked.json")
    assert verify(body, sign(body, SECRET), [OLD_SECRET, SECRET], now=NOW)["id"]
    assert verify(body, sign(body, OLD_SECRET), [OLD_SECRET, SECRET], now=NOW)["id"]


def test_a_header_with_two_signatures_is_accepted_when_one_matches():
    # While a secret is rolled on Stripe's side, it signs with both.
    body = raw("charge.failed.blocked.json")
    other = sign(body, OLD_SECRET).split(",")[1]
    assert verify(body, f"{sign(body)},{other}", [SECRET], now=NOW)["id"]
    assert verify(body, f"t={NOW},{other},{sign(body).split(',')[1]}", [SECRET], now=NOW)["id"]


def test_the_default_clock_is_the_real_one():
    body = raw("payment_intent.succeeded.json")
    assert verify(body, sign(body, timestamp=int(time.time())), [SECRET])["id"]


def test_a_timestamp_at_the_edge_of_the_tolerance_is_accepted():
    body = raw("payment_intent.succeeded.json")
    assert verify(body, sign(body, timestamp=NOW - 300), [SECRET], now=NOW)["id"]
    assert verify(body, sign(body, timestamp=NOW + 300), [SECRET], now=NOW)["id"]


BODY = raw("payment_intent.payment_failed.json")
BAD_REQUESTS = {
    "wrong secret": (BODY, sign(BODY, "whsec_someoneelse"), [SECRET], "no matching signature"),
    "tampered body": (
        BODY.replace(b"8900", b"1"),
        sign(BODY),
        [SECRET],
        "no matching signature",
    ),
    "missing header": (BODY, None, [SECRET], "missing Stripe-Signature header"),
    "empty header": (BODY, "", [SECRET], "missing Stripe-Signature header"),
    "header without t": (
        BODY,
        sign(BODY).split(",")[1],
        [SECRET],
        "malformed Stripe-Signature header",
    ),
    "header without v1": (BODY, f"t={NOW}", [SECRET], "malformed Stripe-Signature header"),
    "non-numeric t": (
        BODY,
        "t=yesterday," + sign(BODY).split(",")[1],
        [SECRET],
        "malformed Stripe-Signature header",
    ),
    "garbage header": (BODY, "garbage", [SECRET], "malformed Stripe-Signature header"),
    "stale, 301 s old": (
        BODY,
        sign(BODY, timestamp=NOW - 301),
        [SECRET],
        "timestamp outside the tolerance",
    ),
    "future, 301 s ahead": (
        BODY,
        sign(BODY, timestamp=NOW + 301),
        [SECRET],
        "timestamp outside the tolerance",
    ),
    "no secrets": (BODY, sign(BODY), [], "no webhook secret configured"),
    "blank secret": (BODY, sign(BODY), ["", "  "], "no webhook secret configured"),
    "malformed JSON": (b'{"id": "evt_1", ', sign(b'{"id": "evt_1", '), [SECRET], "valid JSON"),
    "JSON array": (b"[1, 2]", sign(b"[1, 2]"), [SECRET], "not a JSON object"),
    "no id": (b'{"type": "x"}', sign(b'{"type": "x"}'), [SECRET], "no id or type"),
    "no type": (b'{"id": "evt_1"}', sign(b'{"id": "evt_1"}'), [SECRET], "no id or type"),
    "not UTF-8": (b'{"id": "\xff"}', sign(b'{"id": "\xff"}'), [SECRET], "not UTF-8"),
}


@pytest.mark.parametrize(
    ("payload", "header", "secrets", "reason"), BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys()
)
def test_a_bad_request_is_refused_with_a_short_safe_reason(payload, header, secrets, reason):
    with pytest.raises(VerificationError) as refused:
        verify(payload, header, secrets, now=NOW)
    message = str(refused.value)
    assert reason in message
    assert len(message) < 80
    assert "whsec_" not in message
    assert not header or header.split("v1=")[-1] not in message


def library_accepts(payload: bytes, header: str, secret: str = SECRET) -> bool:
    """Whether the stripe library's own check passes (its age check off: ours is two-sided)."""
    try:
        stripe_library.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
    except stripe_library.SignatureVerificationError:
        return False
    return True


def accepts(payload: bytes, header: str, secret: str = SECRET) -> bool:
    try:
        verify(payload, header, [secret], now=NOW)
    except VerificationError:
        return False
    return True


def test_what_the_stripe_library_signs_verifies():
    for name in ("payment_intent.payment_failed.json", "checkout.session.expired.json"):
        body = raw(name)
        header = stripe_library.WebhookSignature.generate_signature_header(
            body.decode(), SECRET, timestamp=NOW
        )
        assert verify(body, header, [SECRET], now=NOW) == json.loads(body)


def test_the_hmac_is_over_the_raw_bytes():
    # Non-ASCII text, and JSON escapes left as sent: the signed bytes are the body's own.
    body = '{"id": "evt_é", "type": "charge.failed", "note": "caf\\u00e9 ☕"}'.encode()
    mac = hmac.new(SECRET.encode(), b"%d." % NOW + body, hashlib.sha256).hexdigest()
    assert verify(body, f"t={NOW},v1={mac}", [SECRET], now=NOW)["id"] == "evt_é"
    assert not accepts(body.replace("é".encode(), b"e\\u0301"), f"t={NOW},v1={mac}")


HEX = sign(BODY).split("v1=")[1]
# Headers the stripe library and ours read alike, and what both make of them.
ODD_HEADERS = {
    "a v0 besides the v1": (f"t={NOW},v0={'0' * 64},v1={HEX}", True),
    "an unknown element": (f"t={NOW},v1={HEX},scheme=future", True),
    "leading zero in t": (f"t=0{NOW},v1={HEX}", True),
    "the right v1 last of three": (f"t={NOW},v1={'1' * 64},v1=,v1={HEX}", True),
    "v0 only": (f"t={NOW},v0={HEX}", False),
    "upper-case V1": (f"t={NOW},V1={HEX}", False),
    "spaces after the commas": (f"t={NOW}, v1={HEX}", False),
    "a space before t": (f" t={NOW},v1={HEX}", False),
    "the first t is not the signed one": (f"t={NOW - 1},t={NOW},v1={HEX}", False),
    "a bare t": (f"t,t={NOW},v1={HEX}", False),
    "a bare v1": (f"t={NOW},v1={HEX},v1", False),
    # str.isdigit() says yes, int() says no: refused, not a crash.
    "a superscript t": (f"t=\u00b2,v1={HEX}", False),
    "uppercase hex": (f"t={NOW},v1={HEX.upper()}", False),
}


@pytest.mark.parametrize(("header", "expected"), ODD_HEADERS.values(), ids=ODD_HEADERS.keys())
def test_a_header_is_read_as_the_stripe_library_reads_it(header, expected):
    assert library_accepts(BODY, header) is expected
    assert accepts(BODY, header) is expected


# Where ours is stricter: the library reads `t` with int() and a value up to a second "=".
STRICTER = {
    "a signed t": f"t=+{NOW},v1={HEX}",
    "underscores in t": f"t={str(NOW)[:4]}_{str(NOW)[4:]},v1={HEX}",
    "a tail after the v1": f"t={NOW},v1={HEX}=0",
    "t in Arabic-Indic digits": f"t={''.join(chr(0x0660 + int(d)) for d in str(NOW))},v1={HEX}",
}


@pytest.mark.parametrize("header", STRICTER.values(), ids=STRICTER.keys())
def test_what_the_library_lets_through_on_a_technicality_is_refused(header):
    assert library_accepts(BODY, header)
    with pytest.raises(VerificationError, match="malformed|no matching signature"):
        verify(BODY, header, [SECRET], now=NOW)


@pytest.mark.parametrize(("payload", "header", "secrets", "reason"), BAD_REQUESTS.values())
def test_what_verify_refuses_for_its_signature_the_library_refuses_too(
    payload, header, secrets, reason
):
    if "UTF-8" in reason or not header or not any(s.strip() for s in secrets):
        return  # refused before any signature is read
    if reason in ("no matching signature", "malformed Stripe-Signature header"):
        assert not library_accepts(payload, header)


# --- parse --------------------------------------------------------------------------------------


def signal(kind: SignalKind, **fields) -> PaymentSignal:
    return PaymentSignal(provider="stripe", kind=kind, **fields)


EXPECTED = {
    "payment_intent.payment_failed.json": signal(
        SignalKind.FAILED,
        event_id="evt_3QFm2sLkdIwHu7ix1hN0bG5K",
        event_type="payment_intent.payment_failed",
        occurred_at=T0,
        payment_id="pi_3QFm2sLkdIwHu7ix1Kc0Vp9d",
        related_ids=("ch_3QFm2sLkdIwHu7ix1uTq4b7A",),
        order_reference="ML-1042",
        amount=8900,
        currency="EUR",
        buyer_email="camille.martin@example.com",
        buyer_name="Camille Martin",
        buyer_phone="+33612345678",
        codes={
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "advice_code": "try_again_later",
            "network_decline_code": "51",
        },
        attempt_id="ch_3QFm2sLkdIwHu7ix1uTq4b7A",
    ),
    "payment_intent.payment_failed.3ds.json": signal(
        SignalKind.FAILED,
        event_id="evt_3QFn7aLkdIwHu7ix0yR2mX4s",
        event_type="payment_intent.payment_failed",
        occurred_at=at(600),
        payment_id="pi_3QFn7aLkdIwHu7ix0Qa1Wm8e",
        related_ids=(),  # authentication failed before any charge was made
        order_reference="ML-1043",
        amount=12450,
        currency="EUR",
        buyer_email="jonas.weber@example.de",
        buyer_name="Jonas Weber",
        codes={"code": "payment_intent_authentication_failure"},
    ),
    "charge.failed.blocked.json": signal(
        SignalKind.FAILED,
        event_id="evt_3QFo1bLkdIwHu7ix2Zt5cV8n",
        event_type="charge.failed",
        occurred_at=at(1200),
        payment_id="ch_3QFo1bLkdIwHu7ix2aB3cD4e",
        related_ids=("pi_3QFo1bLkdIwHu7ix2Pq7Rs9t",),
        order_reference="ML-1044",
        amount=45000,
        currency="EUR",
        buyer_email="l.dupont@example.net",
        buyer_name="Léa Dupont",
        buyer_phone="+33698765432",
        codes={
            "failure_code": "card_declined",
            "outcome_type": "blocked",
            "outcome_reason": "highest_risk_level",
        },
        attempt_id="ch_3QFo1bLkdIwHu7ix2aB3cD4e",
    ),
    "charge.failed.json": signal(
        SignalKind.FAILED,
        event_id="evt_3QFm2sLkdIwHu7ix1bY7zQ2w",
        event_type="charge.failed",
        occurred_at=T0,
        payment_id="ch_3QFm2sLkdIwHu7ix1uTq4b7A",
        related_ids=("pi_3QFm2sLkdIwHu7ix1Kc0Vp9d",),
        order_reference="Order ML-1042",  # a charge has no metadata here: its description
        amount=8900,
        currency="EUR",
        buyer_email="camille.martin@example.com",
        buyer_name="Camille Martin",
        buyer_phone="+33612345678",
        codes={
            "failure_code": "card_declined",
            "outcome_type": "issuer_declined",
            "outcome_reason": "insufficient_funds",
            "network_decline_code": "51",
        },
        # The same attempt as payment_intent.payment_failed.json: it counts once.
        attempt_id="ch_3QFm2sLkdIwHu7ix1uTq4b7A",
    ),
    "checkout.session.expired.json": signal(
        SignalKind.ABANDONED,
        event_id="evt_1QFp4cLkdIwHu7ixR0hV2sY6",
        event_type="checkout.session.expired",
        occurred_at=at(86400),
        payment_id="cs_test_a1Zq9Xk3Lm7Pw2Rt5Vy8Bn4Cd6Fg0Hj2Kl",
        order_reference="ML-1045",
        amount=6400,
        currency="EUR",
        buyer_email="sofia.rossi@example.it",
        recovery_url="https://buy.stripe.com/r/test_9AQ5kX2bW0nH7uM4gg",
    ),
    "payment_intent.canceled.json": signal(
        SignalKind.ABANDONED,
        event_id="evt_3QFq5dLkdIwHu7ix3Nn4pL1k",
        event_type="payment_intent.canceled",
        occurred_at=at(7200),
        payment_id="pi_3QFq5dLkdIwHu7ix3Mv6Wx2y",
        order_reference="ML-1046",
        amount=2990,
        currency="USD",
        buyer_email="noah.smith@example.com",
        buyer_name="Noah Smith",
        buyer_phone="+14155550123",
        codes={"cancellation_reason": "abandoned"},
    ),
    "payment_intent.succeeded.json": signal(
        SignalKind.SUCCEEDED,
        event_id="evt_3QFm9xLkdIwHu7ix1Dd8sK0p",
        event_type="payment_intent.succeeded",
        occurred_at=at(900),
        payment_id="pi_3QFm2sLkdIwHu7ix1Kc0Vp9d",
        related_ids=("ch_3QFm9xLkdIwHu7ix1Rz2Tg6H",),
        order_reference="ML-1042",
        amount=8900,
        currency="EUR",
        buyer_email="camille.martin@example.com",
        attempt_id="ch_3QFm9xLkdIwHu7ix1Rz2Tg6H",
    ),
    "charge.succeeded.json": signal(
        SignalKind.SUCCEEDED,
        event_id="evt_3QFm9xLkdIwHu7ix1Ee9tL1q",
        event_type="charge.succeeded",
        occurred_at=at(899),
        payment_id="ch_3QFm9xLkdIwHu7ix1Rz2Tg6H",
        related_ids=("pi_3QFm2sLkdIwHu7ix1Kc0Vp9d",),
        order_reference="Order ML-1042",
        amount=8900,
        currency="EUR",
        buyer_email="camille.martin@example.com",
        buyer_name="Camille Martin",
        buyer_phone="+33612345678",
        codes={"outcome_type": "authorized"},
        attempt_id="ch_3QFm9xLkdIwHu7ix1Rz2Tg6H",
    ),
    "checkout.session.completed.json": signal(
        SignalKind.SUCCEEDED,
        event_id="evt_1QFr6eLkdIwHu7ixS1iW3tZ7",
        event_type="checkout.session.completed",
        occurred_at=at(3600),
        payment_id="cs_test_b2Ar0Yl4Mn8Qx3Su6Wz9Co5De7Gh1Ik3Lm",
        related_ids=("pi_3QFr6dLkdIwHu7ix0Tt1Uu2V",),
        order_reference="ML-1047",
        amount=15800,
        currency="EUR",
        buyer_email="daan.devries@example.nl",
        buyer_name="Daan de Vries",
        buyer_phone="+31612345678",
    ),
    "checkout.session.async_payment_failed.json": signal(
        SignalKind.FAILED,
        event_id="evt_1QFt8gLkdIwHu7ixU3kY5vB9",
        event_type="checkout.session.async_payment_failed",
        occurred_at=at(4000 + 4 * 86400),
        payment_id="cs_test_c3Bs1Zm5No9Ry4Tv7Xa0Dp6Ef8Hi2Jl4Mn",
        related_ids=("pi_3QFs7eLkdIwHu7ix0Vv3Ww4X",),
        order_reference="ML-1048",
        amount=21000,
        currency="EUR",
        buyer_email="anna.schmidt@example.de",
        buyer_name="Anna Schmidt",
    ),
    "payment_intent.payment_failed.connect.json": signal(
        SignalKind.FAILED,
        event_id="evt_3QFu9hLkdIwHu7ix4Oo5qM2l",
        event_type="payment_intent.payment_failed",
        occurred_at=at(5000),
        payment_id="pi_3QFu9hLkdIwHu7ix4Nw7Xy3z",
        related_ids=("ch_3QFu9hLkdIwHu7ix4Ab5Cd6E",),
        order_reference="NW-778",
        amount=5500,
        currency="GBP",
        buyer_email="oliver.jones@example.co.uk",
        buyer_name="Oliver Jones",
        codes={"code": "expired_card", "advice_code": "do_not_try_again"},
        connected_account="acct_1Nv0FGQ9RKHgCVdK",
        attempt_id="ch_3QFu9hLkdIwHu7ix4Ab5Cd6E",
    ),
}


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items(), ids=EXPECTED.keys())
def test_each_fixture_parses_to_its_signal(name, expected):
    assert parse(load(name)) == expected


@pytest.mark.parametrize("name", EXPECTED)
def test_a_stored_body_parses_the_same_way(name):
    assert CONNECTION.adapter.signals(raw(name).decode()) == [EXPECTED[name]]


@pytest.mark.parametrize("name", EXPECTED)
def test_codes_are_non_empty_strings_under_known_keys(name):
    codes = parse(load(name)).codes
    known = {
        "code",
        "decline_code",
        "advice_code",
        "failure_code",
        "outcome_type",
        "outcome_reason",
        "network_decline_code",
        "cancellation_reason",
    }
    assert set(codes) <= known
    assert all(isinstance(value, str) and value for value in codes.values())


def test_occurred_at_is_aware_utc():
    occurred_at = parse(load("payment_intent.payment_failed.json")).occurred_at
    assert occurred_at.utcoffset().total_seconds() == 0


def test_a_checkout_completed_but_not_yet_paid_is_not_a_success():
    assert parse(load("checkout.session.completed.unpaid.json")) is None


def test_the_async_success_of_a_checkout_is_a_success():
    event = load("checkout.session.async_payment_failed.json")
    event["type"] = "checkout.session.async_payment_succeeded"
    event["data"]["object"]["payment_status"] = "paid"
    assert parse(event).kind == SignalKind.SUCCEEDED


def test_a_checkout_with_nothing_to_pay_is_a_success():
    event = load("checkout.session.completed.json")
    event["data"]["object"]["payment_status"] = "no_payment_required"
    assert parse(event).kind == SignalKind.SUCCEEDED


def test_an_unknown_event_type_is_not_ours():
    event = load("payment_intent.succeeded.json")
    event["type"] = "customer.created"
    assert parse(event) is None
    assert CONNECTION.adapter.signals(json.dumps(event)) == []


def test_an_event_without_an_object_is_not_ours():
    event = load("payment_intent.succeeded.json")
    event["data"] = {}
    assert parse(event) is None


def test_an_expanded_related_object_gives_its_id():
    event = load("payment_intent.succeeded.json")
    event["data"]["object"]["latest_charge"] = {"id": "ch_expanded", "object": "charge"}
    assert parse(event).related_ids == ("ch_expanded",)


def test_the_order_reference_falls_back_in_order():
    event = load("checkout.session.completed.json")
    session = event["data"]["object"]
    assert parse(event).order_reference == "ML-1047"  # metadata.order_id
    session["metadata"] = {"order_reference": "REF-9"}
    assert parse(event).order_reference == "REF-9"
    session["metadata"] = {}
    session["client_reference_id"] = "CLIENT-7"
    assert parse(event).order_reference == "CLIENT-7"
    session["client_reference_id"] = None
    session["description"] = "Order 55"
    assert parse(event).order_reference == "Order 55"
