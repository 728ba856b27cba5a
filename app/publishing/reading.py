"""What the public addresses of a publication read, in a few small queries (issue 17, item 3).

A file (/p/<slug>.txt, .json, .md, .docx, .pdf) is one query by slug for its SHA-256, then the file
of that name on this server's disk (app/publishing/filestore.py), which the first request wrote
from the stored bytes. A page (/p/<slug>, /p/<slug>/certificate) is two queries: the publication
with its statement part's SHA-256 (the part itself from disk like a file), and the rows that can
change after publication, read fresh on every view: each signatory organisation's current name
(signed or recorded, with a recorded signature's confirmation) and the later endorsements. Nothing
that can change is kept between requests. Plain functions: no flask.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Date, DateTime, Integer, String, Text, bindparam, case, cast, literal, null, select, union_all

from app.extensions import db
from app.models import (
    Endorsement,
    Organisation,
    Participant,
    Publication,
    PublicationArtefact,
    PublicationLanguage,
    RecordedSignature,
    Signature,
    Statement,
    Version,
)
from app.publishing.filestore import FileStore


@dataclass(frozen=True)
class StoredFile:
    """A published file: on disk (``path``, sent by sendfile) or, when it cannot be, its bytes."""

    etag: str
    path: Path | None = None
    content: bytes | None = None

    def read(self) -> bytes:
        return self.content if self.path is None else self.path.read_bytes()


_PUBLICATIONS = Publication.__table__.c
_ARTEFACTS = PublicationArtefact.__table__.c
# Core selects (no ORM entities): the cheapest path from a slug to a file's name.
_ARTEFACT = (
    select(_ARTEFACTS.id, _ARTEFACTS.sha256)
    .join_from(PublicationArtefact.__table__, Publication.__table__, _PUBLICATIONS.id == _ARTEFACTS.publication_id)
    .where(_PUBLICATIONS.slug == bindparam("slug"), _ARTEFACTS.kind == bindparam("kind"))
)
_COLUMNS = {"txt": _PUBLICATIONS.plain_text, "json": _PUBLICATIONS.manifest}
_EXISTS = select(_PUBLICATIONS.id).where(_PUBLICATIONS.slug == bindparam("slug"))
_CONTENT = select(_ARTEFACTS.content).where(_ARTEFACTS.id == bindparam("id"))


@contextmanager
def _reading(engine=None) -> Iterator:
    """A connection of its own, outside any transaction, for the few reads of a public address.

    What they read is a publication, which never changes, and the current names, read once: a
    transaction would buy nothing and costs two more round trips on PostgreSQL (BEGIN, ROLLBACK).
    Nothing here ever writes. ``engine``: the app's, when called outside an app context.
    """
    with (engine or db.engine).connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")


class Missing(Exception):
    """The publication exists but this artefact was never made (published before artefacts were stored)."""


def stored_file(slug: str, kind: str, files: FileStore, engine=None) -> StoredFile | None:
    """One format of a publication, with a strong ETag; None if no such publication.

    One query once this server has the file on disk (two the first time). Raises :class:`Missing`
    when the publication exists without that artefact.
    """
    with _reading(engine) as connection:
        return _stored_file(connection, slug, kind, files)


def _on_disk(connection, files: FileStore | None, artefact_id: int, sha256: str) -> tuple[Path | None, bytes | None]:
    """The file named ``sha256``: this server's copy, else written now from the stored bytes."""
    path = files.path(sha256) if files is not None else None
    if path is not None:
        return path, None
    content = connection.execute(_CONTENT, {"id": artefact_id}).scalar_one()
    path = files.put(sha256, content) if files is not None else None
    return (path, None) if path is not None else (None, content)


def _stored_file(connection, slug: str, kind: str, files: FileStore) -> StoredFile | None:
    row = connection.execute(_ARTEFACT, {"slug": slug, "kind": kind}).first()
    if row is not None:
        path, content = _on_disk(connection, files, row[0], row[1])
        return StoredFile(f"{row[1][:32]}-{kind}", path, content)
    if kind in _COLUMNS:  # published before its text and manifest were stored as bytes too
        row = connection.execute(select(_COLUMNS[kind], _PUBLICATIONS.sha256)
                                 .where(_PUBLICATIONS.slug == bindparam("slug")), {"slug": slug}).first()
        return None if row is None else StoredFile(f"{row[1][:32]}-{kind}", content=row[0].encode("utf-8"))
    if connection.execute(_EXISTS, {"slug": slug}).first() is None:
        return None
    raise Missing(kind)


# --- pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signatory:
    """A signature shown on a public page: the organisation's current name, the signer as printed."""

    organisation: str  # its name now
    organisation_slug: str
    signer_name: str
    signer_title: str
    signed_at: datetime | None  # None: recorded (archived statement)
    version_sha256: str
    status: str = "signed"  # or a recorded signature's: recorded, confirmed, disputed
    dispute_reason: str = ""
    answered_at: datetime | None = None


@dataclass(frozen=True)
class LaterEndorsement:
    organisation: str  # its name now
    organisation_slug: str
    endorsed_on: date


@dataclass(frozen=True)
class PageView:
    id: int
    slug: str
    title: str
    sha256: str
    archived: bool
    publication_date: date
    published_at: datetime
    version_number: int
    version_sha256: str
    statement_part: str | None  # the stored HTML; None if made before it was stored
    signatories: tuple[Signatory, ...]
    endorsements: tuple[LaterEndorsement, ...]
    source_language: str = "en"
    language: str = "en"  # the language shown
    # Every other language published: (tag, authentic, SHA-256 of its plain text, of its canonical text).
    languages: tuple[tuple[str, bool, str, str], ...] = ()

    @property
    def translation(self) -> tuple[str, bool, str, str] | None:
        """The entry of the language shown, when it is not the source."""
        return next((t for t in self.languages if t[0] == self.language), None)

    def etag(self, *parts: str) -> str:
        """A strong ETag of what the page shows: the publication and every row read per request."""
        digest = hashlib.sha256()
        for value in (self.sha256, str(self.id), self.language, *parts, *map(repr, self.signatories),
                      *map(repr, self.endorsements), *map(repr, self.languages)):
            digest.update(value.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()[:40]


_PAGE = (
    select(Publication.id, Publication.slug, Publication.sha256, Publication.archived,
           Publication.publication_date, Publication.published_at, Publication.version_id,
           Version.number, Version.sha256, Version.title, PublicationArtefact.id, PublicationArtefact.sha256,
           Statement.source_language)
    .join(Version, Version.id == Publication.version_id)
    .join(Statement, Statement.id == Publication.statement_id)
    .outerjoin(PublicationArtefact, (PublicationArtefact.publication_id == Publication.id)
               & (PublicationArtefact.kind == bindparam("part")))
    .where(Publication.slug == bindparam("slug"))
)


def _names_query():
    """Every row of a page that can change, in one query: ("s"igned | "r"ecorded | "e"ndorsed, …)."""
    signed = (
        select(literal("s").label("kind"), Participant.position.label("pos"), Signature.id.label("row_id"),
               Organisation.name, Organisation.slug, Signature.signer_name, Signature.signer_title,
               Signature.signed_at.label("at"), Signature.version_sha256, cast(null(), String).label("status"),
               cast(null(), Text).label("reason"), cast(null(), Date).label("on_date"))
        .join(Organisation, Organisation.id == Signature.organisation_id)
        .join(Publication, Publication.version_id == Signature.version_id)
        .outerjoin(Participant, (Participant.statement_id == Publication.statement_id)
                   & (Participant.organisation_id == Signature.organisation_id))
        .where(Publication.id == bindparam("publication_id"), Signature.status == "valid")
    )
    recorded = (
        select(literal("r"), RecordedSignature.position, RecordedSignature.id, Organisation.name,
               Organisation.slug, RecordedSignature.signer_name, RecordedSignature.signer_title,
               RecordedSignature.answered_at, literal(""), RecordedSignature.status,
               RecordedSignature.dispute_reason, cast(null(), Date))
        .join(Organisation, Organisation.id == RecordedSignature.organisation_id)
        .where(RecordedSignature.publication_id == bindparam("publication_id"))
    )
    endorsed = (
        select(literal("e"), cast(literal(0), Integer), Endorsement.id, Organisation.name, Organisation.slug,
               literal(""), literal(""), cast(null(), DateTime(timezone=True)), literal(""), cast(null(), String),
               cast(null(), Text), Endorsement.endorsed_on)
        .join(Organisation, Organisation.id == Endorsement.organisation_id)
        .where(Endorsement.publication_id == bindparam("publication_id"))
    )
    languages = (
        select(literal("l"), case((PublicationLanguage.authentic, 1), else_=0), PublicationLanguage.id,
               PublicationLanguage.language, PublicationLanguage.title, PublicationLanguage.sha256,
               PublicationLanguage.canonical_sha256, cast(null(), DateTime(timezone=True)), literal(""),
               cast(null(), String), cast(null(), Text), cast(null(), Date))
        .where(PublicationLanguage.publication_id == bindparam("publication_id"))
    )
    return union_all(signed, recorded, endorsed, languages)


_NAMES = _names_query()


def page_view(slug: str, language: str | None = None, files: FileStore | None = None) -> PageView | None:
    """The page of a publication in its source language, or in ``language`` (None if not published in
    it); its statement part from ``files`` (else read from the database)."""
    with _reading() as connection:
        return _page_view(connection, slug, language, files)


def _page_view(connection, slug: str, language: str | None = None, files: FileStore | None = None) -> PageView | None:
    row = connection.execute(_PAGE, {"slug": slug, "part": f"{language}.html" if language else "html"}).first()
    if row is None:
        return None
    (pub_id, pub_slug, sha256, archived, publication_date, published_at, _version_id, number, version_sha,
     title, part_id, part_sha256, source_language) = row
    part = None
    if part_id is not None:
        path, content = _on_disk(connection, files, part_id, part_sha256)
        part = path.read_bytes() if path is not None else content
    signed, recorded, endorsements, languages = [], [], [], []
    for kind, pos, row_id, name, org_slug, signer, signer_title, at, version_sha256, status, reason, on_date in (
            connection.execute(_NAMES, {"publication_id": pub_id})):
        at = _utc(at)
        if kind == "s":
            signed.append(((pos if pos is not None else 1 << 30), at, row_id,
                           Signatory(name, org_slug, signer, signer_title, at, version_sha256)))
        elif kind == "r":
            recorded.append((pos, row_id, Signatory(name, org_slug, signer, signer_title, None, version_sha,
                                                    status, reason or "", at)))
        elif kind == "l":  # another language: (tag, authentic, SHA-256 of its text, of its canonical text, title)
            languages.append((name, bool(pos), signer, signer_title, org_slug))
        else:
            endorsements.append((row_id, LaterEndorsement(name, org_slug, _date(on_date))))
    languages.sort(key=lambda r: (not r[1], r[0]))
    if language is not None:
        shown = next((r for r in languages if r[0] == language), None)
        if shown is None or part is None:
            return None
        title, sha256, version_sha = shown[4], shown[2], shown[3]
    signatories = [s for *_, s in sorted(signed, key=lambda t: t[:3])] + [s for *_, s in sorted(recorded)]
    return PageView(pub_id, pub_slug, title, sha256, bool(archived), _date(publication_date), _utc(published_at),
                    number, version_sha, part.decode("utf-8") if part is not None else None,
                    tuple(signatories), tuple(e for _, e in sorted(endorsements)), source_language or "en",
                    language or source_language or "en", tuple((r[0], bool(r[1]), r[2], r[3]) for r in languages))


def archive_of(slug: str) -> dict | None:
    """An archived publication's archive record (recorded on, by whom), from its sealed manifest."""
    row = db.session.execute(select(_PUBLICATIONS.manifest).where(_PUBLICATIONS.slug == slug)).first()
    if row is None:
        return None
    archive = json.loads(row[0]).get("archive")
    return archive if isinstance(archive, dict) else None


def seal_public_key(slug: str) -> str:
    """The public key that sealed a publication's manifest (read from the manifest itself)."""
    row = db.session.execute(select(_PUBLICATIONS.manifest).where(_PUBLICATIONS.slug == slug)).first()
    if row is None:
        return ""
    return json.loads(row[0]).get("seal", {}).get("public_key", "")


def _utc(value):
    """Times from a UNION lose their column type on SQLite: read them back as aware UTC datetimes."""
    from datetime import UTC

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def signed_publications(organisation: Organisation) -> list[Publication]:
    """Publications ``organisation`` signed on Concord or was recorded as signing, newest first."""
    signed = (select(Publication.id)
              .join(Signature, (Signature.version_id == Publication.version_id) & (Signature.status == "valid"))
              .where(Signature.organisation_id == organisation.id))
    recorded = (select(RecordedSignature.publication_id)
                .where(RecordedSignature.organisation_id == organisation.id))
    return list(db.session.scalars(
        select(Publication).where(Publication.id.in_(signed.union(recorded)))
        .order_by(Publication.publication_date.desc(), Publication.id.desc())
    ))
