"""Every model, imported here so that Alembic and the app see all tables."""

from app.models.amendment import (
    DECISION_RULES,
    KINDS,
    OPEN_STATUSES,
    STANCES,
    Amendment,
    AmendmentRevision,
    Comment,
    Position,
    Sponsor,
)
from app.models.audit_entry import AuditEntry
from app.models.notification import (
    DELIVERY_MODES,
    EVENT_KINDS,
    Notification,
    NotificationPreference,
    OutboxMessage,
    Reminder,
    StatementInvitation,
)
from app.models.organisation import ROLE_LABELS, ROLES, Membership, Organisation
from app.models.signing import Endorsement, Publication, Signature
from app.models.statement import (
    PHASES,
    Paragraph,
    Participant,
    Revision,
    Statement,
    Version,
    VersionParagraph,
)
from app.models.user import ApiToken, Invitation, SiteSetting, User

__all__ = [
    "DELIVERY_MODES",
    "EVENT_KINDS",
    "Notification",
    "NotificationPreference",
    "OutboxMessage",
    "Reminder",
    "StatementInvitation",
    "DECISION_RULES",
    "KINDS",
    "OPEN_STATUSES",
    "STANCES",
    "Amendment",
    "AuditEntry",
    "Endorsement",
    "Publication",
    "Signature",
    "AmendmentRevision",
    "Comment",
    "Position",
    "Sponsor",
    "PHASES",
    "ROLES",
    "ROLE_LABELS",
    "ApiToken",
    "Invitation",
    "Membership",
    "Organisation",
    "Paragraph",
    "Participant",
    "Revision",
    "SiteSetting",
    "Statement",
    "User",
    "Version",
    "VersionParagraph",
]
