"""The migrations build exactly the models' schema, and tear it down again, on SQLite and PostgreSQL.

Each run uses a database of its own (a temporary SQLite file; a temporary database on the
server named by TEST_DATABASE_URL), never the shared test database the other tests use.
"""

from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.publishing import sealing
from config import TestConfig
from tests.conftest import _require_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """The URL of an empty database that only this test uses."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    server = make_url(_require_postgres())
    name = f"concord_migrations_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def fresh_app(fresh_url, tmp_path):
    # create_app() points the module-wide seal key at its instance folder; give it back after.
    sealed_by = list(sealing._instance)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=fresh_url, INSTANCE_PATH=str(tmp_path / "instance"))
    try:
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        if sealed_by:
            sealing.configure(sealed_by[0])


def _tables() -> set[str]:
    with db.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def _revision() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _pending_changes() -> list:
    """What `flask db migrate` would write: differences between the models and the database."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _head(app) -> str:
    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()).get_current_head()


def test_upgrade_matches_models_and_downgrade_removes_everything(fresh_app):
    """Empty -> head has no pending autogenerate diff; head -> base leaves only alembic_version."""
    model_tables = {t.name for t in db.metadata.sorted_tables}
    assert _tables() == set()

    upgrade()
    assert _revision() == _head(fresh_app)
    assert _tables() == model_tables | {"alembic_version"}
    assert _pending_changes() == []

    downgrade(revision="base")
    assert _revision() is None
    assert _tables() <= {"alembic_version"}

    upgrade()
    assert _revision() == _head(fresh_app)
    assert _tables() == model_tables | {"alembic_version"}
    assert _pending_changes() == []


def test_each_migration_downgrades_to_its_parent(fresh_app):
    """Stepping down one revision at a time from head reaches base; no step leaves a table behind or adds one."""
    upgrade()
    script = ScriptDirectory.from_config(fresh_app.extensions["migrate"].migrate.get_config())
    chain = [rev.revision for rev in script.walk_revisions()]  # head first
    assert len(chain) >= 3
    seen = []
    for expected_after in chain[1:] + [None]:
        before = _tables()
        downgrade(revision="-1")
        assert _revision() == expected_after
        after = _tables()
        assert after <= before  # a migration that adds only columns or indexes removes no table
        seen.append(after)
    assert seen[-1] <= {"alembic_version"}


def test_autogenerate_comparison_notices_a_model_the_migrations_lack(fresh_app):
    """The comparison is not vacuous: a table dropped behind alembic's back is reported."""
    upgrade()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE endorsements"))
    diffs = _pending_changes()
    assert ("add_table", "endorsements") in [(d[0], d[1].name) for d in diffs if d[0] == "add_table"]


def test_positions_and_history_get_text_versions_when_upgraded_with_data(fresh_app):
    """0013 (a16suggest) on a database with amendments: every position is taken as given on its amendment's
    current text, every history row gets the text version it made current (counted back from the newest)."""
    from datetime import UTC, datetime

    from app.amending import operations as amending
    from app.drafting import operations as drafting
    from tests import factories

    upgrade()
    when = datetime.now(UTC)
    a, b = factories.organisation("Union A", slug="ua"), factories.organisation("Union B", slug="ub")
    coordinator, delegate = factories.member(a, "delegate"), factories.member(b, "delegate")
    statement = factories.statement(coordinator, a, participants=[b], paragraphs=("One two three.",))
    amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=when)
    paragraph = drafting.live_paragraphs(statement)[0]
    amendment = amending.propose(statement, delegate, b, kind="modify", paragraph_id=paragraph.id,
                                 text="One two three four.", now=when)
    db.session.commit()
    amending.edit_amendment(amendment, delegate, text="One two three five.", rationale="", now=when)
    amending.take_position(amendment, coordinator, a, "support", now=when)
    db.session.commit()
    amendment_id = amendment.id
    db.session.remove()
    downgrade(revision="a17unread")
    with db.engine.begin() as conn:  # as an older Concord left it: no text versions, no suggestions table
        assert "text_version" not in {c["name"] for c in inspect(conn).get_columns("positions")}
        assert "suggestions" not in inspect(conn).get_table_names()
    upgrade()
    with db.engine.connect() as conn:
        positions = conn.execute(text("SELECT text_version, given_as FROM positions WHERE amendment_id = :a "
                                      "ORDER BY id"), {"a": amendment_id}).all()
        history = conn.execute(text("SELECT reason, text_version FROM amendment_revisions WHERE amendment_id = :a "
                                    "ORDER BY id"), {"a": amendment_id}).all()
    assert [tuple(p) for p in positions] == [(2, None), (2, None), (2, None)]
    assert [tuple(h) for h in history] == [("proposed", 1), ("edited", 2)]
    assert _pending_changes() == []
