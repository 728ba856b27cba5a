"""Rendered page fragments kept by each worker, keyed by what they show.

A key names everything a fragment depends on, read from the database in the same
request (the statement's change counter ``Statement.generation``, its version count,
the viewer's rights on it), so a worker never serves a fragment older than the data,
whichever worker made the change: nothing is invalidated, a change makes a new key and
the old entry ages out of the LRU.

A fragment must not show anything about the viewer beyond the rights in its key. CSRF
tokens are the one exception, handled here: while a fragment renders, every form in it
gets a placeholder token, and each response puts the viewer's own token in its place.
The page frame (who is logged in, messages) is rendered on every request around it.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import Flask, Response, current_app, g, render_template
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

EXTENSION = "concord_fragments"
# Random per process, so no text a user typed can contain it.
_TOKEN_SLOT = secrets.token_hex(16)
_BODY_SLOT = secrets.token_hex(16)


class FragmentCache:
    """A least-recently-used map of rendered UTF-8 fragments, bounded by their total size."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.items: OrderedDict[Hashable, bytes] = OrderedDict()

    def get(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
            return found
        value = render()
        if len(value) <= self.max_bytes:
            self.items[key] = value
            self.size += len(value)
            while self.size > self.max_bytes:
                _, dropped = self.items.popitem(last=False)
                self.size -= len(dropped)
        return value

    def clear(self) -> None:
        self.items.clear()
        self.size = 0


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = FragmentCache(app.config.get("FRAGMENT_CACHE_BYTES", 64 * 1024 * 1024))


def _render_shared(render: Callable[[], str]) -> bytes:
    """Render with the placeholder CSRF token (Flask-WTF keeps the request's token in ``g``)."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    saved = g.pop(field, None)
    setattr(g, field, _TOKEN_SLOT)
    try:
        return render().encode()
    finally:
        g.pop(field, None)
        if saved is not None:
            setattr(g, field, saved)


def page(template: str, key: Hashable, render: Callable[[], str], **context) -> Response:
    """``template`` rendered with ``{{ body }}`` = the fragment ``render()`` makes, kept under ``key``.

    The frame is rendered per request and the fragment's bytes are spliced in without
    re-encoding them: a statement's text is hundreds of kilobytes.
    """
    body = current_app.extensions[EXTENSION].get(key, lambda: _render_shared(render))
    if _TOKEN_SLOT.encode() in body:
        body = body.replace(_TOKEN_SLOT.encode(), generate_csrf().encode())
    head, _, tail = render_template(template, body=Markup(_BODY_SLOT), **context).partition(_BODY_SLOT)
    parts = [head.encode(), body, tail.encode()]
    response = Response(parts, mimetype="text/html")
    response.content_length = sum(map(len, parts))
    return response
