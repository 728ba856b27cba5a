"""The HTML side of Concord: blueprints, error pages and the glue between forms and rules."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, current_app, make_response, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError

from app.errors import ConcordError, InvalidInput
from app.extensions import db


def now() -> datetime:
    return datetime.now(UTC)


def reads_only(view):
    """Mark a view that never writes: its queries run without a transaction (``autocommit``).

    On PostgreSQL this saves the BEGIN and ROLLBACK round trips around a page that only reads;
    each query still sees committed data only (READ COMMITTED gives a transaction no more than that),
    and the cached pages' keys are read in the same request as what they key. SQLite's driver
    opens no transaction for reads either. A write in such a view would commit at once: don't."""
    view.concord_reads_only = True
    return view


def reading_only() -> bool:
    """Whether this request is a GET or HEAD of a view marked ``@reads_only``."""
    view = current_app.view_functions.get(request.endpoint)
    return request.method in ("GET", "HEAD") and getattr(view, "concord_reads_only", False)


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
        db.session.commit()
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
    from app.web import fragments
    from app.web.session_cookies import RememberingSessionInterface

    fragments.init_app(app)
    app.session_interface = RememberingSessionInterface()
    from app.web import (
        account,
        admin,
        amendments,
        auth,
        main,
        notifications,
        organisations,
        participation,
        public,
        signing,
        statements,
    )

    for module in (auth, main, account, admin, organisations, statements, amendments, signing, public,
                   notifications, participation):
        app.register_blueprint(module.bp)

    @app.before_request
    def require_setup():
        if app.extensions.get("concord_setup_done"):
            return None
        from app.accounts.operations import setup_needed

        if not setup_needed():
            # Monotonic: setup never un-happens. A new object each time: the per-worker caches of
            # app/web/public.py are keyed by it, so they never outlive the database they read.
            app.extensions["concord_setup_done"] = object()
            return None
        if request.endpoint in ("auth.setup", "static", "main.security_txt", "main.favicon") \
                or request.path.startswith("/api/"):
            return None
        return redirect(url_for("auth.setup"))

    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"

    @app.before_request
    def read_without_transaction():
        # Not if a transaction has begun already: a worker's first request has checked the setup.
        if postgres and reading_only() and not db.session().in_transaction():
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})

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
                    raise InvalidInput("The JSON is nested too deeply.") from None
        else:
            texts.extend(t for pair in request.form.items(multi=True) for t in pair)
        if any(not _storable(text) for text in texts):
            raise InvalidInput("What you sent contains a NUL character or half of a surrogate pair, "
                               "which Concord cannot store. Remove it and send it again.")

    @app.after_request
    def security_headers(response):
        """Strict headers on every response, pages, files, errors and the API alike.

        HSTS goes out only over https. Behind a reverse proxy that terminates TLS,
        ``request.is_secure`` is true only if the proxy sets ``X-Forwarded-Proto`` and
        the app trusts it through werkzeug's ProxyFix (see docs/security.md).
        """
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        return response

    def error_page(status: int, title: str, message: str):
        if request.path.startswith("/api/"):
            from app.api import json_error

            return json_error(status, title.lower().replace(" ", "_"), message)
        return render_template("error.html", status=status, title=title, message=message), status

    @app.errorhandler(ConcordError)
    def concord_error(exc: ConcordError):
        db.session.rollback()
        titles = {403: "Not allowed", 404: "Not found", 409: "Conflict"}
        return error_page(exc.status, titles.get(exc.status, "Cannot do that"), exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return error_page(
            400,
            "Form expired",
            "This form was open too long or was sent twice. Go back, reload the page and try again.",
        )

    @app.errorhandler(404)
    def not_found(exc):
        return error_page(404, "Not found", "There is nothing at this address.")

    @app.errorhandler(403)
    def forbidden(exc):
        return error_page(403, "Not allowed", "You are not allowed to do that.")

    @app.errorhandler(405)
    def method_not_allowed(exc):
        return error_page(405, "Method not allowed", "This address does not accept that request.")

    @app.errorhandler(413)
    def too_large(exc):
        return error_page(413, "Too large", "What you sent is larger than Concord accepts (4 MB).")

    @app.errorhandler(400)
    def bad_request(exc):
        return error_page(400, "Bad request", "The request could not be understood.")

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        """The database could not do the work: its disk is full, the connection was lost, a lock timed out.

        The transaction is rolled back, so nothing was saved; 503 (try again later), not 500. The
        operator finds the database's own message, with the traceback, in the server log.
        """
        db.session.rollback()
        app.logger.error("Database error on %s %s: %s", request.method, request.path, exc.orig, exc_info=exc)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            message = "The database is not available just now. Please try again in a few minutes."
        else:
            message = ("Your change could not be saved: the database is not available just now (its disk may "
                       "be full, or it may be restarting). Nothing was changed. Please try again in a few minutes.")
        response = make_response(error_page(503, "Database unavailable", message))
        response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(500)
    def server_error(exc):
        db.session.rollback()
        return error_page(500, "Something went wrong", "Nothing was changed. Please try again.")
