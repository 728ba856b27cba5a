"""Rebasing an amendment onto a paragraph text that changed under it (promise 5)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from app.diffing.tokens import Codebook
from app.diffing.words import EQUAL, TokenDMP, encoded_word_diff

# Patches are made and applied on token-encoded strings, so every length
# below counts tokens (a word, a run of whitespace, a punctuation mark).
PATCH_MARGIN = 4  # context kept either side of an edit: about two words
# Below the score of one error in the longest pattern (1 / Match_MaxBits),
# so only exact matches of a patch's context and deleted words are accepted.
_EXACT_ONLY = 0.25 / 32


class _Base:
    """One (base, new_base) pair, tokenised, encoded and diffed once for every proposal rebased across it.

    It also knows where the base's whitespace runs start and end. No token but
    a whitespace run contains whitespace, and none looks outside itself, so a
    text cut at the start or the end of a whole whitespace run tokenises as
    its pieces do. A proposal usually changes a few words: its common prefix
    and suffix with the base, cut there, are taken from the base's encoding,
    and only the words in between are tokenised.
    """

    __slots__ = ("text", "book", "encoded", "new_encoded", "drift", "cut_starts", "cut_ends")

    def __init__(self, base: str, new_base: str):
        book = Codebook()
        self.text = base
        self.encoded = book.encode(base, reserve=2)
        self.new_encoded = book.encode(new_base, reserve=1)  # one code stays free for a proposal
        self.book = book
        # How far the other change can have moved any text: every token it inserted or deleted.
        self.drift = sum(
            len(text) for op, text in encoded_word_diff(TokenDMP(book), self.encoded, self.new_encoded)
            if op != EQUAL
        )
        # (offset, index of the token there) where a whitespace run starts, and where one ends.
        starts: list[tuple[int, int]] = []
        ends: list[tuple[int, int]] = []
        offset = 0
        for i, code in enumerate(self.encoded):
            token = book.token(code)
            if token.isspace():
                starts.append((offset, i))
                ends.append((offset + len(token), i + 1))
            offset += len(token)
        self.cut_starts = starts
        self.cut_ends = ends

    def encode_proposal(self, book: Codebook, proposal: str, dmp: TokenDMP) -> str:
        """``book.encode(proposal)``, tokenising only what lies between the common prefix and suffix."""
        base = self.text
        prefix = dmp.diff_commonPrefix(base, proposal)
        suffix = min(dmp.diff_commonSuffix(base, proposal), len(base) - prefix, len(proposal) - prefix)
        # The last whitespace run starting inside the common prefix (not at its very end)...
        k = bisect_right(self.cut_starts, (prefix - 1, len(base))) - 1
        cut, first = self.cut_starts[k] if k >= 0 else (0, 0)
        # ...and the first one ending inside the common suffix (not at its very start).
        k = bisect_left(self.cut_ends, (len(base) - suffix + 1, -1))
        end, last = self.cut_ends[k] if k < len(self.cut_ends) else (len(base), len(self.encoded))
        middle = proposal[cut:len(proposal) - (len(base) - end)]
        return self.encoded[:first] + book.encode(middle) + self.encoded[last:]


class Rebaser:
    """Carries any number of proposals over onto one new text (``rebase`` for many siblings).

    Accepting an amendment rebases every other open amendment of the paragraph
    onto the same new text, nearly always from the same base: the new text and
    each distinct base are tokenised, encoded and diffed once, and of each
    proposal only the part that differs from its base. The result is exactly
    ``rebase()``'s.
    """

    def __init__(self, new_base: str):
        self.new_base = new_base
        self._bases: dict[str, _Base] = {}

    def rebase(self, base: str, proposal: str) -> str | None:
        new_base = self.new_base
        if base == new_base:
            return proposal
        if proposal == base:
            return new_base
        prepared = self._bases.get(base)
        if prepared is None:
            prepared = self._bases[base] = _Base(base, new_base)
        book = prepared.book.copy()  # each proposal's new tokens stay its own
        dmp = TokenDMP(book)
        enc_base = prepared.encoded
        enc_proposal = prepared.encode_proposal(book, proposal, dmp)

        dmp.Patch_Margin = PATCH_MARGIN
        patches = dmp.patch_make(enc_base, encoded_word_diff(dmp, enc_base, enc_proposal))

        dmp.Match_Threshold = _EXACT_ONLY
        dmp.Match_Distance = (prepared.drift + 1) / _EXACT_ONLY
        dmp.Patch_DeleteThreshold = 0.0  # a long deletion must find its text unchanged

        result, applied = dmp.patch_apply(patches, prepared.new_encoded)
        if not all(applied):
            return None
        return book.decode(result)


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
    return Rebaser(new_base).rebase(base, proposal)
