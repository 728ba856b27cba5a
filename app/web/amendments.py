"""Amendment pages: open for amendments, propose, discuss, decide; compare, history, blame."""

from __future__ import annotations

import re
import time

from flask import Blueprint, abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import format_decimal, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from app import limits
from app.amending import operations as amending
from app.amending import suggestions as suggesting
from app.amending import words
from app.amending.rules import RULE_NAMES
from app.diffing import blame, compare_paragraphs, load_ops, render_diff, word_diff
from app.drafting import operations as drafting
from app.extensions import db
from app.models import (
    Amendment,
    AmendmentRevision,
    Organisation,
    Paragraph,
    Revision,
    Statement,
    Suggestion,
    Version,
)
from app.paging import paginate
from app.permissions import amendment_rights, may_withdraw_suggestion
from app.rate_limits import limited
from app.web import conditional, form_status, int_arg, not_modified, now, page_etag, run_rule, shown
from app.web.amendment_forms import (
    AcceptForm,
    CommentForm,
    DeclineSuggestionForm,
    EditAmendmentForm,
    OpenForm,
    PositionForm,
    ProposeForm,
    RejectForm,
    SponsorForm,
    SuggestForm,
)
from app.web.forms import EmptyForm
from app.web.statements import _visible as visible_statement

bp = Blueprint("amendments", __name__)

KIND_LABELS = {"modify": _l("Modify"), "insert": _l("Insert"), "delete": _l("Delete"), "retitle": _l("New title")}
PER_PAGE = 50  # amendments in one page of a list
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


def _page_diff_deadline() -> float:
    """When the word diffs of this request must be done by: they share one budget, however many."""
    if "concord_diff_deadline" not in g:
        g.concord_diff_deadline = time.monotonic() + limits.PAGE_DIFF_SECONDS
    return g.concord_diff_deadline


@bp.app_template_filter("diff")
def diff_filter(pair) -> Markup:
    """A diff computed while rendering: only for what the viewer chose to compare (two versions)."""
    old, new = pair
    return render_diff(word_diff(old or "", new or "", deadline=_page_diff_deadline()))


bp.add_app_template_filter(load_ops, "load_ops")


@bp.app_template_filter("amendment_count")
def amendment_count(number) -> str:
    """A count as the viewer's language writes numbers (1,234 / 1.234 / 1 234)."""
    return format_decimal(number)


@bp.app_context_processor
def amendment_labels():
    return {"KIND_LABELS": KIND_LABELS, "render_ops": render_diff}


# The words of statuses, stances and rules, in the viewer's language: globals, so that macros imported
# without the context (amendments/_amendment.html) have them too.
for _name, _word in {
    "amendment_status": words.amendment_status, "suggestion_status": words.suggestion_status,
    "decided_as": lambda status: words.DECIDED_AS.get(status) or status.capitalize(),
    "history_reason": lambda reason: words.HISTORY_REASON.get(reason) or reason.capitalize(),
    "stance_word": lambda stance: words.STANCE.get(stance) or stance.capitalize(),
    "rule_name": lambda rule: RULE_NAMES.get(rule) or rule,
    "decision_reason": words.decision_reason,
}.items():
    bp.add_app_template_global(_word, _name)


def _amendment(amendment_id: int) -> tuple[Amendment, Statement]:
    amendment = db.session.get(Amendment, amendment_id)
    if amendment is None or not amendment.statement.can_view(current_user):
        abort(404)
    return amendment, amendment.statement


def _user():
    return current_user._get_current_object()


def _amendment_row(amendment_id: int) -> Amendment:
    """The amendment's own row, nothing more: a rule reads what it needs again under the statement's
    lock, and refuses those who may not act (the page shown with its error then answers 404 to those
    who may not even see it)."""
    amendment = db.session.get(Amendment, amendment_id, options=[lazyload("*"), joinedload(Amendment.proposer)])
    if amendment is None:
        abort(404)
    return amendment


def _delegate_ids() -> list[tuple[int, str]]:
    """Choices for a form's organisation, as far as validating a POST needs them: the organisations the
    user is a delegate of (whether each takes part in the statement, the rule checks)."""
    return [(org_id, "") for org_id, role in sorted(_user().role_pairs()) if role == "delegate"]


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
        ok, _result = run_rule(form, amending.open_for_amendments, statement, _user(),
                               rule=form.decision_rule.data, deadline=form.deadline.data, now=now())
        if ok:
            flash(gettext("The statement is open for amendments. From now on its text changes only "
                          "through accepted amendments."), "success")
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


def _place_id(kind: str) -> int | None:
    """The id of the paragraph an amendment is about (or follows), from the query string (None: the title,
    or the top); what it names, the rule or the page checks."""
    raw = request.args.get("after" if kind == "insert" else "paragraph", "")
    if kind == "retitle" or (kind == "insert" and raw in ("", "top")):
        return None
    if not raw.isdecimal() or not 0 < int(raw) < 2**31:  # isdigit() would let "²" through to int()
        abort(404)
    return int(raw)


def _propose_directly(statement_id: int, kind: str):
    """A proposal sent, not previewed: straight to the rule, which reads under the statement's lock all it
    needs. None when the form or the rule refuses it: the page is then shown again with the errors."""
    form = ProposeForm()
    form.organisation.choices = _delegate_ids()
    chosen = request.form.getlist(form.supersedes.name)
    form.supersedes.choices = [(int(i), "") for i in chosen if i.isdecimal() and int(i) < 2**31]
    if form.preview.data or not form.validate_on_submit():
        return None
    ok, result = run_rule(None, amending.propose, statement_id, _user(), form.organisation.data, kind=kind,
                          paragraph_id=_place_id(kind), text=form.text.data or "",
                          rationale=form.rationale.data, supersedes=form.supersedes.data or [], now=now())
    if not ok:
        return None
    flash(gettext("Amendment #%(id)s is proposed. The other organisations can now "
                  "discuss it and take positions.", id=result.id), "success")
    return redirect(url_for("amendments.show", amendment_id=result.id))


@bp.route("/statements/<int:statement_id>/amendments/new", methods=["GET", "POST"])
@login_required
@limited("propose")
def propose(statement_id: int):
    kind = request.args.get("kind", "modify")
    if kind not in KIND_LABELS:
        abort(404)
    if request.method == "POST" and (done := _propose_directly(statement_id, kind)) is not None:
        return done
    statement = visible_statement(statement_id)
    organisations = statement.delegate_organisations(current_user)
    if not organisations:
        return render_template("amendments/not_delegate.html", statement=statement), 403
    if not statement.amendments_open(now()):
        flash(gettext("Amendments cannot be proposed now: the deadline has passed.") if statement.status == "amending"
              else gettext("Amendments cannot be proposed now: the statement is not open for amendments."), "error")
        return redirect(url_for("statements.show", statement_id=statement.id))
    paragraph, number, _numbers = _place(statement, kind)
    base = statement.title if kind == "retitle" else (
        paragraph.text if paragraph is not None and kind != "insert" else "")
    form = ProposeForm()
    form.organisation.choices = [(o.id, o.display_name) for o in organisations]
    rivals = [a for a in amending.open_amendments_at(statement, "title" if kind == "retitle" else paragraph.id)
              if a.kind != "insert"] if kind in ("modify", "delete", "retitle") else []
    form.supersedes.choices = [(a.id, gettext("#%(id)s %(kind)s by %(organisation)s", id=a.id, kind=KIND_LABELS[a.kind],
                                              organisation=a.organisation.display_name))
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
                flash(gettext("Amendment #%(id)s is proposed. The other organisations can now "
                              "discuss it and take positions.", id=result.id), "success")
                return redirect(url_for("amendments.show", amendment_id=result.id))
    return render_template("amendments/propose.html", statement=statement, form=form, kind=kind,
                           paragraph=paragraph, number=number, base=base, preview=preview), form_status(form)


@bp.route("/amendments/<int:amendment_id>/edit", methods=["GET", "POST"])
@login_required
@limited("propose")
def edit(amendment_id: int):
    amendment, statement = _amendment(amendment_id)
    if not amending.can_edit(amendment, current_user):
        flash(gettext("You cannot edit this amendment (only its proposer can, until organisations take "
                      "positions on it)."), "error")
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
            ok, _result = run_rule(form, amending.edit_amendment, amendment, _user(), text=form.text.data,
                                   rationale=form.rationale.data, now=now())
            if ok:
                flash(gettext("Amendment revised against the current text.") if revising
                      else gettext("Amendment saved."), "success")
                return redirect(url_for("amendments.show", amendment_id=amendment.id))
    return render_template("amendments/edit.html", statement=statement, amendment=amendment, form=form,
                           base=base, preview=preview, revising=revising), form_status(form)


# --- the amendment page ------------------------------------------------------------------


def _load_page(amendment_id: int) -> tuple[Amendment, int]:
    """The amendment with everything its page lists, each collection in one query, and its paragraph's
    current number (0: none, or deleted)."""
    row = db.session.execute(
        select(Amendment, drafting.paragraph_number(Amendment.statement_id, Amendment.paragraph_id))
        .where(Amendment.id == amendment_id).options(
            joinedload(Amendment.statement).options(
                joinedload(Statement.memberships), joinedload(Statement.coordinator),
                joinedload(Statement.coordinator_organisation)),
            selectinload(Amendment.comments), selectinload(Amendment.positions),
            joinedload(Amendment.sponsors), joinedload(Amendment.decided_by),
            joinedload(Amendment.result_version).defer(Version.canonical_text))
    ).unique().first()
    if row is None:
        abort(404)
    return row[0], row[1]


def _page(amendment: Amendment, statement: Statement, number: int, status: int = 200, **forms):
    user = current_user._get_current_object()
    rights = statement.rights(user, now=now())
    if not rights.can_view:
        abort(404)
    sent_as_delegate = any(forms.get(name) is not None for name in ("position_form", "suggest_form"))
    if sent_as_delegate and not rights.delegate_for:
        abort(403)  # a position or suggestion sent by someone who speaks for no participant
    allowed = amendment_rights(amendment, statement, user, rights)
    history = amendment.history if amendment.text_version > 1 else []  # only a proposal: nothing to list
    open_suggestions, decided_suggestions, decided_count = suggesting.shown_suggestions(amendment.id)
    listed = open_suggestions + decided_suggestions
    etag = page_etag("amendment", number, rights, allowed, decided_count, shown(
        *listed, *(s.organisation for s in listed), *(s.author for s in listed),
        amendment, statement, statement.coordinator, statement.coordinator_organisation,
        amendment.decided_by, amendment.result_version, amendment.proposer, amendment.organisation,
        *statement.memberships, *(p.organisation for p in statement.memberships),
        *amendment.sponsors, *(s.organisation for s in amendment.sponsors),
        *amendment.positions, *(p.user for p in amendment.positions), *(p.organisation for p in amendment.positions),
        *amendment.comments, *(c.author for c in amendment.comments), *history, *(h.author for h in history)))
    if not forms and (response := not_modified(etag)) is not None:
        return response
    choices = [(o.id, o.display_name) for o in statement.organisations_by_id(rights.delegate_for)]
    # Only the form that was sent is filled from the request; the others start empty.
    position_form = forms.get("position_form") or PositionForm(formdata=None)
    position_form.organisation.choices = [c for c in choices if c[0] in allowed.position_for]
    sponsor_form = SponsorForm(formdata=None)
    sponsor_form.organisation.choices = [c for c in choices if c[0] in allowed.sponsor_for]
    suggest_form = forms.get("suggest_form") or SuggestForm(
        formdata=None, text=amendment.proposed_text, text_version=amendment.text_version)
    suggest_form.organisation.choices = [c for c in choices if c[0] in allowed.suggest_for]
    replies: dict[int, list] = {}
    for comment in amendment.comments:
        if comment.parent_id:
            replies.setdefault(comment.parent_id, []).append(comment)
    response = make_response(render_template(
        "amendments/show.html", statement=statement, amendment=amendment,
        numbers={amendment.paragraph_id: number} if number else {}, history=history,
        tally=amending.tally(amendment, statement),
        position_form=position_form if allowed.position_for else None,
        sponsor_form=sponsor_form if allowed.sponsor_for else None,
        suggest_form=suggest_form if allowed.suggest_for else None,
        open_suggestions=open_suggestions, decided_suggestions=decided_suggestions, decided_count=decided_count,
        can_adopt=allowed.can_adopt, decline_form=DeclineSuggestionForm(formdata=None),
        may_withdraw_suggestion=lambda s: may_withdraw_suggestion(s, user),
        comment_form=forms.get("comment_form") or CommentForm(formdata=None),
        can_comment=rights.can_comment and statement.status not in ("published", "withdrawn"),
        reject_form=forms.get("reject_form") or RejectForm(formdata=None),
        accept_form=AcceptForm(formdata=None, text_version=amendment.text_version),
        can_decide=allowed.can_decide, can_edit=allowed.can_edit, can_withdraw=allowed.can_withdraw,
        top_comments=[c for c in amendment.comments if not c.parent_id], replies=replies,
    ), status)
    # A page showing what this viewer typed into a form is theirs alone, for this response only.
    return response if forms else conditional(response, etag)


@bp.route("/amendments/<int:amendment_id>")
@login_required
def show(amendment_id: int):
    return _page(*_with_statement(*_load_page(amendment_id)))


def _with_statement(amendment: Amendment, number: int) -> tuple[Amendment, Statement, int]:
    return amendment, amendment.statement, number


def _form_page(amendment: Amendment, **forms):
    """The amendment's page again, with the form that was sent and its errors (422)."""
    loaded, number = _load_page(amendment.id)
    return _page(loaded, loaded.statement, number, 422, **forms)


def _back(amendment: Amendment, anchor: str | None = None):
    return redirect(url_for("amendments.show", amendment_id=amendment.id, _anchor=anchor))


@bp.route("/amendments/<int:amendment_id>/positions", methods=["POST"])
@login_required
def position(amendment_id: int):
    amendment = _amendment_row(amendment_id)
    form = PositionForm()
    form.organisation.choices = _delegate_ids()
    if form.validate_on_submit():
        ok, result = run_rule(form, amending.take_position, amendment, _user(), form.organisation.data,
                              form.stance.data, form.reason.data or "", now=now())
        if ok:
            flash(gettext("Position recorded for %(organisation)s: %(stance)s.",
                          organisation=result.organisation.display_name,
                          stance=words.STANCE_LOWER.get(form.stance.data, form.stance.data)), "success")
            return _back(amendment, "positions")
    return _form_page(amendment, position_form=form)


@bp.route("/amendments/<int:amendment_id>/sponsor", methods=["POST"])
@login_required
def sponsor(amendment_id: int):
    amendment, statement = _amendment(amendment_id)
    form = SponsorForm()
    form.organisation.choices = _delegate_choices(statement)
    if not form.organisation.choices:
        abort(403)
    if form.validate_on_submit():
        ok, result = run_rule(None, amending.cosponsor, amendment, _user(), form.organisation.data, now=now())
        flash(gettext("%(organisation)s now co-sponsors this amendment.", organisation=result.organisation.display_name)
              if ok else result.message, "success" if ok else "error")
    else:
        flash(gettext("Choose an organisation to co-sponsor for."), "error")
    return _back(amendment)


@bp.route("/amendments/<int:amendment_id>/comments", methods=["POST"])
@login_required
def comment(amendment_id: int):
    amendment = _amendment_row(amendment_id)
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
    return _form_page(amendment, comment_form=form)


@bp.route("/amendments/<int:amendment_id>/withdraw", methods=["POST"])
@login_required
def withdraw(amendment_id: int):
    amendment, _statement = _amendment(amendment_id)
    if EmptyForm().validate_on_submit():
        ok, result = run_rule(None, amending.withdraw_amendment, amendment, _user(), now=now())
        flash(gettext("Amendment withdrawn.") if ok else result.message, "success" if ok else "error")
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
            flash(gettext("Amendment #%(id)s accepted: the text is now version %(number)s.",
                          id=amendment.id, number=result.number), "success")
            return _back(amendment)
        flash(result.message, "error")
    else:
        flash(gettext("The form expired; please try again."), "error")
    return _back(amendment)


@bp.route("/amendments/<int:amendment_id>/reject", methods=["POST"])
@login_required
def reject(amendment_id: int):
    amendment, statement = _amendment(amendment_id)
    form = RejectForm()
    if form.validate_on_submit():
        ok, result = run_rule(form, amending.reject, amendment, _user(), reason=form.reason.data, now=now())
        if ok:
            flash(gettext("Amendment #%(id)s rejected.", id=amendment.id), "success")
            return _back(amendment)
        if result.field != "reason":
            # Not the coordinator, or no longer open: the reject form is not shown, so say it above.
            flash(result.message, "error")
            return _back(amendment)
    return _form_page(amendment, reject_form=form)


# --- suggestions ---------------------------------------------------------------------------


@bp.route("/amendments/<int:amendment_id>/suggestions", methods=["POST"])
@login_required
@limited("propose")
def suggest(amendment_id: int):
    amendment = _amendment_row(amendment_id)
    form = SuggestForm()
    form.organisation.choices = _delegate_ids()
    if form.validate_on_submit():
        ok, result = run_rule(form, suggesting.suggest, amendment, _user(), form.organisation.data,
                              text=form.text.data or "", rationale=form.rationale.data or "",
                              text_version=form.text_version.data, now=now())
        if ok:
            flash(gettext("Your suggestion is sent to the proposer of amendment #%(id)s.", id=amendment.id), "success")
            return _back(amendment, f"s-{result.id}")
    # The text version is a hidden field: show its error above the form.
    form.form_errors.extend(form.text_version.errors)
    return _form_page(amendment, suggest_form=form)


def _suggestion_row(suggestion_id: int) -> Suggestion:
    """The suggestion, for a rule that reads it again under the statement's lock; 404 for those who may not
    see its amendment."""
    suggestion = db.session.get(Suggestion, suggestion_id, options=[lazyload("*")])
    if suggestion is None:
        abort(404)
    _amendment(suggestion.amendment_id)
    return suggestion


def _decided(suggestion: Suggestion, message, ok: bool):
    """Back to the suggestion on its amendment's page, with what became of it."""
    flash(str(message), "success" if ok else "error")
    return redirect(url_for("amendments.show", amendment_id=suggestion.amendment_id, _anchor=f"s-{suggestion.id}"))


_EXPIRED = _l("The form expired; please try again.")


@bp.route("/suggestions/<int:suggestion_id>/adopt", methods=["POST"])
@login_required
def adopt_suggestion(suggestion_id: int):
    suggestion = _suggestion_row(suggestion_id)
    if not EmptyForm().validate_on_submit():
        return _decided(suggestion, _EXPIRED, False)
    ok, result = run_rule(None, suggesting.adopt, suggestion, _user(), now=now())
    return _decided(suggestion, gettext("Suggestion adopted: the amendment has its text now, and positions start a "
                                        "new round.") if ok else result.message, ok)


@bp.route("/suggestions/<int:suggestion_id>/decline", methods=["POST"])
@login_required
def decline_suggestion(suggestion_id: int):
    suggestion = _suggestion_row(suggestion_id)
    form = DeclineSuggestionForm()
    if not form.validate_on_submit():
        return _decided(suggestion, form.reason.errors[0] if form.reason.errors else _EXPIRED, False)
    ok, result = run_rule(None, suggesting.decline, suggestion, _user(), reason=form.reason.data, now=now())
    return _decided(suggestion, gettext("Suggestion declined; its organisation is told why.") if ok else result.message,
                    ok)


@bp.route("/suggestions/<int:suggestion_id>/withdraw", methods=["POST"])
@login_required
def withdraw_suggestion(suggestion_id: int):
    suggestion = _suggestion_row(suggestion_id)
    if not EmptyForm().validate_on_submit():
        return _decided(suggestion, _EXPIRED, False)
    ok, result = run_rule(None, suggesting.withdraw, suggestion, _user(), now=now())
    return _decided(suggestion, gettext("Suggestion withdrawn.") if ok else result.message, ok)


@bp.route("/amendments/<int:amendment_id>/changes")
@login_required
def changes(amendment_id: int):
    """What changed around an amendment since one of its texts (a position was given on it): each later
    text it had, why (the paragraph's change that rebased it, with its stored diff; an edit; an adopted
    suggestion), and its change then, as stored. Nothing is diffed here."""
    amendment, statement = _amendment(amendment_id)
    since = int_arg("since") or 1
    rows = db.session.scalars(
        select(AmendmentRevision).where(AmendmentRevision.amendment_id == amendment.id,
                                        AmendmentRevision.text_version >= since)
        .options(selectinload(AmendmentRevision.author)).order_by(AmendmentRevision.id)).all()
    if not rows:
        abort(404)
    causes = {r.id: r for r in db.session.scalars(
        select(Revision).where(Revision.id.in_({h.base_revision_id for h in rows if h.base_revision_id})))}
    # The first row is the text the position was given on (the newest of that version); the rest came after.
    given_on = [h for h in rows if h.text_version == rows[0].text_version][-1]
    later = [h for h in rows if h.id > given_on.id]
    steps = []
    previous = given_on
    for h in later:
        moved = h.base_revision_id != previous.base_revision_id or h.base_text != previous.base_text
        steps.append((h, causes.get(h.base_revision_id) if moved else None, moved))
        previous = h
    numbers = amending.paragraph_numbers(statement)
    return render_template("amendments/changes.html", statement=statement, amendment=amendment,
                           given_on=given_on, steps=steps, numbers=numbers)


# --- lists, comparison, history, blame -------------------------------------------------------


@bp.route("/statements/<int:statement_id>/amendments")
@login_required
def index(statement_id: int):
    statement = visible_statement(statement_id)
    numbers = amending.paragraph_numbers(statement)
    paragraph, organisation = int_arg("paragraph"), int_arg("organisation")
    status = request.args.get("status") or None
    # Each one's organisation (joined) and stored diff, nothing of its collections.
    query = amending.amendments_query(statement, paragraph_id=paragraph, organisation_id=organisation,
                                      status=status).options(
        lazyload(Amendment.sponsors), lazyload(Amendment.positions), lazyload(Amendment.proposer),
        lazyload(Amendment.paragraph))
    amendments = paginate(query, per_page=PER_PAGE)
    return render_template("amendments/index.html", statement=statement, amendments=amendments,
                           numbers=numbers, selected={key: value for key, value in (
                               ("paragraph", paragraph), ("organisation", organisation), ("status", status)) if value},
                           statuses=FILTER_STATUSES)


@bp.route("/statements/<int:statement_id>/compare")
@login_required
def compare(statement_id: int):
    statement = visible_statement(statement_id)
    last = statement.version_count
    old_n = int_arg("from") or max(1, last - 1)
    new_n = int_arg("to") or last
    (old_version, old), (new_version, new) = drafting.versions_texts(statement, [old_n, new_n])
    rows = compare_paragraphs(old, new, deadline=_page_diff_deadline())
    return render_template("amendments/compare.html", statement=statement, old=old_version, new=new_version,
                           rows=rows, versions=range(1, last + 1),
                           changed=sum(1 for r in rows if r.kind != "unchanged"),
                           coarse=sum(1 for r in rows if r.coarse))


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
    rows = [(r, amendments.get(r.amendment_id)) for r in revisions]
    numbers = amending.paragraph_numbers(statement)
    return render_template("amendments/paragraph_history.html", statement=statement, paragraph=paragraph,
                           number=numbers.get(paragraph.id), rows=list(reversed(rows)),
                           can_propose=statement.rights(current_user, now=now()).can_propose,
                           open_count=amending.open_counts(statement).get(paragraph.id, 0))


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
        blamed.append((number, paragraph, blame(chain, deadline=_page_diff_deadline()) if chain else []))
    return render_template("amendments/blame.html", statement=statement, blamed=blamed,
                           amendments=amendments, legend=legend)

