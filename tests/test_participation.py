"""Inviting organisations to a statement; accepting, declining, joining as a new organisation (rules).

Runs on SQLite and PostgreSQL through the ``app`` fixture, without the client.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import operations as accounts
from app.amending import operations as amending
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound, WrongPhase
from app.extensions import db
from app.models import Notification, Organisation, OutboxMessage, StatementInvitation, User
from app.participation import invitations as participation
from app.signing import operations as signing
from tests import factories
from tests.test_notifications import make_world, notes


@pytest.fixture
def w(app, now):
    return make_world(now)


def invite(w, **kw) -> StatementInvitation:
    invitation = participation.invite_organisation(w.statement, w.coordinator, now=w.now, **kw)
    db.session.commit()
    return invitation


def fresh_statement(w):
    db.session.expire_all()
    return db.session.get(type(w.statement), w.statement.id)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_invite_tells_the_organisations_admins_and_delegates(w):
    """Inviting an organisation on the platform notifies its admins and delegates; it is not yet a participant."""
    signatory = factories.member(w.outside, "signatory")
    invitation = invite(w, organisation=w.outside)
    assert invitation.status == "pending" and invitation.contact_email is None
    told = {n.user_id: n for n in notes("invitation")}
    assert set(told) == {w.admin_out.id, w.del_out.id}
    assert signatory.id not in told
    assert told[w.del_out.id].path == f"/statement-invitations/{invitation.id}"
    assert count(OutboxMessage) == 2
    assert w.outside not in fresh_statement(w).participant_organisations


def test_only_the_coordinator_invites(w):
    """A delegate of a participant cannot invite; nothing is written."""
    with pytest.raises(NotAllowed):
        participation.invite_organisation(w.statement, w.del_b, organisation=w.outside, now=w.now)
    db.session.rollback()
    assert count(StatementInvitation) == 0 and count(Notification) == 0


def test_no_invitations_once_frozen(w):
    """After the freeze the statement takes no new organisations."""
    signing.freeze(w.statement, w.coordinator, now=w.now)
    db.session.commit()
    with pytest.raises(WrongPhase):
        participation.invite_organisation(w.statement, w.coordinator, organisation=w.outside, now=w.now)
    db.session.rollback()
    assert count(StatementInvitation) == 0


def test_an_organisation_is_not_invited_twice_nor_when_it_takes_part(w):
    """A second pending invitation and an invitation of a participant are refused."""
    invite(w, organisation=w.outside)
    with pytest.raises(Conflict, match="already invited"):
        participation.invite_organisation(w.statement, w.coordinator, organisation=w.outside, now=w.now)
    db.session.rollback()
    with pytest.raises(Conflict, match="already part"):
        participation.invite_organisation(w.statement, w.coordinator, organisation=w.b, now=w.now)
    db.session.rollback()
    invite(w, contact_email="Contact@Example.NET")
    with pytest.raises(Conflict, match="already invited"):
        participation.invite_organisation(w.statement, w.coordinator, contact_email="contact@example.net",
                                          now=w.now)
    db.session.rollback()
    assert count(StatementInvitation) == 2


def test_invite_needs_exactly_one_of_organisation_and_email(w):
    """Neither or both is a clear error; a malformed e-mail too."""
    for kw in ({}, {"organisation": w.outside, "contact_email": "x@example.net"}):
        with pytest.raises(InvalidInput):
            participation.invite_organisation(w.statement, w.coordinator, now=w.now, **kw)
        db.session.rollback()
    with pytest.raises(InvalidInput):
        participation.invite_organisation(w.statement, w.coordinator, contact_email="not an email", now=w.now)
    db.session.rollback()
    assert count(StatementInvitation) == 0


def test_accepting_makes_the_organisation_a_participant_that_can_propose(w):
    """Accepted: the organisation takes part, the coordinator is told, its delegate proposes amendments."""
    invitation = invite(w, organisation=w.outside)
    with pytest.raises(NotAllowed):  # not a participant yet
        amending.propose(w.statement, w.del_out, w.outside, kind="modify", paragraph_id=w.p1,
                         text="The harbour stays open.", now=w.now)
    db.session.rollback()
    participation.respond(invitation, w.del_out, accept=True, now=w.now + timedelta(minutes=1))
    db.session.commit()
    statement = fresh_statement(w)
    assert statement.participant_organisations[-1].id == w.outside.id
    assert db.session.get(StatementInvitation, invitation.id).status == "accepted"
    assert [n.user_id for n in notes("invitation") if "accepted" in n.subject] == [w.coordinator.id]
    amendment = amending.propose(statement, w.del_out, w.outside, kind="modify", paragraph_id=w.p1,
                                 text="The harbour stays open.", now=w.now + timedelta(minutes=2))
    db.session.commit()
    assert amendment.organisation_id == w.outside.id


def test_declining_keeps_the_organisation_out(w):
    """Declined: not a participant; answering again is refused."""
    invitation = invite(w, organisation=w.outside)
    participation.respond(invitation, w.admin_out, accept=False, now=w.now)
    db.session.commit()
    assert w.outside.id not in {o.id for o in fresh_statement(w).participant_organisations}
    assert db.session.get(StatementInvitation, invitation.id).status == "declined"
    with pytest.raises(Conflict, match="already declined"):
        participation.respond(invitation, w.admin_out, accept=True, now=w.now)
    db.session.rollback()
    assert w.outside.id not in {o.id for o in fresh_statement(w).participant_organisations}


def test_only_admins_and_delegates_of_the_invited_organisation_answer(w):
    """A signatory of it, the coordinator or a member of another organisation cannot answer."""
    invitation = invite(w, organisation=w.outside)
    signatory = factories.member(w.outside, "signatory")
    for user in (signatory, w.coordinator, w.del_b):
        with pytest.raises(NotAllowed):
            participation.respond(invitation, user, accept=True, now=w.now)
        db.session.rollback()
    assert db.session.get(StatementInvitation, invitation.id).status == "pending"
    assert len(fresh_statement(w).participant_organisations) == 3


def test_accepting_after_the_freeze_is_refused_but_declining_is_not(w):
    """A frozen statement cannot be joined through an older invitation."""
    invitation = invite(w, organisation=w.outside)
    signing.freeze(w.statement, w.coordinator, now=w.now)
    db.session.commit()
    with pytest.raises(WrongPhase):
        participation.respond(invitation, w.del_out, accept=True, now=w.now)
    db.session.rollback()
    assert len(fresh_statement(w).participant_organisations) == 3
    participation.respond(invitation, w.del_out, accept=False, now=w.now)
    db.session.commit()


def test_contact_invitation_mails_nobody_with_an_account_and_joins_as_a_new_organisation(w):
    """The contact creates the organisation and an admin/delegate/signatory account, which takes part."""
    invitation = invite(w, contact_email="contact@newgroup.example")
    assert count(Notification) == 0  # a contact has no account: no notification
    payload = {"s": invitation.id, "n": invitation.nonce}
    assert participation.contact_invitation(payload, now=w.now).id == invitation.id
    org, user = participation.join_as_new_organisation(
        invitation, organisation_name="New Group for Harbours", short_name="NGH", country="Kenya",
        person_name="Nia Contact", password=factories.PASSWORD, now=w.now + timedelta(minutes=1))
    db.session.commit()
    db.session.expire_all()
    org = db.session.get(Organisation, org.id)
    user = db.session.get(User, user.id)
    assert user.email == "contact@newgroup.example"
    assert accounts.authenticate("contact@newgroup.example", factories.PASSWORD).id == user.id
    assert set(user.roles_in(org)) == {"delegate", "signatory", "admin"}
    statement = fresh_statement(w)
    assert statement.participant_organisations[-1].id == org.id
    stored = db.session.get(StatementInvitation, invitation.id)
    assert (stored.status, stored.organisation_id, stored.decided_by_id) == ("accepted", org.id, user.id)
    assert [n.user_id for n in notes("invitation")] == [w.coordinator.id]
    assert amending.propose(statement, user, org, kind="modify", paragraph_id=w.p1,
                            text="The harbour stays open.", now=w.now + timedelta(minutes=2))


def test_a_contact_link_works_once(w):
    """The second use of the link is refused; nothing more is created."""
    invitation = invite(w, contact_email="contact@newgroup.example")
    payload = {"s": invitation.id, "n": invitation.nonce}
    participation.join_as_new_organisation(
        invitation, organisation_name="New Group", short_name="", country="", person_name="Nia",
        password=factories.PASSWORD, now=w.now)
    db.session.commit()
    orgs_before = count(Organisation)
    with pytest.raises(Conflict, match="already been used"):
        participation.contact_invitation(payload, now=w.now)
    with pytest.raises(Conflict):
        participation.join_as_new_organisation(
            db.session.get(StatementInvitation, invitation.id), organisation_name="Another Group",
            short_name="", country="", person_name="Other", password=factories.PASSWORD, now=w.now)
    db.session.rollback()
    assert count(Organisation) == orgs_before


@pytest.mark.parametrize("payload", [
    None, "x", {"s": "1", "n": "x"}, {"s": 999999, "n": "x"}, {"n": "x"},
])
def test_a_tampered_contact_payload_is_not_found(w, payload):
    """Unknown ids, wrong shapes and wrong nonces are all 'not found'."""
    invite(w, contact_email="contact@newgroup.example")
    with pytest.raises(NotFound):
        participation.contact_invitation(payload, now=w.now)


def test_a_wrong_nonce_is_not_found(w):
    """The right id with another nonce does not open the invitation."""
    invitation = invite(w, contact_email="contact@newgroup.example")
    with pytest.raises(NotFound):
        participation.contact_invitation({"s": invitation.id, "n": "0" * 32}, now=w.now)


def test_an_organisation_invitation_cannot_be_used_as_a_contact_link(w):
    """An invitation of an organisation on the platform has no contact link."""
    invitation = invite(w, organisation=w.outside)
    with pytest.raises(NotFound):
        participation.contact_invitation({"s": invitation.id, "n": invitation.nonce}, now=w.now)


def test_a_frozen_statement_refuses_joining(w):
    """After the freeze the contact's link creates nothing."""
    invitation = invite(w, contact_email="contact@newgroup.example")
    signing.freeze(w.statement, w.coordinator, now=w.now)
    db.session.commit()
    orgs_before, users_before = count(Organisation), count(User)
    with pytest.raises(WrongPhase):
        participation.join_as_new_organisation(
            invitation, organisation_name="New Group", short_name="", country="", person_name="Nia",
            password=factories.PASSWORD, now=w.now)
    db.session.rollback()
    assert (count(Organisation), count(User)) == (orgs_before, users_before)
    assert db.session.get(StatementInvitation, invitation.id).status == "pending"
    assert len(fresh_statement(w).participant_organisations) == 3
