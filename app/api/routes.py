from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import g, jsonify, request, url_for
from flask_babel import format_decimal, gettext
from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload

from app.accounts.operations import user_for_token
from app.api import bp, json_error
from app.drafting import operations as drafting
from app.drafting.importer import parse_statement
from app.errors import ConcordError, InvalidInput, NotAllowed, NotFound
from app.extensions import commit_keeping_state, db
from app.models import Organisation, Statement, Version, VersionParagraph
from app.organisations import operations as orgs
from app.paging import paginate


def _now() -> datetime:
    return datetime.now(UTC)


@bp.before_request
def authenticate():
    if request.endpoint == "api.openapi":  # the API's description is public
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = user_for_token(token.strip(), now=_now()) if scheme.lower() == "bearer" else None
    if user is None:
        db.session.rollback()
        return json_error(401, "unauthorized",
                          gettext("Send a valid personal token as “Authorization: Bearer <token>”."))
    if db.session.dirty:
        commit_keeping_state()  # records last_used_at, at most once a minute
    g.api_user = user
    return None


@bp.errorhandler(ConcordError)
def domain_error(exc: ConcordError):
    db.session.rollback()
    response = json_error(exc.status, exc.code, exc.message)
    problems = getattr(exc, "problems", None)
    if problems:  # a batch refused: every item that stood in the way, and why
        payload = response.get_json()
        payload["error"]["items"] = [{"id": key, "reason": str(why)} for key, why in problems.items()]
        response.set_data(jsonify(payload).get_data())
    return response


# --- input shape -------------------------------------------------------------


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput(gettext("Send a JSON object with Content-Type: application/json."))
    return data


def _string(data: dict, key: str, *, required: bool = True, default: str = "") -> str:
    value = data.get(key, None)
    if value is None:
        if required:
            raise InvalidInput(gettext("“%(key)s” is required.", key=key), field=key)
        return default
    if not isinstance(value, str):
        raise InvalidInput(gettext("“%(key)s” must be a string.", key=key), field=key)
    return value


def _string_list(data: dict, key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(gettext("“%(key)s” must be a list of strings.", key=key), field=key)
    return value


MAX_ID = 2**31 - 1  # ids and counters are 32-bit INTEGER columns on PostgreSQL


def _optional_int(data: dict, key: str) -> int | None:
    value = data.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not -MAX_ID <= value <= MAX_ID):
        raise InvalidInput(gettext("“%(key)s” must be a whole number (at most %(max)s) or null.", key=key,
                                   max=format_decimal(MAX_ID)), field=key)
    return value


def _commit(payload, status: int = 200):
    commit_keeping_state()
    response = jsonify(payload)
    response.status_code = status
    return response


# --- representations -----------------------------------------------------------


def organisation_json(org: Organisation) -> dict:
    return {"slug": org.slug, "name": org.name, "short_name": org.short_name,
            "country": org.country, "name_in_statements": org.statement_name}


def statement_json(statement: Statement) -> dict:
    version = drafting.current_version(statement)
    return {
        "id": statement.id,
        "slug": statement.slug,
        "title": statement.title,
        "status": statement.status,
        "coordinator": {"name": statement.coordinator.name,
                        "organisation": statement.coordinator_organisation.slug},
        "version": {"number": version.number, "sha256": version.sha256} if version else None,
        "paragraphs": [
            {"id": p.id, "number": n, "revision_id": p.current_revision_id, "text": p.text}
            for n, p in drafting.numbered(drafting.live_paragraphs(statement))
        ],
        "participants": [organisation_json(o) for o in statement.participant_organisations],
        "url": url_for("statements.show", statement_id=statement.id, _external=True),
    }


def version_summary_json(version: Version) -> dict:
    return {"number": version.number, "sha256": version.sha256, "note": version.note,
            "title": version.title, "author": version.author.name,
            "created_at": version.created_at.isoformat()}


# --- organisations -----------------------------------------------------------


@bp.get("/organisations")
def list_organisations():
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name))
    return jsonify({"organisations": [organisation_json(o) for o in organisations]})


@bp.post("/organisations")
def create_organisation():
    data = _body()
    org = orgs.create_organisation(
        g.api_user, name=_string(data, "name"), slug=_string(data, "slug", required=False),
        short_name=_string(data, "short_name", required=False),
        country=_string(data, "country", required=False),
        name_in_statements=_string(data, "name_in_statements", required=False),
    )
    return _commit(organisation_json(org), 201)


@bp.get("/organisations/<slug>")
def get_organisation(slug: str):
    return jsonify(organisation_json(orgs.get_organisation(slug)))


@bp.patch("/organisations/<slug>")
def update_organisation(slug: str):
    """Change name, short_name, country or name_in_statements; members absent stay as they are."""
    org = orgs.get_organisation(slug)
    data = _body()
    unknown = sorted(set(data) - {"name", "short_name", "country", "name_in_statements"})
    if unknown:
        raise InvalidInput(gettext("Unknown field: %(fields)s.", fields=", ".join(unknown)), field=unknown[0])
    values = {key: _string(data, key) for key in data}
    org = orgs.update_organisation(g.api_user, org, **values)
    return _commit(organisation_json(org))


@bp.get("/organisations/<slug>/names")
def list_language_names(slug: str):
    """The organisation's names in statements per language (issue 14)."""
    from app.translating import names

    return jsonify({"names": names.language_names(orgs.get_organisation(slug))})


@bp.put("/organisations/<slug>/names/<language>")
def set_language_name(slug: str, language: str):
    """Set (an empty name: clear) the organisation's name in statements in one language."""
    from app.translating import names

    org = orgs.get_organisation(slug)
    data = _body()
    names.set_language_name(org, g.api_user, language, _string(data, "name_in_statements"))
    return _commit({"names": names.language_names(org)})


@bp.post("/organisations/<slug>/members")
def add_member(slug: str):
    org = orgs.get_organisation(slug)
    if not org.can_manage(g.api_user):  # before any lookup: the answer must not reveal who has an account
        raise NotAllowed(gettext("You may not manage the members of this organisation."))
    data = _body()
    user = orgs.add_member(g.api_user, org, _string(data, "email"), _string_list(data, "roles"))
    return _commit({"email": user.email, "name": user.name, "organisation": org.slug,
                    "roles": sorted(user.roles_in(org))}, 201)


# --- statements ----------------------------------------------------------------


def _visible_statement(statement_id: int) -> Statement:
    statement = db.session.get(Statement, statement_id)
    if statement is None or not statement.can_view(g.api_user):
        raise NotFound(gettext("There is no such statement."))
    return statement


def _participants(slugs: list[str]) -> list[Organisation]:
    return [orgs.get_organisation(s) for s in dict.fromkeys(slugs)]


@bp.get("/statements")
def list_statements():
    page = paginate(drafting.statements_query(g.api_user), per_page=50, max_per_page=200)
    return jsonify({"statements": [
        {"id": s.id, "title": s.title, "status": s.status, "version": s.version_count} for s in page.items
    ], **paging(page)})


def paging(page) -> dict:
    """Where a page of a list is: ?page=N&per_page=M choose it (404 past the last page)."""
    return {"page": page.page, "pages": page.pages, "per_page": page.per_page, "total": page.total}


@bp.post("/statements")
def create_statement():
    data = _body()
    paragraphs = _string_list(data, "paragraphs")
    statement = drafting.create_statement(
        g.api_user, title=_string(data, "title"),
        coordinator_organisation=orgs.get_organisation(_string(data, "coordinator_organisation")),
        participants=_participants(_string_list(data, "participants")),
        paragraphs=paragraphs, now=_now(),
    )
    return _commit(statement_json(statement), 201)


@bp.post("/statements/import")
def import_statement():
    if request.mimetype != "text/plain":
        raise InvalidInput(gettext("Send the statement as a text/plain body (UTF-8)."))
    try:
        text = request.get_data().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(gettext("The body is not valid UTF-8 (at byte %(position)s).", position=exc.start)) from exc
    coordinator = request.args.get("coordinator_organisation", "")
    if not coordinator:
        raise InvalidInput(gettext("Give ?coordinator_organisation=<slug>."))
    participants = [s for s in request.args.get("participants", "").split(",") if s.strip()]
    parsed = parse_statement(text)
    statement = drafting.create_statement(
        g.api_user, title=parsed.title,
        coordinator_organisation=orgs.get_organisation(coordinator),
        participants=_participants([s.strip() for s in participants]),
        paragraphs=parsed.paragraphs, now=_now(), note="Imported", source_language=parsed.language or "en",
    )
    payload = statement_json(statement)
    payload["import_notes"] = [str(note) for note in parsed.notes]
    return _commit(payload, 201)


@bp.get("/statements/<int:statement_id>")
def get_statement(statement_id: int):
    return jsonify(statement_json(_visible_statement(statement_id)))


@bp.put("/statements/<int:statement_id>/paragraphs/<int:paragraph_id>")
def edit_paragraph(statement_id: int, paragraph_id: int):
    statement = _visible_statement(statement_id)
    data = _body()
    drafting.edit_paragraph(statement, g.api_user, paragraph_id, _string(data, "text"),
                            base_revision_id=_optional_int(data, "base_revision_id"), now=_now())
    return _commit(statement_json(statement))


@bp.post("/statements/<int:statement_id>/paragraphs")
def insert_paragraph(statement_id: int):
    statement = _visible_statement(statement_id)
    data = _body()
    if "after" not in data:
        raise InvalidInput(gettext("“after” is required: a paragraph id, or null for the top."), field="after")
    paragraph, _ = drafting.insert_paragraph(statement, g.api_user, _string(data, "text"),
                                             after_id=_optional_int(data, "after"), now=_now())
    payload = statement_json(statement)
    payload["inserted_paragraph_id"] = paragraph.id
    return _commit(payload, 201)


@bp.delete("/statements/<int:statement_id>/paragraphs/<int:paragraph_id>")
def delete_paragraph(statement_id: int, paragraph_id: int):
    statement = _visible_statement(statement_id)
    data = _body() if request.get_data() else {}  # the body is optional, but if sent must be JSON
    base = _optional_int(data, "base_revision_id")
    drafting.delete_paragraph(statement, g.api_user, paragraph_id, base_revision_id=base, now=_now())
    return _commit(statement_json(statement))


@bp.get("/statements/<int:statement_id>/versions")
def list_versions(statement_id: int):
    statement = _visible_statement(statement_id)
    page = paginate(select(Version).where(Version.statement_id == statement.id).order_by(Version.number)
                       .options(defer(Version.canonical_text), joinedload(Version.author)),
                       per_page=50, max_per_page=200)
    return jsonify({"versions": [version_summary_json(v) for v in page.items], **paging(page)})


@bp.get("/statements/<int:statement_id>/versions/<int:number>")
def get_version(statement_id: int, number: int):
    statement = _visible_statement(statement_id)
    version = drafting.get_version(statement, number)
    entries = db.session.scalars(
        select(VersionParagraph).where(VersionParagraph.version_id == version.id)
        .order_by(VersionParagraph.number)
    )
    payload = version_summary_json(version)
    payload["canonical_text"] = version.canonical_text
    payload["paragraphs"] = [
        {"id": e.paragraph_id, "number": e.number, "revision_id": e.revision_id,
         "text": e.revision.text}
        for e in entries
    ]
    return jsonify(payload)

