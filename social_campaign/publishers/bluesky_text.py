"""Bluesky post building blocks: rich-text facets (UTF-8 byte offsets), record keys (TIDs) and image fitting.

* Facets: links and hashtags, located by their UTF-8 *byte* offsets as the ``app.bsky.richtext.facet`` lexicon
  requires (emoji and Arabic letters before a link take several bytes each).
* :func:`record_key`: a valid TID (13 characters of base32-sortable) derived only from the delivery's idempotency key,
  so a retried create uses the same record key and can never make a second post.
* :func:`fit_image`: image bytes under the PDS blob limit (1,000,000 bytes), re-encoded as JPEG when too big.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from typing import Any

from PIL import Image

from social_campaign.errors import Rejected

MAX_BLOB_BYTES = 1_000_000
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
#: TIDs made here carry a timestamp in [2024-01-01, 2024-01-01 + 2**44 µs ≈ 203 days): valid, and always in the past.
_TID_BASE_US = 1_704_067_200_000_000

_LINK = re.compile(r"https?://[^\s<>\"]+")
_TAG = re.compile(r"(?<![\w#&])#(\w{1,64})")
_TRAILING = ".,;:!?)]}'\"\u00bb\u201d\u2019"


@dataclass(frozen=True)
class Span:
    start: int  # UTF-8 byte offset
    end: int
    kind: str  # "link" | "tag"
    value: str  # the URI, or the tag without '#'


def links(text: str) -> list[str]:
    return [s.value for s in spans(text) if s.kind == "link"]


def spans(text: str) -> list[Span]:
    """Links and hashtags in ``text`` with their UTF-8 byte offsets, in text order."""
    found: list[tuple[int, int, str, str]] = []
    for m in _LINK.finditer(text):
        uri = m.group(0).rstrip(_TRAILING)
        found.append((m.start(), m.start() + len(uri), "link", uri))
    taken = [(s, e) for s, e, _, _ in found]
    for m in _TAG.finditer(text):
        tag = m.group(1)
        if tag.isdigit() or any(s <= m.start() < e for s, e in taken):
            continue
        found.append((m.start(), m.end(), "tag", tag))
    found.sort()

    def byte(i: int) -> int:
        return len(text[:i].encode("utf-8"))

    return [Span(byte(s), byte(e), kind, value) for s, e, kind, value in found]


def facets(text: str) -> list[dict[str, Any]]:
    """``app.bsky.richtext.facet`` objects for ``text``."""
    out: list[dict[str, Any]] = []
    for s in spans(text):
        feature = (
            {"$type": "app.bsky.richtext.facet#link", "uri": s.value}
            if s.kind == "link"
            else {"$type": "app.bsky.richtext.facet#tag", "tag": s.value}
        )
        out.append({"index": {"byteStart": s.start, "byteEnd": s.end}, "features": [feature]})
    return out


def tid(timestamp_us: int, clock_id: int) -> str:
    """The TID for a microsecond timestamp and a 10-bit clock id (top bit 0, 13 base32-sortable characters)."""
    value = ((timestamp_us & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def record_key(idempotency_key: str) -> str:
    """The deterministic TID record key for one delivery."""
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode("utf-8")).digest()[:8], "big")
    return tid(_TID_BASE_US + (digest >> 20) % (1 << 44), digest & 0x3FF)


def is_tid(value: str) -> bool:
    return re.fullmatch(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}", value) is not None


def fit_image(data: bytes, mime_type: str) -> tuple[bytes, str, int, int]:
    """``(bytes, mime type, width, height)``: unchanged when small enough, else JPEG with lower quality, then smaller."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            width, height = img.size
            if len(data) <= MAX_BLOB_BYTES:
                return data, mime_type, width, height
            rgb = img.convert("RGB")
    except (OSError, ValueError) as exc:
        raise Rejected(f"the image cannot be read ({type(exc).__name__})") from exc
    while True:
        for quality in (85, 75, 65, 55, 45):
            buf = io.BytesIO()
            rgb.save(buf, "JPEG", quality=quality, optimize=True)
            if buf.tell() <= MAX_BLOB_BYTES:
                return buf.getvalue(), "image/jpeg", rgb.width, rgb.height
        if rgb.width < 64 or rgb.height < 64:
            raise Rejected("the image cannot be made small enough for Bluesky (1,000,000 bytes)")
        rgb = rgb.resize((max(1, rgb.width * 3 // 4), max(1, rgb.height * 3 // 4)), Image.Resampling.LANCZOS)
