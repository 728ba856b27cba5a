"""The word-level three-way merge that carries open amendments across an accepted one (promise 5).

Plain unit tests and property tests: no app, no database. Budgets are
generous (or zero, on purpose) so that no outcome depends on the machine's speed.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.diffing import (
    CONFLICTED,
    DELETE,
    EQUAL,
    INSERT,
    OBSOLETE,
    REBASED,
    Merger,
    SiblingMerges,
    tokenise,
    word_diff,
)
from app.diffing import merge as merge_module
from app.diffing.merge import merge
from app.diffing.words import TokenDMP

ROOMY = 10.0  # seconds: no diff in these tests comes near it


def both_ways(base: str, one: str, other: str) -> tuple:
    """Merge each across the other; the outcomes' texts (None when conflicted) must agree."""
    first = merge(base, one, other, budget=ROOMY)
    second = merge(base, other, one, budget=ROOMY)
    assert (first.outcome == CONFLICTED) == (second.outcome == CONFLICTED)
    assert first.text == second.text
    return first, second


def changes(old: str, new: str) -> list[tuple[int, str]]:
    return [(op, text) for op, text in word_diff(old, new) if op != EQUAL]


# --- the examples, in other words --------------------------------------------------------

FARES = "Fares rose by two percent on the northern line."


def test_a_change_three_words_away_is_kept_with_the_accepted_one():
    """Accepted "two" -> "three"; open inserts a word three words further on: rebased, holding both."""
    accepted = FARES.replace("two", "three")
    proposal = FARES.replace("the northern", "the busy northern")
    result = merge(FARES, accepted, proposal, budget=ROOMY)
    assert (result.outcome, result.text) == (REBASED, "Fares rose by three percent on the busy northern line.")
    assert changes(accepted, result.text) == [(INSERT, "busy ")]


def test_the_same_word_changed_differently_conflicts_in_either_order():
    """Accepted "two" -> "three", open "two" -> "four": conflicted, whichever was accepted."""
    first, second = both_ways(FARES, FARES.replace("two", "three"), FARES.replace("two", "four"))
    assert first.outcome == second.outcome == CONFLICTED
    assert first.text is None
    assert [FARES[s:e] for s, e in first.collisions] == ["two"]


def test_an_amendment_keeps_only_what_it_adds_beyond_the_accepted_change():
    """The accepted change is part of the open one: rebased, its only change left is the rest."""
    accepted = FARES.replace("two", "three")
    proposal = accepted.replace("on the northern", "on every northern")
    result = merge(FARES, accepted, proposal, budget=ROOMY)
    assert (result.outcome, result.text) == (REBASED, proposal)
    assert changes(accepted, result.text) == [(DELETE, "the"), (INSERT, "every")]
    # The other way round the amendment holding less has nothing left: obsolete.
    assert merge(FARES, proposal, accepted, budget=ROOMY).outcome == OBSOLETE


def test_an_amendment_whose_whole_change_is_already_in_the_text_is_obsolete():
    """The same change accepted: obsolete, with the new text, never rebased to a no-op."""
    same = FARES.replace("two", "three")
    result = merge(FARES, same, same, budget=ROOMY)
    assert (result.outcome, result.text) == (OBSOLETE, same)


COUNCIL = "The council meets on the first Monday, with minutes published online"


@pytest.mark.parametrize("friday_first", [True, False])
def test_the_council_example_merges_in_both_orders(friday_first):
    """Issue 16's report: "Monday" -> "Friday" and "promptly" before "published" both survive, either order."""
    friday = COUNCIL.replace("Monday", "Friday")
    promptly = COUNCIL.replace("published", "promptly published")
    accepted, proposal = (friday, promptly) if friday_first else (promptly, friday)
    result = merge(COUNCIL, accepted, proposal, budget=ROOMY)
    assert (result.outcome, result.text) == (
        REBASED, "The council meets on the first Friday, with minutes promptly published online")


# --- what touches and what does not ----------------------------------------------------------------

BASE = (
    "We call for peace. We demand justice for the victims of the conflict. "
    "We seek the truth about what happened in the valley."
)


def test_one_unchanged_word_between_is_enough():
    """Changes with one unchanged word between them never conflict, whatever they are."""
    first, _ = both_ways(BASE, BASE.replace("demand justice", "demand full justice"),
                         BASE.replace("the victims", "all victims"))
    assert first.text == BASE.replace("demand justice for the victims", "demand full justice for all victims")
    first, _ = both_ways(BASE, BASE.replace("for the victims", "for victims"), BASE.replace("conflict", "war"))
    assert first.text == BASE.replace("for the victims of the conflict", "for victims of the war")


@pytest.mark.parametrize("one, other", [
    # Both insert at the same point.
    (("the truth", "the whole truth"), ("the truth", "the plain truth")),
    # An insertion right after a changed word.
    (("justice for", "reparations for"), ("justice for", "justice now for")),
    # Two words with only a space between them.
    (("the victims", "these victims"), ("victims of", "survivors of")),
    # Only punctuation and space between them: not words.
    (("for peace. We demand", "for peace. They demand"), ("for peace.", "for a ceasefire.")),
    # A deletion running up to a changed word.
    (("happened in the valley", "happened"), ("what happened", "what occurred")),
])
def test_changes_with_no_unchanged_word_between_conflict(one, other):
    """Touching changes (overlapping, or only whitespace and punctuation between) are a conflict."""
    first, second = both_ways(BASE, BASE.replace(*one), BASE.replace(*other))
    assert first.outcome == second.outcome == CONFLICTED
    assert first.collisions


def test_the_same_text_deleted_on_both_sides_is_not_a_conflict():
    """Both delete the same sentence: obsolete; a deletion inside a longer one gives the longer one."""
    gone = BASE.replace(" We demand justice for the victims of the conflict.", "")
    assert merge(BASE, gone, gone, budget=ROOMY).outcome == OBSOLETE
    shorter = BASE.replace(" of the conflict", "")
    first, second = both_ways(BASE, gone, shorter)
    assert (first.outcome, second.outcome, first.text) == (OBSOLETE, REBASED, gone)


def test_a_deletion_inside_the_other_sides_rewrite_is_held_by_it():
    """One deletes a word the other rewrote along with its neighbours: the rewrite holds both changes."""
    rewrite = BASE.replace("the truth about what happened", "an account of the events")
    deletion = BASE.replace("the truth about what", "the truth what")
    first, second = both_ways(BASE, deletion, rewrite)
    assert (first.outcome, first.text) == (REBASED, rewrite)


def test_overlapping_deletions_of_different_words_conflict():
    """Partly overlapping deletions are not the same text: conflicted (neither holds the other)."""
    base = "Wages rose by two percent in the port"
    first, _ = both_ways(base, "Wages two percent in the port", "Wages rose percent in the port")
    assert first.outcome == CONFLICTED


def test_a_rewrite_that_puts_a_deleted_word_back_conflicts():
    """A version holding the other's deletion only if a word it deleted came back is no container: conflicted."""
    base = "They want very big changes"
    first, _ = both_ways(base, "They want big changes", "They want very large changes")
    assert first.outcome == CONFLICTED
    first, _ = both_ways(base, "They want big changes", "They want huge changes")
    assert (first.outcome, first.text) == (REBASED, "They want huge changes")


def test_one_conflicting_change_conflicts_the_whole_amendment():
    """An amendment of two changes, one colliding: conflicted, nothing half-applied."""
    accepted = BASE.replace("the valley", "the hills")
    proposal = BASE.replace("peace", "a ceasefire").replace("the valley", "the river valley")
    first, _ = both_ways(BASE, accepted, proposal)
    assert first.outcome == CONFLICTED
    assert [BASE[s:e] for s, e in first.collisions] == ["valley"]


def test_several_changes_on_each_side_all_apply():
    """Each side changes several places apart from the other's: all of them are in the result."""
    accepted = BASE.replace("victims", "many victims").replace("valley", "northern valley")
    proposal = BASE.replace("peace", "a ceasefire").replace("seek the truth", "seek all the truth")
    first, _ = both_ways(BASE, accepted, proposal)
    assert first.text == (
        "We call for a ceasefire. We demand justice for the many victims of the conflict. "
        "We seek all the truth about what happened in the northern valley."
    )


def test_an_edit_inside_a_deleted_sentence_conflicts_in_either_order():
    """One side deletes a sentence the other edits: conflicted, whichever is accepted."""
    first, _ = both_ways(BASE, BASE.replace(" We demand justice for the victims of the conflict.", ""),
                         BASE.replace("justice", "full justice"))
    assert first.outcome == CONFLICTED


def test_a_long_deletion_merges_with_an_edit_one_sentence_away_not_with_one_next_to_it():
    """A deletion longer than a diff-match-patch pattern: an edit elsewhere merges; one touching it conflicts."""
    long_sentence = " ".join(["The committee heard many witnesses over several long days"] * 3) + "."
    base = f"Opening words of this statement are here. {long_sentence} Closing words here."
    proposal = base.replace(f" {long_sentence}", "")
    assert len(tokenise(long_sentence)) > 32
    first, _ = both_ways(base, base.replace("several long days", "several very long days", 2), proposal)
    assert first.outcome == CONFLICTED
    first, _ = both_ways(base, base.replace("Opening words", "Introductory words"), proposal)
    assert first.text == "Introductory words of this statement are here. Closing words here."
    first, _ = both_ways(base, base.replace("Closing words", "Final words"), proposal)
    assert first.outcome == CONFLICTED


def test_a_change_does_not_land_on_a_look_alike_passage():
    """The sentence an amendment edits was deleted; an identical one elsewhere is not edited instead."""
    base = "We want peace now. They want war. We want peace now, said the others."
    accepted = "They want war. We want peace now, said the others."
    proposal = "We want justice now. They want war. We want peace now, said the others."
    assert merge(base, accepted, proposal, budget=ROOMY).outcome == CONFLICTED


def test_text_moved_by_a_long_insertion_is_followed():
    """600 words put in before the edited sentence: the edit still lands where it belongs."""
    insertion = " ".join(f"word{i}" for i in range(600)) + ". "
    proposal = BASE.replace("the valley", "the river valley")
    first, _ = both_ways(BASE, insertion + BASE, proposal)
    assert first.text == insertion + proposal


def test_unicode_text_merges():
    """Accents, Hebrew and an emoji with a variation selector merge like any words."""
    base = "Nous appelons à la paix. שלום עכשיו. Fin 🕊️."
    first, _ = both_ways(base, base.replace("la paix", "la paix durable"), base.replace("Fin", "Conclusion"))
    assert first.text == "Nous appelons à la paix durable. שלום עכשיו. Conclusion 🕊️."


def test_a_proposal_on_an_unchanged_base_is_kept_and_an_empty_one_is_obsolete():
    """Across no change at all the proposal is kept as it is; a proposal equal to its base has nothing to add."""
    proposal = BASE.replace("peace", "lasting peace")
    assert merge(BASE, BASE, proposal).text == proposal
    accepted = BASE.replace("peace", "a ceasefire")
    assert (merge(BASE, accepted, BASE).outcome, merge(BASE, accepted, BASE).text) == (OBSOLETE, accepted)


def test_one_merger_serves_many_proposals():
    """A Merger rebases any number of proposals across one accepted change, each on its own."""
    accepted = BASE.replace("peace", "a lasting peace")
    merger = Merger(BASE, accepted, budget=ROOMY)
    results = [merger.rebase(BASE.replace("valley", "river valley")), merger.rebase(BASE.replace("peace", "quiet")),
               merger.rebase(accepted), merger.rebase(BASE.replace("valley", "river valley"))]
    assert [r.outcome for r in results] == [REBASED, CONFLICTED, OBSOLETE, REBASED]
    assert results[0] == results[3]
    assert results[0].text == accepted.replace("valley", "river valley")


# --- the time budget -----------------------------------------------------------------------------


def test_when_the_budget_runs_out_the_outcome_is_conflicted():
    """With no time to diff, a proposal changing words among the accepted changes is conflicted, not guessed."""
    accepted = BASE.replace("peace", "a ceasefire").replace("the valley", "the river valley")
    result = merge(BASE, accepted, BASE.replace("victims", "survivors"), budget=0)
    assert (result.outcome, result.text, result.timed_out) == (CONFLICTED, None, True)
    # Changes apart from each other need no diff: they merge whatever the budget.
    result = merge(BASE, accepted, BASE.replace("We call", "We all call"), budget=0)
    assert (result.outcome, result.timed_out) == (REBASED, False)


def test_a_shared_diff_out_of_time_conflicts_only_what_needs_it():
    """When the accepted change's own diff runs out of time, only proposals needing it are conflicted."""
    accepted = BASE.replace("peace", "a ceasefire").replace("valley", "river valley")
    merger = Merger(BASE, accepted, budget=0)
    assert merger.rebase(BASE.replace("justice", "full justice"), budget=ROOMY).timed_out
    outside = Merger(BASE, BASE.replace("peace", "a ceasefire"), budget=0)
    assert outside.rebase(BASE.replace("valley", "river valley"), budget=ROOMY).outcome == REBASED


def test_a_diff_in_too_many_pieces_counts_as_out_of_time(monkeypatch):
    """A diff too fragmented to clean up within the budget conflicts instead of running on."""
    monkeypatch.setattr(merge_module, "MAX_DIFF_OPS", 4)
    accepted = BASE.replace("peace", "a ceasefire")
    proposal = BASE.replace("call", "ask").replace("demand", "want").replace("seek", "look for")
    result = merge(BASE, accepted, proposal, budget=ROOMY)
    assert (result.outcome, result.timed_out) == (CONFLICTED, True)


def test_an_unrelated_ten_thousand_character_rewrite_is_conflicted_within_its_budget():
    """A flood amendment of unrelated words makes a merge give up (conflicted), not run for seconds."""
    rng = random.Random(17)
    words = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(2, 9))) for _ in range(3000)]
    base = " ".join(rng.choice(words) for _ in range(1500))
    flood = " ".join(rng.choice(words) for _ in range(1500))
    accepted = base.replace(" ", " and ", 1)
    result = merge(base, accepted, flood, budget=0.02)
    assert (result.outcome, result.timed_out) == (CONFLICTED, True)


def test_the_siblings_of_one_accept_share_its_budget():
    """Out of budget, siblings needing a diff are conflicted; those apart, or on their own base, still merge."""
    accepted = BASE.replace("peace", "a ceasefire").replace("valley", "river valley")
    spent = SiblingMerges(accepted, 2, budget=0)
    assert spent(BASE, BASE.replace("justice", "full justice")).timed_out
    assert spent(BASE, BASE.replace("We call", "We all call")).text == accepted.replace("We call", "We all call")
    roomy = SiblingMerges(accepted, 2, budget=ROOMY)
    assert roomy(BASE, BASE.replace("justice", "full justice")).text == accepted.replace("justice", "full justice")
    # A sibling written on another text is merged against that text.
    older = BASE.replace("We seek", "We want")
    result = roomy(older, older.replace("justice", "full justice"))
    assert (result.outcome, result.text) == (REBASED, accepted.replace("justice", "full justice"))


# --- encoding only what changed ---------------------------------------------------------------------


TEXTS = st.text(alphabet=st.sampled_from(list("ab c,.\n-'1:é\u0301😀 \u00a0")), max_size=40)


@settings(max_examples=300, deadline=None)
@given(base=TEXTS, proposal=TEXTS, prefix=TEXTS, suffix=TEXTS)
def test_a_proposal_encodes_as_its_whole_text_would(base, proposal, prefix, suffix):
    """Tokenising only what differs from the base gives the same tokens as tokenising the whole proposal."""
    base, proposal = prefix + base + suffix, prefix + proposal + suffix
    merger = Merger(base, base + " x")
    book = merger._book.copy()
    encoded = merger._encode(book, proposal, TokenDMP(book))
    assert [book.token(code) for code in encoded] == tokenise(proposal)


# --- properties ----------------------------------------------------------------------------------------

SEPARATORS = [" ", " ", " ", ", ", ". ", "; ", "  ", "\n", " - ", ": ", "! "]
LETTERS = "abcdefghijklmnopqrstuvwxyzäöüßéñ"


def render(words: list[str], seps: list[str]) -> str:
    return "".join(w + s for w, s in zip(words, seps + [""], strict=True))


def apply_edits(words: list[str], seps: list[str], edits) -> str:
    """Replace word ranges [i, j) by new words (i == j: insert before word i), each range with its separators."""
    pairs = [[w, s] for w, s in zip(words, seps + [""], strict=True)]
    for i, j, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        at_end = j == len(pairs)
        if i == j == len(pairs) and pairs:
            pairs[-1][1] = " "
        pairs[i:j] = [[w, " "] for w in new]
        if at_end and pairs:
            if not new and i > 0:
                pairs[i - 1][1] = ""
            pairs[-1][1] = ""
    return "".join(w + s for w, s in pairs)


@st.composite
def texts_and_edits(draw, most_edits: int = 1):
    """A text of distinct words and random separators, and one or more edits on each of two sides."""
    n = draw(st.integers(1, 14))
    words = draw(st.lists(st.text(LETTERS, min_size=1, max_size=6), min_size=n, max_size=n, unique=True))
    seps = draw(st.lists(st.sampled_from(SEPARATORS), min_size=n - 1, max_size=n - 1))
    fresh = iter(f"New{k}" for k in range(100))  # never in the text (capitalised, with a digit)

    def edit():
        i = draw(st.integers(0, n))
        kind = "insert" if i == n else draw(st.sampled_from(["replace", "insert", "delete"]))
        j = i if kind == "insert" else min(n, i + draw(st.integers(1, 3)))
        new = [] if kind == "delete" else [next(fresh) for _ in range(draw(st.integers(1, 3)))]
        return (i, j, new)

    def side():
        edits = []
        for _ in range(draw(st.integers(1, most_edits))):
            e = edit()
            if all(e[1] < o[0] or o[1] < e[0] for o in edits):  # a word between one side's own edits
                edits.append(e)
        return edits

    one = side()
    other = one if draw(st.integers(0, 9)) == 0 else side()  # now and then the same edit on both sides
    return words, seps, one, other


def apart(one, other) -> bool:
    """At least one unchanged word between every edit of one side and every edit of the other."""
    return all(a[1] < b[0] or b[1] < a[0] for a in one for b in other)


def check_one_edit_each(case) -> None:
    words, seps, one, other = case
    base, a, b = render(words, seps), apply_edits(words, seps, one), apply_edits(words, seps, other)
    first, second = both_ways(base, a, b)
    if one == other:
        assert first.outcome == second.outcome == OBSOLETE
    elif apart(one, other):
        assert first.outcome == REBASED and first.text == apply_edits(words, seps, one + other)
    elif first.outcome != CONFLICTED:
        # Only a deletion inside the other side's deleted or rewritten range is held by it.
        (i, j, new), (k, m, more) = sorted([one[0], other[0]], key=lambda e: (e[1] - e[0], len(e[2])))
        assert not new and k <= i and j <= m
        assert first.text == apply_edits(words, seps, [(k, m, more)])


def check_several_edits_each(case) -> None:
    words, seps, one, other = case
    base, a, b = render(words, seps), apply_edits(words, seps, one), apply_edits(words, seps, other)
    first, _ = both_ways(base, a, b)
    if first.outcome != CONFLICTED and apart(one, other):
        assert first.text == apply_edits(words, seps, one + other)
    if first.outcome == OBSOLETE:
        assert first.text == a


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts_and_edits())
def test_edits_apart_merge_exactly_and_only_touching_edits_conflict(case):
    """One edit each: apart -> both applied, in either order; touching -> conflicted (or the one that holds both)."""
    check_one_edit_each(case)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts_and_edits(most_edits=3))
def test_a_clean_merge_of_several_edits_is_never_wrong(case):
    """Several edits each: a clean merge of edits apart is exactly all of them; symmetric in either order."""
    check_several_edits_each(case)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.lists(st.sampled_from(["a", "b", "the", "of", " ", " ", ", ", ". "]), max_size=24).map("".join),
    edits=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 4), st.sampled_from(["", "a", "of the", "x ", "."])),
                   min_size=2, max_size=4),
)
def test_repetitive_texts_merge_the_same_in_either_order(base, edits):
    """Texts of few, repeated words (where diffs can align several ways): the outcome never depends on order."""
    def edited(chosen):
        text = base
        for at, length, new in chosen:
            at = min(at, len(text))
            text = text[:at] + new + text[at + length:]
        return text

    half = len(edits) // 2
    a, b = edited(edits[:half]), edited(edits[half:])
    first, second = both_ways(base, a, b)
    if first.outcome == OBSOLETE:
        assert first.text == a
    if first.outcome == REBASED:
        assert first.text != a


@pytest.mark.slow
@settings(max_examples=5_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts_and_edits(most_edits=3))
def test_many_more_random_merges_are_never_wrong(case):
    """The properties above on many more cases (make test-slow)."""
    words, seps, one, other = case
    check_one_edit_each((words, seps, one[:1], other[:1]))
    check_several_edits_each(case)


# --- issue 16's measurement on a real statement ----------------------------------------------------

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "joint-statement-2022-02-21.txt"


def _reference_paragraphs() -> list[str]:
    if not REFERENCE.exists():
        pytest.skip(f"{REFERENCE} is not here (it lives beside the repository, not in it)")
    paragraphs = []
    for block in re.split(r"\n\s*\n", REFERENCE.read_text(encoding="utf-8")):
        numbered = re.match(r"\s*\d+\.\s+(.*)", block, re.S)
        if numbered:
            paragraphs.append(" ".join(numbered.group(1).split()))
    return paragraphs


def test_one_word_edits_on_a_real_statement_merge_when_a_word_lies_between():
    """400 random pairs of one-word edits on the reference statement, 1-4 words apart: none conflicts."""
    rng = random.Random(16)
    paragraphs = _reference_paragraphs()
    vocabulary = sorted({t for p in paragraphs for t in tokenise(p) if t.isalpha()})
    done = 0
    while done < 400:
        base = rng.choice(paragraphs)
        tokens = tokenise(base)
        offsets = [0]
        for token in tokens:
            offsets.append(offsets[-1] + len(token))
        words = [k for k, t in enumerate(tokens) if any(c.isalnum() for c in t)]
        between = rng.randint(1, 4)
        if len(words) < between + 2:
            continue
        first = rng.randrange(len(words) - between - 1)
        edits = []
        for n, k in enumerate((words[first], words[first + between + 1])):
            new = rng.choice([w for w in rng.sample(vocabulary, 3) if w != tokens[k]])
            kind = rng.choice(["replace", "insert", "delete"])
            start, end = offsets[k], offsets[k + 1]
            if kind == "replace":
                edits.append((start, end, new))
            elif kind == "insert":  # after the first word, before the second: the words between stay as many
                edits.append((end, end, " " + new) if n == 0 else (start, start, new + " "))
            else:
                edits.append((offsets[k - 1] if k and tokens[k - 1].isspace() else start, end, ""))
        (s1, e1, t1), (s2, e2, t2) = edits
        one, other = base[:s1] + t1 + base[e1:], base[:s2] + t2 + base[e2:]
        result, _ = both_ways(base, one, other)
        assert (result.outcome, result.text) == (REBASED, base[:s1] + t1 + base[e1:s2] + t2 + base[e2:])
        done += 1
