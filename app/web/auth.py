from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.urls import iri_to_uri
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from app.accounts import operations as accounts
from app.errors import Conflict, NotFound
from app.extensions import db
from app.i18n import DEFAULT, _, in_language
from app.rate_limits import limited
from app.web import now, run_rule
from app.web.forms import AcceptInvitationForm, EmptyForm, LoginForm, SetupForm, email_field

bp = Blueprint("auth", __name__)

INVITATION_SALT = "concord-invitation"
RESET_SALT = "concord-password-reset"


def _serializer(salt: str = INVITATION_SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


class ForgotPasswordForm(FlaskForm):
    email = email_field(_l("E-mail"), DataRequired())


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=1000)],
                             description=_l("At least 10 characters. Every other session is logged out."))
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


def english(exc) -> str:
    """A rule's message in English, to tell one message from another whatever the viewer reads."""
    return in_language(exc.raw_message, DEFAULT)


def invitation_path(payload: dict) -> str:
    """The path of an invitation's signed link (``payload``: its id and nonce)."""
    return url_for("auth.accept_invitation", token=_serializer().dumps(payload))


def invitation_url(invitation) -> str:
    """The whole link, to copy by hand."""
    token = _serializer().dumps({"i": invitation.id, "n": invitation.nonce})
    return url_for("auth.accept_invitation", token=token, _external=True)


# What a browser's URL parser drops anywhere in a URL, and what it strips at either end.
_DROPPED = str.maketrans("", "", "\t\n\r")
_STRIPPED = "".join(map(chr, range(0x21)))


def safe_next(target: str | None) -> str:
    """Where to go after logging in: ``target`` if it is a path on this site as the browser will read it,
    else the start page.

    Browsers drop tabs and newlines anywhere in a URL, strip leading blanks and control characters, and
    take a backslash for a slash; a path that then starts with two slashes names another host. Percent-
    encoded slashes or backslashes at the start are refused too (a proxy may decode them)."""
    home = url_for("main.home")
    if not target or len(target) > 2000:
        return home
    read = target.translate(_DROPPED).strip(_STRIPPED).replace("\\", "/")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in read):
        return home
    if not read.startswith("/") or read.startswith("//"):
        return home
    if unquote(read).replace("\\", "/").startswith("//"):
        return home
    parts = urlsplit(read)
    if parts.scheme or parts.netloc:
        return home
    return iri_to_uri(read)


def used_link_page(message: str):
    """409 for a link that has done its work: the person has an account now, so offer to log in."""
    db.session.rollback()
    actions = [] if current_user.is_authenticated else [(url_for("auth.login"), gettext("Log in"))]
    return render_template("error.html", status=409, title=gettext("Link already used"), message=message,
                           actions=actions), 409


def _start_session(user, *, remember: bool) -> None:
    session.clear()  # a fresh session on login: nothing from before survives
    login_user(user, remember=remember)
    # The new session's form token, made now: every page (and its ETag) sees the same one from the first.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    generate_csrf()


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if not accounts.setup_needed():
        return redirect(url_for("auth.login"))
    form = SetupForm()
    if form.validate_on_submit():
        ok, user = run_rule(form, accounts.complete_setup, form.email.data, form.name.data,
                            form.password.data, now=now())
        if ok:
            _start_session(user, remember=False)
            flash(gettext("Concord is ready. You are its first platform admin."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limited("login")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.rollback()
            form.form_errors.append(gettext("The e-mail or the password is not correct."))
        else:
            db.session.commit()  # a rehashed password, if the cost changed
            _start_session(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        # Sessions are signed cookies: only a new session token makes a copy of this one useless.
        run_rule(None, accounts.end_all_sessions, current_user._get_current_object())
        logout_user()
        session.clear()
        flash(gettext("You are logged out. Any other device logged in to this account is logged out too."),
              "info")
    return redirect(url_for("auth.login"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        payload = _serializer().loads(token, max_age=current_app.config["INVITATION_MAX_AGE"])
    except SignatureExpired:
        raise Conflict(_("This invitation has expired. Ask for a new one."))
    except BadSignature:
        raise NotFound(_("This invitation link is not valid. Check that you copied all of it."))
    try:
        invitation = accounts.invitation_for_token_payload(payload, now=now())
    except Conflict as exc:
        if "used" not in english(exc):
            raise
        return used_link_page(exc.message)
    if current_user.is_authenticated:
        logout_user()
        session.clear()
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        ok, user = run_rule(form, accounts.accept_invitation, invitation, form.name.data,
                            form.password.data, now=now())
        if ok:
            _start_session(user, remember=False)
            flash(gettext("Welcome to Concord. Your account is ready."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation)


# --- password reset by e-mail ---------------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@limited("reset")
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        def link_path(payload: dict) -> str:
            return url_for("auth.reset_password", token=_serializer(RESET_SALT).dumps(payload))

        # The same page whether or not the address has an account: it reveals nobody.
        run_rule(None, accounts.request_password_reset, form.email.data, now=now(), link_path=link_path,
                 max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
        return render_template("auth/forgot_password_sent.html",
                               minutes=max(1, current_app.config["PASSWORD_RESET_MAX_AGE"] // 60))
    return render_template("auth/forgot_password.html", form=form)


def reset_used_page(message: str):
    db.session.rollback()
    return render_template("error.html", status=409, title=gettext("Link already used"), message=message,
                           actions=[(url_for("auth.forgot_password"), gettext("Ask for a new link")),
                                    (url_for("auth.login"), gettext("Log in"))]), 409


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        payload = _serializer(RESET_SALT).loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        raise Conflict(_("This password-reset link has expired. Ask for a new one."))
    except BadSignature:
        raise NotFound(accounts.RESET_INVALID)
    try:
        user = accounts.user_for_reset_payload(payload)
    except Conflict as exc:
        return reset_used_page(exc.message)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        ok, result = run_rule(form, accounts.reset_password, user, str(payload.get("f", "")),
                              form.password.data)
        if not ok and isinstance(result, Conflict):
            return reset_used_page(result.message)  # used meanwhile (a second tab, a replayed form)
        if ok:
            _start_session(result, remember=False)
            flash(gettext("Your new password is set. Every other session has been logged out."), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/reset_password.html", form=form, user=user)
