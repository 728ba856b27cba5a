"""Rebasing an amendment onto a paragraph text that changed under it (promise 5)."""

from __future__ import annotations

import functools

from app.diffing.tokens import Codebook
from app.diffing.words import EQUAL, TokenDMP, encoded_word_diff

# Patches are made and applied on token-encoded strings, so every length
# below counts tokens (a word, a run of whitespace, a punctuation mark).
PATCH_MARGIN = 4  # context kept either side of an edit: about two words
# Below the score of one error in the longest pattern (1 / Match_MaxBits),
# so only exact matches of a patch's context and deleted words are accepted.
_EXACT_ONLY = 0.25 / 32


@functools.lru_cache(maxsize=64)
def _drift(base: str, new_base: str) -> int:
    """How far the other change can have moved any text: every token it inserted or deleted.

    Cached: accepting an amendment rebases every sibling against the same two texts.
    """
    book = Codebook()
    enc_base, enc_new_base = book.encode(base, reserve=1), book.encode(new_base)
    dmp = TokenDMP(book)
    return sum(len(text) for op, text in encoded_word_diff(dmp, enc_base, enc_new_base) if op != EQUAL)


def rebase(base: str, proposal: str, new_base: str) -> str | None:
    """Carry the change ``base`` -> ``proposal`` over onto ``new_base``.

    Returns the rebased proposal, or None when any part of the change does
    not apply cleanly (a conflict: the proposer must revise).

    Strict by design: a patch applies only where the words it deletes and
    about two words of context either side are found verbatim in
    ``new_base``, no further from where they were than the other change
    could have moved them. So two amendments touching the same or adjacent
    words conflict, and amendments to different sentences both apply.
    """
    if base == new_base:
        return proposal
    if proposal == base:
        return new_base
    book = Codebook()
    enc_base = book.encode(base, reserve=2)
    enc_proposal = book.encode(proposal, reserve=1)
    enc_new_base = book.encode(new_base)

    dmp = TokenDMP(book)
    dmp.Patch_Margin = PATCH_MARGIN
    patches = dmp.patch_make(enc_base, encoded_word_diff(dmp, enc_base, enc_proposal))

    drift = _drift(base, new_base)
    dmp.Match_Threshold = _EXACT_ONLY
    dmp.Match_Distance = (drift + 1) / _EXACT_ONLY
    dmp.Patch_DeleteThreshold = 0.0  # a long deletion must find its text unchanged

    result, applied = dmp.patch_apply(patches, enc_new_base)
    if not all(applied):
        return None
    return book.decode(result)
