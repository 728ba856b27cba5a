"""A journey in German (issue 14): from an invitation to a published statement, every person with a
German browser, every word they read and click taken from the German catalogue. A label the catalogue
does not translate, or a page that shows the English one, stops the journey.

The coordinator's platform admin chooses German in the page footer (so it is kept on her account and
her invitation e-mail goes out in German); the newcomer's browser only asks for German
(Accept-Language), and gets it from the first page on.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.support import Translations
from playwright.sync_api import expect

from tests.browser import flows
from tests.browser.flows import Browsing, Person

CATALOGUES = Path(__file__).resolve().parents[2] / "app" / "translations"
_de = Translations.load(str(CATALOGUES), ["de"], "messages")
GERMAN = {"locale": "de-DE", "extra_http_headers": {"Accept-Language": "de-DE,de;q=0.9"}}

TITLE = "Saubere Flüsse für alle Dörfer"
PARAGRAPHS = [
    "Die Dörfer am Oberlauf beziehen ihr Trinkwasser seit Generationen aus dem Fluss.",
    "Seit dem Bau der Gerberei ist das Wasser im Sommer nicht mehr trinkbar.",
    "Wir fordern die Behörden auf, die Einleitungen bis zum Frühjahr zu stoppen.",
]


def T(msgid: str, **params) -> str:
    """The German of an interface message; the journey refuses to go on with an untranslated one."""
    german = _de.gettext(msgid)
    assert german != msgid, f"the German catalogue does not translate {msgid!r}"
    return german % params if params else german


def Tn(singular: str, plural: str, n: int, **params) -> str:
    german = _de.ngettext(singular, plural, n)
    assert german not in (singular, plural), f"the German catalogue does not translate {singular!r}"
    return german % params


def heading(page, msgid: str, **params):
    return page.get_by_role("heading", name=T(msgid, **params))


def nav(page, msgid: str) -> None:
    page.wait_for_load_state("domcontentloaded")
    page.get_by_role("navigation", name=T("Main")).get_by_role("link", name=T(msgid)).click()


def login(b: Browsing, person: Person):
    page = b.new_page(**GERMAN)
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_label(T("E-mail")).fill(person.email)
    page.get_by_label(T("Password")).fill(person.password)
    page.get_by_role("button", name=T("Log in")).click()
    expect(heading(page, "Hello, %(name)s", name=person.name)).to_be_visible()
    return page


def open_statement(page) -> None:
    nav(page, "Statements")
    page.get_by_role("link", name=TITLE, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=TITLE)).to_be_visible()


def test_german_journey_from_invitation_to_publication(world, browser, base_url, a11y):
    b = Browsing(browser, base_url)
    try:
        # --- the platform admin chooses German in the footer ---------------------------------------------
        admin = b.login(world.admin)  # English until she chooses
        admin.get_by_label("Language").select_option("de")
        admin.get_by_role("button", name="Change").click()
        expect(admin.locator("html")).to_have_attribute("lang", "de")
        expect(heading(admin, "Hello, %(name)s", name=world.admin.name)).to_be_visible()
        a11y.check(admin)

        # --- a new organisation and its first member, invited by a German e-mail --------------------------
        nav(admin, "Organisations")
        admin.get_by_role("link", name=T("New organisation")).click()
        admin.get_by_label(T("Full name")).fill("Bund der Flussdörfer")
        admin.get_by_label(T("Short name")).fill("BFD")
        admin.get_by_label(T("Country")).fill("Österreich")
        admin.get_by_role("button", name=T("Create organisation")).click()
        created = T("%(organisation)s is created. Now add its members.", organisation="Bund der Flussdörfer")
        expect(admin.get_by_text(created)).to_be_visible()
        form = admin.locator("form", has=admin.get_by_role("button", name=T("Send the invitation")))
        lena = Person("Lena Gruber", "lena@flussdoerfer.example")
        form.get_by_label(T("E-mail")).fill(lena.email)
        for role in ("Delegate", "Signatory"):
            form.get_by_label(T(role), exact=True).check()
        form.get_by_role("button", name=T("Send the invitation")).click()
        expect(admin.get_by_text(T("The invitation is sent to %(email)s.", email=lena.email))).to_be_visible()
        a11y.check(admin)
        subject = re.compile(re.escape(T("%(name)s invites you to Concord", name=world.admin.name)))
        link = flows.mail_link(admin, lena.email, subject, "/invitations/")

        newcomer = b.new_page(**GERMAN)
        newcomer.goto(link)
        expect(heading(newcomer, "Join Concord")).to_be_visible()
        newcomer.get_by_label(T("Your name")).fill(lena.name)
        newcomer.get_by_label(T("Password"), exact=True).fill(lena.password)
        newcomer.get_by_label(T("Repeat the password")).fill(lena.password)
        newcomer.get_by_role("button", name=T("Create my account")).click()
        expect(newcomer.get_by_text(T("Welcome to Concord. Your account is ready."))).to_be_visible()
        a11y.check(newcomer)

        # --- the coordinator imports a German text with the new organisation -----------------------------
        ada = world.people["ada"]
        coordinator = login(b, ada)
        nav(coordinator, "Statements")
        coordinator.get_by_role("link", name=T("Import a text")).click()
        body = "\n\n".join(f"{n}. {text}" for n, text in enumerate(PARAGRAPHS, 1))
        coordinator.get_by_label(T("Paste the statement")).fill(f"{TITLE}\n\n{body}\n")
        coordinator.get_by_role("button", name=T("Show what Concord reads")).click()
        expect(heading(coordinator, "Check what was found")).to_be_visible()
        coordinator.get_by_label("Bund der Flussdörfer").check()
        coordinator.get_by_role("button", name=Tn("Create the draft with this %(num)s paragraph",
                                                   "Create the draft with these %(num)s paragraphs", len(PARAGRAPHS),
                                                   num=len(PARAGRAPHS))).click()
        expect(coordinator.get_by_text(Tn("Imported: %(count)s paragraph.", "Imported: %(count)s paragraphs.",
                                                 len(PARAGRAPHS), count=len(PARAGRAPHS)))).to_be_visible()
        a11y.check(coordinator)

        coordinator.get_by_role("link", name=T("Open for amendments…")).click()
        coordinator.get_by_role("radio", name=re.compile("^" + re.escape(T("Coordinator decides")))).check()
        coordinator.get_by_role("button", name=T("Open for amendments")).click()
        opened = T("The statement is open for amendments. From now on its text changes only through accepted "
                   "amendments.")
        expect(coordinator.get_by_text(opened)).to_be_visible()

        # --- the newcomer amends; the coordinator accepts ---------------------------------------------------
        open_statement(newcomer)
        newcomer.locator("ol.paragraphs > li").nth(2).get_by_role(
            "link", name=f"{T('Amend')} ¶ 3", exact=True).click()
        newcomer.get_by_label(T("Proposed text")).fill(
            "Wir fordern die Behörden auf, die Einleitungen noch vor dem Sommer zu stoppen.")
        newcomer.get_by_role("button", name=T("Preview the change")).click()
        expect(heading(newcomer, "Your change")).to_be_visible()
        newcomer.get_by_role("button", name=T("Propose amendment")).click()
        amendment = int(re.search(r"/amendments/(\d+)", newcomer.url).group(1))
        a11y.check(newcomer)

        coordinator.goto(f"/amendments/{amendment}")
        coordinator.get_by_role("button", name=T("Accept amendment #%(id)s", id=amendment)).click()
        expect(coordinator.locator(".flash-success")).to_be_visible()
        expect(coordinator.locator("html")).to_have_attribute("lang", "de")

        # --- freeze, both organisations sign, publish ------------------------------------------------------
        open_statement(coordinator)
        coordinator.get_by_role("link", name=T("Freeze for signing…")).click()
        flows.accept_next_dialog(coordinator)
        coordinator.get_by_role("button", name=re.compile(r"^" + re.escape(T("Freeze version %(number)s", number=0))
                                                          .replace("0", r"\d+") + "$")).click()
        frozen = T("The text is frozen. Signatories can now sign exactly this version.")
        expect(coordinator.get_by_text(frozen)).to_be_visible()
        for page, person, function in ((coordinator, ada, "Koordinatorin"), (newcomer, lena, "Vorsitzende")):
            open_statement(page)
            page.get_by_role("link", name=T("Read and sign")).click()
            sign = re.compile("^" + re.escape(T("Sign version %(number)s", number=0)).replace("0", r"\d+"))
            form = page.locator("form", has=page.get_by_role("button", name=sign))
            form.get_by_label(T("Your title or function")).fill(function)
            authorised = T("I am authorised to sign on behalf of %(organisation)s", organisation="\0")
            form.get_by_role("checkbox", name=re.compile("^" + re.escape(authorised.split("\0")[0]))).check()
            form.get_by_label(T("Your password")).fill(person.password)
            form.get_by_role("button", name=sign).click()
            expect(page.locator(".flash-success")).to_be_visible()
        a11y.check(newcomer)

        open_statement(coordinator)
        coordinator.get_by_role("link", name=T("Publish…")).click()
        flows.accept_next_dialog(coordinator)
        coordinator.get_by_role("button", name=T("Publish"), exact=True).click()
        expect(coordinator.get_by_text(T("Published. This page is its permanent address."))).to_be_visible()
        expect(coordinator.locator("html")).to_have_attribute("lang", "de")
        a11y.check(coordinator)

        # --- on a phone, the menu button concord.js adds speaks German too -----------------------------------
        newcomer.set_viewport_size({"width": 390, "height": 844})
        newcomer.goto("/")
        expect(newcomer.get_by_role("button", name=re.compile("^" + T("Menu")))).to_be_visible()

        # --- a reader with a German browser: the public page speaks German, the text is as signed -------------
        reader = b.new_page(**GERMAN)
        reader.goto(coordinator.url)
        expect(reader.locator("html")).to_have_attribute("lang", "de")
        expect(reader.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
        expect(reader.get_by_text(PARAGRAPHS[0])).to_be_visible()
        with reader.expect_download() as download:
            reader.get_by_role("link", name=T("plain text")).click()
        text = Path(download.value.path()).read_text(encoding="utf-8")
        assert "noch vor dem Sommer" in text and text.startswith(TITLE + "\n\n")
    finally:
        try:  # the other journeys read the admin's pages in English: her choice goes back, by the footer
            page = b.new_page()
            page.goto("/login")
            page.get_by_label("E-mail").fill(world.admin.email)
            page.get_by_label("Password").fill(world.admin.password)
            page.get_by_role("button", name="Log in").click()
            page.locator("#language-choice").select_option("en")
            page.locator("footer").get_by_role("button").click()
            expect(page.locator("html")).to_have_attribute("lang", "en")
        finally:
            b.close()
