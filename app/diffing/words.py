"""Word-level diffs with diff-match-patch, and their HTML rendering."""

from __future__ import annotations

from collections.abc import Iterable

from diff_match_patch import diff_match_patch
from markupsafe import Markup, escape

from app.diffing.tokens import Codebook

DELETE, EQUAL, INSERT = -1, 0, 1

Ops = list[tuple[int, str]]


class TokenDMP(diff_match_patch):
    """diff-match-patch working on token-encoded strings (one character per token).

    Every diff, cleanup and patch runs on the encoded strings, so no edit can
    ever start or end inside a word (cleaning up the decoded text instead
    would let the overlap and sideways-shift steps of ``diff_cleanupSemantic``
    cut words into fragments). The one step that looks at what the characters
    mean, the sideways shift that aligns edits to word boundaries, is
    overridden to score boundaries by the tokens the codes stand for.
    """

    def __init__(self, book: Codebook):
        super().__init__()
        self.book = book

    def _boundary_score(self, one: str, two: str) -> int:
        """diff_cleanupSemanticScore, on the tokens either side of the boundary."""
        if not one or not two:
            return 6  # edges are the best
        left = self.book.token(one[-1])
        right = self.book.token(two[0])
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

    def diff_cleanupSemanticLossless(self, diffs):
        """Shift single edits between equalities sideways, by whole tokens, to the best boundary."""
        score = self._boundary_score
        pointer = 1
        while pointer < len(diffs) - 1:
            if diffs[pointer - 1][0] == EQUAL and diffs[pointer + 1][0] == EQUAL:
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
                best = (equality1, edit, equality2)
                best_score = score(equality1, edit) + score(edit, equality2)
                while edit and equality2 and edit[0] == equality2[0]:
                    equality1 += edit[0]
                    edit = edit[1:] + equality2[0]
                    equality2 = equality2[1:]
                    current = score(equality1, edit) + score(edit, equality2)
                    # >= prefers trailing rather than leading whitespace on edits.
                    if current >= best_score:
                        best_score = current
                        best = (equality1, edit, equality2)

                best_equality1, best_edit, best_equality2 = best
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


def word_diff(old: str, new: str) -> Ops:
    """Word-level diff of ``old`` and ``new`` as diff-match-patch ops.

    Joining the texts of the EQUAL and DELETE ops gives ``old``; of the EQUAL
    and INSERT ops, ``new``. Edits always cover whole tokens.
    """
    if old == new:
        return [(EQUAL, old)] if old else []
    if not old:
        return [(INSERT, new)]
    if not new:
        return [(DELETE, old)]
    book = Codebook()
    a = book.encode(old, reserve=1)
    b = book.encode(new)
    diffs = encoded_word_diff(TokenDMP(book), a, b)
    return [(op, book.decode(text)) for op, text in diffs]


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
