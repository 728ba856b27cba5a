"""Published statements: permanent public addresses, formats, certificate, seal, feeds."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
import time
from datetime import datetime
from select import POLLIN
from select import poll as _poll

from flask import Blueprint, Response, current_app, render_template, request, session, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import bindparam, event, func, select
from sqlalchemy.orm import Session, object_session, selectinload
from werkzeug.http import parse_etags, unquote_etag

from app.errors import NotFound
from app.extensions import db
from app.models import Endorsement, Organisation, Publication, Signature
from app.organisations import operations as orgs
from app.publishing import formats, sealing
from app.publishing.text import format_date
from app.signing.operations import get_publication

bp = Blueprint("public", __name__)

def _kept(key, build):
    """Built on every request (the per-worker cache is gone; publication artefacts will be stored)."""
    return build()


@dataclasses.dataclass(frozen=True)
class _Head:
    """What identifies a publication's bytes, read without its (large) texts."""

    slug: str
    id: int
    sha256: str
    endorsements: int


_HEAD = (
    select(Publication.id, Publication.sha256, func.count(Endorsement.id))
    .outerjoin(Endorsement, Endorsement.publication_id == Publication.id)
    .where(Publication.slug == bindparam("slug")).group_by(Publication.id)
)
# What a stored page depends on, read from indexes only: the publication (its id: a publication never
# changes) and how many later endorsements it has (they are only ever added). Unlike the sha256, the
# id is in SQLite's index of the slugs, so the row (its 270 KB of plain text first) is not read.
_CHECK = (
    select(Publication.id, select(func.count(Endorsement.id))
           .where(Endorsement.publication_id == Publication.id).scalar_subquery())
    .where(Publication.slug == bindparam("slug"))
)


def _head(slug: str) -> _Head:
    row = db.session.execute(_HEAD, {"slug": slug}).first()
    if row is None:
        raise NotFound("There is no published statement at this address.")
    return _Head(slug, *row)


def _epoch() -> tuple:
    """Part of every per-worker cache key: the app, and the setup flag's object (app/web/__init__.py),
    which is new whenever the app re-checks its database; so nothing a worker kept outlives the
    database it was read from (the tests empty it between tests)."""
    app = current_app._get_current_object()
    return id(app), app.extensions.get("concord_setup_done")


# --- complete responses for readers without a session -----------------------------------------

# Set by a view on request.environ when its response is the same for every reader without a session.
CACHE_MARK = "concord.public_response"
# PostgreSQL channel: the app NOTIFYs it (delivered on commit) whenever it adds a later endorsement.
CHANNEL = "concord_publications"
_committed = [0]  # endorsements this process has committed: its own workers see them at once


@event.listens_for(Endorsement, "after_insert")
def _endorsement_added(_mapper, connection, target) -> None:
    session = object_session(target)
    if session is not None:
        session.info["concord_endorsed"] = True
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"NOTIFY {CHANNEL}")  # sent only if and when the transaction commits


@event.listens_for(Session, "after_commit")
def _after_commit(session) -> None:
    if session.info.pop("concord_endorsed", False):
        _committed[0] += 1


@event.listens_for(Session, "after_rollback")
def _after_rollback(session) -> None:
    session.info.pop("concord_endorsed", None)


@dataclasses.dataclass(eq=False)
class _Stored:
    epoch: object
    check: tuple  # ("file",), or ("page", slug, publication id, endorsements)
    etag: str | None
    status: str
    headers: tuple
    body: bytes
    seen: tuple = ()  # (local commits, notifications, time) when a page was last found current


class PublishedResponses:
    """WSGI middleware: complete responses of published addresses for readers without a session.

    A publication's files never change and its pages change only with a later endorsement, yet
    every request went through the session, Flask-Login, the limiter and the header hooks to send
    the same bytes. A GET or HEAD under /p/ without a query string, a session cookie or a
    remember-me cookie is answered, after the first time, with the response the app sent then,
    exactly as sent (status, every header, body):

    - a view marks its response storable (``request.environ[CACHE_MARK]``) only when it is the
      same for every such reader; a response that sets a cookie is never stored;
    - a file (.txt, .md, .json, .docx, .pdf) is kept for good: a publication never changes;
    - a page (the statement, its certificate) is used only while it is current, see ``_current``;
    - an If-None-Match naming the stored ETag gets the stored 304;
    - everything else (someone logged in, another path or method, a miss, a changed page, a
      database error) goes to the app as before, which stores its answer when it may.

    It sits inside ProxyFix, so it sees the scheme and host the app sees; they are in the key.
    """

    def __init__(self, app, wsgi_app, *, size: int = 256, max_bytes: int = 64 * 1024 * 1024):
        self.app, self.wsgi_app = app, wsgi_app
        self.size, self.max_bytes = size, max_bytes  # per process: entries, and bytes of bodies
        self.stored: dict = {}
        self.bytes = 0
        self.lock = threading.Lock()
        self._cookies: tuple[str, ...] | None = None
        self._query = None  # (engine, SQL of _CHECK, positional?)
        self._local = threading.local()  # SQLite: this thread's connection for _CHECK
        self._listener = None  # PostgreSQL: (pid, connection, poller) listening on CHANNEL
        self._listen_retry = 0.0
        self._listen_lock = threading.Lock()
        self._notified = 0

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        if ((method != "GET" and method != "HEAD") or not environ.get("PATH_INFO", "").startswith("/p/")
                or environ.get("QUERY_STRING") or self._identified(environ)):
            return self.wsgi_app(environ, start_response)
        key = (environ["PATH_INFO"], environ.get("SCRIPT_NAME", ""), environ["wsgi.url_scheme"],
               environ.get("HTTP_HOST", ""), environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT", ""))
        stored = full = self._usable(key)
        if full is not None:
            condition = environ.get("HTTP_IF_NONE_MATCH")
            if condition and full.etag and parse_etags(condition).contains(full.etag):
                stored = self.stored.get((key, 304))
                if stored is not None and (stored.etag != full.etag or stored.epoch is not full.epoch):
                    stored = None
            if stored is not None:
                start_response(stored.status, list(stored.headers))
                return [stored.body] if method == "GET" and stored.body else []
        return self._through(key, environ, start_response)

    def _identified(self, environ) -> bool:
        cookie = environ.get("HTTP_COOKIE")
        if not cookie:
            return False
        if self._cookies is None:
            from flask_login.config import COOKIE_NAME

            config = self.app.config
            self._cookies = (f"{config.get('SESSION_COOKIE_NAME') or 'session'}=",
                             f"{config.get('REMEMBER_COOKIE_NAME') or COOKIE_NAME}=")
        return any(name in cookie for name in self._cookies)

    def _usable(self, key) -> _Stored | None:
        stored = self.stored.get(key)
        if stored is None:
            return None
        epoch = self.app.extensions.get("concord_setup_done")
        if not epoch or stored.epoch is not epoch:
            return None
        if stored.check[0] == "page":
            try:
                if not self._current(stored):
                    return None
            except Exception:  # noqa: BLE001 - the app answers instead, and reports the problem its own way
                self._drop_connections()
                return None
        return stored

    # A stored page is current while its publication has the same number of later endorsements
    # (a publication never changes; endorsements are only ever added).

    def _current(self, stored: _Stored) -> bool:
        """Whether a stored page is still what the app would send, at (nearly) no cost per request.

        SQLite (one machine): the _CHECK query on every use, on a connection this thread keeps
        (about 10 µs, no round trip). PostgreSQL: a round trip per reader would cost more than the
        rest of the request, so each process LISTENs on CHANNEL, which the app NOTIFYs whenever it
        commits an endorsement, and polls that connection (no round trip) before each use. The
        page is checked with _CHECK again when something was notified, when this process itself
        committed an endorsement, while the listening connection is down, and at the latest
        PUBLIC_PAGE_RECHECK_SECONDS after its last check, for a change made outside the app.
        """
        engine = self._engine()
        if engine.dialect.name != "postgresql":
            return self._check_held(stored.check[1]) == stored.check[2:]
        notified = self._poll_notifications()
        now = time.monotonic()
        if notified is not None and stored.seen:
            committed, seen_notified, at = stored.seen
            if (committed == _committed[0] and seen_notified == notified
                    and now - at < self.app.config.get("PUBLIC_PAGE_RECHECK_SECONDS", 2.0)):
                return True
        committed = _committed[0]
        if self._check_pooled(stored.check[1]) != stored.check[2:]:
            return False
        stored.seen = (committed, notified, now) if notified is not None else ()
        return True

    def _engine(self):
        if self._query is None:
            with self.app.app_context():
                engine = db.engine
            compiled = _CHECK.compile(dialect=engine.dialect)
            self._query = (engine, str(compiled), bool(compiled.positional))
        return self._query[0]

    def _params(self, slug: str):
        return (slug,) if self._query[2] else {"slug": slug}

    def _check_held(self, slug: str) -> tuple | None:
        """_CHECK on this thread's own connection (SQLite: no round trip, no pool)."""
        held = getattr(self._local, "held", None)
        if held is None or held[0] != os.getpid():
            raw = self._engine().raw_connection()
            connection = raw.driver_connection
            raw.detach()  # this thread's for good, outside the pool
            held = self._local.held = (os.getpid(), connection)
        cursor = held[1].cursor()
        try:
            cursor.execute(self._query[1], self._params(slug))
            rows = cursor.fetchall()  # to the end: no statement left open, holding an old snapshot
        finally:
            cursor.close()
        return tuple(rows[0]) if rows else None

    def _check_pooled(self, slug: str) -> tuple | None:
        """_CHECK on a pooled connection, outside any transaction (PostgreSQL: one round trip)."""
        connection = self._engine().raw_connection()
        try:
            driver = connection.driver_connection
            autocommit = getattr(driver, "autocommit", None)
            if autocommit is False:
                driver.autocommit = True  # no BEGIN and ROLLBACK around one read
            try:
                cursor = connection.cursor()
                cursor.execute(self._query[1], self._params(slug))
                rows = cursor.fetchall()
                cursor.close()
            finally:
                if autocommit is False:
                    driver.autocommit = False
        finally:
            connection.close()
        return tuple(rows[0]) if rows else None

    def _poll_notifications(self) -> int | None:
        """How many notifications this process has had on CHANNEL; None when it is not listening."""
        with self._listen_lock:
            return self._poll_notifications_locked()

    def _poll_notifications_locked(self) -> int | None:
        listener = self._listener
        if listener is None or listener[0] != os.getpid():
            if time.monotonic() < self._listen_retry:
                return None
            self._listen_retry = time.monotonic() + 5
            raw = self._engine().raw_connection()
            connection = raw.driver_connection
            raw.detach()  # the process's own, outside the pool
            try:
                connection.autocommit = True
                connection.execute(f"LISTEN {CHANNEL}")
            except Exception:
                connection.close()
                raise
            poller = _poll()
            poller.register(connection.fileno(), POLLIN)
            listener = self._listener = (os.getpid(), connection, poller)
            self._notified += 1  # whatever happened while nobody listened: check again
        if listener[2].poll(0):  # something arrived: notifications, or the server closing
            pgconn = listener[1].pgconn
            pgconn.consume_input()  # raises if the connection is gone
            while pgconn.notifies() is not None:
                pass
            if pgconn.status != 0:  # psycopg.pq.ConnStatus.OK
                raise ConnectionError("the listening connection is closed")
            self._notified += 1
        return self._notified

    def _drop_connections(self) -> None:
        """After an error: open new connections next time."""
        for held in (self._listener, getattr(self._local, "held", None)):
            if held is not None and held[0] == os.getpid():
                with contextlib.suppress(Exception):
                    held[1].close()
        self._listener = None
        self._local.held = None

    def _through(self, key, environ, start_response):
        sent: list = []

        def start(status, headers, exc_info=None):
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, start)
        check = environ.get(CACHE_MARK)
        if check is None or environ["REQUEST_METHOD"] != "GET" or not sent:
            return body
        status, headers = sent
        code = status[:3]
        if code not in ("200", "304") or any(name.lower() == "set-cookie" for name, _ in headers):
            return body
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        etag = next((unquote_etag(value)[0] for name, value in headers if name.lower() == "etag"), None)
        epoch = self.app.extensions.get("concord_setup_done")
        if epoch and len(data) <= self.max_bytes // 8:
            with self.lock:  # the oldest stored goes first
                slot = key if code == "200" else (key, 304)
                old = self.stored.pop(slot, None)
                self.bytes += len(data) - (len(old.body) if old else 0)
                self.stored[slot] = _Stored(epoch, check, etag, status, tuple(headers), data)
                while len(self.stored) > self.size or self.bytes > self.max_bytes:
                    self.bytes -= len(self.stored.pop(next(iter(self.stored))).body)
        return [data]


def _data(publication: Publication) -> formats.PublicationData:
    data = formats.PublicationData.from_manifest(json.loads(publication.manifest))
    return dataclasses.replace(data, url=url_for("public.statement", slug=publication.slug, _external=True))


def _respond(head: _Head, kind: str, build, *, mimetype: str, filename: str | None = None, inline: bool = True):
    """Serve stored bytes: 304 if the client has them, else from the cache, else built once."""
    etag = f"{head.sha256[:32]}-{kind}"
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        key = (_epoch(), head.slug, head.sha256, kind, request.host_url)
        response = Response(_kept(key, build), mimetype=mimetype)
        if mimetype.startswith("text/") or mimetype == "application/json":
            response.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
        if filename:
            response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    request.environ[CACHE_MARK] = ("file",)  # the same bytes for everyone, for good
    return response


def _page(slug: str, template: str, **extra_for):
    """An HTML page of a publication.

    Its content (the statement, signatories, endorsements) is built once per worker and cached;
    the frame around it (who is logged in, messages) is rendered for each request, so the
    cache never holds anyone's page. Anonymous readers get a public, revalidated ETag.
    """
    head = _head(slug)
    key = (_epoch(), head.slug, head.sha256, template, head.endorsements, request.host_url)

    def build() -> tuple[str, Markup, Markup]:
        publication = get_publication(slug)
        extra = {name: make(publication) for name, make in extra_for.items()}
        jinja = current_app.jinja_env.get_template(template)
        context = jinja.new_context({"publication": publication, "data": _data(publication),
                                     "endorsements": publication.endorsements, **extra})
        parts = {name: Markup("".join(jinja.blocks[name](context))) for name in ("title", "content", "head")
                 if name in jinja.blocks}
        return str(parts["title"]), parts["content"], parts.get("head", Markup(""))

    anonymous = not current_user.is_authenticated
    flashes = bool(session.get("_flashes"))
    etag = f"{head.sha256[:32]}-{template.rsplit('/', 1)[-1]}-e{head.endorsements}"
    if anonymous and request.if_none_match.contains(etag) and not flashes:
        response = Response(status=304)
    else:
        title, content, extra_head = _kept(key, build)
        response = Response(render_template("public/page.html", page_title=title, page_content=content,
                                            head=extra_head), mimetype="text/html")
    if anonymous:
        response.set_etag(etag)
        response.headers["Cache-Control"] = "public, max-age=300"
        if not flashes:  # the same page for every anonymous reader, while these stay the same
            request.environ[CACHE_MARK] = ("page", head.slug, head.id, head.endorsements)
    else:
        response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")
    return response


@bp.route("/p/<slug>")
def statement(slug: str):
    return _page(slug, "public/statement.html")


@bp.route("/p/<slug>/certificate")
def certificate(slug: str):
    return _page(
        slug, "public/certificate.html",
        signatures=lambda publication: db.session.scalars(
            select(Signature).where(Signature.version_id == publication.version_id, Signature.status == "valid")
            .order_by(Signature.signed_at)).all(),
        public_key=lambda publication: json.loads(publication.manifest).get("seal", {}).get("public_key", ""),
    )


def _file_head(slug: str) -> _Head:
    """The files of a publication never change and ignore endorsements: after the first request
    a worker answers them without asking the database (a missing slug is never cached)."""
    return _kept((_epoch(), "head", slug),
                       lambda: dataclasses.replace(_head(slug), endorsements=0))


def _download(slug: str, ext: str, mimetype: str, make, *, inline: bool = True):
    head = _file_head(slug)
    return _respond(head, ext, lambda: make(get_publication(slug)), mimetype=mimetype,
                    filename=f"{slug}.{ext}", inline=inline)


@bp.route("/p/<slug>.txt")
def text(slug: str):
    return _download(slug, "txt", "text/plain", lambda p: p.plain_text.encode("utf-8"))


@bp.route("/p/<slug>.md")
def markdown(slug: str):
    return _download(slug, "md", "text/markdown", lambda p: formats.to_markdown(_data(p)).encode("utf-8"))


@bp.route("/p/<slug>.json")
def manifest(slug: str):
    return _download(slug, "json", "application/json", lambda p: p.manifest.encode("utf-8"))


@bp.route("/p/<slug>.docx")
def docx(slug: str):
    return _download(slug, "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     lambda p: formats.to_docx(_data(p)), inline=False)


@bp.route("/p/<slug>.pdf")
def pdf(slug: str):
    def make(publication: Publication) -> bytes:
        html = render_template("public/statement_print.html", publication=publication, data=_data(publication))
        return formats.to_pdf(html)

    return _download(slug, "pdf", "application/pdf", make)


@bp.route("/about/seal")
def seal():
    return render_template("public/seal.html", public_key=sealing.public_key())


def signed_publications(organisation: Organisation) -> list[Publication]:
    """Publications ``organisation`` signed, newest first."""
    return list(db.session.scalars(
        select(Publication)
        .join(Signature, (Signature.version_id == Publication.version_id) & (Signature.status == "valid"))
        .where(Signature.organisation_id == organisation.id)
        .options(selectinload(Publication.endorsements))
        .order_by(Publication.publication_date.desc(), Publication.id.desc())
    ))


@bp.route("/o/<slug>/feed.atom")
def feed(slug: str):
    organisation = orgs.get_organisation(slug)
    publications = signed_publications(organisation)
    updated = max((p.published_at for p in publications), default=organisation.created_at)
    xml = render_template("public/feed.atom", organisation=organisation, publications=publications,
                          updated=updated, data=_data)
    response = Response(xml, mimetype="application/atom+xml")
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    response.set_etag(f"feed-{organisation.id}-{len(publications)}-{updated.timestamp():.0f}")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response.make_conditional(request)


@bp.app_template_filter("signed_on")
def signed_on(value: str) -> str:
    """A manifest's ISO time of signing as a reader's date: '20 February 2022'."""
    return format_date(datetime.fromisoformat(value).date()) if value else ""


@bp.app_template_filter("iso")
def iso(value) -> str:
    return value.isoformat() if value else ""
