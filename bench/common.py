"""What every part of the benchmark shares: the app configuration and a fresh schema."""

from __future__ import annotations

import os

from sqlalchemy import text

from config import Config

PASSWORD = "bench password 1234"


class BenchConfig(Config):
    """Production-like settings, with a fixed secret and a cheap password hash.

    No SERVER_NAME (gunicorn is reached as 127.0.0.1), CSRF on, TESTING off.
    The argon2 cost is lowered only so that 40 signatures and the logins do not
    dominate the generation time; no measured page hashes a password. The proposal
    rate limit is lifted: the writes and the mixed load propose faster than a person.
    """

    ENV = "benchmark"
    SECRET_KEY = "concord-benchmark-secret-key-not-for-production"
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    # The benchmark proposes as fast as a machine can: a person's rate limit is not what it measures.
    RATELIMIT_PROPOSE_PER_USER = "100000/minute"


def make_app(database_url: str, instance_path: str):
    from app import create_app

    return create_app(BenchConfig, SQLALCHEMY_DATABASE_URI=database_url, INSTANCE_PATH=instance_path)


def reset_schema() -> None:
    """Empty the database completely (the benchmark owns it), then run the migrations."""
    from flask_migrate import upgrade

    from app.extensions import db

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
    upgrade()


def postgres_url() -> str:
    """BENCH_DATABASE_URL, else TEST_DATABASE_URL, if it names PostgreSQL; else ''."""
    for name in ("BENCH_DATABASE_URL", "TEST_DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
            return url
    return ""
