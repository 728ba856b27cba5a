from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, text
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
    """The published statement. Written once; never changes (promise 4 and 6)."""

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

    statement: Mapped[Statement] = relationship()
    version: Mapped[Version] = relationship()
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
