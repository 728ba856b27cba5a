from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.i18n import _
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.organisation import Organisation
    from app.models.statement import Statement
    from app.models.user import User

# Event kinds a person can set a delivery preference for, with what they are called on the page.
EVENT_KINDS = {
    "invitation": _("Invitations of your organisation to a statement"),
    "amendment_new": _("New amendments on statements you take part in"),
    "amendment_activity": _("Positions and comments on your amendments"),
    "amendment_decided": _("Your amendments accepted, rejected, rebased or conflicted"),
    "signature_requested": _("Text frozen: your signature is requested"),
    "signature_voided": _("A signature voided because the text was reopened"),
    "published": _("Statements published"),
    "deadline": _("Deadlines approaching, and missed"),
}
DELIVERY_MODES = ("immediate", "digest", "off")
# The header shows at most this many unread notifications ("99+" past it): counting further would
# make every page's cost grow with how much others told someone.
UNREAD_SHOWN = 99


class ShownTexts:
    """Subject and body in the reader's language: the messages kept in ``texts`` (JSON,
    app/notifications/texts.py), else the English ``subject`` and ``body``."""

    @property
    def shown_subject(self) -> str:
        from app.notifications.texts import shown

        return shown(self.subject, self.texts, "s")

    @property
    def shown_body(self) -> str:
        from app.notifications.texts import shown

        return shown(self.body, self.texts, "b")


class Notification(ShownTexts, db.Model):
    """What a person is told, in the app; e-mails are made from these."""

    __tablename__ = "notifications"
    # Each page's header counts the viewer's unread ones (up to UNREAD_SHOWN): from this index alone.
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str] = mapped_column(String(300))  # where to act, relative to the site
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The subject and body as messages (JSON, app/notifications/texts.py): shown in the reader's language.
    texts: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()
    statement: Mapped[Statement | None] = relationship()


class OutboxMessage(ShownTexts, db.Model):
    """An e-mail to send, written in the same transaction as the change that caused it.

    ``flask notifications send-due`` claims rows (pending -> sending) with a
    conditional UPDATE before it talks to the SMTP server, so two senders never
    send the same row.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for mail to someone without an account yet (an organisation's contact).
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(30))
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str] = mapped_column(String(300))
    mode: Mapped[str] = mapped_column(String(10))  # immediate | digest
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(32), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # As Notification.texts, and "lang": the language of a mail to someone without an account.
    texts: Mapped[str | None] = mapped_column(Text)

    notification: Mapped[Notification | None] = relationship()
    user: Mapped[User | None] = relationship()
    statement: Mapped[Statement | None] = relationship()


class NotificationPreference(db.Model):
    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    mode: Mapped[str] = mapped_column(String(10), default="immediate")


class Reminder(db.Model):
    """A deadline reminder that went out; the unique key makes each one happen once."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("statement_id", "kind", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatementInvitation(db.Model):
    """An organisation invited to take part in a statement: on the platform, or by a contact e-mail."""

    __tablename__ = "statement_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    nonce: Mapped[str] = mapped_column(String(32))
    # pending, accepted, declined or revoked
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # A contact's link stops working then (sending it again moves it on); None: never (older rows).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    statement: Mapped[Statement] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
