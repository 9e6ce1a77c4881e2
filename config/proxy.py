"""Headers from the reverse proxy, believed only when the proxy sent them.

Behind a proxy, REMOTE_ADDR is the proxy's address, and the client's address and the scheme it
used come in headers (X-Forwarded-For, X-Forwarded-Proto) that any client can also send. This
middleware, first in the stack, believes them only from an address in TRUSTED_PROXIES: then the
client's address replaces REMOTE_ADDR (so the login and lookup limits, and the logs, count the
real client), and X-Forwarded-Proto is left for SECURE_PROXY_SSL_HEADER. From anyone else both
headers are removed, so a client that talks to the web server directly cannot claim HTTPS or
borrow another address's budget.
"""

import ipaddress
from functools import cache

from django.conf import settings


@cache
def _networks(trusted: tuple[str, ...]) -> tuple:
    # Each entry was checked when the settings were read.
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in trusted)


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _meta_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


class TrustedProxyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        meta = request.META
        client_key = _meta_key(settings.CLIENT_IP_HEADER)
        peer = _address(meta.get("REMOTE_ADDR", ""))
        networks = _networks(tuple(settings.TRUSTED_PROXIES))
        if peer is not None and any(peer in network for network in networks):
            # X-Forwarded-For is a list each proxy appends to: the last entry is the one our
            # proxy wrote; anything before it came from the client and proves nothing.
            forwarded = meta.get(client_key, "").rpartition(",")[2]
            client = _address(forwarded)
            if client is not None:
                meta["REMOTE_ADDR"] = str(client)
        else:
            meta.pop("HTTP_X_FORWARDED_PROTO", None)
            meta.pop(client_key, None)
        return self.get_response(request)
