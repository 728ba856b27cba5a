from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.organisation import Organisation
    from app.models.user import User

PHASES = ("draft", "amending", "signing", "published", "withdrawn")


class Statement(db.Model):
    __tablename__ = "statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    coordinator_organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    # Number of the newest version; versions are 1..version_count.
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    # The BCP 47 tag of the language the statement is drafted and amended in (app.translating).
    source_language: Mapped[str] = mapped_column(String(35), default="en", server_default="en")
    decision_rule: Mapped[str | None] = mapped_column(String(20))
    amendment_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Signing: the frozen version every signature must name, and the coordinator's plans.
    frozen_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", use_alter=True, name="fk_statements_frozen_version_id_versions"),
        index=True,
    )
    signing_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_publication_date: Mapped[date | None] = mapped_column(Date)
    auto_publish: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    coordinator: Mapped[User] = relationship()
    coordinator_organisation: Mapped[Organisation] = relationship()
    frozen_version: Mapped[Version | None] = relationship(foreign_keys=[frozen_version_id])
    # Every organisation ever invited, including those that withdrew (kept for history).
    memberships: Mapped[list[Participant]] = relationship(
        back_populates="statement",
        order_by="Participant.position",
        cascade="all, delete-orphan",
        lazy="selectin",  # nearly every page asks who takes part: one query for all of them
    )
    paragraphs: Mapped[list[Paragraph]] = relationship(
        back_populates="statement", order_by="Paragraph.position", viewonly=True
    )

    # --- permission questions: answered by app.permissions, which routes, rules, the API and
    # templates all ask (these helpers are shorthands for it) ---

    def rights(self, user: User | None, *, now: datetime | None = None):
        from app.permissions import statement_rights

        return statement_rights(self, user, now=now)

    def is_participant_member(self, user: User | None) -> bool:
        return self.rights(user).is_member

    def can_view(self, user: User | None) -> bool:
        return self.rights(user).can_view

    def can_edit_draft(self, user: User | None) -> bool:
        return self.rights(user).can_edit

    def is_coordinator(self, user: User | None) -> bool:
        from app.permissions import is_coordinator

        return is_coordinator(self, user)

    def can_open(self, user: User | None) -> bool:
        return self.rights(user).can_open

    def participates(self, organisation: Organisation) -> bool:
        return any(p.organisation_id == organisation.id for p in self.participants)

    def delegate_organisations(self, user: User | None) -> list[Organisation]:
        """The participating organisations ``user`` may speak for as a delegate."""
        return self.organisations_by_id(self.rights(user).delegate_for)

    def organisations_by_id(self, ids) -> list[Organisation]:
        """Participating organisations with these ids, in the participants' order."""
        wanted = set(ids)
        return [o for o in self.participant_organisations if o.id in wanted]

    def amendments_open(self, now: datetime) -> bool:
        """Whether new amendments are accepted now (phase and deadline)."""
        from app.permissions import amendments_open

        return amendments_open(self, now)

    @property
    def participants(self) -> list[Participant]:
        """The organisations taking part now (not those that withdrew)."""
        return [p for p in self.memberships if p.withdrawn_at is None]

    @property
    def participant_organisations(self) -> list[Organisation]:
        return [p.organisation for p in self.participants]

    def __repr__(self) -> str:
        return f"<Statement {self.id} {self.slug}>"


class Participant(db.Model):
    """An organisation taking part in a statement, in the order of the signatory line."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("statement_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    withdraw_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    statement: Mapped[Statement] = relationship(back_populates="memberships")
    organisation: Mapped[Organisation] = relationship(lazy="joined")


class Paragraph(db.Model):
    """A paragraph's stable identity. Its number is its rank among live paragraphs."""

    __tablename__ = "paragraphs"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    current_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("revisions.id", use_alter=True, name="fk_paragraphs_current_revision_id_revisions"),
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    statement: Mapped[Statement] = relationship(back_populates="paragraphs")
    current_revision: Mapped[Revision | None] = relationship(
        foreign_keys=[current_revision_id], post_update=True
    )

    @property
    def text(self) -> str:
        return self.current_revision.text if self.current_revision else ""

    @property
    def is_live(self) -> bool:
        return self.deleted_at is None


class Revision(db.Model):
    """One immutable text of a paragraph."""

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    paragraph_id: Mapped[int] = mapped_column(ForeignKey("paragraphs.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    # The word diff of the parent's text becoming this one (app.diffing.stored); None for a first text.
    diff: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The accepted amendment that produced this text (None for direct draft edits).
    amendment_id: Mapped[int | None] = mapped_column(
        ForeignKey("amendments.id", use_alter=True, name="fk_revisions_amendment_id_amendments"),
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    paragraph: Mapped[Paragraph] = relationship(foreign_keys=[paragraph_id])
    author: Mapped[User] = relationship()


class Version(db.Model):
    """An immutable snapshot of the whole statement, with the SHA-256 of its canonical text."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("statement_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    canonical_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amendment_id: Mapped[int | None] = mapped_column(
        ForeignKey("amendments.id", use_alter=True, name="fk_versions_amendment_id_amendments"),
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    statement: Mapped[Statement] = relationship(foreign_keys=[statement_id])
    author: Mapped[User] = relationship()
    entries: Mapped[list[VersionParagraph]] = relationship(
        order_by="VersionParagraph.number", cascade="all, delete-orphan"
    )


class VersionParagraph(db.Model):
    """Which revision of which paragraph stood at which number in a version."""

    __tablename__ = "version_paragraphs"

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    paragraph_id: Mapped[int] = mapped_column(ForeignKey("paragraphs.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), index=True)

    revision: Mapped[Revision] = relationship()
