"""Platform admin pages: people, invitations to the platform, e-mail delivery, and in development the
outbox of written e-mails."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.accounts import operations as accounts
from app.extensions import db
from app.models import Invitation, Membership, OutboxMessage, User
from app.web import now, run_rule
from app.web.auth import invitation_path, invitation_url
from app.web.forms import EmptyForm, InviteForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The names `flask notifications send-due` gives the e-mails it writes (app/notifications/delivery.py).
EML_NAME = re.compile(r"\d{8}T\d{6}-[0-9a-f]{8}\.eml")
OUTBOX_LISTED = 200


@bp.before_request
@login_required
def require_admin():
    if not current_user.is_admin:
        abort(403)


@bp.app_context_processor
def admin_menu():
    return {"outbox_page": bool(current_app.config.get("OUTBOX_PAGE"))}


@bp.route("/users")
def users():
    people = db.session.scalars(
        select(User)
        .options(selectinload(User.memberships).selectinload(Membership.organisation))
        .order_by(User.name)
    ).all()
    return render_template("admin/users.html", users=people)


def _invitations_page(form=None, status=200):
    moment = now()
    listed = db.session.scalars(select(Invitation).options(selectinload(Invitation.organisation))
                                .order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(500)).all()
    rows = [(inv, accounts.invitation_state(inv, moment)) for inv in listed]
    links = {inv.id: invitation_url(inv) for inv, state in rows if state == "open"}
    return render_template("admin/invitations.html", form=form or InviteForm(prefix="inv"), invitations=rows,
                           links=links), status


@bp.route("/invitations", methods=["GET", "POST"])
def invite():
    form = InviteForm(prefix="inv")
    if not form.is_submitted():
        return _invitations_page(form)
    if form.validate_on_submit():
        ok, invitation = run_rule(
            form, accounts.create_invitation, current_user._get_current_object(), form.email.data,
            organisation=None, roles=[], make_admin=form.make_admin.data, now=now(),
            max_age=current_app.config["INVITATION_MAX_AGE"], link_path=invitation_path, language=str(get_locale()),
        )
        if ok:
            flash(gettext("The invitation is sent to %(email)s.", email=invitation.email), "success")
            return redirect(url_for("admin.invite"))
    return _invitations_page(form, 422)


def _invitation(invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        abort(404)
    return invitation


@bp.route("/invitations/<int:invitation_id>/resend", methods=["POST"])
def resend_invitation(invitation_id: int):
    invitation = _invitation(invitation_id)
    if EmptyForm().validate_on_submit():
        ok, result = run_rule(None, accounts.resend_invitation, current_user._get_current_object(), invitation,
                              now=now(), max_age=current_app.config["INVITATION_MAX_AGE"],
                              link_path=invitation_path, language=str(get_locale()))
        flash(gettext("The invitation is sent to %(email)s again.", email=invitation.email) if ok else result.message,
              "success" if ok else "error")
    return redirect(url_for("admin.invite"))


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
def revoke_invitation(invitation_id: int):
    invitation = _invitation(invitation_id)
    if EmptyForm().validate_on_submit():
        ok, result = run_rule(None, accounts.revoke_invitation, current_user._get_current_object(), invitation,
                              now=now())
        flash(gettext("The invitation of %(email)s is revoked; its link no longer works.", email=invitation.email)
              if ok else result.message, "success" if ok else "error")
    return redirect(url_for("admin.invite"))


@bp.route("/mail")
def mail():
    """E-mail that could not be delivered after the last try, and what is still queued."""
    failed = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == "failed").order_by(OutboxMessage.id.desc()).limit(200)
    ).all()
    queued = db.session.execute(
        select(OutboxMessage.status, func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
        .group_by(OutboxMessage.status)
    ).all()
    return render_template("admin/mail.html", failed=failed, queued=dict(queued))


# --- development: the e-mails written to instance/outbox/ --------------------------------------------


def _outbox() -> Path:
    if not current_app.config.get("OUTBOX_PAGE"):
        abort(404)
    return Path(current_app.instance_path) / "outbox"


def _date(message):
    """The e-mail's Date header as a moment (shown like every other time), or None."""
    try:
        return parsedate_to_datetime(str(message["Date"]))
    except (TypeError, ValueError):
        return None


def _read(path: Path):
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)


@bp.route("/outbox")
def outbox():
    """Development only: the e-mails Concord wrote instead of sending them, newest first."""
    folder = _outbox()
    names = sorted((p.name for p in folder.glob("*.eml") if EML_NAME.fullmatch(p.name)), reverse=True) \
        if folder.is_dir() else []
    messages = []
    for name in names[:OUTBOX_LISTED]:
        message = _read(folder / name)
        messages.append({"name": name, "to": str(message["To"] or ""), "subject": str(message["Subject"] or ""),
                         "date": _date(message)})
    return render_template("admin/outbox.html", messages=messages, total=len(names), folder=folder)


@bp.route("/outbox/<name>")
def outbox_message(name: str):
    folder = _outbox()
    if not EML_NAME.fullmatch(name) or not (folder / name).is_file():
        abort(404)
    message = _read(folder / name)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return render_template("admin/outbox_message.html", name=name, message=message, text=text,
                           date=_date(message))
