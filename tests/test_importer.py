"""The importer: turning pasted or uploaded text into a title and paragraphs. Pure: no database."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from app.drafting.importer import MAX_IMPORT_BYTES, decode_upload, parse_statement
from app.errors import InvalidInput

FIXTURES = Path(__file__).parent / "fixtures"
PASTED = FIXTURES / "pasted-statement.txt"
NBSP = "\u00a0"


def _words(text: str) -> list[str]:
    return text.split()


@pytest.fixture(scope="module")
def pasted_raw() -> str:
    return PASTED.read_bytes().decode("utf-8")


@pytest.fixture(scope="module")
def pasted(pasted_raw):
    return parse_statement(pasted_raw)


# --- the fixture really looks like a real paste -------------------------------------


def test_fixture_looks_like_a_real_paste(pasted_raw):
    """The fixture has NBSP runs after numbers, 2-4 blank-line gaps, typography and no final newline."""
    assert not pasted_raw.endswith("\n")
    assert re.search(r"^1\.\u00a0[ \u00a0]+\S", pasted_raw, re.MULTILINE)
    gaps = {len(g) - 1 for g in re.findall(r"\n{3,}(?=\d+\.)", pasted_raw)}
    assert gaps <= {2, 3, 4} and len(gaps) > 1
    assert "“" in pasted_raw and "–" in pasted_raw
    assert "21 February 2022, and\n" in pasted_raw


# --- the realistic paste ------------------------------------------------------------


def test_paste_title(pasted):
    """The first block is the title."""
    assert pasted.title == "Harbour Cities Must Stay Open to Everyone!"


def test_paste_has_six_numbered_paragraphs(pasted):
    """Six numbered paragraphs are found, whatever the blank lines and NBSP runs between them."""
    assert pasted.numbered is True
    assert len(pasted.paragraphs) == 6


def test_paste_paragraphs_do_not_start_with_nbsp_or_numbers(pasted):
    """No paragraph keeps the NBSP run (or the original number) that followed its number."""
    for paragraph in pasted.paragraphs:
        assert NBSP not in paragraph
        assert paragraph == paragraph.strip()
        assert not re.match(r"\d+\.", paragraph)
        assert paragraph[0].isupper()


def test_paste_loses_no_word(pasted_raw, pasted):
    """Every word of every numbered paragraph in the paste is in the result, in order (nothing lost)."""
    body = pasted_raw.split("21 February 2022, and", 1)[1]
    source_paragraphs = [
        re.sub(r"^\s*\d+\.", "", chunk).strip()
        for chunk in re.split(r"\n\s*\n+(?=\s*\d+\.)", body.strip())
    ]
    assert len(source_paragraphs) == 6
    for source, parsed in zip(source_paragraphs, pasted.paragraphs, strict=True):
        assert _words(parsed) == _words(source)


def test_paste_keeps_typography(pasted):
    """Curly quotes and en dashes are kept as they were typed."""
    joined = "\n".join(pasted.paragraphs)
    assert "“that is not our problem”" in joined
    assert "2022–2023" in joined


def test_paste_signatory_line_parsed(pasted):
    """The signatory line gives the organisations text and the date, and is not a paragraph."""
    assert pasted.organisations_text == "the Xylo League (XL) and the Yara Union (Kenya)"
    assert pasted.date == date(2022, 2, 21)
    assert pasted.signatories_line.startswith("Joint Statement of the Xylo League")
    assert not any("Joint Statement" in p for p in pasted.paragraphs)


def test_paste_stray_word_after_date_is_noted(pasted):
    """The stray "and" after the date is reported in a note, not silently dropped."""
    assert len(pasted.notes) == 1
    assert "“and”" in pasted.notes[0]
    assert "after the date" in pasted.notes[0]


def test_paste_with_crlf_line_ends_parses_the_same(pasted_raw, pasted):
    """The same paste with Windows line ends gives the same title and paragraphs."""
    again = parse_statement(pasted_raw.replace("\n", "\r\n"))
    assert again.title == pasted.title
    assert again.paragraphs == pasted.paragraphs


# --- numbering variants ---------------------------------------------------------------


def test_parenthesis_numbering():
    """"1)" numbering is recognised like "1."."""
    parsed = parse_statement("Title\n\n1) First point.\n\n2) Second point.\n")
    assert parsed.numbered
    assert parsed.paragraphs == ["First point.", "Second point."]


def test_tabs_after_numbers():
    """Tabs (and mixed tabs and NBSPs) after a number are gaps, not text."""
    parsed = parse_statement(f"Title\n\n1.\tFirst point.\n2.\t{NBSP}\tSecond point.\n")
    assert parsed.paragraphs == ["First point.", "Second point."]


def test_numbers_without_blank_lines_between():
    """Numbered paragraphs on consecutive lines are separate paragraphs."""
    parsed = parse_statement("Title\n\n1. One.\n2. Two.\n3. Three.")
    assert parsed.paragraphs == ["One.", "Two.", "Three."]
    assert parsed.notes == []


def test_no_numbers_falls_back_to_blank_line_blocks():
    """Without numbers, blank-line separated blocks are the paragraphs, wrapped lines kept together."""
    parsed = parse_statement("Title\n\nFirst block\nstill first.\n\n\n\nSecond block.\n")
    assert parsed.numbered is False
    assert parsed.paragraphs == ["First block\nstill first.", "Second block."]
    assert parsed.notes == []


def test_continuation_lines_join_the_open_paragraph():
    """Wrapped lines and a later unnumbered block belong to the paragraph above them."""
    raw = "Title\n\n1. Starts here\nand goes on here.\n\nA loose sentence.\n\n2. Next one."
    parsed = parse_statement(raw)
    assert parsed.paragraphs == ["Starts here\nand goes on here.\nA loose sentence.", "Next one."]


def test_text_before_first_number_is_kept_with_a_note():
    """An unnumbered block before paragraph 1 becomes paragraph 1, and a note says so."""
    parsed = parse_statement("Title\n\nAn introduction.\n\n1. One.\n\n2. Two.")
    assert parsed.paragraphs == ["An introduction.", "One.", "Two."]
    assert any("before the first numbered paragraph" in note for note in parsed.notes)


def test_numbered_item_without_text_is_skipped_with_a_note():
    """A number with nothing after it is skipped and reported; the others keep their order."""
    parsed = parse_statement(f"Title\n\n1. One.\n\n2.{NBSP} \n\n3. Three.")
    assert parsed.paragraphs == ["One.", "Three."]
    assert any("Item 2" in note and "no text" in note for note in parsed.notes)


def test_number_alone_on_its_line_takes_the_following_line():
    """A number alone on its line followed by the text on the next line is one paragraph."""
    parsed = parse_statement("Title\n\n1.\nThe text of one.\n\n2. Two.")
    assert parsed.paragraphs == ["The text of one.", "Two."]


def test_out_of_sequence_numbers_are_noted():
    """Numbers 1, 2, 4 are kept in order and a note says Concord renumbers."""
    parsed = parse_statement("Title\n\n1. One.\n\n2. Two.\n\n4. Four.")
    assert parsed.paragraphs == ["One.", "Two.", "Four."]
    assert any("not 1, 2, 3" in note for note in parsed.notes)


def test_numbers_not_starting_at_one_are_noted():
    """Numbers 3, 4, 5 (an excerpt) are noted too."""
    parsed = parse_statement("Title\n\n3. Three.\n\n4. Four.\n\n5. Five.")
    assert len(parsed.paragraphs) == 3
    assert any("not 1, 2, 3" in note for note in parsed.notes)


def test_in_sequence_numbers_give_no_note():
    """Numbers 1..n in order produce no renumbering note."""
    parsed = parse_statement("Title\n\n1. One.\n\n2. Two.")
    assert parsed.notes == []


# --- signatory line variants ----------------------------------------------------------


def test_signatory_line_without_stray_word_gives_no_note():
    """A clean signatory line is parsed and gives no note."""
    parsed = parse_statement("Title\n\nJoint Statement of A and B, 3 March 2026\n\n1. One.")
    assert parsed.organisations_text == "A and B"
    assert parsed.date == date(2026, 3, 3)
    assert parsed.notes == []
    assert parsed.paragraphs == ["One."]


def test_signatory_line_with_ordinal_date():
    """"1st March 2026" is read as a date."""
    parsed = parse_statement("Title\n\nJoint statement by A, B and C, 1st March 2026.\n\n1. One.")
    assert parsed.date == date(2026, 3, 1)
    assert parsed.organisations_text == "A, B and C"
    assert parsed.notes == []


def test_signatory_like_line_with_bad_date_stays_text():
    """A "Joint Statement of ..." line whose date cannot be read is kept as text, not dropped."""
    parsed = parse_statement("Title\n\nJoint Statement of A and B, 31 Smarch 2026\n\nBody.")
    assert parsed.date is None and parsed.organisations_text is None
    assert parsed.paragraphs == ["Joint Statement of A and B, 31 Smarch 2026", "Body."]


@pytest.mark.parametrize("line,language,orgs,day", [
    ("Joint Statement of A and B, 3 March 2026", "en", "A and B", date(2026, 3, 3)),
    ("Gemeinsame Erklärung von Küstenbund und Talverein, 21. Februar 2022", "de",
     "Küstenbund und Talverein", date(2022, 2, 21)),
    ("Gemeinsame Erklärung der A, B und C, 3. Mär. 2026", "de", "A, B und C", date(2026, 3, 3)),
    ("Declaración conjunta de la Liga y el Frente, 21 de febrero de 2022", "es", "la Liga y el Frente",
     date(2022, 2, 21)),
    ("Déclaration commune de A, B et C, 1er mars 2026", "fr", "A, B et C", date(2026, 3, 1)),
    ("Déclaration commune des Amis et de la Ligue, 14 juillet 2025.", "fr", "Amis et de la Ligue",
     date(2025, 7, 14)),
])
def test_signatory_lines_in_four_languages_are_read_with_their_language(line, language, orgs, day):
    """The line Concord writes in each language (docs/publication-format.md), and its usual variants, is
    recognised, tells the text's language, and is left out of the paragraphs."""
    parsed = parse_statement(f"Titel\n\n{line}\n\n1. Eins.\n\n2. Zwei.")
    assert (parsed.language, parsed.organisations_text, parsed.date) == (language, orgs, day)
    assert parsed.paragraphs == ["Eins.", "Zwei."] and parsed.notes == []


def test_what_concord_publishes_in_each_language_is_read_back():
    """The signatory line as app.translating writes it, for every language with a form of its own."""
    from app.translating.languages import PREFIXES, signatory_line

    for tag in PREFIXES:
        line = signatory_line(["Harbour Union", "Valley Alliance", "Tenants"], date(2022, 2, 21), tag)
        parsed = parse_statement(f"Title\n\n{line}\n\n1. One.")
        assert (parsed.language, parsed.date, parsed.signatories_line) == (tag, date(2022, 2, 21), line), tag


@pytest.mark.parametrize("line", [
    "Gemeinsame Erklärung von A und B, 31. Februar 2022",  # no such day
    "Declaración conjunta de A y B, 21 de brumario de 2022",  # no such month
    "Déclaration commune de A et B, le printemps 2022",
])
def test_a_foreign_signatory_like_line_with_a_bad_date_stays_text(line):
    parsed = parse_statement(f"Title\n\n{line}\n\nBody.")
    assert parsed.language is None and parsed.date is None
    assert parsed.paragraphs == [line, "Body."]


# --- refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "\n\n\n", f"  {NBSP}\n\t\n", "\ufeff"])
def test_empty_input_refused(raw):
    """Empty or whitespace-only input is refused with InvalidInput."""
    with pytest.raises(InvalidInput, match="empty"):
        parse_statement(raw)


def test_title_only_refused():
    """A title with no paragraphs under it is refused, explaining how to separate paragraphs."""
    with pytest.raises(InvalidInput, match="No paragraphs were found"):
        parse_statement("Just a Title\n\n\n")


def test_title_and_signatory_line_only_refused():
    """A title and a signatory line but no paragraphs is refused."""
    with pytest.raises(InvalidInput, match="No paragraphs"):
        parse_statement("Title\n\nJoint Statement of A and B, 3 March 2026")


def test_only_empty_numbered_items_refused():
    """Numbers with no text at all give no paragraphs and are refused."""
    with pytest.raises(InvalidInput, match="No paragraphs"):
        parse_statement("Title\n\n1.\n\n2.\n")


def test_control_character_names_the_paragraph():
    """A control character in paragraph 2 is refused with a message naming paragraph 2."""
    with pytest.raises(InvalidInput) as caught:
        parse_statement("Title\n\n1. Fine.\n\n2. Not\x07fine.\n\n3. Fine.")
    assert caught.value.message.startswith("Paragraph 2:")
    assert "U+0007" in caught.value.message


def test_oversized_paragraph_names_the_paragraph():
    """A paragraph over 10,000 characters is refused with its number in the message."""
    with pytest.raises(InvalidInput, match=r"^Paragraph 2: .*10,000"):
        parse_statement("Title\n\n1. Short.\n\n2. " + "x" * 10_001)


def test_too_many_paragraphs_refused():
    """An import of 1,001 paragraphs is refused; 1,000 are accepted."""
    body = "\n\n".join(f"{n}. P{n}." for n in range(1, 1001))
    assert len(parse_statement("Title\n\n" + body).paragraphs) == 1000
    with pytest.raises(InvalidInput, match="1,001"):
        parse_statement("Title\n\n" + body + "\n\n1001. One too many.")


# --- decode_upload ------------------------------------------------------------------------


def test_decode_upload_strips_bom():
    """A UTF-8 byte order mark (as Notepad writes it) is removed."""
    assert decode_upload("\ufeffTitle\n".encode()) == "Title\n"


def test_decode_upload_keeps_utf8_text():
    """Valid UTF-8 with non-ASCII characters decodes unchanged."""
    text = "Titre “é” – 10\u00a0km"
    assert decode_upload(text.encode("utf-8")) == text


def test_decode_upload_refuses_invalid_utf8_with_clear_message():
    """Latin-1 bytes are refused, saying where and how to save the file as UTF-8."""
    with pytest.raises(InvalidInput) as caught:
        decode_upload("Title\n\nCaf\u00e9".encode("latin-1"))
    message = caught.value.message
    assert "not valid UTF-8" in message
    assert "at byte 10" in message
    assert "UTF-8" in message


def test_decode_upload_refuses_oversized_file():
    """A file over 3 MB is refused before decoding."""
    assert MAX_IMPORT_BYTES == 3 * 1024 * 1024
    with pytest.raises(InvalidInput, match="3 MB"):
        decode_upload(b"a" * (MAX_IMPORT_BYTES + 1))
    assert len(decode_upload(b"a" * MAX_IMPORT_BYTES)) == MAX_IMPORT_BYTES


def test_uploaded_fixture_with_bom_parses_like_the_paste(pasted):
    """The fixture saved with a BOM decodes and parses to the same statement."""
    data = b"\xef\xbb\xbf" + PASTED.read_bytes()
    parsed = parse_statement(decode_upload(data))
    assert parsed.title == pasted.title
    assert parsed.paragraphs == pasted.paragraphs


def test_parse_strips_bom_left_in_text():
    """A BOM left at the start of already-decoded text does not end up in the title."""
    parsed = parse_statement("\ufeffTitle\n\n1. One.")
    assert parsed.title == "Title"


def test_text_without_a_title_is_refused_with_a_clear_message():
    """A paste that starts with "1." has no title; the importer says so instead of guessing."""
    with pytest.raises(InvalidInput, match="title on the first line"):
        parse_statement("1. Our first demand.\n\n2. Our second demand.")
