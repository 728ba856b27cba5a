"""Real gunicorn servers on a database of the test's own, for the race and fault scripts (slow tests).

A database (a temp SQLite file, or a PostgreSQL database ``concord_h17_<pid>_<n>`` created on the server
named by TEST_DATABASE_URL, default postgres@127.0.0.1:5432, and dropped afterwards) gets the schema
from the migrations; the test builds its data in-process with the app's rules, then starts one or
more gunicorn servers (separate processes, as in production) on that database and talks to them over
HTTP with personal API tokens, or, for the HTML pages, as a browser with a session cookie
(WebSession). Rate limits are off in the servers: every request comes from 127.0.0.1.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import secrets
import signal
import subprocess
import sys
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.browser.server import ROOT, _wait_until_ready, free_port

IN_CI = os.environ.get("CI", "").lower() == "true"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
_numbers = itertools.count(1)


def _pg_admin_conninfo() -> str:
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def pg_connect(url: str, **kw):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1), **kw)


@contextmanager
def database(kind: str, tmp: Path):
    """Yield the SQLAlchemy URL of a fresh, empty database of the given kind; drop it afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'concord.db'}"
        return
    admin_url = _pg_admin_conninfo()
    try:
        admin = pg_connect(admin_url, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no PostgreSQL here"
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL at {urlsplit(admin_url).hostname} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable ({exc}); set TEST_DATABASE_URL or start it on 127.0.0.1:5432")
    name = f"concord_h17_{os.getpid()}_{next(_numbers)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    try:
        yield f"postgresql+psycopg://{parts.netloc}/{name}"
    finally:
        with pg_connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_app(url: str, instance: Path):
    """An in-process app on ``url`` (schema upgraded to head) for building data and checking results."""
    from flask_migrate import upgrade

    from app import create_app
    from app.publishing import sealing
    from config import TestConfig

    instance.mkdir(parents=True, exist_ok=True)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, INSTANCE_PATH=str(instance))
    with app.app_context():
        upgrade()
        sealing.public_key()  # create the seal key once, before several servers could race to
    return app


class Server:
    """One gunicorn master with its workers."""

    def __init__(self, url: str, instance: Path, log: Path, *, workers: int = 2, **extra_env: str):
        env = dict(os.environ)
        for name in ("MAIL_SERVER", "RATELIMIT_STORAGE_URI", "TEST_DATABASE_URL"):
            env.pop(name, None)
        env.update(FLASK_APP="wsgi", CONCORD_ENV="development", CONCORD_INSTANCE=str(instance),
                   DATABASE_URL=url, SECRET_KEY=secrets.token_hex(32), RATELIMIT_ENABLED="false",
                   ARGON2_TIME_COST="1", ARGON2_MEMORY_COST="8192", PYTHONDONTWRITEBYTECODE="1",
                   **extra_env)
        self.env = env
        self.port = free_port()
        self.log = log
        self._out = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--timeout", "120", "--access-logfile", "-", "wsgi:app"],
            cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT,
        )
        _wait_until_ready(self.process, self.port, log)

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def servers(url: str, instance: Path, logdir: Path, count: int = 2, **kw):
    started: list[Server] = []
    try:
        for n in range(count):
            started.append(Server(url, instance, logdir / f"gunicorn-{n}.log", **kw))
        yield started
    finally:
        for server in started:
            server.stop()


def request(port: int, method: str, path: str, token: str, body=None, *, timeout: float = 60.0):
    """One API request on a fresh connection; returns (status, parsed JSON or raw text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        return send(conn, method, path, token, body)
    finally:
        conn.close()


def send(conn: http.client.HTTPConnection, method: str, path: str, token: str, body=None):
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, "/api/v1" + path, body=data, headers=headers)
    response = conn.getresponse()
    raw = response.read().decode("utf-8", "replace")
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw


class WebSession:
    """A browser's side of the HTML pages over plain HTTP: keeps the cookies (the signed session), reads
    CSRF tokens from forms, and follows no redirects (the test wants the 302 itself)."""

    CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def send(self, conn: http.client.HTTPConnection, method: str, path: str, form: dict | None = None) -> None:
        """Send one request on ``conn`` without waiting for the answer (see ``receive``)."""
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if form is not None:
            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)

    def receive(self, conn: http.client.HTTPConnection) -> tuple[int, str, str]:
        """(status, Location header, body) of the answer on ``conn``; remembers the cookies it sets."""
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, response.headers.get("Location", ""), body

    def request(self, method: str, path: str, form: dict | None = None, *,
                timeout: float = 60.0) -> tuple[int, str, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            self.send(conn, method, path, form)
            return self.receive(conn)
        finally:
            conn.close()

    def csrf_token(self, path: str) -> str:
        status, _, body = self.request("GET", path)
        match = self.CSRF.search(body)
        assert match, f"no CSRF token on {path} (status {status})"
        return match.group(1)

    def login(self, email: str, password: str) -> None:
        token = self.csrf_token("/login")
        status, location, body = self.request("POST", "/login", {"csrf_token": token, "email": email,
                                                                 "password": password})
        assert status == 302, (status, body[:2000])


def _socket_inode(local_port: int, remote_port: int) -> str | None:
    """The inode of the server-side TCP socket 127.0.0.1:local_port <-> 127.0.0.1:remote_port."""
    want_local, want_remote = f"0100007F:{local_port:04X}", f"0100007F:{remote_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == want_local and fields[2] == want_remote:
            return fields[9]
    return None


def worker_serving(server: Server, client_port: int) -> int | None:
    """The pid of the worker of ``server`` holding the accepted connection from ``client_port``."""
    inode = _socket_inode(server.port, client_port)
    if inode is None or inode == "0":
        return None
    target = f"socket:[{inode}]"
    for pid in server.workers():
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == target:
                    return pid
            except OSError:
                continue
    return None


def kill9(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


# --- data, built in-process with the app's own rules -----------------------------------------------


class World:
    """Organisations O0..On-1 (O0 coordinates); in each a delegate and a signatory, each with a token."""

    def __init__(self, app, orgs: int):
        from app.accounts.operations import create_api_token
        from app.extensions import db
        from tests import factories

        self.app = app
        with app.app_context():
            self.org_ids, self.org_slugs, self.delegates, self.signatories = [], [], [], []
            for n in range(orgs):
                org = factories.organisation(f"Organisation {n} of the race", slug=f"race-org-{n}")
                self.org_ids.append(org.id)
                self.org_slugs.append(org.slug)
                for role, bucket in (("delegate", self.delegates), ("signatory", self.signatories)):
                    person = factories.member(org, role)
                    _, clear = create_api_token(person, f"{role} token")
                    db.session.commit()
                    bucket.append((person.id, clear))
            self.coordinator_id, self.coordinator_token = self.delegates[0]
            db.session.remove()

    def statement(self, title: str, paragraphs, *, open_with: str | None = "coordinator") -> int:
        """A statement of every organisation, opened for amendments under ``open_with``; its id."""
        from datetime import UTC, datetime

        from app.amending import operations as amending
        from app.extensions import db
        from app.models import Organisation, User
        from tests import factories

        with self.app.app_context():
            coordinator = db.session.get(User, self.coordinator_id)
            orgs = [db.session.get(Organisation, i) for i in self.org_ids]
            statement = factories.statement(coordinator, orgs[0], participants=orgs[1:], title=title,
                                            paragraphs=paragraphs)
            if open_with:
                amending.open_for_amendments(statement, coordinator, rule=open_with, deadline=None,
                                             now=datetime.now(UTC))
                db.session.commit()
            statement_id = statement.id
            db.session.remove()
        return statement_id
