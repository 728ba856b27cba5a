"""Drafting rules: creating statements and direct edits in the draft phase, without the HTTP client.

Runs on SQLite and PostgreSQL (through the ``app`` fixture).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, text

from app.drafting import operations as drafting
from app.drafting.text import canonical_text, sha256_hex
from app.errors import InvalidInput, NotAllowed, NotFound, StaleText, WrongPhase
from app.extensions import db
from app.models import Paragraph, Participant, Revision, Statement, Version, VersionParagraph
from tests import factories

TEXTS = ["First paragraph.", "Second paragraph.", "Third paragraph."]


# --- helpers ----------------------------------------------------------------------


def _table(name: str) -> dict:
    """Every row of a table, as full tuples keyed by primary key."""
    key_width = 2 if name == "version_paragraphs" else 1
    rows = db.session.execute(text(f"SELECT * FROM {name}")).all()
    return {tuple(row[:key_width]): tuple(row) for row in rows}


def _history() -> dict[str, dict]:
    """The append-only tables (promise 1), row by row."""
    return {name: _table(name) for name in ("revisions", "versions", "version_paragraphs")}


def _assert_history_kept(before: dict[str, dict], after: dict[str, dict]) -> None:
    """Every row that existed before exists after, byte for byte."""
    for name, rows in before.items():
        for key, row in rows.items():
            assert after[name].get(key) == row, f"{name} row {key} changed or vanished"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _versions(statement: Statement) -> list[Version]:
    return list(
        db.session.scalars(
            select(Version).where(Version.statement_id == statement.id).order_by(Version.number)
        )
    )


def _live(statement: Statement) -> list[Paragraph]:
    return drafting.live_paragraphs(statement)


def _live_texts(statement: Statement) -> list[str]:
    return [p.text for p in _live(statement)]


def _entries(version: Version) -> list[tuple[int, int, int]]:
    return [
        tuple(row)
        for row in db.session.execute(
            select(VersionParagraph.number, VersionParagraph.paragraph_id, VersionParagraph.revision_id)
            .where(VersionParagraph.version_id == version.id)
            .order_by(VersionParagraph.number)
        )
    ]


def _assert_version_matches_text(statement: Statement, version: Version) -> None:
    """The version's hash, text and entries describe the statement as it is now."""
    live = _live(statement)
    expected = canonical_text(statement.title, [p.text for p in live])
    assert version.canonical_text == expected
    assert version.sha256 == sha256_hex(expected)
    assert version.title == statement.title
    assert _entries(version) == [
        (n, p.id, p.current_revision_id) for n, p in enumerate(live, start=1)
    ]


def _commit_and_reload(statement: Statement) -> None:
    db.session.commit()
    db.session.refresh(statement)


# --- fixtures ----------------------------------------------------------------------


@pytest.fixture
def org(app):
    return factories.organisation("Harbour Workers' Union", slug="hwu")


@pytest.fixture
def coordinator(org):
    return factories.member(org, "delegate")


@pytest.fixture
def statement(coordinator, org):
    return factories.statement(coordinator, org, paragraphs=TEXTS)


# --- create_statement ---------------------------------------------------------------


def test_create_statement_makes_v1_with_hash_of_canonical_text(coordinator, org, now):
    """A new statement is a draft with v1 whose hash is the SHA-256 of its canonical text."""
    statement = drafting.create_statement(
        coordinator, title="On the Ferry", coordinator_organisation=org, participants=[],
        paragraphs=["One.", "Two."], now=now,
    )
    db.session.commit()
    assert statement.status == "draft"
    assert statement.version_count == 1
    [v1] = _versions(statement)
    expected = "On the Ferry\n\n1. One.\n\n2. Two.\n"
    assert v1.number == 1
    assert v1.canonical_text == expected
    assert v1.sha256 == sha256_hex(expected)
    assert v1.note == "Created"
    assert v1.author_id == coordinator.id
    assert v1.created_at == now
    _assert_version_matches_text(statement, v1)


def test_create_statement_normalises_title_and_paragraphs(coordinator, org, now):
    """Title and paragraphs are stored normalised (whitespace, CRLF, NBSP at the ends)."""
    statement = drafting.create_statement(
        coordinator, title="  A   Title ", coordinator_organisation=org, participants=[],
        paragraphs=["\u00a0 Line one  \r\n\r\n line two "], now=now,
    )
    db.session.commit()
    assert statement.title == "A Title"
    assert _live_texts(statement) == ["Line one\nline two"]


def test_create_statement_each_paragraph_has_one_revision(statement):
    """Each initial paragraph has exactly one revision, with no parent, as its current text."""
    for paragraph in _live(statement):
        revisions = db.session.scalars(select(Revision).where(Revision.paragraph_id == paragraph.id)).all()
        assert len(revisions) == 1
        assert revisions[0].parent_id is None
        assert paragraph.current_revision_id == revisions[0].id
    assert _live_texts(statement) == TEXTS


def test_coordinator_organisation_is_first_participant(coordinator, org, now):
    """The coordinating organisation comes first even if listed later; duplicates are dropped."""
    other = factories.organisation("Alpha Collective", slug="alpha")
    third = factories.organisation("Beta Network", slug="beta")
    statement = drafting.create_statement(
        coordinator, title="T", coordinator_organisation=org,
        participants=[other, org, third, other], paragraphs=["P."], now=now,
    )
    db.session.commit()
    assert [p.organisation_id for p in statement.participants] == [org.id, other.id, third.id]
    assert [p.position for p in statement.participants] == [0, 1, 2]
    assert statement.coordinator_id == coordinator.id
    assert statement.coordinator_organisation_id == org.id


@pytest.mark.parametrize("roles", [(), ("signatory",), ("admin", "signatory")])
def test_non_delegate_cannot_create_and_nothing_is_written(org, now, roles):
    """Someone who is not a delegate of the coordinating organisation is refused; no row is written."""
    person = factories.member(org, *roles) if roles else factories.user()
    with pytest.raises(NotAllowed) as caught:
        drafting.create_statement(
            person, title="T", coordinator_organisation=org, participants=[],
            paragraphs=["P."], now=now,
        )
    assert caught.value.field == "coordinator_organisation"
    assert org.name in caught.value.message
    db.session.commit()  # nothing was pending either
    for model in (Statement, Participant, Paragraph, Revision, Version, VersionParagraph):
        assert _count(model) == 0


def test_delegate_of_another_org_cannot_coordinate_for_this_one(org, now):
    """A delegate of organisation B cannot open a statement in the name of organisation A."""
    other = factories.organisation()
    person = factories.member(other, "delegate")
    with pytest.raises(NotAllowed):
        drafting.create_statement(
            person, title="T", coordinator_organisation=org, participants=[other],
            paragraphs=["P."], now=now,
        )


def test_platform_admin_without_delegate_role_cannot_create(org, now):
    """Being a platform admin does not make one a delegate of an organisation."""
    admin = factories.admin()
    with pytest.raises(NotAllowed):
        drafting.create_statement(
            admin, title="T", coordinator_organisation=org, participants=[], paragraphs=["P."], now=now,
        )


def test_create_statement_with_bad_paragraph_writes_nothing(coordinator, org, now):
    """An empty paragraph among good ones refuses the whole statement."""
    with pytest.raises(InvalidInput, match="empty"):
        drafting.create_statement(
            coordinator, title="T", coordinator_organisation=org, participants=[],
            paragraphs=["Good.", "   "], now=now,
        )
    db.session.commit()
    assert _count(Statement) == 0 and _count(Paragraph) == 0


def test_create_statement_with_1001_paragraphs_refused(coordinator, org, now):
    """A statement cannot be created with 1,001 paragraphs."""
    with pytest.raises(InvalidInput, match="1,001"):
        drafting.create_statement(
            coordinator, title="T", coordinator_organisation=org, participants=[],
            paragraphs=[f"P{n}." for n in range(1001)], now=now,
        )
    db.session.commit()
    assert _count(Statement) == 0


def test_statement_slugs_are_unique(coordinator, org):
    """Two statements with the same title get different slugs."""
    first = factories.statement(coordinator, org, title="Bread and Ferries")
    second = factories.statement(coordinator, org, title="Bread and Ferries")
    third = factories.statement(coordinator, org, title="Bread and Ferries")
    assert [first.slug, second.slug, third.slug] == [
        "bread-and-ferries", "bread-and-ferries-2", "bread-and-ferries-3",
    ]


# --- edit_paragraph -----------------------------------------------------------------


def test_edit_creates_one_version_and_keeps_history(statement, coordinator, now):
    """Editing ¶ 2 adds one revision and one version; earlier rows are untouched (promise 1)."""
    before = _history()
    paragraphs = _live(statement)
    ids = [p.id for p in paragraphs]
    old_revision_id = paragraphs[1].current_revision_id
    old_entries = _entries(_versions(statement)[0])

    version = drafting.edit_paragraph(
        statement, coordinator, ids[1], "Second paragraph, improved.",
        base_revision_id=old_revision_id, now=now,
    )
    _commit_and_reload(statement)

    assert version.number == 2 and version.note == "Edited ¶ 2"
    assert statement.version_count == 2
    assert [v.number for v in _versions(statement)] == [1, 2]
    assert [p.id for p in _live(statement)] == ids
    assert _live_texts(statement) == ["First paragraph.", "Second paragraph, improved.", "Third paragraph."]
    new_revision = db.session.get(Revision, _live(statement)[1].current_revision_id)
    assert new_revision.id != old_revision_id
    assert new_revision.parent_id == old_revision_id
    assert new_revision.author_id == coordinator.id
    _assert_version_matches_text(statement, version)
    assert _entries(_versions(statement)[0]) == old_entries

    after = _history()
    _assert_history_kept(before, after)
    assert len(after["revisions"]) == len(before["revisions"]) + 1
    assert len(after["versions"]) == len(before["versions"]) + 1
    assert len(after["version_paragraphs"]) == len(before["version_paragraphs"]) + 3


def test_unchanged_edit_returns_none_and_writes_nothing(statement, coordinator, now):
    """Saving the same text (after normalisation) makes no revision and no version."""
    before = _history()
    paragraph = _live(statement)[0]
    result = drafting.edit_paragraph(
        statement, coordinator, paragraph.id, "  First paragraph.\u00a0\r\n",
        base_revision_id=paragraph.current_revision_id, now=now,
    )
    _commit_and_reload(statement)
    assert result is None
    assert statement.version_count == 1
    assert _history() == before


def test_edit_with_stale_base_revision_raises_and_changes_nothing(statement, coordinator, now):
    """An edit based on an older revision raises StaleText naming the paragraph; nothing changes."""
    paragraph = _live(statement)[2]
    stale_base = paragraph.current_revision_id
    drafting.edit_paragraph(statement, coordinator, paragraph.id, "Someone else's text.",
                            base_revision_id=stale_base, now=now)
    _commit_and_reload(statement)
    before = _history()

    with pytest.raises(StaleText, match="Paragraph 3 was changed"):
        drafting.edit_paragraph(statement, coordinator, paragraph.id, "My late text.",
                                base_revision_id=stale_base, now=now)
    db.session.rollback()
    assert _history() == before
    assert _live_texts(statement)[2] == "Someone else's text."
    assert statement.version_count == 2


def test_edit_without_base_revision_is_not_checked(statement, coordinator, now):
    """base_revision_id None (a caller that does not track it) skips the staleness check."""
    paragraph = _live(statement)[0]
    version = drafting.edit_paragraph(statement, coordinator, paragraph.id, "New.",
                                      base_revision_id=None, now=now)
    assert version is not None and version.number == 2


def test_edit_paragraph_of_another_statement_not_found(statement, coordinator, org, now):
    """A paragraph id that belongs to another statement (a tampered form) is NotFound."""
    other = factories.statement(coordinator, org, title="Other")
    foreign = _live(other)[0]
    before = _history()
    with pytest.raises(NotFound):
        drafting.edit_paragraph(statement, coordinator, foreign.id, "Hijack.",
                                base_revision_id=foreign.current_revision_id, now=now)
    db.session.rollback()
    assert _history() == before


def test_edit_unknown_paragraph_id_not_found(statement, coordinator, now):
    """A paragraph id that does not exist is NotFound."""
    with pytest.raises(NotFound):
        drafting.edit_paragraph(statement, coordinator, 987654, "X.", base_revision_id=None, now=now)


def test_deleted_paragraph_cannot_be_edited(statement, coordinator, now):
    """Once deleted, a paragraph cannot be edited (NotFound), and its old revisions remain."""
    paragraph = _live(statement)[1]
    drafting.delete_paragraph(statement, coordinator, paragraph.id,
                              base_revision_id=paragraph.current_revision_id, now=now)
    db.session.commit()
    with pytest.raises(NotFound):
        drafting.edit_paragraph(statement, coordinator, paragraph.id, "Back from the dead.",
                                base_revision_id=None, now=now)
    db.session.rollback()
    assert db.session.get(Revision, paragraph.current_revision_id).text == "Second paragraph."


def test_edit_with_invalid_text_changes_nothing(statement, coordinator, now):
    """An empty or control-character edit is InvalidInput and changes nothing."""
    paragraph = _live(statement)[0]
    before = _history()
    for bad in ["   ", "bell\x07"]:
        with pytest.raises(InvalidInput):
            drafting.edit_paragraph(statement, coordinator, paragraph.id, bad,
                                    base_revision_id=paragraph.current_revision_id, now=now)
        db.session.rollback()
    assert _history() == before


# --- who may edit, and when -----------------------------------------------------------


def _every_edit(statement, user, now):
    """One call of each draft-editing rule, for permission checks."""
    first, second = _live(statement)[:2]
    return [
        lambda: drafting.edit_paragraph(statement, user, first.id, "X.",
                                        base_revision_id=first.current_revision_id, now=now),
        lambda: drafting.insert_paragraph(statement, user, "X.", after_id=None, now=now),
        lambda: drafting.delete_paragraph(statement, user, first.id,
                                          base_revision_id=first.current_revision_id, now=now),
        lambda: drafting.move_paragraph(statement, user, second.id, "up", now=now),
        lambda: drafting.retitle(statement, user, "Another title", now=now),
    ]


def test_only_the_coordinator_edits_the_draft(statement, org, now):
    """Another delegate of the same organisation, and a platform admin, get NotAllowed for every edit."""
    colleague = factories.member(org, "delegate", "admin")
    admin = factories.admin()
    before = _history()
    for intruder in (colleague, admin):
        for call in _every_edit(statement, intruder, now):
            with pytest.raises(NotAllowed, match="Only the coordinator"):
                call()
            db.session.rollback()
    assert _history() == before
    assert _live_texts(statement) == TEXTS


@pytest.mark.parametrize("phase", ["amending", "signing", "published", "withdrawn"])
def test_no_direct_edits_outside_draft(statement, coordinator, now, phase):
    """Outside the draft phase every direct edit raises WrongPhase, even for the coordinator."""
    statement.status = phase
    db.session.commit()
    before = _history()
    for call in _every_edit(statement, coordinator, now):
        with pytest.raises(WrongPhase):
            call()
        db.session.rollback()
    assert _history() == before
    assert statement.title == "A Joint Statement on Testing"


# --- insert_paragraph ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after_index", "expected_number"),
    [(None, 1), (0, 2), (1, 3), (2, 4)],
    ids=["top", "after-first", "middle", "end"],
)
def test_insert_paragraph(statement, coordinator, now, after_index, expected_number):
    """Insert at the top, middle or end: one new version, right note, existing ids and texts kept."""
    before = _history()
    old = _live(statement)
    old_ids = [p.id for p in old]
    old_revisions = [p.current_revision_id for p in old]
    after_id = None if after_index is None else old_ids[after_index]

    paragraph, version = drafting.insert_paragraph(statement, coordinator, " New text. ",
                                                   after_id=after_id, now=now)
    _commit_and_reload(statement)

    live = _live(statement)
    expected_ids = list(old_ids)
    expected_ids.insert(expected_number - 1, paragraph.id)
    assert [p.id for p in live] == expected_ids
    expected_texts = list(TEXTS)
    expected_texts.insert(expected_number - 1, "New text.")
    assert [p.text for p in live] == expected_texts
    assert [p.current_revision_id for p in live if p.id != paragraph.id] == old_revisions
    assert version.number == 2
    assert version.note == f"Inserted ¶ {expected_number}"
    assert len(_versions(statement)) == 2
    _assert_version_matches_text(statement, version)
    new_revision = db.session.get(Revision, paragraph.current_revision_id)
    assert new_revision.parent_id is None and new_revision.paragraph_id == paragraph.id
    _assert_history_kept(before, _history())


def test_insert_after_a_deleted_neighbour_numbers_by_live_order(statement, coordinator, now):
    """With ¶ 2 deleted, inserting after ¶ 1 puts the new paragraph at number 2, before old ¶ 3."""
    first, second, third = _live(statement)
    drafting.delete_paragraph(statement, coordinator, second.id, base_revision_id=None, now=now)
    paragraph, version = drafting.insert_paragraph(statement, coordinator, "Inserted.",
                                                   after_id=first.id, now=now)
    _commit_and_reload(statement)
    assert [p.id for p in _live(statement)] == [first.id, paragraph.id, third.id]
    assert version.note == "Inserted ¶ 2"
    assert version.number == 3
    _assert_version_matches_text(statement, version)


def test_insert_positions_stay_distinct(statement, coordinator, now):
    """Repeated inserts keep every paragraph's position distinct (order is never ambiguous)."""
    first = _live(statement)[0]
    for n in range(3):
        drafting.insert_paragraph(statement, coordinator, f"Top {n}.", after_id=None, now=now)
        drafting.insert_paragraph(statement, coordinator, f"After first {n}.", after_id=first.id, now=now)
    db.session.commit()
    positions = db.session.scalars(
        select(Paragraph.position).where(Paragraph.statement_id == statement.id)
    ).all()
    assert len(positions) == len(set(positions)) == 9
    assert _live_texts(statement) == [
        "Top 2.", "Top 1.", "Top 0.", "First paragraph.",
        "After first 2.", "After first 1.", "After first 0.",
        "Second paragraph.", "Third paragraph.",
    ]


def test_insert_after_paragraph_of_another_statement_not_found(statement, coordinator, org, now):
    """Inserting after a paragraph of another statement is NotFound and writes nothing."""
    other = factories.statement(coordinator, org, title="Other")
    before = _history()
    with pytest.raises(NotFound):
        drafting.insert_paragraph(statement, coordinator, "X.", after_id=_live(other)[0].id, now=now)
    db.session.rollback()
    assert _history() == before
    assert _count(Paragraph) == 6


def test_insert_empty_paragraph_refused(statement, coordinator, now):
    """Inserting an empty paragraph is InvalidInput and creates no paragraph."""
    with pytest.raises(InvalidInput):
        drafting.insert_paragraph(statement, coordinator, "\n \n", after_id=None, now=now)
    db.session.rollback()
    assert _count(Paragraph) == 3


def _fill_to(statement: Statement, author, total: int, now) -> None:
    """Add live paragraphs (with revisions) straight into the tables until there are ``total``."""
    have = len(drafting.live_paragraphs(statement))
    top = db.session.scalar(
        select(func.max(Paragraph.position)).where(Paragraph.statement_id == statement.id)
    )
    db.session.execute(
        insert(Paragraph),
        [{"statement_id": statement.id, "position": top + i, "created_at": now}
         for i in range(1, total - have + 1)],
    )
    new_ids = db.session.scalars(
        select(Paragraph.id).where(Paragraph.statement_id == statement.id,
                                   Paragraph.current_revision_id.is_(None))
    ).all()
    db.session.execute(
        insert(Revision),
        [{"paragraph_id": pid, "text": f"Filler {pid}.", "author_id": author.id, "created_at": now}
         for pid in new_ids],
    )
    db.session.execute(
        text(
            "UPDATE paragraphs SET current_revision_id = "
            "(SELECT MIN(r.id) FROM revisions r WHERE r.paragraph_id = paragraphs.id) "
            "WHERE statement_id = :sid AND current_revision_id IS NULL"
        ),
        {"sid": statement.id},
    )
    db.session.commit()
    assert len(drafting.live_paragraphs(statement)) == total


def test_1001st_paragraph_refused_1000th_accepted(statement, coordinator, now):
    """With 1,000 live paragraphs an insert is refused; after one delete, the 1,000th is accepted."""
    _fill_to(statement, coordinator, 1000, now)
    versions_before = _count(Version)
    with pytest.raises(InvalidInput, match="1,001"):
        drafting.insert_paragraph(statement, coordinator, "One too many.", after_id=None, now=now)
    db.session.rollback()
    assert len(drafting.live_paragraphs(statement)) == 1000
    assert _count(Version) == versions_before

    first = _live(statement)[0]
    drafting.delete_paragraph(statement, coordinator, first.id, base_revision_id=None, now=now)
    _, version = drafting.insert_paragraph(statement, coordinator, "Number 1,000.", after_id=None, now=now)
    db.session.commit()
    assert len(drafting.live_paragraphs(statement)) == 1000
    assert len(_entries(version)) == 1000


# --- delete_paragraph --------------------------------------------------------------------


def test_delete_paragraph(statement, coordinator, now):
    """Deleting ¶ 2 makes one version, renumbers ¶ 3 to 2, and keeps its revisions and old versions."""
    before = _history()
    first, second, third = _live(statement)
    version = drafting.delete_paragraph(statement, coordinator, second.id,
                                        base_revision_id=second.current_revision_id, now=now)
    _commit_and_reload(statement)

    assert version.number == 2 and version.note == "Deleted ¶ 2"
    assert [p.id for p in _live(statement)] == [first.id, third.id]
    assert version.canonical_text == (
        "A Joint Statement on Testing\n\n1. First paragraph.\n\n2. Third paragraph.\n"
    )
    _assert_version_matches_text(statement, version)
    gone = db.session.get(Paragraph, second.id)
    assert gone is not None and gone.deleted_at == now
    assert gone.text == "Second paragraph."  # the row and its current revision stay
    after = _history()
    _assert_history_kept(before, after)
    assert len(after["revisions"]) == len(before["revisions"])
    assert len(drafting.live_paragraphs(statement)) == 2


def test_delete_with_stale_base_revision_raises(statement, coordinator, now):
    """Deleting a paragraph that changed since the form was loaded raises StaleText; it stays."""
    paragraph = _live(statement)[0]
    stale = paragraph.current_revision_id
    drafting.edit_paragraph(statement, coordinator, paragraph.id, "Changed meanwhile.",
                            base_revision_id=stale, now=now)
    db.session.commit()
    before = _history()
    with pytest.raises(StaleText, match="Paragraph 1"):
        drafting.delete_paragraph(statement, coordinator, paragraph.id, base_revision_id=stale, now=now)
    db.session.rollback()
    assert _history() == before
    assert db.session.get(Paragraph, paragraph.id).deleted_at is None


def test_delete_twice_not_found(statement, coordinator, now):
    """A replayed delete of the same paragraph is NotFound and makes no second version."""
    paragraph = _live(statement)[0]
    drafting.delete_paragraph(statement, coordinator, paragraph.id, base_revision_id=None, now=now)
    db.session.commit()
    with pytest.raises(NotFound):
        drafting.delete_paragraph(statement, coordinator, paragraph.id, base_revision_id=None, now=now)
    db.session.rollback()
    assert len(_versions(statement)) == 2


# --- move_paragraph ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "direction", "note", "order"),
    [
        (1, "up", "Moved ¶ 2 up to ¶ 1", [1, 0, 2]),
        (1, "down", "Moved ¶ 2 down to ¶ 3", [0, 2, 1]),
        (0, "down", "Moved ¶ 1 down to ¶ 2", [1, 0, 2]),
        (2, "up", "Moved ¶ 3 up to ¶ 2", [0, 2, 1]),
    ],
)
def test_move_paragraph(statement, coordinator, now, index, direction, note, order):
    """Moving swaps with the neighbour: one version, right note, ids and revisions unchanged."""
    before = _history()
    old = _live(statement)
    old_revisions = {p.id: p.current_revision_id for p in old}
    version = drafting.move_paragraph(statement, coordinator, old[index].id, direction, now=now)
    _commit_and_reload(statement)
    live = _live(statement)
    assert [p.id for p in live] == [old[i].id for i in order]
    assert {p.id: p.current_revision_id for p in live} == old_revisions
    assert version.number == 2 and version.note == note
    _assert_version_matches_text(statement, version)
    after = _history()
    _assert_history_kept(before, after)
    assert len(after["revisions"]) == len(before["revisions"])
    assert len(after["versions"]) == len(before["versions"]) + 1


@pytest.mark.parametrize(("index", "direction", "message"), [
    (0, "up", "Paragraph 1 is already the first"),
    (2, "down", "Paragraph 3 is already the last"),
])
def test_move_past_the_edge_refused(statement, coordinator, now, index, direction, message):
    """The first paragraph cannot move up, nor the last down; no version is made."""
    paragraph = _live(statement)[index]
    with pytest.raises(InvalidInput, match=message):
        drafting.move_paragraph(statement, coordinator, paragraph.id, direction, now=now)
    db.session.rollback()
    assert len(_versions(statement)) == 1


def test_move_unknown_direction_refused(statement, coordinator, now):
    """Only "up" and "down" are directions."""
    with pytest.raises(InvalidInput):
        drafting.move_paragraph(statement, coordinator, _live(statement)[1].id, "sideways", now=now)


def test_move_skips_deleted_paragraphs(statement, coordinator, now):
    """With ¶ 2 deleted, moving old ¶ 3 up swaps it with ¶ 1 (live neighbours only)."""
    first, second, third = _live(statement)
    drafting.delete_paragraph(statement, coordinator, second.id, base_revision_id=None, now=now)
    version = drafting.move_paragraph(statement, coordinator, third.id, "up", now=now)
    _commit_and_reload(statement)
    assert [p.id for p in _live(statement)] == [third.id, first.id]
    assert version.note == "Moved ¶ 2 up to ¶ 1"
    _assert_version_matches_text(statement, version)


# --- retitle ---------------------------------------------------------------------------


def test_retitle_makes_a_version(statement, coordinator, now):
    """A new title makes one version whose title and canonical text use it; the slug stays."""
    before = _history()
    slug = statement.slug
    version = drafting.retitle(statement, coordinator, "  Bread,  Ferries and Wages ", now=now)
    _commit_and_reload(statement)
    assert statement.title == "Bread, Ferries and Wages"
    assert statement.slug == slug
    assert version.number == 2 and version.note == "Changed the title"
    assert version.title == "Bread, Ferries and Wages"
    assert version.canonical_text.startswith("Bread, Ferries and Wages\n\n1. First paragraph.")
    assert _versions(statement)[0].title == "A Joint Statement on Testing"
    _assert_version_matches_text(statement, version)
    _assert_history_kept(before, _history())


def test_retitle_to_same_title_returns_none(statement, coordinator, now):
    """Retitling to the same title (after normalisation) makes no version."""
    assert drafting.retitle(statement, coordinator, " A Joint  Statement on Testing", now=now) is None
    db.session.commit()
    assert len(_versions(statement)) == 1


def test_retitle_empty_refused(statement, coordinator, now):
    """An empty title is refused."""
    with pytest.raises(InvalidInput):
        drafting.retitle(statement, coordinator, "   ", now=now)


# --- versions over a series of edits ------------------------------------------------------


def test_every_save_is_a_consecutive_version_with_its_own_hash(statement, coordinator, now):
    """A series of edits gives v1..v6; each version's stored text hashes to its sha256 and never changes."""
    first, second, third = _live(statement)
    later = now + timedelta(minutes=1)
    drafting.edit_paragraph(statement, coordinator, first.id, "First, edited.",
                            base_revision_id=None, now=later)
    db.session.commit()
    frozen = _history()
    drafting.insert_paragraph(statement, coordinator, "Fourth.", after_id=third.id, now=later)
    drafting.move_paragraph(statement, coordinator, third.id, "down", now=later)
    drafting.delete_paragraph(statement, coordinator, second.id, base_revision_id=None, now=later)
    drafting.retitle(statement, coordinator, "Final title", now=later)
    _commit_and_reload(statement)

    versions = _versions(statement)
    assert [v.number for v in versions] == [1, 2, 3, 4, 5, 6]
    assert statement.version_count == 6
    assert drafting.current_version(statement).number == 6
    for version in versions:
        assert version.sha256 == sha256_hex(version.canonical_text)
        entries = _entries(version)
        assert [n for n, _, _ in entries] == list(range(1, len(entries) + 1))
        texts = [db.session.get(Revision, rid).text for _, _, rid in entries]
        assert version.canonical_text == canonical_text(version.title, texts)
    assert len({v.sha256 for v in versions}) == 6
    assert versions[-1].canonical_text == (
        "Final title\n\n1. First, edited.\n\n2. Fourth.\n\n3. Third paragraph.\n"
    )
    _assert_history_kept(frozen, _history())


def test_get_version_unknown_number_not_found(statement):
    """Asking for a version that does not exist is NotFound."""
    assert drafting.get_version(statement, 1).number == 1
    with pytest.raises(NotFound, match="Version 7"):
        drafting.get_version(statement, 7)


# --- the version-number claim under concurrency ---------------------------------------------


def _bump_version_count_elsewhere(statement_id: int) -> None:
    """Another process claims the next version number, outside this session."""
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE statements SET version_count = version_count + 1 WHERE id = :id"),
            {"id": statement_id},
        )


@pytest.mark.parametrize("rule", ["edit", "insert", "delete", "move", "retitle"])
def test_concurrent_save_raises_stale_and_makes_no_duplicate_version(statement, coordinator, now, rule):
    """If another save claimed the next number first, the rule raises StaleText and adds no version."""
    first, second, _ = _live(statement)
    assert statement.version_count == 1  # loaded in this session before the other save
    before = _history()
    _bump_version_count_elsewhere(statement.id)
    calls = {
        "edit": lambda: drafting.edit_paragraph(statement, coordinator, first.id, "Mine.",
                                                base_revision_id=first.current_revision_id, now=now),
        "insert": lambda: drafting.insert_paragraph(statement, coordinator, "Mine.", after_id=None, now=now),
        "delete": lambda: drafting.delete_paragraph(statement, coordinator, first.id,
                                                    base_revision_id=None, now=now),
        "move": lambda: drafting.move_paragraph(statement, coordinator, second.id, "up", now=now),
        "retitle": lambda: drafting.retitle(statement, coordinator, "Mine", now=now),
    }
    with pytest.raises(StaleText, match="changed while you were saving"):
        calls[rule]()
    db.session.rollback()
    assert _history() == before
    assert _count(Version) == 1
    assert db.session.scalar(select(Statement.version_count).where(Statement.id == statement.id)) == 2
    assert _live_texts(statement) == TEXTS


# --- who sees what ------------------------------------------------------------------------


def test_statements_for_lists_participants_statements_only(statement, org, coordinator):
    """Members of a participating organisation see the statement; outsiders do not; admins see all."""
    colleague = factories.member(org, "signatory")
    outsider = factories.member(factories.organisation(), "delegate")
    admin = factories.admin()
    assert drafting.statements_for(coordinator) == [statement]
    assert drafting.statements_for(colleague) == [statement]
    assert drafting.statements_for(outsider) == []
    assert drafting.statements_for(admin) == [statement]
