from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.accounts import operations as accounts
from app.errors import Conflict, NotFound
from app.extensions import db
from app.web import now, run_rule
from app.web.forms import AcceptInvitationForm, EmptyForm, LoginForm, SetupForm

bp = Blueprint("auth", __name__)

INVITATION_SALT = "concord-invitation"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=INVITATION_SALT)


def invitation_url(invitation) -> str:
    token = _serializer().dumps({"i": invitation.id, "n": invitation.nonce})
    return url_for("auth.accept_invitation", token=token, _external=True)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: never send someone to another host after login.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("main.home")


def _start_session(user, *, remember: bool) -> None:
    session.clear()  # a fresh session on login: nothing from before survives
    login_user(user, remember=remember)


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
            flash("Concord is ready. You are its first platform admin.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.rollback()
            form.form_errors.append("The e-mail or the password is not correct.")
        else:
            db.session.commit()  # a rehashed password, if the cost changed
            _start_session(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        payload = _serializer().loads(token, max_age=current_app.config["INVITATION_MAX_AGE"])
    except SignatureExpired:
        raise Conflict("This invitation has expired. Ask for a new one.")
    except BadSignature:
        raise NotFound("This invitation link is not valid. Check that you copied all of it.")
    invitation = accounts.invitation_for_token_payload(payload, now=now())
    if current_user.is_authenticated:
        logout_user()
        session.clear()
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        ok, user = run_rule(form, accounts.accept_invitation, invitation, form.name.data,
                            form.password.data, now=now())
        if ok:
            _start_session(user, remember=False)
            flash("Welcome to Concord. Your account is ready.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation)
