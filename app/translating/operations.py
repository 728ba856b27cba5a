"""Statement languages and translations: the rules (issue 14, items 2 and 3).

- The coordinator sets the source language (before the text is frozen) and adds target languages;
  a target language can be removed while it has no authentic role (frozen for signing, or
  published). Its texts stay in ``translation_texts`` (nothing is lost); adding it again brings
  them back.
- Delegates of participating organisations (and the coordinator) write translations: a title and a
  text per live paragraph, each naming the source text it translates (the paragraph's revision, the
  title as it was). A save appends rows; nothing is overwritten.
- A translated paragraph is *outdated* when the revision it names is no longer the paragraph's
  current one (derived, never stored); the title's when the source title changed.
- Once frozen as authentic, a language's texts are what signatures bind: they cannot change until
  the statement is reopened. A non-authentic language can be written in any phase but withdrawn.

Plain functions: they take the acting user, take the statement's lock before changing anything,
flush, never commit, and raise ConcordError with a message for the user.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from app import audit
from app.diffing import render_diff, word_diff
from app.drafting.text import canonical_text, normalise_paragraph, normalise_title, sha256_hex
from app.errors import InvalidInput, NotAllowed, NotFound, StaleText, WrongPhase
from app.extensions import db
from app.i18n import _
from app.limits import PAGE_DIFF_SECONDS, WORD_DIFF_SECONDS
from app.locking import lock_statement
from app.models import (
    FrozenTranslation,
    Paragraph,
    Publication,
    PublicationLanguage,
    Revision,
    Statement,
    StatementLanguage,
    TranslationText,
    User,
)
from app.translating.languages import Label, normalise_tag

MAX_LANGUAGES = 30


# --- reading --------------------------------------------------------------------------------


def target_languages(statement: Statement) -> list[StatementLanguage]:
    return list(db.session.scalars(
        select(StatementLanguage).where(StatementLanguage.statement_id == statement.id)
        .order_by(StatementLanguage.id)))


def target_language(statement: Statement, tag: str) -> StatementLanguage:
    row = db.session.scalar(select(StatementLanguage).where(
        StatementLanguage.statement_id == statement.id, StatementLanguage.language == tag))
    if row is None:
        raise NotFound(_("This statement has no %(tag)s translation.", tag=tag))
    return row


def current_texts(statement_id: int, language: str) -> dict[int | None, TranslationText]:
    """The newest text of each paragraph (and of the title, under None) in one language."""
    newest = (select(func.max(TranslationText.id))
              .where(TranslationText.statement_id == statement_id, TranslationText.language == language)
              .group_by(TranslationText.paragraph_id))
    rows = db.session.scalars(select(TranslationText).where(TranslationText.id.in_(newest)))
    return {row.paragraph_id: row for row in rows}


@dataclass
class ParagraphTranslation:
    number: int
    paragraph_id: int
    source_text: str
    source_revision_id: int
    text: str  # '' when not translated
    translated_revision_id: int | None

    @property
    def missing(self) -> bool:
        return self.translated_revision_id is None

    @property
    def outdated(self) -> bool:
        return not self.missing and self.translated_revision_id != self.source_revision_id


@dataclass
class TranslationState:
    """A translation next to its source, as it is now."""

    language: str
    source_title: str
    title: str  # '' when not translated
    title_translated_from: str | None  # the source title it translates; None when not translated
    paragraphs: list[ParagraphTranslation] = field(default_factory=list)

    @property
    def title_missing(self) -> bool:
        return self.title_translated_from is None

    @property
    def title_outdated(self) -> bool:
        return not self.title_missing and self.title_translated_from != self.source_title

    @property
    def missing(self) -> list[int]:
        return [p.number for p in self.paragraphs if p.missing]

    @property
    def outdated(self) -> list[int]:
        return [p.number for p in self.paragraphs if p.outdated]

    @property
    def complete(self) -> bool:
        return not self.title_missing and not self.missing

    @property
    def current(self) -> bool:
        return not self.title_outdated and not self.outdated

    @property
    def ready(self) -> bool:
        return self.complete and self.current

    def canonical_text(self) -> str:
        return canonical_text(self.title, [p.text for p in self.paragraphs])

    def problems(self) -> Joined:
        """What keeps it from being frozen, in words (empty if nothing), in the reader's language."""
        parts = []
        if self.title_missing:
            parts.append(_("the title is not translated"))
        elif self.title_outdated:
            parts.append(_("the title changed since it was translated"))
        # One message for one paragraph and one for several (not ngettext: Flask-Babel's, which shows the
        # rules' messages, formats a plural itself with nothing but its count).
        if len(self.missing) == 1:
            parts.append(_("paragraph %(numbers)s is not translated", numbers=_numbers(self.missing)))
        elif self.missing:
            parts.append(_("paragraphs %(numbers)s are not translated", numbers=_numbers(self.missing)))
        if len(self.outdated) == 1:
            parts.append(_("paragraph %(numbers)s is outdated (the source changed since)",
                           numbers=_numbers(self.outdated)))
        elif self.outdated:
            parts.append(_("paragraphs %(numbers)s are outdated (the source changed since)",
                           numbers=_numbers(self.outdated)))
        return Joined(parts, "; ")


class Joined:
    """Messages joined by a separator, each read in the language the whole is shown in."""

    __slots__ = ("parts", "separator")

    def __init__(self, parts: list, separator: str):
        self.parts, self.separator = parts, separator

    def __str__(self) -> str:
        return self.separator.join(str(p) for p in self.parts)

    def __bool__(self) -> bool:
        return bool(self.parts)

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


def _numbers(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers[:10]) + (" …" if len(numbers) > 10 else "")


def translation_state(statement: Statement, language: str) -> TranslationState:
    """The translation of every live paragraph and the title, against the source now (3 queries)."""
    texts = current_texts(statement.id, language)
    rows = db.session.execute(
        select(Paragraph.id, Paragraph.current_revision_id, Revision.text)
        .join(Revision, Revision.id == Paragraph.current_revision_id)
        .where(Paragraph.statement_id == statement.id, Paragraph.deleted_at.is_(None))
        .order_by(Paragraph.position, Paragraph.id)).all()
    title = texts.get(None)
    state = TranslationState(language, statement.title, title.text if title else "",
                             title.source_title if title else None)
    for number, (paragraph_id, revision_id, source) in enumerate(rows, start=1):
        mine = texts.get(paragraph_id)
        state.paragraphs.append(ParagraphTranslation(
            number, paragraph_id, source, revision_id, mine.text if mine else "",
            mine.source_revision_id if mine else None))
    return state


def source_diff_ops(state: TranslationState) -> dict[int, list]:
    """For each outdated paragraph, the source's word diff (ops) from the revision translated to the
    current one. Computed when asked, within the page's budget; past it, shown whole."""
    outdated = [p for p in state.paragraphs if p.outdated]
    if not outdated:
        return {}
    old = dict(db.session.execute(select(Revision.id, Revision.text).where(
        Revision.id.in_([p.translated_revision_id for p in outdated]))).all())
    deadline = time.monotonic() + PAGE_DIFF_SECONDS
    return {p.paragraph_id: word_diff(old.get(p.translated_revision_id, ""), p.source_text,
                                      timeout=WORD_DIFF_SECONDS, deadline=deadline)
            for p in outdated}


def source_diffs(state: TranslationState) -> dict[int, object]:
    """The same diffs as escaped HTML, for the translation page."""
    return {paragraph_id: render_diff(ops) for paragraph_id, ops in source_diff_ops(state).items()}


def frozen_translations(statement: Statement) -> list[FrozenTranslation]:
    """The authentic translations frozen with the current frozen version (none when not frozen)."""
    if statement.frozen_version_id is None:
        return []
    return list(db.session.scalars(select(FrozenTranslation).where(
        FrozenTranslation.statement_id == statement.id,
        FrozenTranslation.version_id == statement.frozen_version_id,
        FrozenTranslation.status == "current").order_by(FrozenTranslation.id)))


def frozen_hashes(statement: Statement) -> dict[str, str]:
    """{language: SHA-256} of the authentic translations a signature must bind now."""
    return {f.language: f.sha256 for f in frozen_translations(statement) if f.authentic}


def published_languages(statement_id: int) -> dict[str, bool]:
    """{language: authentic} of the statement's publication's other languages."""
    return dict(db.session.execute(
        select(PublicationLanguage.language, PublicationLanguage.authentic)
        .join(Publication, Publication.id == PublicationLanguage.publication_id)
        .where(Publication.statement_id == statement_id)).all())


def _published_languages(statement_id: int) -> set[str]:
    return set(db.session.scalars(
        select(PublicationLanguage.language).join(Publication, Publication.id == PublicationLanguage.publication_id)
        .where(Publication.statement_id == statement_id)))


def is_locked(statement: Statement, language: str) -> str:
    """Why this language's texts cannot change now ('' if they can)."""
    if statement.status == "signing" and language in frozen_hashes(statement):
        return _("The %(language)s text is authentic and frozen for signing; it can change only after the "
                 "statement is reopened.", language=Label(language))
    if statement.status == "published" and language in _published_languages(statement.id):
        return _("The %(language)s text is published; a published text never changes.", language=Label(language))
    return ""


# --- the coordinator's languages ------------------------------------------------------------


def _manager(statement: Statement, user: User) -> Statement:
    statement = lock_statement(statement.id)
    if not statement.rights(user).can_manage_languages:
        if statement.is_coordinator(user):
            raise WrongPhase(_("The languages of a withdrawn statement cannot change."))
        raise NotAllowed(_("Only the coordinator chooses the statement's languages."))
    return statement


def set_source_language(statement: Statement, user: User, tag: str, *, now: datetime) -> Statement:
    statement = _manager(statement, user)
    tag = normalise_tag(tag, field="source_language")
    if statement.status not in ("draft", "amending"):
        raise WrongPhase(_("The source language can change only before the text is frozen for signing."))
    if tag == statement.source_language:
        return statement
    if db.session.scalar(select(StatementLanguage.id).where(
            StatementLanguage.statement_id == statement.id, StatementLanguage.language == tag)):
        raise InvalidInput(_("%(language)s is a target language of this statement; remove it first.",
                             language=Label(tag)), field="source_language")
    before = statement.source_language
    statement.source_language = tag
    statement.updated_at = now
    audit.record(statement.id, "source_language_set", user, now=now, language=tag, was=before)
    db.session.flush()
    return statement


def add_language(statement: Statement, user: User, tag: str, *, now: datetime) -> StatementLanguage:
    statement = _manager(statement, user)
    tag = normalise_tag(tag)
    if tag == statement.source_language:
        raise InvalidInput(_("%(language)s is the statement's source language.", language=Label(tag)),
                           field="language")
    existing = target_languages(statement)
    if any(row.language == tag for row in existing):
        raise InvalidInput(_("%(language)s is already a language of this statement.", language=Label(tag)),
                           field="language")
    if len(existing) >= MAX_LANGUAGES:
        raise InvalidInput(_("A statement can have at most %(max)s target languages.", max=MAX_LANGUAGES),
                           field="language")
    row = StatementLanguage(statement_id=statement.id, language=tag, authentic=False, added_by_id=user.id,
                            created_at=now)
    db.session.add(row)
    db.session.flush()
    audit.record(statement.id, "language_added", user, now=now, language=tag)
    return row


def remove_language(statement: Statement, user: User, tag: str, *, now: datetime) -> None:
    statement = _manager(statement, user)
    row = target_language(statement, tag)
    if statement.status == "signing" and tag in frozen_hashes(statement):
        raise WrongPhase(_("%(language)s is authentic in the text being signed; reopen the statement first.",
                           language=Label(tag)))
    if tag in _published_languages(statement.id):
        raise WrongPhase(_("%(language)s is published; a published language stays.", language=Label(tag)))
    db.session.delete(row)
    audit.record(statement.id, "language_removed", user, now=now, language=tag)
    db.session.flush()


# --- translators ----------------------------------------------------------------------------


def save_translation(
    statement: Statement, user: User, language: str, *, title: str | None = None,
    title_source: str | None = None, paragraphs: Mapping[int, tuple[str, int]] | None = None,
    now: datetime,
) -> list[TranslationText]:
    """Save translated texts: ``title`` (translating ``title_source``, the source title the form showed)
    and ``paragraphs`` {paragraph id: (text, the source revision id the form showed)}.

    An empty text leaves that part as it is (nothing is ever emptied); a text unchanged and for the
    same source is not saved again. Saving an outdated paragraph's text (changed or not) against the
    current source revision marks it current. Returns the rows written.
    """
    statement = lock_statement(statement.id)
    rights = statement.rights(user)
    if not rights.can_translate:
        if statement.can_view(user) and statement.status == "withdrawn":
            raise WrongPhase(_("The statement is withdrawn."))
        raise NotAllowed(_("Only delegates of participating organisations and the coordinator translate."))
    target_language(statement, language)
    locked = is_locked(statement, language)
    if locked:
        raise WrongPhase(locked)
    paragraphs = dict(paragraphs or {})
    state = translation_state(statement, language)
    by_id = {p.paragraph_id: p for p in state.paragraphs}
    written: list[TranslationText] = []
    pending: list[tuple[int | None, int | None, str, str]] = []
    if title is not None and title.strip():
        if title_source is not None and title_source != statement.title:
            raise StaleText(_("The source title changed since you opened the page; reload it and translate "
                              "the current title."), field="title")
        text = normalise_title(title)
        if text != state.title or state.title_translated_from != statement.title:
            pending.append((None, None, statement.title, text))
    for paragraph_id, (text, revision_id) in paragraphs.items():
        entry = by_id.get(paragraph_id)
        if entry is None:
            raise NotFound(_("A paragraph of the form is not a paragraph of this statement (any more); reload "
                             "the page."))
        if not (text or "").strip():
            continue
        if revision_id != entry.source_revision_id:
            raise StaleText(_("Paragraph %(number)s of the source changed since you opened the page; "
                              "reload it and check your translation against the current text.", number=entry.number),
                            field=f"p{paragraph_id}")
        try:
            text = normalise_paragraph(text)
        except InvalidInput as error:
            raise InvalidInput(_("Paragraph %(number)s: %(problem)s", number=entry.number, problem=error.raw_message),
                               field=f"p{paragraph_id}") from None
        if text != entry.text or entry.translated_revision_id != entry.source_revision_id:
            pending.append((paragraph_id, entry.source_revision_id, "", text))
    for paragraph_id, revision_id, source_title, text in pending:
        row = TranslationText(statement_id=statement.id, language=language, paragraph_id=paragraph_id,
                              source_revision_id=revision_id, source_title=source_title, text=text,
                              author_id=user.id, created_at=now)
        db.session.add(row)
        written.append(row)
    if written:
        db.session.flush()
        audit.record(statement.id, "translated", user, now=now, language=language,
                     title=any(r.paragraph_id is None for r in written),
                     paragraphs=[r.paragraph_id for r in written if r.paragraph_id is not None],
                     texts=[r.id for r in written])
    return written


# --- freezing (called by app.signing.operations.freeze, under its lock) ---------------------------


def freeze_languages(statement: Statement, user: User, authentic: Iterable[str], *, version_id: int,
                     now: datetime) -> list[FrozenTranslation]:
    """Mark which target languages are authentic and write their canonical texts for signing.

    Refused (InvalidInput, nothing written) unless every authentic translation is complete and current.
    """
    rows = {row.language: row for row in target_languages(statement)}
    wanted: list[str] = []
    for tag in authentic:
        tag = (tag or "").strip()
        if not tag or tag == statement.source_language or tag in wanted:
            continue
        if tag not in rows:
            raise InvalidInput(_("%(tag)s is not a language of this statement.", tag=tag),
                               field="authentic_languages")
        wanted.append(tag)
    frozen: list[FrozenTranslation] = []
    problems = []
    states = {tag: translation_state(statement, tag) for tag in wanted}
    for tag, state in states.items():
        if not state.ready:
            problems.append(_("%(language)s: %(problems)s.", language=Label(tag), problems=state.problems()))
    if problems:
        raise InvalidInput(_("The text cannot be frozen yet: every authentic translation must be complete and "
                             "current. %(problems)s", problems=Joined(problems, " ")), field="authentic_languages")
    for tag, row in rows.items():
        row.authentic = tag in states
    for tag, state in states.items():
        text = state.canonical_text()
        item = FrozenTranslation(statement_id=statement.id, version_id=version_id, language=tag,
                                 title=state.title, canonical_text=text, sha256=sha256_hex(text),
                                 authentic=True, status="current", created_at=now)
        db.session.add(item)
        frozen.append(item)
    db.session.flush()
    return frozen


def void_frozen(statement: Statement) -> list[FrozenTranslation]:
    """On reopening: the frozen translations stop counting (kept, marked void)."""
    voided = frozen_translations(statement)
    for item in voided:
        item.status = "void"
    return voided
