"""Test fixtures.

Every test that asks for ``app`` (or anything built on it) runs twice: on
SQLite and on PostgreSQL. PostgreSQL is the database named by
``TEST_DATABASE_URL``; without it those runs are skipped, except under
``CI=true`` where they fail. The schema is built by the migrations, so the
migrations are tested on both databases too. After each test every table is
emptied: tests commit for real, as requests do.
"""

from __future__ import annotations

import contextvars
import os
import re
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db
from config import TestConfig
from tests import factories

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def _require_postgres() -> str:
    if PG_URL:
        return PG_URL
    if IN_CI:
        pytest.fail("CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests are mandatory in CI.")
    pytest.skip("PostgreSQL tests skipped: set TEST_DATABASE_URL to a PostgreSQL database to run them.")


def _worker_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets a database of its own beside the named one (created once)."""
    import psycopg
    from sqlalchemy.engine import make_url

    named = make_url(url)
    own = f"{named.database}_{worker}"
    server = named.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (own,)).fetchone():
            admin.execute(f'CREATE DATABASE "{own}"')
    return named.set(database=own).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    if request.param == "postgresql":
        url = _require_postgres()
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        return _worker_database(url, worker) if worker else url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'concord-test.db'}"


@pytest.fixture(scope="session")
def _app(database_url, tmp_path_factory):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url,
                     INSTANCE_PATH=str(tmp_path_factory.mktemp("instance")))
    with app.app_context():
        _reset_schema()
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def _reset_schema() -> None:
    """Start from an empty database, whatever a crashed earlier run left behind."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            tables = conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars()
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for name in list(tables):
                if not name.startswith("sqlite_"):
                    conn.execute(text(f'DROP TABLE "{name}"'))


def _empty_tables() -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        with db.engine.connect() as conn:
            # pysqlite runs the PRAGMA before it opens the transaction of the DELETEs.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            conn.commit()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


class IsolatedClient(FlaskClient):
    """Serves each request in its own app context, as a server does.

    The ``app`` fixture keeps one app context open for the whole test; without this, ``g``
    (Flask-Login's cached user, Flask-WTF's CSRF token) and the db session would leak from
    one request, and one client, into the next. Tests see what requests committed after
    ``db.session.rollback()`` (or ``expire_all()``).
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(_app):
    _app.test_client_class = IsolatedClient
    with _app.app_context():
        yield _app
        _empty_tables()
    _app.extensions.pop("concord_setup_done", None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# --- helpers for web tests ----------------------------------------------------


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client, path: str) -> str:
    """The CSRF token of the first form on ``path``, as a browser would send it."""
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} (status {page.status_code})"
    return match.group(1)


class Browser:
    """A test client that fills in CSRF tokens the way a browser does."""

    def __init__(self, client):
        self.client = client

    def get(self, path, **kw):
        return self.client.get(path, **kw)

    def post(self, path, data=None, *, form_page=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", csrf_token(self.client, form_page or path))
        return self.client.post(path, data=data, **kw)

    def set_zone(self, name: str) -> None:
        """The time zone the browser reports (concord.js keeps it in a cookie)."""
        self.client.set_cookie("concord_tz", name, domain="concord.test")

    def login(self, email, password=factories.PASSWORD):
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)


@pytest.fixture
def admin(app):
    """A platform admin; creating one also completes the first-run setup."""
    return factories.admin()


__all__ = ["Browser", "csrf_token", "factories"]
