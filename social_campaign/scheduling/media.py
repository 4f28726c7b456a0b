"""Resolving a post's media to concrete files per channel, as stored in ``Delivery.media_json``.

An image file is used as it is; an infographic spec (``*.toml``) is rendered for the channel's size by
``graphics.specs.media_for_channel`` into ``DATA_DIR/media/<campaign>/``.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from pathlib import Path

from social_campaign.campaign.model import MediaRef
from social_campaign.errors import CampaignError, Problem, SocialCampaignError


def resolve_media(refs: tuple[MediaRef, ...], channel: str, out_dir: Path, source: Path) -> list[dict[str, str]]:
    """``[{"path", "alt", "mime_type"}]`` for ``channel``; a spec that cannot be rendered raises ``CampaignError``."""
    items: list[dict[str, str]] = []
    for ref in refs:
        path, alt = ref.path, ref.alt or ""
        if ref.is_spec:
            try:
                from social_campaign.graphics.specs import media_for_channel
            except ImportError:
                raise CampaignError(
                    [
                        Problem(
                            str(source),
                            ref.line,
                            f"{ref.path.name}: infographic specs cannot be rendered (graphics not installed)",
                        )
                    ]
                ) from None
            try:
                png, spec_alt = media_for_channel(ref.path, channel, out_dir)
            except SocialCampaignError as exc:
                raise CampaignError([Problem(str(source), ref.line, f"{ref.path.name}: {exc}")]) from None
            path, alt = Path(png), ref.alt or spec_alt or ""
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        items.append({"path": str(path), "alt": alt, "mime_type": mime})
    return items


def content_hash(text: str, media: list[dict[str, str]]) -> str:
    """sha256 over the text, the media list and each media file's bytes (so a replaced image counts as an edit)."""
    h = hashlib.sha256(text.encode())
    h.update(b"\0" + json.dumps(media, sort_keys=True).encode())
    for item in media:
        try:
            h.update(hashlib.sha256(Path(item["path"]).read_bytes()).digest())
        except OSError:
            h.update(b"missing")
    return h.hexdigest()
