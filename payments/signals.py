"""What a payment provider's event says, in our terms: the adapters (payments.providers.<provider>)
make PaymentSignals, the services (payments.services.ingest) apply them."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from babel.numbers import get_currency_precision


class SignalKind(StrEnum):
    FAILED = "failed"  # a payment attempt failed (declined, 3-D Secure failed, error…)
    ABANDONED = "abandoned"  # the buyer left: checkout expired, payment cancelled
    SUCCEEDED = "succeeded"  # the money came in


@dataclass(frozen=True)
class PaymentSignal:
    """What one provider event says about a payment, in our terms."""

    provider: str
    kind: SignalKind
    event_id: str
    event_type: str
    occurred_at: datetime
    # The provider's payment object (payment intent, checkout session, PSP reference…) and,
    # where the event names them, the related objects that identify the same payment.
    payment_id: str
    related_ids: tuple[str, ...] = ()
    order_reference: str = ""
    amount: int | None = None  # minor units
    currency: str = ""  # ISO 4217, upper case
    buyer_email: str = ""
    buyer_name: str = ""
    buyer_phone: str = ""
    # The provider's own codes, kept as they came, for classification and for ops.
    codes: dict[str, str] = field(default_factory=dict)
    recovery_url: str = ""
    connected_account: str = ""  # Stripe Connect: the connected account the event is for
    # The attempt as the provider identifies it (e.g. a charge id), so that two events about
    # one attempt count once; empty means "this event is its own attempt".
    attempt_id: str = ""


def minor_units(value: str, currency: str) -> Decimal | None:
    """A provider's decimal amount in major units ("10.00") as a number of the currency's minor
    units (PaymentSignal.amount's unit), by its ISO 4217 exponent as babel knows it, the one
    payments.services.display shows amounts with: cents for EUR, none for JPY, three for KWD.
    Not rounded: whether "10.005" EUR is an amount is the provider's call. None for a value
    that is not a finite number."""
    try:
        major = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not major.is_finite():
        return None
    return major.scaleb(get_currency_precision(currency))
