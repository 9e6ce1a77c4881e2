""" "Send test event": a sample webhook for one provider, signed with the storefront's newest
active secret exactly as that provider signs, posted over real HTTP to the storefront's own
endpoint. The merchant sees the whole path work (the URL answers, the secret matches, the
signature scheme agrees) or learns what the endpoint refused.

Each sample is an event its adapter verifies and then sets aside, so it changes no payment or
shipment and emails nobody:

- Stripe: type `aftersale.test_event`, id `evt_aftersale_test_…`. The edge verifies and stores
  every signed Stripe event (Stripe adds event types at will); the worker finds no signal in it
  (payments.providers.stripe.parse reads payment types only) and marks the row ignored.
- Adyen: a `REPORT_AVAILABLE` item (a real Adyen event code: "a report is ready to download"),
  pspReference `aftersale-test-…`. Stored like every verified item; parse reads only
  AUTHORISATION, CANCELLATION and OFFER_CLOSED, so the worker marks it ignored.
- EasyPost, AfterShip, generic: an event type their parser does not read. The edge checks the
  signature, answers `{"received": true, "ignored": true}` and stores nothing: an update for a
  made-up tracking number would sit among the real ones as "unknown tracking number".

The signing is each adapter's own sign(), next to the verify() that checks it (the schemes are
described in the docstrings of payments/providers/*.py and tracking/providers/*.py).
"""

import json
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from payments.providers import adyen, stripe
from storefront_settings.models import AuditAction, Provider, Storefront
from storefront_settings.services.audit import record
from tracking.providers import aftership, easypost, generic

TIMEOUT = 5  # seconds: the endpoint answers in milliseconds when it is up
MAX_READ = 4096  # bytes of the endpoint's answer read, enough for any answer of ours
MAX_REASON = 200  # characters of an endpoint's refusal reason shown to the merchant


@dataclass(frozen=True)
class SampleEventResult:
    provider: str
    url: str
    status: int | None  # None: the endpoint was not reached
    answer: str  # a short summary of the answer, never its body as such (summarise)
    accepted: bool


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    headers: dict[str, str]


def _stripe(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    event = {
        "id": f"evt_aftersale_test_{secrets.token_hex(8)}",
        "object": "event",
        "type": "aftersale.test_event",
        "created": now,
        "livemode": False,
        "data": {"object": {"object": "aftersale_test", "id": "aftersale_test"}},
    }
    body = json.dumps(event).encode()
    headers = stripe.sign(body, secret, timestamp=now)
    return SignedRequest(body, {"Content-Type": "application/json", **headers})


def _adyen(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    item = {
        "eventCode": "REPORT_AVAILABLE",
        "success": "true",
        "pspReference": f"aftersale-test-{secrets.token_hex(8)}",
        "merchantAccountCode": "AftersaleTest",
        "merchantReference": "aftersale-test",
        "amount": {"value": 0, "currency": storefront.currency},
        "eventDate": datetime.fromtimestamp(now, tz=UTC).isoformat(),
        "reason": "Aftersale test event",
        "additionalData": {},
    }
    adyen.sign(item, secret)
    body = json.dumps(
        {"live": "false", "notificationItems": [{"NotificationRequestItem": item}]}
    ).encode()
    return SignedRequest(body, {"Content-Type": "application/json"})


def _easypost(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    event = {
        "id": f"evt_aftersale_test_{secrets.token_hex(8)}",
        "object": "Event",
        "description": "aftersale.test_event",
        "mode": "test",
        "created_at": datetime.fromtimestamp(now, tz=UTC).isoformat(),
        "result": {},
    }
    body = json.dumps(event).encode()
    headers = easypost.sign(body, secret)
    return SignedRequest(body, {"Content-Type": "application/json", **headers})


def _aftership(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    event = {
        "event": "aftersale_test_event",
        "event_id": f"aftersale-test-{secrets.token_hex(8)}",
        "ts": now,
        "msg": {},
    }
    body = json.dumps(event).encode()
    headers = aftership.sign(body, secret)
    return SignedRequest(body, {"Content-Type": "application/json", **headers})


def _generic(storefront: Storefront, secret: str, now: int) -> SignedRequest:
    webhook_id = f"msg_aftersale_test_{secrets.token_hex(8)}"
    event = {
        "id": webhook_id,
        "type": "aftersale.test_event",
        "timestamp": datetime.fromtimestamp(now, tz=UTC).isoformat(),
        "data": {},
    }
    body = json.dumps(event).encode()
    headers = generic.sign(body, secret, webhook_id=webhook_id, timestamp=now)
    return SignedRequest(body, {"Content-Type": "application/json", **headers})


SAMPLES = {
    Provider.STRIPE: _stripe,
    Provider.ADYEN: _adyen,
    Provider.EASYPOST: _easypost,
    Provider.AFTERSHIP: _aftership,
    Provider.GENERIC: _generic,
}


def signed_sample(
    *, storefront: Storefront, provider: str, secret: str, now: int | None = None
) -> SignedRequest:
    """The provider's sample event, signed with `secret` as that provider would sign it."""
    return SAMPLES[provider](storefront, secret, int(time.time()) if now is None else now)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A webhook is never redirected by its sender; a redirect (to https, say) is the answer to
    # show, not a request to make again as a GET.
    def redirect_request(self, *args, **kwargs):
        return None


# No proxy from the environment: the request goes to this site itself.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def post(url: str, signed: SignedRequest) -> tuple[int | None, str | None]:
    """POST the signed request; (status, summary) of the answer, the summary None for an
    answer that is not ours; or (None, why) when none came."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("only http(s) URLs are posted to")
    # The URL is this site's own endpoint under SITE_URL, never one a request named.
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, data=signed.body, headers=signed.headers, method="POST"
    )
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            return response.status, summarise(response.read(MAX_READ))
    except urllib.error.HTTPError as error:
        with error:
            return error.code, summarise(error.read(MAX_READ))
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        # The kind of failure (refused, timed out, name unknown), not a page of detail.
        return None, (getattr(reason, "strerror", None) or str(reason))[:MAX_REASON]


def summarise(body: bytes) -> str | None:
    """What the merchant is shown of an answer: the words our webhook endpoints answer with
    (received, ignored, a refusal's reason, Adyen's "[accepted]"); None for any other body,
    which is not ours to show."""
    text = body.decode("utf-8", "replace").strip()
    if text == adyen.ACCEPTED_RESPONSE:
        return text
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        return None
    if isinstance(answer.get("error"), str):
        return answer["error"].replace("\n", " ")[:MAX_REASON]
    if answer.get("received") is True:
        if answer.get("ignored") is True:
            return _("received and ignored, as a test event should be")
        if answer.get("duplicate") is True:
            return _("received before")
        return _("received")
    return None


def send_test_event(
    *, storefront: Storefront, provider: str, url: str, secret: str, actor=None
) -> SampleEventResult:
    """Sign the provider's sample event with `secret`, post it to `url`, and record the attempt
    (provider, status, outcome; never the secret nor the signature)."""
    status, answer = post(
        url, signed_sample(storefront=storefront, provider=provider, secret=secret)
    )
    # A 2xx from something that does not answer as our endpoints do is not an acceptance.
    accepted = status is not None and 200 <= status < 300 and answer is not None
    if answer is None:
        answer = _("an answer that is not from an Aftersale webhook endpoint (not shown)")
    if provider == Provider.ADYEN:
        # Adyen retries anything but this exact body, so that is what "accepted" means there.
        accepted = accepted and answer.strip() == adyen.ACCEPTED_RESPONSE
    record(
        storefront=storefront,
        actor=actor,
        action=AuditAction.WEBHOOK_TEST_SENT,
        provider=provider,
        status=status,
        accepted=accepted,
    )
    return SampleEventResult(provider, url, status, answer, accepted)
