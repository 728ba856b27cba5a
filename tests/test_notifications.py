"""Notification rules: who is told about what, in the app and through the outbox (no client).

Every event writes an in-app Notification and, unless the person turned that
kind off, an OutboxMessage, in the transaction of the change; never for the
person who acted. Runs on SQLite and PostgreSQL through the ``app`` fixture.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.amending import operations as amending
from app.extensions import db
from app.models import Notification, OutboxMessage
from app.notifications import events
from app.notifications.waiting import unread_count, waiting_for
from app.participation import invitations as participation
from app.publishing import publication as publishing
from app.signing import operations as signing
from tests import factories

P1 = "The harbour must stay open to every worker."
P2 = "Ferries run every hour between the islands."


def make_world(now: datetime, *, deadline: datetime | None = None) -> SimpleNamespace:
    """Three participating organisations (A coordinates) open for amendments, and an outsider."""
    a = factories.organisation("Harbour Workers' Union", slug="hwu", short_name="HWU")
    b = factories.organisation("Green Valley Alliance", slug="gva", short_name="GVA")
    c = factories.organisation("Coastal Tenants Network", slug="ctn")
    outside = factories.organisation("Outside Collective", slug="out")
    coordinator = factories.member(a, "delegate", name="Cora Coordinator")
    w = SimpleNamespace(
        now=now, a=a, b=b, c=c, outside=outside, coordinator=coordinator,
        del_a=factories.member(a, "delegate", name="Abe Delegate"),
        del_b=factories.member(b, "delegate", name="Bea Delegate"),
        del_c=factories.member(c, "delegate", name="Cal Delegate"),
        sig_a=factories.member(a, "signatory", name="Ada Signer"),
        sig_b=factories.member(b, "signatory", name="Ben Signer"),
        sig_c=factories.member(c, "signatory", name="Cleo Signer"),
        admin_c=factories.member(c, "admin", name="Cid Admin"),
        del_out=factories.member(outside, "delegate", name="Oz Outsider"),
        admin_out=factories.member(outside, "admin", name="Ola Outsider"),
        statement=factories.statement(coordinator, a, participants=[b, c], title="On Harbours",
                                      paragraphs=[P1, P2]),
    )
    amending.open_for_amendments(w.statement, coordinator, rule="coordinator", deadline=deadline, now=now)
    db.session.commit()
    w.p1, w.p2 = (p.id for p in w.statement.paragraphs)
    return w


def propose(w, user, org, text: str, paragraph_id: int | None = None, minutes: int = 1):
    amendment = amending.propose(w.statement, user, org, kind="modify", paragraph_id=paragraph_id or w.p1,
                                 text=text, now=w.now + timedelta(minutes=minutes))
    db.session.commit()
    return amendment


def notes(kind: str | None = None) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query))


def outbox(kind: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def told(kind: str) -> set[int]:
    """Ids of the people who got an in-app notification of ``kind``; each at most once."""
    ids = [n.user_id for n in notes(kind)]
    assert len(ids) == len(set(ids)), "someone was told twice"
    return set(ids)


def mailed(kind: str) -> set[int]:
    return {m.user_id for m in outbox(kind)}


def ids(*users) -> set[int]:
    return {u.id for u in users}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def w(app, now):
    return make_world(now)


# --- amendments ---------------------------------------------------------------------------


def test_new_amendment_tells_delegates_of_participants_and_the_coordinator_never_the_proposer(w):
    """A new amendment reaches the other participants' delegates and the coordinator, not its proposer."""
    amendment = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    expected = ids(w.coordinator, w.del_a, w.del_c)
    assert told("amendment_new") == expected
    assert mailed("amendment_new") == expected
    for note in notes("amendment_new"):
        assert note.path == f"/amendments/{amendment.id}"
        assert note.statement_id == w.statement.id
        assert "On Harbours" in note.subject and note.read_at is None
    for message in outbox("amendment_new"):
        assert message.status == "pending" and message.mode == "immediate"
        assert message.due_at == w.now + timedelta(minutes=1)
        assert message.to_email == db.session.get(type(w.del_b), message.user_id).email
        assert message.notification_id is not None and message.path == f"/amendments/{amendment.id}"


def test_the_coordinator_proposing_is_not_told_of_their_own_amendment(w):
    """When the coordinator proposes, the delegates are told and the coordinator is not."""
    propose(w, w.coordinator, w.a, "The harbour must stay open to all workers.")
    assert told("amendment_new") == ids(w.del_a, w.del_b, w.del_c)


def test_a_position_tells_the_proposer_only(w):
    """Another organisation's position on my amendment reaches me, nobody else."""
    amendment = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    amending.take_position(amendment, w.del_c, w.c, "oppose", "Too wordy.", now=w.now + timedelta(minutes=2))
    db.session.commit()
    assert told("amendment_activity") == ids(w.del_b)
    assert mailed("amendment_activity") == ids(w.del_b)
    note = notes("amendment_activity")[0]
    assert "Coastal Tenants Network opposes" in note.subject and note.body == "Too wordy."
    assert note.path == f"/amendments/{amendment.id}"


def test_a_comment_tells_the_proposer_but_not_when_they_comment_themselves(w):
    """A comment reaches the proposer with a link to it; the proposer's own comment tells nobody."""
    amendment = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    amending.add_comment(amendment, w.del_b, "Here is why.", now=w.now + timedelta(minutes=2))
    db.session.commit()
    assert told("amendment_activity") == set()
    comment = amending.add_comment(amendment, w.coordinator, "Why?", now=w.now + timedelta(minutes=3))
    db.session.commit()
    assert told("amendment_activity") == ids(w.del_b)
    assert notes("amendment_activity")[0].path == f"/amendments/{amendment.id}#c-{comment.id}"


def test_accept_and_reject_tell_the_proposer(w):
    """Accepting and rejecting each reach the proposer of that amendment only."""
    first = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    second = propose(w, w.del_c, w.c, "Ferries run every half hour between the islands.", paragraph_id=w.p2)
    amending.accept(first, w.coordinator, text_version=first.text_version, now=w.now + timedelta(minutes=5))
    amending.reject(second, w.coordinator, reason="Too costly.", now=w.now + timedelta(minutes=5))
    db.session.commit()
    decided = notes("amendment_decided")
    assert {(n.user_id, n.subject) for n in decided} == {
        (w.del_b.id, f"Your amendment #{first.id} was accepted"),
        (w.del_c.id, f"Your amendment #{second.id} was rejected"),
    }
    assert mailed("amendment_decided") == ids(w.del_b, w.del_c)
    assert w.coordinator.id not in told("amendment_decided")


def test_rebased_and_conflicted_amendments_tell_their_proposers(w):
    """Accepting one amendment tells the proposers of the siblings it rebased or put in conflict."""
    accepted = propose(w, w.del_b, w.b, "The harbour must stay open to every dock worker.")
    rebased = propose(w, w.del_c, w.c, "The port must stay open to every worker.")
    conflicted = propose(w, w.del_a, w.a, "The harbour must stay open to every sailor.")
    amending.accept(accepted, w.coordinator, text_version=accepted.text_version,
                    now=w.now + timedelta(minutes=5))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(type(rebased), rebased.id).status == "rebased"
    assert db.session.get(type(conflicted), conflicted.id).status == "conflicted"
    by_user = {n.user_id: n for n in notes("amendment_decided")}
    assert set(by_user) == ids(w.del_b, w.del_c, w.del_a)
    assert "rebased" in by_user[w.del_c.id].subject and by_user[w.del_c.id].path == f"/amendments/{rebased.id}"
    assert "conflicts" in by_user[w.del_a.id].subject
    assert by_user[w.del_a.id].path == f"/amendments/{conflicted.id}"
    assert mailed("amendment_decided") == ids(w.del_b, w.del_c, w.del_a)


# --- signing --------------------------------------------------------------------------------------


def freeze(w, minutes: int = 10, **kw):
    signing.freeze(w.statement, w.coordinator, now=w.now + timedelta(minutes=minutes), **kw)
    db.session.commit()


def sign(w, user, org, minutes: int = 11):
    db.session.expire_all()
    statement = db.session.get(type(w.statement), w.statement.id)
    signing.sign(statement, user, org, signer_name=user.name, signer_title="Secretary", authorised=True,
                 password=factories.PASSWORD, version_sha256=statement.frozen_version.sha256,
                 now=w.now + timedelta(minutes=minutes))
    db.session.commit()


def test_freeze_asks_the_signatories_for_their_signature(w):
    """Freezing tells every participating organisation's signatories, and nobody else."""
    freeze(w)
    expected = ids(w.sig_a, w.sig_b, w.sig_c)
    assert told("signature_requested") == expected
    assert mailed("signature_requested") == expected
    assert {n.path for n in notes("signature_requested")} == {f"/statements/{w.statement.id}/sign"}


def test_reopen_tells_the_people_whose_signatures_were_voided(w):
    """Reopening tells those who had signed, not the signatories who had not."""
    freeze(w)
    sign(w, w.sig_b, w.b)
    signing.reopen(w.statement, w.coordinator, now=w.now + timedelta(minutes=20))
    db.session.commit()
    assert told("signature_voided") == ids(w.sig_b)
    assert mailed("signature_voided") == ids(w.sig_b)


def test_publish_tells_the_participants_members_but_not_the_publisher(w):
    """Publishing tells the delegates, signatories and admins of every participant, not the coordinator."""
    freeze(w)
    for user, org in ((w.sig_a, w.a), (w.sig_b, w.b), (w.sig_c, w.c)):
        sign(w, user, org)
    publication = publishing.publish(w.statement, w.coordinator, publication_date=None,
                                  now=w.now + timedelta(minutes=30))
    db.session.commit()
    expected = ids(w.del_a, w.del_b, w.del_c, w.sig_a, w.sig_b, w.sig_c, w.admin_c)
    assert told("published") == expected
    assert mailed("published") == expected
    assert {n.path for n in notes("published")} == {f"/p/{publication.slug}"}


# --- preferences --------------------------------------------------------------------------------


def test_off_keeps_the_in_app_notification_but_writes_no_email(w):
    """A person who turned a kind off still sees it in the app and gets no outbox row."""
    events.set_preferences(w.del_c, {"amendment_new": "off"})
    db.session.commit()
    propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    assert w.del_c.id in told("amendment_new")
    assert w.del_c.id not in mailed("amendment_new")
    assert w.coordinator.id in mailed("amendment_new")


@pytest.mark.parametrize(("hour", "due"), [
    (12, datetime(2026, 3, 2, 7, 0, tzinfo=UTC)),
    (6, datetime(2026, 3, 1, 7, 0, tzinfo=UTC)),
    (7, datetime(2026, 3, 2, 7, 0, tzinfo=UTC)),
])
def test_digest_rows_are_due_at_the_next_seven_oclock_utc(app, hour, due):
    """A digest preference writes an outbox row in digest mode, due at the next 07:00 UTC."""
    w = make_world(datetime(2026, 3, 1, 5, 0, tzinfo=UTC))
    events.set_preferences(w.del_c, {"amendment_new": "digest"})
    db.session.commit()
    amending.propose(w.statement, w.del_b, w.b, kind="modify", paragraph_id=w.p1,
                     text="The harbour must stay open to every single worker.",
                     now=datetime(2026, 3, 1, hour, 0, tzinfo=UTC))
    db.session.commit()
    rows = {m.user_id: m for m in outbox("amendment_new")}
    assert rows[w.del_c.id].mode == "digest" and rows[w.del_c.id].due_at == due
    assert rows[w.coordinator.id].mode == "immediate"


def test_preferences_default_to_immediately_and_refuse_unknown_values(w):
    """Every kind starts as immediately; an unknown kind or mode changes nothing."""
    from app.errors import InvalidInput

    assert set(events.preferences(w.del_b).values()) == {"immediate"}
    events.set_preferences(w.del_b, {"published": "digest", "deadline": "off"})
    db.session.commit()
    events.set_preferences(w.del_b, {"published": "immediate"})
    db.session.commit()
    with pytest.raises(InvalidInput):
        events.set_preferences(w.del_b, {"published": "hourly"})
    db.session.rollback()
    with pytest.raises(InvalidInput):
        events.set_preferences(w.del_b, {"nonsense": "off"})
    db.session.rollback()
    prefs = events.preferences(w.del_b)
    assert prefs["published"] == "immediate" and prefs["deadline"] == "off"
    assert prefs["invitation"] == "immediate"


def test_a_rolled_back_change_leaves_no_notification_and_no_outbox_row(w):
    """Nothing is told about a change that never happened."""
    amending.propose(w.statement, w.del_b, w.b, kind="modify", paragraph_id=w.p1,
                     text="The harbour must stay open to every single worker.", now=w.now)
    assert count(Notification) > 0  # written in the transaction...
    db.session.rollback()
    assert count(Notification) == 0 and count(OutboxMessage) == 0  # ...and gone with it


def test_inactive_people_are_not_told(w):
    """A deactivated account gets neither a notification nor an e-mail."""
    w.del_c.active = False
    db.session.commit()
    propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    assert w.del_c.id not in told("amendment_new")
    assert w.del_c.id not in mailed("amendment_new")


# --- waiting for you, unread count ------------------------------------------------------------


def test_waiting_for_lists_amendments_awaiting_the_organisations_position(w):
    """An open amendment waits for each delegate's organisation until it has taken a position."""
    amendment = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    assert [(a.id, o.id) for a, o in waiting_for(w.del_c, now=w.now).positions] == [(amendment.id, w.c.id)]
    assert waiting_for(w.sig_c, now=w.now).positions == []  # only delegates speak for an organisation
    assert waiting_for(w.del_out, now=w.now).positions == []
    amending.take_position(amendment, w.del_c, w.c, "support", now=w.now + timedelta(minutes=2))
    db.session.commit()
    db.session.expire_all()
    assert waiting_for(w.del_c, now=w.now).positions == []
    amending.reject(amendment, w.coordinator, reason="No.", now=w.now + timedelta(minutes=3))
    db.session.commit()
    db.session.expire_all()
    assert waiting_for(w.coordinator, now=w.now).positions == []  # closed amendments wait for nobody


def test_waiting_for_lists_statements_awaiting_the_users_signature(w):
    """After the freeze a signatory's organisation waits to sign, until it has signed."""
    assert waiting_for(w.sig_b, now=w.now).signatures == []
    freeze(w)
    db.session.expire_all()
    assert [(s.id, o.id) for s, o in waiting_for(w.sig_b, now=w.now).signatures] == [(w.statement.id, w.b.id)]
    assert waiting_for(w.del_b, now=w.now).signatures == []
    sign(w, w.sig_b, w.b)
    db.session.expire_all()
    assert waiting_for(w.sig_b, now=w.now).signatures == []
    assert len(waiting_for(w.sig_c, now=w.now).signatures) == 1


def test_waiting_for_lists_pending_invitations(w):
    """An invitation waits for the invited organisation's admins and delegates until answered."""
    invitation = participation.invite_organisation(w.statement, w.coordinator, organisation=w.outside,
                                                   now=w.now)
    db.session.commit()
    assert [i.id for i in waiting_for(w.admin_out, now=w.now).invitations] == [invitation.id]
    assert [i.id for i in waiting_for(w.del_out, now=w.now).invitations] == [invitation.id]
    assert waiting_for(w.del_b, now=w.now).invitations == []
    assert len(waiting_for(w.admin_out, now=w.now)) == 1
    participation.respond(invitation, w.del_out, accept=False, now=w.now)
    db.session.commit()
    db.session.expire_all()
    assert waiting_for(w.admin_out, now=w.now).invitations == []


def test_unread_count_counts_only_my_unread_notifications(w):
    """The unread count is per person and drops when a notification is read."""
    propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    propose(w, w.del_b, w.b, "Ferries run every half hour between the islands.", paragraph_id=w.p2)
    assert unread_count(w.del_c) == 2
    assert unread_count(w.del_b) == 0
    note = next(n for n in notes() if n.user_id == w.del_c.id)
    note.read_at = w.now
    db.session.commit()
    assert unread_count(w.del_c) == 1
    assert unread_count(w.coordinator) == 2


def test_notify_refuses_an_unknown_kind(w):
    """A typo in an event kind is a programming error, not a silent no-op."""
    with pytest.raises(ValueError):
        events.notify([w.del_b], "amendment_typo", subject="x", body="", path="/", now=w.now)
