"""PayPlug's notifications as PayPlug posts them, and the API's objects as PayPlug answers them: the
one place that makes them, for the "send test event" button, the tests and the benchmarks (a
stand-in of PayPlug's API answers `payment()`'s objects at /v1/payments/<id>).

The shapes are PayPlug's (payplug/payplug-php, tests/unit_tests/Resource/PaymentTest.php and
InstallmentPlanTest.php; API version 2019-08-06: `billing` and `shipping` hold the buyer), with
ids as PayPlug makes them ("pay_" and 22 letters and digits). Ids come from the caller's random
generator when it gives one, so a seeded run is the same every time.

The demo's history uses the payments (demo.checkouts): it stores them as the worker would
have after fetching them, since PayPlug's real API knows none of the demo's payments.
"""

import json
import random
import string
from datetime import UTC, datetime

from inbound.edge import SignedRequest
from payments.providers.payplug import codes
from payments.providers.payplug.webhooks import TEST_ID
from payments.reasons import FailureReason
from storefront_settings.models import Storefront

HEADERS = {"Content-Type": "application/json"}
# Where the samples' objects say PayPlug notified (PayPlug answers with the URL it was given).
NOTIFICATION_URL = "https://aftersale.example/webhooks/payplug/sf_sample/"

# A failure code per reason PayPlug can give (the first of codes.FAILURE_CODES for each): what a
# test, the benchmark or a script fails a payment with to get that reason.
FAILURES: dict[FailureReason, str] = {}
for _code, _reason in codes.FAILURE_CODES.items():
    FAILURES.setdefault(_reason, _code)

# A `failure.message` for each code: PayPlug's own words for "timeout" (from its Sylius plugin's
# stand-in), ours for the others (what each code means, from the sources in codes.py). Nothing
# reads the message; it is there for the objects to look like PayPlug's.
MESSAGES = {
    "processing_error": "Error while processing the card.",
    "card_declined": "The card was declined by the bank.",
    "insufficient_funds": "Insufficient funds.",
    "3ds_declined": "3-D Secure authentication failed.",
    "incorrect_number": "The card number is incorrect.",
    "fraud_suspected": "A potential fraud has been detected.",
    "method_unsupported": "This payment method is not supported.",
    "timeout": "The customer has not tried to pay and left the payment page.",
    "aborted": "The payment has been aborted.",
    "card_stolen": "The card has been reported stolen.",
}


def payplug_id(prefix: str, rng: random.Random | None = None) -> str:
    """An id as PayPlug makes them: "pay_" or "inst_" and 22 letters and digits."""
    rng = rng or random.SystemRandom()
    return prefix + "".join(rng.choices(string.ascii_letters + string.digits, k=22))


# --- Notifications ------------------------------------------------------------------------------


def notification(obj: dict) -> SignedRequest:
    """The request PayPlug makes to a payment's notification_url: the resource as JSON. Nothing
    is signed (the name is the house's: every connection's samples make SignedRequests)."""
    return SignedRequest(json.dumps(obj).encode(), dict(HEADERS))


def payment_notification(payment_id: str) -> SignedRequest:
    """A payment's notification: we read only its `id`, so the rest may say anything."""
    return notification({"id": payment_id, "object": "payment", "is_paid": False})


def refund_notification(
    payment_id: str, refund_id: str = "re_5ktNvd3BNCp6GPcqIZvY9j"
) -> SignedRequest:
    """A refund's notification: it names its payment (`payment_id`)."""
    return notification(
        {"id": refund_id, "object": "refund", "payment_id": payment_id, "amount": 100}
    )


def plan_notification(plan_id: str) -> SignedRequest:
    return notification({"id": plan_id, "object": "installment_plan", "is_active": False})


def test_event(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    """The connections page's test event: a payment notification naming TEST_ID, which the edge
    answers (200, "ignored") and stores nowhere. It proves the URL answers; nothing can be
    fetched for it, so the whole path is tested with a payment made in PayPlug's test mode
    (the connections page says how). `secret` is not used: PayPlug signs nothing."""
    return payment_notification(TEST_ID)


# --- API objects --------------------------------------------------------------------------------


def payment(
    payment_id: str,
    *,
    created_at: int,
    order: str | int | None = "ML-1",
    amount: int = 8900,
    currency: str = "EUR",
    email: str = "camille@example.com",
    first_name: str = "Camille",
    last_name: str = "Martin",
    phone: str | None = "+33612345678",
    failure: str | None = None,
    paid_at: int | None = None,
    oney: str = "",
    pending: bool = False,
    installment_plan_id: str | None = None,
    is_live: bool = False,
) -> dict:
    """GET /v1/payments/<id> as PayPlug answers it: failed with the code `failure`, paid at
    `paid_at`, pending (Oney studying the file) or merely created. `oney`: an Oney method
    ("oney_x3_with_fees"…), else a card payment."""
    buyer = {
        "title": None,
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "mobile_phone_number": phone,
        "landline_phone_number": None,
        "address1": "12 rue des Lilas",
        "address2": None,
        "company_name": None,
        "postcode": "75011",
        "city": "Paris",
        "state": None,
        "country": "FR",
        "language": "fr",
    }
    obj = {
        "id": payment_id,
        "object": "payment",
        "is_live": is_live,
        "amount": amount,
        "amount_refunded": 0,
        "currency": currency,
        "created_at": created_at,
        "installment_plan_id": installment_plan_id,
        "is_paid": paid_at is not None,
        "paid_at": paid_at,
        "is_refunded": False,
        "is_3ds": True,
        "save_card": False,
        "card": {
            "last4": "4242",
            "country": "FR",
            "exp_year": 2030,
            "exp_month": 9,
            "brand": "Visa",
        },
        "billing": buyer,
        "shipping": {**buyer, "delivery_type": "BILLING"},
        "hosted_payment": {
            "payment_url": f"https://www.payplug.com/p/{payment_id[4:]}",
            "return_url": "https://shop.example/payplug/return",
            "cancel_url": "https://shop.example/payplug/cancel",
            "paid_at": paid_at,
            "sent_by": None,
        },
        "notification": {"url": NOTIFICATION_URL, "response_code": 200},
        "failure": {"code": failure, "message": MESSAGES.get(failure, "")} if failure else None,
        "metadata": {"order_id": order} if order is not None else {},
    }
    if oney:
        obj["card"] = {
            "last4": None,
            "country": None,
            "exp_year": None,
            "exp_month": None,
            "brand": None,
        }
        obj["payment_method"] = {"type": oney, "is_pending": pending and not failure}
    return obj


def failed_payment(payment_id: str, reason: FailureReason, *, created_at: int, **fields) -> dict:
    """A payment failed with the code PayPlug gives for `reason` (FAILURES)."""
    return payment(payment_id, created_at=created_at, failure=FAILURES[reason], **fields)


def paid_payment(payment_id: str, *, paid_at: int, **fields) -> dict:
    return payment(
        payment_id, created_at=fields.pop("created_at", paid_at - 60), paid_at=paid_at, **fields
    )


def installment_plan(
    plan_id: str,
    *,
    created_at: int,
    first_payments: list[str],
    later_payments: tuple[str, ...] = (),
    order: str | None = "ML-1",
    failure: str | None = None,
    is_active: bool = False,
) -> dict:
    """GET /v1/installment_plans/<id>: three instalments, the first paid by `first_payments`
    (a declined try and the next one are two payments), the second by `later_payments`."""
    day = 86400
    dates = [
        datetime.fromtimestamp(created_at + n * 30 * day, tz=UTC).date().isoformat()
        for n in range(3)
    ]
    return {
        "id": plan_id,
        "object": "installment_plan",
        "is_live": False,
        "currency": "EUR",
        "created_at": created_at,
        "is_active": is_active,
        "is_fully_paid": False,
        "schedule": [
            {"date": dates[0], "amount": 3000, "payment_ids": list(first_payments)},
            {"date": dates[1], "amount": 3000, "payment_ids": list(later_payments)},
            {"date": dates[2], "amount": 2900, "payment_ids": []},
        ],
        "failure": {"code": failure, "message": MESSAGES.get(failure, "")} if failure else None,
        "billing": {"email": "camille@example.com", "first_name": "Camille", "last_name": "Martin"},
        "hosted_payment": {
            "payment_url": f"https://www.payplug.com/p/{plan_id[5:]}",
            "return_url": "https://shop.example/payplug/return",
            "cancel_url": "https://shop.example/payplug/cancel",
        },
        "notification": {"url": NOTIFICATION_URL, "response_code": 200},
        "metadata": {"order_id": order} if order is not None else {},
    }
