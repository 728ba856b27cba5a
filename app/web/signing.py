"""Freezing, signing, withdrawing, reopening, publishing, and the statement's audit trail."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select

from app import audit
from app.extensions import db
from app.i18n import N_
from app.models import Organisation, Publication, Signature
from app.paging import paginate
from app.publishing.endorsement import add_endorsement, present_organisation_ids
from app.publishing.publication import publish as publish_statement
from app.rate_limits import limited
from app.signing import operations as signing
from app.translating import operations as translating
from app.translating.languages import direction, label
from app.web import now, run_rule
from app.web.forms import EmptyForm
from app.web.signing_forms import (
    EndorsementForm,
    FreezeForm,
    PublishForm,
    ReasonForm,
    SignForm,
)
from app.web.statements import _visible as visible_statement

bp = Blueprint("signing", __name__, url_prefix="/statements")


def _user():
    return current_user._get_current_object()


def _coordinated(statement_id: int):
    statement = visible_statement(statement_id)
    if not statement.is_coordinator(current_user):
        abort(403)
    return statement


def _show(statement):
    return redirect(url_for("statements.show", statement_id=statement.id))


@bp.route("/<int:statement_id>/freeze", methods=["GET", "POST"])
@login_required
def freeze(statement_id: int):
    statement = _coordinated(statement_id)
    form = FreezeForm()
    form.authentic_languages.choices = [(row.language, label(row.language))
                                        for row in translating.target_languages(statement)]
    if request.method == "GET":
        form.authentic_languages.data = [row.language for row in translating.target_languages(statement)
                                         if row.authentic]
    if form.validate_on_submit():
        ok, _ = run_rule(form, signing.freeze, statement, _user(), signing_deadline=form.signing_deadline.data,
                         planned_publication_date=form.planned_publication_date.data,
                         auto_publish=form.auto_publish.data,
                         without_amendment_round=form.without_amendment_round.data,
                         authentic_languages=form.authentic_languages.data or [], now=now())
        if ok:
            flash(gettext("The text is frozen. Signatories can now sign exactly this version."), "success")
            return redirect(url_for("signing.sign", statement_id=statement.id))
    from app.amending.operations import open_counts

    undecided = sum(open_counts(statement).values())
    return render_template("signing/freeze.html", statement=statement, form=form, undecided=undecided)


def _earlier_signatures(statement) -> list[Signature]:
    """Revoked and void signatures: kept in the history and shown as such."""
    return list(db.session.scalars(
        select(Signature).where(Signature.statement_id == statement.id, Signature.status != "valid")
        .order_by(Signature.signed_at, Signature.id)))


def _sign_page(statement, form=None, status=200):
    version = statement.frozen_version
    organisations = signing.can_sign_for(statement, current_user)
    signed_ids = {s.organisation_id for s in signing.valid_signatures(statement)}
    form = form or SignForm(formdata=None, signer_name=current_user.name)
    form.organisation.choices = [(o.id, o.display_name) for o in organisations if o.id not in signed_ids]
    if len(form.organisation.choices) == 1:
        only = next(o for o in organisations if o.id not in signed_ids)
        form.authorised.label.text = gettext("I am authorised to sign on behalf of %(organisation)s",
                                             organisation=only.name)
    form.version_sha256.data = version.sha256 if version else ""
    authentic = [f for f in translating.frozen_translations(statement) if f.authentic] if version else []
    form.translation_sha256.data = " ".join(f"{f.language}={f.sha256}" for f in authentic)
    progress = signing.progress(statement)
    return render_template(
        "signing/sign.html", statement=statement, version=version, form=form,
        progress=progress, revoke_form=EmptyForm(),
        can_publish=statement.status == "signing" and progress.complete and statement.is_coordinator(current_user),
        can_sign=statement.status == "signing" and bool(form.organisation.choices),
        my_orgs={o.id for o in organisations}, earlier=_earlier_signatures(statement),
        authentic=authentic, label=label, direction=direction, end_reason=_end_reason,
    ), status


def _end_reason(reason: str) -> str:
    """Why a signature ended, in the viewer's language (the rules store it in English; plain text)."""
    return gettext(reason) if reason in signing.END_REASONS else reason


def _hashes(value: str | None) -> dict[str, str]:
    """'de=<sha256> es=<sha256>' as {language: sha256}; what does not parse is dropped (and then refused
    by the rule as not the frozen hashes)."""
    found = {}
    for item in (value or "").split():
        language, _, sha = item.partition("=")
        if language and sha:
            found[language] = sha
    return found


@bp.route("/<int:statement_id>/sign", methods=["GET", "POST"])
@login_required
@limited("sign")
def sign(statement_id: int):
    statement = visible_statement(statement_id)
    if statement.status != "signing" or statement.frozen_version is None:
        # Published statements, and statements reopened after signatures, keep a read-only page.
        if request.method == "GET" and (statement.status == "published" or _earlier_signatures(statement)):
            return _sign_page(statement)
        flash(gettext("This statement is not being signed now."), "info")
        return _show(statement)
    if request.method == "GET":
        return _sign_page(statement)
    form = SignForm()
    organisations = signing.can_sign_for(statement, current_user)
    form.organisation.choices = [(o.id, o.display_name) for o in organisations]
    if not form.organisation.choices:
        abort(403)
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation.data)
        ok, _ = run_rule(
            form, signing.sign, statement, _user(), organisation, signer_name=form.signer_name.data,
            signer_title=form.signer_title.data, authorised=form.authorised.data,
            password=form.password.data, version_sha256=form.version_sha256.data,
            translation_sha256=_hashes(form.translation_sha256.data),
            ip_address=request.remote_addr or "", user_agent=request.user_agent.string, now=now(),
        )
        # The hash travels in a hidden field: show its error ("the text changed") above the form.
        form.form_errors.extend([*(form.version_sha256.errors or []), *(form.translation_sha256.errors or [])])
        form.version_sha256.errors = []
        form.translation_sha256.errors = []
        if ok:
            db.session.refresh(statement)
            if statement.status == "published":
                flash(gettext("%(organisation)s has signed. Every organisation has now signed, and the "
                              "statement is published.", organisation=organisation.name), "success")
                return redirect(url_for("public.statement", slug=statement.slug))
            flash(gettext("%(organisation)s has signed version %(number)s.", organisation=organisation.name,
                          number=statement.frozen_version.number), "success")
            return redirect(url_for("signing.sign", statement_id=statement.id))
    form.password.data = ""
    return _sign_page(statement, form, 422)


@bp.route("/<int:statement_id>/signatures/<int:signature_id>/revoke", methods=["POST"])
@login_required
def revoke(statement_id: int, signature_id: int):
    statement = visible_statement(statement_id)
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.statement_id != statement.id:
        abort(404)
    if EmptyForm().validate_on_submit():
        ok, result = run_rule(None, signing.revoke, signature, _user(), now=now())
        flash(gettext("The signature of %(organisation)s is revoked.", organisation=signature.organisation.name)
              if ok else result.message,
              "success" if ok else "error")
    return redirect(url_for("signing.sign", statement_id=statement.id))


@bp.route("/<int:statement_id>/reopen", methods=["GET", "POST"])
@login_required
def reopen(statement_id: int):
    statement = _coordinated(statement_id)
    form = EmptyForm()
    if form.validate_on_submit():
        ok, result = run_rule(form, signing.reopen, statement, _user(), now=now())
        if ok:
            flash(ngettext("Reopened for amendments. %(num)d signature(s) are now void and kept in the history; "
                           "signing starts again on the new version.",
                           "Reopened for amendments. %(num)d signature(s) are now void and kept in the history; "
                           "signing starts again on the new version.", len(result)), "success")
            return _show(statement)
    return render_template("signing/reopen.html", statement=statement, form=form,
                           signatures=signing.valid_signatures(statement))


@bp.route("/<int:statement_id>/publish", methods=["GET", "POST"])
@login_required
def publish(statement_id: int):
    statement = _coordinated(statement_id)
    progress = signing.progress(statement)
    form = PublishForm()
    if request.method == "GET":
        form.publication_date.data = statement.planned_publication_date or now().date()
    if form.validate_on_submit():
        ok, _ = run_rule(form, publish_statement, statement, _user(),
                         publication_date=form.publication_date.data, now=now())
        if ok:
            flash(gettext("Published. This page is its permanent address."), "success")
            return redirect(url_for("public.statement", slug=statement.slug))
    last = max((s.signed_at for _, s in progress.signed), default=None)
    return render_template("signing/publish.html", statement=statement, form=form, progress=progress,
                           last_signature=last)


@bp.route("/<int:statement_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw_statement(statement_id: int):
    statement = _coordinated(statement_id)
    form = ReasonForm()
    if form.validate_on_submit():
        ok, _ = run_rule(form, signing.withdraw_statement, statement, _user(), reason=form.reason.data,
                         now=now())
        if ok:
            flash(gettext("The statement is withdrawn. Its history is kept."), "success")
            return _show(statement)
    return render_template("signing/withdraw_statement.html", statement=statement, form=form)


@bp.route("/<int:statement_id>/endorsements", methods=["GET", "POST"])
@login_required
def endorsements(statement_id: int):
    statement = _coordinated(statement_id)
    publication = db.session.scalar(select(Publication).where(Publication.statement_id == statement.id))
    if publication is None:
        abort(404)
    present = present_organisation_ids(publication)
    form = EndorsementForm()
    form.organisation.choices = [(o.id, o.display_name) for o in db.session.scalars(
        select(Organisation).order_by(Organisation.name)) if o.id not in present]
    if request.method == "GET":
        form.endorsed_on.data = now().date()
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation.data)
        ok, _ = run_rule(form, add_endorsement, statement, _user(), organisation,
                         endorsed_on=form.endorsed_on.data, now=now())
        if ok:
            flash(gettext("%(organisation)s is shown as a later endorser.", organisation=organisation.name),
                  "success")
            return redirect(url_for("public.statement", slug=statement.slug))
    return render_template("signing/endorsements.html", statement=statement, publication=publication,
                           form=form)


AUDIT_PER_PAGE = 100

# What an entry about an amendment says, the amendment (a link) in its place.
_ABOUT_AMENDMENT = {
    "proposed": N_("proposed %(amendment)s"),
    "amendment_edited": N_("edited %(amendment)s"),
    "amendment_withdrawn": N_("withdrew %(amendment)s"),
    "cosponsored": N_("co-sponsored %(amendment)s"),
    "suggested": N_("suggested a change to %(amendment)s"),
    "accepted": N_("accepted %(amendment)s"),
    "rejected": N_("rejected %(amendment)s"),
}


def action_label(entry) -> Markup:
    """What an audit entry says was done, in the viewer's language, linking the amendment it is about."""
    english = audit.ACTION_LABELS.get(entry.action, entry.action)
    said = gettext(english) if entry.action in audit.ACTION_LABELS else english
    amendment_id = audit.amendment_of(entry)
    if not amendment_id:
        return escape(said)
    link = Markup('<a href="%s">%s</a>') % (url_for("amendments.show", amendment_id=amendment_id),
                                            gettext("amendment #%(id)s", id=amendment_id))
    if entry.action in _ABOUT_AMENDMENT:
        return Markup(escape(gettext(_ABOUT_AMENDMENT[entry.action]))) % {"amendment": link}
    return Markup(escape(gettext("%(action)s on %(amendment)s"))) % {"action": said, "amendment": link}


@bp.route("/<int:statement_id>/audit")
@login_required
def audit_trail(statement_id: int):
    statement = visible_statement(statement_id)
    # A page of the trail, checked against itself and the entry before it: the cost of a view does not
    # grow with the statement's life (`flask audit verify` checks whole chains).
    entries = paginate(audit.trail_query(statement.id), per_page=AUDIT_PER_PAGE)
    before = audit.entry_before(statement.id, entries.items[0].seq) if entries.items and entries.page > 1 else None
    broken = audit.verify_stretch(entries.items, before)
    return render_template("signing/audit.html", statement=statement, entries=entries,
                           action_label=action_label, broken=broken)
