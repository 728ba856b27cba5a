"""Amendments: open a statement for them, propose, discuss, take positions, decide.

Once a statement is *amending*, its text changes only here, through accepted
amendments. Accepting one merges every other open amendment on the same
paragraph onto the new text, word by word (``diffing.Merger``, promise 5):
nothing is overwritten silently.
Plain functions: they take the acting user, flush, never commit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, exists, func, literal, select, update
from sqlalchemy.orm import aliased, joinedload, lazyload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app import audit
from app.amending import words
from app.amending.rules import Decision, rule_met
from app.diffing import CONFLICTED, OBSOLETE, SiblingMerges
from app.diffing.merge import ACCEPT_BUDGET
from app.diffing.stored import text_change
from app.drafting.operations import live_paragraphs, place_paragraph, snapshot
from app.drafting.text import check_paragraph_count, check_statement_size, normalise_paragraph, normalise_title
from app.errors import BatchRefused, ConcordError, Conflict, InvalidInput, NotAllowed, NotFound, WrongPhase
from app.extensions import db
from app.i18n import Message, _
from app.limits import MAX_ACCEPT_MANY, MAX_COMMENT_CHARS, MAX_OPEN_AMENDMENTS_PER_PLACE, MAX_RATIONALE_CHARS
from app.locking import lock_statement
from app.models import (
    DECISION_RULES,
    KINDS,
    OPEN_STATUSES,
    STANCES,
    Amendment,
    AmendmentRevision,
    Comment,
    Organisation,
    Paragraph,
    Position,
    Revision,
    Sponsor,
    Statement,
    Suggestion,
    User,
    Version,
)
from app.models.amendment import compromise_targets
from app.notifications import events
from app.permissions import amendment_rights, others_have_spoken

MAX_RATIONALE = MAX_RATIONALE_CHARS
SIBLING_DIFFS_SECONDS = 0.5  # for the stored diffs of all the siblings of one accept
MAX_COMMENT = MAX_COMMENT_CHARS
_RATIONALE_SHOWN, _COMMENT_SHOWN = f"{MAX_RATIONALE:,}", f"{MAX_COMMENT:,}"  # as the messages show them


def _id(thing) -> int:
    """A rule's statement, amendment or organisation, given as a row or by its id."""
    return thing if isinstance(thing, int) else thing.id


def _fresh_amendment(amendment_id: int, *collections: str) -> Amendment:
    """The amendment read again under the statement's lock, with its proposer and organisation and
    only those of its collections the rule needs ("positions", "sponsors"), and its statement's
    audit chain as it stands (``audit.head_columns``)."""
    wanted = [selectinload(getattr(Amendment, name)) for name in collections]
    skipped = [lazyload(getattr(Amendment, name)) for name in ("positions", "sponsors") if name not in collections]
    row = db.session.execute(
        select(Amendment, *audit.head_columns(Amendment.statement_id)).where(Amendment.id == amendment_id)
        .options(*wanted, *skipped).execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound(_("There is no such amendment."))
    amendment, seq, last_hash = row
    audit.continue_from(amendment.statement_id, seq, last_hash)
    return amendment


def _amendment_to_decide(amendment_id: int) -> tuple[Amendment, int]:
    """The amendment, read fresh, and the current number of its paragraph (0: none, or deleted).

    One query (and one for its positions): what deciding on it needs, and no more.
    """
    here = aliased(Paragraph)
    position = (select(here.position).where(here.id == Amendment.paragraph_id, here.deleted_at.is_(None))
                .correlate(Amendment).scalar_subquery())
    number = (select(func.count()).select_from(Paragraph)
              .where(Paragraph.statement_id == Amendment.statement_id, Paragraph.deleted_at.is_(None),
                     Paragraph.position <= position)
              .correlate(Amendment).scalar_subquery())
    row = db.session.execute(
        select(Amendment, number).where(Amendment.id == amendment_id)
        .options(lazyload(Amendment.sponsors)).execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound(_("There is no such amendment."))
    return row[0], row[1]


# --- opening -------------------------------------------------------------------


def open_for_amendments(
    statement: Statement, user: User, *, rule: str, deadline: datetime | None, now: datetime
) -> Statement:
    statement = lock_statement(statement.id)
    if not statement.is_coordinator(user):
        raise NotAllowed(_("Only the coordinator opens the statement for amendments."))
    if statement.status != "draft":
        raise WrongPhase(_("Only a draft can be opened for amendments."))
    if rule not in DECISION_RULES:
        raise InvalidInput(_("Choose a decision rule: consensus, majority or coordinator."),
                           field="decision_rule")
    if deadline is not None and deadline <= now:
        raise InvalidInput(_("The amendment deadline must be in the future."), field="deadline")
    if not live_paragraphs(statement):
        raise InvalidInput(_("Write at least one paragraph before opening for amendments."))
    statement.status = "amending"
    statement.decision_rule = rule
    statement.amendment_deadline = deadline
    statement.opened_at = now
    statement.updated_at = now
    audit.record(statement.id, "opened", user, now=now, decision_rule=rule,
                 amendment_deadline=deadline.isoformat() if deadline else None)
    db.session.flush()
    return statement


# --- proposing ------------------------------------------------------------------


def _clean_rationale(rationale: str | None) -> str:
    text = (rationale or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_RATIONALE:
        raise InvalidInput(_("A rationale can have at most %(max)s characters.", max=_RATIONALE_SHOWN),
                           field="rationale")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise InvalidInput(_("The rationale contains a control character."), field="rationale")
    return text


def _speaking_for(statement: Statement, user: User, organisation: Organisation | int | str) -> Organisation:
    """The participating organisation (a row, its id or its slug) ``user`` speaks for as its delegate."""
    key = "slug" if isinstance(organisation, str) else "id"
    wanted = organisation.id if isinstance(organisation, Organisation) else organisation
    found = next((o for o in statement.participant_organisations if getattr(o, key) == wanted), None)
    if found is None:
        known = organisation if isinstance(organisation, Organisation) else db.session.scalar(
            select(Organisation).where(getattr(Organisation, key) == wanted)) if wanted else None
        if known is None:
            raise NotFound(_("There is no such organisation."), field="organisation")
        raise NotAllowed(_("%(organisation)s does not take part in this statement.", organisation=known.name),
                         field="organisation")
    if not user.has_role(found, "delegate"):
        raise NotAllowed(_("Only a delegate of %(organisation)s can speak for it.", organisation=found.name),
                         field="organisation")
    return found


def _require_open_for_proposals(statement: Statement, now: datetime) -> None:
    if statement.status != "amending":
        raise WrongPhase(_("Amendments can be proposed only while the statement is open for amendments."))
    if not statement.amendments_open(now):
        raise WrongPhase(_("The deadline for amendments has passed."))


def _live_paragraph(statement: Statement, paragraph_id: int | None) -> Paragraph:
    return _numbered_paragraph(statement, paragraph_id)[0]


def _numbered_paragraph(statement: Statement, paragraph_id: int | None, room: _Room | None = None
                        ) -> tuple[Paragraph, int]:
    """A live paragraph of the statement, with its text, and its current number: one query (which also
    reads what ``room`` checks later, if given)."""
    before = aliased(Paragraph)
    number = (select(func.count()).select_from(before)
              .where(before.statement_id == statement.id, before.deleted_at.is_(None),
                     before.position <= Paragraph.position)
              .correlate(Paragraph).scalar_subquery())
    query = select(Paragraph, number)
    if room is not None:
        query = room.reading(query)
    row = db.session.execute(
        query.where(Paragraph.id == paragraph_id).options(joinedload(Paragraph.current_revision))
    ).first() if isinstance(paragraph_id, int) and 0 < paragraph_id < 2**31 else None
    if row is None or row[0].statement_id != statement.id:
        raise NotFound(_("That paragraph is not part of this statement."), field="paragraph_id")
    if row[0].deleted_at is not None:
        raise Conflict(_("That paragraph has been deleted from the text."), field="paragraph_id")
    if room is not None:
        room.read(row[2:])
    return row[0], row[1]


def paragraph_numbers(statement: Statement) -> dict[int, int]:
    """Current number of every live paragraph, by paragraph id (ids only: no texts loaded)."""
    ids = db.session.scalars(
        select(Paragraph.id)
        .where(Paragraph.statement_id == statement.id, Paragraph.deleted_at.is_(None))
        .order_by(Paragraph.position)
    )
    return {paragraph_id: n for n, paragraph_id in enumerate(ids, start=1)}


def _diff_of(kind: str, base_text: str, proposed_text: str, *, deadline: float | None = None) -> str:
    """An amendment's stored diff: what it would do to the text it is based on."""
    if kind == "insert":
        return text_change("", proposed_text)
    if kind == "delete":
        return text_change(base_text, "")
    return text_change(base_text, proposed_text, deadline=deadline)


def _record(amendment: Amendment, reason: str, author: User | None, now: datetime) -> None:
    # Added on its own rather than through amendment.history, which would load every earlier entry.
    db.session.add(AmendmentRevision(
        amendment=amendment, reason=reason, base_revision_id=amendment.base_revision_id,
        base_text=amendment.base_text, proposed_text=amendment.proposed_text, diff=amendment.diff,
        rationale=amendment.rationale, author_id=author.id if author else None, created_at=now,
        text_version=amendment.text_version,
    ))


def _support_as(amendment: Amendment, organisation: Organisation, user: User, given_as: str,
                now: datetime) -> Position:
    """The support an organisation gives by proposing (``given_as="proposer"``) or co-sponsoring an
    amendment: a position like any other, on the amendment's text now, that a later one replaces."""
    position = Position(amendment=amendment, organisation=organisation, user=user, stance="support",
                        given_as=given_as, round=amendment.round, text_version=amendment.text_version,
                        created_at=now)
    db.session.add(position)
    return position


def _changed_by_proposer(amendment: Amendment, user: User, now: datetime, *, new_round: bool) -> None:
    """After its proposer changed the amendment's text (its text_version already moved on).

    ``new_round`` (a revision after a conflict, an adopted suggestion): positions given on the earlier
    text no longer count, and its own organisation supports the new text. Otherwise (an edit, which only
    its own organisation's positions allow) the round goes on and that organisation's support, if it
    gives it, is carried onto the new text. Either way, suggestions still open were made on the earlier
    text: they become outdated.
    """
    if new_round:
        amendment.round += 1
        _support_as(amendment, amendment.organisation, user, "proposer", now)
    else:
        own = amendment.current_positions().get(amendment.organisation_id)
        if own is not None and own.stance == "support":
            _support_as(amendment, amendment.organisation, user, "proposer", now)
    db.session.execute(
        update(Suggestion).where(Suggestion.amendment_id == amendment.id, Suggestion.status == "open")
        .values(status="outdated", decided_at=now).execution_options(synchronize_session=False))


def propose(
    statement: Statement,
    user: User,
    organisation: Organisation,
    *,
    kind: str,
    paragraph_id: int | None = None,
    text: str | None = None,
    rationale: str = "",
    supersedes: list[int] | tuple[int, ...] = (),
    now: datetime,
) -> Amendment:
    """Propose an amendment for ``organisation``.

    modify/delete name ``paragraph_id``; insert names the paragraph it follows
    (None: at the top); retitle proposes a new title. ``supersedes`` makes it a
    compromise replacing those open amendments when it is accepted.
    """
    statement = lock_statement(_id(statement))
    _require_open_for_proposals(statement, now)
    organisation = _speaking_for(statement, user, organisation)
    if kind not in KINDS:
        raise InvalidInput(_("An amendment modifies, inserts or deletes a paragraph, or retitles."),
                           field="kind")
    amendment = Amendment(
        statement=statement, kind=kind, organisation=organisation, proposer=user,
        rationale=_clean_rationale(rationale), created_at=now, updated_at=now, text_version=1, round=1,
        # A new amendment has none of these: set, so that reading them later asks the database nothing.
        sponsors=[], positions=[], comments=[], targets=[],
    )
    # What the maxima need is read with the paragraph, if there is one (a proposal stays within 10 statements).
    room = _Room(statement, organisation, kind, paragraph_id if kind != "retitle" else None)
    if kind in ("modify", "delete"):
        paragraph, amendment.base_number = _numbered_paragraph(statement, paragraph_id, room)
        amendment.paragraph_id = paragraph.id
        amendment.base_revision_id = paragraph.current_revision_id
        amendment.base_text = paragraph.text
        if kind == "modify":
            amendment.proposed_text = normalise_paragraph(text)
            if amendment.proposed_text == paragraph.text:
                raise InvalidInput(_("The proposed text is the same as the current text."), field="text")
    elif kind == "insert":
        if paragraph_id is not None:
            after, amendment.base_number = _numbered_paragraph(statement, paragraph_id, room)
            amendment.paragraph_id = after.id
        else:
            amendment.base_number = 0
        amendment.proposed_text = normalise_paragraph(text)
    else:  # retitle
        amendment.base_text = statement.title
        amendment.proposed_text = normalise_title(text)
        if amendment.proposed_text == statement.title:
            raise InvalidInput(_("The proposed title is the same as the current title."), field="text")
    room.check(amendment, new=True)
    if supersedes:
        amendment.targets = _compromise_targets(statement, amendment, supersedes)
    amendment.diff = _diff_of(amendment.kind, amendment.base_text, amendment.proposed_text)
    db.session.add(amendment)
    _record(amendment, "proposed", user, now)
    _support_as(amendment, organisation, user, "proposer", now)
    db.session.flush()
    audit.record(statement.id, "proposed", user, now=now, organisation=organisation,
                 amendment=amendment.id, kind=kind, paragraph=amendment.paragraph_id,
                 text=amendment.proposed_text)
    events.notify_participants(
        statement, ("delegate",), "amendment_new", exclude=user, now=now, path=events.amendment_path(amendment),
        subject=words.proposed_subject(kind, amendment.base_number, amendment.id, statement.title),
        body=words.proposed_body(kind, amendment.base_number, organisation.name))
    return amendment


class _Room:
    """The maxima (app/limits.py) a proposal at one place must keep, read in one query, under the
    statement's lock (the audit chain's head comes along: ``audit.head_columns``), on its own or added to
    a query the rule makes anyway.

    An organisation has at most MAX_OPEN_AMENDMENTS_PER_PLACE open amendments at one place (a
    paragraph, the title, or the top: checked for a ``new`` one), and a proposal that, accepted
    now, would make the statement longer or give it more paragraphs than the maxima allow is
    refused now rather than at the accept.
    """

    def __init__(self, statement: Statement, organisation: Organisation, kind: str, paragraph_id: int | None):
        self.statement, self.organisation, self.kind = statement, organisation, kind
        if kind == "retitle":
            here = Amendment.kind == "retitle"
        elif paragraph_id is None:
            here = (Amendment.kind == "insert") & Amendment.paragraph_id.is_(None)
        else:
            here = (Amendment.paragraph_id == paragraph_id) & (Amendment.kind != "retitle")
        open_here = (select(func.count()).select_from(Amendment)
                     .where(Amendment.statement_id == statement.id, Amendment.organisation_id == organisation.id,
                            Amendment.status.in_(OPEN_STATUSES), here).scalar_subquery())
        if kind in ("modify", "insert"):
            live = aliased(Paragraph)
            self.columns = (open_here, *(
                select(aggregate).select_from(live).join(Revision, Revision.id == live.current_revision_id)
                .where(live.statement_id == statement.id, live.deleted_at.is_(None)).scalar_subquery()
                for aggregate in (func.count(), func.coalesce(func.sum(func.length(Revision.text)), 0))))
        else:
            self.columns = (open_here, literal(0), literal(0))
        self.values: tuple | None = None

    def reading(self, query):
        """``query`` reading these values too (after its own columns)."""
        return query.add_columns(*self.columns, *audit.head_columns(self.statement.id))

    def read(self, values) -> None:
        count, paragraphs, characters, seq, last_hash = values
        audit.continue_from(self.statement.id, seq, last_hash)
        self.values = (count, paragraphs, characters)

    def check(self, amendment: Amendment, *, new: bool) -> None:
        if self.values is None:
            self.read(db.session.execute(self.reading(select())).one())
        count, paragraphs, characters = self.values
        if new and count >= MAX_OPEN_AMENDMENTS_PER_PLACE:
            where = _("the title") if amendment.kind == "retitle" else (
                _("the top of the text") if amendment.paragraph_id is None else f"¶ {amendment.base_number}")
            raise InvalidInput(_(
                "%(organisation)s already has %(count)s open amendments at %(place)s, the most one "
                "organisation can have at one place. Withdraw one of them, or wait until they are decided.",
                organisation=self.organisation.name, count=count, place=where))
        if amendment.kind == "insert":
            check_paragraph_count(paragraphs + 1)  # as it is proposed or edited: room for one more
            growth = len(amendment.proposed_text)
        elif amendment.kind == "modify":
            growth = len(amendment.proposed_text) - len(amendment.base_text or "")
        else:
            return
        if growth > 0:
            check_statement_size(characters + growth)


def _check_room(statement: Statement, organisation: Organisation, amendment: Amendment, *, new: bool) -> None:
    """Refuse a proposal past the maxima (``_Room``), in one query (which also reads the audit head)."""
    _Room(statement, organisation, amendment.kind, None if amendment.kind == "retitle" else amendment.paragraph_id
          ).check(amendment, new=new)


def _compromise_targets(statement: Statement, compromise: Amendment, ids) -> list[Amendment]:
    targets = []
    for amendment_id in dict.fromkeys(ids):
        target = db.session.get(Amendment, amendment_id) if isinstance(amendment_id, int) else None
        if target is None or target.statement_id != statement.id:
            raise NotFound(_("Amendment %(id)s is not part of this statement.", id=amendment_id), field="supersedes")
        if not target.is_open:
            raise Conflict(_("Amendment #%(id)s is no longer open.", id=target.id), field="supersedes")
        same_place = (target.kind == "retitle") == (compromise.kind == "retitle") and (
            compromise.kind == "retitle" or target.paragraph_id == compromise.paragraph_id
        )
        if not same_place or target.kind == "insert" or compromise.kind == "insert":
            raise InvalidInput(
                _("A compromise replaces amendments of the same paragraph; #%(id)s is about another.", id=target.id),
                field="supersedes",
            )
        targets.append(target)
    return targets


# --- the proposer's own changes ------------------------------------------------


def can_edit(amendment: Amendment, user: User | None) -> bool:
    """The proposer edits while nobody has taken a position, or revises it after a conflict."""
    return amendment_rights(amendment, amendment.statement, user).can_edit


def edit_amendment(
    amendment: Amendment, user: User, *, text: str | None, rationale: str, now: datetime
) -> Amendment:
    """Change the proposal. A conflicted amendment is revised against the current text."""
    statement = lock_statement(amendment.statement_id)
    amendment = _fresh_amendment(amendment.id)
    if statement.status != "amending":
        raise WrongPhase(_("Amendments can be changed only while the statement is open for amendments."))
    if user.id != amendment.proposer_id:
        raise NotAllowed(_("Only the proposer can change an amendment."))
    if not can_edit(amendment, user):
        if amendment.is_open and others_have_spoken(amendment):
            raise Conflict(_("Organisations have taken positions on this amendment, so it can no longer "
                             "be edited. Withdraw it and propose a new one instead."))
        raise Conflict(_("This amendment can no longer be edited."))
    revising = amendment.status == "conflicted"
    if revising and amendment.kind in ("modify", "delete"):
        paragraph = amendment.paragraph
        if paragraph is None or paragraph.deleted_at is not None:
            raise Conflict(_("The paragraph has been deleted; this amendment cannot be revised."))
        amendment.base_revision_id = paragraph.current_revision_id
        amendment.base_text = paragraph.text
    elif revising and amendment.kind == "retitle":
        amendment.base_text = statement.title
    if amendment.kind == "modify":
        amendment.proposed_text = normalise_paragraph(text)
        if amendment.proposed_text == amendment.base_text:
            raise InvalidInput(_("The proposed text is the same as the current text."), field="text")
    elif amendment.kind == "insert":
        amendment.proposed_text = normalise_paragraph(text)
    elif amendment.kind == "retitle":
        amendment.proposed_text = normalise_title(text)
        if amendment.proposed_text == amendment.base_text:
            raise InvalidInput(_("The proposed title is the same as the current title."), field="text")
    amendment.rationale = _clean_rationale(rationale)
    if amendment.kind in ("modify", "insert"):
        _check_room(statement, amendment.organisation, amendment, new=False)
    amendment.diff = _diff_of(amendment.kind, amendment.base_text, amendment.proposed_text)
    amendment.current_diff = None  # written against the paragraph's text now
    amendment.text_version += 1
    if revising:
        amendment.status = "open"
    # Revised: positions on the conflicted text no longer count (a new round, with the proposer's support).
    _changed_by_proposer(amendment, user, now, new_round=revising)
    amendment.updated_at = now
    _record(amendment, "revised" if revising else "edited", user, now)
    db.session.flush()
    audit.record(statement.id, "amendment_edited", user, now=now, amendment=amendment.id,
                 text=amendment.proposed_text, revised=revising)
    return amendment


def withdraw_amendment(amendment: Amendment, user: User, *, now: datetime) -> Amendment:
    lock_statement(amendment.statement_id)
    amendment = _fresh_amendment(amendment.id)
    if user.id != amendment.proposer_id:
        raise NotAllowed(_("Only the proposer can withdraw an amendment."))
    if not amendment.is_open:
        raise Conflict(_("Only an open amendment can be withdrawn."))
    _close(amendment, "withdrawn", user, now)
    audit.record(amendment.statement_id, "amendment_withdrawn", user, now=now, amendment=amendment.id)
    db.session.flush()
    return amendment


def _closing(status: str, user: User | None, now: datetime, reason: str = "") -> dict:
    """The values that close an amendment with ``status``."""
    return {"status": status, "decided_at": now, "decided_by_id": user.id if user else None,
            "decision_reason": reason, "updated_at": now}


def _close(amendment: Amendment, status: str, user: User | None, now: datetime, reason: str = "") -> None:
    for key, value in _closing(status, user, now, reason).items():
        setattr(amendment, key, value)


# --- co-sponsors, positions, comments ----------------------------------------------


def cosponsor(amendment: Amendment, user: User, organisation: Organisation, *, now: datetime) -> Sponsor:
    statement = lock_statement(amendment.statement_id)
    amendment = _fresh_amendment(amendment.id, "sponsors")
    organisation = _speaking_for(statement, user, organisation)
    if not amendment.is_open:
        raise Conflict(_("Only an open amendment can be co-sponsored."))
    if organisation.id in {o.id for o in amendment.organisations}:
        raise Conflict(_("%(organisation)s already sponsors this amendment.", organisation=organisation.name))
    sponsor = Sponsor(organisation=organisation, user=user, created_at=now)
    amendment.sponsors.append(sponsor)
    _support_as(amendment, organisation, user, "cosponsor", now)
    audit.record(statement.id, "cosponsored", user, now=now, organisation=organisation,
                 amendment=amendment.id)
    db.session.flush()
    return sponsor


def take_position(
    amendment: Amendment, user: User, organisation: Organisation, stance: str, reason: str = "",
    *, now: datetime,
) -> Position:
    """Record ``organisation``'s stance; the latest one counts."""
    statement = lock_statement(amendment.statement_id)
    amendment = _fresh_amendment(amendment.id)
    if statement.status != "amending":
        raise WrongPhase(_("Positions can be taken only while the statement is open for amendments."))
    organisation = _speaking_for(statement, user, organisation)
    if stance not in STANCES:
        raise InvalidInput(_("A position is support, oppose or abstain."), field="stance")
    if amendment.status == "conflicted":
        raise Conflict(_("This amendment conflicts with the current text; wait until its proposer revises it."))
    if not amendment.is_open:
        raise Conflict(_("This amendment is no longer open."))
    position = Position(amendment_id=amendment.id, organisation=organisation, user=user,
                        stance=stance, reason=_clean_rationale(reason), round=amendment.round,
                        text_version=amendment.text_version, created_at=now)
    db.session.add(position)  # not through amendment.positions, which would load every earlier one
    audit.record(statement.id, "position", user, now=now, organisation=organisation,
                 amendment=amendment.id, stance=stance, reason=position.reason)
    events.notify([amendment.proposer], "amendment_activity", statement=statement, exclude=user, now=now,
                  path=events.amendment_path(amendment),
                  subject=words.position_subject(stance, organisation.name, amendment.id),
                  body=position.reason or words.position_body(stance, organisation.name))
    db.session.flush()
    return position


def can_comment(statement: Statement, user: User | None) -> bool:
    return statement.rights(user).can_comment


def add_comment(
    amendment: Amendment, user: User, body: str, *, parent_id: int | None = None, now: datetime
) -> Comment:
    statement = lock_statement(amendment.statement_id)  # before the checks: a publication may be racing
    if not can_comment(statement, user):
        raise NotAllowed(_("Only members of participating organisations can comment."))
    if statement.status in ("published", "withdrawn"):
        raise WrongPhase(_("The discussion is closed."))
    text = (body or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(_("A comment cannot be empty."), field="body")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(_("A comment can have at most %(max)s characters.", max=_COMMENT_SHOWN), field="body")
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise InvalidInput(_("The comment contains a control character."), field="body")
    if parent_id is not None:
        parent = db.session.get(Comment, parent_id) if isinstance(parent_id, int) else None
        if parent is None or parent.amendment_id != amendment.id:
            raise NotFound(_("That comment is not part of this amendment."), field="parent_id")
        parent_id = parent.parent_id or parent.id  # replies stay one level deep
    comment = Comment(amendment_id=amendment.id, parent_id=parent_id, author_id=user.id, body=text,
                      created_at=now)
    db.session.add(comment)
    db.session.flush()
    audit.record(statement.id, "commented", user, now=now, amendment=amendment.id, comment=comment.id)
    events.notify([amendment.proposer], "amendment_activity", statement=statement, exclude=user, now=now,
                  path=f"{events.amendment_path(amendment)}#c-{comment.id}",
                  subject=_("%(name)s commented on your amendment #%(id)s", name=user.name,
                                         id=amendment.id), body=text[:1000])
    return comment


# --- tally and decision --------------------------------------------------------------


@dataclass
class Tally:
    support: list[tuple[Organisation, Position]]
    oppose: list[tuple[Organisation, Position]]
    abstain: list[tuple[Organisation, Position]]
    silent: list[Organisation]
    decision: Decision
    # Of the silent: the position each gave in an earlier round (on an earlier text), no longer counted.
    earlier: dict[int, Position] = field(default_factory=dict)


def tally(amendment: Amendment, statement: Statement) -> Tally:
    """Each participant's latest position in the current round, grouped, and whether the rule is met.

    Positions of this round count even when given before a clean rebase moved the text on
    (``amendment.on_earlier_text(position)`` says so); the support recorded by proposing or
    co-sponsoring counts like any other (``position.given_as``)."""
    latest = amendment.current_positions()
    earlier = amendment.earlier_positions()
    groups: dict[str, list] = {s: [] for s in STANCES}
    silent = []
    for org in statement.participant_organisations:
        position = latest.get(org.id)
        if position is None:
            silent.append(org)
        else:
            groups[position.stance].append((org, position))
    decision = rule_met(statement.decision_rule or "consensus",
                        [o.id for o in statement.participant_organisations],
                        {org_id: p.stance for org_id, p in latest.items()})
    return Tally(groups["support"], groups["oppose"], groups["abstain"], silent, decision,
                 {o.id: earlier[o.id] for o in silent if o.id in earlier})


def _require_decider(statement: Statement, amendment: Amendment, user: User) -> None:
    if not statement.is_coordinator(user):
        raise NotAllowed(_("Only the coordinator decides on amendments."))
    if statement.status != "amending":
        raise WrongPhase(_("Amendments are decided only while the statement is open for amendments."))
    if not amendment.is_open:
        raise Conflict(words.amendment_already(amendment.status))


def reject(amendment: Amendment, user: User, *, reason: str, now: datetime) -> Amendment:
    statement = lock_statement(amendment.statement_id)
    amendment = _fresh_amendment(amendment.id)
    _require_decider(statement, amendment, user)
    reason = _clean_rationale(reason)
    if not reason:
        raise InvalidInput(_("Give a reason for rejecting, so the proposers know why."), field="reason")
    _close(amendment, "rejected", user, now, reason)
    audit.record(statement.id, "rejected", user, now=now, amendment=amendment.id, reason=reason)
    events.notify([amendment.proposer], "amendment_decided", statement=statement, exclude=user, now=now,
                  path=events.amendment_path(amendment),
                  subject=_("Your amendment #%(id)s was rejected", id=amendment.id), body=reason)
    db.session.flush()
    return amendment


def _check_acceptable(statement: Statement, amendment: Amendment, text_version: int | None) -> None:
    """Why ``amendment`` cannot be accepted now, as a Conflict (after ``_require_decider``)."""
    if amendment.status == "conflicted":
        raise Conflict(_("This amendment conflicts with the current text; its proposer must revise it first."))
    if text_version is not None and text_version != amendment.text_version:
        raise Conflict(_("This amendment changed since you opened it (it was edited or rebased). "
                         "Review its current text before accepting."))
    decision = tally(amendment, statement).decision
    if not decision.met:
        raise Conflict(_("The decision rule is not met: %(explanation)s", explanation=decision.explanation))


def _apply(
    statement: Statement, amendment: Amendment, number: int, user: User, now: datetime, *,
    after_id: int | None = None, budget: float = 1.0,
) -> tuple[str, list[tuple[Amendment, str]]]:
    """Apply one amendment to the working text (no version yet): its change, its closing as accepted and
    the rebase of its siblings. Returns the version note's line for it and the siblings it touched.
    ``after_id``: where an insert goes instead of right after its paragraph (a batch keeps the order
    shown); ``budget``: this accept's share of the merges' and stored diffs' time budget."""
    org = amendment.organisation.short_name or amendment.organisation.name
    new_revision: Revision | None = None
    if amendment.kind == "modify":
        paragraph = _live_paragraph(statement, amendment.paragraph_id)
        if paragraph.current_revision_id != amendment.base_revision_id:
            raise Conflict(_("The paragraph changed and this amendment was not rebased; reload and try again."))
        new_revision = Revision(paragraph_id=paragraph.id, parent_id=paragraph.current_revision_id,
                                text=amendment.proposed_text, diff=amendment.diff, author_id=amendment.proposer_id,
                                amendment_id=amendment.id, created_at=now)
        db.session.add(new_revision)
        db.session.flush()
        paragraph.current_revision = new_revision
        note = f"Amendment #{amendment.id} ({org}): modified ¶ {number}"
    elif amendment.kind == "insert":
        paragraph, number = place_paragraph(
            statement, amendment.proposed_text, amendment.proposer,
            after_id=amendment.paragraph_id if after_id is None else after_id,
            now=now, amendment_id=amendment.id,
        )
        amendment.result_paragraph_id = paragraph.id
        note = f"Amendment #{amendment.id} ({org}): inserted ¶ {number}"
    elif amendment.kind == "delete":
        paragraph = _live_paragraph(statement, amendment.paragraph_id)
        paragraph.deleted_at = now
        note = f"Amendment #{amendment.id} ({org}): deleted ¶ {number}"
    else:
        statement.title = amendment.proposed_text
        note = f"Amendment #{amendment.id} ({org}): new title"
    db.session.flush()
    _close(amendment, "accepted", user, now)
    touched = _rebase_siblings(statement, amendment, new_revision, user, now, budget=budget)
    return note, touched


def _write_version(
    statement: Statement, applied: list[tuple[Amendment, list[tuple[Amendment, str]]]], note: str, user: User,
    now: datetime,
) -> Version:
    """One new version for amendments applied to the working text (``_apply``), in that order: each one's
    result, its audit entry and the notifications of its proposer and of the siblings it touched."""
    version = snapshot(statement, user, note, now=now, amendment_id=applied[0][0].id)
    for amendment, touched in applied:
        amendment.result_version_id = version.id
        audit.record(statement.id, "accepted", user, now=now, amendment=amendment.id, version=version.number,
                     sha256=version.sha256, rebased={str(sibling.id): status for sibling, status in touched})
        _tell_accepted(statement, amendment, version.number, touched, user, now)
    db.session.flush()
    return version


def accept(amendment: Amendment, user: User, *, text_version: int | None, now: datetime):
    """Apply an amendment: new revision, new version, rebase of its siblings. One transaction."""
    statement = lock_statement(amendment.statement_id)
    amendment, number = _amendment_to_decide(amendment.id)
    _require_decider(statement, amendment, user)
    _check_acceptable(statement, amendment, text_version)
    note, touched = _apply(statement, amendment, number, user, now)
    return _write_version(statement, [(amendment, touched)], note, user, now)


def _batch_order(statement: Statement, amendments: list[Amendment]) -> list[Amendment]:
    """The order the merged view shows them in: the title, the top, then by paragraph (its changes, then
    the paragraphs to insert after it), each place's by number."""
    numbers = paragraph_numbers(statement)

    def key(amendment: Amendment):
        if amendment.kind == "retitle":
            return (-2, 0, amendment.id)
        if amendment.paragraph_id is None:
            return (-1, 0, amendment.id)
        return (numbers.get(amendment.paragraph_id, 0), amendment.kind == "insert", amendment.id)

    return sorted(amendments, key=key)


def _batch_ids(amendment_ids) -> list[int]:
    ids = list(amendment_ids) if isinstance(amendment_ids, list | tuple) else None
    if not ids or any(not isinstance(i, int) or isinstance(i, bool) or not 0 < i < 2**31 for i in ids):
        raise InvalidInput(_("Choose at least one amendment to accept."), field="amendments")
    if len(ids) != len(set(ids)):
        raise InvalidInput(_("An amendment is chosen twice."), field="amendments")
    if len(ids) > MAX_ACCEPT_MANY:
        raise InvalidInput(_("Accept at most %(max)s amendments at once.", max=MAX_ACCEPT_MANY), field="amendments")
    return ids


class _Listed:
    """The problems of a refused batch, "#1: why; #2: why", each in the language it is shown in."""

    def __init__(self, problems: dict[int, str | Message]):
        self.problems = dict(problems)

    def __str__(self) -> str:
        return "; ".join(f"#{i}: {why}" for i, why in self.problems.items())


def _refused(problems: dict[int, str | Message]) -> BatchRefused:
    return BatchRefused(_("Nothing was accepted. %(problems)s", problems=_Listed(problems)), problems)


def _turned(status: str, by: int) -> Message | str:
    """Why a batch member cannot be accepted once ``by``, earlier in the batch, is applied."""
    if status == "conflicted":
        return _("conflicts with the text once #%(id)s is applied (their changes touch); leave one of them out",
                 id=by)
    if status == "obsolete":
        return _("is obsolete once #%(id)s is applied (its change is already in the text, or its paragraph is "
                 "deleted); leave it out", id=by)
    if status == "superseded":
        return _("is superseded by the compromise #%(id)s; leave it out", id=by)
    return status


def accept_many(
    statement: Statement | int, amendment_ids, user: User, *, text_versions: dict[int, int] | None = None,
    now: datetime,
) -> Version:
    """Accept several amendments in one action: applied one after another in the order the merged view
    shows them (``_batch_order``), each as ``accept`` applies one (its siblings rebased, batch members
    among them), then one new version. All or nothing: if any is not open, conflicts, does not meet its
    rule, changed since the page showed it (``text_versions``: id -> the text_version shown), or would
    be left conflicted or obsolete by an earlier one of the batch, nothing is applied and the
    ``BatchRefused`` error says, per amendment, why (the caller rolls back, as for every error)."""
    ids = _batch_ids(amendment_ids)
    statement = lock_statement(_id(statement))
    if not statement.is_coordinator(user):
        raise NotAllowed(_("Only the coordinator decides on amendments."))
    if statement.status != "amending":
        raise WrongPhase(_("Amendments are decided only while the statement is open for amendments."))
    found = {a.id: a for a in db.session.scalars(
        select(Amendment).where(Amendment.id.in_(ids), Amendment.statement_id == statement.id)
        .options(lazyload(Amendment.sponsors)).execution_options(populate_existing=True))}
    problems: dict[int, str | Message] = {i: _("not an amendment of this statement") for i in ids if i not in found}
    if problems:
        raise _refused(problems)
    batch = _batch_order(statement, list(found.values()))
    text_versions = text_versions or {}
    for amendment in batch:
        try:
            _require_decider(statement, amendment, user)
            _check_acceptable(statement, amendment, text_versions.get(amendment.id))
        except ConcordError as exc:
            problems[amendment.id] = exc.raw_message
    if problems:
        raise _refused(problems)
    share = 1 / len(batch)  # of one accept's time budgets: the whole batch stays within one accept's
    applied: list[tuple[Amendment, list[tuple[Amendment, str]]]] = []
    notes: list[str] = []
    placed: dict[int | None, int] = {}  # where the batch's last new paragraph after each place went
    for amendment in batch:
        if amendment.id in problems:
            continue
        amendment, number = _amendment_to_decide(amendment.id)
        try:
            note, touched = _apply(statement, amendment, number, user, now, budget=share,
                                   after_id=placed.get(amendment.paragraph_id) if amendment.kind == "insert" else None)
        except Conflict as exc:
            problems[amendment.id] = exc.raw_message
            raise _refused(problems) from exc
        if amendment.kind == "insert":
            placed[amendment.paragraph_id] = amendment.result_paragraph_id  # the next one goes below it
        for sibling, status in touched:
            if sibling.id in found and status != "rebased":  # named after the first that turned it
                problems.setdefault(sibling.id, _turned(status, amendment.id))
        applied.append((amendment, touched))
        notes.append(note)
    if problems:
        raise _refused(problems)
    note = notes[0] if len(notes) == 1 else f"{len(notes)} amendments accepted together: " + ", ".join(
        f"#{amendment.id}" for amendment, _touched in applied)
    return _write_version(statement, applied, note, user, now)


def _tell_accepted(
    statement: Statement, accepted: Amendment, version_number: int, touched: list[tuple[Amendment, str]],
    user: User, now: datetime,
) -> None:
    """Tell the proposer of the accepted amendment, and of every sibling it rebased, in one batch."""
    told = [([accepted.proposer], _("Your amendment #%(id)s was accepted", id=accepted.id),
             _("It is part of the text as version %(number)s.", number=version_number),
             events.amendment_path(accepted))]
    on_same = _("Amendment #%(id)s was accepted on the same paragraph.", id=accepted.id)
    told += [
        ([sibling.proposer], words.outcome_subject(status, sibling.id), on_same,
         events.amendment_path(sibling))
        for sibling, status in touched
    ]
    events.notify_each(told, "amendment_decided", statement=statement, exclude=user, now=now)


# Siblings are read to be rewritten: their proposer is told, nothing else of them is needed.
_SIBLING_LOAD = (
    lazyload(Amendment.sponsors), lazyload(Amendment.positions), lazyload(Amendment.paragraph),
    lazyload(Amendment.organisation),
)


def _rebase_siblings(
    statement: Statement, accepted: Amendment, new_revision: Revision | None, user: User, now: datetime, *,
    budget: float = 1.0,
) -> list[tuple[Amendment, str]]:
    """Carry every other open amendment of the same place over to the new text (promise 5).

    A compromise's open targets (always open amendments of its place) are
    superseded instead. Returns every amendment it rebased with its new
    status. Whatever their number, the siblings are read in one query, written
    with one UPDATE per set of changed columns, and their history rows with one
    INSERT ... SELECT. ``budget``: the share of the time budgets this accept may use (a batch
    of accepts shares one).
    """
    if accepted.kind == "insert":
        return []  # a new paragraph changes no other amendment's text or place (and replaces none)
    place = (Amendment.kind == "retitle") if accepted.kind == "retitle" else (
        Amendment.paragraph_id == accepted.paragraph_id)
    replaced = exists().where(compromise_targets.c.compromise_id == accepted.id,
                              compromise_targets.c.amendment_id == Amendment.id)
    rows = db.session.execute(
        select(Amendment, replaced).where(
            Amendment.statement_id == statement.id,
            Amendment.id != accepted.id,
            Amendment.status.in_(OPEN_STATUSES),
            place,
        ).order_by(Amendment.id).options(*_SIBLING_LOAD)
    ).all()
    siblings = []
    for sibling, superseded in rows:
        if superseded:
            _close(sibling, "superseded", user, now, f"Superseded by compromise #{accepted.id}.")
            sibling.superseded_by_id = accepted.id
        else:
            siblings.append(sibling)
    if not siblings:
        return []
    # Siblings whose texts are merged share the accept's time budget: however many others proposed,
    # the accept stays within its bound (promise 10).
    merging = sum(1 for sibling in siblings if sibling.status != "conflicted" and sibling.kind == accepted.kind
                  and sibling.kind in ("modify", "retitle") and sibling.paragraph_id == accepted.paragraph_id)
    merge = SiblingMerges(statement.title if accepted.kind == "retitle" else
                          new_revision.text if new_revision else "", merging, budget=ACCEPT_BUDGET * budget)
    new_revision_id = new_revision.id if new_revision else None
    previous_live: list[int | None] = []  # computed once, if an insert after the deleted paragraph needs it
    changes: list[tuple[Amendment, dict, bool]] = []  # sibling, its new values, whether its history records them
    for sibling in siblings:
        same_paragraph = sibling.paragraph_id == accepted.paragraph_id
        if accepted.kind == "retitle" and sibling.kind == "retitle":
            values, recorded = _rebased_text(sibling, merge, new_revision_id, now)
        elif accepted.kind == "modify" and same_paragraph and sibling.kind == "modify":
            values, recorded = _rebased_text(sibling, merge, new_revision_id, now)
        elif accepted.kind == "modify" and same_paragraph and sibling.kind == "delete":
            values = {"base_text": new_revision.text, "base_revision_id": new_revision.id, "status": "rebased",
                      "text_version": sibling.text_version + 1}
            recorded = True
        elif accepted.kind == "delete" and same_paragraph and sibling.kind == "insert":
            # Keep the proposed paragraph where it was meant to go: after the one before.
            if not previous_live:
                previous_live.append(_previous_live_id(statement, accepted.paragraph_id))
            values = {"paragraph_id": previous_live[0], "status": "rebased",
                      "text_version": sibling.text_version + 1}
            recorded = True
        elif accepted.kind == "delete" and same_paragraph:
            values = _closing("obsolete", None, now, f"The paragraph was deleted by amendment #{accepted.id}.")
            recorded = False
        else:
            continue
        changes.append((sibling, values, recorded))
    new_text = statement.title if accepted.kind == "retitle" else new_revision.text if new_revision else ""
    # However many siblings others proposed, their new diffs share one budget (past it, coarser ones).
    deadline = time.monotonic() + SIBLING_DIFFS_SECONDS * budget
    for sibling, values, _recorded in changes:
        _store_diffs(sibling, values, new_text, deadline)
    _write_siblings(changes, now)
    return [(sibling, sibling.status) for sibling, _values, _recorded in changes]


def _rebased_text(
    sibling: Amendment, merge: SiblingMerges, new_revision_id: int | None, now: datetime
) -> tuple[dict, bool]:
    """The new values of a sibling whose text is carried over, and whether its history records them."""
    if sibling.status == "conflicted":
        return {}, False  # its proposer revises it against the current text
    result = merge(sibling.base_text, sibling.proposed_text)
    values: dict = {"text_version": sibling.text_version + 1, "updated_at": now}
    if result.outcome == CONFLICTED:
        # Its texts stay as they were; written anyway, so that one UPDATE serves rebased and conflicted.
        values.update(status="conflicted", base_text=sibling.base_text, base_revision_id=sibling.base_revision_id,
                      proposed_text=sibling.proposed_text)
        return values, True
    values.update(base_text=merge.new_text, base_revision_id=new_revision_id, proposed_text=result.text)
    if result.outcome == OBSOLETE:
        values.update(_closing("obsolete", None, now, "The accepted text already contains this change."))
    else:
        values["status"] = "rebased"
    return values, True


def _store_diffs(sibling: Amendment, values: dict, new_text: str, deadline: float) -> None:
    """Add a sibling's stored diffs to its new values: its own, if its texts change, and, while it
    conflicts, the one against the paragraph's (or title's) new text."""
    base_text = values.get("base_text", sibling.base_text)
    proposed_text = values.get("proposed_text", sibling.proposed_text)
    if base_text != sibling.base_text or proposed_text != sibling.proposed_text:
        values["diff"] = _diff_of(sibling.kind, base_text, proposed_text, deadline=deadline)
    if values.get("status", sibling.status) == "conflicted":
        values["current_diff"] = _diff_of(sibling.kind, new_text, proposed_text, deadline=deadline)
    elif sibling.current_diff is not None:
        values["current_diff"] = None


def _write_siblings(changes: list[tuple[Amendment, dict, bool]], now: datetime) -> None:
    """Write the siblings' new values and history rows in bulk, and give the loaded objects the same values."""
    rows, recorded = [], []
    for sibling, values, record in changes:
        if not values:
            continue
        rows.append({"id": sibling.id, **values})
        for key, value in values.items():  # as loaded: nothing left for the unit of work to write
            set_committed_value(sibling, key, value)
        stale = ["paragraph"] if "paragraph_id" in values else []
        if record:
            recorded.append(sibling.id)
            stale.append("history")
        if stale:
            db.session.expire(sibling, stale)
    if rows:  # ORM bulk UPDATE by primary key: one executemany per run of rows changing the same columns
        rows.sort(key=lambda row: (sorted(row), row["id"]))
        db.session.execute(update(Amendment).execution_options(synchronize_session=False), rows)
    if recorded:  # copied by the database from the rows just updated: no texts sent twice
        history = AmendmentRevision.__table__
        db.session.execute(history.insert().from_select(
            ["amendment_id", "reason", "base_revision_id", "base_text", "proposed_text", "diff", "rationale",
             "text_version", "created_at"],
            select(Amendment.id, _HISTORY_REASON, Amendment.base_revision_id, Amendment.base_text,
                   Amendment.proposed_text, Amendment.diff, Amendment.rationale, Amendment.text_version,
                   literal(now, history.c.created_at.type))
            .where(Amendment.id.in_(recorded)).order_by(Amendment.id),
        ))


# Why a sibling's history has a new row: it now conflicts, or its texts or place were carried over.
_HISTORY_REASON = case((Amendment.status == "conflicted", "conflicted"), else_="rebased")


def _previous_live_id(statement: Statement, deleted_id: int) -> int | None:
    deleted = db.session.get(Paragraph, deleted_id)
    before = [p for p in live_paragraphs(statement) if p.position < deleted.position]
    return before[-1].id if before else None


# --- reading -------------------------------------------------------------------------


def open_counts(statement: Statement) -> dict[int | str | None, int]:
    """Open amendments by where they apply, counted in one grouped query.

    Keys: a paragraph id (modify or delete of it, insert after it), None (insert at
    the top) and "title" (retitle).
    """
    is_title = Amendment.kind == "retitle"
    rows = db.session.execute(
        select(is_title, Amendment.paragraph_id, func.count())
        .where(Amendment.statement_id == statement.id, Amendment.status.in_(OPEN_STATUSES))
        .group_by(is_title, Amendment.paragraph_id)
    ).all()
    return {("title" if title else paragraph_id): count for title, paragraph_id, count in rows}


def open_amendments_at(statement: Statement, place: int | str | None) -> list[Amendment]:
    """Open amendments of one place (a paragraph id, or "title"), e.g. the candidates for a compromise."""
    if place == "title":
        where = Amendment.kind == "retitle"
    else:
        where = (Amendment.paragraph_id == place) & (Amendment.kind != "retitle")
    return list(db.session.scalars(
        select(Amendment).where(Amendment.statement_id == statement.id, Amendment.status.in_(OPEN_STATUSES), where)
        .options(selectinload(Amendment.organisation)).order_by(Amendment.id)
    ))


def list_amendments(
    statement: Statement, *, paragraph_id: int | None = None, organisation_id: int | None = None,
    status: str | None = None,
) -> list[Amendment]:
    return list(db.session.scalars(amendments_query(statement, paragraph_id=paragraph_id,
                                                    organisation_id=organisation_id, status=status)))


def amendments_query(
    statement: Statement, *, paragraph_id: int | None = None, organisation_id: int | None = None,
    status: str | None = None,
):
    """The statement's amendments, filtered, oldest first: a select, for the caller to page through."""
    query = select(Amendment).where(Amendment.statement_id == statement.id)
    if paragraph_id is not None:
        query = query.where(Amendment.paragraph_id == paragraph_id)
    if organisation_id is not None:
        query = query.where(
            (Amendment.organisation_id == organisation_id)
            | Amendment.id.in_(select(Sponsor.amendment_id).where(Sponsor.organisation_id == organisation_id))
        )
    if status == "open":
        query = query.where(Amendment.status.in_(OPEN_STATUSES))
    elif status:
        query = query.where(Amendment.status == status)
    return query.order_by(Amendment.id)
