"""Concord: the application factory."""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import event
from werkzeug.routing import IntegerConverter

from config import Config


def create_app(config: type[Config] | None = None, **overrides) -> Flask:
    """Build the app from ``config`` (default: the environment), then ``overrides``."""
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="static",
        instance_path=str(overrides.get("INSTANCE_PATH") or (config or Config).INSTANCE_PATH),
    )
    app.config.from_object(config or Config)
    app.config.update(overrides)
    Config.finalise(app.config)
    app.config.setdefault("CONCORD_RELEASE", _release())
    os.makedirs(app.instance_path, exist_ok=True)
    # Published files are answered before Flask (app/web/published_files.py), behind ProxyFix if any.
    from app.web.published_files import PublishedFiles

    app.wsgi_app = PublishedFiles(app, app.wsgi_app)
    if app.config.get("TRUSTED_PROXIES", 0) > 0:
        # Behind TRUSTED_PROXIES reverse proxies: take the client address and https from their headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    register_extensions(app)
    # Ids are 32-bit INTEGER columns on PostgreSQL: a larger number in a URL is a 404 here,
    # not an overflow error from the database.
    app.url_map.converters["int"] = BoundedIntConverter
    register_blueprints(app)
    register_templates(app)
    register_cli(app)
    return app


def _release() -> str:
    """A hash of the code, templates and compiled catalogues that render pages: part of every page's
    ETag, so that a browser never keeps a page rendered by an older release (or older wording)."""
    import hashlib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for folder, pattern in ((root / "app", "**/*.py"), (root / "templates", "**/*"), (root / "app" / "static", "*"),
                            (root / "app" / "translations", "*/LC_MESSAGES/*.mo")):
        for path in sorted(folder.glob(pattern)):
            if path.is_file():
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


class BoundedIntConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def register_extensions(app: Flask) -> None:
    from app import rate_limits
    from app.accounts import passwords
    from app.extensions import csrf, db, login_manager, migrate
    from app.publishing import artefacts, pdf_signing, sealing
    from app.web import i18n

    passwords.configure(
        time_cost=app.config["ARGON2_TIME_COST"], memory_cost=app.config["ARGON2_MEMORY_COST"]
    )
    sealing.configure(app.instance_path)
    pdf_signing.configure(app.instance_path, pkcs12_path=app.config.get("PDF_SIGNING_PKCS12", ""),
                          password=app.config.get("PDF_SIGNING_PASSWORD", ""),
                          name=app.config.get("PDF_SIGNING_NAME", "Concord"))
    artefacts.configure(app.config["BASE_URL"])
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    i18n.init_app(app)
    rate_limits.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(identity: str):
        from app.accounts.operations import load_for_request

        user_id, _, token = identity.partition(":")
        if not user_id.isdecimal() or int(user_id) >= 2**31:
            return None
        user = load_for_request(int(user_id))
        # The token changes with the password, which ends every older session.
        if user is None or not token or user.session_token != token:
            return None
        return user

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
        else:
            _replace_dead_connections(db.engine, app.config["DATABASE_PING_AFTER_IDLE"])


def _replace_dead_connections(engine, ping_after_idle: float) -> None:
    """Replace a dead pooled connection before use, without pool_pre_ping's round trip per checkout.

    A server that ends a connection (a restart, pg_terminate_backend, an idle timeout) sends its
    reason and closes the socket, so a pooled connection with anything to read is dead: one poll(),
    no round trip. A connection idle for longer than ``ping_after_idle`` seconds (a firewall may
    have dropped it without a word) is pinged as pool_pre_ping would. DisconnectionError from a
    checkout listener makes the pool discard the connection and hand out a fresh one.
    """
    import select
    import time

    from sqlalchemy.exc import DisconnectionError

    dialect = engine.dialect

    def checkout(dbapi_connection, record, _proxy) -> None:
        try:
            poller = select.poll()
            poller.register(dbapi_connection.fileno(), select.POLLIN)
            dead = bool(getattr(dbapi_connection, "closed", False)) or bool(poller.poll(0))
            idle = time.monotonic() - record.info.get("concord_checked_in", time.monotonic())
            if not dead and idle > ping_after_idle:
                dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - whatever a dead connection raises, replace it
            raise DisconnectionError("the database connection was closed") from exc
        if dead:
            raise DisconnectionError("the database closed the connection")

    def checkin(_dbapi_connection, record) -> None:
        record.info["concord_checked_in"] = time.monotonic()

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def register_blueprints(app: Flask) -> None:
    from app.api import bp as api_bp
    from app.extensions import csrf
    from app.rate_limits import apply_limits
    from app.web import register as register_web

    register_web(app)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, never cookies
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    apply_limits(app)


def register_templates(app: Flask) -> None:
    from app.web import filters

    filters.register(app)


def register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)
