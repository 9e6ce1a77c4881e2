"""Carriers Aftersale knows by name, how to recognise them from a tracking number's format
(detect, guess), and each carrier's own public tracking page (tracking_url)."""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from django.db import models


class Carrier(models.TextChoices):
    COLISSIMO = "colissimo", "La Poste / Colissimo"
    CHRONOPOST = "chronopost", "Chronopost"
    DHL = "dhl", "DHL"
    UPS = "ups", "UPS"
    FEDEX = "fedex", "FedEx"
    USPS = "usps", "USPS"
    DPD = "dpd", "DPD"
    GLS = "gls", "GLS"
    MONDIAL_RELAY = "mondial_relay", "Mondial Relay"
    OTHER = "other", "Other"


# --- Detection from the number's format -------------------------------------------------------
#
# Each row of FORMATS is one documented format: (carrier, full-match regex over the normalised
# number, optional check-digit function, where the format is documented). detect() ranks its
# candidates by check digit (valid, then "no check digit defined", then invalid), then by row
# order, so more specific rows come first. A new carrier or format is one new row.
#
# jkeen/tracking_number_data (https://github.com/jkeen/tracking_number_data, MIT) describes most
# formats and check digits below; the facts are re-expressed here, not its code.

TND = "https://github.com/jkeen/tracking_number_data/blob/main/couriers"
GLS_UNIBOX = (
    "https://gls-group.eu/DE/media/downloads/"
    "GLS_Uni-Box_TechDoku_2D_V0110_01-10-2012_DE-download-4424.pdf (3.2.1)"
)
DPD_LABEL = "https://github.com/bwipp/postscriptbarcode/wiki/DPD-Parcel-Label"

_NON_ALNUM = re.compile(r"[^A-Z0-9]")


def normalise_tracking_number(raw: str) -> str:
    """Upper case, with everything but A-Z and 0-9 dropped: buyers and shops paste numbers with
    spaces, dashes and dots, and DPD's barcode text starts with "%". NFKC first turns
    full-width digits and letters (pasted from some Asian storefronts) into ASCII ones."""
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", raw or "").upper())


def _digits(text: str) -> list[int]:
    return [int(c) for c in text]


def _gs1_mod10(data: str) -> int:
    """GS1 / USPS Pub 199 mod 10: weights 3, 1, 3... from the rightmost data digit."""
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(_digits(data))))
    return (10 - total % 10) % 10


def _gs1_ok(data: str, check: str) -> bool:
    return _gs1_mod10(data) == int(check)


def _s10_ok(n: str) -> bool:
    """UPU S10: 8 serial digits weighted 8 6 4 2 3 5 9 7; 11 - sum mod 11, 10 -> 0, 11 -> 5."""
    total = sum(w * d for w, d in zip((8, 6, 4, 2, 3, 5, 9, 7), _digits(n[2:10]), strict=True))
    check = 11 - total % 11
    check = {10: 0, 11: 5}.get(check, check)
    return check == int(n[10])


def _ups_ok(n: str) -> bool:
    """UPS 1Z: the 15 characters after "1Z" (letters as (ord - 63) mod 10), even positions x1
    and odd positions x2 counting from 0; the check digit makes the sum a multiple of 10."""
    values = [int(c) if c.isdigit() else (ord(c) - 63) % 10 for c in n[2:17]]
    total = sum(v * (1 if i % 2 == 0 else 2) for i, v in enumerate(values))
    return (10 - total % 10) % 10 == int(n[17])


def _weighted_mod11(data: str, weights: tuple[int, ...], check: str) -> bool:
    """FedEx Express: sum of digit x weight (weights repeat), mod 11, then mod 10."""
    total = sum(d * weights[i % len(weights)] for i, d in enumerate(_digits(data)))
    return total % 11 % 10 == int(check)


def _fedex12_ok(n: str) -> bool:
    return _weighted_mod11(n[:11], (3, 1, 7), n[11])


def _fedex34_ok(n: str) -> bool:
    return _weighted_mod11(n[20:33], (1, 7, 3), n[33])


def _fedex15_ok(n: str) -> bool:
    return _gs1_ok(n[:14], n[14])


def _fedex96_ok(n: str) -> bool:
    # Only the 14-digit shipper + package serial (after "96", SCNC and service) is checked.
    return _gs1_ok(n[7:21], n[21])


def _smartpost20_ok(n: str) -> bool:
    # The 20-digit form omits the "92" application identifier, which the check digit includes.
    return _gs1_ok("92" + n[:19], n[19])


def _impb_ok(n: str) -> bool:
    """USPS IMpb: "9[1-5]" + 20 or 24 digits, mod 10. A "420" + ZIP (5 or 9 digits) routing
    prefix may precede it and is not part of the check."""
    bodies = [n, n[8:], n[12:]] if n.startswith("420") else [n]
    return any(_IMPB.fullmatch(body) and _gs1_ok(body[:-1], body[-1]) for body in bodies)


def _usps20_ok(n: str) -> bool:
    # The older 20-digit numbers check as they are; others as IMpb with an implied "91".
    return _gs1_ok(n[:19], n[19]) or _gs1_ok("91" + n[:19], n[19])


def _dhl_mod7_ok(n: str) -> bool:
    return int(n[:-1]) % 7 == int(n[-1])


def _gls_ok(n: str) -> bool:
    """GLS parcel number: 11 digits weighted 3, 1, 3... from the left, plus 1; the check digit
    brings the sum to a multiple of 10 (GLS Uni-Box technical documentation, chapter 3.2.1)."""
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(_digits(n[:11]))) + 1
    return (10 - total % 10) % 10 == int(n[11])


_IMPB = re.compile(r"9[1-5](?:\d{20}|\d{24})")
_MOD36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _iso7064_mod37_36_ok(n: str) -> bool:
    """DPD check character: ISO/IEC 7064 MOD 37,36 over everything before it."""
    product = 36
    for char in n[:-1]:
        total = (product + _MOD36.index(char)) % 36 or 36
        product = total * 2 % 37
    return _MOD36[(37 - product) % 36] == n[-1]


@dataclass(frozen=True)
class Format:
    carrier: Carrier
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None
    source: str  # where the format (and its check digit) is documented


def _row(carrier: Carrier, regex: str, check: Callable[[str], bool] | None, source: str) -> Format:
    return Format(carrier, re.compile(regex), check, source)


_S10 = r"[A-Z]{2}\d{9}"  # UPU S10: 2 letters, 8 digits, check digit, then the ISO country

FORMATS: tuple[Format, ...] = (
    # UPS: "1Z" + 6 shipper + 2 service + 7 package + check digit.
    _row(Carrier.UPS, r"1Z[A-Z0-9]{15}\d", _ups_ok, f"{TND}/ups.json"),
    # S10 numbers name the posting administration in their last two letters. Chronopost's rows
    # come before La Poste's so that they outrank it where both fit.
    # Chronopost's own skybill numbers: "X" + letter, outside the UPU service indicators, with
    # "FR" or a Chronopost code ("XW261547816TS" on Chronopost Pickup labels).
    _row(
        Carrier.CHRONOPOST,
        r"X[A-Z]\d{9}[A-Z]{2}",
        _s10_ok,
        "https://www.chronopost.fr/tracking-no-cms/suivi-page",
    ),
    # EMS ("E" + letter) posted in France travels with Chronopost, La Poste's express arm.
    _row(Carrier.CHRONOPOST, r"E[A-Z]\d{9}FR", _s10_ok, f"{TND}/s10.json"),
    # La Poste international (Colissimo international, registered letters): S10 + "FR".
    _row(Carrier.COLISSIMO, _S10 + "FR", _s10_ok, f"{TND}/s10.json"),
    # Domestic Colissimo and Lettre suivie: 13 characters, a digit, a letter and 11 digits
    # (6A, 6C, 6H, 8R, 8J, 5V, 8D...; Lettre suivie 1K, 1L...). No public check-digit rule.
    _row(
        Carrier.COLISSIMO,
        r"\d[A-Z]\d{11}",
        None,
        "http://www.colissimo.fr/particuliers/Track_a_parcel/FAQ_tracking.jsp",
    ),
    _row(Carrier.USPS, _S10 + "US", _s10_ok, f"{TND}/s10.json"),
    # Deutsche Post / DHL eCommerce ("LX", "RX"... + "DE").
    _row(Carrier.DHL, _S10 + "DE", _s10_ok, f"{TND}/s10.json"),
    # DHL Express air waybill: 10 (or 11) digits, the last being the others mod 7.
    _row(Carrier.DHL, r"\d{10,11}", _dhl_mod7_ok, f"{TND}/dhl.json"),
    # DHL Express piece IDs: "JJD" + digits, "JVGL" + digits.
    _row(Carrier.DHL, r"J(?:JD|VGL)\d{9,20}", None, f"{TND}/dhl.json"),
    # DHL eCommerce: "GM" + 16 to 22 digits.
    _row(Carrier.DHL, r"GM\d{16,22}", None, f"{TND}/dhl.json"),
    # USPS IMpb (Publication 199): "9[1-5]" + 20 or 24 digits, optionally behind "420" + ZIP.
    _row(
        Carrier.USPS,
        r"(?:420\d{5}(?:\d{4})?)?9[1-5](?:\d{20}|\d{24})",
        _impb_ok,
        f"{TND}/usps.json",
    ),
    # FedEx Express 12 digits (weights 3 1 7, mod 11 mod 10), Ground 15 digits (mod 10),
    # Ground "96" 22 digits, Express "100x" / Ground GSN "96" 34 digits.
    _row(Carrier.FEDEX, r"\d{12}", _fedex12_ok, f"{TND}/fedex.json"),
    _row(Carrier.FEDEX, r"\d{15}", _fedex15_ok, f"{TND}/fedex.json"),
    _row(Carrier.FEDEX, r"96\d{20}", _fedex96_ok, f"{TND}/fedex.json"),
    _row(Carrier.FEDEX, r"(?:100\d|96\d\d)\d{30}", _fedex34_ok, f"{TND}/fedex.json"),
    # FedEx SmartPost, delivered by USPS: "92" + 20 digits, or 20 digits without the "92".
    _row(Carrier.FEDEX, r"92\d{20}", _impb_ok, f"{TND}/fedex.json"),
    _row(Carrier.FEDEX, r"\d{20}", _smartpost20_ok, f"{TND}/fedex.json"),
    # USPS 20 digits (older certified / registered mail numbers).
    _row(Carrier.USPS, r"\d{20}", _usps20_ok, f"{TND}/usps.json"),
    # UPS Mail Innovations / freight: "T" + 10 digits (no UPS document found; public code).
    _row(
        Carrier.UPS,
        r"T\d{10}",
        None,
        "https://github.com/niradler/tracking-number-validation (src/config/index.js)",
    ),
    # GLS parcel number: 11 digits + check digit, and the 11-digit form without it.
    _row(Carrier.GLS, r"\d{12}", _gls_ok, GLS_UNIBOX),
    _row(Carrier.GLS, r"\d{11}", None, GLS_UNIBOX),
    # DPD parcel number: 4-digit depot + 10-character parcel number (the first two may be
    # letters), optionally followed by its ISO 7064 MOD 37,36 check character; the label's
    # barcode text adds a 7-character postcode before and service + country codes after.
    _row(Carrier.DPD, r"\d{4}[A-Z0-9]{2}\d{8}[A-Z0-9]", _iso7064_mod37_36_ok, DPD_LABEL),
    _row(
        Carrier.DPD,
        r"[A-Z0-9]{7}\d{4}[A-Z0-9]{2}\d{14}[A-Z0-9]",
        _iso7064_mod37_36_ok,
        f"{TND}/dpd.json",
    ),
    _row(Carrier.DPD, r"\d{4}[A-Z0-9]{2}\d{8}", None, DPD_LABEL),
    _row(Carrier.DPD, r"[A-Z0-9]{7}\d{4}[A-Z0-9]{2}\d{14}", None, DPD_LABEL),
    # DHL Paket (Germany): 12 or 20 digits, no public check-digit rule.
    _row(
        Carrier.DHL,
        r"\d{12}|\d{20}",
        None,
        "https://www.dhl.de/de/privatkunden/hilfe-kundenservice/sendungsverfolgung.html",
    ),
    # Mondial Relay: the 8-digit "numéro d'expédition" (its tracking page also asks for the
    # recipient's postcode).
    _row(Carrier.MONDIAL_RELAY, r"\d{8}", None, "https://www.mondialrelay.fr/suivi-de-colis/"),
    # GLS TrackID: 8 characters ending with a letter; requiring a digit keeps words out. The
    # shape comes from public tracking code, not a GLS document, hence last.
    _row(
        Carrier.GLS,
        r"(?=[A-Z]*\d)[A-Z0-9]{7}[A-Z]",
        None,
        "https://gls-group.com/FR/fr/suivi-colis (TrackID)",
    ),
)

# Rank of a candidate by its check digit: a number that passes its format's check beats one
# whose format has none, which beats one whose check fails (a typo, or another format).
_VALID, _UNCHECKED, _INVALID = 0, 1, 2


def _rank(fmt: Format, number: str) -> int:
    if fmt.check is None:
        return _UNCHECKED
    return _VALID if fmt.check(number) else _INVALID


def detect(tracking_number: str) -> list[str]:
    """The carriers whose documented formats match the number, most likely first; [] when none.
    Formats overlap (10 digits, 12 digits, 20 digits...), hence a list."""
    number = normalise_tracking_number(tracking_number)
    best: dict[str, tuple[int, int]] = {}
    for order, fmt in enumerate(FORMATS):
        if not fmt.pattern.fullmatch(number):
            continue
        rank = _rank(fmt, number)
        carrier = fmt.carrier.value
        best[carrier] = min(best.get(carrier, (rank, order)), (rank, order))
    return sorted(best, key=best.__getitem__)


def guess(tracking_number: str) -> str:
    """The most likely carrier, or "" (the merchant can correct a wrong guess)."""
    candidates = detect(tracking_number)
    return candidates[0] if candidates else ""


# --- The carriers' own public tracking pages ---------------------------------------------------

TRACKING_URLS: dict[str, str] = {
    Carrier.COLISSIMO.value: "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
    Carrier.CHRONOPOST.value: "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={}",
    Carrier.DHL.value: "https://www.dhl.com/fr-fr/home/suivi.html?tracking-id={}",
    Carrier.UPS.value: "https://www.ups.com/track?tracknum={}",
    Carrier.FEDEX.value: "https://www.fedex.com/fedextrack/?trknbr={}",
    Carrier.USPS.value: "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    Carrier.DPD.value: "https://www.dpd.fr/trace/{}",
    Carrier.GLS.value: "https://gls-group.com/FR/fr/suivi-colis?match={}",
    Carrier.MONDIAL_RELAY.value: "https://www.mondialrelay.fr/suivi-de-colis?numeroExpedition={}",
}


def tracking_url(carrier: str, tracking_number: str) -> str:
    """The carrier's public tracking page for the number, or "" for "other", an unknown carrier
    or no number. The number is URL-encoded as given (callers pass it normalised)."""
    template = TRACKING_URLS.get(str(carrier or ""))
    number = (tracking_number or "").strip()
    if template is None or not number:
        return ""
    return template.format(quote(number, safe=""))
