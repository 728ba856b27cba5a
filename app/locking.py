"""The statement lock every rule that changes a statement takes first.

It lives below the rule packages (drafting, amending, participation, signing,
publishing) so that each of them can serialise its changes without importing
another.
"""

from __future__ import annotations

from sqlalchemy import select, update

from app import audit
from app.errors import NotFound
from app.extensions import db
from app.models import AuditEntry, Statement


def _newest(column, statement_id: int):
    # Not correlated with statements.id: SQLite's RETURNING names columns without their table, and
    # "id" inside the subquery would be audit_entries.id.
    return (select(column).where(AuditEntry.statement_id == statement_id)
            .order_by(AuditEntry.seq.desc()).limit(1).scalar_subquery())


def lock_statement(statement_id: int) -> Statement:
    """Serialise changes to one statement, and read it fresh, in one statement.

    A no-op UPDATE takes the row lock on PostgreSQL and the write lock on SQLite (it is the
    first write of the transaction, so SQLite waits for the lock instead of failing on a stale
    snapshot); RETURNING reads the row under that lock, with the head of its audit chain, which
    the rule's audit entries continue (``audit.record``). Everything read after it is current.
    """
    row = db.session.execute(
        update(Statement).where(Statement.id == statement_id).values(status=Statement.status)
        .returning(Statement, _newest(AuditEntry.seq, statement_id), _newest(AuditEntry.hash, statement_id))
        .execution_options(populate_existing=True, synchronize_session=False)
    ).first()
    if row is None:
        raise NotFound("There is no such statement.")
    statement, seq, last_hash = row
    audit.continue_from(statement.id, seq, last_hash)
    return statement
