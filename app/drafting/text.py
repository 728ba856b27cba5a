"""Text rules: normalisation, limits and the canonical text of a version.

Canonical text (design.md): UTF-8, NFC, ``\\n`` line ends, no trailing
spaces; the title, a blank line, then each paragraph as ``N. text``,
paragraphs separated by one blank line; it ends with one newline.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from app.errors import InvalidInput
from app.i18n import _
from app.limits import MAX_PARAGRAPH_CHARS, MAX_PARAGRAPHS, MAX_STATEMENT_CHARS, MAX_TITLE_CHARS
from app.translating.languages import Number

__all__ = [
    "MAX_PARAGRAPHS",
    "MAX_PARAGRAPH_CHARS",
    "MAX_STATEMENT_CHARS",
    "MAX_TITLE_CHARS",
    "canonical_text",
    "check_paragraph_count",
    "check_statement_size",
    "normalise_paragraph",
    "normalise_title",
    "sha256_hex",
]

_BLANK_LINES = re.compile(r"\n{2,}")
_HORIZONTAL_SPACE = re.compile(r"[ \t]+")
# Control characters (Unicode category Cc) other than the line feed, and lone surrogates (Cs).
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


# Whole sentences for each part, so that every language can word them as its grammar asks.
_CONTROL_MESSAGES = {
    "paragraph": (
        lambda code: _("The paragraph contains a control character (U+%(code)s); remove it and try again.",
                       code=code),
        lambda: _("The paragraph contains an invalid character (a lone surrogate)."),
    ),
    "title": (
        lambda code: _("The title contains a control character (U+%(code)s); remove it and try again.",
                       code=code),
        lambda: _("The title contains an invalid character (a lone surrogate)."),
    ),
}


def _check_controls(text: str, what: str) -> None:
    control, surrogate = _CONTROL_MESSAGES[what]
    found = _CONTROL.search(text)
    if found:
        raise InvalidInput(control(f"{ord(found.group()):04X}"))
    if _SURROGATE.search(text):
        raise InvalidInput(surrogate())


def _basic(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return unicodedata.normalize("NFC", text)


def normalise_paragraph(text: str | None) -> str:
    """Return the stored form of a paragraph, or raise InvalidInput.

    Line ends become ``\\n``, tabs become spaces, every line is stripped
    (which drops leading and trailing non-breaking spaces but keeps inner
    ones), blank lines inside the paragraph are removed, and the text is NFC.
    """
    text = _basic(text or "")
    _check_controls(text, "paragraph")
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(line for line in lines if line)
    if not text:
        raise InvalidInput(_("A paragraph cannot be empty."))
    if len(text) > MAX_PARAGRAPH_CHARS:
        raise InvalidInput(_("A paragraph can have at most %(max)s characters; this one has %(count)s.",
                             max=Number(MAX_PARAGRAPH_CHARS), count=Number(len(text))))
    return text


def normalise_title(text: str | None) -> str:
    text = _basic(text or "")
    _check_controls(text, "title")
    text = " ".join(text.split())
    if not text:
        raise InvalidInput(_("The title cannot be empty."), field="title")
    if len(text) > MAX_TITLE_CHARS:
        raise InvalidInput(_("A title can have at most %(max)s characters.", max=MAX_TITLE_CHARS), field="title")
    return text


def check_paragraph_count(count: int) -> None:
    if count > MAX_PARAGRAPHS:
        raise InvalidInput(_("A statement can have at most %(max)s paragraphs; this one would have %(count)s.",
                             max=Number(MAX_PARAGRAPHS), count=Number(count)))


def check_statement_size(characters: int) -> None:
    """Refuse a statement whose paragraphs would have more than MAX_STATEMENT_CHARS characters together."""
    if characters > MAX_STATEMENT_CHARS:
        raise InvalidInput(_("A statement can have at most %(max)s characters of text (its paragraphs "
                             "together); this one would have %(count)s.",
                             max=Number(MAX_STATEMENT_CHARS), count=Number(characters)))


def canonical_text(title: str, paragraphs: Iterable[str]) -> str:
    blocks = [title] + [f"{n}. {text}" for n, text in enumerate(paragraphs, start=1)]
    text = "\n\n".join(blocks)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return unicodedata.normalize("NFC", text) + "\n"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
