"""The OpenAPI 3.0 description of the JSON API, served at /api/v1/openapi.json without a token.

tests/test_openapi.py checks that every /api/v1 rule of the URL map is described here, and the slow
schemathesis test checks the running server against it.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

from app.api import bp

OPENAPI_PATH = "/openapi.json"

# --- schema helpers -----------------------------------------------------------------------------

STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
DATETIME = {"type": "string", "format": "date-time"}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict:
    """An object; every property is required unless ``required`` says otherwise."""
    return {"type": "object", "properties": properties,
            "required": list(properties) if required is None else required}


def _list(items: dict) -> dict:
    return {"type": "array", "items": items}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


# "proposer" / "cosponsor": a position recorded by proposing or co-sponsoring; null: taken by itself.
GIVEN_AS = {"type": "string", "enum": ["proposer", "cosponsor"], "nullable": True}

# A diff is a list of [op, text] pairs: op -1 (deleted), 0 (unchanged) or 1 (inserted).
DIFF = _list({"type": "array", "minItems": 2, "maxItems": 2,
              "items": {"oneOf": [{"type": "integer", "enum": [-1, 0, 1]}, STR]}})

# {language: SHA-256 of its canonical text}: the authentic translations.
HASHES = {"type": "object", "additionalProperties": STR}

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": _obj({"code": STR, "message": STR})}),
    "Organisation": _obj({"slug": STR, "name": STR, "short_name": STR, "country": STR,
                          "name_in_statements": STR}),
    "Member": _obj({"email": STR, "name": STR, "organisation": STR, "roles": _list(STR)}),
    "StatementSummary": _obj({"id": INT, "title": STR, "status": STR, "version": INT}),
    "Paragraph": _obj({"id": INT, "number": INT, "revision_id": INT, "text": STR}),
    "Statement": _obj({
        "id": INT, "slug": STR, "title": STR, "status": STR,
        "coordinator": _obj({"name": STR, "organisation": STR}),
        "version": _nullable(_obj({"number": INT, "sha256": STR})),
        "paragraphs": _list(_ref("Paragraph")),
        "participants": _list(_ref("Organisation")),
        "url": STR,
    }),
    "VersionSummary": _obj({"number": INT, "sha256": STR, "note": STR, "title": STR, "author": STR,
                            "created_at": DATETIME}),
    "Version": {"allOf": [_ref("VersionSummary"), _obj({
        "canonical_text": STR,
        "paragraphs": _list(_obj({"id": INT, "number": INT, "revision_id": INT, "text": STR})),
    })]},
    "Amendment": _obj({
        "id": INT, "statement_id": INT, "kind": {"type": "string", "enum": ["modify", "insert", "delete", "retitle"]},
        "status": STR, "paragraph_id": _nullable(INT), "after_paragraph_id": _nullable(INT),
        "paragraph_number": _nullable(INT), "paragraph_number_when_proposed": _nullable(INT),
        "base_revision_id": _nullable(INT), "base_text": _nullable(STR), "text": _nullable(STR),
        "rationale": _nullable(STR), "organisation": STR, "sponsors": _list(STR), "proposer": STR,
        "text_version": INT, "created_at": DATETIME, "decided_at": _nullable(DATETIME),
        "decision_reason": _nullable(STR), "result_version": _nullable(INT),
        "superseded_by": _nullable(INT), "supersedes": _list(INT),
    }),
    "MergedAmendment": _obj({
        "id": INT, "kind": {"type": "string", "enum": ["modify", "insert", "delete", "retitle"]},
        "status": {"type": "string", "enum": ["open", "rebased", "conflicted"]}, "organisation": STR,
        "text_version": INT, "ops": DIFF, "rule_met": BOOL, "rule_explanation": STR, "acceptable": BOOL,
        "collides_with": _list(INT),
    }),
    "MergedPlace": _obj({
        "place": {"type": "string", "enum": ["title", "top", "paragraph"]}, "paragraph_id": _nullable(INT),
        "number": _nullable(INT), "text": STR, "amendments": _list(_ref("MergedAmendment")),
        "inserts": _list(_ref("MergedAmendment")),
    }),
    "Comment": _obj({"id": INT, "parent_id": _nullable(INT), "author": STR, "body": STR,
                     "created_at": DATETIME}),
    "Position": _obj({"id": INT, "amendment_id": INT, "organisation": STR, "stance": STR, "reason": STR,
                      "round": INT, "text_version": INT, "as": GIVEN_AS, "on_earlier_text": BOOL,
                      "by": STR, "created_at": DATETIME}),
    # A position as an amendment lists it (the latest of each organisation).
    "PositionSummary": _obj({"organisation": STR, "stance": STR, "reason": _nullable(STR), "by": STR,
                             "at": DATETIME, "round": INT, "text_version": INT, "as": GIVEN_AS,
                             "on_earlier_text": BOOL}),
    "Suggestion": _obj({
        "id": INT, "amendment_id": INT, "organisation": STR, "author": STR, "text_version": INT,
        "base_text": STR, "text": STR, "diff": DIFF, "rationale": STR,
        "status": {"type": "string", "enum": ["open", "adopted", "declined", "withdrawn", "outdated"]},
        "on_earlier_text": BOOL, "decision_reason": STR, "created_at": DATETIME,
        "decided_at": _nullable(DATETIME),
    }),
    "AmendmentDetail": {"allOf": [_ref("Amendment"), _obj({
        "diff": DIFF,
        "positions": _list(_ref("PositionSummary")),
        "not_yet_spoken": _list(STR),
        "earlier_positions": _list(_ref("PositionSummary")),
        "decision_rule_met": BOOL,
        "decision_explanation": STR,
        "comments": _list(_ref("Comment")),
    })]},
    "Signature": _obj({
        "id": INT, "organisation": STR, "organisation_name": STR, "signer_name": STR,
        "signer_title": STR, "signed_by": STR, "signed_at": DATETIME, "version": INT,
        "version_sha256": STR, "translation_sha256": HASHES, "status": STR, "ended_at": _nullable(DATETIME),
        "end_reason": _nullable(STR),
    }),
    "Signing": _obj({
        "frozen_version": _nullable(_obj({"number": INT, "sha256": STR})),
        "translation_sha256": HASHES,
        "signing_deadline": _nullable(DATETIME),
        "planned_publication_date": _nullable({"type": "string", "format": "date"}),
        "auto_publish": BOOL,
        "signed": _list(STR),
        "waiting": _list(STR),
        "withdrawn": _list(_obj({"organisation": STR, "reason": _nullable(STR),
                                 "withdrawn_at": _nullable(DATETIME)})),
    }),
    "Publication": _obj({
        "slug": STR, "publication_date": {"type": "string", "format": "date"},
        "published_at": DATETIME, "version": INT, "sha256": STR, "url": STR,
        "formats": _obj({k: STR for k in ("txt", "md", "pdf", "docx", "json")}),
        "certificate": STR,
        "archived": BOOL,
        "languages": _list(_obj({
            "language": STR, "authentic": BOOL, "sha256": STR, "canonical_sha256": STR, "url": STR,
            "formats": _obj({k: STR for k in ("txt", "md", "pdf", "docx")}),
        })),
    }),
    "Languages": _obj({
        "source_language": STR, "source_direction": {"type": "string", "enum": ["ltr", "rtl"]},
        "languages": _list(_obj({
            "language": STR, "name": STR, "direction": {"type": "string", "enum": ["ltr", "rtl"]},
            "authentic": BOOL, "frozen_sha256": _nullable(STR), "paragraphs": INT, "translated": INT,
            "title_translated": BOOL, "outdated": _list(INT), "title_outdated": BOOL, "complete": BOOL,
            "current": BOOL,
        })),
    }),
    "Translation": _obj({
        "language": STR, "name": STR, "direction": {"type": "string", "enum": ["ltr", "rtl"]},
        "source_language": STR,
        "title": _obj({"source": STR, "text": _nullable(STR), "translated_from": _nullable(STR),
                       "outdated": BOOL}),
        "paragraphs": _list(_obj({
            "id": INT, "number": INT, "source_revision_id": INT, "source_text": STR, "text": _nullable(STR),
            "translated_revision_id": _nullable(INT), "missing": BOOL, "outdated": BOOL,
            "source_diff": _nullable(DIFF),
        })),
        "complete": BOOL, "current": BOOL, "locked": _nullable(STR),
    }),
    "RecordedSignature": _obj({
        "id": INT, "organisation": STR, "organisation_name": STR, "signer_name": STR, "signer_title": STR,
        "status": {"type": "string", "enum": ["recorded", "confirmed", "disputed"]},
        "dispute_reason": STR, "answered_at": _nullable(DATETIME),
    }),
    "SigningStatement": {"allOf": [_ref("Statement"), _obj({
        "signing": _ref("Signing"), "publication": _nullable(_ref("Publication")),
    })]},
}

# --- operations --------------------------------------------------------------------------------

ERROR_TEXT = {
    400: "The request could not be understood.",
    401: "No valid bearer token.",
    403: "The token's owner may not do this.",
    404: "No such statement, paragraph, amendment, signature, organisation or version "
         "(or one the token's owner may not see).",
    405: "The method is not allowed here.",
    409: "Conflict: wrong phase, stale text, or already done.",
    413: "The body is larger than 4 MB.",
    422: "Invalid input; the message says which field.",
    429: "Too many attempts; see Retry-After.",
}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _errors(*codes: int) -> dict:
    # 400 (malformed request), 401 (token) and 413 (body over 4 MB) can answer any request.
    return {str(code): {"description": ERROR_TEXT[code], "content": _json(_ref("Error"))}
            for code in sorted({400, 401, 413, *codes})}


def _op(summary: str, ok: int, schema: dict, *errors: int, body: dict | None = None,
        body_required: bool = True, params: list[dict] | None = None, op_id: str) -> dict:
    operation: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "responses": {str(ok): {"description": "Success.", "content": _json(schema)}, **_errors(*errors)},
    }
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": _json(body)}
    if params:
        operation["parameters"] = params
    return operation


# Ids: 32-bit INTEGER columns on PostgreSQL; a larger number in a path is a 404.
ID = {"type": "integer", "format": "int32", "minimum": 0, "maximum": 2**31 - 1}


def _path_param(name: str, schema: dict = ID) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query(name: str, schema: dict, required: bool = False, description: str = "") -> dict:
    param = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        param["description"] = description
    return param


def _body(properties: dict, required: list[str]) -> dict:
    return {"type": "object", "properties": properties, "required": required}


S = [_path_param("statement_id")]
A = [_path_param("amendment_id")]
NULL_INT = _nullable(INT)

PATHS: dict[str, dict[str, Any]] = {
    "/organisations/{slug}/names": {
        "get": _op("The organisation's names in statements per language.", 200,
                   _obj({"names": {"type": "object", "additionalProperties": STR}}), 404,
                   op_id="list_language_names", params=[_path_param("slug", STR)]),
    },
    "/organisations/{slug}/names/{language}": {
        "put": _op("Set the organisation's name in statements in one language (its admins; empty: the name in "
                   "statements).", 200, _obj({"names": {"type": "object", "additionalProperties": STR}}),
                   403, 404, 422, op_id="set_language_name",
                   params=[_path_param("slug", STR), _path_param("language", STR)],
                   body=_body({"name_in_statements": STR}, ["name_in_statements"])),
    },
    "/organisations": {
        "get": _op("List every organisation.", 200,
                   _obj({"organisations": _list(_ref("Organisation"))}), op_id="list_organisations"),
        "post": _op("Create an organisation (platform admin).", 201, _ref("Organisation"),
                    403, 409, 422, op_id="create_organisation",
                    body=_body({"name": STR, "slug": STR, "short_name": STR, "country": STR,
                                "name_in_statements": STR}, ["name"])),
    },
    "/organisations/{slug}": {
        "get": _op("One organisation.", 200, _ref("Organisation"), 404, op_id="get_organisation",
                   params=[_path_param("slug", STR)]),
        "patch": _op("Change an organisation's details (its admins, platform admins); members not sent stay as "
                     "they are. name_in_statements is how signatory lines name it (empty: the full name); "
                     "statements already published keep theirs.", 200, _ref("Organisation"),
                     403, 404, 422, op_id="update_organisation", params=[_path_param("slug", STR)],
                     body=_body({"name": STR, "short_name": STR, "country": STR, "name_in_statements": STR},
                                [])),
    },
    "/organisations/{slug}/members": {
        "post": _op("Add an existing account to an organisation with roles.", 201, _ref("Member"),
                    403, 404, 409, 422, op_id="add_member", params=[_path_param("slug", STR)],
                    body=_body({"email": STR, "roles": _list(STR)}, ["email"])),
    },
    "/statements": {
        "get": _op("The statements the token's owner may see.", 200,
                   _obj({"statements": _list(_ref("StatementSummary"))}), op_id="list_statements"),
        "post": _op("Create a draft statement.", 201, _ref("Statement"), 403, 404, 409, 422,
                    op_id="create_statement",
                    body=_body({"title": STR, "coordinator_organisation": STR,
                                "participants": _list(STR), "paragraphs": _list(STR)},
                               ["title", "coordinator_organisation"])),
    },
    "/statements/import": {
        "post": {
            **_op("Import a statement from plain text (first line the title, blank lines between "
                  "paragraphs).", 201,
                  {"allOf": [_ref("Statement"), _obj({"import_notes": _list(STR)})]},
                  403, 404, 409, 422, op_id="import_statement",
                  params=[_query("coordinator_organisation", STR, True, "Slug of the coordinating "
                                 "organisation."),
                          _query("participants", STR, False, "Comma-separated organisation slugs.")]),
            "requestBody": {"required": True, "content": {"text/plain": {"schema": STR}}},
        },
    },
    "/statements/archive": {
        "post": _op("Record and publish at once a statement signed and published elsewhere: its text (as "
                    "pasted: title, signatory line, numbered paragraphs), the organisations in the order of "
                    "its signatory line with their signers as printed, and the original publication date "
                    "(default: the pasted line's). Every page and file except the plain text says the "
                    "signatures were recorded by the coordinator and not made on Concord.", 201,
                    {"allOf": [_ref("Publication"), _obj({
                        "statement_id": INT, "import_notes": _list(STR),
                        "recorded_signatures": _list(_ref("RecordedSignature"))})]},
                    403, 404, 409, 422, op_id="archive_statement",
                    body=_body({"text": STR,
                                "publication_date": _nullable({"type": "string", "format": "date"}),
                                "coordinator_organisation": STR,
                                "signatories": _list(_obj({"organisation": STR, "signer_name": STR,
                                                           "signer_title": STR},
                                                          ["organisation", "signer_name"]))},
                               ["text", "signatories"])),
    },
    "/recorded-signatures": {
        "get": _op("Recorded signatures of the organisations the token's owner signs for.", 200,
                   _obj({"recorded_signatures": _list({"allOf": [_ref("RecordedSignature"),
                                                                 _obj({"publication": STR})]})}),
                   op_id="list_recorded_signatures"),
    },
    "/recorded-signatures/{recorded_id}": {
        "post": _op("Confirm (confirm: true) or dispute (confirm: false, with a reason) a recorded signature of "
                    "an organisation the token's owner signs for; a dispute is sent to the coordinator.", 200,
                    {"allOf": [_ref("RecordedSignature"), _obj({"publication": STR})]}, 403, 404, 409, 422,
                    op_id="answer_recorded_signature", params=[_path_param("recorded_id")],
                    body=_body({"confirm": BOOL, "reason": STR}, ["confirm"])),
    },
    "/statements/{statement_id}": {
        "get": _op("A statement with its current paragraphs.", 200, _ref("Statement"), 404,
                   op_id="get_statement", params=S),
    },
    "/statements/{statement_id}/paragraphs": {
        "post": _op("Insert a paragraph after another (null: at the top).", 201,
                    {"allOf": [_ref("Statement"), _obj({"inserted_paragraph_id": INT})]},
                    403, 404, 409, 422, op_id="insert_paragraph", params=S,
                    body=_body({"text": STR, "after": NULL_INT}, ["text", "after"])),
    },
    "/statements/{statement_id}/paragraphs/{paragraph_id}": {
        "put": _op("Edit a paragraph's text.", 200, _ref("Statement"), 403, 404, 409, 422,
                   op_id="edit_paragraph", params=[*S, _path_param("paragraph_id")],
                   body=_body({"text": STR, "base_revision_id": NULL_INT}, ["text"])),
        "delete": _op("Delete a paragraph.", 200, _ref("Statement"), 403, 404, 409, 422,
                      op_id="delete_paragraph", params=[*S, _path_param("paragraph_id")],
                      body=_body({"base_revision_id": NULL_INT}, []), body_required=False),
    },
    "/statements/{statement_id}/versions": {
        "get": _op("Every version of a statement.", 200,
                   _obj({"versions": _list(_ref("VersionSummary"))}), 404,
                   op_id="list_versions", params=S),
    },
    "/statements/{statement_id}/versions/{number}": {
        "get": _op("One version with its canonical text.", 200, _ref("Version"), 404,
                   op_id="get_version", params=[*S, _path_param("number")]),
    },
    "/statements/{statement_id}/compare": {
        "get": _op("Word diff between two versions.", 200, _obj({
            "from": INT, "to": INT,
            "title": _obj({"from": STR, "to": STR, "diff": DIFF}),
            "paragraphs": _list(_obj({"paragraph_id": INT, "change": STR, "moved": BOOL, "coarse": BOOL,
                                      "old_number": NULL_INT, "new_number": NULL_INT, "diff": DIFF})),
        }), 404, 422, op_id="compare",
            params=[*S, _query("from", INT, True), _query("to", INT, True)]),
    },
    "/statements/{statement_id}/open": {
        "post": _op("Open a draft for amendments.", 200, {"allOf": [_ref("Statement"), _obj({
            "decision_rule": STR, "amendment_deadline": _nullable(DATETIME)})]},
            403, 404, 409, 422, op_id="open_statement", params=S,
            body=_body({"decision_rule": STR, "amendment_deadline": _nullable(DATETIME)},
                       ["decision_rule"])),
    },
    "/statements/{statement_id}/amendments": {
        "get": _op("The amendments of a statement.", 200,
                   _obj({"amendments": _list(_ref("Amendment"))}), 404, 422,
                   op_id="list_amendments",
                   params=[*S, _query("paragraph", INT), _query("organisation", STR),
                           _query("status", STR)]),
        "post": _op("Propose an amendment (edit, insert or delete a paragraph).", 201,
                    _ref("AmendmentDetail"), 403, 404, 409, 422, 429, op_id="propose", params=S,
                    body=_body({"kind": {"type": "string", "enum": ["modify", "insert", "delete", "retitle"]},
                                "organisation": STR, "paragraph_id": NULL_INT,
                                "after_paragraph_id": NULL_INT, "text": STR, "rationale": STR,
                                "supersedes": _list(INT)}, ["kind", "organisation"])),
    },
    "/statements/{statement_id}/merged": {
        "get": _op("The text with all its open amendments: per place (the title, the top, each live paragraph "
                   "in order) its text now and its open amendments with their stored diffs (ops against that "
                   "text), whether each one's decision rule is met, and which collide (their changes touch, no "
                   "unchanged word between, or one deletes the paragraph). The filters choose the amendments "
                   "listed; collisions are found among all of them.", 200, _obj({
                       "statement_id": INT, "version": INT, "decision_rule": STR, "open_count": INT,
                       "shown_count": INT, "places": _list(_ref("MergedPlace"))}),
                   404, 422, op_id="merged_view",
                   params=[*S, _query("organisation", STR, description="an organisation's slug"),
                           _query("kind", {"type": "string", "enum": ["modify", "insert", "delete", "retitle"]}),
                           _query("rule_met", {"type": "string", "enum": ["true", "false"]})]),
    },
    "/statements/{statement_id}/accept-many": {
        "post": _op("Accept several amendments at once (coordinator), in the order the merged view shows them, "
                    "in one new version. All or nothing: a 409 (code batch_refused) lists in error.items every "
                    "amendment that stood in the way (not open, rule not met, changed since text_versions, "
                    "conflicting once an earlier one is applied) and why.", 200, _obj({
                        "accepted": _list(INT), "version": _obj({"number": INT, "sha256": STR})}),
                    403, 404, 409, 422, op_id="accept_many", params=S,
                    body=_body({"amendments": _list(INT),
                                "text_versions": {"type": "object", "additionalProperties": INT}},
                               ["amendments"])),
    },
    "/amendments/{amendment_id}": {
        "get": _op("One amendment with its diff, positions and comments.", 200,
                   _ref("AmendmentDetail"), 404, op_id="get_amendment", params=A),
        "put": _op("Edit one's own amendment.", 200, _ref("AmendmentDetail"), 403, 404, 409, 422, 429,
                   op_id="edit_amendment", params=A,
                   body=_body({"text": STR, "rationale": STR}, [])),
    },
    "/amendments/{amendment_id}/sponsors": {
        "post": _op("Co-sponsor an amendment for an organisation.", 201, _ref("AmendmentDetail"),
                    403, 404, 409, 422, op_id="cosponsor", params=A,
                    body=_body({"organisation": STR}, ["organisation"])),
    },
    "/amendments/{amendment_id}/positions": {
        "post": _op("Take an organisation's position on an amendment.", 201, _ref("Position"),
                    403, 404, 409, 422, op_id="take_position", params=A,
                    body=_body({"organisation": STR,
                                "stance": {"type": "string", "enum": ["support", "oppose", "abstain"]},
                                "reason": STR}, ["organisation", "stance"])),
    },
    "/amendments/{amendment_id}/comments": {
        "post": _op("Comment on an amendment (or reply to a comment).", 201, _ref("Comment"),
                    403, 404, 409, 422, op_id="comment", params=A,
                    body=_body({"body": STR, "parent_id": NULL_INT}, ["body"])),
    },
    "/amendments/{amendment_id}/suggestions": {
        "get": _op("The suggestions made to an amendment, oldest first, a page at a time (?page, ?per_page).", 200,
                   _obj({"suggestions": _list(_ref("Suggestion")), "page": INT, "per_page": INT, "total": INT,
                         "pages": INT}), 404, op_id="list_suggestions", params=A),
        "post": _op("Suggest a change to an open amendment's text, for an organisation whose delegate the token's "
                    "owner is; text_version (optional): the amendment's text version it was made on (409 if it "
                    "changed since).", 201, _ref("Suggestion"), 403, 404, 409, 422, 429,
                    op_id="suggest", params=A,
                    body=_body({"organisation": STR, "text": STR, "rationale": STR, "text_version": NULL_INT},
                               ["organisation", "text"])),
    },
    "/suggestions/{suggestion_id}/adopt": {
        "post": _op("Adopt a suggestion (the amendment's proposer): the amendment takes its text, and positions "
                    "start a new round. 409 for a suggestion made on an earlier text of the amendment.", 200,
                    _obj({"suggestion": _ref("Suggestion"), "amendment": _ref("AmendmentDetail")}),
                    403, 404, 409, 422, op_id="adopt_suggestion", params=[_path_param("suggestion_id")]),
    },
    "/suggestions/{suggestion_id}/decline": {
        "post": _op("Decline a suggestion (the amendment's proposer), with a reason.", 200, _ref("Suggestion"),
                    403, 404, 409, 422, op_id="decline_suggestion", params=[_path_param("suggestion_id")],
                    body=_body({"reason": STR}, ["reason"])),
    },
    "/suggestions/{suggestion_id}/withdraw": {
        "post": _op("Withdraw one's own open suggestion.", 200, _ref("Suggestion"), 403, 404, 409, 422,
                    op_id="withdraw_suggestion", params=[_path_param("suggestion_id")]),
    },
    "/amendments/{amendment_id}/accept": {
        "post": _op("Accept an amendment (coordinator): a new version.", 200, _obj({
            "amendment": _ref("Amendment"), "version": _obj({"number": INT, "sha256": STR})}),
            403, 404, 409, 422, op_id="accept", params=A,
            body=_body({"text_version": NULL_INT}, []), body_required=False),
    },
    "/amendments/{amendment_id}/reject": {
        "post": _op("Reject an amendment (coordinator), with a reason.", 200, _ref("Amendment"),
                    403, 404, 409, 422, op_id="reject", params=A,
                    body=_body({"reason": STR}, ["reason"])),
    },
    "/amendments/{amendment_id}/withdraw": {
        "post": _op("Withdraw one's own amendment.", 200, _ref("Amendment"), 403, 404, 409, 422,
                    op_id="withdraw", params=A),
    },
    "/statements/{statement_id}/freeze": {
        "post": _op("Freeze the current version for signing.", 200, _ref("SigningStatement"),
                    403, 404, 409, 422, op_id="freeze", params=S, body_required=False,
                    body=_body({"signing_deadline": _nullable(DATETIME),
                                "planned_publication_date": _nullable({"type": "string",
                                                                       "format": "date"}),
                                "auto_publish": BOOL, "without_amendment_round": BOOL,
                                "authentic_languages": _list(STR)}, [])),
    },
    "/statements/{statement_id}/reopen": {
        "post": _op("Reopen a frozen statement for amendments (voids its signatures).", 200,
                    {"allOf": [_ref("SigningStatement"),
                               _obj({"voided_signatures": _list(_ref("Signature"))})]},
                    403, 404, 409, 422, op_id="reopen", params=S, body_required=False,
                    body=_body({}, [])),
    },
    "/statements/{statement_id}/publish": {
        "post": _op("Publish a fully signed statement.", 201, _ref("Publication"), 403, 404, 409, 422,
                    op_id="publish", params=S, body_required=False,
                    body=_body({"publication_date": _nullable({"type": "string", "format": "date"})},
                               [])),
    },
    "/statements/{statement_id}/signatures": {
        "get": _op("The signatures of a statement and its signing state.", 200, _obj({
            "status": STR, "signing": _ref("Signing"), "signatures": _list(_ref("Signature"))}),
            404, op_id="list_signatures", params=S),
        "post": _op("Sign the frozen version for an organisation (re-enter one's password).", 201,
                    {"allOf": [_ref("Signature"), _obj({
                        "statement_status": STR, "publication": _nullable(_ref("Publication"))})]},
                    403, 404, 409, 422, 429, op_id="sign", params=S,
                    body=_body({"organisation": STR, "signer_name": STR, "signer_title": STR,
                                "authorised": BOOL, "password": STR, "version_sha256": STR,
                                "translation_sha256": HASHES},
                               ["organisation", "signer_name", "signer_title", "password",
                                "version_sha256"])),
    },
    "/statements/{statement_id}/languages": {
        "get": _op("The statement's source language and its translations' state.", 200, _ref("Languages"), 404,
                   op_id="list_languages", params=S),
        "post": _op("Add a target language (coordinator): a BCP 47 tag Babel knows.", 201, _ref("Languages"),
                    403, 404, 409, 422, op_id="add_language", params=S, body=_body({"language": STR}, ["language"])),
    },
    "/statements/{statement_id}/languages/{language}": {
        "delete": _op("Remove a target language that is neither authentic in the text being signed nor published "
                      "(coordinator); its texts are kept.", 200, _ref("Languages"), 403, 404, 409, 422,
                      op_id="remove_language", params=[*S, _path_param("language", STR)]),
    },
    "/statements/{statement_id}/source-language": {
        "put": _op("Set the source language (coordinator, before freezing).", 200, _ref("Languages"),
                   403, 404, 409, 422, op_id="set_source_language", params=S,
                   body=_body({"language": STR}, ["language"])),
    },
    "/statements/{statement_id}/translations/{language}": {
        "get": _op("A translation next to its source, paragraph by paragraph, with the source's word diff "
                   "since each outdated paragraph was translated.", 200, _ref("Translation"), 404,
                   op_id="get_translation", params=[*S, _path_param("language", STR)]),
        "put": _op("Save translated texts (delegates of participants, the coordinator): each paragraph names the "
                   "source revision it translates; empty texts are left as they are.", 200,
                   {"allOf": [_ref("Translation"), _obj({"written": INT})]}, 403, 404, 409, 422,
                   op_id="save_translation", params=[*S, _path_param("language", STR)],
                   body=_body({"title": STR, "title_source": STR,
                               "paragraphs": _list(_body({"id": ID, "revision_id": ID, "text": STR},
                                                         ["id", "revision_id", "text"]))}, [])),
    },
    "/statements/{statement_id}/translations/{language}/publish": {
        "post": _op("Add a complete translation to a published statement, marked not authentic (coordinator).", 201,
                    _obj({"language": STR, "authentic": BOOL, "sha256": STR, "canonical_sha256": STR, "url": STR,
                          "formats": _obj({k: STR for k in ("txt", "md", "pdf", "docx")})}),
                    403, 404, 409, 422, op_id="publish_translation", params=[*S, _path_param("language", STR)]),
    },
    "/statements/{statement_id}/signatures/{signature_id}": {
        "delete": _op("Revoke a signature before publication.", 200, _ref("Signature"),
                      403, 404, 409, 422, op_id="revoke", params=[*S, _path_param("signature_id")]),
    },
    "/statements/{statement_id}/withdraw": {
        "post": _op("Withdraw an organisation from a statement, with a reason.", 200,
                    _ref("SigningStatement"), 403, 404, 409, 422, op_id="withdraw_organisation",
                    params=S, body=_body({"organisation": STR, "reason": STR},
                                         ["organisation", "reason"])),
    },
}


def document() -> dict[str, Any]:
    paths = {path: {method: {**op, "security": [{"bearer": []}]} for method, op in ops.items()}
             for path, ops in PATHS.items()}
    paths[OPENAPI_PATH] = {"get": {
        "operationId": "openapi", "summary": "This document (no token needed).", "security": [],
        "responses": {"200": {"description": "The OpenAPI document.",
                              "content": _json({"type": "object"})}},
    }}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Concord API", "version": "1",
                 "description": "The JSON API of Concord. See docs/api.md. Every error is "
                                "{\"error\": {\"code\", \"message\"}}."},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A personal token (cnc_...)."}},
            "schemas": SCHEMAS,
        },
    }


@bp.get(OPENAPI_PATH)
def openapi():
    return jsonify(document())
