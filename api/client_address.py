"""The client's address as the login throttle and the audit count it: the address of the
connection (the ASGI client), unless that is a proxy named in KONTOR_TRUSTED_PROXIES; then the
address that proxy put into X-Forwarded-For. Anything a client writes itself into the header is
ignored: it stands left of what the trusted proxies appended."""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from fastapi import Request

UNKNOWN = "unknown"


@lru_cache(maxsize=16)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _is_trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    peer = request.client.host if request.client and request.client.host else UNKNOWN
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    address = peer
    for hop in reversed(hops):  # the nearest proxy appended last
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # not written by a proxy of ours: the last address that was
        address = hop
        if not _is_trusted(hop, networks):
            return hop
    return address
