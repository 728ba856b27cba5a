"""The text with all its amendments: every live paragraph with its open amendments, as stored.

``merged_view(statement)`` reads, in a constant number of queries whatever the statement's size
(the live paragraphs' texts, the open amendments' stored diffs, the latest stance of each
organisation on each of them in its current round), what the merged view shows:

* per place, in the order of the text (the title, "at the top", then each live paragraph with its
  number), the open amendments there, oldest first, each with its stored word diff (never diffed
  here: ``diff`` against its base, which is the paragraph's text now, or, while it conflicts,
  ``current_diff`` against the paragraph's text now) and whether its decision rule is met;
  inserts are listed with the paragraph they follow;
* which of them **collide**: two open amendments of the same place collide when their changes
  overlap or touch with no unchanged word between them (``app.diffing.merge``'s rule, tested on
  their stored diffs, which start from the same text: the place's text now), or when one of them
  deletes the paragraph. Accepting one of two that collide may leave the other conflicted (or
  obsolete, when it made the same change); of two that do not collide, the merge keeps both
  changes, by the same rule on the same word diffs (tests/test_merged_view.py checks it against
  ``merge`` for every pair of one-word changes of a sentence). A diff stored coarser, past its time
  budget, only makes more pairs collide. Inserts never collide (a batch keeps them in the order shown).

Plain functions: nothing here writes, imports Flask or diffs a text, and the cost grows with the
number of amendments and collisions, not with the square of anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from app.amending import rules
from app.amending.rules import Decision
from app.diffing import DELETE, INSERT, load_ops
from app.diffing.merge import hunks
from app.drafting.operations import live_texts
from app.errors import InvalidInput
from app.extensions import db
from app.i18n import _
from app.models import KINDS, OPEN_STATUSES, Amendment, Position, Statement

TITLE, TOP = "title", "top"


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

    def places(self) -> list[MergedPlace]:
        return [self.title, self.top, *self.paragraphs]

    def amendments(self) -> list[MergedAmendment]:
        return [a for place in self.places() for a in (*place.amendments, *place.inserts)]


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


def latest_stances(statement_id: int, organisations: set[int] | None = None) -> dict[int, dict[int, str]]:
    """The latest stance of each organisation (of ``organisations``, if given) on each open amendment of the
    statement, in the amendment's current round (what ``tally`` counts), by amendment id: one query, its
    rows in the order they were written (later ones win). Cheaper than grouping in the database, which
    reads the same rows and sorts them again."""
    stances: dict[int, dict[int, str]] = {}
    rows = db.session.execute(
        select(Position.amendment_id, Position.organisation_id, Position.stance)
        .join(Amendment, Amendment.id == Position.amendment_id)
        .where(Amendment.statement_id == statement_id, Amendment.status.in_(OPEN_STATUSES),
               Position.round == Amendment.round)
        .order_by(Position.id))
    for amendment_id, organisation_id, stance in rows:
        if organisations is None or organisation_id in organisations:
            stances.setdefault(amendment_id, {})[organisation_id] = stance
    return stances


def check_filters(statement: Statement, organisation: int | None, kind: str | None) -> None:
    """Refuse filters that name nothing of this statement, with a message for the user."""
    if organisation is not None and organisation not in {p.organisation_id for p in statement.memberships}:
        raise InvalidInput(_("That organisation does not take part in this statement."), field="organisation")
    if kind is not None and kind not in KINDS:
        raise InvalidInput(_("An amendment's kind is modify, insert, delete or retitle."), field="kind")


def merged_view(
    statement: Statement, *, organisation: int | None = None, kind: str | None = None,
    rule_met: bool | None = None,
) -> MergedView:
    """The statement's text with its open amendments (see the module's docstring). The filters (an
    organisation's id, a kind, whether the rule is met) choose which amendments are listed; collisions
    are found among all of them, so an amendment may collide with one the filters leave out."""
    check_filters(statement, organisation, kind)
    names = {p.organisation_id: p.organisation.short_name or p.organisation.name for p in statement.memberships}
    participants = {p.organisation_id for p in statement.participants}
    rule = statement.decision_rule or "consensus"
    stances = latest_stances(statement.id, participants)
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
    _collisions(texts, changes)

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
        rule=rule, open_count=len(rows), shown_count=shown,
    )


def _decision(rule: str, participants: set[int], stances: dict[int, str], status: str) -> Decision:
    """As ``rules.rule_met``, from stances already limited to the participants."""
    if status == "conflicted":
        return Decision(False, _("It conflicts with the current text; its proposer must revise it first."))
    counted = list(stances.values())
    return rules.decide(rule, len(participants), counted.count("support"), counted.count("oppose"), len(counted))


def _collisions(texts: dict[str | int, str], changes: dict[str | int, list[MergedAmendment]]) -> None:
    """Mark the colliding amendments of each place.

    A hunk of a stored diff (a run of changes, at token boundaries of the place's text) is turned into
    the closed interval [rank of its start, rank of its end], offsets ranked by the letters and digits
    before them (``_alnum_before``): two hunks
    touch by the merge's rule (they overlap, or no word, which is a token with a letter or a digit,
    lies between them) exactly when their intervals meet. One sweep over the sorted intervals of a
    place finds every touching pair, so the cost grows with the amendments and their collisions,
    never with the square of the hunks.
    """
    for place, amendments in changes.items():
        if len(amendments) < 2:
            continue
        text = texts[place]
        deleting = [a for a in amendments if a.kind == "delete"]
        for a in deleting:  # a deletion of the paragraph collides with every other change of it
            for b in amendments:
                if b is not a and b.id not in a.collides_with:
                    a.collides_with.append(b.id)
                    b.collides_with.append(a.id)
        spans: list[tuple[int, int, MergedAmendment]] = []
        for amendment in amendments:
            if amendment.kind == "delete":
                continue
            if _texts(amendment.ops)[0] != text:  # not a diff of the text now (none should be): collides
                spans.append((-1, len(text) + 1, amendment))
                continue
            spans += [(start, end, amendment) for start, end, _inserted in hunks(amendment.ops)]
        if len(spans) < 2:
            continue
        alnum = _alnum_before(text, {x for start, end, _a in spans for x in (start, end)})
        intervals = sorted((alnum(start), alnum(end), a.id, a) for start, end, a in spans)
        active: list[tuple[int, MergedAmendment]] = []  # (end, amendment) of the intervals still open
        for start, end, _id, amendment in intervals:
            active = [(e, a) for e, a in active if e >= start]
            for _e, other in active:
                if other is not amendment and other.id not in amendment.collides_with:
                    amendment.collides_with.append(other.id)
                    other.collides_with.append(amendment.id)
            active.append((end, amendment))
    for amendments in changes.values():
        for amendment in amendments:
            amendment.collides_with.sort()


_ALNUM = re.compile(r"[^\W_]")  # a letter or a digit: what makes a token a word (app.diffing.merge)


def _alnum_before(text: str, offsets: set[int]):
    """A function ranking each of ``offsets`` by the letters and digits ``text`` has before it: two
    offsets get the same rank exactly when only whitespace and punctuation lie between them (-1 and
    past the end: below and above every other). One search per gap, which stops at the first match."""
    ranks: dict[int, int] = {-1: -1, len(text) + 1: len(text) + 2}
    previous = rank = 0
    for offset in sorted(x for x in offsets if 0 <= x <= len(text)):
        if offset > previous and _ALNUM.search(text, previous, offset):
            rank += 1
        ranks[offset] = rank
        previous = offset
    return ranks.__getitem__
