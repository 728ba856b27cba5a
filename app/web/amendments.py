"""Amendment pages: open for amendments, propose, discuss, decide; compare, history, blame."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from app.amending import operations as amending
from app.diffing import blame, compare_paragraphs, render_diff, word_diff
from app.drafting import operations as drafting
from app.extensions import db
from app.models import (
    Amendment,
    Organisation,
    Paragraph,
    Revision,
    Statement,
)
from app.web import fragments, int_arg, now, reads_only, run_rule
from app.web.amendment_forms import (
    AcceptForm,
    CommentForm,
    EditAmendmentForm,
    OpenForm,
    PositionForm,
    ProposeForm,
    RejectForm,
    SponsorForm,
)
from app.web.forms import EmptyForm
from app.web.statements import _visible as visible_statement

bp = Blueprint("amendments", __name__)

KIND_LABELS = {"modify": "Modify", "insert": "Insert", "delete": "Delete", "retitle": "New title"}
FILTER_STATUSES = ("open", "conflicted", "accepted", "rejected", "withdrawn", "obsolete", "superseded")
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


@bp.app_template_filter("linkify")
def linkify(text: str) -> Markup:
    """Escape plain text, then make http(s) links clickable."""
    out, last = [], 0
    for match in _URL.finditer(text or ""):
        out.append(escape(text[last:match.start()]))
        url = match.group(0)
        out.append(Markup('<a href="{0}" rel="nofollow noopener noreferrer">{0}</a>').format(url))
        last = match.end()
    out.append(escape((text or "")[last:]))
    return Markup("").join(out)


@bp.app_template_filter("diff")
def diff_filter(pair) -> Markup:
    old, new = pair
    return render_diff(word_diff(old or "", new or ""))


@bp.app_context_processor
def amendment_labels():
    return {"KIND_LABELS": KIND_LABELS, "render_ops": render_diff}


def _amendment(amendment_id: int) -> tuple[Amendment, Statement]:
    amendment = db.session.get(Amendment, amendment_id)
    if amendment is None or not amendment.statement.can_view(current_user):
        abort(404)
    return amendment, amendment.statement


def _user():
    return current_user._get_current_object()


def _delegate_choices(statement: Statement) -> list[tuple[int, str]]:
    return [(o.id, o.display_name) for o in statement.delegate_organisations(current_user)]


# --- opening -------------------------------------------------------------------------


@bp.route("/statements/<int:statement_id>/open", methods=["GET", "POST"])
@login_required
def open_statement(statement_id: int):
    statement = visible_statement(statement_id)
    if not statement.can_open(current_user):
        abort(403)
    form = OpenForm()
    if form.validate_on_submit():
        ok, _ = run_rule(form, amending.open_for_amendments, statement, _user(),
                         rule=form.decision_rule.data, deadline=form.deadline.data, now=now())
        if ok:
            flash("The statement is open for amendments. From now on its text changes only "
                  "through accepted amendments.", "success")
            return redirect(url_for("statements.show", statement_id=statement.id))
    return render_template("amendments/open.html", statement=statement, form=form)


# --- proposing -------------------------------------------------------------------------


def _place(statement: Statement, kind: str):
    """The paragraph an amendment is about (or follows) from the query string."""
    numbers = amending.paragraph_numbers(statement)
    raw = request.args.get("after" if kind == "insert" else "paragraph", "")
    if kind == "retitle" or (kind == "insert" and raw in ("", "top")):
        return None, 0, numbers
    if not raw.isdecimal() or int(raw) not in numbers:  # isdigit() would let "²" through to int()
        abort(404)
    return db.session.get(Paragraph, int(raw)), numbers[int(raw)], numbers


@bp.route("/statements/<int:statement_id>/amendments/new", methods=["GET", "POST"])
@login_required
def propose(statement_id: int):
    statement = visible_statement(statement_id)
    kind = request.args.get("kind", "modify")
    if kind not in KIND_LABELS:
        abort(404)
    organisations = statement.delegate_organisations(current_user)
    if not organisations:
        return render_template("amendments/not_delegate.html", statement=statement), 403
    if not statement.amendments_open(now()):
        flash("Amendments cannot be proposed now: "
              + ("the deadline has passed." if statement.status == "amending"
                 else "the statement is not open for amendments."), "error")
        return redirect(url_for("statements.show", statement_id=statement.id))
    paragraph, number, _ = _place(statement, kind)
    base = statement.title if kind == "retitle" else (
        paragraph.text if paragraph is not None and kind != "insert" else "")
    form = ProposeForm()
    form.organisation.choices = [(o.id, o.display_name) for o in organisations]
    rivals = [a for a in amending.open_amendments_at(statement, "title" if kind == "retitle" else paragraph.id)
              if a.kind != "insert"] if kind in ("modify", "delete", "retitle") else []
    form.supersedes.choices = [(a.id, f"#{a.id} {KIND_LABELS[a.kind]} by {a.organisation.display_name}")
                               for a in rivals]
    if request.method == "GET" and kind != "insert":
        form.text.data = base
    preview = None
    if form.validate_on_submit():
        proposed = form.text.data or ""
        if form.preview.data:
            preview = render_diff(word_diff(base, proposed.replace("\r\n", "\n").strip()))
        else:
            organisation = db.session.get(Organisation, form.organisation.data)
            ok, result = run_rule(
                form, amending.propose, statement, _user(), organisation, kind=kind,
                paragraph_id=paragraph.id if paragraph else None, text=proposed,
                rationale=form.rationale.data, supersedes=form.supersedes.data or [], now=now(),
            )
            if ok:
                flash(f"Amendment #{result.id} is proposed. The other organisations can now "
                      "discuss it and take positions.", "success")
                return redirect(url_for("amendments.show", amendment_id=result.id))
    return render_template("amendments/propose.html", statement=statement, form=form, kind=kind,
                           paragraph=paragraph, number=number, base=base, preview=preview)


@bp.route("/amendments/<int:amendment_id>/edit", methods=["GET", "POST"])
@login_required
def edit(amendment_id: int):
    amendment, statement = _amendment(amendment_id)
    if not amending.can_edit(amendment, current_user):
        flash("You cannot edit this amendment (only its proposer can, until organisations take "
              "positions on it).", "error")
        return redirect(url_for("amendments.show", amendment_id=amendment.id))
    revising = amendment.status == "conflicted"
    if revising and amendment.kind in ("modify", "delete") and amendment.paragraph.deleted_at is None:
        base = amendment.paragraph.text
    elif revising and amendment.kind == "retitle":
        base = statement.title
    else:
        base = amendment.base_text
    form = EditAmendmentForm()
    if request.method == "GET":
        form.text.data = amendment.proposed_text
        form.rationale.data = amendment.rationale
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = render_diff(word_diff(base, (form.text.data or "").replace("\r\n", "\n").strip()))
        else:
            ok, _ = run_rule(form, amending.edit_amendment, amendment, _user(), text=form.text.data,
                             rationale=form.rationale.data, now=now())
            if ok:
                flash("Amendment revised against the current text." if revising else "Amendment saved.",
                      "success")
                return redirect(url_for("amendments.show", amendment_id=amendment.id))
    return render_template("amendments/edit.html", statement=statement, amendment=amendment, form=form,
                           base=base, preview=preview, revising=revising)


# --- the amendment page ------------------------------------------------------------------


def _page(amendment: Amendment, statement: Statement, status: int = 200, rights=None, **forms):
    def body() -> str:
        user = current_user
        # Everything the page lists, each collection in one query (the key needed none of them).
        _, number = db.session.execute(
            select(Amendment, drafting.paragraph_number(statement.id, amendment.paragraph_id))
            .where(Amendment.id == amendment.id).options(
                joinedload(Amendment.statement).joinedload(Statement.memberships),
                selectinload(Amendment.comments), selectinload(Amendment.history),
                selectinload(Amendment.sponsors), selectinload(Amendment.positions),
                joinedload(Amendment.decided_by), joinedload(Amendment.result_version),
                # The paragraph's text now, shown when it moved on from the amendment's base.
                joinedload(Amendment.paragraph).joinedload(Paragraph.current_revision))).unique().one()
        numbers = {amendment.paragraph_id: number} if number else {}
        paragraph = amendment.paragraph
        current_text = None
        if amendment.kind in ("modify", "delete") and paragraph is not None and paragraph.deleted_at is None \
                and paragraph.current_revision_id != amendment.base_revision_id:
            current_text = paragraph.text
        delegate_orgs = _delegate_choices(statement)
        can_position = amendment.status in ("open", "rebased") and statement.status == "amending"
        # Only the form that was sent is filled from the request; the others start empty.
        position_form = forms.get("position_form") or PositionForm(formdata=None)
        position_form.organisation.choices = delegate_orgs
        sponsoring = {o.id for o in amendment.organisations}
        sponsor_form = SponsorForm(formdata=None)
        sponsor_form.organisation.choices = [c for c in delegate_orgs if c[0] not in sponsoring]
        accept_form = AcceptForm(formdata=None, text_version=amendment.text_version)
        replies: dict[int, list] = {}
        for comment in amendment.comments:
            if comment.parent_id:
                replies.setdefault(comment.parent_id, []).append(comment)
        return render_template(
            "amendments/_show_body.html", statement=statement, amendment=amendment, numbers=numbers,
            current_text=current_text, tally=amending.tally(amendment, statement),
            position_form=position_form if delegate_orgs and can_position else None,
            sponsor_form=sponsor_form if sponsor_form.organisation.choices and amendment.is_open
            and statement.status == "amending" else None,
            comment_form=forms.get("comment_form") or CommentForm(formdata=None),
            can_comment=amending.can_comment(statement, user) and statement.status not in ("published",
                                                                                            "withdrawn"),
            reject_form=forms.get("reject_form") or RejectForm(formdata=None),
            accept_form=accept_form,
            can_decide=statement.is_coordinator(user) and amendment.is_open and statement.status == "amending",
            can_edit=amending.can_edit(amendment, user),
            can_withdraw=user.id == amendment.proposer_id and amendment.is_open,
            top_comments=[c for c in amendment.comments if not c.parent_id], replies=replies,
        )

    if forms:  # a form shows what this viewer typed: for them alone, never kept
        return render_template("amendments/show.html", statement=statement, amendment=amendment,
                               body=Markup(body())), status
    # The amendment, its positions, comments and history change only under the statement's lock.
    rights = rights or fragments.viewer_rights(statement)
    key = ("amendment", amendment.id, statement.generation, statement.version_count, rights,
           current_user.id == amendment.proposer_id)
    return fragments.page("amendments/show.html", key, body, statement=statement, amendment=amendment), status


@bp.route("/amendments/<int:amendment_id>")
@login_required
@reads_only
def show(amendment_id: int):
    # Usually loaded already, with the user (accounts.load_for_request): then no query.
    amendment = db.session.get(Amendment, amendment_id,
                               options=[lazyload("*"), joinedload(Amendment.statement).lazyload("*")])
    rights = amendment and fragments.viewer_rights(amendment.statement)
    if not rights or not rights.can_view:
        abort(404)
    return _page(amendment, amendment.statement, rights=rights)


def _back(amendment: Amendment, anchor: str | None = None):
    return redirect(url_for("amendments.show", amendment_id=amendment.id, _anchor=anchor))


@bp.route("/amendments/<int:amendment_id>/positions", methods=["POST"])
@login_required
def position(amendment_id: int):
    amendment, statement = _amendment(amendment_id)
    form = PositionForm()
    form.organisation.choices = _delegate_choices(statement)
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation.data)
        ok, _ = run_rule(form, amending.take_position, amendment, _user(), organisation, form.stance.data,
                         form.reason.data or "", now=now())
        if ok:
            flash(f"Position recorded for {organisation.display_name}: {form.stance.data}.", "success")
            return _back(amendment, "positions")
    if not form.organisation.choices:
        abort(403)
    return _page(amendment, statement, 422, position_form=form)


@bp.route("/amendments/<int:amendment_id>/sponsor", methods=["POST"])
@login_required
def sponsor(amendment_id: int):
    amendment, statement = _amendment(amendment_id)
    form = SponsorForm()
    form.organisation.choices = _delegate_choices(statement)
    if not form.organisation.choices:
        abort(403)
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation.data)
        ok, result = run_rule(None, amending.cosponsor, amendment, _user(), organisation, now=now())
        flash(f"{organisation.display_name} now co-sponsors this amendment." if ok else result.message,
              "success" if ok else "error")
    else:
        flash("Choose an organisation to co-sponsor for.", "error")
    return _back(amendment)


@bp.route("/amendments/<int:amendment_id>/comments", methods=["POST"])
@login_required
def comment(amendment_id: int):
    amendment, statement = _amendment(amendment_id)
    form = CommentForm()
    if form.validate_on_submit():
        parent = form.parent_id.data
        parent_id = int(parent) if parent and parent.isdecimal() and int(parent) < 2**31 else None
        if parent and parent_id is None:
            abort(404)
        ok, result = run_rule(form, amending.add_comment, amendment, _user(), form.body.data,
                              parent_id=parent_id, now=now())
        if ok:
            return _back(amendment, f"c-{result.id}")
    # The parent id is a hidden field: show its error above the form.
    form.form_errors.extend(form.parent_id.errors)
    return _page(amendment, statement, 422, comment_form=form)


@bp.route("/amendments/<int:amendment_id>/withdraw", methods=["POST"])
@login_required
def withdraw(amendment_id: int):
    amendment, _ = _amendment(amendment_id)
    if EmptyForm().validate_on_submit():
        ok, result = run_rule(None, amending.withdraw_amendment, amendment, _user(), now=now())
        flash("Amendment withdrawn." if ok else result.message, "success" if ok else "error")
    return _back(amendment)


@bp.route("/amendments/<int:amendment_id>/accept", methods=["POST"])
@login_required
def accept(amendment_id: int):
    amendment, statement = _amendment(amendment_id)
    form = AcceptForm()
    if form.validate_on_submit():
        ok, result = run_rule(None, amending.accept, amendment, _user(),
                              text_version=form.text_version.data, now=now())
        if ok:
            flash(f"Amendment #{amendment.id} accepted: the text is now version {result.number}.",
                  "success")
            return _back(amendment)
        flash(result.message, "error")
    else:
        flash("The form expired; please try again.", "error")
    return _back(amendment)


@bp.route("/amendments/<int:amendment_id>/reject", methods=["POST"])
@login_required
def reject(amendment_id: int):
    amendment, statement = _amendment(amendment_id)
    form = RejectForm()
    if form.validate_on_submit():
        ok, result = run_rule(form, amending.reject, amendment, _user(), reason=form.reason.data, now=now())
        if ok:
            flash(f"Amendment #{amendment.id} rejected.", "success")
            return _back(amendment)
        if result.field != "reason":
            # Not the coordinator, or no longer open: the reject form is not shown, so say it above.
            flash(result.message, "error")
            return _back(amendment)
    return _page(amendment, statement, 422, reject_form=form)


# --- lists, comparison, history, blame -------------------------------------------------------


@bp.route("/statements/<int:statement_id>/amendments")
@login_required
def index(statement_id: int):
    statement = visible_statement(statement_id)
    numbers = amending.paragraph_numbers(statement)
    paragraph, organisation = int_arg("paragraph"), int_arg("organisation")
    status = request.args.get("status") or None
    amendments = amending.list_amendments(statement, paragraph_id=paragraph, organisation_id=organisation,
                                          status=status)
    return render_template("amendments/index.html", statement=statement, amendments=amendments,
                           numbers=numbers, selected={"paragraph": paragraph, "organisation": organisation,
                                                      "status": status},
                           statuses=FILTER_STATUSES)


@bp.route("/statements/<int:statement_id>/compare")
@login_required
def compare(statement_id: int):
    statement = visible_statement(statement_id)
    last = statement.version_count
    old_n = int_arg("from") or max(1, last - 1)
    new_n = int_arg("to") or last
    (old_version, old), (new_version, new) = drafting.versions_texts(statement, [old_n, new_n])
    rows = compare_paragraphs(old, new)
    return render_template("amendments/compare.html", statement=statement, old=old_version, new=new_version,
                           rows=rows, versions=range(1, last + 1),
                           changed=sum(1 for r in rows if r.kind != "unchanged"))


@bp.route("/statements/<int:statement_id>/paragraphs/<int:paragraph_id>/history")
@login_required
def paragraph_history(statement_id: int, paragraph_id: int):
    statement = visible_statement(statement_id)
    paragraph = db.session.get(Paragraph, paragraph_id)
    if paragraph is None or paragraph.statement_id != statement.id:
        abort(404)
    revisions = db.session.scalars(
        select(Revision).where(Revision.paragraph_id == paragraph.id)
        .options(selectinload(Revision.author)).order_by(Revision.id)
    ).all()
    amendments = {a.id: a for a in db.session.scalars(
        select(Amendment).where(Amendment.id.in_([r.amendment_id for r in revisions if r.amendment_id])))}
    rows = [(r, revisions[i - 1].text if i else "", amendments.get(r.amendment_id))
            for i, r in enumerate(revisions)]
    numbers = amending.paragraph_numbers(statement)
    return render_template("amendments/paragraph_history.html", statement=statement, paragraph=paragraph,
                           number=numbers.get(paragraph.id), rows=list(reversed(rows)))


@bp.route("/statements/<int:statement_id>/blame")
@login_required
def blame_view(statement_id: int):
    statement = visible_statement(statement_id)
    paragraphs = drafting.live_paragraphs(statement)
    revisions: dict[int, list[Revision]] = {}
    for revision in db.session.scalars(
        select(Revision).join(Paragraph, Revision.paragraph_id == Paragraph.id)
        .where(Paragraph.statement_id == statement.id, Paragraph.deleted_at.is_(None))
        .order_by(Revision.id)
    ):
        revisions.setdefault(revision.paragraph_id, []).append(revision)
    amendments = {a.id: a for a in db.session.scalars(
        select(Amendment).where(Amendment.statement_id == statement.id, Amendment.status == "accepted")
        .options(selectinload(Amendment.organisation)))}
    legend: dict[int | None, int] = {None: 0}
    for amendment_id in sorted(amendments):
        legend[amendment_id] = len(legend)
    blamed = []
    for number, paragraph in drafting.numbered(paragraphs):
        chain = [(r.text, r.amendment_id) for r in revisions.get(paragraph.id, [])]
        # A chain must end at the current text (it always does: revisions are append-only).
        blamed.append((number, paragraph, blame(chain) if chain else []))
    return render_template("amendments/blame.html", statement=statement, blamed=blamed,
                           amendments=amendments, legend=legend)

