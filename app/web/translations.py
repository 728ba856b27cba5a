"""A statement's languages and its translations, side by side with the source (issue 14, item 2)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from app.errors import ConcordError
from app.translating import operations as translating
from app.translating.languages import direction, label, normalise_tag
from app.web import now, run_rule
from app.web.forms import EmptyForm
from app.web.statements import _visible as visible_statement

bp = Blueprint("translations", __name__, url_prefix="/statements")


class LanguageForm(FlaskForm):
    language = StringField(_l("Language (a tag such as de, es, fr or pt-BR)"), validators=[Length(max=100)])


class SourceLanguageForm(FlaskForm):
    source_language = StringField(_l("Source language"), validators=[Length(max=100)])


def _user():
    return current_user._get_current_object()


def _languages_page(statement, add_form=None, source_form=None, status=200):
    rights = statement.rights(current_user)
    rows = translating.target_languages(statement)
    states = {row.language: translating.translation_state(statement, row.language) for row in rows}
    frozen = translating.frozen_hashes(statement)
    published = translating.published_languages(statement.id)
    source_form = source_form or SourceLanguageForm(formdata=None, source_language=statement.source_language)
    return render_template(
        "translations/languages.html", statement=statement, rows=rows, states=states, frozen=frozen,
        rights=rights, add_form=add_form or LanguageForm(formdata=None), source_form=source_form,
        remove_form=EmptyForm(), label=label, direction=direction, published=published,
    ), status


@bp.route("/<int:statement_id>/languages", methods=["GET", "POST"])
@login_required
def languages(statement_id: int):
    statement = visible_statement(statement_id)
    if request.method == "GET":
        return _languages_page(statement)
    if not statement.rights(current_user).can_manage_languages:
        abort(403)
    if "source_language" in request.form:
        form = SourceLanguageForm()
        if form.validate_on_submit():
            ok, _result = run_rule(form, translating.set_source_language, statement, _user(),
                                   form.source_language.data, now=now())
            if ok:
                flash(gettext("The source language is now %(language)s.", language=label(statement.source_language)),
                      "success")
                return redirect(url_for("translations.languages", statement_id=statement.id))
        return _languages_page(statement, source_form=form, status=422)
    form = LanguageForm()
    if form.validate_on_submit():
        ok, row = run_rule(form, translating.add_language, statement, _user(), form.language.data, now=now())
        if ok:
            flash(gettext("%(language)s added. Delegates can now translate the statement into it.",
                          language=label(row.language)), "success")
            return redirect(url_for("translations.translate", statement_id=statement.id, language=row.language))
    return _languages_page(statement, add_form=form, status=422)


@bp.route("/<int:statement_id>/languages/<language>/remove", methods=["POST"])
@login_required
def remove_language(statement_id: int, language: str):
    statement = visible_statement(statement_id)
    if not statement.rights(current_user).can_manage_languages:
        abort(403)
    form = EmptyForm()
    if form.validate_on_submit():
        ok, error = run_rule(form, translating.remove_language, statement, _user(), language, now=now())
        flash(gettext("%(language)s removed; its texts are kept and come back if it is added again.",
                      language=label(language)) if ok else error.message, "success" if ok else "error")
    else:
        flash(gettext("The form expired. Please send it again."), "error")
    return redirect(url_for("translations.languages", statement_id=statement.id))


@bp.route("/<int:statement_id>/languages/<language>/publish", methods=["POST"])
@login_required
def publish_language(statement_id: int, language: str):
    """After publication: add a complete translation, not authentic."""
    from app.publishing.publication import publish_translation

    statement = visible_statement(statement_id)
    if not statement.is_coordinator(current_user):
        abort(403)
    tag = _language_of(statement, language)
    form = EmptyForm()
    if form.validate_on_submit():
        ok, error = run_rule(form, publish_translation, statement, _user(), tag, now=now())
        if ok:
            flash(gettext("The %(language)s translation is published, marked as not authentic.", language=label(tag)),
                  "success")
            return redirect(url_for("public.statement", slug=f"{statement.slug}.{tag}"))
        flash(error.message, "error")
    else:
        flash(gettext("The form expired. Please send it again."), "error")
    return redirect(url_for("translations.languages", statement_id=statement.id))


def _language_of(statement, language: str) -> str:
    try:
        tag = normalise_tag(language)
        translating.target_language(statement, tag)
    except ConcordError:
        abort(404)
    return tag


@bp.route("/<int:statement_id>/translations/<language>", methods=["GET", "POST"])
@login_required
def translate(statement_id: int, language: str):
    statement = visible_statement(statement_id)
    tag = _language_of(statement, language)
    form = EmptyForm()
    status = 200
    entered: dict[str, str] = {}
    if request.method == "POST":
        if not statement.rights(current_user).can_translate:
            abort(403)
        if form.validate_on_submit():
            which = request.form.get("save", "all")
            title = request.form.get("title") if which in ("all", "title") else None
            paragraphs = {}
            for key, value in request.form.items():
                if not key.startswith("p") or not key[1:].isdecimal() or len(key) > 12:
                    continue
                if which not in ("all", key[1:]):
                    continue
                revision = request.form.get(f"r{key[1:]}", "")
                if not revision.isdecimal() or len(revision) > 12:
                    form.form_errors.append(gettext("The form is incomplete; reload the page."))
                    break
                paragraphs[int(key[1:])] = (value, int(revision))
            if not form.form_errors:
                ok, result = run_rule(form, translating.save_translation, statement, _user(), tag, title=title,
                                      title_source=request.form.get("title_source"), paragraphs=paragraphs,
                                      now=now())
                if ok:
                    flash(ngettext("Saved %(num)s text of the %(language)s translation.",
                                   "Saved %(num)s texts of the %(language)s translation.", len(result),
                                   language=label(tag)) if result else gettext("Nothing changed."), "success")
                    anchor = f"p{which}" if which.isdecimal() and len(which) <= 12 else None
                    return redirect(url_for("translations.translate", statement_id=statement.id, language=tag,
                                            _anchor=anchor))
        entered = {k: v for k, v in request.form.items() if k == "title" or (k[:1] == "p" and k[1:].isdecimal())}
        status = 422
    state = translating.translation_state(statement, tag)
    return render_template(
        "translations/translate.html", statement=statement, language=tag, state=state, form=form,
        diffs=translating.source_diffs(state), entered=entered, label=label, direction=direction,
        can_translate=statement.rights(current_user).can_translate,
        locked=translating.is_locked(statement, tag),
    ), status
