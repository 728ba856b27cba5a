"""Final signatures and publish clicks arriving at the same instant from several processes (promise 4).

Two worker processes (spawned, each with its own app and database connection)
stay up for the whole test and run several rounds: in each round the parent
prepares a fresh statement, hands each worker its action, and both act after a
shared barrier. Whatever the interleaving, there is exactly one publication or
one valid signature, and the loser gets a clean domain error (reported, exit
code 0), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import multiprocessing as mp
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import func, select

from app import audit
from app.amending import operations as amending
from app.extensions import db
from app.models import AuditEntry, Publication, Signature, Statement
from app.publishing import publication as publishing
from app.publishing import sealing
from app.publishing.verify import verify_manifest
from app.signing import operations as signing
from tests import factories

SPAWN = mp.get_context("spawn")
ROUNDS = 5


def _worker(database_url: str, instance_path: str, tasks, barrier, results) -> None:
    """Run actions handed over by the parent until it sends None; report each outcome."""
    from datetime import UTC, datetime

    from app import create_app
    from app.errors import ConcordError
    from app.extensions import db
    from app.models import Organisation, Statement, User
    from app.signing import operations as signing
    from config import TestConfig
    from tests.factories import PASSWORD

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, INSTANCE_PATH=instance_path)
    with app.app_context():
        while (task := tasks.get(timeout=120)) is not None:
            action, statement_id, user_id, organisation_id, sha = task
            statement = db.session.get(Statement, statement_id)
            user = db.session.get(User, user_id)
            organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
            user.memberships  # noqa: B018 - load the roles before the race, as a request would
            db.session.commit()  # end the reads; the rule takes its own lock
            barrier.wait(timeout=60)
            try:
                now = datetime.now(UTC)
                if action == "sign":
                    signing.sign(statement, user, organisation, signer_name=user.name, signer_title="Chair",
                                 authorised=True, password=PASSWORD, version_sha256=sha, now=now)
                else:
                    publishing.publish(statement, user, publication_date=None, now=now)
                db.session.commit()
                results.put((user_id, "ok", ""))
            except ConcordError as exc:
                db.session.rollback()
                results.put((user_id, type(exc).__name__, exc.message))
            except Exception as exc:  # noqa: BLE001 - a crash is reported to fail the test, not hang it
                db.session.rollback()
                results.put((user_id, "crash", repr(exc)))
        db.session.remove()
        db.engine.dispose()


class Workers:
    """Two long-lived worker processes and the queues to drive them round by round."""

    def __init__(self, app):
        self.barrier = SPAWN.Barrier(2)
        self.results = SPAWN.Queue()
        self.tasks = [SPAWN.Queue(), SPAWN.Queue()]
        self.processes = [
            SPAWN.Process(target=_worker, args=(app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path,
                                                queue, self.barrier, self.results))
            for queue in self.tasks
        ]
        for process in self.processes:
            process.start()

    def race(self, *tasks) -> list[tuple[int, str, str]]:
        """Hand one task to each worker; wait for both outcomes (acting user id, error or "ok", message)."""
        db.session.commit()  # the parent holds no transaction while the workers race
        for queue, task in zip(self.tasks, tasks, strict=True):
            queue.put(task)
        return [self.results.get(timeout=90) for _ in tasks]

    def stop(self) -> None:
        for queue in self.tasks:
            queue.put(None)
        for process in self.processes:
            process.join(timeout=60)
            assert process.exitcode == 0, f"a worker process exited with {process.exitcode}"


def _world(*, auto_publish: bool, n: int):
    """Three organisations, a statement frozen for signing; nobody has signed yet."""
    a = factories.organisation(f"Harbour Workers' Union {n}", slug=f"hwu-{n}")
    b = factories.organisation(f"Green Valley Alliance {n}", slug=f"gva-{n}")
    c = factories.organisation(f"Coastal Tenants Network {n}", slug=f"ctn-{n}")
    coordinator = factories.member(a, "delegate")
    w = SimpleNamespace(
        a=a, b=b, c=c, coordinator=coordinator,
        sig_a=factories.member(a, "signatory"), sig_b=factories.member(b, "signatory"),
        sig_c=factories.member(c, "signatory"), sig_c2=factories.member(c, "signatory"),
        statement=factories.statement(coordinator, a, participants=[b, c], title=f"Round {n} Statement"),
    )
    w.now = datetime.now(UTC) - timedelta(minutes=5)
    amending.open_for_amendments(w.statement, coordinator, rule="coordinator", deadline=None, now=w.now)
    signing.freeze(w.statement, coordinator, auto_publish=auto_publish, now=w.now)
    db.session.commit()
    w.sha = w.statement.frozen_version.sha256
    return w


def _sign_now(w, user, org) -> None:
    signing.sign(w.statement, user, org, signer_name=user.name, signer_title="Chair", authorised=True,
                 password=factories.PASSWORD, version_sha256=w.sha, now=w.now)
    db.session.commit()


def _count(model, statement_id: int, **where) -> int:
    query = select(func.count()).select_from(model).where(model.statement_id == statement_id)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


def _assert_published_once(w) -> Publication:
    """One publication row, one "published" audit entry, status published, a manifest that verifies."""
    db.session.expire_all()
    statement_id = w.statement.id
    assert _count(Publication, statement_id) == 1
    assert _count(AuditEntry, statement_id, action="published") == 1
    assert db.session.get(Statement, statement_id).status == "published"
    publication = db.session.scalar(select(Publication).where(Publication.statement_id == statement_id))
    manifest = json.loads(publication.manifest)
    assert verify_manifest(manifest, sealing.public_key()) == []
    assert len(manifest["signatures"]) == 3
    assert audit.verify(statement_id) == (_count(AuditEntry, statement_id), [])
    return publication


def test_two_final_signatures_at_once_publish_exactly_once(app):
    """With auto_publish, B and C sign at the same instant: both signatures count, one publication."""
    workers = Workers(app)
    try:
        for n in range(ROUNDS):
            w = _world(auto_publish=True, n=n)
            _sign_now(w, w.sig_a, w.a)
            outcome = workers.race(("sign", w.statement.id, w.sig_b.id, w.b.id, w.sha),
                                   ("sign", w.statement.id, w.sig_c.id, w.c.id, w.sha))
            assert sorted(outcome) == sorted([(w.sig_b.id, "ok", ""), (w.sig_c.id, "ok", "")]), \
                f"round {n}: {outcome}"
            _assert_published_once(w)
            assert _count(Signature, w.statement.id, status="valid") == 3
            assert _count(AuditEntry, w.statement.id, action="signed") == 3
    finally:
        workers.stop()


def test_two_publish_clicks_at_once_publish_exactly_once(app):
    """The coordinator's two publish requests race: one publishes, the other is told it is published."""
    workers = Workers(app)
    try:
        for n in range(ROUNDS):
            w = _world(auto_publish=False, n=n)
            for user, org in ((w.sig_a, w.a), (w.sig_b, w.b), (w.sig_c, w.c)):
                _sign_now(w, user, org)
            task = ("publish", w.statement.id, w.coordinator.id, None, None)
            outcomes = sorted((kind, message) for _, kind, message in workers.race(task, task))
            assert outcomes[0][0] == "Conflict", f"round {n}: {outcomes}"
            assert "already published" in outcomes[0][1]
            assert outcomes[1] == ("ok", ""), f"round {n}: {outcomes}"
            _assert_published_once(w)
    finally:
        workers.stop()


def test_two_signatories_of_one_organisation_sign_at_once(app):
    """Two signatories of C sign at the same instant: one valid signature, the other AlreadySigned."""
    workers = Workers(app)
    try:
        for n in range(ROUNDS):
            w = _world(auto_publish=False, n=n)
            outcome = {user_id: (kind, message) for user_id, kind, message in workers.race(
                ("sign", w.statement.id, w.sig_c.id, w.c.id, w.sha),
                ("sign", w.statement.id, w.sig_c2.id, w.c.id, w.sha))}
            kinds = sorted(kind for kind, _ in outcome.values())
            assert kinds == ["AlreadySigned", "ok"], f"round {n}: {outcome}"
            loser_message = next(m for kind, m in outcome.values() if kind == "AlreadySigned")
            assert w.c.name in loser_message
            db.session.expire_all()
            rows = db.session.scalars(select(Signature).where(Signature.statement_id == w.statement.id)).all()
            assert [(s.organisation_id, s.status) for s in rows] == [(w.c.id, "valid")]
            winner = next(uid for uid, (kind, _) in outcome.items() if kind == "ok")
            assert rows[0].user_id == winner
            assert _count(AuditEntry, w.statement.id, action="signed") == 1
            assert audit.verify(w.statement.id)[1] == []
    finally:
        workers.stop()
