"""Parse a pasted or uploaded joint statement into title and paragraphs.

Recognises: a title (the first block), an optional signatory line ("Joint
Statement of <organisations>, <date>", or its German, Spanish or French form:
"Gemeinsame Erklärung von …, 21. Februar 2022", "Declaración conjunta de …,
21 de febrero de 2022", "Déclaration commune de …, 21 février 2022", which also
tells the text's language), numbered paragraphs ("1." or "1)" followed by
any run of spaces, tabs or non-breaking spaces), any number of blank lines;
without numbers, blank-line separated blocks are the paragraphs. Nothing is
dropped silently: whatever is not used is reported in ``notes``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from babel.dates import get_month_names

from app.drafting.text import check_paragraph_count, check_statement_size, normalise_paragraph, normalise_title
from app.errors import InvalidInput
from app.i18n import _
from app.limits import MAX_IMPORT_BYTES
from app.translating.languages import Number

__all__ = ["MAX_IMPORT_BYTES", "ParsedStatement", "decode_upload", "parse_statement"]

# Whitespace that may follow a paragraph number: spaces, tabs, NBSP and friends.
_GAP = r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000]"
_NUMBERED = re.compile(rf"^{_GAP}*(\d{{1,4}})[.)]{_GAP}+(\S.*)$")
_NUMBERED_EMPTY = re.compile(rf"^{_GAP}*(\d{{1,4}})[.)]{_GAP}*$")
_WORD = r"[^\W\d_]+\.?"
# The signatory line's first words and its date, per language (what people write, which is more than
# what Concord writes: app/translating/languages.py has the published form).
_LINES = {
    "en": (r"joint\s+statement\s+(?:of|by|from)\s+", rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{_WORD}\s+\d{{4}}"),
    "de": (r"gemeinsame\s+erkl(?:ä|ae)rung\s+(?:von|der|des)\s+", rf"\d{{1,2}}\.\s*{_WORD}\s+\d{{4}}"),
    "es": (r"declaraci[oó]n\s+conjunta\s+(?:de|del)\s+", rf"\d{{1,2}}\s+de\s+{_WORD}\s+(?:de|del)\s+\d{{4}}"),
    "fr": (r"d[ée]claration\s+commune\s+(?:de|du|des)\s+", rf"(?:1er|\d{{1,2}})\s+{_WORD}\s+\d{{4}}"),
}
_JOINT = {
    tag: re.compile(rf"^{start}(?P<orgs>.+?),\s*(?P<date>{when})(?P<rest>.*)$", re.IGNORECASE)
    for tag, (start, when) in _LINES.items()
}


@dataclass
class ParsedStatement:
    title: str
    paragraphs: list[str]
    signatories_line: str | None = None
    organisations_text: str | None = None
    date: date | None = None
    language: str | None = None  # the signatory line's language ("en", "de", "es", "fr"), if there is one
    numbered: bool = False
    # In the language of whoever imports (the request's; English without one), as plain text for the pages,
    # the API and the command line alike.
    notes: list[str] = field(default_factory=list)


def decode_upload(data: bytes) -> str:
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInput(_("The file is larger than %(mb)s MB (%(bytes)s bytes); is it really a plain-text "
                             "statement?", mb=MAX_IMPORT_BYTES // (1024 * 1024), bytes=Number(MAX_IMPORT_BYTES)))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(_("The file is not valid UTF-8 (at byte %(at)s). Save it as “Plain text, UTF-8” and "
                             "upload it again.", at=exc.start)) from exc


def _is_blank(line: str) -> bool:
    return not line.strip()


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if _is_blank(line):
            if current:
                blocks.append(current)
                current = []
        else:
            current.append(line)
    if current:
        blocks.append(current)
    return blocks


@functools.cache
def _months(tag: str) -> dict[str, int]:
    """Month names, full and abbreviated, lower-case, in the language ``tag`` (Babel's)."""
    names: dict[str, int] = {}
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            for number, name in get_month_names(width, context, locale=tag).items():
                names[name.lower().rstrip(".")] = number
    return names


def _parse_date(text: str, tag: str = "en") -> date | None:
    """'21 February 2022', '21st Feb 2022', '21. Februar 2022', '21 de febrero de 2022', '1er mars 2022'."""
    words = re.sub(r"(\d)(st|nd|rd|th|er)\b", r"\1", text.lower()).replace(".", " ").split()
    words = [w for w in words if w not in ("de", "del")]
    if len(words) != 3 or not words[0].isdigit() or not words[2].isdigit():
        return None
    month = _months(tag).get(words[1]) or _months("en").get(words[1])
    try:
        return date(int(words[2]), month, int(words[0])) if month else None
    except ValueError:
        return None


def parse_statement(raw: str) -> ParsedStatement:
    """Parse ``raw`` (already decoded text). Raises InvalidInput when nothing usable is found.

    Linear in the length of the text; longer than an upload may be, it is refused before parsing.
    """
    if len(raw) > MAX_IMPORT_BYTES:
        raise InvalidInput(_("The text is longer than %(max)s characters; is it really one statement?",
                             max=Number(MAX_IMPORT_BYTES)))
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.lstrip("\ufeff")
    blocks = _blocks(text.split("\n"))
    if not blocks:
        raise InvalidInput(_("The text is empty."))
    notes: list[str] = []

    if _NUMBERED.match(blocks[0][0]):
        raise InvalidInput(
            _("The text starts with a numbered paragraph. Put the statement's title on the first line.")
        )
    title = normalise_title(" ".join(line.strip() for line in blocks[0]))
    rest = blocks[1:]

    signatories_line = organisations_text = language = None
    found_date = None
    if rest:
        candidate = " ".join(line.strip() for line in rest[0])
        match = None
        for tag, pattern in _JOINT.items():
            match = pattern.match(candidate)
            found_date = _parse_date(match["date"], tag) if match else None
            if found_date:
                language = tag
                break
        if match and found_date:
            signatories_line = candidate
            organisations_text = match["orgs"].strip()
            stray = match["rest"].strip(" ,.;")
            if stray:
                # Two messages rather than ngettext: Flask-Babel's formats a plural with its count alone.
                if len(stray.split()) > 1:
                    notes.append(str(_("The words “%(stray)s” after the date in the signatory line were left out; "
                                       "Concord writes that line itself when the statement is published.",
                                       stray=stray)))
                else:
                    notes.append(str(_("The word “%(stray)s” after the date in the signatory line was left out; "
                                       "Concord writes that line itself when the statement is published.",
                                       stray=stray)))
            rest = rest[1:]

    lines = [line for block in rest for line in block + [""]]
    has_numbers = any(_NUMBERED.match(line) or _NUMBERED_EMPTY.match(line) for line in lines)
    paragraphs: list[str] = []
    if has_numbers:
        numbers: list[int] = []
        current: list[str] | None = None
        preamble: list[str] = []
        for line in lines:
            match = _NUMBERED.match(line) or _NUMBERED_EMPTY.match(line)
            if match:
                if current is not None:
                    paragraphs.append("\n".join(current))
                numbers.append(int(match.group(1)))
                current = [match.group(2)] if match.lastindex == 2 else []
            elif current is None:
                if not _is_blank(line):
                    preamble.append(line)
            elif not _is_blank(line):
                # A continuation line (or a later unnumbered block) belongs to the open paragraph.
                current.append(line)
        if current is not None:
            paragraphs.append("\n".join(current))
        if preamble:
            paragraphs.insert(0, "\n".join(preamble))
            notes.append(str(_("Text before the first numbered paragraph was kept as paragraph 1.")))
        expected = list(range(numbers[0], numbers[0] + len(numbers))) if numbers else []
        if numbers and (numbers != expected or numbers[0] != 1):
            notes.append(
                str(_("The original numbers were not 1, 2, 3, …; Concord numbers paragraphs by their order."))
            )
    else:
        paragraphs = ["\n".join(block) for block in rest]

    cleaned: list[str] = []
    for n, paragraph in enumerate(paragraphs, start=1):
        if not paragraph.strip():
            notes.append(str(_("Item %(number)s of the original had a number but no text; it was skipped.",
                               number=n)))
            continue
        try:
            cleaned.append(normalise_paragraph(paragraph))
        except InvalidInput as exc:
            raise InvalidInput(_("Paragraph %(number)s: %(problem)s", number=n, problem=exc.raw_message)) from exc
    if not cleaned:
        raise InvalidInput(_(
            "No paragraphs were found under the title. Separate paragraphs with a blank line "
            "or number them “1.”, “2.”, …"
        ))
    check_paragraph_count(len(cleaned))
    check_statement_size(sum(map(len, cleaned)))
    return ParsedStatement(
        title=title,
        paragraphs=cleaned,
        signatories_line=signatories_line,
        organisations_text=organisations_text,
        date=found_date,
        language=language,
        numbered=has_numbers,
        notes=notes,
    )
