"""Web tests of notifications, preferences, "waiting for you" and statement invitations."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.amending import operations as amending
from app.extensions import db
from app.models import (
    Notification,
    NotificationPreference,
    Organisation,
    OutboxMessage,
    StatementInvitation,
    User,
)
from app.participation import invitations as participation
from app.signing import operations as signing
from tests import factories
from tests.conftest import Browser
from tests.test_notifications import make_world


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def w(app, admin):
    return make_world(now())


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def propose(w, user, org, text: str, paragraph_id: int | None = None):
    amendment = amending.propose(w.statement, user, org, kind="modify", paragraph_id=paragraph_id or w.p1,
                                 text=text, now=now())
    db.session.commit()
    return amendment


def my_notes(user) -> list[Notification]:
    db.session.rollback()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def logged_in(app, user) -> Browser:
    browser = Browser(app.test_client())
    browser.login(user.email)
    return browser


# --- notifications ------------------------------------------------------------------------------


def test_header_shows_the_unread_count(w, app):
    """The header counts my unread notifications, and shows none when there are none."""
    browser = logged_in(app, w.del_c)
    assert "class=\"count\"" not in browser.get("/").get_data(as_text=True)
    propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    propose(w, w.del_b, w.b, "Ferries run every half hour between the islands.", paragraph_id=w.p2)
    page = browser.get("/").get_data(as_text=True)
    assert 'aria-label="2 unread"' in page


def test_the_header_counts_at_most_99_unread(w, app):
    """Past 99 unread notifications the header says "99+": counting them all would make every page's
    cost grow with how much others told someone."""
    from app.notifications import events

    now = datetime.now(UTC)
    for n in range(130):
        events.notify([w.del_c], "amendment_new", subject=f"Note {n}", body="", path="/", now=now)
    db.session.commit()
    page = logged_in(app, w.del_c).get("/").get_data(as_text=True)
    assert 'aria-label="99+ unread">99+</span>' in page


def test_notifications_page_lists_and_opening_one_marks_it_read_and_redirects(w, app):
    """The list shows my notifications; opening one marks it read and goes to its path."""
    amendment = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    browser = logged_in(app, w.del_c)
    page = text_of(browser.get("/notifications"))
    (note,) = my_notes(w.del_c)
    assert note.subject in page and f"/notifications/{note.id}" in page
    response = browser.get(f"/notifications/{note.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/amendments/{amendment.id}")
    assert my_notes(w.del_c)[0].read_at is not None
    assert 'aria-label="1 unread"' not in browser.get("/notifications").get_data(as_text=True)


def test_someone_elses_notification_is_not_found(w, app):
    """Opening another person's notification is 404 and leaves it unread."""
    propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    (note,) = my_notes(w.del_c)
    browser = logged_in(app, w.del_a)
    assert browser.get(f"/notifications/{note.id}").status_code == 404
    assert browser.get("/notifications/999999").status_code == 404
    assert my_notes(w.del_c)[0].read_at is None


def test_notifications_need_a_login(w, client):
    """Anonymous visitors are sent to the login page."""
    response = client.get("/notifications")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_mark_all_read_needs_csrf_and_marks_only_mine(w, app):
    """Without the CSRF token nothing changes; with it every one of my notifications is read."""
    propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    propose(w, w.del_b, w.b, "Ferries run every half hour between the islands.", paragraph_id=w.p2)
    browser = logged_in(app, w.del_c)
    assert browser.client.post("/notifications/read").status_code == 400
    assert all(n.read_at is None for n in my_notes(w.del_c))
    response = browser.post("/notifications/read", form_page="/notifications")
    assert response.status_code == 302
    assert all(n.read_at is not None for n in my_notes(w.del_c))
    assert all(n.read_at is None for n in my_notes(w.coordinator))


def test_preferences_are_saved_per_kind_and_shown(w, app):
    """The preferences page stores one mode per kind and shows the stored choice."""
    browser = logged_in(app, w.del_c)
    page = browser.get("/account/notifications")
    assert page.status_code == 200
    from app.models import EVENT_KINDS

    data = {kind: "immediate" for kind in EVENT_KINDS}
    data.update(amendment_new="digest", published="off")
    response = browser.post("/account/notifications", data)
    assert response.status_code == 302
    db.session.rollback()
    stored = dict(db.session.execute(select(NotificationPreference.kind, NotificationPreference.mode)
                                     .where(NotificationPreference.user_id == w.del_c.id)).all())
    assert stored["amendment_new"] == "digest" and stored["published"] == "off"
    assert stored["deadline"] == "immediate"
    page = browser.get("/account/notifications").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="amendment_new"[^>]*value="digest"|'
                     r'<input[^>]*name="amendment_new"[^>]*value="digest"[^>]*checked', page)
    propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    (row,) = db.session.scalars(select(OutboxMessage).where(OutboxMessage.user_id == w.del_c.id)).all()
    assert row.mode == "digest"


def test_a_bad_preference_value_changes_nothing(w, app):
    """An unknown mode is a form error and nothing is stored."""
    browser = logged_in(app, w.del_c)
    response = browser.post("/account/notifications", {"amendment_new": "hourly"})
    assert response.status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(NotificationPreference)) == 0


# --- waiting for you -----------------------------------------------------------------------------


def test_home_page_shows_what_is_waiting(w, app):
    """An amendment awaiting my organisation's position, a signature awaiting me and an invitation."""
    person = factories.member(w.b, "delegate", "signatory", name="Pat Both")
    from app.organisations import operations as orgs

    orgs.set_member_roles(None, w.outside, person, ["admin"])
    db.session.commit()
    browser = logged_in(app, person)
    assert "Nothing is waiting for you" in text_of(browser.get("/"))

    amendment = propose(w, w.del_c, w.c, "The harbour must stay open to every single worker.")
    frozen = factories.statement(w.coordinator, w.a, participants=[w.b], title="On Ferries",
                                 paragraphs=["Ferries run every hour."])
    amending.open_for_amendments(frozen, w.coordinator, rule="coordinator", deadline=None, now=now())
    signing.freeze(frozen, w.coordinator, now=now())
    invitation = participation.invite_organisation(w.statement, w.coordinator, organisation=w.outside,
                                                   now=now())
    db.session.commit()

    page = text_of(browser.get("/"))
    waiting = page[page.index("Waiting for you"):page.index("Your statements")]
    assert f"Amendment #{amendment.id}" in waiting and "needs the position of GVA" in waiting
    assert f"/amendments/{amendment.id}#positions" in waiting
    assert "“On Ferries”" in waiting and "waits for the signature of Green Valley Alliance" in waiting
    assert f"/statements/{frozen.id}/sign" in waiting
    assert "Outside Collective is invited to" in waiting
    assert f"/statement-invitations/{invitation.id}" in waiting


# --- invitations ---------------------------------------------------------------------------------


def test_coordinator_invites_an_organisation_on_the_platform(w, app):
    """The invite page lists only organisations not taking part; inviting notifies its admins and delegates."""
    browser = logged_in(app, w.coordinator)
    page = text_of(browser.get(f"/statements/{w.statement.id}/invite"))
    assert "Outside Collective" in page and "Green Valley Alliance" not in page
    response = browser.post(f"/statements/{w.statement.id}/invite", {"organisation": w.outside.id})
    assert response.status_code == 302
    db.session.rollback()
    (invitation,) = db.session.scalars(select(StatementInvitation)).all()
    assert (invitation.organisation_id, invitation.status) == (w.outside.id, "pending")
    assert {n.user_id for n in db.session.scalars(select(Notification))} == {w.admin_out.id, w.del_out.id}
    page = text_of(browser.get(f"/statements/{w.statement.id}/invite"))
    listed = page[page.index('id="invitations-heading"'):]
    assert "<strong>Outside Collective</strong> <span class=\"badge invitation-open\">open</span>" in listed


def test_inviting_twice_is_a_form_error(w, app):
    """A second invitation of the same organisation is refused with a message."""
    browser = logged_in(app, w.coordinator)
    browser.post(f"/statements/{w.statement.id}/invite", {"organisation": w.outside.id})
    response = browser.post(f"/statements/{w.statement.id}/invite", {"organisation": w.outside.id})
    assert response.status_code == 422 and "already invited" in text_of(response)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(StatementInvitation)) == 1


def test_only_the_coordinator_sees_the_invite_page(w, app):
    """A participant's delegate gets 403; an outsider 404."""
    assert logged_in(app, w.del_b).get(f"/statements/{w.statement.id}/invite").status_code == 403
    assert logged_in(app, w.del_out).get(f"/statements/{w.statement.id}/invite").status_code == 404


def _invite_contact(w, app, address="contact@newgroup.example") -> str:
    browser = logged_in(app, w.coordinator)
    response = browser.post(f"/statements/{w.statement.id}/invite", {"contact_email": address})
    assert response.status_code == 302, text_of(response)
    db.session.rollback()
    (row,) = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_email == address)).all()
    return row.path


def test_inviting_a_contact_writes_an_email_with_a_join_link(w, app):
    """The contact gets an outbox row (no account, no in-app notification) whose path is /join/<token>."""
    path = _invite_contact(w, app)
    (row,) = db.session.scalars(select(OutboxMessage)).all()
    assert row.user_id is None and row.notification_id is None and row.mode == "immediate"
    assert row.kind == "invitation" and "On Harbours" in row.subject
    assert re.fullmatch(r"/join/[A-Za-z0-9_.\-]+", path)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_join_creates_the_organisation_and_account_and_logs_in(w, app):
    """The link's form creates the organisation and the account, joins the statement and logs in."""
    path = _invite_contact(w, app)
    browser = Browser(app.test_client())
    page = text_of(browser.get(path))
    assert "contact@newgroup.example" in page and "On Harbours" in page
    response = browser.post(path, {"organisation_name": "New Group for Harbours", "short_name": "NGH",
                                   "country": "Kenya", "name": "Nia Contact",
                                   "password": factories.PASSWORD, "confirm": factories.PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/statements/{w.statement.id}")
    db.session.rollback()
    org = db.session.scalar(select(Organisation).where(Organisation.name == "New Group for Harbours"))
    user = db.session.scalar(select(User).where(User.email == "contact@newgroup.example"))
    assert set(user.roles_in(org)) == {"delegate", "signatory", "admin"}
    statement = db.session.get(type(w.statement), w.statement.id)
    assert org.id in {o.id for o in statement.participant_organisations}
    assert "Nia Contact" in text_of(browser.get("/"))  # logged in
    assert browser.get(f"/statements/{w.statement.id}").status_code == 200


def test_a_used_join_link_says_so_clearly(w, app):
    """The second use of the link is refused with a message, and creates nothing."""
    path = _invite_contact(w, app)
    browser = Browser(app.test_client())
    data = {"organisation_name": "New Group", "name": "Nia", "password": factories.PASSWORD,
            "confirm": factories.PASSWORD}
    assert browser.post(path, data).status_code == 302
    other = Browser(app.test_client())
    response = other.get(path)
    assert response.status_code == 409
    assert "already been used" in text_of(response)
    assert '<a class="button primary" href="/login">Log in</a>' in text_of(response)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 5


def test_a_tampered_join_token_is_not_found(w, app):
    """A changed token, or a token for another invitation id, is 404."""
    path = _invite_contact(w, app)
    client = app.test_client()
    token = path.rsplit("/", 1)[1]
    assert client.get(f"/join/{token[:-2]}xx").status_code == 404
    assert client.get("/join/nonsense").status_code == 404


def test_join_form_errors_change_nothing(w, app):
    """Differing passwords are a form error; no organisation, no account."""
    path = _invite_contact(w, app)
    browser = Browser(app.test_client())
    response = browser.post(path, {"organisation_name": "New Group", "name": "Nia",
                                   "password": factories.PASSWORD, "confirm": "something else entirely"})
    assert response.status_code == 200 and "The two passwords differ." in text_of(response)
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "contact@newgroup.example")) is None
    assert db.session.scalar(select(StatementInvitation)).status == "pending"


def _invite_outside(w) -> StatementInvitation:
    invitation = participation.invite_organisation(w.statement, w.coordinator, organisation=w.outside,
                                                   now=now())
    db.session.commit()
    return invitation


def test_accepting_an_invitation_on_its_page(w, app):
    """A delegate of the invited organisation accepts; it takes part."""
    invitation = _invite_outside(w)
    browser = logged_in(app, w.del_out)
    page = text_of(browser.get(f"/statement-invitations/{invitation.id}"))
    assert "Outside Collective" in page and "On Harbours" in page
    response = browser.post(f"/statement-invitations/{invitation.id}", {"answer": "accept"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/statements/{w.statement.id}")
    db.session.rollback()
    assert db.session.get(StatementInvitation, invitation.id).status == "accepted"
    statement = db.session.get(type(w.statement), w.statement.id)
    assert w.outside.id in {o.id for o in statement.participant_organisations}
    assert "This invitation was accepted" in text_of(browser.get(f"/statement-invitations/{invitation.id}"))


def test_declining_an_invitation_on_its_page(w, app):
    """An admin of the invited organisation declines; it does not take part."""
    invitation = _invite_outside(w)
    browser = logged_in(app, w.admin_out)
    response = browser.post(f"/statement-invitations/{invitation.id}", {"answer": "decline"})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(StatementInvitation, invitation.id).status == "declined"
    statement = db.session.get(type(w.statement), w.statement.id)
    assert w.outside.id not in {o.id for o in statement.participant_organisations}


def test_other_organisations_get_404_on_an_invitation(w, app):
    """Members of other organisations, the coordinator included, cannot see or answer it."""
    invitation = _invite_outside(w)
    for user in (w.del_b, w.coordinator):
        browser = logged_in(app, user)
        assert browser.get(f"/statement-invitations/{invitation.id}").status_code == 404
    browser = logged_in(app, w.del_b)
    response = browser.post(f"/statement-invitations/{invitation.id}", {"answer": "accept"},
                            form_page="/notifications")
    assert response.status_code == 404
    db.session.rollback()
    assert db.session.get(StatementInvitation, invitation.id).status == "pending"


def test_failed_deliveries_are_shown_to_platform_admins_only(app, browser, now):
    """After the last try a failed e-mail is listed on /admin/mail for platform admins, and only for them."""
    from app.models import OutboxMessage

    admin = factories.admin()
    org = factories.organisation()
    member = factories.member(org, "delegate", "admin")
    db.session.add(OutboxMessage(to_email="gone@example.org", mode="immediate", status="failed", attempts=5,
                                 last_error="SMTPRecipientsRefused: 550 no such user", kind="published",
                                 subject="Published: <Heat & housing>", body="", path="/p/x", created_at=now,
                                 due_at=now))
    db.session.commit()
    browser.login(member.email)
    assert browser.get("/admin/mail").status_code == 403
    browser.post("/logout", {}, form_page="/")
    browser.login(admin.email)
    page = browser.get("/admin/mail").get_data(as_text=True)
    assert "gone@example.org" in page and "550 no such user" in page
    assert "Published: &lt;Heat &amp; housing&gt;" in page
