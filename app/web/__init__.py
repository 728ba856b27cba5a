"""The HTML side of Concord: blueprints, error pages and the glue between forms and rules."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Flask, current_app, make_response, redirect, render_template, request, session, url_for
from flask_babel import get_locale, get_timezone, gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from app.errors import ConcordError, InvalidInput
from app.extensions import commit_keeping_state, db
from app.web.headers import security_headers


def now() -> datetime:
    return datetime.now(UTC)


# --- conditional GETs: an ETag made of what a page shows --------------------------------------


def page_etag(*shown) -> str:
    """A page's ETag: a hash of everything it shows, as the caller read it from the database in this
    request, plus the viewer (who they are, their unread count, their session's CSRF token, which the
    page's forms carry) and the release (templates and code). Nothing is kept between requests: the
    tag is only as fresh as the data read to build it, which is the data the page would show."""
    user = current_user._get_current_object()
    token_key = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if user.is_authenticated and token_key not in session:
        generate_csrf()  # the page's forms will carry it: made now, the first view's tag is the next view's
    viewer = (user.id, user.name, user.is_admin, getattr(user, "unread_notifications", None),
              sorted(user.role_pairs()), session.get(token_key)) if user.is_authenticated else None
    # Dates are shown in the viewer's time zone, and words in their language.
    viewer = (viewer, str(get_timezone()), str(get_locale()))
    # A page that showed messages (shown once) is a different page from the same one without them.
    viewer = (viewer, session.get("_flashes"))
    data = repr((current_app.config["CONCORD_RELEASE"], viewer, shown))
    return '"' + hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()[:40] + '"'


_UNSHOWN = frozenset({"password_hash", "session_token", "canonical_text", "nonce", "token_hash"})


def shown(*rows) -> tuple:
    """Every loaded column of these rows (None for a missing row), to build a page's ETag from: a
    page that shows a row changes with any of its columns, and nobody has to list them."""
    out = []
    for row in rows:
        if row is None:
            out.append(None)
            continue
        loaded = row.__dict__
        out.append((type(row).__name__, tuple(
            (key, loaded[key]) for key in inspect(type(row)).column_attrs.keys()
            if key in loaded and key not in _UNSHOWN)))
    return tuple(out)


def not_modified(etag: str):
    """A 304 if the browser already has this exact page (and no message is waiting to be shown)."""
    if session.get("_flashes") or not request.if_none_match.contains(etag.strip('"')):
        return None
    return conditional(make_response("", 304), etag)


def conditional(response, etag: str):
    """Mark a private page with its ETag: the browser keeps it and asks again every time."""
    response.set_etag(etag.strip('"'))
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")
    return response


ID_MAX = 2**31 - 1  # ids and numbers are 32-bit INTEGER columns on PostgreSQL


def int_arg(name: str) -> int | None:
    """A query-string number (an id, a version number) that a database column can hold; None otherwise."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 <= value <= ID_MAX else None


def run_rule(form: FlaskForm | None, action, *args, **kwargs):
    """Run a rule and commit once; on a domain error roll back and show it on the form.

    Returns ``(True, result)`` or ``(False, error)``.
    """
    try:
        result = action(*args, **kwargs)
        commit_keeping_state()
        return True, result
    except ConcordError as exc:
        db.session.rollback()
        if form is not None:
            add_error(form, exc)
        return False, exc


def add_error(form: FlaskForm, exc: ConcordError) -> None:
    """Show a domain error next to the field it is about, or above the form."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors or []) + [exc.message]
    else:
        form.form_errors.append(exc.message)


def form_status(form: FlaskForm) -> int:
    """The status of a page showing ``form``: 422 when it is shown again with what was wrong with it."""
    return 422 if form.errors else 200


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_strings(value) -> list[str]:
    """Every key and string in a parsed JSON value (without recursion: it may be deep)."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            found.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def register(app: Flask) -> None:
    from app.web import (
        account,
        admin,
        amendments,
        archive,
        auth,
        main,
        merged,
        notifications,
        organisations,
        participation,
        public,
        signing,
        statements,
        translations,
    )

    for module in (auth, main, account, admin, organisations, statements, amendments, merged, signing, public,
                   archive, notifications, participation, translations):
        app.register_blueprint(module.bp)

    @app.before_request
    def require_setup():
        if app.extensions.get("concord_setup_done"):
            return None
        from app.accounts.operations import setup_needed

        if not setup_needed():
            # Monotonic: setup never un-happens.
            app.extensions["concord_setup_done"] = object()
            return None
        if request.endpoint in ("auth.setup", "static", "main.security_txt", "main.favicon") \
                or request.path.startswith("/api/"):
            return None
        return redirect(url_for("auth.setup"))

    @app.before_request
    def refuse_what_no_database_stores():
        """NUL characters and unpaired surrogates are not text that a database can hold or compare
        (PostgreSQL refuses NUL; neither driver encodes a lone surrogate, which JSON's \\ud800 escapes
        can make): refuse them in the path, the query, a form or a JSON body before any lookup or rule
        sees them, on both databases alike. JSON nested deeper than the parser follows is refused too."""
        texts = [request.path, *(t for pair in request.args.items(multi=True) for t in pair)]
        if request.path.startswith("/api/"):
            if request.is_json:  # the API reads no forms: parsing one would use up a body it reads
                try:
                    texts.extend(_json_strings(request.get_json(silent=True)))
                except RecursionError:
                    raise InvalidInput(gettext("The JSON is nested too deeply.")) from None
        else:
            texts.extend(t for pair in request.form.items(multi=True) for t in pair)
        if any(not _storable(text) for text in texts):
            raise InvalidInput(gettext("What you sent contains a NUL character or half of a surrogate pair, "
                                       "which Concord cannot store. Remove it and send it again."))

    @app.after_request
    def add_security_headers(response):
        """Strict headers on every response (app/web/headers.py)."""
        for name, value in security_headers(request.is_secure):
            response.headers.setdefault(name, value)
        return response

    def error_page(status: int, code: str, title: str, message: str):
        """``code`` (English, for the API's JSON) names the error; ``title`` and ``message`` are shown."""
        if request.path.startswith("/api/"):
            from app.api import json_error

            return json_error(status, code, message)
        return render_template("error.html", status=status, title=title, message=message), status

    @app.errorhandler(ConcordError)
    def concord_error(exc: ConcordError):
        db.session.rollback()
        titles = {403: ("not_allowed", gettext("Not allowed")), 404: ("not_found", gettext("Not found")),
                  409: ("conflict", gettext("Conflict"))}
        code, title = titles.get(exc.status, ("cannot_do_that", gettext("Cannot do that")))
        return error_page(exc.status, code, title, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_page(
            400,
            "form_expired",
            gettext("Form expired"),
            gettext("This form was open too long or was sent twice. Go back, reload the page and try again."),
        )

    @app.errorhandler(404)
    def not_found(exc):
        return error_page(404, "not_found", gettext("Not found"), gettext("There is nothing at this address."))

    @app.errorhandler(403)
    def forbidden(exc):
        return error_page(403, "not_allowed", gettext("Not allowed"), gettext("You are not allowed to do that."))

    @app.errorhandler(405)
    def method_not_allowed(exc):
        return error_page(405, "method_not_allowed", gettext("Method not allowed"),
                          gettext("This address does not accept that request."))

    @app.errorhandler(413)
    def too_large(exc):
        return error_page(413, "too_large", gettext("Too large"),
                          gettext("What you sent is larger than Concord accepts (4 MB)."))

    @app.errorhandler(400)
    def bad_request(exc):
        return error_page(400, "bad_request", gettext("Bad request"),
                          gettext("The request could not be understood."))

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        """The database could not do the work: its disk is full, the connection was lost, a lock timed out.

        The transaction is rolled back, so nothing was saved; 503 (try again later), not 500. The
        operator finds the database's own message, with the traceback, in the server log.
        """
        db.session.rollback()
        app.logger.error("Database error on %s %s: %s", request.method, request.path, exc.orig, exc_info=exc)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            message = gettext("The database is not available just now. Please try again in a few minutes.")
        else:
            message = gettext("Your change could not be saved: the database is not available just now (its disk "
                              "may be full, or it may be restarting). Nothing was changed. Please try again in a "
                              "few minutes.")
        response = make_response(error_page(503, "database_unavailable", gettext("Database unavailable"), message))
        response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(500)
    def server_error(exc):
        db.session.rollback()
        return error_page(500, "something_went_wrong", gettext("Something went wrong"),
                          gettext("Nothing was changed. Please try again."))
