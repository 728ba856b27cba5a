from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.accounts import operations as accounts
from app.extensions import db
from app.models import Membership, OutboxMessage, User
from app.web import now, run_rule
from app.web.auth import invitation_url
from app.web.forms import InviteForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin():
    if not current_user.is_admin:
        abort(403)


def _page(form=None, invitation_link=None, status=200):
    users = db.session.scalars(
        select(User)
        .options(selectinload(User.memberships).selectinload(Membership.organisation))
        .order_by(User.name)
    ).all()
    return render_template(
        "admin/users.html", users=users, form=form or InviteForm(prefix="inv"),
        invitation_link=invitation_link,
    ), status


@bp.route("/users")
def users():
    return _page()


@bp.route("/invitations", methods=["POST"])
def invite():
    form = InviteForm(prefix="inv")
    if form.validate_on_submit():
        ok, invitation = run_rule(
            form, accounts.create_invitation, current_user._get_current_object(), form.email.data,
            organisation=None, roles=[], make_admin=form.make_admin.data, now=now(),
            max_age=current_app.config["INVITATION_MAX_AGE"],
        )
        if ok:
            return _page(invitation_link=invitation_url(invitation))
    return _page(form=form, status=422)


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
