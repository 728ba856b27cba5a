"""Notifications in the app and e-mail preferences."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    has_request_context,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select, update

from app.extensions import db
from app.models import EVENT_KINDS, Notification
from app.notifications import events
from app.web import now, run_rule
from app.web.forms import EmptyForm
from app.web.notification_forms import PreferencesForm

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
        flash(gettext("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    form = PreferencesForm(data=events.preferences(current_user))
    if form.validate_on_submit():
        modes = {kind: getattr(form, kind).data for kind in EVENT_KINDS}
        ok, _result = run_rule(form, events.set_preferences, _user(), modes)
        if ok:
            flash(gettext("Your e-mail preferences are saved."), "success")
            return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", form=form, kinds=EVENT_KINDS)
