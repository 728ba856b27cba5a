"""Backups of Concord's database, and restoring one (``flask backup create|restore``).

Plain functions of a database URL and a path; no Flask. A backup is consistent:

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database
  page by page under SQLite's own locking, so writers may keep working; the result is
  an ordinary ``.sqlite3`` file. Restoring runs the backup API the other way.
- PostgreSQL: ``pg_dump --format=custom`` reads everything in one snapshot
  transaction. Restoring runs ``pg_restore --clean --if-exists --no-owner`` in a single
  transaction, so a failed restore leaves the database as it was.

The caller closes its own connections before a restore (a restore replaces the data
under them). A backup is first written next to its destination and then renamed, so a
failed backup never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass(frozen=True)
class Result:
    path: Path
    bytes: int
    database: str  # the database, as a URL without its password
    dialect: str  # "sqlite" or "postgresql"


def _url(database_url: str) -> URL:
    try:
        return make_url(database_url)
    except (ArgumentError, ValueError) as exc:
        raise BackupError(f"Not a database URL: {exc}") from exc


def dialect_of(database_url: str) -> str:
    name = _url(database_url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


def default_filename(database_url: str, stamp: str) -> str:
    """``concord-<stamp>.sqlite3`` or ``concord-<stamp>.dump``, by database."""
    return f"concord-{stamp}" + (".sqlite3" if dialect_of(database_url) == "sqlite" else ".dump")


def create(database_url: str, path: str | os.PathLike) -> Result:
    """Write a consistent backup of the database to ``path`` (replacing any file there)."""
    url = _url(database_url)
    dialect = dialect_of(database_url)
    dest = Path(path)
    if dest.is_dir():
        raise BackupError(f"{dest} is a directory; name the backup file.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if dialect == "sqlite":
            _sqlite_copy(_sqlite_path(url), tmp)
        else:
            _run([_tool("pg_dump"), "--format=custom", "--no-password", f"--file={tmp}",
                  f"--dbname={_libpq_dsn(url)}"], _pg_env(url), "pg_dump")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return Result(dest, dest.stat().st_size, _safe(url), dialect)


def restore(database_url: str, path: str | os.PathLike) -> Result:
    """Replace the database's contents with the backup at ``path``."""
    url = _url(database_url)
    dialect = dialect_of(database_url)
    src = Path(path)
    if not src.is_file():
        raise BackupError(f"No backup file at {src}.")
    with src.open("rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if dialect == "sqlite":
        if not head.startswith(SQLITE_MAGIC):
            raise BackupError(f"{src} is not a SQLite backup (the configured database is SQLite).")
        _check_sqlite_backup(src)
        _sqlite_copy(src, Path(_sqlite_path(url)))
    else:
        if not head.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{src} is not a pg_dump custom-format backup "
                              "(the configured database is PostgreSQL).")
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--exit-on-error", "--no-password", f"--dbname={_libpq_dsn(url)}", str(src)],
             _pg_env(url), "pg_restore")
    return Result(src, src.stat().st_size, _safe(url), dialect)


# --- SQLite -----------------------------------------------------------------------------


def _sqlite_path(url: URL) -> str:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise BackupError("An in-memory SQLite database cannot be backed up or restored.")
    return database


def _sqlite_copy(source: str | Path, target: str | Path) -> None:
    """Copy one SQLite database onto another with the online backup API."""
    src = sqlite3.connect(str(source))
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.execute("PRAGMA busy_timeout=10000")
            dst.execute("PRAGMA busy_timeout=10000")
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy {source} to {target}: {exc}") from exc
    finally:
        src.close()


def _check_sqlite_backup(path: Path) -> None:
    """Refuse a damaged file, or a SQLite file that is not a Concord database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            status = conn.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be read as a SQLite database: {exc}") from exc
    if status != "ok":
        raise BackupError(f"{path} is damaged (SQLite integrity check: {status}).")
    if "alembic_version" not in tables:
        raise BackupError(f"{path} is not a Concord database (it has no alembic_version table).")


# --- PostgreSQL ---------------------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client tools "
            f"(for example the postgresql-client package), matching the server's major version."
        )
    return found


def _libpq_dsn(url: URL) -> str:
    """The URL as libpq reads it: no SQLAlchemy driver, no password (that goes in PGPASSWORD)."""
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                       database=url.database, query=url.query)
    return plain.render_as_string(hide_password=False)


def _pg_env(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return env


def _run(command: list[str], env: dict[str, str], name: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
        raise BackupError(f"{name} failed: {detail}")


def _safe(url: URL) -> str:
    return url.render_as_string(hide_password=True)
