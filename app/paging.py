"""Long lists, a page at a time (Flask-SQLAlchemy's pagination), for the pages and the API alike.

``?page=N`` chooses the page (from 1) and, where a caller allows it, ``?per_page=M``. A page past the
last is a 404, as is a number no database could count to: what a request reads never grows with
the list, and no query string can make it fail.
"""

from __future__ import annotations

from flask import abort, request
from flask_sqlalchemy.pagination import Pagination

from app.extensions import db

_MAX_ROWS = 2**31 - 1  # the largest offset either database takes in an INTEGER


def paginate(query, *, per_page: int, max_per_page: int | None = None) -> Pagination:
    """One page of ``query``'s rows, with what a pager needs (total, pages, previous, next)."""
    page = request.args.get("page", 1, type=int)
    size = request.args.get("per_page", per_page, type=int) if max_per_page else per_page
    if not 1 <= size <= (max_per_page or per_page) or not 1 <= page <= _MAX_ROWS // size:
        abort(404)
    return db.paginate(query, page=page, per_page=size, max_per_page=max_per_page or per_page, error_out=True)
