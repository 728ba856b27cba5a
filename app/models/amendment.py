from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.diffing.stored import load_ops
from app.extensions import db
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.organisation import Organisation
    from app.models.statement import Paragraph, Statement, Version
    from app.models.user import User

KINDS = ("modify", "insert", "delete", "retitle")
# open, rebased and conflicted amendments are undecided; the rest are final.
OPEN_STATUSES = ("open", "rebased", "conflicted")
STATUSES = OPEN_STATUSES + ("accepted", "rejected", "withdrawn", "obsolete", "superseded", "not_decided")
STANCES = ("support", "oppose", "abstain")
DECISION_RULES = ("consensus", "majority", "coordinator")
# A position recorded by proposing or co-sponsoring (Position.given_as); None: taken by itself.
GIVEN_AS = ("proposer", "cosponsor")
# open: waiting for the amendment's proposer; the rest are final. "outdated": the proposer changed the
# amendment's text another way (an edit, another suggestion adopted) while it was open.
SUGGESTION_STATUSES = ("open", "adopted", "declined", "withdrawn", "outdated")

compromise_targets = Table(
    "compromise_targets",
    db.Model.metadata,
    Column("compromise_id", ForeignKey("amendments.id"), primary_key=True),
    Column("amendment_id", ForeignKey("amendments.id"), primary_key=True, index=True),
)


class Amendment(db.Model):
    """A proposal to modify, insert, delete a paragraph or retitle the statement."""

    __tablename__ = "amendments"
    # Covers the open-amendment counts per paragraph and the open siblings of one paragraph.
    __table_args__ = (Index("ix_amendments_statement_id_status", "statement_id", "status", "paragraph_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    # modify/delete: the paragraph; insert: the paragraph it follows (None: at the top).
    paragraph_id: Mapped[int | None] = mapped_column(ForeignKey("paragraphs.id"), index=True)
    # The revision (modify/delete) the proposal was made against; None for insert/retitle.
    base_revision_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id"), index=True)
    base_text: Mapped[str] = mapped_column(Text, default="")
    proposed_text: Mapped[str] = mapped_column(Text, default="")
    # The word diff of base_text becoming proposed_text (app.diffing.stored), written with the texts.
    diff: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    # While the paragraph has moved on from base_text (a conflicted amendment): the word diff of
    # the paragraph's text now becoming proposed_text, written whenever the paragraph changes.
    current_diff: Mapped[str | None] = mapped_column(Text)
    base_number: Mapped[int | None] = mapped_column(Integer)  # ¶ number when proposed
    rationale: Mapped[str] = mapped_column(Text, default="")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Bumped by every change of the texts (edit, rebase, revision): an accept names it.
    text_version: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped when the proposer changes the proposal: positions count for one round only.
    round: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    result_version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"), index=True)
    result_paragraph_id: Mapped[int | None] = mapped_column(ForeignKey("paragraphs.id"), index=True)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("amendments.id"), index=True)

    statement: Mapped[Statement] = relationship()
    paragraph: Mapped[Paragraph | None] = relationship(foreign_keys=[paragraph_id], lazy="joined")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    proposer: Mapped[User] = relationship(foreign_keys=[proposer_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    result_version: Mapped[Version | None] = relationship(foreign_keys=[result_version_id])
    # Loaded with the amendment (one extra query for any number of amendments): every page uses them.
    sponsors: Mapped[list[Sponsor]] = relationship(
        back_populates="amendment", order_by="Sponsor.created_at", cascade="all, delete-orphan", lazy="selectin"
    )
    positions: Mapped[list[Position]] = relationship(
        back_populates="amendment", order_by="Position.id", cascade="all, delete-orphan", lazy="selectin"
    )
    comments: Mapped[list[Comment]] = relationship(
        back_populates="amendment", order_by="Comment.id", cascade="all, delete-orphan"
    )
    history: Mapped[list[AmendmentRevision]] = relationship(
        back_populates="amendment", order_by="AmendmentRevision.id", cascade="all, delete-orphan"
    )
    suggestions: Mapped[list[Suggestion]] = relationship(
        back_populates="amendment", order_by="Suggestion.id", cascade="all, delete-orphan"
    )
    targets: Mapped[list[Amendment]] = relationship(
        secondary=compromise_targets,
        primaryjoin="Amendment.id == compromise_targets.c.compromise_id",
        secondaryjoin="Amendment.id == compromise_targets.c.amendment_id",
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def organisations(self) -> list[Organisation]:
        """Proposing organisation first, then co-sponsors."""
        return [self.organisation] + [s.organisation for s in self.sponsors]

    def current_positions(self) -> dict[int, Position]:
        """The latest position of each organisation in the current round."""
        latest: dict[int, Position] = {}
        for position in self.positions:  # ordered by id: later ones win
            if position.round == self.round:
                latest[position.organisation_id] = position
        return latest

    def earlier_positions(self) -> dict[int, Position]:
        """The latest position of each organisation that has none in the current round: given on an
        earlier text (before a revision or an adopted suggestion started a new round), no longer counted."""
        current = self.current_positions()
        earlier: dict[int, Position] = {}
        for position in self.positions:
            if position.round < self.round and position.organisation_id not in current:
                earlier[position.organisation_id] = position
        return earlier

    def on_earlier_text(self, position: Position) -> bool:
        """Whether ``position`` was given on an earlier text of this amendment than the one it has now
        (a clean rebase keeps positions counting, but they were given on the text before it)."""
        return position.round != self.round or position.text_version < self.text_version

    def label(self) -> str:
        return f"#{self.id}"

    @property
    def ops(self):
        return load_ops(self.diff)

    @property
    def current_ops(self):
        return load_ops(self.current_diff)


class AmendmentRevision(db.Model):
    """Every text an amendment has had: proposed, edited, rebased, revised. Append-only."""

    __tablename__ = "amendment_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"), index=True)
    # proposed | edited | rebased | conflicted | revised | adopted (a suggestion)
    reason: Mapped[str] = mapped_column(String(20))
    # The amendment's text_version this row made current (every text it had has one).
    text_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    base_revision_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id"), index=True)
    base_text: Mapped[str] = mapped_column(Text, default="")
    proposed_text: Mapped[str] = mapped_column(Text, default="")
    diff: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")  # as Amendment.diff
    rationale: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    amendment: Mapped[Amendment] = relationship(back_populates="history")
    author: Mapped[User | None] = relationship(lazy="joined")

    @property
    def ops(self):
        return load_ops(self.diff)


class Sponsor(db.Model):
    """An organisation that joined an amendment as co-sponsor."""

    __tablename__ = "amendment_sponsors"
    __table_args__ = (UniqueConstraint("amendment_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    amendment: Mapped[Amendment] = relationship(back_populates="sponsors")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    user: Mapped[User] = relationship()


class Position(db.Model):
    """One organisation's stance on an amendment. Append-only: the latest counts."""

    __tablename__ = "positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    stance: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    round: Mapped[int] = mapped_column(Integer, default=1)
    # The amendment's text_version when it was given: a clean rebase moves the text on (the position
    # still counts, shown as given on an earlier text).
    text_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # "proposer" / "cosponsor": recorded by proposing or co-sponsoring (GIVEN_AS); None: taken as such.
    given_as: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    amendment: Mapped[Amendment] = relationship(back_populates="positions")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")


class Comment(db.Model):
    """A plain-text comment; replies are one level deep."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    amendment: Mapped[Amendment] = relationship(back_populates="comments")
    author: Mapped[User] = relationship(lazy="joined")


class Suggestion(db.Model):
    """A change to an open amendment's text suggested by a participant's delegate (an amendment to the
    amendment). Its proposer adopts it (the amendment's text becomes it) or declines it with a reason."""

    __tablename__ = "suggestions"
    __table_args__ = (Index("ix_suggestions_amendment_id_status", "amendment_id", "status", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(ForeignKey("amendments.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The amendment's text_version it was made on, and that text (the amendment's proposed text then).
    text_version: Mapped[int] = mapped_column(Integer)
    base_text: Mapped[str] = mapped_column(Text, default="")
    proposed_text: Mapped[str] = mapped_column(Text, default="")
    # The word diff of base_text becoming proposed_text (app.diffing.stored), written with them.
    diff: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    rationale: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    amendment: Mapped[Amendment] = relationship(back_populates="suggestions")
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def ops(self):
        return load_ops(self.diff)

    def outdated_on(self, amendment: Amendment) -> bool:
        """Made on an earlier text of ``amendment`` than its text now: it cannot be adopted as it stands."""
        return self.status == "outdated" or (self.status == "open" and self.text_version != amendment.text_version)
