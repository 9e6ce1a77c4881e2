"""The canonical failure reasons of ARCHITECTURE.md: what the buyer or the merchant can do about
a failed payment decides the words we send."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FailureReason(models.TextChoices):
    AUTHENTICATION_FAILED = "authentication_failed", _("3-D Secure not completed")
    CARD_DETAILS_INCORRECT = "card_details_incorrect", _("Card details incorrect")
    CARD_EXPIRED = "card_expired", _("Card expired")
    INSUFFICIENT_FUNDS = "insufficient_funds", _("Insufficient funds")
    LIMIT_EXCEEDED = "limit_exceeded", _("Card limit reached")
    ONLINE_PAYMENT_NOT_ENABLED = "online_payment_not_enabled", _("Online payments not enabled")
    BANK_DECLINED = "bank_declined", _("Declined by the bank")
    PROCESSING_ERROR = "processing_error", _("Temporary processing error")
    ABANDONED = "abandoned", _("Buyer left the payment page")
    SUSPECTED_FRAUD = "suspected_fraud", _("Suspected fraud")
    MERCHANT_CONFIGURATION = "merchant_configuration", _("Shop payment setup")
    UNKNOWN = "unknown", _("Unknown")


# Reasons the merchant hears about and the buyer never does.
MERCHANT_ONLY = frozenset({FailureReason.SUSPECTED_FRAUD, FailureReason.MERCHANT_CONFIGURATION})

# Reasons where suggesting another payment method helps the buyer.
ANOTHER_METHOD_HELPS = frozenset(
    {
        FailureReason.INSUFFICIENT_FUNDS,
        FailureReason.LIMIT_EXCEEDED,
        FailureReason.ONLINE_PAYMENT_NOT_ENABLED,
        FailureReason.BANK_DECLINED,
        FailureReason.CARD_EXPIRED,
    }
)
