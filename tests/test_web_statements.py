"""Web tests of statements in draft: creating, editing, importing, history and escaping."""

from __future__ import annotations

import datetime as _dt
import hashlib
import html
import io
import re

import pytest
from sqlalchemy import func, select

from app.drafting import operations as drafting
from app.extensions import db
from app.models import Paragraph, Revision, Statement, Version
from tests import factories
from tests.conftest import Browser

PARAGRAPHS = (
    "Clean water is a right, not a privilege.",
    "Regional authorities should publish water quality data every week.",
    "We will meet again in spring to review what has changed.",
)


class World:
    """Three organisations: two take part in a statement, one does not."""

    def __init__(self, app):
        self.admin = factories.admin()
        self.harbour = factories.organisation("Harbour Workers Union", slug="hwu", short_name="HWU")
        self.valley = factories.organisation("Valley Growers Cooperative", slug="vgc")
        self.outside = factories.organisation("Distant Miners Guild", slug="dmg")
        self.coordinator = factories.member(self.harbour, "delegate", name="Carla Coordinator")
        self.reader = factories.member(self.valley, "delegate", "signatory", name="Rui Reader")
        self.outsider = factories.member(self.outside, "delegate", "admin", name="Olga Outsider")
        self.statement = factories.statement(
            self.coordinator, self.harbour, participants=[self.valley],
            title="Joint Statement on Clean Water", paragraphs=PARAGRAPHS,
        )
        self.sid = self.statement.id
        self.pids = [p.id for p in drafting.live_paragraphs(self.statement)]
        self.app = app

    def browser(self, user) -> Browser:
        made = Browser(self.app.test_client())
        made.login(user.email)
        return made


@pytest.fixture
def world(app) -> World:
    return World(app)


def reload() -> None:
    db.session.rollback()  # see what the requests committed


def live(statement_id: int) -> list[tuple[int, str]]:
    reload()
    statement = db.session.get(Statement, statement_id)
    return [(p.id, p.text) for p in drafting.live_paragraphs(statement)]


def texts(statement_id: int) -> list[str]:
    return [text for _, text in live(statement_id)]


def notes(statement_id: int) -> list[str]:
    reload()
    return list(db.session.scalars(
        select(Version.note).where(Version.statement_id == statement_id).order_by(Version.number)
    ))


def page_text(response) -> str:
    return response.get_data(as_text=True)


def rendered_paragraphs(page: str) -> list[tuple[int, int, str]]:
    """(paragraph id, number, text) of each paragraph as the statement page shows it."""
    found = re.findall(
        r'<li id="p-(\d+)">\s*<a class="number" href="#p-(\d+)"[^>]*>(\d+)\.</a>\s*'
        r'<div class="text">(.*?)</div>', page, re.S)
    assert all(anchor == link for anchor, link, _, _ in found)
    return [(int(pid), int(number), html.unescape(text)) for pid, _, number, text in found]


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page)
    assert match, f"no field {name}"
    return match.group(1)


def checked_values(page: str, name: str) -> set[str]:
    inputs = re.findall(rf'<input[^>]*name="{name}"[^>]*>', page)
    return {re.search(r'value="([^"]*)"', i).group(1) for i in inputs if " checked" in f" {i}"}


# --- creating ----------------------------------------------------------------


def test_delegate_creates_a_statement_with_initial_text(app, world):
    """/statements/new makes a draft with v1, the coordinator's organisation first."""
    browser = world.browser(world.coordinator)
    form = page_text(browser.get("/statements/new"))
    assert "Harbour Workers Union (HWU)" in form and "Distant Miners Guild" in form
    response = browser.post("/statements/new", {
        "title": "  Statement on   Fair Harvest Prices ",
        "coordinator_organisation": str(world.harbour.id),
        "participants": [str(world.valley.id), str(world.harbour.id)],
        "text": "Farmers deserve a fair price.\r\n\r\n\r\nMarkets must be open\r\nto small growers.\r\n\r\n",
    })
    assert response.status_code == 302
    statement = db.session.scalar(select(Statement).where(Statement.id != world.sid))
    assert response.location == f"/statements/{statement.id}"
    assert statement.title == "Statement on Fair Harvest Prices"
    assert statement.status == "draft" and statement.version_count == 1
    assert statement.coordinator_id == world.coordinator.id
    assert [o.id for o in statement.participant_organisations] == [world.harbour.id, world.valley.id]
    assert texts(statement.id) == ["Farmers deserve a fair price.",
                                   "Markets must be open\nto small growers."]
    assert notes(statement.id) == ["Created"]
    shown = page_text(browser.get(response.location))
    assert "The statement is created as a draft." in shown
    assert [n for _, n, _ in rendered_paragraphs(shown)] == [1, 2]


def test_statement_without_initial_text_starts_empty(app, world):
    """Leaving the text empty makes a draft with no paragraphs, still as v1."""
    browser = world.browser(world.coordinator)
    browser.post("/statements/new", {"title": "An Empty Beginning",
                                     "coordinator_organisation": str(world.harbour.id)})
    statement = db.session.scalar(select(Statement).where(Statement.title == "An Empty Beginning"))
    assert statement.version_count == 1 and texts(statement.id) == []
    assert "no paragraphs yet" in page_text(browser.get(f"/statements/{statement.id}"))


def test_non_delegate_sees_cannot_coordinate_page(app, world):
    """Someone who is no organisation's delegate gets the 403 "cannot coordinate" page."""
    signatory = factories.member(world.valley, "signatory")
    browser = world.browser(signatory)
    for path in ("/statements/new", "/statements/import"):
        response = browser.get(path)
        assert response.status_code == 403
        assert "You cannot start a statement yet" in page_text(response)
    response = browser.post("/statements/new", {"title": "Sneaky",
                                                "coordinator_organisation": str(world.valley.id)},
                            form_page="/")
    assert response.status_code == 403
    reload()
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 1


def test_cannot_coordinate_for_an_organisation_one_is_not_delegate_of(app, world):
    """Choosing another organisation as coordinator is refused on the form."""
    browser = world.browser(world.coordinator)
    response = browser.post("/statements/new", {"title": "Borrowed Name",
                                                "coordinator_organisation": str(world.valley.id)})
    assert response.status_code == 422
    assert "Not a valid choice" in page_text(response)
    reload()
    assert db.session.scalar(select(Statement).where(Statement.title == "Borrowed Name")) is None


def test_empty_title_is_a_form_error(app, world):
    """A statement needs a title."""
    browser = world.browser(world.coordinator)
    response = browser.post("/statements/new", {"title": "   ",
                                                "coordinator_organisation": str(world.harbour.id)})
    assert response.status_code == 422 and 'class="error"' in page_text(response)
    reload()
    assert db.session.scalar(select(func.count()).select_from(Statement)) == 1


# --- editing the draft -----------------------------------------------------------


def test_coordinator_edits_a_paragraph(app, world):
    """Saving a paragraph makes one new version and a revision that remembers its parent."""
    browser = world.browser(world.coordinator)
    path = f"/statements/{world.sid}/paragraphs/{world.pids[1]}/edit"
    form = page_text(browser.get(path))
    assert "Edit paragraph 2" in form and PARAGRAPHS[1] in form
    old_revision = int(hidden(form, "base_revision_id"))
    response = browser.post(path, {"text": "Authorities must publish water data every day.",
                                   "base_revision_id": str(old_revision)})
    assert response.status_code == 302
    assert response.location == f"/statements/{world.sid}#p-{world.pids[1]}"
    assert texts(world.sid)[1] == "Authorities must publish water data every day."
    assert notes(world.sid) == ["Created", "Edited ¶ 2"]
    revision = db.session.get(Paragraph, world.pids[1]).current_revision
    assert revision.parent_id == old_revision
    assert db.session.get(Revision, old_revision).text == PARAGRAPHS[1]  # nothing is lost
    assert "¶ 2 saved as version 2." in page_text(browser.get(f"/statements/{world.sid}"))


def test_saving_an_unchanged_paragraph_makes_no_version(app, world):
    """Saving the same text says so and records nothing."""
    browser = world.browser(world.coordinator)
    path = f"/statements/{world.sid}/paragraphs/{world.pids[0]}/edit"
    browser.post(path, {"text": PARAGRAPHS[0]})
    assert notes(world.sid) == ["Created"]
    assert "Nothing changed." in page_text(browser.get(f"/statements/{world.sid}"))


def test_insert_at_the_top(app, world):
    """A paragraph inserted at the top becomes ¶ 1 and the rest are renumbered."""
    browser = world.browser(world.coordinator)
    page = page_text(browser.get(f"/statements/{world.sid}/paragraphs/new?after=top"))
    assert "Insert a paragraph at the top" in page
    response = browser.post(f"/statements/{world.sid}/paragraphs/new",
                            {"text": "We write as neighbours.", "after": "top"})
    assert response.status_code == 302
    assert texts(world.sid) == ["We write as neighbours.", *PARAGRAPHS]
    assert notes(world.sid) == ["Created", "Inserted ¶ 1"]
    new_id = live(world.sid)[0][0]
    assert response.location.endswith(f"#p-{new_id}")
    assert "Paragraph inserted as ¶ 1; saved as version 2." in page_text(
        browser.get(f"/statements/{world.sid}"))


def test_insert_after_a_paragraph(app, world):
    """A paragraph inserted after ¶ 2 becomes ¶ 3."""
    browser = world.browser(world.coordinator)
    path = f"/statements/{world.sid}/paragraphs/new?after={world.pids[1]}"
    assert "Insert a paragraph after ¶ 2" in page_text(browser.get(path))
    browser.post(f"/statements/{world.sid}/paragraphs/new",
                 {"text": "Leaks must be repaired within a week.", "after": str(world.pids[1])},
                 form_page=path)
    assert texts(world.sid) == [PARAGRAPHS[0], PARAGRAPHS[1], "Leaks must be repaired within a week.",
                                PARAGRAPHS[2]]
    assert notes(world.sid) == ["Created", "Inserted ¶ 3"]
    assert "Paragraph inserted as ¶ 3; saved as version 2." in page_text(
        browser.get(f"/statements/{world.sid}"))


def test_delete_asks_first_then_deletes(app, world):
    """GET shows a confirmation and changes nothing; the POST removes the paragraph, keeping its text."""
    browser = world.browser(world.coordinator)
    path = f"/statements/{world.sid}/paragraphs/{world.pids[1]}/delete"
    confirm = page_text(browser.get(path))
    assert "Delete paragraph 2?" in confirm and PARAGRAPHS[1] in confirm
    assert notes(world.sid) == ["Created"] and len(texts(world.sid)) == 3
    response = browser.post(path, {"base_revision_id": hidden(confirm, "base_revision_id")})
    assert response.status_code == 302
    assert texts(world.sid) == [PARAGRAPHS[0], PARAGRAPHS[2]]
    assert notes(world.sid) == ["Created", "Deleted ¶ 2"]
    deleted = db.session.get(Paragraph, world.pids[1])
    assert deleted.deleted_at is not None and deleted.text == PARAGRAPHS[1]
    assert "¶ 2 deleted; saved as version 2." in page_text(browser.get(f"/statements/{world.sid}"))


def test_move_down_and_up(app, world):
    """Moving swaps a paragraph with its neighbour; each move is one version."""
    browser = world.browser(world.coordinator)
    first, second, third = world.pids
    response = browser.post(f"/statements/{world.sid}/paragraphs/{first}/move", {"direction": "down"},
                            form_page=f"/statements/{world.sid}")
    assert response.status_code == 302 and response.location.endswith(f"#p-{first}")
    assert [pid for pid, _ in live(world.sid)] == [second, first, third]
    assert "Moved; saved as version 2." in page_text(browser.get(f"/statements/{world.sid}"))
    browser.post(f"/statements/{world.sid}/paragraphs/{third}/move", {"direction": "up"},
                 form_page=f"/statements/{world.sid}")
    assert [pid for pid, _ in live(world.sid)] == [second, third, first]
    assert notes(world.sid) == ["Created", "Moved ¶ 1 down to ¶ 2", "Moved ¶ 3 up to ¶ 2"]


def test_moving_the_first_paragraph_up_is_refused(app, world):
    """The first paragraph cannot move up; the user is told and no version is made."""
    browser = world.browser(world.coordinator)
    browser.post(f"/statements/{world.sid}/paragraphs/{world.pids[0]}/move", {"direction": "up"},
                 form_page=f"/statements/{world.sid}")
    assert notes(world.sid) == ["Created"]
    assert "Paragraph 1 is already the first." in page_text(browser.get(f"/statements/{world.sid}"))


def test_coordinator_edits_the_title(app, world):
    """A new title is one version; the page shows it."""
    browser = world.browser(world.coordinator)
    response = browser.post(f"/statements/{world.sid}/title", {"title": "Clean Water for Every Town"})
    assert response.status_code == 302
    reload()
    assert db.session.get(Statement, world.sid).title == "Clean Water for Every Town"
    assert notes(world.sid) == ["Created", "Changed the title"]
    page = page_text(browser.get(f"/statements/{world.sid}"))
    assert "Title saved as version 2." in page and "<h1>Clean Water for Every Town</h1>" in page


def test_anchors_follow_the_paragraph_not_its_number(app, world):
    """id="p-<id>" stays on the same paragraph when an insert renumbers it."""
    browser = world.browser(world.coordinator)
    before = rendered_paragraphs(page_text(browser.get(f"/statements/{world.sid}")))
    expected = [(pid, n, text) for n, (pid, text) in enumerate(zip(world.pids, PARAGRAPHS, strict=True), 1)]
    assert before == expected
    browser.post(f"/statements/{world.sid}/paragraphs/new", {"text": "A new opening.", "after": "top"})
    after = rendered_paragraphs(page_text(browser.get(f"/statements/{world.sid}")))
    assert [n for _, n, _ in after] == [1, 2, 3, 4]
    assert after[1:] == [(pid, n + 1, text) for pid, n, text in expected]
    assert after[0][0] not in world.pids and after[0][2] == "A new opening."


def test_stale_edit_keeps_the_users_text_and_saves_nothing(app, world):
    """A form opened before someone else's save shows the conflict and keeps what the user typed."""
    browser = world.browser(world.coordinator)
    path = f"/statements/{world.sid}/paragraphs/{world.pids[0]}/edit"
    first_tab = page_text(browser.get(path))
    second_tab = page_text(browser.get(path))
    browser.post(path, {"text": "Clean water is a right for everyone.",
                        "base_revision_id": hidden(first_tab, "base_revision_id")})
    assert notes(world.sid) == ["Created", "Edited ¶ 1"]

    mine = "Clean water is a human right & a public duty."
    response = browser.post(path, {"text": mine,
                                   "base_revision_id": hidden(second_tab, "base_revision_id")})
    page = page_text(response)
    assert response.status_code == 409
    assert "changed since you opened it" in page
    assert html.escape(mine, quote=False) in page.split("<textarea", 1)[1]
    assert "Clean water is a right for everyone." in page  # the current text, to merge with
    assert notes(world.sid) == ["Created", "Edited ¶ 1"]
    assert texts(world.sid)[0] == "Clean water is a right for everyone."

    # The form now carries the current revision, so sending it again saves the merge.
    browser.post(path, {"text": mine, "base_revision_id": hidden(page, "base_revision_id")})
    assert texts(world.sid)[0] == mine
    assert notes(world.sid) == ["Created", "Edited ¶ 1", "Edited ¶ 1"]


def test_stale_delete_is_refused(app, world):
    """A delete confirmed after the paragraph changed is refused and deletes nothing."""
    browser = world.browser(world.coordinator)
    delete_path = f"/statements/{world.sid}/paragraphs/{world.pids[0]}/delete"
    confirm = page_text(browser.get(delete_path))
    browser.post(f"/statements/{world.sid}/paragraphs/{world.pids[0]}/edit",
                 {"text": "Changed meanwhile."})
    response = browser.post(delete_path, {"base_revision_id": hidden(confirm, "base_revision_id")})
    assert response.status_code == 200
    assert "changed by someone else" in page_text(response)
    assert texts(world.sid)[0] == "Changed meanwhile."
    assert notes(world.sid) == ["Created", "Edited ¶ 1"]


@pytest.mark.parametrize("text, message", [
    ("   \r\n  ", "A paragraph cannot be empty."),
    ("x" * 10_001, "A paragraph can have at most 10,000 characters; this one has 10,001."),
    ("x" * 20_001, "A paragraph can have at most 10,000 characters."),
])
def test_empty_or_huge_paragraph_is_a_form_error(app, world, text, message):
    """An empty or oversized paragraph is refused on the form (422), when editing and inserting."""
    browser = world.browser(world.coordinator)
    edit = browser.post(f"/statements/{world.sid}/paragraphs/{world.pids[0]}/edit", {"text": text})
    insert = browser.post(f"/statements/{world.sid}/paragraphs/new", {"text": text, "after": "top"})
    for response in (edit, insert):
        assert response.status_code == 422
        assert message in page_text(response)
    assert notes(world.sid) == ["Created"]
    assert texts(world.sid) == list(PARAGRAPHS)


def test_paragraph_of_10000_characters_is_accepted(app, world):
    """The limit is inclusive: exactly 10,000 characters is a valid paragraph."""
    browser = world.browser(world.coordinator)
    browser.post(f"/statements/{world.sid}/paragraphs/{world.pids[0]}/edit", {"text": "y" * 10_000})
    assert texts(world.sid)[0] == "y" * 10_000


def test_control_character_is_a_form_error(app, world):
    """A control character in a paragraph is named in the message and nothing is saved."""
    browser = world.browser(world.coordinator)
    response = browser.post(f"/statements/{world.sid}/paragraphs/{world.pids[0]}/edit",
                            {"text": "Bell\x07 inside"})
    assert "control character (U+0007)" in page_text(response)
    assert notes(world.sid) == ["Created"]


# --- who may see and edit --------------------------------------------------------


def test_participant_member_reads_but_cannot_edit(app, world):
    """A member of a participating organisation reads the draft; edit attempts are redirected."""
    browser = world.browser(world.reader)
    page = page_text(browser.get(f"/statements/{world.sid}"))
    assert PARAGRAPHS[0] in page and "Edit title" not in page and "/edit" not in page
    pid = world.pids[0]
    attempts = [
        ("get", f"/statements/{world.sid}/paragraphs/{pid}/edit", None),
        ("post", f"/statements/{world.sid}/paragraphs/{pid}/edit", {"text": "Hijacked."}),
        ("post", f"/statements/{world.sid}/paragraphs/new", {"text": "Hijacked.", "after": "top"}),
        ("post", f"/statements/{world.sid}/paragraphs/{pid}/delete", {}),
        ("post", f"/statements/{world.sid}/paragraphs/{pid}/move", {"direction": "down"}),
        ("post", f"/statements/{world.sid}/title", {"title": "Hijacked"}),
    ]
    for method, path, data in attempts:
        if method == "get":
            response = browser.get(path)
        else:
            response = browser.post(path, data, form_page=f"/statements/{world.sid}")
        assert response.status_code == 302, path
        assert response.location == f"/statements/{world.sid}", path
    assert "Only the coordinator edits the draft." in page_text(browser.get(f"/statements/{world.sid}"))
    assert texts(world.sid) == list(PARAGRAPHS)
    assert notes(world.sid) == ["Created"]
    reload()
    assert db.session.get(Statement, world.sid).title == "Joint Statement on Clean Water"


def test_outsider_gets_404_everywhere(app, world):
    """A user of a non-participating organisation is not told the statement exists."""
    browser = world.browser(world.outsider)
    for path in (f"/statements/{world.sid}", f"/statements/{world.sid}/history",
                 f"/statements/{world.sid}/versions/1", f"/statements/{world.sid}/versions/1.txt",
                 f"/statements/{world.sid}/paragraphs/{world.pids[0]}/edit"):
        response = browser.get(path)
        assert response.status_code == 404, path
        assert PARAGRAPHS[0] not in page_text(response)
    response = browser.post(f"/statements/{world.sid}/paragraphs/{world.pids[0]}/edit",
                            {"text": "Intrusion."}, form_page="/")
    assert response.status_code == 404
    assert "Clean Water" not in page_text(browser.get("/statements/"))
    assert texts(world.sid) == list(PARAGRAPHS)


def test_visitor_must_log_in_to_see_a_draft(app, world, client):
    """A draft is not public: a visitor is sent to the login page."""
    response = client.get(f"/statements/{world.sid}/versions/1.txt")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_paragraph_of_another_statement_is_404(app, world):
    """Paragraph ids from another statement are not found through this one."""
    other = factories.statement(world.coordinator, world.harbour, title="Another Draft",
                                paragraphs=["Someone else's paragraph."])
    foreign = drafting.live_paragraphs(other)[0].id
    browser = world.browser(world.coordinator)
    base = f"/statements/{world.sid}/paragraphs"
    assert browser.get(f"{base}/{foreign}/edit").status_code == 404
    assert browser.get(f"{base}/{foreign}/delete").status_code == 404
    assert browser.get(f"{base}/new?after={foreign}").status_code == 404
    page = f"/statements/{world.sid}"
    for path, data in ((f"{base}/{foreign}/edit", {"text": "Cross-posted."}),
                       (f"{base}/{foreign}/delete", {}),
                       (f"{base}/{foreign}/move", {"direction": "up"}),
                       (f"{base}/new", {"text": "Cross-posted.", "after": str(foreign)})):
        assert browser.post(path, data, form_page=page).status_code == 404, path
    assert browser.get(f"{base}/999999/edit").status_code == 404
    assert texts(other.id) == ["Someone else's paragraph."] and notes(other.id) == ["Created"]
    assert notes(world.sid) == ["Created"]


# --- importing ---------------------------------------------------------------------


IMPORT_TEXT = (
    "Joint Statement on Safe Harbours\r\n"
    "\r\n"
    "Joint Statement of Harbour Workers Union, Valley Growers Cooperative and friends, "
    "21 February 2022 Geneva\r\n"
    "\r\n"
    "\r\n"
    "1.\u00a0Every port worker should go home safe at the end of the day.\r\n"
    "\r\n"
    "\r\n"
    "\r\n"
    "2.\u00a0\u00a0Cranes must be inspected\r\nby independent engineers.\r\n"
    "\r\n"
    "3.\u00a0We ask governments to fund training.\r\n"
)
IMPORTED = [
    "Every port worker should go home safe at the end of the day.",
    "Cranes must be inspected\nby independent engineers.",
    "We ask governments to fund training.",
]


def _statement_count() -> int:
    reload()
    return db.session.scalar(select(func.count()).select_from(Statement))


def test_import_previews_then_creates_exactly_what_was_shown(app, world):
    """A paste is previewed (paragraphs, signatory line, ticked organisations), saved only on confirm."""
    browser = world.browser(world.coordinator)
    preview = browser.post("/statements/import", {
        "text": IMPORT_TEXT, "coordinator_organisation": str(world.harbour.id)})
    assert preview.status_code == 200
    page = page_text(preview)
    assert "Check what was found" in page and "3 paragraphs" in page
    for paragraph in IMPORTED:
        assert html.escape(paragraph) in page
    assert "Signatory line recognised" in page and "21 February 2022" in page
    assert "Geneva" in page  # the stray word is reported, not silently dropped
    assert checked_values(page, "participants") == {str(world.harbour.id), str(world.valley.id)}
    assert _statement_count() == 1

    resend = html.unescape(re.search(r'<textarea name="text" hidden>(.*?)</textarea>', page, re.S)
                           .group(1))
    response = browser.post("/statements/import", {
        "text": resend, "confirm": hidden(page, "confirm"),
        "coordinator_organisation": str(world.harbour.id),
        "participants": sorted(checked_values(page, "participants")),
    }, form_page="/statements/import")
    assert response.status_code == 302
    assert _statement_count() == 2
    statement = db.session.scalar(select(Statement).where(Statement.id != world.sid))
    assert statement.title == "Joint Statement on Safe Harbours"
    assert texts(statement.id) == IMPORTED
    assert notes(statement.id) == ["Imported"]
    assert [o.id for o in statement.participant_organisations] == [world.harbour.id, world.valley.id]
    assert "Imported: 3 paragraphs." in page_text(browser.get(response.location))


def test_a_german_signatory_line_makes_german_the_source_language(app, world):
    """A text pasted with "Gemeinsame Erklärung von …, 21. Februar 2022" is German: the preview says so, the
    statement is created with German as its source language, and its signatory line will be German."""
    browser = world.browser(world.coordinator)
    text = ("Sichere Häfen für alle\n\nGemeinsame Erklärung von Harbour Workers Union und Green Valleys "
            "Alliance, 21. Februar 2022\n\n1. Die Kräne müssen geprüft werden.\n\n2. Wir treffen uns im Herbst.\n")
    preview = browser.post("/statements/import", {"text": text, "coordinator_organisation": str(world.harbour.id)})
    page = html.unescape(page_text(preview))
    assert "The line is in German: the statement's source language will be German." in page
    assert "21 February 2022" in page  # the date as read, shown in the viewer's language
    response = browser.post("/statements/import", {
        "text": text, "confirm": hidden(page, "confirm"), "coordinator_organisation": str(world.harbour.id),
        "participants": sorted(checked_values(page, "participants"))}, form_page="/statements/import")
    assert response.status_code == 302
    statement = db.session.scalar(select(Statement).where(Statement.id != world.sid))
    assert statement.source_language == "de"
    assert texts(statement.id) == ["Die Kräne müssen geprüft werden.", "Wir treffen uns im Herbst."]
    from app.translating.languages import signatory_line

    assert signatory_line(["A", "B"], _dt.date(2022, 2, 21), statement.source_language) == (
        "Gemeinsame Erklärung von A und B, 21. Februar 2022")


def test_an_english_or_lineless_paste_stays_english(app, world):
    browser = world.browser(world.coordinator)
    page = page_text(browser.post("/statements/import", {
        "text": IMPORT_TEXT, "coordinator_organisation": str(world.harbour.id)}))
    assert "source language will be" not in page


def test_import_of_an_uploaded_file(app, world):
    """A .txt upload is read like a paste, and nothing is saved before the confirmation."""
    browser = world.browser(world.coordinator)
    upload = ("\ufeff" + IMPORT_TEXT).encode("utf-8")
    response = browser.post("/statements/import", {
        "text": "", "upload": (io.BytesIO(upload), "harbours.txt"),
        "coordinator_organisation": str(world.harbour.id)})
    page = page_text(response)
    assert response.status_code == 200 and "3 paragraphs" in page
    assert "Cranes must be inspected" in page and "Joint Statement on Safe Harbours" in page
    assert _statement_count() == 1


def test_import_of_invalid_utf8_says_so(app, world):
    """A file that is not UTF-8 gets a clear message and creates nothing."""
    browser = world.browser(world.coordinator)
    response = browser.post("/statements/import", {
        "upload": (io.BytesIO("Déclaration commune\n\n1. Texte".encode("latin-1")), "old.txt"),
        "coordinator_organisation": str(world.harbour.id)})
    page = page_text(response)
    assert response.status_code == 422
    assert "The file is not valid UTF-8" in page and "Plain text, UTF-8" in page
    assert "Check what was found" not in page
    assert _statement_count() == 1


def test_import_of_nothing_asks_for_text(app, world):
    """Sending the import form empty asks for a text and saves nothing."""
    browser = world.browser(world.coordinator)
    response = browser.post("/statements/import", {
        "text": "  \n ", "coordinator_organisation": str(world.harbour.id), "confirm": "yes"})
    assert "Paste the text or choose a file." in page_text(response)
    assert _statement_count() == 1


# --- history and versions -------------------------------------------------------------


def _edited(world) -> Browser:
    browser = world.browser(world.coordinator)
    browser.post(f"/statements/{world.sid}/paragraphs/{world.pids[2]}/edit",
                 {"text": "We will meet again in autumn."})
    browser.post(f"/statements/{world.sid}/title", {"title": "Clean Water Now"})
    return browser


def test_history_lists_versions_newest_first(app, world):
    """The history page lists every version with its note, newest first."""
    browser = _edited(world)
    page = page_text(world.browser(world.reader).get(f"/statements/{world.sid}/history"))
    rows = re.findall(r'<td><a href="/statements/\d+/versions/(\d+)">v\d+</a></td>\s*<td>(.*?)</td>',
                      page)
    assert rows == [("3", "Changed the title"), ("2", "Edited ¶ 3"), ("1", "Created")]
    reload()
    for version in db.session.scalars(select(Version).where(Version.statement_id == world.sid)):
        assert version.sha256[:12] in page
    assert browser.get(f"/statements/{world.sid}/history").status_code == 200


def test_version_page_shows_that_versions_text(app, world):
    """An old version shows its own title and paragraphs, not today's."""
    browser = _edited(world)
    old = page_text(browser.get(f"/statements/{world.sid}/versions/1"))
    article = old.split('<article class="statement">', 1)[1]
    assert '<h2 class="statement-title">Joint Statement on Clean Water</h2>' in article
    assert PARAGRAPHS[2] in article and "in autumn" not in article
    reload()
    v1 = db.session.scalar(select(Version).where(Version.statement_id == world.sid,
                                                 Version.number == 1))
    assert v1.sha256 in old
    middle = page_text(browser.get(f"/statements/{world.sid}/versions/2"))
    assert "We will meet again in autumn." in middle and PARAGRAPHS[2] not in middle
    assert f'id="p-{world.pids[2]}"' in middle
    assert browser.get(f"/statements/{world.sid}/versions/4").status_code == 404


def test_version_text_is_the_hashed_bytes(app, world):
    """/versions/<n>.txt serves UTF-8 plain text whose SHA-256 is the version's hash."""
    browser = _edited(world)
    reload()
    for version in db.session.scalars(select(Version).where(Version.statement_id == world.sid)):
        response = browser.get(f"/statements/{world.sid}/versions/{version.number}.txt")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert hashlib.sha256(response.data).hexdigest() == version.sha256
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = browser.get(f"/statements/{world.sid}/versions/2.txt").data.decode("utf-8")
    assert body == ("Joint Statement on Clean Water\n\n1. " + PARAGRAPHS[0] + "\n\n2. " + PARAGRAPHS[1]
                    + "\n\n3. We will meet again in autumn.\n")


# --- escaping ----------------------------------------------------------------------------


EVIL = "<script>alert(1)</script> &amp; co"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; co"


def test_user_text_is_escaped_on_every_page(app, world):
    """Markup in a title, a paragraph and an organisation name is shown as text, never run."""
    evil_org = factories.organisation(f"Union {EVIL}", slug="evil")
    coordinator = factories.member(evil_org, "delegate")
    browser = world.browser(coordinator)
    browser.post("/statements/new", {
        "title": f"Title {EVIL}", "coordinator_organisation": str(evil_org.id),
        "participants": [str(world.harbour.id)],
        "text": f"Paragraph {EVIL}\n\nA harmless second paragraph.",
    })
    statement = db.session.scalar(select(Statement).where(Statement.coordinator_id == coordinator.id))
    assert statement.title == f"Title {EVIL}"
    sid = statement.id
    pid = live(sid)[0][0]
    browser.post(f"/statements/{sid}/paragraphs/{live(sid)[1][0]}/edit", {"text": f"Second {EVIL}"})
    pages = [
        "/", "/statements/", f"/statements/{sid}", f"/statements/{sid}/history",
        f"/statements/{sid}/versions/1", f"/statements/{sid}/versions/2",
        f"/statements/{sid}/paragraphs/{pid}/edit", f"/statements/{sid}/paragraphs/{pid}/delete",
        f"/statements/{sid}/paragraphs/new?after={pid}", f"/statements/{sid}/title",
        "/statements/new",
    ]
    for path in pages:
        response = browser.get(path)
        assert response.status_code == 200, path
        page = page_text(response)
        assert "<script>alert(1)</script>" not in page, path
        assert EVIL_ESCAPED in page, path
    shows_all = page_text(browser.get(f"/statements/{sid}"))
    for escaped in (f"Title {EVIL_ESCAPED}", f"Paragraph {EVIL_ESCAPED}", f"Union {EVIL_ESCAPED}"):
        assert escaped in shows_all
    assert "&lt;script&gt;" in page_text(world.browser(world.coordinator).get(f"/statements/{sid}"))


def test_import_preview_escapes_user_text(app, world):
    """The import preview shows pasted markup as text."""
    browser = world.browser(world.coordinator)
    response = browser.post("/statements/import", {
        "text": f"Title {EVIL}\n\n1. Paragraph {EVIL}\n\n2. Another one.",
        "coordinator_organisation": str(world.harbour.id)})
    page = page_text(response)
    assert "<script>alert(1)</script>" not in page
    assert f"Title {EVIL_ESCAPED}" in page and f"Paragraph {EVIL_ESCAPED}" in page
    assert _statement_count() == 1


def test_history_page_draws_the_statements_life_in_order(app, browser, now):
    """The history page shows the steps of the statement's life from its audit trail, in order."""
    from app.amending import operations as amending
    from app.signing import operations as signing

    factories.admin()
    org = factories.organisation(slug="hwu")
    coordinator = factories.member(org, "delegate")
    statement = factories.statement(coordinator, org)
    browser.login(coordinator.email)
    page = browser.get(f"/statements/{statement.id}/history").get_data(as_text=True)
    assert "Draft started" in page and "Now: draft" in page and "Frozen for signing" not in page
    amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=now)
    signing.freeze(statement, coordinator, now=now)
    db.session.commit()
    page = browser.get(f"/statements/{statement.id}/history").get_data(as_text=True)
    steps = re.findall(r'<li class="life-(\w+)">', page)
    assert steps == ["created", "opened", "frozen", "next"]
    assert "Now: signing" in page
