"""Later endorsements: organisations that endorse a statement after it was published.

They are shown on its page with their own date and are not part of the sealed manifest or of the
published files. Plain functions: they take the acting user, flush, never commit.
"""

from __future__ import annotations

from datetime import date, datetime

from app import audit
from app.errors import Conflict, InvalidInput, NotAllowed, WrongPhase
from app.extensions import db
from app.i18n import _
from app.locking import lock_statement
from app.models import Endorsement, Organisation, Statement, User
from app.publishing.publication import publication_of, valid_signatures_of


def add_endorsement(
    statement: Statement, user: User, organisation: Organisation, *, endorsed_on: date, now: datetime
) -> Endorsement:
    statement = lock_statement(statement.id)
    if not statement.is_coordinator(user):
        raise NotAllowed(_("Only the coordinator adds later endorsements."))
    publication = publication_of(statement)
    if publication is None:
        raise WrongPhase(_("Endorsements are added after publication."))
    if organisation.id in present_organisation_ids(publication):
        raise Conflict(_("%(organisation)s already appears on this statement.", organisation=organisation.name),
                       field="organisation")
    if endorsed_on < publication.publication_date:
        raise InvalidInput(_("An endorsement cannot be dated before the publication."), field="endorsed_on")
    if endorsed_on > now.date():
        raise InvalidInput(_("An endorsement cannot be dated in the future."), field="endorsed_on")
    endorsement = Endorsement(organisation_id=organisation.id, endorsed_on=endorsed_on, added_by_id=user.id,
                              created_at=now)
    publication.endorsements.append(endorsement)
    audit.record(statement.id, "endorsed", user, now=now, organisation=organisation,
                 endorsed_on=endorsed_on.isoformat())
    db.session.flush()
    return endorsement


def present_organisation_ids(publication) -> set[int]:
    """Organisations already on a publication: its signatories (signed or recorded) and endorsers."""
    return ({s.organisation_id for s in valid_signatures_of(publication)}
            | {r.organisation_id for r in publication.recorded_signatures}
            | {e.organisation_id for e in publication.endorsements})
