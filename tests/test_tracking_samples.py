"""Each tracking source's samples (tracking.providers.<source>.samples), which the test button and
the demo send: what they sign, the source's own adapter accepts, and what they build, it reads
back as the steps they were given, every status they can write included.

The signature schemes themselves are checked against independent computations in
test_tracking_providers.py; here the samples are checked against the adapters. Pure: no
database.
"""

import random
import time
from datetime import UTC, date, datetime, timedelta

from tracking.carriers import Carrier
from tracking.providers import Step
from tracking.providers.aftership import CONNECTION as AFTERSHIP
from tracking.providers.aftership import samples as aftership
from tracking.providers.easypost import CONNECTION as EASYPOST
from tracking.providers.easypost import samples as easypost
from tracking.providers.generic import CONNECTION as GENERIC
from tracking.providers.generic import samples as generic
from tracking.statuses import ShipmentStatus as S

SECRET = "aftersale-samples-secret-0123456789"
GENERIC_SECRET = "whsec_YWZ0ZXJzYWxlLXNhbXBsZXMtc2lnbmluZy1rZXk="
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ESTIMATE = date(2026, 3, 5)


def journey(statuses) -> list[Step]:
    return [
        Step(T0 + timedelta(hours=6 * i), status, f"Étape {i}", f"Hub {i}")
        for i, status in enumerate(statuses)
    ]


def received(connection, signed, secret: str):
    """The signal the connection's adapter reads from a signed request, as the edge verifies
    it and the worker parses it."""
    event = connection.adapter.verify(signed.body, signed.headers, [secret])
    signal = connection.adapter.parse(event)
    assert signal.provider == connection.key
    return signal


def assert_reads_back(signal, steps: list[Step], *, number: str, carrier: str, locations) -> None:
    assert (signal.tracking_number, signal.carrier) == (number, carrier)
    assert signal.estimated_delivery == ESTIMATE
    assert signal.status == steps[-1].status
    assert [(c.occurred_at, c.status, c.description) for c in signal.checkpoints] == [
        (step.at, step.status, step.message) for step in steps
    ]
    assert [c.location for c in signal.checkpoints] == locations


def test_an_easypost_sample_verifies_and_reads_back_as_its_steps():
    steps = journey(easypost.WORDS)
    event = easypost.tracker_event(
        random.Random(1),
        tracking_code="1Z999AA10123456784",
        carrier="UPS",
        steps=steps,
        estimated_delivery=ESTIMATE,
        public_url="https://track.easypost.com/sample",
    )
    signal = received(EASYPOST, easypost.signed(event, SECRET), SECRET)
    assert (signal.event_id, signal.event_type) == (event["id"], "tracker.updated")
    assert signal.carrier_tracking_url == "https://track.easypost.com/sample"
    locations = [f"{step.location}, FR" for step in steps]
    assert_reads_back(
        signal, steps, number="1Z999AA10123456784", carrier=Carrier.UPS, locations=locations
    )


def test_an_aftership_sample_verifies_and_reads_back_as_its_steps():
    steps = journey(aftership.WORDS)
    link = "https://www.laposte.fr/outils/suivre-vos-envois?code=6A12345678901"
    event = aftership.tracking_update(
        random.Random(1),
        tracking_number="6A12345678901",
        slug="la-poste-colissimo",
        steps=steps,
        order_id="ML-10001",
        estimated_delivery=ESTIMATE,
        tracking_link=link,
    )
    signal = received(AFTERSHIP, aftership.signed(event, SECRET), SECRET)
    assert (signal.event_id, signal.event_type) == (event["event_id"], "tracking_update")
    assert signal.carrier_tracking_url == link
    locations = [step.location for step in steps]
    assert_reads_back(
        signal, steps, number="6A12345678901", carrier=Carrier.COLISSIMO, locations=locations
    )


def test_a_generic_sample_verifies_and_reads_back_as_its_steps():
    steps = journey([S.INFO_RECEIVED, S.IN_TRANSIT, S.AVAILABLE_FOR_PICKUP])
    event = generic.shipment_update(
        random.Random(1),
        tracking_number="45821937",
        carrier=Carrier.MONDIAL_RELAY,
        steps=steps,
        estimated_delivery=ESTIMATE,
    )
    signed = generic.signed(event, GENERIC_SECRET, now=int(time.time()))
    signal = received(GENERIC, signed, GENERIC_SECRET)
    assert (signal.event_id, signal.event_type) == (event["id"], "shipment.updated")
    locations = [step.location for step in steps]
    assert_reads_back(
        signal, steps, number="45821937", carrier=Carrier.MONDIAL_RELAY, locations=locations
    )
