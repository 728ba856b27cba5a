""""Waiting for you" lists every action a person can take now; a coordinator publishes from the Signatures
tab and can freeze an agreed draft directly (with a confirmation kept in the audit trail)."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.amending import operations as amending
from app.errors import InvalidInput, WrongPhase
from app.extensions import db
from app.models import AuditEntry, Statement
from app.notifications.waiting import waiting_for
from app.signing import operations as signing
from tests import factories
from tests.conftest import Browser
from tests.test_notifications import make_world, propose


@pytest.fixture
def w(app):
    factories.admin()  # completes the setup, so that people can log in
    return make_world(datetime.now(UTC))


def _sign_all(statement, *signatories_and_orgs, when):
    for user, org in signatories_and_orgs:
        signing.sign(statement, user, org, signer_name=user.name, signer_title="Chair", authorised=True,
                     password=factories.PASSWORD, version_sha256=statement.frozen_version.sha256, now=when)
    db.session.commit()


def test_the_coordinator_is_asked_to_publish_once_everyone_signed(w):
    """Nothing waits for the coordinator while signatures are missing; after the last one, publishing does."""
    signing.freeze(w.statement, w.coordinator, now=w.now)
    db.session.commit()
    _sign_all(w.statement, (w.sig_a, w.a), (w.sig_b, w.b), when=w.now)
    assert waiting_for(w.coordinator, now=w.now).publications == []
    _sign_all(w.statement, (w.sig_c, w.c), when=w.now)
    waiting = waiting_for(w.coordinator, now=w.now)
    assert [s.id for s in waiting.publications] == [w.statement.id] and len(waiting) == 1
    assert waiting_for(w.del_b, now=w.now).publications == []  # only the coordinator publishes


def test_the_coordinator_is_asked_to_decide_amendments_the_rule_allows(w):
    """With the coordinator rule every open amendment can be decided; a decided one no longer waits."""
    first = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    second = propose(w, w.del_c, w.c, "The harbour stays open.", paragraph_id=w.p2, minutes=2)
    assert [a.id for a in waiting_for(w.coordinator, now=w.now).decisions] == [first.id, second.id]
    amending.reject(second, w.coordinator, reason="Not needed.", now=w.now)
    db.session.commit()
    assert [a.id for a in waiting_for(w.coordinator, now=w.now).decisions] == [first.id]
    assert waiting_for(w.del_b, now=w.now).decisions == []


def test_consensus_amendments_wait_for_the_coordinator_only_once_every_organisation_supports(w):
    """Under consensus, an amendment is listed for a decision only when the rule is met."""
    w.statement.decision_rule = "consensus"
    db.session.commit()
    amendment = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    assert waiting_for(w.coordinator, now=w.now).decisions == []
    for user, org in ((w.del_a, w.a), (w.del_b, w.b), (w.del_c, w.c)):
        amending.take_position(amendment, user, org, stance="support", reason="", now=w.now)
    db.session.commit()
    assert [a.id for a in waiting_for(w.coordinator, now=w.now).decisions] == [amendment.id]


def test_a_proposer_is_asked_to_revise_a_conflicted_amendment(w):
    """When an accepted change clashes with mine, revising it waits for me (and for nobody else)."""
    mine = propose(w, w.del_b, w.b, "The harbour must stay open to each worker.")
    theirs = propose(w, w.del_c, w.c, "The harbour must stay open to no worker.", minutes=2)
    amending.accept(theirs, w.coordinator, text_version=None, now=w.now + timedelta(minutes=3))
    db.session.commit()
    db.session.expire_all()
    assert [a.id for a in waiting_for(w.del_b, now=w.now).revisions] == [mine.id]
    assert waiting_for(w.del_c, now=w.now).revisions == []


def test_the_coordinator_is_asked_to_freeze_after_the_amendment_deadline(app):
    """Before the deadline nothing waits; after it, freezing the text does."""
    now = datetime.now(UTC)
    w = make_world(now, deadline=now + timedelta(hours=1))
    assert waiting_for(w.coordinator, now=now).freezes == []
    later = now + timedelta(hours=2)
    assert [s.id for s in waiting_for(w.coordinator, now=later).freezes] == [w.statement.id]


def test_home_page_shows_the_new_kinds_with_their_links(w, app):
    """The coordinator's home page links to publishing; the labels are words, not a stray "?"."""
    signing.freeze(w.statement, w.coordinator, now=w.now)
    db.session.commit()
    _sign_all(w.statement, (w.sig_a, w.a), (w.sig_b, w.b), (w.sig_c, w.c), when=w.now)
    browser = Browser(app.test_client())
    browser.login(w.coordinator.email)
    page = html.unescape(browser.get("/").get_data(as_text=True))
    waiting = page[page.index("Waiting for you"):page.index("Your statements")]
    assert "Every organisation has signed" in waiting and "“On Harbours”" in waiting
    assert f'href="/statements/{w.statement.id}/publish">publish it</a>' in waiting
    assert "Nothing is waiting" not in waiting


def test_signatures_tab_has_a_publish_button_for_the_coordinator_when_all_signed(w, app):
    """The Signatures tab offers Publish to the coordinator once complete; not before, and not to others."""
    signing.freeze(w.statement, w.coordinator, now=w.now)
    db.session.commit()
    coordinator = Browser(app.test_client())
    coordinator.login(w.coordinator.email)
    other = Browser(app.test_client())
    other.login(w.sig_b.email)
    publish_link = f'href="/statements/{w.statement.id}/publish">Publish…</a>'
    _sign_all(w.statement, (w.sig_a, w.a), (w.sig_b, w.b), when=w.now)
    assert publish_link not in coordinator.get(f"/statements/{w.statement.id}/sign").get_data(as_text=True)
    _sign_all(w.statement, (w.sig_c, w.c), when=w.now)
    assert publish_link in coordinator.get(f"/statements/{w.statement.id}/sign").get_data(as_text=True)
    assert publish_link not in other.get(f"/statements/{w.statement.id}/sign").get_data(as_text=True)


# --- freezing a draft directly -------------------------------------------------------------------------


def _draft(app):
    factories.admin()
    a = factories.organisation("Harbour Workers' Union", slug="hwu")
    b = factories.organisation("Green Valley Alliance", slug="gva")
    coordinator = factories.member(a, "delegate")
    statement = factories.statement(coordinator, a, participants=[b], paragraphs=["We agree."])
    db.session.commit()
    return coordinator, statement


def test_a_draft_is_frozen_directly_only_with_the_confirmation(app):
    """Without the confirmation: refused, nothing changes. With it: signing, and the audit trail says so."""
    coordinator, statement = _draft(app)
    now = datetime.now(UTC)
    with pytest.raises(InvalidInput, match="without an amendment round"):
        signing.freeze(statement, coordinator, now=now)
    db.session.rollback()
    assert db.session.get(Statement, statement.id).status == "draft"
    signing.freeze(statement, coordinator, without_amendment_round=True, now=now)
    db.session.commit()
    statement = db.session.get(Statement, statement.id)
    assert statement.status == "signing" and statement.frozen_version.number == 1
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.statement_id == statement.id,
                                                        AuditEntry.action == "frozen")).one()
    assert json.loads(entry.details)["without_amendment_round"] is True


def test_an_amendment_round_freeze_records_no_such_flag_and_closed_phases_still_refuse(w):
    """Freezing after amendments is as before; a frozen statement cannot be frozen again."""
    signing.freeze(w.statement, w.coordinator, without_amendment_round=True, now=w.now)
    db.session.commit()
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "frozen")).one()
    assert "without_amendment_round" not in json.loads(entry.details)
    with pytest.raises(WrongPhase):
        signing.freeze(w.statement, w.coordinator, without_amendment_round=True, now=w.now)


def test_freeze_page_of_a_draft_asks_for_the_confirmation(app):
    """The draft's page links to freezing; the form refuses without the tick (422-style form error) and
    freezes with it."""
    coordinator, statement = _draft(app)
    browser = Browser(app.test_client())
    browser.login(coordinator.email)
    show = browser.get(f"/statements/{statement.id}").get_data(as_text=True)
    assert f'href="/statements/{statement.id}/freeze">Freeze for signing without amendments…</a>' in show
    page = html.unescape(browser.get(f"/statements/{statement.id}/freeze").get_data(as_text=True))
    assert "no amendment round took place" in page
    response = browser.post(f"/statements/{statement.id}/freeze", {})
    assert response.status_code == 200
    assert "Confirm that the organisations agreed on this text" in html.unescape(response.get_data(as_text=True))
    db.session.rollback()
    assert db.session.get(Statement, statement.id).status == "draft"
    response = browser.post(f"/statements/{statement.id}/freeze", {"without_amendment_round": "y"})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Statement, statement.id).status == "signing"


def test_api_freezes_a_draft_with_the_flag(app):
    """The API takes without_amendment_round; without it a draft is a 422."""
    from app.accounts import operations as accounts

    coordinator, statement = _draft(app)
    _, token = accounts.create_api_token(coordinator, "script")
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post(f"/api/v1/statements/{statement.id}/freeze", headers=headers, json={})
    assert response.status_code == 422
    response = client.post(f"/api/v1/statements/{statement.id}/freeze", headers=headers,
                           json={"without_amendment_round": True})
    assert response.status_code == 200 and response.get_json()["status"] == "signing"
