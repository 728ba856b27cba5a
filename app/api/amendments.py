"""JSON API for amendments: open, propose, positions, comments, suggestions, decisions, compare."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

from flask import g, jsonify, request
from sqlalchemy.orm import joinedload, lazyload, selectinload

from app import limits
from app.amending import operations as amending
from app.amending import suggestions as suggesting
from app.amending.merged_view import merged_view
from app.api import bp
from app.api.routes import (
    _body,
    _commit,
    _now,
    _optional_int,
    _string,
    _visible_statement,
    paging,
    statement_json,
)
from app.diffing import compare_paragraphs, word_diff
from app.drafting import operations as drafting
from app.errors import ConcordError, InvalidInput, NotFound
from app.extensions import db
from app.i18n import _
from app.models import Amendment, Position, Suggestion, Version
from app.organisations import operations as orgs
from app.paging import paginate
from app.rate_limits import limited


def _amendment(amendment_id: int) -> Amendment:
    amendment = db.session.get(Amendment, amendment_id)
    if amendment is None or not amendment.statement.can_view(g.api_user):
        raise NotFound(_("There is no such amendment."))
    return amendment


def _acting_on(amendment_id: int) -> Amendment:
    """The amendment's row and its proposer, for a rule that reads the rest under the statement's lock.
    Who may not see the amendment is told it does not exist, as by ``_amendment``."""
    amendment = db.session.get(Amendment, amendment_id,
                               options=[lazyload("*"), joinedload(Amendment.proposer)])
    if amendment is None:
        raise NotFound(_("There is no such amendment."))
    return amendment


@contextmanager
def _hidden_from_outsiders(amendment_id: int):
    """Any refusal of someone who may not see the amendment becomes the 404 of an amendment that is not there."""
    try:
        yield
    except ConcordError:
        db.session.rollback()
        _amendment(amendment_id)
        raise


def amendment_json(
    amendment: Amendment, numbers: dict[int, int] | None = None, *, full: bool = False
) -> dict:
    numbers = numbers if numbers is not None else amending.paragraph_numbers(amendment.statement)
    payload = {
        "id": amendment.id,
        "statement_id": amendment.statement_id,
        "kind": amendment.kind,
        "status": amendment.status,
        "paragraph_id": amendment.paragraph_id if amendment.kind != "insert" else None,
        "after_paragraph_id": amendment.paragraph_id if amendment.kind == "insert" else None,
        "paragraph_number": numbers.get(amendment.paragraph_id) if amendment.paragraph_id else None,
        "paragraph_number_when_proposed": amendment.base_number,
        "base_revision_id": amendment.base_revision_id,
        "base_text": amendment.base_text,
        "text": amendment.proposed_text,
        "rationale": amendment.rationale,
        "organisation": amendment.organisation.slug,
        "sponsors": [s.organisation.slug for s in amendment.sponsors],
        "proposer": amendment.proposer.name,
        "text_version": amendment.text_version,
        "created_at": amendment.created_at.isoformat(),
        "decided_at": amendment.decided_at.isoformat() if amendment.decided_at else None,
        "decision_reason": amendment.decision_reason,
        "result_version": amendment.result_version.number if amendment.result_version else None,
        "superseded_by": amendment.superseded_by_id,
        "supersedes": [t.id for t in amendment.targets],
    }
    if full:
        tally = amending.tally(amendment, amendment.statement)
        payload["diff"] = [[op, text] for op, text in amendment.ops]
        payload["positions"] = [
            _position_summary(amendment, org.slug, p)
            for group in (tally.support, tally.oppose, tally.abstain) for org, p in group
        ]
        payload["not_yet_spoken"] = [o.slug for o in tally.silent]
        # Of those: what each said on an earlier text, before a new round started (no longer counted).
        payload["earlier_positions"] = [_position_summary(amendment, o.slug, tally.earlier[o.id])
                                        for o in tally.silent if o.id in tally.earlier]
        payload["decision_rule_met"] = tally.decision.met
        payload["decision_explanation"] = str(tally.decision.explanation)
        payload["comments"] = [
            {"id": c.id, "parent_id": c.parent_id, "author": c.author.name, "body": c.body,
             "created_at": c.created_at.isoformat()}
            for c in amendment.comments
        ]
    return payload


def _position_summary(amendment: Amendment, organisation: str, p: Position) -> dict:
    """A position as the amendment's JSON lists it: ``as`` says whether it was recorded by proposing or
    co-sponsoring ("proposer", "cosponsor") or taken by itself (null); ``on_earlier_text`` whether the
    amendment's text has changed since (a rebase: it still counts; a new round: it no longer does)."""
    return {"organisation": organisation, "stance": p.stance, "reason": p.reason, "by": p.user.name,
            "at": p.created_at.isoformat(), "round": p.round, "text_version": p.text_version,
            "as": p.given_as, "on_earlier_text": amendment.on_earlier_text(p)}


def suggestion_json(suggestion: Suggestion, amendment: Amendment) -> dict:
    return {
        "id": suggestion.id,
        "amendment_id": suggestion.amendment_id,
        "organisation": suggestion.organisation.slug,
        "author": suggestion.author.name,
        "text_version": suggestion.text_version,
        "base_text": suggestion.base_text,
        "text": suggestion.proposed_text,
        "diff": [[op, text] for op, text in suggestion.ops],
        "rationale": suggestion.rationale,
        "status": suggestion.status,
        "on_earlier_text": suggestion.outdated_on(amendment),
        "decision_reason": suggestion.decision_reason,
        "created_at": suggestion.created_at.isoformat(),
        "decided_at": suggestion.decided_at.isoformat() if suggestion.decided_at else None,
    }


def _datetime(data: dict, key: str) -> datetime | None:
    raw = data.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidInput(_("“%(key)s” must be an ISO 8601 date-time string or null.", key=key), field=key)
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(_("“%(key)s” is not an ISO 8601 date-time.", key=key), field=key)
    if value.tzinfo is None:
        raise InvalidInput(_("“%(key)s” needs a time zone offset, e.g. 2026-03-01T18:00:00+01:00.", key=key),
                           field=key)
    try:
        return value.astimezone(UTC)  # stored in UTC: 9999-12-31T23:59:59-11:00 has no UTC equivalent
    except OverflowError:
        raise InvalidInput(_("“%(key)s” is out of range.", key=key), field=key) from None


def _int_list(data: dict, key: str) -> list[int]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise InvalidInput(_("“%(key)s” must be a list of integers.", key=key), field=key)
    return value


@bp.post("/statements/<int:statement_id>/open")
def open_statement(statement_id: int):
    statement = _visible_statement(statement_id)
    data = _body()
    amending.open_for_amendments(statement, g.api_user, rule=_string(data, "decision_rule"),
                                 deadline=_datetime(data, "amendment_deadline"), now=_now())
    payload = statement_json(statement)
    payload["decision_rule"] = statement.decision_rule
    payload["amendment_deadline"] = (statement.amendment_deadline.astimezone(UTC).isoformat()
                                     if statement.amendment_deadline else None)
    return _commit(payload)


def _int_arg(name: str) -> int | None:
    """A query-string number that a 32-bit column can hold; None when absent; 422 otherwise."""
    raw = request.args.get(name)
    if raw is None:
        return None
    value = request.args.get(name, type=int)
    if value is None or not 0 <= value <= 2**31 - 1:
        raise InvalidInput(_("“%(name)s” must be a whole number from 0 to %(max)s.", name=name, max=2**31 - 1),
                           field=name)
    return value


@bp.get("/statements/<int:statement_id>/amendments")
def list_amendments(statement_id: int):
    statement = _visible_statement(statement_id)
    organisation = request.args.get("organisation")
    query = amending.amendments_query(
        statement, paragraph_id=_int_arg("paragraph"),
        organisation_id=orgs.get_organisation(organisation).id if organisation else None,
        status=request.args.get("status") or None,
    ).options(selectinload(Amendment.sponsors), selectinload(Amendment.targets), joinedload(Amendment.proposer),
              joinedload(Amendment.result_version).defer(Version.canonical_text))
    page = paginate(query, per_page=50, max_per_page=200)
    numbers = amending.paragraph_numbers(statement)
    return jsonify({"amendments": [amendment_json(a, numbers) for a in page.items], **paging(page)})


@bp.post("/statements/<int:statement_id>/amendments")
@limited("propose")
def propose(statement_id: int):
    data = _body()
    kind = _string(data, "kind")
    place = _optional_int(data, "after_paragraph_id" if kind == "insert" else "paragraph_id")
    try:  # the rule reads the statement under its lock; who may not see it is told it does not exist
        amendment = amending.propose(
            statement_id, g.api_user, _string(data, "organisation"), kind=kind,
            paragraph_id=place, text=_string(data, "text", required=kind != "delete"),
            rationale=_string(data, "rationale", required=False),
            supersedes=_int_list(data, "supersedes"), now=_now(),
        )
    except ConcordError:
        db.session.rollback()
        _visible_statement(statement_id)
        raise
    # Everything the answer shows was read or written by the rule: no more queries.
    return _commit(amendment_json(amendment, {amendment.paragraph_id: amendment.base_number}, full=True), 201)


@bp.get("/amendments/<int:amendment_id>")
def get_amendment(amendment_id: int):
    return jsonify(amendment_json(_amendment(amendment_id), full=True))


@bp.put("/amendments/<int:amendment_id>")
@limited("propose")
def edit_amendment(amendment_id: int):
    amendment = _amendment(amendment_id)
    data = _body()
    amendment = amending.edit_amendment(
        amendment, g.api_user, text=_string(data, "text", required=amendment.kind != "delete"),
        rationale=_string(data, "rationale", required=False), now=_now())
    return _commit(amendment_json(amendment, full=True))


@bp.post("/amendments/<int:amendment_id>/sponsors")
def cosponsor(amendment_id: int):
    amendment = _amendment(amendment_id)
    data = _body()
    organisation = orgs.get_organisation(_string(data, "organisation"))
    amending.cosponsor(amendment, g.api_user, organisation, now=_now())
    return _commit(amendment_json(amendment, full=True), 201)


@bp.post("/amendments/<int:amendment_id>/positions")
def take_position(amendment_id: int):
    amendment = _acting_on(amendment_id)
    data = _body()
    with _hidden_from_outsiders(amendment_id):
        position = amending.take_position(amendment, g.api_user, _string(data, "organisation"),
                                          _string(data, "stance"), _string(data, "reason", required=False),
                                          now=_now())
    return _commit({"id": position.id, "amendment_id": amendment.id, "organisation": position.organisation.slug,
                    "stance": position.stance, "reason": position.reason, "round": position.round,
                    "text_version": position.text_version, "as": position.given_as, "on_earlier_text": False,
                    "by": g.api_user.name, "created_at": position.created_at.isoformat()}, 201)


# --- suggestions ---------------------------------------------------------------------------------


@bp.get("/amendments/<int:amendment_id>/suggestions")
def list_suggestions(amendment_id: int):
    amendment = _amendment(amendment_id)
    page = paginate(suggesting.suggestions_query(amendment), per_page=50, max_per_page=200)
    return jsonify({"suggestions": [suggestion_json(s, amendment) for s in page.items], **paging(page)})


@bp.post("/amendments/<int:amendment_id>/suggestions")
@limited("propose")
def suggest(amendment_id: int):
    amendment = _acting_on(amendment_id)
    data = _body()
    with _hidden_from_outsiders(amendment_id):
        made = suggesting.suggest(amendment, g.api_user, _string(data, "organisation"),
                                  text=_string(data, "text"), rationale=_string(data, "rationale", required=False),
                                  text_version=_optional_int(data, "text_version"), now=_now())
    return _commit(suggestion_json(made, db.session.get(Amendment, made.amendment_id)), 201)


def _suggestion(suggestion_id: int) -> Suggestion:
    """The suggestion, if its amendment is one the token's owner may see."""
    found = db.session.get(Suggestion, suggestion_id)
    if found is None:
        raise NotFound(_("There is no such suggestion."))
    _amendment(found.amendment_id)
    return found


@bp.post("/suggestions/<int:suggestion_id>/adopt")
def adopt_suggestion(suggestion_id: int):
    suggestion = _suggestion(suggestion_id)
    amendment = suggesting.adopt(suggestion, g.api_user, now=_now())
    suggestion = db.session.get(Suggestion, suggestion.id)
    return _commit({"suggestion": suggestion_json(suggestion, amendment),
                    "amendment": amendment_json(amendment, full=True)})


@bp.post("/suggestions/<int:suggestion_id>/decline")
def decline_suggestion(suggestion_id: int):
    suggestion = _suggestion(suggestion_id)
    data = _body()
    declined = suggesting.decline(suggestion, g.api_user, reason=_string(data, "reason"), now=_now())
    return _commit(suggestion_json(declined, db.session.get(Amendment, declined.amendment_id)))


@bp.post("/suggestions/<int:suggestion_id>/withdraw")
def withdraw_suggestion(suggestion_id: int):
    suggestion = _suggestion(suggestion_id)
    withdrawn = suggesting.withdraw(suggestion, g.api_user, now=_now())
    return _commit(suggestion_json(withdrawn, db.session.get(Amendment, withdrawn.amendment_id)))


@bp.post("/amendments/<int:amendment_id>/comments")
def comment(amendment_id: int):
    amendment = _acting_on(amendment_id)
    data = _body()
    with _hidden_from_outsiders(amendment_id):
        created = amending.add_comment(amendment, g.api_user, _string(data, "body"),
                                       parent_id=_optional_int(data, "parent_id"), now=_now())
    return _commit({"id": created.id, "parent_id": created.parent_id, "author": g.api_user.name,
                    "body": created.body, "created_at": created.created_at.isoformat()}, 201)


@bp.post("/amendments/<int:amendment_id>/accept")
def accept(amendment_id: int):
    amendment = _amendment(amendment_id)
    data = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(data, dict):
        raise InvalidInput(_("Send a JSON object (or no body)."))
    version = amending.accept(amendment, g.api_user, text_version=_optional_int(data, "text_version"),
                              now=_now())
    return _commit({"amendment": amendment_json(amendment), "version": {
        "number": version.number, "sha256": version.sha256}})


@bp.post("/amendments/<int:amendment_id>/reject")
def reject(amendment_id: int):
    amendment = _amendment(amendment_id)
    data = _body()
    amending.reject(amendment, g.api_user, reason=_string(data, "reason"), now=_now())
    return _commit(amendment_json(amendment))


@bp.post("/amendments/<int:amendment_id>/withdraw")
def withdraw(amendment_id: int):
    amendment = _amendment(amendment_id)
    amending.withdraw_amendment(amendment, g.api_user, now=_now())
    return _commit(amendment_json(amendment))


@bp.get("/statements/<int:statement_id>/compare")
def compare(statement_id: int):
    statement = _visible_statement(statement_id)
    old_n, new_n = _int_arg("from"), _int_arg("to")
    if old_n is None or new_n is None:
        raise InvalidInput(_("Give ?from=N&to=M (version numbers)."))
    (old, old_entries), (new, new_entries) = drafting.versions_texts(statement, [old_n, new_n])
    return jsonify({
        "from": old_n, "to": new_n,
        "title": {"from": old.title, "to": new.title,
                  "diff": [[op, t] for op, t in word_diff(old.title, new.title)]},
        "paragraphs": [
            {"paragraph_id": row.paragraph_id, "change": row.kind, "moved": row.moved, "coarse": row.coarse,
             "old_number": row.old_number, "new_number": row.new_number,
             "diff": [[op, t] for op, t in row.ops]}
            for row in compare_paragraphs(old_entries, new_entries, timeout=limits.PAGE_DIFF_SECONDS)
        ],
    })


# --- the text with all its amendments (issue 16) ------------------------------------------------------

_RULE_MET = {"true": True, "false": False}


def _merged_amendment_json(a, slugs: dict[int, str]) -> dict:
    return {"id": a.id, "kind": a.kind, "status": a.status, "organisation": slugs.get(a.organisation_id, ""),
            "text_version": a.text_version, "ops": [[op, text] for op, text in a.ops],
            "rule_met": a.rule_met, "rule_explanation": str(a.decision.explanation), "acceptable": a.acceptable,
            "collides_with": list(a.collides_with)}


@bp.get("/statements/<int:statement_id>/merged")
def merged(statement_id: int):
    """The text with its open amendments, per place (title, top, each live paragraph), with their stored
    diffs, whether their rule is met and which collide (app/amending/merged_view.py)."""
    statement = _visible_statement(statement_id)
    slugs = {p.organisation_id: p.organisation.slug for p in statement.memberships}
    filters: dict = {}
    slug = request.args.get("organisation")
    if slug:
        found = [org_id for org_id, s in slugs.items() if s == slug]
        if not found:
            raise InvalidInput(_("That organisation does not take part in this statement."), field="organisation")
        filters["organisation"] = found[0]
    if request.args.get("kind"):
        filters["kind"] = request.args["kind"]
    raw = request.args.get("rule_met")
    if raw:
        if raw not in _RULE_MET:
            raise InvalidInput(_("“rule_met” is true or false."), field="rule_met")
        filters["rule_met"] = _RULE_MET[raw]
    view = merged_view(statement, **filters)

    def place_json(place, kind: str) -> dict:
        return {"place": kind, "paragraph_id": place.place if kind == "paragraph" else None,
                "number": place.number if kind == "paragraph" else None, "text": place.text,
                "amendments": [_merged_amendment_json(a, slugs) for a in place.amendments],
                "inserts": [_merged_amendment_json(a, slugs) for a in place.inserts]}

    return jsonify({
        "statement_id": statement.id, "version": statement.version_count, "decision_rule": view.rule,
        "open_count": view.open_count, "shown_count": view.shown_count,
        "places": [place_json(view.title, "title"), place_json(view.top, "top"),
                   *(place_json(p, "paragraph") for p in view.paragraphs)],
    })


@bp.post("/statements/<int:statement_id>/accept-many")
def accept_many(statement_id: int):
    """Accept several amendments at once (coordinator): all or nothing, one new version; a refusal (409,
    code ``batch_refused``) lists every amendment that stood in the way and why."""
    data = _body()
    ids = data.get("amendments")
    raw_versions = data.get("text_versions") or {}
    if not isinstance(raw_versions, dict):
        raise InvalidInput(_("“text_versions” maps amendment ids to the text_version you saw."), field="text_versions")
    versions: dict[int, int] = {}
    for key, value in raw_versions.items():
        if not (key.isdecimal() and 0 < int(key) < 2**31 and isinstance(value, int) and not isinstance(value, bool)
                and 0 < value < 2**31):
            raise InvalidInput(_("“text_versions” maps amendment ids to the text_version you saw."),
                               field="text_versions")
        versions[int(key)] = value
    _visible_statement(statement_id)
    version = amending.accept_many(statement_id, ids, g.api_user, text_versions=versions, now=_now())
    return _commit({"accepted": sorted(ids), "version": {"number": version.number, "sha256": version.sha256}})
