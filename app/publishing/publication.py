"""Publishing a signed statement, once (promises 4 and 6), with its files made once.

``publish`` writes one ``Publication`` (the plain text, its SHA-256 and the sealed manifest) and its
``PublicationArtefact`` rows (PDF, DOCX, Markdown, the page's statement part), whose SHA-256 the
manifest lists. Nothing is rendered again afterwards: the public routes serve these bytes.
Plain functions: they take the acting user, flush, never commit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select

from app import audit
from app.drafting.operations import version_texts
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound, WrongPhase
from app.extensions import db
from app.locking import lock_statement
from app.models import Organisation, Publication, PublicationArtefact, Signature, Statement, User, Version
from app.notifications import events
from app.publishing import artefacts, sealing
from app.publishing.formats import PublicationData
from app.publishing.text import plain_text
from app.signing.operations import progress

MANIFEST_FORMAT = "concord-manifest/1"


def participant_json(organisation: Organisation) -> dict:
    """A participant as the manifest names it, with the names it had at publication."""
    return {"name": organisation.name, "name_in_statements": organisation.statement_name,
            "short_name": organisation.short_name, "slug": organisation.slug}


@dataclass
class Draft:
    """Everything a publication is made from, decided before anything is written."""

    data: PublicationData
    manifest: dict  # without files and seal
    version: Version
    key: tuple = field(default=())  # what the rendering depended on


def manifest_body(data: PublicationData, version: Version, participants: list[dict],
                  signatures: list[dict], archive: dict | None = None) -> dict:
    manifest = {
        "format": MANIFEST_FORMAT,
        "title": data.title,
        "slug": data.slug,
        "url": data.url,
        "publication_date": data.publication_date.isoformat(),
        "version": {"number": version.number, "sha256": version.sha256},
        "canonical_text": version.canonical_text,
        "text": data.text,
        "sha256": data.sha256,
        "participants": participants,
        "signatures": signatures,
    }
    if archive is not None:
        manifest["archive"] = archive
    return manifest


def draft(statement: Statement, version: Version, paragraphs: list[str], organisations: list[Organisation],
          signatures: list[dict], publication_date: date, archive: dict | None = None) -> Draft:
    """The plain text, the data every format is made from, and the manifest (not yet sealed)."""
    names = [o.statement_name for o in organisations]
    text = plain_text(version.title, names, publication_date, paragraphs)
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    data = PublicationData(
        title=version.title, slug=statement.slug, publication_date=publication_date,
        version_number=version.number, version_sha256=version.sha256, sha256=sha256, text=text,
        paragraphs=paragraphs, organisations=names, signatures=signatures,
        url=artefacts.public_url(statement.slug), archive=archive,
    )
    participants = [participant_json(o) for o in organisations]
    manifest = manifest_body(data, version, participants, signatures, archive)
    key = (version.id, publication_date, tuple(json.dumps(p, sort_keys=True) for p in participants),
           tuple(json.dumps(s, sort_keys=True) for s in signatures), data.url)
    return Draft(data, manifest, version, key)


def store(statement: Statement, user: User, made: Draft, rendered: dict[str, artefacts.Artefact], *,
          now: datetime, archived: bool = False) -> Publication:
    """Seal the manifest (listing the files' SHA-256) and write the publication with its artefacts."""
    manifest = dict(made.manifest, files=artefacts.manifest_files(rendered))
    manifest = sealing.seal(manifest)
    publication = Publication(
        statement_id=statement.id, version_id=made.version.id, slug=statement.slug,
        publication_date=made.data.publication_date, published_at=now, published_by_id=user.id,
        plain_text=made.data.text, sha256=made.data.sha256,
        manifest=json.dumps(manifest, ensure_ascii=False, indent=2), archived=archived,
    )
    db.session.add(publication)
    db.session.flush()
    for artefact in [*rendered.values(), *_copies(publication)]:
        db.session.add(PublicationArtefact(publication_id=publication.id, kind=artefact.kind,
                                           content=artefact.content, sha256=artefact.sha256, created_at=now))
    statement.status = "published"
    statement.updated_at = now
    db.session.flush()
    return publication


def _copies(publication: Publication, kinds: tuple[str, ...] = artefacts.COPIED_KINDS) -> list[artefacts.Artefact]:
    """The plain text and the manifest as the bytes served."""
    text = {"txt": publication.plain_text, "json": publication.manifest}
    return [artefacts.Artefact(kind, text[kind].encode("utf-8")) for kind in kinds]


def _check(statement: Statement, user: User, automatic: bool) -> None:
    if statement.status == "published":
        raise Conflict("This statement is already published.")
    if not automatic and not statement.is_coordinator(user):
        raise NotAllowed("Only the coordinator publishes.")
    if statement.status != "signing":
        raise WrongPhase("Only a statement being signed can be published.")


def _draft_of(statement: Statement, publication_date: date | None, now: datetime) -> Draft:
    state = progress(statement)
    if not state.complete:
        names = ", ".join(o.name for o in state.waiting)
        raise Conflict(f"Every participating organisation must sign first; still waiting for: {names}.")
    last_signed = max(s.signed_at for _, s in state.signed).date()
    publication_date = publication_date or now.date()
    if publication_date < last_signed:
        raise InvalidInput(f"The publication date cannot be before the last signature "
                           f"({last_signed.isoformat()}).", field="publication_date")
    version, entries = version_texts(statement, statement.frozen_version.number)
    signatures = [
        {"organisation": org.name, "organisation_slug": org.slug, "signer_name": s.signer_name,
         "signer_title": s.signer_title, "signed_at": s.signed_at.isoformat(),
         "version_sha256": s.version_sha256}
        for org, s in state.signed
    ]
    return draft(statement, version, [t for _, t in entries], [org for org, _ in state.signed], signatures,
                 publication_date)


def publish(
    statement: Statement, user: User, *, publication_date: date | None, now: datetime,
    automatic: bool = False,
) -> Publication:
    """Publish the frozen version, once, when every participant has signed it.

    Typesetting the PDF takes seconds for a long text, so the files are made before the statement's
    lock is taken (on SQLite that lock holds every writer of the database) and made again under it
    only if what they were made from changed meanwhile.
    """
    now = now.astimezone(UTC)  # "today" and the last signature's date are UTC dates
    _check(statement, user, automatic)
    early = _draft_of(statement, publication_date, now)
    rendered = artefacts.render(early.data)
    statement = lock_statement(statement.id)
    _check(statement, user, automatic)
    made = _draft_of(statement, publication_date, now)
    if made.key != early.key:
        rendered = artefacts.render(made.data)
    publication = store(statement, user, made, rendered, now=now)
    audit.record(statement.id, "published", user, now=now, publication_date=made.data.publication_date.isoformat(),
                 sha256=made.data.sha256, version=made.version.number, automatic=automatic)
    events.notify_participants(statement, ("delegate", "signatory", "admin"), "published", now=now,
                               path=f"/p/{publication.slug}", exclude=None if automatic else user,
                               subject=f"Published: {made.data.title}",
                               body=f"{plain_text_line(made.data.text)}. It now has its permanent public address.")
    return publication


def plain_text_line(text: str) -> str:
    """The signatory line of a plain-text publication (its second block)."""
    return text.split("\n\n")[1]


def get_publication(slug: str) -> Publication:
    publication = db.session.scalar(select(Publication).where(Publication.slug == slug))
    if publication is None:
        raise NotFound("There is no published statement at this address.")
    return publication


def publication_of(statement: Statement) -> Publication | None:
    return db.session.scalar(select(Publication).where(Publication.statement_id == statement.id))


def data_of(publication: Publication) -> PublicationData:
    """The data the files were made from, read back from the sealed manifest. Manifests made before
    they carried the public address get it from the configured BASE_URL."""
    data = PublicationData.from_manifest(json.loads(publication.manifest))
    if not data.url:
        from dataclasses import replace

        data = replace(data, url=artefacts.public_url(publication.slug))
    return data


def missing_artefacts(publication: Publication) -> tuple[str, ...]:
    have = set(db.session.scalars(select(PublicationArtefact.kind)
                                  .where(PublicationArtefact.publication_id == publication.id)))
    return tuple(k for k in (*artefacts.KINDS, *artefacts.COPIED_KINDS) if k not in have)


def render_missing_artefacts(publication: Publication, *, now: datetime) -> tuple[str, ...]:
    """Make the artefacts a publication lacks (one published before they were stored); the kinds made.

    Its sealed manifest stays as it was published (it cannot list files made later); the files are
    made from it, so they say exactly what it says.
    """
    kinds = missing_artefacts(publication)
    if kinds:
        rendered = artefacts.render(data_of(publication), tuple(k for k in kinds if k in artefacts.KINDS))
        copied = _copies(publication, tuple(k for k in kinds if k in artefacts.COPIED_KINDS))
        for artefact in [*rendered.values(), *copied]:
            db.session.add(PublicationArtefact(publication_id=publication.id, kind=artefact.kind,
                                               content=artefact.content, sha256=artefact.sha256, created_at=now))
        db.session.flush()
    return kinds


def valid_signatures_of(publication: Publication) -> list[Signature]:
    return list(db.session.scalars(
        select(Signature).where(Signature.version_id == publication.version_id, Signature.status == "valid")
        .order_by(Signature.signed_at, Signature.id)))
