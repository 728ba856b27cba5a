"""The statement lock every rule that changes a statement takes first.

It lives below the rule packages (drafting, amending, participation, signing,
publishing) so that each of them can serialise its changes without importing
another.
"""

from __future__ import annotations

from sqlalchemy import update

from app.errors import NotFound
from app.extensions import db
from app.i18n import _
from app.models import Statement


def lock_statement(statement_id: int) -> Statement:
    """Serialise changes to one statement, and read it fresh, in one statement.

    A no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite (it is the
    first write of the transaction, so SQLite waits for the lock instead of failing on a stale
    snapshot); RETURNING reads the row as the lock finds it. Everything read after it is current.
    Only the row: on PostgreSQL a subquery in the same statement would still see the snapshot taken
    before the wait, without what the transaction that held the lock committed.
    """
    statement = db.session.execute(
        update(Statement).where(Statement.id == statement_id).values(status=Statement.status)
        .returning(Statement).execution_options(populate_existing=True, synchronize_session=False)
    ).scalar_one_or_none()
    if statement is None:
        raise NotFound(_("There is no such statement."))
    return statement
