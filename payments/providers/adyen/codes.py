"""Adyen's refusal reasons and event codes, each mapped to a canonical FailureReason, and the
order in which they are read (payments.classification holds what every provider shares).

Precedence (codes: reason, event_code):
  1. reason, the refusal reason; a raw acquirer suffix after ":" is ignored ("Refused:05").
  2. event_code (OFFER_CLOSED -> abandoned).
  3. kind ABANDONED -> abandoned; otherwise UNKNOWN.
"""

from collections.abc import Mapping

from payments.classification import fallback, folded, norm
from payments.reasons import FailureReason
from payments.signals import SignalKind

_R = FailureReason

# Source: https://docs.adyen.com/development-resources/refusal-reasons/ (refusalReason values,
# which the AUTHORISATION notification carries in its `reason` field). Keys as Adyen spells
# them; matched case-insensitively on the part before any ":".
REFUSAL_REASONS: dict[str, FailureReason] = {
    "Refused": _R.BANK_DECLINED,  # 2
    "Referral": _R.BANK_DECLINED,  # 3
    "Acquirer Error": _R.PROCESSING_ERROR,  # 4
    "Blocked Card": _R.SUSPECTED_FRAUD,  # 5
    "Expired Card": _R.CARD_EXPIRED,  # 6
    "Invalid Amount": _R.LIMIT_EXCEEDED,  # 7, as Stripe's invalid_amount
    "Invalid Card Number": _R.CARD_DETAILS_INCORRECT,  # 8
    "Issuer Unavailable": _R.PROCESSING_ERROR,  # 9
    "Not supported": _R.ONLINE_PAYMENT_NOT_ENABLED,  # 10: the bank does not allow this type
    "3D Not Authenticated": _R.AUTHENTICATION_FAILED,  # 11
    "Not enough balance": _R.INSUFFICIENT_FUNDS,  # 12
    "Acquirer Fraud": _R.SUSPECTED_FRAUD,  # 14
    "Cancelled": _R.ABANDONED,  # 15
    "Shopper Cancelled": _R.ABANDONED,  # 16
    "Invalid Pin": _R.CARD_DETAILS_INCORRECT,  # 17
    "Pin tries exceeded": _R.LIMIT_EXCEEDED,  # 18
    "Pin validation not possible": _R.PROCESSING_ERROR,  # 19
    "FRAUD": _R.SUSPECTED_FRAUD,  # 20
    "Not Submitted": _R.PROCESSING_ERROR,  # 21
    "FRAUD-CANCELLED": _R.SUSPECTED_FRAUD,  # 22
    "Transaction Not Permitted": _R.ONLINE_PAYMENT_NOT_ENABLED,  # 23
    "CVC Declined": _R.CARD_DETAILS_INCORRECT,  # 24
    "Restricted Card": _R.SUSPECTED_FRAUD,  # 25
    "Revocation Of Auth": _R.BANK_DECLINED,  # 26
    "Declined Non Generic": _R.BANK_DECLINED,  # 27
    "Withdrawal amount exceeded": _R.LIMIT_EXCEEDED,  # 28
    "Withdrawal count exceeded": _R.LIMIT_EXCEEDED,  # 29
    "Issuer Suspected Fraud": _R.SUSPECTED_FRAUD,  # 31
    "AVS Declined": _R.CARD_DETAILS_INCORRECT,  # 32: the address did not match
    # 33-45 are mostly point-of-sale reasons; mapped as their Stripe counterparts are.
    "Card requires online pin": _R.ONLINE_PAYMENT_NOT_ENABLED,  # 33
    "No checking account available on Card": _R.BANK_DECLINED,  # 34
    "No savings account available on Card": _R.BANK_DECLINED,  # 35
    "Mobile pin required": _R.AUTHENTICATION_FAILED,  # 36
    "Contactless fallback": _R.PROCESSING_ERROR,  # 37
    "Authentication required": _R.AUTHENTICATION_FAILED,  # 38
    "RReq not received from DS": _R.AUTHENTICATION_FAILED,  # 39: 3DS2 not completed
    "Current AID is in Penalty Box.": _R.LIMIT_EXCEEDED,  # 40: too many failures on the card
    "CVM Required Restart Payment": _R.PROCESSING_ERROR,  # 41
    "3DS Authentication Error": _R.AUTHENTICATION_FAILED,  # 42
    "Online PIN required": _R.ONLINE_PAYMENT_NOT_ENABLED,  # 43
    "Try another interface": _R.PROCESSING_ERROR,  # 44
    "Chip downgrade mode": _R.PROCESSING_ERROR,  # 45
    # 46: retries on this card are blocked after hard declines; another card or method works.
    "Transaction blocked by Adyen to prevent excessive retry fees": _R.LIMIT_EXCEEDED,
}

# Source: https://docs.adyen.com/development-resources/webhooks/webhook-types/ (eventCode).
EVENT_CODES: dict[str, FailureReason] = {
    "OFFER_CLOSED": _R.ABANDONED,  # the shopper did not complete the payment in time
}

_REASON = folded(REFUSAL_REASONS)
_EVENT = folded(EVENT_CODES)


def classify(codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
    # "Refused:05" carries the acquirer's raw code after the colon; the reason is before it.
    reason = _REASON.get(norm((codes.get("reason") or "").split(":", 1)[0]))
    if reason is not None:
        return reason
    return _EVENT.get(norm(codes.get("event_code"))) or fallback(kind)
