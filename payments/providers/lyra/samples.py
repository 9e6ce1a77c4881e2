"""Lyra IPNs as the gateways post them, signed as they sign them (webhooks.rest_hash and
webhooks.form_signature): the one place that makes them, for the "send test event" button and
the tests.

REST notifications carry the payment object of Lyra's own simulated IPN
(lyra/rest-php-examples: www/helpers.php, getIPNSimulatedPOSTData), with the fields a refusal,
an abandonment or a success fills; form notifications carry the vads_ fields the form
integration documents for its IPN (https://docs.lyra.com/en/collect/form-payment/reference/,
one page per field). Both are posted form-encoded, as Lyra posts them.
"""

import json
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from inbound.edge import SignedRequest
from payments.providers.lyra.webhooks import (
    FORM_KEY,
    NUMERIC_CURRENCIES,
    REST_HASH_ALGORITHM,
    form_signature,
    rest_hash,
)
from storefront_settings.models import Storefront

HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
SHOP_ID = "69876357"  # the demo shop of Lyra's REST examples
SITE_ID = "12345678"  # the shop id of Lyra's form examples


@dataclass(frozen=True)
class Order:
    reference: str
    amount: int  # minor units
    currency: str = "EUR"
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""


def new_uuid(rng: random.Random | None = None) -> str:
    """A transaction uuid as Lyra writes them: 32 hex digits, drawn from `rng` when one is given
    (a seeded run, the demo's, is the same every time)."""
    if rng is None:
        return secrets.token_hex(16)
    return f"{rng.getrandbits(128):032x}"


# --- Requests -----------------------------------------------------------------------------------


def rest_request(
    answer: dict, secret: str, *, hash_key: str = "password", escape_slashes: bool = False
) -> SignedRequest:
    """The IPN of the REST integration for this payment object, kr-hash made with `secret` (the
    REST API password, as `kr-hash-key` "password" says). With `escape_slashes`, the posted
    kr-answer has "\\/" where the signed one has "/", as some servers deliver it."""
    text = json.dumps(answer, separators=(",", ":"), ensure_ascii=False)
    posted = text.replace("/", "\\/") if escape_slashes else text
    fields = {
        "kr-hash": rest_hash(text, secret),
        "kr-hash-algorithm": REST_HASH_ALGORITHM,
        "kr-hash-key": hash_key,
        "kr-answer-type": "V4/Payment",
        "kr-answer": posted,
    }
    return SignedRequest(urlencode(fields).encode(), dict(HEADERS))


def form_request(
    fields: dict[str, str], secret: str, *, algorithm: str = "HMAC-SHA-256"
) -> SignedRequest:
    """The IPN of the form integration with these vads_ fields, signed with `secret` (the test
    or production key) by `algorithm` ("HMAC-SHA-256", or the legacy "SHA-1")."""
    signed = {**fields, "signature": form_signature(fields, secret, algorithm=algorithm)}
    return SignedRequest(urlencode(signed).encode(), dict(HEADERS))


# --- REST payment objects -----------------------------------------------------------------------

# The order's status and cycle that go with a transaction's detailed status.
_ORDER_STATUS = {
    "AUTHORISED": "PAID",
    "CAPTURED": "PAID",
    "ACCEPTED": "PAID",
    "REFUSED": "UNPAID",
    "ABANDONED": "ABANDONED",
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def rest_payment(
    order: Order,
    *,
    uuid: str,
    status: str,
    at: datetime,
    auth_result: str | None = None,
    error_code: str | None = None,
    detailed_error_code: str | None = None,
    operation: str = "DEBIT",
    mode: str = "TEST",
) -> dict:
    """The payment object (kr-answer) of one transaction in `status` (a detailedStatus)."""
    order_status = _ORDER_STATUS.get(status, "RUNNING")
    return {
        "shopId": SHOP_ID,
        "orderCycle": "OPEN" if order_status == "RUNNING" else "CLOSED",
        "orderStatus": order_status,
        "serverDate": _iso(at),
        "orderDetails": {
            "orderTotalAmount": order.amount,
            "orderCurrency": order.currency,
            "mode": mode,
            "orderId": order.reference,
            "_type": "V4/OrderDetails",
        },
        "customer": {
            "billingDetails": {
                "firstName": order.first_name or None,
                "lastName": order.last_name or None,
                "phoneNumber": order.phone or None,
                "cellPhoneNumber": None,
                "language": "FR",
                "_type": "V4/Customer/BillingDetails",
            },
            "email": order.email or None,
            "reference": None,
            "_type": "V4/Customer/Customer",
        },
        "transactions": [
            {
                "shopId": SHOP_ID,
                "uuid": uuid,
                "amount": order.amount,
                "currency": order.currency,
                "paymentMethodType": "CARD",
                "status": order_status,
                "detailedStatus": status,
                "operationType": operation,
                "creationDate": _iso(at - timedelta(seconds=2)),
                "errorCode": error_code,
                "errorMessage": "payment refused" if error_code == "ACQ_001" else None,
                "detailedErrorCode": detailed_error_code,
                "detailedErrorMessage": None,
                "metadata": None,
                "transactionDetails": {
                    "cardDetails": {
                        "effectiveBrand": "CB",
                        "pan": "497010XXXXXX0055",
                        "authorizationResponse": {
                            "amount": order.amount if auth_result is not None else None,
                            "currency": order.currency if auth_result is not None else None,
                            "authorizationResult": auth_result,
                            "_type": "V4/PaymentMethod/Details/Cards/CardAuthorizationResponse",
                        },
                        "_type": "V4/PaymentMethod/Details/CardDetails",
                    },
                    "_type": "V4/TransactionDetails",
                },
                "_type": "V4/PaymentTransaction",
            }
        ],
        "_type": "V4/Payment",
    }


def refused_rest(
    order: Order, *, uuid: str, at: datetime, code: str = "51", mode: str = "TEST"
) -> dict:
    """A card refused by the bank with CB code `code`: errorCode ACQ_001, the bank's code in
    detailedErrorCode and in the authorization result (errors_acq.html)."""
    return rest_payment(
        order,
        uuid=uuid,
        status="REFUSED",
        at=at,
        auth_result=code,
        error_code="ACQ_001",
        detailed_error_code=code,
        mode=mode,
    )


def abandoned_rest(order: Order, *, uuid: str, at: datetime, mode: str = "TEST") -> dict:
    return rest_payment(order, uuid=uuid, status="ABANDONED", at=at, mode=mode)


def paid_rest(order: Order, *, uuid: str, at: datetime, mode: str = "TEST") -> dict:
    return rest_payment(order, uuid=uuid, status="AUTHORISED", at=at, auth_result="0", mode=mode)


# --- Form notifications -------------------------------------------------------------------------


def _compact(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def form_payment(
    order: Order,
    *,
    status: str,
    at: datetime,
    trans_id: str,
    uuid: str = "",
    result: str = "00",
    auth_result: str = "",
    extra_result: str = "",
    operation: str = "DEBIT",
    mode: str = "TEST",
) -> dict[str, str]:
    """The vads_ fields of a form IPN about one transaction in `status` (vads_trans_status),
    whose payment form was made a minute before `at`. Without `uuid` no transaction was created
    (an abandoned payment): the transaction's own fields are left out."""
    fields = {
        "vads_action_mode": "INTERACTIVE",
        "vads_amount": str(order.amount),
        "vads_ctx_mode": mode,
        "vads_currency": NUMERIC_CURRENCIES.get(order.currency, "978"),
        "vads_cust_email": order.email,
        "vads_cust_first_name": order.first_name,
        "vads_cust_last_name": order.last_name,
        "vads_cust_phone": order.phone,
        "vads_extra_result": extra_result,
        "vads_language": "fr",
        "vads_order_id": order.reference,
        "vads_page_action": "PAYMENT",
        "vads_payment_config": "SINGLE",
        "vads_result": result,
        "vads_site_id": SITE_ID,
        "vads_trans_date": _compact(at - timedelta(minutes=1)),
        "vads_trans_id": trans_id,
        "vads_trans_status": status,
        "vads_url_check_src": "PAY",
        "vads_version": "V2",
    }
    if uuid:
        fields |= {
            "vads_auth_mode": "FULL",
            "vads_auth_result": auth_result,
            "vads_capture_delay": "0",
            "vads_card_brand": "CB",
            "vads_card_number": "497010XXXXXX0055",
            "vads_effective_amount": str(order.amount),
            "vads_effective_creation_date": _compact(at),
            "vads_operation_type": operation,
            "vads_trans_uuid": uuid,
            "vads_validation_mode": "0",
            "vads_warranty_result": "YES" if status == "AUTHORISED" else "",
        }
    return fields


def refused_form(
    order: Order, *, uuid: str, trans_id: str, at: datetime, code: str = "51"
) -> dict[str, str]:
    """A card refused by the bank: vads_result 05, the bank's CB code in vads_auth_result."""
    return form_payment(
        order, status="REFUSED", at=at, trans_id=trans_id, uuid=uuid, result="05", auth_result=code
    )


def abandoned_form(order: Order, *, trans_id: str, at: datetime) -> dict[str, str]:
    """The buyer left the payment page ("Cancel and return to shop", or the session expired):
    no transaction was created, so no uuid and no operation type (vads-operation-type.html)."""
    return form_payment(order, status="ABANDONED", at=at, trans_id=trans_id, result="17")


def paid_form(order: Order, *, uuid: str, trans_id: str, at: datetime) -> dict[str, str]:
    return form_payment(
        order, status="AUTHORISED", at=at, trans_id=trans_id, uuid=uuid, auth_result="00"
    )


# --- The connections page's test event ----------------------------------------------------------


def test_event(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    """The connections page's test event: a card registered without payment (operation type
    VERIFICATION, status ACCEPTED, amount 0: what Lyra notifies when a shop saves a card, a
    real notification), order id `aftersale-test-…`, in the integration `secret` belongs to (a
    form key signs a form IPN, a REST password a REST one), so the secret is checked with its
    own scheme. Stored like every verified notification; webhooks.parse reads payments (DEBIT)
    only, so the worker marks it ignored: it changes no payment and emails nobody."""
    at = datetime.fromtimestamp(now, tz=UTC)
    order = Order(f"aftersale-test-{secrets.token_hex(8)}", 0, storefront.currency or "EUR")
    if FORM_KEY.fullmatch(secret.strip()):
        fields = form_payment(
            order,
            status="ACCEPTED",
            at=at,
            trans_id=f"{secrets.randbelow(900000):06d}",
            uuid=new_uuid(),
            auth_result="00",
            operation="VERIFICATION",
        )
        fields["vads_page_action"] = "REGISTER"
        return form_request(fields, secret.strip())
    answer = rest_payment(
        order, uuid=new_uuid(), status="ACCEPTED", at=at, auth_result="0", operation="VERIFICATION"
    )
    return rest_request(answer, secret.strip())
