"""Every error the package raises on purpose, in one tree.

    SocialCampaignError                 base: carries one clear, user-facing line (``str(exc)``)
    ├── ConfigError                     a setting is missing, malformed or a placeholder
    ├── DatabaseError                   the database cannot be reached or migrated
    ├── CampaignError                   schedule.toml / messages / media do not pass ``check`` (holds ``problems``)
    ├── InputError                      a bad file or argument on the command line (names the file)
    │   └── ImageError                  an image that cannot be used (broken, too large, wrong type)
    ├── PublishError                    a platform refused or failed a post; ``kind`` says how to handle it
    │   ├── RateLimited                 retry at ``reset_at`` (the time the API gave)
    │   ├── Transient                   not accepted (refused connection, 5xx before acceptance): retry with backoff
    │   ├── Rejected                    final: duplicate, validation or policy; ``reason`` is plain words
    │   ├── AuthFailed                  token revoked or expired: the account needs reconnecting
    │   └── OutcomeUnknown              the request may have been accepted (timeout, reset after send): reconcile
    ├── MailError                       an email could not be handed to the SMTP server
    └── WebError                        a web request that gets a 4xx; ``status`` is a class attribute
        ├── BadRequest (400)
        ├── Unauthorized (401)          not logged in: pages redirect to /login (web/auth.py)
        ├── Forbidden (403)
        ├── NotFound (404)
        ├── Conflict (409)              the files changed since the form was loaded: nothing written
        ├── PayloadTooLarge (413)
        ├── UnsupportedMediaType (415)
        └── TooManyRequests (429)

Foreign errors (tweepy, facebook-sdk, requests, SQLAlchemy, Pillow, smtplib) are translated at the edge that calls the
foreign code, with ``raise … from exc``; nothing above the edges catches a foreign exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

__all__ = [
    "AuthFailed",
    "BadRequest",
    "CampaignError",
    "ConfigError",
    "Conflict",
    "DatabaseError",
    "Forbidden",
    "ImageError",
    "InputError",
    "MailError",
    "NotFound",
    "OutcomeUnknown",
    "PayloadTooLarge",
    "Problem",
    "PublishError",
    "RateLimited",
    "Rejected",
    "SocialCampaignError",
    "TooManyRequests",
    "Transient",
    "Unauthorized",
    "UnsupportedMediaType",
    "WebError",
]


class SocialCampaignError(Exception):
    """Base class. ``str(exc)`` is one line fit to show a user as it is."""


class ConfigError(SocialCampaignError):
    """Raised when a setting is missing, malformed, a placeholder, or a credential group is incomplete."""


class DatabaseError(SocialCampaignError):
    """Raised when the database cannot be reached, opened or migrated."""


@dataclass(frozen=True)
class Problem:
    """One finding of ``check``: ``path:line: message``. ``severity`` is ``"error"`` or ``"warning"``."""

    path: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        tag = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {tag}{self.message}"


class CampaignError(SocialCampaignError):
    """Raised when a campaign does not load or does not pass ``check``; ``problems`` holds every finding."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        first = str(errors[0]) if errors else "campaign is invalid"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)


class InputError(SocialCampaignError):
    """Raised for a bad file or argument given on the command line; the message names it."""


class ImageError(InputError):
    """Raised when an image cannot be used: unreadable, truncated, not an image, or over the size limits."""


class PublishError(SocialCampaignError):
    """A platform failed a post. Subclasses say how the scheduler handles it.

    ``http_status`` and ``code`` are what the platform returned (if anything); ``reason`` is plain words for a manager.
    """

    kind: ClassVar[str] = "error"

    def __init__(self, reason: str, *, http_status: int | None = None, code: str | int | None = None) -> None:
        self.reason = reason
        self.http_status = http_status
        self.code = None if code is None else str(code)
        super().__init__(reason)


class RateLimited(PublishError):
    """The platform rate-limited the account or app; retry no earlier than ``reset_at`` (UTC, aware) when known."""

    kind = "rate_limited"

    def __init__(self, reason: str, *, reset_at: datetime | None = None, **kw: object) -> None:
        super().__init__(reason, **kw)  # type: ignore[arg-type]
        self.reset_at = reset_at


class Transient(PublishError):
    """The request was not accepted (connection refused, 5xx before acceptance): safe to retry with backoff."""

    kind = "transient"


class Rejected(PublishError):
    """Final: the platform refused the content (duplicate, validation, permission or policy)."""

    kind = "rejected"


class AuthFailed(PublishError):
    """The account's token is revoked, expired or lacks permission to post: stop using it until reconnected."""

    kind = "auth"


class OutcomeUnknown(PublishError):
    """The create request was sent and may have been accepted (timeout, reset): never resend blindly; reconcile."""

    kind = "unknown"


class MailError(SocialCampaignError):
    """Raised when an email could not be handed to the SMTP server (or written to the mail folder)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        self.permanent = permanent
        super().__init__(reason)


class WebError(SocialCampaignError):
    """A web request that gets a 4xx answer; rendered by one handler in ``web/app.py``.

    The message is a sentence for people, already translated (``i18n._``). ``field`` names the form field it is about
    (pages show it at that field, with ``aria-invalid`` and ``aria-describedby``); ``None`` for the whole request."""

    status: ClassVar[int] = 400

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class BadRequest(WebError):
    status = 400


class Unauthorized(WebError):
    status = 401


class Forbidden(WebError):
    status = 403


class NotFound(WebError):
    status = 404


class Conflict(WebError):
    """The campaign's files changed since ``version``: ``diff`` shows what changed (unified diff)."""

    status = 409

    def __init__(self, message: str = "", *, field: str | None = None, diff: str = "") -> None:
        self.diff = diff
        super().__init__(message, field=field)


class PayloadTooLarge(WebError):
    status = 413


class UnsupportedMediaType(WebError):
    status = 415


class TooManyRequests(WebError):
    status = 429
