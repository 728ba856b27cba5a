"""Who introduced each word of a text."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from app.diffing.words import EQUAL, INSERT, word_diff
from app.limits import PAGE_DIFF_SECONDS

Runs = list[tuple[str, Any]]


def _append(runs: Runs, text: str, attribution: Any) -> None:
    if not text:
        return
    if runs and runs[-1][1] == attribution:
        runs[-1] = (runs[-1][0] + text, attribution)
    else:
        runs.append((text, attribution))


def blame(revisions: Sequence[tuple[str, Any]], *, timeout: float = PAGE_DIFF_SECONDS,
          deadline: float | None = None) -> Runs:
    """Attribute each word of the last revision to the revision that introduced it.

    ``revisions`` are ``(text, attribution)``, oldest first. Returns the
    final text as ``(run of text, attribution)`` pairs, adjacent runs with
    equal attributions merged; joining the runs gives the final text.
    Attributions are carried through the unchanged words of each successive
    word diff; inserted words take the new revision's attribution.

    The word diffs share ``timeout`` seconds (and stop at ``deadline``, a
    ``time.monotonic()`` value shared with other work). When they run out,
    the later diffs are coarser, so more of the text is attributed to the
    revision that last rewrote it; the text itself is always exact.
    """
    end = time.monotonic() + timeout
    if deadline is not None:
        end = min(end, deadline)
    if not revisions:
        return []
    first_text, first_attribution = revisions[0]
    runs: Runs = []
    _append(runs, first_text, first_attribution)
    previous = first_text
    for text, attribution in revisions[1:]:
        if text == previous:
            continue
        new_runs: Runs = []
        index, offset = 0, 0  # cursor into runs, over the previous text
        for op, piece in word_diff(previous, text, deadline=end):
            if op == INSERT:
                _append(new_runs, piece, attribution)
                continue
            remaining = len(piece)
            while remaining:
                run_text, run_attribution = runs[index]
                step = min(remaining, len(run_text) - offset)
                if op == EQUAL:
                    _append(new_runs, run_text[offset : offset + step], run_attribution)
                offset += step
                remaining -= step
                if offset == len(run_text):
                    index, offset = index + 1, 0
        runs = new_runs
        previous = text
    return runs
