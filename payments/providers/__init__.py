"""One module per payment provider: verify and parse its webhooks into PaymentSignals, and the
adapter the webhook edge (inbound.edge) uses for it. Parsing only: no decisions (those are in
payments.services), and no database beyond the edge's routing of a Stripe Connect event."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from inbound.errors import VerificationError

__all__ = ["PaymentSignal", "SignalKind", "VerificationError", "parse_stored"]


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


def parse_stored(provider: str, body: str) -> list[PaymentSignal]:
    """The signals in a stored event's raw body (empty when the event is of no interest)."""
    # The adapters import this package, so they are imported here, when first needed.
    from payments.providers import adyen, stripe

    parsers = {"stripe": stripe.parse, "adyen": adyen.parse}
    signal = parsers[provider](json.loads(body))
    return [signal] if signal is not None else []
