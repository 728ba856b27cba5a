"""Security headers on every page, and the flags of the session and remember-me cookies.

Every GET route without URL parameters is enumerated from the app's URL map, and the
routes with parameters are visited with real data (a statement through amendments,
signing and publication); each is fetched anonymously and as a platform admin, over
http and https. Every response, redirects and error pages included, must carry the
headers.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.accounts import operations as accounts
from app.amending import operations as amending
from app.drafting import operations as drafting
from app.extensions import db
from app.models import Publication
from app.publishing import publication as publishing
from app.signing import operations as signing
from tests import factories
from tests.conftest import CSRF_RE, Browser

HSTS = "max-age=31536000; includeSubDomains"
HTTPS = "https://concord.test"


def _plain_get_routes(app) -> list[str]:
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and not rule.arguments})


@pytest.fixture
def site(app, admin, now):
    """A draft, an amended statement and a published one; returns the URLs with parameters."""
    a = factories.organisation("Harbour Workers' Union", slug="hwu", short_name="HWU")
    b = factories.organisation("Green Valley Alliance", slug="gva")
    coordinator = factories.member(a, "delegate", "signatory")
    del_b = factories.member(b, "delegate", "signatory")
    draft = factories.statement(coordinator, a, participants=[b], title="A Draft")
    statement = factories.statement(coordinator, a, participants=[b], title="On Ferries")
    amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=now)
    db.session.commit()
    para = drafting.live_paragraphs(statement)[0]
    amendment = amending.propose(statement, del_b, b, kind="modify", paragraph_id=para.id,
                                 text="Ferries <script>alert(1)</script> run.", now=now)
    db.session.commit()
    amending.accept(amendment, coordinator, text_version=amendment.text_version,
                    now=now + timedelta(minutes=1))
    db.session.commit()
    published = factories.statement(coordinator, a, participants=[b], title="Published Words")
    amending.open_for_amendments(published, coordinator, rule="coordinator", deadline=None, now=now)
    signing.freeze(published, coordinator, now=now)
    db.session.commit()
    for user, org in ((coordinator, a), (del_b, b)):
        signing.sign(published, user, org, signer_name=user.name, signer_title="Secretary", authorised=True,
                     password=factories.PASSWORD, version_sha256=published.frozen_version.sha256, now=now)
        db.session.commit()
    publishing.publish(published, coordinator, publication_date=now.date(), now=now)
    db.session.commit()
    slug = db.session.scalar(select(Publication.slug).where(Publication.statement_id == published.id))
    s, d, p = statement.id, draft.id, para.id
    return [
        f"/statements/{s}", f"/statements/{s}/history", f"/statements/{s}/versions/2",
        f"/statements/{s}/versions/2.txt", f"/statements/{s}/compare?a=1&b=2", f"/statements/{s}/blame",
        f"/statements/{s}/amendments", f"/statements/{s}/amendments/new", f"/statements/{s}/audit",
        f"/statements/{s}/paragraphs/{p}/history", f"/amendments/{amendment.id}",
        f"/amendments/{amendment.id}/edit", f"/statements/{d}/paragraphs/new", f"/statements/{d}/title",
        f"/statements/{published.id}/sign", f"/statements/{published.id}/endorsements",
        "/o/hwu", "/o/hwu/members", "/o/hwu/edit", "/o/hwu/feed.atom",
        f"/p/{slug}", f"/p/{slug}.txt", f"/p/{slug}.md", f"/p/{slug}.json", f"/p/{slug}.pdf",
        f"/p/{slug}.docx", f"/p/{slug}/certificate",
        f"/api/v1/statements/{s}", f"/api/v1/statements/{s}/versions/2", f"/api/v1/amendments/{amendment.id}",
        "/invitations/not-a-real-token", "/statements/999999", "/no/such/page",
    ]


def _csp(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def _problems(path: str, response, *, https: bool) -> list[str]:
    """Everything wrong with one response's security headers."""
    h = response.headers
    found = []
    if response.status_code >= 500:
        found.append(f"status {response.status_code}")
    if h.get("X-Content-Type-Options") != "nosniff":
        found.append("X-Content-Type-Options")
    if h.get("Referrer-Policy") not in ("same-origin", "strict-origin-when-cross-origin", "no-referrer"):
        found.append("Referrer-Policy")
    if h.get("X-Frame-Options") != "DENY":
        found.append("X-Frame-Options")
    csp = _csp(response)
    if csp.get("default-src") != ["'self'"]:
        found.append(f"CSP default-src {csp.get('default-src')}")
    if csp.get("frame-ancestors") != ["'none'"]:
        found.append(f"CSP frame-ancestors {csp.get('frame-ancestors')}")
    policy = h.get("Content-Security-Policy", "")
    for unsafe in ("'unsafe-inline'", "'unsafe-eval'", "*"):
        if unsafe in policy.split():
            found.append(f"CSP allows {unsafe}")
    if https and h.get("Strict-Transport-Security") != HSTS:
        found.append(f"HSTS over https: {h.get('Strict-Transport-Security')!r}")
    if not https and "Strict-Transport-Security" in h:
        found.append("HSTS over http")
    return [f"{path}: {p}" for p in found]


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
@pytest.mark.parametrize("as_admin", [False, True], ids=["anonymous", "admin"])
def test_every_page_carries_the_security_headers(app, client, site, admin, as_admin, https):
    """Every GET route (plain and with data), as anonymous and as admin: all headers present."""
    plain = _plain_get_routes(app)
    assert {"/", "/login", "/statements/", "/o/", "/api/v1/statements"} <= set(plain)
    api_headers = {}
    if as_admin:
        Browser(client).login(admin.email)
        _, clear = accounts.create_api_token(admin, "headers test")
        db.session.commit()
        api_headers = {"Authorization": f"Bearer {clear}"}
    problems, seen = [], 0
    for path in plain + site:
        response = client.get(path, base_url=HTTPS if https else "http://concord.test",
                              headers=api_headers if path.startswith("/api/") else {})
        if as_admin and path == "/api/v1/statements":
            assert response.status_code == 200  # the API's own responses are covered, not only its 401s
        seen += 1
        problems += _problems(path, response, https=https)
    assert seen >= 45
    assert problems == []


def test_error_responses_and_api_errors_carry_the_headers_too(app, client):
    """A 404 page, a 405 and an API 401 are covered as well as ordinary pages."""
    factories.admin()
    for method, path in (("get", "/nowhere"), ("delete", "/login"), ("get", "/api/v1/statements/1")):
        response = getattr(client, method)(path, base_url=HTTPS)
        assert response.status_code in (401, 403, 404, 405)
        assert _problems(path, response, https=True) == []


def test_security_headers_do_not_replace_a_stricter_route_choice(app):
    """A response that set its own header keeps it (setdefault), so a route can tighten the policy."""
    with app.test_request_context("/", base_url=HTTPS):
        response = app.process_response(app.make_response(("x", 200, {"Referrer-Policy": "no-referrer"})))
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Strict-Transport-Security"] == HSTS


# --- cookies ------------------------------------------------------------------------------


def _cookie(response, name: str) -> dict[str, str | bool]:
    """The attributes of the Set-Cookie header for ``name`` (lower-cased keys)."""
    for header in response.headers.getlist("Set-Cookie"):
        first, *attrs = [part.strip() for part in header.split(";")]
        if first.split("=", 1)[0] == name:
            parsed: dict[str, str | bool] = {}
            for attr in attrs:
                key, _, value = attr.partition("=")
                parsed[key.lower()] = value or True
            return parsed
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.getlist('Set-Cookie')}")


def _login(client, email: str, *, base_url: str):
    page = client.get("/login", base_url=base_url)
    token = CSRF_RE.search(page.get_data(as_text=True))
    assert token, page.status_code
    # Over https Flask-WTF also checks the Referer is this site, as a browser sends it.
    return client.post("/login", base_url=base_url, headers={"Referer": f"{base_url}/login"}, data={
        "csrf_token": token.group(1), "email": email, "password": factories.PASSWORD, "remember": "y"})


def test_session_and_remember_cookies_are_httponly_and_lax(app, client, admin):
    """Logging in sets both cookies HttpOnly and SameSite=Lax, without Secure when it is off."""
    response = _login(client, admin.email, base_url="http://concord.test")
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        attrs = _cookie(response, name)
        assert attrs.get("httponly") is True, name
        assert attrs.get("samesite") == "Lax", name
        assert "secure" not in attrs, name


def test_cookies_are_secure_when_session_cookie_secure_is_on(app, client, admin, monkeypatch):
    """With SESSION_COOKIE_SECURE (and so REMEMBER_COOKIE_SECURE) on, both cookies are Secure."""
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    monkeypatch.setitem(app.config, "REMEMBER_COOKIE_SECURE", True)
    response = _login(client, admin.email, base_url=HTTPS)
    assert response.status_code == 302
    for name in ("session", "remember_token"):
        attrs = _cookie(response, name)
        assert attrs.get("secure") is True, name
        assert attrs.get("httponly") is True, name
        assert attrs.get("samesite") == "Lax", name


@pytest.mark.parametrize("value, expected", [("true", "True True"), ("", "False False")])
def test_session_cookie_secure_setting_also_secures_the_remember_cookie(value, expected):
    """SESSION_COOKIE_SECURE from the environment drives both cookie flags in Config."""
    env = {"SESSION_COOKIE_SECURE": value, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c",
         "from config import Config; print(Config.SESSION_COOKIE_SECURE, Config.REMEMBER_COOKIE_SECURE)"],
        cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, text=True, check=True,
    )
    assert done.stdout.strip() == expected


def test_security_txt_names_the_configured_contact(app, client):
    """RFC 9116: Contact and an Expires less than a year ahead; no contact configured, no file."""
    from datetime import UTC, datetime, timedelta

    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    fields = dict(line.split(": ", 1) for line in response.get_data(as_text=True).splitlines())
    assert fields["Contact"] == "mailto:security@concord.test"
    expires = datetime.fromisoformat(fields["Expires"].replace("Z", "+00:00"))
    assert datetime.now(UTC) < expires < datetime.now(UTC) + timedelta(days=365)
    app.config["SECURITY_CONTACT"] = ""
    try:
        assert client.get("/.well-known/security.txt").status_code == 404
    finally:
        app.config["SECURITY_CONTACT"] = "mailto:security@concord.test"
