"""Tables of the managers' workspace: users and their sessions, password resets, and the saved revisions of each
campaign's files (owned by ``workspace/`` and ``web/auth.py``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from social_campaign.models.types import UTCDateTime, _text, _ts, utcnow


class UserRole(StrEnum):
    """``viewer`` sees the dashboards; ``editor`` also edits posts, messages and media and retries or cancels
    deliveries; ``owner`` also manages users, campaigns and network accounts."""

    viewer = "viewer"
    editor = "editor"
    owner = "owner"


class User(SQLModel, table=True):
    """A manager. ``email`` is stored lower-cased; ``password_hash`` is argon2id; ``totp_secret_enc`` is the TOTP
    secret encrypted with ``crypto.encrypt`` (``None``: no second factor)."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    password_hash: str = Field(max_length=300)
    role: str = Field(default=UserRole.viewer.value, max_length=20)
    totp_secret_enc: str | None = _text()
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    password_changed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    last_login_at: datetime | None = _ts()


class UserSession(SQLModel, table=True):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 (``token_hash``) is stored.
    ``second_factor_ok`` is false between the password and the TOTP code of a user who has one."""

    __tablename__ = "user_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    second_factor_ok: bool = True


class PasswordReset(SQLModel, table=True):
    """A single-use password reset (``users reset`` or the emailed form): the link holds a random token, only its
    SHA-256 is stored; ``used_at`` is set when it is used."""

    __tablename__ = "password_reset"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = _ts()


class WorkspaceRevision(SQLModel, table=True):
    """One saved revision of a campaign's files, from the workspace (or a revert, itself a new revision).

    ``number`` counts from 1 per campaign; ``version`` is the content hash of the files after the save (the hidden
    ``version`` of the edit forms); ``parent_version`` the hash the form was loaded from. ``files`` is JSON
    ``{relative path: text}`` of every text file of the campaign after the save (schedule.toml, messages/*.md,
    infographics/*.toml), so any revision can be shown and restored; ``diff`` is the unified diff from the previous
    state; ``author`` the user's email."""

    __tablename__ = "workspace_revision"
    __table_args__ = (UniqueConstraint("campaign", "number", name="uq_workspace_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign: str = Field(max_length=100, index=True)
    number: int
    version: str = Field(max_length=64)
    parent_version: str = Field(default="", max_length=64)
    author: str = Field(max_length=320)
    summary: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    files: str = Field(sa_column=Column(Text, nullable=False))
    diff: str = Field(default="", sa_column=Column(Text, nullable=False))
