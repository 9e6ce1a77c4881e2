"""Calls from our workers to a connection's own API: a provider's, a platform's, a carrier's.

Some sources do not sign what they post (PayPlug, Mollie: the notification only names a payment,
which the worker then fetches), or are verified by asking them (PayPal's verify-webhook-signature
postback). Those calls happen here, and only in a worker: never inside a web request, whose
answer must not wait on another company's servers.

Every call has a timeout, and is retried with exponential backoff on a connection error, a 5xx
and a 429 (honouring Retry-After up to MAX_RETRY_AFTER seconds), by urllib3's Retry under
requests. What still fails is one of two errors, which the inbound worker already tells apart
(inbound.errors.is_permanent):

- Unavailable (an OSError: temporary): the service is down or overloaded; the task is retried
  later with the event's own backoff, as for a database outage.
- Refused (a ValueError: permanent): the service answered 4xx, e.g. the key was refused; no
  retry changes that until someone changes the key, so the event fails at once, for ops.
  NotFound (404) is a Refused that callers often read as an answer ("no such payment").

The base URL of each service is a setting read from the environment (PAYPLUG_API_BASE…), so
tests and staging point it at a stand-in. Messages name the service, the method, the path and
the status: never a key, a header or a body, which may hold a secret or a buyer's data.
"""

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

# Seconds to connect, and to wait for the answer's first byte between reads.
TIMEOUT = (3.05, 10)
# Three retries at about 0.5 s, 1 s, 2 s: a blip is absorbed in the task; a longer outage goes
# back to the event's own backoff (inbound.services.retry_delay), which does not hold a worker.
RETRIES = 3
BACKOFF = 0.5
MAX_RETRY_AFTER = 10
RETRY_STATUSES = (429, 500, 502, 503, 504)


class RemoteError(Exception):
    """A call to another system's API that did not give an answer we can use."""


class Unavailable(RemoteError, OSError):
    """No usable answer after the retries (network, timeout, 5xx, 429): try again later."""


class Refused(RemoteError, ValueError):
    """The service answered 4xx: the request itself is wrong (a refused key, a bad id)."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class NotFound(Refused):
    """404: the service has no such object."""


def _session() -> requests.Session:
    retry = Retry(
        total=RETRIES,
        backoff_factor=BACKOFF,
        status_forcelist=RETRY_STATUSES,
        # Every method: the calls made here are reads, the OAuth token request and the
        # signature postback, all of them safe to repeat.
        allowed_methods=None,
        respect_retry_after_header=True,
        retry_after_max=MAX_RETRY_AFTER,
        raise_on_status=False,
    )
    session = requests.Session()
    # No proxy or .netrc credentials from the environment: the base URL says where to go.
    session.trust_env = False
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


# One session per process: its connection pool keeps connections to each service open between
# tasks (requests' Session is safe for this use across a worker's threads).
_SESSION = _session()


def call(service: str, method: str, url: str, **kwargs: Any) -> Any:
    """The JSON answer of `method url` (kwargs as for requests: headers, params, json, data,
    auth); Unavailable or Refused otherwise, their message naming `service` ("Mollie")."""
    path = requests.utils.urlparse(url).path
    what = f"{service} {method} {path}"
    try:
        response = _SESSION.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs)
    except requests.RequestException as error:
        # The kind of failure (a timeout, a refused connection), not its detail, which may
        # carry the URL's query.
        raise Unavailable(f"{what}: {type(error).__name__}") from None
    status = response.status_code
    if status in RETRY_STATUSES or status >= 500:
        raise Unavailable(f"{what}: HTTP {status} after {RETRIES} retries")
    if status == 404:
        raise NotFound(f"{what}: not found (HTTP 404)", status)
    if status >= 400:
        raise Refused(f"{what}: refused (HTTP {status})", status)
    if status >= 300:
        # A moved API is a configuration error (the base URL setting), not an answer.
        raise Refused(f"{what}: redirected (HTTP {status}); check the base URL setting", status)
    if status == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        # A proxy's error page, a truncated answer: temporary as far as we can tell.
        raise Unavailable(f"{what}: the answer is not JSON") from None
