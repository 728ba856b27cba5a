"""The diffing module: word diffs, rendering, paragraph comparison, blame (the merge: test_merge.py).

Plain unit tests: no app, no database.
"""

from __future__ import annotations

import random

import pytest
from markupsafe import Markup

from app.diffing import (
    DELETE,
    EQUAL,
    INSERT,
    ParagraphChange,
    blame,
    compare_paragraphs,
    render_diff,
    tokenise,
    word_diff,
)
from app.diffing import tokens as tokens_module
from app.diffing.merge import merge


def old_of(ops):
    return "".join(text for op, text in ops if op != INSERT)


def new_of(ops):
    return "".join(text for op, text in ops if op != DELETE)


def edits(ops):
    return [(op, text) for op, text in ops if op != EQUAL]


TRICKY = [
    "",
    "word",
    " ",
    "\n",
    "Plain sentence, with a comma.",
    "Line one\nline two\n\nnew paragraph\r\nwindows line",
    "Café café été क्षि हिन्दी",  # combining, Devanagari
    "שלום עולם, السلام عليكمُ",  # RTL
    "\u200fRTL mark\u200e and \u202eoverride\u202c",
    "Emoji \U0001f600 \U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f44d\U0001f3fd \U0001f1eb\U0001f1f7!",
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3002\u4e2d\u6587\u6587\u672c\u3002",
    "Tabs\tand  double  spaces   and trailing space ",
    "<script>alert('x')</script> &amp; &lt; \"quotes\" 'single'",
    "1,500 3.14 10:30 1/2 2024-05-12 50% $1,000,000.00",
    "don't so-called well\u2011known l\u2019homme rock 'n' roll 'quoted'",
    "...---!!! ?! \u2014 \u2013 \u00ab\u00a0guillemets\u00a0\u00bb",
    "\x00\x01\x02 control \x1f chars \ud7ff \ue000 \uffff \U0010ffff",
    "\u0301 starts with a combining mark",
]


# --- tokenise ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", TRICKY)
def test_tokens_join_back_to_the_text(text):
    tokens = tokenise(text)
    assert "".join(tokens) == text
    assert all(tokens)


def test_tokens_random_text_joins_back():
    rng = random.Random(1)
    alphabet = "ab \n\t.,'-\u2019\u0301\u200d\U0001f600\U0001f3fd\U0001f1eb\u65e5\u0627\u064e19:/\x00"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert "".join(tokenise(text)) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Don't stop.", ["Don't", " ", "stop", "."]),
        ("the so-called plan", ["the", " ", "so-called", " ", "plan"]),
        ("l\u2019homme", ["l\u2019homme"]),
        ("1,500 people, 3.14", ["1,500", " ", "people", ",", " ", "3.14"]),
        ("at 10:30 on 2024-05-12", ["at", " ", "10:30", " ", "on", " ", "2024-05-12"]),
        ("end. Next", ["end", ".", " ", "Next"]),
        ("wait... what?!", ["wait", "...", " ", "what", "?", "!"]),
        ("a -- b", ["a", " ", "--", " ", "b"]),
        ("(see above)", ["(", "see", " ", "above", ")"]),
        ("café हिन्दी", ["café", " ", "हिन्दी"]),
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f44d\U0001f3fd", [
            "\U0001f468\u200d\U0001f469\u200d\U0001f467", " ", "\U0001f44d\U0001f3fd"]),
        ("\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea", ["\U0001f1eb\U0001f1f7", "\U0001f1e9\U0001f1ea"]),
        ("\u65e5\u672c\u8a9e", ["\u65e5", "\u672c", "\u8a9e"]),
        ("a\n\nb", ["a", "\n\n", "b"]),
        ("students' rights", ["students", "'", " ", "rights"]),
    ],
)
def test_tokenisation_keeps_words_whole(text, expected):
    assert tokenise(text) == expected


# --- word_diff -----------------------------------------------------------------------------


PAIRS = [
    ("", ""),
    ("", "new text"),
    ("old text", ""),
    ("same", "same"),
    ("Same text.\nTwo lines.", "Same text.\nTwo lines."),
    *[(a, b) for a in TRICKY for b in TRICKY[::3]],
    ("line one\nline two", "line one\n\nline two\nline three"),
    ("caf\u00e9", "cafe\u0301"),  # NFC vs NFD: different strings
    ("\U0001f600 smile", "\U0001f601 smile \U0001f600"),
]


@pytest.mark.parametrize("old, new", PAIRS)
def test_ops_reconstruct_both_texts(old, new):
    ops = word_diff(old, new)
    assert old_of(ops) == old
    assert new_of(ops) == new
    assert all(text for _, text in ops)
    assert all(op in (DELETE, EQUAL, INSERT) for op, _ in ops)


def test_random_pairs_reconstruct_and_cut_only_at_token_boundaries():
    rng = random.Random(7)
    words = ["the", "cat", "sat", "on", "mat", "1,500", "don't", ",", ".", " ", "  ", "\n",
             "\u00e9t\u00e9", "\U0001f600", "\u65e5", "so-called"]
    for _ in range(300):
        old = "".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        new_tokens = tokenise(old)
        for _ in range(rng.randint(0, 5)):
            position = rng.randint(0, len(new_tokens))
            if new_tokens and rng.random() < 0.5:
                del new_tokens[min(position, len(new_tokens) - 1)]
            else:
                new_tokens.insert(position, rng.choice(words))
        new = "".join(new_tokens)
        ops = word_diff(old, new)
        assert old_of(ops) == old and new_of(ops) == new
        # Every cut falls between two tokens of the text it belongs to.
        for text, keep in ((old, INSERT), (new, DELETE)):
            boundaries = {0}
            for token in tokenise(text):
                boundaries.add(max(boundaries) + len(token))
            position = 0
            for op, piece in ops:
                if op == keep:
                    continue
                assert position in boundaries
                position += len(piece)


def test_identical_texts_are_one_equal():
    assert word_diff("The same.", "The same.") == [(EQUAL, "The same.")]
    assert word_diff("", "") == []


def test_one_changed_word_is_one_delete_and_one_insert():
    ops = word_diff(
        "The parties call for an immediate ceasefire in the region.",
        "The parties call for a lasting ceasefire in the region.",
    )
    assert edits(ops) == [(DELETE, "an immediate"), (INSERT, "a lasting")]

    ops = word_diff("We strongly condemn the attack.", "We firmly condemn the attack.")
    assert ops == [(EQUAL, "We "), (DELETE, "strongly"), (INSERT, "firmly"), (EQUAL, " condemn the attack.")]


def test_similar_words_are_not_cut_into_fragments():
    ops = word_diff("The testing of parting words.", "The ingot of ingress words.")
    assert edits(ops) == [(DELETE, "testing"), (INSERT, "ingot"), (DELETE, "parting"), (INSERT, "ingress")]
    ops = word_diff("They were informed.", "They were uninformed.")
    assert edits(ops) == [(DELETE, "informed"), (INSERT, "uninformed")]


def test_number_change_reads_as_whole_numbers():
    ops = word_diff("More than 1,500 people were displaced.", "More than 2,000 people were displaced.")
    assert ops == [
        (EQUAL, "More than "),
        (DELETE, "1,500"),
        (INSERT, "2,000"),
        (EQUAL, " people were displaced."),
    ]


def test_punctuation_changes_alone():
    ops = word_diff("We agree, however, that it failed.", "We agree; however, that it failed!")
    assert edits(ops) == [(DELETE, ","), (INSERT, ";"), (DELETE, "."), (INSERT, "!")]


def test_inserted_word_takes_its_space_along():
    ops = word_diff("The cat sat on the mat.", "The black cat sat on the mat.")
    assert ops == [(EQUAL, "The "), (INSERT, "black "), (EQUAL, "cat sat on the mat.")]


def test_unicode_words_stay_whole():
    ops = word_diff("\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
                    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0646\u0627\u0633")
    assert edits(ops) == [(DELETE, "\u0628\u0627\u0644\u0639\u0627\u0644\u0645"),
                          (INSERT, "\u0628\u0627\u0644\u0646\u0627\u0633")]
    ops = word_diff("cafe\u0301 noir", "cafe\u0301 au lait")
    assert ops[0] == (EQUAL, "cafe\u0301 ")
    ops = word_diff("We \U0001f44d\U0001f3fd it", "We \U0001f44d\U0001f3ff it")
    assert edits(ops) == [(DELETE, "\U0001f44d\U0001f3fd"), (INSERT, "\U0001f44d\U0001f3ff")]


def test_running_out_of_codes_still_diffs_exactly(monkeypatch):
    """With more distinct tokens than code points, the rest of a text becomes one token."""
    monkeypatch.setattr(tokens_module, "CAPACITY", 12)
    old = " ".join(f"w{i}" for i in range(40))
    new = " ".join(f"w{i}" for i in range(3, 50))
    ops = word_diff(old, new)
    assert old_of(ops) == old and new_of(ops) == new
    # Coarser tokens can only make a merge more cautious, never wrong.
    proposal = old.replace("w20 ", "x20 ")
    result = merge(old, old + " end", proposal, budget=5)
    assert (result.outcome, result.text) in (("conflicted", None), ("rebased", proposal + " end"))


def test_many_distinct_tokens_do_not_exhaust_the_code_space():
    old = " ".join(f"t{i}" for i in range(150_000))  # about 1 MB
    new = old.replace("t77777 ", "changed ")
    ops = word_diff(old, new)
    assert edits(ops) == [(DELETE, "t77777"), (INSERT, "changed")]


def test_code_points_skip_surrogates():
    codes = [tokens_module._code(n) for n in range(0xD800 - 0x40, 0xD800 + 0x40)]
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in codes)
    assert len(set(codes)) == len(codes)
    assert ord(tokens_module._code(tokens_module.CAPACITY - 1)) == 0x10FFFF


# --- render_diff ---------------------------------------------------------------------------


def test_render_marks_changes_and_escapes_everything():
    html = render_diff(word_diff("Keep <b>this</b> & that", "Keep <script>alert(1)</script> &amp; <b>that"))
    assert isinstance(html, Markup)
    assert "<script>" not in html and "<b>" not in html
    assert "<ins>" in html and "<del>" in html

    html = render_diff(word_diff("Keep this.", "Keep <script>alert(1)</script> &amp; this."))
    assert str(html) == "Keep<ins> &lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;</ins> this."


def test_render_exact_markup():
    ops = [(EQUAL, "a "), (DELETE, "<old>"), (INSERT, "'new' & \"more\""), (EQUAL, "")]
    assert str(render_diff(ops)) == (
        "a <del>&lt;old&gt;</del><ins>&#39;new&#39; &amp; &#34;more&#34;</ins>"
    )
    assert render_diff([]) == Markup("")


def test_render_rejects_unknown_ops():
    with pytest.raises(ValueError):
        render_diff([(2, "x")])


# --- compare_paragraphs --------------------------------------------------------------------


def summary(rows):
    return [(r.kind, r.paragraph_id, r.old_number, r.new_number, r.moved) for r in rows]


def test_compare_identifies_every_kind_by_id():
    old = [(1, "First."), (2, "Second paragraph."), (3, "Third."), (4, "Fourth."), (5, "Fifth.")]
    new = [(1, "First."), (3, "Third, amended."), (6, "A new one."), (4, "Fourth."), (5, "Fifth.")]
    rows = compare_paragraphs(old, new)
    assert summary(rows) == [
        ("unchanged", 1, 1, 1, False),
        ("deleted", 2, 2, None, False),
        ("changed", 3, 3, 2, False),
        ("inserted", 6, None, 3, False),
        ("unchanged", 4, 4, 4, False),
        ("unchanged", 5, 5, 5, False),
    ]
    assert all(isinstance(r, ParagraphChange) for r in rows)
    assert rows[0].ops == [(EQUAL, "First.")]
    assert rows[1].ops == [(DELETE, "Second paragraph.")]
    assert rows[2].ops == word_diff("Third.", "Third, amended.")
    assert rows[3].ops == [(INSERT, "A new one.")]


def test_compare_matches_by_id_not_position():
    old = [("a", "Same words."), ("b", "Other words.")]
    new = [("b", "Same words."), ("a", "Other words.")]  # texts swapped between ids
    rows = compare_paragraphs(old, new)
    assert [r.kind for r in rows] == ["changed", "changed"]
    assert summary(rows)[0][:4] == ("changed", "b", 2, 1)


def test_one_moved_paragraph_does_not_mark_the_others_moved():
    old = [(i, f"Paragraph {i}.") for i in range(1, 7)]
    new = [old[0], old[5], *old[1:5]]  # 6 moved up to second place
    rows = compare_paragraphs(old, new)
    assert summary(rows) == [
        ("unchanged", 1, 1, 1, False),
        ("moved", 6, 6, 2, True),
        ("unchanged", 2, 2, 3, False),
        ("unchanged", 3, 3, 4, False),
        ("unchanged", 4, 4, 5, False),
        ("unchanged", 5, 5, 6, False),
    ]
    assert rows[1].ops == [(EQUAL, "Paragraph 6.")]


def test_moved_and_changed_is_changed_with_moved_flag():
    old = [(1, "Alpha."), (2, "Beta."), (3, "Gamma.")]
    new = [(3, "Gamma, revised."), (1, "Alpha."), (2, "Beta.")]
    rows = compare_paragraphs(old, new)
    assert summary(rows) == [
        ("changed", 3, 3, 1, True),
        ("unchanged", 1, 1, 2, False),
        ("unchanged", 2, 2, 3, False),
    ]


def test_deleted_paragraphs_stay_where_they_were():
    old = [(1, "One."), (2, "Two."), (3, "Three."), (4, "Four."), (5, "Five.")]
    new = [(3, "Three."), (5, "Five."), (7, "Seven.")]
    rows = compare_paragraphs(old, new)
    assert summary(rows) == [
        ("deleted", 1, 1, None, False),
        ("deleted", 2, 2, None, False),
        ("unchanged", 3, 3, 1, False),
        ("deleted", 4, 4, None, False),
        ("unchanged", 5, 5, 2, False),
        ("inserted", 7, None, 3, False),
    ]


def test_compare_empty_and_identical_versions():
    assert compare_paragraphs([], []) == []
    same = [(1, "One."), (2, "Two.")]
    assert [r.kind for r in compare_paragraphs(same, same)] == ["unchanged", "unchanged"]
    assert summary(compare_paragraphs([], same)) == [
        ("inserted", 1, None, 1, False),
        ("inserted", 2, None, 2, False),
    ]
    assert summary(compare_paragraphs(same, [])) == [
        ("deleted", 1, 1, None, False),
        ("deleted", 2, 2, None, False),
    ]


def test_compare_rejects_duplicate_ids():
    with pytest.raises(ValueError):
        compare_paragraphs([(1, "a"), (1, "b")], [])


def test_reversed_order_keeps_one_paragraph_in_place():
    old = [(i, f"P{i}") for i in range(5)]
    rows = compare_paragraphs(old, old[::-1])
    assert sum(not r.moved for r in rows) == 1
    assert sum(r.kind == "moved" for r in rows) == 4


# --- blame ---------------------------------------------------------------------------------


def test_blame_three_revisions():
    runs = blame(
        [
            ("The cat sat on the mat.", "draft"),
            ("The black cat sat on the mat.", "amendment 1"),
            ("The black cat sat on the red rug.", "amendment 2"),
        ]
    )
    assert runs == [
        ("The ", "draft"),
        ("black ", "amendment 1"),
        ("cat sat on the ", "draft"),
        ("red rug", "amendment 2"),
        (".", "draft"),
    ]


def test_blame_merges_runs_and_rebuilds_the_text():
    revisions = [
        ("Alpha beta gamma.", ("A", 1)),
        ("Alpha beta delta gamma.", ("B", 2)),
        ("Alpha beta delta gamma epsilon.", ("B", 2)),
        ("Omega alpha beta delta gamma epsilon.", ("C", 3)),
        ("Omega alpha beta delta gamma epsilon.", ("D", 4)),  # no change: no credit
    ]
    runs = blame(revisions)
    assert "".join(text for text, _ in runs) == revisions[-1][0]
    assert runs == [
        ("Omega alpha", ("C", 3)),
        (" beta ", ("A", 1)),
        ("delta ", ("B", 2)),
        ("gamma", ("A", 1)),
        (" epsilon", ("B", 2)),
        (".", ("A", 1)),
    ]
    assert all(runs[i][1] != runs[i + 1][1] for i in range(len(runs) - 1))


def test_blame_edge_cases():
    assert blame([]) == []
    assert blame([("", "a")]) == []
    assert blame([("Only.", "a")]) == [("Only.", "a")]
    assert blame([("Gone.", "a"), ("", "b")]) == []
    assert blame([("", "a"), ("New.", "b")]) == [("New.", "b")]


# --- size ----------------------------------------------------------------------------------


def _statement(rng: random.Random, paragraphs: int, words: int) -> list[tuple[int, str]]:
    vocabulary = [f"word{i}" for i in range(3000)] + ["the", "of", "and", "1,500", "don't", "peace"]
    result = []
    for pid in range(paragraphs):
        chosen = [rng.choice(vocabulary) for _ in range(words)]
        result.append((pid, " ".join(chosen) + "."))
    return result


def test_a_40000_word_statement_is_diffed_whole_and_by_paragraph():
    rng = random.Random(3)
    old = _statement(rng, 300, 135)  # about 40,000 words
    new = [(pid, text.replace("the ", "a ", 1) if pid % 7 == 0 else text) for pid, text in old]
    del new[150]
    new.insert(20, new.pop(250))
    new.insert(100, (999, "A brand new paragraph."))

    rows = compare_paragraphs(old, new)
    assert len(rows) == 301
    assert sum(r.kind == "deleted" for r in rows) == 1
    assert sum(r.moved for r in rows) == 1

    old_text = "\n\n".join(text for _, text in old)
    new_text = "\n\n".join(text for _, text in new)
    ops = word_diff(old_text, new_text)
    assert old_of(ops) == old_text and new_of(ops) == new_text
    runs = blame([(old_text, "v1"), (new_text, "v2")])
    assert "".join(text for text, _ in runs) == new_text
