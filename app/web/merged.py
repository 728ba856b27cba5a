"""The text with all its amendments (/statements/<id>/merged), and accepting several of them at once.

What the page shows comes from ``amending.merged_view`` (stored diffs, one grouped query for the
stances, collisions found when the page is asked for). A statement may have a thousand open
amendments: each is written out by ``_amendment_html`` with one format string (every piece of user
text escaped) rather than through Jinja's runtime, as the statement page stamps its rows
(app/web/stamps.py). The page's ETag is the statement page's facts (every change of an amendment,
position or participant is audited; every change of the text makes a version) with the filters.
"""

from __future__ import annotations

from html import escape  # plain str in, plain str out: cheaper per piece than markupsafe's, same safety

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from app.amending import operations as amending
from app.amending.merged_view import MergedAmendment, MergedPlace, MergedView, merged_view
from app.diffing import EQUAL, INSERT
from app.errors import InvalidInput
from app.extensions import db
from app.models import KINDS, Statement
from app.web import ID_MAX, conditional, not_modified, now, page_etag, run_rule
from app.web.forms import EmptyForm
from app.web.statements import _facts_query, _statement_etag, _with_people, visible_with_version

bp = Blueprint("merged", __name__)

KIND_WORDS = {"modify": _l("Change"), "insert": _l("New paragraph"), "delete": _l("Deletion"),
              "retitle": _l("New title")}
RULE_CHOICES = {"met": True, "unmet": False}


def filters_from(args) -> tuple[dict, dict, list[str]]:
    """The filters of the query string: (the rule's arguments, the values to show in the form, messages
    about the values that were refused and left out)."""
    chosen: dict = {}
    shown: dict = {}
    errors: list[str] = []
    raw = args.get("organisation", "")
    if raw:
        if raw.isdecimal() and 0 < int(raw) <= ID_MAX:
            chosen["organisation"] = shown["organisation"] = int(raw)
        else:
            errors.append(gettext("Choose an organisation from the list."))
    raw = args.get("kind", "")
    if raw:
        if raw in KINDS:
            chosen["kind"] = shown["kind"] = raw
        else:
            errors.append(gettext("Choose a kind from the list: change, new paragraph, deletion or new title."))
    raw = args.get("rule", "")
    if raw:
        if raw in RULE_CHOICES:
            chosen["rule_met"], shown["rule"] = RULE_CHOICES[raw], raw
        else:
            errors.append(gettext("Choose whether the decision rule is met or not."))
    return chosen, shown, errors


def _view(statement: Statement, args) -> tuple[MergedView, dict, list[str]]:
    """The merged view with the query string's filters; a filter the rule refuses is left out and said."""
    chosen, shown, errors = filters_from(args)
    try:
        view = merged_view(statement, **chosen)
    except InvalidInput as exc:
        errors.append(exc.message)
        chosen.pop(exc.field if exc.field != "rule" else "rule_met", None)
        shown.pop(exc.field, None)
        view = merged_view(statement, **chosen)
    return view, shown, errors


# --- the rows ---------------------------------------------------------------------------------------

_AMENDMENT = ('<div class="merged-amendment{classes}" id="a-{id}">'
              '<p class="merged-label">{pick}<a href="{href}">#{id} {org}</a>'
              ' <span class="kind">{kind}</span> <span class="rule {rule_class}" title="{why}">{rule}</span>{status}'
              '{collides}</p><div class="diff">{diff}</div></div>')
_PICK = ('<span class="pick"><input type="checkbox" name="accept" value="{id}.{tv}" id="pick-{id}">'
         '<label for="pick-{id}">{accept}<span class="visually-hidden"> #{id}</span></label></span> ')
_COLLIDES = ' <strong class="collision">{collides}</strong>'


class _Words:
    """The words of the rows, translated once per page (a thousand rows share them), escaped."""

    def __init__(self):
        self.kinds = {kind: escape(str(word)) for kind, word in KIND_WORDS.items()}
        self.accept = escape(gettext("Accept"))
        self.met, self.unmet = escape(gettext("Rule met")), escape(gettext("Rule not met"))
        self.conflicted = escape(gettext("conflicted: to be revised"))
        self.unchanged = escape(gettext("unchanged text"))
        # "Collides with {links}": the links are markup, put in after the words are escaped.
        self.collides = escape(gettext("Collides with %(links)s", links="\x00")).replace("\x00", "{links}")


CONTEXT = 60  # characters of unchanged text kept on each side of a change; the rest is elided


def _context(text: str, before: bool, after: bool, words: _Words) -> str:
    """An unchanged run, escaped: whole if short, else the words next to the changes around it."""
    if len(text) <= 2 * CONTEXT + 20:
        return escape(text)
    head = text[:CONTEXT].rsplit(" ", 1)[0] + " " if after else ""
    tail = " " + text[-CONTEXT:].split(" ", 1)[-1] if before else ""
    return f'{escape(head)}<span class="elided" title="{words.unchanged}">…</span>{escape(tail)}'


def _ops_html(kind: str, ops, words: _Words) -> str:
    """A stored diff as the merged view shows it: insertions and deletions whole, unchanged text only near
    them (it is shown in full just above), a deleted paragraph by its first words."""
    if kind == "delete":
        text = "".join(t for _op, t in ops)
        return f"<del>{escape(text if len(text) <= 2 * CONTEXT else text[:CONTEXT].rsplit(' ', 1)[0] + ' …')}</del>"
    parts = []
    last = len(ops) - 1
    for i, (op, text) in enumerate(ops):
        if op == EQUAL:
            parts.append(_context(text, before=i < last, after=i > 0, words=words))
        elif op == INSERT:
            parts.append(f"<ins>{escape(text)}</ins>")
        else:
            parts.append(f"<del>{escape(text)}</del>")
    return "".join(parts)


def _amendment_html(a: MergedAmendment, pick: bool, words: _Words) -> str:
    collides = _COLLIDES.format(collides=words.collides.format(
        links=", ".join(f'<a href="#a-{i}">#{i}</a>' for i in a.collides_with))) if a.collides_with else ""
    return _AMENDMENT.format(
        classes=" collides" if a.collides_with else "", id=a.id, href=f"/amendments/{a.id}", org=escape(a.organisation),
        kind=words.kinds[a.kind], rule_class="met" if a.rule_met else "unmet", why=escape(str(a.decision.explanation)),
        rule=words.met if a.rule_met else words.unmet,
        status=f' <span class="status">{words.conflicted}</span>' if a.status == "conflicted" else "",
        collides=collides, diff=_ops_html(a.kind, a.ops, words),
        pick=_PICK.format(id=a.id, tv=a.text_version, accept=words.accept) if pick else "")


def _place_html(place: MergedPlace, pick: bool, words: _Words) -> str:
    parts = [_amendment_html(a, pick and a.acceptable, words) for a in place.amendments]
    if place.inserts:
        where = gettext("At the top:") if place.number == 0 else gettext("After ¶ %(number)s:", number=place.number)
        parts.append(f'<p class="merged-where">{escape(where)}</p>')
        parts += [_amendment_html(a, pick and a.acceptable, words) for a in place.inserts]
    return "".join(parts)


def _rows(view: MergedView, pick: bool, words: _Words) -> Markup:
    label = escape(gettext("Paragraph %(number)s", number="\x00")).replace("\x00", "{}")
    rows = [
        f'<li id="p-{p.place}"><a class="number" href="#p-{p.place}" aria-label="{label.format(p.number)}">'
        f'{p.number}.</a><div class="text">{escape(p.text)}</div>'
        f'<div class="merged-amendments">{_place_html(p, pick, words)}</div></li>'
        for p in view.paragraphs]
    return Markup("".join(rows))


# --- the page ----------------------------------------------------------------------------------------


def _etag(facts, shown: dict) -> str:
    return page_etag("merged", _statement_etag(facts), sorted(shown.items()))


@bp.route("/statements/<int:statement_id>/merged")
@login_required
def show(statement_id: int):
    facts = db.session.execute(_facts_query(), {"statement_id": statement_id}).first()
    if facts is None:
        abort(404)
    _chosen, shown_filters, errors = filters_from(request.args)
    etag = _etag(facts, shown_filters)
    if not errors and (response := not_modified(etag)) is not None:
        return response
    statement, version, rights = visible_with_version(statement_id)
    view, shown_filters, errors = _view(statement, request.args)
    pick = rights.is_coordinator and statement.status == "amending"
    words = _Words()
    response = make_response(render_template(
        "amendments/merged.html", statement=statement, version=version, rights=rights, view=view,
        rows=_rows(view, pick, words), title_html=Markup(_place_html(view.title, pick, words)),
        top_html=Markup(_place_html(view.top, pick, words)), pick=pick, selected=shown_filters, errors=errors,
        kinds=KIND_WORDS, form=EmptyForm(formdata=None),
        acceptable=sum(1 for a in view.amendments() if a.acceptable)), 400 if errors else 200)
    return response if errors else conditional(response, etag)


def _picked(values: list[str]) -> tuple[list[int], dict[int, int]]:
    """The ticked boxes ("id.text_version"); anything else is refused, not guessed."""
    ids, versions = [], {}
    for value in values:
        amendment_id, _dot, text_version = value.partition(".")
        if not (amendment_id.isdecimal() and text_version.isdecimal()
                and 0 < int(amendment_id) <= ID_MAX and 0 < int(text_version) <= ID_MAX):
            raise InvalidInput(gettext("The selection was not understood; reload the page and choose again."))
        ids.append(int(amendment_id))
        versions[int(amendment_id)] = int(text_version)
    return ids, versions


@bp.route("/statements/<int:statement_id>/merged/accept", methods=["POST"])
@login_required
def accept(statement_id: int):
    statement = db.session.get(Statement, statement_id, options=_with_people())
    if statement is None or not statement.can_view(current_user):
        abort(404)
    back = redirect(url_for("merged.show", statement_id=statement_id))
    if not EmptyForm().validate_on_submit():
        flash(gettext("The form expired; please try again."), "error")
        return back
    values = request.form.getlist("accept")
    if not values:
        flash(gettext("Tick the amendments to accept first."), "error")
        return back
    try:
        ids, versions = _picked(values)
    except InvalidInput as exc:
        flash(exc.message, "error")
        return back
    ok, result = run_rule(None, amending.accept_many, statement_id, ids, current_user._get_current_object(),
                          text_versions=versions, now=now())
    if ok:
        listed = ", ".join(f"#{i}" for i in sorted(ids))
        flash(gettext("Accepted %(amendments)s: the text is now version %(number)s.", amendments=listed,
                      number=result.number), "success")
    else:
        flash(result.message, "error")
    return back
