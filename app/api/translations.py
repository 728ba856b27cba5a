"""JSON API for a statement's languages and translations (issue 14, item 5). docs/api.md."""

from __future__ import annotations

from flask import g, jsonify
from flask_babel import gettext

from app.api import bp
from app.api.routes import MAX_ID, _body, _commit, _now, _string, _visible_statement
from app.errors import ConcordError, InvalidInput, NotFound
from app.translating import operations as translating
from app.translating.languages import direction, display_name, normalise_tag


def _tag(statement, language: str) -> str:
    try:
        tag = normalise_tag(language)
        translating.target_language(statement, tag)
    except ConcordError:
        raise NotFound(gettext("This statement has no such language.")) from None
    return tag


def languages_json(statement) -> dict:
    frozen = translating.frozen_hashes(statement)
    items = []
    for row in translating.target_languages(statement):
        state = translating.translation_state(statement, row.language)
        items.append({
            "language": row.language, "name": display_name(row.language), "direction": direction(row.language),
            "authentic": row.language in frozen, "frozen_sha256": frozen.get(row.language),
            "paragraphs": len(state.paragraphs), "translated": len(state.paragraphs) - len(state.missing),
            "title_translated": not state.title_missing, "outdated": state.outdated,
            "title_outdated": state.title_outdated, "complete": state.complete, "current": state.current,
        })
    return {"source_language": statement.source_language, "source_direction": direction(statement.source_language),
            "languages": items}


def translation_json(statement, tag: str) -> dict:
    state = translating.translation_state(statement, tag)
    diffs = {paragraph_id: [[op, text] for op, text in ops]
             for paragraph_id, ops in translating.source_diff_ops(state).items()}
    return {
        "language": tag, "name": display_name(tag), "direction": direction(tag),
        "source_language": statement.source_language,
        "title": {"source": state.source_title, "text": state.title or None,
                  "translated_from": state.title_translated_from, "outdated": state.title_outdated},
        "paragraphs": [{"id": p.paragraph_id, "number": p.number, "source_revision_id": p.source_revision_id,
                        "source_text": p.source_text, "text": p.text or None,
                        "translated_revision_id": p.translated_revision_id, "missing": p.missing,
                        "outdated": p.outdated, "source_diff": diffs.get(p.paragraph_id)}
                       for p in state.paragraphs],
        "complete": state.complete, "current": state.current,
        "locked": str(translating.is_locked(statement, tag)) or None,
    }


@bp.get("/statements/<int:statement_id>/languages")
def list_languages(statement_id: int):
    return jsonify(languages_json(_visible_statement(statement_id)))


@bp.post("/statements/<int:statement_id>/languages")
def add_language(statement_id: int):
    statement = _visible_statement(statement_id)
    data = _body()
    translating.add_language(statement, g.api_user, _string(data, "language"), now=_now())
    return _commit(languages_json(statement), 201)


@bp.put("/statements/<int:statement_id>/source-language")
def set_source_language(statement_id: int):
    statement = _visible_statement(statement_id)
    data = _body()
    translating.set_source_language(statement, g.api_user, _string(data, "language"), now=_now())
    return _commit(languages_json(statement))


@bp.delete("/statements/<int:statement_id>/languages/<language>")
def remove_language(statement_id: int, language: str):
    statement = _visible_statement(statement_id)
    translating.remove_language(statement, g.api_user, _tag(statement, language), now=_now())
    return _commit(languages_json(statement))


@bp.get("/statements/<int:statement_id>/translations/<language>")
def get_translation(statement_id: int, language: str):
    statement = _visible_statement(statement_id)
    return jsonify(translation_json(statement, _tag(statement, language)))


def _paragraphs(data: dict) -> dict[int, tuple[str, int]]:
    value = data.get("paragraphs", [])
    if not isinstance(value, list):
        raise InvalidInput(gettext("“paragraphs” must be a list of {id, revision_id, text}."), field="paragraphs")
    found: dict[int, tuple[str, int]] = {}
    for item in value:
        if not isinstance(item, dict):
            raise InvalidInput(gettext("Each paragraph is an object {id, revision_id, text}."), field="paragraphs")
        ids = [item.get("id"), item.get("revision_id")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_ID for v in ids):
            raise InvalidInput(gettext("Each paragraph names its “id” and the source “revision_id” it translates "
                                       "(whole numbers)."), field="paragraphs")
        if not isinstance(item.get("text"), str):
            raise InvalidInput(gettext("Each paragraph's “text” must be a string."), field="paragraphs")
        if ids[0] in found:
            raise InvalidInput(gettext("Paragraph %(id)s is given twice.", id=ids[0]), field="paragraphs")
        found[ids[0]] = (item["text"], ids[1])
    return found


@bp.put("/statements/<int:statement_id>/translations/<language>")
def save_translation(statement_id: int, language: str):
    statement = _visible_statement(statement_id)
    tag = _tag(statement, language)
    data = _body()
    title = _string(data, "title", required=False, default="") or None
    title_source = data.get("title_source")
    if title_source is not None and not isinstance(title_source, str):
        raise InvalidInput(gettext("“title_source” must be a string."), field="title_source")
    written = translating.save_translation(statement, g.api_user, tag, title=title, title_source=title_source,
                                           paragraphs=_paragraphs(data), now=_now())
    payload = translation_json(statement, tag)
    payload["written"] = len(written)
    return _commit(payload)


@bp.post("/statements/<int:statement_id>/translations/<language>/publish")
def publish_translation(statement_id: int, language: str):
    """Add a complete translation to a published statement, not authentic (coordinator)."""
    from app.api.signing import _language_json
    from app.publishing.publication import publish_translation as publish

    statement = _visible_statement(statement_id)
    row = publish(statement, g.api_user, _tag(statement, language), now=_now())
    return _commit(_language_json(statement.slug, row), 201)
