"""The benchmark's own judgements (bench/): what its rows conclude must follow from what they measured.

The mixed load's integrity check runs against a real database (both, through the ``app`` fixture);
the alternated blocks' arithmetic against a fake clock. No timing is asserted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from app.amending import operations as amending
from app.drafting.operations import live_paragraphs
from app.extensions import db
from bench import measure, mixed
from tests import factories


def _now() -> datetime:
    return datetime.now(UTC)


def _world():
    org_a, org_b = factories.organisation(), factories.organisation()
    coordinator = factories.member(org_a, "delegate")
    delegate = factories.member(org_b, "delegate")
    statement = factories.statement(coordinator, org_a, participants=[org_b])
    amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=_now())
    paragraph = live_paragraphs(statement)[0]
    amendment = amending.propose(statement, delegate, org_b, kind="modify", paragraph_id=paragraph.id,
                                 text="First paragraph, amended.", now=_now())
    db.session.commit()
    return statement, amendment, delegate, org_b


def test_mixed_load_check_accepts_a_database_that_matches_the_responses(app):
    """Every 2xx write with exactly its row and one audit entry each: no problem reported."""
    statement, amendment, delegate, org = _world()
    before = mixed.snapshot_counts(statement.id)
    amending.take_position(amendment, delegate, org, "support", "marker-position-1", now=_now())
    amending.add_comment(amendment, delegate, "marker-comment-1", now=_now())
    db.session.commit()
    records = [
        {"kind": "position", "marker": "marker-position-1", "status": 201},
        {"kind": "comment", "marker": "marker-comment-1", "status": 201},
        {"kind": "comment", "marker": "marker-comment-2", "status": 409},  # refused, left nothing
        {"kind": "page", "marker": "", "status": 200},
    ]
    result = mixed.check(statement.id, records, before)
    assert result["problems"] == []
    assert result["successful_writes"] == 2


def test_mixed_load_check_reports_a_missing_row_a_leaked_refusal_and_a_wrong_audit_count(app):
    """A 2xx without its row, a refused write that left one, and audit entries that do not add up are
    each reported."""
    statement, amendment, delegate, org = _world()
    before = mixed.snapshot_counts(statement.id)
    amending.add_comment(amendment, delegate, "marker-refused", now=_now())
    db.session.commit()
    records = [
        {"kind": "position", "marker": "marker-never-written", "status": 201},
        {"kind": "position", "marker": "marker-never-written-either", "status": 201},
        {"kind": "comment", "marker": "marker-refused", "status": 422},
    ]
    problems = " | ".join(mixed.check(statement.id, records, before)["problems"])
    assert "2 positions answered 2xx without exactly one row" in problems
    assert "1 refused comments left a row" in problems
    assert "1 new audit entries for 2 successful writes" in problems


def test_mixed_load_check_reports_an_accept_whose_version_is_not_as_answered(app):
    """An accept answered 2xx must have made the version it named, with that SHA-256."""
    statement, amendment, delegate, org = _world()
    before = mixed.snapshot_counts(statement.id)
    coordinator = statement.coordinator
    version = amending.accept(amendment, coordinator, text_version=None, now=_now())
    db.session.commit()
    good = {"kind": "accept", "marker": "a", "status": 200, "target": amendment.id,
            "version": {"number": version.number, "sha256": version.sha256}}
    assert mixed.check(statement.id, [good], before)["problems"] == []
    wrong = {**good, "version": {"number": version.number, "sha256": "0" * 64}}
    problems = " | ".join(mixed.check(statement.id, [wrong], before)["problems"])
    assert f"version {version.number} is not as answered" in problems


def test_alternated_blocks_take_the_median_of_the_block_ratios(monkeypatch):
    """Ratio per block = median view / median reference of that block; the row = median of blocks;
    the change before each view is not timed."""
    clock = [0.0]
    monkeypatch.setattr(measure, "_clock", lambda: clock[0])
    durations = iter([3.0, 5.0, 3.0, 4.0] * 10)  # views of successive blocks

    def view():
        clock[0] += next(durations)

    def reference():
        clock[0] += 1.0

    def change():
        clock[0] += 100.0  # untimed

    slot = measure.Slot(view=view, reference=reference, change=change)
    # warm-up consumes one view duration (3.0); then blocks of 2 views: (5, 3), (4, 3), (5, 3), ...
    result = measure.cold_blocks([slot, slot], blocks=3)
    assert result.block_ratios == [4.0, 3.5, 4.0]
    assert result.ratio == 4.0
    assert result.reference_ms == 1000.0
    assert result.views == 6


def test_the_floor_routes_send_exactly_the_bytes_asked_for():
    """The published rows' floors (bench/hello.py) answer as many bytes as the file they stand for, from memory
    and from a file, and refuse a size past their limit rather than allocate it."""
    from bench.hello import LARGEST
    from bench.hello import app as hello

    client = hello.test_client()
    for how in ("bytes", "file"):
        for size in (0, 1, 273_451):
            response = client.get(f"/{how}/{size}")
            assert response.status_code == 200 and len(response.get_data()) == size, (how, size)
        assert client.get(f"/{how}/{LARGEST + 1}").status_code == 404
    assert client.get("/hello").get_data() == b"hello"
