"""PayPal's REST API, as the worker calls it: an OAuth token, the signature postback, an order.

PayPal signs each webhook with its own private key (SHA256withRSA over the transmission id and
time, the webhook id and the CRC32 of the body), so only PayPal's certificate or PayPal itself
can tell a genuine event from a forgery. We ask PayPal ("verification A"): POST
/v1/notifications/verify-webhook-signature with the five PAYPAL-* headers the event came with,
the webhook id and the event, which answers `verification_status` SUCCESS or FAILURE
(https://developer.paypal.com/api/webhooks/v1/verify-webhook-signature-post;
paypal/paypal-rest-api-specifications:openapi/notifications_webhooks_v1.json). Each call needs
an access token from POST /v1/oauth2/token with the REST app's client id and secret (HTTP basic
auth, grant_type=client_credentials: https://developer.paypal.com/api/rest/authentication/),
which lasts `expires_in` seconds and is kept in Django's cache (Redis) meanwhile.

Every call goes through inbound.remote (timeouts, retries with backoff on 5xx and 429), from a
worker only, with the base URL read when the call is made: settings.PAYPAL_API_BASE when it is
set, else PayPal's sandbox for an event PayPal's sandbox sent and PayPal's live API otherwise.
A forged "sandbox" event at a shop with live credentials gains nothing: the sandbox knows
neither the credentials nor the webhook, so it verifies nothing.

Nothing here names a client secret, a token or a body in an error: only the service, the path,
the status, and the last characters of the webhook id (the secret's hint, shown in admin).
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.cache import cache

from inbound import remote
from inbound.payloads import as_list, as_mapping, as_text

SERVICE = "PayPal"
LIVE_API = "https://api-m.paypal.com"
SANDBOX_API = "https://api-m.sandbox.paypal.com"
# The hosts of the certificates PayPal's sandbox signs with (PAYPAL-CERT-URL); live events name
# api.paypal.com.
SANDBOX_CERT_HOSTS = frozenset({"api.sandbox.paypal.com", "api-m.sandbox.paypal.com"})
# The headers PayPal sends with every event, and the postback's field for each
# (https://developer.paypal.com/api/webhooks/v1/definitions/verify_webhook_signature).
SIGNATURE_HEADERS = {
    "Paypal-Auth-Algo": "auth_algo",
    "Paypal-Cert-Url": "cert_url",
    "Paypal-Transmission-Id": "transmission_id",
    "Paypal-Transmission-Sig": "transmission_sig",
    "Paypal-Transmission-Time": "transmission_time",
}
# A token is dropped from the cache this long before PayPal says it expires, so that a call
# never starts with a token about to lapse.
TOKEN_MARGIN = 60
# A storefront's PayPal secret: the REST app's client id and secret (base64url-ish, as PayPal
# issues them) and the webhook's id (alphanumeric, at most 50: the postback's `webhook_id`).
SECRET = re.compile(r"([A-Za-z0-9_-]{16,128}):([A-Za-z0-9_-]{16,128}):([A-Za-z0-9]{8,50})")


@dataclass(frozen=True)
class Credentials:
    """One REST app's credentials and the webhook of ours it posts to (one active secret)."""

    client_id: str
    client_secret: str
    webhook_id: str

    @property
    def hint(self) -> str:
        # The last characters of the secret as stored, which end with the webhook id: what
        # admin shows (ProviderSecret.hint). Never the client id or secret.
        return self.webhook_id[-4:]

    def __repr__(self) -> str:  # never the secret, in a traceback or a log
        return f"Credentials(webhook …{self.hint})"


def credentials(secret: str) -> Credentials | None:
    """The secret's three parts; None for one not in the format (refused at entry, so only a
    row written some other way)."""
    match = SECRET.fullmatch(secret.strip())
    return Credentials(*match.groups()) if match else None


class Verification:
    """PayPal's answers to the postback."""

    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


# --- Where to call ------------------------------------------------------------------------------


def api_base(headers: Mapping[str, str], event: Mapping[str, Any]) -> str:
    """The API an event is verified with: the setting when set (a stand-in, staging), else the
    sandbox for an event the sandbox sent (its certificate URL or its links name the sandbox),
    else PayPal's live API."""
    configured = settings.PAYPAL_API_BASE.strip().rstrip("/")
    if configured:
        return configured
    return SANDBOX_API if from_sandbox(headers, event) else LIVE_API


def from_sandbox(headers: Mapping[str, str], event: Mapping[str, Any]) -> bool:
    cert_host = _host(header(headers, "Paypal-Cert-Url"))
    if cert_host in SANDBOX_CERT_HOSTS:
        return True
    links = (as_text(as_mapping(link).get("href")) for link in as_list(event.get("links")))
    return any("sandbox" in _host(href) for href in links)


def _host(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def header(headers: Mapping[str, str], name: str) -> str:
    """A header of the stored event, whatever the case its name was kept in."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted and isinstance(value, str):
            return value
    return ""


# --- The access token ---------------------------------------------------------------------------


def _token_key(base: str, app: Credentials) -> str:
    # A hash of the API and the client id: the cache's keys never hold a credential.
    digest = hashlib.sha256(f"{base}\n{app.client_id}".encode()).hexdigest()
    return f"paypal:oauth-token:{digest}"


def access_token(base: str, app: Credentials) -> str:
    """A token for the app on that API: the cached one, else a new one, kept until a minute
    before it expires. remote.Refused (permanent) when PayPal refuses the credentials."""
    key = _token_key(base, app)
    token = cache.get(key)
    if isinstance(token, str) and token:
        return token
    answer = as_mapping(
        remote.call(
            SERVICE,
            "POST",
            f"{base}/v1/oauth2/token",
            auth=(app.client_id, app.client_secret),
            data={"grant_type": "client_credentials"},
            headers={"Accept": "application/json"},
        )
    )
    token = as_text(answer.get("access_token"))
    if not token:
        raise remote.Unavailable(f"{SERVICE} POST /v1/oauth2/token: no access_token in the answer")
    lifetime = answer.get("expires_in")
    # A token too short-lived to keep a minute is used once and not kept.
    if type(lifetime) is int and lifetime > TOKEN_MARGIN:
        cache.set(key, token, timeout=lifetime - TOKEN_MARGIN)
    return token


def forget_token(base: str, app: Credentials) -> None:
    cache.delete(_token_key(base, app))


def _authorised(
    base: str, app: Credentials, method: str, path: str, *, headers: dict, **kwargs: Any
) -> Any:
    """A call with the app's bearer token. A 401 means the token was revoked or lapsed early:
    it is dropped and the call made once more with a new one; a second 401 is an answer."""
    for attempt in (1, 2):
        bearer = {**headers, "Authorization": f"Bearer {access_token(base, app)}"}
        try:
            return remote.call(SERVICE, method, f"{base}{path}", headers=bearer, **kwargs)
        except remote.Refused as error:
            if error.status != 401 or attempt == 2:
                raise
            forget_token(base, app)
    raise AssertionError("unreachable")  # pragma: no cover


# --- The signature postback ---------------------------------------------------------------------


def postback_body(headers: Mapping[str, str], webhook_id: str, raw_event: str) -> bytes:
    """The verify-webhook-signature request: the five headers, the webhook id, and the event as
    it came. PayPal checks the signature against the CRC32 of the event's text, so the raw body
    goes in verbatim (it is a JSON object: the edge refused anything else) rather than parsed
    and written again, which could reorder its keys or change its escapes."""
    fields = {field: header(headers, name) for name, field in SIGNATURE_HEADERS.items()}
    fields["webhook_id"] = webhook_id
    head = json.dumps(fields)[:-1]  # without its closing brace
    return f'{head}, "webhook_event": {raw_event.strip()}}}'.encode()


def verification_status(
    base: str, app: Credentials, headers: Mapping[str, str], raw_event: str
) -> str:
    """PayPal's verdict on the event for this app's webhook: SUCCESS or FAILURE. A 400 or 422
    (PayPal finds the headers malformed: a forgery's) is a FAILURE too. remote.Refused for the
    app's credentials refused, Unavailable for PayPal down."""
    try:
        answer = _authorised(
            base,
            app,
            "POST",
            "/v1/notifications/verify-webhook-signature",
            data=postback_body(headers, app.webhook_id, raw_event),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
    except remote.Refused as error:
        if error.status in (400, 422):
            return Verification.FAILURE
        raise
    status = as_text(as_mapping(answer).get("verification_status"))
    return Verification.SUCCESS if status == Verification.SUCCESS else Verification.FAILURE


class CredentialsRefused(remote.Refused):
    """PayPal refused every active secret's credentials: nothing could be verified. Permanent
    (a ValueError): the event fails for ops, who replay it once the secret is mended."""


def verifying_app(
    base: str, apps: list[Credentials], headers: Mapping[str, str], raw_event: str
) -> Credentials | None:
    """The app whose webhook PayPal says the event was signed for, or None when PayPal verified
    it for none of them.

    Each active secret is asked in turn, newest first (several during a rotation, or a sandbox
    app beside a live one): the event names no webhook, and only the webhook it was sent to
    verifies it. When PayPal refused every secret's credentials, nothing was asked at all:
    CredentialsRefused, rather than a rejection that would blame the event. A secret refused
    beside one that was answered FAILURE gives None: PayPal answered about the event.
    PayPal being unavailable (remote.Unavailable) stops at once, to be retried later."""
    refused: list[str] = []
    for app in apps:
        try:
            status = verification_status(base, app, headers, raw_event)
        except remote.Refused as error:
            if error.status not in (400, 401, 403):
                raise
            refused.append(f"…{app.hint}")
            continue
        if status == Verification.SUCCESS:
            return app
    if refused and len(refused) == len(apps):
        where = "PayPal's sandbox" if base == SANDBOX_API else f"{SERVICE} at {base}"
        raise CredentialsRefused(
            f"{where} refused the client id and secret of every active PayPal secret "
            f"({', '.join(refused)}): check them, and that sandbox credentials go with a "
            "sandbox webhook",
            401,
        )
    return None


# --- The order ----------------------------------------------------------------------------------


def order(base: str, app: Credentials, order_id: str) -> dict | None:
    """GET /v2/checkout/orders/<id> (https://developer.paypal.com/docs/api/orders/v2/#orders_get)
    with the app that verified the event; None when PayPal will not show it (404, 403: an order
    of another account), which leaves the buyer unknown rather than failing the event."""
    try:
        found = _authorised(
            base,
            app,
            "GET",
            f"/v2/checkout/orders/{quote(order_id, safe='')}",
            headers={"Accept": "application/json"},
        )
    except remote.Refused as error:
        if error.status in (403, 404):
            return None
        raise
    return found if isinstance(found, dict) else None
