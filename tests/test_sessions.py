"""Sessions: cookie flags, a fresh session at login, logout and password changes ending sessions."""

from __future__ import annotations

from app.extensions import db
from app.models import User
from tests import factories
from tests.conftest import Browser

NEW_PASSWORD = "a brand new passphrase"
HOST = "concord.test"


def cookie(client, name="session"):
    return client.get_cookie(name, domain=HOST)


def set_cookie_header(response, name="session") -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    assert headers, f"no {name} cookie set"
    return headers[-1]


def user_id_in(client) -> str | None:
    with client.session_transaction() as sess:
        return sess.get("_user_id")


def change_password(browser) -> None:
    response = browser.post("/account/password", {
        "pw-current_password": factories.PASSWORD, "pw-password": NEW_PASSWORD, "pw-confirm": NEW_PASSWORD,
    }, form_page="/account/")
    assert response.status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax_and_not_secure_over_http(app, browser):
    """Over plain http (development) the cookie is HttpOnly and SameSite=Lax, without Secure."""
    person = factories.admin()
    header = set_cookie_header(browser.login(person.email))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header
    stored = cookie(browser.client)
    assert stored.http_only and stored.same_site == "Lax" and not stored.secure


def test_cookies_are_secure_when_session_cookie_secure_is_set(app, monkeypatch):
    """With SESSION_COOKIE_SECURE (behind https) the session and remember cookies carry Secure."""
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    monkeypatch.setitem(app.config, "REMEMBER_COOKIE_SECURE", True)
    person = factories.admin()
    client = app.test_client()
    https = {"base_url": f"https://{HOST}"}
    page = client.get("/login", **https).get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    response = client.post("/login", data={"email": person.email, "password": factories.PASSWORD,
                                           "remember": "y", "csrf_token": csrf},
                           headers={"Referer": f"https://{HOST}/login"}, **https)
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        header = set_cookie_header(response, name)
        assert "Secure" in header and "HttpOnly" in header, header
    assert "SameSite=Lax" in set_cookie_header(response, "session")
    assert client.get("/account/", **https).status_code == 200


def test_login_replaces_the_anonymous_session(app, browser):
    """Whatever the session held before login is gone after it, and the old cookie logs nobody in."""
    person = factories.admin()
    browser.get("/login")
    with browser.client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    before = cookie(browser.client).value
    browser.login(person.email)
    after = cookie(browser.client).value
    assert after != before
    with browser.client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"] == person.get_id()
    attacker = app.test_client()
    attacker.set_cookie("session", before, domain=HOST)
    assert attacker.get("/account/").status_code == 302
    assert user_id_in(attacker) is None


def test_login_renews_the_csrf_secret(app, browser):
    """A CSRF token read before login is not accepted after it (it belonged to the old session)."""
    person = factories.admin()
    page = browser.get("/login").get_data(as_text=True)
    old_token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    browser.login(person.email)
    response = browser.client.post("/account/tokens", data={"tok-name": "sneaky", "csrf_token": old_token})
    assert response.status_code == 400


def test_logout_makes_a_copied_session_cookie_useless(app, browser):
    """A copy of the session cookie taken before logout no longer logs anyone in."""
    person = factories.admin()
    browser.login(person.email)
    copied = cookie(browser.client).value
    thief = app.test_client()
    thief.set_cookie("session", copied, domain=HOST)
    assert thief.get("/account/").status_code == 200  # the copy works while the session lives

    browser.post("/logout", form_page="/")
    assert user_id_in(browser.client) is None
    replay = app.test_client()
    replay.set_cookie("session", copied, domain=HOST)
    response = replay.get("/account/")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert thief.get("/account/").status_code == 302


def test_logout_makes_a_copied_remember_cookie_useless(app, browser):
    """A copied "keep me logged in" cookie stops working once its owner logs out."""
    person = factories.admin()
    browser.post("/login", {"email": person.email, "password": factories.PASSWORD, "remember": "y"})
    remembered = cookie(browser.client, "remember_token").value
    before = app.test_client()
    before.set_cookie("remember_token", remembered, domain=HOST)
    assert before.get("/account/").status_code == 200

    browser.post("/logout", form_page="/")
    after = app.test_client()
    after.set_cookie("remember_token", remembered, domain=HOST)
    assert after.get("/account/").status_code == 302
    assert Browser(app.test_client()).login(person.email).status_code == 302  # logging in again works


def test_password_change_ends_other_sessions_and_remembered_logins(app, browser):
    """After a password change through the web, other sessions and remember cookies are logged out."""
    person = factories.admin()
    browser.login(person.email)
    laptop = Browser(app.test_client())
    laptop.post("/login", {"email": person.email, "password": factories.PASSWORD, "remember": "y"})
    remembered = cookie(laptop.client, "remember_token").value
    assert laptop.get("/account/").status_code == 200

    change_password(browser)
    assert browser.get("/account/").status_code == 200
    assert laptop.get("/account/").status_code == 302
    stale = app.test_client()
    stale.set_cookie("remember_token", remembered, domain=HOST)
    assert stale.get("/account/").status_code == 302
    db.session.expire_all()
    assert browser.client.get("/", follow_redirects=True).status_code == 200
    assert user_id_in(browser.client) == db.session.get(User, person.id).get_id()


def test_session_is_not_permanent_without_remember(app, browser):
    """Without "keep me logged in" the session cookie ends with the browser (no Expires)."""
    person = factories.admin()
    response = browser.login(person.email)
    header = set_cookie_header(response)
    assert "Expires=" not in header and "Max-Age" not in header


def test_a_tampered_or_expired_session_cookie_is_refused(app, browser):
    """A session cookie that differs in one byte of its signature, or is older than the session's
    lifetime, logs nobody in."""
    from datetime import timedelta

    person = factories.admin()
    browser.login(person.email)
    good = cookie(browser.client).value
    assert browser.client.get("/account/").status_code == 200

    # One character of the signature changed: its first, whose six bits all count (the last one's do not).
    body, signature = good.rsplit(".", 1)
    tampered = f"{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    browser.client.set_cookie("session", tampered, domain=HOST)
    assert browser.client.get("/account/").status_code == 302  # to the login page: not signed

    browser.client.set_cookie("session", good, domain=HOST)
    assert browser.client.get("/account/").status_code == 200
    lifetime = app.permanent_session_lifetime
    app.permanent_session_lifetime = timedelta(seconds=-1)  # every cookie is now too old
    try:
        assert browser.client.get("/account/").status_code == 302
    finally:
        app.permanent_session_lifetime = lifetime
