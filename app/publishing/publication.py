"""Publishing a signed statement, once (promises 4 and 6), with its files made once.

``publish`` writes one ``Publication`` (the plain text, its SHA-256 and the sealed manifest) and its
``PublicationArtefact`` rows (PDF, DOCX, Markdown, the page's statement part), whose SHA-256 the
manifest lists. Nothing is rendered again afterwards: the public routes serve these bytes.
Plain functions: they take the acting user, flush, never commit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from sqlalchemy import select

from app import audit
from app.drafting.operations import version_texts
from app.drafting.text import sha256_hex
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound, WrongPhase
from app.extensions import db
from app.i18n import _
from app.locking import lock_statement
from app.models import (
    Organisation,
    Publication,
    PublicationArtefact,
    PublicationLanguage,
    Signature,
    Statement,
    User,
    Version,
    VersionParagraph,
)
from app.notifications import events
from app.publishing import artefacts, sealing
from app.publishing.formats import PublicationData
from app.publishing.text import plain_text
from app.signing.operations import progress
from app.translating import operations as translating
from app.translating.names import names_in

MANIFEST_FORMAT = "concord-manifest/1"


def participant_json(organisation: Organisation) -> dict:
    """A participant as the manifest names it, with the names it had at publication."""
    return {"name": organisation.name, "name_in_statements": organisation.statement_name,
            "short_name": organisation.short_name, "slug": organisation.slug}


@dataclass(frozen=True)
class TranslationText:
    """A text in another language to publish: its canonical text (the one signed, if authentic)."""

    language: str
    title: str
    paragraphs: list[str]
    canonical_text: str
    authentic: bool


@dataclass
class Draft:
    """Everything a publication is made from, decided before anything is written."""

    data: PublicationData
    manifest: dict  # without files and seal
    version: Version
    key: tuple = field(default=())  # what the rendering depended on
    translations: list[tuple[TranslationText, PublicationData]] = field(default_factory=list)

    def all_data(self) -> list[PublicationData]:
        return [self.data, *(data for _, data in self.translations)]


def paragraphs_of(canonical: str) -> list[str]:
    """The paragraphs of a canonical text (blocks after the title, without their 'N. ')."""
    blocks = canonical.rstrip("\n").split("\n\n")
    return [block.split(". ", 1)[1] for block in blocks[1:]]


def render_all(made: Draft) -> dict[str, artefacts.Artefact]:
    """Every file of a publication: the source's kinds, and each translation's as "<language>.<kind>"."""
    rendered = dict(artefacts.render(made.data))
    for translation, data in made.translations:
        for kind, artefact in artefacts.render(data).items():
            name = f"{translation.language}.{kind}"
            rendered[name] = artefacts.Artefact(name, artefact.content)
    return rendered


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
          signatures: list[dict], publication_date: date, archive: dict | None = None,
          translations: list[TranslationText] = ()) -> Draft:
    """The plain text, the data every format is made from, and the manifest (not yet sealed).

    A statement in one language only, in English, has the manifest it always had; otherwise the manifest
    names the source's ``language`` and lists every other ``languages`` entry (docs/publication-format.md).
    """
    source = statement.source_language or "en"
    names = names_in(organisations, source)
    text = plain_text(version.title, names, publication_date, paragraphs, source)
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    data = PublicationData(
        title=version.title, slug=statement.slug, publication_date=publication_date,
        version_number=version.number, version_sha256=version.sha256, sha256=sha256, text=text,
        paragraphs=paragraphs, organisations=names, signatures=signatures,
        url=artefacts.public_url(statement.slug), archive=archive, language=source,
    )
    participants = [participant_json(o) for o in organisations]
    manifest = manifest_body(data, version, participants, signatures, archive)
    made = Draft(data, manifest, version)
    for translation in translations:
        tr_names = names_in(organisations, translation.language)
        tr_text = plain_text(translation.title, tr_names, publication_date, translation.paragraphs,
                             translation.language)
        made.translations.append((translation, PublicationData(
            title=translation.title, slug=statement.slug, publication_date=publication_date,
            version_number=version.number, version_sha256=sha256_hex(translation.canonical_text),
            sha256=sha256_hex(tr_text), text=tr_text, paragraphs=translation.paragraphs,
            organisations=tr_names, signatures=signatures, url=data.url, archive=archive,
            language=translation.language, authentic=translation.authentic)))
    if made.translations or source != "en":
        manifest["language"] = source
        manifest["languages"] = [language_json(t, d) for t, d in made.translations]
    made.key = (version.id, publication_date, tuple(json.dumps(p, sort_keys=True) for p in participants),
                tuple(json.dumps(s, sort_keys=True) for s in signatures), data.url,
                tuple((d.language, d.sha256, d.authentic) for _, d in made.translations))
    return made


def language_json(translation: TranslationText, data: PublicationData) -> dict:
    """A translation as the manifest lists it (its files are added when they are made)."""
    return {"language": translation.language, "authentic": translation.authentic, "title": translation.title,
            "canonical_text": translation.canonical_text, "canonical_sha256": data.version_sha256,
            "text": data.text, "sha256": data.sha256}


def store(statement: Statement, user: User, made: Draft, rendered: dict[str, artefacts.Artefact], *,
          now: datetime, archived: bool = False) -> Publication:
    """Seal the manifest (listing the files' SHA-256) and write the publication with its artefacts."""
    manifest = dict(made.manifest, files=artefacts.manifest_files(rendered))
    if "languages" in manifest:
        manifest["languages"] = [
            dict(entry, files=artefacts.manifest_files(
                {k.split(".", 1)[1]: a for k, a in rendered.items() if k.startswith(entry["language"] + ".")}))
            for entry in manifest["languages"]]
    manifest = sealing.seal(manifest)
    publication = Publication(
        statement_id=statement.id, version_id=made.version.id, slug=statement.slug,
        publication_date=made.data.publication_date, published_at=now, published_by_id=user.id,
        plain_text=made.data.text, sha256=made.data.sha256,
        manifest=json.dumps(manifest, ensure_ascii=False, indent=2), archived=archived,
    )
    db.session.add(publication)
    db.session.flush()
    copies = _copies(publication)
    for translation, data in made.translations:
        db.session.add(PublicationLanguage(
            publication_id=publication.id, language=translation.language, authentic=translation.authentic,
            title=translation.title, canonical_text=translation.canonical_text,
            canonical_sha256=data.version_sha256, plain_text=data.text, sha256=data.sha256,
            added_by_id=user.id, created_at=now))
        copies.append(artefacts.Artefact(f"{translation.language}.txt", data.text.encode("utf-8")))
    for artefact in [*rendered.values(), *copies]:
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
        raise Conflict(_("This statement is already published."))
    if not automatic and not statement.is_coordinator(user):
        raise NotAllowed(_("Only the coordinator publishes."))
    if statement.status != "signing":
        raise WrongPhase(_("Only a statement being signed can be published."))


def _draft_of(statement: Statement, publication_date: date | None, now: datetime) -> Draft:
    state = progress(statement)
    if not state.complete:
        names = ", ".join(o.name for o in state.waiting)
        raise Conflict(_("Every participating organisation must sign first; still waiting for: %(names)s.",
                         names=names))
    last_signed = max(s.signed_at for _org, s in state.signed).date()
    publication_date = publication_date or now.date()
    if publication_date < last_signed:
        raise InvalidInput(_("The publication date cannot be before the last signature (%(date)s).",
                             date=last_signed.isoformat()), field="publication_date")
    version, entries = version_texts(statement, statement.frozen_version.number)
    signatures = [signature_json(org, s) for org, s in state.signed]
    return draft(statement, version, [t for _entry, t in entries], [org for org, _s in state.signed], signatures,
                 publication_date, translations=_translations(statement))


def signature_json(org: Organisation, s: Signature) -> dict:
    made = {"organisation": org.name, "organisation_slug": org.slug, "signer_name": s.signer_name,
            "signer_title": s.signer_title, "signed_at": s.signed_at.isoformat(), "version_sha256": s.version_sha256}
    bound = json.loads(s.translation_sha256 or "{}")
    if bound:
        made["translation_sha256"] = bound
    return made


def _translations(statement: Statement) -> list[TranslationText]:
    """The authentic translations frozen for signing, then every other complete and current one (published
    as not authentic)."""
    made = [TranslationText(f.language, f.title, paragraphs_of(f.canonical_text), f.canonical_text, True)
            for f in translating.frozen_translations(statement) if f.authentic]
    authentic = {t.language for t in made}
    for row in translating.target_languages(statement):
        if row.language in authentic:
            continue
        state = translating.translation_state(statement, row.language)
        if state.ready:
            made.append(TranslationText(row.language, state.title, [p.text for p in state.paragraphs],
                                        state.canonical_text(), False))
    return made


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
    rendered = render_all(early)
    statement = lock_statement(statement.id)
    _check(statement, user, automatic)
    made = _draft_of(statement, publication_date, now)
    if made.key != early.key:
        rendered = render_all(made)
    publication = store(statement, user, made, rendered, now=now)
    audit.record(statement.id, "published", user, now=now, publication_date=made.data.publication_date.isoformat(),
                 sha256=made.data.sha256, version=made.version.number, automatic=automatic)
    events.notify_participants(statement, ("delegate", "signatory", "admin"), "published", now=now,
                               path=f"/p/{publication.slug}", exclude=None if automatic else user,
                               subject=_("Published: %(title)s", title=made.data.title),
                               body=_("%(line)s. It now has its permanent public address.",
                                      line=plain_text_line(made.data.text)))
    return publication


def publish_translation(statement: Statement, user: User, language: str, *, now: datetime) -> PublicationLanguage:
    """Add a translation to a published statement, not authentic: its texts and files, made once, and a manifest
    of its own (the publication's, with this language added, sealed again), served at /p/<slug>.<tag>.json.

    Left out of the signatures (they were made before it) and marked as not authentic everywhere. Only a
    complete translation of the published text is accepted; it never changes afterwards.
    """
    now = now.astimezone(UTC)
    statement = lock_statement(statement.id)
    if not statement.is_coordinator(user):
        raise NotAllowed(_("Only the coordinator publishes a translation."))
    if statement.status != "published":
        raise WrongPhase(_("A translation is added this way only after publication; before it, complete "
                           "translations are published with the statement."))
    publication = publication_of(statement)
    translating.target_language(statement, language)
    if db.session.scalar(select(PublicationLanguage.id).where(PublicationLanguage.publication_id == publication.id,
                                                              PublicationLanguage.language == language)):
        raise Conflict(_("The %(language)s text is already published.", language=language))
    state = translating.translation_state(statement, language)
    if not state.ready:
        raise InvalidInput(_("The %(language)s translation cannot be published yet: %(problems)s.", language=language,
                             problems=state.problems()))
    published = [e.paragraph_id for e in db.session.scalars(
        select(VersionParagraph).where(VersionParagraph.version_id == publication.version_id)
        .order_by(VersionParagraph.number))]
    if published != [p.paragraph_id for p in state.paragraphs]:
        raise Conflict(_("The statement's paragraphs are not those published; the translation cannot be matched."))
    manifest = json.loads(publication.manifest)
    data = data_of(publication)
    organisations = [db.session.scalar(select(Organisation).where(Organisation.slug == p["slug"]))
                     for p in manifest["participants"]]
    names = names_in(organisations, language)
    translation = TranslationText(language, state.title, [p.text for p in state.paragraphs], state.canonical_text(),
                                  False)
    text = plain_text(translation.title, names, data.publication_date, translation.paragraphs, language)
    tr_data = replace(data, title=translation.title, version_sha256=sha256_hex(translation.canonical_text),
                      sha256=sha256_hex(text), text=text, paragraphs=translation.paragraphs, organisations=names,
                      language=language, authentic=False)
    rendered = artefacts.render(tr_data)
    entry = dict(language_json(translation, tr_data), files=artefacts.manifest_files(rendered),
                 added_on=now.date().isoformat())
    body = {k: v for k, v in manifest.items() if k != "seal"}
    body.setdefault("language", statement.source_language or "en")
    body["languages"] = [*body.get("languages", []), entry]
    own = json.dumps(sealing.seal(body), ensure_ascii=False, indent=2)
    row = PublicationLanguage(publication_id=publication.id, language=language, authentic=False,
                              title=translation.title, canonical_text=translation.canonical_text,
                              canonical_sha256=tr_data.version_sha256, plain_text=text, sha256=tr_data.sha256,
                              manifest=own, added_by_id=user.id, created_at=now)
    db.session.add(row)
    made = [*rendered.values(), artefacts.Artefact("txt", text.encode("utf-8")),
            artefacts.Artefact("json", own.encode("utf-8"))]
    for artefact in made:
        db.session.add(PublicationArtefact(publication_id=publication.id, kind=f"{language}.{artefact.kind}",
                                           content=artefact.content, sha256=artefact.sha256, created_at=now))
    db.session.flush()
    audit.record(statement.id, "translation_published", user, now=now, language=language, sha256=tr_data.sha256,
                 canonical_sha256=tr_data.version_sha256, authentic=False)
    return row


def plain_text_line(text: str) -> str:
    """The signatory line of a plain-text publication (its second block)."""
    return text.split("\n\n")[1]


def get_publication(slug: str) -> Publication:
    publication = db.session.scalar(select(Publication).where(Publication.slug == slug))
    if publication is None:
        raise NotFound(_("There is no published statement at this address."))
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
