"""An organisation withdrawing from a statement, with a reason, and the coordinator inviting it back."""

from __future__ import annotations

from datetime import datetime

from app import audit
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound, WrongPhase
from app.extensions import db
from app.i18n import N_, _
from app.locking import lock_statement
from app.models import Organisation, Participant, Statement, User
from app.signing import operations as signing

# How a signature stops counting is the signing rules' one helper (revoked or void, never deleted).
from app.signing.operations import _end as end_signature  # noqa: E402


def can_withdraw_for(statement: Statement, user: User | None) -> list[Organisation]:
    """Participating organisations ``user`` may withdraw (as their admin or signatory)."""
    return statement.organisations_by_id(statement.rights(user).withdraw_for)


def _participant(statement: Statement, organisation: Organisation) -> Participant:
    for participant in statement.memberships:
        if participant.organisation_id == organisation.id:
            return participant
    raise NotFound(_("%(organisation)s was never part of this statement.", organisation=organisation.name),
                   field="organisation")


def withdraw_organisation(
    statement: Statement, user: User, organisation: Organisation, *, reason: str, now: datetime
) -> Participant:
    """An organisation's admin or signatory takes it out of the statement, with a reason."""
    statement = lock_statement(statement.id)
    if not (user.has_role(organisation, "admin") or user.has_role(organisation, "signatory")):
        raise NotAllowed(_("Only an admin or signatory of %(organisation)s can withdraw it.",
                           organisation=organisation.name))
    if statement.status in ("published", "withdrawn"):
        raise WrongPhase(_("The statement is closed; organisations can no longer withdraw."))
    participant = _participant(statement, organisation)
    if participant.withdrawn_at is not None:
        raise Conflict(_("%(organisation)s has already withdrawn.", organisation=organisation.name))
    if organisation.id == statement.coordinator_organisation_id:
        raise Conflict(_("The coordinating organisation cannot withdraw; withdraw the statement instead."))
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput(_("Give a reason; the other organisations will see it."), field="reason")
    participant.withdrawn_at = now
    participant.withdrawn_by_id = user.id
    participant.withdraw_reason = reason[:2000]
    for signature in signing.valid_signatures(statement):
        if signature.organisation_id == organisation.id:
            # Stored as written (English); marked so that where it is shown it can be translated.
            end_signature(signature, "revoked", user, now, N_("The organisation withdrew from the statement."))
    audit.record(statement.id, "organisation_withdrew", user, now=now, organisation=organisation,
                 reason=participant.withdraw_reason)
    db.session.flush()
    db.session.expire(statement, ["memberships"])
    if statement.status == "signing" and statement.auto_publish and signing.progress(statement).complete:
        from app.publishing.publication import publish  # publishing builds on signing and participation

        publish(statement, statement.coordinator, publication_date=now.date(), now=now, automatic=True)
    return participant


def reinvite(statement: Statement, user: User, organisation: Organisation, *, now: datetime) -> Participant:
    statement = lock_statement(statement.id)
    if not statement.is_coordinator(user):
        raise NotAllowed(_("Only the coordinator re-invites organisations."))
    if statement.status not in ("draft", "amending"):
        raise WrongPhase(_("Organisations can be re-invited only before the text is frozen."))
    participant = _participant(statement, organisation)
    if participant.withdrawn_at is None:
        raise Conflict(_("%(organisation)s is taking part already.", organisation=organisation.name))
    participant.withdrawn_at = None
    participant.withdrawn_by_id = None
    audit.record(statement.id, "organisation_reinvited", user, now=now, organisation=organisation,
                 earlier_reason=participant.withdraw_reason)
    participant.withdraw_reason = ""
    db.session.flush()
    return participant
