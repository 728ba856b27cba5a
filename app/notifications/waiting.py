"""What is waiting for a person: every action they can take now, for the home page. Plain functions; no Flask.

Invitations to answer, positions to take, amendments to revise after a conflict, suggestions to
one's amendments to adopt or decline, signatures to give; for a coordinator also amendments the
decision rule lets them accept now, texts to freeze once the amendment deadline has passed, and
statements every organisation has signed, to publish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from app.amending.rules import rule_met
from app.extensions import db
from app.models import (
    Amendment,
    Notification,
    Organisation,
    Participant,
    Signature,
    Statement,
    StatementInvitation,
    Suggestion,
    User,
)
from app.participation.invitations import invitations_for

LISTED = 100  # per kind: the home page is a to-do list, not an archive


@dataclass
class Waiting:
    positions: list[tuple[Amendment, Organisation]]  # amendments awaiting an organisation's position
    signatures: list[tuple[Statement, Organisation]]  # statements awaiting a signature
    invitations: list[StatementInvitation]
    revisions: list[Amendment] = field(default_factory=list)  # own amendments in conflict, to revise
    # own amendments with suggestions on their current text, to adopt or decline
    suggested: list[Amendment] = field(default_factory=list)
    decisions: list[Amendment] = field(default_factory=list)  # the coordinator may accept them now
    freezes: list[Statement] = field(default_factory=list)  # amendment deadline passed: freeze the text
    publications: list[Statement] = field(default_factory=list)  # everyone signed: publish

    def __len__(self) -> int:
        return (len(self.positions) + len(self.signatures) + len(self.invitations) + len(self.revisions)
                + len(self.suggested) + len(self.decisions) + len(self.freezes) + len(self.publications))


def _statements_of(org_ids: list[int], status: str) -> list[Statement]:
    if not org_ids:
        return []
    return list(db.session.scalars(
        select(Statement).where(Statement.status == status, Statement.id.in_(
            select(Participant.statement_id).where(Participant.organisation_id.in_(org_ids),
                                                   Participant.withdrawn_at.is_(None))))
        .options(selectinload(Statement.memberships))
    ))


def _signed(statement: Statement) -> set[int]:
    return set(db.session.scalars(select(Signature.organisation_id).where(
        Signature.version_id == statement.frozen_version_id, Signature.status == "valid")))


def waiting_for(user: User, *, now: datetime) -> Waiting:
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

    revisions = list(db.session.scalars(
        select(Amendment).join(Statement, Statement.id == Amendment.statement_id)
        .where(Amendment.proposer_id == user.id, Amendment.status == "conflicted", Statement.status == "amending")
        .options(selectinload(Amendment.statement)).order_by(Amendment.id).limit(LISTED)))

    suggested = list(db.session.scalars(
        select(Amendment).join(Statement, Statement.id == Amendment.statement_id)
        .where(Amendment.proposer_id == user.id, Amendment.status.in_(("open", "rebased")),
               Statement.status == "amending",
               exists().where(Suggestion.amendment_id == Amendment.id, Suggestion.status == "open",
                              Suggestion.text_version == Amendment.text_version))
        .options(selectinload(Amendment.statement)).order_by(Amendment.id).limit(LISTED)))

    signatures = []
    for statement in _statements_of(list(signatory_orgs), "signing"):
        signed = _signed(statement)
        for org in statement.participant_organisations:
            if org.id in signatory_orgs and org.id not in signed:
                signatures.append((statement, org))

    coordinated = list(db.session.scalars(
        select(Statement).where(Statement.coordinator_id == user.id, Statement.status.in_(("amending", "signing")))
        .options(selectinload(Statement.memberships)).order_by(Statement.id)))
    decisions, freezes, publications = [], [], []
    open_for_decision = [s for s in coordinated if s.status == "amending"]
    if open_for_decision:
        by_id = {s.id: s for s in open_for_decision}
        for amendment in db.session.scalars(
                select(Amendment).where(Amendment.statement_id.in_(by_id), Amendment.status.in_(("open", "rebased")))
                .options(selectinload(Amendment.positions)).order_by(Amendment.id)):
            statement = by_id[amendment.statement_id]
            stances = {org_id: p.stance for org_id, p in amendment.current_positions().items()}
            members = [o.id for o in statement.participant_organisations]
            if rule_met(statement.decision_rule or "consensus", members, stances).met and len(decisions) < LISTED:
                decisions.append(amendment)
    for statement in coordinated:
        if statement.status == "amending" and statement.amendment_deadline is not None \
                and statement.amendment_deadline <= now:
            freezes.append(statement)
        elif statement.status == "signing":
            signed = _signed(statement)
            live = [o.id for o in statement.participant_organisations]
            if live and all(org_id in signed for org_id in live):
                publications.append(statement)

    return Waiting(positions, signatures, invitations_for(user), revisions=revisions, suggested=suggested,
                   decisions=decisions,
                   freezes=freezes, publications=publications)


def unread_count(user: User) -> int:
    from sqlalchemy import func

    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0
