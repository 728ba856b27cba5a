"""Rows rendered once per shape, then stamped out for each row.

A statement page shows up to 1,000 paragraphs, each with the same links and buttons around its
own id, number and text. Rendering a Jinja block per paragraph costs several times the text
itself (every ``{{ }}``, macro and call goes through Jinja's runtime). A :class:`Stamp` renders
the row's template once per *shape* (the flags that choose between its branches) with stand-in
values, cuts the result at those stand-ins, and fills them in for each row: the HTML stays in
the template, and a row costs one join. Nothing is kept beyond the request.

Stand-ins: integers that are never real values (``_NUMBERS``, just below the largest 32-bit id, which
ids never reach) for the numeric values, so that ``url_for`` and integer converters
accept them, and a private-use string for text. The row template is rendered without any user
text (the text is a stand-in), so the stand-ins cannot occur in it by accident; the text is
escaped when it is filled in.
"""

from __future__ import annotations

import re
from collections.abc import Hashable

from flask import current_app
from markupsafe import Markup, escape

_NUMBERS = {"pid": 2_147_483_646, "number": 2_147_483_645, "count": 2_147_483_644}
_TEXT = "\ue000stamped text\ue001"


_FIELD = re.compile("|".join([re.escape(_TEXT), *(str(n) for n in _NUMBERS.values())]))
_NAMES = {_TEXT: "text", **{str(n): name for name, n in _NUMBERS.items()}}


class Stamp:
    def __init__(self, template: str, **context):
        self.template = current_app.jinja_env.get_template(template)
        self.context = context
        self.patterns: dict[Hashable, tuple[str, tuple[tuple[str, str], ...]]] = {}

    def _pattern(self, shape: Hashable) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The row's HTML cut at its stand-ins: the first piece, then (value name, piece after it) pairs."""
        html = self.template.render(shape=shape, text=Markup(_TEXT), **_NUMBERS, **self.context)
        pieces = _FIELD.split(html)
        names = [_NAMES[found] for found in _FIELD.findall(html)]
        return pieces[0], tuple(zip(names, pieces[1:], strict=True))

    def __call__(self, shape: Hashable, *, text: str = "", **numbers: int) -> str:
        pattern = self.patterns.get(shape)
        if pattern is None:
            pattern = self.patterns[shape] = self._pattern(shape)
        first, rest = pattern
        values = {name: str(int(value)) for name, value in numbers.items()}
        values["text"] = escape(text)
        out = [first]
        for name, piece in rest:
            out += (values[name], piece)
        return "".join(out)

    def rows(self, rows) -> Markup:
        """``rows``: (shape, values) pairs; their HTML joined."""
        return Markup("".join(self(shape, **values) for shape, values in rows))
