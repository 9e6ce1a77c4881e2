"""The client's address: one rule for every limit counted per address (failed logins through
django-axes, the parcel lookup through django-ratelimit)."""

import ipaddress

# An IPv6 client usually holds a whole /64: counted address by address, it would have 2**64
# budgets. django-ratelimit's own default groups the same way (RATELIMIT_IPV6_MASK = 64).
IPV6_PREFIX = 64


def client_address(request) -> str | None:
    """REMOTE_ADDR, which config.proxy.TrustedProxyMiddleware sets to the client's address
    behind the trusted proxy; an IPv6 address as its /64. None for a request without one, as
    the test client's force_login makes."""
    value = (getattr(request, "META", {}).get("REMOTE_ADDR") or "").strip()
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        return str(address.ipv4_mapped)  # an IPv4 client seen through a dual-stack socket
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False)[0])
    return str(address)
