"""Taking part in a statement: inviting organisations (and their contacts, by e-mail), answering an
invitation, joining by a contact's link, withdrawing an organisation and inviting it back."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale, gettext
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from app.errors import Conflict
from app.extensions import db
from app.models import Organisation, StatementInvitation
from app.participation import invitations, withdrawals
from app.web import now, run_rule
from app.web.auth import _start_session, english, used_link_page
from app.web.forms import EmptyForm
from app.web.notification_forms import InviteOrganisationForm, JoinForm
from app.web.signing_forms import WithdrawOrganisationForm
from app.web.statements import _visible as visible_statement

bp = Blueprint("participation", __name__)

JOIN_SALT = "concord-statement-invitation"


def _user():
    return current_user._get_current_object()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=JOIN_SALT)


def join_path(payload: dict) -> str:
    """The path of a contact's signed link to join (``payload``: the invitation's id and nonce)."""
    return url_for("participation.join", token=_serializer().dumps(payload))


def _coordinated(statement_id: int):
    statement = visible_statement(statement_id)
    if not statement.is_coordinator(current_user):
        abort(403)
    return statement


def _invite_page(statement, form, status=200):
    moment = now()
    listed = [(inv, invitations.state(inv, moment)) for inv in invitations.statement_invitations(statement)]
    links = {inv.id: url_for("participation.join", token=_serializer().dumps({"s": inv.id, "n": inv.nonce}),
                             _external=True)
             for inv, state in listed if inv.contact_email and state == "open"}
    return render_template("participation/invite.html", statement=statement, form=form, invitations=listed,
                           links=links, can_invite=statement.status in invitations.OPEN_PHASES), status


@bp.route("/statements/<int:statement_id>/invite", methods=["GET", "POST"])
@login_required
def invite(statement_id: int):
    statement = _coordinated(statement_id)
    taken = {p.organisation_id for p in statement.memberships}
    form = InviteOrganisationForm()
    form.organisation.choices = [(0, gettext("— choose —"))] + [
        (o.id, o.display_name) for o in db.session.scalars(select(Organisation).order_by(Organisation.name))
        if o.id not in taken]
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation.data) if form.organisation.data else None
        ok, invitation = run_rule(
            form, invitations.invite_organisation, statement, _user(), organisation=organisation,
            contact_email=form.contact_email.data or None, now=now(), link_path=join_path,
            max_age=current_app.config["INVITATION_MAX_AGE"], language=str(get_locale()))
        if ok:
            if invitation.organisation:
                flash(gettext("%(organisation)s is invited; its admins and delegates are told. "
                              "It takes part once one of them accepts.", organisation=invitation.organisation.name),
                      "success")
            else:
                flash(gettext("The invitation is sent to %(email)s. Their organisation takes part "
                              "once they follow the link and join.", email=invitation.contact_email), "success")
            return redirect(url_for("participation.invite", statement_id=statement.id))
        return _invite_page(statement, form, 422)
    if request.method == "POST":
        return _invite_page(statement, form, 422)
    return _invite_page(statement, form)


def _statement_invitation(statement, invitation_id: int) -> StatementInvitation:
    invitation = db.session.get(StatementInvitation, invitation_id)
    if invitation is None or invitation.statement_id != statement.id:
        abort(404)
    return invitation


@bp.route("/statements/<int:statement_id>/invitations/<int:invitation_id>/resend", methods=["POST"])
@login_required
def resend(statement_id: int, invitation_id: int):
    statement = _coordinated(statement_id)
    invitation = _statement_invitation(statement, invitation_id)
    if EmptyForm().validate_on_submit():
        who = invitation.organisation.name if invitation.organisation else invitation.contact_email
        ok, result = run_rule(None, invitations.resend_invitation, invitation, _user(), now=now(),
                              link_path=join_path, max_age=current_app.config["INVITATION_MAX_AGE"],
                              language=str(get_locale()))
        flash(gettext("The invitation is sent to %(email)s again.", email=who) if ok else result.message,
              "success" if ok else "error")
    return redirect(url_for("participation.invite", statement_id=statement.id))


@bp.route("/statements/<int:statement_id>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke(statement_id: int, invitation_id: int):
    statement = _coordinated(statement_id)
    invitation = _statement_invitation(statement, invitation_id)
    if EmptyForm().validate_on_submit():
        who = invitation.organisation.name if invitation.organisation else invitation.contact_email
        ok, result = run_rule(None, invitations.revoke_invitation, invitation, _user(), now=now())
        flash(gettext("The invitation of %(who)s is revoked.", who=who) if ok else result.message,
              "success" if ok else "error")
    return redirect(url_for("participation.invite", statement_id=statement.id))


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
        accept = request.form.get("answer") == "accept"
        ok, result = run_rule(form, invitations.respond, invitation, _user(), accept=accept, now=now())
        if ok:
            flash(gettext("%(organisation)s takes part in “%(title)s”.", organisation=org.name,
                          title=invitation.statement.title) if accept
                  else gettext("%(organisation)s declined “%(title)s”.", organisation=org.name,
                               title=invitation.statement.title), "success")
            return redirect(url_for("statements.show", statement_id=invitation.statement_id) if accept
                            else url_for("main.home"))
    return render_template("participation/invitation.html", invitation=invitation, form=form)


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str):
    try:
        payload = _serializer().loads(token)
    except BadSignature:
        abort(404)
    try:
        invitation = invitations.contact_invitation(payload, now=now())
    except Conflict as exc:
        if "used" not in english(exc):
            raise
        return used_link_page(exc.message + " " + gettext("Log in to see the statement."))
    form = JoinForm()
    if form.validate_on_submit():
        ok, result = run_rule(
            form, invitations.join_as_new_organisation, invitation,
            organisation_name=form.organisation_name.data, short_name=form.short_name.data or "",
            country=form.country.data or "", person_name=form.name.data, password=form.password.data,
            now=now())
        if ok:
            organisation, user = result
            _start_session(user, remember=False)
            flash(gettext("Welcome. %(organisation)s now takes part in “%(title)s”.", organisation=organisation.name,
                          title=invitation.statement.title), "success")
            return redirect(url_for("statements.show", statement_id=invitation.statement_id))
    return render_template("participation/join.html", invitation=invitation, form=form)


# --- leaving and coming back ----------------------------------------------------------------------------


@bp.route("/statements/<int:statement_id>/withdraw-organisation", methods=["GET", "POST"])
@login_required
def withdraw_organisation(statement_id: int):
    statement = visible_statement(statement_id)
    form = WithdrawOrganisationForm()
    organisations = withdrawals.can_withdraw_for(statement, current_user)
    form.organisation.choices = [(o.id, o.display_name) for o in organisations]
    if not form.organisation.choices:
        abort(403)
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation.data)
        ok, _result = run_rule(form, withdrawals.withdraw_organisation, statement, _user(), organisation,
                         reason=form.reason.data, now=now())
        if ok:
            flash(gettext("%(organisation)s has withdrawn from the statement.", organisation=organisation.name),
                  "success")
            return redirect(url_for("statements.show", statement_id=statement.id))
    return render_template("participation/withdraw_organisation.html", statement=statement, form=form)


@bp.route("/statements/<int:statement_id>/participants/<int:organisation_id>/reinvite", methods=["POST"])
@login_required
def reinvite(statement_id: int, organisation_id: int):
    statement = _coordinated(statement_id)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None:
        abort(404)
    if EmptyForm().validate_on_submit():
        ok, result = run_rule(None, withdrawals.reinvite, statement, _user(), organisation, now=now())
        flash(gettext("%(organisation)s takes part again.", organisation=organisation.name) if ok else result.message,
              "success" if ok else "error")
    return redirect(url_for("statements.show", statement_id=statement.id))
