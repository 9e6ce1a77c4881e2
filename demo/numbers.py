"""Which carrier ships each of the demo's parcels, and tracking numbers that pass that carrier's
check digit, drawn from the caller's random generator (so a seeded demo is the same every time).

tracking.carriers recognises every number made here as its carrier's, as it would a real one.
Nothing here touches the database.
"""

import random
import string

from tracking import carriers
from tracking.carriers import Carrier

# The check-digit rules are tracking.carriers' own, next to the formats they check: a number is
# made by drawing its other characters and trying each check character until the carrier's
# format accepts one (exactly one passes), so the demo keeps no copy of the arithmetic.


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(count))


def _checked(carrier: str, before: str, after: str = "", alphabet: str = string.digits) -> str:
    """before + the check character the carrier's checked formats accept + after."""
    formats = [f for f in carriers.FORMATS if f.carrier == carrier and f.check is not None]
    for char in alphabet:
        number = f"{before}{char}{after}"
        if any(f.pattern.fullmatch(number) and f.check(number) for f in formats):
            return number
    raise ValueError(f"no check character makes {before}_{after} a {carrier} number")


def _ups(rng: random.Random) -> str:
    body = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
    body += rng.choice(["03", "12", "13", "42"]) + _digits(rng, 7)
    return _checked(Carrier.UPS, f"1Z{body}")


def _dpd(rng: random.Random) -> str:
    data = f"{rng.choice(['0250', '0176', '0530'])}{_digits(rng, 10)}"
    return _checked(Carrier.DPD, data, alphabet=string.digits + string.ascii_uppercase)


NUMBER_MAKERS = {
    Carrier.COLISSIMO: lambda rng: rng.choice(["6A", "6C", "8R"]) + _digits(rng, 11),
    # Chronopost skybill: UPU S10 serial and check digit between "XW" and "FR".
    Carrier.CHRONOPOST: lambda rng: _checked(Carrier.CHRONOPOST, "XW" + _digits(rng, 8), "FR"),
    Carrier.UPS: _ups,
    # DHL Express air waybill: nine digits and their remainder mod 7.
    Carrier.DHL: lambda rng: _checked(Carrier.DHL, str(rng.randint(10**8, 10**9 - 1))),
    Carrier.DPD: _dpd,
    Carrier.GLS: lambda rng: _checked(Carrier.GLS, _digits(rng, 11)),
    Carrier.MONDIAL_RELAY: lambda rng: _digits(rng, 8),
}
CARRIER_WEIGHTS = {
    Carrier.COLISSIMO: 40,
    Carrier.MONDIAL_RELAY: 18,
    Carrier.CHRONOPOST: 12,
    Carrier.DPD: 10,
    Carrier.GLS: 8,
    Carrier.UPS: 7,
    Carrier.DHL: 5,
}


def tracking_number(rng: random.Random, carrier: str) -> str:
    """A number in the carrier's format with a valid check digit, that tracking.carriers
    recognises as that carrier's first (a 12-digit GLS number can also pass FedEx's check;
    such a number is drawn again)."""
    while True:
        number = NUMBER_MAKERS[carrier](rng)
        if carriers.guess(number) == carrier:
            return number


def pick_carrier(rng: random.Random) -> str:
    return rng.choices(list(CARRIER_WEIGHTS), weights=list(CARRIER_WEIGHTS.values()))[0]
