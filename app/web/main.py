from __future__ import annotations

from datetime import timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
)
from flask_babel import gettext
from flask_login import current_user

from app import i18n
from app.accounts import operations as accounts
from app.drafting.operations import statements_for
from app.extensions import db
from app.notifications.waiting import waiting_for
from app.web import now

bp = Blueprint("main", __name__)
HOME_STATEMENTS = 20  # the newest; the rest are a click away, on the statements' own pages


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    return render_template(
        "main/home.html",
        statements=statements_for(current_user, limit=HOME_STATEMENTS), home_statements=HOME_STATEMENTS,
        organisations=current_user.organisations(),
        waiting=waiting_for(current_user, now=now()),
    )


@bp.route("/language", methods=["GET", "POST"])
def choose_language():
    """The footer's language chooser, kept in a cookie. A visitor's form is a GET (it only sets the
    cookie: a page read anonymously makes no session); a logged-in person's is a POST with its CSRF
    token and sets the account's language too, so that their mail follows. An unknown language
    changes nothing (and says so)."""
    from app.web.auth import safe_next
    from app.web.i18n import LANGUAGE_COOKIE

    values = request.form if request.method == "POST" else request.args
    tag = values.get("language", "")
    response = redirect(safe_next(values.get("next")), code=303)
    if tag not in i18n.LANGUAGES:
        flash(gettext("Choose a language from the list."), "error")
        return response
    if request.method == "POST" and current_user.is_authenticated:
        accounts.set_language(current_user._get_current_object(), tag)
        db.session.commit()
    response.set_cookie(LANGUAGE_COOKIE, tag, max_age=int(timedelta(days=365).total_seconds()),
                        samesite="Lax", secure=request.is_secure, httponly=True)
    return response


@bp.route("/favicon.ico")
def favicon():
    """What browsers ask for on their own, whatever the page says."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=7 * 24 * 3600)


@bp.route("/.well-known/security.txt")
def security_txt():
    """Where to report a vulnerability (RFC 9116), from SECURITY_CONTACT; 404 until it is set."""
    contact = current_app.config.get("SECURITY_CONTACT")
    if not contact:
        abort(404)
    expires = (now() + timedelta(days=180)).replace(microsecond=0)
    base = current_app.config["BASE_URL"]
    body = (f"Contact: {contact}\nExpires: {expires.isoformat().replace('+00:00', 'Z')}\n"
            f"Preferred-Languages: en\nCanonical: {base}/.well-known/security.txt\n")
    return Response(body, mimetype="text/plain")
