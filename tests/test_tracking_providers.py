"""The tracking adapters (EasyPost, AfterShip, our generic format): signature verification and
parsing of the payload fixtures.

Pure functions: no database. The fixtures in tests/payloads/{easypost,aftership,generic}/ follow
the documented shapes cited in each adapter's docstring and in docs/generic-tracking-webhooks.md.
"""

import base64
import hashlib
import hmac
import json
import time
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from inbound.errors import VerificationError
from tracking.providers.aftership import webhooks as aftership
from tracking.providers.easypost import webhooks as easypost
from tracking.providers.generic import webhooks as generic
from tracking.signals import CheckpointData, TrackingSignal

PAYLOADS = Path(__file__).parent / "payloads"
SECRET = "aftersale-test-webhook-secret-0123456789"
OLD_SECRET = "aftersale-old-webhook-secret-9876543210"
NOW = 1763629200  # 2025-11-20 09:00:00 UTC

PARIS = timezone(timedelta(hours=1))
NEW_YORK = timezone(timedelta(hours=-5))
AUSTIN = timezone(timedelta(hours=-6))


def raw(provider: str, name: str) -> bytes:
    return (PAYLOADS / provider / name).read_bytes()


def load(provider: str, name: str) -> dict:
    return json.loads(raw(provider, name))


def assert_refused(call, reason: str, *, secrets: list[str], header: str = "") -> None:
    """The call raises VerificationError with `reason`, in a short message that repeats neither
    a secret nor the signature it was given."""
    with pytest.raises(VerificationError) as refused:
        call()
    message = str(refused.value)
    assert reason in message
    assert len(message) < 80
    assert not any(secret.strip() and secret in message for secret in secrets)
    assert not header or len(header) < 8 or header not in message


# === EasyPost ===================================================================================


def easypost_sign(payload: bytes, secret: str = SECRET) -> str:
    """An X-Hmac-Signature header as EasyPost computes it: hex HMAC-SHA256 of the raw body, keyed
    with the secret NFKD-normalised and UTF-8 encoded."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return "hmac-sha256-hex=" + hmac.new(key, payload, hashlib.sha256).hexdigest()


EP_BODY = raw("easypost", "tracker.updated.json")


def one_byte_changed(body: bytes) -> bytes:
    """`body` with one letter of its first `"id"` value changed (still valid JSON)."""
    at = body.index(b'"id"') + len(b'"id"')
    at = body.index(b'"', at + 1) + 1  # the value's first character
    changed = body[:at] + bytes([body[at] ^ 1]) + body[at + 1 :]
    assert sum(a != b for a, b in zip(body, changed, strict=True)) == 1
    return changed


def test_easypost_sign_gives_the_header_of_the_documented_scheme():
    # Checked against this file's own helper, not only against verify: a mistake shared by the
    # adapter's sign and verify would pass a round trip.
    assert easypost.sign(EP_BODY, SECRET) == {"X-Hmac-Signature": easypost_sign(EP_BODY)}


def test_easypost_what_sign_makes_verifies_and_a_changed_byte_is_refused():
    header = easypost.sign(EP_BODY, SECRET)["X-Hmac-Signature"]
    assert easypost.verify(EP_BODY, header, [SECRET]) == json.loads(EP_BODY)
    with pytest.raises(VerificationError, match="no matching signature"):
        easypost.verify(one_byte_changed(EP_BODY), header, [SECRET])


def test_easypost_accepts_the_right_secret_and_returns_the_event():
    assert easypost.verify(EP_BODY, easypost_sign(EP_BODY), [SECRET]) == json.loads(EP_BODY)


def test_easypost_accepts_any_active_secret_so_a_secret_can_be_rotated():
    assert easypost.verify(EP_BODY, easypost_sign(EP_BODY, OLD_SECRET), [SECRET, OLD_SECRET])
    assert easypost.verify(EP_BODY, easypost_sign(EP_BODY, SECRET), [OLD_SECRET, SECRET])


def test_easypost_normalises_the_secret_as_its_libraries_do():
    composed = "clé-secrète-ünïcode"  # é as one code point
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    header = easypost_sign(EP_BODY, composed)
    assert easypost.verify(EP_BODY, header, [composed])
    assert easypost.verify(EP_BODY, header, [decomposed])


def test_easypost_accepts_an_upper_case_digest_and_surrounding_spaces():
    prefix, digest = easypost_sign(EP_BODY).split("=", 1)
    assert easypost.verify(EP_BODY, f"  {prefix}={digest.upper()} ", [SECRET])


def _signed_easypost(body: bytes) -> tuple[bytes, str]:
    return body, easypost_sign(body)


EASYPOST_BAD_REQUESTS = {
    "wrong secret": (EP_BODY, easypost_sign(EP_BODY, "someone-else"), [SECRET], "no matching"),
    "missing header": (EP_BODY, None, [SECRET], "missing X-Hmac-Signature header"),
    "empty header": (EP_BODY, "", [SECRET], "missing X-Hmac-Signature header"),
    "no prefix": (
        EP_BODY,
        easypost_sign(EP_BODY).split("=", 1)[1],
        [SECRET],
        "malformed X-Hmac-Signature header",
    ),
    "other algorithm": (
        EP_BODY,
        easypost_sign(EP_BODY).replace("sha256", "sha1"),
        [SECRET],
        "malformed X-Hmac-Signature header",
    ),
    "short digest": (EP_BODY, easypost_sign(EP_BODY)[:-2], [SECRET], "malformed X-Hmac"),
    "not hex": (EP_BODY, "hmac-sha256-hex=" + "zz" * 32, [SECRET], "malformed X-Hmac"),
    "tampered body": (
        EP_BODY.replace(b'"delivered"', b'"returned"', 1),
        easypost_sign(EP_BODY),
        [SECRET],
        "no matching signature",
    ),
    "no secrets": (EP_BODY, easypost_sign(EP_BODY), [], "no webhook secret configured"),
    "blank secrets": (EP_BODY, easypost_sign(EP_BODY), ["", " "], "no webhook secret"),
    "malformed JSON": (*_signed_easypost(b'{"id": "evt_1", '), [SECRET], "not valid JSON"),
    "JSON array": (*_signed_easypost(b"[1, 2]"), [SECRET], "not a JSON object"),
    "no id": (
        *_signed_easypost(b'{"description": "tracker.updated"}'),
        [SECRET],
        "no id or description",
    ),
    "no description": (*_signed_easypost(b'{"id": "evt_1"}'), [SECRET], "no id or description"),
    "not UTF-8": (*_signed_easypost(b'{"id": "\xff"}'), [SECRET], "not UTF-8"),
}


@pytest.mark.parametrize(
    ("payload", "header", "secrets", "reason"),
    EASYPOST_BAD_REQUESTS.values(),
    ids=EASYPOST_BAD_REQUESTS.keys(),
)
def test_easypost_refuses_a_bad_request_with_a_short_safe_reason(payload, header, secrets, reason):
    assert_refused(
        lambda: easypost.verify(payload, header, secrets),
        reason,
        secrets=secrets,
        header=(header or "").split("=")[-1],
    )


EASYPOST_EXPECTED = {
    "tracker.updated.json": TrackingSignal(
        provider="easypost",
        event_id="evt_4d1e0f8a2b3c11f0a1b2c3d4e5f60718",
        event_type="tracker.updated",
        tracking_number="9400111206213859123456",
        carrier="usps",
        status="delivered",  # "arrived_at_destination" does not reopen a delivery
        raw_status="delivered",
        raw_detail="arrived_at_destination",
        estimated_delivery=date(2025, 11, 20),
        carrier_tracking_url=(
            "https://track.easypost.com/djE6dHJrXzdjNGYxZTJhOWI4ZDRjNmU5ZjBhMWIyYzNkNGU1ZjYw"
        ),
        checkpoints=(
            CheckpointData(
                occurred_at=datetime(2025, 11, 17, 15, 3, tzinfo=UTC),
                status="info_received",
                raw_status="pre_transit",
                raw_detail="label_created",
                description="Shipping Label Created, USPS Awaiting Item",
                location="BROOKLYN, NY 11201, US",
            ),
            CheckpointData(
                occurred_at=datetime(2025, 11, 17, 18, 41, tzinfo=NEW_YORK),
                status="in_transit",
                raw_status="in_transit",
                raw_detail="received_at_origin_facility",
                description="USPS in possession of item",
                location="BROOKLYN, NY 11201, US",
            ),
            CheckpointData(
                occurred_at=datetime(2025, 11, 18, 4, 12, tzinfo=NEW_YORK),
                status="in_transit",
                raw_status="in_transit",
                raw_detail="departed_facility",
                description="Departed USPS Regional Facility",
                location="JERSEY CITY, NJ 07097, US",
            ),
            CheckpointData(
                occurred_at=datetime(2025, 11, 20, 7, 55, tzinfo=AUSTIN),
                status="out_for_delivery",
                raw_status="out_for_delivery",
                raw_detail="out_for_delivery",
                description="Out for Delivery",
                location="AUSTIN, TX 78704, US",
            ),
            CheckpointData(
                occurred_at=datetime(2025, 11, 20, 13, 7, tzinfo=AUSTIN),
                status="delivered",
                raw_status="delivered",
                raw_detail="arrived_at_destination",
                description="Delivered, In/At Mailbox",
                location="AUSTIN, TX 78704, US",
            ),
        ),
    ),
    "tracker.created.json": TrackingSignal(
        provider="easypost",
        event_id="evt_9b2c7d4e1f0a11f0b3c4d5e6f7a8b9c0",
        event_type="tracker.created",
        tracking_number="6A25012345678",
        carrier="colissimo",
        status="info_received",
        raw_status="pre_transit",
        raw_detail="label_created",
        # The carrier's local date, not the UTC est_delivery_date (2025-11-20T23:00:00Z).
        estimated_delivery=date(2025, 11, 21),
        carrier_tracking_url=(
            "https://track.easypost.com/djE6dHJrXzFlOGQzYzViN2E5ZjRlMmQ4YzZiNGEyZjBlMWQzYzVi"
        ),
        checkpoints=(
            CheckpointData(
                occurred_at=datetime(2025, 11, 18, 9, 47, tzinfo=PARIS),
                status="info_received",
                raw_status="pre_transit",
                raw_detail="label_created",
                description="Votre colis est prêt à être expédié, il va être remis à La Poste.",
                location="LYON, 69007, FR",
            ),
        ),
    ),
}


@pytest.mark.parametrize(("name", "expected"), EASYPOST_EXPECTED.items(), ids=EASYPOST_EXPECTED)
def test_easypost_fixture_parses_to_its_signal(name, expected):
    assert easypost.parse(load("easypost", name)) == expected


def test_easypost_checkpoint_times_are_aware_and_in_order():
    checkpoints = easypost.parse(load("easypost", "tracker.updated.json")).checkpoints
    assert all(checkpoint.occurred_at.utcoffset() is not None for checkpoint in checkpoints)
    times = [checkpoint.occurred_at for checkpoint in checkpoints]
    assert times == sorted(times)


def test_easypost_a_detail_out_of_order_or_without_a_time_is_placed_or_left_out():
    event = load("easypost", "tracker.updated.json")
    details = event["result"]["tracking_details"]
    details.reverse()
    details.append({"object": "TrackingDetail", "message": "?", "datetime": None})
    details.append({"object": "TrackingDetail", "message": "?", "datetime": "yesterday"})
    assert (
        easypost.parse(event).checkpoints == EASYPOST_EXPECTED["tracker.updated.json"].checkpoints
    )


def test_easypost_a_time_without_offset_is_utc_as_documented():
    event = load("easypost", "tracker.created.json")
    event["result"]["tracking_details"][0]["datetime"] = "2025-11-18T08:47:00"
    when = easypost.parse(event).checkpoints[0].occurred_at
    assert when == datetime(2025, 11, 18, 8, 47, tzinfo=UTC)


def test_easypost_a_return_under_way_is_returned():
    event = load("easypost", "tracker.updated.json")
    event["result"].update(status="in_transit", status_detail="return")
    assert easypost.parse(event).status == "returned"


def test_easypost_an_unknown_status_is_empty_never_a_guess():
    event = load("easypost", "tracker.updated.json")
    event["result"].update(status="unknown", status_detail="status_update")
    signal = easypost.parse(event)
    assert (signal.status, signal.raw_status, signal.raw_detail) == (
        "",
        "unknown",
        "status_update",
    )


def test_easypost_no_estimate_and_an_unknown_carrier():
    event = load("easypost", "tracker.created.json")
    event["result"].update(carrier="ColisPrive", est_delivery_date=None, carrier_detail=None)
    signal = easypost.parse(event)
    assert (signal.carrier, signal.estimated_delivery) == ("", None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("USPS", "usps"),
        ("UPS", "ups"),
        ("FedEx", "fedex"),
        ("DHLExpress", "dhl"),
        ("DPDUK", "dpd"),
        ("Colissimo", "colissimo"),
        ("ColisPrive", ""),
        ("", ""),
    ],
)
def test_easypost_carrier_names(name, expected):
    assert easypost.carrier(name) == expected


@pytest.mark.parametrize("mutation", ["batch", "not a tracker", "no tracking code", "no id"])
def test_easypost_an_event_that_is_not_about_a_tracker_is_not_ours(mutation):
    event = load("easypost", "tracker.updated.json")
    if mutation == "batch":
        event["description"] = "batch.created"
        event["result"] = {"id": "batch_1", "object": "Batch"}
    elif mutation == "not a tracker":
        event["result"]["object"] = "Insurance"
    elif mutation == "no tracking code":
        event["result"]["tracking_code"] = None
    else:
        event["id"] = None
    assert easypost.parse(event) is None


def test_easypost_an_event_without_a_result_is_not_ours():
    assert easypost.parse({"id": "evt_1", "description": "tracker.updated"}) is None


# === AfterShip ==================================================================================


def aftership_sign(payload: bytes, secret: str = SECRET) -> str:
    """An aftership-hmac-sha256 header: base64 HMAC-SHA256 of the raw body with the secret."""
    mac = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


AS_BODY = raw("aftership", "tracking_update.delivered.json")


def _signed_aftership(body: bytes) -> tuple[bytes, str]:
    return body, aftership_sign(body)


def test_aftership_sign_gives_the_header_of_the_documented_scheme():
    assert aftership.sign(AS_BODY, SECRET) == {"aftership-hmac-sha256": aftership_sign(AS_BODY)}


def test_aftership_what_sign_makes_verifies_and_a_changed_byte_is_refused():
    header = aftership.sign(AS_BODY, SECRET)["aftership-hmac-sha256"]
    assert aftership.verify(AS_BODY, header, [SECRET]) == json.loads(AS_BODY)
    with pytest.raises(VerificationError, match="no matching signature"):
        aftership.verify(one_byte_changed(AS_BODY), header, [SECRET])


def test_aftership_accepts_the_right_secret_and_returns_the_event():
    assert aftership.verify(AS_BODY, aftership_sign(AS_BODY), [SECRET]) == json.loads(AS_BODY)


def test_aftership_accepts_any_active_secret_so_a_secret_can_be_rotated():
    assert aftership.verify(AS_BODY, aftership_sign(AS_BODY, OLD_SECRET), [SECRET, OLD_SECRET])
    assert aftership.verify(AS_BODY, aftership_sign(AS_BODY, SECRET), [OLD_SECRET, SECRET])


AFTERSHIP_BAD_REQUESTS = {
    "wrong secret": (AS_BODY, aftership_sign(AS_BODY, "someone-else"), [SECRET], "no matching"),
    "missing header": (AS_BODY, None, [SECRET], "missing aftership-hmac-sha256 header"),
    "not base64": (AS_BODY, "not base64!", [SECRET], "malformed aftership-hmac-sha256 header"),
    "hex instead of base64": (
        AS_BODY,
        hmac.new(SECRET.encode(), AS_BODY, hashlib.sha256).hexdigest(),
        [SECRET],
        "malformed aftership-hmac-sha256 header",
    ),
    "truncated": (AS_BODY, aftership_sign(AS_BODY)[:20], [SECRET], "malformed aftership"),
    "tampered body": (
        AS_BODY.replace(b'"Delivered"', b'"Exception"', 1),
        aftership_sign(AS_BODY),
        [SECRET],
        "no matching signature",
    ),
    "no secrets": (AS_BODY, aftership_sign(AS_BODY), [], "no webhook secret configured"),
    "malformed JSON": (*_signed_aftership(b'{"msg": {'), [SECRET], "not valid JSON"),
    "JSON array": (*_signed_aftership(b"[]"), [SECRET], "not a JSON object"),
    "no msg": (*_signed_aftership(b'{"event": "tracking_update"}'), [SECRET], "no msg object"),
    "not UTF-8": (*_signed_aftership(b'{"msg": "\xff"}'), [SECRET], "not UTF-8"),
}


@pytest.mark.parametrize(
    ("payload", "header", "secrets", "reason"),
    AFTERSHIP_BAD_REQUESTS.values(),
    ids=AFTERSHIP_BAD_REQUESTS.keys(),
)
def test_aftership_refuses_a_bad_request_with_a_short_safe_reason(payload, header, secrets, reason):
    assert_refused(
        lambda: aftership.verify(payload, header, secrets),
        reason,
        secrets=secrets,
        header=header or "",
    )


AFTERSHIP_EXPECTED = {
    "tracking_update.delivered.json": TrackingSignal(
        provider="aftership",
        event_id="2b7c9e4a-5d1f-4e8b-9a3c-6f0d2e1b8c47",
        event_type="tracking_update",
        tracking_number="6A25098765432",
        carrier="colissimo",
        status="delivered",
        raw_status="Delivered",
        raw_detail="Delivered_001",
        estimated_delivery=date(2025, 11, 20),
        carrier_tracking_url=("https://www.laposte.fr/outils/suivre-vos-envois?code=6A25098765432"),
        checkpoints=(
            CheckpointData(
                occurred_at=datetime(2025, 11, 17, 16, 55, tzinfo=PARIS),
                status="info_received",
                raw_status="InfoReceived",
                raw_detail="InfoReceived_001",
                description="Votre colis est prêt à être expédié, il va être remis à La Poste.",
                location="France",
            ),
            CheckpointData(
                occurred_at=datetime(2025, 11, 18, 6, 48, tzinfo=PARIS),
                status="in_transit",
                raw_status="InTransit",
                raw_detail="InTransit_002",
                description="Votre colis a été pris en charge par La Poste.",
                location="Lyon Plateforme Colis",
            ),
            CheckpointData(
                occurred_at=datetime(2025, 11, 20, 8, 3, tzinfo=PARIS),
                status="out_for_delivery",
                raw_status="OutForDelivery",
                raw_detail="OutForDelivery_001",
                description="Votre colis est en cours de livraison.",
                location="Rennes, Bretagne, France",
            ),
            CheckpointData(
                occurred_at=datetime(2025, 11, 20, 15, 31, tzinfo=PARIS),
                status="delivered",
                raw_status="Delivered",
                raw_detail="Delivered_001",
                description="Votre colis est livré.",
                location="Rennes Centre Colis",
            ),
        ),
    ),
    "tracking_update.returned.json": TrackingSignal(
        provider="aftership",
        event_id="c41f0a8e-7b2d-4c96-8e15-3a9d7f2b6e04",
        event_type="tracking_update",
        tracking_number="XY123456789FR",
        carrier="chronopost",
        status="returned",  # Exception refined by Exception_011
        raw_status="Exception",
        raw_detail="Exception_011",
        estimated_delivery=date(2025, 11, 24),  # the end of the estimated range
        carrier_tracking_url="",
        checkpoints=(
            CheckpointData(
                occurred_at=datetime(2025, 11, 19, 18, 40, tzinfo=PARIS),
                status="in_transit",
                raw_status="InTransit",
                raw_detail="InTransit_001",
                description="Colis en cours d'acheminement",
                location="Chilly-Mazarin, France",
            ),
            CheckpointData(
                occurred_at=datetime(2025, 11, 21, 10, 14, tzinfo=PARIS),
                status="failed_attempt",
                raw_status="AttemptFail",
                raw_detail="AttemptFail_002",
                description="Destinataire absent, avis de passage déposé",
                location="Marseille, France",
            ),
            CheckpointData(
                # checkpoint_time has no offset: AfterShip's created_at stands in.
                occurred_at=datetime(2025, 11, 25, 16, 2, 18, tzinfo=UTC),
                status="returned",
                raw_status="Exception",
                raw_detail="Exception_010",
                description="Colis non retiré, retour expéditeur en cours",
                location="Marseille, France",
            ),
            CheckpointData(
                occurred_at=datetime(2025, 11, 28, 9, 12, tzinfo=PARIS),
                status="returned",
                raw_status="Exception",
                raw_detail="Exception_011",
                description="Colis retourné à l'expéditeur",
                location="Lyon, France",
            ),
        ),
    ),
}


@pytest.mark.parametrize(("name", "expected"), AFTERSHIP_EXPECTED.items(), ids=AFTERSHIP_EXPECTED)
def test_aftership_fixture_parses_to_its_signal(name, expected):
    assert aftership.parse(load("aftership", name)) == expected


def test_aftership_edd_revise_is_read_too():
    event = load("aftership", "tracking_update.delivered.json")
    event["event"] = "edd_revise"
    event["msg"]["latest_estimated_delivery"]["datetime"] = "2025-11-21T18:00:00+01:00"
    signal = aftership.parse(event)
    assert (signal.event_type, signal.estimated_delivery) == ("edd_revise", date(2025, 11, 21))


def test_aftership_the_older_expected_delivery_field_is_a_fallback():
    event = load("aftership", "tracking_update.delivered.json")
    event["msg"]["latest_estimated_delivery"] = None
    event["msg"]["expected_delivery"] = "2025-11-19T12:00:00"
    assert aftership.parse(event).estimated_delivery == date(2025, 11, 19)
    event["msg"]["expected_delivery"] = None
    assert aftership.parse(event).estimated_delivery is None


def test_aftership_a_checkpoint_with_no_placeable_time_is_left_out():
    event = load("aftership", "tracking_update.delivered.json")
    event["msg"]["checkpoints"][0].update(checkpoint_time="2025-11-17", created_at=None)
    assert len(aftership.parse(event).checkpoints) == 3


@pytest.mark.parametrize("event_type", ["tracking_pending_time", "tracking_deleted", "", None])
def test_aftership_an_event_we_do_not_act_on_is_not_ours(event_type):
    event = load("aftership", "tracking_update.delivered.json")
    event["event"] = event_type
    assert aftership.parse(event) is None


def test_aftership_an_event_without_a_tracking_number_is_not_ours():
    event = load("aftership", "tracking_update.delivered.json")
    event["msg"]["tracking_number"] = ""
    assert aftership.parse(event) is None


def test_aftership_without_event_id_a_stable_hash_stands_in():
    event = load("aftership", "tracking_update.delivered.json")
    del event["event_id"]
    first = aftership.event_id(event)
    assert first.startswith("sha256:")
    assert aftership.event_id(json.loads(json.dumps(event))) == first  # the same delivery again
    assert aftership.parse(event).event_id == first

    newer = json.loads(json.dumps(event))
    newer["msg"]["checkpoints"].append(
        {**newer["msg"]["checkpoints"][-1], "checkpoint_time": "2025-11-20T17:00:00+01:00"}
    )
    assert aftership.event_id(newer) != first  # a new checkpoint is a new event
    revised = json.loads(json.dumps(event))
    revised["msg"]["latest_estimated_delivery"]["datetime"] = "2025-11-22"
    assert aftership.event_id(revised) != first  # so is a new estimate


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("la-poste-colissimo", "colissimo"),
        ("chronopost-france", "chronopost"),
        ("dhl", "dhl"),
        ("ups", "ups"),
        ("fedex", "fedex"),
        ("usps", "usps"),
        ("dpd-fr", "dpd"),
        ("dpd", "dpd"),
        ("gls", "gls"),
        ("mondialrelay", "mondial_relay"),
        ("colis-prive", ""),
        ("", ""),
    ],
)
def test_aftership_courier_slugs(slug, expected):
    assert aftership.carrier(slug) == expected


# === generic (Standard Webhooks) ================================================================

GENERIC_KEY = b"aftersale-generic-test-key-00001"  # 32 bytes
GENERIC_SECRET = "whsec_" + base64.b64encode(GENERIC_KEY).decode()
GENERIC_OLD_SECRET = "whsec_" + base64.b64encode(b"aftersale-generic-old-key-000002").decode()
GENERIC_BODY = raw("generic", "shipment.updated.json")
MSG_ID = "msg_2kXq8Vd4Rz7Lm1Pn9Tb3Wc6Yh5"


def generic_signature(
    payload: bytes, secret: str = GENERIC_SECRET, msg_id: str = MSG_ID, timestamp: int = NOW
) -> str:
    """A Standard Webhooks `v1,<base64>` signature over f"{id}.{timestamp}.{body}"."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + payload
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def generic_headers(
    payload: bytes,
    secret: str = GENERIC_SECRET,
    msg_id: str = MSG_ID,
    timestamp: int = NOW,
    **overrides: str | None,
) -> dict[str, str]:
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": generic_signature(payload, secret, msg_id, timestamp),
        "content-type": "application/json",
    }
    headers.update({name.replace("_", "-"): value for name, value in overrides.items()})
    return {name: value for name, value in headers.items() if value is not None}


def generic_event(**data_changes) -> dict:
    event = load("generic", "shipment.updated.json")
    event["data"].update(data_changes)
    return event


def signed_generic(event: dict) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, generic_headers(body, msg_id=event.get("id") or MSG_ID)


def test_generic_sign_gives_the_headers_of_the_documented_scheme():
    headers = generic.sign(GENERIC_BODY, GENERIC_SECRET, webhook_id=MSG_ID, timestamp=NOW)
    expected = generic_headers(GENERIC_BODY)
    del expected["content-type"]
    assert headers == expected


def test_generic_what_sign_makes_verifies_and_a_changed_byte_is_refused():
    headers = generic.sign(GENERIC_BODY, GENERIC_SECRET, webhook_id=MSG_ID, timestamp=NOW)
    event = generic.verify(GENERIC_BODY, headers, [GENERIC_SECRET], now=NOW)
    assert event == json.loads(GENERIC_BODY)
    changed = GENERIC_BODY.replace(b'"carrier": "mondial_relay"', b'"carrier": "mondial_relaz"')
    assert sum(a != b for a, b in zip(GENERIC_BODY, changed, strict=True)) == 1
    with pytest.raises(VerificationError, match="no matching signature"):
        generic.verify(changed, headers, [GENERIC_SECRET], now=NOW)


def test_generic_accepts_the_right_secret_and_returns_the_event():
    event = generic.verify(GENERIC_BODY, generic_headers(GENERIC_BODY), [GENERIC_SECRET], now=NOW)
    assert event == json.loads(GENERIC_BODY)


def test_generic_accepts_any_active_secret_so_a_secret_can_be_rotated():
    headers = generic_headers(GENERIC_BODY, GENERIC_OLD_SECRET)
    secrets = [GENERIC_SECRET, GENERIC_OLD_SECRET]
    assert generic.verify(GENERIC_BODY, headers, secrets, now=NOW)


def test_generic_accepts_a_header_with_several_signatures_when_one_matches():
    good = generic_signature(GENERIC_BODY)
    other = generic_signature(GENERIC_BODY, GENERIC_OLD_SECRET)
    for signatures in (f"{other} {good}", f"{good} {other}", f"v1a,AAAA {good}", f"v1,@@ {good}"):
        headers = generic_headers(GENERIC_BODY, webhook_signature=signatures)
        assert generic.verify(GENERIC_BODY, headers, [GENERIC_SECRET], now=NOW)


def test_generic_accepts_a_timestamp_at_the_edge_of_the_tolerance():
    for timestamp in (NOW - 300, NOW + 300):
        headers = generic_headers(GENERIC_BODY, timestamp=timestamp)
        assert generic.verify(GENERIC_BODY, headers, [GENERIC_SECRET], now=NOW)


def test_generic_the_default_clock_is_the_real_one():
    headers = generic_headers(GENERIC_BODY, timestamp=int(time.time()))
    assert generic.verify(GENERIC_BODY, headers, [GENERIC_SECRET])


def test_generic_a_secret_without_its_prefix_is_accepted_too():
    secret = GENERIC_SECRET.removeprefix("whsec_")
    assert generic.verify(GENERIC_BODY, generic_headers(GENERIC_BODY), [secret], now=NOW)


def test_generic_an_unpadded_secret_is_accepted_as_the_reference_libraries_do():
    unpadded = GENERIC_SECRET.rstrip("=")
    assert unpadded != GENERIC_SECRET
    assert generic.verify(GENERIC_BODY, generic_headers(GENERIC_BODY), [unpadded], now=NOW)


def test_generic_any_other_event_type_passes_verify_and_is_ignored_by_parse():
    event = {"id": MSG_ID, "type": "shipment.created", "data": {"anything": True}}
    body, headers = signed_generic(event)
    assert generic.verify(body, headers, [GENERIC_SECRET], now=NOW) == event
    assert generic.parse(event) is None


def test_generic_statuses_are_accepted_in_any_case():
    event = generic_event(status="Delivered")
    event["data"]["checkpoints"][0]["status"] = "INFO_RECEIVED"
    body, headers = signed_generic(event)
    verified = generic.verify(body, headers, [GENERIC_SECRET], now=NOW)
    signal = generic.parse(verified)
    assert (signal.status, signal.raw_status) == ("delivered", "Delivered")
    assert signal.checkpoints[0].status == "info_received"


def test_the_generic_signing_agrees_with_the_standardwebhooks_library():
    """The official library (https://github.com/standard-webhooks/standard-webhooks, PyPI
    `standardwebhooks`) and ours sign and check alike. Skipped where it is not installed."""
    import standardwebhooks as library

    webhook = library.Webhook(GENERIC_SECRET)
    sent_at = datetime.fromtimestamp(NOW, tz=UTC)
    assert webhook.sign(MSG_ID, sent_at, GENERIC_BODY.decode()) == generic_signature(GENERIC_BODY)
    # Live timestamps, since the library reads the clock.
    now = int(time.time())
    headers = generic_headers(GENERIC_BODY, timestamp=now)
    assert webhook.verify(GENERIC_BODY, headers) == json.loads(GENERIC_BODY)
    library_headers = {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(now),
        "webhook-signature": webhook.sign(
            MSG_ID, datetime.fromtimestamp(now, tz=UTC), GENERIC_BODY.decode()
        ),
    }
    assert generic.verify(GENERIC_BODY, library_headers, [GENERIC_SECRET])


def _bad(event: dict) -> tuple[bytes, dict[str, str]]:
    """A body and headers signed alike: what is wrong is in the body."""
    return signed_generic(event)


def _with_checkpoint(**changes) -> dict:
    event = generic_event()
    event["data"]["checkpoints"][1].update(changes)
    return event


GB = GENERIC_BODY
OTHER_ID_BODY = json.dumps({**generic_event(), "id": "msg_other"}).encode()
GENERIC_BAD_REQUESTS = {
    "wrong secret": (
        GB,
        generic_headers(GB, "whsec_" + base64.b64encode(b"x" * 32).decode()),
        "no matching signature",
    ),
    "missing webhook-id": (GB, generic_headers(GB, webhook_id=None), "missing webhook-id"),
    "missing webhook-timestamp": (
        GB,
        generic_headers(GB, webhook_timestamp=None),
        "missing webhook-timestamp header",
    ),
    "missing webhook-signature": (
        GB,
        generic_headers(GB, webhook_signature=None),
        "missing webhook-signature header",
    ),
    "no headers at all": (GB, {}, "missing webhook-id header"),
    "non-numeric timestamp": (
        GB,
        generic_headers(GB, webhook_timestamp="2025-11-20T09:00:00Z"),
        "malformed webhook-timestamp header",
    ),
    "signature without version": (
        GB,
        generic_headers(GB, webhook_signature=generic_signature(GB).removeprefix("v1,")),
        "malformed webhook-signature header",
    ),
    "only another version": (
        GB,
        generic_headers(GB, webhook_signature=generic_signature(GB).replace("v1,", "v1a,")),
        "malformed webhook-signature header",
    ),
    "signature not base64": (
        GB,
        generic_headers(GB, webhook_signature="v1,not-base64!"),
        "malformed webhook-signature header",
    ),
    "signed for another id": (
        GB,
        generic_headers(GB, webhook_id="msg_someotherid"),
        "no matching signature",
    ),
    "tampered body": (
        GB.replace(b'"available_for_pickup"', b'"delivered"', 1),
        generic_headers(GB),
        "no matching signature",
    ),
    "stale, 301 s old": (GB, generic_headers(GB, timestamp=NOW - 301), "outside the tolerance"),
    "future, 301 s ahead": (
        GB,
        generic_headers(GB, timestamp=NOW + 301),
        "outside the tolerance",
    ),
    "malformed JSON": (
        b'{"id": "msg_1", ',
        generic_headers(b'{"id": "msg_1", ', msg_id="msg_1"),
        "not valid JSON",
    ),
    "JSON array": (b"[]", generic_headers(b"[]"), "not a JSON object"),
    "not UTF-8": (b'{"id": "\xff"}', generic_headers(b'{"id": "\xff"}'), "not UTF-8"),
    "body id differs from webhook-id": (
        OTHER_ID_BODY,
        generic_headers(OTHER_ID_BODY),  # signed for MSG_ID
        "body id does not match webhook-id",
    ),
    "no type": (*_bad({"id": MSG_ID, "data": {}}), "event has no type"),
    "no data": (*_bad({"id": MSG_ID, "type": "shipment.updated"}), "no data object"),
    "no tracking number": (*_bad(generic_event(tracking_number=" ")), "no tracking_number"),
    "unknown status": (*_bad(generic_event(status="shipped")), "unknown status 'shipped'"),
    "status not a string": (*_bad(generic_event(status=3)), "unknown status int"),
    "unknown carrier": (*_bad(generic_event(carrier="la-poste")), "unknown carrier 'la-poste'"),
    "bad estimated date": (
        *_bad(generic_event(estimated_delivery_date="20/11/2025")),
        "estimated_delivery_date is not YYYY-MM-DD",
    ),
    "javascript URL": (
        *_bad(generic_event(carrier_tracking_url="javascript:alert(1)")),
        "not an http(s) URL",
    ),
    "URL not a string": (*_bad(generic_event(carrier_tracking_url=7)), "not a string"),
    "checkpoints not a list": (*_bad(generic_event(checkpoints={})), "checkpoints is not a list"),
    "checkpoint not an object": (
        *_bad(generic_event(checkpoints=["in_transit"])),
        "checkpoints[0] is not an object",
    ),
    "unknown checkpoint status": (
        *_bad(_with_checkpoint(status="arrived")),
        "unknown checkpoints[1].status 'arrived'",
    ),
    "checkpoint time without offset": (
        *_bad(_with_checkpoint(time="2025-11-18T07:05:00")),
        "checkpoints[1].time has no UTC offset",
    ),
    "checkpoint time not ISO": (
        *_bad(_with_checkpoint(time="18/11/2025 07:05")),
        "checkpoints[1].time is not ISO 8601",
    ),
}


@pytest.mark.parametrize(
    ("payload", "headers", "reason"),
    GENERIC_BAD_REQUESTS.values(),
    ids=GENERIC_BAD_REQUESTS.keys(),
)
def test_generic_refuses_a_bad_request_with_a_short_safe_reason(payload, headers, reason):
    secrets = [GENERIC_SECRET]
    assert_refused(
        lambda: generic.verify(payload, headers, secrets, now=NOW),
        reason,
        secrets=[*secrets, GENERIC_SECRET.removeprefix("whsec_")],
        header=headers.get("webhook-signature", "").removeprefix("v1,"),
    )


@pytest.mark.parametrize(
    ("secrets", "reason"),
    [([], "no webhook secret configured"), (["", "whsec_not*base64"], "no webhook secret")],
)
def test_generic_refuses_when_no_usable_secret_is_configured(secrets, reason):
    assert_refused(
        lambda: generic.verify(GENERIC_BODY, generic_headers(GENERIC_BODY), secrets, now=NOW),
        reason,
        secrets=secrets,
    )


def test_a_long_bad_value_is_cut_short_in_the_refusal():
    body, headers = signed_generic(generic_event(status="x" * 500))
    with pytest.raises(VerificationError) as refused:
        generic.verify(body, headers, [GENERIC_SECRET], now=NOW)
    assert len(str(refused.value)) < 80


GENERIC_EXPECTED = TrackingSignal(
    provider="generic",
    event_id=MSG_ID,
    event_type="shipment.updated",
    tracking_number="MR-0045821937",
    carrier="mondial_relay",
    status="available_for_pickup",
    raw_status="available_for_pickup",
    estimated_delivery=date(2025, 11, 20),
    carrier_tracking_url=(
        "https://www.mondialrelay.fr/suivi-de-colis/?numeroExpedition=0045821937"
    ),
    checkpoints=(
        CheckpointData(
            occurred_at=datetime(2025, 11, 17, 18, 20, tzinfo=PARIS),
            status="info_received",
            raw_status="info_received",
            description="Colis annoncé par l'expéditeur",
            location="Nantes, FR",
        ),
        CheckpointData(
            occurred_at=datetime(2025, 11, 18, 7, 5, tzinfo=PARIS),
            status="in_transit",
            raw_status="in_transit",
            description="Colis pris en charge au relais de dépôt",
            location="Nantes, FR",
        ),
        CheckpointData(
            occurred_at=datetime(2025, 11, 20, 8, 55, tzinfo=PARIS),
            status="available_for_pickup",
            raw_status="available_for_pickup",
            description="Colis disponible au Point Relais Tabac du Port",
            location="Bordeaux, FR",
        ),
    ),
)


def test_generic_fixture_parses_to_its_signal():
    assert generic.parse(load("generic", "shipment.updated.json")) == GENERIC_EXPECTED


def test_generic_the_optional_fields_may_be_left_out():
    event = {
        "id": MSG_ID,
        "type": "shipment.updated",
        "data": {"tracking_number": "ABC123", "status": "in_transit"},
    }
    body, headers = signed_generic(event)
    signal = generic.parse(generic.verify(body, headers, [GENERIC_SECRET], now=NOW))
    assert signal == TrackingSignal(
        provider="generic",
        event_id=MSG_ID,
        event_type="shipment.updated",
        tracking_number="ABC123",
        status="in_transit",
        raw_status="in_transit",
    )
    event["data"].update(carrier=None, estimated_delivery_date=None, carrier_tracking_url=None)
    assert generic.parse(event) == signal


def test_generic_parse_of_a_body_verify_would_refuse_is_none():
    assert generic.parse(generic_event(status="shipped")) is None
    assert generic.parse({"id": MSG_ID, "type": "shipment.updated"}) is None
