"""Status normalisation: every row of every table, the refinement rules, and the cases that must
give "" rather than a guess. Pure: no database."""

import pytest

from tracking.normalisation import normalise
from tracking.providers.aftership.statuses import SUBTAGS as AFTERSHIP_SUBTAGS
from tracking.providers.aftership.statuses import TAGS as AFTERSHIP_TAGS
from tracking.providers.easypost.statuses import STATUS_DETAILS as EASYPOST_STATUS_DETAILS
from tracking.providers.easypost.statuses import STATUSES as EASYPOST_STATUSES
from tracking.providers.generic.statuses import CANONICAL
from tracking.statuses import FINAL, ShipmentStatus

# The documented vocabularies, copied here so that a table losing or inventing a row fails.
# https://docs.easypost.com/docs/trackers
EASYPOST_DOCUMENTED_STATUSES = {
    "unknown",
    "pre_transit",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "available_for_pickup",
    "return_to_sender",
    "failure",
    "cancelled",
    "error",
}
EASYPOST_DOCUMENTED_DETAILS = {
    "address_correction",
    "arrived_at_destination",
    "arrived_at_facility",
    "arrived_at_pickup_location",
    "awaiting_information",
    "cancelled",
    "damaged",
    "delayed",
    "delivery_exception",
    "departed_facility",
    "departed_origin_facility",
    "expired",
    "failure",
    "held",
    "in_transit",
    "label_created",
    "lost",
    "missorted",
    "out_for_delivery",
    "received_at_destination_facility",
    "received_at_origin_facility",
    "refused",
    "return",
    "status_update",
    "transferred_to_destination_carrier",
    "transit_exception",
    "unknown",
    "weather_delay",
}
# https://www.aftership.com/docs/tracking/enum/delivery-statuses
AFTERSHIP_DOCUMENTED_TAGS = {
    "Pending",
    "InfoReceived",
    "InTransit",
    "OutForDelivery",
    "AttemptFail",
    "Delivered",
    "AvailableForPickup",
    "Exception",
    "Expired",
}


# --- The tables themselves ----------------------------------------------------------------------


def test_the_tables_cover_exactly_the_documented_codes():
    assert set(EASYPOST_STATUSES) == EASYPOST_DOCUMENTED_STATUSES
    assert set(EASYPOST_STATUS_DETAILS) == EASYPOST_DOCUMENTED_DETAILS
    assert set(AFTERSHIP_TAGS) == AFTERSHIP_DOCUMENTED_TAGS
    # A subtag is "<Tag>_<nnn>" of a documented tag.
    assert {subtag.partition("_")[0] for subtag in AFTERSHIP_SUBTAGS} <= AFTERSHIP_DOCUMENTED_TAGS


@pytest.mark.parametrize(
    "table",
    [AFTERSHIP_TAGS, AFTERSHIP_SUBTAGS, EASYPOST_STATUSES, EASYPOST_STATUS_DETAILS],
    ids=["aftership tags", "aftership subtags", "easypost statuses", "easypost details"],
)
def test_every_value_is_canonical_or_empty(table):
    assert set(table.values()) <= CANONICAL | {""}


def test_the_table_sizes():
    # Recorded so that a change to a table is a visible, reviewed change.
    assert (len(AFTERSHIP_TAGS), len(AFTERSHIP_SUBTAGS)) == (9, 2)
    assert (len(EASYPOST_STATUSES), len(EASYPOST_STATUS_DETAILS)) == (10, 28)


# --- AfterShip, row by row ----------------------------------------------------------------------


@pytest.mark.parametrize(("tag", "expected"), AFTERSHIP_TAGS.items())
def test_each_aftership_tag(tag, expected):
    assert normalise("aftership", tag) == expected
    # A subtag that adds nothing (InTransit_007, Exception_013, a future one…) reads as its tag.
    assert normalise("aftership", tag, f"{tag}_999") == expected


@pytest.mark.parametrize(("subtag", "expected"), AFTERSHIP_SUBTAGS.items())
def test_each_aftership_subtag_refines_its_tag(subtag, expected):
    tag = subtag.partition("_")[0]
    assert normalise("aftership", tag, subtag) == expected
    assert normalise("aftership", tag, subtag) != AFTERSHIP_TAGS[tag]
    # The subtag alone is enough (its prefix is its tag).
    assert normalise("aftership", "", subtag) == expected


# --- EasyPost, row by row -----------------------------------------------------------------------


@pytest.mark.parametrize(("status", "expected"), EASYPOST_STATUSES.items())
def test_each_easypost_status(status, expected):
    assert normalise("easypost", status) == expected


@pytest.mark.parametrize(("detail", "expected"), EASYPOST_STATUS_DETAILS.items())
def test_each_easypost_status_detail(detail, expected):
    # Under a status that is not final, a refining detail wins; any other defers to the status.
    assert normalise("easypost", "in_transit", detail) == (expected or "in_transit")
    # With no usable status, the detail is all there is.
    assert normalise("easypost", "unknown", detail) == expected


@pytest.mark.parametrize("detail", sorted(EASYPOST_DOCUMENTED_DETAILS))
@pytest.mark.parametrize(
    "status", [status for status, value in EASYPOST_STATUSES.items() if value in FINAL]
)
def test_no_detail_reopens_a_final_status(status, detail):
    assert normalise("easypost", status, detail) == EASYPOST_STATUSES[status]


# --- generic ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ShipmentStatus.values)
def test_generic_speaks_the_canonical_values_in_any_case(status):
    assert normalise("generic", status) == status
    assert normalise("generic", status.upper()) == status
    assert normalise("generic", f"  {status.title()} ") == status


@pytest.mark.parametrize("status", ["", "shipped", "Delivered!", "stalled", "late", "InTransit"])
def test_generic_has_no_synonyms(status):
    assert normalise("generic", status) == ""


# --- Hand-written cases -------------------------------------------------------------------------

CASES = [
    # AfterShip
    ("aftership", "Exception", "Exception_011", "returned"),  # returned to sender
    ("aftership", "Exception", "Exception_010", "returned"),  # on its way back
    ("aftership", "Exception", "Exception_012", "exception"),  # damaged
    ("aftership", "Exception", "Exception_013", "exception"),  # lost
    ("aftership", "Exception", "Exception_016", "exception"),  # added by AfterShip in 2026
    ("aftership", "InTransit", "InTransit_005", "in_transit"),  # customs clearance completed
    ("aftership", "Delivered", "Delivered_002", "delivered"),  # picked up by the customer
    ("aftership", "AttemptFail", "AttemptFail_002", "failed_attempt"),
    ("aftership", "OutForDelivery", "OutForDelivery_003", "out_for_delivery"),
    ("aftership", "intransit", "", "in_transit"),  # case does not matter
    ("aftership", "Delivered", "Exception_011", "delivered"),  # a final tag stays
    ("aftership", "Shipped", "", ""),  # not a tag
    ("aftership", "", "", ""),
    # EasyPost
    ("easypost", "delivered", "arrived_at_destination", "delivered"),  # as EasyPost sends it
    ("easypost", "pre_transit", "label_created", "info_received"),
    ("easypost", "in_transit", "return", "returned"),
    ("easypost", "out_for_delivery", "arrived_at_pickup_location", "available_for_pickup"),
    ("easypost", "in_transit", "weather_delay", "in_transit"),
    ("easypost", "in_transit", "lost", "exception"),
    ("easypost", "failure", "delivery_exception", "exception"),
    ("easypost", "return_to_sender", "lost", "returned"),
    ("easypost", "unknown", "", ""),
    ("easypost", "error", "", ""),
    ("easypost", "IN_TRANSIT", "", "in_transit"),
    ("easypost", "in_transit", "teleported", "in_transit"),  # an undocumented detail defers
    ("easypost", "teleported", "", ""),
    ("generic", "Out_For_Delivery", "", "out_for_delivery"),
]


@pytest.mark.parametrize(("provider", "status", "detail", "expected"), CASES)
def test_hand_written_cases(provider, status, detail, expected):
    assert normalise(provider, status, detail) == expected


def test_the_result_is_a_plain_string():
    assert type(normalise("aftership", "Delivered")) is str
    assert type(normalise("easypost", "in_transit", "return")) is str


def test_none_is_read_as_nothing():
    assert normalise("easypost", None, None) == ""  # type: ignore[arg-type]


def test_an_unknown_provider_is_a_programming_error():
    with pytest.raises(ValueError, match="no status table"):
        normalise("shippo", "delivered")
