"""Archived statements: recording a statement that was signed and published elsewhere (issue 15, item 4).

The coordinator gives its text (pasted or uploaded, read by the importer), the participating
organisations in the order of its signatory line, the original publication date and, for each
organisation, the signer's name and title as printed. It is published at once under /p/<slug>
with every format and a sealed manifest; every page and file but the plain text (which must stay
the text as it was published) says that the signatures were recorded by the coordinator and not
made on Concord. Each organisation's signatories may later confirm or dispute the record.
Plain functions: they take the acting user, flush, never commit.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select

from app import audit
from app.drafting.importer import parse_statement
from app.drafting.operations import create_statement, version_texts
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.extensions import db
from app.i18n import _
from app.locking import lock_statement
from app.models import Organisation, Publication, RecordedSignature, Statement, User
from app.notifications import events
from app.publishing import artefacts
from app.publishing.publication import draft, store
from app.publishing.text import format_date, join_names

MAX_NAME = 200
MAX_REASON = 2000


@dataclass(frozen=True)
class Signatory:
    """One organisation of an archived statement and its signer as printed."""

    organisation: Organisation
    signer_name: str
    signer_title: str


@dataclass
class Archived:
    publication: Publication
    notes: list[str] = field(default_factory=list)


def _messages(label: str, organisation: str) -> tuple:
    """What is wrong with the signer's name or title for an organisation, or with a reason: a control
    character, or nothing given."""
    if label == "name":
        return (_("The signer's name for %(organisation)s contains a control character.", organisation=organisation),
                _("Give the signer's name for %(organisation)s.", organisation=organisation))
    if label == "title":
        return (_("The signer's title for %(organisation)s contains a control character.", organisation=organisation),
                _("Give the signer's title for %(organisation)s.", organisation=organisation))
    return _("The reason contains a control character."), _("Give the reason.")


def _too_long(label: str, organisation: str, max_length: int):
    if label == "name":
        return _("The signer's name for %(organisation)s can have at most %(max)s characters.",
                 organisation=organisation, max=max_length)
    if label == "title":
        return _("The signer's title for %(organisation)s can have at most %(max)s characters.",
                 organisation=organisation, max=max_length)
    return _("The reason can have at most %(max)s characters.", max=max_length)


def _clean(value: str | None, label: str, field_name: str, *, organisation: str = "", required: bool = True,
           max_length: int = MAX_NAME) -> str:
    """A signer's name or title (``label`` "name" or "title", for ``organisation``) or a reason ("reason")."""
    value = " ".join((value or "").split())
    control, missing = _messages(label, organisation)
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise InvalidInput(control, field=field_name)
    if required and not value:
        raise InvalidInput(missing, field=field_name)
    if len(value) > max_length:
        raise InvalidInput(_too_long(label, organisation, max_length), field=field_name)
    return value


def record_archived_statement(
    user: User, *, text: str, coordinator_organisation: Organisation, signatories: list[Signatory],
    publication_date: date | None, now: datetime,
) -> Archived:
    """Record and publish a statement signed and published elsewhere; returns it with the importer's notes.

    ``signatories`` are in the order of the signatory line. ``publication_date`` None takes the
    date of the pasted signatory line. The caller must be a delegate of ``coordinator_organisation``,
    which must be one of the signatories.
    """
    now = now.astimezone(UTC)
    parsed = parse_statement(text)
    notes = list(parsed.notes)
    if not signatories:
        raise InvalidInput(_("Name at least one organisation that signed the statement."), field="signatories")
    seen: set[int] = set()
    cleaned: list[Signatory] = []
    for n, s in enumerate(signatories, start=1):
        if s.organisation.id in seen:
            raise InvalidInput(_("%(organisation)s is named twice.", organisation=s.organisation.name),
                               field="signatories")
        seen.add(s.organisation.id)
        cleaned.append(Signatory(s.organisation,
                                 _clean(s.signer_name, "name", f"signer_name_{n}", organisation=s.organisation.name),
                                 _clean(s.signer_title, "title", f"signer_title_{n}", organisation=s.organisation.name,
                                        required=False)))
    if coordinator_organisation.id not in seen:
        raise InvalidInput(_("The coordinating organisation must be one of the organisations that signed."),
                           field="coordinator_organisation")
    publication_date = publication_date or parsed.date
    if publication_date is None:
        raise InvalidInput(_("Give the date on which the statement was first published."), field="publication_date")
    if publication_date > now.date():
        raise InvalidInput(_("The original publication date cannot be in the future."), field="publication_date")

    organisations = [s.organisation for s in cleaned]
    if parsed.organisations_text is not None:
        ours = join_names([o.statement_name for o in organisations])
        if " ".join(parsed.organisations_text.split()) != ours:
            notes.append(_("The pasted signatory line names “%(pasted)s”; the published line names the "
                           "organisations by their names in statements: “%(ours)s”.",
                           pasted=parsed.organisations_text, ours=ours))
        if parsed.date is not None and parsed.date != publication_date:
            notes.append(_("The pasted signatory line is dated %(pasted)s; the statement is recorded as published "
                           "on %(recorded)s.", pasted=format_date(parsed.date), recorded=format_date(publication_date)))

    statement = create_statement(
        user, title=parsed.title, coordinator_organisation=coordinator_organisation,
        participants=organisations, paragraphs=parsed.paragraphs, now=now, note="Archived",
    )
    order = {o.id: i for i, o in enumerate(organisations)}
    for participant in statement.memberships:  # the order of the original signatory line
        participant.position = order[participant.organisation_id]
    db.session.flush()
    statement = lock_statement(statement.id)
    version, entries = version_texts(statement, statement.version_count)
    statement.frozen_version_id = version.id
    archive = {"recorded_on": now.date().isoformat(), "recorded_by": user.name,
               "recorded_by_organisation": coordinator_organisation.name}
    signatures = [
        {"organisation": s.organisation.name, "organisation_slug": s.organisation.slug,
         "signer_name": s.signer_name, "signer_title": s.signer_title, "signed_at": None,
         "recorded": True, "version_sha256": version.sha256}
        for s in cleaned
    ]
    made = draft(statement, version, [t for _entry, t in entries], organisations, signatures, publication_date,
                 archive=archive)
    publication = store(statement, user, made, artefacts.render(made.data), now=now, archived=True)
    for position, s in enumerate(cleaned):
        db.session.add(RecordedSignature(publication_id=publication.id, organisation_id=s.organisation.id,
                                         position=position, signer_name=s.signer_name,
                                         signer_title=s.signer_title, status="recorded"))
    db.session.flush()
    audit.record(statement.id, "archived", user, now=now, publication_date=publication_date.isoformat(),
                 sha256=made.data.sha256, version=version.number,
                 signatories=[{"organisation": s.organisation.slug, "signer_name": s.signer_name,
                               "signer_title": s.signer_title} for s in cleaned])
    events.notify(events.members(organisations, "signatory"), "published", statement=statement, now=now,
                  path="/archive/recorded", exclude=user,
                  subject=_("Recorded as signed by your organisation: %(title)s", title=made.data.title),
                  body=_("%(name)s recorded “%(title)s” (%(date)s) as signed by your organisation elsewhere. "
                         "Confirm the record, or dispute it if it is wrong.", name=user.name, title=made.data.title,
                         date=format_date(publication_date)))
    return Archived(publication, notes)


# --- confirming or disputing a recorded signature ----------------------------------------------


def recorded_signatures_for(user: User) -> list[RecordedSignature]:
    """The recorded signatures of organisations ``user`` is a signatory of, newest first."""
    org_ids = [m.organisation_id for m in user.memberships if m.role == "signatory"]
    if not org_ids:
        return []
    return list(db.session.scalars(
        select(RecordedSignature).join(Publication)
        .where(RecordedSignature.organisation_id.in_(org_ids))
        .order_by(Publication.published_at.desc(), RecordedSignature.id)))


def answer_recorded_signature(recorded: RecordedSignature, user: User, *, confirm: bool, reason: str = "",
                              now: datetime) -> RecordedSignature:
    """A signatory of the organisation confirms the record, or disputes it with a reason.

    The answer may be changed later; each one is in the audit trail. A dispute tells the coordinator.
    """
    publication = recorded.publication
    lock_statement(publication.statement_id)
    recorded = db.session.execute(select(RecordedSignature).where(RecordedSignature.id == recorded.id)
                                  .execution_options(populate_existing=True)).scalar_one_or_none()
    if recorded is None:
        raise NotFound(_("There is no such recorded signature."))
    organisation = recorded.organisation
    if not user.has_role(organisation, "signatory"):
        raise NotAllowed(_("Only a signatory of %(organisation)s can confirm or dispute its signature.",
                           organisation=organisation.name))
    status = "confirmed" if confirm else "disputed"
    reason = "" if confirm else _clean(reason, "reason", "reason", max_length=MAX_REASON)
    if recorded.status == status and recorded.dispute_reason == reason:
        raise Conflict(_("The signature of %(organisation)s is already confirmed.", organisation=organisation.name)
                       if confirm else _("The signature of %(organisation)s is already disputed.",
                                         organisation=organisation.name))
    recorded.status = status
    recorded.dispute_reason = reason
    recorded.answered_by_id = user.id
    recorded.answered_at = now
    statement = db.session.get(Statement, publication.statement_id)
    audit.record(statement.id, f"recorded_signature_{status}", user, now=now, organisation=organisation,
                 reason=reason)
    if not confirm:
        events.notify([statement.coordinator], "published", statement=statement, now=now,
                      path=f"/p/{publication.slug}", exclude=user,
                      subject=_("Disputed: %(organisation)s on “%(title)s”", organisation=organisation.name,
                                title=statement.title),
                      body=_("%(name)s, a signatory of %(organisation)s, disputes the signature you recorded for "
                             "it: %(reason)s", name=user.name, organisation=organisation.name, reason=reason))
    db.session.flush()
    return recorded
