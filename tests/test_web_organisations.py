"""Web tests of organisations: the public page, creating them, and managing members."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Membership, Organisation, User
from tests import factories


def roles_of(user: User, org: Organisation) -> set[str]:
    db.session.rollback()  # see what the requests committed
    return db.session.get(User, user.id).roles_in(db.session.get(Organisation, org.id))


def membership_count() -> int:
    db.session.rollback()  # see what the requests committed
    return db.session.scalar(select(func.count()).select_from(Membership))


# --- the public page ------------------------------------------------------------


def test_organisation_page_is_public(app, client):
    """Anyone can read /o/<slug> and the list of organisations without logging in."""
    factories.admin()
    factories.organisation("Highland Teachers' Federation", slug="htf", short_name="HTF",
                           country="Scotland")
    page = client.get("/o/htf")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Highland Teachers&#39; Federation" in text and "(HTF)" in text and "Scotland" in text
    assert "Members</a>" not in text  # no management links for a visitor
    assert "Highland Teachers&#39; Federation" in client.get("/o/").get_data(as_text=True)


def test_unknown_organisation_is_404(app, client):
    """An address that names no organisation shows the 404 page."""
    factories.admin()
    response = client.get("/o/no-such-org")
    assert response.status_code == 404
    assert "There is no organisation" in response.get_data(as_text=True)


# --- creating organisations ------------------------------------------------------


def test_platform_admin_creates_an_organisation(app, browser):
    """A platform admin creates an organisation and is taken to its members page."""
    boss = factories.admin()
    browser.login(boss.email)
    response = browser.post("/o/new", {"name": "River Delta Cooperative", "short_name": "RDC",
                                       "country": "Bangladesh", "slug": ""})
    assert response.status_code == 302 and response.location == "/o/rdc/members"
    org = db.session.scalar(select(Organisation).where(Organisation.slug == "rdc"))
    assert (org.name, org.short_name, org.country) == ("River Delta Cooperative", "RDC", "Bangladesh")
    assert "River Delta Cooperative is created." in browser.get("/o/rdc/members").get_data(as_text=True)


def test_taken_slug_gives_a_form_error(app, browser):
    """A slug that is already used is reported on the form and nothing is created."""
    boss = factories.admin()
    factories.organisation("First Holder", slug="shared")
    browser.login(boss.email)
    response = browser.post("/o/new", {"name": "Second Holder", "slug": "shared"})
    assert response.status_code == 200
    assert "is taken" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def test_only_platform_admins_create_organisations(app, browser):
    """/o/new is 403 for everyone else, organisation admins included, on GET and POST."""
    factories.admin()
    org = factories.organisation("Mountain Nurses Guild", slug="mng")
    org_admin = factories.member(org, "admin", "delegate")
    browser.login(org_admin.email)
    assert browser.get("/o/new").status_code == 403
    response = browser.post("/o/new", {"name": "Rogue Org", "slug": "rogue"}, form_page="/")
    assert response.status_code == 403
    assert "You are not allowed to do that." in response.get_data(as_text=True)
    assert db.session.scalar(select(Organisation).where(Organisation.slug == "rogue")) is None


def test_new_organisation_needs_login(app, client):
    """A visitor is sent to the login page from /o/new."""
    factories.admin()
    response = client.get("/o/new")
    assert response.status_code == 302 and response.location.startswith("/login?next=")


# --- members ---------------------------------------------------------------------


def _org_with_admin():
    factories.admin()
    org = factories.organisation("Lakeside Farmers Network", slug="lfn", short_name="LFN")
    boss = factories.member(org, "admin", name="Odile Admin")
    return org, boss


def test_org_admin_adds_an_existing_account_with_roles(app, browser):
    """An organisation admin adds an account by e-mail with the ticked roles."""
    org, boss = _org_with_admin()
    newcomer = factories.user("Tomas Rivera", email="tomas@example.org")
    browser.login(boss.email)
    response = browser.post("/o/lfn/members", {"add-email": "  Tomas@Example.org ",
                                               "add-roles": ["delegate", "signatory"]})
    assert response.status_code == 302
    assert roles_of(newcomer, org) == {"delegate", "signatory"}
    page = browser.get("/o/lfn/members").get_data(as_text=True)
    assert "Tomas Rivera is now a member of Lakeside Farmers Network." in page


def test_adding_a_member_keeps_their_other_roles(app, browser):
    """Adding a role to a member keeps the roles they already had."""
    org, boss = _org_with_admin()
    existing = factories.member(org, "signatory")
    browser.login(boss.email)
    browser.post("/o/lfn/members", {"add-email": existing.email, "add-roles": ["delegate"]})
    assert roles_of(existing, org) == {"delegate", "signatory"}


def test_adding_without_a_role_is_refused(app, browser):
    """The add form needs at least one role."""
    org, boss = _org_with_admin()
    newcomer = factories.user()
    browser.login(boss.email)
    response = browser.post("/o/lfn/members", {"add-email": newcomer.email})
    assert response.status_code == 422
    assert "Choose at least one role." in response.get_data(as_text=True)
    assert roles_of(newcomer, org) == set()


def test_unknown_email_suggests_an_invitation(app, browser):
    """Adding an e-mail with no account says so and points to the invitation form."""
    org, boss = _org_with_admin()
    browser.login(boss.email)
    before = membership_count()
    response = browser.post("/o/lfn/members", {"add-email": "ghost@example.org",
                                               "add-roles": ["delegate"]})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "No account uses ghost@example.org. Send them an invitation instead." in page
    assert membership_count() == before


def test_org_admin_changes_roles(app, browser):
    """Saving a member's ticked roles replaces their roles with exactly those."""
    org, boss = _org_with_admin()
    member = factories.member(org, "delegate", name="Priya Shah")
    browser.login(boss.email)
    response = browser.post(f"/o/lfn/members/{member.id}", {f"m{member.id}-roles": ["signatory"]},
                            form_page="/o/lfn/members")
    assert response.status_code == 302
    assert roles_of(member, org) == {"signatory"}
    assert "Roles of Priya Shah saved." in browser.get("/o/lfn/members").get_data(as_text=True)


def test_unticking_every_role_removes_the_member(app, browser):
    """A member whose roles are all unticked leaves the organisation."""
    org, boss = _org_with_admin()
    member = factories.member(org, "delegate", "signatory", name="Priya Shah")
    browser.login(boss.email)
    browser.post(f"/o/lfn/members/{member.id}", {}, form_page="/o/lfn/members")
    assert roles_of(member, org) == set()
    page = browser.get("/o/lfn/members").get_data(as_text=True)
    assert "Priya Shah is no longer a member of Lakeside Farmers Network." in page
    assert "Save roles of Priya Shah" not in page


def test_org_admin_cannot_drop_their_own_admin_role(app, browser):
    """An organisation admin who unticks their own admin role is told to ask another admin."""
    org, boss = _org_with_admin()
    browser.login(boss.email)
    browser.post(f"/o/lfn/members/{boss.id}", {f"m{boss.id}-roles": ["delegate"]},
                 form_page="/o/lfn/members")
    assert roles_of(boss, org) == {"admin"}
    assert "You cannot remove your own admin role" in browser.get("/o/lfn/members").get_data(as_text=True)


def test_roles_of_a_non_member_are_404(app, browser):
    """The roles form of someone outside the organisation does not exist."""
    org, boss = _org_with_admin()
    outsider = factories.user()
    browser.login(boss.email)
    response = browser.post(f"/o/lfn/members/{outsider.id}", {f"m{outsider.id}-roles": ["delegate"]},
                            form_page="/o/lfn/members")
    assert response.status_code == 404
    assert roles_of(outsider, org) == set()


def test_another_organisations_admin_is_refused(app, browser):
    """An admin of another organisation gets 403 on the members page and every members POST."""
    org, boss = _org_with_admin()
    member = factories.member(org, "delegate")
    other = factories.organisation("Other Union", slug="other")
    intruder = factories.member(other, "admin")
    newcomer = factories.user()
    browser.login(intruder.email)
    before = membership_count()

    assert browser.get("/o/lfn/members").status_code == 403
    assert browser.get("/o/lfn/edit").status_code == 403
    posts = [
        ("/o/lfn/members", {"add-email": newcomer.email, "add-roles": ["admin"]}),
        (f"/o/lfn/members/{member.id}", {}),
        ("/o/lfn/invitations", {"inv-email": "friend@example.org", "inv-roles": ["delegate"]}),
        ("/o/lfn/edit", {"name": "Taken Over"}),
    ]
    for path, data in posts:
        response = browser.post(path, data, form_page="/o/other/members")
        assert response.status_code == 403, path
    assert membership_count() == before
    assert roles_of(member, org) == {"delegate"}
    assert db.session.get(Organisation, org.id).name == "Lakeside Farmers Network"
    # and the public page shows them no management links
    assert "/o/lfn/members" not in browser.get("/o/lfn").get_data(as_text=True)


def test_plain_member_cannot_manage(app, browser):
    """A delegate who is not an organisation admin gets 403 on the members page."""
    org, _ = _org_with_admin()
    delegate = factories.member(org, "delegate")
    browser.login(delegate.email)
    assert browser.get("/o/lfn/members").status_code == 403


def test_platform_admin_manages_any_organisation(app, browser):
    """A platform admin can manage the members of any organisation."""
    org, _ = _org_with_admin()
    person = factories.user()
    boss = db.session.scalar(select(User).where(User.is_admin.is_(True)))
    browser.login(boss.email)
    browser.post("/o/lfn/members", {"add-email": person.email, "add-roles": ["admin"]})
    assert roles_of(person, org) == {"admin"}


def test_org_admin_edits_details(app, browser):
    """An organisation admin edits the name; the public page shows the new one."""
    org, boss = _org_with_admin()
    browser.login(boss.email)
    response = browser.post("/o/lfn/edit", {"name": "Lakeside Farmers' Network", "short_name": "LFN",
                                            "country": "Malawi"})
    assert response.status_code == 302
    db.session.rollback()  # see what the requests committed
    assert db.session.get(Organisation, org.id).country == "Malawi"
    assert "Malawi" in browser.get("/o/lfn").get_data(as_text=True)


# --- escaping ---------------------------------------------------------------------


def test_organisation_name_is_escaped_everywhere(app, browser):
    """Markup in an organisation's name is shown as text on every page that shows it."""
    boss = factories.admin()
    name = "<script>alert(1)</script> Workers &amp; Friends"
    browser.login(boss.email)
    browser.post("/o/new", {"name": name, "short_name": "<b>WF</b>", "slug": "wf"})
    org = db.session.scalar(select(Organisation).where(Organisation.slug == "wf"))
    assert org.name == name
    member = factories.member(org, "delegate", "admin")
    browser.post("/o/wf/members", {"add-email": member.email, "add-roles": ["signatory"]})
    pages = ["/o/", "/o/wf", "/o/wf/members", "/o/wf/edit", "/admin/users"]
    for path in pages:
        page = browser.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page, path
        assert "<b>WF</b>" not in page, path
    for path in ["/o/", "/o/wf", "/o/wf/members"]:
        page = browser.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Workers &amp;amp; Friends" in page, path
    member_browser = type(browser)(app.test_client())
    member_browser.login(member.email)
    home = member_browser.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in home
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home
