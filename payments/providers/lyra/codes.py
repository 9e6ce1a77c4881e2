"""The Lyra gateways' failure codes (PayZen, Systempay, Sogecommerce, Scellius: one platform),
each mapped to a canonical FailureReason, and the order in which they are read
(payments.classification holds what every provider shares).

Both integrations are read into the same keys (webhooks.parse): `auth_result` is the bank's
answer (the form's vads_auth_result, REST's authorizationResult), `detailed_error_code` and
`error_code` are REST's, `result` and `extra_result` the form's (vads_result, vads_extra_result),
`status` the transaction's (vads_trans_status, REST's detailedStatus, else orderStatus).

Precedence:
  1. auth_result, the issuer's own code and the most specific one, unless it is the approval
     ("00"). Present but unmapped gives UNKNOWN: we do not guess from the vaguer codes below.
     A single digit is read as two ("5" is "05"): REST writes the approval "0".
  2. detailed_error_code when error_code is ACQ_001 ("payment refused"): Lyra puts the
     acquirer's refusal code there, unchanged (errors_acq.html, below); the same table, the same
     rule. Under any other error code its meaning is not documented, and it is kept raw only.
  3. error_code (REST's ACQ_, AUTH_ and PSP_ codes).
  4. extra_result, the shop's own risk controls, unless result is "30" (then it names the
     malformed form field, which result 30 already covers) or "00" (every control passed).
  5. result (vads_result): "05" is a refusal that gave no reason (the form's generic decline).
  6. status: the buyer left (ABANDONED, NOT_CREATED), or the payment was cancelled.
  7. kind ABANDONED -> abandoned; otherwise UNKNOWN.
"""

from collections.abc import Mapping

from payments.classification import fallback, folded, norm
from payments.reasons import FailureReason
from payments.signals import SignalKind

_R = FailureReason

# Source: the CB network's authorization return codes as the Lyra gateways document them, for
# vads_auth_result and REST's authorizationResult / detailedErrorCode alike:
# https://sogecommerce.societegenerale.eu/doc/en-EN/payment-method/cb/redirection-form/analyzing-the-result-of-the-authorization-request.html
# https://sogecommerce.societegenerale.eu/doc/en-EN/rest/V4.0/api/acq_errors/cb.html
# https://docs.lyra.com/en-EN/collect/form-payment/subscription-token/list-of-authorization-request-return-codes.html
# https://paiement.systempay.fr/doc/en-EN/webservices-payment/implementation-webservices-v5/response-codes-of-an-authorization-request-authorizationresponse.result.html
# (the union of the four; the comment on each row is the documentation's wording). "00", the
# approval, is not a failure and has no row. Other networks' codes (Amex's three digits,
# Edenred's, UnionPay's) are not CB codes: they stay raw and give UNKNOWN.
AUTH_RESULTS: dict[str, FailureReason] = {
    "02": _R.BANK_DECLINED,  # Contact the card issuer
    # "Refers to a configuration problem on authorization servers (closed contract, incorrect
    # MCC declared…)" (Systempay's FAQ on refusals): the shop's contract, not the buyer's card.
    "03": _R.MERCHANT_CONFIGURATION,  # Invalid acceptor
    "04": _R.SUSPECTED_FRAUD,  # Keep the card
    "05": _R.BANK_DECLINED,  # Do not honor
    "07": _R.SUSPECTED_FRAUD,  # Keep the card, special conditions
    # "Honour with identification": as Stripe's approve_with_id, the bank has to be asked.
    "08": _R.BANK_DECLINED,  # Confirm after identification
    "12": _R.BANK_DECLINED,  # Incorrect transaction code / Invalid transaction
    "13": _R.LIMIT_EXCEEDED,  # Invalid amount (as Stripe's invalid_amount: a card limit)
    "14": _R.CARD_DETAILS_INCORRECT,  # Invalid cardholder number
    "15": _R.CARD_DETAILS_INCORRECT,  # Unknown issuer (the number names no bank: mistyped)
    "17": _R.ABANDONED,  # Canceled by the buyer
    "19": _R.PROCESSING_ERROR,  # Retry later
    "20": _R.PROCESSING_ERROR,  # Incorrect response (error on the domain server)
    # 24-29 answer the network's file maintenance, not a verdict on the buyer's card: should one
    # end a payment, a plain retry is the only thing to ask.
    "24": _R.PROCESSING_ERROR,  # Unsupported file update
    "25": _R.PROCESSING_ERROR,  # Unable to locate the registered elements in the file
    "26": _R.PROCESSING_ERROR,  # Duplicate registration, the previous record has been replaced
    "27": _R.PROCESSING_ERROR,  # File update edit error
    "28": _R.PROCESSING_ERROR,  # Denied access to file
    "29": _R.PROCESSING_ERROR,  # Unable to update
    "30": _R.PROCESSING_ERROR,  # Format error (of the authorization message, not the buyer's)
    "31": _R.MERCHANT_CONFIGURATION,  # Unknown acquirer company ID
    "33": _R.CARD_EXPIRED,  # Expired card
    "34": _R.SUSPECTED_FRAUD,  # Suspected fraud
    "38": _R.CARD_EXPIRED,  # Expired card (Lyra's wording for 38)
    "41": _R.SUSPECTED_FRAUD,  # Lost card
    "43": _R.SUSPECTED_FRAUD,  # Stolen card
    "46": _R.BANK_DECLINED,  # Customer account closed (another card, or the bank)
    "51": _R.INSUFFICIENT_FUNDS,  # Insufficient balance or exceeded credit limit
    "54": _R.CARD_EXPIRED,  # Expired card
    "55": _R.CARD_DETAILS_INCORRECT,  # Incorrect secret code
    # "The entered card number is incorrect or the card number + expiration date combination
    # does not exist" (Systempay's FAQ on refusals).
    "56": _R.CARD_DETAILS_INCORRECT,  # Card absent from the file
    "57": _R.ONLINE_PAYMENT_NOT_ENABLED,  # Transaction not allowed for this cardholder
    # Lyra's CB pages say "not allowed for this cardholder" for 58 too (OSB's: "prohibited at
    # the terminal"): the card may not be used for this kind of payment.
    "58": _R.ONLINE_PAYMENT_NOT_ENABLED,  # Transaction not allowed for this cardholder
    "59": _R.SUSPECTED_FRAUD,  # Suspected fraud
    "60": _R.MERCHANT_CONFIGURATION,  # The acceptor of the card must contact the acquirer
    "61": _R.LIMIT_EXCEEDED,  # Withdrawal limit exceeded
    "63": _R.SUSPECTED_FRAUD,  # Security rules unfulfilled (as Stripe's security_violation)
    "65": _R.LIMIT_EXCEEDED,  # Exceeded number of withdrawals
    "68": _R.PROCESSING_ERROR,  # Response not received or received too late
    "75": _R.LIMIT_EXCEEDED,  # Number of attempts for entering the secret code exceeded
    "76": _R.SUSPECTED_FRAUD,  # The cardholder is already blocked
    # The card was never activated (its first use unblocks it): the bank can do that, or the
    # buyer pays another way, which is the online_payment_not_enabled ask.
    "78": _R.ONLINE_PAYMENT_NOT_ENABLED,  # Transaction blocked, first transaction not unblocked
    "80": _R.ONLINE_PAYMENT_NOT_ENABLED,  # Contactless payment is not accepted by the issuer
    # The soft decline (Scellius's support calls 81 "A1 Soft decline"): the issuer wants strong
    # authentication, so a retry through 3-D Secure is the ask.
    "81": _R.AUTHENTICATION_FAILED,  # Unsecured payment is not accepted by the issuer
    # Sogecommerce's form page and Systempay's CB pages (the current CB list) say "CVV, dCVV,
    # iCVV incorrect"; older lists gave 82 to a revocation, now 84.
    "82": _R.CARD_DETAILS_INCORRECT,  # CVV, dCVV, iCVV incorrect
    "83": _R.BANK_DECLINED,  # Revocation of all recurring payments for the card
    "84": _R.BANK_DECLINED,  # R1 - Revocation of recurring payment for the Merchant or MCC
    "86": _R.CARD_DETAILS_INCORRECT,  # 6P - Failure of the issuer to verify the data
    # The shop claimed a low-risk exemption the issuer refuses: authenticate and retry.
    "88": _R.AUTHENTICATION_FAILED,  # A4 - Misuse of the TRA exemption
    "90": _R.PROCESSING_ERROR,  # Temporary shutdown
    "91": _R.PROCESSING_ERROR,  # Unable to reach the card issuer
    # Most likely a double submit: if the first went through, its own success settles the
    # order; if not, a plain retry is the ask (as Stripe's duplicate_transaction).
    "94": _R.PROCESSING_ERROR,  # Duplicate transaction
    "96": _R.PROCESSING_ERROR,  # System malfunction
    "97": _R.PROCESSING_ERROR,  # Overall monitoring timeout
    "98": _R.PROCESSING_ERROR,  # Server not available, new network route requested
    "99": _R.PROCESSING_ERROR,  # Initiator domain incident
}

# Sources: REST's transaction errorCode.
# ACQ: https://docs.lyra.com/en/rest/V4.0/api/errors_acq.html
# AUTH: https://docs.lyra.com/en/rest/V4.0/api/errors-reference.html names AUTH_149 as its
#   example of an authentication error; Scellius's support lists its return codes under
#   "3D Secure", 149 "The payment session has expired"
#   (https://scellius.support.lyra.com/hc/en-150/sections/19894013189394-Return-codes).
# PSP: https://docs.lyra.com/en/rest/V4.0/api/errors_psp.html, and for PSP_099, PSP_108 and
#   PSP_999 the messages Lyra's own WooCommerce plugin shows buyers
#   (lyra/plugin-woocommerce, woo-payzen-payment/assets/js/rest.js).
# As with Stripe's table, only the codes that can end a payment attempt have a row: the errors
# of web-service calls that never reach a payment (transaction not found, refund and
# cancellation errors, subscription and token management) are left out, and so are INT_ and
# CLIENT_ codes (the shop's request and the buyer's browser, before any transaction exists).
ERROR_CODES: dict[str, FailureReason] = {
    "ACQ_001": _R.BANK_DECLINED,  # Payment refused (the bank's code is in detailedErrorCode)
    "ACQ_999": _R.PROCESSING_ERROR,  # Technical error
    "AUTH_149": _R.AUTHENTICATION_FAILED,  # 3-D Secure: the payment session has expired
    "PSP_001": _R.MERCHANT_CONFIGURATION,  # Unauthorized action
    "PSP_002": _R.MERCHANT_CONFIGURATION,  # Invalid attribute
    "PSP_003": _R.BANK_DECLINED,  # Payment refused
    "PSP_020": _R.MERCHANT_CONFIGURATION,  # Invalid amount (the shop's request)
    "PSP_021": _R.MERCHANT_CONFIGURATION,  # Unknown currency
    "PSP_022": _R.CARD_DETAILS_INCORRECT,  # Unknown card type
    "PSP_023": _R.CARD_DETAILS_INCORRECT,  # Invalid expiry date
    "PSP_024": _R.CARD_DETAILS_INCORRECT,  # CVV is mandatory
    "PSP_025": _R.MERCHANT_CONFIGURATION,  # Unknown contract (MID) number
    "PSP_026": _R.CARD_DETAILS_INCORRECT,  # The card number is invalid
    "PSP_027": _R.MERCHANT_CONFIGURATION,  # No contract found with tid and mid provided
    "PSP_030": _R.MERCHANT_CONFIGURATION,  # Token not found (the shop named an unknown one)
    # A saved card (token) that can no longer pay: the buyer enters the card again.
    "PSP_031": _R.CARD_DETAILS_INCORRECT,  # Invalid token (canceled, empty, etc.)
    "PSP_036": _R.CARD_DETAILS_INCORRECT,  # paymentMethodToken attribute purged
    "PSP_040": _R.MERCHANT_CONFIGURATION,  # The amount attribute is not authorized
    "PSP_041": _R.CARD_DETAILS_INCORRECT,  # Card range not found
    "PSP_042": _R.INSUFFICIENT_FUNDS,  # The payment method has insufficient funds
    "PSP_050": _R.CARD_DETAILS_INCORRECT,  # No brand found
    "PSP_051": _R.MERCHANT_CONFIGURATION,  # The merchant is not enrolled (3-D Secure)
    "PSP_052": _R.AUTHENTICATION_FAILED,  # The ACS signature is invalid
    "PSP_053": _R.PROCESSING_ERROR,  # 3DS technical error
    "PSP_054": _R.MERCHANT_CONFIGURATION,  # Incorrect 3DS parameter
    "PSP_055": _R.MERCHANT_CONFIGURATION,  # 3DS disabled
    "PSP_056": _R.CARD_DETAILS_INCORRECT,  # PAN not found
    "PSP_057": _R.MERCHANT_CONFIGURATION,  # The data for the acquirer is invalid
    "PSP_099": _R.LIMIT_EXCEEDED,  # Too many attempts
    "PSP_108": _R.ABANDONED,  # The form has expired
    "PSP_999": _R.PROCESSING_ERROR,  # An error has occurred during the payment process
}

# Source: https://docs.lyra.com/en/collect/form-payment/reference/vads-extra-result.html (the
# risk management result, when vads_result is 00 or 05). These are the shop's own risk
# controls refusing the card (Settings > Risk management): a fraud verdict the buyer is never
# told about, so suspected_fraud keeps them merchant-only. "00" (every check passed) and an
# empty value (no check made) are no verdict and have no row.
RISK_RESULTS: dict[str, FailureReason] = {
    "02": _R.SUSPECTED_FRAUD,  # Credit card velocity exceeded (the shop's CREDIT_LIMIT rule)
    "03": _R.SUSPECTED_FRAUD,  # The card is on the merchant's greylist
    "04": _R.SUSPECTED_FRAUD,  # The country of origin of the card is on the greylist
    "05": _R.SUSPECTED_FRAUD,  # The IP address is on the merchant's greylist
    "06": _R.SUSPECTED_FRAUD,  # The BIN code is on the merchant's greylist
    "07": _R.SUSPECTED_FRAUD,  # Detection of an e-carte bleue
    "08": _R.SUSPECTED_FRAUD,  # Detection of a national commercial card
    "09": _R.SUSPECTED_FRAUD,  # Detection of a foreign commercial card
    "14": _R.SUSPECTED_FRAUD,  # Detection of a card that requires systematic authorization
    "20": _R.SUSPECTED_FRAUD,  # Countries do not match (IP address, card, buyer)
    "30": _R.SUSPECTED_FRAUD,  # The country of the IP address is on the greylist
    "99": _R.PROCESSING_ERROR,  # Technical issue during a local verification process
}

# Source: https://sogecommerce.societegenerale.eu/doc/en-EN/form-payment/reference/vads-result.html
# (00, 05, 17, 30, 96), and for 02 Lyra's form SDK, which lists it with the others
# (lyra/php-payment-form-examples, lib/lyra-payment-form-sdk/Response.php). "00" is success and
# has no row.
RESULTS: dict[str, FailureReason] = {
    "02": _R.BANK_DECLINED,  # The merchant must contact the cardholder's bank
    "05": _R.BANK_DECLINED,  # Action rejected (reached only when no code above spoke)
    "17": _R.ABANDONED,  # Action cancelled by buyer
    "30": _R.MERCHANT_CONFIGURATION,  # Format error in merchant request (the shop's form)
    "96": _R.PROCESSING_ERROR,  # Action refused due to technical error
}

# Source: https://docs.lyra.com/en/collect/form-payment/reference/vads-trans-status.html, and
# the statuses Lyra's WooCommerce plugin reads as "interrupted by the buyer"
# (lyra/plugin-woocommerce, woo-payzen-payment/includes/Lyranetwork/Payzen/Sdk/Form/Api.php,
# getCancelledStatuses). REST's orderStatus ABANDONED is the same word. The other failed status,
# REFUSED, says nothing the codes above do not: it has no row.
STATUSES: dict[str, FailureReason] = {
    "ABANDONED": _R.ABANDONED,  # Payment abandoned by the buyer
    "NOT_CREATED": _R.ABANDONED,  # Transaction not created (the buyer left before paying)
    # "Canceled by the merchant" in Lyra's words: the order ended without the money, and the
    # buyer can still be asked to complete it, as with Stripe's cancelled payment intents.
    "CANCELLED": _R.ABANDONED,
}

# The approval (REST's "0" once read as two digits): no refusal, so the next code is read.
_APPROVED = frozenset({"00"})

_AUTH = folded(AUTH_RESULTS)
_ERROR = folded(ERROR_CODES)
_RISK = folded(RISK_RESULTS)
_RESULT = folded(RESULTS)
_STATUS = folded(STATUSES)


def bank_code(value: str | None) -> str:
    """An authorization code as the tables spell it: stripped, case-folded, one digit read as
    two (REST writes the approval as "0")."""
    code = norm(value)
    return f"0{code}" if len(code) == 1 and code.isdigit() else code


def classify(codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
    auth_result = bank_code(codes.get("auth_result"))
    if auth_result and auth_result not in _APPROVED:
        return _AUTH.get(auth_result, _R.UNKNOWN)
    error_code = norm(codes.get("error_code"))
    detailed = bank_code(codes.get("detailed_error_code"))
    if error_code == "acq_001" and detailed and detailed not in _APPROVED:
        return _AUTH.get(detailed, _R.UNKNOWN)

    reason = _ERROR.get(error_code)
    if reason is not None:
        return reason
    result = norm(codes.get("result"))
    if result != "30":
        reason = _RISK.get(norm(codes.get("extra_result")))
        if reason is not None:
            return reason
    reason = _RESULT.get(result) or _STATUS.get(norm(codes.get("status")))
    return reason or fallback(kind)
