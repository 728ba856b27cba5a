"""Races through real servers (issue 8, item 5): two gunicorn servers (2 workers each) on one database.

Threads released together by a Barrier fire JSON API requests at both servers: every organisation's
final signature at once (auto_publish on), accepts of several amendments of one paragraph at once,
and many positions and comments at once. Exactly one publication, no lost update, nothing lost, no
5xx. Runs on SQLite (a temp file) and PostgreSQL (a database of its own). Marked slow.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app import audit
from app.extensions import db
from app.models import Amendment, AuditEntry, Comment, Paragraph, Position, Publication, Revision, Signature, Statement
from app.publishing import sealing
from app.publishing.verify import verify_manifest
from tests import live_server as live

pytestmark = pytest.mark.slow

ORGS = 5
SIGNING_TRIALS_PG = 100
SIGNING_SECONDS_SQLITE = float(os.environ.get("RACE_SECONDS", 60))
ACCEPT_TRIALS = 20
CHATTER_ROUNDS = 10
COMMENTS_EACH = 3
FIGURES: dict[str, str] = {}  # printed at the end of the module (run with -s to see them)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def race(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"http-races-{request.param}")
    with live.database(request.param, tmp) as url:
        app = live.make_app(url, tmp / "instance")
        world = live.World(app, ORGS)
        with live.servers(url, tmp / "instance", tmp) as started:
            world.kind = request.param
            world.ports = [s.port for s in started]
            world.servers = started
            yield world
            for server in started:
                errors = re.findall(r'" 5\d\d ', server.log_text())
                assert not errors, f"server errors in {server.log}:\n{server.log_text()[-3000:]}"
        with app.app_context():
            db.engine.dispose()
    print(f"\n[{request.param}] " + "; ".join(f"{k}: {v}" for k, v in FIGURES.items()))
    FIGURES.clear()


def fire(ports, jobs):
    """Run ``jobs`` ((method, path, token, body), ...) at once, alternating servers; return the answers.

    Each thread opens its connection first, then waits at the barrier, so the requests leave together.
    """
    barrier = threading.Barrier(len(jobs))

    def one(index):
        method, path, token, body = jobs[index]
        conn = http.client.HTTPConnection("127.0.0.1", ports[index % len(ports)], timeout=120)
        try:
            conn.connect()
            barrier.wait(timeout=60)
            return live.send(conn, method, path, token, body)
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(one, range(len(jobs))))


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _signing_trial(w, n: int) -> None:
    statement_id = w.statement(f"Race {n}", [f"We agree on point {n}."])
    status, frozen = live.request(w.ports[n % 2], "POST", f"/statements/{statement_id}/freeze",
                                  w.coordinator_token, {"auto_publish": True})
    assert status == 200, frozen
    assert frozen["signing"]["auto_publish"] is True
    sha = frozen["signing"]["frozen_version"]["sha256"]
    jobs = [("POST", f"/statements/{statement_id}/signatures", token,
             {"organisation": slug, "signer_name": f"Signer {i}", "signer_title": "Chair", "authorised": True,
              "password": live_factories_password(), "version_sha256": sha})
            for i, ((_, token), slug) in enumerate(zip(w.signatories, w.org_slugs, strict=True))]
    answers = fire(w.ports, jobs)
    assert [s for s, _ in answers] == [201] * ORGS, f"trial {n}: {answers}"
    publishing = [a for _, a in answers if a["publication"] is not None]
    assert len(publishing) == 1, f"trial {n}: {len(publishing)} answers report a publication"
    assert publishing[0]["statement_status"] == "published"
    with w.app.app_context():
        assert db.session.get(Statement, statement_id).status == "published"
        assert _count(Publication, Publication.statement_id == statement_id) == 1
        assert _count(Signature, Signature.statement_id == statement_id, Signature.status == "valid") == ORGS
        assert _count(AuditEntry, AuditEntry.statement_id == statement_id, AuditEntry.action == "published") == 1
        assert _count(AuditEntry, AuditEntry.statement_id == statement_id, AuditEntry.action == "signed") == ORGS
        publication = db.session.scalar(select(Publication).where(Publication.statement_id == statement_id))
        manifest = json.loads(publication.manifest)
        assert verify_manifest(manifest, sealing.public_key()) == []
        assert len(manifest["signatures"]) == ORGS
        assert audit.verify(statement_id)[1] == []
        db.session.remove()


def live_factories_password() -> str:
    from tests.factories import PASSWORD

    return PASSWORD


def test_every_final_signature_at_once_publishes_exactly_once(race):
    started = time.monotonic()
    trials = 0
    if race.kind == "postgresql":
        for trials in range(1, SIGNING_TRIALS_PG + 1):
            _signing_trial(race, trials)
    else:
        while time.monotonic() - started < SIGNING_SECONDS_SQLITE:
            trials += 1
            _signing_trial(race, trials)
    FIGURES["publication exactly once"] = (f"{trials}/{trials} trials of {ORGS} simultaneous final signatures "
                                           f"({time.monotonic() - started:.0f} s)")
    assert trials >= 20


# Amendments of one paragraph: two touch different words (the loser is rebased), two the same word as
# the first (conflicted when the first wins). Every accept names the text_version it was shown.
BASE = "The heat is rising in every city we know and the water follows."
EDITS = [
    "The heat is rising fast in every city we know and the water follows.",
    "The heat is rising in every city we know and the sea follows.",
    "The heat is climbing in every city we know and the water follows.",
    "The heat is rising in every town we know and the water follows.",
]


def _accept_trial(w, n: int) -> str:
    from datetime import UTC, datetime

    from app.amending import operations as amending
    from app.models import Organisation, User

    statement_id = w.statement(f"Accept race {n}", [BASE])
    with w.app.app_context():
        statement = db.session.get(Statement, statement_id)
        paragraph = statement.paragraphs[0]
        amendments = []
        for i, text in enumerate(EDITS):
            user = db.session.get(User, w.delegates[i + 1][0])
            org = db.session.get(Organisation, w.org_ids[i + 1])
            amendments.append(amending.propose(statement, user, org, kind="modify", paragraph_id=paragraph.id,
                                               text=text, now=datetime.now(UTC)))
        db.session.commit()
        wanted = {a.id: (a.text_version, a.proposed_text) for a in amendments}
        paragraph_id = paragraph.id
        db.session.remove()
    ids = list(wanted)
    answers = fire(w.ports, [("POST", f"/amendments/{a}/accept", w.coordinator_token,
                              {"text_version": wanted[a][0]}) for a in ids])
    statuses = [s for s, _ in answers]
    assert statuses.count(200) == 1 and statuses.count(409) == len(ids) - 1, f"trial {n}: {answers}"
    winner = ids[statuses.index(200)]
    for status, body in answers:
        if status == 409:
            assert body["error"]["code"] == "conflict", body
    with w.app.app_context():
        statement = db.session.get(Statement, statement_id)
        assert statement.version_count == 2
        revisions = db.session.scalars(select(Revision).where(Revision.paragraph_id == paragraph_id)
                                       .order_by(Revision.id)).all()
        assert len(revisions) == 2
        assert revisions[1].parent_id == revisions[0].id and revisions[1].amendment_id == winner
        assert db.session.get(Paragraph, paragraph_id).text == wanted[winner][1]  # exactly the accepted change
        outcome = Counter()
        for amendment_id in ids:
            status = db.session.get(Amendment, amendment_id).status
            if amendment_id == winner:
                assert status == "accepted"
            else:
                assert status in ("rebased", "conflicted"), status
                outcome[status] += 1
        assert _count(AuditEntry, AuditEntry.statement_id == statement_id, AuditEntry.action == "accepted") == 1
        assert audit.verify(statement_id)[1] == []
        db.session.remove()
    return ",".join(f"{k} {v}" for k, v in sorted(outcome.items()))


def test_simultaneous_accepts_on_one_paragraph_apply_exactly_one(race):
    started = time.monotonic()
    outcomes = Counter(_accept_trial(race, n) for n in range(ACCEPT_TRIALS))
    FIGURES["accepts, one paragraph"] = (
        f"{ACCEPT_TRIALS}/{ACCEPT_TRIALS} trials of {len(EDITS)} simultaneous accepts: one applied, "
        f"{len(EDITS) - 1} refused with 409 (losers: {dict(outcomes)}) ({time.monotonic() - started:.0f} s)")


def test_many_positions_and_comments_at_once_none_lost(race):
    from datetime import UTC, datetime

    from app.amending import operations as amending
    from app.models import Organisation, User

    started = time.monotonic()
    total = 0
    for n in range(CHATTER_ROUNDS):
        statement_id = race.statement(f"Chatter {n}", ["Talk about this paragraph."])
        with race.app.app_context():
            statement = db.session.get(Statement, statement_id)
            amendment = amending.propose(statement, db.session.get(User, race.delegates[0][0]),
                                         db.session.get(Organisation, race.org_ids[0]), kind="modify",
                                         paragraph_id=statement.paragraphs[0].id,
                                         text="Talk about this paragraph, please.", now=datetime.now(UTC))
            db.session.commit()
            amendment_id = amendment.id
            db.session.remove()
        jobs = []
        for i, ((_, token), slug) in enumerate(zip(race.delegates, race.org_slugs, strict=True)):
            jobs.append(("POST", f"/amendments/{amendment_id}/positions", token,
                         {"organisation": slug, "stance": ("support", "oppose", "abstain")[i % 3],
                          "reason": f"Reason of {slug}"}))
            jobs += [("POST", f"/amendments/{amendment_id}/comments", token, {"body": f"Comment {k} of {slug}"})
                     for k in range(COMMENTS_EACH)]
        answers = fire(race.ports, jobs)
        assert all(s == 201 for s, _ in answers), f"round {n}: {answers}"
        total += len(answers)
        with race.app.app_context():
            # one each, plus the proposing organisation's support given with the proposal
            assert _count(Position, Position.amendment_id == amendment_id) == ORGS + 1
            assert _count(Position, (Position.amendment_id == amendment_id) & Position.given_as.is_(None)) == ORGS
            comments = db.session.scalars(select(Comment.body).where(Comment.amendment_id == amendment_id)).all()
            assert sorted(comments) == sorted(j[3]["body"] for j in jobs if j[1].endswith("/comments"))
            assert sorted(a["id"] for s, a in answers if "body" in a) == sorted(
                db.session.scalars(select(Comment.id).where(Comment.amendment_id == amendment_id)).all())
            assert _count(AuditEntry, AuditEntry.statement_id == statement_id,
                          AuditEntry.action.in_(["position", "commented"])) == len(jobs)
            assert audit.verify(statement_id)[1] == []
            db.session.remove()
    FIGURES["positions and comments"] = (
        f"{CHATTER_ROUNDS} rounds of {ORGS * (1 + COMMENTS_EACH)} simultaneous requests, {total}/{total} "
        f"answered 201 and stored ({time.monotonic() - started:.0f} s)")
