"""AfterShip's delivery statuses (tags) and sub-statuses (subtags), in the canonical
ShipmentStatus values (tracking.normalisation holds the rules every source shares).

Sources:
- delivery statuses (tags): https://www.aftership.com/docs/tracking/enum/delivery-statuses
- sub-statuses (subtags): https://www.aftership.com/docs/tracking/enum/delivery-sub-statuses
"""

from tracking.normalisation import folded, norm, refined
from tracking.statuses import ShipmentStatus as S

# The nine tags, https://www.aftership.com/docs/tracking/enum/delivery-statuses
TAGS: dict[str, str] = {
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
SUBTAGS: dict[str, str] = {
    # "Returning to sender: the package is on its way back to the sender"
    "Exception_010": S.RETURNED,
    # "Returned to sender: the return package has been successfully received by the sender"
    "Exception_011": S.RETURNED,
}

_TAGS = folded(TAGS)
_SUBTAGS = folded(SUBTAGS)


def normalise(tag: str, subtag: str = "") -> str:
    """The canonical status for an AfterShip tag and subtag, or "" for a tag we do not know."""
    tag, subtag = norm(tag), norm(subtag)
    # A subtag's prefix is its tag: enough when the tag itself is missing.
    base = _TAGS.get(tag or subtag.partition("_")[0], "")
    return refined(base, _SUBTAGS.get(subtag, ""))
