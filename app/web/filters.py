"""Template filters and globals."""

from __future__ import annotations

from flask import Flask, url_for
from flask_login import current_user
from markupsafe import Markup

from app.web.forms import EmptyForm

_SLOT = 2_147_483_646  # an id that never occurs: where link_builder's links take their id


def link_builder(endpoint: str, slot: str, **values):
    """``url_for(endpoint, **values)`` with ``values[slot] = id``, as a function of ``id``, built once.

    A page with hundreds of paragraphs links each of them several times; building every
    link through the URL map costs more than rendering the page. The link is built once
    with a stand-in id and the real id is put in its place (ids are integers, so nothing
    needs escaping beyond what url_for did).
    """
    head, tail = url_for(endpoint, **{**values, slot: _SLOT}).split(str(_SLOT))
    head, tail = Markup.escape(head), Markup.escape(tail)
    return lambda id_: Markup(f"{head}{int(id_)}{tail}")


def register(app: Flask) -> None:
    app.jinja_env.globals["link_builder"] = link_builder
    app.jinja_env.filters["short_hash"] = lambda h: (h or "")[:12]
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
