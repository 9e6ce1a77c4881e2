""" "Send test event": a connection's sample webhook, signed with the storefront's newest active
secret exactly as that provider signs, posted over real HTTP to the storefront's own endpoint.
The merchant sees the whole path work (the URL answers, the secret matches, the signature scheme
agrees) or learns what the endpoint refused.

The sample is the connection's own (its package's samples.test_event, next to the sign() that
makes it and the verify() that checks it): an event its adapter verifies and then sets aside, so
it changes no payment or shipment and emails nobody.
"""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.utils.translation import gettext as _

from inbound.edge import SignedRequest
from storefront_settings import connections
from storefront_settings.models import AuditAction, Storefront
from storefront_settings.services.audit import record

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


def signed_sample(
    *, storefront: Storefront, provider: str, secret: str, now: int | None = None
) -> SignedRequest:
    """The connection's test event, signed with `secret` as that provider would sign it."""
    connection = connections.get(provider)
    return connection.test_event(storefront, secret, int(time.time()) if now is None else now)


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
    (received, ignored, a refusal's reason, a connection's acknowledgement such as Adyen's
    "[accepted]"); None for any other body, which is not ours to show."""
    text = body.decode("utf-8", "replace").strip()
    if text in _acknowledgements():
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


def _acknowledgements() -> set[str]:
    return {
        connection.adapter.acknowledgement
        for connection in connections.all_connections()
        if connection.adapter.acknowledgement is not None
    }


def send_test_event(
    *, storefront: Storefront, provider: str, url: str, secret: str, actor=None
) -> SampleEventResult:
    """Sign the connection's test event with `secret`, post it to `url`, and record the attempt
    (provider, status, outcome; never the secret nor the signature)."""
    status, answer = post(
        url, signed_sample(storefront=storefront, provider=provider, secret=secret)
    )
    # A 2xx from something that does not answer as our endpoints do is not an acceptance.
    accepted = status is not None and 200 <= status < 300 and answer is not None
    if answer is None:
        answer = _("an answer that is not from an Aftersale webhook endpoint (not shown)")
    acknowledgement = connections.get(provider).adapter.acknowledgement
    if acknowledgement is not None:
        # A source that retries anything but this exact body (Adyen's "[accepted]"): that is
        # what "accepted" means there.
        accepted = accepted and answer.strip() == acknowledgement
    record(
        storefront=storefront,
        actor=actor,
        action=AuditAction.WEBHOOK_TEST_SENT,
        provider=provider,
        status=status,
        accepted=accepted,
    )
    return SampleEventResult(provider, url, status, answer, accepted)
