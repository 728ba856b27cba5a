"""Web tests of first-run setup, logging in and out, passwords, invitations, CSRF and headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Invitation, Membership, Organisation, OutboxMessage, Statement, User, Version
from tests import factories
from tests.conftest import Browser

NEW_PASSWORD = "a brand new passphrase"




def count(model) -> int:
    db.session.rollback()  # see what the requests committed
    return db.session.scalar(select(func.count()).select_from(model))


def logged_in_user_id(client) -> str | None:
    with client.session_transaction() as sess:
        return sess.get("_user_id")


def invitation_path(email: str) -> str:
    """The path of the link in the invitation e-mail queued for ``email`` (the latest one)."""
    db.session.rollback()
    row = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_email == email,
                                                         OutboxMessage.kind == "account_invitation")
                             .order_by(OutboxMessage.id.desc())).first()
    assert row is not None, f"no invitation e-mail to {email}"
    return row.path


def copy_link_path(page: str, invitation_id: int) -> str:
    """The path of an invitation's link as the list shows it to copy."""
    marker = f'id="invitation-link-{invitation_id}" class="token" type="text" readonly value="'
    assert marker in page, "no invitation link to copy on the page"
    return urlsplit(page.split(marker, 1)[1].split('"', 1)[0]).path


def accept(client, path: str, name: str = "Nadia Okafor", password: str = NEW_PASSWORD,
           form_page: str | None = None):
    return Browser(client).post(
        path, {"name": name, "password": password, "confirm": password}, form_page=form_page
    )


# --- first-run setup ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/o/", "/statements/", "/account/", "/admin/users"])
def test_empty_database_sends_every_page_to_setup(app, client, path):
    """Before the first admin exists, every page redirects to /setup."""
    response = client.get(path)
    assert response.status_code == 302
    assert response.location == "/setup"


def test_setup_creates_first_admin_and_logs_them_in(app, browser):
    """/setup creates a platform admin and starts their session."""
    response = browser.post("/setup", {"name": "Ines Moreau", "email": "Ines@Example.org",
                                       "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    user = db.session.scalar(select(User))
    assert user.email == "ines@example.org" and user.is_admin
    assert logged_in_user_id(browser.client) == user.get_id()
    home = browser.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Hello, Ines Moreau" in home
    assert "first platform admin" in home


def test_setup_form_errors_create_nothing(app, browser):
    """Mismatched passwords on /setup give a message and create no account."""
    response = browser.post("/setup", {"name": "Ines Moreau", "email": "ines@example.org",
                                       "password": NEW_PASSWORD, "confirm": "something else!"})
    assert response.status_code == 200
    assert "The two passwords differ." in response.get_data(as_text=True)
    assert count(User) == 0


def test_setup_is_gone_once_done(app, browser):
    """After setup, /setup redirects to login and a POST to it creates nothing."""
    factories.admin()
    assert browser.get("/setup").location == "/login"
    response = browser.post("/setup", {"name": "Mallory", "email": "mallory@example.org",
                                       "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                            form_page="/login")
    assert response.status_code == 302 and response.location == "/login"
    assert count(User) == 1
    assert db.session.scalar(select(User).where(User.email == "mallory@example.org")) is None
    assert logged_in_user_id(browser.client) is None


# --- logging in and out --------------------------------------------------------


def test_login_with_wrong_password_says_so_and_starts_no_session(app, browser):
    """A wrong password shows one clear message and leaves the visitor logged out."""
    person = factories.admin()
    response = browser.post("/login", {"email": person.email, "password": "not the password"})
    assert response.status_code == 200
    assert "The e-mail or the password is not correct." in response.get_data(as_text=True)
    assert logged_in_user_id(browser.client) is None
    assert browser.get("/account/").status_code == 302


def test_login_with_unknown_email_gives_the_same_message(app, browser):
    """An unknown e-mail gets the same message as a wrong password."""
    factories.admin()
    response = browser.post("/login", {"email": "nobody@example.org", "password": "whatever it is"})
    assert "The e-mail or the password is not correct." in response.get_data(as_text=True)
    assert logged_in_user_id(browser.client) is None


def test_login_starts_a_fresh_session(app, browser):
    """Logging in drops whatever the session held before (no session fixation)."""
    person = factories.admin()
    browser.get("/login")
    with browser.client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    browser.login(person.email)
    with browser.client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"] == person.get_id()


def test_login_follows_a_same_site_next_path(app, browser):
    """After a login required redirect, the user lands on the page they asked for."""
    person = factories.admin()
    first = browser.get("/account/")
    assert first.status_code == 302 and first.location.startswith("/login?next=")
    response = browser.post("/login?next=/account/", {"email": person.email,
                                                      "password": factories.PASSWORD})
    assert response.location == "/account/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)"])
def test_login_ignores_next_pointing_off_site(app, browser, target):
    """A `next` that is not a same-site path is ignored: the user lands on the start page."""
    person = factories.admin()
    response = browser.post(f"/login?{urlencode({'next': target})}",
                            {"email": person.email, "password": factories.PASSWORD},
                            form_page="/login")
    assert response.status_code == 302
    assert response.location == "/"
    assert logged_in_user_id(browser.client) == person.get_id()


def test_logout_is_post_only(app, browser):
    """GET /logout does not log anyone out."""
    person = factories.admin()
    browser.login(person.email)
    assert browser.get("/logout").status_code == 405
    assert logged_in_user_id(browser.client) == person.get_id()


def test_logout_without_csrf_is_refused(app, browser):
    """A logout POST without the CSRF token (e.g. from another site) changes nothing."""
    person = factories.admin()
    browser.login(person.email)
    response = browser.client.post("/logout")
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert logged_in_user_id(browser.client) == person.get_id()


def test_logout_ends_the_session(app, browser):
    """Logging out with the form ends the session and the next page asks for a login."""
    person = factories.admin()
    browser.login(person.email)
    response = browser.post("/logout", form_page="/")
    assert response.location == "/login"
    assert logged_in_user_id(browser.client) is None
    assert "You are logged out." in browser.get("/login").get_data(as_text=True)
    assert browser.get("/account/").status_code == 302


def test_remember_me_sets_the_remember_cookie(app, browser):
    """Ticking "keep me logged in" sets a lasting cookie; not ticking it does not."""
    person = factories.admin()
    browser.post("/login", {"email": person.email, "password": factories.PASSWORD})
    assert browser.client.get_cookie("remember_token", domain="concord.test") is None
    browser.post("/logout", form_page="/")
    browser.post("/login", {"email": person.email, "password": factories.PASSWORD, "remember": "y"})
    cookie = browser.client.get_cookie("remember_token", domain="concord.test")
    assert cookie is not None and cookie.value
    assert cookie.expires is not None and cookie.expires > datetime.now(UTC) + timedelta(days=1)
    assert cookie.http_only


def test_change_password_logs_out_other_sessions_only(app, browser):
    """Changing the password ends every other session but keeps the current one."""
    person = factories.admin()
    browser.login(person.email)
    other = app.test_client()
    Browser(other).login(person.email)
    assert other.get("/account/").status_code == 200

    response = browser.post("/account/password", {
        "pw-current_password": factories.PASSWORD, "pw-password": NEW_PASSWORD,
        "pw-confirm": NEW_PASSWORD,
    }, form_page="/account/")
    assert response.status_code == 302
    page = browser.get("/account/")
    assert page.status_code == 200
    assert "Other devices have been logged out." in page.get_data(as_text=True)

    assert other.get("/account/").status_code == 302
    assert Browser(app.test_client()).login(person.email, NEW_PASSWORD).location == "/"


def test_change_password_with_old_session_cookie_is_logged_out(app, browser):
    """A copy of the pre-change session cookie no longer logs anyone in."""
    person = factories.admin()
    browser.login(person.email)
    stolen = browser.client.get_cookie("session", domain="concord.test").value
    browser.post("/account/password", {
        "pw-current_password": factories.PASSWORD, "pw-password": NEW_PASSWORD,
        "pw-confirm": NEW_PASSWORD,
    }, form_page="/account/")
    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="concord.test")
    response = thief.get("/account/")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert browser.get("/account/").status_code == 200


def test_change_password_with_wrong_current_password_changes_nothing(app, browser):
    """A wrong current password is reported and the old password still works."""
    person = factories.admin()
    browser.login(person.email)
    token_before = person.session_token
    response = browser.post("/account/password", {
        "pw-current_password": "not my password", "pw-password": NEW_PASSWORD,
        "pw-confirm": NEW_PASSWORD,
    }, form_page="/account/")
    assert response.status_code == 422
    assert "The current password is not correct." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.id).session_token == token_before
    Browser(app.test_client()).login(person.email)


# --- invitations ------------------------------------------------------------


def test_admin_invites_a_person_and_the_link_creates_their_account(app, browser):
    """A platform admin invites by e-mail on /admin/invitations (post, redirect, get: an empty form and
    the invitation listed, open, with its link to copy); the invitee sets a name and password."""
    boss = factories.admin()
    browser.login(boss.email)
    response = browser.post("/admin/invitations", {"inv-email": "Kofi@Example.org"})
    assert response.status_code == 302 and response.location == "/admin/invitations"
    page = browser.get("/admin/invitations").get_data(as_text=True)
    assert "The invitation is sent to kofi@example.org." in page
    assert 'name="inv-email" required type="email" value=""' in page
    path = invitation_path("kofi@example.org")
    assert path.startswith("/invitations/")
    invitation = db.session.scalar(select(Invitation))
    assert copy_link_path(page, invitation.id).startswith("/invitations/")
    assert '<span class="badge invitation-open">open</span>' in page

    invitee = app.test_client()
    form = invitee.get(path).get_data(as_text=True)
    assert "kofi@example.org" in form and "Create my account" in form
    response = accept(invitee, path, name="Kofi Mensah")
    assert response.status_code == 302 and response.location == "/"
    kofi = db.session.scalar(select(User).where(User.email == "kofi@example.org"))
    assert kofi.name == "Kofi Mensah" and not kofi.is_admin
    assert logged_in_user_id(invitee) == kofi.get_id()
    assert "Welcome to Concord" in invitee.get("/").get_data(as_text=True)


def test_org_admin_invites_with_roles(app, browser):
    """An organisation admin's invitation gives the new account the chosen roles there."""
    factories.admin()
    org = factories.organisation("Coastal Fishers Alliance", slug="cfa")
    boss = factories.member(org, "admin")
    browser.login(boss.email)
    response = browser.post("/o/cfa/invitations", {"inv-email": "amara@example.org",
                                                   "inv-roles": ["delegate", "signatory"]},
                            form_page="/o/cfa/members")
    assert response.status_code == 302 and response.location == "/o/cfa/members#invitations"
    page = browser.get("/o/cfa/members").get_data(as_text=True)
    path = invitation_path("amara@example.org")
    assert "<strong>amara@example.org</strong> <span class=\"badge invitation-open\">open</span>" in page

    invitee = app.test_client()
    assert "Coastal Fishers Alliance" in invitee.get(path).get_data(as_text=True)
    accept(invitee, path, name="Amara Diallo")
    amara = db.session.scalar(select(User).where(User.email == "amara@example.org"))
    assert amara.roles_in(db.session.get(Organisation, org.id)) == {"delegate", "signatory"}
    home = invitee.get("/").get_data(as_text=True)
    assert "Hello, Amara Diallo" in home and "delegate, signatory" in home


def test_org_admin_invitation_needs_a_role(app, browser):
    """An organisation invitation without roles is refused with a message."""
    factories.admin()
    org = factories.organisation("Coastal Fishers Alliance", slug="cfa")
    boss = factories.member(org, "admin")
    browser.login(boss.email)
    response = browser.post("/o/cfa/invitations", {"inv-email": "amara@example.org"},
                            form_page="/o/cfa/members")
    assert response.status_code == 422
    assert "Choose at least one role." in response.get_data(as_text=True)
    assert count(Invitation) == 0


def _invitation(app, **kw) -> str:
    """Create an invitation as an admin would and return its path."""
    boss = factories.admin() if not kw.get("boss") else kw["boss"]
    browser = Browser(app.test_client())
    browser.login(boss.email)
    assert browser.post("/admin/invitations", {"inv-email": "lena@example.org"}).status_code == 302
    return invitation_path("lena@example.org")


def test_invitation_link_works_only_once(app):
    """A used link gives a clear message and never makes a second account."""
    path = _invitation(app)
    accept(app.test_client(), path, name="Lena First")
    again = app.test_client()
    page = again.get(path)
    assert page.status_code == 409
    assert "already been used" in page.get_data(as_text=True)
    assert '<a class="button primary" href="/login">Log in</a>' in page.get_data(as_text=True)
    replay = accept(again, path, name="Lena Second", form_page="/login")
    assert replay.status_code == 409
    assert "already been used" in replay.get_data(as_text=True)
    users = db.session.scalars(select(User).where(User.email == "lena@example.org")).all()
    assert [u.name for u in users] == ["Lena First"]
    assert logged_in_user_id(again) is None


def test_tampered_invitation_token_is_not_found(app):
    """A link whose token was changed shows the 404 page and creates nothing."""
    path = _invitation(app)
    token = path.rsplit("/", 1)[1]
    middle = len(token) // 4
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    visitor = app.test_client()
    response = visitor.get(f"/invitations/{tampered}")
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)
    response = accept(visitor, f"/invitations/{tampered}", form_page="/login")
    assert response.status_code == 404
    assert db.session.scalar(select(User).where(User.email == "lena@example.org")) is None


def test_expired_invitation_gives_a_clear_message(app):
    """An invitation past its expiry date is refused with a message and creates nothing."""
    path = _invitation(app)
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    visitor = app.test_client()
    response = visitor.get(path)
    assert response.status_code == 409
    assert "This invitation has expired. Ask for a new one." in response.get_data(as_text=True)
    assert accept(visitor, path, form_page="/login").status_code == 409
    assert db.session.scalar(select(User).where(User.email == "lena@example.org")) is None


def test_invitation_token_older_than_max_age_is_expired(app, monkeypatch):
    """A token older than INVITATION_MAX_AGE is refused even if the row looks valid."""
    path = _invitation(app)
    monkeypatch.setitem(app.config, "INVITATION_MAX_AGE", -1)
    response = app.test_client().get(path)
    assert response.status_code == 409
    assert "This invitation has expired." in response.get_data(as_text=True)


def test_accepting_an_invitation_logs_out_whoever_was_logged_in(app):
    """Opening an invitation in a logged-in browser ends that session first."""
    boss = factories.admin()
    path = _invitation(app, boss=boss)
    shared = Browser(app.test_client())
    shared.login(boss.email)
    shared.get(path)
    assert logged_in_user_id(shared.client) is None


# --- CSRF ---------------------------------------------------------------------


def _csrf_world(app):
    factories.admin()
    org = factories.organisation("Valley Growers Union", slug="vgu")
    coordinator = factories.member(org, "delegate", "admin")
    statement = factories.statement(coordinator, org)
    first = statement.paragraphs[0]
    return coordinator, statement, first


def _versions(statement_id) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Version)
                             .where(Version.statement_id == statement_id))


def test_login_without_csrf_is_refused(app, client):
    """A login POST without its CSRF token gets the "Form expired" page and no session."""
    person = factories.admin()
    response = client.post("/login", data={"email": person.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    assert logged_in_user_id(client) is None


@pytest.mark.parametrize("action", ["new_statement", "edit", "move", "delete", "insert", "title",
                                    "add_member"])
def test_posts_without_csrf_change_nothing(app, browser, action):
    """Every state-changing form refuses a POST without CSRF token with a 400 "Form expired" page."""
    coordinator, statement, first = _csrf_world(app)
    stranger = factories.user(email="newcomer@example.org")
    browser.login(coordinator.email)
    sid, pid = statement.id, first.id
    path, data = {
        "new_statement": ("/statements/new", {"title": "Sneaky", "coordinator_organisation": "1"}),
        "edit": (f"/statements/{sid}/paragraphs/{pid}/edit", {"text": "Forged text."}),
        "move": (f"/statements/{sid}/paragraphs/{pid}/move", {"direction": "down"}),
        "delete": (f"/statements/{sid}/paragraphs/{pid}/delete", {}),
        "insert": (f"/statements/{sid}/paragraphs/new", {"text": "Forged.", "after": "top"}),
        "title": (f"/statements/{sid}/title", {"title": "Forged title"}),
        "add_member": ("/o/vgu/members", {"add-email": stranger.email, "add-roles": ["delegate"]}),
    }[action]
    response = browser.client.post(path, data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Form expired" in page and "reload the page" in page
    assert count(Statement) == 1
    assert _versions(sid) == 1
    db.session.expire_all()
    assert db.session.get(Statement, sid).title == "A Joint Statement on Testing"
    assert not db.session.get(User, stranger.id).memberships
    assert count(Membership) == 2


def test_post_with_a_forged_csrf_token_is_refused(app, browser):
    """A made-up token is as good as none."""
    coordinator, statement, first = _csrf_world(app)
    browser.login(coordinator.email)
    response = browser.client.post(f"/statements/{statement.id}/paragraphs/{first.id}/edit",
                                   data={"text": "Forged text.", "csrf_token": "not-a-real-token"})
    assert response.status_code == 400
    assert _versions(statement.id) == 1


# --- headers -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/o/", "/nowhere"])
def test_security_headers_on_every_page(app, client, path):
    """Pages, including error pages, forbid sniffing, framing and inline scripts."""
    factories.admin()
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_pages_carry_no_inline_script(app, browser):
    """No page needs inline script, so the strict CSP breaks nothing."""
    person = factories.admin()
    browser.login(person.email)
    for path in ("/", "/account/", "/admin/users", "/o/"):
        page = browser.get(path).get_data(as_text=True)
        scripts = re.findall(r"<script[^>]*>", page)
        assert all(re.fullmatch(r'<script src="/static/[\w.]+" defer>', tag) for tag in scripts), scripts
        assert "</script>" not in page.replace("defer></script>", "") and "onclick=" not in page
