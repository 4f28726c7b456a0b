"""Rows such as a running service writes, by table name, for ``tests/test_migrations.py``.

Written against the tables as the revisions created them, never against ``social_campaign/models.py`` (the models
move on; a deployed database holds what older code wrote). Times are naive UTC, which is how ``UTCDateTime`` stores
them. A value ``Ref(table, n)`` is the primary key of the ``n``-th seeded row of ``table``. Columns a later revision
adds are filled by :func:`generic_value`, and tables without rows here get generic rows, so a new revision is covered
without editing this file; add realistic rows for a new table when you add it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

T = datetime(2027, 11, 20, 14, 0, 0, 123456)
H64 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@dataclass(frozen=True)
class Ref:
    table: str
    n: int = 0


SEED: dict[str, list[dict[str, Any]]] = {
    "account": [
        {"channel": "x", "status": "needs_reconnect", "reason": "X answered 401: token revoked",
         "access_token_enc": "gAAAAABnQ-enc-access", "refresh_token_enc": "gAAAAABnQ-enc-refresh",
         "expires_at": T + timedelta(hours=2), "updated_at": T},
        {"channel": "facebook", "status": "ok", "reason": None, "access_token_enc": None, "refresh_token_enc": None,
         "expires_at": None, "updated_at": T},
    ],
    "badgemaker": [{"campaign": "childrens-day", "maker_hash": H64, "first_at": T}],
    "campaigncounter": [{"campaign": "childrens-day", "confirmed": 1234, "reconciled_at": T, "updated_at": T}],
    "campaignrevision": [
        {"campaign": "childrens-day", "content_hash": H64, "source": "/srv/campaigns/childrens-day/schedule.toml",
         "synced_at": T, "last_refused": "schedule.toml:12: unknown key 'chanels' in post 'kickoff'",
         "refused_at": T + timedelta(minutes=3)},
    ],
    "delivery": [
        {"campaign": "childrens-day", "post_id": "kickoff", "channel": "x", "occurrence": "", "kind": "post",
         "due_at": T, "state": "sent", "text": "Ratify the #CRC 🧒🏽👧🏿 https://example.org/crc",
         "media_json": '[{"path": "/srv/media/card-x.png", "alt": "Infographic: 196 countries"}]',
         "content_hash": H64, "attempts": 2, "next_attempt_at": None, "claimed_by": "web1:boot7:4242:ab12",
         "claimed_at": T, "remote_id": "1861234567890123456", "remote_url": "https://x.com/i/status/1861234567890123456",
         "last_error": None, "sent_at": T + timedelta(seconds=4), "created_at": T - timedelta(days=2), "updated_at": T},
        {"campaign": "childrens-day", "post_id": "weekly", "channel": "facebook", "occurrence": "2027-11-22T14:00:00+00:00",
         "kind": "post", "due_at": T + timedelta(days=2), "state": "scheduled",
         "text": "يوم الطفل العالمي: حقوق كل طفل #ChildrensDay", "media_json": "[]", "content_hash": H64[::-1],
         "attempts": 1, "next_attempt_at": T + timedelta(minutes=15), "claimed_by": None, "claimed_at": None,
         "remote_id": None, "remote_url": None, "last_error": "Facebook rate limit reached (code 4)", "sent_at": None,
         "created_at": T - timedelta(days=1), "updated_at": T},
        {"campaign": "childrens-day", "post_id": "release", "channel": "x", "occurrence": "", "kind": "release",
         "due_at": T + timedelta(days=5), "state": "failed", "text": "We did it: 1,234 people pledged.",
         "media_json": "[]", "content_hash": H64, "attempts": 3, "next_attempt_at": None, "claimed_by": None,
         "claimed_at": None, "remote_id": None, "remote_url": None, "last_error": "gave up after 3 attempts: 503",
         "sent_at": None, "created_at": T, "updated_at": T},
    ],
    "attempt": [
        {"delivery_id": Ref("delivery"), "worker": "web1:boot7:4242:ab12", "started_at": T, "finished_at": T,
         "request_summary": "POST /2/tweets (42 chars, 1 media)", "http_status": 503, "error_code": None,
         "outcome": "transient", "reason": "X answered 503 (over capacity)"},
        {"delivery_id": Ref("delivery"), "worker": "web1:boot7:4242:ab12", "started_at": T + timedelta(seconds=3),
         "finished_at": T + timedelta(seconds=4), "request_summary": "POST /2/tweets (42 chars, 1 media)",
         "http_status": 201, "error_code": None, "outcome": "sent", "reason": None},
    ],
    "emailmessage": [
        {"campaign": "childrens-day", "kind": "confirm", "to_addr": "Amira.K@Example.org",
         "to_canonical": "amira.k@example.org", "subject": "Confirm your pledge", "body_text": "Tap to confirm: …",
         "body_html": "<p>Tap to confirm</p>", "headers_json": '{"List-Unsubscribe": "<https://example.org/u/t>"}',
         "message_id": "<c1@example.org>", "dedupe_key": "confirm:childrens-day:1", "state": "queued", "attempts": 0,
         "not_before": T, "claimed_by": None, "claimed_at": None, "sent_at": None, "last_error": None,
         "created_at": T},
        {"campaign": "childrens-day", "kind": "release", "to_addr": "li.wei@example.cn", "to_canonical": "li.wei@example.cn",
         "subject": "It's time: share now", "body_text": "The goal was reached.", "body_html": None, "headers_json": "{}",
         "message_id": "<r2@example.org>", "dedupe_key": "release:childrens-day:2", "state": "sent", "attempts": 1,
         "not_before": T, "claimed_by": "worker2", "claimed_at": T, "sent_at": T + timedelta(seconds=1),
         "last_error": None, "created_at": T},
    ],
    "managernotice": [
        {"campaign": "childrens-day", "kind": "reconnect", "message": "the x account needs reconnecting",
         "dedupe_key": "reconnect:x:1", "created_at": T, "emailed_at": None},
    ],
    "outboxitem": [
        {"delivery_id": Ref("delivery"), "channel": "outbox", "text": "Ratify the #CRC 🧒🏽👧🏿", "media_json": "[]",
         "file": "/srv/data/outbox/0001-kickoff.json", "created_at": T},
    ],
    "pledge": [
        {"campaign": "childrens-day", "name": "Amira K.", "email": "Amira.K@Example.org",
         "email_canonical": "amira.k@example.org", "active_email": "amira.k@example.org", "country": "EG",
         "postcode": "11511", "status": "confirmed", "fraud_reason": None, "ip_hash": H64, "confirm_token_hash": H64,
         "withdraw_token_hash": H64[::-1], "share_token": "s-AbCdEf123", "variant": 2, "created_at": T,
         "confirmed_at": T + timedelta(minutes=5), "withdrawn_at": None},
        {"campaign": "childrens-day", "name": "Li Wei", "email": "li.wei@example.cn", "email_canonical": "li.wei@example.cn",
         "active_email": None, "country": None, "postcode": None, "status": "withdrawn", "fraud_reason": None,
         "ip_hash": H64, "confirm_token_hash": None, "withdraw_token_hash": None, "share_token": None, "variant": None,
         "created_at": T, "confirmed_at": T, "withdrawn_at": T + timedelta(hours=1)},
        {"campaign": "childrens-day", "name": "bot", "email": "x@spam.example", "email_canonical": "x@spam.example",
         "active_email": None, "country": None, "postcode": None, "status": "fraud", "fraud_reason": "honeypot",
         "ip_hash": H64[::-1], "confirm_token_hash": None, "withdraw_token_hash": None, "share_token": None,
         "variant": None, "created_at": T, "confirmed_at": None, "withdrawn_at": None},
    ],
    "pledgerelease": [
        {"campaign": "childrens-day", "state": "fired", "goal": 1000, "evaluated_at": T, "confirmed_at_evaluation": 1234,
         "fired_at": T + timedelta(hours=1), "deliveries_created": True, "fanout_cursor": 812, "fanout_done": False,
         "notified": 811, "updated_at": T},
    ],
    "ratehit": [{"campaign": "childrens-day", "ip_hash": H64, "at": T}, {"campaign": "childrens-day", "ip_hash": H64, "at": T}],
    "shareclick": [{"campaign": "childrens-day", "pledge_id": Ref("pledge"), "channel": "mastodon", "at": T}],
    "taskrun": [
        {"name": "pledge_release", "period": "2027-11-20T14:00", "started_at": T, "finished_at": T + timedelta(seconds=2),
         "result": "released 1234"},
    ],
    "heartbeat": [
        {"process": "web1:boot7:4242", "loop": "mail", "role": "worker", "beat_at": T, "interval_seconds": 5.0,
         "errors": 2, "last_error": "database is locked", "last_error_at": T, "stopped_at": None},
    ],
    "ratebucket": [
        {"campaign": "childrens-day", "ip_hash": H64, "window_seconds": 60, "window_start": T, "hits": 17},
    ],
    "mailoptout": [{"campaign": "childrens-day", "email_canonical": "li.wei@example.cn", "at": T}],
    "app_user": [
        {"email": "amina@coalition.example", "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
         "role": "owner", "totp_secret_enc": "gAAAAABnQ-enc-totp", "created_at": T, "password_changed_at": T,
         "last_login_at": T + timedelta(hours=1)},
        {"email": "ben@coalition.example", "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdDI$aGFzaDI",
         "role": "viewer", "totp_secret_enc": None, "created_at": T, "password_changed_at": T, "last_login_at": None},
    ],
    "user_session": [
        {"token_hash": H64, "user_id": Ref("app_user", 0), "created_at": T, "last_seen_at": T,
         "expires_at": T + timedelta(hours=12), "second_factor_ok": True},
    ],
    "password_reset": [
        {"token_hash": H64[::-1], "user_id": Ref("app_user", 1), "created_at": T, "expires_at": T + timedelta(hours=1),
         "used_at": None},
    ],
    "workspace_revision": [
        {"campaign": "childrens-day", "number": 1, "version": H64, "parent_version": H64[::-1],
         "author": "amina@coalition.example", "summary": "post show-support: text",
         "created_at": T, "files": '{"schedule.toml": "[campaign]\\nslug = \\"childrens-day\\"\\n"}',
         "diff": "--- a/messages/show-support.md\n+++ b/messages/show-support.md\n@@ -1 +1 @@\n-old\n+new\n"},
    ],
}  # fmt: skip


def generic_value(column: sa.Column[Any], n: int) -> Any:
    """A value of the column's type, distinct for each ``n`` (for unique keys), for columns the seed does not name."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return n % 2 == 0
    if isinstance(kind, sa.Integer):
        return n + 1
    if isinstance(kind, sa.Float | sa.Numeric):
        return n + 0.5
    if isinstance(kind, sa.DateTime | sa.Date):
        return T + timedelta(minutes=n)
    if isinstance(kind, sa.String):  # Text and VARCHAR
        value = f"{n} {column.table.name}.{column.name} ✓"  # the number first: it survives a short length
        return value[: kind.length] if kind.length else value
    return None
