"""Password reset by e-mail: a signed, expiring, single-use link that ends every other session."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select, update

from app.accounts import operations as accounts
from app.errors import Conflict
from app.extensions import db
from app.models import OutboxMessage, User
from app.web.auth import INVITATION_SALT
from tests import factories
from tests.conftest import Browser

NEW_PASSWORD = "a brand new passphrase"
SENT = "If an account exists for that address, we sent it a link to choose a new password."


def ask_for_reset(client, email: str):
    return Browser(client).post("/forgot-password", {"email": email})


def reset_rows() -> list[OutboxMessage]:
    db.session.rollback()  # see what the requests committed
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == accounts.RESET_KIND)))


def reset_path(email: str) -> str:
    """The link of the one reset e-mail queued for ``email``."""
    rows = [r for r in reset_rows() if r.to_email == email]
    assert len(rows) == 1, rows
    assert rows[0].path.startswith("/reset/")
    return rows[0].path


def set_password(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None,
                 form_page: str | None = None):
    """POST the new-password form; ``form_page`` gives the CSRF token when the link shows no form."""
    return Browser(client).post(path, {"password": password, "confirm": confirm or password},
                                form_page=form_page)


def can_log_in(app, email: str, password: str) -> bool:
    response = Browser(app.test_client()).post("/login", {"email": email, "password": password})
    return response.status_code == 302


def password_works(user_id: int, password: str) -> bool:
    from app.accounts.passwords import verify_password

    db.session.expire_all()
    return verify_password(db.session.get(User, user_id).password_hash, password)


def logged_in_as(client) -> str | None:
    with client.session_transaction() as sess:
        return sess.get("_user_id")


def tamper(token: str) -> str:
    middle = len(token) // 3
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]


def test_login_page_links_to_the_reset_form(app, client):
    """"Forgot your password?" on the login page leads to the e-mail form."""
    factories.admin()
    page = client.get("/login").get_data(as_text=True)
    assert '<a href="/forgot-password">Forgot your password?</a>' in page
    form = client.get("/forgot-password")
    assert form.status_code == 200 and 'name="email"' in form.get_data(as_text=True)


def test_reset_end_to_end_sets_the_password_and_ends_old_sessions(app):
    """E-mail form, outbox link, new password: logged in afresh, every older session logged out."""
    person = factories.admin()
    old_token = person.session_token
    phone = Browser(app.test_client())
    phone.login(person.email)
    stolen = phone.client.get_cookie("session", domain="concord.test").value

    visitor = app.test_client()
    response = ask_for_reset(visitor, person.email.upper())
    assert response.status_code == 200
    assert SENT in response.get_data(as_text=True)
    [row] = reset_rows()
    assert row.to_email == person.email and row.user_id == person.id and row.status == "pending"
    assert row.subject == "Reset your Concord password" and "works once" in row.body
    path = row.path

    form = visitor.get(path)
    assert form.status_code == 200
    assert person.email in form.get_data(as_text=True)
    response = set_password(visitor, path)
    assert response.status_code == 302 and response.location == "/"
    home = visitor.get("/").get_data(as_text=True)
    assert "Your new password is set. Every other session has been logged out." in home

    db.session.expire_all()
    fresh = db.session.get(User, person.id)
    assert logged_in_as(visitor) == fresh.get_id()
    assert fresh.session_token != old_token
    assert password_works(person.id, NEW_PASSWORD) and not password_works(person.id, factories.PASSWORD)
    assert phone.get("/account/").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen, domain="concord.test")
    assert thief.get("/account/").status_code == 302
    assert can_log_in(app, person.email, NEW_PASSWORD)


def test_reset_mail_is_delivered_with_the_full_link(app, runner):
    """`flask notifications send-due` sends the reset e-mail with the absolute link in it."""
    person = factories.admin()
    ask_for_reset(app.test_client(), person.email)
    path = reset_path(person.email)
    result = runner.invoke(args=["notifications", "send-due"])
    assert result.exit_code == 0 and "sent 1" in result.output, result.output
    assert [(r.status, r.path) for r in reset_rows()] == [("sent", "")]  # the link is not kept
    link = app.config["BASE_URL"] + path
    outbox = Path(app.instance_path) / "outbox"
    mails = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in outbox.glob("*.eml")]
    ours = [m for m in mails if m["To"] == person.email and m["Subject"] == "Reset your Concord password"
            and link in m.get_body(("plain",)).get_content()]
    assert len(ours) == 1


def test_unknown_address_gets_the_same_page_and_no_mail(app):
    """An address without an account gets the very same answer, and nothing is queued."""
    person = factories.admin()
    known = ask_for_reset(app.test_client(), person.email)
    unknown = ask_for_reset(app.test_client(), "nobody@example.org")
    malformed = ask_for_reset(app.test_client(), "not an address")
    assert known.status_code == unknown.status_code == malformed.status_code == 200
    assert known.get_data() == unknown.get_data() == malformed.get_data()
    assert [r.to_email for r in reset_rows()] == [person.email]


def test_deactivated_account_gets_no_mail_and_its_links_stop_working(app):
    """A deactivated account is treated as unknown: no mail, and an earlier link is refused."""
    person = factories.admin()
    ask_for_reset(app.test_client(), person.email)
    path = reset_path(person.email)
    db.session.get(User, person.id).active = False
    db.session.commit()
    ask_for_reset(app.test_client(), person.email)
    assert len(reset_rows()) == 1
    assert app.test_client().get(path).status_code == 404
    assert set_password(app.test_client(), path, form_page="/login").status_code == 404
    assert password_works(person.id, factories.PASSWORD)


def test_expired_link_is_refused_and_changes_nothing(app, monkeypatch):
    """A link older than PASSWORD_RESET_MAX_AGE gives a clear message and sets no password."""
    person = factories.admin()
    ask_for_reset(app.test_client(), person.email)
    path = reset_path(person.email)
    client = app.test_client()
    assert client.get(path).status_code == 200
    csrf_page = client.get(path).get_data(as_text=True)
    monkeypatch.setitem(app.config, "PASSWORD_RESET_MAX_AGE", -1)
    response = client.get(path)
    assert response.status_code == 409
    assert "This password-reset link has expired. Ask for a new one." in response.get_data(as_text=True)
    csrf = csrf_page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": csrf})
    assert response.status_code == 409
    assert password_works(person.id, factories.PASSWORD) and logged_in_as(client) is None


@pytest.mark.parametrize("forge", ["tampered", "other_salt", "other_key"])
def test_forged_link_is_not_found_and_changes_nothing(app, forge):
    """A changed token, or one signed for invitations or with another key, is refused."""
    person = factories.admin()
    ask_for_reset(app.test_client(), person.email)
    token = reset_path(person.email).rsplit("/", 1)[1]
    payload = {"u": person.id, "f": accounts.password_fingerprint(db.session.get(User, person.id))}
    bad = {
        "tampered": lambda: tamper(token),
        "other_salt": lambda: URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=INVITATION_SALT).dumps(payload),
        "other_key": lambda: URLSafeTimedSerializer("another secret", salt="concord-password-reset").dumps(payload),
    }[forge]()
    client = app.test_client()
    response = client.get(f"/reset/{bad}")
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)
    response = Browser(client).post(f"/reset/{bad}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                                    form_page="/login")
    assert response.status_code == 404
    assert password_works(person.id, factories.PASSWORD) and logged_in_as(client) is None


def test_link_works_only_once(app):
    """Once used, the link is refused with a clear message, and a replayed form changes nothing."""
    person = factories.admin()
    ask_for_reset(app.test_client(), person.email)
    path = reset_path(person.email)
    second_tab = app.test_client()
    second_tab_page = second_tab.get(path).get_data(as_text=True)
    assert set_password(app.test_client(), path).status_code == 302

    again = app.test_client().get(path)
    assert again.status_code == 409
    assert "already been used" in again.get_data(as_text=True)
    csrf = second_tab_page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    replay = second_tab.post(path, data={"password": "yet another passphrase",
                                         "confirm": "yet another passphrase", "csrf_token": csrf})
    assert replay.status_code == 409
    assert password_works(person.id, NEW_PASSWORD)
    assert logged_in_as(second_tab) is None


@pytest.mark.parametrize("change", ["password_change", "logout"])
def test_link_dies_when_the_password_or_session_token_changes(app, change):
    """A link asked for before a password change, or a logout, no longer works."""
    person = factories.admin()
    ask_for_reset(app.test_client(), person.email)
    path = reset_path(person.email)
    browser = Browser(app.test_client())
    browser.login(person.email)
    if change == "logout":
        browser.post("/logout", form_page="/")
    else:
        browser.post("/account/password", {"pw-current_password": factories.PASSWORD,
                                           "pw-password": "changed on the account page",
                                           "pw-confirm": "changed on the account page"}, form_page="/account/")
    response = app.test_client().get(path)
    assert response.status_code == 409 and "already been used" in response.get_data(as_text=True)
    assert set_password(app.test_client(), path, form_page="/login").status_code == 409
    assert not password_works(person.id, NEW_PASSWORD)


def test_a_newer_link_does_not_revive_an_older_one_after_use(app):
    """Two links asked for in a row: using either one spends both."""
    person = factories.admin()
    ask_for_reset(app.test_client(), person.email)
    ask_for_reset(app.test_client(), person.email)
    first, second = (r.path for r in reset_rows())
    assert set_password(app.test_client(), second).status_code == 302
    assert app.test_client().get(first).status_code == 409


def test_mismatched_passwords_change_nothing_and_keep_the_link(app):
    """A form error shows on the page; the password stays and the link still works afterwards."""
    person = factories.admin()
    ask_for_reset(app.test_client(), person.email)
    path = reset_path(person.email)
    client = app.test_client()
    response = set_password(client, path, NEW_PASSWORD, "something else entirely")
    assert response.status_code == 200
    assert "The two passwords differ." in response.get_data(as_text=True)
    short = set_password(client, path, "short", "short")
    assert "At least 10 characters." in short.get_data(as_text=True)
    assert password_works(person.id, factories.PASSWORD) and logged_in_as(client) is None
    assert set_password(client, path).status_code == 302


def test_reset_starts_a_fresh_session(app):
    """Whatever the browser's session held before the reset does not survive it."""
    person = factories.admin()
    ask_for_reset(app.test_client(), person.email)
    path = reset_path(person.email)
    client = app.test_client()
    client.get(path)
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    set_password(client, path)
    with client.session_transaction() as sess:
        assert "planted" not in sess and sess["_user_id"].startswith(f"{person.id}:")


def test_reset_rule_changes_the_password_once_even_from_a_stale_read(app):
    """The conditional update refuses a second reset made from a read taken before the first one."""
    person = factories.admin()
    user = db.session.get(User, person.id)
    fingerprint = accounts.password_fingerprint(user)
    db.session.execute(update(User).where(User.id == person.id).values(session_token="0" * 32)
                       .execution_options(synchronize_session=False))  # another request got there first
    with pytest.raises(Conflict):
        accounts.reset_password(user, fingerprint, NEW_PASSWORD)
    db.session.rollback()
    assert password_works(person.id, factories.PASSWORD)
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
