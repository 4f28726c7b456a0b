"""How uvicorn is told about proxies: from our settings, never from its own defaults.

uvicorn on its own trusts ``X-Forwarded-For`` and ``X-Forwarded-Proto`` from 127.0.0.1 (its ``forwarded_allow_ips``
default, or the ``FORWARDED_ALLOW_IPS`` environment variable), which would let anyone on the same host, or a same-host
proxy passing a client's header through, choose the client IP the rate limits see. :func:`uvicorn_options` turns proxy
headers on only when ``SOCIAL_CAMPAIGN_TRUST_FORWARDED_FOR`` is set, and then only from
``SOCIAL_CAMPAIGN_FORWARDED_ALLOW_IPS`` (``Settings.trusted_proxies``); ``web.deps.client_ip`` applies the same rule, so
the app and uvicorn agree on the client under any ASGI server. Every place that starts uvicorn (``serve``, the demo)
passes these options.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from social_campaign.config import Settings


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments for ``uvicorn.run`` / ``uvicorn.Config`` that decide whether forwarded headers count,
    and a bounded graceful shutdown: on SIGTERM, open connections get :data:`GRACEFUL_SHUTDOWN_SECONDS` to finish, so a
    slow or idle client can never hold the stop past the roles' budget."""
    trusted = settings.trusted_proxies
    return {
        "proxy_headers": bool(trusted), "forwarded_allow_ips": trusted,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
    }


GRACEFUL_SHUTDOWN_SECONDS = 3


class TrustedProxies:
    """Membership test for ``Settings.trusted_proxies`` (addresses, networks or ``*``), like uvicorn's."""

    def __init__(self, spec: str) -> None:
        items = [item.strip() for item in spec.split(",") if item.strip()]
        self.any = "*" in items
        self.networks = [ipaddress.ip_network(item, strict=False) for item in items if item != "*"]

    def __contains__(self, host: str) -> bool:
        if self.any:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


def forwarded_client(peer: str, forwarded_for: str, proxies: TrustedProxies) -> str:
    """The client behind ``peer``: when ``peer`` is a trusted proxy, the right-most X-Forwarded-For entry that is not
    itself a trusted proxy (entries further left are whatever the client sent); otherwise ``peer``."""
    if peer not in proxies:
        return peer
    entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
    for entry in reversed(entries):
        try:
            host = str(ipaddress.ip_address(entry))
        except ValueError:
            return peer  # a malformed entry from our own proxy's chain: keep the proxy's address
        if host not in proxies:
            return host
    return entries[0] if entries else peer
