"""A position, a comment or a proposal costs at most 10 SQL statements, whole request included
(loading the user, the rule's reads and writes, its audit entry and notifications), through the
pages and through the API, whatever the statement's size (issue 17, "cheap writes").

Statements are counted with a listener on the engine, on SQLite and PostgreSQL; a transaction's
BEGIN and COMMIT are not statements the driver sends through a cursor and are not counted.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from app.accounts import operations as accounts
from app.amending import operations as amending
from app.extensions import db
from app.models import Amendment, Comment, Position
from app.participation import invitations
from tests import factories
from tests.conftest import Browser
from tests.test_freshness import World, now

MAX_STATEMENTS = 10
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def counted(app):
    """The SQL statements sent while the block runs."""
    sent: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield sent
    event.remove(db.engine, "before_cursor_execute", count)


@pytest.fixture
def busy(app):
    """An amending statement with more than a handful of everything: 12 paragraphs, 8 organisations,
    40 amendments with positions and comments; so that a cost that grew with them would show."""
    w = World(app).build("amending")
    others = [factories.organisation(f"Union {n}", slug=f"union-{n}") for n in range(5)]
    for org in others:
        delegate = factories.member(org, "delegate")
        invitation = w.rule(invitations.invite_organisation, w.st(), w.coordinator, organisation=org, now=now())
        w.rule(invitations.respond, invitation, delegate, accept=True, now=now())
    for n in range(9):
        w.rule(amending.propose, w.st(), w.tnn_member, w.tnn,
               kind="insert", paragraph_id=None, text=f"Opening line number {n}.", now=now())
    for n in range(30):
        made = w.rule(amending.propose, w.st(), w.gva_delegate, w.gva, kind="modify",
                      paragraph_id=w.pids[n % 3], text=f"A rewording, number {n}, of this paragraph.", now=now())
        w.rule(amending.take_position, made, w.tnn_member, w.tnn, "support", now=now())
        w.rule(amending.add_comment, made, w.coordinator, f"Comment {n}.", now=now())
    return w


def _token(browser: Browser, path: str) -> str:
    return CSRF.search(browser.get(path).get_data(as_text=True)).group(1)


def test_web_writes_cost_at_most_ten_statements(busy, counted):
    """Through the pages: a position, a comment and a proposal, each a whole request."""
    w = busy
    browser = w.browsers["signatory"]  # Tom Tenant, delegate and signatory of TNN
    target = w.amendment_id
    token = _token(browser, f"/amendments/{target}")
    counted.clear()
    response = browser.client.post(f"/amendments/{target}/positions",
                                    data={"csrf_token": token, "organisation": w.tnn.id, "stance": "oppose"})
    assert response.status_code == 302
    costs = {"position": len(counted)}
    counted.clear()
    response = browser.client.post(f"/amendments/{target}/comments", data={"csrf_token": token, "body": "Noted."})
    assert response.status_code == 302
    costs["comment"] = len(counted)
    counted.clear()
    response = browser.client.post(
        f"/statements/{w.sid}/amendments/new?kind=modify&paragraph={w.pids[1]}",
        data={"csrf_token": token, "organisation": w.tnn.id, "text": "Towns need buses and trains.",
              "submit": "Propose amendment"})
    assert response.status_code == 302, response.get_data(as_text=True)
    costs["proposal"] = len(counted)
    db.session.rollback()
    assert db.session.scalar(select(Position.stance).where(Position.amendment_id == target)
                             .order_by(Position.id.desc()).limit(1)) == "oppose"
    # The proposal came with its organisation's support, in the same 10 statements.
    proposed = db.session.scalar(select(Amendment.id).order_by(Amendment.id.desc()).limit(1))
    assert db.session.execute(select(Position.organisation_id, Position.stance, Position.given_as)
                              .where(Position.amendment_id == proposed)).all() == [(w.tnn.id, "support", "proposer")]
    assert db.session.scalar(select(Comment.body).order_by(Comment.id.desc()).limit(1)) == "Noted."
    assert db.session.scalar(select(Amendment.proposed_text).order_by(Amendment.id.desc()).limit(1)) == \
        "Towns need buses and trains."
    assert all(cost <= MAX_STATEMENTS for cost in costs.values()), costs


def test_api_writes_cost_at_most_ten_statements(busy, counted):
    """Through the API, the token already used this minute (its last use is written at most once a minute)."""
    w = busy
    _, token = accounts.create_api_token(db.session.get(type(w.tnn_member), w.tnn_member.id), "costs")
    db.session.commit()
    api = w.app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/statements", headers=headers).status_code == 200  # the token's first use
    target = w.amendment_id
    costs = {}
    for name, method, path, body in (
        ("position", "post", f"/api/v1/amendments/{target}/positions", {"organisation": "tnn", "stance": "abstain"}),
        ("comment", "post", f"/api/v1/amendments/{target}/comments", {"body": "Seen."}),
        ("proposal", "post", f"/api/v1/statements/{w.sid}/amendments",
         {"organisation": "tnn", "kind": "modify", "paragraph_id": w.pids[2], "text": "We meet in May."}),
    ):
        counted.clear()
        response = getattr(api, method)(path, json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        costs[name] = len(counted)
    assert all(cost <= MAX_STATEMENTS for cost in costs.values()), costs
