"""The interface's languages and translatable messages, without Flask.

The rules (which never import flask) mark what they tell the user with ``_``: it returns a
``Message`` that keeps the English source text and its parameters, and becomes text only when it
is shown, in the language of whoever it is shown to. The web layer installs the translator
(``set_translator``: Flask-Babel's ``gettext`` for the request's language); without one, as in the
rules' own tests, a message reads in English.

Placeholders are ``%(name)s``; parameters that are messages themselves are translated too.

Documents made for a language rather than for a viewer (the published PDF and DOCX) take their
words from ``translations_for(tag)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations

# The interface's languages: English is the source, the others have complete catalogues
# (tests/test_catalogues.py). The names are shown in the chooser in their own language.
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch", "es": "Español", "fr": "Français"}
DEFAULT = "en"
CATALOGUES = Path(__file__).parent / "translations"
DOMAIN = "messages"


def _english(text: str) -> str:
    return text


def _english_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


_translate: Callable[[str], str] = _english
_translate_plural: Callable[[str, str, int], str] = _english_plural
_language: Callable[[], str] = lambda: DEFAULT  # noqa: E731


def set_translator(translate: Callable[[str], str], translate_plural: Callable[[str, str, int], str],
                   language: Callable[[], str] | None = None) -> None:
    """Install how messages become text (the web layer: the request's language, and its tag for dates)."""
    global _translate, _translate_plural, _language
    _translate, _translate_plural = translate, translate_plural
    if language is not None:
        _language = language


class Moment:
    """A moment as a message parameter: written when shown, in the language of the message ("8 Dec 2026,
    21:41 UTC", "8. Dez. 2026, 21:41 UTC"), in UTC with the zone named."""

    __slots__ = ("value",)

    def __init__(self, value: datetime):
        self.value = value

    def render(self, language: str) -> str:
        from app import dates

        return dates.format_datetime(self.value, locale=language.replace("-", "_"))

    def __str__(self) -> str:
        return self.render(_language())


class Message:
    """A message for a person: English source text and parameters, translated when shown."""

    __slots__ = ("msgid", "plural", "n", "params", "context")

    def __init__(self, msgid: str, plural: str | None = None, n: int | None = None,
                 params: dict[str, Any] | None = None, context: str | None = None):
        self.msgid, self.plural, self.n, self.params, self.context = msgid, plural, n, params or {}, context

    def render(self, translate: Callable[[str], str], translate_plural: Callable[[str, str, int], str],
               language: str | None = None) -> str:
        if self.plural is not None:
            text = translate_plural(self.msgid, self.plural, self.n)
        elif self.context is not None:  # gettext's key for a message in a context: "context\x04msgid"
            key = f"{self.context}\x04{self.msgid}"
            text = translate(key)
            text = self.msgid if text == key else text
        else:
            text = translate(self.msgid)
        language = language or _language()
        params = {k: v.render(translate, translate_plural, language) if isinstance(v, Message)
                  else v.render(language) if isinstance(v, Moment) else v
                  for k, v in self.params.items()}
        if self.plural is not None:
            params.setdefault("num", self.n)
        return text % params if params else text

    def __str__(self) -> str:
        return self.render(_translate, _translate_plural)

    def __html__(self) -> str:  # Jinja: text, escaped like any other
        from markupsafe import escape

        return str(escape(str(self)))

    def __repr__(self) -> str:
        return f"Message({self.msgid!r})"

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __add__(self, other: object) -> str:
        return str(self) + str(other)

    def __radd__(self, other: object) -> str:
        return str(other) + str(self)

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __len__(self) -> int:
        return len(str(self))

    def __getattr__(self, name: str) -> Any:  # the str methods (startswith, lower, …) on the shown text
        return getattr(str(self), name)


def _(msgid: str, /, **params: Any) -> Message:
    """Mark a message for translation (extracted by ``make translations``)."""
    return Message(msgid, params=params)


def ngettext(singular: str, plural: str, n: int, /, **params: Any) -> Message:
    """A message whose form depends on a number (``%(num)d`` in the text stands for it)."""
    return Message(singular, plural, n, params=params)


def pgettext(context: str, msgid: str, /, **params: Any) -> Message:
    """A message whose words depend on what it is said of: "open" of an amendment (French "ouvert") and
    of an invitation ("ouverte") are two messages."""
    return Message(msgid, params=params, context=context)


def N_(msgid: str) -> str:
    """Mark a string for extraction only; it is translated where it is shown (``gettext(text)``)."""
    return msgid


@functools.cache
def translations_for(tag: str | None) -> NullTranslations:
    """The interface catalogue of one language (English: none), for documents made in that language."""
    if not tag or tag.split("-")[0].lower() == DEFAULT:
        return NullTranslations()
    base = tag.replace("-", "_").split("_")[0].lower()
    if base not in LANGUAGES:
        return NullTranslations()
    return Translations.load(str(CATALOGUES), [base], DOMAIN)


def in_language(message: Message | str, tag: str | None) -> str:
    """A message as it reads in the language ``tag`` (for documents), whoever is looking."""
    if not isinstance(message, Message):
        return message
    t = translations_for(tag)
    return message.render(t.gettext, t.ngettext, tag or DEFAULT)
