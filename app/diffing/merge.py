"""Carrying an open amendment across an accepted change: a word-level three-way merge (promise 5).

When an amendment is accepted, every other open amendment of the same
paragraph (or of the title) was written against the same *base* text. Both
changes are compared with that base, token by token (words, whitespace runs,
punctuation, as ``tokens.tokenise`` splits them), using the same cleaned-up
word diff that pages show: a *hunk* is one run of deleted and/or inserted
tokens at one place of the base.

The rules
---------

* A *word* is a token with a letter or a digit in it. Whitespace and
  punctuation are not words.
* Two hunks *touch* when they overlap, or when no unchanged word lies
  between them (only whitespace and punctuation, or nothing). So two
  insertions at the same point touch; an insertion right before or after a
  changed word touches that change; changing "two" and "percent" in "two
  percent" touches (only a space between them); changes with one unchanged
  word between them never touch, wherever the diff put the spaces around them.
  Touching chains: hunks that touch each other, of either side, make one
  *region*.
* A region changed by one side only is taken from that side.
* A region changed by both sides is taken once if both made the same change
  there (the same text deleted on both sides, or the same words put in). If one
  side's version of the region holds the other's change, the fuller version is
  taken (if each holds the other, they conflict). "Holds" is checked on the diff from the lesser version to the fuller
  one, its pieces grouped by the touching rule above: a group touching one of the
  lesser side's hunks must leave the tokens that hunk put in as they are, and
  must put back none of the tokens (whitespace aside) that it took out. So an
  amendment changing "two" to "three" and "percent" to "per cent" keeps only the
  second change once "two" -> "three" is accepted; a deletion inside the other
  side's longer deletion, or inside a passage the other side rewrote, gives the
  other side's text; partly overlapping deletions conflict. Anything else is a
  conflict: the amendment is *conflicted* and its proposer revises it by hand.
* Whitespace is a token like any other: a change of whitespace alone is a hunk,
  and whitespace never separates two hunks.
* The outcome does not depend on which of two amendments was accepted first:
  ``Merger(base, a).rebase(b)`` and ``Merger(base, b).rebase(a)`` both conflict
  or give the same text (only the outcome's name differs: whichever is left
  over is rebased, or obsolete): hunks come from each side's own diff against
  the base, and every rule above treats the two sides alike. (A merge that runs
  out of time is the exception: it is conflicted, see below.)
* An amendment whose merged text is the new text itself is *obsolete*: its
  whole change is already in the text. It is never rebased to a no-op.

Cost
----

The base and the accepted text are tokenised once per ``Merger`` and their diff
made once (when a proposal first needs it), for every proposal rebased across
it. Of a proposal only the words between its common prefix and suffix with the
base are tokenised. When the span it changed and the span the accepted change
changed are separated by an unchanged word, the merge is a splice and no diff
is made at all. Otherwise the diffs of one ``rebase`` run under a time budget:
when it runs out (or a diff comes in too many pieces to clean up in time), the
outcome is *conflicted* (revise by hand), never a guessed merge.
``SiblingMerges`` does all the merges of one accept within ``ACCEPT_BUDGET``,
shared fairly, so an accept's cost does not depend on what others proposed.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import NamedTuple

from app.diffing.tokens import Codebook
from app.diffing.words import DELETE, EQUAL, TokenDMP

REBASED, CONFLICTED, OBSOLETE = "rebased", "conflicted", "obsolete"

# Seconds of diffing. An accept may have 60 siblings of 10,000 characters (issue 17's
# maxima: 20 open amendments per organisation and paragraph, 3 organisations) and must
# finish within 2 s, whatever they say: merging them all gets ACCEPT_BUDGET, about 13 ms
# each (a sibling changing a few words of such a paragraph needs about 1 ms; an unrelated
# rewrite would need seconds). One proposal merged on its own gets the same share.
ACCEPT_BUDGET = 0.8
DEFAULT_BUDGET = ACCEPT_BUDGET / 60

# diff_cleanupSemantic cannot be interrupted and, on a diff of many small pieces
# (two unrelated texts sharing only spaces and short words), costs time that grows
# with the square of their number: about 60 ms at 1,000, more than a second at
# 4,500. A diff in more pieces than this counts as out of time.
MAX_DIFF_OPS = 1_000


@dataclass(frozen=True)
class MergeResult:
    """What became of one proposal.

    ``outcome``: "rebased" (``text`` is the proposal carried onto the new text),
    "obsolete" (``text`` is the new text, which already holds the whole change)
    or "conflicted" (``text`` is None; the proposal stays as it was).
    ``collisions``: character spans of the base where the two changes collide.
    ``timed_out``: conflicted because the time budget ran out, not by the rules.
    """

    outcome: str
    text: str | None
    collisions: tuple[tuple[int, int], ...] = ()
    timed_out: bool = False


class _Hunk(NamedTuple):
    start: int  # first base token replaced
    end: int  # one past the last; == start for a pure insertion before token ``start``
    text: str  # the (encoded) tokens put in their place


class _Place(NamedTuple):
    """Where one hunk's tokens landed in a region's new text: text[x:y]; ``deleted``: the tokens it replaced."""

    x: int
    y: int
    deleted: str


class _OutOfTime(Exception):
    pass


def _is_word(token: str) -> bool:
    return any(map(str.isalnum, token))


def _span(dmp: TokenDMP, base: str, other: str) -> tuple[int, int, str]:
    """Where ``other`` differs from ``base``: base[start:end] becomes the returned middle."""
    prefix = dmp.diff_commonPrefix(base, other)
    suffix = dmp.diff_commonSuffix(base[prefix:], other[prefix:])
    return prefix, len(base) - suffix, other[prefix:len(other) - suffix]


def hunks(diffs) -> list[_Hunk]:
    """(start, end, inserted) of each run of changes in a diff, counted in the units of its texts
    (characters of the text the diff starts from; here, one character per token)."""
    found: list[_Hunk] = []
    i = 0
    start: int | None = None
    inserted: list[str] = []
    for op, text in diffs:
        if op == EQUAL:
            if start is not None:
                found.append(_Hunk(start, i, "".join(inserted)))
                start, inserted = None, []
            i += len(text)
            continue
        if start is None:
            start = i
        if op == DELETE:
            i += len(text)
        else:
            inserted.append(text)
    if start is not None:
        found.append(_Hunk(start, i, "".join(inserted)))
    return found


def _diff_hunks(dmp: TokenDMP, old: str, new: str, deadline: float) -> list[_Hunk]:
    """The hunks of the cleaned-up word diff of two encoded texts, or _OutOfTime."""
    if old == new:
        return []
    diffs = dmp.diff_main(old, new, False, deadline)
    # A diff that hit the deadline is coarser but correct; it is still refused, so that
    # the outcome never depends on how busy the machine was.
    if time.time() > deadline or len(diffs) > MAX_DIFF_OPS:
        raise _OutOfTime
    dmp.diff_cleanupSemantic(diffs)
    return hunks(diffs)


def _apply(base: str, start: int, end: int, hunks: list[_Hunk]) -> tuple[str, list[_Place]]:
    """base[start:end] with ``hunks`` applied, and where each hunk's tokens landed in it."""
    parts: list[str] = []
    places: list[_Place] = []
    pos, length = start, 0
    for hunk in hunks:
        kept = base[pos:hunk.start]
        parts += (kept, hunk.text)
        length += len(kept)
        places.append(_Place(length, length + len(hunk.text), base[hunk.start:hunk.end]))
        length += len(hunk.text)
        pos = hunk.end
    parts.append(base[pos:end])
    return "".join(parts), places


def _contains(dmp: TokenDMP, lesser: str, places: list[_Place], fuller: str, deadline: float) -> bool:
    """Whether ``fuller`` holds the change that made ``lesser`` (its hunks at ``places``), and more.

    The changes from ``lesser`` to ``fuller`` are grouped as the merge groups
    hunks (touching, with no unchanged word between them). A group that touches
    one of the lesser side's hunks must leave the tokens that hunk put in
    alone, and must not put back any of the tokens (but whitespace) that it
    took out.
    """
    token = dmp.book.token
    words = [0]
    for code in lesser:
        words.append(words[-1] + _is_word(token(code)))
    hunks = _diff_hunks(dmp, lesser, fuller, deadline)
    i = 0
    while i < len(hunks):
        group = [hunks[i]]
        start, end = hunks[i].start, hunks[i].end
        i += 1
        while i < len(hunks) and words[hunks[i].start] == words[end]:
            group.append(hunks[i])
            end = hunks[i].end
            i += 1
        inserted = "".join(hunk.text for hunk in group)
        for x, y, deleted in places:
            if (end <= x and words[x] > words[end]) or (start >= y and words[start] > words[y]):
                continue  # an unchanged word between them
            for s, t, _ in group:
                if x < y and ((x < t and s < y) if s < t else (x < s < y)):
                    return False  # it changes the tokens the lesser side put in
            if any(code in deleted and not token(code).isspace() for code in inserted):
                return False
    return True


class Merger:
    """Rebases proposals written against ``base`` across the change ``base`` -> ``accepted``.

    ``Merger(base, accepted).rebase(proposal)`` -> ``MergeResult``. One Merger
    serves every sibling of one accept: the shared texts are tokenised and
    diffed once. ``budget`` (seconds) bounds the accepted change's own diff and
    is the default budget of each ``rebase``.
    """

    def __init__(self, base: str, accepted: str, *, budget: float = DEFAULT_BUDGET):
        self.base = base
        self.accepted = accepted
        self.budget = budget
        book = Codebook()
        self._book = book
        self._base = book.encode(base, reserve=2)
        self._accepted = book.encode(accepted, reserve=1)  # one code stays free for a proposal
        # Per base token boundary i: how many words base tokens [0, i) hold, and their length in characters.
        words, offsets = [0], [0]
        # (offset, index of the token there) where a whitespace run of the base starts, and where one ends.
        cut_starts: list[tuple[int, int]] = []
        cut_ends: list[tuple[int, int]] = []
        count = offset = 0
        for i, code in enumerate(self._base):
            token = book.token(code)
            if token.isspace():
                cut_starts.append((offset, i))
                cut_ends.append((offset + len(token), i + 1))
            elif _is_word(token):
                count += 1
            offset += len(token)
            words.append(count)
            offsets.append(offset)
        self._words, self._offsets = words, offsets
        self._cut_starts, self._cut_ends = cut_starts, cut_ends
        self._accepted_span = _span(TokenDMP(book), self._base, self._accepted)
        self._accepted_hunks: list[_Hunk] | None = None
        self._accepted_late = False

    # --- one proposal -----------------------------------------------------------------------

    def rebase(self, proposal: str, *, budget: float | None = None) -> MergeResult:
        """Merge ``proposal`` (written against the base) with the accepted change."""
        if proposal == self.accepted or proposal == self.base:
            return MergeResult(OBSOLETE, self.accepted)
        if self.base == self.accepted:
            return MergeResult(REBASED, proposal)
        deadline = time.time() + (self.budget if budget is None else budget)
        book = self._book.copy()  # each proposal's new tokens stay its own
        dmp = TokenDMP(book)
        encoded = self._encode(book, proposal, dmp)
        merged = self._splice(_span(dmp, self._base, encoded))
        if merged is None:
            try:
                merged, collisions = self._merge(dmp, encoded, deadline)
            except _OutOfTime:
                return MergeResult(CONFLICTED, None, timed_out=True)
            if collisions:
                offsets = self._offsets
                return MergeResult(CONFLICTED, None, tuple((offsets[s], offsets[e]) for s, e in collisions))
        text = book.decode(merged)
        if text == self.accepted:
            return MergeResult(OBSOLETE, self.accepted)
        return MergeResult(REBASED, text)

    def _encode(self, book: Codebook, proposal: str, dmp: TokenDMP) -> str:
        """``book.encode(proposal)``, tokenising only what lies between its common prefix and suffix with the base.

        No token but a whitespace run contains whitespace, and none looks
        outside itself, so a text cut at the start or the end of a whole
        whitespace run tokenises as its pieces do: the base's codes stand for
        the common parts.
        """
        base = self.base
        prefix = dmp.diff_commonPrefix(base, proposal)
        suffix = min(dmp.diff_commonSuffix(base, proposal), len(base) - prefix, len(proposal) - prefix)
        # The last whitespace run starting inside the common prefix (not at its very end)...
        k = bisect_right(self._cut_starts, (prefix - 1, len(base))) - 1
        cut, first = self._cut_starts[k] if k >= 0 else (0, 0)
        # ...and the first one ending inside the common suffix (not at its very start).
        k = bisect_left(self._cut_ends, (len(base) - suffix + 1, -1))
        end, last = self._cut_ends[k] if k < len(self._cut_ends) else (len(base), len(self._base))
        middle = proposal[cut:len(proposal) - (len(base) - end)]
        return self._base[:first] + book.encode(middle) + self._base[last:]

    def _splice(self, span: tuple[int, int, str]) -> str | None:
        """The merge when the two changed spans are separated by an unchanged word (else None)."""
        base, words = self._base, self._words
        a_start, a_end, a_middle = self._accepted_span
        p_start, p_end, p_middle = span
        if p_end <= a_start and words[a_start] > words[p_end]:
            return base[:p_start] + p_middle + base[p_end:a_start] + a_middle + base[a_end:]
        if a_end <= p_start and words[p_start] > words[a_end]:
            return base[:a_start] + a_middle + base[a_end:p_start] + p_middle + base[p_end:]
        return None

    def _accepted_diff(self) -> list[_Hunk]:
        if self._accepted_hunks is None and not self._accepted_late:
            try:
                self._accepted_hunks = _diff_hunks(TokenDMP(self._book), self._base, self._accepted,
                                                   time.time() + self.budget)
            except _OutOfTime:
                self._accepted_late = True
        if self._accepted_hunks is None:
            raise _OutOfTime
        return self._accepted_hunks

    def _merge(self, dmp: TokenDMP, proposal: str, deadline: float) -> tuple[str, list[tuple[int, int]]]:
        """The hunk-by-hunk merge: the merged encoded text, and the base token spans that collide."""
        base, words = self._base, self._words
        hunks = sorted([(h.start, h.end, 0, h) for h in self._accepted_diff()]
                       + [(h.start, h.end, 1, h) for h in _diff_hunks(dmp, base, proposal, deadline)])
        out: list[str] = []
        collisions: list[tuple[int, int]] = []
        pos = i = 0
        while i < len(hunks):
            start, end, side, hunk = hunks[i]
            sides: tuple[list[_Hunk], list[_Hunk]] = ([], [])
            sides[side].append(hunk)
            i += 1
            # Whatever starts before the region ends, or with no word in between, joins it.
            while i < len(hunks) and (hunks[i][0] <= end or words[hunks[i][0]] == words[end]):
                _, other_end, side, hunk = hunks[i]
                sides[side].append(hunk)
                end = max(end, other_end)
                i += 1
            accepted, proposed = sides
            out.append(base[pos:start])
            if not proposed or not accepted:
                region = _apply(base, start, end, accepted or proposed)[0]
            else:
                region = self._both(dmp, start, end, accepted, proposed, deadline)
            if region is None:
                collisions.append((start, end))
            else:
                out.append(region)
            pos = end
        out.append(base[pos:])
        return "".join(out), collisions

    def _both(self, dmp: TokenDMP, start: int, end: int, accepted: list[_Hunk], proposed: list[_Hunk],
              deadline: float) -> str | None:
        """A region both sides changed: the one version that holds both changes, or None (a conflict)."""
        a, a_places = _apply(self._base, start, end, accepted)
        p, p_places = _apply(self._base, start, end, proposed)
        if a == p or dmp.book.decode(a) == dmp.book.decode(p):
            return a
        a_in_p = _contains(dmp, a, a_places, p, deadline)
        p_in_a = _contains(dmp, p, p_places, a, deadline)
        if a_in_p != p_in_a:
            return p if a_in_p else a
        return None


class SiblingMerges:
    """All the merges of one accept: proposals onto one new text, sharing one time budget fairly.

    Each proposal may use an equal share of what is left (of ``count`` still to
    come), so time one did not need goes to those after it, and none can use up
    the others' share. Proposals nearly always share one base, the accepted
    amendment's: its ``Merger`` serves them all.
    """

    def __init__(self, new_text: str, count: int, *, budget: float = ACCEPT_BUDGET):
        self.new_text = new_text
        self._left = count
        self._deadline = time.monotonic() + budget
        self._mergers: dict[str, Merger] = {}

    def __call__(self, base: str, proposal: str) -> MergeResult:
        share = max(0.0, self._deadline - time.monotonic()) / max(1, self._left)
        self._left -= 1
        merger = self._mergers.get(base)
        if merger is None:
            merger = self._mergers[base] = Merger(base, self.new_text, budget=share)
        return merger.rebase(proposal, budget=share)


def merge(base: str, accepted: str, proposal: str, *, budget: float = DEFAULT_BUDGET) -> MergeResult:
    """Merge one proposal written against ``base`` with the accepted change ``base`` -> ``accepted``."""
    return Merger(base, accepted, budget=budget).rebase(proposal)
