"""Inviting organisations to a statement; they accept or decline before they take part.

An organisation on the platform is invited by name (its admins and delegates are told); one that
is not yet on the platform is invited through a contact e-mail, whose link lets the contact create
the organisation and their account and join in one step. The coordinator sees every invitation
with its state, sends one again, or revokes it while it is open.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from app import audit
from app.accounts import operations as accounts
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound, WrongPhase
from app.extensions import db
from app.i18n import Message, _, ngettext
from app.locking import lock_statement
from app.models import Organisation, Participant, Statement, StatementInvitation, User
from app.notifications import events
from app.organisations import operations as orgs

OPEN_PHASES = ("draft", "amending")
# A contact's link: {"s": invitation id, "n": nonce} -> the path of the signed link.
LinkPath = Callable[[dict], str]


def state(invitation: StatementInvitation, now: datetime) -> str:
    """open, expired, accepted, declined or revoked."""
    if invitation.status == "pending":
        expired = invitation.expires_at is not None and invitation.expires_at <= now
        return "expired" if expired else "open"
    return invitation.status


def _require_coordinator_before_freeze(statement: Statement, user: User) -> None:
    if not statement.is_coordinator(user):
        raise NotAllowed(_("Only the coordinator invites organisations."))
    if statement.status not in OPEN_PHASES:
        raise WrongPhase(_("Organisations can be invited only before the text is frozen for signing."))


def pending_invitations(statement: Statement) -> list[StatementInvitation]:
    return list(db.session.scalars(select(StatementInvitation).where(
        StatementInvitation.statement_id == statement.id, StatementInvitation.status == "pending")
        .order_by(StatementInvitation.id)))


def statement_invitations(statement: Statement) -> list[StatementInvitation]:
    """Every invitation of the statement, newest first, whatever its state."""
    return list(db.session.scalars(select(StatementInvitation).where(
        StatementInvitation.statement_id == statement.id).order_by(StatementInvitation.id.desc())))


def _body(statement: Statement, user: User) -> Message:
    return _("%(name)s (%(organisation)s) invites your organisation to write and sign a joint statement "
             "together: “%(title)s”.", name=user.name, organisation=statement.coordinator_organisation.name,
             title=statement.title)


# "This invitation was already …", by the state it is in.
ALREADY = {"accepted": _("This invitation was already accepted."),
           "declined": _("This invitation was already declined."),
           "revoked": _("This invitation was already revoked.")}
# A contact's link that no longer works, by the invitation's state.
NO_LONGER = {"declined": _("This invitation was declined. Ask the coordinator for a new one."),
             "revoked": _("This invitation was revoked. Ask the coordinator for a new one.")}


def _tell(invitation: StatementInvitation, statement: Statement, user: User, *, now: datetime,
          link_path: LinkPath | None, max_age: int, language: str | None = None) -> None:
    """The invited organisation's admins and delegates are notified; a contact gets the link by e-mail
    (when ``link_path`` makes it), in ``language`` (the inviting person's), else in their account's."""
    subject = _("Invitation to a joint statement: %(title)s", title=statement.title)
    if invitation.organisation is not None:
        events.notify(events.members([invitation.organisation], "admin", "delegate"), "invitation",
                      statement=statement, now=now, path=f"/statement-invitations/{invitation.id}",
                      subject=subject, body=_body(statement, user))
        return
    invitation.expires_at = now + timedelta(seconds=max_age)
    if link_path is None:  # the caller hands the link over itself
        return
    days = max(1, max_age // 86400)
    events.mail_contact(
        invitation.contact_email, "invitation", statement=statement, now=now,
        path=link_path({"s": invitation.id, "n": invitation.nonce}), subject=subject,
        body=ngettext("%(invitation)s The link below lets you create your organisation and your account "
                      "on Concord, and join. It works for %(num)d day.",
                      "%(invitation)s The link below lets you create your organisation and your account "
                      "on Concord, and join. It works for %(num)d days.", days, invitation=_body(statement, user)),
        language=language or user.language)


def invite_organisation(
    statement: Statement, user: User, *, organisation: Organisation | None = None,
    contact_email: str | None = None, now: datetime, link_path: LinkPath | None = None,
    max_age: int = 7 * 24 * 3600, language: str | None = None,
) -> StatementInvitation:
    """Invite an organisation on the platform, or a contact's organisation by e-mail (sent at once)."""
    statement = lock_statement(statement.id)
    _require_coordinator_before_freeze(statement, user)
    if (organisation is None) == (not contact_email):
        raise InvalidInput(_("Choose an organisation on the platform, or give the e-mail of a contact."))
    pending = pending_invitations(statement)
    if organisation is not None:
        if any(p.organisation_id == organisation.id for p in statement.memberships):
            raise Conflict(_("%(organisation)s is already part of this statement "
                             "(if it withdrew, re-invite it from the statement page).",
                             organisation=organisation.name), field="organisation")
        if any(i.organisation_id == organisation.id for i in pending):
            raise Conflict(_("%(organisation)s is already invited.", organisation=organisation.name),
                           field="organisation")
    else:
        try:
            contact_email = accounts.normalise_email(contact_email)
        except InvalidInput as exc:
            raise InvalidInput(exc.raw_message, field="contact_email") from None
        if any(i.contact_email == contact_email and state(i, now) == "open" for i in pending):
            raise Conflict(_("%(organisation)s is already invited.", organisation=contact_email), field="contact_email")
    invitation = StatementInvitation(
        statement_id=statement.id, organisation_id=organisation.id if organisation else None,
        contact_email=contact_email, nonce=secrets.token_hex(16), created_by_id=user.id, created_at=now,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(statement.id, "organisation_invited", user, now=now, organisation=organisation,
                 contact_email=contact_email, invitation=invitation.id)
    _tell(invitation, statement, user, now=now, link_path=link_path, max_age=max_age, language=language)
    db.session.flush()
    return invitation


def _coordinated_pending(invitation: StatementInvitation, user: User) -> tuple[Statement, StatementInvitation]:
    statement = lock_statement(invitation.statement_id)
    invitation = db.session.execute(select(StatementInvitation).where(StatementInvitation.id == invitation.id)
                                    .execution_options(populate_existing=True)).scalar_one()
    if not statement.is_coordinator(user):
        raise NotAllowed(_("Only the coordinator manages the statement's invitations."))
    if invitation.status != "pending":
        raise Conflict(ALREADY.get(invitation.status, f"This invitation was already {invitation.status}."))
    return statement, invitation


def resend_invitation(invitation: StatementInvitation, user: User, *, now: datetime,
                      link_path: LinkPath | None = None, max_age: int = 7 * 24 * 3600,
                      language: str | None = None) -> StatementInvitation:
    """Tell the organisation again (a contact gets the link again, working for ``max_age`` from now)."""
    statement, invitation = _coordinated_pending(invitation, user)
    if statement.status not in OPEN_PHASES:
        raise WrongPhase(_("The text is frozen or closed; it is too late to invite organisations."))
    audit.record(statement.id, "invitation_resent", user, now=now, organisation=invitation.organisation,
                 contact_email=invitation.contact_email, invitation=invitation.id)
    _tell(invitation, statement, user, now=now, link_path=link_path, max_age=max_age, language=language)
    db.session.flush()
    return invitation


def revoke_invitation(invitation: StatementInvitation, user: User, *, now: datetime) -> StatementInvitation:
    """Take back an open invitation: it can no longer be accepted (a contact's link stops working)."""
    statement, invitation = _coordinated_pending(invitation, user)
    invitation.status = "revoked"
    invitation.decided_at, invitation.decided_by_id = now, user.id
    audit.record(statement.id, "invitation_revoked", user, now=now, organisation=invitation.organisation,
                 contact_email=invitation.contact_email, invitation=invitation.id)
    db.session.flush()
    return invitation


def _require_responder(invitation: StatementInvitation, user: User) -> Organisation:
    organisation = invitation.organisation
    if organisation is None:
        raise NotFound(_("This invitation is answered through the link in the e-mail."))
    if not (user.has_role(organisation, "admin") or user.has_role(organisation, "delegate")):
        raise NotAllowed(_("Only an admin or delegate of %(organisation)s can answer this invitation.",
                           organisation=organisation.name))
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
        raise Conflict(ALREADY.get(invitation.status, f"This invitation was already {invitation.status}."))
    if accept and statement.status not in OPEN_PHASES:
        raise WrongPhase(_("The text is frozen or closed; it is too late to join."))
    invitation.status = "accepted" if accept else "declined"
    invitation.decided_at, invitation.decided_by_id = now, user.id
    if accept:
        _join(statement, organisation, now)
    audit.record(statement.id, "invitation_accepted" if accept else "invitation_declined", user, now=now,
                 organisation=organisation, invitation=invitation.id)
    events.notify([statement.coordinator], "invitation", statement=statement, exclude=user, now=now,
                  path=events.statement_path(statement),
                  subject=(_("%(organisation)s accepted your invitation", organisation=organisation.name) if accept
                           else _("%(organisation)s declined your invitation", organisation=organisation.name)),
                  body=_("“%(title)s”", title=statement.title))
    db.session.flush()
    return invitation


def contact_invitation(payload: object, *, now: datetime) -> StatementInvitation:
    """The open contact invitation a verified link names."""
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        raise NotFound(_("This invitation link is not valid."))
    invitation = db.session.get(StatementInvitation, payload["s"])
    if invitation is None or invitation.contact_email is None or \
            not secrets.compare_digest(str(payload.get("n", "")), invitation.nonce):
        raise NotFound(_("This invitation link is not valid."))
    if invitation.status == "accepted":
        raise Conflict(_("This invitation has already been used."))
    if invitation.status != "pending":
        raise Conflict(NO_LONGER.get(invitation.status,
                                     f"This invitation was {invitation.status}. Ask the coordinator for a new one."))
    if state(invitation, now) == "expired":
        raise Conflict(_("This invitation has expired. Ask the coordinator to send it again."))
    return invitation


def join_as_new_organisation(
    invitation: StatementInvitation, *, organisation_name: str, short_name: str, country: str,
    person_name: str, password: str, now: datetime,
) -> tuple[Organisation, User]:
    """The contact creates their organisation and account, and the organisation joins."""
    statement = lock_statement(invitation.statement_id)
    open_now = (StatementInvitation.expires_at.is_(None)) | (StatementInvitation.expires_at > now)
    claimed = db.session.execute(
        StatementInvitation.__table__.update()
        .where(StatementInvitation.id == invitation.id, StatementInvitation.status == "pending", open_now)
        .values(status="accepted", decided_at=now)
    ).rowcount
    if claimed != 1:
        raise Conflict(_("This invitation was already used, revoked or has expired."))
    if statement.status not in OPEN_PHASES:
        raise WrongPhase(_("The text is frozen or closed; it is too late to join."))
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
                  subject=_("%(organisation)s joined “%(title)s”", organisation=organisation.name,
                            title=statement.title),
                  body=_("%(name)s created the organisation on Concord and accepted your invitation.", name=user.name))
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
            select(Statement.id).where(Statement.status.in_(OPEN_PHASES))))
        .order_by(StatementInvitation.id)))
