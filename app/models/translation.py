"""Statement languages and translations (issue 14, items 2-4).

A statement has a source language (``statements.source_language``) and any number of target
languages (``StatementLanguage``). A translation is a set of immutable ``TranslationText`` rows
(append-only, like revisions): the newest row of each (language, paragraph) is the current one, and
the title's rows have ``paragraph_id`` None. Each paragraph's row names the source revision it
translates, so whether it is outdated is derived (its ``source_revision_id`` is not the paragraph's
``current_revision_id``), never kept as a flag. At freeze the authentic languages' canonical texts are
written once (``FrozenTranslation``); a publication's other languages are ``PublicationLanguage`` rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

MAX_LANGUAGE_TAG = 35


class StatementLanguage(db.Model):
    """A target language of a statement. ``authentic``: the coordinator's choice when freezing."""

    __tablename__ = "statement_languages"
    __table_args__ = (UniqueConstraint("statement_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    language: Mapped[str] = mapped_column(String(MAX_LANGUAGE_TAG))
    authentic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TranslationText(db.Model):
    """One immutable text of the translation of a title (``paragraph_id`` None) or of one paragraph."""

    __tablename__ = "translation_texts"
    __table_args__ = (Index("ix_translation_texts_statement_language", "statement_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    language: Mapped[str] = mapped_column(String(MAX_LANGUAGE_TAG))
    paragraph_id: Mapped[int | None] = mapped_column(ForeignKey("paragraphs.id"), index=True)
    # The source revision this text translates (paragraphs), and the source title (the title's rows).
    source_revision_id: Mapped[int | None] = mapped_column(ForeignKey("revisions.id"), index=True)
    source_title: Mapped[str] = mapped_column(Text, default="", server_default="")
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FrozenTranslation(db.Model):
    """An authentic translation's canonical text as frozen for signing, with its SHA-256.

    Written at freeze, never changed but for ``status``: ``current`` while that freeze stands, ``void``
    once the statement is reopened (kept, like the signatures that named it).
    """

    __tablename__ = "frozen_translations"

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    language: Mapped[str] = mapped_column(String(MAX_LANGUAGE_TAG))
    title: Mapped[str] = mapped_column(String(300))
    canonical_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    authentic: Mapped[bool] = mapped_column(Boolean, default=True, server_default=false())
    status: Mapped[str] = mapped_column(String(10), default="current")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublicationLanguage(db.Model):
    """A published statement in one more language: its texts as published, never changed.

    Authentic ones were signed with the source (their ``canonical_sha256`` is in every signature);
    a non-authentic one may be added after publication and is marked as such everywhere.
    """

    __tablename__ = "publication_languages"
    __table_args__ = (UniqueConstraint("publication_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), index=True)
    language: Mapped[str] = mapped_column(String(MAX_LANGUAGE_TAG))
    authentic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    title: Mapped[str] = mapped_column(String(300))
    canonical_text: Mapped[str] = mapped_column(Text)
    canonical_sha256: Mapped[str] = mapped_column(String(64))
    plain_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # A non-authentic language added after publication carries its own sealed manifest ('' otherwise).
    manifest: Mapped[str] = mapped_column(Text, default="", server_default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrganisationName(db.Model):
    """How statements in one language name an organisation (else its name in statements)."""

    __tablename__ = "organisation_names"
    __table_args__ = (UniqueConstraint("organisation_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    language: Mapped[str] = mapped_column(String(MAX_LANGUAGE_TAG))
    name_in_statements: Mapped[str] = mapped_column(String(300))
