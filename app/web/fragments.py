"""Rendered page fragments kept by each worker, keyed by what they show.

A key names everything a fragment depends on, read from the database in the same
request (the statement's change counter ``Statement.generation``, its version count,
the viewer's rights on it), so a worker never serves a fragment older than the data,
whichever worker made the change: nothing is invalidated, a change makes a new key and
the old entry ages out of the LRU.

A fragment must not show anything about the viewer beyond the rights in its key. CSRF
tokens are the one exception, handled here: while a fragment renders, every form in it
gets a placeholder token, and each response puts the viewer's own token in its place.

The page frame around it (the header with who is logged in and their unread count, the
title) is kept too, per viewer and fragment key: it shows nothing else. A request with
flashed messages renders its frame afresh, since the messages are shown once.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Flask, Response, current_app, g, render_template, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app.drafting import participation
from app.drafting.participation import Rights
from app.models import Statement
from app.web import now

EXTENSION = "concord_fragments"
# Random per process, so no text a user typed can contain it.
_TOKEN_SLOT = secrets.token_hex(16)
_BODY_SLOT = secrets.token_hex(16)


Segments = tuple[bytes, ...]  # rendered UTF-8, cut where each form's CSRF token goes


class FragmentCache:
    """A least-recently-used map of rendered fragments (and small tuples), bounded by their total size."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.items: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()  # value, its size

    def get(self, key: Hashable, make: Callable[[], object], size: Callable[[object], int] = len):
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
            return found[0]
        value = make()
        value_size = size(value)
        if value_size <= self.max_bytes:
            self.items[key] = (value, value_size)
            self.size += value_size
            while self.size > self.max_bytes:
                _, (_, dropped) = self.items.popitem(last=False)
                self.size -= dropped
        return value

    def clear(self) -> None:
        self.items.clear()
        self.size = 0


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = FragmentCache(app.config.get("FRAGMENT_CACHE_BYTES", 64 * 1024 * 1024))


def viewer_rights(statement: Statement) -> Rights:
    """The current user's rights on ``statement``, its participants kept per ``Statement.generation``
    (they change only under the statement's lock, which moves it on)."""
    participants = current_app.extensions[EXTENSION].get(
        ("participants", statement.id, statement.generation),
        lambda: participation.participant_ids(statement.id), size=lambda rows: 64 * (1 + len(rows)))
    return participation.viewer_rights(statement, current_user._get_current_object(), now=now(),
                                       participants=participants)


def _render_shared(render: Callable[[], str]) -> str:
    """Render with the placeholder CSRF token (Flask-WTF keeps the request's token in ``g``)."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    saved = g.pop(field, None)
    setattr(g, field, _TOKEN_SLOT)
    try:
        return render()
    finally:
        g.pop(field, None)
        if saved is not None:
            setattr(g, field, saved)


def _segments(text: str) -> Segments:
    return tuple(text.encode().split(_TOKEN_SLOT.encode()))


def _total(pieces: tuple) -> int:
    return sum(_total(p) if isinstance(p, tuple) else len(p) for p in pieces)


def _own_token(cache: FragmentCache) -> bytes:
    """The viewer's signed CSRF token. Signing it again on each page costs more than the rest of
    the frame; with no time limit on tokens (config.Config) one signature of a session's token is
    as good as the next, so the worker keeps it, keyed by that (secret) session token."""
    raw = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    if not isinstance(raw, str) or current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
        return generate_csrf().encode()
    return cache.get(("csrf", raw), lambda: generate_csrf().encode())


def page(template: str, key: Hashable, render: Callable[[], str], **context) -> Response:
    """``template`` rendered with ``{{ body }}`` = the fragment ``render()`` makes, kept under ``key``.

    ``template`` may show nothing that ``key`` does not determine, beyond the frame's viewer.
    The fragment's bytes are spliced in without re-encoding them: a statement's text is
    hundreds of kilobytes.
    """
    cache = current_app.extensions[EXTENSION]
    from flask_babel import get_timezone

    key = (key, str(get_timezone()))  # times are written in the viewer's zone
    body = cache.get(key, lambda: _segments(_render_shared(render)), size=_total)

    def frame() -> tuple[Segments, Segments]:
        text = _render_shared(lambda: render_template(template, body=Markup(_BODY_SLOT), **context))
        head, _, tail = text.partition(_BODY_SLOT)
        return _segments(head), _segments(tail)

    user = current_user._get_current_object()
    unread = getattr(user, "unread_notifications", None)  # counted when the request loaded the user
    if session.get("_flashes") or unread is None:  # flashes are shown once: this frame is this response's
        head, tail = frame()
    else:
        viewer = (user.id, user.name, user.is_admin, unread)
        head, tail = cache.get(("frame", template, key, request.script_root, viewer), frame, size=_total)
    own = _own_token(cache)
    parts: list[bytes] = []
    for segments in (head, body, tail):
        parts.append(segments[0])
        for segment in segments[1:]:
            parts += (own, segment)
    response = Response(parts, mimetype="text/html")
    response.content_length = sum(map(len, parts))
    return response
