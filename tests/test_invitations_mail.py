"""Invitations sent by e-mail, through a real SMTP server (aiosmtpd): to the platform, into an organisation,
to a statement; the link in the mail works; resend, revoke and expiry. And the development outbox page
that lists the e-mails written to instance/outbox/ when no SMTP server is configured."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Invitation, StatementInvitation, User
from tests import factories
from tests.conftest import Browser
from tests.test_notifications import make_world
from tests.test_notifications_smtp import BASE_URL, parts, send_due
from tests.test_notifications_smtp import smtp as smtp  # noqa: F401 (a fixture)

NEW_PASSWORD = "a brand new passphrase"


def _link(message) -> str:
    text, _ = parts(message)
    return re.search(re.escape(BASE_URL) + r"/\S+", text).group(0)


def _path(url: str) -> str:
    return urlsplit(url).path


def _admin_browser(app):
    boss = factories.admin(name="Astrid Admin")
    browser = Browser(app.test_client())
    browser.login(boss.email)
    return boss, browser


def test_platform_invitation_arrives_by_mail_and_its_link_creates_the_account(app, smtp):
    """The admin's invitation is an e-mail with the link; following it creates the account; a second use
    is a 409 that offers to log in."""
    _, browser = _admin_browser(app)
    assert browser.post("/admin/invitations", {"inv-email": "kofi@example.org"}).status_code == 302
    report = send_due(datetime.now(UTC))
    assert report.sent == 1
    (message,) = smtp.to("kofi@example.org")
    assert message["Subject"] == "Astrid Admin invites you to Concord"
    text, html_part = parts(message)
    assert "choose your name and password" in text and "it works once, for 7 days" in text
    link = _link(message)
    assert link in html_part and "/account/notifications" not in text  # no preferences without an account
    invitee = Browser(app.test_client())
    response = invitee.post(_path(link), {"name": "Kofi Mensah", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    again = app.test_client().get(_path(link))
    assert again.status_code == 409 and '<a class="button primary" href="/login">Log in</a>' in again.get_data(
        as_text=True)
    page = html.unescape(browser.get("/admin/invitations").get_data(as_text=True))
    assert "kofi@example.org</strong> <span class=\"badge invitation-used\">used</span>" in page


def test_organisation_invitation_names_the_roles_in_the_mail(app, smtp):
    """An organisation admin's invitation says into which organisation and with which roles."""
    factories.admin()
    org = factories.organisation("Coastal Fishers Alliance", slug="cfa")
    boss = factories.member(org, "admin", name="Olu Boss")
    browser = Browser(app.test_client())
    browser.login(boss.email)
    response = browser.post("/o/cfa/invitations", {"inv-email": "amara@example.org",
                                                   "inv-roles": ["delegate", "signatory"]}, form_page="/o/cfa/members")
    assert response.status_code == 302
    send_due(datetime.now(UTC))
    (message,) = smtp.to("amara@example.org")
    text, _ = parts(message)
    assert "as delegate and signatory of Coastal Fishers Alliance" in text


def test_resend_mails_the_link_again_and_reopens_an_expired_invitation(app, smtp):
    """Sending again: a second mail with a working link; an expired invitation is open again."""
    _, browser = _admin_browser(app)
    browser.post("/admin/invitations", {"inv-email": "lena@example.org"})
    send_due(datetime.now(UTC))
    invitation = db.session.scalar(select(Invitation))
    invitation.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    page = html.unescape(browser.get("/admin/invitations").get_data(as_text=True))
    assert "lena@example.org</strong> <span class=\"badge invitation-expired\">expired</span>" in page
    old_link = _link(smtp.to("lena@example.org")[0])
    assert app.test_client().get(_path(old_link)).status_code == 409
    response = browser.post(f"/admin/invitations/{invitation.id}/resend", {}, form_page="/admin/invitations")
    assert response.status_code == 302
    send_due(datetime.now(UTC))
    assert len(smtp.to("lena@example.org")) == 2
    new_link = _link(smtp.to("lena@example.org")[1])
    assert app.test_client().get(_path(new_link)).status_code == 200
    assert app.test_client().get(_path(old_link)).status_code == 200  # the same invitation, open again
    page = html.unescape(browser.get("/admin/invitations").get_data(as_text=True))
    assert "The invitation is sent to lena@example.org again." in page


def test_revoke_kills_the_mailed_link(app, smtp):
    """A revoked invitation's link is refused with a clear message and creates nothing; it cannot be sent again."""
    _, browser = _admin_browser(app)
    browser.post("/admin/invitations", {"inv-email": "lena@example.org"})
    send_due(datetime.now(UTC))
    invitation = db.session.scalar(select(Invitation))
    assert browser.post(f"/admin/invitations/{invitation.id}/revoke", {},
                        form_page="/admin/invitations").status_code == 302
    link = _link(smtp.to("lena@example.org")[0])
    response = app.test_client().get(_path(link))
    assert response.status_code == 409 and "withdrawn" in response.get_data(as_text=True)
    response = browser.post(f"/admin/invitations/{invitation.id}/resend", {}, form_page="/admin/invitations")
    page = html.unescape(browser.get("/admin/invitations").get_data(as_text=True))
    assert "This invitation was revoked." in page and "invitation-revoked" in page
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "lena@example.org")) is None


def test_inviting_an_address_twice_is_refused_while_the_first_is_open(app, smtp):
    """The form after a refused duplicate keeps its input; nothing is sent twice."""
    _, browser = _admin_browser(app)
    browser.post("/admin/invitations", {"inv-email": "lena@example.org"})
    response = browser.post("/admin/invitations", {"inv-email": "lena@example.org"})
    assert response.status_code == 422 and "already invited" in response.get_data(as_text=True)
    assert send_due(datetime.now(UTC)).sent == 1


def test_only_who_may_invite_manages_an_invitation(app):
    """An organisation admin cannot revoke another organisation's invitation (404 there, 403 on admin pages)."""
    factories.admin()
    mine = factories.organisation("Coastal Fishers Alliance", slug="cfa")
    other = factories.organisation("Green Valley Alliance", slug="gva")
    boss = factories.member(mine, "admin")
    factories.member(other, "admin")
    invitation = Invitation(email="x@example.org", organisation=other, roles="delegate", created_by_id=boss.id,
                            created_at=datetime.now(UTC), expires_at=datetime.now(UTC) + timedelta(days=1))
    db.session.add(invitation)
    db.session.commit()
    browser = Browser(app.test_client())
    browser.login(boss.email)
    assert browser.post(f"/o/cfa/invitations/{invitation.id}/revoke", {},
                        form_page="/o/cfa/members").status_code == 404
    assert browser.post(f"/o/gva/invitations/{invitation.id}/revoke", {},
                        form_page="/o/cfa/members").status_code == 403
    assert browser.post(f"/admin/invitations/{invitation.id}/revoke", {}, form_page="/o/cfa/members").status_code == 403
    db.session.rollback()
    assert db.session.get(Invitation, invitation.id).revoked_at is None


# --- statement invitations ----------------------------------------------------------------------------


@pytest.fixture
def w(app):
    factories.admin()
    return make_world(datetime.now(UTC))


def test_contact_invitation_mail_link_joins_and_revoke_or_expiry_stop_it(w, app, smtp):
    """The contact's mail carries the join link; revoking the invitation stops the link; sending again to an
    expired one gives a link that works again."""
    coordinator = Browser(app.test_client())
    coordinator.login(w.coordinator.email)
    sid = w.statement.id
    assert coordinator.post(f"/statements/{sid}/invite", {"contact_email": "nia@newgroup.example"}).status_code == 302
    send_due(datetime.now(UTC))
    (message,) = smtp.to("nia@newgroup.example")
    assert message["Subject"] == "Invitation to a joint statement: On Harbours"
    link = _link(message)
    assert _path(link).startswith("/join/")
    assert app.test_client().get(_path(link)).status_code == 200

    invitation = db.session.scalar(select(StatementInvitation))
    invitation.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    response = app.test_client().get(_path(link))
    assert response.status_code == 409 and "expired" in response.get_data(as_text=True)
    page = html.unescape(coordinator.get(f"/statements/{sid}/invite").get_data(as_text=True))
    assert "nia@newgroup.example</strong> <span class=\"badge invitation-expired\">expired</span>" in page
    assert coordinator.post(f"/statements/{sid}/invitations/{invitation.id}/resend", {},
                            form_page=f"/statements/{sid}/invite").status_code == 302
    send_due(datetime.now(UTC))
    assert len(smtp.to("nia@newgroup.example")) == 2
    assert app.test_client().get(_path(link)).status_code == 200

    assert coordinator.post(f"/statements/{sid}/invitations/{invitation.id}/revoke", {},
                            form_page=f"/statements/{sid}/invite").status_code == 302
    response = app.test_client().get(_path(link))
    assert response.status_code == 409 and "revoked" in response.get_data(as_text=True)
    page = html.unescape(coordinator.get(f"/statements/{sid}/invite").get_data(as_text=True))
    assert "The invitation of nia@newgroup.example is revoked." in page and "invitation-revoked" in page


def test_revoked_platform_invitation_of_an_organisation_cannot_be_answered(w, app):
    """An organisation on the platform whose invitation was revoked can no longer accept it."""
    from app.participation import invitations

    invitation = invitations.invite_organisation(w.statement, w.coordinator, organisation=w.outside, now=w.now)
    db.session.commit()
    invitations.revoke_invitation(invitation, w.coordinator, now=w.now)
    db.session.commit()
    delegate = Browser(app.test_client())
    delegate.login(w.del_out.email)
    page = html.unescape(delegate.get(f"/statement-invitations/{invitation.id}").get_data(as_text=True))
    assert "This invitation was revoked." in page
    response = delegate.post(f"/statement-invitations/{invitation.id}", {"answer": "accept"})
    assert response.status_code == 200
    assert "This invitation was revoked." in html.unescape(response.get_data(as_text=True))
    db.session.rollback()
    assert db.session.get(StatementInvitation, invitation.id).status == "revoked"


def test_only_the_coordinator_resends_or_revokes(w, app):
    """A participant's delegate gets 403 and changes nothing."""
    from app.participation import invitations

    invitation = invitations.invite_organisation(w.statement, w.coordinator, organisation=w.outside, now=w.now)
    db.session.commit()
    other = Browser(app.test_client())
    other.login(w.del_b.email)
    for action in ("resend", "revoke"):
        response = other.post(f"/statements/{w.statement.id}/invitations/{invitation.id}/{action}", {},
                              form_page="/")
        assert response.status_code == 403
    db.session.rollback()
    assert db.session.get(StatementInvitation, invitation.id).status == "pending"


# --- the development outbox page -------------------------------------------------------------------------


def test_outbox_page_lists_written_mails_and_shows_the_link(app, monkeypatch, tmp_path):
    """Without MAIL_SERVER the sender writes .eml files; the admin's development page lists and shows them,
    with the link clickable; other names are 404."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    _, browser = _admin_browser(app)
    browser.post("/admin/invitations", {"inv-email": "kofi@example.org"})
    send_due(datetime.now(UTC))
    (written,) = list((tmp_path / "outbox").glob("*.eml"))
    listing = html.unescape(browser.get("/admin/outbox").get_data(as_text=True))
    assert "kofi@example.org" in listing and f'href="/admin/outbox/{written.name}"' in listing
    assert 'href="/admin/outbox">Outbox (development)</a>' in browser.get("/admin/users").get_data(as_text=True)
    message = html.unescape(browser.get(f"/admin/outbox/{written.name}").get_data(as_text=True))
    link = re.search(r'<a href="(http://[^"]+/invitations/[^"]+)"', message).group(1)
    assert _path(link).startswith("/invitations/")
    for name in ("../secret_key", "x.eml", written.name.replace(".eml", ".txt")):
        assert browser.get(f"/admin/outbox/{name}").status_code == 404


def test_outbox_page_exists_only_in_development_and_only_for_admins(app, monkeypatch):
    """With an SMTP server or in production the page is 404 and the menu does not link it; others get 403."""
    _, browser = _admin_browser(app)
    assert browser.get("/admin/outbox").status_code == 200
    monkeypatch.setitem(app.config, "OUTBOX_PAGE", False)
    assert browser.get("/admin/outbox").status_code == 404
    assert "Outbox (development)" not in browser.get("/admin/users").get_data(as_text=True)
    monkeypatch.setitem(app.config, "OUTBOX_PAGE", True)
    person = factories.user()
    other = Browser(app.test_client())
    other.login(person.email)
    assert other.get("/admin/outbox").status_code == 403


def test_outbox_page_setting_follows_the_environment():
    """Development without MAIL_SERVER: on. Production, or an SMTP server: off."""
    from app import create_app
    from config import TestConfig

    assert create_app(TestConfig, ENV="development").config["OUTBOX_PAGE"] is True
    assert create_app(TestConfig, ENV="production").config["OUTBOX_PAGE"] is False
    assert create_app(TestConfig, ENV="development", MAIL_SERVER="smtp.example.org").config["OUTBOX_PAGE"] is False
