"""PayPlug's failure codes, each mapped to a canonical FailureReason (payments.classification
holds what every provider shares).

A PayPlug payment that does not go through carries `failure: {"code", "message"}`; a payment
that failed is final (the buyer's next try is a new payment), so one code says it all.
Precedence (codes: failure_code):
  1. failure_code, looked up in FAILURE_CODES; a code the table does not know gives UNKNOWN
     (kept raw on the attempt for ops), never a guess.
  2. No code: kind ABANDONED -> abandoned, otherwise UNKNOWN.

Sources. PayPlug's API reference describes the payment object's `failure.code`
(https://docs.payplug.com/api/apiref.html, "Payment object"), but its list of codes could not be
retrieved for this table. The codes and what they mean come instead from:
  - the same nine codes, in the same order, in two integrations written against that list:
    tiramiseb/awesomeshop (awesomeshop/payment/payplug_awesomeshop/views.py: the first six and
    `aborted`, with the words shown to the buyer) and a shop's checkout script (all nine, with
    French words for the buyer; repository not identified);
  - PayPlug's own modules for `timeout` and `aborted`: the PrestaShop module
    (payplug/payplug-prestashop, src/models/classes/paymentMethod/PaymentMethod.php
    getPaymentStatus) files `aborted` as "cancelled" and `timeout` as "abandoned"; the Sylius
    plugin's stand-in (payplug/SyliusPayPlugPlugin, tests/Behat/Mocker/PayPlugApiMocker.php)
    words `timeout` as "The customer has not tried to pay and left the payment page."; the
    Magento module (payplug/payplug-magento2, Controller/Payment/Cancel.php) aborts the payment
    when the buyer comes back through the cancel link;
  - `card_stolen`, which PayPlug's PHP library uses in its failure test
    (payplug/payplug-php, tests/unit_tests/Resource/PaymentFailureTest.php);
  - PayPlug's help page on refused payments, for `method_unsupported` ("the type of card is not
    accepted on PayPlug (for example: American Express)",
    http://support.payplug.com/customer/en/portal/articles/2545152-why-is-my-payment-refused-by-payplug-).
"""

from collections.abc import Mapping

from payments.classification import fallback, folded, norm
from payments.reasons import FailureReason
from payments.signals import SignalKind

_R = FailureReason

FAILURE_CODES: dict[str, FailureReason] = {
    # "Error while processing the card": on PayPlug's or the bank's side; a retry works.
    "processing_error": _R.PROCESSING_ERROR,
    # "The bank declined the payment", no reason given.
    "card_declined": _R.BANK_DECLINED,
    "insufficient_funds": _R.INSUFFICIENT_FUNDS,
    # 3-D Secure failed or was refused: the buyer is asked to complete the bank's check.
    "3ds_declined": _R.AUTHENTICATION_FAILED,
    "incorrect_number": _R.CARD_DETAILS_INCORRECT,
    # A fraud verdict: the merchant hears of it, the buyer never does.
    "fraud_suspected": _R.SUSPECTED_FRAUD,
    # The card is of a kind the shop's PayPlug account does not take (American Express, say):
    # another card or method works; mapped as Stripe's card_not_supported and Adyen's
    # "Not supported".
    "method_unsupported": _R.ONLINE_PAYMENT_NOT_ENABLED,
    # The buyer left the payment page without trying to pay.
    "timeout": _R.ABANDONED,
    # The payment was aborted: the shop does this when the buyer comes back through the cancel
    # link (PayPlug's modules), or a merchant does it by hand. Either way nobody paid.
    "aborted": _R.ABANDONED,
    # A card reported stolen: merchant-only, as Stripe's stolen_card.
    "card_stolen": _R.SUSPECTED_FRAUD,
}

_FAILURE = folded(FAILURE_CODES)


def abandons(code: str) -> bool:
    """Whether a failure code means the buyer left rather than a payment refused: the signal is
    then ABANDONED, not FAILED."""
    return _FAILURE.get(norm(code)) == _R.ABANDONED


def classify(codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
    code = norm(codes.get("failure_code"))
    if code:
        return _FAILURE.get(code, _R.UNKNOWN)
    return fallback(kind)
