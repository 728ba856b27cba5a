"""Suggestions: a participant's change to an open amendment's text (an amendment to the amendment).

Any delegate of a participating organisation suggests a new text for an amendment that is open for
positions; it is stored with the amendment's text version it was made on and its word diff against
that text (computed now, within the word-diff budget, and never again). The amendment's proposer
adopts it, which is an edit of the amendment (a new text revision, a new round of positions: those
given on the earlier text no longer count), or declines it with a reason; its author may withdraw it
while it is open. A suggestion made on an earlier text of the amendment (the proposer edited it or
adopted another suggestion: then it is marked *outdated*; or a clean rebase moved the text on) is
never adopted as it stands.

Plain functions, as in ``operations``: they take the acting user, flush, never commit, raise
ConcordError; who may do what is answered by ``app.permissions``.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import func, select

from app import audit
from app.amending import words
from app.amending.operations import (
    _changed_by_proposer,
    _check_room,
    _clean_rationale,
    _diff_of,
    _fresh_amendment,
    _id,
    _record,
    _speaking_for,
)
from app.diffing.stored import text_change
from app.drafting.text import normalise_paragraph, normalise_title
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound, StaleText, WrongPhase
from app.extensions import db
from app.i18n import _
from app.limits import MAX_OPEN_SUGGESTIONS_PER_ORGANISATION, WORD_DIFF_SECONDS
from app.locking import lock_statement
from app.models import Amendment, Organisation, Statement, Suggestion, User
from app.notifications import events
from app.permissions import amendment_rights, may_withdraw_suggestion

#: How many decided (adopted, declined, withdrawn, outdated) suggestions an amendment's page lists.
RECENT_DECIDED = 20


def suggestion_path(amendment_id: int, suggestion_id: int) -> str:
    return f"/amendments/{amendment_id}#s-{suggestion_id}"


def _require_amending(statement: Statement) -> None:
    if statement.status != "amending":
        raise WrongPhase(_("Suggestions are made and decided only while the statement is open for amendments."))


def _require_open_text(amendment: Amendment) -> None:
    if amendment.status == "conflicted":
        raise Conflict(_("This amendment conflicts with the current text; wait until its proposer revises it."))
    if not amendment.is_open:
        raise Conflict(words.amendment_already(amendment.status))


def _normalised(amendment: Amendment, text: str | None) -> str:
    if amendment.kind == "retitle":
        return normalise_title(text)
    return normalise_paragraph(text)


def suggest(
    amendment: Amendment | int, user: User, organisation: Organisation | int | str, *, text: str | None,
    rationale: str = "", text_version: int | None = None, now: datetime,
) -> Suggestion:
    """Suggest ``text`` as the amendment's new text, for ``organisation`` (whose delegate ``user`` is).

    ``text_version``: the amendment's text version the suggester saw (a form's hidden field); if it has
    changed since, nothing is saved and the message says so.
    """
    row = amendment if isinstance(amendment, Amendment) else db.session.get(Amendment, amendment)
    if row is None:
        raise NotFound(_("There is no such amendment."))
    statement = lock_statement(row.statement_id)
    amendment = _fresh_amendment(_id(row), "sponsors")
    organisation = _speaking_for(statement, user, organisation)
    _require_amending(statement)
    if amendment.kind == "delete":
        raise InvalidInput(_("A deletion has no text to suggest a change to."))
    _require_open_text(amendment)
    if organisation.id not in amendment_rights(amendment, statement, user).suggest_for:
        raise NotAllowed(_("Only a delegate of a participating organisation can suggest a change for "
                           "%(organisation)s.", organisation=organisation.name), field="organisation")
    if text_version is not None and text_version != amendment.text_version:
        raise StaleText(_("The amendment's text changed since you opened it; your suggestion was not saved. "
                          "Read its current text and suggest your change again."), field="text")
    proposed = _normalised(amendment, text)
    if proposed == amendment.proposed_text:
        raise InvalidInput(_("The suggested text is the same as the amendment's text."), field="text")
    if amendment.kind != "insert" and proposed == amendment.base_text:
        raise InvalidInput(_("With this text the amendment would change nothing: it is the current title. To "
                             "oppose the amendment, record your organisation's position.")
                           if amendment.kind == "retitle" else
                           _("With this text the amendment would change nothing: it is the current paragraph. To "
                             "oppose the amendment, record your organisation's position."), field="text")
    reason = _clean_rationale(rationale)
    open_ones = db.session.scalar(
        select(func.count()).select_from(Suggestion)
        .where(Suggestion.amendment_id == amendment.id, Suggestion.organisation_id == organisation.id,
               Suggestion.status == "open"))
    if open_ones >= MAX_OPEN_SUGGESTIONS_PER_ORGANISATION:
        raise InvalidInput(_(
            "%(organisation)s already has %(count)s open suggestions on this amendment, the most one "
            "organisation can have on one amendment. Withdraw one of them, or wait until they are decided.",
            organisation=organisation.name, count=open_ones))
    suggestion = Suggestion(
        amendment_id=amendment.id, organisation=organisation, author=user, text_version=amendment.text_version,
        base_text=amendment.proposed_text, proposed_text=proposed, rationale=reason, status="open",
        diff=text_change(amendment.proposed_text, proposed, deadline=time.monotonic() + WORD_DIFF_SECONDS),
        created_at=now,
    )
    db.session.add(suggestion)
    db.session.flush()
    audit.record(statement.id, "suggested", user, now=now, organisation=organisation, amendment=amendment.id,
                 suggestion=suggestion.id, text=proposed)
    events.notify([amendment.proposer], "amendment_activity", statement=statement, exclude=user, now=now,
                  path=suggestion_path(amendment.id, suggestion.id),
                  subject=_("%(organisation)s suggests a change to your amendment #%(id)s",
                                         organisation=organisation.name, id=amendment.id),
                  body=reason or _("%(name)s suggests a new text for it. Adopt it or decline it with a "
                                                "reason.", name=user.name))
    return suggestion


def _fresh_suggestion(suggestion: Suggestion | int) -> Suggestion:
    suggestion_id = _id(suggestion)
    found = db.session.execute(
        select(Suggestion).where(Suggestion.id == suggestion_id).execution_options(populate_existing=True)
    ).scalar_one_or_none() if isinstance(suggestion_id, int) and 0 < suggestion_id < 2**31 else None
    if found is None:
        raise NotFound(_("There is no such suggestion."))
    return found


def _statement_of(suggestion: Suggestion | int) -> int:
    row = suggestion if isinstance(suggestion, Suggestion) else _fresh_suggestion(suggestion)
    statement_id = db.session.scalar(select(Amendment.statement_id).where(Amendment.id == row.amendment_id))
    if statement_id is None:
        raise NotFound(_("There is no such suggestion."))
    return statement_id


def _to_decide(suggestion: Suggestion | int, user: User, collections: tuple[str, ...] = ()
               ) -> tuple[Statement, Amendment, Suggestion]:
    """Under the statement's lock: the statement, the amendment and the suggestion, read fresh, after
    the checks that adopting and declining share (the proposer, the phase, an open suggestion)."""
    statement = lock_statement(_statement_of(suggestion))
    suggestion = _fresh_suggestion(suggestion)
    amendment = _fresh_amendment(suggestion.amendment_id, *collections)
    if user.id != amendment.proposer_id:
        raise NotAllowed(_("Only the amendment's proposer adopts or declines the suggestions made to it."))
    _require_amending(statement)
    if suggestion.status != "open":
        raise Conflict(words.suggestion_already(suggestion.status))
    return statement, amendment, suggestion


def adopt(suggestion: Suggestion | int, user: User, *, now: datetime) -> Amendment:
    """The amendment's text becomes the suggestion's: a new text revision and a new round of positions
    (those given on the earlier text no longer count and are shown as such; its own organisation
    supports the new text). Refused for a suggestion made on an earlier text of the amendment."""
    statement, amendment, suggestion = _to_decide(suggestion, user, ("positions", "sponsors"))
    _require_open_text(amendment)
    if not amendment_rights(amendment, statement, user).can_adopt:
        raise NotAllowed(_("Only a delegate of %(organisation)s can change its amendment.",
                           organisation=amendment.organisation.name))
    if suggestion.text_version != amendment.text_version:
        raise Conflict(_(
            "This suggestion was made on an earlier text of amendment #%(id)s, which has changed since "
            "(it was edited, rebased onto an accepted change, or another suggestion was adopted). Adopting it "
            "as it stands would undo that change. Decline it, or ask for a new suggestion on the current text.",
            id=amendment.id))
    if amendment.kind != "insert" and suggestion.proposed_text == amendment.base_text:
        raise InvalidInput(_("With this text the amendment would change nothing."))
    # Organisations whose positions stop counting: told that their position is needed again.
    spoken = [p.organisation for p in amendment.current_positions().values()
              if p.organisation_id != amendment.organisation_id]
    amendment.proposed_text = suggestion.proposed_text
    if amendment.kind in ("modify", "insert"):
        _check_room(statement, amendment.organisation, amendment, new=False)
    amendment.diff = _diff_of(amendment.kind, amendment.base_text, amendment.proposed_text,
                              deadline=time.monotonic() + WORD_DIFF_SECONDS)
    amendment.current_diff = None
    amendment.text_version += 1
    amendment.updated_at = now
    suggestion.status = "adopted"
    suggestion.decided_at = now
    suggestion.decided_by_id = user.id
    db.session.flush()  # adopted before the other open ones are marked outdated
    _changed_by_proposer(amendment, user, now, new_round=True)
    _record(amendment, "adopted", user, now)
    db.session.flush()
    audit.record(statement.id, "suggestion_adopted", user, now=now, organisation=amendment.organisation,
                 amendment=amendment.id, suggestion=suggestion.id, text=amendment.proposed_text)
    events.notify([suggestion.author], "amendment_activity", statement=statement, exclude=user, now=now,
                  path=suggestion_path(amendment.id, suggestion.id),
                  subject=_("Your suggestion to amendment #%(id)s was adopted", id=amendment.id),
                  body=_("Amendment #%(id)s now has the text you suggested; its positions start a new "
                                      "round.", id=amendment.id))
    if spoken:
        events.notify(events.members(spoken, "delegate"), "amendment_new", statement=statement, exclude=user,
                      now=now, path=events.amendment_path(amendment),
                      subject=_("Amendment #%(id)s has a new text: your position is needed again",
                                             id=amendment.id),
                      body=_("%(organisation)s adopted a suggestion, so positions given on the earlier "
                                          "text no longer count. Read the new text and record your organisation's "
                                          "position.", organisation=amendment.organisation.name))
    return amendment


def decline(suggestion: Suggestion | int, user: User, *, reason: str, now: datetime) -> Suggestion:
    """The proposer declines a suggestion, with a reason its organisation is told."""
    statement, amendment, suggestion = _to_decide(suggestion, user)
    if not amendment.is_open:
        raise Conflict(words.amendment_already(amendment.status))
    reason = _clean_rationale(reason)
    if not reason:
        raise InvalidInput(_("Give a reason for declining, so the organisation that suggested it knows why."),
                           field="reason")
    suggestion.status = "declined"
    suggestion.decision_reason = reason
    suggestion.decided_at = now
    suggestion.decided_by_id = user.id
    db.session.flush()
    audit.record(statement.id, "suggestion_declined", user, now=now, organisation=amendment.organisation,
                 amendment=amendment.id, suggestion=suggestion.id, reason=reason)
    events.notify([suggestion.author], "amendment_activity", statement=statement, exclude=user, now=now,
                  path=suggestion_path(amendment.id, suggestion.id),
                  subject=_("Your suggestion to amendment #%(id)s was declined", id=amendment.id),
                  body=reason)
    return suggestion


def withdraw(suggestion: Suggestion | int, user: User, *, now: datetime) -> Suggestion:
    """Its author withdraws an open suggestion."""
    statement = lock_statement(_statement_of(suggestion))
    suggestion = _fresh_suggestion(suggestion)
    _fresh_amendment(suggestion.amendment_id)  # brings the audit chain's head
    if suggestion.author_id != user.id:
        raise NotAllowed(_("Only the person who made a suggestion can withdraw it."))
    _require_amending(statement)
    if not may_withdraw_suggestion(suggestion, user):
        raise Conflict(words.suggestion_already(suggestion.status))
    suggestion.status = "withdrawn"
    suggestion.decided_at = now
    suggestion.decided_by_id = user.id
    db.session.flush()
    audit.record(statement.id, "suggestion_withdrawn", user, now=now, organisation=suggestion.organisation,
                 amendment=suggestion.amendment_id, suggestion=suggestion.id)
    return suggestion


# --- reading ---------------------------------------------------------------------------------


def suggestions_query(amendment: Amendment | int):
    """An amendment's suggestions, oldest first: a select, for the caller to page through."""
    return select(Suggestion).where(Suggestion.amendment_id == _id(amendment)).order_by(Suggestion.id)


def shown_suggestions(amendment: Amendment | int) -> tuple[list[Suggestion], list[Suggestion], int]:
    """What an amendment's page lists: every open suggestion (at most
    MAX_OPEN_SUGGESTIONS_PER_ORGANISATION per organisation), the RECENT_DECIDED most recently decided
    ones, and how many decided ones there are in all. Two queries, whatever their number."""
    amendment_id = _id(amendment)
    open_ones = list(db.session.scalars(
        select(Suggestion).where(Suggestion.amendment_id == amendment_id, Suggestion.status == "open")
        .order_by(Suggestion.id)))
    decided_count = func.count().over()
    rows = db.session.execute(
        select(Suggestion, decided_count).where(Suggestion.amendment_id == amendment_id,
                                                Suggestion.status != "open")
        .order_by(Suggestion.id.desc()).limit(RECENT_DECIDED)).all()
    return open_ones, [row[0] for row in rows], rows[0][1] if rows else 0
