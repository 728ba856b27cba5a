"""Rate limits on logging in, password-reset requests and signing (Flask-Limiter, public API only).

Each app gets a ``Limiter`` of its own, configured from its ``RATELIMIT_*`` settings by
``init_app``: one process may build several apps (the tests; two app servers sharing one Redis),
and a limiter's storage belongs to the limiter. Views say which limits they take with
``@limited("login")``; ``apply_limits`` wraps them with the app's ``limiter.shared_limit``
decorators once the blueprints are registered. Every limit counts POSTs (and the API's PUTs) only:
reading a form costs nothing.

Counters live in ``RATELIMIT_STORAGE_URI``: ``memory://`` counts per process (``make run``
serves with one process and threads, so it holds there), ``redis://…`` shares them between
every app server.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import Flask, current_app, g, make_response, render_template, request
from flask_babel import gettext, ngettext
from flask_limiter import Limiter, RateLimitExceeded
from flask_login import current_user

# name -> (the setting holding the limit, the counter's scope, what it counts per)
LIMITS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "login": (("RATELIMIT_LOGIN_PER_ACCOUNT", "login-account", "form_email"),
              ("RATELIMIT_LOGIN_PER_IP", "login-ip", "client_ip")),
    "reset": (("RATELIMIT_RESET_PER_ACCOUNT", "reset-account", "form_email"),
              ("RATELIMIT_RESET_PER_IP", "reset-ip", "client_ip")),
    # Shared by the web page and the API: one budget per person and per address.
    "sign": (("RATELIMIT_SIGN_PER_USER", "sign-user", "acting_user"),
             ("RATELIMIT_SIGN_PER_IP", "sign-ip", "client_ip")),
    # Sending amendment texts (proposing, previewing, editing), the web and the API alike: what an
    # accept must carry over grows with them (docs/limits.md).
    "propose": (("RATELIMIT_PROPOSE_PER_USER", "propose-user", "acting_user"),),
}
METHODS = ["POST", "PUT"]  # what changes something: reading a form costs nothing


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


KEYS = {"client_ip": client_ip, "form_email": form_email_key, "acting_user": acting_user_key}


def configured(name: str):
    """A limit read from the app's config at request time, so each app (and test) sets its own."""
    return lambda: current_app.config[name]


def limited(name: str):
    """Mark a view as taking the limits ``LIMITS[name]``; ``apply_limits`` puts them on."""
    if name not in LIMITS:
        raise ValueError(f"unknown limit {name!r}")

    def mark(view):
        view.concord_limits = name
        return view

    return mark


def init_app(app: Flask) -> Limiter:
    """The app's own limiter, configured from its RATELIMIT_* settings."""
    options = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith("redis"):
        options.setdefault("key_prefix", app.config.get("RATELIMIT_STORAGE_PREFIX", "concord"))
    app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    limiter = Limiter(key_func=client_ip)
    limiter.init_app(app)
    app.extensions["concord_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, too_many_attempts)
    return limiter


def apply_limits(app: Flask) -> None:
    """Wrap every view marked ``@limited`` with its limits, from the app's own limiter."""
    limiter = limiter_for(app)
    for endpoint, view in list(app.view_functions.items()):
        name = getattr(view, "concord_limits", None)
        if name is None:
            continue
        for setting, scope, key in LIMITS[name]:
            view = limiter.shared_limit(configured(setting), scope=scope, key_func=KEYS[key],
                                        methods=METHODS)(view)
        app.view_functions[endpoint] = view


def limiter_for(app: Flask | None = None) -> Limiter:
    return (app or current_app).extensions["concord_limiter"]


def too_many_attempts(exc: RateLimitExceeded):
    """429, changing nothing: a page with how long to wait, or the API's JSON error."""
    from app.extensions import db

    db.session.rollback()
    current = limiter_for().current_limit
    seconds = max(1, math.ceil(current.window[0] - time.time())) if current is not None else 60
    if seconds <= 60:
        message = gettext("Too many attempts; wait a minute and try again.")
    else:
        message = ngettext("Too many attempts; wait %(num)d minute and try again.",
                           "Too many attempts; wait %(num)d minutes and try again.", math.ceil(seconds / 60))
    if request.path.startswith("/api/"):
        from app.api import json_error

        response = json_error(429, "rate_limited", message)
    else:
        response = make_response(render_template("error.html", status=429, title=gettext("Too many attempts"),
                                                message=message), 429)
    response.headers["Retry-After"] = str(seconds)
    return response
