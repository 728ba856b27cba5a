"""Comparing two versions of a statement paragraph by paragraph."""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from app.diffing.words import DELETE, EQUAL, INSERT, Ops, bounded_word_diff
from app.limits import PAGE_DIFF_SECONDS, WORD_DIFF_SECONDS

Kind = Literal["inserted", "deleted", "changed", "moved", "unchanged"]

_START = object()  # where deleted paragraphs that preceded every surviving one go


@dataclass(frozen=True, slots=True)
class ParagraphChange:
    """One row of a comparison.

    ``kind`` is "inserted", "deleted", "changed", "moved" or "unchanged". A
    paragraph that both moved and changed is "changed" with ``moved=True``;
    a "moved" one always has ``moved=True``. Numbers are 1-based positions
    in the old and new versions (None where the paragraph is absent).
    ``coarse`` marks a changed paragraph whose word diff did not fit in the
    comparison's time budget: its ops are the old text deleted and the new
    text inserted (or, if its own diff ran out, only their common start and
    end kept).
    """

    kind: Kind
    paragraph_id: Hashable
    old_number: int | None
    new_number: int | None
    ops: Ops = field(default_factory=list)
    moved: bool = False
    coarse: bool = False


def _longest_increasing(values: Sequence[int]) -> set[int]:
    """Indexes into ``values`` of one longest strictly increasing subsequence."""
    tails: list[int] = []  # tails[k]: value ending the best subsequence of length k + 1
    tail_index: list[int] = []
    previous: list[int] = [-1] * len(values)
    for i, value in enumerate(values):
        k = bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[k] = value
            tail_index[k] = i
        previous[i] = tail_index[k - 1] if k else -1
    keep: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i != -1:
        keep.add(i)
        i = previous[i]
    return keep


def _index(paragraphs: Sequence[tuple[Hashable, str]], which: str) -> dict[Hashable, int]:
    positions: dict[Hashable, int] = {}
    for position, (paragraph_id, _text) in enumerate(paragraphs):
        if paragraph_id in positions:
            raise ValueError(f"paragraph id {paragraph_id!r} appears twice in the {which} version")
        positions[paragraph_id] = position
    return positions


def compare_paragraphs(
    old: Sequence[tuple[Hashable, str]], new: Sequence[tuple[Hashable, str]], *,
    timeout: float = PAGE_DIFF_SECONDS, deadline: float | None = None,
) -> list[ParagraphChange]:
    """Compare two versions given as ordered ``(paragraph id, text)`` lists.

    Paragraphs are matched by id, never by position. Rows come in the
    reading order of the new version; a deleted paragraph comes right after
    the paragraph that preceded it in the old version (or first, if it was
    first). "moved" means the paragraph's order relative to the other
    paragraphs present in both versions changed; the fewest paragraphs
    possible are called moved (the rest form a longest increasing
    subsequence of old positions).

    The word diffs of all changed paragraphs share ``timeout`` seconds (and
    stop at ``deadline``, a ``time.monotonic()`` value); each also keeps to
    the word diff's own budget. When they are spent, the remaining changed
    paragraphs are compared whole, at paragraph level, and marked
    ``coarse``: a comparison of two versions of any size finishes.
    """
    end = time.monotonic() + timeout
    deadline = end if deadline is None else min(end, deadline)
    old_pos = _index(old, "old")
    new_pos = _index(new, "new")

    common = [pid for pid, _ in new if pid in old_pos]
    in_order = _longest_increasing([old_pos[pid] for pid in common])
    moved = {pid for i, pid in enumerate(common) if i not in in_order}

    # Deleted paragraphs, grouped under the nearest preceding old paragraph
    # that survives.
    deleted_after: dict[Hashable, list[ParagraphChange]] = {}
    anchor: Hashable = _START
    for position, (pid, text) in enumerate(old):
        if pid in new_pos:
            anchor = pid
            continue
        ops = [(DELETE, text)] if text else []
        row = ParagraphChange("deleted", pid, position + 1, None, ops)
        deleted_after.setdefault(anchor, []).append(row)

    rows: list[ParagraphChange] = list(deleted_after.get(_START, []))
    for position, (pid, text) in enumerate(new):
        if pid not in old_pos:
            ops = [(INSERT, text)] if text else []
            rows.append(ParagraphChange("inserted", pid, None, position + 1, ops))
            continue
        old_number = old_pos[pid] + 1
        old_text = old[old_pos[pid]][1]
        is_moved = pid in moved
        if old_text == text:
            kind: Kind = "moved" if is_moved else "unchanged"
            ops = [(EQUAL, text)] if text else []
            complete = True
        else:
            kind = "changed"
            ops, complete = bounded_word_diff(old_text, text, timeout=WORD_DIFF_SECONDS, deadline=deadline)
        rows.append(ParagraphChange(kind, pid, old_number, position + 1, ops, is_moved, not complete))
        rows.extend(deleted_after.get(pid, []))
    return rows
