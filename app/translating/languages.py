"""Language tags and what each language's publication says (pure: Babel, no Flask, no database).

A statement's languages are BCP 47 tags Babel knows ("en", "de", "es", "fr", "pt-BR", "ar",
"sr-Latn"), stored in Babel's own spelling with "-" ("pt-BR"). The signatory line of a publication
in a language is ``<prefix> <names joined with the language's "and">, <date in its long form>``;
docs/publication-format.md lists the forms.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.numbers import format_decimal

from app.errors import InvalidInput
from app.i18n import DEFAULT, _

MAX_TAG = 35

#: The signatory line's first words per language (its primary subtag). Other languages use the
#: English words until a form is agreed for them (docs/publication-format.md).
PREFIXES = {
    "en": "Joint Statement of",
    "de": "Gemeinsame Erklärung von",
    "es": "Declaración conjunta de",
    "fr": "Déclaration commune de",
}
#: The word joining the last two names.
AND_WORDS = {"en": "and", "de": "und", "es": "y", "fr": "et"}
ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")


def locale_of(tag: str) -> Locale:
    return Locale.parse(tag.replace("-", "_"))


def normalise_tag(tag: str | None, *, field: str = "language") -> str:
    """The tag in Babel's spelling ("pt-BR"), or InvalidInput for one Babel does not know."""
    raw = (tag or "").strip()
    if not raw:
        raise InvalidInput(_("Choose a language (a tag such as de, es, fr or pt-BR)."), field=field)
    if len(raw) > MAX_TAG or not all(c.isascii() and (c.isalnum() or c in "-_") for c in raw):
        raise InvalidInput(_("A language is a tag such as de, es, fr or pt-BR (letters, digits and hyphens, "
                             "at most %(max)s characters).", max=MAX_TAG), field=field)
    try:
        locale = locale_of(raw)
    except (UnknownLocaleError, ValueError, TypeError):
        raise InvalidInput(_("“%(tag)s” is not a language this platform knows; use a tag such as de, es, fr "
                             "or pt-BR.", tag=raw), field=field) from None
    return str(locale).replace("_", "-")


def primary(tag: str) -> str:
    return tag.split("-")[0].lower()


def is_rtl(tag: str) -> bool:
    """Whether the language is written right to left (its text gets ``dir="rtl"``)."""
    try:
        return locale_of(tag).character_order == "right-to-left"
    except (UnknownLocaleError, ValueError, TypeError):
        return False


def direction(tag: str) -> str:
    return "rtl" if is_rtl(tag) else "ltr"


def display_name(tag: str, in_language: str = "en") -> str:
    """The language's name ("German"), in ``in_language``; the tag itself if Babel has none."""
    try:
        name = locale_of(tag).get_display_name(in_language.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        name = None
    return name or tag


def own_name(tag: str) -> str:
    """The language's name in itself ("Deutsch"), for a language switcher."""
    return display_name(tag, tag)


def viewer_language() -> str:
    """The interface language messages are shown in now: Flask-Babel's locale when the web layer has one
    (a request, or a locale forced around a mail), else English. Read without importing Flask."""
    flask_babel = sys.modules.get("flask_babel")
    if flask_babel is None:
        return DEFAULT
    try:
        locale = flask_babel.get_locale()
    except (RuntimeError, AttributeError):  # outside an application
        return DEFAULT
    return str(locale) if locale else DEFAULT


def label(tag: str, in_language: str | None = None) -> str:
    """'German (de)', the name in ``in_language`` (default: the viewer's language, 'Deutsch (de)' for a
    German reader)."""
    return f"{display_name(tag, in_language or viewer_language())} ({tag})"


class Number:
    """A count as a message parameter: grouped as the language it is shown in writes it (4,000; 4.000)."""

    __slots__ = ("n",)

    def __init__(self, n: int):
        self.n = n

    def __str__(self) -> str:
        try:
            return format_decimal(self.n, locale=viewer_language().replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            return f"{self.n:,}"


class Label:
    """A language's label as a message parameter: named in the language the message is shown in."""

    __slots__ = ("tag",)

    def __init__(self, tag: str):
        self.tag = tag

    def __str__(self) -> str:
        return label(self.tag)


def long_date(value: date, tag: str) -> str:
    """English: '1 March 2026' (as ever); other languages: Babel's long format ('1. März 2026',
    '1 de marzo de 2026', '1 mars 2026')."""
    if primary(tag) == "en":
        return f"{value.day} {ENGLISH_MONTHS[value.month - 1]} {value.year:04d}"
    return babel_format_date(value, format="long", locale=tag.replace("-", "_"))


def join_names(names: Sequence[str], tag: str = "en") -> str:
    """'A', 'A and B', 'A, B and C' with the language's word for 'and' (no comma before it)."""
    names = list(names)
    if not names:
        raise ValueError("a statement is signed by at least one organisation")
    if len(names) == 1:
        return names[0]
    word = AND_WORDS.get(primary(tag), AND_WORDS["en"])
    return ", ".join(names[:-1]) + f" {word} " + names[-1]


def prefix(tag: str) -> str:
    return PREFIXES.get(primary(tag), PREFIXES["en"])


def signatory_line(names: Sequence[str], published: date, tag: str = "en") -> str:
    return f"{prefix(tag)} {join_names(names, tag)}, {long_date(published, tag)}"
