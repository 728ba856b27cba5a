"""Template filters and globals."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from app.web.forms import EmptyForm

_SLUG_SLOT = "concordslugslot"  # letters only: url_for leaves it as it is


def slug_link_builder(endpoint: str, slot: str, **values):
    """``url_for(endpoint, **values)`` with ``values[slot] = slug``, as a function of ``slug``, built once.

    A page that links dozens of organisations would spend more on the URL map than on the rest of
    its header: the link is built once with a stand-in and each slug is put in its place (slugs are
    made of URL-safe characters, quoted all the same)."""
    head, tail = url_for(endpoint, **{**values, slot: _SLUG_SLOT}).split(_SLUG_SLOT)
    head, tail = Markup.escape(head), Markup.escape(tail)
    return lambda slug: Markup(f"{head}{escape(quote(slug, safe=''))}{tail}")


def register(app: Flask) -> None:
    app.jinja_env.globals["slug_link_builder"] = slug_link_builder
    app.jinja_env.filters["short_hash"] = lambda h: (h or "")[:12]
    from app.translating.languages import direction

    app.jinja_env.filters["text_direction"] = direction  # "rtl" for right-to-left languages (issue 14)
    # For POST buttons in templates: carries the CSRF token and never reads the request body
    # (the 413 page renders the layout while the body is the problem).
    app.jinja_env.globals["empty_form"] = lambda: EmptyForm(formdata=None)
    # Macros imported without context (statements/_header.html) need the user too.
    app.jinja_env.globals["current_user"] = current_user
    # WTForms renders None as "None"; drop attributes that have no value.
    app.jinja_env.globals["clean_attrs"] = lambda attrs: {
        k: v for k, v in attrs.items() if v not in (None, "", False)
    }
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
