"""All diffing and patching in Concord, built on diff-match-patch.

Pure functions, no Flask and no database:

* ``tokenise(text)``: words, whitespace and punctuation; joined they give the text back.
* ``word_diff(old, new)``: word-level diff as ``(op, text)`` pairs (-1 delete, 0 equal, 1 insert),
  within a time budget (``timeout=``, ``deadline=``; app.limits.WORD_DIFF_SECONDS by default)
  after which it is coarser but still exact; ``bounded_word_diff`` also says whether it ran out.
* ``render_diff(ops)``: that diff as escaped HTML with ``<ins>`` and ``<del>``.
* ``rebase(base, proposal, new_base)``: an amendment carried over onto a changed
  paragraph, or None on conflict (promise 5); ``Rebaser(new_base).rebase(base, proposal)``
  does the same for many proposals onto one new text, tokenising the shared texts once.
* ``compare_paragraphs(old, new)``: two versions of a statement, paragraphs matched by id; the
  word diffs share one budget, after which changed paragraphs are shown whole (``coarse``).
* ``blame(revisions)``: the final text in runs attributed to the revision that introduced them.
"""

from app.diffing.blame import blame
from app.diffing.paragraphs import ParagraphChange, compare_paragraphs
from app.diffing.patching import Rebaser, rebase
from app.diffing.tokens import tokenise
from app.diffing.words import DELETE, EQUAL, INSERT, WordDiff, bounded_word_diff, render_diff, word_diff

__all__ = [
    "DELETE",
    "EQUAL",
    "INSERT",
    "ParagraphChange",
    "Rebaser",
    "WordDiff",
    "blame",
    "bounded_word_diff",
    "compare_paragraphs",
    "rebase",
    "render_diff",
    "tokenise",
    "word_diff",
]
