"""The client's address, the same for everything that counts or records one: django-axes'
lockout (``AXES_CLIENT_IP_CALLABLE``), the bearer-token failure limit, DRF throttling and
the ``/metrics`` allow-list.

Behind reverse proxies, ``REMOTE_ADDR`` is the nearest proxy's. ``X-Forwarded-For`` is read
only when the request really came from a trusted proxy:

- ``TRUSTED_PROXY_COUNT`` (default 0) is how many proxies stand in front of the app. With 0,
  the header is never read and the address is ``REMOTE_ADDR``.
- ``TRUSTED_PROXY_NETWORKS`` are the networks those proxies connect from (default the
  loopback addresses: nginx on the same machine).

The chain is ``X-Forwarded-For`` plus ``REMOTE_ADDR`` at its right end. Walking from the
right, each of the ``TRUSTED_PROXY_COUNT`` hops must be in a trusted network; the address
just left of them is the client. The first hop that is not trusted (or not an address at
all) is taken as the client instead, so a client that reaches gunicorn directly, or writes
its own ``X-Forwarded-For`` in front of the proxy's, cannot choose the address it is counted
under: whatever it wrote lies left of the address the proxy appended.

Why not django-ipware: its proxy count and trusted prefixes look at the header alone and
never check that ``REMOTE_ADDR`` is a proxy, so a client that reaches the app directly
could still name any address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(specs: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(spec.strip(), strict=False) for spec in specs if spec.strip())


def trusted_networks() -> tuple[Network, ...]:
    return _networks(tuple(settings.TRUSTED_PROXY_NETWORKS))


def _parse(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # 198.51.100.7:5123
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_ip(request) -> str:
    """The address of the client that sent ``request`` (see the module's docstring)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    networks = trusted_networks()
    chain = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    chain.append(remote)
    client = remote
    for position in range(1, hops + 1):  # the proxies, from the nearest
        if position > len(chain):
            return client  # fewer hops than proxies: the farthest one we saw
        hop = chain[-position]
        address = _parse(hop)
        if not _trusted(address, networks):
            return str(address) if address is not None else client
        client = str(address)
    if len(chain) > hops:
        address = _parse(chain[-(hops + 1)])
        if address is not None:
            return str(address)
    return client
