from __future__ import annotations

import functools

from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_decimal, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.orm import defer, joinedload

from app.amending import operations as amending
from app.drafting import operations as drafting
from app.drafting.importer import decode_upload, parse_statement
from app.errors import ConcordError, InvalidInput
from app.extensions import db
from app.models import AuditEntry, Organisation, Participant, Statement, StatementInvitation, User, Version
from app.paging import paginate
from app.participation import invitations as participation
from app.signing import operations as signing
from app.translating.languages import display_name, viewer_language
from app.web import add_error, conditional, form_status, not_modified, now, page_etag, run_rule
from app.web.forms import (
    DeleteParagraphForm,
    ImportForm,
    MoveParagraphForm,
    NewParagraphForm,
    ParagraphForm,
    StatementForm,
    TitleForm,
)
from app.web.stamps import Stamp

bp = Blueprint("statements", __name__, url_prefix="/statements")

VERSIONS_PER_PAGE = 50
STATEMENTS_PER_PAGE = 50
# The steps of a statement's life drawn on its history page, from its audit trail.
MILESTONES = {
    "created": _l("Draft started"),
    "opened": _l("Opened for amendments"),
    "frozen": _l("Frozen for signing"),
    "reopened": _l("Reopened"),
    "published": _l("Published"),
    "statement_withdrawn": _l("Withdrawn"),
}


def _with_people():
    """Loader options: the coordinator and the participants with their organisations, in the same query."""
    return [joinedload(Statement.coordinator), joinedload(Statement.coordinator_organisation),
            joinedload(Statement.memberships)]


def _visible(statement_id: int) -> Statement:
    statement = db.session.get(Statement, statement_id, options=_with_people())
    # Someone who may not see a statement is not told that it exists.
    if statement is None or not statement.can_view(current_user):
        abort(404)
    return statement


def _editable(statement_id: int) -> Statement:
    statement = _visible(statement_id)
    if not statement.can_edit_draft(current_user):
        if statement.status != "draft":
            flash(gettext("The text is no longer a draft: it changes only through amendments."), "error")
        else:
            flash(gettext("Only the coordinator edits the draft."), "error")
        abort(redirect(url_for("statements.show", statement_id=statement.id)))
    return statement


def _with_participant_choices(form):
    user = current_user
    coordinator_orgs = user.organisations("delegate")
    form.coordinator_organisation.choices = [(o.id, o.display_name) for o in coordinator_orgs]
    all_orgs = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    form.participants.choices = [(o.id, o.display_name) for o in all_orgs]
    return form


def _organisations(ids) -> list[Organisation]:
    ids = list(dict.fromkeys(ids or []))
    found = {o.id: o for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)))}
    if len(found) != len(ids):
        raise InvalidInput(gettext("One of the chosen organisations does not exist."), field="participants")
    return [found[i] for i in ids]


def _create(form, title: str, paragraphs: list[str], note: str, source_language: str = "en"):
    def action():
        coordinator_org = db.session.get(Organisation, form.coordinator_organisation.data or 0)
        if coordinator_org is None:
            raise InvalidInput(gettext("Choose the coordinating organisation."), field="coordinator_organisation")
        return drafting.create_statement(
            current_user._get_current_object(), title=title,
            coordinator_organisation=coordinator_org,
            participants=_organisations(form.participants.data), paragraphs=paragraphs,
            now=now(), note=note, source_language=source_language,
        )

    return run_rule(form, action)


@bp.route("/")
@login_required
def index():
    return render_template("statements/index.html", statements=paginate(
        drafting.statements_query(current_user), per_page=STATEMENTS_PER_PAGE))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = _with_participant_choices(StatementForm())
    if not form.coordinator_organisation.choices:
        return render_template("statements/cannot_coordinate.html"), 403
    if form.validate_on_submit():
        blocks = [b for b in (form.text.data or "").replace("\r\n", "\n").split("\n\n") if b.strip()]
        ok, statement = _create(form, form.title.data, blocks, "Created")
        if ok:
            flash(gettext("The statement is created as a draft."), "success")
            return redirect(url_for("statements.show", statement_id=statement.id))
    return render_template("statements/new.html", form=form), form_status(form)


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_text():
    form = _with_participant_choices(ImportForm())
    if not form.coordinator_organisation.choices:
        return render_template("statements/cannot_coordinate.html"), 403
    parsed = None
    if form.validate_on_submit():
        try:
            upload = request.files.get(form.upload.name)
            if upload and upload.filename:
                text = decode_upload(upload.read())
            else:
                text = form.text.data or ""
            if not text.strip():
                raise InvalidInput(gettext("Paste the text or choose a file."), field="text")
            parsed = parse_statement(text)
        except ConcordError as exc:
            add_error(form, exc)
        if parsed is not None and form.confirm.data == "yes":
            ok, statement = _create(form, parsed.title, parsed.paragraphs, "Imported", parsed.language or "en")
            if ok:
                flash(ngettext("Imported: %(count)s paragraph.", "Imported: %(count)s paragraphs.",
                               len(parsed.paragraphs), count=format_decimal(len(parsed.paragraphs))), "success")
                return redirect(url_for("statements.show", statement_id=statement.id))
        if parsed is not None:
            form.text.data = text  # the confirmation resends exactly what was parsed
            if not form.participants.data and parsed.organisations_text:
                form.participants.data = _mentioned(parsed.organisations_text)
    return render_template("statements/import.html", form=form, parsed=parsed,
                           language_name=lambda tag: display_name(tag, viewer_language())), form_status(form)


def _mentioned(signatories: str) -> list[int]:
    """Organisations named in an imported signatory line, to tick them in the preview."""
    text = signatories.lower()
    return [
        org.id
        for org in db.session.scalars(select(Organisation))
        if org.name.lower() in text or (org.short_name and f"({org.short_name.lower()})" in text)
    ]


def _text(column):
    return func.coalesce(cast(column, String), "")


@functools.cache
def _facts_query():
    """What a statement's page shows, as plain values, in one query and no objects: the statement's
    columns, its current version's hash (which stands for every paragraph's text: each change of the
    text makes a version), the newest entry of its audit trail (every change of the amendments,
    positions, signatures, invitations and participants it shows is audited: promise 7), and the names
    that can change without an audited step: the participating and invited organisations' and the
    coordinator's. The page's ETag is made from these."""
    named = Organisation.__table__
    participants = (select(func.aggregate_strings(
        _text(Participant.position) + "/" + _text(Participant.withdrawn_at) + "/" + _text(named.c.id) + "/"
        + named.c.name + "/" + named.c.short_name + "/" + named.c.slug + "/" + _text(named.c.name_in_statements),
        "|")).select_from(Participant).join(named, named.c.id == Participant.organisation_id)
        .where(Participant.statement_id == Statement.id).correlate(Statement).scalar_subquery())
    invited = (select(func.aggregate_strings(
        _text(StatementInvitation.id) + "/" + _text(StatementInvitation.status) + "/" + _text(named.c.name)
        + "/" + _text(named.c.short_name) + "/" + _text(StatementInvitation.contact_email), "|"))
        .select_from(StatementInvitation).outerjoin(named, named.c.id == StatementInvitation.organisation_id)
        .where(StatementInvitation.statement_id == Statement.id).correlate(Statement).scalar_subquery())
    audited = (select(func.max(AuditEntry.seq)).where(AuditEntry.statement_id == Statement.id)
               .correlate(Statement).scalar_subquery())
    coordinator = select(User.name).where(User.id == Statement.coordinator_id).correlate(Statement).scalar_subquery()
    return (select(*Statement.__table__.c, Version.sha256, audited, participants, invited, coordinator)
            .outerjoin(Version, (Version.statement_id == Statement.id) & (Version.number == Statement.version_count))
            .where(Statement.id == bindparam("statement_id")))


def _statement_etag(facts) -> str:
    """The statement page's ETag, from its facts (``_facts_query``) and the viewer (``page_etag``: their
    roles decide their rights, with the statement's facts and whether amendments are open now)."""
    *columns, participants, invited, coordinator = facts
    open_now = facts.status == "amending" and (facts.amendment_deadline is None or now() < facts.amendment_deadline)
    return page_etag("statement", tuple(columns), coordinator, sorted((participants or "").split("|")),
                     sorted((invited or "").split("|")), open_now)


def visible_with_version(statement_id: int):
    """The statement, its people and its current version (without its text) in one query, with the
    viewer's rights; a 404 for whoever may not see it."""
    row = db.session.execute(
        select(Statement, Version)
        .outerjoin(Version, (Version.statement_id == Statement.id) & (Version.number == Statement.version_count))
        .where(Statement.id == statement_id)
        .options(*_with_people(), joinedload(Statement.frozen_version).defer(Version.canonical_text),
                 defer(Version.canonical_text))
    ).unique().first()
    statement, version = row if row else (None, None)
    rights = statement.rights(current_user, now=now()) if statement else None
    if not rights or not rights.can_view:
        abort(404)
    return statement, version, rights


@bp.route("/<int:statement_id>")
@login_required
def show(statement_id: int):
    facts = db.session.execute(_facts_query(), {"statement_id": statement_id}).first()
    if facts is None:
        abort(404)
    # A browser that has this page already is told so before anything else is read. (Someone who may not
    # see the statement never had its page: their ETag, which names them, cannot match.)
    etag = _statement_etag(facts)
    if (response := not_modified(etag)) is not None:
        return response
    statement, version, rights = visible_with_version(statement_id)
    open_counts = amending.open_counts(statement) if statement.status != "draft" else {}
    progress = signing.progress(statement) if statement.status == "signing" else None
    invited = participation.pending_invitations(statement) \
        if rights.is_coordinator and statement.status in ("draft", "amending") else []
    response = make_response(render_template(
        "statements/show.html", statement=statement, rights=rights, version=version,
        rows=_paragraph_rows(statement, rights, drafting.live_texts(statement.id), open_counts),
        open_counts=open_counts, progress=progress, invited=invited))
    return conditional(response, etag)


def _paragraph_rows(statement: Statement, rights, paragraphs: list[tuple[int, str]], open_counts: dict):
    stamp = Stamp("statements/_paragraph.html", statement=statement, rights=rights)
    last = len(paragraphs)
    ends = rights.can_edit  # only the editor's move buttons depend on being first or last
    return stamp.rows(
        ((bool(open_counts.get(pid)), open_counts.get(pid) == 1, ends and number == 1, ends and number == last),
         {"pid": pid, "number": number, "text": text, "count": open_counts.get(pid, 0)})
        for number, (pid, text) in enumerate(paragraphs, start=1))


@bp.route("/<int:statement_id>/title", methods=["GET", "POST"])
@login_required
def edit_title(statement_id: int):
    statement = _editable(statement_id)
    form = TitleForm(obj=statement)
    if form.validate_on_submit():
        ok, version = run_rule(form, drafting.retitle, statement, current_user._get_current_object(),
                               form.title.data, now=now())
        if ok:
            flash(gettext("Title saved as version %(number)s.", number=version.number) if version
                  else gettext("Nothing changed."), "success" if version else "info")
            return redirect(url_for("statements.show", statement_id=statement.id))
    return render_template("statements/edit_title.html", statement=statement, form=form), form_status(form)


def _paragraph_or_404(statement: Statement, paragraph_id: int):
    for number, paragraph in drafting.numbered(drafting.live_paragraphs(statement)):
        if paragraph.id == paragraph_id:
            return number, paragraph
    abort(404)


@bp.route("/<int:statement_id>/paragraphs/<int:paragraph_id>/edit", methods=["GET", "POST"])
@login_required
def edit_paragraph(statement_id: int, paragraph_id: int):
    statement = _editable(statement_id)
    number, paragraph = _paragraph_or_404(statement, paragraph_id)
    form = ParagraphForm()
    if request.method == "GET":
        form.text.data = paragraph.text
        form.base_revision_id.data = paragraph.current_revision_id
    stale = False
    if form.validate_on_submit():
        ok, result = run_rule(form, drafting.edit_paragraph, statement,
                              current_user._get_current_object(), paragraph.id, form.text.data,
                              base_revision_id=form.base_revision_id.data, now=now())
        if ok:
            flash(gettext("¶ %(number)s saved as version %(version)s.", number=number, version=result.number)
                  if result else gettext("Nothing changed."), "success" if result else "info")
            return redirect(url_for("statements.show", statement_id=statement.id,
                                    _anchor=f"p-{paragraph.id}"))
        stale = result.code == "stale"
        if stale:
            db.session.refresh(paragraph)
    return render_template("statements/edit_paragraph.html", statement=statement, number=number,
                           paragraph=paragraph, form=form, stale=stale), 409 if stale else form_status(form)


@bp.route("/<int:statement_id>/paragraphs/new", methods=["GET", "POST"])
@login_required
def new_paragraph(statement_id: int):
    statement = _editable(statement_id)
    form = NewParagraphForm()
    after_raw = form.after.data if request.method == "POST" else request.args.get("after", "top")
    after_id = None
    after_number = 0
    if after_raw not in (None, "", "top"):
        if not str(after_raw).isdecimal():
            abort(404)
        after_number, after = _paragraph_or_404(statement, int(after_raw))
        after_id = after.id
    form.after.data = str(after_id) if after_id else "top"
    if form.validate_on_submit():
        ok, result = run_rule(form, drafting.insert_paragraph, statement,
                              current_user._get_current_object(), form.text.data,
                              after_id=after_id, now=now())
        if ok:
            paragraph, version = result
            flash(gettext("Paragraph inserted as ¶ %(number)s; saved as version %(version)s.",
                          number=after_number + 1, version=version.number), "success")
            return redirect(url_for("statements.show", statement_id=statement.id,
                                    _anchor=f"p-{paragraph.id}"))
    return render_template("statements/new_paragraph.html", statement=statement, form=form,
                           after_number=after_number), form_status(form)


@bp.route("/<int:statement_id>/paragraphs/<int:paragraph_id>/delete", methods=["GET", "POST"])
@login_required
def delete_paragraph(statement_id: int, paragraph_id: int):
    statement = _editable(statement_id)
    number, paragraph = _paragraph_or_404(statement, paragraph_id)
    form = DeleteParagraphForm()
    if request.method == "GET":
        form.base_revision_id.data = paragraph.current_revision_id
    if form.validate_on_submit():
        ok, result = run_rule(form, drafting.delete_paragraph, statement,
                              current_user._get_current_object(), paragraph.id,
                              base_revision_id=form.base_revision_id.data, now=now())
        if ok:
            flash(gettext("¶ %(number)s deleted; saved as version %(version)s. Its text stays in the history.",
                          number=number, version=result.number), "success")
            return redirect(url_for("statements.show", statement_id=statement.id))
        form.base_revision_id.data = paragraph.current_revision_id
    return render_template("statements/delete_paragraph.html", statement=statement, number=number,
                           paragraph=paragraph, form=form)


@bp.route("/<int:statement_id>/paragraphs/<int:paragraph_id>/move", methods=["POST"])
@login_required
def move_paragraph(statement_id: int, paragraph_id: int):
    statement = _editable(statement_id)
    _paragraph_or_404(statement, paragraph_id)
    form = MoveParagraphForm()
    if form.validate_on_submit():
        ok, result = run_rule(form, drafting.move_paragraph, statement,
                              current_user._get_current_object(), paragraph_id,
                              form.direction.data, now=now())
        flash(gettext("Moved; saved as version %(version)s.", version=result.number) if ok else result.message,
              "success" if ok else "error")
    else:
        flash(gettext("The form expired; please try again."), "error")
    return redirect(url_for("statements.show", statement_id=statement.id, _anchor=f"p-{paragraph_id}"))


@bp.route("/<int:statement_id>/history")
@login_required
def history(statement_id: int):
    statement = _visible(statement_id)
    versions = paginate(
        select(Version)
        .where(Version.statement_id == statement.id)
        .options(joinedload(Version.author), defer(Version.canonical_text))
        .order_by(Version.number.desc()), per_page=VERSIONS_PER_PAGE)
    milestones = db.session.scalars(
        select(AuditEntry).where(AuditEntry.statement_id == statement.id, AuditEntry.action.in_(MILESTONES))
        .order_by(AuditEntry.seq)
    ).all()
    return render_template("statements/history.html", statement=statement, versions=versions,
                           current=versions.items[0] if versions.page == 1 and versions.items
                           else drafting.current_version(statement),
                           milestones=milestones, milestone_labels=MILESTONES, shown_note=drafting.shown_note)


@bp.route("/<int:statement_id>/versions/<int:number>")
@login_required
def version(statement_id: int, number: int):
    statement = _visible(statement_id)
    version, paragraphs = drafting.version_texts(statement, number)
    return render_template("statements/version.html", statement=statement, version=version,
                           paragraphs=paragraphs, shown_note=drafting.shown_note)


@bp.route("/<int:statement_id>/versions/<int:number>.txt")
@login_required
def version_text(statement_id: int, number: int):
    statement = _visible(statement_id)
    version = drafting.get_version(statement, number)
    return Response(
        version.canonical_text.encode("utf-8"),
        mimetype="text/plain",
        headers={"Content-Type": "text/plain; charset=utf-8",
                 "X-Content-SHA256": version.sha256,
                 "Content-Disposition": f'inline; filename="{statement.slug}-v{number}.txt"'},
    )
