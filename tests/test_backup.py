"""Backup and restore (`flask backup create|restore`, app/backup.py) on SQLite and PostgreSQL.

The round trip: build a statement with several versions, amendments, positions, a
comment and its audit trail; back it up; damage the database (versions deleted, an
audit entry forged); restore; then every row of every table is back as it was, every
version's SHA-256 matches its canonical text and the audit chain verifies.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app import audit, backup
from app.amending import operations as amending
from app.drafting import operations as drafting
from app.extensions import db
from app.models import Amendment, AuditEntry, Organisation, Statement, User, Version
from tests import factories

P1 = "Every port worker is paid on the first day of each month."
P2 = "Ferries run every hour between the islands, all year."
P3 = "The harbour stays open to every vessel in distress."


# --- helpers ------------------------------------------------------------------------------


def _everything() -> dict[str, list[tuple]]:
    """Every row of every table (and the schema revision), as sorted tuples."""
    db.session.expire_all()
    names = [t.name for t in db.metadata.sorted_tables] + ["alembic_version"]
    return {
        name: sorted((tuple(row) for row in db.session.execute(text(f"SELECT * FROM {name}"))), key=repr)
        for name in names
    }


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _build_history(now):
    """A statement with 5 versions, accepted/rejected amendments, positions, a comment."""
    a = factories.organisation("Harbour Workers' Union", slug="hwu", short_name="HWU")
    b = factories.organisation("Green Valley Alliance", slug="gva", short_name="GVA")
    coordinator = factories.member(a, "delegate")
    del_b = factories.member(b, "delegate")
    statement = factories.statement(coordinator, a, participants=[b], title="On Harbours",
                                    paragraphs=[P1, P2, P3])
    first = drafting.live_paragraphs(statement)[0]
    drafting.edit_paragraph(statement, coordinator, first.id, P1.replace("first", "last"),
                            base_revision_id=first.current_revision_id, now=now)
    db.session.commit()
    amending.open_for_amendments(statement, coordinator, rule="coordinator",
                                 deadline=now + timedelta(days=7), now=now)
    db.session.commit()
    second = drafting.live_paragraphs(statement)[1]
    modify = amending.propose(statement, del_b, b, kind="modify", paragraph_id=second.id,
                              text=P2.replace("every hour", "every half hour"), rationale="More boats.",
                              now=now)
    db.session.commit()
    amending.take_position(modify, coordinator, a, "support", now=now)
    amending.add_comment(modify, del_b, "Twice as many crossings.", now=now)
    db.session.commit()
    amending.accept(db.session.get(Amendment, modify.id), coordinator,
                    text_version=db.session.get(Amendment, modify.id).text_version,
                    now=now + timedelta(minutes=1))
    db.session.commit()
    insert = amending.propose(statement, del_b, b, kind="insert", paragraph_id=None,
                              text="Nobody is turned away at the quay.", now=now + timedelta(minutes=2))
    db.session.commit()
    amending.accept(insert, coordinator, text_version=insert.text_version, now=now + timedelta(minutes=3))
    db.session.commit()
    retitle = amending.propose(statement, del_b, b, kind="retitle", text="On Harbours and Ferries",
                               now=now + timedelta(minutes=4))
    db.session.commit()
    amending.accept(retitle, coordinator, text_version=retitle.text_version,
                    now=now + timedelta(minutes=5))
    db.session.commit()
    delete = amending.propose(statement, del_b, b, kind="delete",
                              paragraph_id=drafting.live_paragraphs(statement)[-1].id,
                              now=now + timedelta(minutes=6))
    db.session.commit()
    amending.reject(delete, coordinator, reason="We keep it.", now=now + timedelta(minutes=7))
    db.session.commit()
    return statement, coordinator, del_b, b


def _damage() -> None:
    """Lose every version after v1 and forge one audit entry, as a bad migration or intruder might."""
    db.session.execute(text("UPDATE amendments SET result_version_id = NULL"))
    db.session.execute(text(
        "DELETE FROM version_paragraphs WHERE version_id IN (SELECT id FROM versions WHERE number > 1)"))
    db.session.execute(text("DELETE FROM versions WHERE number > 1"))
    db.session.execute(text("UPDATE audit_entries SET details = :d WHERE seq = 2"), {"d": '{"forged":true}'})
    db.session.commit()


def _restore(runner, path: Path):
    result = runner.invoke(args=["backup", "restore", str(path), "--yes"])
    db.session.remove()
    db.engine.dispose()
    return result


# --- the round trip -------------------------------------------------------------------------


def test_restore_brings_back_every_version_and_the_audit_chain(app, runner, now, tmp_path):
    """Backup, damage, restore: all rows back, every version hash and the audit chain intact."""
    statement, _coordinator, del_b, b = _build_history(now)
    ids = (statement.id, del_b.id, b.id)
    original = _everything()
    assert len(original["versions"]) == 5
    assert len(original["amendments"]) == 4
    entries = _count(AuditEntry)
    assert entries >= 10 and audit.verify() == (entries, [])

    path = tmp_path / "round-trip.bak"
    made = runner.invoke(args=["backup", "create", str(path)])
    assert made.exit_code == 0, made.output
    assert f"Wrote {path} ({path.stat().st_size} bytes)" in made.output

    _damage()
    assert _count(Version) == 1
    assert audit.verify()[1], "the forged audit entry must be detected before the restore"

    restored = _restore(runner, path)
    assert restored.exit_code == 0, restored.output
    assert f"Restored {path} ({path.stat().st_size} bytes)" in restored.output

    assert _everything() == original
    versions = list(db.session.scalars(select(Version).order_by(Version.statement_id, Version.number)))
    assert [v.number for v in versions] == [1, 2, 3, 4, 5]
    for version in versions:
        assert version.sha256 == hashlib.sha256(version.canonical_text.encode("utf-8")).hexdigest()
    assert audit.verify() == (entries, [])

    # The restored database keeps working: ids and sequences continue where they were.
    statement = db.session.get(Statement, ids[0])
    later = amending.propose(statement, db.session.get(User, ids[1]), db.session.get(Organisation, ids[2]),
                             kind="modify", paragraph_id=drafting.live_paragraphs(statement)[0].id,
                             text="A new first paragraph.", now=now + timedelta(minutes=8))
    db.session.commit()
    assert later.id == max(row[0] for row in original["amendments"]) + 1
    assert audit.verify() == (entries + 1, [])


def test_create_without_path_writes_into_instance_backups(app, runner, tmp_path):
    """With no PATH the backup lands in instance/backups with the database's file extension."""
    factories.organisation("Only Org", slug="only")
    made = runner.invoke(args=["backup", "create"])
    assert made.exit_code == 0, made.output
    files = list((Path(app.instance_path) / "backups").iterdir())
    written = [f for f in files if f.name in made.output]
    assert len(written) == 1
    expected = ".sqlite3" if db.engine.dialect.name == "sqlite" else ".dump"
    assert written[0].suffix == expected
    assert f"({written[0].stat().st_size} bytes)" in made.output
    assert not [f for f in files if f.name.endswith(".part")]
    written[0].unlink()


def test_restore_without_yes_asks_and_a_no_changes_nothing(app, runner, tmp_path):
    """Answering no to the confirmation leaves the database as it is."""
    factories.organisation("Kept Org", slug="kept")
    path = tmp_path / "b.bak"
    assert runner.invoke(args=["backup", "create", str(path)]).exit_code == 0
    factories.organisation("Added Later", slug="later")
    before = _everything()
    result = runner.invoke(args=["backup", "restore", str(path)], input="n\n")
    db.session.remove()
    assert result.exit_code == 1
    assert "Replace everything" in result.output
    assert _everything() == before


def test_restore_refuses_a_file_that_is_not_a_backup_of_this_kind(app, runner, tmp_path):
    """A text file, or a backup of the other database kind, is refused and nothing changes."""
    factories.organisation("Kept Org", slug="kept")
    before = _everything()
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup\n")
    other = tmp_path / "other.bak"
    if db.engine.dialect.name == "sqlite":
        other.write_bytes(b"PGDMP" + b"\0" * 100)
        expected = "is not a SQLite backup"
    else:
        sqlite3.connect(other).close()
        other.write_bytes(backup.SQLITE_MAGIC + b"\0" * 100)
        expected = "is not a pg_dump custom-format backup"
    for path in (junk, other):
        result = _restore(runner, path)
        assert result.exit_code == 1
        assert expected in result.output
    assert _everything() == before


def test_sqlite_restore_refuses_a_sqlite_file_that_is_not_concord(tmp_path):
    """A healthy SQLite file without Concord's alembic_version table is refused; nothing changes."""
    target = tmp_path / "concord.db"
    conn = sqlite3.connect(target)
    conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
    conn.execute("INSERT INTO alembic_version VALUES ('head')")
    conn.commit()
    conn.close()
    before = target.read_bytes()
    stranger = tmp_path / "stranger.sqlite3"
    conn = sqlite3.connect(stranger)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(backup.BackupError, match="is not a Concord database"):
        backup.restore(f"sqlite:///{target}", stranger)
    assert target.read_bytes() == before


# --- app/backup.py without the app ------------------------------------------------------------


def test_sqlite_backup_is_consistent_while_a_writer_holds_an_open_transaction(tmp_path):
    """The online backup copies committed data only, while another connection is mid-write."""
    live = tmp_path / "live.db"
    setup = sqlite3.connect(live)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE alembic_version (version_num TEXT)")
    setup.execute("CREATE TABLE t (n INTEGER)")
    setup.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(100)])
    setup.commit()
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (1000)")
    try:
        result = backup.create(f"sqlite:///{live}", tmp_path / "copy.sqlite3")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        setup.close()
    copy = sqlite3.connect(result.path)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*), max(n) FROM t").fetchone() == (100, 99)
    copy.close()
    assert result.bytes == result.path.stat().st_size > 0


def test_missing_pg_dump_gives_a_clear_error_and_writes_nothing(tmp_path, monkeypatch):
    """Without pg_dump on PATH a PostgreSQL backup stops with an instruction, leaving no file."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    dest = tmp_path / "out" / "concord.dump"
    with pytest.raises(backup.BackupError, match="pg_dump was not found on PATH"):
        backup.create("postgresql+psycopg://concord:secret@db.invalid/concord", dest)
    assert list(dest.parent.iterdir()) == []


@pytest.mark.parametrize("url, message", [
    ("sqlite://", "in-memory"),
    ("sqlite:///:memory:", "in-memory"),
    ("mysql://u@h/db", "not mysql"),
    ("not a url", "Not a database URL"),
])
def test_unsupported_databases_are_refused(tmp_path, url, message):
    """In-memory SQLite, other databases and malformed URLs get a clear error."""
    with pytest.raises(backup.BackupError, match=message):
        backup.create(url, tmp_path / "x.bak")
    assert not (tmp_path / "x.bak").exists()


def test_postgres_password_goes_to_the_environment_not_the_command_line():
    """pg_dump gets the password through PGPASSWORD; the DSN it sees carries none."""
    from sqlalchemy.engine import make_url

    url = make_url("postgresql+psycopg://concord:s3cret@db.example:5433/concord?sslmode=require")
    dsn = backup._libpq_dsn(url)
    assert dsn == "postgresql://concord@db.example:5433/concord?sslmode=require"
    assert backup._pg_env(url)["PGPASSWORD"] == "s3cret"
