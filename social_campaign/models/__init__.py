"""SQLModel tables. Data access lives in ``crud.py`` and the services, not here.

Times are stored as UTC and come back timezone-aware (``UTCDateTime``), on SQLite and PostgreSQL alike.
Secrets (OAuth tokens) are stored only encrypted (``crypto.py``), in columns named ``*_enc``.
"""

from __future__ import annotations

from social_campaign.models.ops import (
    Heartbeat,
    MailOptOut,
    RateBucket,
)
from social_campaign.models.pledges import (
    BadgeMaker,
    CampaignCounter,
    EmailMessage,
    EmailState,
    Pledge,
    PledgeRelease,
    PledgeStatus,
    ReleaseState,
    ShareClick,
)
from social_campaign.models.scheduling import (
    Account,
    AccountStatus,
    Attempt,
    CampaignRevision,
    Delivery,
    DeliveryState,
    ManagerNotice,
    OutboxItem,
    TaskRun,
)
from social_campaign.models.supporters import (
    AuditEntry,
    ConsentRecord,
    ConsentText,
    PledgeData,
    WebhookDelivery,
    WebhookEndpoint,
)
from social_campaign.models.types import UTCDateTime, utcnow
from social_campaign.models.workspace import PasswordReset, User, UserRole, UserSession, WorkspaceRevision

__all__ = [
    "Account",
    "AccountStatus",
    "Attempt",
    "AuditEntry",
    "BadgeMaker",
    "CampaignCounter",
    "CampaignRevision",
    "ConsentRecord",
    "ConsentText",
    "Delivery",
    "DeliveryState",
    "EmailMessage",
    "EmailState",
    "Heartbeat",
    "MailOptOut",
    "ManagerNotice",
    "OutboxItem",
    "PasswordReset",
    "Pledge",
    "PledgeData",
    "PledgeRelease",
    "PledgeStatus",
    "RateBucket",
    "ReleaseState",
    "ShareClick",
    "TaskRun",
    "UTCDateTime",
    "User",
    "UserRole",
    "UserSession",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WorkspaceRevision",
    "utcnow",
]
