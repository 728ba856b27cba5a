"""Names in statements per language (issue 14, item 4).

An organisation's name in a statement's signatory line, in one language: the name it set for that
language (``organisation_names``), else the one for the language's primary subtag ("de" for "de-AT"),
else its name in statements (which defaults to its full name).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from app.errors import InvalidInput, NotAllowed
from app.extensions import db
from app.i18n import _
from app.models import Organisation, OrganisationName, User
from app.translating.languages import normalise_tag, primary

MAX_NAME = 300


def names_in(organisations: Sequence[Organisation], language: str) -> list[str]:
    """The organisations' names in statements in ``language``, in the given order (one query)."""
    ids = [o.id for o in organisations]
    rows = db.session.execute(select(OrganisationName.organisation_id, OrganisationName.language,
                                     OrganisationName.name_in_statements)
                              .where(OrganisationName.organisation_id.in_(ids),
                                     OrganisationName.language.in_({language, primary(language)}))).all()
    exact = {org_id: name for org_id, tag, name in rows if tag == language}
    broad = {org_id: name for org_id, tag, name in rows if tag == primary(language)}
    return [exact.get(o.id) or broad.get(o.id) or o.statement_name for o in organisations]


def language_names(organisation: Organisation) -> dict[str, str]:
    return dict(db.session.execute(select(OrganisationName.language, OrganisationName.name_in_statements)
                                   .where(OrganisationName.organisation_id == organisation.id)
                                   .order_by(OrganisationName.language)).all())


def set_language_name(organisation: Organisation, user: User | None, language: str, name: str) -> str:
    """Set (or, with an empty ``name``, clear) the organisation's name in statements in ``language``.

    Its admins and platform admins (``user`` None: the operator). Published files keep the names they were
    published with."""
    if user is not None and not organisation.can_manage(user):
        raise NotAllowed(_("Only the organisation's admins set its names."))
    language = normalise_tag(language)
    name = " ".join((name or "").split())
    if len(name) > MAX_NAME:
        raise InvalidInput(_("A name in statements can have at most %(max)s characters.", max=MAX_NAME),
                           field="name_in_statements")
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or 0xD800 <= ord(c) <= 0xDFFF for c in name):
        raise InvalidInput(_("The name contains a control character or an invalid one."), field="name_in_statements")
    row = db.session.scalar(select(OrganisationName).where(OrganisationName.organisation_id == organisation.id,
                                                            OrganisationName.language == language))
    if not name:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(OrganisationName(organisation_id=organisation.id, language=language,
                                        name_in_statements=name))
    else:
        row.name_in_statements = name
    db.session.flush()
    return language
