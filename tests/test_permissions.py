"""app.permissions answers every permission question about a statement and an amendment (rules
without the client, on both databases): the expected rights of every kind of viewer in every phase,
and the same answers whether the viewer's roles were counted in the request's query or loaded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.accounts import operations as accounts
from app.amending import operations as amending
from app.extensions import db
from app.models import Amendment, Statement
from app.participation import withdrawals
from app.permissions import NO_RIGHTS, amendment_rights, statement_rights
from tests.matrix_world import PHASES, World


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def world(app):
    built = World(app).build()
    # One more kind of viewer: a signatory of an organisation that withdrew from the amending scene.
    statement = db.session.get(Statement, built.scenes["amending"].statement_id)
    withdrawals.withdraw_organisation(statement, built.sig_tnn, built.tnn, reason="Not for us.", now=now())
    db.session.commit()
    return built


def people(world) -> dict:
    return {"admin": world.users["admin"], "nobody": world.users["nobody"], "delegate": world.users["delegate"],
            "signatory": world.users["signatory"], "other_admin": world.users["other_admin"],
            "coordinator": world.users["coordinator"], "sig_hwu": world.sig_hwu, "withdrawn": world.sig_tnn}


def test_every_viewer_in_every_phase_gets_exactly_their_rights(world):
    """Who may see, edit, propose, sign, withdraw and comment, phase by phase (GVA and TNN take part,
    HWU coordinates; TNN withdrew from the amending scene)."""
    gva, hwu, tnn = world.gva.id, world.hwu.id, world.tnn.id
    for phase in PHASES:
        statement = db.session.get(Statement, world.scenes[phase].statement_id)
        amending_now = phase == "amending"
        rights = {actor: statement_rights(statement, user) for actor, user in people(world).items()}
        assert statement_rights(statement, None) == NO_RIGHTS
        for outsider in ("nobody", "other_admin"):  # DMG is only invited
            seen = rights[outsider]
            assert not (seen.can_view or seen.can_comment or seen.can_propose or seen.delegate_for
                        or seen.signatory_for or seen.withdraw_for), (phase, outsider)
        assert rights["admin"].can_view and not rights["admin"].can_comment and not rights["admin"].can_propose
        coordinator = rights["coordinator"]
        assert coordinator.can_view and coordinator.is_coordinator and coordinator.can_comment
        assert coordinator.can_edit == (phase == "draft") and coordinator.can_open == (phase == "draft")
        assert coordinator.delegate_for == (hwu,) and coordinator.can_propose == amending_now
        assert coordinator.withdraw_for == ()  # the coordinator's organisation does not withdraw
        delegate = rights["delegate"]
        assert delegate.can_view and delegate.is_member and not delegate.is_coordinator and not delegate.can_edit
        assert delegate.delegate_for == (gva,) and delegate.can_propose == amending_now
        assert delegate.signatory_for == () and delegate.withdraw_for == ()
        signatory = rights["signatory"]
        assert signatory.signatory_for == (gva,) and signatory.withdraw_for == (gva,)
        assert signatory.delegate_for == () and not signatory.can_propose
        assert rights["sig_hwu"].signatory_for == (hwu,) and rights["sig_hwu"].withdraw_for == ()
        withdrawn = rights["withdrawn"]
        if amending_now:  # TNN withdrew: its people still read the history, and speak for nobody
            assert withdrawn.can_view and withdrawn.is_member and withdrawn.can_comment
            assert withdrawn.signatory_for == () and withdrawn.withdraw_for == ()
        else:
            assert withdrawn.signatory_for == (tnn,) and withdrawn.withdraw_for == (tnn,)


def test_proposals_close_with_the_deadline(world):
    """A deadline in the past closes proposals for everyone, and nothing else."""
    statement = db.session.get(Statement, world.scenes["amending"].statement_id)
    statement.amendment_deadline = now() + timedelta(days=1)
    delegate = world.users["delegate"]
    before = statement_rights(statement, delegate, now=now())
    after = statement_rights(statement, delegate, now=now() + timedelta(days=2))
    assert before.can_propose and before.amendments_open
    assert not after.can_propose and not after.amendments_open
    assert (after.can_view, after.delegate_for, after.can_comment) == (True, before.delegate_for, True)
    db.session.rollback()


def test_counted_roles_give_the_same_answers_as_loaded_memberships(world):
    """A request's user has their roles counted in its one query; the answers never differ from those
    the memberships give."""
    for phase in PHASES:
        statement = db.session.get(Statement, world.scenes[phase].statement_id)
        for actor, user in people(world).items():
            loaded = statement_rights(statement, user)
            db.session.expire_all()
            counted = accounts.load_for_request(user.id)
            assert counted.__dict__["counted_roles"] == {(m.organisation_id, m.role) for m in user.memberships}
            statement = db.session.get(Statement, world.scenes[phase].statement_id)
            assert statement_rights(statement, counted) == loaded, (phase, actor)
            del counted.counted_roles


def test_amendment_rights_follow_its_proposer_status_and_positions(world):
    """The proposer edits until a position is taken and withdraws while undecided; the coordinator
    decides; delegates record positions and co-sponsor for organisations not already behind it."""
    scene = world.scenes["amending"]
    statement = db.session.get(Statement, scene.statement_id)
    amendment = db.session.get(Amendment, scene.amendment_id)
    delegate, coordinator, spare = world.users["delegate"], world.users["coordinator"], world.spare
    mine = amendment_rights(amendment, statement, delegate)
    assert mine.can_edit and mine.can_withdraw and not mine.can_decide
    assert mine.position_for == (world.gva.id,) and mine.sponsor_for == ()  # GVA proposed it
    chair = amendment_rights(amendment, statement, coordinator)
    assert chair.can_decide and not chair.can_edit and chair.sponsor_for == (world.hwu.id,)
    assert not amendment_rights(amendment, statement, spare).can_edit  # same organisation, not the proposer
    amending.take_position(amendment, coordinator, world.hwu, "support", "", now=now())
    db.session.commit()
    amendment = db.session.get(Amendment, scene.amendment_id)
    assert not amendment_rights(amendment, statement, delegate).can_edit  # a position was taken
    assert amendment_rights(amendment, statement, delegate).can_withdraw
    for phase in ("signing", "published"):
        frozen = db.session.get(Statement, world.scenes[phase].statement_id)
        closed = db.session.get(Amendment, world.scenes[phase].amendment_id)
        assert amendment_rights(closed, frozen, coordinator).can_decide is False
        assert amendment_rights(closed, frozen, delegate).position_for == ()
