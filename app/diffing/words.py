"""Word-level diffs with diff-match-patch, and their HTML rendering.

Every word diff has a time budget (``app.limits.WORD_DIFF_SECONDS`` unless the caller gives
another, and never past a caller's ``deadline``). Within it the diff is as fine as
diff-match-patch makes it. When it runs out the result is coarser but still exact: joining the
EQUAL and DELETE texts gives the old text, EQUAL and INSERT the new one, and edits still cover
whole tokens. Precisely:

* the search (``diff_main``) gets four fifths of the budget; parts it has not resolved by then
  are deleted and inserted whole, as diff-match-patch does on its ``Diff_Timeout``;
* the cleanup gets the rest; if it runs out too, the diff is the common start and end of the
  two texts (whole tokens) with everything between deleted and inserted;
* a budget already spent when the diff starts gives the old text deleted and the new inserted.

The cleanup steps that diff-match-patch runs in quadratic time on some inputs (eliminating
small equalities, finding overlaps, shifting edits sideways) are rewritten here to run in
linear time with the same results, so the budget is rarely reached.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import NamedTuple

from diff_match_patch import diff_match_patch
from markupsafe import Markup, escape

from app.diffing.tokens import Codebook
from app.limits import WORD_DIFF_SECONDS

DELETE, EQUAL, INSERT = -1, 0, 1

Ops = list[tuple[int, str]]

# The share of a word diff's budget its search may use; the cleanup has the rest.
SEARCH_SHARE = 0.8


class OutOfTime(Exception):
    """A cleanup ran past its deadline (caught here: callers get a coarser diff)."""


class TokenDMP(diff_match_patch):
    """diff-match-patch working on token-encoded strings (one character per token).

    Every diff, cleanup and patch runs on the encoded strings, so no edit can
    ever start or end inside a word (cleaning up the decoded text instead
    would let the overlap and sideways-shift steps of ``diff_cleanupSemantic``
    cut words into fragments). The one step that looks at what the characters
    mean, the sideways shift that aligns edits to word boundaries, is
    overridden to score boundaries by the tokens the codes stand for.

    ``search_deadline`` stops the half-match speed-up once the search is out of time (the
    search itself stops at the deadline given to ``diff_main``); ``deadline`` makes the
    cleanups raise OutOfTime once it has passed. Both are ``time.monotonic()`` values; None
    (the default, as the rebase uses it) means no limit beyond ``Diff_Timeout``.
    """

    def __init__(self, book: Codebook, *, search_deadline: float | None = None, deadline: float | None = None):
        super().__init__()
        self.book = book
        self.search_deadline = search_deadline
        self.deadline = deadline
        self._scores: dict[tuple[str | None, str | None], int] = {}

    def _check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OutOfTime

    # --- search -------------------------------------------------------------------------

    def diff_halfMatch(self, text1, text2):
        """diff-match-patch's, skipped once the search is out of time (it has no deadline of its own)."""
        if self.search_deadline is not None and time.monotonic() > self.search_deadline:
            return None
        return super().diff_halfMatch(text1, text2)

    # --- cleanup ------------------------------------------------------------------------

    def diff_cleanupSemantic(self, diffs) -> None:
        """diff-match-patch's semantic cleanup, with the same result, in linear time.

        Its three steps: eliminate equalities no longer than the edits on both sides (then
        merge), shift single edits sideways to word boundaries, and pull out overlaps between
        a deletion and the insertion after it.
        """
        if self._eliminate_small_equalities(diffs):
            self.diff_cleanupMerge(diffs)
        self.diff_cleanupSemanticLossless(diffs)
        self._extract_overlaps(diffs)

    def _eliminate_small_equalities(self, diffs) -> bool:
        """The first loop of ``diff_cleanupSemantic``, with a stack instead of rescanning.

        diff-match-patch, after eliminating an equality, steps back two equalities and scans
        forward again with fresh counters: quadratic when eliminations cascade. The same
        decisions follow from keeping, for each surviving equality on the stack, the edit
        lengths before it, and for the top one the edit lengths since; an eliminated
        equality's text counts as deleted and inserted.
        """
        stack: list[tuple[int, int, int]] = []  # (index, inserted before, deleted before)
        inserted = deleted = 0  # edit lengths since the top equality (or the start)
        eliminated: list[int] = []
        for index, (op, text) in enumerate(diffs):
            if not index & 0xFFF:
                self._check_time()
            if op == EQUAL:
                stack.append((index, inserted, deleted))
                inserted = deleted = 0
                continue
            if op == INSERT:
                inserted += len(text)
            else:
                deleted += len(text)
            while stack:
                top, inserted_before, deleted_before = stack[-1]
                size = len(diffs[top][1])
                if not (size and size <= max(inserted_before, deleted_before) and size <= max(inserted, deleted)):
                    break
                eliminated.append(top)
                stack.pop()
                inserted += inserted_before + size
                deleted += deleted_before + size
        if not eliminated:
            return False
        gone = set(eliminated)
        result = []
        for index, (op, text) in enumerate(diffs):
            if index in gone:
                result += [(DELETE, text), (INSERT, text)]
            else:
                result.append((op, text))
        diffs[:] = result
        return True

    def diff_cleanupMerge(self, diffs) -> None:
        """diff-match-patch's, stopping between passes once the cleanup is out of time."""
        self._check_time()
        super().diff_cleanupMerge(diffs)

    def diff_commonOverlap(self, text1: str, text2: str) -> int:
        """The longest suffix of ``text1`` that is a prefix of ``text2`` (diff-match-patch's answer).

        diff-match-patch's loop is fast on ordinary text and quadratic on repetitive text
        (``abab...``); after a few rounds this finishes with a linear prefix-function scan.
        """
        length1, length2 = len(text1), len(text2)
        if not length1 or not length2:
            return 0
        if length1 > length2:
            text1 = text1[-length2:]
        elif length1 < length2:
            text2 = text2[:length1]
        size = min(length1, length2)
        if text1 == text2:
            return size
        best, length = 0, 1
        for _ in range(16):
            found = text2.find(text1[-length:])
            if found == -1:
                return best
            length += found
            if found == 0 or text1[-length:] == text2[:length]:
                best = length
                length += 1
        # Knuth-Morris-Pratt: how much of text2's start the end of text1 matches.
        fail = [0] * size
        k = 0
        for i in range(1, size):
            while k and text2[i] != text2[k]:
                k = fail[k - 1]
            if text2[i] == text2[k]:
                k += 1
            fail[i] = k
        k = 0
        for char in text1:
            while k and (k == size or char != text2[k]):
                k = fail[k - 1]
            if char == text2[k]:
                k += 1
        return k

    def _extract_overlaps(self, diffs) -> None:
        """The last loop of ``diff_cleanupSemantic``, building a new list instead of inserting.

        A deletion followed by an insertion that overlap by at least half of either become
        deletion, equality, insertion (or insertion, equality, deletion for a reverse overlap).
        """
        result = []
        index, count = 0, len(diffs)
        while index < count:
            op, text = diffs[index]
            if op != DELETE or index + 1 == count or diffs[index + 1][0] != INSERT:
                result.append(diffs[index])
                index += 1
                continue
            self._check_time()
            deletion, insertion = text, diffs[index + 1][1]
            overlap1 = self.diff_commonOverlap(deletion, insertion)
            overlap2 = self.diff_commonOverlap(insertion, deletion)
            if overlap1 >= overlap2 and (overlap1 >= len(deletion) / 2.0 or overlap1 >= len(insertion) / 2.0):
                result += [(DELETE, deletion[:len(deletion) - overlap1]), (EQUAL, insertion[:overlap1]),
                           (INSERT, insertion[overlap1:])]
            elif overlap1 < overlap2 and (overlap2 >= len(deletion) / 2.0 or overlap2 >= len(insertion) / 2.0):
                result += [(INSERT, insertion[:len(insertion) - overlap2]), (EQUAL, deletion[:overlap2]),
                           (DELETE, deletion[overlap2:])]
            else:
                result += [diffs[index], diffs[index + 1]]
            index += 2
        diffs[:] = result

    def _score(self, left: str | None, right: str | None) -> int:
        """diff_cleanupSemanticScore for the boundary between two codes (None: the edge of the text)."""
        if left is None or right is None:
            return 6  # edges are the best
        key = (left, right)
        score = self._scores.get(key)
        if score is None:
            score = self._scores[key] = self._boundary_score(self.book.token(left), self.book.token(right))
        return score

    def _boundary_score(self, left: str, right: str) -> int:
        """diff_cleanupSemanticScore on the tokens either side of the boundary."""
        char1, char2 = left[-1], right[0]
        non_alnum1 = not char1.isalnum()
        non_alnum2 = not char2.isalnum()
        whitespace1 = non_alnum1 and char1.isspace()
        whitespace2 = non_alnum2 and char2.isspace()
        line_break1 = whitespace1 and char1 in "\r\n"
        line_break2 = whitespace2 and char2 in "\r\n"
        if (line_break1 and self.BLANKLINEEND.search(left)) or (
            line_break2 and self.BLANKLINESTART.match(right)
        ):
            return 5
        if line_break1 or line_break2:
            return 4
        if non_alnum1 and not whitespace1 and whitespace2:
            return 3  # end of a sentence
        if whitespace1 or whitespace2:
            return 2
        if non_alnum1 or non_alnum2:
            return 1
        return 0

    def _best_shift(self, joined: str, start: int, size: int) -> int:
        """How many tokens to the right the edit ``joined[start:start + size]`` fits best.

        It can move while the token it drops equals the one it takes on; each position is
        scored at its two boundaries, as diff_cleanupSemanticScore does, the later of equals
        winning (edits then carry trailing rather than leading whitespace).
        """
        if not size:
            return 0
        score, end = self._score, len(joined)
        steps = self.diff_commonPrefix(joined[start:], joined[start + size:])
        best, best_score = 0, -1
        for k in range(steps + 1):
            at = start + k
            current = (score(joined[at - 1] if at else None, joined[at])
                       + score(joined[at + size - 1], joined[at + size] if at + size < end else None))
            if current >= best_score:
                best, best_score = k, current
        return best

    def diff_cleanupSemanticLossless(self, diffs) -> None:
        """Shift single edits between equalities sideways, by whole tokens, to the best boundary.

        Positions are offsets into the three texts joined, so each step costs the same however
        long the texts are (slicing them at every step was quadratic on repetitive text).
        """
        pointer = 1
        while pointer < len(diffs) - 1:
            if diffs[pointer - 1][0] == EQUAL and diffs[pointer + 1][0] == EQUAL:
                self._check_time()
                equality1 = diffs[pointer - 1][1]
                edit = diffs[pointer][1]
                equality2 = diffs[pointer + 1][1]

                # First, shift the edit as far left as possible.
                common = self.diff_commonSuffix(equality1, edit)
                if common:
                    common_string = edit[-common:]
                    equality1 = equality1[:-common]
                    edit = common_string + edit[:-common]
                    equality2 = common_string + equality2

                # Then step right one token at a time, keeping the best fit.
                joined = equality1 + edit + equality2
                start, size = len(equality1), len(edit)
                best = self._best_shift(joined, start, size)
                at = start + best
                best_equality1, best_edit, best_equality2 = joined[:at], joined[at:at + size], joined[at + size:]
                if diffs[pointer - 1][1] != best_equality1:
                    if best_equality1:
                        diffs[pointer - 1] = (diffs[pointer - 1][0], best_equality1)
                    else:
                        del diffs[pointer - 1]
                        pointer -= 1
                    diffs[pointer] = (diffs[pointer][0], best_edit)
                    if best_equality2:
                        diffs[pointer + 1] = (diffs[pointer + 1][0], best_equality2)
                    else:
                        del diffs[pointer + 1]
                        pointer -= 1
            pointer += 1


def encoded_word_diff(dmp: TokenDMP, a: str, b: str) -> Ops:
    """The cleaned-up diff of two encoded strings, still encoded."""
    diffs = dmp.diff_main(a, b, False)
    dmp.diff_cleanupSemantic(diffs)
    return diffs


class WordDiff(NamedTuple):
    ops: Ops
    #: False when the budget ran out and the diff is coarser than it could be.
    complete: bool


def _collapsed(dmp: TokenDMP, a: str, b: str) -> Ops:
    """The common start and end of two encoded texts, and everything between deleted and inserted."""
    prefix = dmp.diff_commonPrefix(a, b)
    suffix = dmp.diff_commonSuffix(a[prefix:], b[prefix:])
    ops = [(EQUAL, a[:prefix]), (DELETE, a[prefix:len(a) - suffix]), (INSERT, b[prefix:len(b) - suffix]),
           (EQUAL, a[len(a) - suffix:])]
    return [(op, text) for op, text in ops if text]


def bounded_word_diff(
    old: str, new: str, *, timeout: float = WORD_DIFF_SECONDS, deadline: float | None = None
) -> WordDiff:
    """``word_diff``, and whether it finished within its budget.

    The budget is ``timeout`` seconds from now, and never past ``deadline`` (a
    ``time.monotonic()`` value: a budget shared by several diffs).
    """
    if old == new:
        return WordDiff([(EQUAL, old)] if old else [], True)
    if not old:
        return WordDiff([(INSERT, new)], True)
    if not new:
        return WordDiff([(DELETE, old)], True)
    started = time.monotonic()
    end = started + timeout if deadline is None else min(started + timeout, deadline)
    if end <= started:
        return WordDiff([(DELETE, old), (INSERT, new)], False)
    book = Codebook()
    a = book.encode(old, reserve=1)
    b = book.encode(new)
    now = time.monotonic()
    search_end = now + max(0.0, (end - now) * SEARCH_SHARE)
    dmp = TokenDMP(book, search_deadline=search_end)
    diffs = dmp.diff_main(a, b, False, time.time() + (search_end - now))
    complete = time.monotonic() <= search_end
    dmp.deadline = end
    try:
        dmp.diff_cleanupSemantic(diffs)
    except OutOfTime:
        diffs, complete = _collapsed(dmp, a, b), False
    return WordDiff([(op, book.decode(text)) for op, text in diffs], complete)


def word_diff(old: str, new: str, *, timeout: float = WORD_DIFF_SECONDS, deadline: float | None = None) -> Ops:
    """Word-level diff of ``old`` and ``new`` as diff-match-patch ops.

    Joining the texts of the EQUAL and DELETE ops gives ``old``; of the EQUAL
    and INSERT ops, ``new``. Edits always cover whole tokens. It takes at most
    about ``timeout`` seconds (and stops at ``deadline``); see the module's
    docstring for what a diff that runs out of time looks like.
    """
    return bounded_word_diff(old, new, timeout=timeout, deadline=deadline).ops


_TAGS = {INSERT: ("<ins>", "</ins>"), DELETE: ("<del>", "</del>"), EQUAL: ("", "")}


def render_diff(ops: Iterable[tuple[int, str]]) -> Markup:
    """HTML for a diff: changed runs in ``<ins>``/``<del>``, every piece of text escaped."""
    parts: list[str] = []
    for op, text in ops:
        if op not in _TAGS:
            raise ValueError(f"not a diff operation: {op!r}")
        if not text:
            continue
        opening, closing = _TAGS[op]
        parts.append(f"{opening}{escape(text)}{closing}")
    return Markup("".join(parts))
