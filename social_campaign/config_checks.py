"""Checks of single setting values, for ``config.Settings``' validators: each returns the cleaned value or raises
``ValueError`` with the reason (pydantic turns it into one line naming the setting)."""

from __future__ import annotations

from pydantic import SecretStr


def smtp_url(v: SecretStr | None) -> SecretStr | None:
    from urllib.parse import urlsplit

    if v is None or not v.get_secret_value().strip():
        return None
    parts = urlsplit(v.get_secret_value().strip())
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"scheme {parts.scheme or '(none)'!r} is not smtp:// or smtps:// (smtp://user:password@host:port)")
    if not parts.hostname:
        raise ValueError("has no host (smtp://user:password@host:port)")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number or out of range)
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    return v


def webhook_url(v: str | None) -> str | None:
    from urllib.parse import urlsplit

    if v is None or not v.strip():
        return None
    parts = urlsplit(v.strip())
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"scheme {parts.scheme or '(none)'!r} is not http:// or https://")
    if not parts.hostname:
        raise ValueError("has no host (https://host/path)")
    return v.strip()


def webhook_secret(v: SecretStr | None) -> SecretStr | None:
    import base64
    import binascii

    if v is None or not v.get_secret_value().strip():
        return None
    raw = v.get_secret_value().strip()
    if not raw.startswith("whsec_"):
        raise ValueError("is not a whsec_… secret (whsec_ followed by base64 of 24 to 64 random bytes)")
    try:
        body = raw.removeprefix("whsec_")
        key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not whsec_ followed by valid base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError(f"decodes to {len(key)} bytes; a whsec_ secret holds 24 to 64 random bytes")
    return SecretStr(raw)


def forwarded_allow_ips(v: str) -> str:
    import ipaddress

    items = [item.strip() for item in v.split(",") if item.strip()]
    for item in items:
        if item != "*":
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.5, 10.0.0.0/8, *)") from None
    return ",".join(items)


def parse_rate_limits(spec: str) -> list[tuple[int, float]]:
    """``"1/60s,5/300s"`` -> ``[(1, 60.0), (5, 300.0)]``; empty -> ``[]``. Units: s, m, h (default s)."""
    out: list[tuple[int, float]] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        try:
            count_s, window_s = part.split("/", 1)
            unit = 1.0
            if window_s[-1:] in ("s", "m", "h"):
                unit = {"s": 1.0, "m": 60.0, "h": 3600.0}[window_s[-1]]
                window_s = window_s[:-1]
            count, window = int(count_s), float(window_s) * unit
        except (ValueError, IndexError, KeyError):
            raise ValueError(f"rate limit {part!r} is not of the form COUNT/SECONDSs (e.g. 5/300s)") from None
        if count < 1 or window <= 0:
            raise ValueError(f"rate limit {part!r} needs a count ≥ 1 and a window > 0")
        out.append((count, window))
    return out
