"""Render an email once, fill it in per recipient: the fast path of the confirmation email and the release fan-out.

An email kind is rendered once per campaign, language (and whatever else is the same for everyone) with markers in
place of the per-recipient values (name, links, share text), then filled in with ``str.replace``: the value as it is
in the subject, the text part and the headers, HTML-escaped in the HTML part. A skeleton is verified against a real
render of awkward sample values before it is used; if the templates ever transform a value (a filter, a condition on
it), the verification fails and every email is rendered in full instead, so the shortcut never changes an email.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from markupsafe import escape

from social_campaign.mail.render import Rendered

Make = Callable[[Mapping[str, str]], Rendered]
LIMIT = 200  # cached skeletons per process (a few per campaign and language)


def marker(field: str) -> str:
    """The stand-in for ``field`` while the skeleton renders (NUL bytes never occur in real values)."""
    return f"\x00sc-{field}\x00"


@dataclass(frozen=True)
class Skeleton:
    """A rendered email holding :func:`marker` stand-ins for the fields in ``fields``."""

    rendered: Rendered
    fields: tuple[str, ...]

    def fill(self, values: Mapping[str, str]) -> Rendered:
        def text(part: str) -> str:
            for name in self.fields:
                part = part.replace(marker(name), values[name])
            return part

        def html(part: str) -> str:
            for name in self.fields:
                part = part.replace(marker(name), escape(values[name]))
            return part

        r = self.rendered
        return Rendered(subject=text(r.subject), text=text(r.text), html=html(r.html),
                        headers={k: text(v) for k, v in r.headers.items()})


def prepare(make: Make, sample: Mapping[str, str]) -> Skeleton | None:
    """``make``'s skeleton for the fields of ``sample``, or ``None`` when filling it in would not give exactly what a
    real render of ``sample`` gives."""
    fields = tuple(sample)
    skeleton = Skeleton(make({name: marker(name) for name in fields}), fields)
    return skeleton if skeleton.fill(sample) == make(sample) else None


_cache: dict[tuple[Hashable, ...], tuple[object, Skeleton | None]] = {}


def render_with(owner: object, key: tuple[Hashable, ...], make: Make, values: Mapping[str, str],
                sample: Mapping[str, str]) -> Rendered:
    """``make(values)``, through the skeleton cached for ``owner`` (an immutable campaign object) and ``key``.

    ``sample`` holds awkward values for the same fields as ``values`` (quotes, ``<``, ``&``)."""
    full = (id(owner), *key)
    entry = _cache.get(full)
    if entry is None or entry[0] is not owner:  # id() may be reused once a campaign object is gone
        if len(_cache) >= LIMIT:
            _cache.clear()
        entry = _cache[full] = (owner, prepare(make, sample))
    skeleton = entry[1]
    return make(values) if skeleton is None else skeleton.fill(values)
