"""A database error during a change (a full disk, a lost connection, a lock timeout) is a clear 503, as a
page or as the API's JSON error, and the change's rows are rolled back. On both databases, without a
server: the rule runs and flushes its rows, then the commit fails the way SQLite reports a full disk.
The real full disk, on a real server, is tests/test_faults_disk.py (slow, needs root).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.accounts.operations import create_api_token
from app.amending import operations as amending
from app.extensions import db
from app.models import Amendment, AuditEntry, Revision, Version
from tests import factories
from tests.conftest import Browser

MESSAGE = "Your change could not be saved"


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def accepting(app):
    """A statement open for amendments, one amendment, and its coordinator logged in (page and token)."""
    factories.admin()
    hwu, gva = factories.organisation("Harbour Workers Union", slug="hwu"), factories.organisation(slug="gva")
    coordinator = factories.member(hwu, "delegate")
    partner = factories.member(gva, "delegate")
    statement = factories.statement(coordinator, hwu, participants=[gva], paragraphs=["The heat is rising."])
    amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=_now())
    amendment = amending.propose(statement, partner, gva, kind="modify", paragraph_id=statement.paragraphs[0].id,
                                 text="The heat is rising fast.", now=_now())
    _, token = create_api_token(coordinator, "test")
    db.session.commit()
    browser = Browser(app.test_client())
    browser.login(coordinator.email)
    return browser, amendment.id, token


def _rows() -> tuple:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (Revision, Version, AuditEntry)) + (
        tuple(db.session.scalars(select(Amendment.status)).all()),)


@pytest.fixture
def disk_full_at_commit(monkeypatch):
    def commit():
        raise OperationalError("COMMIT", None, sqlite3.OperationalError("database or disk is full"))

    return lambda: monkeypatch.setattr(db.session, "commit", commit)


def test_a_page_says_nothing_was_saved_and_the_rows_are_rolled_back(accepting, disk_full_at_commit):
    browser, amendment_id, _ = accepting
    token = browser.client.get(f"/amendments/{amendment_id}")  # a CSRF token while commits still work
    before = _rows()
    disk_full_at_commit()
    response = browser.post(f"/amendments/{amendment_id}/accept", {"text_version": "1"},
                            form_page=f"/amendments/{amendment_id}")
    page = response.get_data(as_text=True)
    assert token.status_code == 200
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert "<h1>Database unavailable</h1>" in page and MESSAGE in page and "Nothing was changed" in page
    assert "Traceback" not in page and "OperationalError" not in page and "disk is full" not in page
    assert response.headers["X-Frame-Options"] == "DENY"  # an error page like any other
    assert _rows() == before  # the revision, version and audit entry the rule flushed are gone


def test_the_api_answers_a_json_503(accepting, client, disk_full_at_commit):
    _, amendment_id, token = accepting
    before = _rows()
    disk_full_at_commit()
    response = client.post(f"/api/v1/amendments/{amendment_id}/accept", json={},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "database_unavailable" and MESSAGE in error["message"]
    assert _rows() == before

