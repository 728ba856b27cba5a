"""Browser tests: Playwright drives Debian's Chromium against a real gunicorn server.

Every test here is marked ``browser``. Without /usr/bin/chromium or the playwright package they are
skipped with the reason, except under ``CI=true``, where they fail: CI installs Chromium.

One gunicorn server (2 workers, fresh SQLite database) serves the whole session. The first platform
admin comes from the setup page once (the ``world`` fixture); every journey then builds what it
needs through the pages, as its users would, in a fresh browser context per person.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser import server

IN_CI = os.environ.get("CI", "") == "true"
HERE = Path(__file__).resolve().parent

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None
    expect = None


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: end-to-end tests in Chromium (tests/browser)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _missing() -> str | None:
    if sync_playwright is None:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if not os.access(server.CHROMIUM, os.X_OK):
        return f"{server.CHROMIUM} is missing (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="session")
def base_url(tmp_path_factory):
    reason = _missing()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but the browser tests cannot run: {reason}.")
        pytest.skip(f"Browser tests skipped: {reason}.")
    with server.concord_server(tmp_path_factory.mktemp("concord-browser")) as (url, _env):
        yield url


@pytest.fixture(scope="session")
def browser(base_url):
    with sync_playwright() as p:
        chromium = server.launch_chromium(p)
        expect.set_options(timeout=10_000)
        yield chromium
        chromium.close()


class A11y:
    """Runs axe-core on pages; remembers what it checked for the final report."""

    def __init__(self):
        self.checked: list[str] = []

    def check(self, page) -> None:
        page.wait_for_load_state("load")
        violations = server.axe_violations(page)
        self.checked.append(page.url)
        assert not violations, server.format_violations(page.url, violations)
        # axe 4 no longer reports duplicate ids (WCAG 2.2 dropped 4.1.1), but a label then names the
        # wrong field: two forms on one page once shared id="reason".
        duplicates = page.evaluate(
            "() => { const seen = {}; document.querySelectorAll('[id]:not(input[type=hidden])')"
            ".forEach(e => seen[e.id] = (seen[e.id] || 0) + 1);"
            " return Object.keys(seen).filter(k => seen[k] > 1); }")
        assert not duplicates, f"duplicate ids on {page.url}: {duplicates}"


@pytest.fixture(scope="session")
def a11y():
    return A11y()


@pytest.fixture
def browsing(browser, base_url):
    from tests.browser.flows import Browsing

    b = Browsing(browser, base_url)
    yield b
    b.close()


@pytest.fixture(scope="session")
def world(browser, base_url, a11y):
    """Journey (a): the setup page, the first admin, two organisations, people invited by link.

    Session-scoped: the setup page exists only once per installation. test_setup_and_invitations
    checks what it built; the other journeys use its organisations and people.
    """
    from tests.browser import flows
    from tests.browser.flows import Browsing, Person, World

    admin = Person("Astrid Admin", "astrid@platform.example")
    w = World(base_url=base_url, admin=admin)
    b = Browsing(browser, base_url)
    try:
        page = b.new_page()
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/setup$"))
        expect(page.get_by_role("heading", name="Set up Concord")).to_be_visible()
        a11y.check(page)
        page.get_by_label("Your name").fill(admin.name)
        page.get_by_label("E-mail").fill(admin.email)
        page.get_by_label("Password", exact=True).fill("short")
        page.get_by_label("Repeat the password").fill("short")
        page.get_by_role("button", name="Create the admin account").click()
        # Too short: the message is shown and tied to the field.
        password = page.get_by_label("Password", exact=True)
        expect(password).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#password-error")).to_contain_text("10")
        expect(password).to_have_attribute("aria-describedby", re.compile("password-error"))
        a11y.check(page)
        password.fill(admin.password)
        page.get_by_label("Repeat the password").fill(admin.password)
        page.get_by_role("button", name="Create the admin account").click()
        expect(page.get_by_text("Concord is ready. You are its first platform admin.")).to_be_visible()
        a11y.check(page)

        for key, (name, short, country) in {
            "A": ("Harbour Workers' Union", "HWU", "Portugal"),
            "B": ("Green Valleys Alliance", "GVA", "Chile"),
        }.items():
            w.slugs[key] = flows.create_organisation(page, name, short, country)
            w.orgs[key] = name
            if key == "A":
                a11y.check(page)

        people = {
            # key: person, organisation, roles
            "ada": (Person("Ada Pereira", "ada@hwu.example"), "A", ["Delegate", "Signatory"]),
            "bea": (Person("Bea Rojas", "bea@gva.example"), "B", ["Delegate"]),
            "bo": (Person("Bo Soto", "bo@gva.example"), "B", ["Signatory"]),
        }
        for i, (key, (person, org, roles)) in enumerate(people.items()):
            link = flows.create_invitation(page, w.orgs[org], person.email, roles)
            newcomer = b.new_page()  # the invited person, in a browser of their own
            if i == 0:
                a11y.check(page)
                newcomer.goto(link)
                a11y.check(newcomer)
            flows.accept_invitation(newcomer, link, person)
            if i == 0:
                a11y.check(newcomer)
            newcomer.context.close()
            b.contexts.remove(newcomer.context)
            w.people[key] = person
        yield w
    finally:
        b.close()
