"""All diffing and patching in Concord, built on diff-match-patch.

Pure functions, no Flask and no database:

* ``tokenise(text)``: words, whitespace and punctuation; joined they give the text back.
* ``word_diff(old, new)``: word-level diff as ``(op, text)`` pairs (-1 delete, 0 equal, 1 insert),
  within a time budget (``timeout=``, ``deadline=``; app.limits.WORD_DIFF_SECONDS by default)
  after which it is coarser but still exact; ``bounded_word_diff`` also says whether it ran out.
* ``render_diff(ops)``: that diff as escaped HTML with ``<ins>`` and ``<del>``.
* ``Merger(base, accepted).rebase(proposal)``: an open amendment merged word by word
  across an accepted change (promise 5), as a ``MergeResult`` whose outcome is
  "rebased", "conflicted" or "obsolete"; one Merger serves every sibling of an accept
  (``app.diffing.merge.merge(base, accepted, proposal)`` does it once);
  ``SiblingMerges(new_text, count)`` does all the merges of one accept within one time budget.
* ``compare_paragraphs(old, new)``: two versions of a statement, paragraphs matched by id; the
  word diffs share one budget, after which changed paragraphs are shown whole (``coarse``).
* ``blame(revisions)``: the final text in runs attributed to the revision that introduced them.
* ``text_change(old, new)``, ``load_ops``, ``dump_ops``: diffs stored with what they describe.
"""

from app.diffing.blame import blame
from app.diffing.merge import CONFLICTED, OBSOLETE, REBASED, Merger, MergeResult, SiblingMerges
from app.diffing.paragraphs import ParagraphChange, compare_paragraphs
from app.diffing.stored import dump_ops, load_ops, text_change
from app.diffing.tokens import tokenise
from app.diffing.words import DELETE, EQUAL, INSERT, WordDiff, bounded_word_diff, render_diff, word_diff

__all__ = [
    "CONFLICTED",
    "DELETE",
    "EQUAL",
    "INSERT",
    "OBSOLETE",
    "REBASED",
    "Merger",
    "MergeResult",
    "ParagraphChange",
    "SiblingMerges",
    "WordDiff",
    "blame",
    "bounded_word_diff",
    "compare_paragraphs",
    "dump_ops",
    "load_ops",
    "render_diff",
    "text_change",
    "tokenise",
    "word_diff",
]
