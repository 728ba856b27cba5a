"""Configuration, read from the environment.

CONCORD_ENV selects the flavour: ``development`` (the default, what
``make run`` uses), ``production`` or ``testing``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CONCORD_INSTANCE", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret_key() -> str:
    """Generate a secret once and keep it in instance/, so sessions survive restarts."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    ENV = os.environ.get("CONCORD_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'concord.db'}"
    )
    # No pool_pre_ping (a round trip before each request's first query): a checkout looks, without a
    # round trip, whether the server has closed the connection, and pings only a connection idle for
    # longer than DATABASE_PING_AFTER_IDLE seconds (app/__init__.py, _replace_dead_connections).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": False}
    DATABASE_PING_AFTER_IDLE = float(os.environ.get("DATABASE_PING_AFTER_IDLE", 10))
    INSTANCE_PATH = str(INSTANCE_DIR)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    # How many reverse proxies (setting X-Forwarded-For/-Proto) stand in front of the app.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", 0))

    # argon2id cost; the defaults are argon2-cffi's (64 MiB, 3 passes)
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", 3))
    ARGON2_MEMORY_COST = int(os.environ.get("ARGON2_MEMORY_COST", 65536))

    # Flask-Babel: the interface is English for now; times are shown in the viewer's zone (their
    # account's, else their browser's), UTC until one is known.
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    INVITATION_MAX_AGE = int(os.environ.get("INVITATION_MAX_AGE", 7 * 24 * 3600))
    # How long a password-reset link works (it also dies once the password changes).
    PASSWORD_RESET_MAX_AGE = int(os.environ.get("PASSWORD_RESET_MAX_AGE", 3600))

    # Rate limits (Flask-Limiter). Counters live in RATELIMIT_STORAGE_URI: "memory://" counts per
    # process; "redis://127.0.0.1:6379/0" shares the counts between every app server.
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_STORAGE_PREFIX = os.environ.get("RATELIMIT_STORAGE_PREFIX", "concord")  # Redis keys
    RATELIMIT_STRATEGY = "fixed-window"
    # If the storage cannot be reached, log it and let the request through (argon2 still slows
    # guessing) rather than refuse every login and signature.
    RATELIMIT_SWALLOW_ERRORS = _env_bool("RATELIMIT_SWALLOW_ERRORS", True)
    RATELIMIT_LOGIN_PER_ACCOUNT = os.environ.get("RATELIMIT_LOGIN_PER_ACCOUNT", "10/minute")
    RATELIMIT_LOGIN_PER_IP = os.environ.get("RATELIMIT_LOGIN_PER_IP", "30/minute")
    RATELIMIT_RESET_PER_ACCOUNT = os.environ.get("RATELIMIT_RESET_PER_ACCOUNT", "5/hour")
    RATELIMIT_RESET_PER_IP = os.environ.get("RATELIMIT_RESET_PER_IP", "20/hour")
    RATELIMIT_SIGN_PER_USER = os.environ.get("RATELIMIT_SIGN_PER_USER", "5/minute")
    RATELIMIT_SIGN_PER_IP = os.environ.get("RATELIMIT_SIGN_PER_IP", "30/minute")
    # Amendment texts one person may send (proposals, their previews and edits; web and API share
    # it): each costs a word diff and a stored text (docs/limits.md).
    RATELIMIT_PROPOSE_PER_USER = os.environ.get("RATELIMIT_PROPOSE_PER_USER", "10/minute")

    # E-mail. Without MAIL_SERVER, messages are written to instance/outbox/ and the log.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_FROM = os.environ.get("MAIL_FROM", "Concord <concord@localhost>")
    # The address people reach the site at, for links in e-mails and the public address written into
    # every published file (PDF, Word, Markdown, manifest) when it is made.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    # The certificate that signs every published PDF: a PKCS#12 file (.p12/.pfx) and its password.
    # Without it the instance makes a self-signed one at first start (instance/pdf_signing.pem).
    PDF_SIGNING_PKCS12 = os.environ.get("PDF_SIGNING_PKCS12", "")
    PDF_SIGNING_PASSWORD = os.environ.get("PDF_SIGNING_PASSWORD", "")
    # The name in the self-signed certificate (its subject: "<name> publications").
    PDF_SIGNING_NAME = os.environ.get("PDF_SIGNING_NAME", "Concord")
    # Where to report a vulnerability privately (a mailto: or https: URI), published at
    # /.well-known/security.txt (RFC 9116). Without it that address answers 404.
    SECURITY_CONTACT = os.environ.get("SECURITY_CONTACT", "").strip()

    @classmethod
    def finalise(cls, config: dict) -> None:
        """Fill in what depends on the environment; refuse an unsafe production setup."""
        if not config.get("SECRET_KEY"):
            if config.get("ENV") == "production":
                raise RuntimeError(
                    "SECRET_KEY is not set. Set it in the environment "
                    "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
                )
            config["SECRET_KEY"] = _development_secret_key()
        uri = config["SQLALCHEMY_DATABASE_URI"]
        if uri.startswith("postgres://"):
            uri = "postgresql://" + uri[len("postgres://"):]
        if uri.startswith("postgresql://"):
            uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
        config["SQLALCHEMY_DATABASE_URI"] = uri
        # The admin's page of e-mails written to instance/outbox/: development only, never in production.
        config.setdefault("OUTBOX_PAGE", config.get("ENV") != "production" and not config.get("MAIL_SERVER"))


class TestConfig(Config):
    ENV = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    WTF_CSRF_ENABLED = True
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    SERVER_NAME = "concord.test"
    SECURITY_CONTACT = "mailto:security@concord.test"
    # The limiter stays on in every test (its hooks, keys and storage run on every request), but
    # every request of the suite comes from 127.0.0.1 within a few minutes, so the limits are
    # generous here; tests/test_rate_limits.py sets the real limits (Config's) per test.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_SWALLOW_ERRORS = False  # a broken key function must fail the test that hits it
    RATELIMIT_LOGIN_PER_ACCOUNT = RATELIMIT_LOGIN_PER_IP = "100000/minute"
    RATELIMIT_RESET_PER_ACCOUNT = RATELIMIT_RESET_PER_IP = "100000/minute"
    RATELIMIT_SIGN_PER_USER = RATELIMIT_SIGN_PER_IP = "100000/minute"
    RATELIMIT_PROPOSE_PER_USER = "100000/minute"
