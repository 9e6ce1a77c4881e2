"""PayPal's failure codes, each mapped to a canonical FailureReason, and the order in which they
are read (payments.classification holds what every provider shares).

Precedence (codes: response_code, status_reason, event_type; advice_code is kept raw):
  1. response_code, the card processor's answer (a capture's processor_response.response_code),
     the most specific code. If it is present but unmapped the result is UNKNOWN: we do not
     guess from the vaguer signals below.
  2. status_reason, why PayPal denied the capture (its status_details.reason).
  3. event_type: a PAYMENT.CAPTURE.DECLINED with neither code is a decline the bank gave no
     reason for (bank_declined); CHECKOUT.PAYMENT-APPROVAL.REVERSED is the shop's own failure
     to capture in time (merchant_configuration, see EVENT_TYPES).
  4. kind ABANDONED -> abandoned; otherwise UNKNOWN (a PAYMENT.CAPTURE.DENIED with no reason).
  advice_code (processor_response.payment_advice_code, the card network's advice on retrying)
  never changes the reason, as for Stripe: whether to retry is not what the buyer is asked.
"""

from collections.abc import Mapping

from payments.classification import fallback, folded, norm
from payments.reasons import FailureReason
from payments.signals import SignalKind

_R = FailureReason

# Source: paypal/PayPal-Python-Server-SDK:doc/models/processor-response-code.md (each code's
# meaning: the comment on its row), the same 154 codes as the `response_code` enum of
# `processor_response` in paypal/paypal-rest-api-specifications:openapi/payments_payment_v2.json.
# Every code of that list has a row; tests/test_provider_paypal.py lists them. Mapped by what
# the buyer can do, as Stripe's and Adyen's codes of the same meaning are.
RESPONSE_CODES: dict[str, FailureReason] = {
    # Approvals: a failure event carrying one says nothing about why it failed.
    "0000": _R.UNKNOWN,  # APPROVED
    "00N7": _R.CARD_DETAILS_INCORRECT,  # CVV2_FAILURE_POSSIBLE_RETRY_WITH_CVV
    "0100": _R.BANK_DECLINED,  # REFERRAL
    "0390": _R.CARD_DETAILS_INCORRECT,  # ACCOUNT_NOT_FOUND: the number matches no card
    "0500": _R.BANK_DECLINED,  # DO_NOT_HONOR
    "0580": _R.ONLINE_PAYMENT_NOT_ENABLED,  # UNAUTHORIZED_TRANSACTION
    "0800": _R.PROCESSING_ERROR,  # BAD_RESPONSE_REVERSAL_REQUIRED
    "0880": _R.PROCESSING_ERROR,  # CRYPTOGRAPHIC_FAILURE
    "0890": _R.CARD_DETAILS_INCORRECT,  # UNACCEPTABLE_PIN
    "0960": _R.PROCESSING_ERROR,  # SYSTEM_MALFUNCTION
    "0R00": _R.BANK_DECLINED,  # CANCELLED_PAYMENT: a stop, as Stripe's stop_payment_order
    # PARTIAL_AUTHORIZATION: the issuer approved less than the amount, which is what a prepaid
    # or debit card short of funds does.
    "1000": _R.INSUFFICIENT_FUNDS,
    "10BR": _R.BANK_DECLINED,  # ISSUER_REJECTED
    "1300": _R.MERCHANT_CONFIGURATION,  # INVALID_DATA_FORMAT: the shop's request
    "1310": _R.LIMIT_EXCEEDED,  # INVALID_AMOUNT, as Stripe's invalid_amount and Adyen's
    "1312": _R.ONLINE_PAYMENT_NOT_ENABLED,  # INVALID_TRANSACTION_CARD_ISSUER_ACQUIRER
    "1317": _R.MERCHANT_CONFIGURATION,  # INVALID_CAPTURE_DATE: the shop captured out of time
    "1320": _R.MERCHANT_CONFIGURATION,  # INVALID_CURRENCY_CODE
    "1330": _R.BANK_DECLINED,  # INVALID_ACCOUNT, as Stripe's invalid_account
    "1335": _R.BANK_DECLINED,  # INVALID_ACCOUNT_RECURRING
    "1340": _R.MERCHANT_CONFIGURATION,  # INVALID_TERMINAL
    "1350": _R.MERCHANT_CONFIGURATION,  # INVALID_MERCHANT
    "1352": _R.BANK_DECLINED,  # RESTRICTED_OR_INACTIVE_ACCOUNT: the card's account
    "1360": _R.MERCHANT_CONFIGURATION,  # BAD_PROCESSING_CODE
    "1370": _R.MERCHANT_CONFIGURATION,  # INVALID_MCC: the shop's merchant category
    "1380": _R.CARD_DETAILS_INCORRECT,  # INVALID_EXPIRATION
    "1382": _R.CARD_DETAILS_INCORRECT,  # INVALID_CARD_VERIFICATION_VALUE
    "1384": _R.MERCHANT_CONFIGURATION,  # INVALID_LIFE_CYCLE_OF_TRANSACTION: requests out of order
    "1390": _R.MERCHANT_CONFIGURATION,  # INVALID_ORDER
    "1393": _R.BANK_DECLINED,  # TRANSACTION_CANNOT_BE_COMPLETED
    "5100": _R.BANK_DECLINED,  # GENERIC_DECLINE
    "5110": _R.CARD_DETAILS_INCORRECT,  # CVV2_FAILURE
    "5120": _R.INSUFFICIENT_FUNDS,  # INSUFFICIENT_FUNDS
    "5130": _R.CARD_DETAILS_INCORRECT,  # INVALID_PIN
    "5135": _R.LIMIT_EXCEEDED,  # DECLINED_PIN_TRY_EXCEEDED
    "5140": _R.BANK_DECLINED,  # CARD_CLOSED
    "5150": _R.SUSPECTED_FRAUD,  # PICKUP_CARD_SPECIAL_CONDITIONS
    "5160": _R.SUSPECTED_FRAUD,  # UNAUTHORIZED_USER: not the card's holder
    "5170": _R.CARD_DETAILS_INCORRECT,  # AVS_FAILURE: the address does not match
    # INVALID_OR_RESTRICTED_CARD ("do not retry the same card"), as Stripe's restricted_card
    # and Adyen's Restricted Card.
    "5180": _R.SUSPECTED_FRAUD,
    "5190": _R.CARD_DETAILS_INCORRECT,  # SOFT_AVS
    "5200": _R.PROCESSING_ERROR,  # DUPLICATE_TRANSACTION, as Stripe's duplicate_transaction
    "5210": _R.BANK_DECLINED,  # INVALID_TRANSACTION
    "5400": _R.CARD_EXPIRED,  # EXPIRED_CARD
    "5500": _R.CARD_DETAILS_INCORRECT,  # INCORRECT_PIN_REENTER
    "5650": _R.AUTHENTICATION_FAILED,  # DECLINED_SCA_REQUIRED
    "5700": _R.ONLINE_PAYMENT_NOT_ENABLED,  # TRANSACTION_NOT_PERMITTED
    "5710": _R.LIMIT_EXCEEDED,  # TX_ATTEMPTS_EXCEED_LIMIT
    "5800": _R.PROCESSING_ERROR,  # REVERSAL_REJECTED
    "5900": _R.CARD_DETAILS_INCORRECT,  # INVALID_ISSUE: the card's issue number
    "5910": _R.BANK_DECLINED,  # ISSUER_NOT_AVAILABLE_NOT_RETRIABLE
    "5920": _R.PROCESSING_ERROR,  # ISSUER_NOT_AVAILABLE_RETRIABLE
    "5930": _R.ONLINE_PAYMENT_NOT_ENABLED,  # CARD_NOT_ACTIVATED: the bank activates it
    # DECLINED_DUE_TO_UPDATED_ACCOUNT: "an updated card has been issued"; the old number is
    # dead as an expired card's is, and the ask is the same: use the (new) card.
    "5950": _R.CARD_EXPIRED,
    "6300": _R.CARD_DETAILS_INCORRECT,  # ACCOUNT_NOT_ON_FILE, as ACCOUNT_NOT_FOUND
    "7600": _R.UNKNOWN,  # APPROVED_NON_CAPTURE: an approval
    "7700": _R.AUTHENTICATION_FAILED,  # ERROR_3DS
    "7710": _R.AUTHENTICATION_FAILED,  # AUTHENTICATION_FAILED
    "7800": _R.CARD_DETAILS_INCORRECT,  # BIN_ERROR: the number's first digits are wrong
    "7900": _R.CARD_DETAILS_INCORRECT,  # PIN_ERROR
    "8000": _R.PROCESSING_ERROR,  # PROCESSOR_SYSTEM_ERROR
    "8010": _R.PROCESSING_ERROR,  # HOST_KEY_ERROR
    "8020": _R.MERCHANT_CONFIGURATION,  # CONFIGURATION_ERROR
    "8030": _R.MERCHANT_CONFIGURATION,  # UNSUPPORTED_OPERATION
    "8100": _R.PROCESSING_ERROR,  # FATAL_COMMUNICATION_ERROR
    "8110": _R.PROCESSING_ERROR,  # RETRIABLE_COMMUNICATION_ERROR
    "8220": _R.PROCESSING_ERROR,  # SYSTEM_UNAVAILABLE
    "9100": _R.PROCESSING_ERROR,  # DECLINED_PLEASE_RETRY ("Retry.")
    "9500": _R.SUSPECTED_FRAUD,  # SUSPECTED_FRAUD
    "9510": _R.SUSPECTED_FRAUD,  # SECURITY_VIOLATION
    "9520": _R.SUSPECTED_FRAUD,  # LOST_OR_STOLEN
    "9530": _R.BANK_DECLINED,  # HOLD_CALL_CENTER: call the number on the card
    "9540": _R.BANK_DECLINED,  # REFUSED_CARD
    "9600": _R.UNKNOWN,  # UNRECOGNIZED_RESPONSE_CODE: the processor's own code was unknown
    # CONTINGENCIES_NOT_RESOLVED: the buyer's action the payment waited for (3-D Secure, in
    # practice) was not completed.
    "PCNR": _R.AUTHENTICATION_FAILED,
    "PCVV": _R.CARD_DETAILS_INCORRECT,  # CVV_FAILURE
    "PP06": _R.BANK_DECLINED,  # ACCOUNT_CLOSED
    "PPRN": _R.BANK_DECLINED,  # REATTEMPT_NOT_PERMITTED: not this card again
    "PPAD": _R.CARD_DETAILS_INCORRECT,  # BILLING_ADDRESS
    "PPAB": _R.BANK_DECLINED,  # ACCOUNT_BLOCKED_BY_ISSUER
    # AMEX_DISABLED: the shop's PayPal account does not take American Express; the shop can
    # turn it on, the buyer cannot.
    "PPAE": _R.MERCHANT_CONFIGURATION,
    "PPAG": _R.MERCHANT_CONFIGURATION,  # ADULT_GAMING_UNSUPPORTED: the shop's business
    "PPAI": _R.MERCHANT_CONFIGURATION,  # AMOUNT_INCOMPATIBLE: the shop's amounts disagree
    "PPAR": _R.BANK_DECLINED,  # AUTH_RESULT: the authorization was declined
    "PPAU": _R.MERCHANT_CONFIGURATION,  # MCC_CODE
    "PPAV": _R.CARD_DETAILS_INCORRECT,  # ARC_AVS: PayPal's risk check of the address
    "PPAX": _R.LIMIT_EXCEEDED,  # AMOUNT_EXCEEDED
    "PPBG": _R.MERCHANT_CONFIGURATION,  # BAD_GAMING
    "PPC2": _R.CARD_DETAILS_INCORRECT,  # ARC_CVV: PayPal's risk check of the CVV
    "PPCE": _R.MERCHANT_CONFIGURATION,  # CE_REGISTRATION_INCOMPLETE
    "PPCO": _R.ONLINE_PAYMENT_NOT_ENABLED,  # COUNTRY: the card cannot pay from/to this country
    "PPCR": _R.PROCESSING_ERROR,  # CREDIT_ERROR
    "PPCT": _R.ONLINE_PAYMENT_NOT_ENABLED,  # CARD_TYPE_UNSUPPORTED, as Stripe's card_not_supported
    "PPCU": _R.MERCHANT_CONFIGURATION,  # CURRENCY_USED_INVALID
    "PPD3": _R.AUTHENTICATION_FAILED,  # SECURE_ERROR_3DS
    "PPDC": _R.MERCHANT_CONFIGURATION,  # DCC_UNSUPPORTED
    "PPDI": _R.BANK_DECLINED,  # DINERS_REJECT
    "PPDV": _R.BANK_DECLINED,  # AUTH_MESSAGE
    # DECLINE_THRESHOLD_BREACH: too many declines on the card, as Stripe's
    # card_decline_rate_limit_exceeded; another card or method works.
    "PPDT": _R.LIMIT_EXCEEDED,
    "PPEF": _R.CARD_EXPIRED,  # EXPIRED_FUNDING_INSTRUMENT
    "PPEL": _R.LIMIT_EXCEEDED,  # EXCEEDS_FREQUENCY_LIMIT
    "PPER": _R.PROCESSING_ERROR,  # INTERNAL_SYSTEM_ERROR
    "PPEX": _R.CARD_DETAILS_INCORRECT,  # EXPIRY_DATE: the date given is wrong
    "PPFE": _R.MERCHANT_CONFIGURATION,  # FUNDING_SOURCE_ALREADY_EXISTS: the shop's vault request
    "PPFI": _R.CARD_DETAILS_INCORRECT,  # INVALID_FUNDING_INSTRUMENT
    # RESTRICTED_FUNDING_INSTRUMENT: as a restricted card (5180), a risk decision.
    "PPFR": _R.SUSPECTED_FRAUD,
    "PPFV": _R.MERCHANT_CONFIGURATION,  # FIELD_VALIDATION_FAILED
    "PPGR": _R.MERCHANT_CONFIGURATION,  # GAMING_REFUND_ERROR
    "PPH1": _R.PROCESSING_ERROR,  # H1_ERROR
    "PPIF": _R.MERCHANT_CONFIGURATION,  # IDEMPOTENCY_FAILURE: the shop's request id
    "PPII": _R.MERCHANT_CONFIGURATION,  # INVALID_INPUT_FAILURE
    "PPIM": _R.MERCHANT_CONFIGURATION,  # ID_MISMATCH
    "PPIT": _R.MERCHANT_CONFIGURATION,  # INVALID_TRACE_ID
    "PPLR": _R.MERCHANT_CONFIGURATION,  # LATE_REVERSAL: the shop's reversal came too late
    "PPLS": _R.UNKNOWN,  # LARGE_STATUS_CODE: PayPal gives it no meaning
    "PPMB": _R.MERCHANT_CONFIGURATION,  # MISSING_BUSINESS_RULE_OR_DATA
    "PPMC": _R.SUSPECTED_FRAUD,  # BLOCKED_Mastercard, as Adyen's Blocked Card
    "PPMD": _R.UNKNOWN,  # DEPRECATED: no meaning left
    "PPNC": _R.MERCHANT_CONFIGURATION,  # NOT_SUPPORTED_NRC
    "PPNL": _R.LIMIT_EXCEEDED,  # EXCEEDS_NETWORK_FREQUENCY_LIMIT
    "PPNM": _R.MERCHANT_CONFIGURATION,  # NO_MID_FOUND: the shop's merchant id
    "PPNT": _R.PROCESSING_ERROR,  # NETWORK_ERROR
    "PPPH": _R.MERCHANT_CONFIGURATION,  # NO_PHONE_FOR_DCC_TRANSACTION: checkout must collect it
    "PPPI": _R.MERCHANT_CONFIGURATION,  # INVALID_PRODUCT
    "PPPM": _R.MERCHANT_CONFIGURATION,  # INVALID_PAYMENT_METHOD
    "PPQC": _R.MERCHANT_CONFIGURATION,  # QUASI_CASH_UNSUPPORTED
    "PPRE": _R.MERCHANT_CONFIGURATION,  # UNSUPPORT_REFUND_ON_PENDING_BC
    "PPRF": _R.MERCHANT_CONFIGURATION,  # INVALID_PARENT_TRANSACTION_STATUS
    "PPRR": _R.MERCHANT_CONFIGURATION,  # MERCHANT_NOT_REGISTERED
    # The shop's capture does not match the bank authorization it names (or came after it
    # expired): its own request, whatever the buyer does.
    "PPS0": _R.MERCHANT_CONFIGURATION,  # BANKAUTH_ROW_MISMATCH
    "PPS1": _R.MERCHANT_CONFIGURATION,  # BANKAUTH_ROW_SETTLED
    "PPS2": _R.MERCHANT_CONFIGURATION,  # BANKAUTH_ROW_VOIDED
    "PPS3": _R.MERCHANT_CONFIGURATION,  # BANKAUTH_EXPIRED
    "PPS4": _R.MERCHANT_CONFIGURATION,  # CURRENCY_MISMATCH
    "PPS5": _R.MERCHANT_CONFIGURATION,  # CREDITCARD_MISMATCH
    "PPS6": _R.MERCHANT_CONFIGURATION,  # AMOUNT_MISMATCH
    "PPSC": _R.SUSPECTED_FRAUD,  # ARC_SCORE: PayPal's risk score
    "PPSD": _R.UNKNOWN,  # STATUS_DESCRIPTION: PayPal gives it no meaning
    "PPSE": _R.BANK_DECLINED,  # AMEX_DENIED
    # Card verification tokens (3-D Secure's, in practice): the buyer's check must be done again.
    "PPTE": _R.AUTHENTICATION_FAILED,  # VERIFICATION_TOKEN_EXPIRED
    "PPTF": _R.MERCHANT_CONFIGURATION,  # INVALID_TRACE_REFERENCE
    "PPTI": _R.MERCHANT_CONFIGURATION,  # INVALID_TRANSACTION_ID
    "PPTR": _R.AUTHENTICATION_FAILED,  # VERIFICATION_TOKEN_REVOKED
    "PPTT": _R.MERCHANT_CONFIGURATION,  # TRANSACTION_TYPE_UNSUPPORTED
    "PPTV": _R.AUTHENTICATION_FAILED,  # INVALID_VERIFICATION_TOKEN
    "PPUA": _R.MERCHANT_CONFIGURATION,  # USER_NOT_AUTHORIZED: the shop's API user
    "PPUC": _R.MERCHANT_CONFIGURATION,  # CURRENCY_CODE_UNSUPPORTED
    "PPUE": _R.MERCHANT_CONFIGURATION,  # UNSUPPORT_ENTITY
    "PPUI": _R.MERCHANT_CONFIGURATION,  # UNSUPPORT_INSTALLMENT
    "PPUP": _R.MERCHANT_CONFIGURATION,  # UNSUPPORT_POS_FLAG
    "PPUR": _R.MERCHANT_CONFIGURATION,  # UNSUPPORTED_REVERSAL
    "PPVC": _R.MERCHANT_CONFIGURATION,  # VALIDATE_CURRENCY
    "PPVE": _R.MERCHANT_CONFIGURATION,  # VALIDATION_ERROR
    "PPVT": _R.MERCHANT_CONFIGURATION,  # VIRTUAL_TERMINAL_UNSUPPORTED
}

# Source: paypal/PayPal-Python-Server-SDK:doc/models/capture-incomplete-reason.md ("the reason
# why the captured payment status is PENDING or DENIED"; its 12 values, of which
# paypal/paypal-rest-api-specifications:openapi/payments_payment_v2.json `capture_status_details`
# lists the first 11). A PAYMENT.CAPTURE.DENIED carries it in status_details.reason.
CAPTURE_STATUS_REASONS: dict[str, FailureReason] = {
    # The buyer disputes the payment (with PayPal, or with the card's issuer): a buyer to
    # leave alone, not to remind. suspected_fraud keeps it merchant-only, as Stripe's
    # payment_disputed.
    "BUYER_COMPLAINT": _R.SUSPECTED_FRAUD,
    "CHARGEBACK": _R.SUSPECTED_FRAUD,
    "ECHECK": _R.BANK_DECLINED,  # the buyer's eCheck did not clear
    # "Accept or deny this payment in your Account Overview": the shop's account settings.
    "INTERNATIONAL_WITHDRAWAL": _R.MERCHANT_CONFIGURATION,
    "OTHER": _R.UNKNOWN,  # "no additional specific reason can be provided"
    "PENDING_REVIEW": _R.SUSPECTED_FRAUD,  # denied after PayPal's manual (risk) review
    # The shop's receiving preferences (e.g. a currency it does not hold) held the payment.
    "RECEIVING_PREFERENCE_MANDATES_MANUAL_ACTION": _R.MERCHANT_CONFIGURATION,
    "REFUNDED": _R.UNKNOWN,  # the funds were refunded: says nothing about a failure
    # The buyer's manual transfer (EFT) never came.
    "TRANSACTION_APPROVED_AWAITING_FUNDING": _R.BANK_DECLINED,
    "UNILATERAL": _R.MERCHANT_CONFIGURATION,  # the payee has no PayPal account
    "VERIFICATION_REQUIRED": _R.MERCHANT_CONFIGURATION,  # the payee's account is not verified
    "DECLINED_BY_RISK_FRAUD_FILTERS": _R.SUSPECTED_FRAUD,  # the shop's own risk filters
}

# Source: https://developer.paypal.com/api/rest/webhooks/event-names/ (PAYMENT.CAPTURE.DECLINED:
# "a payment capture is declined") and https://developer.paypal.com/payment-methods/uncaptured-payments.md
# (CHECKOUT.PAYMENT-APPROVAL.REVERSED: the shop did not capture the approved payment within its
# capture window, three hours by default, so PayPal cancelled the order and refunded the
# buyer). The buyer did everything asked of them: the failure is the shop's own (its capture
# call failed or never came), so the shop hears about it and the buyer is not asked to pay
# again until the shop mends it; "abandoned" would tell a buyer who paid that they left.
EVENT_TYPES: dict[str, FailureReason] = {
    "PAYMENT.CAPTURE.DECLINED": _R.BANK_DECLINED,  # only reached without any code
    "CHECKOUT.PAYMENT-APPROVAL.REVERSED": _R.MERCHANT_CONFIGURATION,
}

_RESPONSE = folded(RESPONSE_CODES)
_STATUS_REASON = folded(CAPTURE_STATUS_REASONS)
_EVENT = folded(EVENT_TYPES)


def classify(codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
    response_code = norm(codes.get("response_code"))
    if response_code:
        return _RESPONSE.get(response_code, _R.UNKNOWN)
    status_reason = norm(codes.get("status_reason"))
    if status_reason:
        return _STATUS_REASON.get(status_reason, _R.UNKNOWN)
    return _EVENT.get(norm(codes.get("event_type"))) or fallback(kind)
