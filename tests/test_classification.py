"""payments.classification: every table row, the documented code lists, and the precedence rules.
Plain functions over in-code tables: no database."""

import pytest

from payments.classification import classify
from payments.providers.adyen import codes as adyen
from payments.providers.lyra import codes as lyra
from payments.providers.stripe import codes as stripe
from payments.reasons import FailureReason as R
from payments.signals import SignalKind

FAILED = SignalKind.FAILED
ABANDONED = SignalKind.ABANDONED


def _words(text: str) -> list[str]:
    return text.split()


# --- Every row of every table ---------------------------------------------------------------------

# (provider, the key the adapter fills, table). Each row is classified alone, so the table's own
# precedence step is what decides it.
TABLES = [
    ("stripe", "decline_code", stripe.DECLINE_CODES),
    ("stripe", "code", stripe.ERROR_CODES),
    ("stripe", "failure_code", stripe.ERROR_CODES),
    ("stripe", "outcome_type", stripe.OUTCOME_TYPES),
    ("stripe", "cancellation_reason", stripe.CANCELLATION_REASONS),
    ("adyen", "reason", adyen.REFUSAL_REASONS),
    ("adyen", "event_code", adyen.EVENT_CODES),
    ("lyra", "auth_result", lyra.AUTH_RESULTS),
    ("lyra", "error_code", lyra.ERROR_CODES),
    ("lyra", "extra_result", lyra.RISK_RESULTS),
    ("lyra", "result", lyra.RESULTS),
    ("lyra", "status", lyra.STATUSES),
]

ROWS = [
    pytest.param(provider, key, code, reason, id=f"{provider}-{key}-{code}")
    for provider, key, table in TABLES
    for code, reason in table.items()
]


@pytest.mark.parametrize(("provider", "key", "code", "expected"), ROWS)
def test_every_table_row(provider, key, code, expected):
    assert classify(provider, {key: code}, FAILED) == expected


@pytest.mark.parametrize(("provider", "key", "code", "expected"), ROWS)
def test_every_table_row_ignores_case_and_whitespace(provider, key, code, expected):
    assert classify(provider, {key: f"  {code.upper()} "}, FAILED) == expected
    assert classify(provider, {key: code.lower()}, FAILED) == expected


@pytest.mark.parametrize(("provider", "key", "table"), [t[:3] for t in TABLES])
def test_table_values_are_failure_reasons_and_keys_are_unique_when_folded(provider, key, table):
    assert table, "an empty table"
    for code, reason in table.items():
        assert isinstance(reason, R), code
        assert reason in R.values, code
        assert code == code.strip() and code, repr(code)
    assert len({code.casefold() for code in table}) == len(table)


def test_codes_in_both_stripe_tables_agree():
    shared = stripe.DECLINE_CODES.keys() & stripe.ERROR_CODES.keys()
    assert {"expired_card", "incorrect_cvc", "insufficient_funds"} <= shared
    for code in shared:
        assert stripe.DECLINE_CODES[code] == stripe.ERROR_CODES[code], code


def test_no_adyen_reason_has_a_colon():
    # The part after ":" is stripped before the lookup, so such a key could never match.
    assert not [reason for reason in adyen.REFUSAL_REASONS if ":" in reason]


# --- The documented lists are covered -------------------------------------------------------------

# https://docs.stripe.com/declines/codes, "Card decline codes" and "Local payment method decline
# codes".
STRIPE_DOCUMENTED_DECLINE_CODES = _words(
    """
    authentication_required authentication_not_handled approve_with_id call_issuer
    card_not_supported card_velocity_exceeded currency_not_supported do_not_honor do_not_try_again
    duplicate_transaction expired_card fraudulent generic_decline incorrect_address incorrect_cvc
    incorrect_number incorrect_pin incorrect_zip insufficient_funds invalid_account invalid_amount
    invalid_cvc invalid_expiry_month invalid_expiry_year invalid_number invalid_pin
    issuer_not_available lost_card merchant_blacklist new_account_information_available
    no_action_taken not_permitted offline_pin_required online_or_offline_pin_required pickup_card
    pin_try_exceeded processing_error reenter_transaction restricted_card
    revocation_of_all_authorizations revocation_of_authorization security_violation
    service_not_allowed stolen_card stop_payment_order testmode_decline transaction_not_allowed
    try_again_later withdrawal_count_limit_exceeded mobile_device_authentication_required
    partner_generic_decline invalid_customer_account payment_limit_exceeded
    invalid_billing_agreement invalid_business_account partner_high_risk_customer
    compliance_violation payment_disputed invalid_authorization invalid_payment_information
    partner_payment_not_found expired_payment_information
"""
)

# https://docs.stripe.com/error-codes: the card errors and the payment-attempt errors.
STRIPE_DOCUMENTED_CARD_ERROR_CODES = _words(
    """
    card_declined card_decline_rate_limit_exceeded expired_card incorrect_address incorrect_cvc
    incorrect_number incorrect_zip invalid_cvc invalid_expiry_month invalid_expiry_year
    invalid_number postal_code_invalid insufficient_funds processing_error authentication_required
    payment_intent_authentication_failure payment_intent_action_required
    payment_intent_payment_attempt_failed payment_intent_payment_attempt_expired
    payment_method_customer_decline payment_method_provider_decline payment_method_provider_timeout
    payment_method_not_available amount_too_large amount_too_small testmode_charges_only
    api_key_expired payment_method_unactivated platform_api_key_expired account_invalid
    livemode_mismatch charge_exceeds_source_limit charge_exceeds_transaction_limit
"""
)

# https://docs.adyen.com/development-resources/refusal-reasons/
ADYEN_DOCUMENTED_REFUSAL_REASONS = [
    "Refused",
    "Referral",
    "Acquirer Error",
    "Blocked Card",
    "Expired Card",
    "Invalid Amount",
    "Invalid Card Number",
    "Issuer Unavailable",
    "Not supported",
    "3D Not Authenticated",
    "Not enough balance",
    "Acquirer Fraud",
    "Cancelled",
    "Shopper Cancelled",
    "Invalid Pin",
    "Pin tries exceeded",
    "Pin validation not possible",
    "FRAUD",
    "Not Submitted",
    "FRAUD-CANCELLED",
    "Transaction Not Permitted",
    "CVC Declined",
    "Restricted Card",
    "Revocation Of Auth",
    "Declined Non Generic",
    "Withdrawal amount exceeded",
    "Withdrawal count exceeded",
    "Issuer Suspected Fraud",
    "AVS Declined",
    "Card requires online pin",
    "No checking account available on Card",
    "No savings account available on Card",
    "Mobile pin required",
    "Contactless fallback",
    "Authentication required",
    "RReq not received from DS",
    "Current AID is in Penalty Box.",
    "CVM Required Restart Payment",
    "3DS Authentication Error",
    "Online PIN required",
    "Try another interface",
    "Chip downgrade mode",
    "Transaction blocked by Adyen to prevent excessive retry fees",
]

# The CB network's authorization codes on the Lyra gateways' pages (payments/providers/lyra/
# codes.py cites them), less "00", the approval.
LYRA_DOCUMENTED_CB_CODES = _words(
    """
    02 03 04 05 07 08 12 13 14 15 17 19 20 24 25 26 27 28 29 30 31 33 34 38 41 43 46 51 54 55 56
    57 58 59 60 61 63 65 68 75 76 78 80 81 82 83 84 86 88 90 91 94 96 97 98 99
"""
)

# https://docs.lyra.com/en/rest/V4.0/api/errors_acq.html, errors-reference.html (AUTH_149) and
# errors_psp.html: the codes that can end a payment attempt (see codes.py).
LYRA_DOCUMENTED_ERROR_CODES = _words(
    """
    ACQ_001 ACQ_999 AUTH_149 PSP_001 PSP_002 PSP_003 PSP_020 PSP_021 PSP_022 PSP_023 PSP_024
    PSP_025 PSP_026 PSP_027 PSP_030 PSP_031 PSP_036 PSP_040 PSP_041 PSP_042 PSP_050 PSP_051
    PSP_052 PSP_053 PSP_054 PSP_055 PSP_056 PSP_057 PSP_099 PSP_108 PSP_999
"""
)

# https://docs.lyra.com/en/collect/form-payment/reference/vads-extra-result.html, less "00".
LYRA_DOCUMENTED_RISK_RESULTS = _words("02 03 04 05 06 07 08 09 14 20 30 99")

# vads_result (Sogecommerce's page and Lyra's form SDK), less "00".
LYRA_DOCUMENTED_RESULTS = _words("02 05 17 30 96")


@pytest.mark.parametrize(
    ("documented", "table"),
    [
        pytest.param(STRIPE_DOCUMENTED_DECLINE_CODES, stripe.DECLINE_CODES, id="stripe-decline"),
        pytest.param(STRIPE_DOCUMENTED_CARD_ERROR_CODES, stripe.ERROR_CODES, id="stripe-error"),
        pytest.param(ADYEN_DOCUMENTED_REFUSAL_REASONS, adyen.REFUSAL_REASONS, id="adyen"),
        pytest.param(LYRA_DOCUMENTED_CB_CODES, lyra.AUTH_RESULTS, id="lyra-cb"),
        pytest.param(LYRA_DOCUMENTED_ERROR_CODES, lyra.ERROR_CODES, id="lyra-error"),
        pytest.param(LYRA_DOCUMENTED_RISK_RESULTS, lyra.RISK_RESULTS, id="lyra-risk"),
        pytest.param(LYRA_DOCUMENTED_RESULTS, lyra.RESULTS, id="lyra-result"),
    ],
)
def test_every_documented_code_has_a_row(documented, table):
    assert len(documented) == len(set(documented))
    assert set(documented) - table.keys() == set()


# --- Hand-written cases, from what the codes mean -------------------------------------------------

CASES = [
    # Stripe: the buyer is never told about fraud, lost or stolen cards.
    ("stripe", {"code": "card_declined", "decline_code": "lost_card"}, FAILED, R.SUSPECTED_FRAUD),
    ("stripe", {"code": "card_declined", "decline_code": "stolen_card"}, FAILED, R.SUSPECTED_FRAUD),
    ("stripe", {"code": "card_declined", "decline_code": "fraudulent"}, FAILED, R.SUSPECTED_FRAUD),
    ("stripe", {"code": "card_declined", "decline_code": "pickup_card"}, FAILED, R.SUSPECTED_FRAUD),
    ("stripe", {"decline_code": "restricted_card"}, FAILED, R.SUSPECTED_FRAUD),
    ("stripe", {"decline_code": "merchant_blacklist"}, FAILED, R.SUSPECTED_FRAUD),
    ("stripe", {"decline_code": "security_violation"}, FAILED, R.SUSPECTED_FRAUD),
    # Radar blocks beat the decline code Stripe reports with them.
    (
        "stripe",
        {
            "code": "card_declined",
            "decline_code": "generic_decline",
            "outcome_type": "blocked",
            "outcome_reason": "highest_risk_level",
        },
        FAILED,
        R.SUSPECTED_FRAUD,
    ),
    ("stripe", {"outcome_type": "blocked", "outcome_reason": "rule"}, FAILED, R.SUSPECTED_FRAUD),
    ("stripe", {"outcome_type": "invalid"}, FAILED, R.MERCHANT_CONFIGURATION),
    (
        "stripe",
        {"outcome_type": "invalid", "decline_code": "insufficient_funds"},
        FAILED,
        R.MERCHANT_CONFIGURATION,
    ),
    # The buyer's own card problems.
    (
        "stripe",
        {"code": "card_declined", "decline_code": "insufficient_funds"},
        FAILED,
        R.INSUFFICIENT_FUNDS,
    ),
    ("stripe", {"code": "expired_card", "decline_code": "expired_card"}, FAILED, R.CARD_EXPIRED),
    ("stripe", {"failure_code": "expired_card"}, FAILED, R.CARD_EXPIRED),
    ("stripe", {"code": "incorrect_cvc"}, FAILED, R.CARD_DETAILS_INCORRECT),
    ("stripe", {"code": "incorrect_number"}, FAILED, R.CARD_DETAILS_INCORRECT),
    ("stripe", {"code": "invalid_expiry_year"}, FAILED, R.CARD_DETAILS_INCORRECT),
    ("stripe", {"decline_code": "incorrect_zip"}, FAILED, R.CARD_DETAILS_INCORRECT),
    ("stripe", {"decline_code": "card_velocity_exceeded"}, FAILED, R.LIMIT_EXCEEDED),
    ("stripe", {"decline_code": "withdrawal_count_limit_exceeded"}, FAILED, R.LIMIT_EXCEEDED),
    ("stripe", {"decline_code": "transaction_not_allowed"}, FAILED, R.ONLINE_PAYMENT_NOT_ENABLED),
    ("stripe", {"decline_code": "card_not_supported"}, FAILED, R.ONLINE_PAYMENT_NOT_ENABLED),
    ("stripe", {"decline_code": "currency_not_supported"}, FAILED, R.ONLINE_PAYMENT_NOT_ENABLED),
    ("stripe", {"decline_code": "do_not_honor"}, FAILED, R.BANK_DECLINED),
    ("stripe", {"decline_code": "call_issuer"}, FAILED, R.BANK_DECLINED),
    (
        "stripe",
        {"code": "card_declined", "decline_code": "generic_decline"},
        FAILED,
        R.BANK_DECLINED,
    ),
    ("stripe", {"code": "card_declined"}, FAILED, R.BANK_DECLINED),
    ("stripe", {"failure_code": "card_declined"}, FAILED, R.BANK_DECLINED),
    ("stripe", {"code": "processing_error"}, FAILED, R.PROCESSING_ERROR),
    ("stripe", {"decline_code": "issuer_not_available"}, FAILED, R.PROCESSING_ERROR),
    ("stripe", {"decline_code": "try_again_later"}, FAILED, R.PROCESSING_ERROR),
    # 3-D Secure.
    ("stripe", {"code": "authentication_required"}, FAILED, R.AUTHENTICATION_FAILED),
    (
        "stripe",
        {"code": "card_declined", "decline_code": "authentication_required"},
        FAILED,
        R.AUTHENTICATION_FAILED,
    ),
    (
        "stripe",
        {"code": "payment_intent_authentication_failure"},
        FAILED,
        R.AUTHENTICATION_FAILED,
    ),
    # The shop's setup.
    ("stripe", {"code": "amount_too_small"}, FAILED, R.MERCHANT_CONFIGURATION),
    ("stripe", {"code": "api_key_expired"}, FAILED, R.MERCHANT_CONFIGURATION),
    ("stripe", {"decline_code": "testmode_decline"}, FAILED, R.MERCHANT_CONFIGURATION),
    # Abandoned checkouts and cancelled intents.
    ("stripe", {}, ABANDONED, R.ABANDONED),  # checkout.session.expired
    ("stripe", {"cancellation_reason": "abandoned"}, ABANDONED, R.ABANDONED),
    ("stripe", {"cancellation_reason": "requested_by_customer"}, ABANDONED, R.ABANDONED),
    ("stripe", {"cancellation_reason": "automatic"}, ABANDONED, R.ABANDONED),
    ("stripe", {"cancellation_reason": "duplicate"}, ABANDONED, R.ABANDONED),
    ("stripe", {"cancellation_reason": "fraudulent"}, ABANDONED, R.SUSPECTED_FRAUD),
    # A fraud cancellation beats the decline an earlier attempt left on the intent.
    (
        "stripe",
        {"cancellation_reason": "fraudulent", "decline_code": "insufficient_funds"},
        ABANDONED,
        R.SUSPECTED_FRAUD,
    ),
    # A decline before the buyer left says more than the cancellation.
    (
        "stripe",
        {"cancellation_reason": "abandoned", "decline_code": "insufficient_funds"},
        ABANDONED,
        R.INSUFFICIENT_FUNDS,
    ),
    ("stripe", {"cancellation_reason": "some_new_reason"}, ABANDONED, R.ABANDONED),
    # advice_code is kept raw and changes nothing.
    (
        "stripe",
        {"decline_code": "generic_decline", "advice_code": "do_not_try_again"},
        FAILED,
        R.BANK_DECLINED,
    ),
    (
        "stripe",
        {"decline_code": "insufficient_funds", "advice_code": "try_again_later"},
        FAILED,
        R.INSUFFICIENT_FUNDS,
    ),
    # Unknown codes.
    ("stripe", {"code": "some_new_code"}, FAILED, R.UNKNOWN),
    ("stripe", {"decline_code": "some_new_code"}, FAILED, R.UNKNOWN),
    # A decline reason we do not know is not guessed from the vaguer card_declined.
    ("stripe", {"code": "card_declined", "decline_code": "some_new_code"}, FAILED, R.UNKNOWN),
    ("stripe", {"outcome_type": "issuer_declined"}, FAILED, R.UNKNOWN),
    ("stripe", {"code": "", "decline_code": "", "failure_code": ""}, FAILED, R.UNKNOWN),
    # Adyen.
    ("adyen", {"reason": "Refused:05", "event_code": "AUTHORISATION"}, FAILED, R.BANK_DECLINED),
    ("adyen", {"reason": "Refused", "event_code": "AUTHORISATION"}, FAILED, R.BANK_DECLINED),
    ("adyen", {"reason": "Not enough balance"}, FAILED, R.INSUFFICIENT_FUNDS),
    ("adyen", {"reason": "not enough balance : 51"}, FAILED, R.INSUFFICIENT_FUNDS),
    ("adyen", {"reason": "Expired Card"}, FAILED, R.CARD_EXPIRED),
    ("adyen", {"reason": "CVC Declined"}, FAILED, R.CARD_DETAILS_INCORRECT),
    ("adyen", {"reason": "Invalid Card Number"}, FAILED, R.CARD_DETAILS_INCORRECT),
    ("adyen", {"reason": "3D Not Authenticated"}, FAILED, R.AUTHENTICATION_FAILED),
    ("adyen", {"reason": "Acquirer Fraud"}, FAILED, R.SUSPECTED_FRAUD),
    ("adyen", {"reason": "Blocked Card"}, FAILED, R.SUSPECTED_FRAUD),
    ("adyen", {"reason": "Issuer Suspected Fraud"}, FAILED, R.SUSPECTED_FRAUD),
    ("adyen", {"reason": "FRAUD"}, FAILED, R.SUSPECTED_FRAUD),
    ("adyen", {"reason": "fraud-cancelled"}, ABANDONED, R.SUSPECTED_FRAUD),
    ("adyen", {"reason": "Withdrawal amount exceeded"}, FAILED, R.LIMIT_EXCEEDED),
    ("adyen", {"reason": "Transaction Not Permitted"}, FAILED, R.ONLINE_PAYMENT_NOT_ENABLED),
    ("adyen", {"reason": "Issuer Unavailable"}, FAILED, R.PROCESSING_ERROR),
    ("adyen", {"reason": "Shopper Cancelled"}, FAILED, R.ABANDONED),
    ("adyen", {"reason": "Cancelled", "event_code": "CANCELLATION"}, ABANDONED, R.ABANDONED),
    ("adyen", {"event_code": "OFFER_CLOSED"}, ABANDONED, R.ABANDONED),
    ("adyen", {"event_code": "offer_closed"}, FAILED, R.ABANDONED),
    ("adyen", {"reason": "Some new reason:99", "event_code": "AUTHORISATION"}, FAILED, R.UNKNOWN),
    ("adyen", {"reason": ":05"}, FAILED, R.UNKNOWN),
    # Lyra: the bank's code first; REST writes one digit where CB has two.
    (
        "lyra",
        {"status": "REFUSED", "result": "05", "auth_result": "51"},
        FAILED,
        R.INSUFFICIENT_FUNDS,
    ),
    ("lyra", {"auth_result": "5", "error_code": "ACQ_001"}, FAILED, R.BANK_DECLINED),
    ("lyra", {"auth_result": "43", "extra_result": "00"}, FAILED, R.SUSPECTED_FRAUD),
    ("lyra", {"auth_result": "54"}, FAILED, R.CARD_EXPIRED),
    ("lyra", {"auth_result": "57"}, FAILED, R.ONLINE_PAYMENT_NOT_ENABLED),
    ("lyra", {"auth_result": "81"}, FAILED, R.AUTHENTICATION_FAILED),
    ("lyra", {"auth_result": "91"}, FAILED, R.PROCESSING_ERROR),
    ("lyra", {"auth_result": "17", "status": "REFUSED"}, FAILED, R.ABANDONED),
    # An unknown bank code is not guessed from the vaguer ones after it.
    ("lyra", {"auth_result": "A9", "result": "05", "error_code": "ACQ_001"}, FAILED, R.UNKNOWN),
    ("lyra", {"auth_result": "102", "status": "REFUSED"}, FAILED, R.UNKNOWN),  # Edenred's
    # The approval is no refusal: what comes next decides.
    ("lyra", {"auth_result": "0", "error_code": "PSP_053"}, FAILED, R.PROCESSING_ERROR),
    (
        "lyra",
        {"auth_result": "00", "result": "05", "extra_result": "05"},
        FAILED,
        R.SUSPECTED_FRAUD,
    ),
    # REST: the acquirer's code travels in detailedErrorCode under ACQ_001, and only there.
    ("lyra", {"error_code": "ACQ_001", "detailed_error_code": "51"}, FAILED, R.INSUFFICIENT_FUNDS),
    (
        "lyra",
        {"error_code": "ACQ_001", "detailed_error_code": "14"},
        FAILED,
        R.CARD_DETAILS_INCORRECT,
    ),
    ("lyra", {"error_code": "ACQ_001", "detailed_error_code": "ZZ"}, FAILED, R.UNKNOWN),
    ("lyra", {"error_code": "ACQ_001"}, FAILED, R.BANK_DECLINED),
    ("lyra", {"error_code": "PSP_042", "detailed_error_code": "51"}, FAILED, R.INSUFFICIENT_FUNDS),
    ("lyra", {"error_code": "PSP_003", "detailed_error_code": "43"}, FAILED, R.BANK_DECLINED),
    ("lyra", {"error_code": "AUTH_149"}, FAILED, R.AUTHENTICATION_FAILED),
    ("lyra", {"error_code": "PSP_108"}, FAILED, R.ABANDONED),
    ("lyra", {"error_code": "INT_015"}, FAILED, R.UNKNOWN),
    # The shop's risk controls are a fraud verdict, unless the form itself was malformed.
    ("lyra", {"result": "05", "extra_result": "03"}, FAILED, R.SUSPECTED_FRAUD),
    ("lyra", {"result": "05", "extra_result": "99"}, FAILED, R.PROCESSING_ERROR),
    ("lyra", {"result": "30", "extra_result": "09"}, FAILED, R.MERCHANT_CONFIGURATION),
    ("lyra", {"result": "05", "extra_result": "00"}, FAILED, R.BANK_DECLINED),
    ("lyra", {"result": "96", "status": "REFUSED"}, FAILED, R.PROCESSING_ERROR),
    # Statuses: the buyer left, or the payment was cancelled.
    ("lyra", {"status": "ABANDONED", "result": "17"}, ABANDONED, R.ABANDONED),
    ("lyra", {"status": "NOT_CREATED"}, ABANDONED, R.ABANDONED),
    ("lyra", {"status": "CANCELLED"}, ABANDONED, R.ABANDONED),
    ("lyra", {"status": "REFUSED"}, FAILED, R.UNKNOWN),
    ("lyra", {"status": "UNPAID"}, FAILED, R.UNKNOWN),
    # Providers vary in case; provider names too.
    ("Stripe", {"decline_code": "Insufficient_Funds"}, FAILED, R.INSUFFICIENT_FUNDS),
    ("ADYEN", {"reason": "NOT ENOUGH BALANCE"}, FAILED, R.INSUFFICIENT_FUNDS),
    # A provider without tables still knows an abandoned checkout.
    ("paypal", {"code": "whatever"}, ABANDONED, R.ABANDONED),
    ("paypal", {"code": "whatever"}, FAILED, R.UNKNOWN),
]


@pytest.mark.parametrize(
    ("provider", "codes", "kind", "expected"),
    [pytest.param(*case, id=f"{case[0]}-{i}") for i, case in enumerate(CASES)],
)
def test_cases(provider, codes, kind, expected):
    assert classify(provider, codes, kind) == expected


def test_there_are_enough_hand_written_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("provider", ["stripe", "adyen", "lyra", "other"])
def test_no_codes_is_unknown_when_failed_and_abandoned_when_abandoned(provider):
    assert classify(provider, {}, FAILED) == R.UNKNOWN
    assert classify(provider, {}, ABANDONED) == R.ABANDONED


def test_none_values_count_as_missing():
    # The adapters promise strings, but a None slipping through must not crash classification.
    codes = {"decline_code": None, "code": "expired_card", "outcome_type": None}
    assert classify("stripe", codes, FAILED) == R.CARD_EXPIRED
    assert classify("adyen", {"reason": None}, FAILED) == R.UNKNOWN


def test_classify_returns_the_enum_member():
    reason = classify("stripe", {"decline_code": "insufficient_funds"}, FAILED)
    assert reason is R.INSUFFICIENT_FUNDS


def test_a_charge_carries_the_decline_code_in_its_outcome_reason():
    codes = {
        "failure_code": "card_declined",
        "outcome_type": "issuer_declined",
        "outcome_reason": "insufficient_funds",
    }
    assert classify("stripe", codes, SignalKind.FAILED) == R.INSUFFICIENT_FUNDS
