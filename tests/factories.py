"""Test data. Each helper commits, like a finished request would."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from app.accounts import operations as accounts
from app.drafting import operations as drafting
from app.extensions import db
from app.models import Organisation, SiteSetting, Statement, User
from app.organisations import operations as orgs

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def _now() -> datetime:
    return datetime.now(UTC)


def user(name: str | None = None, *, email: str | None = None, is_admin: bool = False,
         password: str = PASSWORD) -> User:
    n = next(_counter)
    made = accounts.create_user(email or f"person{n}@example.org", name or f"Person {n}", password,
                                is_admin=is_admin)
    db.session.commit()
    return made


def admin(**kw) -> User:
    made = user(kw.pop("name", "Platform Admin"), is_admin=True, **kw)
    if accounts.setup_needed():
        db.session.add(SiteSetting(key=accounts.SETUP_KEY, value=_now().isoformat()))
        db.session.commit()
    return made


def organisation(name: str | None = None, *, slug: str | None = None, short_name: str = "",
                 country: str = "") -> Organisation:
    n = next(_counter)
    made = orgs.create_organisation(None, name=name or f"Organisation {n}", slug=slug or f"org-{n}",
                                    short_name=short_name, country=country)
    db.session.commit()
    return made


def member(org: Organisation, *roles: str, **user_kw) -> User:
    """A new person holding ``roles`` in ``org``."""
    person = user(**user_kw)
    orgs.set_member_roles(None, org, person, list(roles))
    db.session.commit()
    return person


def statement(coordinator: User, coordinator_org: Organisation, *, participants=(),
              title: str = "A Joint Statement on Testing",
              paragraphs=("First paragraph.", "Second paragraph.", "Third paragraph.")) -> Statement:
    made = drafting.create_statement(
        coordinator, title=title, coordinator_organisation=coordinator_org,
        participants=list(participants), paragraphs=list(paragraphs), now=_now(),
    )
    db.session.commit()
    return made
