"""All configuration, in one typed class.

Every setting is read from the environment with the prefix ``SOCIAL_CAMPAIGN_`` (or from a ``.env`` file in the
working directory). Nothing else in the package reads ``os.environ``: build a :class:`Settings` once at start-up and
pass it to the factories (``create_app(settings)``, ``build_publisher(channel, settings, ...)``).

Secrets are :class:`pydantic.SecretStr`, so they never show in a repr, a log line or a traceback. Placeholder values
such as ``changethis`` are refused at start, and so is a half-configured account (a key without its secret).
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from social_campaign import config_checks
from social_campaign.config_checks import parse_rate_limits
from social_campaign.errors import ConfigError

PLACEHOLDERS = frozenset({"changethis", "changeme", "change-me", "xxx", "todo", "your-token-here", "secret", "placeholder"})

#: Secret settings that belong together: all or none of each group must be set.
CREDENTIAL_GROUPS: dict[str, tuple[str, ...]] = {
    "X (OAuth 1.0a)": ("x_consumer_key", "x_consumer_secret", "x_access_token", "x_access_token_secret"),
    "Facebook Page": ("facebook_page_id", "facebook_page_token"),
    "Mastodon": ("mastodon_api_url", "mastodon_access_token"),
    "Bluesky": ("bluesky_handle", "bluesky_app_password"),
    "Webhook": ("webhook_url", "webhook_secret"),
}


class Settings(BaseSettings):
    """The service's settings. Field names are the environment variable names without the prefix, lower-cased."""

    model_config = SettingsConfigDict(
        env_prefix="SOCIAL_CAMPAIGN_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # --- storage -------------------------------------------------------------------------------------------------
    data_dir: Path = Field(Path(".social-campaign"), description="Folder for the SQLite database, outbox, mail folder and key.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Default: SQLite file in DATA_DIR. Use postgresql+psycopg://… (or postgres://…, "
        "postgresql://…, read as postgresql+psycopg://) to scale out.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key for encrypting tokens at rest and salting IP hashes. Default: generated once into DATA_DIR/secret.key.",
    )

    # --- campaign and scheduling ---------------------------------------------------------------------------------
    schedule: Path = Field(Path("schedule.toml"), description="The campaign file every command reads unless given --schedule.")
    grace_minutes: float = Field(15.0, ge=0, description="A post later than this past its due time is marked missed, not sent.")
    max_attempts: int = Field(6, ge=1, description="Transient failures are retried with backoff and jitter up to this many attempts.")
    retry_base_seconds: float = Field(2.0, gt=0, description="First backoff step for transient failures (doubles each attempt).")
    worker_threads: int = Field(32, ge=1, le=512, description="Concurrent sends per worker process.")
    poll_seconds: float = Field(1.0, gt=0, description="How often an idle worker looks for due rows.")
    lease_seconds: float = Field(120.0, gt=0, description="A row left in 'sending' this long is recovered by the sweeper.")
    sync_seconds: float = Field(10.0, gt=0, description="How often the scheduler re-reads schedule.toml.")
    horizon_days: int = Field(60, ge=1, description="How far ahead cron posts are expanded into delivery rows.")
    request_timeout: float = Field(30.0, gt=0, description="Seconds before a platform request counts as timed out.")
    heartbeat_stale_seconds: float = Field(
        60.0, gt=0, description="A background loop that has not beaten this long (plus its own interval) is stalled: "
        "/healthz answers 503 naming it and `status` shows it.",
    )

    # --- X ---------------------------------------------------------------------------------------------------------
    x_api_url: str = Field("https://api.twitter.com", description="Base URL of the X API (a fake server in tests).")
    x_consumer_key: SecretStr | None = Field(None, description="X OAuth 1.0a consumer (API) key.")
    x_consumer_secret: SecretStr | None = Field(None, description="X OAuth 1.0a consumer secret.")
    x_access_token: SecretStr | None = Field(None, description="X OAuth 1.0a user access token.")
    x_access_token_secret: SecretStr | None = Field(None, description="X OAuth 1.0a user access token secret.")
    x_client_id: str | None = Field(None, description="X OAuth 2.0 client id (for the user-token-with-refresh flow).")
    x_client_secret: SecretStr | None = Field(None, description="X OAuth 2.0 client secret (confidential clients).")
    x_oauth2_refresh_token: SecretStr | None = Field(
        None, description="Initial X OAuth 2.0 refresh token; after first use the rotated pair lives encrypted in the database."
    )
    x_user_id: str | None = Field(None, description="The X account's numeric id (looked up with /2/users/me when unset).")

    # --- Facebook ----------------------------------------------------------------------------------------------------
    facebook_graph_url: str = Field("https://graph.facebook.com", description="Base URL of the Graph API (a fake server in tests).")
    facebook_graph_version: str = Field("v25.0", description="Graph API version the client is pinned to.")
    facebook_page_id: str | None = Field(None, description="The Facebook Page id posts go to.")
    facebook_page_token: SecretStr | None = Field(None, description="A long-lived Page access token for that Page.")

    # --- Mastodon and Bluesky (the organisation's own accounts) ---------------------------------------------------
    mastodon_api_url: str | None = Field(None, description="The organisation's Mastodon server, e.g. https://mastodon.social.")
    mastodon_access_token: SecretStr | None = Field(
        None, description="An access token of the organisation's Mastodon account (scopes write:statuses write:media).",
    )
    mastodon_max_chars: int = Field(
        500, ge=1, description="Mastodon's length limit until the server's own is read (GET /api/v2/instance).",
    )
    bluesky_pds_url: str = Field("https://bsky.social", description="The organisation's Bluesky PDS (its host).")
    bluesky_handle: str | None = Field(None, description="The organisation's Bluesky handle, e.g. example.org.")
    bluesky_app_password: SecretStr | None = Field(
        None, description="An app password of that account (Settings → App passwords), never the main password.",
    )

    # --- web, mail and pledges -------------------------------------------------------------------------------------------
    public_url: str = Field("http://127.0.0.1:8000", description="Base URL used in links in emails and share pages.")
    footer_url: str | None = Field(
        None, description="Where the public pages' footer links (the organisation's site or privacy page); unset: the "
        "campaign's own `link`.",
    )
    facebook_app_id: str | None = Field(
        None, description="A Meta app id: with it, Facebook sharing uses the documented Share dialog; unset: the "
        "sharer link. Either way the shared page is the campaign's own page here.",
    )
    host: str = Field("127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `serve` binds to.")
    smtp_url: SecretStr | None = Field(
        None, description="smtp://user:pass@host:port or smtps://…; unset: mail goes to DATA_DIR/mail as .eml files."
    )
    manager_email: str | None = Field(
        None,
        description="Gets an email for each manager notice (account to reconnect, missed post, refused edit); "
        "unset: notices show only in `status` and /admin.",
    )
    mail_from: str = Field("Campaign <campaign@localhost>", description="From address of every email.")
    mail_rate: float = Field(0.0, ge=0, description="Emails per second per worker (0: as fast as the server takes them).")
    mail_connections: int = Field(
        8, ge=1, le=64, description="SMTP connections each mail worker keeps open and reuses (one DB commit per round over them)."
    )
    max_emails_per_address: int = Field(5, ge=1, description="No address gets more emails than this per campaign; the last is kept for the release news.")
    pledge_rate_limits: Annotated[str, NoDecode] = Field(
        "30/60s,300/3600s",
        description="Pledge attempts per client IP per campaign, as count/window pairs in fixed windows (s, m, h); a "
        "client over a limit gets a 429 page telling when to try again. The default lets a class of 30 behind one "
        "school or conference network pledge in the same minute and 300 in an hour, while one abusive client "
        "triggers at most 300 confirmation emails an hour. Empty turns limits off.",
    )
    fraud_retention_days: int = Field(
        30, ge=1, description="Honeypot (fraud) pledge rows are deleted this many days after they came in."
    )
    retention_days: int = Field(
        180, ge=1, description="Days after a campaign's release (or its failure) when the personal data of supporters who "
        "did not opt in to an organisation's updates is erased (scheduled job; see docs/PRIVACY.md).",
    )
    progress_interval: float = Field(2.0, gt=0, description="Seconds between pledge-counter flushes (and progress.json max-age).")
    image_decode_concurrency: int = Field(
        0, ge=0, le=256, description="Photos decoded at once per process (badge maker); 0: one per CPU core."
    )
    image_decode_wait_seconds: float = Field(
        10.0, ge=0, description="A badge request waits this long for a free decode slot, then gets a 503 with Retry-After."
    )
    trust_forwarded_for: bool = Field(
        False, description="Take the client IP from X-Forwarded-For, as set by the proxies in FORWARDED_ALLOW_IPS."
    )
    forwarded_allow_ips: str = Field(
        "",
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies whose X-Forwarded-For is "
        "trusted when TRUST_FORWARDED_FOR is on ('*': any peer); empty: 127.0.0.1 and ::1, a proxy on the same host.",
    )
    campaigns: Annotated[list[Path], NoDecode] = Field(
        default_factory=list, description="Campaign files (schedule.toml) this deployment serves, comma-separated; "
        "empty: SCHEDULE alone. `--schedule` may be repeated instead.",
    )
    require_2fa: bool = Field(False, description="Owners must set up a TOTP second factor before using the workspace.")
    session_hours: float = Field(12.0, gt=0, description="A workspace login lasts this long without activity.")
    login_rate_limits: str = Field(
        "5/300s,20/3600s", description="Failed logins allowed per account and per client address, in fixed windows.",
    )
    admin_token: SecretStr | None = Field(
        None, description="Token for the read-only JSON under /admin/api/ (Bearer header), for scripts; the workspace "
        "pages need a logged-in user.",
    )

    # --- webhooks ---------------------------------------------------------------------------------------------------
    webhook_url: str | None = Field(
        None, description="http(s) URL of the one webhook endpoint configured in settings (named `default`); it may "
        "receive personal data (name, email). Needs WEBHOOK_SECRET.",
    )
    webhook_secret: SecretStr | None = Field(
        None, description="The `whsec_…` signing secret of WEBHOOK_URL (Standard Webhooks: base64 of 24 to 64 random bytes).",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="A webhook POST gets this long to connect and this long for each read of the answer.",
    )
    webhook_concurrency: int = Field(8, ge=1, le=128, description="Webhook POSTs in flight at once per worker process.")
    webhook_pause_after: int = Field(
        10, ge=1, description="An endpoint that fails this many deliveries in a row is paused and the manager told.",
    )

    log_level: str = Field("INFO", description="Logging level.")

    @field_validator("x_api_url", "facebook_graph_url", "public_url", "mastodon_api_url", "bluesky_pds_url")
    @classmethod
    def _strip_slash(cls, v: str | None) -> str | None:
        return v.rstrip("/") if v else v

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, v: SecretStr | None) -> SecretStr | None:
        return config_checks.smtp_url(v)

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, v: str | None) -> str | None:
        return config_checks.webhook_url(v)

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, v: SecretStr | None) -> SecretStr | None:
        return config_checks.webhook_secret(v)

    @field_validator("manager_email")
    @classmethod
    def _check_manager_email(cls, v: str | None) -> str | None:
        if v is not None and (v.count("@") != 1 or v.startswith("@") or v.endswith("@") or any(c.isspace() for c in v)):
            raise ValueError(f"{v!r} is not an email address")
        return v or None

    @field_validator("campaigns", mode="before")
    @classmethod
    def _split_campaigns(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [Path(part.strip()) for part in v.split(",") if part.strip()]
        return v

    @field_validator("pledge_rate_limits", "login_rate_limits")
    @classmethod
    def _check_limits(cls, v: str) -> str:
        parse_rate_limits(v)
        return v

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _check_forwarded_allow_ips(cls, v: str) -> str:
        return config_checks.forwarded_allow_ips(v)

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        for name in type(self).model_fields:
            value = getattr(self, name)
            raw = value.get_secret_value() if isinstance(value, SecretStr) else value
            if isinstance(raw, str) and raw.strip().lower() in PLACEHOLDERS:
                raise ValueError(f"{env_name(name)} is a placeholder ({raw!r}); set a real value or unset it")
        for label, names in CREDENTIAL_GROUPS.items():
            present = [n for n in names if getattr(self, n) is not None]
            if present and len(present) != len(names):
                missing = ", ".join(env_name(n) for n in names if getattr(self, n) is None)
                raise ValueError(f"{label} credentials are incomplete: missing {missing}")
        return self

    # --- derived ---------------------------------------------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL with ``postgres://`` and ``postgresql://`` as ``postgresql+psycopg://`` (the driver we ship)."""
        if self.database_url:
            scheme, sep, rest = self.database_url.partition("://")
            if sep and scheme in ("postgres", "postgresql"):
                return f"postgresql+psycopg://{rest}"
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'social-campaign.db').resolve()}"

    @property
    def trusted_proxies(self) -> str:
        """The peers whose X-Forwarded-For is honoured, in uvicorn's ``forwarded_allow_ips`` form ("" when none)."""
        if not self.trust_forwarded_for:
            return ""
        return self.forwarded_allow_ips or "127.0.0.1,::1"

    @cached_property
    def key(self) -> bytes:
        """The 32-byte secret behind token encryption and IP salting (created on first use, mode 0600)."""
        if self.secret_key is not None:
            import hashlib

            return hashlib.sha256(self.secret_key.get_secret_value().encode()).digest()
        path = self.data_dir / "secret.key"
        if not path.exists():
            from social_campaign.files import private_dir

            private_dir(path.parent)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
            try:
                os.link(tmp, path)  # first writer wins; never overwrite an existing key
            except FileExistsError:
                pass
            tmp.unlink(missing_ok=True)
        data = path.read_bytes()
        if len(data) != 32:
            raise ConfigError(f"{path}: secret key must be 32 bytes; delete it to create a new one")
        return data

    @property
    def x_oauth1_configured(self) -> bool:
        return self.x_consumer_key is not None

    @property
    def x_oauth2_configured(self) -> bool:
        return self.x_client_id is not None and self.x_oauth2_refresh_token is not None

    @property
    def facebook_configured(self) -> bool:
        return self.facebook_page_id is not None and self.facebook_page_token is not None

    @property
    def mastodon_configured(self) -> bool:
        return self.mastodon_api_url is not None and self.mastodon_access_token is not None

    @property
    def bluesky_configured(self) -> bool:
        return self.bluesky_handle is not None and self.bluesky_app_password is not None

    @property
    def campaign_paths(self) -> list[Path]:
        """Every campaign file served: CAMPAIGNS, else SCHEDULE alone (duplicates dropped, order kept)."""
        return list(dict.fromkeys(self.campaigns)) if self.campaigns else [self.schedule]

    @property
    def rate_limits(self) -> list[tuple[int, float]]:
        return parse_rate_limits(self.pledge_rate_limits)


def env_name(field: str) -> str:
    return f"SOCIAL_CAMPAIGN_{field.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Build settings, translating validation errors into one clear :class:`ConfigError` line per problem."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{env_name(loc)}: {msg}" if loc else msg)
        raise ConfigError("; ".join(lines)) from None
