"""A stand-in of PayPal's REST API at the HTTP boundary (the `responses` library under requests),
for the tests of the PayPal connection: the OAuth token, the signature postback and the order,
answered as PayPal answers them, for the REST apps, webhooks and orders a test declares.

It verifies an event as PayPal does, with the stand-in signature of payments.providers.paypal.
samples.delivered(): SUCCESS only for the webhook the event was delivered to, the body as it was
delivered (the CRC32 of the `webhook_event` text in the postback, so an event parsed and written
again would fail, as it may at PayPal), and that transmission; FAILURE otherwise. Each
environment (live, sandbox) knows only its own apps, as PayPal's do.
"""

import base64
import itertools
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import responses

from payments.providers.paypal import client, samples

LIVE = client.LIVE_API
SANDBOX = client.SANDBOX_API
_WEBHOOK_EVENT = re.compile(r'"webhook_event"\s*:\s*')


@dataclass
class App:
    """A REST app of one environment, with its webhooks."""

    client_id: str
    client_secret: str
    webhook_ids: set[str]
    base: str

    def secret(self, webhook_id: str | None = None) -> str:
        """The storefront's PayPal secret for this app and one of its webhooks."""
        return f"{self.client_id}:{self.client_secret}:{webhook_id or next(iter(self.webhook_ids))}"


@dataclass
class StandIn:
    """PayPal's API, for the apps and orders a test adds. `calls` lists (base, endpoint) in
    order; `outages[endpoint]` holds statuses to answer before answering normally."""

    apps: dict[str, App] = field(default_factory=dict)
    orders: dict[tuple[str, str], dict] = field(default_factory=dict)
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # token -> (base, client id)
    calls: list[tuple[str, str]] = field(default_factory=list)
    postbacks: list[bytes] = field(default_factory=list)
    outages: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    _numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    # --- What a test declares -------------------------------------------------------------------

    def app(self, name: str, *, webhooks: int = 1, base: str = LIVE) -> App:
        client_id = f"A{name}ClientIdAbcdefghijklmnopqrstuvwxyz0123456789-_"
        app = App(
            client_id=client_id,
            client_secret=f"E{name}SecretAbcdefghijklmnopqrstuvwxyz0123456789_-",
            webhook_ids={f"{name.upper()}WH{n}8PT597110X6874" for n in range(1, webhooks + 1)},
            base=base,
        )
        self.apps[client_id] = app
        return app

    def order(self, app: App, order: dict) -> None:
        self.orders[(app.client_id, order["id"])] = order

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def count(self, endpoint: str, base: str | None = None) -> int:
        return sum(1 for b, e in self.calls if e == endpoint and (base is None or b == base))

    # --- The API --------------------------------------------------------------------------------

    def install(self, mock: responses.RequestsMock, bases=(LIVE, SANDBOX)) -> "StandIn":
        for base in bases:
            mock.add_callback(
                responses.POST, f"{base}/v1/oauth2/token", callback=self._answer(base, "token")
            )
            mock.add_callback(
                responses.POST,
                f"{base}/v1/notifications/verify-webhook-signature",
                callback=self._answer(base, "verify"),
            )
            mock.add_callback(
                responses.GET,
                re.compile(re.escape(base) + r"/v2/checkout/orders/[^/]+"),
                callback=self._answer(base, "order"),
            )
        return self

    def _answer(self, base: str, endpoint: str):
        def callback(request):
            self.calls.append((base, endpoint))
            if self.outages[endpoint]:
                return (self.outages[endpoint].pop(0), {}, json.dumps({"name": "INTERNAL"}))
            status, body = getattr(self, f"_{endpoint}")(base, request)
            return (status, {"Content-Type": "application/json"}, json.dumps(body))

        return callback

    def _token(self, base, request):
        scheme, _, credentials = (request.headers.get("Authorization") or "").partition(" ")
        client_id, _, secret = base64.b64decode(credentials or b"").decode().partition(":")
        app = self.apps.get(client_id)
        grant = parse_qs(request.body if isinstance(request.body, str) else request.body.decode())
        if scheme != "Basic" or app is None or app.base != base or app.client_secret != secret:
            return 401, {
                "error": "invalid_client",
                "error_description": "Client Authentication failed",
            }
        if grant.get("grant_type") != ["client_credentials"]:
            return 400, {"error": "unsupported_grant_type"}
        token = f"A21AA{next(self._numbers):06d}{base[-12:]}"
        self.tokens[token] = (base, client_id)
        return 200, samples.token(token)

    def _app_of(self, base, request) -> App | None:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        owner = self.tokens.get(token) if scheme == "Bearer" else None
        return self.apps[owner[1]] if owner and owner[0] == base else None

    def _verify(self, base, request):
        app = self._app_of(base, request)
        if app is None:
            return 401, {"error": "invalid_token"}
        text = request.body.decode()
        self.postbacks.append(request.body)
        fields = json.loads(text)
        required = ("auth_algo", "cert_url", "transmission_id", "transmission_sig",
                    "transmission_time", "webhook_id", "webhook_event")  # fmt: skip
        if any(not fields.get(name) for name in required):
            return 400, {"name": "VALIDATION_ERROR"}
        # The event's own text, as it stands in the postback.
        start = _WEBHOOK_EVENT.search(text).end()
        _, end = json.JSONDecoder().raw_decode(text, start)
        raw = text[start:end].encode()
        expected = samples.stand_in_signature(
            raw, fields["webhook_id"], fields["transmission_id"], fields["transmission_time"]
        )
        # Each of PayPal's environments signs with its own certificates.
        sandbox_cert = "sandbox" in (urlsplit(fields["cert_url"]).hostname or "")
        genuine = (
            fields["webhook_id"] in app.webhook_ids
            and fields["transmission_sig"] == expected
            and (base not in (LIVE, SANDBOX) or sandbox_cert == (base == SANDBOX))
        )
        return 200, samples.verification("SUCCESS" if genuine else "FAILURE")

    def _order(self, base, request):
        app = self._app_of(base, request)
        if app is None:
            return 401, {"error": "invalid_token"}
        order_id = request.url.rstrip("/").rsplit("/", 1)[-1]
        found = self.orders.get((app.client_id, order_id))
        if found is None:
            return 404, {"name": "RESOURCE_NOT_FOUND"}
        return 200, found
