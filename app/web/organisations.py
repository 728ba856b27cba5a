from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length

from app.accounts import operations as accounts
from app.extensions import db
from app.models import Invitation, Organisation, User
from app.organisations import operations as orgs
from app.publishing.reading import signed_publications
from app.translating import names
from app.web import now, run_rule
from app.web.auth import invitation_path, invitation_url
from app.web.forms import (
    AddMemberForm,
    EditOrganisationForm,
    EmptyForm,
    InviteForm,
    MemberRolesForm,
    OrganisationForm,
)

bp = Blueprint("organisations", __name__, url_prefix="/o")


@bp.route("/")
def index():
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    return render_template("organisations/index.html", organisations=organisations)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not current_user.is_admin:
        abort(403)
    form = OrganisationForm()
    if form.validate_on_submit():
        ok, org = run_rule(form, orgs.create_organisation, current_user._get_current_object(),
                           name=form.name.data, slug=form.slug.data,
                           short_name=form.short_name.data, country=form.country.data,
                           name_in_statements=form.name_in_statements.data or "")
        if ok:
            flash(gettext("%(organisation)s is created. Now add its members.", organisation=org.name), "success")
            return redirect(url_for("organisations.members", slug=org.slug))
    return render_template("organisations/new.html", form=form)


@bp.route("/<slug>")
def show(slug: str):
    org = orgs.get_organisation(slug)
    return render_template("organisations/show.html", org=org, publications=signed_publications(org))


def _managed(slug: str) -> Organisation:
    org = orgs.get_organisation(slug)
    if not org.can_manage(current_user):
        abort(403)
    return org


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit(slug: str):
    org = _managed(slug)
    form = EditOrganisationForm(obj=org)
    if form.validate_on_submit():
        ok, _result = run_rule(form, orgs.update_organisation, current_user._get_current_object(), org,
                         name=form.name.data, short_name=form.short_name.data,
                         country=form.country.data, name_in_statements=form.name_in_statements.data or "")
        if ok:
            flash(gettext("Saved."), "success")
            return redirect(url_for("organisations.show", slug=org.slug))
    return render_template("organisations/edit.html", org=org, form=form, names_form=LanguageNameForm(formdata=None),
                           language_names=names.language_names(org))


class LanguageNameForm(FlaskForm):
    language = StringField(_l("Language (a tag such as de, es, fr)"), validators=[Length(max=100)])
    name_in_statements = StringField(_l("Name in statements in that language"), validators=[Length(max=400)],
                                     description=_l("Empty: the name in statements above."))


@bp.route("/<slug>/names", methods=["POST"])
@login_required
def language_name(slug: str):
    """The organisation's name in statements in one language (issue 14)."""
    org = _managed(slug)
    names_form = LanguageNameForm()
    if names_form.validate_on_submit():
        ok, language = run_rule(names_form, names.set_language_name, org, current_user._get_current_object(),
                                names_form.language.data, names_form.name_in_statements.data or "")
        if ok:
            flash(gettext("Saved the name in statements in %(language)s.", language=language), "success")
            return redirect(url_for("organisations.edit", slug=org.slug))
    return render_template("organisations/edit.html", org=org, form=EditOrganisationForm(obj=org),
                           names_form=names_form, language_names=names.language_names(org)), 422


def _members_page(org, *, add_form=None, invite_form=None, status=200):
    moment = now()
    listed = db.session.scalars(
        select(Invitation).where(Invitation.organisation_id == org.id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(200)
    ).all()
    invitations = [(inv, accounts.invitation_state(inv, moment)) for inv in listed]
    links = {inv.id: invitation_url(inv) for inv, state in invitations if state == "open"}
    members = org.members_by_user()
    role_forms = {
        user.id: MemberRolesForm(prefix=f"m{user.id}", formdata=None, data={"roles": roles})
        for user, roles in members
    }
    return render_template(
        "organisations/members.html",
        org=org,
        members=members,
        role_forms=role_forms,
        add_form=add_form or AddMemberForm(prefix="add"),
        invite_form=invite_form or InviteForm(prefix="inv"),
        invitations=invitations,
        links=links,
    ), status


@bp.route("/<slug>/members")
@login_required
def members(slug: str):
    return _members_page(_managed(slug))


@bp.route("/<slug>/members", methods=["POST"])
@login_required
def add_member(slug: str):
    org = _managed(slug)
    form = AddMemberForm(prefix="add")
    if form.validate_on_submit():
        ok, user = run_rule(form, orgs.add_member, current_user._get_current_object(), org,
                            form.email.data, form.roles.data)
        if ok:
            flash(gettext("%(name)s is now a member of %(organisation)s.", name=user.name,
                          organisation=org.name), "success")
            return redirect(url_for("organisations.members", slug=org.slug))
    return _members_page(org, add_form=form, status=422)


@bp.route("/<slug>/members/<int:user_id>", methods=["POST"])
@login_required
def set_roles(slug: str, user_id: int):
    org = _managed(slug)
    user = db.session.get(User, user_id)
    if user is None or not user.roles_in(org):
        abort(404)
    form = MemberRolesForm(prefix=f"m{user_id}")
    if form.validate_on_submit():
        ok, result = run_rule(None, orgs.set_member_roles, current_user._get_current_object(), org,
                              user, form.roles.data or [])
        if ok:
            flash(gettext("Roles of %(name)s saved.", name=user.name) if form.roles.data
                  else gettext("%(name)s is no longer a member of %(organisation)s.", name=user.name,
                               organisation=org.name), "success")
        else:
            flash(result.message, "error")
    return redirect(url_for("organisations.members", slug=org.slug))


@bp.route("/<slug>/invitations", methods=["POST"])
@login_required
def invite(slug: str):
    org = _managed(slug)
    form = InviteForm(prefix="inv")
    if form.validate_on_submit():
        ok, invitation = run_rule(
            form, accounts.create_invitation, current_user._get_current_object(), form.email.data,
            organisation=org, roles=form.roles.data or [], make_admin=False, now=now(),
            max_age=current_app.config["INVITATION_MAX_AGE"], link_path=invitation_path, language=str(get_locale()),
        )
        if ok:
            flash(gettext("The invitation is sent to %(email)s.", email=invitation.email), "success")
            return redirect(url_for("organisations.members", slug=org.slug, _anchor="invitations"))
    return _members_page(org, invite_form=form, status=422)


def _org_invitation(org: Organisation, invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != org.id:
        abort(404)
    return invitation


@bp.route("/<slug>/invitations/<int:invitation_id>/resend", methods=["POST"])
@login_required
def resend_invitation(slug: str, invitation_id: int):
    org = _managed(slug)
    invitation = _org_invitation(org, invitation_id)
    if EmptyForm().validate_on_submit():
        ok, result = run_rule(None, accounts.resend_invitation, current_user._get_current_object(), invitation,
                              now=now(), max_age=current_app.config["INVITATION_MAX_AGE"],
                              link_path=invitation_path, language=str(get_locale()))
        flash(gettext("The invitation is sent to %(email)s again.", email=invitation.email) if ok else result.message,
              "success" if ok else "error")
    return redirect(url_for("organisations.members", slug=org.slug, _anchor="invitations"))


@bp.route("/<slug>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke_invitation(slug: str, invitation_id: int):
    org = _managed(slug)
    invitation = _org_invitation(org, invitation_id)
    if EmptyForm().validate_on_submit():
        ok, result = run_rule(None, accounts.revoke_invitation, current_user._get_current_object(), invitation,
                              now=now())
        flash(gettext("The invitation of %(email)s is revoked; its link no longer works.", email=invitation.email)
              if ok else result.message, "success" if ok else "error")
    return redirect(url_for("organisations.members", slug=org.slug, _anchor="invitations"))
