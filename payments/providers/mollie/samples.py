"""Mollie's notifications as Mollie posts them, and its payments and customers as its API answers
for them: the one place that makes them, for the "send test event" button, the tests and the
benchmarks (which answer the worker's fetch with these objects from a stand-in of the API).

A notification is the form field `id=tr_…` and nothing else
(https://docs.mollie.com/reference/webhooks: the example request, with its
`User-Agent: Mollie HTTP client/1.0`). The objects follow the documented shapes of the payment
(https://docs.mollie.com/reference/get-payment: the fields a one-off payment has, `details` of a
card or a SEPA Direct Debit payment, the date of each status) and of the customer
(https://docs.mollie.com/reference/get-customer). `details.failureMessage`, Mollie's localised
sentence, is left out: nothing reads it.

The demo's history uses the payments (demo.checkouts): it stores them as the worker would have
after fetching them, since Mollie's real API knows none of the demo's payments (see README.md).
"""

import random
import secrets
import string
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from inbound.edge import SignedRequest
from payments.providers.mollie.webhooks import STATUS_DATES, TEST_PAYMENT_ID
from payments.reasons import FailureReason
from storefront_settings.models import Storefront

HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "User-Agent": "Mollie HTTP client/1.0",
}
PROFILE_ID = "pfl_QkEhN94Ba"  # Mollie's own example profile
SHOP = "https://shop.example"


def notification(payment_id: str) -> SignedRequest:
    """The request Mollie makes to a payment's webhook URL. Nothing is signed: the receiver
    fetches the payment to learn anything about it."""
    return SignedRequest(urlencode({"id": payment_id}).encode(), dict(HEADERS))


def test_event(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    """The connections page's test event: a notification naming `tr_aftersaletest`, which the
    edge answers 200 (once it finds a key, as for any notification) and stores nowhere, so it
    proves the URL and the key's presence, changes nothing and emails nobody. `secret` (the API
    key) is not used: Mollie signs nothing, and the key never leaves our servers but to Mollie."""
    return notification(TEST_PAYMENT_ID)


def payment_id(rng: random.Random | None = None) -> str:
    """A payment id of today's shape: "tr_" and 22 letters and digits (tr_5B8cwPMGnU6qLbRvo7qEZo
    in Mollie's examples), drawn from `rng` when one is given (a seeded run is the same)."""
    alphabet = string.ascii_letters + string.digits
    draw = rng.choice if rng is not None else secrets.choice
    return "tr_" + "".join(draw(alphabet) for _ in range(22))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def payment(
    payment_id: str,
    status: str,
    *,
    at: datetime,
    amount: str = "89.00",
    currency: str = "EUR",
    order_id: str | int | None = "ML-1",
    email: str | None = "camille@example.com",
    email_in: str = "billingAddress",  # "billingAddress", "metadata" or "customer" (not here)
    name: tuple[str, str] = ("Camille", "Martin"),
    method: str | None = "creditcard",
    failure_reason: str | None = None,
    bank_reason_code: str | None = None,
    customer_id: str | None = None,
    mode: str = "test",
) -> dict:
    """A payment as `GET /v2/payments/<id>` answers for it, in `status` since `at` (it was made
    a minute before). The buyer's email is in the billing address, the shop's metadata, or
    (email_in="customer") only on the customer `customer_id` names."""
    created = at - timedelta(minutes=1)
    metadata: dict = {}
    if order_id is not None:
        metadata["order_id"] = order_id
    if email and email_in == "metadata":
        metadata["email"] = email
    obj: dict = {
        "resource": "payment",
        "id": payment_id,
        "mode": mode,
        "createdAt": _iso(created),
        "amount": {"value": amount, "currency": currency},
        "description": f"Order {order_id}" if order_id is not None else "Payment",
        "method": method,
        "metadata": metadata or None,
        "status": status,
        "isCancelable": False,
        "locale": "fr_FR",
        "profileId": PROFILE_ID,
        "sequenceType": "oneoff",
        "redirectUrl": f"{SHOP}/order/{order_id}/",
        "webhookUrl": f"{SHOP}/payments/webhook/",
        "_links": {
            "self": {
                "href": f"https://api.mollie.com/v2/payments/{payment_id}",
                "type": "application/hal+json",
            },
            "dashboard": {
                "href": f"https://www.mollie.com/dashboard/org_12345678/payments/{payment_id}",
                "type": "text/html",
            },
            "documentation": {
                "href": "https://docs.mollie.com/reference/get-payment",
                "type": "text/html",
            },
        },
    }
    if status in STATUS_DATES:
        obj[STATUS_DATES[status]] = _iso(at)
    if status == "open":
        obj["expiresAt"] = _iso(created + timedelta(minutes=30))
        obj["_links"]["checkout"] = {
            "href": f"https://www.mollie.com/checkout/select-method/{payment_id[3:]}",
            "type": "text/html",
        }
    given, family = name
    billing = {"givenName": given, "familyName": family, "country": "FR"} if given else {}
    if email and email_in == "billingAddress":
        billing["email"] = email
    if billing:
        obj["billingAddress"] = billing
    if customer_id:
        obj["customerId"] = customer_id
        obj["_links"]["customer"] = {
            "href": f"https://api.mollie.com/v2/customers/{customer_id}",
            "type": "application/hal+json",
        }
    if method == "creditcard":
        obj["details"] = {"cardLabel": "Visa", "cardCountryCode": "FR", "cardSecurity": "normal"}
        if failure_reason:
            obj["details"]["failureReason"] = failure_reason
        if status == "paid":
            obj["details"].update(
                cardHolder=f"{given} {family}".strip(), cardNumber="6787", feeRegion="intra-eu"
            )
    elif method == "directdebit":
        obj["details"] = {
            "transferReference": "SD11-2222-3333-4444",
            "creditorIdentifier": "NL08ZZZ502057730000",
            "consumerName": f"{given} {family}".strip(),
            "consumerAccount": "FR7630006000011234567890189",
            "consumerBic": "AGRIFRPP",
            "dueDate": (created + timedelta(days=2)).date().isoformat(),
        }
        if bank_reason_code:
            obj["details"]["bankReasonCode"] = bank_reason_code
            obj["details"]["bankReason"] = "Refused by the debtor's bank"
    return obj


def failed(payment_id: str, failure_reason: str | None = "insufficient_funds", **fields) -> dict:
    """A card payment that failed with `failure_reason` (details.failureReason)."""
    return payment(payment_id, "failed", failure_reason=failure_reason, **fields)


def paid(payment_id: str, **fields) -> dict:
    return payment(payment_id, "paid", **fields)


def customer(customer_id: str, *, email: str, name: str = "Camille Martin") -> dict:
    """A customer as `GET /v2/customers/<id>` answers for it."""
    return {
        "resource": "customer",
        "id": customer_id,
        "mode": "test",
        "name": name,
        "email": email,
        "locale": "fr_FR",
        "metadata": None,
        "createdAt": "2026-11-01T09:00:00+00:00",
        "_links": {
            "self": {
                "href": f"https://api.mollie.com/v2/customers/{customer_id}",
                "type": "application/hal+json",
            },
            "dashboard": {
                "href": f"https://www.mollie.com/dashboard/org_12345678/customers/{customer_id}",
                "type": "text/html",
            },
            "documentation": {
                "href": "https://docs.mollie.com/reference/get-customer",
                "type": "text/html",
            },
        },
    }


# --- Why a payment fails: Mollie's own codes for each canonical reason --------------------------

# For each reason Mollie can report, the payment that reports it: a card payment's
# details.failureReason (the codes behind Mollie's test-mode magic amounts,
# https://docs.mollie.com/overview/testing), a SEPA Direct Debit's details.bankReasonCode, or
# the status alone. Mollie has no code for a card limit or a temporary processing error.
FAILURES: dict[str, dict] = {
    FailureReason.AUTHENTICATION_FAILED: {
        "status": "failed",
        "failure_reason": "authentication_failed",
    },
    FailureReason.CARD_DETAILS_INCORRECT: {"status": "failed", "failure_reason": "invalid_cvv"},
    FailureReason.CARD_EXPIRED: {"status": "failed", "failure_reason": "card_expired"},
    FailureReason.INSUFFICIENT_FUNDS: {"status": "failed", "failure_reason": "insufficient_funds"},
    FailureReason.ONLINE_PAYMENT_NOT_ENABLED: {
        "status": "failed",
        "failure_reason": "invalid_card_type",
    },
    FailureReason.BANK_DECLINED: {"status": "failed", "failure_reason": "refused_by_issuer"},
    FailureReason.ABANDONED: {"status": "expired"},
    FailureReason.SUSPECTED_FRAUD: {"status": "failed", "failure_reason": "possible_fraud"},
    FailureReason.MERCHANT_CONFIGURATION: {
        "status": "failed",
        "method": "directdebit",
        "bank_reason_code": "AG02",
    },
    FailureReason.UNKNOWN: {"status": "failed", "failure_reason": "unknown_reason"},
}


def failure(payment_id: str, reason: str, *, at: datetime, **fields) -> dict:
    """The payment Mollie shows for a failure of canonical `reason` (FAILURES)."""
    codes = dict(FAILURES[reason])
    return payment(payment_id, codes.pop("status"), at=at, **{**codes, **fields})
