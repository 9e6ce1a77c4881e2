"""Each tracking source's status words, translated into the canonical ShipmentStatus values.

One table per source, each row citing where its meaning is documented, tested row by row. The
rule everywhere: a code we do not know gives "" (the caller keeps the status it had), never a
guess. A wrong "delivered" or "returned" sends a buyer the wrong words; a missing update only
waits for the next checkpoint.

Sources:
- AfterShip delivery statuses (tags): https://www.aftership.com/docs/tracking/enum/delivery-statuses
- AfterShip sub-statuses (subtags):
  https://www.aftership.com/docs/tracking/enum/delivery-sub-statuses
- EasyPost Tracker `status` and `status_detail`: https://docs.easypost.com/docs/trackers
- generic: our own format, which speaks the canonical values (docs/generic-tracking-webhooks.md)

What "returned" means here: the parcel is going, or has gone, back to the sender, so it will not
reach the buyer under this tracking number. Carriers report "returning" long before "returned"
(EasyPost's `return_to_sender` covers both), and for the buyer the news is the same.
"""

from tracking.statuses import FINAL
from tracking.statuses import ShipmentStatus as S

AFTERSHIP = "aftership"
EASYPOST = "easypost"
GENERIC = "generic"

# --- AfterShip ----------------------------------------------------------------------------------

# The nine tags, https://www.aftership.com/docs/tracking/enum/delivery-statuses
AFTERSHIP_TAGS: dict[str, str] = {
    # "New shipments added that are pending to track, or new shipments without tracking info"
    "Pending": S.PENDING,
    # "Carrier has received request from shipper and is about to pick up the shipment"
    "InfoReceived": S.INFO_RECEIVED,
    # "Carrier has accepted or picked up shipment from shipper. The shipment is on the way"
    "InTransit": S.IN_TRANSIT,
    # "Carrier is about to deliver the shipment, or it is ready to pickup"
    "OutForDelivery": S.OUT_FOR_DELIVERY,
    # "Carrier attempted to deliver but failed, and usually leaves a notice"
    "AttemptFail": S.FAILED_ATTEMPT,
    # "The shipment was delivered successfully"
    "Delivered": S.DELIVERED,
    # "The package arrived at a pickup point near you and is available for pickup"
    "AvailableForPickup": S.AVAILABLE_FOR_PICKUP,
    # "Custom hold, undelivered, returned shipment to sender or any shipping exceptions"
    "Exception": S.EXCEPTION,
    # "Shipment has no tracking information for 30 days since added"
    "Expired": S.EXPIRED,
}

# Only the subtags that say more than their tag,
# https://www.aftership.com/docs/tracking/enum/delivery-sub-statuses. A subtag code is
# "<Tag>_<nnn>": every other subtag (InTransit_007 "departure scan", Exception_013 "shipment
# lost", Delivered_002 "picked up by the customer"…, and those AfterShip adds later) is read
# through its tag, which already says what we need.
AFTERSHIP_SUBTAGS: dict[str, str] = {
    # "Returning to sender: the package is on its way back to the sender"
    "Exception_010": S.RETURNED,
    # "Returned to sender: the return package has been successfully received by the sender"
    "Exception_011": S.RETURNED,
}

# --- EasyPost -----------------------------------------------------------------------------------

# Tracker `status`, all ten documented values, https://docs.easypost.com/docs/trackers
EASYPOST_STATUSES: dict[str, str] = {
    # EasyPost has no tracking information yet (or the carrier gave none): nothing to say.
    "unknown": "",
    # The label exists; the carrier has not scanned the parcel yet.
    "pre_transit": S.INFO_RECEIVED,
    "in_transit": S.IN_TRANSIT,
    "out_for_delivery": S.OUT_FOR_DELIVERY,
    "delivered": S.DELIVERED,
    "available_for_pickup": S.AVAILABLE_FOR_PICKUP,
    "return_to_sender": S.RETURNED,
    # The carrier could not deliver (lost, damaged, undeliverable…): a problem to look at.
    "failure": S.EXCEPTION,
    # The shipment or label was cancelled: this number will not carry the parcel. The merchant
    # has to look; "returned" or "expired" would tell the buyer something that did not happen.
    "cancelled": S.EXCEPTION,
    # EasyPost could not fetch tracking from the carrier: says nothing about the parcel.
    "error": "",
}

# Tracker and TrackingDetail `status_detail`, all 28 documented values,
# https://docs.easypost.com/docs/trackers. Only a detail that says something the status does
# not (a return under way, a parcel waiting at a pickup point, a problem) refines it; "" means
# the status decides. Progress details ("arrived_at_facility", "arrived_at_destination"…) are ""
# on purpose: EasyPost sends "delivered" with "arrived_at_destination", and a detail must not
# turn that back into "in transit". A delay, a hold or a missort does not change where the
# parcel stands either: *late* and *stalled* are derived elsewhere.
EASYPOST_STATUS_DETAILS: dict[str, str] = {
    "address_correction": "",
    "arrived_at_destination": "",
    "arrived_at_facility": "",
    "arrived_at_pickup_location": S.AVAILABLE_FOR_PICKUP,
    "awaiting_information": "",
    "cancelled": S.EXCEPTION,
    "damaged": S.EXCEPTION,
    "delayed": "",
    # "Delivery exception": a delivery that did not happen, attempted or not. EasyPost documents
    # no "attempted" detail, so failed_attempt (which asks the buyer to act) is not claimed.
    "delivery_exception": S.EXCEPTION,
    "departed_facility": "",
    "departed_origin_facility": "",
    "expired": S.EXPIRED,
    "failure": S.EXCEPTION,
    "held": "",
    "in_transit": "",
    "label_created": "",
    "lost": S.EXCEPTION,
    "missorted": "",
    "out_for_delivery": "",
    "received_at_destination_facility": "",
    "received_at_origin_facility": "",
    "refused": S.EXCEPTION,
    "return": S.RETURNED,
    "status_update": "",
    "transferred_to_destination_carrier": "",
    "transit_exception": S.EXCEPTION,
    "unknown": "",
    "weather_delay": "",
}

# --- Lookup -------------------------------------------------------------------------------------

CANONICAL: frozenset[str] = frozenset(S.values)


def _folded(table: dict[str, str]) -> dict[str, str]:
    # Sources are consistent about case, but a lower-cased "intransit" is still unambiguous.
    # str(): plain strings out, not enum members.
    return {key.casefold(): str(value) for key, value in table.items()}


_AFTERSHIP_TAGS = _folded(AFTERSHIP_TAGS)
_AFTERSHIP_SUBTAGS = _folded(AFTERSHIP_SUBTAGS)
_EASYPOST_STATUSES = _folded(EASYPOST_STATUSES)
_EASYPOST_STATUS_DETAILS = _folded(EASYPOST_STATUS_DETAILS)


def normalise(provider: str, status: str, detail: str = "") -> str:
    """The canonical ShipmentStatus value for a source's `status` and finer `detail`, or "".

    `provider` is "aftership" (tag, subtag), "easypost" (status, status_detail) or "generic"
    (a canonical value, any case; detail unused). The detail wins where it refines the status,
    unless the status is final (delivered, returned, expired). "" means the source said nothing
    we can rely on, and the caller keeps the status it had. Raises ValueError for a provider
    that has no table (a programming error, not bad data).
    """
    status = (status or "").strip().casefold()
    detail = (detail or "").strip().casefold()
    if provider == AFTERSHIP:
        # A subtag's prefix is its tag: enough when the tag itself is missing.
        base = _AFTERSHIP_TAGS.get(status or detail.partition("_")[0], "")
        return _refined(base, _AFTERSHIP_SUBTAGS.get(detail, ""))
    if provider == EASYPOST:
        base = _EASYPOST_STATUSES.get(status, "")
        return _refined(base, _EASYPOST_STATUS_DETAILS.get(detail, ""))
    if provider == GENERIC:
        return status if status in CANONICAL else ""
    raise ValueError(f"no status table for provider {provider!r}")


def _refined(base: str, refined: str) -> str:
    # The detail wins where it says more, except against a final status: once the source says
    # the journey ended (delivered, returned, expired), a detail does not reopen it.
    if refined and base not in FINAL:
        return refined
    return base
