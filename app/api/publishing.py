"""JSON API for publishing: publish, record an archived statement, answer a recorded signature."""

from __future__ import annotations

from flask import g, jsonify
from flask_babel import gettext

from app.api import bp
from app.api.routes import _body, _commit, _now, _string, _visible_statement
from app.api.signing import _date, _iso, _optional_body, publication_json
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import RecordedSignature
from app.organisations import operations as orgs
from app.publishing import archive
from app.publishing.publication import publish as publish_statement


@bp.post("/statements/<int:statement_id>/publish")
def publish(statement_id: int):
    statement = _visible_statement(statement_id)
    data = _optional_body()
    publication = publish_statement(statement, g.api_user, publication_date=_date(data, "publication_date"),
                                    now=_now())
    return _commit(publication_json(publication), 201)


def recorded_json(recorded: RecordedSignature) -> dict:
    return {"id": recorded.id, "organisation": recorded.organisation.slug,
            "organisation_name": recorded.organisation.name, "signer_name": recorded.signer_name,
            "signer_title": recorded.signer_title, "status": recorded.status,
            "dispute_reason": recorded.dispute_reason, "answered_at": _iso(recorded.answered_at)}


def _signatories(data: dict) -> list[archive.Signatory]:
    value = data.get("signatories")
    if not isinstance(value, list) or not value:
        raise InvalidInput(gettext("“signatories” must be a list of {organisation, signer_name, signer_title}."),
                           field="signatories")
    found = []
    for n, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(gettext("Signatory %(number)s must be an object {organisation, signer_name, "
                                       "signer_title}.", number=n),
                               field="signatories")
        found.append(archive.Signatory(orgs.get_organisation(_string(item, "organisation")),
                                       _string(item, "signer_name"),
                                       _string(item, "signer_title", required=False)))
    return found


@bp.post("/statements/archive")
def archive_statement():
    """Record and publish a statement that was signed and published elsewhere."""
    data = _body()
    signatories = _signatories(data)
    coordinator = data.get("coordinator_organisation")
    if coordinator is None:
        coordinating = signatories[0].organisation
    else:
        coordinating = orgs.get_organisation(_string(data, "coordinator_organisation"))
    made = archive.record_archived_statement(
        g.api_user, text=_string(data, "text"), coordinator_organisation=coordinating, signatories=signatories,
        publication_date=_date(data, "publication_date"), now=_now(),
    )
    payload = publication_json(made.publication)
    payload["statement_id"] = made.publication.statement_id
    payload["import_notes"] = [str(note) for note in made.notes]
    payload["recorded_signatures"] = [recorded_json(r) for r in made.publication.recorded_signatures]
    return _commit(payload, 201)


@bp.get("/recorded-signatures")
def list_recorded_signatures():
    """The recorded signatures of organisations the caller is a signatory of."""
    return jsonify({"recorded_signatures": [
        dict(recorded_json(r), publication=r.publication.slug)
        for r in archive.recorded_signatures_for(g.api_user)]})


@bp.post("/recorded-signatures/<int:recorded_id>")
def answer_recorded_signature(recorded_id: int):
    """Confirm ({"confirm": true}) or dispute ({"confirm": false, "reason": "..."}) a recorded signature."""
    recorded = db.session.get(RecordedSignature, recorded_id)
    if recorded is None or not g.api_user.has_role(recorded.organisation, "signatory"):
        raise NotFound(gettext("There is no such recorded signature for an organisation you sign for."))
    data = _body()
    confirm = data.get("confirm")
    if not isinstance(confirm, bool):
        raise InvalidInput(gettext("“confirm” must be true (confirm) or false (dispute)."), field="confirm")
    recorded = archive.answer_recorded_signature(recorded, g.api_user, confirm=confirm,
                                                 reason=_string(data, "reason", required=False), now=_now())
    return _commit(dict(recorded_json(recorded), publication=recorded.publication.slug))

