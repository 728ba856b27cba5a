"""Word diffs within a time budget: the linear cleanup gives diff-match-patch's result, and a diff
that runs out of time is coarser but exact. Plain unit tests: no app, no database."""

from __future__ import annotations

import random
import time

import pytest
from diff_match_patch import diff_match_patch

from app.diffing import DELETE, EQUAL, INSERT, compare_paragraphs, tokenise, word_diff
from app.diffing.blame import blame
from app.diffing.tokens import Codebook
from app.diffing.words import OutOfTime, TokenDMP, bounded_word_diff
from app.limits import MAX_PARAGRAPH_CHARS, WORD_DIFF_SECONDS


def old_of(ops):
    return "".join(text for op, text in ops if op != INSERT)


def new_of(ops):
    return "".join(text for op, text in ops if op != DELETE)


def cut_at_token_boundaries(old, new, ops) -> bool:
    """Every edit starts and ends between two tokens of the text it belongs to."""
    for text, keep in ((old, INSERT), (new, DELETE)):
        boundaries, at = {0}, 0
        for token in tokenise(text):
            at += len(token)
            boundaries.add(at)
        position = 0
        for op, piece in ops:
            if op == keep:
                continue
            if position not in boundaries:
                return False
            position += len(piece)
    return True


class ReferenceDMP(TokenDMP):
    """The semantic cleanup as it was: diff-match-patch's own loops, and the sideways shift by slicing."""

    diff_cleanupSemantic = diff_match_patch.diff_cleanupSemantic
    diff_cleanupMerge = diff_match_patch.diff_cleanupMerge
    diff_commonOverlap = diff_match_patch.diff_commonOverlap

    def diff_cleanupSemanticLossless(self, diffs):
        def score(one, two):
            return self._score(one[-1] if one else None, two[0] if two else None)

        pointer = 1
        while pointer < len(diffs) - 1:
            if diffs[pointer - 1][0] == EQUAL and diffs[pointer + 1][0] == EQUAL:
                equality1, edit, equality2 = diffs[pointer - 1][1], diffs[pointer][1], diffs[pointer + 1][1]
                common = self.diff_commonSuffix(equality1, edit)
                if common:
                    common_string = edit[-common:]
                    equality1 = equality1[:-common]
                    edit = common_string + edit[:-common]
                    equality2 = common_string + equality2
                best = (equality1, edit, equality2)
                best_score = score(equality1, edit) + score(edit, equality2)
                while edit and equality2 and edit[0] == equality2[0]:
                    equality1 += edit[0]
                    edit = edit[1:] + equality2[0]
                    equality2 = equality2[1:]
                    current = score(equality1, edit) + score(edit, equality2)
                    if current >= best_score:
                        best_score = current
                        best = (equality1, edit, equality2)
                if diffs[pointer - 1][1] != best[0]:
                    if best[0]:
                        diffs[pointer - 1] = (diffs[pointer - 1][0], best[0])
                    else:
                        del diffs[pointer - 1]
                        pointer -= 1
                    diffs[pointer] = (diffs[pointer][0], best[1])
                    if best[2]:
                        diffs[pointer + 1] = (diffs[pointer + 1][0], best[2])
                    else:
                        del diffs[pointer + 1]
                        pointer -= 1
            pointer += 1


VOCABULARIES = [
    ["a", " ", "b"],
    ["the", " ", "cat", " ", ".", "\n", "\n\n", "sat", ","],
    ["word", " ", "other", " ", "x", "!", "  "],
]


def _random_text(rng, vocabulary, size):
    return "".join(rng.choice(vocabulary) for _ in range(size))


def _random_pair(rng):
    vocabulary = rng.choice(VOCABULARIES)
    old = _random_text(rng, vocabulary, rng.randint(0, 60))
    tokens = tokenise(old)
    for _ in range(rng.randint(0, 12)):
        at = rng.randint(0, len(tokens))
        if tokens and rng.random() < 0.5:
            del tokens[min(at, len(tokens) - 1)]
        else:
            tokens[at:at] = tokenise(_random_text(rng, vocabulary, rng.randint(1, 4)))
    return old, "".join(tokens)


def _raw_ops(rng, book):
    """An arbitrary (not minimal, not merged) diff of two encoded texts, as a cleanup may receive."""
    vocabulary = rng.choice(VOCABULARIES)
    ops = []
    for _ in range(rng.randint(0, 40)):
        text = book.encode(_random_text(rng, vocabulary, rng.randint(1, 5)))
        ops.append((rng.choice((DELETE, EQUAL, INSERT)), text))
    return ops


def test_linear_cleanup_gives_diff_match_patch_results_on_searched_diffs():
    """On the search's output, the rewritten cleanup returns exactly what diff-match-patch's loops did."""
    rng = random.Random(11)
    for _ in range(1500):
        old, new = _random_pair(rng)
        book = Codebook()
        a, b = book.encode(old, reserve=1), book.encode(new)
        searcher = TokenDMP(book)
        searcher.Diff_Timeout = 0  # no time limit: the same search every run
        diffs = searcher.diff_main(a, b, False)
        mine, theirs = list(diffs), list(diffs)
        TokenDMP(book).diff_cleanupSemantic(mine)
        ReferenceDMP(book).diff_cleanupSemantic(theirs)
        assert mine == theirs, (old, new)


def test_linear_cleanup_gives_diff_match_patch_results_on_arbitrary_ops():
    """On unmerged, unordered ops (any list a cleanup can be handed) the results agree too."""
    rng = random.Random(12)
    for _ in range(1500):
        book = Codebook()
        ops = _raw_ops(rng, book)
        mine, theirs = list(ops), list(ops)
        TokenDMP(book).diff_cleanupSemantic(mine)
        ReferenceDMP(book).diff_cleanupSemantic(theirs)
        assert mine == theirs, ops


def test_common_overlap_agrees_with_diff_match_patch_on_repetitive_text():
    """The overlap of a deletion and an insertion is diff-match-patch's, also where its loop is slow."""
    rng = random.Random(13)
    dmp = TokenDMP(Codebook())
    cases = [("ab" * 500, "ba" * 500), ("ab" * 500 + "c", "ab" * 499), ("a" * 300, "a" * 299 + "b"),
             ("xabab", "ababy"), ("", "a"), ("abc", "abc")]
    for _ in range(3000):
        cases.append((_random_text(rng, "ab", rng.randint(0, 40)), _random_text(rng, "ab", rng.randint(0, 40))))
    for one, two in cases:
        assert dmp.diff_commonOverlap(one, two) == diff_match_patch().diff_commonOverlap(one, two), (one, two)


def test_a_spent_budget_gives_the_whole_texts():
    """With no time left, the diff is the old text deleted and the new inserted; equal or empty texts are exact."""
    old, new = "The cat sat on the mat.", "The dog sat on the mat."
    assert bounded_word_diff(old, new, timeout=0) == ([(DELETE, old), (INSERT, new)], False)
    assert word_diff(old, new, deadline=time.monotonic() - 1) == [(DELETE, old), (INSERT, new)]
    assert bounded_word_diff(old, old, timeout=0) == ([(EQUAL, old)], True)
    assert bounded_word_diff("", new, timeout=0) == ([(INSERT, new)], True)
    assert bounded_word_diff(old, "", timeout=0) == ([(DELETE, old)], True)


def test_a_cleanup_out_of_time_keeps_the_common_start_and_end():
    """A budget that runs out after the search gives the common start and end, everything between replaced."""
    old, new = "We ask the council to act now and to act together.", "We ask the city to act now and to act alone."
    assert word_diff(old, new) == [(EQUAL, "We ask the "), (DELETE, "council"), (INSERT, "city"),
                                   (EQUAL, " to act now and to act "), (DELETE, "together"), (INSERT, "alone"),
                                   (EQUAL, ".")]
    # A microsecond is spent before the cleanup starts (tokenising alone takes longer).
    ops, complete = bounded_word_diff(old, new, timeout=1e-6)
    assert not complete
    assert ops == [(EQUAL, "We ask the "), (DELETE, "council to act now and to act together"),
                   (INSERT, "city to act now and to act alone"), (EQUAL, ".")]
    # Even where the search found more (the old text inside the new one), out of time is start, end, replaced.
    assert bounded_word_diff("the river", "save the river now", timeout=1e-6) == \
        ([(DELETE, "the river"), (INSERT, "save the river now")], False)
    assert word_diff("the river", "save the river now") == [(INSERT, "save "), (EQUAL, "the river"), (INSERT, " now")]


def test_cleanups_stop_at_their_deadline():
    """Every cleanup step checks the deadline: past it, they raise instead of running on."""
    book = Codebook()
    one, two, three = (book.encode(word) for word in ("one", " ", "three"))
    late = TokenDMP(book, deadline=time.monotonic() - 1)
    for step, ops in ((late.diff_cleanupSemantic, [(EQUAL, one), (INSERT, two), (EQUAL, three)]),
                      (late.diff_cleanupMerge, [(EQUAL, one), (INSERT, two), (EQUAL, three)]),
                      (late.diff_cleanupSemanticLossless, [(EQUAL, one), (INSERT, two), (EQUAL, three)]),
                      (late._extract_overlaps, [(DELETE, one + two), (INSERT, two + three)])):
        with pytest.raises(OutOfTime):
            step(ops)
        TokenDMP(book).diff_cleanupSemantic(list(ops))  # without a deadline the same ops are fine


def test_the_half_match_shortcut_stops_with_the_search():
    """Once the search is out of time, diff-match-patch's half-match speed-up (which has no deadline) is skipped."""
    book = Codebook()
    a = book.encode("alpha beta gamma delta epsilon zeta eta theta", reserve=1)
    b = book.encode("one beta gamma delta epsilon zeta eta two")
    assert TokenDMP(book).diff_halfMatch(a, b) is not None
    assert TokenDMP(book, search_deadline=time.monotonic() - 1).diff_halfMatch(a, b) is None


def test_the_default_budget_is_the_documented_one():
    """word_diff's default budget is WORD_DIFF_SECONDS, and the search may use most of it, not all."""
    assert bounded_word_diff.__kwdefaults__["timeout"] == WORD_DIFF_SECONDS
    assert word_diff.__kwdefaults__["timeout"] == WORD_DIFF_SECONDS


def test_compare_with_a_spent_budget_shows_changed_paragraphs_whole():
    """Out of time, a changed paragraph is its old text deleted and its new text inserted, marked coarse."""
    old = [(1, "Same text."), (2, "The cat sat."), (3, "Going away."), (4, "Moved here.")]
    new = [(4, "Moved here."), (1, "Same text."), (2, "The dog sat."), (5, "Brand new.")]
    rows = {row.paragraph_id: row for row in compare_paragraphs(old, new, timeout=0)}
    assert rows[2].kind == "changed" and rows[2].coarse
    assert rows[2].ops == [(DELETE, "The cat sat."), (INSERT, "The dog sat.")]
    assert not any(rows[pid].coarse for pid in (1, 3, 4, 5))
    assert rows[3].ops == [(DELETE, "Going away.")] and rows[5].ops == [(INSERT, "Brand new.")]
    assert [row.kind for row in compare_paragraphs(old, new, timeout=0)] == \
        [row.kind for row in compare_paragraphs(old, new)]
    fine = {row.paragraph_id: row for row in compare_paragraphs(old, new)}
    assert not fine[2].coarse and (DELETE, "cat") in fine[2].ops


def test_blame_with_a_spent_budget_credits_the_later_revision():
    """Out of time, blame still rebuilds the text; changed text goes to the revision that wrote it last."""
    revisions = [("The cat sat.", "a"), ("The cat sat down.", "b"), ("The dog sat down.", "c")]
    assert blame(revisions) == [("The ", "a"), ("dog", "c"), (" sat", "a"), (" down", "b"), (".", "a")]
    assert blame(revisions, timeout=0) == [("The dog sat down.", "c")]


def _words(rng, size):
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
                  for _ in range(3000)]
    out, length = [], 0
    while length < size:
        word = rng.choice(vocabulary)
        out.append(word)
        length += len(word) + 1
    return " ".join(out)[:size].strip()


def _pathological(rng):
    n = MAX_PARAGRAPH_CHARS
    return {
        "unrelated words": (_words(rng, n), _words(rng, n)),
        "one huge word": ("x" * n, "y" * n),
        "huge word against words": ("x" * n, _words(rng, n)),
        "one-character tokens": (".,;:!?" * (n // 6), "?!:;,." * (n // 6)),
        "two tokens at random": (" ".join(rng.choice("ab") for _ in range(n // 2)),
                                 " ".join(rng.choice("ab") for _ in range(n // 2))),
        "a repeated word": ("word " * (n // 5), "word " * (n // 10) + "other " * (n // 12)),
        "a repeated pair, shifted": ("a b " * (n // 4), "b a " * (n // 4)),
        "frequent words with noise": (" ".join(rng.choice(["the", "the", "of"]) for _ in range(n // 4)),
                                      " ".join(rng.choice(["the", "the", "of"]) for _ in range(n // 4))),
        "every other word changed": (" ".join(f"w{i}" for i in range(n // 6)),
                                     " ".join(f"w{i}" if i % 2 else f"v{i}" for i in range(n // 6))),
        "Han characters": ("".join(chr(0x4E00 + rng.randint(0, 3)) for _ in range(n)),
                           "".join(chr(0x4E00 + rng.randint(0, 3)) for _ in range(n))),
    }


@pytest.mark.slow
@pytest.mark.parametrize("case", list(_pathological(random.Random(0))))
def test_pathological_paragraphs_at_the_maximum_give_exact_diffs(case):
    """At 10,000 characters, inputs that make diffing slow still give an exact diff cut at token boundaries."""
    old, new = _pathological(random.Random(5))[case]
    assert len(old) <= MAX_PARAGRAPH_CHARS and len(new) <= MAX_PARAGRAPH_CHARS
    ops = word_diff(old, new)
    assert old_of(ops) == old and new_of(ops) == new
    assert all(text for _, text in ops)
    assert cut_at_token_boundaries(old, new, ops)
