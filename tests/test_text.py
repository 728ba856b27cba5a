"""Text rules: normalisation, limits, canonical text and its hash. Pure: no app, no database."""

from __future__ import annotations

import hashlib
import unicodedata

import pytest

from app.drafting.text import (
    MAX_PARAGRAPH_CHARS,
    MAX_PARAGRAPHS,
    MAX_TITLE_CHARS,
    canonical_text,
    check_paragraph_count,
    normalise_paragraph,
    normalise_title,
    sha256_hex,
)
from app.errors import ConcordError, InvalidInput

NBSP = "\u00a0"
DECOMPOSED_E_ACUTE = "e\u0301"
COMPOSED_E_ACUTE = "\u00e9"


# --- normalise_paragraph -------------------------------------------------------


def test_paragraph_is_returned_in_nfc():
    """A decomposed character (e + combining acute) is stored composed (NFC)."""
    result = normalise_paragraph(f"Caf{DECOMPOSED_E_ACUTE} workers")
    assert result == f"Caf{COMPOSED_E_ACUTE} workers"
    assert unicodedata.is_normalized("NFC", result)


def test_paragraph_crlf_and_cr_become_lf():
    """Windows (CRLF) and old Mac (CR) line ends become a single \\n."""
    assert normalise_paragraph("one\r\ntwo\rthree") == "one\ntwo\nthree"


def test_paragraph_tabs_become_spaces():
    """A tab inside a line becomes a space, and is not refused as a control character."""
    assert normalise_paragraph("left\tright") == "left right"


def test_paragraph_tab_at_line_edges_is_stripped():
    """Tabs at the start or end of a line are stripped like spaces."""
    assert normalise_paragraph("\tindented\t") == "indented"


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x7f", "\x85"])
def test_paragraph_control_character_refused_with_clear_message(char):
    """Control characters (other than line ends and tabs) are refused, naming the code point."""
    with pytest.raises(InvalidInput) as caught:
        normalise_paragraph(f"Before{char}after")
    message = caught.value.message
    assert f"U+{ord(char):04X}" in message
    assert "control character" in message
    assert "paragraph" in message


def test_paragraph_lone_surrogate_refused():
    """A lone surrogate (impossible in valid UTF-8) is refused with a clear message."""
    with pytest.raises(InvalidInput, match="surrogate"):
        normalise_paragraph("broken \ud800 text")


def test_paragraph_outer_nbsp_stripped_inner_kept():
    """Non-breaking spaces at the ends are stripped; one inside (e.g. "10\u00a0km") is kept."""
    result = normalise_paragraph(f"{NBSP}{NBSP} It is 10{NBSP}km away.{NBSP} ")
    assert result == f"It is 10{NBSP}km away."


def test_paragraph_each_line_stripped():
    """Every line of a multi-line paragraph is stripped of leading and trailing spaces."""
    assert normalise_paragraph("  first line   \n   second line  ") == "first line\nsecond line"


def test_paragraph_blank_lines_inside_removed():
    """Blank (or whitespace-only) lines inside a paragraph are removed; the text lines stay."""
    raw = "first line\n\n   \n" + NBSP + "\nsecond line\n\n"
    assert normalise_paragraph(raw) == "first line\nsecond line"


@pytest.mark.parametrize("raw", ["", None, "   ", "\n\n", f"{NBSP}\t\r\n"])
def test_paragraph_empty_refused(raw):
    """An empty or whitespace-only paragraph is refused."""
    with pytest.raises(InvalidInput, match="cannot be empty"):
        normalise_paragraph(raw)


def test_paragraph_of_exactly_the_limit_accepted():
    """A paragraph of exactly 10,000 characters is accepted unchanged."""
    assert MAX_PARAGRAPH_CHARS == 10_000
    text = "a" * 10_000
    assert normalise_paragraph(text) == text


def test_paragraph_one_over_the_limit_refused():
    """A paragraph of 10,001 characters is refused with both the limit and its length."""
    with pytest.raises(InvalidInput) as caught:
        normalise_paragraph("a" * 10_001)
    assert "10,000" in caught.value.message
    assert "10,001" in caught.value.message


def test_paragraph_limit_counts_after_stripping():
    """Spaces stripped from the ends do not count toward the 10,000-character limit."""
    text = "b" * 10_000
    assert normalise_paragraph(f"   {text}   ") == text


def test_paragraph_limit_counts_nfc_characters():
    """The limit counts characters after NFC, so 10,000 decomposed é's (20,000 code points) fit."""
    result = normalise_paragraph(DECOMPOSED_E_ACUTE * 10_000)
    assert result == COMPOSED_E_ACUTE * 10_000


def test_paragraph_errors_are_domain_errors():
    """Refusals are ConcordErrors, so web and API turn them into messages rather than 500s."""
    with pytest.raises(ConcordError):
        normalise_paragraph("")


# --- normalise_title -----------------------------------------------------------


def test_title_whitespace_collapsed_to_single_spaces():
    """Runs of spaces, tabs, line breaks and NBSPs in a title become single spaces."""
    assert normalise_title(f"  A\t\tJoint\r\n Statement{NBSP}{NBSP}Now  ") == "A Joint Statement Now"


def test_title_nfc():
    """A title is stored in NFC."""
    assert normalise_title(f"R{DECOMPOSED_E_ACUTE}sum{DECOMPOSED_E_ACUTE}") == "R\u00e9sum\u00e9"


@pytest.mark.parametrize("raw", ["", None, "  ", "\n"])
def test_title_empty_refused(raw):
    """An empty title is refused and the error names the title field."""
    with pytest.raises(InvalidInput) as caught:
        normalise_title(raw)
    assert caught.value.field == "title"


def test_title_control_character_refused():
    """A control character in a title is refused with a message naming the title."""
    with pytest.raises(InvalidInput, match="title contains a control character"):
        normalise_title("Bad\x07title")


def test_title_length_limit():
    """A title of 300 characters is accepted; 301 is refused."""
    assert MAX_TITLE_CHARS == 300
    assert normalise_title("t" * 300) == "t" * 300
    with pytest.raises(InvalidInput, match="300"):
        normalise_title("t" * 301)


# --- check_paragraph_count -------------------------------------------------------


def test_paragraph_count_at_limit_accepted():
    """1,000 paragraphs are allowed."""
    assert MAX_PARAGRAPHS == 1_000
    check_paragraph_count(1_000)


def test_paragraph_count_over_limit_refused():
    """1,001 paragraphs are refused with a message giving the limit and the count."""
    with pytest.raises(InvalidInput) as caught:
        check_paragraph_count(1_001)
    assert "1,000" in caught.value.message
    assert "1,001" in caught.value.message


# --- canonical_text and sha256_hex -----------------------------------------------


def test_canonical_text_exact_bytes():
    """Title, blank line, "N. text" blocks separated by one blank line, one trailing newline."""
    text = canonical_text("A Title", ["First.", "Second.", "Third."])
    assert text == "A Title\n\n1. First.\n\n2. Second.\n\n3. Third.\n"
    assert text.encode("utf-8") == b"A Title\n\n1. First.\n\n2. Second.\n\n3. Third.\n"


def test_canonical_text_without_paragraphs_is_title_and_newline():
    """A statement without paragraphs is just its title and one newline."""
    assert canonical_text("Only a title", []) == "Only a title\n"


def test_canonical_text_has_no_trailing_spaces():
    """No line of the canonical text ends in a space, even if the input did."""
    text = canonical_text("Title  ", ["line one   \nline two ", "para two"])
    assert text == "Title\n\n1. line one\nline two\n\n2. para two\n"
    assert all(line == line.rstrip() for line in text.split("\n"))


def test_canonical_text_ends_with_exactly_one_newline():
    """The canonical text ends in one newline, never two."""
    text = canonical_text("T", ["a", "b"])
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_canonical_text_numbers_beyond_nine():
    """Numbering continues 10., 11., ... with the number directly before the text."""
    text = canonical_text("T", [f"p{i}" for i in range(1, 12)])
    assert "\n\n10. p10\n\n11. p11\n" in text


def test_canonical_text_is_nfc():
    """Canonical text is NFC even if given decomposed characters."""
    text = canonical_text(f"Caf{DECOMPOSED_E_ACUTE}", [f"Cr{DECOMPOSED_E_ACUTE}me"])
    assert text == f"Caf{COMPOSED_E_ACUTE}\n\n1. Cr{COMPOSED_E_ACUTE}me\n"


def test_canonical_text_keeps_non_ascii_and_inner_nbsp():
    """Curly quotes, dashes and inner non-breaking spaces survive into the canonical text."""
    text = canonical_text("T", [f"“Quoted” 2022–2023 10{NBSP}km"])
    assert text == f"T\n\n1. “Quoted” 2022–2023 10{NBSP}km\n"


def test_sha256_hex_is_sha256_of_utf8_bytes():
    """sha256_hex is the lower-case hex SHA-256 of the UTF-8 encoding."""
    text = "Tïtle\n\n1. “x”\n"
    assert sha256_hex(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert len(sha256_hex("abc")) == 64 and sha256_hex("abc") == sha256_hex("abc").lower()


def test_sha256_changes_with_any_byte():
    """One changed character (even an invisible space) gives a different hash."""
    base = canonical_text("T", ["text"])
    assert sha256_hex(base) != sha256_hex(canonical_text("T", [f"text{NBSP}x"]))
    assert sha256_hex(base) != sha256_hex(canonical_text("T", ["Text"]))
