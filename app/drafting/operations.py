"""Drafting: creating statements and editing their text in the draft phase.

Every change of the text ends in ``snapshot()``, which records a new
immutable Version. Revisions and versions are only ever added (promise 1).
Plain functions: they take the acting user, flush, and never commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Integer, func, insert, literal, select, update
from sqlalchemy.orm import aliased, defer, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import audit
from app.diffing.stored import text_change
from app.drafting.text import (
    canonical_text,
    check_paragraph_count,
    check_statement_size,
    normalise_paragraph,
    normalise_title,
    sha256_hex,
)
from app.errors import InvalidInput, NotAllowed, NotFound, StaleText, WrongPhase
from app.extensions import db
from app.i18n import _
from app.limits import MAX_PARAGRAPHS, MAX_STATEMENT_CHARS
from app.models import (
    Organisation,
    Paragraph,
    Participant,
    Revision,
    Statement,
    User,
    Version,
    VersionParagraph,
)
from app.organisations.operations import slugify


def live_paragraphs(statement: Statement) -> list[Paragraph]:
    """The statement's live paragraphs in order, with their current text loaded."""
    return list(
        db.session.scalars(
            select(Paragraph)
            .where(Paragraph.statement_id == statement.id, Paragraph.deleted_at.is_(None))
            .options(joinedload(Paragraph.current_revision))
            .order_by(Paragraph.position)
        )
    )


def live_texts(statement_id: int) -> list[tuple[int, str]]:
    """(paragraph id, current text) of the live paragraphs in order: one query, no objects built."""
    return list(db.session.execute(
        select(Paragraph.id, Revision.text).join(Revision, Revision.id == Paragraph.current_revision_id)
        .where(Paragraph.statement_id == statement_id, Paragraph.deleted_at.is_(None))
        .order_by(Paragraph.position)))


def numbered(paragraphs: Sequence[Paragraph]) -> list[tuple[int, Paragraph]]:
    return list(enumerate(paragraphs, start=1))


def paragraph_number(statement_id: int, paragraph_id: int | None):
    """A scalar subquery: the current number of one paragraph (0 if deleted or None), to add as a
    column to a query that loads something else."""
    here, before = aliased(Paragraph), aliased(Paragraph)
    # Correlated with whatever the outer query names (an amendment's columns), never with its own tables.
    position = (select(here.position).where(here.id == paragraph_id, here.deleted_at.is_(None))
                .correlate_except(here).scalar_subquery())
    return (select(func.count()).select_from(before)
            .where(before.statement_id == statement_id, before.deleted_at.is_(None), before.position <= position)
            .correlate_except(before).scalar_subquery())


def get_version(statement: Statement, number: int) -> Version:
    version = db.session.scalar(
        select(Version).where(Version.statement_id == statement.id, Version.number == number)
    )
    if version is None:
        raise NotFound(_("Version %(number)s of this statement does not exist.", number=number))
    return version


def version_texts(statement: Statement, number: int) -> tuple[Version, list[tuple[int, str]]]:
    """A version and its (paragraph id, text) pairs in order."""
    [(version, texts)] = versions_texts(statement, [number])
    return version, texts


def versions_texts(statement: Statement, numbers: list[int]) -> list[tuple[Version, list[tuple[int, str]]]]:
    """Several versions with their (paragraph id, text) pairs, in two queries whatever their size."""
    found = {v.number: v for v in db.session.scalars(
        select(Version).where(Version.statement_id == statement.id, Version.number.in_(numbers)))}
    for number in numbers:
        if number not in found:
            raise NotFound(_("Version %(number)s of this statement does not exist.", number=number))
    texts: dict[int, list[tuple[int, str]]] = {v.id: [] for v in found.values()}
    rows = db.session.execute(
        select(VersionParagraph.version_id, VersionParagraph.paragraph_id, Revision.text)
        .join(Revision, Revision.id == VersionParagraph.revision_id)
        .where(VersionParagraph.version_id.in_(list(texts)))
        .order_by(VersionParagraph.version_id, VersionParagraph.number)
    )
    for version_id, paragraph_id, text in rows:
        texts[version_id].append((paragraph_id, text))
    return [(found[n], texts[found[n].id]) for n in numbers]


def current_version(statement: Statement) -> Version | None:
    """The newest version, without its canonical text unless asked for (it can be large)."""
    if not statement.version_count:
        return None
    return db.session.scalar(
        select(Version).where(Version.statement_id == statement.id, Version.number == statement.version_count)
        .options(defer(Version.canonical_text))
    )


def _unique_slug(title: str) -> str:
    base = slugify(title, max_length=60) or "statement"
    taken = set(
        db.session.scalars(
            select(Statement.slug).where(
                (Statement.slug == base) | Statement.slug.like(f"{base}-%")
            )
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def snapshot(
    statement: Statement, author: User, note: str, *, now: datetime, amendment_id: int | None = None
) -> Version:
    """Record the statement's current text as its next Version."""
    # A conditional update claims the next number, so two concurrent saves cannot both be vN.
    number = statement.version_count + 1
    claimed = db.session.execute(
        update(Statement)
        .where(Statement.id == statement.id, Statement.version_count == statement.version_count)
        .values(version_count=number, updated_at=now)
        .returning(Statement.version_count, Statement.updated_at)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        raise StaleText(_("The statement changed while you were saving; reload and try again."))
    set_committed_value(statement, "version_count", claimed.version_count)
    set_committed_value(statement, "updated_at", claimed.updated_at)
    # Read after the claim: its row lock keeps any other change of the text out until we commit.
    live = (Paragraph.statement_id == statement.id, Paragraph.deleted_at.is_(None))
    order = (Paragraph.position, Paragraph.id)
    texts = db.session.scalars(
        select(Revision.text).select_from(Paragraph)
        .outerjoin(Revision, Revision.id == Paragraph.current_revision_id)
        .where(*live).order_by(*order)
    ).all()
    # Every change of the text passes here: none makes a statement larger than its maxima.
    size = sum(len(t or "") for t in texts)
    if len(texts) > MAX_PARAGRAPHS or size > MAX_STATEMENT_CHARS:
        _refuse_growth_past_maxima(statement, number - 1, len(texts), size)
    text = canonical_text(statement.title, [t or "" for t in texts])
    version = Version(
        statement_id=statement.id,
        number=number,
        title=statement.title,
        canonical_text=text,
        sha256=sha256_hex(text),
        note=note[:200],
        author_id=author.id,
        amendment_id=amendment_id,
        created_at=now,
    )
    db.session.add(version)
    db.session.flush()
    if texts:  # the entries, written by the database from the same rows in the same order: one statement
        db.session.execute(insert(VersionParagraph.__table__).from_select(
            ["version_id", "number", "paragraph_id", "revision_id"],
            select(literal(version.id, Integer), func.row_number().over(order_by=order), Paragraph.id,
                   Paragraph.current_revision_id).where(*live),
        ))
    if amendment_id is None:  # an accepted amendment is audited by its own entry
        audit.record(statement.id, "created" if number == 1 else "edited", author, now=now,
                     version=number, sha256=version.sha256, note=version.note)
    return version


def _refuse_growth_past_maxima(statement: Statement, previous: int, count: int, size: int) -> None:
    """Refuse a text with more paragraphs or characters than the maxima allow, unless the version
    before had as many (a statement made before a maximum was lowered keeps its size and may shrink)."""
    before_count, before_size = 0, 0
    if previous:
        before_count, before_size = db.session.execute(
            select(func.count(), func.coalesce(func.sum(func.length(Revision.text)), 0))
            .select_from(VersionParagraph)
            .join(Version, Version.id == VersionParagraph.version_id)
            .join(Revision, Revision.id == VersionParagraph.revision_id)
            .where(Version.statement_id == statement.id, Version.number == previous)
        ).one()
    if count > before_count:
        check_paragraph_count(count)
    if size > before_size:
        check_statement_size(size)


def _new_paragraph(
    statement: Statement, position: int, text: str, author: User, *, now: datetime,
    amendment_id: int | None = None,
) -> Paragraph:
    paragraph = Paragraph(statement_id=statement.id, position=position, created_at=now)
    db.session.add(paragraph)
    db.session.flush()
    revision = Revision(paragraph_id=paragraph.id, text=text, author_id=author.id, created_at=now,
                        amendment_id=amendment_id)
    db.session.add(revision)
    db.session.flush()
    paragraph.current_revision = revision
    db.session.flush()
    return paragraph


def create_statement(
    author: User,
    *,
    title: str,
    coordinator_organisation: Organisation,
    participants: Sequence[Organisation],
    paragraphs: Sequence[str],
    now: datetime,
    note: str = "Created",
    source_language: str = "en",
) -> Statement:
    """Create a statement in draft with its first version (v1).

    The coordinator is ``author``, who must be a delegate of the coordinating
    organisation; that organisation is always the first participant. ``source_language``: the
    language the text is written in (a tag the caller checked: the importer's reading of a signatory
    line, "en" unless said otherwise; the coordinator can change it while drafting).
    """
    if not author.has_role(coordinator_organisation, "delegate"):
        raise NotAllowed(
            _("You can coordinate only for an organisation you are a delegate of; "
              "you are not a delegate of %(organisation)s.", organisation=coordinator_organisation.name),
            field="coordinator_organisation",
        )
    title = normalise_title(title)
    check_paragraph_count(len(paragraphs))  # before normalising any of them
    texts = [normalise_paragraph(t) for t in paragraphs]
    check_statement_size(sum(map(len, texts)))
    ordered = [coordinator_organisation] + [
        o for o in dict.fromkeys(participants) if o.id != coordinator_organisation.id
    ]
    statement = Statement(
        title=title,
        slug=_unique_slug(title),
        coordinator_id=author.id,
        coordinator_organisation_id=coordinator_organisation.id,
        source_language=source_language,
        created_at=now,
        updated_at=now,
    )
    statement.memberships = [
        Participant(organisation=o, position=i, joined_at=now) for i, o in enumerate(ordered)
    ]
    db.session.add(statement)
    db.session.flush()
    _add_paragraphs(statement, texts, author, now=now)
    snapshot(statement, author, note, now=now)
    return statement


def _add_paragraphs(statement: Statement, texts: Sequence[str], author: User, *, now: datetime) -> None:
    """The first paragraphs of a new statement, each with its first revision, in three bulk statements
    whatever their number (a paragraph and its revision point at each other)."""
    if not texts:
        return
    paragraph_ids = db.session.scalars(
        insert(Paragraph).returning(Paragraph.id, sort_by_parameter_order=True),
        [{"statement_id": statement.id, "position": position, "created_at": now}
         for position in range(1, len(texts) + 1)],
    ).all()
    revision_ids = db.session.scalars(
        insert(Revision).returning(Revision.id, sort_by_parameter_order=True),
        [{"paragraph_id": paragraph_id, "text": text, "author_id": author.id, "created_at": now}
         for paragraph_id, text in zip(paragraph_ids, texts, strict=True)],
    ).all()
    # By primary key (one executemany): a lookup of each paragraph's revision could be planned as a walk
    # through every revision while the tables' statistics are young.
    db.session.execute(update(Paragraph).execution_options(synchronize_session=False), [
        {"id": paragraph_id, "current_revision_id": revision_id}
        for paragraph_id, revision_id in zip(paragraph_ids, revision_ids, strict=True)
    ])


# --- direct edits in the draft phase -----------------------------------------


def _require_draft_editor(statement: Statement, user: User) -> None:
    if statement.status != "draft":
        raise WrongPhase(_(
            "The text can be edited directly only in the draft phase; "
            "it now changes only through amendments."
        ))
    if not statement.can_edit_draft(user):
        raise NotAllowed(_("Only the coordinator edits the draft."))


def _live_paragraph(statement: Statement, paragraph_id: int) -> Paragraph:
    paragraph = db.session.get(Paragraph, paragraph_id)
    if paragraph is None or paragraph.statement_id != statement.id or paragraph.deleted_at:
        raise NotFound(_("That paragraph is not part of this statement."))
    return paragraph


def _number_of(statement: Statement, paragraph: Paragraph) -> int:
    return [p.id for p in live_paragraphs(statement)].index(paragraph.id) + 1


def _check_base(paragraph: Paragraph, base_revision_id: int | None, number: int) -> None:
    if base_revision_id is not None and base_revision_id != paragraph.current_revision_id:
        raise StaleText(_(
            "Paragraph %(number)s was changed by someone else since you opened it. "
            "Your text was not saved; here is the current text.", number=number
        ))


def edit_paragraph(
    statement: Statement,
    user: User,
    paragraph_id: int,
    text: str,
    *,
    base_revision_id: int | None,
    now: datetime,
) -> Version | None:
    """Give a paragraph a new revision. Returns None if the text did not change."""
    _require_draft_editor(statement, user)
    paragraph = _live_paragraph(statement, paragraph_id)
    number = _number_of(statement, paragraph)
    _check_base(paragraph, base_revision_id, number)
    text = normalise_paragraph(text)
    if text == paragraph.text:
        return None
    revision = Revision(
        paragraph_id=paragraph.id,
        parent_id=paragraph.current_revision_id,
        text=text,
        diff=text_change(paragraph.text, text),
        author_id=user.id,
        created_at=now,
    )
    db.session.add(revision)
    db.session.flush()
    paragraph.current_revision = revision
    db.session.flush()
    return snapshot(statement, user, f"Edited ¶ {number}", now=now)


def place_paragraph(
    statement: Statement, text: str, author: User, *, after_id: int | None, now: datetime,
    amendment_id: int | None = None,
) -> tuple[Paragraph, int]:
    """Add a paragraph after ``after_id`` (None: at the top); return it and its number.

    ``text`` must already be normalised. Shared by draft edits and accepted amendments.
    """
    live = live_paragraphs(statement)
    check_paragraph_count(len(live) + 1)
    if after_id is None:
        position = live[0].position if live else 1
        number = 1
    else:
        after = _live_paragraph(statement, after_id)
        position = after.position + 1
        number = [p.id for p in live].index(after.id) + 2
    # Make room: every paragraph (live or deleted) at or after the slot moves down one.
    db.session.execute(
        update(Paragraph)
        .where(Paragraph.statement_id == statement.id, Paragraph.position >= position)
        .values(position=Paragraph.position + 1)
        .execution_options(synchronize_session="fetch")
    )
    paragraph = _new_paragraph(statement, position, text, author, now=now, amendment_id=amendment_id)
    return paragraph, number


def insert_paragraph(
    statement: Statement, user: User, text: str, *, after_id: int | None, now: datetime
) -> tuple[Paragraph, Version]:
    """Insert a paragraph after ``after_id``, or at the top when it is None."""
    _require_draft_editor(statement, user)
    text = normalise_paragraph(text)
    paragraph, number = place_paragraph(statement, text, user, after_id=after_id, now=now)
    version = snapshot(statement, user, f"Inserted ¶ {number}", now=now)
    return paragraph, version


def delete_paragraph(
    statement: Statement,
    user: User,
    paragraph_id: int,
    *,
    base_revision_id: int | None,
    now: datetime,
) -> Version:
    """Remove a paragraph from the text; its revisions stay in history."""
    _require_draft_editor(statement, user)
    paragraph = _live_paragraph(statement, paragraph_id)
    number = _number_of(statement, paragraph)
    _check_base(paragraph, base_revision_id, number)
    paragraph.deleted_at = now
    db.session.flush()
    return snapshot(statement, user, f"Deleted ¶ {number}", now=now)


def move_paragraph(
    statement: Statement, user: User, paragraph_id: int, direction: str, *, now: datetime
) -> Version:
    _require_draft_editor(statement, user)
    if direction not in ("up", "down"):
        raise InvalidInput(_("A paragraph moves up or down."))
    paragraph = _live_paragraph(statement, paragraph_id)
    live = live_paragraphs(statement)
    index = [p.id for p in live].index(paragraph.id)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(live):
        raise InvalidInput(
            _("Paragraph %(number)s is already the first.", number=index + 1) if direction == "up"
            else _("Paragraph %(number)s is already the last.", number=index + 1)
        )
    other = live[other_index]
    paragraph.position, other.position = other.position, paragraph.position
    db.session.flush()
    return snapshot(
        statement, user, f"Moved ¶ {index + 1} {direction} to ¶ {other_index + 1}", now=now
    )


def retitle(statement: Statement, user: User, title: str, *, now: datetime) -> Version | None:
    _require_draft_editor(statement, user)
    title = normalise_title(title)
    if title == statement.title:
        return None
    statement.title = title
    db.session.flush()
    return snapshot(statement, user, "Changed the title", now=now)


# The notes the drafting steps store on a version (in English, as recorded), and how each reads to a person.
_NOTES = (
    (re.compile(r"Created\Z"), lambda m: _("Created")),
    (re.compile(r"Imported\Z"), lambda m: _("Imported")),
    (re.compile(r"Changed the title\Z"), lambda m: _("Changed the title")),
    (re.compile(r"Edited ¶ (\d+)\Z"), lambda m: _("Edited ¶ %(number)s", number=m[1])),
    (re.compile(r"Inserted ¶ (\d+)\Z"), lambda m: _("Inserted ¶ %(number)s", number=m[1])),
    (re.compile(r"Deleted ¶ (\d+)\Z"), lambda m: _("Deleted ¶ %(number)s", number=m[1])),
    (re.compile(r"Moved ¶ (\d+) up to ¶ (\d+)\Z"),
     lambda m: _("Moved ¶ %(number)s up to ¶ %(to)s", number=m[1], to=m[2])),
    (re.compile(r"Moved ¶ (\d+) down to ¶ (\d+)\Z"),
     lambda m: _("Moved ¶ %(number)s down to ¶ %(to)s", number=m[1], to=m[2])),
    # Written by amending.accept and accept_many (app/amending/operations.py).
    (re.compile(r"Amendment #(\d+) \((.*)\): modified ¶ (\d+)\Z", re.S),
     lambda m: _("Amendment #%(id)s (%(organisation)s): modified ¶ %(number)s", id=m[1], organisation=m[2],
                 number=m[3])),
    (re.compile(r"Amendment #(\d+) \((.*)\): inserted ¶ (\d+)\Z", re.S),
     lambda m: _("Amendment #%(id)s (%(organisation)s): inserted ¶ %(number)s", id=m[1], organisation=m[2],
                 number=m[3])),
    (re.compile(r"Amendment #(\d+) \((.*)\): deleted ¶ (\d+)\Z", re.S),
     lambda m: _("Amendment #%(id)s (%(organisation)s): deleted ¶ %(number)s", id=m[1], organisation=m[2],
                 number=m[3])),
    (re.compile(r"Amendment #(\d+) \((.*)\): new title\Z", re.S),
     lambda m: _("Amendment #%(id)s (%(organisation)s): new title", id=m[1], organisation=m[2])),
    (re.compile(r"(\d+) amendments accepted together: ((?:#\d+, )*#\d+)\Z"),
     lambda m: _("%(count)s amendments accepted together: %(ids)s", count=m[1], ids=m[2])),
)


def shown_note(note: str | None):
    """A version's note in the reader's language when a drafting step wrote it; any other note as it is."""
    for pattern, message in _NOTES:
        found = pattern.match(note or "")
        if found:
            return message(found)
    return note


def statements_for(user: User, limit: int | None = None) -> list[Statement]:
    """The statements a user can see, newest activity first (the first ``limit`` of them)."""
    return list(db.session.scalars(statements_query(user).limit(limit)))


def statements_query(user: User):
    """The statements a user can see, newest activity first: a select, for the caller to page through."""
    query = select(Statement).order_by(Statement.updated_at.desc(), Statement.id.desc())
    if not user.is_admin:
        org_ids = [m.organisation_id for m in user.memberships]
        query = query.where(
            (Statement.coordinator_id == user.id)
            | Statement.id.in_(
                select(Participant.statement_id).where(Participant.organisation_id.in_(org_ids))
            )
        )
    return query.options(selectinload(Statement.memberships))
