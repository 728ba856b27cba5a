"""Freezing, signing, withdrawing and reopening (promises 2, 4, 7); publishing is in app/publishing.

Every state change first takes the statement's lock (``lock_statement``), so
two final signatures or two publish clicks from several processes are
serialised; ``publications.statement_id`` is unique, so a statement is
published exactly once even if that lock were bypassed.
Plain functions: they take the acting user, flush, never commit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from app import audit
from app.accounts.passwords import verify_password
from app.drafting.operations import current_version
from app.errors import Conflict, InvalidInput, NotAllowed, WrongPhase
from app.extensions import db
from app.i18n import N_, Moment, _
from app.locking import lock_statement
from app.models import (
    OPEN_STATUSES,
    Amendment,
    Organisation,
    Signature,
    Statement,
    User,
)
from app.notifications import events
from app.translating import operations as translations

MAX_NAME = 200

# Why a signature stops counting, as stored (English) and shown translated (app/web/signing.py).
END_REASONS = (
    N_("The statement was reopened for amendments."),
    N_("Revoked by a signatory of the organisation."),
    N_("The statement was withdrawn."),
)


class AlreadySigned(Conflict):
    code = "already_signed"


# --- freeze and reopen ------------------------------------------------------------------


def freeze(
    statement: Statement, user: User, *, signing_deadline: datetime | None = None,
    planned_publication_date: date | None = None, auto_publish: bool = False,
    without_amendment_round: bool = False, authentic_languages: Sequence[str] = (), now: datetime,
) -> Statement:
    """Close amendments and freeze the current version for signing.

    A draft the organisations already agreed on is frozen directly when the coordinator confirms that
    no amendment round took place (``without_amendment_round``, kept in the audit trail)."""
    statement = lock_statement(statement.id)
    if not statement.is_coordinator(user):
        raise NotAllowed(_("Only the coordinator freezes the text."))
    if statement.status not in ("draft", "amending"):
        raise WrongPhase(_("Only a draft or a statement open for amendments can be frozen for signing."))
    skipped_amendments = statement.status == "draft"
    if skipped_amendments and not without_amendment_round:
        raise InvalidInput(_("Confirm that the organisations agreed on this text without an amendment round, "
                             "or open it for amendments first."), field="without_amendment_round")
    if signing_deadline is not None and signing_deadline <= now:
        raise InvalidInput(_("The signing deadline must be in the future."), field="signing_deadline")
    if planned_publication_date is not None and planned_publication_date < now.date():
        raise InvalidInput(_("The planned publication date cannot be in the past."),
                           field="planned_publication_date")
    undecided = db.session.scalars(select(Amendment).where(
        Amendment.statement_id == statement.id, Amendment.status.in_(OPEN_STATUSES))).all()
    for amendment in undecided:
        amendment.status = "not_decided"
        amendment.decided_at = now
        amendment.decided_by_id = user.id
        amendment.decision_reason = N_("Amendments were closed when the text was frozen for signing.")
    version = current_version(statement)
    # Refused (nothing written) unless every authentic translation is complete and current.
    frozen = translations.freeze_languages(statement, user, authentic_languages, version_id=version.id, now=now)
    statement.status = "signing"
    statement.frozen_version_id = version.id
    statement.signing_deadline = signing_deadline
    statement.planned_publication_date = planned_publication_date
    statement.auto_publish = auto_publish
    statement.updated_at = now
    details = {"without_amendment_round": True} if skipped_amendments else {}
    if frozen:
        details["translations"] = {f.language: f.sha256 for f in frozen}
    audit.record(statement.id, "frozen", user, now=now, version=version.number, sha256=version.sha256,
                 not_decided=[a.id for a in undecided], auto_publish=auto_publish, **details)
    frozen_at = dict(number=version.number, sha256=f"{version.sha256[:12]}…")
    body = (_("The text is frozen at version %(number)s (SHA-256 %(sha256)s). Read it and sign on behalf of "
              "your organisation. Please sign by %(deadline)s.", deadline=Moment(signing_deadline),
              **frozen_at) if signing_deadline else
            _("The text is frozen at version %(number)s (SHA-256 %(sha256)s). Read it and sign on behalf of "
              "your organisation.", **frozen_at))
    events.notify(events.members(statement.participant_organisations, "signatory"), "signature_requested",
                  statement=statement, exclude=user, now=now, path=events.statement_path(statement, "/sign"),
                  subject=_("Your signature is requested: %(title)s", title=statement.title), body=body)
    db.session.flush()
    return statement


def reopen(statement: Statement, user: User, *, now: datetime) -> list[Signature]:
    """Back to amending; every signature on the frozen version becomes void (kept in history)."""
    statement = lock_statement(statement.id)
    if not statement.is_coordinator(user):
        raise NotAllowed(_("Only the coordinator reopens the statement."))
    if statement.status != "signing":
        raise WrongPhase(_("Only a statement being signed can be reopened."))
    voided = valid_signatures(statement)
    for signature in voided:
        _end(signature, "void", user, now, "The statement was reopened for amendments.")
    translations.void_frozen(statement)
    statement.status = "amending"
    statement.frozen_version_id = None
    statement.auto_publish = False
    statement.updated_at = now
    audit.record(statement.id, "reopened", user, now=now, voided=[s.id for s in voided])
    events.notify([s.user for s in voided], "signature_voided", statement=statement, exclude=user, now=now,
                  path=events.statement_path(statement),
                  subject=_("Your signature is void: %(title)s was reopened for amendments", title=statement.title),
                  body=_("The text may change again. You will be asked to sign the new version."))
    db.session.flush()
    return voided


# --- signatures ---------------------------------------------------------------------------


def _end(signature: Signature, status: str, user: User, now: datetime, reason: str) -> None:
    """A signature stops counting: it is revoked or void, never deleted (promise 2)."""
    signature.status = status
    signature.ended_at = now
    signature.ended_by_id = user.id
    signature.end_reason = reason


def valid_signatures(statement: Statement) -> list[Signature]:
    if statement.frozen_version_id is None:
        return []
    return list(db.session.scalars(
        select(Signature).where(Signature.version_id == statement.frozen_version_id,
                                Signature.status == "valid").order_by(Signature.signed_at, Signature.id)
    ))


@dataclass
class Progress:
    signed: list[tuple[Organisation, Signature]]
    waiting: list[Organisation]

    @property
    def complete(self) -> bool:
        return bool(self.signed) and not self.waiting


def progress(statement: Statement) -> Progress:
    """Who has signed the frozen version, in the participants' order."""
    by_org = {s.organisation_id: s for s in valid_signatures(statement)}
    signed, waiting = [], []
    for org in statement.participant_organisations:
        if org.id in by_org:
            signed.append((org, by_org[org.id]))
        else:
            waiting.append(org)
    return Progress(signed, waiting)


def _clean(value: str | None, label: str, field: str) -> str:
    """The signer's name or title (``label``: "name" or "title"), spaces tidied."""
    value = " ".join((value or "").split())
    if not value:
        raise InvalidInput(_("Type your name as it should appear.") if label == "name"
                           else _("Type your title as it should appear."), field=field)
    if len(value) > MAX_NAME:
        raise InvalidInput(_("The name can have at most %(max)s characters.", max=MAX_NAME) if label == "name"
                           else _("The title can have at most %(max)s characters.", max=MAX_NAME), field=field)
    if any(ord(c) < 32 for c in value):
        raise InvalidInput(_("The name contains a control character.") if label == "name"
                           else _("The title contains a control character."), field=field)
    return value


def can_sign_for(statement: Statement, user: User | None) -> list[Organisation]:
    """Participating organisations ``user`` is a signatory of."""
    return statement.organisations_by_id(statement.rights(user).signatory_for)


def sign(
    statement: Statement, user: User, organisation: Organisation, *, signer_name: str, signer_title: str,
    authorised: bool, password: str, version_sha256: str, ip_address: str = "", user_agent: str = "",
    translation_sha256: Mapping[str, str] | None = None, now: datetime,
) -> Signature:
    """Sign the frozen version for ``organisation``. Publishes too if that is set and this was the last.

    The signature binds the source's version hash and the hash of every authentic translation frozen
    with it: ``translation_sha256`` must name exactly those (the texts the signatory was shown)."""
    now = now.astimezone(UTC)  # signed_at goes into the manifest as it is: always UTC
    statement = lock_statement(statement.id)
    if statement.status != "signing":
        raise WrongPhase(_("This statement is not being signed now. It is already published.")
                         if statement.status == "published" else _("This statement is not being signed now."))
    if not statement.participates(organisation):
        raise NotAllowed(_("%(organisation)s does not take part in this statement.", organisation=organisation.name),
                         field="organisation")
    if not user.has_role(organisation, "signatory"):
        raise NotAllowed(_("You are not a signatory of %(organisation)s.", organisation=organisation.name),
                         field="organisation")
    version = statement.frozen_version
    if version_sha256 != version.sha256:
        raise Conflict(_("The text changed since you opened it: you were shown a different version. "
                         "Read the current frozen text before signing."), field="version_sha256")
    bound = translations.frozen_hashes(statement)
    shown = {str(k): str(v).lower() for k, v in (translation_sha256 or {}).items()}
    if shown != bound:
        raise Conflict(_("The authentic texts changed since you opened them: you were shown other translations "
                         "than those frozen for signing. Read the current texts before signing."),
                       field="translation_sha256")
    signer_name = _clean(signer_name, "name", "signer_name")
    signer_title = _clean(signer_title, "title", "signer_title")
    if not authorised:
        raise InvalidInput(_("Confirm that you are authorised to sign on behalf of %(organisation)s.",
                             organisation=organisation.name),
                           field="authorised")
    if not verify_password(user.password_hash, password):
        raise InvalidInput(_("The password is not correct."), field="password")
    if any(s.organisation_id == organisation.id for s in valid_signatures(statement)):
        raise AlreadySigned(_("%(organisation)s has already signed this version.", organisation=organisation.name))
    signature = Signature(
        statement_id=statement.id, version_id=version.id, version_sha256=version.sha256,
        translation_sha256=json.dumps(bound, sort_keys=True), organisation_id=organisation.id, user_id=user.id,
        signer_name=signer_name,
        signer_title=signer_title, signed_at=now, ip_address=(ip_address or "")[:64],
        user_agent=(user_agent or "")[:500],
    )
    db.session.add(signature)
    db.session.flush()
    audit.record(statement.id, "signed", user, now=now, organisation=organisation, signature=signature.id,
                 version=version.number, sha256=version.sha256, signer_name=signer_name,
                 signer_title=signer_title, ip=signature.ip_address, user_agent=signature.user_agent,
                 **({"translations": bound} if bound else {}))
    if statement.auto_publish and progress(statement).complete:
        from app.publishing.publication import publish  # publishing builds on signing, not the reverse

        publish(statement, statement.coordinator, publication_date=now.date(), now=now, automatic=True)
    return signature


def revoke(signature: Signature, user: User, *, now: datetime) -> Signature:
    statement = lock_statement(signature.statement_id)
    signature = db.session.execute(select(Signature).where(Signature.id == signature.id)
                                   .execution_options(populate_existing=True)).scalar_one()
    if not user.has_role(signature.organisation, "signatory"):
        raise NotAllowed(_("Only a signatory of %(organisation)s can revoke its signature.",
                           organisation=signature.organisation.name))
    if statement.status == "published":
        raise WrongPhase(_("The statement is published; its signatures can no longer be revoked."))
    if signature.status != "valid":
        raise Conflict(_("This signature is already void.") if signature.status == "void"
                       else _("This signature is already revoked.") if signature.status == "revoked"
                       else _("This signature is already %(status)s.", status=signature.status))
    _end(signature, "revoked", user, now, "Revoked by a signatory of the organisation.")
    audit.record(statement.id, "signature_revoked", user, now=now, organisation=signature.organisation,
                 signature=signature.id)
    db.session.flush()
    return signature




def withdraw_statement(statement: Statement, user: User, *, reason: str, now: datetime) -> Statement:
    statement = lock_statement(statement.id)
    if not statement.is_coordinator(user):
        raise NotAllowed(_("Only the coordinator withdraws the statement."))
    if statement.status in ("published", "withdrawn"):
        raise WrongPhase(_("The statement is already published.") if statement.status == "published"
                         else _("The statement is already withdrawn."))
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput(_("Give a reason; the organisations will see it."), field="reason")
    for signature in valid_signatures(statement):
        _end(signature, "void", user, now, "The statement was withdrawn.")
    statement.status = "withdrawn"
    statement.updated_at = now
    audit.record(statement.id, "statement_withdrawn", user, now=now, reason=reason)
    db.session.flush()
    return statement
