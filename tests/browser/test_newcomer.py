"""The newcomer's journey (issue 13), in Chromium against exactly what `make run` serves: one gunicorn
worker with threads, rate limits on, and the mail sender beside it writing to instance/outbox/.

Setup; people and a new organisation invited by e-mail and following the link in that e-mail (read on the
admin's development outbox page, never built by the test); the real-looking statement imported; an
amendment proposed, supported and accepted; frozen; signed by every organisation; published from the
Signatures tab after "Waiting for you" asked for it; a password reset through the link in its e-mail.
On the way: no request for /favicon.ico or anything else answers 404, dates name their zone, a refused
form puts the cursor on the field, the phone menu folds.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import flows, server
from tests.browser.flows import Browsing, Person

TITLE = "Open Harbours for Every Worker"
PARAGRAPHS = [
    "The three harbour towns of the coast employ more than nine thousand dock and ferry workers.",
    "Short contracts have replaced permanent posts in every port since the spring.",
    "We ask the port authorities to restore permanent contracts before the winter season.",
]


@pytest.fixture(scope="module")
def newcomer_server(tmp_path_factory, base_url):
    """A server of its own, as `make run` starts it (base_url: the browser tests can run here)."""
    with server.make_run_server(tmp_path_factory.mktemp("newcomer")) as (url, env, _process):
        yield url


def follow(page, link: str, base: str) -> None:
    """Open a link from an e-mail in this browser."""
    assert link.startswith(base + "/"), (link, base)  # the mail points at the address actually served
    page.goto(link)


def test_newcomer_journey(browser, newcomer_server, a11y):
    base = newcomer_server
    b = Browsing(browser, base)
    missing = []
    try:
        admin = b.new_page()
        admin.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
        # --- setup ------------------------------------------------------------------------------------
        admin.goto("/")
        expect(admin).to_have_url(re.compile(r"/setup$"))
        astrid = Person("Astrid Admin", "astrid@platform.example")
        admin.get_by_label("Your name").fill(astrid.name)
        admin.get_by_label("E-mail").fill(astrid.email)
        admin.get_by_label("Password", exact=True).fill(astrid.password)
        admin.get_by_label("Repeat the password").fill(astrid.password)
        admin.get_by_role("button", name="Create the admin account").click()
        expect(admin.get_by_text("Concord is ready.")).to_be_visible()

        hwu = flows.create_organisation(admin, "Harbour Workers' Union", "HWU", "Portugal")
        gva = flows.create_organisation(admin, "Green Valleys Alliance", "GVA", "Chile")
        assert hwu and gva

        # --- people invited by e-mail, following the link in their e-mail ------------------------------
        ada = Person("Ada Pereira", "ada@hwu.example")
        bea = Person("Bea Rojas", "bea@gva.example")
        for person, org in ((ada, "Harbour Workers' Union"), (bea, "Green Valleys Alliance")):
            link = flows.create_invitation(admin, org, person.email, ["Delegate", "Signatory"])
            newcomer = b.new_page()
            follow(newcomer, link, base)
            flows.accept_invitation(newcomer, link, person)
            newcomer.context.close()
            b.contexts.remove(newcomer.context)
        admin.goto(f"/o/{hwu}/members")
        expect(admin.locator("#invitations li", has_text=ada.email)).to_contain_text("used")
        a11y.check(admin)
        # The same link again: 409, with a way to log in.
        again = b.new_page()
        again.goto(link)
        expect(again.get_by_role("heading", name="Link already used")).to_be_visible()
        again.get_by_role("link", name="Log in").click()
        expect(again).to_have_url(re.compile(r"/login$"))

        # --- the coordinator imports the statement and invites a third organisation's contact -----------
        coordinator = b.login(ada)
        coordinator.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
        text = flows.statement_text(TITLE, ["Harbour Workers' Union", "Green Valleys Alliance"], PARAGRAPHS)
        flows.import_statement(coordinator, text, len(PARAGRAPHS))
        statement_url = coordinator.url.split("#")[0]
        coordinator.get_by_role("link", name="Invite an organisation…").click()
        coordinator.get_by_label(re.compile("or the e-mail of a contact")).fill("nia@tenants.example")
        coordinator.get_by_role("button", name="Send the invitation").click()
        expect(coordinator.get_by_text("The invitation is sent to nia@tenants.example.")).to_be_visible()
        expect(coordinator.locator("ul.invitations li", has_text="nia@tenants.example")).to_contain_text("open")
        a11y.check(coordinator)
        join = flows.mail_link(admin, "nia@tenants.example", "Invitation to a joint statement", "/join/")
        nia = Person("Nia Wanjiru", "nia@tenants.example")
        contact = b.new_page()
        follow(contact, join, base)
        contact.get_by_label("Full name of your organisation").fill("Tenants Network")
        contact.get_by_label("Your name").fill(nia.name)
        contact.get_by_label("Password", exact=True).fill(nia.password)
        contact.get_by_label("Repeat the password").fill(nia.password)
        contact.get_by_role("button", name="Create and join").click()
        expect(contact.get_by_text("now takes part in")).to_be_visible()

        # --- amend -------------------------------------------------------------------------------------
        flows.open_for_amendments(coordinator, TITLE, rule="Coordinator decides")
        delegate = b.login(bea)
        amendment = flows.propose(delegate, TITLE, "modify", 3,
                                  "We ask the port authorities to restore permanent contracts before the autumn.",
                                  rationale="Winter is too late.")
        flows.take_position(contact, TITLE, amendment, "Support")
        waiting = coordinator.locator("ul.waiting")
        coordinator.goto("/")
        expect(waiting).to_contain_text(f"Amendment #{amendment}")
        expect(waiting).to_contain_text("meets the decision rule")
        flows.accept_amendment(coordinator, TITLE, amendment)

        # --- freeze, sign, publish --------------------------------------------------------------------
        flows.freeze(coordinator, TITLE)
        for page, person, function in ((coordinator, ada, "Coordinator"), (delegate, bea, "President")):
            flows.sign(page, TITLE, person, function)
        coordinator.goto("/")
        expect(coordinator.get_by_text("Nothing is waiting for you right now.")).to_be_visible()
        flows.sign(contact, TITLE, nia, "Secretary")
        coordinator.goto("/")
        expect(waiting).to_contain_text("Every organisation has signed")
        waiting.get_by_role("link", name=f"“{TITLE}”").click()
        expect(coordinator.get_by_text("Every organisation has signed.")).to_be_visible()
        a11y.check(coordinator)
        coordinator.get_by_role("link", name="Publish…").click()
        flows.accept_next_dialog(coordinator)
        coordinator.get_by_role("button", name="Publish", exact=True).click()
        expect(coordinator.get_by_text("Published. This page is its permanent address.")).to_be_visible()
        txt = coordinator.get_by_role("link", name="plain text")
        expect(txt).to_have_attribute("download", re.compile(r"\.txt$"))
        with coordinator.expect_download() as download:
            txt.click()
        assert download.value.suggested_filename.endswith(".txt")

        # --- the audit trail names the amendment; times name their zone ---------------------------------
        coordinator.goto(statement_url + "/audit")
        expect(coordinator.get_by_text(f"accepted amendment #{amendment}")).to_be_visible()
        expect(coordinator.locator("ol.timeline time").first).to_have_text(
            re.compile(r"^\d{1,2} \w{3} \d{4}, \d{2}:\d{2} (UTC|\w+/\w+)"))

        # --- a forgotten password, reset through the link in the e-mail ----------------------------------
        forgetful = b.new_page()
        forgetful.goto("/login")
        forgetful.get_by_role("link", name="Forgot your password?").click()
        forgetful.get_by_label("E-mail").fill(bea.email)
        forgetful.get_by_role("button", name="Send me a link").click()
        expect(forgetful.get_by_role("heading", name="Check your e-mail")).to_be_visible()
        reset = flows.mail_link(admin, bea.email, "Reset your Concord password", "/reset/")
        follow(forgetful, reset, base)
        forgetful.get_by_label("New password", exact=True).fill("too short")
        forgetful.get_by_label("Repeat the new password").fill("too short")
        forgetful.get_by_role("button", name="Set my new password").click()
        # The refused form puts the cursor on the field that needs it.
        expect(forgetful.get_by_label("New password", exact=True)).to_be_focused()
        forgetful.get_by_label("New password", exact=True).fill("a new and longer password")
        forgetful.get_by_label("Repeat the new password").fill("a new and longer password")
        forgetful.get_by_role("button", name="Set my new password").click()
        expect(forgetful.get_by_role("heading", name=f"Hello, {bea.name}")).to_be_visible()

        # --- the admin's outbox lists what was sent, from the admin menu ----------------------------------
        admin.goto("/admin/users")
        admin.get_by_role("navigation", name="Platform admin").get_by_role("link", name="Outbox (development)").click()
        expect(admin.get_by_role("row")).not_to_have_count(0)
        a11y.check(admin)

        # --- on a phone the menu folds behind one button ------------------------------------------------
        phone = b.login(ada, viewport={"width": 390, "height": 844})
        menu = phone.get_by_role("button", name="Menu")
        expect(menu).to_be_visible()
        expect(phone.get_by_role("navigation", name="Main").get_by_role("link", name="Statements")).to_be_hidden()
        menu.click()
        expect(phone.get_by_role("navigation", name="Main").get_by_role("link", name="Statements")).to_be_visible()
        assert missing == [], missing
    finally:
        b.close()
