"""Notifications in the app, e-mail preferences, and invitations of organisations to statements."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update

from app.drafting import participation
from app.extensions import db
from app.models import EVENT_KINDS, Notification, Organisation, StatementInvitation
from app.notifications import events
from app.web import now, run_rule
from app.web.auth import _start_session
from app.web.forms import EmptyForm
from app.web.notification_forms import InviteOrganisationForm, JoinForm, PreferencesForm
from app.web.statements import _visible as visible_statement

bp = Blueprint("notifications", __name__)

JOIN_SALT = "concord-statement-invitation"


@bp.app_context_processor
def unread():
    # E-mails are rendered by `flask notifications send-due`, outside any request: no current user there.
    if has_request_context() and current_user.is_authenticated:
        # Counted with the user when the request loaded them (accounts.load_for_request).
        return {"unread_notifications": current_user.unread_notifications}
    return {"unread_notifications": 0}


def _user():
    return current_user._get_current_object()


@bp.route("/notifications")
@login_required
def index():
    notes = db.session.scalars(select(Notification).where(Notification.user_id == current_user.id)
                               .order_by(Notification.id.desc()).limit(100)).all()
    return render_template("notifications/index.html", notes=notes, form=EmptyForm())


@bp.route("/notifications/<int:note_id>")
@login_required
def open_note(note_id: int):
    note = db.session.get(Notification, note_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    if note.read_at is None:
        note.read_at = now()
        db.session.commit()
    return redirect(note.path if note.path.startswith("/") else url_for("main.home"))


@bp.route("/notifications/read", methods=["POST"])
@login_required
def mark_all_read():
    if EmptyForm().validate_on_submit():
        db.session.execute(update(Notification).where(Notification.user_id == current_user.id,
                                                      Notification.read_at.is_(None)).values(read_at=now()))
        db.session.commit()
        flash("All notifications are marked as read.", "success")
    return redirect(url_for("notifications.index"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    form = PreferencesForm(data=events.preferences(current_user))
    if form.validate_on_submit():
        modes = {kind: getattr(form, kind).data for kind in EVENT_KINDS}
        ok, _ = run_rule(form, events.set_preferences, _user(), modes)
        if ok:
            flash("Your e-mail preferences are saved.", "success")
            return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", form=form, kinds=EVENT_KINDS)


# --- inviting organisations to a statement ----------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=JOIN_SALT)


@bp.route("/statements/<int:statement_id>/invite", methods=["GET", "POST"])
@login_required
def invite(statement_id: int):
    statement = visible_statement(statement_id)
    if not statement.is_coordinator(current_user):
        abort(403)
    taken = {p.organisation_id for p in statement.memberships}
    form = InviteOrganisationForm()
    form.organisation.choices = [(0, "— choose —")] + [
        (o.id, o.display_name) for o in db.session.scalars(select(Organisation).order_by(Organisation.name))
        if o.id not in taken]
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation.data) if form.organisation.data else None

        def invite_and_mail():
            invitation = participation.invite_organisation(
                statement, _user(), organisation=organisation, contact_email=form.contact_email.data or None,
                now=now())
            if invitation.contact_email:
                token = _serializer().dumps({"s": invitation.id, "n": invitation.nonce})
                events.mail_contact(
                    invitation.contact_email, "invitation", statement=statement, now=now(),
                    path=url_for("notifications.join", token=token),
                    subject=f"Invitation to a joint statement: {statement.title}",
                    body=f"{current_user.name} ({statement.coordinator_organisation.name}) invites your "
                         f"organisation to write and sign “{statement.title}” together on Concord. "
                         "The link lets you create your organisation and your account, and join.")
            return invitation

        ok, invitation = run_rule(form, invite_and_mail)
        if ok:
            who = invitation.organisation.name if invitation.organisation else invitation.contact_email
            flash(f"{who} is invited. It takes part once it accepts.", "success")
            return redirect(url_for("statements.show", statement_id=statement.id))
    return render_template("notifications/invite.html", statement=statement, form=form,
                           pending=participation.pending_invitations(statement))


@bp.route("/statement-invitations/<int:invitation_id>", methods=["GET", "POST"])
@login_required
def invitation(invitation_id: int):
    invitation = db.session.get(StatementInvitation, invitation_id)
    if invitation is None or invitation.organisation is None:
        abort(404)
    org = invitation.organisation
    if not (current_user.has_role(org, "admin") or current_user.has_role(org, "delegate")):
        abort(404)
    form = EmptyForm()
    if form.validate_on_submit():
        from flask import request

        accept = request.form.get("answer") == "accept"
        ok, result = run_rule(form, participation.respond, invitation, _user(), accept=accept, now=now())
        if ok:
            flash(f"{org.name} {'takes part in' if accept else 'declined'} “{invitation.statement.title}”.",
                  "success")
            return redirect(url_for("statements.show", statement_id=invitation.statement_id) if accept
                            else url_for("main.home"))
    return render_template("notifications/invitation.html", invitation=invitation, form=form)


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str):
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        abort(404)
    invitation = participation.contact_invitation(payload)
    form = JoinForm()
    if form.validate_on_submit():
        ok, result = run_rule(
            form, participation.join_as_new_organisation, invitation,
            organisation_name=form.organisation_name.data, short_name=form.short_name.data or "",
            country=form.country.data or "", person_name=form.name.data, password=form.password.data,
            now=now())
        if ok:
            organisation, user = result
            _start_session(user, remember=False)
            flash(f"Welcome. {organisation.name} now takes part in “{invitation.statement.title}”.", "success")
            return redirect(url_for("statements.show", statement_id=invitation.statement_id))
    return render_template("notifications/join.html", invitation=invitation, form=form)
