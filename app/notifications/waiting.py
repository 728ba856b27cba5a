"""What is waiting for a person: the home page's list. Plain functions; no Flask."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Amendment,
    Notification,
    Organisation,
    Participant,
    Signature,
    Statement,
    StatementInvitation,
    User,
)
from app.participation.invitations import invitations_for


@dataclass
class Waiting:
    positions: list[tuple[Amendment, Organisation]]  # amendments awaiting an organisation's position
    signatures: list[tuple[Statement, Organisation]]  # statements awaiting a signature
    invitations: list[StatementInvitation]

    def __len__(self) -> int:
        return len(self.positions) + len(self.signatures) + len(self.invitations)


def _statements_of(org_ids: list[int], status: str) -> list[Statement]:
    if not org_ids:
        return []
    return list(db.session.scalars(
        select(Statement).where(Statement.status == status, Statement.id.in_(
            select(Participant.statement_id).where(Participant.organisation_id.in_(org_ids),
                                                   Participant.withdrawn_at.is_(None))))
        .options(selectinload(Statement.memberships))
    ))


def waiting_for(user: User) -> Waiting:
    delegate_orgs = {m.organisation_id: m.organisation for m in user.memberships if m.role == "delegate"}
    signatory_orgs = {m.organisation_id: m.organisation for m in user.memberships if m.role == "signatory"}

    positions = []
    amending = _statements_of(list(delegate_orgs), "amending")
    if amending:
        amendments = db.session.scalars(
            select(Amendment).where(Amendment.statement_id.in_([s.id for s in amending]),
                                    Amendment.status.in_(("open", "rebased")))
            .options(selectinload(Amendment.positions), selectinload(Amendment.statement))
            .order_by(Amendment.id)
        ).all()
        for amendment in amendments:
            spoken = amendment.current_positions()
            for org in amendment.statement.participant_organisations:
                if org.id in delegate_orgs and org.id not in spoken:
                    positions.append((amendment, org))

    signatures = []
    for statement in _statements_of(list(signatory_orgs), "signing"):
        signed = set(db.session.scalars(select(Signature.organisation_id).where(
            Signature.version_id == statement.frozen_version_id, Signature.status == "valid")))
        for org in statement.participant_organisations:
            if org.id in signatory_orgs and org.id not in signed:
                signatures.append((statement, org))

    return Waiting(positions, signatures, invitations_for(user))


def unread_count(user: User) -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0



