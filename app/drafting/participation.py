"""Inviting organisations to a statement; they accept or decline before they take part.

An organisation on the platform is invited by name (its admins and delegates
are told); one that is not yet on the platform is invited through a contact
e-mail, whose link lets the contact create the organisation and their account
and join in one step. Plain functions: flush, never commit.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select

from app import audit
from app.accounts import operations as accounts
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound, WrongPhase
from app.extensions import db
from app.locking import lock_statement
from app.models import Organisation, Participant, Statement, StatementInvitation, User
from app.notifications import events
from app.organisations import operations as orgs


def _require_coordinator_before_freeze(statement: Statement, user: User) -> None:
    if not statement.is_coordinator(user):
        raise NotAllowed("Only the coordinator invites organisations.")
    if statement.status not in ("draft", "amending"):
        raise WrongPhase("Organisations can be invited only before the text is frozen for signing.")


def pending_invitations(statement: Statement) -> list[StatementInvitation]:
    return list(db.session.scalars(select(StatementInvitation).where(
        StatementInvitation.statement_id == statement.id, StatementInvitation.status == "pending")
        .order_by(StatementInvitation.id)))


def invite_organisation(
    statement: Statement, user: User, *, organisation: Organisation | None = None,
    contact_email: str | None = None, now: datetime,
) -> StatementInvitation:
    statement = lock_statement(statement.id)
    _require_coordinator_before_freeze(statement, user)
    if (organisation is None) == (not contact_email):
        raise InvalidInput("Choose an organisation on the platform, or give the e-mail of a contact.")
    pending = pending_invitations(statement)
    if organisation is not None:
        if any(p.organisation_id == organisation.id for p in statement.memberships):
            raise Conflict(f"{organisation.name} is already part of this statement "
                           "(if it withdrew, re-invite it from the statement page).", field="organisation")
        if any(i.organisation_id == organisation.id for i in pending):
            raise Conflict(f"{organisation.name} is already invited.", field="organisation")
    else:
        contact_email = accounts.normalise_email(contact_email)
        if any(i.contact_email == contact_email for i in pending):
            raise Conflict(f"{contact_email} is already invited.", field="contact_email")
    invitation = StatementInvitation(
        statement_id=statement.id, organisation_id=organisation.id if organisation else None,
        contact_email=contact_email, nonce=secrets.token_hex(16), created_by_id=user.id, created_at=now,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(statement.id, "organisation_invited", user, now=now, organisation=organisation,
                 contact_email=contact_email, invitation=invitation.id)
    body = (f"{user.name} ({statement.coordinator_organisation.name}) invites your organisation to write "
            f"and sign a joint statement together: “{statement.title}”.")
    if organisation is not None:
        events.notify(events.members([organisation], "admin", "delegate"), "invitation", statement=statement,
                      now=now, path=f"/statement-invitations/{invitation.id}",
                      subject=f"Invitation to a joint statement: {statement.title}", body=body)
    return invitation


def _require_responder(invitation: StatementInvitation, user: User) -> Organisation:
    organisation = invitation.organisation
    if organisation is None:
        raise NotFound("This invitation is answered through the link in the e-mail.")
    if not (user.has_role(organisation, "admin") or user.has_role(organisation, "delegate")):
        raise NotAllowed(f"Only an admin or delegate of {organisation.name} can answer this invitation.")
    return organisation


def _join(statement: Statement, organisation: Organisation, now: datetime) -> Participant:
    position = max((p.position for p in statement.memberships), default=-1) + 1
    participant = Participant(organisation_id=organisation.id, position=position, joined_at=now)
    statement.memberships.append(participant)
    db.session.flush()
    return participant


def respond(
    invitation: StatementInvitation, user: User, *, accept: bool, now: datetime
) -> StatementInvitation:
    statement = lock_statement(invitation.statement_id)
    invitation = db.session.execute(select(StatementInvitation).where(StatementInvitation.id == invitation.id)
                                    .execution_options(populate_existing=True)).scalar_one()
    organisation = _require_responder(invitation, user)
    if invitation.status != "pending":
        raise Conflict(f"This invitation was already {invitation.status}.")
    if accept and statement.status not in ("draft", "amending"):
        raise WrongPhase("The text is frozen or closed; it is too late to join.")
    invitation.status = "accepted" if accept else "declined"
    invitation.decided_at, invitation.decided_by_id = now, user.id
    if accept:
        _join(statement, organisation, now)
    audit.record(statement.id, "invitation_accepted" if accept else "invitation_declined", user, now=now,
                 organisation=organisation, invitation=invitation.id)
    events.notify([statement.coordinator], "invitation", statement=statement, exclude=user, now=now,
                  path=events.statement_path(statement),
                  subject=f"{organisation.name} {'accepted' if accept else 'declined'} your invitation",
                  body=f"“{statement.title}”")
    db.session.flush()
    return invitation


def contact_invitation(payload: object) -> StatementInvitation:
    """The pending contact invitation a verified link names."""
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        raise NotFound("This invitation link is not valid.")
    invitation = db.session.get(StatementInvitation, payload["s"])
    if invitation is None or invitation.contact_email is None or \
            not secrets.compare_digest(str(payload.get("n", "")), invitation.nonce):
        raise NotFound("This invitation link is not valid.")
    if invitation.status != "pending":
        raise Conflict(f"This invitation was already {invitation.status}.")
    return invitation


def join_as_new_organisation(
    invitation: StatementInvitation, *, organisation_name: str, short_name: str, country: str,
    person_name: str, password: str, now: datetime,
) -> tuple[Organisation, User]:
    """The contact creates their organisation and account, and the organisation joins."""
    statement = lock_statement(invitation.statement_id)
    claimed = db.session.execute(
        StatementInvitation.__table__.update()
        .where(StatementInvitation.id == invitation.id, StatementInvitation.status == "pending")
        .values(status="accepted", decided_at=now)
    ).rowcount
    if claimed != 1:
        raise Conflict("This invitation was already used.")
    if statement.status not in ("draft", "amending"):
        raise WrongPhase("The text is frozen or closed; it is too late to join.")
    organisation = orgs.create_organisation(None, name=organisation_name, short_name=short_name,
                                            country=country)
    user = accounts.create_user(invitation.contact_email, person_name, password)
    orgs.set_member_roles(None, organisation, user, ["delegate", "signatory", "admin"])
    db.session.refresh(invitation)
    invitation.organisation_id, invitation.decided_by_id = organisation.id, user.id
    _join(statement, organisation, now)
    audit.record(statement.id, "invitation_accepted", user, now=now, organisation=organisation,
                 invitation=invitation.id, new_organisation=True)
    events.notify([statement.coordinator], "invitation", statement=statement, now=now,
                  path=events.statement_path(statement),
                  subject=f"{organisation.name} joined “{statement.title}”",
                  body=f"{user.name} created the organisation on Concord and accepted your invitation.")
    db.session.flush()
    return organisation, user


def invitations_for(user: User) -> list[StatementInvitation]:
    """Pending invitations of organisations ``user`` can answer for."""
    org_ids = [m.organisation_id for m in user.memberships if m.role in ("admin", "delegate")]
    if not org_ids:
        return []
    return list(db.session.scalars(select(StatementInvitation).where(
        StatementInvitation.organisation_id.in_(org_ids), StatementInvitation.status == "pending",
        StatementInvitation.statement_id.in_(
            select(Statement.id).where(Statement.status.in_(("draft", "amending")))))
        .order_by(StatementInvitation.id)))
