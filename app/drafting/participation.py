"""What one person may see and do on one statement, from ids alone (``viewer_rights``).

The rules of taking part (invitations, withdrawals, re-invitations) are in app/participation/.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import Participant, Statement, User


class Rights(NamedTuple):
    """What one person may see and do on one statement's pages, from ids alone."""

    can_view: bool
    is_coordinator: bool
    is_member: bool  # of an organisation that takes or took part (may comment)
    can_edit: bool  # the draft, directly
    delegate_for: tuple[int, ...]  # participating organisations they speak for, by id
    can_propose: bool  # as a delegate of a participant, while amendments are open
    can_sign: bool  # as a signatory of a participant
    can_withdraw: bool  # a participant other than the coordinator's, as its admin or signatory


NO_RIGHTS = Rights(False, False, False, False, (), False, False, False)


@functools.cache
def _participant_ids_query():
    # Built once: asked on every page of a statement, and building it costs more than running it.
    return select(Participant.organisation_id, Participant.withdrawn_at).where(
        Participant.statement_id == bindparam("statement_id"))


def participant_ids(statement_id: int) -> tuple[tuple[int, bool], ...]:
    """(organisation id, still taking part) for each participant, in one small query, nothing loaded.

    Changes only under the statement's lock, so a caller may keep it per ``Statement.generation``."""
    rows = db.session.execute(_participant_ids_query(), {"statement_id": statement_id})
    return tuple((org_id, withdrawn_at is None) for org_id, withdrawn_at in rows)


def viewer_rights(statement: Statement, user: User | None, *, now: datetime,
                  participants: tuple[tuple[int, bool], ...] | None = None) -> Rights:
    """The answers of ``Statement.can_view``, ``is_participant_member``, ``can_edit_draft``,
    ``delegate_organisations``, ``signing.can_sign_for`` and ``can_withdraw_for`` from ids alone:
    pages cached per set of rights need them on every request. ``participants`` is
    ``participant_ids(statement.id)``, read here if not given. tests/test_participation.py checks
    both ways agree for every kind of viewer."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NO_RIGHTS
    if participants is None:
        participants = participant_ids(statement.id)
    live = {org_id for org_id, taking_part in participants if taking_part}
    ever = {org_id for org_id, _ in participants}
    roles = user.role_pairs()

    def speaks_for(*wanted: str, exclude: int | None = None) -> list[int]:
        return sorted({org_id for org_id, role in roles if org_id in live and org_id != exclude and role in wanted})

    is_coordinator = statement.is_coordinator(user)
    is_member = any(org_id in ever for org_id, _ in roles)
    delegate_for = tuple(speaks_for("delegate"))
    return Rights(
        can_view=user.is_admin or is_coordinator or is_member,
        is_coordinator=is_coordinator,
        is_member=is_member,
        can_edit=statement.can_edit_draft(user),
        delegate_for=delegate_for,
        can_propose=statement.amendments_open(now) and bool(delegate_for),
        can_sign=bool(speaks_for("signatory")),
        can_withdraw=bool(speaks_for("admin", "signatory", exclude=statement.coordinator_organisation_id)),
    )
