"""Stripe's failure codes, each mapped to a canonical FailureReason, and the order in which they
are read (payments.classification holds what every provider shares).

Precedence (codes: outcome_type, cancellation_reason, decline_code, code, failure_code, ...):
  1. Merchant-only verdicts first: outcome_type "blocked" (Radar) -> suspected_fraud, "invalid"
     -> merchant_configuration; cancellation_reason "fraudulent" -> suspected_fraud. A fraud
     verdict must win over any decline code an earlier attempt left behind, since the buyer is
     never told about it.
  2. decline_code, the most specific code. If it is present but unmapped the result is UNKNOWN:
     we do not guess from the vaguer code (usually just "card_declined").
  3. code, then failure_code (the same family). "card_declined" means bank_declined; it is only
     reached when there is no decline_code, i.e. when the bank gave no reason.
  4. cancellation_reason (abandoned, requested_by_customer, automatic, expired, duplicate, ...)
     or kind ABANDONED (e.g. checkout.session.expired) -> abandoned.
  5. Otherwise UNKNOWN.
  On a charge (charge.failed), the bank's decline code is outcome_reason when outcome_type is
  "issuer_declined": it stands in for decline_code there.
  advice_code and network_decline_code never change the reason: they are kept raw. (advice_code
  says whether to retry, which is orthogonal to what the buyer is asked.)
"""

from collections.abc import Mapping

from payments.classification import fallback, folded, norm
from payments.reasons import FailureReason
from payments.signals import SignalKind

_R = FailureReason

# Source: https://docs.stripe.com/declines/codes ("Card decline codes", then "Local payment method
# decline codes"). Every code on that page has a row; the tests list the page's codes.
DECLINE_CODES: dict[str, FailureReason] = {
    "authentication_required": _R.AUTHENTICATION_FAILED,
    "authentication_not_handled": _R.AUTHENTICATION_FAILED,
    # Tap-to-pay: the phone must confirm again; the same ask as 3-D Secure.
    "mobile_device_authentication_required": _R.AUTHENTICATION_FAILED,
    # "Honour with identification": a retry alone rarely helps online; Stripe's next step is
    # "contact the card issuer" after one retry, so the bank_declined ask fits best.
    "approve_with_id": _R.BANK_DECLINED,
    "call_issuer": _R.BANK_DECLINED,
    "card_not_supported": _R.ONLINE_PAYMENT_NOT_ENABLED,
    "card_velocity_exceeded": _R.LIMIT_EXCEEDED,
    # The card cannot pay in this currency: a restriction of the card (often "international
    # payments" switched off), which the bank can lift or another card avoids. The same string
    # on a local payment method means the provider refuses the currency; the card meaning wins
    # as by far the more common one.
    "currency_not_supported": _R.ONLINE_PAYMENT_NOT_ENABLED,
    "do_not_honor": _R.BANK_DECLINED,
    "do_not_try_again": _R.BANK_DECLINED,  # deprecated by Stripe in favour of advice_code
    # Most likely a double submit. If the first attempt went through, its own success signal
    # settles the payment; if not, a plain retry is the right ask.
    "duplicate_transaction": _R.PROCESSING_ERROR,
    "expired_card": _R.CARD_EXPIRED,
    "fraudulent": _R.SUSPECTED_FRAUD,
    "generic_decline": _R.BANK_DECLINED,
    "incorrect_address": _R.CARD_DETAILS_INCORRECT,
    "incorrect_cvc": _R.CARD_DETAILS_INCORRECT,
    "incorrect_number": _R.CARD_DETAILS_INCORRECT,
    "incorrect_pin": _R.CARD_DETAILS_INCORRECT,
    "incorrect_zip": _R.CARD_DETAILS_INCORRECT,
    "insufficient_funds": _R.INSUFFICIENT_FUNDS,
    # As a decline code this is the buyer's card (or its account) being invalid, not the shop's
    # Stripe account: the buyer is asked to check with the bank or use another card.
    "invalid_account": _R.BANK_DECLINED,
    # "Invalid, or exceeds the amount allowed": Stripe's next step is checking with the issuer
    # that the card can make purchases of that amount, i.e. a card limit.
    "invalid_amount": _R.LIMIT_EXCEEDED,
    "invalid_cvc": _R.CARD_DETAILS_INCORRECT,
    "invalid_expiry_month": _R.CARD_DETAILS_INCORRECT,
    "invalid_expiry_year": _R.CARD_DETAILS_INCORRECT,
    "invalid_number": _R.CARD_DETAILS_INCORRECT,
    "invalid_pin": _R.CARD_DETAILS_INCORRECT,
    "issuer_not_available": _R.PROCESSING_ERROR,
    "lost_card": _R.SUSPECTED_FRAUD,
    "merchant_blacklist": _R.SUSPECTED_FRAUD,
    # Card replaced or account changed: the old card cannot be used; the bank knows why.
    "new_account_information_available": _R.BANK_DECLINED,
    "no_action_taken": _R.BANK_DECLINED,
    "not_permitted": _R.ONLINE_PAYMENT_NOT_ENABLED,
    # PIN codes are card-present codes. If one reaches an online shop, the card cannot be used
    # there without a PIN: the bank can allow it, or the buyer uses another method.
    "offline_pin_required": _R.ONLINE_PAYMENT_NOT_ENABLED,
    "online_or_offline_pin_required": _R.ONLINE_PAYMENT_NOT_ENABLED,
    "pickup_card": _R.SUSPECTED_FRAUD,
    "pin_try_exceeded": _R.LIMIT_EXCEEDED,
    "processing_error": _R.PROCESSING_ERROR,
    "reenter_transaction": _R.PROCESSING_ERROR,
    "restricted_card": _R.SUSPECTED_FRAUD,
    "revocation_of_all_authorizations": _R.BANK_DECLINED,
    "revocation_of_authorization": _R.BANK_DECLINED,
    "security_violation": _R.SUSPECTED_FRAUD,
    "service_not_allowed": _R.ONLINE_PAYMENT_NOT_ENABLED,
    "stolen_card": _R.SUSPECTED_FRAUD,
    "stop_payment_order": _R.BANK_DECLINED,
    # A Stripe test card used against a live shop: someone testing the shop in production, never
    # a buyer to chase. The merchant hears about it.
    "testmode_decline": _R.MERCHANT_CONFIGURATION,
    "transaction_not_allowed": _R.ONLINE_PAYMENT_NOT_ENABLED,
    "try_again_later": _R.PROCESSING_ERROR,  # deprecated by Stripe in favour of advice_code
    "withdrawal_count_limit_exceeded": _R.LIMIT_EXCEEDED,
    # Local payment methods (wallets, BNPL, bank redirects).
    "partner_generic_decline": _R.BANK_DECLINED,
    "invalid_customer_account": _R.BANK_DECLINED,
    "payment_limit_exceeded": _R.LIMIT_EXCEEDED,
    "invalid_billing_agreement": _R.BANK_DECLINED,
    "invalid_business_account": _R.MERCHANT_CONFIGURATION,
    "partner_high_risk_customer": _R.SUSPECTED_FRAUD,
    # A compliance block or an open dispute: a risk decision about this payment, never something
    # to chase the buyer about. suspected_fraud keeps it merchant-only.
    "compliance_violation": _R.SUSPECTED_FRAUD,
    "payment_disputed": _R.SUSPECTED_FRAUD,
    "invalid_authorization": _R.BANK_DECLINED,
    "invalid_payment_information": _R.CARD_DETAILS_INCORRECT,
    "partner_payment_not_found": _R.PROCESSING_ERROR,
    "expired_payment_information": _R.CARD_EXPIRED,
}

# Source: https://docs.stripe.com/error-codes (the codes that can end a payment attempt, as
# PaymentIntent.last_payment_error.code or Charge.failure_code). API errors that never reach a
# payment (payouts, invoices, Connect onboarding, terminal readers...) are left out.
ERROR_CODES: dict[str, FailureReason] = {
    # Card errors.
    "card_declined": _R.BANK_DECLINED,  # only reached without a decline_code
    # Stripe refuses further attempts on a card declined too often in 24 hours: from the buyer's
    # side a limit reached; another card or method works.
    "card_decline_rate_limit_exceeded": _R.LIMIT_EXCEEDED,
    "expired_card": _R.CARD_EXPIRED,
    "incorrect_address": _R.CARD_DETAILS_INCORRECT,
    "incorrect_cvc": _R.CARD_DETAILS_INCORRECT,
    "incorrect_number": _R.CARD_DETAILS_INCORRECT,
    "incorrect_zip": _R.CARD_DETAILS_INCORRECT,
    "invalid_cvc": _R.CARD_DETAILS_INCORRECT,
    "invalid_expiry_month": _R.CARD_DETAILS_INCORRECT,
    "invalid_expiry_year": _R.CARD_DETAILS_INCORRECT,
    "invalid_number": _R.CARD_DETAILS_INCORRECT,
    "postal_code_invalid": _R.CARD_DETAILS_INCORRECT,
    "insufficient_funds": _R.INSUFFICIENT_FUNDS,
    "processing_error": _R.PROCESSING_ERROR,
    # 3-D Secure.
    "authentication_required": _R.AUTHENTICATION_FAILED,
    "payment_intent_authentication_failure": _R.AUTHENTICATION_FAILED,
    "payment_intent_action_required": _R.AUTHENTICATION_FAILED,
    "setup_intent_authentication_failure": _R.AUTHENTICATION_FAILED,
    # Payment attempts on other methods.
    "payment_intent_payment_attempt_failed": _R.BANK_DECLINED,
    # The buyer did not finish the redirect (bank app, voucher...) in time, or refused it there.
    "payment_intent_payment_attempt_expired": _R.ABANDONED,
    "payment_method_customer_decline": _R.ABANDONED,
    "payment_method_provider_decline": _R.BANK_DECLINED,
    "payment_method_provider_timeout": _R.PROCESSING_ERROR,
    "payment_method_not_available": _R.PROCESSING_ERROR,
    "payment_intent_konbini_rejected_confirmation_number": _R.CARD_DETAILS_INCORRECT,
    # Bank debits (Charge.failure_code).
    "account_closed": _R.BANK_DECLINED,
    "no_account": _R.CARD_DETAILS_INCORRECT,
    "bank_account_declined": _R.BANK_DECLINED,
    "bank_account_restricted": _R.BANK_DECLINED,
    "bank_account_unusable": _R.BANK_DECLINED,
    "payment_method_bank_account_blocked": _R.BANK_DECLINED,
    "refer_to_customer": _R.BANK_DECLINED,
    # The account holder told the bank this debit was not authorised: a dispute, not a buyer to
    # remind. suspected_fraud keeps it merchant-only.
    "debit_not_authorized": _R.SUSPECTED_FRAUD,
    # Transient on Stripe's side or the shop's request rate: a retry works.
    "rate_limit": _R.PROCESSING_ERROR,
    "lock_timeout": _R.PROCESSING_ERROR,
    "payment_intent_rate_limit_exceeded": _R.PROCESSING_ERROR,
    # The shop's setup: keys, account, amounts, currencies, enabled payment methods.
    "account_invalid": _R.MERCHANT_CONFIGURATION,
    "amount_too_large": _R.MERCHANT_CONFIGURATION,
    "amount_too_small": _R.MERCHANT_CONFIGURATION,
    "api_key_expired": _R.MERCHANT_CONFIGURATION,
    "cardholder_phone_number_required": _R.MERCHANT_CONFIGURATION,  # checkout must collect it
    "charge_exceeds_source_limit": _R.MERCHANT_CONFIGURATION,  # the shop's volume limit
    "charge_exceeds_transaction_limit": _R.MERCHANT_CONFIGURATION,  # the shop's volume limit
    "charge_invalid_parameter": _R.MERCHANT_CONFIGURATION,
    "invalid_charge_amount": _R.MERCHANT_CONFIGURATION,
    "livemode_mismatch": _R.MERCHANT_CONFIGURATION,
    "payment_intent_incompatible_payment_method": _R.MERCHANT_CONFIGURATION,
    "payment_intent_invalid_parameter": _R.MERCHANT_CONFIGURATION,
    "payment_intent_mandate_invalid": _R.MERCHANT_CONFIGURATION,
    "payment_intent_unexpected_state": _R.MERCHANT_CONFIGURATION,
    "payment_method_currency_mismatch": _R.MERCHANT_CONFIGURATION,
    "payment_method_invalid_parameter_testmode": _R.MERCHANT_CONFIGURATION,
    "payment_method_unactivated": _R.MERCHANT_CONFIGURATION,
    "payment_method_unsupported_type": _R.MERCHANT_CONFIGURATION,
    "platform_account_required": _R.MERCHANT_CONFIGURATION,
    "platform_api_key_expired": _R.MERCHANT_CONFIGURATION,
    "secret_key_required": _R.MERCHANT_CONFIGURATION,
    "testmode_charges_only": _R.MERCHANT_CONFIGURATION,  # live charges not yet activated
}

# Source: https://docs.stripe.com/api/charges/object#charge_object-outcome-type
# ("authorized", "manual_review" and "issuer_declined" say nothing beyond the codes.)
OUTCOME_TYPES: dict[str, FailureReason] = {
    "blocked": _R.SUSPECTED_FRAUD,  # Stripe blocked it (Radar); the buyer is never told why
    "invalid": _R.MERCHANT_CONFIGURATION,  # a problem with the shop's request or account
}

# Source: https://docs.stripe.com/api/payment_intents/object#payment_intent_object-cancellation_reason
CANCELLATION_REASONS: dict[str, FailureReason] = {
    "fraudulent": _R.SUSPECTED_FRAUD,  # applied first, see the module docstring
    "abandoned": _R.ABANDONED,
    "requested_by_customer": _R.ABANDONED,
    "automatic": _R.ABANDONED,
    "expired": _R.ABANDONED,
    # The shop cancelled this intent as a duplicate of another; if the other was paid, its own
    # success signal settles the order, otherwise the buyer did leave without paying.
    "duplicate": _R.ABANDONED,
    # Cancelled by Stripe along with the invoice it was paying: the invoice was not paid.
    "failed_invoice": _R.ABANDONED,
    "void_invoice": _R.ABANDONED,
}

_DECLINE = folded(DECLINE_CODES)
_ERROR = folded(ERROR_CODES)
_OUTCOME = folded(OUTCOME_TYPES)
_CANCELLATION = folded(CANCELLATION_REASONS)


def classify(codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
    outcome = _OUTCOME.get(norm(codes.get("outcome_type")))
    if outcome is not None:
        return outcome
    cancellation = norm(codes.get("cancellation_reason"))
    if _CANCELLATION.get(cancellation) == _R.SUSPECTED_FRAUD:
        return _R.SUSPECTED_FRAUD

    decline_code = norm(codes.get("decline_code"))
    if not decline_code and norm(codes.get("outcome_type")) == "issuer_declined":
        # A charge carries the bank's decline code in outcome.reason, not in a decline_code.
        decline_code = norm(codes.get("outcome_reason"))
    if decline_code:
        return _DECLINE.get(decline_code, _R.UNKNOWN)

    for key in ("code", "failure_code"):
        reason = _ERROR.get(norm(codes.get(key)))
        if reason is not None:
            return reason

    return _CANCELLATION.get(cancellation) or fallback(kind)
