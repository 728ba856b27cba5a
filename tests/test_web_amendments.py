"""Web tests of amendments: opening, proposing, discussing, deciding, and the history pages."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.amending import operations as amending
from app.drafting import operations as drafting
from app.extensions import db
from app.models import (
    Amendment,
    Comment,
    Paragraph,
    Position,
    Revision,
    Sponsor,
    Statement,
    Version,
)
from tests import factories
from tests.conftest import Browser

PARAGRAPHS = (
    "Cities are getting hotter every summer.",
    "Every tenant deserves a cool home.",
    "We will review progress next year.",
)
NASTY = "<script>alert(1)</script> Tom &amp; Jerry"


def now() -> datetime:
    return datetime.now(UTC)


class World:
    """Three participating organisations and one outside; a statement with three paragraphs."""

    def __init__(self, app):
        self.app = app
        self.admin = factories.admin()
        self.hwu = factories.organisation("Harbour Workers Union", slug="hwu", short_name="HWU")
        self.gva = factories.organisation("Green Valleys Alliance", slug="gva", short_name="GVA")
        self.tnn = factories.organisation("Tenants Network", slug="tnn", short_name="TNN")
        self.outside = factories.organisation("Distant Miners Guild", slug="dmg")
        self.coordinator = factories.member(self.hwu, "delegate", name="Carla Coordinator")
        self.partner = factories.member(self.gva, "delegate", name="Gil Partner")
        self.tenant = factories.member(self.tnn, "delegate", name="Tia Tenant")
        self.signatory = factories.member(self.gva, "signatory", name="Sid Signatory")
        self.outsider = factories.member(self.outside, "delegate", "admin", name="Olga Outsider")
        self.statement = factories.statement(
            self.coordinator, self.hwu, participants=[self.gva, self.tnn],
            title="Cool Cities", paragraphs=PARAGRAPHS,
        )
        self.sid = self.statement.id
        self.pids = [p.id for p in drafting.live_paragraphs(self.statement)]

    def browser(self, user) -> Browser:
        made = Browser(self.app.test_client())
        made.login(user.email)
        return made

    def open(self, rule: str = "coordinator", deadline: datetime | None = None) -> None:
        amending.open_for_amendments(self.statement, self.coordinator, rule=rule, deadline=deadline,
                                     now=now())
        db.session.commit()

    def propose(self, user, org, kind="modify", paragraph_id=None, text=None, rationale="") -> int:
        made = amending.propose(self.statement, user, org, kind=kind, paragraph_id=paragraph_id,
                                text=text, rationale=rationale, now=now())
        db.session.commit()
        return made.id

    def position(self, amendment_id: int, user, org, stance: str) -> None:
        amending.take_position(db.session.get(Amendment, amendment_id), user, org, stance, now=now())
        db.session.commit()

    def accept(self, amendment_id: int) -> None:
        amending.accept(db.session.get(Amendment, amendment_id), self.coordinator, text_version=None,
                        now=now())
        db.session.commit()


@pytest.fixture
def world(app) -> World:
    return World(app)


@pytest.fixture
def opened(world) -> World:
    world.open()
    return world


def reload() -> None:
    db.session.rollback()  # see what the requests committed


def amendment(amendment_id: int) -> Amendment:
    reload()
    return db.session.get(Amendment, amendment_id)


def amendments() -> list[tuple]:
    reload()
    return list(db.session.execute(
        select(Amendment.kind, Amendment.paragraph_id, Amendment.proposed_text, Amendment.status)
        .order_by(Amendment.id)))


def count(model) -> int:
    reload()
    return db.session.scalar(select(func.count()).select_from(model))


def texts(statement_id: int) -> list[str]:
    reload()
    return [p.text for p in drafting.live_paragraphs(db.session.get(Statement, statement_id))]


def page_text(response) -> str:
    return response.get_data(as_text=True)


def flashes(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="flash flash-\w+">(.*?)</p>', page, re.S)]


def state() -> tuple:
    """What a refused request must leave as it was."""
    reload()
    return (
        tuple(db.session.execute(select(Amendment.id, Amendment.status, Amendment.proposed_text,
                                        Amendment.rationale, Amendment.text_version).order_by(Amendment.id))),
        tuple(db.session.execute(select(Statement.id, Statement.title, Statement.status,
                                        Statement.version_count, Statement.decision_rule))),
        count(Position), count(Comment), count(Sponsor), count(Revision), count(Version),
    )


# --- opening ---------------------------------------------------------------------------


def test_coordinator_opens_with_rule_and_deadline_in_a_time_zone(world):
    """The deadline is read in the browser's zone and stored in UTC; the rule is the one chosen."""
    browser = world.browser(world.coordinator)
    browser.set_zone("Europe/Berlin")
    form = page_text(browser.get(f"/statements/{world.sid}/open"))
    assert 'type="radio"' in form and 'value="majority"' in form and "Time zone: Europe/Berlin" in form
    response = browser.post(f"/statements/{world.sid}/open", {
        "decision_rule": "majority", "deadline": "2030-05-01T18:00"})
    assert response.status_code == 302 and response.location == f"/statements/{world.sid}"
    reload()
    statement = db.session.get(Statement, world.sid)
    assert statement.status == "amending" and statement.decision_rule == "majority"
    assert statement.amendment_deadline == datetime(2030, 5, 1, 16, 0, tzinfo=UTC)
    shown = page_text(browser.get(f"/statements/{world.sid}"))
    assert "open for amendments" in flashes(shown)[0]
    assert "decision rule: <strong>majority</strong>" in shown
    assert 'datetime="2030-05-01T16:00:00+00:00"' in shown
    assert "1 May 2030, 18:00 Europe/Berlin" in shown
    other = world.browser(world.partner)  # no zone known: UTC, named
    assert "1 May 2030, 16:00 UTC" in page_text(other.get(f"/statements/{world.sid}"))


def test_open_without_deadline_and_with_a_past_deadline(world):
    """A past deadline is a form error and changes nothing; no deadline is allowed."""
    browser = world.browser(world.coordinator)
    before = state()
    response = browser.post(f"/statements/{world.sid}/open", {
        "decision_rule": "consensus", "deadline": "2001-01-01T10:00", "timezone": "UTC"})
    assert response.status_code == 200
    assert "The amendment deadline must be in the future." in page_text(response)
    assert state() == before
    response = browser.post(f"/statements/{world.sid}/open",
                            {"decision_rule": "consensus"})
    assert response.status_code == 302
    reload()
    statement = db.session.get(Statement, world.sid)
    assert (statement.status, statement.decision_rule, statement.amendment_deadline) == (
        "amending", "consensus", None)


def test_open_with_unknown_rule_or_impossible_date_is_refused(world):
    """A tampered rule, an impossible date, or one with no UTC equivalent in the viewer's zone is a form
    error, and the statement stays a draft; an unknown zone from the browser is taken as UTC."""
    browser = world.browser(world.coordinator)
    browser.set_zone("Pacific/Pago_Pago")
    before = state()
    for data, message in (({"decision_rule": "dictator"}, "Not a valid choice"),
                          ({"decision_rule": "consensus", "deadline": "2030-02-30T18:00"}, "Not a valid datetime"),
                          ({"decision_rule": "consensus", "deadline": "9999-12-31T23:59"}, "out of range")):
        response = browser.post(f"/statements/{world.sid}/open", data)
        assert response.status_code == 200 and message in page_text(response), data
    assert state() == before
    browser.set_zone("Mars/Base")
    assert "Time zone: UTC" in page_text(browser.get(f"/statements/{world.sid}/open"))


def test_only_the_coordinator_opens(world):
    """Another delegate gets 403 on the form and on the POST; the statement stays a draft."""
    browser = world.browser(world.partner)
    assert browser.get(f"/statements/{world.sid}/open").status_code == 403
    response = browser.post(f"/statements/{world.sid}/open", {"decision_rule": "coordinator"},
                            form_page=f"/statements/{world.sid}")
    assert response.status_code == 403
    reload()
    assert db.session.get(Statement, world.sid).status == "draft"


def test_an_open_statement_cannot_be_opened_again(opened):
    """The open page is gone once the statement is amending, even for its coordinator."""
    browser = opened.browser(opened.coordinator)
    assert browser.get(f"/statements/{opened.sid}/open").status_code == 403


# --- proposing ------------------------------------------------------------------------


def test_propose_modify_prefills_previews_then_saves(opened):
    """The form opens with the current text; preview shows the diff and saves nothing; submit saves."""
    browser = opened.browser(opened.partner)
    path = f"/statements/{opened.sid}/amendments/new?kind=modify&paragraph={opened.pids[1]}"
    form = page_text(browser.get(path))
    assert "Amend ¶ 2" in form and f'action="{path}#preview"'.replace("&", "&amp;") in form
    assert '<button type="submit" name="preview" value="1">Preview the change</button>' in form
    assert re.search(r'<textarea[^>]*name="text"[^>]*>\s*Every tenant deserves a cool home\.</textarea>',
                     form)
    data = {"organisation": str(opened.gva.id), "text": "Every tenant deserves a safe and cool home.",
            "rationale": "Safety first."}
    preview = browser.post(path, {**data, "preview": "Preview the change"})
    assert preview.status_code == 200
    assert '<section class="preview" id="preview"' in page_text(preview)
    assert "<ins>safe and </ins>" in page_text(preview)
    assert count(Amendment) == 0
    response = browser.post(path, {**data, "submit": "Propose amendment"})
    assert response.status_code == 302
    made = db.session.scalar(select(Amendment))
    assert response.location == f"/amendments/{made.id}"
    assert (made.kind, made.paragraph_id, made.organisation_id, made.proposer_id) == (
        "modify", opened.pids[1], opened.gva.id, opened.partner.id)
    assert (made.base_text, made.proposed_text, made.rationale, made.base_number) == (
        PARAGRAPHS[1], "Every tenant deserves a safe and cool home.", "Safety first.", 2)
    assert made.base_revision_id == db.session.get(Paragraph, opened.pids[1]).current_revision_id
    assert texts(opened.sid) == list(PARAGRAPHS)  # the text changes only when accepted
    assert f"Amendment #{made.id} is proposed." in flashes(page_text(browser.get(response.location)))[0]


def test_unchanged_modification_is_a_form_error(opened):
    """Proposing the current text again is refused on the form."""
    browser = opened.browser(opened.partner)
    path = f"/statements/{opened.sid}/amendments/new?kind=modify&paragraph={opened.pids[0]}"
    response = browser.post(path, {"organisation": str(opened.gva.id), "text": PARAGRAPHS[0],
                                   "submit": "Propose amendment"})
    assert response.status_code == 422
    assert "The proposed text is the same as the current text." in page_text(response)
    assert count(Amendment) == 0


def test_propose_insert_after_a_paragraph_and_at_the_top(opened):
    """Insert names the paragraph it follows, or none for the top."""
    browser = opened.browser(opened.tenant)
    after = f"/statements/{opened.sid}/amendments/new?kind=insert&after={opened.pids[0]}"
    form = page_text(browser.get(after))
    assert "Propose a new paragraph after ¶ 1" in form
    assert re.search(r'<textarea[^>]*name="text"[^>]*>\s*</textarea>', form)
    browser.post(after, {"organisation": str(opened.tnn.id), "text": "Trees cool streets.",
                         "submit": "Propose amendment"})
    top = f"/statements/{opened.sid}/amendments/new?kind=insert&after=top"
    assert "Propose a new paragraph at the top" in page_text(browser.get(top))
    browser.post(top, {"organisation": str(opened.tnn.id), "text": "We write as neighbours.",
                       "submit": "Propose amendment"})
    assert amendments() == [("insert", opened.pids[0], "Trees cool streets.", "open"),
                            ("insert", None, "We write as neighbours.", "open")]


def test_propose_delete_and_retitle(opened):
    """Delete shows the paragraph to delete; retitle starts from the current title."""
    browser = opened.browser(opened.partner)
    delete = f"/statements/{opened.sid}/amendments/new?kind=delete&paragraph={opened.pids[2]}"
    form = page_text(browser.get(delete))
    assert "Propose deleting ¶ 3" in form and PARAGRAPHS[2] in form and 'name="text"' not in form
    browser.post(delete, {"organisation": str(opened.gva.id), "rationale": "Say it now.",
                          "submit": "Propose amendment"})
    retitle = f"/statements/{opened.sid}/amendments/new?kind=retitle"
    form = page_text(browser.get(retitle))
    assert "Propose a new title" in form
    assert re.search(r'<textarea[^>]*name="text"[^>]*>\s*Cool Cities</textarea>', form)
    browser.post(retitle, {"organisation": str(opened.gva.id), "text": "Cool Cities for All",
                           "submit": "Propose amendment"})
    assert amendments() == [("delete", opened.pids[2], "", "open"),
                            ("retitle", None, "Cool Cities for All", "open")]
    reload()
    assert db.session.get(Statement, opened.sid).title == "Cool Cities"


def test_propose_for_an_organisation_one_is_not_delegate_of_is_refused(opened):
    """Choosing another participant's organisation is not a valid choice."""
    browser = opened.browser(opened.partner)
    path = f"/statements/{opened.sid}/amendments/new?kind=modify&paragraph={opened.pids[0]}"
    response = browser.post(path, {"organisation": str(opened.hwu.id), "text": "Hot.",
                                   "submit": "Propose amendment"})
    assert response.status_code == 422 and "Not a valid choice" in page_text(response)
    assert count(Amendment) == 0


def test_propose_for_an_unknown_paragraph_or_kind_is_404(opened):
    """A paragraph of another statement, or an unknown kind, is not found."""
    other = factories.statement(opened.outsider, opened.outside, paragraphs=["Elsewhere."])
    foreign = drafting.live_paragraphs(other)[0].id
    browser = opened.browser(opened.partner)
    base = f"/statements/{opened.sid}/amendments/new"
    assert browser.get(f"{base}?kind=modify&paragraph={foreign}").status_code == 404
    assert browser.get(f"{base}?kind=modify&paragraph=abc").status_code == 404
    assert browser.get(f"{base}?kind=rewrite").status_code == 404
    response = browser.post(f"{base}?kind=modify&paragraph={foreign}",
                            {"organisation": str(opened.gva.id), "text": "Mine now.", "submit": "x"},
                            form_page=f"/statements/{opened.sid}")
    assert response.status_code == 404
    assert count(Amendment) == 0


def test_non_delegate_gets_the_403_page(opened):
    """A signatory who is no delegate sees why they cannot propose, and saves nothing."""
    browser = opened.browser(opened.signatory)
    path = f"/statements/{opened.sid}/amendments/new?kind=modify&paragraph={opened.pids[0]}"
    response = browser.get(path)
    assert response.status_code == 403 and "Only delegates propose amendments" in page_text(response)
    response = browser.post(path, {"organisation": str(opened.gva.id), "text": "Hot.",
                                   "submit": "Propose amendment"}, form_page=f"/statements/{opened.sid}")
    assert response.status_code == 403
    assert count(Amendment) == 0


def test_after_the_deadline_the_propose_page_redirects(opened):
    """Past the deadline, GET and POST redirect with a message and nothing is saved."""
    reload()
    db.session.get(Statement, opened.sid).amendment_deadline = now() - timedelta(minutes=1)
    db.session.commit()
    browser = opened.browser(opened.partner)
    path = f"/statements/{opened.sid}/amendments/new?kind=modify&paragraph={opened.pids[0]}"
    response = browser.get(path)
    assert response.status_code == 302 and response.location == f"/statements/{opened.sid}"
    response = browser.post(path, {"organisation": str(opened.gva.id), "text": "Too late.",
                                   "submit": "Propose amendment"}, form_page=f"/statements/{opened.sid}")
    assert response.status_code == 302
    page = page_text(browser.get(f"/statements/{opened.sid}"))
    assert "Amendments cannot be proposed now: the deadline has passed." in flashes(page)
    assert "Propose deletion" not in page
    assert count(Amendment) == 0


def test_a_draft_takes_no_amendments(world):
    """Before opening, the propose page redirects and says why."""
    browser = world.browser(world.partner)
    path = f"/statements/{world.sid}/amendments/new?kind=retitle"
    assert browser.get(path).status_code == 302
    assert "the statement is not open for amendments." in flashes(
        page_text(browser.get(f"/statements/{world.sid}")))[0]


# --- seeing --------------------------------------------------------------------------


def test_statement_page_counts_open_amendments_per_paragraph(opened):
    """Each paragraph shows how many open amendments it has; one click lists them with their diffs."""
    first = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0],
                           text="Cities are getting much hotter every summer.")
    opened.propose(opened.tenant, opened.tnn, kind="delete", paragraph_id=opened.pids[0])
    opened.propose(opened.tenant, opened.tnn, kind="insert", paragraph_id=None, text="A new opening.")
    closed = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[2], text="Soon.")
    amending.withdraw_amendment(db.session.get(Amendment, closed), opened.partner, now=now())
    db.session.commit()
    browser = opened.browser(opened.partner)
    page = page_text(browser.get(f"/statements/{opened.sid}"))
    items = dict(re.findall(r'<li id="p-(\d+)">(.*?)</li>\s*(?=<li id="p-|</ol>)', page, re.S))
    first_item = items[str(opened.pids[0])]
    link = re.search(r'<a href="([^"]+)">2 open amendments<', first_item)
    assert link, first_item
    assert "open amendment" not in items[str(opened.pids[1])]
    assert "open amendment" not in items[str(opened.pids[2])]  # withdrawn ones are not counted
    top = page.split('<article class="statement">')[0]
    assert "1 open amendment<" in top
    listed = page_text(browser.get(link.group(1).replace("&amp;", "&")))
    assert "<ins>much </ins>" in listed and f"#{first} Modify" in listed
    assert "<del>Cities are getting hotter every summer.</del>" in listed
    assert "A new opening." not in listed  # another place


def test_amendment_page_shows_renumbering_and_the_diff_against_the_current_text(opened):
    """After an insert above, the page says the paragraph moved; once a rival change to the same words
    is accepted, the conflicted amendment is shown against the paragraph's text now too."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[1],
                            text="Every tenant deserves a cool and quiet home.")
    opened.accept(opened.propose(opened.tenant, opened.tnn, kind="insert", paragraph_id=None,
                                 text="We write as neighbours."))
    page = page_text(opened.browser(opened.tenant).get(f"/amendments/{target}"))
    assert "¶ 3, was ¶ 2 when proposed" in page
    assert "Against the current text" not in page  # the paragraph itself has not changed
    opened.accept(opened.propose(opened.tenant, opened.tnn, paragraph_id=opened.pids[1],
                                 text="Every tenant deserves a cool and calm home."))
    assert amendment(target).status == "conflicted"
    page = page_text(opened.browser(opened.tenant).get(f"/amendments/{target}"))
    change, against = page.split("Against the current text")
    assert "<ins>and quiet </ins>" in change
    assert "<del>calm</del><ins>quiet</ins>" in against


def test_rebased_amendment_page_shows_its_status_and_history(opened):
    """A rebased amendment says so and lists what happened to it."""
    sibling = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[1],
                             text="Every tenant deserves a cool home, now.")
    opened.accept(opened.propose(opened.tenant, opened.tnn, paragraph_id=opened.pids[1],
                                 text="Every single tenant deserves a cool home."))
    assert amendment(sibling).status == "rebased"
    assert amendment(sibling).proposed_text == "Every single tenant deserves a cool home, now."
    page = page_text(opened.browser(opened.partner).get(f"/amendments/{sibling}"))
    assert "This amendment was <strong>rebased</strong>" in page
    assert "History of this amendment" in page and "<strong>Rebased</strong>" in page


# --- discussing ----------------------------------------------------------------------------


def test_positions_tally_and_not_yet_spoken(world):
    """Positions are recorded per organisation; the latest counts; silent organisations are listed."""
    world.open(rule="consensus")
    target = world.propose(world.partner, world.gva, paragraph_id=world.pids[0], text="Hotter.")
    gva_browser = world.browser(world.partner)
    page = page_text(gva_browser.get(f"/amendments/{target}"))
    # GVA supports it by proposing it (a position like any other, marked as such).
    assert "1 support · 0 oppose · 0 abstain</strong>\n    · 2 not yet spoken" in page
    assert re.search(r'Green Valleys Alliance \(GVA\)</strong>\s*<span class="given-as">as proposer</span>', page)
    response = gva_browser.post(f"/amendments/{target}/positions", {
        "organisation": str(world.gva.id), "stance": "oppose", "reason": "Too short."},
        form_page=f"/amendments/{target}")
    assert response.status_code == 302 and response.location == f"/amendments/{target}#positions"
    gva_browser.post(f"/amendments/{target}/positions", {
        "organisation": str(world.gva.id), "stance": "support", "reason": "Convinced."},
        form_page=f"/amendments/{target}")
    tnn_browser = world.browser(world.tenant)
    tnn_browser.post(f"/amendments/{target}/positions", {"organisation": str(world.tnn.id),
                                                         "stance": "abstain"},
                     form_page=f"/amendments/{target}")
    reload()
    latest = {org: p.stance for org, p in db.session.get(Amendment, target).current_positions().items()}
    assert latest == {world.gva.id: "support", world.tnn.id: "abstain"}
    assert count(Position) == 4  # append-only: the earlier ones are kept (GVA's by proposing, its oppose)
    page = page_text(tnn_browser.get(f"/amendments/{target}"))
    assert "1 support · 0 oppose · 1 abstain</strong>\n    · 1 not yet spoken" in page
    assert re.search(r'stance-silent">Not yet</span> Harbour Workers Union \(HWU\)', page)
    assert "Convinced." in page and "Too short." not in page and "as proposer" not in page
    assert "Position recorded for Tenants Network (TNN): abstain." in flashes(page)


def test_position_refused_for_other_organisations_and_bad_stances(opened):
    """Speaking for an organisation one is not delegate of, or a made-up stance, changes nothing."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.")
    browser = opened.browser(opened.partner)
    for data in ({"organisation": str(opened.tnn.id), "stance": "support"},
                 {"organisation": str(opened.gva.id), "stance": "cheer"},
                 {"organisation": str(opened.gva.id)}):
        response = browser.post(f"/amendments/{target}/positions", data, form_page=f"/amendments/{target}")
        assert response.status_code == 422
    assert count(Position) == 1  # GVA's support by proposing it, nothing more
    signatory = opened.browser(opened.signatory)
    page = page_text(signatory.get(f"/amendments/{target}"))
    assert "Record position" not in page
    response = signatory.post(f"/amendments/{target}/positions",
                              {"organisation": str(opened.gva.id), "stance": "support"},
                              form_page=f"/amendments/{target}")
    assert response.status_code == 403
    assert count(Position) == 1


def test_cosponsoring(opened):
    """Another organisation joins as co-sponsor once; the page names it."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.")
    browser = opened.browser(opened.tenant)
    assert "Co-sponsor for" in page_text(browser.get(f"/amendments/{target}"))
    response = browser.post(f"/amendments/{target}/sponsor", {"organisation": str(opened.tnn.id)},
                            form_page=f"/amendments/{target}")
    assert response.status_code == 302
    reload()
    assert [(s.organisation_id, s.user_id) for s in db.session.get(Amendment, target).sponsors] == [
        (opened.tnn.id, opened.tenant.id)]
    page = page_text(browser.get(f"/amendments/{target}"))
    assert "co-sponsored by Tenants Network (TNN)" in page and "Co-sponsor for" not in page
    browser.post(f"/amendments/{target}/sponsor", {"organisation": str(opened.tnn.id)},
                 form_page=f"/amendments/{target}")
    assert count(Sponsor) == 1
    proposer = opened.browser(opened.partner)
    proposer.post(f"/amendments/{target}/sponsor", {"organisation": str(opened.gva.id)},
                  form_page=f"/amendments/{target}")
    assert count(Sponsor) == 1
    assert "Green Valleys Alliance already sponsors this amendment." in flashes(
        page_text(proposer.get(f"/amendments/{target}")))


def test_comments_links_escaping_and_one_level_replies(opened):
    """Links become nofollow anchors, markup is escaped, and a reply to a reply stays one level deep."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.")
    browser = opened.browser(opened.tenant)
    response = browser.post(f"/amendments/{target}/comments", {
        "body": "See https://example.org/heat?a=1&b=2. <script>alert('x')</script>"},
        form_page=f"/amendments/{target}")
    reload()
    top = db.session.scalar(select(Comment))
    assert response.status_code == 302 and response.location == f"/amendments/{target}#c-{top.id}"
    assert top.parent_id is None and top.author_id == opened.tenant.id
    reply = opened.browser(opened.coordinator)
    reply.post(f"/amendments/{target}/comments", {"body": "Agreed.", "parent_id": str(top.id)},
               form_page=f"/amendments/{target}")
    reload()
    first_reply = db.session.scalar(select(Comment).where(Comment.parent_id == top.id))
    browser.post(f"/amendments/{target}/comments", {"body": "Thanks.", "parent_id": str(first_reply.id)},
                 form_page=f"/amendments/{target}")
    reload()
    assert [(c.body, c.parent_id) for c in db.session.scalars(select(Comment).order_by(Comment.id))] == [
        ("See https://example.org/heat?a=1&b=2. <script>alert('x')</script>", None),
        ("Agreed.", top.id), ("Thanks.", top.id)]
    page = page_text(browser.get(f"/amendments/{target}"))
    assert ('<a href="https://example.org/heat?a=1&amp;b=2" rel="nofollow noopener noreferrer">'
            "https://example.org/heat?a=1&amp;b=2</a>.") in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page and "<script>alert" not in page
    assert page.count('<div class="reply">') == 2


def test_empty_comment_and_foreign_parent_are_refused(opened):
    """An empty comment is a form error; a reply to another amendment's comment is not found."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.")
    other = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[1], text="Cooler.")
    foreign = amending.add_comment(db.session.get(Amendment, other), opened.partner, "Elsewhere.",
                                   now=now())
    db.session.commit()
    browser = opened.browser(opened.tenant)
    response = browser.post(f"/amendments/{target}/comments", {"body": "   "},
                            form_page=f"/amendments/{target}")
    assert response.status_code == 422 and "A comment cannot be empty." in page_text(response)
    response = browser.post(f"/amendments/{target}/comments", {"body": "Hi", "parent_id": str(foreign.id)},
                            form_page=f"/amendments/{target}")
    assert response.status_code == 422
    assert "That comment is not part of this amendment." in page_text(response)
    response = browser.post(f"/amendments/{target}/comments", {"body": "Hi", "parent_id": "x1"},
                            form_page=f"/amendments/{target}")
    assert response.status_code == 404
    assert count(Comment) == 1


def test_proposer_edits_until_someone_takes_a_position(opened):
    """Only the proposer sees Edit; after a position, editing is refused and nothing changes."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.",
                            rationale="Short.")
    other = opened.browser(opened.tenant)
    assert "Edit amendment" not in page_text(other.get(f"/amendments/{target}"))
    assert other.get(f"/amendments/{target}/edit").status_code == 302
    other.post(f"/amendments/{target}/edit", {"text": "Hijacked.", "submit": "Save amendment"},
               form_page=f"/amendments/{target}")
    assert amendment(target).proposed_text == "Hotter."
    proposer = opened.browser(opened.partner)
    assert "Edit amendment" in page_text(proposer.get(f"/amendments/{target}"))
    form = page_text(proposer.get(f"/amendments/{target}/edit"))
    assert re.search(r'<textarea[^>]*name="text"[^>]*>\s*Hotter\.</textarea>', form)
    preview = proposer.post(f"/amendments/{target}/edit", {"text": "Much hotter.", "rationale": "Short.",
                                                           "preview": "Preview the change"})
    assert "<del>Cities are getting hotter every summer</del><ins>Much hotter</ins>." in page_text(preview)
    assert amendment(target).proposed_text == "Hotter."
    response = proposer.post(f"/amendments/{target}/edit", {"text": "Much hotter.", "rationale": "Longer.",
                                                            "submit": "Save amendment"})
    assert response.status_code == 302
    edited = amendment(target)
    assert (edited.proposed_text, edited.rationale, edited.text_version) == ("Much hotter.", "Longer.", 2)
    opened.position(target, opened.tenant, opened.tnn, "support")
    assert "Edit amendment" not in page_text(proposer.get(f"/amendments/{target}"))
    response = proposer.post(f"/amendments/{target}/edit", {"text": "Sneaky.", "submit": "Save amendment"},
                             form_page=f"/amendments/{target}")
    assert response.status_code == 302
    assert amendment(target).proposed_text == "Much hotter."
    assert "You cannot edit this amendment" in flashes(page_text(proposer.get(f"/amendments/{target}")))[0]


def test_only_the_proposer_withdraws(opened):
    """Others get an error and no change; the proposer withdraws once."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.")
    coordinator = opened.browser(opened.coordinator)
    assert ">Withdraw</button>" not in page_text(coordinator.get(f"/amendments/{target}"))
    coordinator.post(f"/amendments/{target}/withdraw", form_page=f"/amendments/{target}")
    assert amendment(target).status == "open"
    assert "Only the proposer can withdraw an amendment." in flashes(
        page_text(coordinator.get(f"/amendments/{target}")))
    proposer = opened.browser(opened.partner)
    assert ">Withdraw</button>" in page_text(proposer.get(f"/amendments/{target}"))
    proposer.post(f"/amendments/{target}/withdraw", form_page=f"/amendments/{target}")
    withdrawn = amendment(target)
    assert withdrawn.status == "withdrawn" and withdrawn.decided_by_id == opened.partner.id
    page = page_text(proposer.get(f"/amendments/{target}"))
    assert "Amendment withdrawn." in flashes(page) and ">Withdraw</button>" not in page


# --- deciding ------------------------------------------------------------------------------


def accept_button(page: str) -> str:
    match = re.search(r'<button type="submit" class="primary"[^>]*>Accept amendment #\d+</button>', page)
    assert match, "no accept button"
    return match.group(0)


def test_accept_only_when_the_rule_is_met(world):
    """Under consensus the button is disabled until every organisation supports; a forced POST fails."""
    world.open(rule="consensus")
    target = world.propose(world.partner, world.gva, paragraph_id=world.pids[0],
                           text="Cities are getting much hotter every summer.")
    world.position(target, world.partner, world.gva, "support")
    coordinator = world.browser(world.coordinator)
    page = page_text(coordinator.get(f"/amendments/{target}"))
    assert "disabled" in accept_button(page)
    assert "Decision rule: consensus · not met." in page
    before = state()
    response = coordinator.post(f"/amendments/{target}/accept", {"text_version": "1"},
                                form_page=f"/amendments/{target}")
    assert response.status_code == 302
    assert state() == before
    assert flashes(page_text(coordinator.get(f"/amendments/{target}")))[0].startswith(
        "The decision rule is not met: Consensus needs the support of all 3 organisations")
    world.position(target, world.tenant, world.tnn, "support")
    world.position(target, world.coordinator, world.hwu, "support")
    page = page_text(coordinator.get(f"/amendments/{target}"))
    assert "disabled" not in accept_button(page)
    assert "Decision rule: consensus · met." in page and "All 3 organisations support it." in page
    response = coordinator.post(f"/amendments/{target}/accept", {"text_version": "1"},
                                form_page=f"/amendments/{target}")
    assert response.status_code == 302
    assert texts(world.sid)[0] == "Cities are getting much hotter every summer."
    accepted = amendment(target)
    assert accepted.status == "accepted" and accepted.result_version.number == 2
    assert accepted.result_version.amendment_id == target
    page = page_text(coordinator.get(f"/amendments/{target}"))
    assert f"Amendment #{target} accepted: the text is now version 2." in flashes(page)
    assert f'href="/statements/{world.sid}/versions/2">version 2</a>' in page
    assert "Accept amendment" not in page


def test_only_the_coordinator_decides(opened):
    """A delegate sees no decision forms and cannot accept or reject by POST."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.")
    browser = opened.browser(opened.partner)
    assert "Accept amendment" not in page_text(browser.get(f"/amendments/{target}"))
    before = state()
    browser.post(f"/amendments/{target}/accept", {"text_version": "1"}, form_page=f"/amendments/{target}")
    assert "Only the coordinator decides on amendments." in flashes(
        page_text(browser.get(f"/amendments/{target}")))
    response = browser.post(f"/amendments/{target}/reject", {"reason": "No."},
                            form_page=f"/amendments/{target}")
    assert response.status_code == 302
    assert "Only the coordinator decides on amendments." in flashes(
        page_text(browser.get(f"/amendments/{target}")))
    assert state() == before


def test_reject_needs_a_reason(opened):
    """Without a reason the form says why; with one the amendment is rejected and shows it."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.")
    coordinator = opened.browser(opened.coordinator)
    before = state()
    response = coordinator.post(f"/amendments/{target}/reject", {"reason": "  "},
                                form_page=f"/amendments/{target}")
    assert response.status_code == 422
    assert "Give a reason for rejecting, so the proposers know why." in page_text(response)
    assert state() == before
    response = coordinator.post(f"/amendments/{target}/reject", {"reason": "Out of scope."},
                                form_page=f"/amendments/{target}")
    assert response.status_code == 302
    rejected = amendment(target)
    assert (rejected.status, rejected.decision_reason, rejected.decided_by_id) == (
        "rejected", "Out of scope.", opened.coordinator.id)
    page = page_text(coordinator.get(f"/amendments/{target}"))
    assert "Rejected by Carla Coordinator" in page and "Out of scope." in page
    assert texts(opened.sid) == list(PARAGRAPHS)


def test_stale_accept_is_refused(opened):
    """Accepting with the text_version of an older page is refused after the proposer edited."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.")
    coordinator = opened.browser(opened.coordinator)
    page = page_text(coordinator.get(f"/amendments/{target}"))
    assert re.search(r'name="text_version" required type="hidden" value="1"', page)
    amending.edit_amendment(db.session.get(Amendment, target), opened.partner, text="Much hotter.",
                            rationale="", now=now())
    db.session.commit()
    before = state()
    coordinator.post(f"/amendments/{target}/accept", {"text_version": "1"}, form_page=f"/amendments/{target}")
    assert state() == before
    assert "This amendment changed since you opened it" in flashes(
        page_text(coordinator.get(f"/amendments/{target}")))[0]
    coordinator.post(f"/amendments/{target}/accept", {"text_version": "2"}, form_page=f"/amendments/{target}")
    assert texts(opened.sid)[0] == "Much hotter."


def test_accepting_a_closed_amendment_is_refused(opened):
    """A withdrawn amendment cannot be accepted by a replayed POST."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.")
    amending.withdraw_amendment(db.session.get(Amendment, target), opened.partner, now=now())
    db.session.commit()
    coordinator = opened.browser(opened.coordinator)
    before = state()
    coordinator.post(f"/amendments/{target}/accept", {"text_version": "1"}, form_page=f"/amendments/{target}")
    assert state() == before
    assert "This amendment is already withdrawn." in flashes(
        page_text(coordinator.get(f"/amendments/{target}")))


# --- lists, compare, history, blame ---------------------------------------------------------


def listed(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a href="/amendments/(\d+)"><strong>#', page)]


def test_list_filters_by_paragraph_organisation_and_status(opened):
    """The list page narrows by paragraph, by proposing or co-sponsoring organisation, and by status."""
    a = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.")
    b = opened.propose(opened.tenant, opened.tnn, paragraph_id=opened.pids[1], text="Cooler.")
    c = opened.propose(opened.tenant, opened.tnn, kind="delete", paragraph_id=opened.pids[0])
    amending.cosponsor(db.session.get(Amendment, b), opened.partner, opened.gva, now=now())
    amending.reject(db.session.get(Amendment, c), opened.coordinator, reason="No.", now=now())
    db.session.commit()
    browser = opened.browser(opened.partner)
    base = f"/statements/{opened.sid}/amendments"
    assert listed(page_text(browser.get(base))) == [a, b, c]
    assert listed(page_text(browser.get(f"{base}?paragraph={opened.pids[0]}"))) == [a, c]
    assert listed(page_text(browser.get(f"{base}?organisation={opened.gva.id}"))) == [a, b]
    assert listed(page_text(browser.get(f"{base}?organisation={opened.tnn.id}"))) == [b, c]
    assert listed(page_text(browser.get(f"{base}?status=rejected"))) == [c]
    page = page_text(browser.get(f"{base}?status=open&paragraph={opened.pids[0]}"))
    assert listed(page) == [a] and "1 amendment." in page
    assert f'<option value="{opened.pids[0]}" selected>¶ 1</option>' in page
    assert listed(page_text(browser.get(f"{base}?status=accepted"))) == []


def accepted_history(opened: World) -> dict:
    """v2: modify ¶ 2; v3: insert after ¶ 1; v4: delete ¶ 3; v5: new title."""
    ids = {
        "modify": opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[1],
                                 text="Every tenant deserves a cool and safe home."),
        "insert": opened.propose(opened.tenant, opened.tnn, kind="insert", paragraph_id=opened.pids[0],
                                 text="Trees cool streets."),
        "delete": opened.propose(opened.partner, opened.gva, kind="delete", paragraph_id=opened.pids[2]),
        "retitle": opened.propose(opened.tenant, opened.tnn, kind="retitle", text="Cool Cities for All"),
    }
    for key in ("modify", "insert", "delete", "retitle"):
        opened.accept(ids[key])
    return ids


def test_compare_shows_inserted_deleted_and_changed_paragraphs(opened):
    """v1 against v5: the changed ¶ with a word diff, the inserted and deleted ones, the new title."""
    accepted_history(opened)
    browser = opened.browser(opened.partner)
    page = page_text(browser.get(f"/statements/{opened.sid}/compare?from=1&to=5"))
    rows = re.findall(r'<li class="change-(\w+)">(.*?)</li>', page, re.S)
    assert [kind for kind, _ in rows] == ["unchanged", "inserted", "changed", "deleted"]
    assert "<ins>Trees cool streets.</ins>" in rows[1][1]
    assert "<ins>and safe </ins>" in rows[2][1] and "(was ¶ 2)" in rows[2][1]
    assert "Deleted (was ¶ 3)" in rows[3][1] and "<del>We will review progress next year.</del>" in rows[3][1]
    assert "3 of 4 paragraphs differ between v1" in page
    assert "<strong>Title:</strong>" in page and "<ins> for All</ins>" in page
    page = page_text(browser.get(f"/statements/{opened.sid}/compare?from=2&to=3"))
    assert [k for k, _ in re.findall(r'<li class="change-(\w+)">(.*?)</li>', page, re.S)] == [
        "unchanged", "inserted", "unchanged", "unchanged"]
    assert browser.get(f"/statements/{opened.sid}/compare?from=1&to=9").status_code == 404


def test_compare_shows_moved_paragraphs(world):
    """A paragraph moved in the draft shows as moved from its old number."""
    drafting.move_paragraph(world.statement, world.coordinator, world.pids[2], "up", now=now())
    db.session.commit()
    page = page_text(world.browser(world.partner).get(f"/statements/{world.sid}/compare?from=1&to=2"))
    assert "Moved from ¶ 3" in page or "Moved from ¶ 2" in page
    assert 'class="change-moved"' in page


def test_paragraph_history_lists_revisions_with_amendment_and_organisation(opened):
    """Newest first: the accepted amendment and its organisation, then the first text."""
    ids = accepted_history(opened)
    browser = opened.browser(opened.tenant)
    page = page_text(browser.get(f"/statements/{opened.sid}/paragraphs/{opened.pids[1]}/history"))
    assert "<h1>¶ 3</h1>" in page
    # What a delegate may propose for it, from its own page (the statement page offers "Amend" and "More").
    for kind, key in (("modify", "paragraph"), ("insert", "after"), ("delete", "paragraph")):
        assert f"/amendments/new?kind={kind}&amp;{key}={opened.pids[1]}" in page
    items = re.findall(r'<li class="card">(.*?)</li>', page, re.S)
    assert len(items) == 2
    assert f'<a href="/amendments/{ids["modify"]}">amendment #{ids["modify"]}</a>' in items[0]
    assert "proposed by Gil Partner (Green Valleys Alliance (GVA))" in items[0]
    assert "<ins>and safe </ins>" in items[0]
    assert "first text, by Carla Coordinator" in items[1]
    assert f'<div class="text">{PARAGRAPHS[1]}</div>' in items[1] and "<ins>" not in items[1]
    page = page_text(browser.get(f"/statements/{opened.sid}/paragraphs/{opened.pids[2]}/history"))
    assert "<h1>A deleted paragraph</h1>" in page and "It was deleted on" in page
    assert "Propose a new wording" not in page
    other = factories.statement(opened.outsider, opened.outside, paragraphs=["Elsewhere."])
    foreign = drafting.live_paragraphs(other)[0].id
    assert browser.get(f"/statements/{opened.sid}/paragraphs/{foreign}/history").status_code == 404


def test_blame_marks_text_by_amendment(opened):
    """Words introduced by an accepted amendment carry its number and organisation; draft text is plain."""
    ids = accepted_history(opened)
    page = page_text(opened.browser(opened.tenant).get(f"/statements/{opened.sid}/blame"))
    assert f"#{ids['modify']}</span>\n    Modify by Green Valleys Alliance (GVA)" in page
    marked = re.findall(
        r'<span class="blame blame-\d" title="Amendment #(\d+) \((\w+)\)"><sup>\d+</sup>(.*?)</span>', page)
    assert (str(ids["modify"]), "GVA", "and safe ") in marked
    assert (str(ids["insert"]), "TNN", "Trees cool streets.") in marked
    paragraphs = re.findall(r'<div class="text">(.*?)</div>', page, re.S)
    assert paragraphs[0] == PARAGRAPHS[0]  # untouched draft text is not marked
    assert len(paragraphs) == 3


# --- escaping --------------------------------------------------------------------------------


def test_user_text_is_escaped_everywhere(opened):
    """Markup in amendment text and rationale is shown as text on every page that shows it."""
    nasty = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0],
                           text=f"{PARAGRAPHS[0]} {NASTY}", rationale=f"Because {NASTY}")
    browser = opened.browser(opened.tenant)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; Tom &amp;amp; Jerry"
    pages = {
        "amendment": page_text(browser.get(f"/amendments/{nasty}")),
        "list": page_text(browser.get(f"/statements/{opened.sid}/amendments")),
    }
    opened.accept(nasty)
    pages["statement"] = page_text(browser.get(f"/statements/{opened.sid}"))  # now in the text itself
    pages["compare"] = page_text(browser.get(f"/statements/{opened.sid}/compare?from=1&to=2"))
    pages["history"] = page_text(browser.get(f"/statements/{opened.sid}/paragraphs/{opened.pids[0]}/history"))
    pages["blame"] = page_text(browser.get(f"/statements/{opened.sid}/blame"))
    for name, page in pages.items():
        assert escaped in page, name
        assert "<script>" not in page, name
    assert f"Because {escaped}" in pages["amendment"]


# --- CSRF and visibility ------------------------------------------------------------------------


def test_posts_without_a_csrf_token_are_refused(opened):
    """Every amendment POST without a token is 400 and changes nothing."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.")
    opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[1], text="Cooler.")
    coordinator = opened.browser(opened.coordinator)
    partner = opened.browser(opened.partner)
    before = state()
    posts = [
        (partner, f"/statements/{opened.sid}/amendments/new?kind=modify&paragraph={opened.pids[2]}",
         {"organisation": str(opened.gva.id), "text": "Later.", "submit": "x"}),
        (partner, f"/amendments/{target}/edit", {"text": "Edited.", "submit": "x"}),
        (partner, f"/amendments/{target}/positions",
         {"organisation": str(opened.gva.id), "stance": "support"}),
        (coordinator, f"/amendments/{target}/sponsor", {"organisation": str(opened.hwu.id)}),
        (partner, f"/amendments/{target}/comments", {"body": "Hello."}),
        (partner, f"/amendments/{target}/withdraw", {}),
        (coordinator, f"/amendments/{target}/accept", {"text_version": "1"}),
        (coordinator, f"/amendments/{target}/reject", {"reason": "No."}),
    ]
    for browser, path, data in posts:
        response = browser.client.post(path, data=data)
        assert response.status_code == 400, path
        assert "Form expired" in page_text(response)
    assert state() == before
    draft = factories.statement(opened.coordinator, opened.hwu, participants=[opened.gva])
    response = coordinator.client.post(f"/statements/{draft.id}/open", data={"decision_rule": "consensus"})
    assert response.status_code == 400
    reload()
    assert db.session.get(Statement, draft.id).status == "draft"


def test_outsiders_get_404_on_every_amendment_url(opened):
    """Members of non-participating organisations cannot tell the statement or its amendments exist."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text="Hotter.")
    opened.accept(opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[1], text="Cooler."))
    outsider = opened.browser(opened.outsider)
    sid, pid = opened.sid, opened.pids[0]
    gets = [
        f"/statements/{sid}/open", f"/statements/{sid}/amendments/new?kind=modify&paragraph={pid}",
        f"/statements/{sid}/amendments/new?kind=retitle", f"/statements/{sid}/amendments",
        f"/statements/{sid}/compare?from=1&to=2", f"/statements/{sid}/paragraphs/{pid}/history",
        f"/statements/{sid}/blame", f"/amendments/{target}", f"/amendments/{target}/edit",
        "/amendments/99999",
    ]
    for path in gets:
        assert outsider.get(path).status_code == 404, path
    before = state()
    posts = [
        (f"/statements/{sid}/open", {"decision_rule": "consensus"}),
        (f"/statements/{sid}/amendments/new?kind=retitle",
         {"organisation": str(opened.outside.id), "text": "Ours.", "submit": "x"}),
        (f"/amendments/{target}/edit", {"text": "Ours.", "submit": "x"}),
        (f"/amendments/{target}/positions", {"organisation": str(opened.outside.id), "stance": "oppose"}),
        (f"/amendments/{target}/sponsor", {"organisation": str(opened.outside.id)}),
        (f"/amendments/{target}/comments", {"body": "Boo."}),
        (f"/amendments/{target}/withdraw", {}),
        (f"/amendments/{target}/accept", {"text_version": "1"}),
        (f"/amendments/{target}/reject", {"reason": "No."}),
    ]
    for path, data in posts:
        assert outsider.post(path, data, form_page="/").status_code == 404, path
    assert state() == before
