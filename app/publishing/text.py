"""The plain-text publication (design.md: "Canonical text and the plain-text publication")."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date


def format_date(value: date) -> str:
    """'1 March 2026': day without a leading zero, English month name, four-digit year."""
    months = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
    return f"{value.day} {months[value.month - 1]} {value.year:04d}"


def join_names(names: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C' (no comma before 'and')."""
    names = list(names)
    if not names:
        raise ValueError("a statement is signed by at least one organisation")
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


def signatory_line(names: Sequence[str], published: date, language: str = "en") -> str:
    """English: 'Joint Statement of A, B and C, 1 March 2026'; other languages their own prefix, word for
    'and' and long date (app.translating.languages; docs/publication-format.md)."""
    if language == "en":
        return f"Joint Statement of {join_names(names)}, {format_date(published)}"
    from app.translating.languages import signatory_line as in_language

    return in_language(names, published, language)


def plain_text(title: str, organisation_names: Sequence[str], published: date,
               paragraphs: Sequence[str], language: str = "en") -> str:
    """The published text: UTF-8, NFC, LF, no trailing spaces, one blank line between blocks,
    a single final newline."""
    blocks = [title, signatory_line(organisation_names, published, language)]
    blocks += [f"{n}. {text}" for n, text in enumerate(paragraphs, start=1)]
    text = "\n\n".join(blocks)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return unicodedata.normalize("NFC", text) + "\n"
