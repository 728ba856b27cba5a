"""Archived statements: a coordinator records one; each signatory organisation confirms or disputes it."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.drafting.importer import decode_upload
from app.errors import ConcordError
from app.extensions import db
from app.models import Organisation, RecordedSignature
from app.publishing import archive
from app.web import add_error, now, run_rule
from app.web.archive_forms import MAX_SIGNATORY_ROWS, AnswerForm, ArchiveForm

bp = Blueprint("archive", __name__)


def _user():
    return current_user._get_current_object()


@bp.route("/statements/archive", methods=["GET", "POST"])
@login_required
def record():
    coordinating = current_user.organisations("delegate")
    if not coordinating:
        abort(403)
    rows = min(max(request.args.get("rows", 2, type=int), 2), MAX_SIGNATORY_ROWS)
    form = ArchiveForm()
    while len(form.signatories) < rows:
        form.signatories.append_entry()
    choices = [(0, "—")] + [(o.id, o.display_name) for o in db.session.query(Organisation).order_by(Organisation.name)]
    for entry in form.signatories:
        entry.form.organisation.choices = choices
    form.coordinator_organisation.choices = [(o.id, o.display_name) for o in coordinating]
    notes = None
    if form.validate_on_submit():
        try:
            text = form.text.data or ""
            if form.file.data and form.file.data.filename:
                text = decode_upload(form.file.data.read())
            signatories = []
            for entry in form.signatories:
                row = entry.form
                if not row.organisation.data:
                    continue
                organisation = db.session.get(Organisation, row.organisation.data)
                if organisation is None:
                    abort(400)
                signatories.append(archive.Signatory(organisation, row.signer_name.data or "",
                                                     row.signer_title.data or ""))
            coordinator = db.session.get(Organisation, form.coordinator_organisation.data)
        except ConcordError as exc:
            add_error(form, exc)
        else:
            ok, result = run_rule(form, archive.record_archived_statement, _user(), text=text,
                                  coordinator_organisation=coordinator, signatories=signatories,
                                  publication_date=form.publication_date.data, now=now())
            if ok:
                message = gettext("Recorded and published. The signatories' organisations are asked to confirm "
                                  "the record.")
                if result.notes:
                    message += " " + gettext("Notes: %(notes)s", notes=" ".join(str(n) for n in result.notes))
                flash(message, "success")
                return redirect(url_for("public.statement", slug=result.publication.slug))
    return render_template("archive/record.html", form=form, rows=rows, notes=notes,
                           more=min(rows + 2, MAX_SIGNATORY_ROWS)), (422 if request.method == "POST" else 200)


@bp.route("/archive/recorded")
@login_required
def recorded():
    items = archive.recorded_signatures_for(_user())
    forms = {r.id: AnswerForm(prefix=f"r{r.id}", formdata=None) for r in items}
    return render_template("archive/recorded.html", items=items, forms=forms)


@bp.route("/archive/recorded/<int:recorded_id>", methods=["POST"])
@login_required
def answer(recorded_id: int):
    recorded = db.session.get(RecordedSignature, recorded_id)
    if recorded is None or not current_user.has_role(recorded.organisation, "signatory"):
        abort(404)
    form = AnswerForm(prefix=f"r{recorded_id}")
    if form.validate_on_submit():
        confirm = form.answer.data == "confirm"
        ok, result = run_rule(None, archive.answer_recorded_signature, recorded, _user(), confirm=confirm,
                              reason=form.reason.data or "", now=now())
        if ok:
            flash(gettext("The signature of %(organisation)s is confirmed.", organisation=result.organisation.name)
                  if confirm else
                  gettext("The signature of %(organisation)s is disputed. The coordinator has been told.",
                          organisation=result.organisation.name), "success")
        else:
            flash(result.message, "error")
    else:
        flash(gettext("Choose confirm or dispute."), "error")
    return redirect(url_for("archive.recorded"))
