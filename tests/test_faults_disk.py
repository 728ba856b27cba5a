"""A full disk (issue 8, item 6): a change asked for while the database's disk is full is refused with
a clear 503, changes nothing, and succeeds once there is space again, on the same gunicorn server (no
restart). Marked slow.

The disk is a real, small filesystem (a tmpfs mounted for the test), filled to the last block with a
file that is deleted afterwards ("space is back"):

- SQLite: the database and the instance folder live on it. Before filling, the test checkpoints the
  WAL and truncates it to 0 bytes, so the change's commit must grow the WAL: SQLITE_FULL ("database or
  disk is full"). Without that step a WAL left large by earlier writes would be reused, and a small
  change could still commit on a full disk.
- PostgreSQL: a tablespace on the tmpfs (owned by the server's OS user) is the default tablespace of a
  fresh database, so every table and index of the app lives there; the catalogs and the WAL stay on the
  server's own disk (a full WAL disk stops the whole server, which the shared test server cannot be
  made to do). PostgreSQL claims disk space when a table or index grows by a page, so a write that
  fits in pages it already has still succeeds on a full disk, durably; a write that needs a new page
  fails with "could not extend file ...: No space left on device". The actions below need new pages
  on purpose: the first signature of a fresh database (the signatures table and its indexes are
  empty), and an amendment whose long text is stored out of line (the TOAST table is empty).

Mounting needs root (CAP_SYS_ADMIN) and the PostgreSQL server on this machine; without them the tests
skip with the reason, and fail under CI=true.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.extensions import db
from tests import factories
from tests import live_server as live
from tests.test_faults import _amendment, _freeze, _snapshot, _text_version, _web_ready

pytestmark = pytest.mark.slow
SPACE_PREFIX = "concord_full_"  # tablespaces and databases of this module: concord_full_<pid>_<n>
_numbers = iter(range(1, 10**6))


def _unavailable(reason: str):
    if live.IN_CI:
        pytest.fail(f"CI=true but the full-disk test cannot run: {reason}")
    pytest.skip(f"full-disk test skipped: {reason}")


# --- a small filesystem, filled and emptied -----------------------------------------------------


def _umount(point: Path) -> None:
    for _ in range(50):  # a process that just closed a file can keep the mount busy for a moment
        if subprocess.run(["umount", str(point)], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)  # between retries only
    else:
        subprocess.run(["umount", "--lazy", str(point)], capture_output=True)
    try:
        point.rmdir()
    except OSError:
        pass


@contextmanager
def small_tmpfs(megabytes: int, *, uid: int = 0, gid: int = 0):
    """A tmpfs of ``megabytes`` mounted on a fresh directory under the system temp folder."""
    if os.geteuid() != 0:
        _unavailable("mounting a small filesystem needs root")
    point = Path(tempfile.mkdtemp(prefix="concord-full-disk-"))
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,uid={uid},gid={gid},mode=0700",
                                 "concord-full-disk", str(point)], capture_output=True, text=True)
    except FileNotFoundError:
        result = None
    if result is None or result.returncode != 0:
        point.rmdir()
        detail = result.stderr.strip() if result is not None else "no mount command"
        _unavailable(f"cannot mount a tmpfs here ({detail}); it needs CAP_SYS_ADMIN")
    try:
        yield point
    finally:
        _umount(point)


def fill(point: Path) -> Path:
    """Fill the filesystem at ``point`` to its last block; the filler file, to delete to free the space."""
    filler = point / "filler"
    with filler.open("wb", buffering=0) as out:
        stat = os.statvfs(point)
        os.posix_fallocate(out.fileno(), 0, stat.f_bavail * stat.f_frsize)
        try:  # whatever fallocate's rounding left
            while out.write(b"\0" * 4096):
                pass
        except OSError:
            pass
    assert os.statvfs(point).f_bavail == 0, "the filesystem is not full"
    return filler


def _checkpoint_and_truncate_wal(sqlite_url: str) -> None:
    """Move the WAL into the database file and cut it to 0 bytes: the next commit must grow it."""
    path = sqlite_url.removeprefix("sqlite:///")
    con = sqlite3.connect(path, timeout=10)
    try:
        busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        con.close()
    assert busy == 0, "a connection kept the WAL from being checkpointed"
    wal = Path(path + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


# --- PostgreSQL: a fresh database whose tables live on a tablespace on the tmpfs -------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_leftovers(admin) -> None:
    """Drop tablespaces (and their databases, and unmount their tmpfs) left by a run that was killed."""
    for name, location in admin.execute(
            "SELECT spcname, pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname LIKE %s",
            (SPACE_PREFIX + "%",)).fetchall():
        pid = name.removeprefix(SPACE_PREFIX).split("_")[0]
        if not pid.isdigit() or _pid_alive(int(pid)):
            continue
        for (database,) in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                         (f"{SPACE_PREFIX}{pid}_%",)).fetchall():
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'DROP TABLESPACE IF EXISTS "{name}"')
        if location and Path(location).parent.name.startswith("concord-full-disk-"):
            _umount(Path(location).parent)


@contextmanager
def pg_database_on_tmpfs(megabytes: int):
    """Yield (SQLAlchemy URL, mount point) of a fresh database whose default tablespace is on a tmpfs."""
    admin_url = live._pg_admin_conninfo()
    if urlsplit(admin_url).hostname not in ("127.0.0.1", "localhost", "::1"):
        _unavailable("the PostgreSQL server is on another machine: its disk cannot be filled from here")
    try:
        admin = live.pg_connect(admin_url, autocommit=True, connect_timeout=3)
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no PostgreSQL here"
        _unavailable(f"PostgreSQL unreachable ({exc})")
    with admin, ExitStack() as cleanup:
        if not admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
            _unavailable("CREATE TABLESPACE needs a PostgreSQL superuser")
        data_dir = Path(admin.execute("SHOW data_directory").fetchone()[0])
        if not data_dir.is_dir():
            _unavailable(f"the PostgreSQL server's data directory {data_dir} is not on this machine")
        _sweep_leftovers(admin)
        owner = data_dir.stat()
        point = cleanup.enter_context(small_tmpfs(megabytes, uid=owner.st_uid, gid=owner.st_gid))
        (point / "pg").mkdir()
        os.chown(point / "pg", owner.st_uid, owner.st_gid)
        n = next(_numbers)
        space, name = f"{SPACE_PREFIX}{os.getpid()}_{n}", f"{SPACE_PREFIX}{os.getpid()}_{n}"
        admin.execute(f"CREATE TABLESPACE \"{space}\" LOCATION '{point / 'pg'}'")
        cleanup.callback(admin.execute, f'DROP TABLESPACE IF EXISTS "{space}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        cleanup.callback(admin.execute, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'ALTER DATABASE "{name}" SET default_tablespace = "{space}"')
        yield f"postgresql+psycopg://{urlsplit(admin_url).netloc}/{name}", point


# --- the site: data built in-process, then one gunicorn server -------------------------------------


def _dispose(app) -> None:
    """Close the test's own pooled connections (SQLite: nothing may keep the WAL from a checkpoint)."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def _site(kind: str, tmp_path: Path):
    """A fresh database on a small tmpfs, with three organisations."""
    with ExitStack() as stack:
        if kind == "sqlite":
            point = stack.enter_context(small_tmpfs(16))
            url, instance = f"sqlite:///{point / 'concord.db'}", point / "instance"
        else:
            url, point = stack.enter_context(pg_database_on_tmpfs(32))
            instance = tmp_path / "instance"
        app = live.make_app(url, instance)
        stack.callback(_dispose, app)
        world = live.World(app, 3)
        _web_ready(world)
        world.kind, world.url, world.tmp, world.point, world.instance = kind, url, tmp_path, point, instance
        yield world


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request, tmp_path):
    with _site(request.param, tmp_path) as world:
        yield world


@pytest.fixture
def pg_site(tmp_path):
    with _site("postgresql", tmp_path) as world:
        yield world


def _long_text(words: int = 1300) -> str:
    """About 9,000 characters of varied words (under the 10,000 a paragraph may have): stored out of line
    (TOAST) on PostgreSQL."""
    rng = random.Random(8)
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
                  for _ in range(4000)]
    return " ".join(rng.choice(vocabulary) for _ in range(words)).capitalize() + "."


DISK_FULL_IN_LOG = {"sqlite": "database or disk is full", "postgresql": "No space left on device"}
# Where the write fails (a frame of the traceback in the server log): the rule's commit or flush, except
# through the API on SQLite, where the token's last_used_at, committed before the rule runs, is the
# first write that needs the disk.
FAILS_IN = {("sqlite", "web_accept"): "in run_rule", ("sqlite", "web_sign"): "in run_rule",
            ("sqlite", "api_sign"): "in authenticate",
            ("postgresql", "web_accept"): "app/amending/operations.py",
            ("postgresql", "web_sign"): "app/signing/operations.py",
            ("postgresql", "api_sign"): "app/signing/operations.py"}


def _web_accept(w, server, amendment_id: int):
    web = live.WebSession(server.port)
    web.login(w.emails[w.coordinator_id], factories.PASSWORD)
    form = {"csrf_token": web.csrf_token(f"/amendments/{amendment_id}"),
            "text_version": str(_text_version(w, amendment_id))}
    return web, f"/amendments/{amendment_id}/accept", form


def _accepted(before: dict, done: dict, amendment_id: int) -> None:
    assert done["version_count"] == before["version_count"] + 1
    assert done["versions"] == before["versions"] + 1
    assert done["revisions"] == before["revisions"] + 1
    assert dict(done["amendments"])[amendment_id] == "accepted"
    assert done["audit"] == before["audit"] + 1


@pytest.mark.parametrize("action", ["web_accept", "web_sign", "api_sign"])
def test_full_disk_refuses_change_cleanly_then_it_succeeds(site, action):
    w = site
    statement_id = w.statement(f"Full disk {action}", ["The rivers are rising in every valley we know."])
    if action == "web_accept":
        amendment_id = _amendment(w, statement_id, _long_text())
    else:
        sha = _freeze(w, statement_id)
        signature = {"organisation": w.org_slugs[1], "signer_name": "Signer", "signer_title": "Chair",
                     "authorised": True, "password": factories.PASSWORD, "version_sha256": sha}

    with live.servers(w.url, w.instance, w.tmp, count=1) as (server,):
        if action == "web_accept":
            web, path, form = _web_accept(w, server, amendment_id)
        elif action == "web_sign":
            web = live.WebSession(server.port)
            web.login(w.emails[w.signatories[1][0]], factories.PASSWORD)
            path = f"/statements/{statement_id}/sign"
            form = {"csrf_token": web.csrf_token(path), "organisation": str(w.org_ids[1]),
                    "signer_name": signature["signer_name"], "signer_title": signature["signer_title"],
                    "authorised": "y", "password": factories.PASSWORD, "version_sha256": sha}
        else:
            web, path = live.WebSession(server.port), f"/statements/{statement_id}/signatures"

        def attempt():
            if action == "api_sign":
                return live.request(server.port, "POST", path, w.signatories[1][1], signature)
            status, location, page = web.request("POST", path, form)
            return status, location or page

        before = _snapshot(w, statement_id)
        workers = server.workers()
        _dispose(w.app)
        if w.kind == "sqlite":
            _checkpoint_and_truncate_wal(w.url)
        filler = fill(w.point)
        try:
            status, answer = attempt()
            full = _snapshot(w, statement_id)
            if action == "api_sign":
                reading = live.request(server.port, "GET", f"/statements/{statement_id}", w.signatories[1][1])
            else:
                reading = web.request("GET", f"/statements/{statement_id}")[:2]
        finally:
            filler.unlink()  # the space is back
        assert status == 503, (status, answer)
        if action == "api_sign":
            assert answer["error"]["code"] == "database_unavailable", answer
            message = answer["error"]["message"]
        else:
            assert "<h1>Database unavailable</h1>" in answer, answer
            message = answer
        assert "could not be saved" in message and "Nothing was changed" in message, message
        assert "Traceback" not in str(answer)
        assert full == before, "a change refused for a full disk left part of itself behind"
        # Reading works on a full disk, except through the API on SQLite: every API request first commits
        # its token's last_used_at, which needs the disk (the same 503, nothing changed).
        reads = 503 if (w.kind, action) == ("sqlite", "api_sign") else 200
        assert reading[0] == reads, ("a request that only reads, on the full disk", reading)

        status, answer = attempt()  # the same request, on the same server: all of it now
        if action == "api_sign":
            assert status == 201, (status, answer)
        else:
            assert status == 302 and "/login" not in answer, (status, answer)
        done = _snapshot(w, statement_id)
        if action == "web_accept":
            _accepted(before, done, amendment_id)
        else:
            assert done["signatures"] == before["signatures"] + 1
            assert done["audit"] == before["audit"] + 1
        assert server.process.poll() is None and server.workers() == workers, "the server was restarted"
    log = server.log_text()
    assert DISK_FULL_IN_LOG[w.kind] in log and FAILS_IN[w.kind, action] in log, log[-3000:]


def test_full_postgresql_disk_keeps_a_change_that_fits_in_its_pages(pg_site):
    """PostgreSQL claims disk space when a table or index grows by a page. A short accept fits in the pages
    its tables already have: it commits on the full disk, and a CHECKPOINT (which writes every changed
    page into the full tablespace) succeeds with the disk still full: the change is on disk, not lost."""
    w = pg_site
    statement_id = w.statement("Full disk, small change", ["The rivers are rising in every valley we know."])
    amendment_id = _amendment(w, statement_id, "The rivers are rising fast in every valley we know.")
    with live.servers(w.url, w.instance, w.tmp, count=1) as (server,):
        web, path, form = _web_accept(w, server, amendment_id)
        before = _snapshot(w, statement_id)
        filler = fill(w.point)
        try:
            status, location, page = web.request("POST", path, form)
            assert status == 302 and location.endswith(f"/amendments/{amendment_id}"), (status, location, page)
            with live.pg_connect(live._pg_admin_conninfo(), autocommit=True) as admin:
                admin.execute("CHECKPOINT")  # raises "checkpoint request failed" if a page could not be written
            assert os.statvfs(w.point).f_bavail == 0, "the disk is no longer full"
            _accepted(before, _snapshot(w, statement_id), amendment_id)
        finally:
            filler.unlink()
    assert "No space left on device" not in server.log_text()
