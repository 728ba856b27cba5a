"""Notification and e-mail texts that read in the reader's language, whoever wrote them and when.

The rules tell people things with ``app.i18n`` messages (an English msgid and its parameters). A
notification or outbox row keeps the English text in ``subject`` and ``body`` (what the audit, the
admin's mail page and the older rows read) and, beside it in ``texts``, the messages themselves as
JSON: shown, they are translated then, in the language of whoever reads them (the page's viewer, or
the locale forced around an e-mail). ``lang`` there is the language of a mail to someone without an
account (an invitation: the inviting person's). Plain functions; no Flask.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app.i18n import LANGUAGES, Message, Moment, in_language


def english(text: str | Message) -> str:
    """The text as English source (what ``subject`` and ``body`` keep)."""
    return in_language(text, "en") if isinstance(text, Message) else text


def _dump(value: Any) -> Any:
    if isinstance(value, Message):
        out: dict[str, Any] = {"m": value.msgid, "a": {k: _dump(v) for k, v in value.params.items()}}
        if value.plural is not None:
            out["p"], out["n"] = value.plural, value.n
        if value.context is not None:
            out["c"] = value.context
        return out
    if isinstance(value, Moment):
        return {"t": value.value.isoformat()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _load(value: Any) -> Any:
    if isinstance(value, dict) and "t" in value:
        return Moment(datetime.fromisoformat(value["t"]))
    if isinstance(value, dict) and "m" in value:
        params = {k: _load(v) for k, v in (value.get("a") or {}).items()}
        return Message(value["m"], value.get("p"), value.get("n"), params=params, context=value.get("c"))
    return value


def pack(subject: str | Message, body: str | Message, *, language: str | None = None) -> str | None:
    """The JSON kept beside the English text; None when there is nothing to translate or remember."""
    packed: dict[str, Any] = {}
    if isinstance(subject, Message):
        packed["s"] = _dump(subject)
    if isinstance(body, Message):
        packed["b"] = _dump(body)
    if language in LANGUAGES:
        packed["lang"] = language
    return json.dumps(packed, ensure_ascii=False, sort_keys=True) if packed else None


def _unpacked(packed: str | None) -> dict:
    if not packed:
        return {}
    try:
        value = json.loads(packed)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def shown(english_text: str, packed: str | None, part: str) -> str:
    """``part`` ("s": subject, "b": body) in the language messages are shown in now."""
    stored = _unpacked(packed).get(part)
    if stored is None:
        return english_text
    try:
        return str(_load(stored))
    except (KeyError, TypeError, ValueError):  # a catalogue whose placeholders do not fit: the English
        return english_text


def language_of(packed: str | None) -> str | None:
    """The language a mail to someone without an account is written in, if one was given."""
    lang = _unpacked(packed).get("lang")
    return lang if lang in LANGUAGES else None
