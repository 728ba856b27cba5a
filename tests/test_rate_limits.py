"""Rate limits on logging in, password-reset requests and signing, in memory and in a real Redis.

TestConfig keeps the limiter on for the whole suite with generous limits (every test request
comes from 127.0.0.1). The tests here put the real limits in place and start from empty counters.
The Redis tests talk to the server on 127.0.0.1:6379, each under its own key prefix that is
deleted afterwards; without that server they are skipped, except under CI=true where they fail.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app import create_app
from app.accounts import operations as accounts
from app.amending import operations as amending
from app.extensions import db
from app.models import OutboxMessage, Signature
from app.rate_limits import LIMITS, limiter_for
from app.signing import operations as signing
from config import TestConfig
from tests import factories
from tests.conftest import Browser, IsolatedClient

REDIS_URI = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"
WRONG = "not the password at all"

# The limits a deployment gets by default (config.Config), written out so that a change shows here.
REAL_LIMITS = {
    "RATELIMIT_LOGIN_PER_ACCOUNT": "10/minute",
    "RATELIMIT_LOGIN_PER_IP": "30/minute",
    "RATELIMIT_RESET_PER_ACCOUNT": "5/hour",
    "RATELIMIT_RESET_PER_IP": "20/hour",
    "RATELIMIT_SIGN_PER_USER": "5/minute",
    "RATELIMIT_SIGN_PER_IP": "30/minute",
}


@pytest.fixture
def limits(app, monkeypatch):
    """The real limits on the shared test app, with counters emptied before and after."""
    for name, value in REAL_LIMITS.items():
        monkeypatch.setitem(app.config, name, value)
    limiter_for(app).reset()
    yield app
    limiter_for(app).reset()


def redis_or_skip() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URI, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"CI=true but Redis at {REDIS_URI} is unreachable ({exc}): Redis tests are mandatory.")
        pytest.skip(f"Redis tests skipped: no Redis server at {REDIS_URI} ({exc}).")
    return REDIS_URI


@pytest.fixture
def make_app(app):
    """Build more apps on the test database (as more app servers would be), with the real limits."""
    made = []

    def build(**overrides):
        config = {**REAL_LIMITS, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                  "INSTANCE_PATH": app.instance_path, **overrides}
        other = create_app(TestConfig, **config)
        other.test_client_class = IsolatedClient
        made.append(other)
        return other

    yield build
    for other in made:
        with other.app_context():
            if other.config["RATELIMIT_ENABLED"]:
                try:
                    limiter_for(other).reset()
                except Exception:  # an unreachable storage has nothing to clean
                    pass
            db.engine.dispose()


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the real Redis, and every key under it deleted after."""
    import redis

    uri = redis_or_skip()
    prefix = f"concord-test-{uuid.uuid4().hex}"
    yield prefix
    server = redis.Redis.from_url(uri)
    keys = list(server.scan_iter(f"{prefix}:*"))
    if keys:
        server.delete(*keys)


def login(client, email, password=factories.PASSWORD, ip="127.0.0.1"):
    """One login attempt as a browser would send it (GET the form for its CSRF token, then POST)."""
    browser = Browser(client)
    return browser.post("/login", {"email": email, "password": password},
                        environ_base={"REMOTE_ADDR": ip})


def logged_in(client) -> bool:
    with client.session_transaction() as sess:
        return "_user_id" in sess


def assert_limited_page(response):
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many attempts" in page and "wait a minute" in page
    assert 1 <= int(response.headers["Retry-After"]) <= 60


# --- logging in ---------------------------------------------------------------------------------


def test_eleventh_login_for_one_account_is_refused_even_with_the_right_password(limits):
    """Ten attempts a minute per account; the eleventh gets the 429 page and no session."""
    person = factories.admin()
    client = limits.test_client()
    for _ in range(10):
        response = login(client, person.email, WRONG)
        assert response.status_code == 200
        assert "The e-mail or the password is not correct." in response.get_data(as_text=True)
    response = login(client, person.email)
    assert_limited_page(response)
    assert not logged_in(client)
    assert client.get("/login").status_code == 200  # the page itself is not limited
    assert client.get("/account/").status_code == 302


def test_account_limit_counts_the_normalised_address_from_any_ip(limits):
    """Spelling the address differently or coming from other addresses does not reset the count."""
    person = factories.admin()
    spellings = [person.email, person.email.upper(), f"  {person.email} ", person.email.title()]
    for n in range(10):
        response = login(limits.test_client(), spellings[n % 4], WRONG, ip=f"198.51.100.{n}")
        assert response.status_code == 200
    response = login(limits.test_client(), person.email, ip="203.0.113.7")
    assert_limited_page(response)


def test_other_accounts_from_the_same_ip_work_until_the_ip_limit(limits):
    """One account's spent budget leaves others alone; the 31st attempt from one address is refused."""
    factories.admin()
    target = factories.user()
    for _ in range(10):
        login(limits.test_client(), target.email, WRONG)
    others = [factories.user() for _ in range(3)]
    for person in others:
        client = limits.test_client()
        assert login(client, person.email).status_code == 302
        assert logged_in(client)
    # 13 attempts so far from 127.0.0.1; 17 more wrong ones on the other accounts reach 30.
    for n in range(17):
        assert login(limits.test_client(), others[n % 3].email, WRONG).status_code == 200
    client = limits.test_client()
    assert_limited_page(login(client, others[0].email))
    assert not logged_in(client)
    # Another address is not held back by this one's count.
    assert login(limits.test_client(), others[1].email, ip="192.0.2.50").status_code == 302


def test_counts_live_in_the_storage_and_reset_with_it(limits):
    """Emptying the limiter's storage lets the account log in again (nothing is kept elsewhere)."""
    person = factories.admin()
    for _ in range(10):
        login(limits.test_client(), person.email, WRONG)
    assert login(limits.test_client(), person.email).status_code == 429
    limiter_for(limits).reset()
    assert login(limits.test_client(), person.email).status_code == 302


def test_a_disabled_limiter_limits_nothing(app, make_app):
    """RATELIMIT_ENABLED=false switches the limits off for that app only."""
    person = factories.admin()
    other = make_app(RATELIMIT_ENABLED=False, RATELIMIT_LOGIN_PER_ACCOUNT="1/minute")
    for _ in range(3):
        assert login(other.test_client(), person.email, WRONG).status_code == 200
    assert login(other.test_client(), person.email).status_code == 302


def test_an_unreachable_storage_lets_logins_through_when_errors_are_swallowed(app, make_app):
    """With RATELIMIT_SWALLOW_ERRORS (the default) a dead Redis does not lock everyone out."""
    person = factories.admin()
    other = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", RATELIMIT_SWALLOW_ERRORS=True,
                     RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1})
    client = other.test_client()
    assert login(client, person.email).status_code == 302
    assert logged_in(client)


# --- password-reset requests ------------------------------------------------------------------------


def request_reset(client, email, ip="127.0.0.1"):
    return Browser(client).post("/forgot-password", {"email": email}, environ_base={"REMOTE_ADDR": ip})


def outbox_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.kind == accounts.RESET_KIND))


def test_sixth_reset_request_for_one_address_is_refused_and_sends_nothing(limits):
    """Five reset mails an hour per address; the sixth request gets 429 and no outbox row."""
    person = factories.admin()
    for n in range(5):
        assert request_reset(limits.test_client(), person.email.upper(), ip=f"198.51.100.{n}").status_code == 200
    assert outbox_count() == 5
    response = request_reset(limits.test_client(), person.email)
    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)
    assert outbox_count() == 5


def test_reset_requests_are_limited_per_ip(limits):
    """Twenty reset requests an hour from one address, whichever e-mails they name."""
    person = factories.admin()
    for n in range(20):
        assert request_reset(limits.test_client(), f"nobody{n}@example.org").status_code == 200
    response = request_reset(limits.test_client(), person.email)
    assert response.status_code == 429
    assert outbox_count() == 0
    assert request_reset(limits.test_client(), person.email, ip="192.0.2.9").status_code == 200
    assert outbox_count() == 1


# --- signing ------------------------------------------------------------------------------------------


class SigningWorld:
    """One statement frozen for signing by two organisations, each with a signatory."""

    def __init__(self):
        now = datetime.now(UTC)
        factories.admin()
        self.org_a = factories.organisation("Harbour Workers Union", slug="hwu")
        self.org_b = factories.organisation("Green Valleys Alliance", slug="gva")
        coordinator = factories.member(self.org_a, "delegate")
        self.sig_a = factories.member(self.org_a, "signatory", name="Hana Harbour")
        self.sig_b = factories.member(self.org_b, "signatory", name="Gus Green")
        statement = factories.statement(coordinator, self.org_a, participants=[self.org_b])
        amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=now)
        signing.freeze(statement, coordinator, now=now)
        db.session.commit()
        self.sid = statement.id
        self.sha = statement.frozen_version.sha256

    def web_sign(self, browser, org, password=factories.PASSWORD, ip="127.0.0.1"):
        path = f"/statements/{self.sid}/sign"
        return browser.post(path, {"organisation": str(org.id), "signer_name": "Someone",
                                   "signer_title": "Chair", "authorised": "y", "password": password,
                                   "version_sha256": self.sha}, environ_base={"REMOTE_ADDR": ip})

    def api_sign(self, client, token, org, password=factories.PASSWORD):
        return client.post(f"/api/v1/statements/{self.sid}/signatures",
                           headers={"Authorization": f"Bearer {token}"},
                           json={"organisation": org.slug, "signer_name": "Someone", "signer_title": "Chair",
                                 "authorised": True, "password": password, "version_sha256": self.sha})

    @staticmethod
    def signatures() -> int:
        db.session.rollback()
        return db.session.scalar(select(func.count()).select_from(Signature))


def test_sixth_sign_attempt_in_a_minute_is_refused_even_with_the_right_password(limits):
    """Five mistyped passwords, then the right one: 429, and no signature is recorded."""
    world = SigningWorld()
    browser = Browser(limits.test_client())
    browser.login(world.sig_a.email)
    for _ in range(5):
        response = world.web_sign(browser, world.org_a, WRONG)
        assert response.status_code == 422
    response = world.web_sign(browser, world.org_a)
    assert_limited_page(response)
    assert world.signatures() == 0
    assert browser.get(f"/statements/{world.sid}/sign").status_code == 200  # reading is not limited


def test_web_and_api_share_one_budget_per_person(limits):
    """Attempts through the web and the API count together; the API answers with JSON 429."""
    world = SigningWorld()
    browser = Browser(limits.test_client())
    browser.login(world.sig_a.email)
    _, token = accounts.create_api_token(world.sig_a, "script")
    db.session.commit()
    api = limits.test_client()
    for _ in range(3):
        assert world.web_sign(browser, world.org_a, WRONG).status_code == 422
    for _ in range(2):
        assert world.api_sign(api, token, world.org_a, WRONG).status_code == 422
    response = world.api_sign(api, token, world.org_a)
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited" and "wait a minute" in error["message"]
    assert world.signatures() == 0
    # Another signatory is not held back by this person's attempts.
    other = Browser(limits.test_client())
    other.login(world.sig_b.email)
    assert world.web_sign(other, world.org_b).status_code == 302
    assert world.signatures() == 1


def test_sign_attempts_are_limited_per_ip(limits, monkeypatch):
    """Past the per-address limit, another person from the same address is refused too."""
    monkeypatch.setitem(limits.config, "RATELIMIT_SIGN_PER_IP", "2/minute")
    world = SigningWorld()
    first = Browser(limits.test_client())
    first.login(world.sig_a.email)
    second = Browser(limits.test_client())
    second.login(world.sig_b.email)
    assert world.web_sign(first, world.org_a, WRONG).status_code == 422
    assert world.web_sign(first, world.org_a, WRONG).status_code == 422
    assert world.web_sign(second, world.org_b).status_code == 429
    assert world.web_sign(second, world.org_b, ip="192.0.2.77").status_code == 302
    assert world.signatures() == 1


# --- Redis: counts shared between app servers -------------------------------------------------------------


def test_redis_eleventh_login_is_refused_and_counted_under_the_prefix(app, make_app, redis_prefix):
    """With Redis storage the limit holds, and its counters are keys under the configured prefix."""
    import redis

    person = factories.admin()
    server_app = make_app(RATELIMIT_STORAGE_URI=REDIS_URI, RATELIMIT_STORAGE_PREFIX=redis_prefix)
    for _ in range(10):
        assert login(server_app.test_client(), person.email, WRONG).status_code == 200
    client = server_app.test_client()
    assert_limited_page(login(client, person.email))
    assert not logged_in(client)
    keys = list(redis.Redis.from_url(REDIS_URI).scan_iter(f"{redis_prefix}:*"))
    assert keys, "no rate-limit counters were written to Redis under the test's prefix"


def test_two_apps_sharing_redis_share_counts(app, make_app, redis_prefix):
    """Attempts alternated between two app servers add up: the 11th is refused on either."""
    person = factories.admin()
    shared = {"RATELIMIT_STORAGE_URI": REDIS_URI, "RATELIMIT_STORAGE_PREFIX": redis_prefix}
    one, two = make_app(**shared), make_app(**shared)
    assert limiter_for(one).storage is not limiter_for(two).storage
    for n in range(10):
        server = one if n % 2 else two
        assert login(server.test_client(), person.email, WRONG).status_code == 200
    for server in (one, two):
        client = server.test_client()
        assert login(client, person.email).status_code == 429
        assert not logged_in(client)


def test_two_apps_with_memory_storage_count_apart(app, make_app):
    """The contrast: with per-process memory storage each server keeps its own count."""
    person = factories.admin()
    one, two = make_app(), make_app()
    for n in range(10):
        server = one if n % 2 else two
        login(server.test_client(), person.email, WRONG)
    assert login(one.test_client(), person.email).status_code == 302
    assert login(two.test_client(), person.email).status_code == 302


def test_redis_sign_attempts_are_shared_between_apps(app, make_app, redis_prefix):
    """Sign attempts through the API on two servers sharing Redis add up to one budget."""
    world = SigningWorld()
    _, token = accounts.create_api_token(world.sig_a, "script")
    db.session.commit()
    shared = {"RATELIMIT_STORAGE_URI": REDIS_URI, "RATELIMIT_STORAGE_PREFIX": redis_prefix}
    one, two = make_app(**shared), make_app(**shared)
    for n in range(5):
        server = one if n % 2 else two
        assert world.api_sign(server.test_client(), token, world.org_a, WRONG).status_code == 422
    response = world.api_sign(one.test_client(), token, world.org_a)
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert world.signatures() == 0


def test_every_limit_counts_posts_only():
    """Each declared limit counts POSTs, never the pages that show the forms."""
    assert {name for name in LIMITS} == {"login", "reset", "sign", "propose"}
    from app.rate_limits import METHODS

    assert set(METHODS) == {"POST", "PUT"}


def test_every_limited_view_is_wrapped_once_per_app(app, make_app):
    """Each app puts its own limiter's limits on the marked views; the module's functions stay bare."""
    from app.web import auth

    other = make_app()
    assert app.view_functions["auth.login"] is not auth.login
    assert other.view_functions["auth.login"] is not app.view_functions["auth.login"]
    assert limiter_for(other) is not limiter_for(app)
    marked = {endpoint for endpoint, view in app.view_functions.items() if getattr(view, "concord_limits", None)}
    assert marked == {"auth.login", "auth.forgot_password", "signing.sign", "api.sign", "amendments.propose",
                      "amendments.edit", "api.propose", "api.edit_amendment", "amendments.suggest", "api.suggest"}


def test_pages_with_limited_forms_are_not_counted(limits, monkeypatch):
    """Showing the login and reset forms any number of times spends nothing of the POST budget."""
    monkeypatch.setitem(limits.config, "RATELIMIT_LOGIN_PER_IP", "2/minute")
    monkeypatch.setitem(limits.config, "RATELIMIT_RESET_PER_IP", "1/minute")
    person = factories.admin()
    client = limits.test_client()
    for _ in range(12):
        assert client.get("/login").status_code == 200
        assert client.get("/forgot-password").status_code == 200
        assert client.head("/login").status_code == 200
    assert login(limits.test_client(), person.email).status_code == 302
    assert request_reset(limits.test_client(), person.email).status_code == 200
