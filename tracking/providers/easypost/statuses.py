"""EasyPost's Tracker `status` and `status_detail` values, in the canonical ShipmentStatus values
(tracking.normalisation holds the rules every source shares).

Source: https://docs.easypost.com/docs/trackers
"""

from tracking.normalisation import folded, norm, refined
from tracking.statuses import ShipmentStatus as S

# Tracker `status`, all ten documented values, https://docs.easypost.com/docs/trackers
STATUSES: dict[str, str] = {
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
STATUS_DETAILS: dict[str, str] = {
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

_STATUSES = folded(STATUSES)
_STATUS_DETAILS = folded(STATUS_DETAILS)


def normalise(status: str, detail: str = "") -> str:
    """The canonical status for an EasyPost status and status_detail, or "" for a status that
    says nothing (or that we do not know)."""
    base = _STATUSES.get(norm(status), "")
    return refined(base, _STATUS_DETAILS.get(norm(detail), ""))
