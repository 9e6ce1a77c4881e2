"""Carrier detection from a tracking number's format, and the carriers' tracking links.
No database: tracking.carriers is pure functions over strings."""

from urllib.parse import quote

import pytest

from tracking.carriers import (
    FORMATS,
    TRACKING_URLS,
    Carrier,
    detect,
    guess,
    normalise_tracking_number,
    tracking_url,
)

# (number, the carrier detect() must put first). Check digits are valid unless said otherwise:
# the examples published with each format (UPS "1Z999AA10123456784", jkeen/tracking_number_data's
# test numbers), and S10 / GLS / DPD / DHL numbers whose check digits were computed by hand.
FIRST_CHOICE = [
    # La Poste / Colissimo: S10 + "FR" (international) ...
    ("CB123456785FR", "colissimo"),
    ("LA000123455FR", "colissimo"),
    ("RR987654326FR", "colissimo"),
    ("CP001122337FR", "colissimo"),
    # ... and domestic Colissimo / Lettre suivie: a digit, a letter, 11 digits.
    ("6A12345678901", "colissimo"),
    ("8R00123456789", "colissimo"),
    ("5V12345678901", "colissimo"),
    ("6C01234567890", "colissimo"),
    ("8D00432154798", "colissimo"),  # colissimo.fr's FAQ example
    ("1K00123456789", "colissimo"),  # Lettre suivie
    # Chronopost: its own "X?" skybills, and EMS posted in France.
    ("XR123456785FR", "chronopost"),
    ("XY876543216FR", "chronopost"),
    ("EE876543216FR", "chronopost"),
    ("EV112233447FR", "chronopost"),
    ("XW261547816TS", "chronopost"),
    # DHL: Express waybills (mod 7), piece IDs, eCommerce, Deutsche Post S10.
    ("3318810025", "dhl"),
    ("8487135506", "dhl"),
    ("1234567891", "dhl"),
    ("73891051146", "dhl"),
    ("JJD000390007421212345", "dhl"),
    ("JVGL0999999990", "dhl"),
    ("GM2951173225174494", "dhl"),
    ("GM295117494011169042", "dhl"),
    ("LX123456785DE", "dhl"),
    ("RX876543216DE", "dhl"),
    # UPS: "1Z" with its mod 10 check digit, and "T" + 10 digits.
    ("1Z999AA10123456784", "ups"),
    ("1Z5R89390357567127", "ups"),
    ("1Z879E930346834440", "ups"),
    ("1Z410E7W0392751591", "ups"),
    ("1Z8V92A70367203024", "ups"),
    ("T1234567890", "ups"),
    # FedEx: Express 12 (mod 11), Ground 15, Ground "96" 22, Express / GSN 34, SmartPost 20.
    ("986578788855", "fedex"),
    ("477179081230", "fedex"),
    ("799531274483", "fedex"),
    ("041441760228964", "fedex"),
    ("568283610012734", "fedex"),
    ("9611020987654312345672", "fedex"),
    ("1001921334250001000300779017972697", "fedex"),
    ("9622001900000000000000776632517510", "fedex"),
    ("61299998820821171811", "fedex"),
    # USPS: S10 + "US", IMpb 22 / 26 digits, behind a "420" + ZIP prefix, older 20 digits.
    ("RR123456785US", "usps"),
    ("EC135724682US", "usps"),
    ("9400111201080805483016", "usps"),
    ("9361289878700317633795", "usps"),
    ("9505511069605048600624", "usps"),
    ("92748931507708513018050063", "usps"),
    ("420221539101026837331000039521", "usps"),
    ("4201002334249200190132607600833457", "usps"),
    ("03071790000523483741", "usps"),
    ("71969010756003077385", "usps"),
    # DPD: depot + parcel number, with or without its MOD 37,36 check character, and the
    # label's 28-character barcode text.
    ("05212345678901", "dpd"),
    ("05212345678901K", "dpd"),
    ("0998AB12345678N", "dpd"),
    ("15501234567890Q", "dpd"),
    ("008182709980000020033350276C", "dpd"),
    ("008182709980000020045327276N", "dpd"),
    # GLS: 12-digit parcel numbers with a valid check digit, and TrackIDs.
    ("501234567899", "gls"),
    ("314159265357", "gls"),
    ("620100000015", "gls"),
    ("271828182844", "gls"),
    ("ZKL3P7QK", "gls"),
    # Mondial Relay: the 8-digit shipment number.
    ("12345678", "mondial_relay"),
    ("87654321", "mondial_relay"),
    ("40012345", "mondial_relay"),
    ("00981234", "mondial_relay"),
]


@pytest.mark.parametrize(("number", "carrier"), FIRST_CHOICE)
def test_detect_puts_the_documented_carrier_first(number, carrier):
    assert detect(number)[0] == carrier
    assert guess(number) == carrier


def test_every_carrier_has_examples():
    covered = {carrier for _, carrier in FIRST_CHOICE}
    expected = {c.value for c in Carrier} - {Carrier.OTHER.value}
    assert covered == expected
    for carrier in expected:
        assert sum(1 for _, c in FIRST_CHOICE if c == carrier) >= 4, carrier


# Formats overlap: (number, every carrier detect() must list, in this order).
OVERLAPS = [
    # 12 digits: a valid FedEx check digit ranks FedEx first; DHL Paket and GLS follow.
    ("986578788855", ["fedex", "dhl", "gls"]),
    # ... and when GLS's check digit is the one that holds, GLS leads, FedEx still listed.
    ("996578788855", ["gls", "dhl", "fedex"]),
    ("501234567899", ["gls", "dhl", "fedex"]),
    # S10 + "FR" with a Chronopost prefix: Chronopost first, La Poste (which tracks it too) next.
    ("XR123456785FR", ["chronopost", "colissimo"]),
    ("EE876543216FR", ["chronopost", "colissimo"]),
    # SmartPost is FedEx's, delivered by USPS under a USPS number.
    ("9261292700768711948021", ["usps", "fedex"]),
    ("61299998820821171811", ["fedex", "dhl", "usps"]),
    # 20 digits: the older USPS format, also the shape of DHL Paket and SmartPost numbers.
    ("03071790000523483741", ["usps", "dhl", "fedex"]),
    # 15 characters, all digits: FedEx Ground and DPD with its check character both hold.
    ("041441760228964", ["fedex", "dpd"]),
    ("099812345678904", ["dpd", "fedex"]),
    # 11 digits: a GLS number without its check digit, or a DHL waybill whose check fails.
    ("12345678901", ["gls", "dhl"]),
]


@pytest.mark.parametrize(("number", "carriers"), OVERLAPS)
def test_overlapping_formats_list_every_candidate_in_order(number, carriers):
    assert detect(number) == carriers


def test_a_twelve_digit_number_lists_fedex_among_the_candidates():
    for number in ("123456789012", "986578788855", "996578788855", "000000000016"):
        assert "fedex" in detect(number)


# A wrong check digit (a typo) still names the carrier whose format it has, ranked lower.
FAILED_CHECK_DIGITS = [
    ("1Z999AA10123456785", ["ups"]),
    ("1Z5R89390357567128", ["ups"]),
    ("CB123456784FR", ["colissimo"]),
    ("XR123456786FR", ["chronopost", "colissimo"]),
    ("RR123456784US", ["usps"]),
    ("LX123456784DE", ["dhl"]),
    ("9400111201080805483017", ["usps"]),
    ("008182709980000020033350276A", ["dpd"]),
]


@pytest.mark.parametrize(("number", "carriers"), FAILED_CHECK_DIGITS)
def test_a_failed_check_digit_still_lists_the_format(number, carriers):
    assert detect(number) == carriers


def test_a_valid_check_digit_outranks_a_format_without_one():
    # 10 digits: DHL Express (mod 7 holds) is the only candidate.
    assert detect("3318810025") == ["dhl"]
    # 12 digits where no check holds: DHL Paket (no check digit) before FedEx and GLS.
    assert detect("111111111111")[0] == "dhl"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("cb 123 456 785 fr", "CB123456785FR"),
        ("  1z-999-aa1-012-345-6784 ", "1Z999AA10123456784"),
        ("6a.123.456.789.01", "6A12345678901"),
        ("9400 1112 0108 0805 4830 16", "9400111201080805483016"),
        ("%0081827 0998 0000 0200 33 350 276 C", "008182709980000020033350276C"),
        ("\t0521\n2345 6789 01\r\n", "05212345678901"),
        ("１Ｚ９９９ＡＡ１０１２３４５６７８４", "1Z999AA10123456784"),  # full-width paste
        ("n° XR123456785FR", "NXR123456785FR"),  # not guessed away: only separators go
        ("", ""),
        ("-- . --", ""),
    ],
)
def test_normalise_tracking_number(raw, normalised):
    assert normalise_tracking_number(raw) == normalised


@pytest.mark.parametrize(
    ("pasted", "carrier"),
    [
        ("cb 123 456 785 fr", "colissimo"),
        ("1z 999 aa1 0123 4567 84", "ups"),
        ("9400-1112-0108-0805-4830-16", "usps"),
        ("6a 123 456 789 01", "colissimo"),
        ("xr.123.456.785.fr", "chronopost"),
        ("3318 8100 25", "dhl"),
    ],
)
def test_detect_normalises_what_it_is_given(pasted, carrier):
    assert guess(pasted) == carrier


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "hello",
        "123",
        "1234567",  # too short for anything
        "hello world, where is my parcel?",
        "ABCDEFGH",  # a GLS TrackID has digits
        "1Z999AA1012345678",  # 17 characters: a UPS number missing a character
        "CB12345678FR",  # S10 one digit short
        "RB123456785GB",  # a valid S10 from a post none of our carriers is
        "1" * 40,
    ],
)
def test_garbage_matches_nothing(garbage):
    assert detect(garbage) == []
    assert guess(garbage) == ""


def test_every_format_row_cites_its_source():
    for fmt in FORMATS:
        assert fmt.carrier in Carrier
        assert fmt.source.startswith(("http://", "https://")), fmt


NUMBERS_FOR_URLS = ["CB123456785FR", "1Z999AA10123456784", "AB 12/34?&=#"]


@pytest.mark.parametrize("carrier", [c.value for c in Carrier if c != Carrier.OTHER])
@pytest.mark.parametrize("number", NUMBERS_FOR_URLS)
def test_tracking_url_for_every_carrier_contains_the_encoded_number(carrier, number):
    url = tracking_url(carrier, number)
    assert url.startswith("https://")
    assert url.endswith(quote(number, safe=""))
    # Nothing in the number can break out of its query value or path segment.
    assert " " not in url
    assert url.count("?") <= 1


@pytest.mark.parametrize(
    ("carrier", "url"),
    [
        (
            "colissimo",
            "https://www.laposte.fr/outils/suivre-vos-envois?code=CB123456785FR",
        ),
        (
            "chronopost",
            "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT=CB123456785FR",
        ),
        ("dhl", "https://www.dhl.com/fr-fr/home/suivi.html?tracking-id=CB123456785FR"),
        ("ups", "https://www.ups.com/track?tracknum=CB123456785FR"),
        ("fedex", "https://www.fedex.com/fedextrack/?trknbr=CB123456785FR"),
        ("usps", "https://tools.usps.com/go/TrackConfirmAction?tLabels=CB123456785FR"),
        ("dpd", "https://www.dpd.fr/trace/CB123456785FR"),
        ("gls", "https://gls-group.com/FR/fr/suivi-colis?match=CB123456785FR"),
        (
            "mondial_relay",
            "https://www.mondialrelay.fr/suivi-de-colis?numeroExpedition=CB123456785FR",
        ),
    ],
)
def test_tracking_url_is_the_carriers_own_page(carrier, url):
    assert tracking_url(carrier, "CB123456785FR") == url


def test_tracking_url_encodes_separators():
    assert tracking_url("dpd", "AB/12") == "https://www.dpd.fr/trace/AB%2F12"
    assert tracking_url("ups", "1Z 99&x=1") == "https://www.ups.com/track?tracknum=1Z%2099%26x%3D1"


def test_tracking_url_accepts_the_carrier_enum():
    assert tracking_url(Carrier.UPS, "1Z999AA10123456784") == tracking_url(
        "ups", "1Z999AA10123456784"
    )


@pytest.mark.parametrize("carrier", ["other", "", "royal_mail", "UPS", None])
def test_tracking_url_is_empty_for_other_or_unknown_carriers(carrier):
    assert tracking_url(carrier, "1Z999AA10123456784") == ""


def test_tracking_url_is_empty_without_a_number():
    assert tracking_url("ups", "") == ""
    assert tracking_url("ups", "   ") == ""


def test_every_carrier_but_other_has_a_tracking_page():
    assert set(TRACKING_URLS) == {c.value for c in Carrier} - {Carrier.OTHER.value}


def test_guess_feeds_tracking_url():
    number = normalise_tracking_number("1z 999 aa1 0123 4567 84")
    assert tracking_url(guess(number), number) == (
        "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    )
    assert tracking_url(guess("hello"), "hello") == ""
