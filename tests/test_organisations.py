"""Organisation rules: creating organisations and managing members' roles, without the HTTP client."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.extensions import db
from app.models import Membership, Organisation
from app.organisations import operations as orgs
from tests import factories


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _roles_in_db(org: Organisation, user) -> set[str]:
    """The roles as stored, not as any object in the session believes."""
    return set(
        db.session.scalars(
            select(Membership.role).where(Membership.organisation_id == org.id,
                                          Membership.user_id == user.id)
        )
    )


@pytest.fixture
def org(app):
    return factories.organisation("Harbour Workers' Union", slug="hwu")


# --- create_organisation ---------------------------------------------------------------


def test_platform_admin_creates_organisation(admin):
    """A platform admin creates an organisation; fields are trimmed and whitespace collapsed."""
    org = orgs.create_organisation(admin, name="  Yara   Union ", slug="yara-union",
                                   short_name=" YU ", country=" Kenya ")
    db.session.commit()
    assert (org.name, org.slug, org.short_name, org.country) == ("Yara Union", "yara-union", "YU", "Kenya")
    assert org.display_name == "Yara Union (YU)"
    assert orgs.get_organisation("yara-union") == org


def test_slug_derived_from_short_name_or_name(admin):
    """Without a slug, one is made from the short name, else from the name (accents dropped)."""
    with_short = orgs.create_organisation(admin, name="Xylo League", short_name="XL")
    from_name = orgs.create_organisation(admin, name="Fédération des Écoles Côtières")
    assert with_short.slug == "xl"
    assert from_name.slug == "federation-des-ecoles-cotieres"


def test_operator_command_line_may_create(app):
    """actor None (the operator's command line) may create an organisation."""
    assert orgs.create_organisation(None, name="Ops Org").slug == "ops-org"


@pytest.mark.parametrize("role", ["admin", "delegate", "signatory"])
def test_only_platform_admins_create_organisations(org, role):
    """Organisation members, even organisation admins, cannot create organisations."""
    person = factories.member(org, role)
    with pytest.raises(NotAllowed, match="Only platform admins"):
        orgs.create_organisation(person, name="New Org", slug="new-org")
    db.session.rollback()
    assert _count(Organisation) == 1


@pytest.mark.parametrize(
    "slug", ["bad slug", "bad_slug", "-leading", "trailing-", "double--hyphen", "ünï", "a" * 65, "a.b"]
)
def test_invalid_slug_refused(admin, slug):
    """Slugs use lower-case letters, digits and single hyphens, at most 64 characters."""
    with pytest.raises(InvalidInput, match="slug") as caught:
        orgs.create_organisation(admin, name="Some Org", slug=slug)
    assert caught.value.field == "slug"


def test_upper_case_slug_is_lowered(admin):
    """A slug typed in capitals is stored in lower case."""
    assert orgs.create_organisation(admin, name="Some Org", slug="Some-Org").slug == "some-org"


def test_name_that_gives_no_slug_refused(admin):
    """A name with no ASCII letters or digits gives no slug and is refused (asking for one)."""
    with pytest.raises(InvalidInput) as caught:
        orgs.create_organisation(admin, name="… — …")
    assert caught.value.field == "slug"


def test_slug_of_64_characters_accepted(admin):
    """A slug of exactly 64 characters is accepted."""
    assert len(orgs.create_organisation(admin, name="Long", slug="a" * 64).slug) == 64


def test_duplicate_slug_conflict(admin, org):
    """A slug already in use is a Conflict on the slug field; no second organisation is made."""
    with pytest.raises(Conflict, match="taken") as caught:
        orgs.create_organisation(admin, name="Another Union", slug="HWU")
    assert caught.value.field == "slug"
    db.session.rollback()
    assert _count(Organisation) == 1


def test_organisation_name_required_and_clean(admin):
    """An empty name, a control character or an over-long field is refused with its field."""
    cases = [
        ({"name": "   "}, "name"),
        ({"name": "Bad\x07Name"}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"name": "Ok", "short_name": "s" * 33}, "short_name"),
        ({"name": "Ok", "country": "c" * 101}, "country"),
    ]
    for kwargs, field in cases:
        with pytest.raises(InvalidInput) as caught:
            orgs.create_organisation(admin, slug="ok", **kwargs)
        assert caught.value.field == field


def test_get_unknown_organisation_not_found(app):
    """Looking up an unknown slug is NotFound."""
    with pytest.raises(NotFound):
        orgs.get_organisation("no-such-org")


# --- update_organisation -------------------------------------------------------------------


def test_org_admin_updates_own_organisation_only(org):
    """An organisation admin may rename their organisation but not another one."""
    org_admin = factories.member(org, "admin")
    other = factories.organisation("Other Org")
    orgs.update_organisation(org_admin, org, name="Harbour Union", short_name="HU", country="Chile")
    db.session.commit()
    assert (org.name, org.short_name, org.country) == ("Harbour Union", "HU", "Chile")
    with pytest.raises(NotAllowed):
        orgs.update_organisation(org_admin, other, name="Taken Over", short_name="", country="")
    db.session.rollback()
    assert db.session.get(Organisation, other.id).name == "Other Org"


# --- set_member_roles ----------------------------------------------------------------------


def test_set_member_roles_adds_and_removes(org, admin):
    """set_member_roles gives exactly the listed roles: adds the missing, removes the others."""
    person = factories.user()
    orgs.set_member_roles(admin, org, person, ["delegate"])
    db.session.commit()
    assert _roles_in_db(org, person) == {"delegate"}

    orgs.set_member_roles(admin, org, person, ["signatory", "admin"])
    db.session.commit()
    assert _roles_in_db(org, person) == {"signatory", "admin"}
    assert person.roles_in(org) == {"signatory", "admin"}

    orgs.set_member_roles(admin, org, person, [])
    db.session.commit()
    assert _roles_in_db(org, person) == set()
    assert person.roles_in(org) == set()


def test_set_member_roles_is_idempotent(org, admin):
    """Setting the same roles twice keeps one membership row per role."""
    person = factories.user()
    for _ in range(2):
        orgs.set_member_roles(admin, org, person, ["delegate", "signatory", "delegate"])
        db.session.commit()
    assert _count(Membership) == 2


def test_removed_role_is_gone_before_commit(org, admin):
    """Within the same request, the user's roles already reflect a removal."""
    person = factories.member(org, "delegate", "signatory")
    assert person.roles_in(org) == {"delegate", "signatory"}  # memberships loaded in the session
    orgs.set_member_roles(admin, org, person, ["signatory"])
    assert person.roles_in(org) == {"signatory"}
    assert not person.has_role(org, "delegate")


def test_unknown_role_refused(org, admin):
    """An unknown role is refused and no role changes."""
    person = factories.member(org, "delegate")
    with pytest.raises(InvalidInput, match="Unknown role: owner"):
        orgs.set_member_roles(admin, org, person, ["owner", "signatory"])
    db.session.rollback()
    assert _roles_in_db(org, person) == {"delegate"}


def test_org_admin_manages_own_members(org):
    """An organisation admin can change other members' roles in their organisation."""
    org_admin = factories.member(org, "admin")
    person = factories.member(org, "delegate")
    orgs.set_member_roles(org_admin, org, person, ["delegate", "signatory"])
    db.session.commit()
    assert _roles_in_db(org, person) == {"delegate", "signatory"}


def test_org_admin_cannot_remove_own_admin_role(org):
    """An organisation admin cannot drop their own admin role (the organisation would be orphaned)."""
    org_admin = factories.member(org, "admin", "delegate")
    with pytest.raises(InvalidInput, match="own admin role"):
        orgs.set_member_roles(org_admin, org, org_admin, ["delegate"])
    with pytest.raises(InvalidInput, match="own admin role"):
        orgs.set_member_roles(org_admin, org, org_admin, [])
    db.session.rollback()
    assert _roles_in_db(org, org_admin) == {"admin", "delegate"}


def test_org_admin_may_change_own_other_roles(org):
    """An organisation admin may add or drop their other roles while keeping admin."""
    org_admin = factories.member(org, "admin", "delegate")
    orgs.set_member_roles(org_admin, org, org_admin, ["admin", "signatory"])
    db.session.commit()
    assert _roles_in_db(org, org_admin) == {"admin", "signatory"}


def test_platform_admin_may_remove_anyones_admin_role(org, admin):
    """A platform admin may remove an organisation admin's role."""
    org_admin = factories.member(org, "admin")
    orgs.set_member_roles(admin, org, org_admin, [])
    db.session.commit()
    assert _roles_in_db(org, org_admin) == set()


def test_admin_of_another_org_cannot_manage(org):
    """The admin of organisation B gets NotAllowed for organisation A's members; nothing changes."""
    other = factories.organisation("Other Org")
    other_admin = factories.member(other, "admin")
    person = factories.member(org, "delegate")
    with pytest.raises(NotAllowed):
        orgs.set_member_roles(other_admin, org, person, ["delegate", "signatory"])
    with pytest.raises(NotAllowed):
        orgs.set_member_roles(other_admin, org, other_admin, ["admin"])
    with pytest.raises(NotAllowed):
        orgs.add_member(other_admin, org, person.email, ["signatory"])
    db.session.rollback()
    assert _roles_in_db(org, person) == {"delegate"}
    assert _roles_in_db(org, other_admin) == set()


@pytest.mark.parametrize("roles", [("delegate",), ("signatory",), ("delegate", "signatory")])
def test_non_admin_members_cannot_manage(org, roles):
    """Delegates and signatories cannot change roles, not even their own."""
    member = factories.member(org, *roles)
    with pytest.raises(NotAllowed):
        orgs.set_member_roles(member, org, member, ["admin", *roles])
    db.session.rollback()
    assert _roles_in_db(org, member) == set(roles)


# --- add_member -----------------------------------------------------------------------------


def test_add_member_keeps_existing_roles(org, admin):
    """add_member adds roles to an existing account and keeps the roles it already has."""
    person = factories.member(org, "delegate", email="ana@example.org")
    returned = orgs.add_member(admin, org, "  ANA@example.org ", ["signatory"])
    db.session.commit()
    assert returned == person
    assert _roles_in_db(org, person) == {"delegate", "signatory"}


def test_add_member_unknown_email_not_found(org, admin):
    """Adding an address without an account is NotFound, pointing to an invitation."""
    with pytest.raises(NotFound, match="invitation") as caught:
        orgs.add_member(admin, org, "nobody@example.org", ["delegate"])
    assert caught.value.field == "email"
    db.session.rollback()
    assert _count(Membership) == 0


def test_add_member_needs_a_role(org, admin):
    """add_member with no role is refused."""
    factories.user(email="ana@example.org")
    with pytest.raises(InvalidInput, match="at least one role"):
        orgs.add_member(admin, org, "ana@example.org", [])


def test_person_with_several_roles_in_several_organisations(org, admin):
    """One person can hold different roles in several organisations, each kept separately."""
    second = factories.organisation("Alpha Collective", slug="alpha")
    third = factories.organisation("Beta Network", slug="beta")
    person = factories.member(org, "delegate", "signatory")
    orgs.add_member(admin, second, person.email, ["admin"])
    orgs.add_member(admin, third, person.email, ["signatory"])
    db.session.commit()

    assert person.roles_in(org) == {"delegate", "signatory"}
    assert person.roles_in(second) == {"admin"}
    assert person.roles_in(third) == {"signatory"}
    assert person.organisations() == [second, third, org]  # sorted by name
    assert person.organisations("signatory") == [third, org]
    assert person.organisations("delegate") == [org]
    assert org.can_manage(person) is False
    assert second.can_manage(person) is True

    # Changing roles in one organisation leaves the others alone.
    orgs.set_member_roles(admin, org, person, [])
    db.session.commit()
    assert _roles_in_db(org, person) == set()
    assert _roles_in_db(second, person) == {"admin"}
    assert _roles_in_db(third, person) == {"signatory"}


def test_members_by_user_groups_roles(org, admin):
    """members_by_user lists each person once with their roles in canonical order."""
    zed = factories.member(org, "signatory", "delegate", name="Zed")
    amy = factories.member(org, "admin", name="amy")
    assert org.members_by_user() == [(amy, ["admin"]), (zed, ["delegate", "signatory"])]
