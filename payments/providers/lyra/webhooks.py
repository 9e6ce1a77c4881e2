"""The Lyra gateways' Instant Payment Notifications (IPN): verify either integration's signature,
and turn a notification into a PaymentSignal.

PayZen, Systempay, Sogecommerce and Scellius are one platform (Lyra's) under four names, with
the same two integrations, both of which post a form-encoded IPN to the shop's URL:

- The REST / JavaScript integration posts `kr-answer` (the payment, as a JSON string),
  `kr-hash`, `kr-hash-algorithm` ("sha256_hmac"), `kr-hash-key` and `kr-answer-type`. `kr-hash`
  is the hex HMAC-SHA256 of `kr-answer` keyed by the shop's REST API password when `kr-hash-key`
  is "password" (the server's IPN; "sha256_hmac" names the HMAC-SHA-256 key, which signs the
  browser's return to the shop, not an IPN). Lyra's own SDK replaces "\\/" with "/" in
  `kr-answer` before hashing ("on some servers, / can be escaped"), so both texts are tried;
  the JSON is decoded from the text as posted, as Lyra's sample does
  (lyra/rest-php-examples: www/sample/ipn.php, and Lyra\\Client::checkHash in
  www/vendor/lyracom/rest-php-sdk/src/Lyra/Client.php, whose simulated IPN,
  getIPNSimulatedPOSTData in www/helpers.php, tests/test_provider_lyra.py replays).
- The form integration (hosted payment page, "API form V1, V2") posts `vads_*` fields and
  `signature`: the Base64 HMAC-SHA256, keyed by the shop's test or production key (the
  "certificate"), of the `vads_*` values sorted by field name, joined with "+", then "+" and the
  key (https://docs.lyra.com/en-EN/collect/form-payment/standard-payment/computing-the-ipn-signature.html;
  lyra/php-payment-form-examples: lib/lyra-payment-form-sdk/Api.php `sign()`).

The legacy form signature is accepted too: the hex SHA-1 of that same text (the key appended,
no HMAC). Lyra calls it deprecated "but maintained for compliance reasons", and the choice is
one setting of the shop (Settings > Shop > Keys) that signs its own payment forms as well as
our notifications: a shop still on SHA-1 could not connect without changing its checkout too.
It is still keyed (a forgery needs the key; SHA-1's practical weakness is collisions, which
would need Lyra to sign a notification an attacker chose), a 40-hex-digit signature is only
ever compared with it, and HMAC-SHA256 stays what the guide asks for.

Every active secret of the storefront is tried for either integration, in constant time
(hmac.compare_digest), so a shop can give its REST password and its form key, and rotate them.

Fields read: https://docs.lyra.com/en/collect/form-payment/reference/vads-trans-status.html and
the other vads_ pages linked from codes.py; REST's payment object as Lyra's WooCommerce plugin
reads it (lyra/plugin-woocommerce: woo-payzen-payment/includes/PayzenRestTools.php). The codes
are kept raw; what they mean is codes.py's business.
"""

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from inbound.edge import EdgeEvent
from inbound.errors import VerificationError
from inbound.payloads import as_list, as_mapping, as_text, as_utc_datetime
from payments.providers import PaymentAdapter
from payments.providers.lyra import codes as tables
from payments.reasons import FailureReason
from payments.signals import PaymentSignal, SignalKind
from storefront_settings.models import Storefront

PROVIDER = "lyra"
REST = "rest"
FORM = "form"

# The secrets a shop gives. The REST API password, from Settings > Shop > REST API keys: the
# test one and the production one start so (lyra/rest-php-examples: www/keys.php,
# "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M"). The form's test or production key, from
# Settings > Shop > Keys: numeric or alphanumeric
# (https://docs.lyra.com/en-EN/collect/form-payment/standard-payment/identifying-yourself-when-exchanging-with-the-payment-gateway.html),
# sixteen characters in every example Lyra and its integrators publish ("1111111111111111" in
# lyra/php-payment-form-examples: config/config.php).
REST_PASSWORD = re.compile(r"(?:test|prod)password_[A-Za-z0-9]{8,}")
FORM_KEY = re.compile(r"[A-Za-z0-9]{16}")

REST_HASH_ALGORITHM = "sha256_hmac"
# The operation a notification is about. A refund (CREDIT) or a card registered without a
# payment (VERIFICATION) is no payment attempt; the form sends no type for an abandoned payment.
# (https://docs.lyra.com/en/collect/form-payment/reference/vads-operation-type.html)
PAYMENT_OPERATION = "DEBIT"

# The transaction statuses we act on (vads_trans_status, REST's detailedStatus; PAID and UNPAID
# are REST's orderStatus, read when the payment carries no transaction). Source:
# https://docs.lyra.com/en/collect/form-payment/reference/vads-trans-status.html and the lists
# of Lyra's WooCommerce plugin (Sdk/Form/Api.php: getSuccessStatuses, getCancelledStatuses).
# Not read, so no signal: the statuses of a payment still under way (INITIAL,
# WAITING_AUTHORISATION, WAITING_AUTHORISATION_TO_VALIDATE, UNDER_VERIFICATION,
# WAITING_FOR_PAYMENT, PRE_AUTHORISED, PENDING, SUSPENDED, CAPTURE_PENDING, REST's RUNNING), and
# what happens after the buyer's part (CAPTURE_FAILED, EXPIRED: an authorisation the merchant did
# not validate in time; ACCEPTED, a card verification without payment).
SIGNAL_STATUSES: dict[str, SignalKind] = {
    "AUTHORISED": SignalKind.SUCCEEDED,  # waiting for capture: the bank said yes
    "CAPTURED": SignalKind.SUCCEEDED,
    "PARTIALLY_AUTHORISED": SignalKind.SUCCEEDED,
    # Authorised, and the merchant validates it by hand: the buyer has paid what was asked.
    "AUTHORISED_TO_VALIDATE": SignalKind.SUCCEEDED,
    "PAID": SignalKind.SUCCEEDED,
    "REFUSED": SignalKind.FAILED,
    "UNPAID": SignalKind.FAILED,
    "ABANDONED": SignalKind.ABANDONED,
    "NOT_CREATED": SignalKind.ABANDONED,
    "CANCELLED": SignalKind.ABANDONED,
}

# The currencies Lyra's gateways take, numeric ISO 4217 (vads_currency) to alphabetic, from
# Lyra's own SDK (lyra/plugin-woocommerce: woo-payzen-payment/includes/Lyranetwork/Payzen/Sdk/
# Form/Api.php, getSupportedCurrencies). A code not listed is not guessed: the currency is left
# blank, the amount kept.
CURRENCIES: dict[str, str] = {
    "032": "ARS", "036": "AUD", "986": "BRL", "124": "CAD", "756": "CHF", "156": "CNY",
    "170": "COP", "203": "CZK", "208": "DKK", "978": "EUR", "826": "GBP", "344": "HKD",
    "348": "HUF", "360": "IDR", "356": "INR", "392": "JPY", "116": "KHR", "410": "KRW",
    "414": "KWD", "504": "MAD", "484": "MXN", "458": "MYR", "578": "NOK", "554": "NZD",
    "604": "PEN", "608": "PHP", "985": "PLN", "643": "RUB", "752": "SEK", "702": "SGD",
    "764": "THB", "788": "TND", "949": "TRY", "901": "TWD", "840": "USD", "952": "XOF",
    "953": "XPF", "710": "ZAR",
}  # fmt: skip
NUMERIC_CURRENCIES = {alpha: numeric for numeric, alpha in CURRENCIES.items()}

_MAX_FIELDS = 1000  # a real IPN has about a hundred
_MAX_EVENT_ID = 255  # inbound.InboundEvent.event_id


@dataclass(frozen=True)
class Notification:
    """One IPN, verified at the edge (or re-read by the worker from the stored body)."""

    fields: Mapping[str, str]  # the form's fields as posted, decoded
    # REST: the decoded kr-answer (the payment); None for the form integration.
    answer: Mapping[str, Any] | None = field(default=None)

    @property
    def kind(self) -> str:
        return FORM if self.answer is None else REST


# --- Signing and verification -------------------------------------------------------------------


def verify(payload: bytes, secrets: list[str]) -> Notification:
    """The notification in `payload` (the IPN's form-encoded body), once signed with one of
    `secrets` (REST API passwords, form keys: several while one is replaced).

    Raises VerificationError with a short reason that names neither a secret nor a signature.
    """
    keys = [secret.strip() for secret in secrets if secret and secret.strip()]
    if not keys:
        raise VerificationError("no key configured")
    fields = form_fields(payload)
    if "kr-answer" in fields:
        return _verify_rest(fields, keys)
    if "signature" in fields:
        return _verify_form(fields, keys)
    raise VerificationError("not a Lyra notification: no kr-answer or signature")


def form_fields(payload: bytes) -> dict[str, str]:
    """The fields of a form-encoded body; VerificationError if it is not one, or names a field
    twice (which of the two would the signature be about?)."""
    try:
        text = payload.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=_MAX_FIELDS, errors="strict")
    except UnicodeDecodeError:
        raise VerificationError("body is not UTF-8") from None
    except ValueError:
        raise VerificationError("body is not a form") from None
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise VerificationError("a field is given twice")
        fields[name] = value
    return fields


def rest_hash(answer: str, secret: str) -> str:
    """kr-hash: the hex HMAC-SHA256 of the kr-answer text, keyed by the secret."""
    return hmac.new(secret.encode(), answer.encode("utf-8"), hashlib.sha256).hexdigest()


def _verify_rest(fields: Mapping[str, str], keys: list[str]) -> Notification:
    if fields.get("kr-hash-algorithm") != REST_HASH_ALGORITHM:
        raise VerificationError("unsupported kr-hash-algorithm")
    received = fields.get("kr-hash", "").strip().lower().encode("utf-8")
    if not received:
        raise VerificationError("no kr-hash")
    text = fields["kr-answer"]
    texts = [text]
    if (unescaped := text.replace("\\/", "/")) != text:
        texts.append(unescaped)
    # kr-hash-key says which of the shop's keys Lyra used; every active secret is tried
    # instead, so the one that verifies decides, and a wrong label cannot pick a weaker key.
    if not any(
        hmac.compare_digest(rest_hash(signed, key).encode(), received)
        for key in keys
        for signed in texts
    ):
        raise VerificationError("no matching signature")
    answer = _json_object(text)
    if answer is None:
        raise VerificationError("kr-answer is not a JSON object")
    return Notification(fields=dict(fields), answer=answer)


def signed_text(fields: Mapping[str, str], key: str) -> str:
    """What the form's signature is computed over: the vads_ values, sorted by field name
    (as PHP's ksort sorts these ASCII names), joined with "+", then "+" and the key."""
    values = [fields[name] for name in sorted(fields) if name.startswith("vads_")]
    return "+".join([*values, key])


def form_signature(fields: Mapping[str, str], key: str, *, algorithm: str = "HMAC-SHA-256") -> str:
    """The form's signature as Lyra computes it: "HMAC-SHA-256" (Base64) or the legacy
    "SHA-1" (hex)."""
    text = signed_text(fields, key).encode("utf-8")
    if algorithm == "SHA-1":
        return hashlib.sha1(text).hexdigest()  # noqa: S324 - Lyra's legacy scheme, see above
    digest = hmac.new(key.encode("utf-8"), text, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _verify_form(fields: Mapping[str, str], keys: list[str]) -> Notification:
    received = fields.get("signature", "").strip()
    if not received:
        raise VerificationError("no signature")
    if not any(name.startswith("vads_") for name in fields):
        raise VerificationError("no vads_ fields")
    # Lyra's SHA-1 is 40 hex digits; its HMAC-SHA256 is Base64, which never is.
    legacy = len(received) == 40 and all(c in "0123456789abcdefABCDEF" for c in received)
    algorithm, given = ("SHA-1", received.lower()) if legacy else ("HMAC-SHA-256", received)
    expected = given.encode("utf-8")
    if not any(
        hmac.compare_digest(form_signature(fields, key, algorithm=algorithm).encode(), expected)
        for key in keys
    ):
        raise VerificationError("no matching signature")
    return Notification(fields=dict(fields))


def _json_object(text: str) -> dict | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def read(body: str) -> Notification | None:
    """A stored body as a Notification, without verifying it again (the edge did); None for a
    body that is not one."""
    try:
        fields = form_fields(body.encode("utf-8"))
    except VerificationError:
        return None
    if "kr-answer" in fields:
        answer = _json_object(fields["kr-answer"])
        return Notification(fields=fields, answer=answer) if answer is not None else None
    return Notification(fields=fields) if "signature" in fields else None


# --- Identity -----------------------------------------------------------------------------------


def event_id(notification: Notification) -> str:
    """The notification's identity for de-duplication: "<transaction uuid>:<status>".

    Lyra gives no id to a notification. It retries one it could not deliver unchanged, and
    sends one per state of a transaction: a refused attempt, the next attempt (its own uuid),
    an authorisation later captured or cancelled. So the transaction's uuid (REST's
    transactions[0].uuid, the form's vads_trans_uuid) with its status names one state, however
    often it is sent, and a later state of the same order is another event. Where the source of
    the call differs (vads_url_check_src: the end of the payment, a batch, a resend from the
    Back Office) the fact is the same, so it is not part of the identity. Without a uuid (an
    abandoned form payment creates no transaction), the form's payment request names it (shop,
    vads_trans_date, vads_trans_id: unique per shop and day), REST's by its order id. Empty when
    the notification names none of these.
    """
    status = _status(notification)
    uuid = _uuid(notification)
    if uuid:
        return f"{uuid}:{status}"
    if notification.answer is not None:
        order = _order_id(notification)
        return f"order:{order}:{status}" if order else ""
    request = _form_request(notification.fields)
    return f"trans:{request}:{status}" if request else ""


def event_type(notification: Notification) -> str:
    """What the admin shows: the integration and the status ("rest.REFUSED")."""
    return f"{notification.kind}.{_status(notification) or '-'}"[:100]


def _transaction(answer: Mapping) -> Mapping:
    # Lyra's sample IPN reads transactions[0], the attempt the notification is about.
    transactions = as_list(answer.get("transactions"))
    return as_mapping(transactions[0]) if transactions else {}


def _status(notification: Notification) -> str:
    if notification.answer is None:
        return notification.fields.get("vads_trans_status", "").strip().upper()
    transaction = _transaction(notification.answer)
    status = as_text(transaction.get("detailedStatus")) or as_text(
        notification.answer.get("orderStatus")
    )
    return status.strip().upper()


def _uuid(notification: Notification) -> str:
    if notification.answer is None:
        return notification.fields.get("vads_trans_uuid", "").strip()
    return as_text(_transaction(notification.answer).get("uuid")).strip()


def _order_id(notification: Notification) -> str:
    if notification.answer is None:
        return notification.fields.get("vads_order_id", "").strip()
    return as_text(as_mapping(notification.answer.get("orderDetails")).get("orderId")).strip()


def _form_request(fields: Mapping[str, str]) -> str:
    """The form's payment request: the shop, its vads_trans_date and vads_trans_id."""
    parts = [fields.get(name, "").strip() for name in ("vads_trans_date", "vads_trans_id")]
    if not all(parts):
        return ""
    return ":".join([fields.get("vads_site_id", "").strip(), *parts])


def stored_event_id(identity: str) -> str:
    """The identity as stored: as is, or its digest when longer than the column."""
    if len(identity) <= _MAX_EVENT_ID:
        return identity
    return "sha256:" + hashlib.sha256(identity.encode("utf-8")).hexdigest()


# --- Parsing ------------------------------------------------------------------------------------


def parse(notification: Notification) -> PaymentSignal | None:
    """The signal in a (verified) notification; None for one we do not act on: a refund, a card
    verification, a payment still under way."""
    if notification.answer is None:
        return _parse_form(notification)
    return _parse_rest(notification)


def _parse_rest(notification: Notification) -> PaymentSignal | None:
    answer = notification.answer or {}
    transaction = _transaction(answer)
    operation = as_text(transaction.get("operationType")).strip().upper()
    status = _status(notification)
    kind = SIGNAL_STATUSES.get(status)
    if kind is None or operation not in ("", PAYMENT_OPERATION):
        return None
    uuid = _uuid(notification)
    order = _order_id(notification)
    payment_id = uuid or (f"order:{order}" if order else "")
    occurred_at = as_utc_datetime(answer.get("serverDate")) or as_utc_datetime(
        transaction.get("creationDate")
    )
    if not payment_id or occurred_at is None:
        return None  # Lyra always sends both; without them the payment cannot be placed

    details = as_mapping(answer.get("orderDetails"))
    amount, currency = _amount(transaction.get("amount")), transaction.get("currency")
    if amount is None:
        amount, currency = _amount(details.get("orderTotalAmount")), details.get("orderCurrency")
    customer = as_mapping(answer.get("customer"))
    billing = as_mapping(customer.get("billingDetails"))
    card = as_mapping(as_mapping(transaction.get("transactionDetails")).get("cardDetails"))
    authorization = as_mapping(card.get("authorizationResponse"))
    codes = {"status": status}
    if kind != SignalKind.SUCCEEDED:
        codes |= {
            "auth_result": _code(authorization.get("authorizationResult")),
            "error_code": _code(transaction.get("errorCode")),
            "detailed_error_code": _code(transaction.get("detailedErrorCode")),
        }
    return PaymentSignal(
        provider=PROVIDER,
        kind=kind,
        event_id=stored_event_id(event_id(notification)),
        event_type=event_type(notification),
        occurred_at=occurred_at,
        payment_id=payment_id,
        order_reference=order,
        amount=amount,
        currency=as_text(currency).strip().upper(),
        buyer_email=as_text(customer.get("email")).strip(),
        buyer_name=_name(billing.get("firstName"), billing.get("lastName")),
        buyer_phone=_first(billing.get("cellPhoneNumber"), billing.get("phoneNumber")),
        codes={key: value for key, value in codes.items() if value},
        attempt_id=uuid,
    )


def _parse_form(notification: Notification) -> PaymentSignal | None:
    fields = notification.fields
    operation = fields.get("vads_operation_type", "").strip().upper()
    status = _status(notification)
    kind = SIGNAL_STATUSES.get(status)
    if kind is None or operation not in ("", PAYMENT_OPERATION):
        return None
    uuid = _uuid(notification)
    request = _form_request(fields)
    payment_id = uuid or (f"trans:{request}" if request else "")
    occurred_at = _compact_datetime(fields.get("vads_effective_creation_date")) or (
        _compact_datetime(fields.get("vads_trans_date"))
    )
    if not payment_id or occurred_at is None:
        return None  # vads_trans_date is in every notification; without it, nothing to place

    codes = {"status": status}
    if kind != SignalKind.SUCCEEDED:
        codes |= {
            "result": fields.get("vads_result", "").strip(),
            "auth_result": fields.get("vads_auth_result", "").strip(),
            "extra_result": fields.get("vads_extra_result", "").strip(),
        }
    amount = fields.get("vads_amount", "").strip()
    return PaymentSignal(
        provider=PROVIDER,
        kind=kind,
        event_id=stored_event_id(event_id(notification)),
        event_type=event_type(notification),
        occurred_at=occurred_at,
        payment_id=payment_id,
        # The payment request an attempt belongs to: the buyer's attempts on one payment page
        # (each its own uuid) are one Payment.
        related_ids=(f"trans:{request}",) if uuid and request else (),
        order_reference=_order_id(notification),
        amount=int(amount) if amount.isascii() and amount.isdigit() else None,
        currency=CURRENCIES.get(fields.get("vads_currency", "").strip(), ""),
        buyer_email=fields.get("vads_cust_email", "").strip(),
        buyer_name=(
            _name(fields.get("vads_cust_first_name"), fields.get("vads_cust_last_name"))
            or fields.get("vads_cust_name", "").strip()
        ),
        buyer_phone=_first(fields.get("vads_cust_cell_phone"), fields.get("vads_cust_phone")),
        codes={key: value for key, value in codes.items() if value},
        attempt_id=uuid,
    )


# --- Small readers ------------------------------------------------------------------------------


def _amount(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _code(value: Any) -> str:
    """A code as text: REST writes them as strings, but may give a number or null."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return as_text(value).strip()


def _name(first: Any, last: Any) -> str:
    return " ".join(part for part in (as_text(first).strip(), as_text(last).strip()) if part)


def _first(*values: Any) -> str:
    for value in values:
        if text := as_text(value).strip():
            return text
    return ""


def _compact_datetime(value: str | None) -> datetime | None:
    """The form's dates: YYYYMMDDHHMMSS, in UTC (Lyra's words: "in UTC format (GMT+0, 24H)")."""
    text = (value or "").strip()
    if len(text) != 14 or not text.isdigit():
        return None
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


# --- The webhook edge ---------------------------------------------------------------------------


class Adapter(PaymentAdapter):
    """POST /webhooks/lyra/<public id>/: one IPN a request, REST or form, form-encoded either
    way. Lyra counts any 200 as delivered (its sample answers a line of text) and retries
    anything else, so the default JSON answer does."""

    kept_headers = ("Content-Type", "User-Agent")

    def verify(self, body: bytes, headers: Mapping[str, str], secrets: list[str]) -> Notification:
        return verify(body, secrets)

    def events(self, storefront: Storefront, body: bytes, payload: Notification) -> list[EdgeEvent]:
        identity = event_id(payload)
        if not identity:
            raise VerificationError("notification names no transaction")
        return [
            EdgeEvent(
                storefront=storefront,
                event_id=stored_event_id(identity),
                event_type=event_type(payload),
                body=body.decode("utf-8"),  # verify() refused anything that is not UTF-8
            )
        ]

    def signals(self, body: str) -> list[PaymentSignal]:
        # The stored body is the IPN as posted (form-encoded), not JSON.
        notification = read(body)
        signal = parse(notification) if notification is not None else None
        return [signal] if signal is not None else []

    def parse(self, event: Any) -> PaymentSignal | None:
        return parse(event) if isinstance(event, Notification) else None

    def classify(self, codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
        return tables.classify(codes, kind)
