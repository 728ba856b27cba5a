"""Organisations and their members. Plain functions: flush, never commit."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select

from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.extensions import db
from app.i18n import Message, _
from app.models import Membership, Organisation, User
from app.models.organisation import ROLES

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(text: str, *, max_length: int = 64) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-").lower()
    return text[:max_length].strip("-")


# What the details are called in the messages below ("Enter the name.").
LABELS = {"name": _("name"), "short name": _("short name"), "country": _("country"),
          "name in statements": _("name in statements")}


def _clean(value: str | None, *, field: str, label: str, max_length: int, required: bool) -> str:
    value = " ".join((value or "").split())
    called: Message | str = LABELS.get(label, label)
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise InvalidInput(_("The %(label)s contains a control character.", label=called), field=field)
    if required and not value:
        raise InvalidInput(_("Enter the %(label)s.", label=called), field=field)
    if len(value) > max_length:
        raise InvalidInput(_("The %(label)s can have at most %(max)s characters.", label=called, max=max_length),
                           field=field)
    return value


def get_organisation(slug: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise NotFound(_("There is no organisation “%(slug)s”.", slug=slug))
    return org


MAX_NAME_IN_STATEMENTS = 300


def _name_in_statements(value: str | None, name: str) -> str:
    """Cleaned; empty (the full name is used) when it is the full name itself."""
    value = _clean(value, field="name_in_statements", label="name in statements",
                   max_length=MAX_NAME_IN_STATEMENTS, required=False)
    return "" if value == name else value


def create_organisation(
    actor: User | None, *, name: str, slug: str | None = None, short_name: str = "", country: str = "",
    name_in_statements: str = "",
) -> Organisation:
    """Create an organisation. ``actor`` None means the operator's command line."""
    if actor is not None and not actor.is_admin:
        raise NotAllowed(_("Only platform admins create organisations."))
    name = _clean(name, field="name", label="name", max_length=200, required=True)
    short_name = _clean(short_name, field="short_name", label="short name", max_length=32, required=False)
    country = _clean(country, field="country", label="country", max_length=100, required=False)
    name_in_statements = _name_in_statements(name_in_statements, name)
    slug = (slug or "").strip().lower() or slugify(short_name or name)
    if not _SLUG.match(slug) or len(slug) > 64:
        raise InvalidInput(
            _("The slug may use lower-case letters, digits and single hyphens (e.g. “rsl-kenya”)."),
            field="slug",
        )
    if db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        raise Conflict(_("The slug “%(slug)s” is taken.", slug=slug), field="slug")
    org = Organisation(name=name, slug=slug, short_name=short_name, country=country,
                       name_in_statements=name_in_statements)
    db.session.add(org)
    db.session.flush()
    return org


def update_organisation(
    actor: User | None, org: Organisation, *, name: str | None = None, short_name: str | None = None,
    country: str | None = None, name_in_statements: str | None = None,
) -> Organisation:
    """Change an organisation's details; None leaves a detail as it is. ``actor`` None: the command line.

    The name in statements is used by statements published from now on; published ones keep theirs.
    """
    if actor is not None and not org.can_manage(actor):
        raise NotAllowed(_("You may not change this organisation."))
    if name is not None:
        org.name = _clean(name, field="name", label="name", max_length=200, required=True)
    if short_name is not None:
        org.short_name = _clean(short_name, field="short_name", label="short name", max_length=32,
                                required=False)
    if country is not None:
        org.country = _clean(country, field="country", label="country", max_length=100, required=False)
    if name_in_statements is not None:
        org.name_in_statements = _name_in_statements(name_in_statements, org.name)
    db.session.flush()
    return org


def set_member_roles(actor: User | None, org: Organisation, user: User, roles: list[str]) -> None:
    """Give ``user`` exactly ``roles`` in ``org`` (an empty list removes them)."""
    if actor is not None and not org.can_manage(actor):
        raise NotAllowed(_("You may not manage the members of this organisation."))
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidInput(_("Unknown role: %(roles)s.", roles=", ".join(unknown)), field="roles")
    wanted = set(roles)
    if actor is not None and actor.id == user.id and not actor.is_admin and "admin" not in wanted:
        raise InvalidInput(_("You cannot remove your own admin role; ask another admin."), field="roles")
    current = {m.role: m for m in org.memberships if m.user_id == user.id}
    for role, membership in current.items():
        if role not in wanted:
            org.memberships.remove(membership)
    for role in ROLES:
        if role in wanted and role not in current:
            org.memberships.append(Membership(user=user, role=role))
    db.session.flush()
    # Removals went through org.memberships only; reload the user's side so it shows them too, and
    # forget the roles counted when the request loaded them.
    db.session.expire(user, ["memberships"])
    user.__dict__.pop("counted_roles", None)


def add_member(actor: User | None, org: Organisation, email: str, roles: list[str]) -> User:
    """Add roles to an existing account, keeping the roles it already has."""
    if not roles:
        raise InvalidInput(_("Choose at least one role."), field="roles")
    user = db.session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise NotFound(
            _("No account uses %(email)s. Send them an invitation instead.", email=email.strip()), field="email"
        )
    existing = user.roles_in(org)
    set_member_roles(actor, org, user, sorted(existing | set(roles)))
    return user
