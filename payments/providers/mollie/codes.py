"""Mollie's failure codes, each mapped to a canonical FailureReason, and the order in which they
are read (payments.classification holds what every provider shares).

Mollie sends no code in its webhook: these are read from the payment fetched from the Payments
API (webhooks.fetch), under the keys webhooks.parse fills.

Precedence (codes: failure_reason, bank_reason_code, status):
  1. failure_reason: `details.failureReason` of a card (or Bancontact) payment, the most
     specific code Mollie gives. Present but unmapped: UNKNOWN, never a guess from the status.
  2. bank_reason_code: `details.bankReasonCode` of a failed SEPA Direct Debit payment, the
     debtor's bank's SEPA reason. Present but unmapped: UNKNOWN likewise.
  3. status: canceled and expired -> abandoned.
  4. kind ABANDONED -> abandoned; otherwise UNKNOWN (a failed iDEAL, PayPal… payment: Mollie
     gives no reason for those).

Not read: `statusReason`, which Mollie fills only for point-of-sale payments (a buyer at a
terminal, not one to win back by email; https://docs.mollie.com/reference/get-payment), and
`details.failureMessage`, Mollie's localised sentence for the buyer: our emails say it in their
own words, from the reason.
"""

from collections.abc import Mapping

from payments.classification import fallback, folded, norm
from payments.reasons import FailureReason
from payments.signals import SignalKind

_R = FailureReason

# Source: https://docs.mollie.com/reference/get-payment, credit card `details.failureReason`
# ("Only available for failed payments. Contains a failure reason code", with the list of
# possible values), the same list on https://docs.mollie.com/components/handling-errors and in
# Mollie's OpenAPI description (`payment-details-failure-reason`, as published in
# mollie/mollie-api-typescript, .speakeasy/out.openapi.yaml, June 2026). Every value has a row;
# the tests list them. The test-mode magic amounts (https://docs.mollie.com/overview/testing)
# show which decline each code stands for.
FAILURE_REASONS: dict[str, FailureReason] = {
    # 3-D Secure not completed: the buyer left the bank's page (abandoned), failed it, was
    # asked for it and did not do it (required), or the bank's 3-D Secure server (its ACS) did
    # not answer. The ask is the same for all four: try again and complete the bank's check.
    "authentication_abandoned": _R.AUTHENTICATION_FAILED,
    "authentication_failed": _R.AUTHENTICATION_FAILED,
    "authentication_required": _R.AUTHENTICATION_FAILED,
    "authentication_unavailable_acs": _R.AUTHENTICATION_FAILED,
    "card_declined": _R.BANK_DECLINED,  # a decline with no reason given
    "card_expired": _R.CARD_EXPIRED,
    # Not (yet, or any longer) active: a state of the card that the bank explains and can
    # change, not a fraud flag.
    "inactive_card": _R.BANK_DECLINED,
    "insufficient_funds": _R.INSUFFICIENT_FUNDS,
    "invalid_cvv": _R.CARD_DETAILS_INCORRECT,
    "invalid_card_holder_name": _R.CARD_DETAILS_INCORRECT,
    "invalid_card_number": _R.CARD_DETAILS_INCORRECT,
    # This kind of card cannot pay here (a brand or card type the payment does not take): as
    # Stripe's card_not_supported, another card or method works.
    "invalid_card_type": _R.ONLINE_PAYMENT_NOT_ENABLED,
    "possible_fraud": _R.SUSPECTED_FRAUD,
    "refused_by_issuer": _R.BANK_DECLINED,
    "unknown_reason": _R.UNKNOWN,  # documented, and says nothing
}

# Source: Mollie's help centre, "Why did my SEPA direct debit payment fail?"
# (https://help.mollie.com/hc/en-gb/articles/115000309865), the reason codes a failed direct
# debit carries in `details.bankReasonCode` (https://docs.mollie.com/reference/get-payment,
# SEPA Direct Debit: "Only available if the payment has failed"), with Mollie's meaning and
# follow-up for each. Mollie lists these as "the most common"; the others the European Payments
# Council defines are "in practice almost never sent" and stay raw (UNKNOWN). The buyer's words
# for card reasons name the card, so the account's problems go to the card-free reasons.
BANK_REASON_CODES: dict[str, FailureReason] = {
    # The IBAN is wrong or unknown: the buyer is asked for their account again, or another way
    # to pay (bank_declined's words say neither "card" nor a wrong number).
    "AC01": _R.BANK_DECLINED,
    "AC04": _R.BANK_DECLINED,  # the account is closed: another account or method
    # The account is blocked for direct debits: the bank can lift it, or another method works.
    "AC06": _R.ONLINE_PAYMENT_NOT_ENABLED,
    # The shop's collection was wrong (first vs recurring, a mandate reference used twice):
    # the shop resubmits; the buyer did nothing wrong.
    "AG02": _R.MERCHANT_CONFIGURATION,
    "AM04": _R.INSUFFICIENT_FUNDS,
    # No valid mandate (never a first debit, expired after 36 months, none at all): the shop's
    # mandate handling, which it fixes with a new first debit.
    "MD01": _R.MERCHANT_CONFIGURATION,
    "MD06": _R.BANK_DECLINED,  # the buyer had the debit reversed by their bank
    # The account holder died. Mollie: "Don't carry out any more direct debits". The merchant
    # must know, and no reminder may go to that address: merchant only.
    "MD07": _R.MERCHANT_CONFIGURATION,
    "MS02": _R.BANK_DECLINED,  # the buyer refused the debit in advance
    # "Other reason", often insufficient funds or a refusal in disguise: Mollie's advice is to
    # contact the buyer, which the generic decline words do.
    "MS03": _R.BANK_DECLINED,
    "SL01": _R.BANK_DECLINED,  # refused by the buyer's bank (blocked for debits, a limit)
}

# Source: https://docs.mollie.com/reference/get-payment (`status`) and
# https://docs.mollie.com/payments/status-changes ("canceled: your customer has canceled the
# payment"; "expired: … your customer has abandoned the payment"). `failed` has no row: without
# a failure reason it says nothing the buyer can act on.
STATUSES: dict[str, FailureReason] = {
    "canceled": _R.ABANDONED,
    "expired": _R.ABANDONED,
}

_FAILURE = folded(FAILURE_REASONS)
_BANK = folded(BANK_REASON_CODES)
_STATUS = folded(STATUSES)


def classify(codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
    failure_reason = norm(codes.get("failure_reason"))
    if failure_reason:
        return _FAILURE.get(failure_reason, _R.UNKNOWN)
    bank_reason = norm(codes.get("bank_reason_code"))
    if bank_reason:
        return _BANK.get(bank_reason, _R.UNKNOWN)
    return _STATUS.get(norm(codes.get("status"))) or fallback(kind)
