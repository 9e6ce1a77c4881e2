"""Building PaymentSignals for domain tests, without any provider's format."""

import itertools
from datetime import UTC, datetime, timedelta

from payments.signals import PaymentSignal, SignalKind

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
_ids = itertools.count(1)


def signal(kind=SignalKind.FAILED, *, minutes=0, **fields) -> PaymentSignal:
    values = {
        "provider": "stripe",
        "kind": kind,
        "event_id": f"evt_{next(_ids)}",
        "event_type": {
            SignalKind.FAILED: "payment_intent.payment_failed",
            SignalKind.ABANDONED: "checkout.session.expired",
            SignalKind.SUCCEEDED: "payment_intent.succeeded",
        }[kind],
        "occurred_at": T0 + timedelta(minutes=minutes),
        "payment_id": "pi_1",
        "order_reference": "ML-1",
        "amount": 8900,
        "currency": "EUR",
        "buyer_email": "camille@example.com",
        "buyer_name": "Camille Martin",
        "codes": {"code": "card_declined", "decline_code": "insufficient_funds"},
    }
    values.update(fields)
    return PaymentSignal(**values)
