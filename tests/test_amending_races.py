"""Two coordinators accept two amendments of the same paragraph at the same moment, from two processes."""

from __future__ import annotations

import multiprocessing as mp

from sqlalchemy import select

from app.amending import operations as amending
from app.extensions import db
from app.models import Amendment, Revision, Statement
from tests import factories

SPAWN = mp.get_context("spawn")


def _accept_in_process(database_url: str, amendment_id: int, coordinator_id: int, text_version: int,
                       barrier, results) -> None:
    from datetime import UTC, datetime

    from app import create_app
    from app.errors import ConcordError
    from app.extensions import db
    from app.models import Amendment, User
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        amendment = db.session.get(Amendment, amendment_id)
        user = db.session.get(User, coordinator_id)
        db.session.commit()  # end the read; the rule takes its own lock
        barrier.wait(timeout=60)
        try:
            amending.accept(amendment, user, text_version=text_version, now=datetime.now(UTC))
            db.session.commit()
            results.put((amendment_id, "accepted"))
        except ConcordError as exc:
            db.session.rollback()
            results.put((amendment_id, f"refused: {exc.message}"))


def test_concurrent_accepts_on_one_paragraph_apply_exactly_one(app, now):
    """Of two simultaneous accepts on one paragraph one applies; the other is rebased or conflicted."""
    org = factories.organisation(slug="hwu")
    other = factories.organisation(slug="gva")
    coordinator = factories.member(org, "delegate")
    delegate = factories.member(other, "delegate")
    statement = factories.statement(coordinator, org, participants=[other],
                                    paragraphs=["The heat is rising in every city we know."])
    amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=now)
    paragraph = statement.paragraphs[0]
    first = amending.propose(statement, coordinator, org, kind="modify", paragraph_id=paragraph.id,
                             text="The heat is rising fast in every city we know.", now=now)
    second = amending.propose(statement, delegate, other, kind="modify", paragraph_id=paragraph.id,
                              text="The heat is rising in every town we know.", now=now)
    db.session.commit()
    ids = [(first.id, first.text_version), (second.id, second.text_version)]
    url, coordinator_id, paragraph_id, statement_id = (
        app.config["SQLALCHEMY_DATABASE_URI"], coordinator.id, paragraph.id, statement.id)
    db.session.remove()

    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    workers = [SPAWN.Process(target=_accept_in_process,
                             args=(url, amendment_id, coordinator_id, version, barrier, results))
               for amendment_id, version in ids]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    outcome = dict(results.get(timeout=5) for _ in workers)

    accepted = [a for a, result in outcome.items() if result == "accepted"]
    assert len(accepted) == 1, outcome
    loser = next(a for a in outcome if a not in accepted)
    assert db.session.get(Amendment, loser).status in ("rebased", "conflicted")
    revisions = db.session.scalars(select(Revision).where(Revision.paragraph_id == paragraph_id)
                                   .order_by(Revision.id)).all()
    assert len(revisions) == 2  # the original and exactly one accepted change
    assert revisions[1].parent_id == revisions[0].id
    assert revisions[1].amendment_id == accepted[0]
    assert db.session.get(Statement, statement_id).version_count == 2  # v1 and the one accepted
