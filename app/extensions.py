"""Extension instances, bound to an app in create_app(). Imports nothing of app."""

import hashlib
from dataclasses import dataclass

from flask import Flask, current_app, g, has_app_context, request
from flask_limiter import Limiter
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from limits.storage import Storage
from limits.strategies import RateLimiter
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def commit_keeping_state() -> None:
    """Commit the request's one transaction without expiring what it loaded and wrote.

    A request commits once, at its end: what it then shows (a message naming the organisation, the
    new row's id, the JSON of what it made) is what it has just written, and reading all of it
    again would cost a query per row."""
    session = db.session()
    session.expire_on_commit = False
    try:
        db.session.commit()
    finally:
        session.expire_on_commit = True
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


# --- rate limits ----------------------------------------------------------------------------


def client_ip() -> str:
    """The address the request came from (behind a proxy: as ProxyFix sets it)."""
    return f"ip:{request.remote_addr or 'unknown'}"


def email_key(email: str | None) -> str:
    """A key for one e-mail address, normalised as accounts are; hashed, so no address is stored."""
    normalised = (email or "").strip().lower()
    return "email:" + hashlib.sha256(normalised.encode("utf-8", "replace")).hexdigest()[:32]


def form_email_key() -> str:
    """The login or reset form's e-mail; an empty field counts against one shared key."""
    return email_key(request.form.get("email"))


def acting_user_key() -> str:
    """The logged-in person (web) or the API token's owner; empty (no limit) for nobody."""
    user = getattr(g, "api_user", None)
    if user is None and current_user and current_user.is_authenticated:
        user = current_user
    return f"user:{user.id}" if user is not None else ""


def configured(name: str):
    """A limit read from the app's config at request time, so each app (and test) sets its own."""
    return lambda: current_app.config[name]


@dataclass
class _AppLimits:
    enabled: bool
    swallow_errors: bool
    storage: Storage | None
    strategy: RateLimiter | None


def _per_app(name: str):
    """An attribute of Flask-Limiter's that reads the current app's value (else the last set)."""

    def get(self):
        state = self._state()
        return getattr(state, name) if state is not None else self.__dict__.get(f"_own_{name}")

    def set(self, value):
        self.__dict__[f"_own_{name}"] = value

    return property(get, set)


class AppLimiter(Limiter):
    """Flask-Limiter, with the storage and the on/off switch kept per app.

    Flask-Limiter keeps one storage per ``Limiter`` object, but the decorators need one object at
    import time while one process may build several apps (the tests, two apps sharing one Redis).
    So each app keeps its own storage in ``app.extensions`` and requests use their app's.
    """

    def init_app(self, app: Flask) -> None:
        options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
        if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith("redis"):
            options.setdefault("key_prefix", app.config.get("RATELIMIT_STORAGE_PREFIX", "concord"))
        app.config["RATELIMIT_STORAGE_OPTIONS"] = options
        self._storage_options = {}  # not inherited from the app initialised before
        self._strategy = None
        self._swallow_errors = None
        enabled = bool(app.config.setdefault("RATELIMIT_ENABLED", True))
        self.enabled = enabled
        app.extensions.pop("concord_limits", None)
        if enabled:
            with app.app_context():  # so that the attributes below read this app, not an active one
                super().init_app(app)
        app.extensions["concord_limits"] = _AppLimits(
            enabled=enabled, swallow_errors=bool(app.config.get("RATELIMIT_SWALLOW_ERRORS", False)),
            storage=self._storage if enabled else None, strategy=self._limiter if enabled else None)

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        # Every limit counts POSTs (tests/test_rate_limits.py checks it): pages, most of the traffic,
        # skip the bookkeeping the limiter does before each request.
        if in_middleware and request.method in ("GET", "HEAD", "OPTIONS"):
            return
        super()._check_request_limit(callable_name, in_middleware)

    def _state(self) -> _AppLimits | None:
        return current_app.extensions.get("concord_limits") if has_app_context() else None

    enabled = _per_app("enabled")
    _swallow_errors = _per_app("swallow_errors")

    @property
    def storage(self) -> Storage:
        state = self._state()
        if state is not None and state.storage is not None:
            return state.storage
        return super().storage

    @property
    def limiter(self) -> RateLimiter:
        state = self._state()
        if state is not None and state.strategy is not None:
            return state.strategy
        return super().limiter


limiter = AppLimiter(key_func=client_ip)


def signing_limits(view):
    """Per person and per address limits on sign attempts, one budget for the web and the API."""
    view = limiter.shared_limit(configured("RATELIMIT_SIGN_PER_USER"), scope="sign-user",
                                key_func=acting_user_key, methods=["POST"])(view)
    return limiter.shared_limit(configured("RATELIMIT_SIGN_PER_IP"), scope="sign-ip",
                                key_func=client_ip, methods=["POST"])(view)


def proposal_limits(view):
    """Per person limit on sending amendment texts (proposing, previewing, editing), one budget for
    the web and the API."""
    return limiter.shared_limit(configured("RATELIMIT_PROPOSE_PER_USER"), scope="propose-user",
                                key_func=acting_user_key, methods=["POST", "PUT"])(view)
