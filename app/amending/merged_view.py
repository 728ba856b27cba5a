"""The text with all its amendments: every live paragraph with its open amendments, as stored.

``merged_view(statement)`` reads, in a constant number of queries whatever the statement's size
(the live paragraphs' texts, the open amendments' stored diffs, the latest stance of each
organisation on each of them in its current round), what the merged view shows:

* per place, in the order of the text (the title, "at the top", then each live paragraph with its
  number), the open amendments there, oldest first, each with its stored word diff (never diffed
  here: ``diff`` against its base, which is the paragraph's text now, or, while it conflicts,
  ``current_diff`` against the paragraph's text now) and whether its decision rule is met;
  inserts are listed with the paragraph they follow;
* which of them **collide**: two open amendments of the same place collide when they cannot both
  be accepted one after the other (the lower number first, as a batch does) with both changes
  kept: their changes overlap or touch with no unchanged word between them (``app.diffing.merge``'s
  rule, tested on the stored diffs; only for such pairs is the merge itself run, and accepting the
  first would leave the second conflicted or obsolete), or one of them deletes the paragraph. Inserts
  never collide (a batch keeps them in the order shown). The merges share one time budget
  (``limits.PAGE_DIFF_SECONDS``); a pair left when it has run out counts as colliding (as a merge out
  of time is conflicted: never a guess that they do not).

Plain functions: nothing here writes, imports Flask or diffs a text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app import limits
from app.amending import rules
from app.amending.rules import Decision
from app.diffing import DELETE, EQUAL, INSERT, REBASED, Merger, load_ops
from app.drafting.operations import live_texts
from app.errors import InvalidInput
from app.extensions import db
from app.models import KINDS, OPEN_STATUSES, Amendment, Position, Statement

TITLE, TOP = "title", "top"
MERGE_SECONDS = 0.1  # at most, for one pair (the page's merges share limits.PAGE_DIFF_SECONDS)


@dataclass
class MergedAmendment:
    id: int
    kind: str
    status: str
    organisation_id: int
    organisation: str  # its short name, else its name
    ops: list[tuple[int, str]]  # the stored word diff against the place's text now ([] if unknown)
    text_version: int
    decision: Decision
    collides_with: list[int] = field(default_factory=list)

    @property
    def rule_met(self) -> bool:
        return self.decision.met

    @property
    def acceptable(self) -> bool:
        """Open (or rebased) and its rule met: the coordinator may accept it."""
        return self.status in ("open", "rebased") and self.decision.met


@dataclass
class MergedPlace:
    """The title, the top of the text (inserts only), or one live paragraph with its number."""

    place: str | int  # TITLE, TOP or the paragraph's id
    number: int | None
    text: str
    amendments: list[MergedAmendment]  # retitles, or modify/delete of the paragraph
    inserts: list[MergedAmendment]  # new paragraphs after it (TOP: at the top)


@dataclass
class MergedView:
    title: MergedPlace
    top: MergedPlace
    paragraphs: list[MergedPlace]
    rule: str
    open_count: int  # open amendments, whatever the filters
    shown_count: int  # of them, those the filters let through
    out_of_time: bool  # the merges ran out of their budget: some pairs count as colliding unchecked

    def places(self) -> list[MergedPlace]:
        return [self.title, self.top, *self.paragraphs]

    def amendments(self) -> list[MergedAmendment]:
        return [a for place in self.places() for a in (*place.amendments, *place.inserts)]


def _hunks(ops) -> list[tuple[int, int, str]]:
    """(start, end, inserted) of each run of changes, in characters of the text the ops start from."""
    hunks: list[tuple[int, int, str]] = []
    pos = 0
    start: int | None = None
    inserted: list[str] = []
    for op, text in ops:
        if op == EQUAL:
            if start is not None:
                hunks.append((start, pos, "".join(inserted)))
                start, inserted = None, []
            pos += len(text)
            continue
        if start is None:
            start = pos
        if op == DELETE:
            pos += len(text)
        else:
            inserted.append(text)
    if start is not None:
        hunks.append((start, pos, "".join(inserted)))
    return hunks


def _touch(text: str, first: list[tuple[int, int, str]], second: list[tuple[int, int, str]]) -> bool:
    """Whether a change of one touches one of the other: they overlap, or no unchanged word (a run with a
    letter or a digit) lies between them. Stored diffs are word diffs: their ends are token boundaries."""
    for a in first:
        for b in second:
            x, y = (a, b) if (a[0], a[1]) <= (b[0], b[1]) else (b, a)
            if y[0] <= x[1] or not any(map(str.isalnum, text[x[1]:y[0]])):
                return True
    return False


def _texts(ops) -> tuple[str, str]:
    """The text a diff starts from and the one it ends with."""
    return ("".join(t for op, t in ops if op != INSERT), "".join(t for op, t in ops if op != DELETE))


def latest_stances(statement_id: int) -> dict[int, dict[int, str]]:
    """The latest stance of each organisation on each open amendment of the statement, in the amendment's
    current round (what ``tally`` counts), by amendment id: one grouped query."""
    latest = (select(func.max(Position.id)).join(Amendment, Amendment.id == Position.amendment_id)
              .where(Amendment.statement_id == statement_id, Amendment.status.in_(OPEN_STATUSES),
                     Position.round == Amendment.round)
              .group_by(Position.amendment_id, Position.organisation_id))
    stances: dict[int, dict[int, str]] = {}
    for amendment_id, organisation_id, stance in db.session.execute(
            select(Position.amendment_id, Position.organisation_id, Position.stance).where(Position.id.in_(latest))):
        stances.setdefault(amendment_id, {})[organisation_id] = stance
    return stances


def check_filters(statement: Statement, organisation: int | None, kind: str | None) -> None:
    """Refuse filters that name nothing of this statement, with a message for the user."""
    if organisation is not None and organisation not in {p.organisation_id for p in statement.memberships}:
        raise InvalidInput("That organisation does not take part in this statement.", field="organisation")
    if kind is not None and kind not in KINDS:
        raise InvalidInput("An amendment's kind is modify, insert, delete or retitle.", field="kind")


def merged_view(
    statement: Statement, *, organisation: int | None = None, kind: str | None = None,
    rule_met: bool | None = None,
) -> MergedView:
    """The statement's text with its open amendments (see the module's docstring). The filters (an
    organisation's id, a kind, whether the rule is met) choose which amendments are listed; collisions
    are found among all of them, so an amendment may collide with one the filters leave out."""
    check_filters(statement, organisation, kind)
    names = {p.organisation_id: p.organisation.short_name or p.organisation.name for p in statement.memberships}
    participants = [p.organisation_id for p in statement.participants]
    rule = statement.decision_rule or "consensus"
    stances = latest_stances(statement.id)
    paragraphs = live_texts(statement.id)
    texts: dict[str | int, str] = {TITLE: statement.title, TOP: ""}
    texts.update(paragraphs)
    rows = db.session.execute(
        select(Amendment.id, Amendment.kind, Amendment.status, Amendment.paragraph_id, Amendment.organisation_id,
               Amendment.diff, Amendment.current_diff, Amendment.text_version)
        .where(Amendment.statement_id == statement.id, Amendment.status.in_(OPEN_STATUSES))
        .order_by(Amendment.id)
    ).all()
    changes: dict[str | int, list[MergedAmendment]] = {}
    inserts: dict[str | int, list[MergedAmendment]] = {}
    for amendment_id, a_kind, status, paragraph_id, org_id, diff, current_diff, text_version in rows:
        ops = load_ops(current_diff if status == "conflicted" and current_diff is not None else diff)
        decision = _decision(rule, participants, stances.get(amendment_id, {}), status)
        merged = MergedAmendment(amendment_id, a_kind, status, org_id, names.get(org_id, ""), ops, text_version,
                                 decision)
        if a_kind == "insert":
            place = TOP if paragraph_id is None else paragraph_id
            if place in texts:
                inserts.setdefault(place, []).append(merged)
        else:
            place = TITLE if a_kind == "retitle" else paragraph_id
            if place in texts:  # not an amendment of a paragraph deleted meanwhile (it is closed then)
                changes.setdefault(place, []).append(merged)
    out_of_time = _collisions(texts, changes)

    def wanted(amendment: MergedAmendment) -> bool:
        return ((organisation is None or amendment.organisation_id == organisation)
                and (kind is None or amendment.kind == kind)
                and (rule_met is None or amendment.decision.met == rule_met))

    shown = 0

    def place_of(place: str | int, number: int | None) -> MergedPlace:
        nonlocal shown
        listed = [a for a in changes.get(place, []) if wanted(a)]
        added = [a for a in inserts.get(place, []) if wanted(a)]
        shown += len(listed) + len(added)
        return MergedPlace(place, number, texts[place], listed, added)

    return MergedView(
        title=place_of(TITLE, None), top=place_of(TOP, 0),
        paragraphs=[place_of(pid, number) for number, (pid, _text) in enumerate(paragraphs, start=1)],
        rule=rule, open_count=len(rows), shown_count=shown, out_of_time=out_of_time,
    )


def _decision(rule: str, participants: list[int], stances: dict[int, str], status: str) -> Decision:
    if status == "conflicted":
        return Decision(False, "It conflicts with the current text; its proposer must revise it first.")
    return rules.rule_met(rule, participants, stances)


def _collisions(texts: dict[str | int, str], changes: dict[str | int, list[MergedAmendment]]) -> bool:
    """Mark the colliding amendments of each place; whether the merges ran out of time."""
    deadline = time.monotonic() + limits.PAGE_DIFF_SECONDS
    out_of_time = False
    for place, amendments in changes.items():
        if len(amendments) < 2:
            continue
        text = texts[place]
        hunks = {}
        for amendment in amendments:
            base, _new = _texts(amendment.ops)
            # A diff that does not start from the text now (none should) is not compared: it collides.
            hunks[amendment.id] = _hunks(amendment.ops) if base == text else None
        for i, first in enumerate(amendments):
            merger: Merger | None = None  # the first's change, for every later one that touches it
            for second in amendments[i + 1:]:
                a, b = hunks[first.id], hunks[second.id]
                if a is None or b is None or "delete" in (first.kind, second.kind):
                    collide = True
                elif not _touch(text, a, b):
                    continue
                elif (left := deadline - time.monotonic()) <= 0:
                    out_of_time = collide = True
                else:
                    if merger is None:
                        merger = Merger(text, _texts(first.ops)[1], budget=left)
                    result = merger.rebase(_texts(second.ops)[1], budget=min(left, MERGE_SECONDS))
                    out_of_time = out_of_time or result.timed_out
                    collide = result.outcome != REBASED
                if collide:
                    first.collides_with.append(second.id)
                    second.collides_with.append(first.id)
    return out_of_time
