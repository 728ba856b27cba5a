"""Published addresses served whole to readers without a session (app.web.public.PublishedResponses).

The second anonymous request for a published page or file is answered with the response the app sent
the first time; these tests check it is the same response (status, every header, body), that it
follows later endorsements, and that anyone with a session still gets the app's own answer.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from app.extensions import db
from app.models import Publication, Statement
from app.signing import operations as signing
from tests.conftest import Browser
from tests.test_public import Published

HTTPS = "https://concord.test"


@pytest.fixture
def pub(app) -> Published:
    return Published(app)


@pytest.fixture
def calls(app, monkeypatch) -> list[str]:
    """The paths that reached the app behind the middleware."""
    middleware = app.wsgi_app
    inner = middleware.wsgi_app
    seen: list[str] = []

    def counting(environ, start_response):
        seen.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    monkeypatch.setattr(middleware, "wsgi_app", counting)
    return seen


def _same(a, b) -> None:
    assert a.status == b.status
    assert a.headers.to_wsgi_list() == b.headers.to_wsgi_list()
    assert a.data == b.data


@pytest.mark.parametrize("base_url", ["http://concord.test", HTTPS])
@pytest.mark.parametrize("suffix", ["", ".txt", ".md", ".json", "/certificate"])
def test_the_stored_response_is_the_apps_own_byte_for_byte(pub, client, calls, suffix, base_url):
    """Status, every header (the security headers, HSTS over https only, ETag, Cache-Control) and body."""
    path = f"/p/{pub.slug}{suffix}"
    first = client.get(path, base_url=base_url)
    assert first.status_code == 200
    assert ("Strict-Transport-Security" in first.headers) == (base_url == HTTPS)
    assert first.headers["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in first.headers[
        "Content-Security-Policy"]
    again = client.get(path, base_url=base_url)
    _same(again, first)
    assert calls == [path]  # the second one never reached the app


def test_http_and_https_are_stored_apart(pub, client, calls):
    """The scheme is part of the key: HSTS never leaks to http, nor goes missing on https."""
    path = f"/p/{pub.slug}"
    plain = [client.get(path) for _ in range(2)]
    secure = [client.get(path, base_url=HTTPS) for _ in range(2)]
    assert "Strict-Transport-Security" not in plain[1].headers
    assert "Strict-Transport-Security" in secure[1].headers
    assert calls == [path, path]


def test_head_gets_the_stored_headers_and_no_body(pub, client, calls):
    path = f"/p/{pub.slug}.txt"
    full = client.get(path)
    head = client.head(path)
    assert head.status_code == 200 and head.data == b""
    assert head.headers.to_wsgi_list() == full.headers.to_wsgi_list()
    assert calls == [path]


@pytest.mark.parametrize("suffix", ["", ".txt"])
def test_a_matching_if_none_match_gets_the_stored_304(pub, client, calls, suffix):
    path = f"/p/{pub.slug}{suffix}"
    etag = client.get(path).headers["ETag"]
    first = client.get(path, headers={"If-None-Match": etag})  # the app's 304, stored
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    _same(again, first)
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    assert calls == [path, path]


def test_logged_in_readers_get_their_own_frame_and_it_is_never_stored(app, pub, client, calls):
    """Someone logged in goes to the app each time and sees their name; no one else ever sees it."""
    path = f"/p/{pub.slug}"
    assert "Dora Delegate" not in client.get(path).get_data(as_text=True)
    dora = Browser(app.test_client())
    dora.login(pub.delegate_gva.email)
    before = len(calls)
    for _ in range(2):
        page = dora.get(path)
        assert "Dora Delegate" in page.get_data(as_text=True)
        assert page.headers["Cache-Control"] == "private, no-cache"
    assert calls[before:].count(path) == 2
    for _ in range(2):
        assert "Dora Delegate" not in client.get(path).get_data(as_text=True)
    assert not any(b"Dora Delegate" in stored.body for stored in app.wsgi_app.stored.values())


def test_any_session_cookie_goes_to_the_app(app, pub, client, calls):
    """A reader with a session (here: the login form's CSRF token) is answered by the app, flashes and all."""
    path = f"/p/{pub.slug}"
    client.get(path)
    client.get("/login")  # sets the session cookie
    client.get(path)
    client.get(path)
    assert calls.count(path) == 3


def test_an_endorsement_shows_on_the_next_request(pub, client, calls):
    """Committed in this process (as a request of this worker would): the very next reader sees it."""
    path = f"/p/{pub.slug}"
    for _ in range(3):
        assert "Also endorsed by" not in client.get(path).get_data(as_text=True)
    signing.add_endorsement(db.session.get(Statement, pub.sid), pub.coordinator, pub.outside,
                            endorsed_on=date(2022, 3, 4), now=datetime.now(UTC))
    db.session.commit()
    page = client.get(path).get_data(as_text=True)
    assert "Distant Miners Guild on 4 March 2022" in page
    assert client.get(path).get_data(as_text=True) == page


def test_an_endorsement_from_another_process_shows_too(app, pub, client, monkeypatch):
    """Written by another worker or server: SQLite checks on every use; PostgreSQL is told by NOTIFY.

    Written here with plain SQL on a connection of its own (no ORM events of this process), with the
    NOTIFY the app sends; the recheck interval is an hour, so only the notification can explain it.
    """
    monkeypatch.setitem(app.config, "PUBLIC_PAGE_RECHECK_SECONDS", 3600)
    path = f"/p/{pub.slug}"
    for _ in range(3):
        assert "Also endorsed by" not in client.get(path).get_data(as_text=True)
    publication_id = db.session.scalar(select(Publication.id).where(Publication.slug == pub.slug))
    with db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO endorsements (publication_id, organisation_id, endorsed_on, added_by_id, created_at) "
            "VALUES (:p, :o, :d, :u, :c)"),
            {"p": publication_id, "o": pub.outside.id, "d": date(2022, 3, 4), "u": pub.coordinator.id,
             "c": datetime.now(UTC)})
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("NOTIFY concord_publications")
    deadline = time.monotonic() + 5  # the notification travels through the server: no fixed delay
    while "Distant Miners Guild" not in client.get(path).get_data(as_text=True):
        assert db.engine.dialect.name == "postgresql", "SQLite must see it on the very next request"
        assert time.monotonic() < deadline, "the notification never arrived"
        time.sleep(0.01)
