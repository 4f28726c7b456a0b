"""A post's media from the edit form (``templates/_media_fields.html``): upload an image with alt text, pick a card
spec, remove items.

:func:`apply_media_fields` reads the fields ``media_file`` (an image), ``media_alt`` (its alt text, required with a
file), ``media_spec`` (a card spec ``infographics/<stem>.toml``) and ``media_remove`` (relative paths of current
items to drop) and returns :class:`MediaChanges`: a ``dict`` of the files to write (the upload, re-encoded, under
``infographics/uploads/<name>-<hash>.png|jpg``; merge it into the changes given to ``save_files``) whose ``media``
attribute is the post's new media list (``None``: unchanged). :meth:`MediaChanges.apply_to` writes that list into
the post's ``[[post]]`` table of a tomlkit document (``media = [...]`` and, when any item has one, the parallel
``alt = [...]``), so the caller's own edits of the same document and this one are saved together.

Uploads are decoded exactly as badge photos are (``graphics.images.open_photo``: the format sniffed from the bytes,
:data:`~social_campaign.graphics.images.MAX_BYTES` and the pixel cap checked before decoding, the decode memory
bounded, EXIF orientation applied, every piece of metadata dropped) and re-encoded: PNG when the image has
transparency or was a PNG, else JPEG; at most :data:`MAX_SIDE` pixels on the long side. What cannot be used is
refused at the ``media_file`` field (413 too large, 415 not an image, 400 broken or a decompression bomb) and nothing
is returned to write.
"""

from __future__ import annotations

import hashlib
import io
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from social_campaign.campaign.model import Campaign, Post
from social_campaign.errors import BadRequest, ImageError, PayloadTooLarge, UnsupportedMediaType
from social_campaign.graphics.images import MAX_BYTES, open_photo, sniff
from social_campaign.i18n import _

__all__ = [
    "MAX_SIDE", "UPLOADS", "MediaChanges", "MediaItem", "apply_media_fields", "card_specs", "current_media",
    "encode_upload", "fields_context",
]

UPLOADS = "infographics/uploads"
MAX_SIDE = 4096  # X's largest image side; bigger photos are scaled down (the networks would anyway)
MAX_ALT = 1000  # X's alt text limit
_SAFE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class MediaItem:
    """One media item of a post: ``path`` relative to the campaign folder; ``alt`` ``""`` when the file has none (a
    card spec then uses its own)."""

    path: str
    alt: str = ""

    @property
    def is_spec(self) -> bool:
        return self.path.lower().endswith(".toml")


class MediaChanges(dict[str, bytes | str | None]):
    """The files to write (relative path -> bytes), and ``media``: the post's new media list (``None``: unchanged)."""

    def __init__(self, files: dict[str, bytes | str | None] | None = None,
                 media: list[MediaItem] | None = None) -> None:
        super().__init__(files or {})
        self.media = media

    def apply_to(self, doc: Any, post_id: str) -> None:
        """Set ``media``/``alt`` of the ``[[post]]`` with ``post_id`` in tomlkit document ``doc`` (no-op when the
        media are unchanged); an empty list removes both keys."""
        if self.media is None:
            return
        for table in doc.get("post", []):
            if table.get("id") != post_id:
                continue
            if not self.media:
                for key in ("media", "alt"):
                    if key in table:
                        del table[key]
                return
            table["media"] = [item.path for item in self.media]
            if any(item.alt for item in self.media):
                table["alt"] = [item.alt for item in self.media]
            elif "alt" in table:
                del table["alt"]
            return


def current_media(campaign: Campaign, post_id: str) -> list[MediaItem]:
    """The post's media as ``schedule.toml`` writes them (paths relative to the campaign folder, alt texts)."""
    try:
        doc = tomllib.loads(campaign.source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    for table in doc.get("post", []):
        if isinstance(table, dict) and table.get("id") == post_id:
            paths = [p for p in table.get("media", []) if isinstance(p, str)]
            alts = [a if isinstance(a, str) else "" for a in table.get("alt", [])]
            return [MediaItem(p, alts[n] if n < len(alts) else "") for n, p in enumerate(paths)]
    return []


def _values(form: Any, name: str) -> list[str]:
    if hasattr(form, "getlist"):
        return [v for v in form.getlist(name) if isinstance(v, str)]
    value = form.get(name) if isinstance(form, Mapping) else None
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


def _upload(files: Mapping[str, Any]) -> tuple[str, bytes] | None:
    """``(file name, bytes)`` of the ``media_file`` field: bytes, a ``(name, bytes)`` pair or an object with
    ``filename`` and ``file`` (Starlette's ``UploadFile``); ``None`` when no file was chosen."""
    found = files.get("media_file")
    if found is None:
        return None
    if isinstance(found, bytes | bytearray):
        name, data = "image", bytes(found)
    elif isinstance(found, tuple):
        name, data = str(found[0] or "image"), bytes(found[1])
    else:
        name = str(getattr(found, "filename", "") or "")
        data = found.file.read(MAX_BYTES + 1) if hasattr(found, "file") else b""
        if not name and not data:
            return None
    return (name or "image", data) if (name or data) else None


def encode_upload(name: str, data: bytes) -> tuple[str, bytes]:
    """``(relative path, bytes)`` of the upload decoded safely and re-encoded; errors at the ``media_file`` field."""
    if not data:
        raise BadRequest(_("This file is empty. Please choose an image."), field="media_file")
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(_("This image is over the %(mb)s MB limit. Please choose a smaller one.")
                              % {"mb": MAX_BYTES // (1024 * 1024)}, field="media_file")
    try:
        formats = sniff(data, "upload")
    except ImageError:
        raise UnsupportedMediaType(_("This file is not an image we can use. Please choose a JPEG, PNG, WebP, GIF, "
                                     "BMP or TIFF image."), field="media_file") from None
    try:
        image = open_photo(data, name="upload")
    except ImageError as exc:
        if "too large" in str(exc) or "megapixels" in str(exc):
            raise BadRequest(_("This image is too large to process. Please choose a smaller one."),
                             field="media_file") from None
        raise BadRequest(_("This image could not be read: the file may be damaged. Please try another one."),
                         field="media_file") from None
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    as_png = image.mode == "RGBA" or formats[0] == "PNG"
    out = io.BytesIO()
    if as_png:
        image.save(out, format="PNG", optimize=True)
    else:
        image.convert("RGB").save(out, format="JPEG", quality=88, optimize=True)
    encoded = out.getvalue()
    stem = _SAFE.sub("-", name.rsplit(".", 1)[0].lower()).strip("-")[:40] or "image"
    digest = hashlib.sha256(encoded).hexdigest()[:10]
    return f"{UPLOADS}/{stem}-{digest}.{'png' if as_png else 'jpg'}", encoded


def apply_media_fields(campaign: Campaign, post: Post, form: Any, files: Mapping[str, Any]) -> MediaChanges:
    """The media changes the form asks for (see the module docstring). Raises a :class:`WebError` at ``media_file``
    or ``media_alt`` when the upload cannot be used or has no alt text."""
    before = current_media(campaign, post.id)
    media = list(before)
    written: dict[str, bytes | str | None] = {}
    remove = set(_values(form, "media_remove"))
    media = [item for item in media if item.path not in remove]
    upload = _upload(files)
    alt = " ".join((_values(form, "media_alt") or [""])[0].split())
    if upload is not None:
        if not alt:
            raise BadRequest(_("Please describe the image for people who cannot see it (alt text)."),
                             field="media_alt")
        if len(alt) > MAX_ALT:
            raise BadRequest(_("Please keep the alt text under %(num)s characters.") % {"num": MAX_ALT},
                             field="media_alt")
        path, data = encode_upload(*upload)
        written[path] = data
        media.append(MediaItem(path, alt))
    spec = (_values(form, "media_spec") or [""])[0].strip()
    if spec:
        if spec not in card_specs(campaign):
            raise BadRequest(_("Please choose one of the campaign's cards."), field="media_spec")
        if spec not in [item.path for item in media]:
            media.append(MediaItem(spec))
    return MediaChanges(written, media if media != before else None)


def card_specs(campaign: Campaign) -> list[str]:
    """The campaign's card specs (``infographics/<stem>.toml``, translations ``<stem>.<lang>.toml`` left out)."""
    from social_campaign.campaign.languages import spec_translation_of

    folder = campaign.root / "infographics"
    found = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    return [f"infographics/{p.name}" for p in found if spec_translation_of(p, campaign.languages) is None]


def fields_context(campaign: Campaign, post: Post | str | None) -> dict[str, Any]:
    """What ``_media_fields.html`` shows (the Jinja global ``media_fields``): the post's media items and the
    campaign's card specs with the size each network gets (``graphics.cards.TARGETS``)."""
    from social_campaign.graphics.cards import TARGETS

    post_id = post.id if isinstance(post, Post) else (post or "")
    items = current_media(campaign, post_id) if post_id else []
    labels = {"x": "X", "facebook": "Facebook", "square": _("square"), "portrait": _("portrait")}
    specs = []
    for path in card_specs(campaign):
        stem = path.rsplit("/", 1)[-1][: -len(".toml")]
        sizes = [{"target": t, "width": w, "height": h, "label": labels.get(t, t)} for t, (w, h) in TARGETS.items()]
        specs.append({"path": path, "stem": stem, "sizes": sizes, "thumb": f"/c/{campaign.slug}/cards/{stem}/x.png"})
    return {"items": items, "specs": specs, "accept": "image/png,image/jpeg,image/webp,image/gif,image/bmp,image/tiff"}
