"""The statement lock every rule that changes a statement takes first.

It lives below the rule packages (drafting, amending, participation, signing,
publishing) so that each of them can serialise its changes without importing
another.
"""

from __future__ import annotations

from sqlalchemy import select, update

from app.errors import NotFound
from app.extensions import db
from app.models import Statement


def lock_statement(statement_id: int) -> Statement:
    """Serialise changes to one statement, then read it fresh.

    The UPDATE takes the row lock on PostgreSQL and the write lock on SQLite (it is
    the first write of the transaction, so SQLite waits for the lock instead of
    failing on a stale snapshot). Everything read after it is current. It also
    counts the change in ``Statement.generation``, which keys the pages' cached
    fragments (app/web/fragments.py): every change a page shows goes through here.
    """
    locked = db.session.execute(
        update(Statement)
        .where(Statement.id == statement_id)
        .values(generation=Statement.generation + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if locked != 1:
        raise NotFound("There is no such statement.")
    return db.session.execute(
        select(Statement).where(Statement.id == statement_id).execution_options(populate_existing=True)
    ).scalar_one()
