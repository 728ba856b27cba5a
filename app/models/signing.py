from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from app.models.organisation import Organisation
    from app.models.statement import Statement, Version
    from app.models.user import User

SIGNATURE_STATUSES = ("valid", "revoked", "void")


class Signature(db.Model):
    """One organisation's formal endorsement of one exact version hash (promise 2)."""

    __tablename__ = "signatures"
    __table_args__ = (
        # At most one valid signature per organisation and version, enforced by the database.
        Index("uq_signatures_valid_per_organisation", "version_id", "organisation_id", unique=True,
              postgresql_where=text("status = 'valid'"), sqlite_where=text("status = 'valid'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    version_sha256: Mapped[str] = mapped_column(String(64))
    # The authentic translations it binds too: JSON {language: SHA-256 of its canonical text}.
    translation_sha256: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_title: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(10), default="valid", index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # revoked or voided
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    end_reason: Mapped[str] = mapped_column(Text, default="")

    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    version: Mapped[Version] = relationship()


class Publication(db.Model):
    """The published statement. Written once; never changes (promise 4 and 6).

    An archived publication records a statement that was signed and published elsewhere: its
    ``publication_date`` is the original date, ``published_at`` the day the coordinator recorded it,
    and its signatures are ``RecordedSignature`` rows (as printed), not ``Signature`` rows.
    """

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), unique=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    publication_date: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The plain-text publication exactly as served (UTF-8), its SHA-256, and the sealed manifest.
    plain_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[str] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    statement: Mapped[Statement] = relationship()
    version: Mapped[Version] = relationship()
    published_by: Mapped[User | None] = relationship()
    recorded_signatures: Mapped[list[RecordedSignature]] = relationship(
        back_populates="publication", order_by="RecordedSignature.position", cascade="all, delete-orphan"
    )
    endorsements: Mapped[list[Endorsement]] = relationship(
        back_populates="publication", order_by="Endorsement.id", cascade="all, delete-orphan"
    )


class Endorsement(db.Model):
    """An organisation that endorsed the statement after publication, with its own date."""

    __tablename__ = "endorsements"
    __table_args__ = (UniqueConstraint("publication_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    endorsed_on: Mapped[date] = mapped_column(Date)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    publication: Mapped[Publication] = relationship(back_populates="endorsements")
    organisation: Mapped[Organisation] = relationship()


ARTEFACT_KINDS = ("pdf", "docx", "md", "html")


class PublicationArtefact(db.Model):
    """A file of a publication, made once when it was published and served as stored.

    ``pdf``, ``docx`` and ``md`` are the downloadable formats (their SHA-256 is in the sealed
    manifest of publications made since they exist); ``html`` is the statement part of the public
    page (title, signatory line, paragraphs), which never changes either.
    """

    __tablename__ = "publication_artefacts"
    __table_args__ = (UniqueConstraint("publication_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), index=True)
    # "pdf", ...; a translation's files are "<language>.<kind>" ("de.pdf", "es.txt").
    kind: Mapped[str] = mapped_column(String(50))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


RECORDED_STATUSES = ("recorded", "confirmed", "disputed")


class RecordedSignature(db.Model):
    """A signature of an archived statement, as printed where it was first published.

    The coordinator recorded it; it was not made on Concord. A signatory of the organisation may
    confirm it or dispute it (with a reason) later; the public pages show which.
    """

    __tablename__ = "recorded_signatures"
    __table_args__ = (UniqueConstraint("publication_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="recorded")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispute_reason: Mapped[str] = mapped_column(Text, default="")

    publication: Mapped[Publication] = relationship(back_populates="recorded_signatures")
    organisation: Mapped[Organisation] = relationship()
    answered_by: Mapped[User | None] = relationship()
