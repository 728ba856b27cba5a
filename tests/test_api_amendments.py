"""The amendment endpoints of /api/v1: what they answer, their errors, and what they leave behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

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
from tests.test_api import Api, assert_error, make_token

PARAGRAPHS = ["Water is a common good.", "Wells must be public.", "We will meet again."]


@pytest.fixture
def world(app, client):
    """Three participating organisations, an outsider, a draft statement and a token for each person."""
    hwu = factories.organisation("Harbour Workers' Union", slug="hwu", short_name="HWU")
    gva = factories.organisation("Green Valleys Alliance", slug="gva", short_name="GVA")
    tnn = factories.organisation("Tenants Network", slug="tnn", short_name="TNN")
    outside = factories.organisation("Outside Collective", slug="outside")
    coordinator = factories.member(hwu, "delegate", name="Ana Ferreira")
    partner = factories.member(gva, "delegate", name="Camila Rojas")
    tenant = factories.member(tnn, "delegate", name="Karin Lund")
    signatory = factories.member(gva, "signatory", name="Diego Soto")
    stranger = factories.member(outside, "delegate", "admin", name="Sam Stranger")
    statement = factories.statement(coordinator, hwu, participants=[gva, tnn],
                                    title="Clean Water for Every Village", paragraphs=PARAGRAPHS)
    return SimpleNamespace(
        hwu=hwu, gva=gva, tnn=tnn, outside=outside, statement=statement, sid=statement.id,
        pids=[p.id for p in drafting.live_paragraphs(statement)],
        coordinator=Api(client, make_token(coordinator)), partner=Api(client, make_token(partner)),
        tenant=Api(client, make_token(tenant)), signatory=Api(client, make_token(signatory)),
        stranger=Api(client, make_token(stranger)), anonymous=Api(client, None),
    )


@pytest.fixture
def opened(world):
    response = world.coordinator.post(f"/statements/{world.sid}/open",
                                      json={"decision_rule": "coordinator", "amendment_deadline": None})
    assert response.status_code == 200, response.get_data(as_text=True)
    return world


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def state() -> tuple:
    """Everything a refused request must leave as it was."""
    db.session.expire_all()
    return (
        tuple(db.session.execute(select(
            Amendment.id, Amendment.status, Amendment.paragraph_id, Amendment.base_text,
            Amendment.proposed_text, Amendment.rationale, Amendment.text_version, Amendment.decision_reason,
        ).order_by(Amendment.id))),
        tuple(db.session.execute(select(
            Statement.id, Statement.title, Statement.status, Statement.version_count, Statement.decision_rule,
            Statement.amendment_deadline))),
        tuple(db.session.execute(select(Paragraph.id, Paragraph.current_revision_id, Paragraph.deleted_at)
                                 .order_by(Paragraph.id))),
        count(Position), count(Comment), count(Sponsor), count(Revision), count(Version),
    )


def propose(api: Api, statement_id: int, **body) -> dict:
    response = api.post(f"/statements/{statement_id}/amendments", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def modify(world, text="Water is a common good of all.", api=None, org="gva", paragraph=0) -> dict:
    return propose(api or world.partner, world.sid, kind="modify", paragraph_id=world.pids[paragraph],
                   text=text, organisation=org)


# --- opening ------------------------------------------------------------------------


def test_open_with_rule_and_deadline_with_offset(world):
    """The deadline's offset is honoured and it is stored in UTC."""
    before = state()
    response = world.coordinator.post(f"/statements/{world.sid}/open", json={
        "decision_rule": "majority", "amendment_deadline": "2030-05-01T18:00:00+02:00"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["decision_rule"], body["amendment_deadline"]) == (
        "amending", "majority", "2030-05-01T16:00:00+00:00")
    assert state() != before
    statement = db.session.get(Statement, world.sid)
    assert (statement.status, statement.decision_rule, statement.amendment_deadline) == (
        "amending", "majority", datetime(2030, 5, 1, 16, 0, tzinfo=UTC))


def test_open_accepts_z_and_no_deadline(world):
    """"Z" means UTC; a missing deadline means none."""
    response = world.coordinator.post(f"/statements/{world.sid}/open", json={"decision_rule": "consensus"})
    assert response.status_code == 200 and response.get_json()["amendment_deadline"] is None
    other = factories.statement(db.session.get(Statement, world.sid).coordinator, world.hwu,
                                participants=[world.gva])
    response = world.coordinator.post(f"/statements/{other.id}/open", json={
        "decision_rule": "consensus", "amendment_deadline": "2031-01-02T03:04:05Z"})
    assert response.get_json()["amendment_deadline"] == "2031-01-02T03:04:05+00:00"


@pytest.mark.parametrize("body, field", [
    ({"decision_rule": "consensus", "amendment_deadline": "2030-05-01T18:00:00"}, "time zone offset"),
    ({"decision_rule": "consensus", "amendment_deadline": "next Tuesday"}, "not an ISO 8601"),
    ({"decision_rule": "consensus", "amendment_deadline": 1893456000}, "ISO 8601 date-time string"),
    ({"decision_rule": "consensus", "amendment_deadline": "2001-01-01T00:00:00+00:00"}, "in the future"),
    ({"decision_rule": "unanimity"}, "Choose a decision rule"),
    ({"decision_rule": ["consensus"]}, "must be a string"),
    ({}, "is required"),
])
def test_open_refuses_bad_input(world, body, field):
    """Naive, unreadable or past deadlines and unknown rules are 422 and the statement stays a draft."""
    before = state()
    error = assert_error(world.coordinator.post(f"/statements/{world.sid}/open", json=body), 422,
                         "invalid_input")
    assert field in error["message"]
    assert state() == before


def test_open_refuses_others_and_a_second_time(opened):
    """A delegate gets 403, an outsider 404, and opening again is 409 wrong_phase."""
    other = factories.statement(db.session.get(Statement, opened.sid).coordinator, opened.hwu,
                                participants=[opened.gva])
    before = state()
    body = {"decision_rule": "consensus"}
    assert_error(opened.partner.post(f"/statements/{other.id}/open", json=body), 403, "forbidden")
    assert_error(opened.stranger.post(f"/statements/{other.id}/open", json=body), 404, "not_found")
    assert_error(opened.coordinator.post(f"/statements/{opened.sid}/open", json=body), 409, "wrong_phase")
    assert_error(opened.coordinator.post(f"/statements/{opened.sid}/open", data="consensus",
                                         content_type="text/plain"), 422, "invalid_input")
    assert state() == before


# --- proposing ----------------------------------------------------------------------


def test_propose_modify(opened):
    """201 with the amendment, its word diff as [op, text] pairs and its organisation's support by proposing it."""
    body = propose(
        opened.partner, opened.sid, kind="modify", paragraph_id=opened.pids[0],
        text="Water is a common good of all.", rationale="Say whose.", organisation="gva")
    assert body["kind"] == "modify" and body["status"] == "open"
    assert (body["paragraph_id"], body["after_paragraph_id"], body["paragraph_number"],
            body["paragraph_number_when_proposed"]) == (opened.pids[0], None, 1, 1)
    assert (body["base_text"], body["text"], body["rationale"]) == (
        PARAGRAPHS[0], "Water is a common good of all.", "Say whose.")
    assert (body["organisation"], body["proposer"], body["text_version"]) == ("gva", "Camila Rojas", 1)
    assert body["diff"] == [[0, "Water is a common good"], [1, " of all"], [0, "."]]
    assert [(p["organisation"], p["stance"], p["as"], p["on_earlier_text"]) for p in body["positions"]] == [
        ("gva", "support", "proposer", False)]
    assert body["comments"] == [] and body["earlier_positions"] == []
    assert body["not_yet_spoken"] == ["hwu", "tnn"]
    made = db.session.get(Amendment, body["id"])
    assert (made.kind, made.paragraph_id, made.proposed_text, made.organisation.slug) == (
        "modify", opened.pids[0], "Water is a common good of all.", "gva")
    assert made.base_revision_id == body["base_revision_id"] == db.session.get(
        Paragraph, opened.pids[0]).current_revision_id
    assert [p.text for p in drafting.live_paragraphs(db.session.get(Statement, opened.sid))] == PARAGRAPHS


def test_propose_insert_delete_and_retitle(opened):
    """Insert names after_paragraph_id (null: the top); delete needs no text; retitle starts at the title."""
    after = propose(opened.tenant, opened.sid, kind="insert", after_paragraph_id=opened.pids[1],
                    text="Rivers too.", organisation="tnn")
    assert (after["paragraph_id"], after["after_paragraph_id"], after["paragraph_number"]) == (
        None, opened.pids[1], 2)
    assert after["diff"] == [[1, "Rivers too."]]
    top = propose(opened.tenant, opened.sid, kind="insert", after_paragraph_id=None, text="Preamble.",
                  organisation="tnn")
    assert (top["after_paragraph_id"], top["paragraph_number_when_proposed"]) == (None, 0)
    delete = propose(opened.partner, opened.sid, kind="delete", paragraph_id=opened.pids[2],
                     organisation="gva")
    assert delete["diff"] == [[-1, "We will meet again."]] and delete["text"] == ""
    retitle = propose(opened.partner, opened.sid, kind="retitle", text="Clean Water for All",
                      organisation="gva")
    assert retitle["base_text"] == "Clean Water for Every Village"
    assert [(a.kind, a.paragraph_id, a.proposed_text) for a in
            db.session.scalars(select(Amendment).order_by(Amendment.id))] == [
        ("insert", opened.pids[1], "Rivers too."), ("insert", None, "Preamble."),
        ("delete", opened.pids[2], ""), ("retitle", None, "Clean Water for All")]


@pytest.mark.parametrize("body, status, code", [
    ({"kind": 3, "paragraph_id": 0, "text": "x", "organisation": "gva"}, 422, "invalid_input"),
    ({"kind": "modify", "paragraph_id": "1", "text": "x", "organisation": "gva"}, 422, "invalid_input"),
    ({"kind": "modify", "paragraph_id": True, "text": "x", "organisation": "gva"}, 422, "invalid_input"),
    ({"kind": "modify", "paragraph_id": 0, "text": 5, "organisation": "gva"}, 422, "invalid_input"),
    ({"kind": "modify", "paragraph_id": 0, "organisation": "gva"}, 422, "invalid_input"),
    ({"kind": "modify", "paragraph_id": 0, "text": "x", "rationale": ["r"], "organisation": "gva"}, 422,
     "invalid_input"),
    ({"kind": "modify", "paragraph_id": 0, "text": "x", "organisation": "gva", "supersedes": "1"}, 422,
     "invalid_input"),
    ({"kind": "modify", "paragraph_id": 0, "text": "x", "organisation": 2}, 422, "invalid_input"),
    ({"kind": "rewrite", "paragraph_id": 0, "text": "x", "organisation": "gva"}, 422, "invalid_input"),
    ({"kind": "modify", "paragraph_id": 0, "text": PARAGRAPHS[0], "organisation": "gva"}, 422,
     "invalid_input"),
    ({"kind": "modify", "paragraph_id": 0, "text": "   ", "organisation": "gva"}, 422, "invalid_input"),
    ({"kind": "modify", "paragraph_id": 0, "text": "x\x07", "organisation": "gva"}, 422, "invalid_input"),
    ({"kind": "modify", "paragraph_id": 0, "text": "x", "organisation": "nobody"}, 404, "not_found"),
    ({"kind": "modify", "paragraph_id": 0, "text": "x", "organisation": "tnn"}, 403, "forbidden"),
    ({"kind": "modify", "paragraph_id": 0, "text": "x", "organisation": "outside"}, 403, "forbidden"),
    ({"kind": "modify", "paragraph_id": 999999, "text": "x", "organisation": "gva"}, 404, "not_found"),
    ({"kind": "modify", "paragraph_id": 0, "text": "x", "organisation": "gva", "supersedes": [999]}, 404,
     "not_found"),
])
def test_propose_refuses_bad_input(opened, body, status, code):
    """Wrong types are 422, unknown things 404, speaking for another organisation 403; nothing is saved."""
    if body.get("paragraph_id") == 0:
        body = {**body, "paragraph_id": opened.pids[0]}
    before = state()
    assert_error(opened.partner.post(f"/statements/{opened.sid}/amendments", json=body), status, code)
    assert state() == before


def test_propose_refuses_foreign_deleted_and_wrong_phase(world):
    """A draft takes no amendments; nor does a statement past its deadline; foreign paragraphs are 404."""
    body = {"kind": "modify", "paragraph_id": world.pids[0], "text": "Water.", "organisation": "gva"}
    before = state()
    assert_error(world.partner.post(f"/statements/{world.sid}/amendments", json=body), 409, "wrong_phase")
    assert state() == before
    world.coordinator.post(f"/statements/{world.sid}/open", json={"decision_rule": "coordinator"})
    other = factories.statement(db.session.get(Statement, world.sid).coordinator, world.hwu,
                                paragraphs=["Elsewhere."])
    foreign = drafting.live_paragraphs(other)[0].id
    before = state()
    assert_error(world.partner.post(f"/statements/{world.sid}/amendments",
                                    json={**body, "paragraph_id": foreign}), 404, "not_found")
    assert_error(world.signatory.post(f"/statements/{world.sid}/amendments", json=body), 403, "forbidden")
    assert_error(world.stranger.post(f"/statements/{world.sid}/amendments",
                                     json={**body, "organisation": "outside"}), 404, "not_found")
    assert state() == before
    statement = db.session.get(Statement, world.sid)
    statement.amendment_deadline = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    before = state()
    error = assert_error(world.partner.post(f"/statements/{world.sid}/amendments", json=body), 409,
                         "wrong_phase")
    assert "deadline" in error["message"]
    assert state() == before


# --- reading ------------------------------------------------------------------------


def test_list_filters_by_paragraph_organisation_and_status(opened):
    """?paragraph= (id), ?organisation= (slug, proposer or co-sponsor) and ?status= narrow the list."""
    a = modify(opened)["id"]
    b = propose(opened.tenant, opened.sid, kind="modify", paragraph_id=opened.pids[1], text="Wells.",
                organisation="tnn")["id"]
    c = propose(opened.tenant, opened.sid, kind="delete", paragraph_id=opened.pids[0],
                organisation="tnn")["id"]
    opened.partner.post(f"/amendments/{b}/sponsors", json={"organisation": "gva"})
    opened.coordinator.post(f"/amendments/{c}/reject", json={"reason": "Keep it."})

    def ids(query=""):
        response = opened.partner.get(f"/statements/{opened.sid}/amendments{query}")
        assert response.status_code == 200
        return [x["id"] for x in response.get_json()["amendments"]]

    assert ids() == [a, b, c]
    assert ids(f"?paragraph={opened.pids[0]}") == [a, c]
    assert ids("?organisation=gva") == [a, b]
    assert ids("?organisation=tnn") == [b, c]
    assert ids("?status=rejected") == [c]
    assert ids("?status=open") == [a, b]
    listed = opened.partner.get(f"/statements/{opened.sid}/amendments").get_json()["amendments"]
    assert listed[1]["sponsors"] == ["gva"] and "diff" not in listed[0]
    assert_error(opened.partner.get(f"/statements/{opened.sid}/amendments?organisation=nobody"), 404)


def test_get_amendment_with_positions_comments_and_silent_organisations(opened):
    """GET shows the latest position per organisation, who has not spoken, comments and the rule's verdict."""
    target = modify(opened)["id"]
    opened.partner.post(f"/amendments/{target}/positions", json={"organisation": "gva", "stance": "oppose"})
    opened.partner.post(f"/amendments/{target}/positions", json={"organisation": "gva", "stance": "support",
                                                                 "reason": "On reflection."})
    opened.tenant.post(f"/amendments/{target}/comments", json={"body": "Why now?"})
    body = opened.tenant.get(f"/amendments/{target}").get_json()
    assert [(p["organisation"], p["stance"], p["reason"], p["by"], p["as"]) for p in body["positions"]] == [
        ("gva", "support", "On reflection.", "Camila Rojas", None)]
    assert body["not_yet_spoken"] == ["hwu", "tnn"]
    assert body["decision_rule_met"] is True and body["decision_explanation"] == "The coordinator decides."
    assert [(c["author"], c["body"], c["parent_id"]) for c in body["comments"]] == [
        ("Karin Lund", "Why now?", None)]
    assert count(Position) == 3  # with the support by proposing it


# --- the proposer's changes -----------------------------------------------------------


def test_put_edits_until_someone_takes_a_position(opened):
    """The proposer edits (text_version goes up); others get 403; after a position it is 409."""
    target = modify(opened)["id"]
    before = state()
    assert_error(opened.tenant.put(f"/amendments/{target}", json={"text": "Mine."}), 403, "forbidden")
    assert_error(opened.partner.put(f"/amendments/{target}", json={"text": 7}), 422, "invalid_input")
    assert_error(opened.partner.put(f"/amendments/{target}", json={"rationale": "no text"}), 422)
    assert_error(opened.stranger.put(f"/amendments/{target}", json={"text": "Ours."}), 404, "not_found")
    assert state() == before
    response = opened.partner.put(f"/amendments/{target}", json={"text": "Water is everyone's.",
                                                                 "rationale": "Shorter."})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["text"], body["rationale"], body["text_version"]) == ("Water is everyone's.", "Shorter.", 2)
    assert db.session.get(Amendment, target).proposed_text == "Water is everyone's."
    opened.tenant.post(f"/amendments/{target}/positions", json={"organisation": "tnn", "stance": "support"})
    before = state()
    assert_error(opened.partner.put(f"/amendments/{target}", json={"text": "Again."}), 409, "conflict")
    assert state() == before


def test_withdraw_by_proposer_only(opened):
    """Others get 403; the proposer withdraws; a second withdrawal is 409."""
    target = modify(opened)["id"]
    before = state()
    assert_error(opened.coordinator.post(f"/amendments/{target}/withdraw"), 403, "forbidden")
    assert state() == before
    response = opened.partner.post(f"/amendments/{target}/withdraw")
    assert response.status_code == 200 and response.get_json()["status"] == "withdrawn"
    assert db.session.get(Amendment, target).status == "withdrawn"
    before = state()
    assert_error(opened.partner.post(f"/amendments/{target}/withdraw"), 409, "conflict")
    assert state() == before


# --- co-sponsors, positions, comments -------------------------------------------------------


def test_sponsors(opened):
    """Another organisation's delegate co-sponsors once; repeating or speaking for others is refused."""
    target = modify(opened)["id"]
    response = opened.tenant.post(f"/amendments/{target}/sponsors", json={"organisation": "tnn"})
    assert response.status_code == 201 and response.get_json()["sponsors"] == ["tnn"]
    assert [(s.amendment_id, s.organisation.slug) for s in db.session.scalars(select(Sponsor))] == [
        (target, "tnn")]
    before = state()
    assert_error(opened.tenant.post(f"/amendments/{target}/sponsors", json={"organisation": "tnn"}), 409)
    assert_error(opened.partner.post(f"/amendments/{target}/sponsors", json={"organisation": "gva"}), 409)
    assert_error(opened.tenant.post(f"/amendments/{target}/sponsors", json={"organisation": "hwu"}), 403)
    assert_error(opened.tenant.post(f"/amendments/{target}/sponsors", json={"organisation": None}), 422)
    assert_error(opened.signatory.post(f"/amendments/{target}/sponsors", json={"organisation": "gva"}), 403)
    assert state() == before


@pytest.mark.parametrize("body, status, code", [
    ({"organisation": "gva", "stance": "cheer"}, 422, "invalid_input"),
    ({"organisation": "gva", "stance": 1}, 422, "invalid_input"),
    ({"organisation": "gva"}, 422, "invalid_input"),
    ({"organisation": "gva", "stance": "support", "reason": 5}, 422, "invalid_input"),
    ({"organisation": "tnn", "stance": "support"}, 403, "forbidden"),
    ({"organisation": "outside", "stance": "support"}, 403, "forbidden"),
    ({"organisation": "nobody", "stance": "support"}, 404, "not_found"),
])
def test_positions_refuse_bad_input(opened, body, status, code):
    """A position needs a known stance, from a delegate of that participating organisation."""
    target = modify(opened)["id"]
    before = state()
    assert_error(opened.partner.post(f"/amendments/{target}/positions", json=body), status, code)
    assert state() == before


def test_position_on_a_closed_amendment_is_refused(opened):
    """After withdrawal, positions are 409 and nothing is recorded."""
    target = modify(opened)["id"]
    opened.partner.post(f"/amendments/{target}/withdraw")
    before = state()
    assert_error(opened.tenant.post(f"/amendments/{target}/positions",
                                    json={"organisation": "tnn", "stance": "support"}), 409, "conflict")
    assert state() == before


def test_comments_and_one_level_replies(opened):
    """201 with the comment; a reply to a reply hangs off the top comment."""
    target = modify(opened)["id"]
    response = opened.tenant.post(f"/amendments/{target}/comments", json={"body": "  See <b>this</b>.  "})
    assert response.status_code == 201
    top = response.get_json()
    assert (top["body"], top["parent_id"], top["author"]) == ("See <b>this</b>.", None, "Karin Lund")
    reply = opened.partner.post(f"/amendments/{target}/comments",
                                json={"body": "Seen.", "parent_id": top["id"]}).get_json()
    deeper = opened.tenant.post(f"/amendments/{target}/comments",
                                json={"body": "Good.", "parent_id": reply["id"]}).get_json()
    assert reply["parent_id"] == deeper["parent_id"] == top["id"]
    assert [(c.body, c.parent_id) for c in db.session.scalars(select(Comment).order_by(Comment.id))] == [
        ("See <b>this</b>.", None), ("Seen.", top["id"]), ("Good.", top["id"])]


def test_comments_refuse_bad_input(opened):
    """Empty bodies and wrong types are 422, a foreign parent 404, a non-member 404; nothing is saved."""
    target = modify(opened)["id"]
    other = modify(opened, text="Wells must be public, always.", paragraph=1)["id"]
    foreign = opened.partner.post(f"/amendments/{other}/comments", json={"body": "Elsewhere."}).get_json()
    before = state()
    for body in ({"body": "   "}, {"body": 5}, {}, {"body": "x", "parent_id": "1"}):
        assert_error(opened.tenant.post(f"/amendments/{target}/comments", json=body), 422, "invalid_input")
    assert_error(opened.tenant.post(f"/amendments/{target}/comments",
                                    json={"body": "Hi", "parent_id": foreign["id"]}), 404, "not_found")
    assert_error(opened.stranger.post(f"/amendments/{target}/comments", json={"body": "Boo"}), 404)
    assert state() == before


# --- deciding ----------------------------------------------------------------------------


def test_accept_only_when_the_rule_is_met(world):
    """Under consensus accepting is 409 until every organisation supports; then a new version."""
    world.coordinator.post(f"/statements/{world.sid}/open", json={"decision_rule": "consensus"})
    target = modify(world)["id"]
    world.partner.post(f"/amendments/{target}/positions", json={"organisation": "gva", "stance": "support"})
    before = state()
    error = assert_error(world.coordinator.post(f"/amendments/{target}/accept"), 409, "conflict")
    assert error["message"].startswith("The decision rule is not met")
    assert state() == before
    world.tenant.post(f"/amendments/{target}/positions", json={"organisation": "tnn", "stance": "support"})
    world.coordinator.post(f"/amendments/{target}/positions",
                           json={"organisation": "hwu", "stance": "support"})
    response = world.coordinator.post(f"/amendments/{target}/accept", json={"text_version": 1})
    assert response.status_code == 200
    body = response.get_json()
    version = db.session.scalar(select(Version).where(Version.statement_id == world.sid, Version.number == 2))
    assert body["version"] == {"number": 2, "sha256": version.sha256}
    assert (body["amendment"]["status"], body["amendment"]["result_version"]) == ("accepted", 2)
    assert version.amendment_id == target
    first = drafting.live_paragraphs(db.session.get(Statement, world.sid))[0]
    assert first.text == "Water is a common good of all."
    before = state()
    assert_error(world.coordinator.post(f"/amendments/{target}/accept"), 409, "conflict")
    assert state() == before


def test_accept_refuses_stale_versions_wrong_types_and_others(opened):
    """A stale text_version is 409, a non-integer 422, a delegate 403; nothing changes."""
    target = modify(opened)["id"]
    opened.partner.put(f"/amendments/{target}", json={"text": "Water belongs to everyone."})
    before = state()
    error = assert_error(opened.coordinator.post(f"/amendments/{target}/accept", json={"text_version": 1}),
                         409, "conflict")
    assert "changed since you opened it" in error["message"]
    assert_error(opened.coordinator.post(f"/amendments/{target}/accept", json={"text_version": "2"}), 422)
    assert_error(opened.coordinator.post(f"/amendments/{target}/accept", json=[2]), 422, "invalid_input")
    assert_error(opened.partner.post(f"/amendments/{target}/accept", json={"text_version": 2}), 403)
    assert_error(opened.stranger.post(f"/amendments/{target}/accept"), 404)
    assert state() == before
    response = opened.coordinator.post(f"/amendments/{target}/accept", json={"text_version": 2})
    assert response.status_code == 200 and response.get_json()["version"]["number"] == 2


def test_accept_rebases_siblings_and_supersedes_compromise_targets(opened):
    """Accepting a compromise supersedes what it names; a sibling on the paragraph is rebased."""
    a = modify(opened, text="Water is a common good of every village.")["id"]
    b = modify(opened, text="Water is a shared good.", api=opened.tenant, org="tnn")["id"]
    sibling = propose(opened.tenant, opened.sid, kind="modify", paragraph_id=opened.pids[0],
                      text="Water is a common good!", organisation="tnn")["id"]
    compromise = propose(opened.coordinator, opened.sid, kind="modify", paragraph_id=opened.pids[0],
                         text="Clean water is a common good.", organisation="hwu", supersedes=[a, b])
    assert compromise["supersedes"] == [a, b]
    opened.coordinator.post(f"/amendments/{compromise['id']}/accept")
    statuses = {x["id"]: (x["status"], x["superseded_by"]) for x in
                opened.partner.get(f"/statements/{opened.sid}/amendments").get_json()["amendments"]}
    assert statuses[a] == statuses[b] == ("superseded", compromise["id"])
    assert statuses[sibling] == ("rebased", None)
    rebased = opened.partner.get(f"/amendments/{sibling}").get_json()
    assert (rebased["base_text"], rebased["text"], rebased["text_version"]) == (
        "Clean water is a common good.", "Clean water is a common good!", 2)


def test_reject_needs_a_reason(opened):
    """Without a reason (or with a non-string) it is 422; with one the amendment is rejected."""
    target = modify(opened)["id"]
    before = state()
    for body in ({}, {"reason": "   "}, {"reason": 3}):
        assert_error(opened.coordinator.post(f"/amendments/{target}/reject", json=body), 422, "invalid_input")
    assert_error(opened.partner.post(f"/amendments/{target}/reject", json={"reason": "No."}), 403)
    assert state() == before
    response = opened.coordinator.post(f"/amendments/{target}/reject", json={"reason": "Out of scope."})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["decision_reason"]) == ("rejected", "Out of scope.")
    assert db.session.get(Amendment, target).status == "rejected"
    before = state()
    assert_error(opened.coordinator.post(f"/amendments/{target}/reject", json={"reason": "Again."}), 409)
    assert state() == before


# --- compare -------------------------------------------------------------------------------


def test_compare_versions(opened):
    """Paragraphs matched by id: changed with a word diff, inserted, deleted; and the title."""
    for body in ({"kind": "modify", "paragraph_id": opened.pids[0], "text": "Water is a shared good."},
                 {"kind": "insert", "after_paragraph_id": None, "text": "Preamble."},
                 {"kind": "delete", "paragraph_id": opened.pids[2]},
                 {"kind": "retitle", "text": "Clean Water for All"}):
        made = propose(opened.partner, opened.sid, organisation="gva", **body)
        assert opened.coordinator.post(f"/amendments/{made['id']}/accept").status_code == 200
    response = opened.partner.get(f"/statements/{opened.sid}/compare?from=1&to=5")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["from"], body["to"]) == (1, 5)
    assert body["title"]["diff"] == [[0, "Clean Water for "], [-1, "Every Village"], [1, "All"]]
    rows = [(r["change"], r["paragraph_id"], r["old_number"], r["new_number"]) for r in body["paragraphs"]]
    inserted = body["paragraphs"][0]["paragraph_id"]
    assert rows == [("inserted", inserted, None, 1), ("changed", opened.pids[0], 1, 2),
                    ("unchanged", opened.pids[1], 2, 3), ("deleted", opened.pids[2], 3, None)]
    assert body["paragraphs"][1]["diff"] == [[0, "Water is a "], [-1, "common"], [1, "shared"], [0, " good."]]
    assert body["paragraphs"][3]["diff"] == [[-1, "We will meet again."]]


def test_compare_refuses_bad_queries(opened):
    """Missing or non-numeric versions are 422, unknown ones 404, outsiders 404."""
    for query in ("", "?from=1", "?from=a&to=1"):
        assert_error(opened.partner.get(f"/statements/{opened.sid}/compare{query}"), 422, "invalid_input")
    assert_error(opened.partner.get(f"/statements/{opened.sid}/compare?from=1&to=7"), 404, "not_found")
    assert_error(opened.stranger.get(f"/statements/{opened.sid}/compare?from=1&to=1"), 404, "not_found")


# --- who may see ------------------------------------------------------------------------------


def test_outsiders_and_anonymous_callers_learn_nothing(opened):
    """Every amendment endpoint is 404 for a non-participant and 401 without a token; nothing changes."""
    target = modify(opened)["id"]
    calls = [
        ("POST", f"/statements/{opened.sid}/open", {"decision_rule": "consensus"}),
        ("GET", f"/statements/{opened.sid}/amendments", None),
        ("POST", f"/statements/{opened.sid}/amendments",
         {"kind": "retitle", "text": "Ours", "organisation": "outside"}),
        ("GET", f"/amendments/{target}", None),
        ("PUT", f"/amendments/{target}", {"text": "Ours."}),
        ("POST", f"/amendments/{target}/sponsors", {"organisation": "outside"}),
        ("POST", f"/amendments/{target}/positions", {"organisation": "outside", "stance": "oppose"}),
        ("POST", f"/amendments/{target}/comments", {"body": "Boo."}),
        ("POST", f"/amendments/{target}/accept", {}),
        ("POST", f"/amendments/{target}/reject", {"reason": "No."}),
        ("POST", f"/amendments/{target}/withdraw", None),
        ("GET", f"/statements/{opened.sid}/compare?from=1&to=1", None),
        ("GET", "/amendments/999999", None),
    ]
    before = state()
    for method, path, body in calls:
        assert_error(opened.stranger.call(method, path, json=body), 404, "not_found")
        assert_error(opened.anonymous.call(method, path, json=body), 401, "unauthorized")
    assert state() == before
