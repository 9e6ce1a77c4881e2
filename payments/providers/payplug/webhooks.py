"""PayPlug notifications (IPN): the body names a payment, the worker fetches it from PayPlug's API
with the storefront's secret key, and only that answer is read.

PayPlug POSTs JSON to the `notification_url` given when the payment was created, whenever a
payment is made or refunded (https://support.payplug.com/hc/en-gb/articles/360022399591). The body
is the resource, with an `object` field: "payment", "refund" (carrying its `payment_id`) or
"installment_plan" (the objects PayPlug's libraries accept: payplug/payplug-python,
payplug/notifications.py and payplug/resources.py `APIResource.factory`). Nothing in it is signed:
PayPlug's own libraries read only the object's id and fetch the object again with the secret key
(`payplug.notifications.treat`, `Payment.get_consistent_resource`), and so do we
(inbound.notified: the edge stores the notification, the worker fetches and stores what it
fetched, one event per payment and state).

What a notification makes us fetch (notified_id, fetch):
  - "payment" -> GET /v1/payments/<id>;
  - "refund" -> the payment it names (`payment_id`). Refunds are not our business, but the
    refunded payment was paid: its state is "paid", the same event as its payment notification
    (stored once), or the success itself if that notification was lost. A refund changes nothing
    else here;
  - "installment_plan" -> GET /v1/installment_plans/<id>, then the payment of its first
    instalment (the newest in `schedule[0].payment_ids`), which is the checkout the buyer went
    through on the payment page. The plan's later instalments are debited by PayPlug from an
    order already placed: they are not a lost checkout, and are not read (a payment whose
    `installment_plan_id` names a plan it is not the first instalment of is set aside). A plan
    with no payment yet is read as itself (its `failure`, if any). PayPlug's PrestaShop module
    likewise acts on the plan's payments and only acknowledges the plan's own notifications
    (payplug/payplug-prestashop, classes/PayPlugNotifications.php processInstallment).
Oney payments (`payment_method.type` oney_x3_with_fees, oney_x4_without_fees…) are payments like
any other; while Oney studies the file the payment is `payment_method.is_pending` (no failure, not
paid: "pending", nothing to act on), and its end comes as a notification of its own.

Calls: `Authorization: Bearer sk_live_…|sk_test_…`, `PayPlug-Version: 2019-08-06`, the base URL
from settings.PAYPLUG_API_BASE (https://docs.payplug.com/api/apiref.html, Authentication and
Version), through inbound.remote (timeout, retries on 5xx and 429), only in the worker.

The payment's fields (payplug/payplug-php, tests/unit_tests/Resource/PaymentTest.php and
InstallmentPlanTest.php): `id`, `is_paid`, `paid_at` / `hosted_payment.paid_at`,
`authorization.authorized_at` (a deferred capture), `failure{code, message}` (null when nothing
failed), `amount` (cents), `currency`, `billing` / `shipping` (API version 2019-08-06; `customer`
before it) with `email`, `first_name`, `last_name`, `metadata`, `installment_plan_id`,
`created_at`; a plan has `schedule[]{date, amount, payment_ids}`, `is_active`, `is_fully_paid`.
The rule of PayPlug's WooCommerce module (payplug/payplug-woocommerce,
src/Gateway/PayplugResponse.php): a failure means failed; no failure and `is_pending` means
pending; is_paid means paid.
"""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from inbound import remote
from inbound.errors import VerificationError, json_object
from inbound.payloads import as_list, as_mapping, as_text
from payments.classification import norm
from payments.providers import NotifiedPaymentAdapter
from payments.providers.payplug import codes as tables
from payments.reasons import FailureReason
from payments.signals import PaymentSignal, SignalKind

PROVIDER = "payplug"
SERVICE = "PayPlug"  # in errors and logs
API_VERSION = "2019-08-06"

# The payment the connections page's test event names: answered 200 and stored nowhere (nothing
# can be fetched for it; PayPlug's own ids are 22 letters and digits after "pay_").
TEST_ID = "pay_AftersaleTestEvent"

# PayPlug's ids: a prefix and letters and digits ("pay_5iHMDxy4ABR4YBVW4UscIn",
# "inst_13TPOO67A5prqs9zZXW3qW"). Checked at the edge, and before any id from an answer goes
# into a URL.
_ID = re.compile(r"(?:pay|inst)_[A-Za-z0-9]{1,64}")
# The notification's `object`: the field naming what to fetch, and that id's prefix.
NOTIFIED = {
    "payment": ("id", "pay_"),
    "refund": ("payment_id", "pay_"),
    "installment_plan": ("id", "inst_"),
}

# The states of a fetched payment that say how the checkout ended.
PAID, AUTHORIZED, PENDING, FAILED = "paid", "authorized", "pending", "failed"


# --- The edge: what the notification names -----------------------------------------------------


def notified_id(body: bytes) -> str:
    """The payment (or installment plan) the notification asks us to fetch; VerificationError
    (400) for a body that names none in PayPlug's id format."""
    notification = json_object(body)
    kind = notification.get("object")
    if not isinstance(kind, str) or kind not in NOTIFIED:
        raise VerificationError("not a PayPlug payment, refund or installment plan notification")
    field, prefix = NOTIFIED[kind]
    object_id = notification.get(field)
    if (
        not isinstance(object_id, str)
        or not object_id.startswith(prefix)
        or not valid_id(object_id)
    ):
        raise VerificationError(f"the {kind} notification has no valid {field}")
    return object_id


def valid_id(value: str) -> bool:
    return _ID.fullmatch(value) is not None


# --- The worker: fetch, and the state fetched ---------------------------------------------------


def api_get(path: str, key: str) -> Any:
    """GET `path` of PayPlug's API with `key` (inbound.remote's errors: Unavailable, Refused,
    NotFound). The base URL is read now, so a test or a staging setup points it elsewhere."""
    url = settings.PAYPLUG_API_BASE.rstrip("/") + path
    headers = {
        "Authorization": f"Bearer {key}",
        "PayPlug-Version": API_VERSION,
        "Accept": "application/json",
    }
    return remote.call(SERVICE, "GET", url, headers=headers)


def _get(resource: str, object_id: str, key: str) -> dict:
    """The object `object_id` of `resource` ("payments", "installment_plans"), as PayPlug
    answers it; a ValueError (permanent) for an answer about another object."""
    if not valid_id(object_id):
        raise ValueError(f"{SERVICE} named a malformed id in {resource}")
    answer = api_get(f"/v1/{resource}/{object_id}", key)
    if not isinstance(answer, dict) or answer.get("id") != object_id:
        raise ValueError(f"{SERVICE} GET /v1/{resource}/{object_id}: not the object asked for")
    return answer


def fetch(object_id: str, key: str) -> dict:
    """What processing needs about the notified object, fetched with `key`: the payment, and the
    installment plan it belongs to (or, notified about a plan, the plan and the payment of its
    first instalment). Keys left out are absent: `{"payment": {...}}` for most payments."""
    if object_id.startswith("inst_"):
        plan = _get("installment_plans", object_id, key)
        first = first_instalment_payments(plan)
        fetched = {"installment_plan": plan}
        if first:
            fetched["payment"] = _get("payments", first[-1], key)
        return fetched
    payment = _get("payments", object_id, key)
    fetched = {"payment": payment}
    plan_id = as_text(payment.get("installment_plan_id"))
    if plan_id:
        fetched["installment_plan"] = _get("installment_plans", plan_id, key)
    return fetched


def first_instalment_payments(plan: Mapping) -> list[str]:
    """The payments made for the plan's first instalment (the buyer's checkout), oldest first as
    PayPlug lists them: a declined attempt and the buyer's next try are two payments."""
    schedule = [as_mapping(entry) for entry in as_list(plan.get("schedule"))]
    if not schedule:
        return []
    first = min(schedule, key=lambda entry: as_text(entry.get("date")))
    return [p for p in as_list(first.get("payment_ids")) if isinstance(p, str) and valid_id(p)]


def checkout(fetched: Mapping) -> tuple[Mapping, bool]:
    """The object that says how the buyer's checkout went (the payment; a plan's own object
    while it has no payment), and whether it is one: False for a later instalment of a plan."""
    payment = as_mapping(fetched.get("payment"))
    plan = as_mapping(fetched.get("installment_plan"))
    if payment and plan:
        return payment, as_text(payment.get("id")) in first_instalment_payments(plan)
    return payment or plan, True


def state(fetched: Mapping) -> str:
    """The fetched state, as much of it as makes a new event: "paid", "authorized",
    "failed:<code>", "pending"; "instalment:<state>" for a plan's later instalment. A refund
    leaves a paid payment "paid"."""
    obj, is_checkout = checkout(fetched)
    found = object_state(obj)
    return found if is_checkout else f"instalment:{found}"


def object_state(obj: Mapping) -> str:
    failure = as_mapping(obj.get("failure"))
    if failure:
        # The code is part of the stored event's id: letters, digits and underscores only.
        code = re.sub(r"[^a-z0-9_]", "", norm(as_text(failure.get("code"))))[:60]
        return f"{FAILED}:{code}" if code else FAILED
    if any(obj.get(flag) is True for flag in ("is_paid", "is_active", "is_fully_paid")):
        return PAID
    if _unix(as_mapping(obj.get("authorization")).get("authorized_at")) is not None:
        # A deferred capture: the buyer's part is done, the shop captures later.
        return AUTHORIZED
    return PENDING


# --- Parsing the stored fetched event -----------------------------------------------------------


def parse(stored: Mapping) -> PaymentSignal | None:
    """The signal in a stored fetched event (`{"notified_at": ISO, "object": fetch()'s dict}`);
    None for a payment still pending, or a later instalment of a plan."""
    fetched = as_mapping(stored.get("object"))
    obj, is_checkout = checkout(fetched)
    object_id = as_text(obj.get("id"))
    notified_at = _iso(stored.get("notified_at"))
    if not is_checkout or not object_id or notified_at is None:
        return None
    found = object_state(obj)
    failure = as_mapping(obj.get("failure"))
    code = as_text(failure.get("code")).strip()
    if found.startswith(FAILED):
        kind = SignalKind.ABANDONED if tables.abandons(code) else SignalKind.FAILED
        # A failure carries no date of its own: when PayPlug told us is the nearest we know.
        occurred_at = notified_at
    elif found in (PAID, AUTHORIZED):
        kind = SignalKind.SUCCEEDED
        occurred_at = _paid_at(obj) or notified_at
    else:
        return None
    plan = as_mapping(fetched.get("installment_plan"))
    plan_id = as_text(plan.get("id"))
    buyer = _buyer(obj, plan)
    return PaymentSignal(
        provider=PROVIDER,
        kind=kind,
        event_id=f"{object_id}:{found}",
        event_type=f"{as_text(obj.get('object')) or 'payment'}.{found}"[:100],
        occurred_at=occurred_at,
        payment_id=object_id,
        # A plan and its first instalment's payments are one payment of the order.
        related_ids=(plan_id,) if plan_id and plan_id != object_id else (),
        order_reference=_order_reference(obj, plan),
        amount=_amount(obj),
        currency=as_text(obj.get("currency") or plan.get("currency")).strip().upper(),
        buyer_email=buyer["email"],
        buyer_name=buyer["name"],
        buyer_phone=buyer["phone"],
        codes={"failure_code": code} if code else {},
        # A PayPlug payment fails once (the next try is a new payment): the payment is the
        # attempt, however often its failure is notified or fetched.
        attempt_id=object_id if kind != SignalKind.SUCCEEDED else "",
        # None: a failed PayPlug payment cannot be paid again, and its payment page
        # (hosted_payment.payment_url) no longer takes a card; the recovery link goes to the
        # shop's checkout instead.
        recovery_url="",
    )


def _order_reference(obj: Mapping, plan: Mapping) -> str:
    for source in (obj, plan):
        metadata = as_mapping(source.get("metadata"))
        for name in ("order_id", "order_reference"):
            value = metadata.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                return str(value)  # shops send their numeric order ids as numbers
            if text := as_text(value).strip():
                return text
    return ""


def _amount(obj: Mapping) -> int | None:
    value = obj.get("amount")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    # A plan has no amount of its own: its schedule's.
    amounts = [as_mapping(entry).get("amount") for entry in as_list(obj.get("schedule"))]
    if amounts and all(isinstance(a, int) and not isinstance(a, bool) for a in amounts):
        return sum(amounts)
    return None


def _buyer(obj: Mapping, plan: Mapping) -> dict[str, str]:
    """The buyer's email, name and phone: `billing` (API version 2019-08-06), else `customer`
    (the earlier versions), else `shipping`; the plan's, for a payment that names none."""
    found = {"email": "", "name": "", "phone": ""}
    for source in (obj, plan):
        for field in ("billing", "customer", "shipping"):
            person = as_mapping(source.get(field))
            name = " ".join(
                part
                for part in (as_text(person.get("first_name")), as_text(person.get("last_name")))
                if part.strip()
            ).strip()
            phone = next(
                (
                    text
                    for key in ("mobile_phone_number", "phone_number", "landline_phone_number")
                    if (text := as_text(person.get(key)).strip())
                ),
                "",
            )
            for key, value in (("email", as_text(person.get("email")).strip()), ("name", name)):
                found[key] = found[key] or value
            found["phone"] = found["phone"] or phone
    return found


def _paid_at(obj: Mapping) -> datetime | None:
    """When the money came: `paid_at`, else `hosted_payment.paid_at`, else when a deferred
    payment was authorized."""
    for value in (
        obj.get("paid_at"),
        as_mapping(obj.get("hosted_payment")).get("paid_at"),
        as_mapping(obj.get("authorization")).get("authorized_at"),
    ):
        if (moment := _unix(value)) is not None:
            return moment
    return None


def _unix(value: Any) -> datetime | None:
    """PayPlug's dates are Unix seconds; anything else (null, a text, a date out of range) is no
    date."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _iso(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(as_text(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- The adapter --------------------------------------------------------------------------------


class Adapter(NotifiedPaymentAdapter):
    """POST /webhooks/payplug/<public id>/: a notification naming a payment, a refund or an
    installment plan; the worker fetches the payment with the storefront's secret keys."""

    service = SERVICE
    test_id = TEST_ID

    def notified_id(self, body: bytes, headers: Mapping[str, str]) -> str:
        return notified_id(body)

    def fetch(self, object_id: str, key: str) -> dict:
        return fetch(object_id, key)

    def state(self, fetched: dict) -> str:
        return state(fetched)

    def parse(self, event: Any) -> PaymentSignal | None:
        return parse(event) if isinstance(event, dict) else None

    def classify(self, codes: Mapping[str, str], kind: SignalKind) -> FailureReason:
        return tables.classify(codes, kind)
