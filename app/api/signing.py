"""JSON API for signing: freeze, reopen, sign, revoke, withdraw (publishing: app/api/publishing.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date

from flask import g, jsonify, request, url_for
from flask_babel import gettext
from sqlalchemy import select

from app.api import bp
from app.api.amendments import _datetime
from app.api.routes import _body, _commit, _now, _string, _string_list, _visible_statement, statement_json
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Publication, PublicationLanguage, Signature, Statement
from app.organisations import operations as orgs
from app.participation import withdrawals
from app.rate_limits import limited
from app.signing import operations as signing
from app.translating import operations as translating


def _optional_body() -> dict:
    """The body is optional, but if one is sent it must be a JSON object."""
    return _body() if request.get_data() else {}


def _date(data: dict, key: str) -> date | None:
    raw = data.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidInput(gettext("“%(key)s” must be a date string YYYY-MM-DD or null.", key=key), field=key)
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(gettext("“%(key)s” is not a date of the form YYYY-MM-DD.", key=key), field=key) from None


def _bool(data: dict, key: str, default: bool = False) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise InvalidInput(gettext("“%(key)s” must be true or false.", key=key), field=key)
    return value


def _iso(value) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def signature_json(signature: Signature) -> dict:
    return {
        "id": signature.id,
        "organisation": signature.organisation.slug,
        "organisation_name": signature.organisation.name,
        "signer_name": signature.signer_name,
        "signer_title": signature.signer_title,
        "signed_by": signature.user.name,
        "signed_at": _iso(signature.signed_at),
        "version": signature.version.number,
        "version_sha256": signature.version_sha256,
        "translation_sha256": json.loads(signature.translation_sha256 or "{}"),
        "status": signature.status,
        "ended_at": _iso(signature.ended_at),
        "end_reason": signature.end_reason or None,
    }


def signing_json(statement: Statement) -> dict:
    """The statement's signing state: the frozen version and who has signed it."""
    version = statement.frozen_version
    state = signing.progress(statement)
    return {
        "frozen_version": {"number": version.number, "sha256": version.sha256} if version else None,
        "translation_sha256": translating.frozen_hashes(statement),
        "signing_deadline": _iso(statement.signing_deadline),
        "planned_publication_date": (statement.planned_publication_date.isoformat()
                                     if statement.planned_publication_date else None),
        "auto_publish": statement.auto_publish,
        "signed": [org.slug for org, _ in state.signed],
        "waiting": [org.slug for org in state.waiting],
        "withdrawn": [{"organisation": p.organisation.slug, "reason": p.withdraw_reason,
                       "withdrawn_at": _iso(p.withdrawn_at)}
                      for p in statement.memberships if p.withdrawn_at is not None],
    }


def publication_json(publication: Publication) -> dict:
    slug = publication.slug
    return {
        "slug": slug,
        "publication_date": publication.publication_date.isoformat(),
        "published_at": _iso(publication.published_at),
        "version": publication.version.number,
        "sha256": publication.sha256,
        "url": url_for("public.statement", slug=slug, _external=True),
        "formats": _formats(slug, json=True),
        "certificate": url_for("public.certificate", slug=slug, _external=True),
        "archived": publication.archived,
        "languages": [_language_json(slug, row) for row in db.session.scalars(
            select(PublicationLanguage).where(PublicationLanguage.publication_id == publication.id)
            .order_by(PublicationLanguage.authentic.desc(), PublicationLanguage.language))],
    }


def _language_json(slug: str, row: PublicationLanguage) -> dict:
    named = f"{slug}.{row.language}"
    return {
        "language": row.language, "authentic": row.authentic, "sha256": row.sha256,
        "canonical_sha256": row.canonical_sha256,
        "url": url_for("public.statement", slug=named, _external=True),
        "formats": _formats(named),
    }


def _formats(slug: str, *, json: bool = False) -> dict:
    """A publication's download addresses (``slug`` may be "<slug>.<language>"), the manifest's with ``json``."""
    endpoints = {"txt": "public.text", "md": "public.markdown", "pdf": "public.pdf", "docx": "public.docx"}
    if json:
        endpoints["json"] = "public.manifest"
    return {kind: url_for(endpoint, slug=slug, _external=True) for kind, endpoint in endpoints.items()}


def _publication(statement: Statement) -> Publication | None:
    return db.session.scalar(select(Publication).where(Publication.statement_id == statement.id))


def _statement_payload(statement: Statement) -> dict:
    payload = statement_json(statement)
    payload["signing"] = signing_json(statement)
    publication = _publication(statement)
    payload["publication"] = publication_json(publication) if publication else None
    return payload


@bp.post("/statements/<int:statement_id>/freeze")
def freeze(statement_id: int):
    statement = _visible_statement(statement_id)
    data = _optional_body()
    signing.freeze(statement, g.api_user, signing_deadline=_datetime(data, "signing_deadline"),
                   planned_publication_date=_date(data, "planned_publication_date"),
                   auto_publish=_bool(data, "auto_publish"),
                   without_amendment_round=_bool(data, "without_amendment_round"),
                   authentic_languages=_string_list(data, "authentic_languages"), now=_now())
    return _commit(_statement_payload(statement))


@bp.post("/statements/<int:statement_id>/reopen")
def reopen(statement_id: int):
    statement = _visible_statement(statement_id)
    _optional_body()
    voided = signing.reopen(statement, g.api_user, now=_now())
    payload = _statement_payload(statement)
    payload["voided_signatures"] = [signature_json(s) for s in voided]
    return _commit(payload)


@bp.get("/statements/<int:statement_id>/signatures")
def list_signatures(statement_id: int):
    statement = _visible_statement(statement_id)
    signatures = db.session.scalars(
        select(Signature).where(Signature.statement_id == statement.id).order_by(Signature.signed_at,
                                                                                 Signature.id))
    return jsonify({"status": statement.status, "signing": signing_json(statement),
                    "signatures": [signature_json(s) for s in signatures]})


def _hashes(data: dict) -> dict[str, str]:
    value = data.get("translation_sha256", {})
    if value is None:
        value = {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidInput(gettext("“translation_sha256” must be an object {language: SHA-256} naming every "
                                   "authentic translation."), field="translation_sha256")
    return value


@bp.post("/statements/<int:statement_id>/signatures")
@limited("sign")
def sign(statement_id: int):
    statement = _visible_statement(statement_id)
    data = _body()
    organisation = orgs.get_organisation(_string(data, "organisation"))
    signature = signing.sign(
        statement, g.api_user, organisation, signer_name=_string(data, "signer_name"),
        signer_title=_string(data, "signer_title"), authorised=_bool(data, "authorised"),
        password=_string(data, "password"), version_sha256=_string(data, "version_sha256"),
        translation_sha256=_hashes(data), ip_address=request.remote_addr or "",
        user_agent=request.user_agent.string, now=_now(),
    )
    payload = signature_json(signature)
    db.session.refresh(statement)
    payload["statement_status"] = statement.status
    publication = _publication(statement)
    payload["publication"] = publication_json(publication) if publication else None
    return _commit(payload, 201)


@bp.delete("/statements/<int:statement_id>/signatures/<int:signature_id>")
def revoke(statement_id: int, signature_id: int):
    statement = _visible_statement(statement_id)
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.statement_id != statement.id:
        raise NotFound(gettext("There is no such signature on this statement."))
    signature = signing.revoke(signature, g.api_user, now=_now())
    return _commit(signature_json(signature))


@bp.post("/statements/<int:statement_id>/withdraw")
def withdraw_organisation(statement_id: int):
    statement = _visible_statement(statement_id)
    data = _body()
    organisation = orgs.get_organisation(_string(data, "organisation"))
    withdrawals.withdraw_organisation(statement, g.api_user, organisation, reason=_string(data, "reason"),
                                  now=_now())
    db.session.refresh(statement)
    return _commit(_statement_payload(statement))
