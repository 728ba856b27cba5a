"""What people do in Concord, as clicks and typing in Chromium: shared by the journeys and the screenshots."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.sync_api import Page, expect

PASSWORD = "correct horse battery staple"
NBSP = "\u00a0"


@dataclass
class Person:
    name: str
    email: str
    password: str = PASSWORD


@dataclass
class World:
    base_url: str
    admin: Person
    orgs: dict[str, str] = field(default_factory=dict)  # key -> full name
    slugs: dict[str, str] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)


class Browsing:
    """Fresh browser contexts, one per person."""

    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.contexts = []

    def new_page(self, **options) -> Page:
        context = self.browser.new_context(base_url=self.base_url, **options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context.new_page()

    def login(self, person: Person, **options) -> Page:
        page = self.new_page(**options)
        page.goto("/login")
        page.get_by_label("E-mail").fill(person.email)
        page.get_by_label("Password").fill(person.password)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name=f"Hello, {person.name}")).to_be_visible()
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


def nav(page: Page, name: str) -> None:
    """A link of the main menu (on a phone it folds behind the Menu button first)."""
    # concord.js (deferred, so it has run once DOMContentLoaded fired) folds the menu and adds the
    # button; asking before that would see neither.
    page.wait_for_load_state("domcontentloaded")
    menu = page.get_by_role("button", name=re.compile(r"^Menu"))
    if menu.is_visible():
        menu.click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def accept_next_dialog(page: Page) -> None:
    """The confirmation dialogs (data-confirm) of irreversible buttons: say yes to the next one."""
    page.once("dialog", lambda dialog: dialog.accept())


# --- organisations and people -----------------------------------------------------------------


def create_organisation(page: Page, name: str, short: str, country: str) -> str:
    nav(page, "Organisations")
    page.get_by_role("link", name="New organisation").click()
    page.get_by_label("Full name").fill(name)
    page.get_by_label("Short name").fill(short)
    page.get_by_label("Country").fill(country)
    page.get_by_role("button", name="Create organisation").click()
    expect(page.get_by_text(f"{name} is created. Now add its members.")).to_be_visible()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    return page.url.split("/o/")[1].split("/")[0]


def mail_link(page: Page, to: str, subject: str | re.Pattern, path: str = "/") -> str:
    """As a platform admin: the link in the newest e-mail to ``to`` whose subject matches, read on the
    development outbox page (make run's mail sender writes it there within a second or two)."""
    pattern = subject if isinstance(subject, re.Pattern) else re.compile(re.escape(subject))
    for _ in range(80):  # bounded: the sender runs every half second in the tests
        page.goto("/admin/outbox")
        row = page.get_by_role("row").filter(has_text=to).filter(has_text=pattern)
        if row.count():
            row.first.get_by_role("link").click()
            expect(page.get_by_role("heading", level=1, name=pattern)).to_be_visible()
            link = page.locator("pre.mail-text a", has_text=re.compile(re.escape(path))).first
            return link.get_attribute("href")
        page.wait_for_timeout(250)  # between polls only: the answer is the e-mail, not the clock
    raise AssertionError(f"no e-mail to {to} matching {pattern.pattern!r} reached the outbox")


def create_invitation(page: Page, org_name: str, email: str, roles: list[str]) -> str:
    """On the organisation's members page: send an invitation; return the link from the e-mail it sent."""
    nav(page, "Organisations")
    page.get_by_role("link", name=org_name).click()
    page.get_by_role("link", name="Members").click()
    form = page.locator("form", has=page.get_by_role("button", name="Send the invitation"))
    form.get_by_label("E-mail").fill(email)
    for role in roles:
        form.get_by_label(role, exact=True).check()
    form.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_text(f"The invitation is sent to {email}.")).to_be_visible()
    # Post, redirect, get: an empty form, and the invitation listed as open.
    expect(page.locator("form", has=page.get_by_role("button", name="Send the invitation"))
           .get_by_label("E-mail")).to_have_value("")
    expect(page.locator("#invitations li", has_text=email)).to_contain_text("open")
    return mail_link(page, email, "invites you to Concord", "/invitations/")


def accept_invitation(page: Page, link: str, person: Person) -> None:
    page.goto(link)
    expect(page.get_by_role("heading", name="Join Concord")).to_be_visible()
    expect(page.get_by_text(person.email)).to_be_visible()
    page.get_by_label("Your name").fill(person.name)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_label("Repeat the password").fill(person.password)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_text("Welcome to Concord. Your account is ready.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Hello, {person.name}")).to_be_visible()


# --- statements ---------------------------------------------------------------------------------


def statement_text(title: str, orgs: list[str], paragraphs: list[str]) -> str:
    """A statement as people paste it: runs of blank lines, non-breaking spaces after the numbers."""
    names = " and ".join(orgs)
    body = "\n\n\n".join(f"{n}.{NBSP * 3}  {text}" for n, text in enumerate(paragraphs, 1))
    return f"{title}\n\n\nJoint Statement of {names}, 3 March 2026\n\n\n\n{body}\n"


def import_statement(page: Page, text: str, paragraphs: int, check=None) -> int:
    """Paste, check the preview, create the draft; returns the statement id."""
    nav(page, "Statements")
    page.get_by_role("link", name="Import a text").click()
    page.get_by_label("Paste the statement").fill(text)
    page.get_by_role("button", name="Show what Concord reads").click()
    expect(page.get_by_role("heading", name="Check what was found")).to_be_visible()
    preview = page.locator("section.preview")
    expect(preview.locator("ol.paragraphs > li")).to_have_count(paragraphs)
    if check:
        check(page)
    page.get_by_role("button", name=f"Create the draft with these {paragraphs} paragraphs").click()
    expect(page.get_by_text(f"Imported: {paragraphs} paragraphs.")).to_be_visible()
    return int(re.search(r"/statements/(\d+)", page.url).group(1))


def open_statement(page: Page, title: str) -> None:
    """From any page: the Statements menu, then the statement's title."""
    nav(page, "Statements")
    page.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


def open_amendment(page: Page, title: str, amendment_id: int) -> None:
    open_statement(page, title)
    page.get_by_role("navigation", name="Statement").get_by_role("link", name="Amendments").click()
    page.get_by_role("link", name=re.compile(rf"^#{amendment_id} ")).click()
    expect(page.get_by_role("heading", level=1, name=re.compile(rf"^#{amendment_id} "))).to_be_visible()


def paragraph(page: Page, number: int):
    return page.locator("ol.paragraphs > li").nth(number - 1)


def open_for_amendments(page: Page, title: str, rule: str = "Consensus") -> None:
    open_statement(page, title)
    page.get_by_role("link", name="Open for amendments…").click()
    page.get_by_role("radio", name=re.compile(rf"^{rule}")).check()
    page.get_by_role("button", name="Open for amendments").click()
    expect(page.get_by_text("The statement is open for amendments.")).to_be_visible()


def propose(page: Page, title: str, kind: str, number: int | None, text: str = "", rationale: str = "",
            preview: bool = True, check_preview=None) -> int:
    """A delegate proposes an amendment from the statement page; returns its id."""
    open_statement(page, title)
    if number is None:
        page.get_by_role("link", name="Propose a paragraph at the top").click()
    elif kind == "modify":
        paragraph(page, number).get_by_role("link", name=f"Amend ¶ {number}", exact=True).click()
    else:  # from the paragraph's own page
        paragraph(page, number).get_by_role("link", name=re.compile(rf"^More for ¶ {number}:")).click()
        page.get_by_role("link", name={"insert": "Propose a paragraph below it",
                                       "delete": "Propose deleting it"}[kind]).click()
    if kind != "delete":
        page.get_by_label("Proposed text").fill(text)
        if preview:
            page.get_by_role("button", name="Preview the change").click()
            expect(page.get_by_role("heading", name="Your change")).to_be_visible()
            if check_preview:
                check_preview(page)
    if rationale:
        page.get_by_label("Rationale").fill(rationale)
    page.get_by_role("button", name="Propose amendment").click()
    expect(page.get_by_text(re.compile(r"Amendment #\d+ is proposed"))).to_be_visible()
    return int(re.search(r"/amendments/(\d+)", page.url).group(1))


def take_position(page: Page, title: str, amendment_id: int, stance: str, reason: str = "") -> None:
    open_amendment(page, title, amendment_id)
    form = page.locator("form", has=page.get_by_role("button", name="Record position"))
    form.get_by_label(stance, exact=True).check()
    if reason:
        form.get_by_label("Reason (optional)").fill(reason)
    form.get_by_role("button", name="Record position").click()
    expect(page.get_by_text(re.compile(rf"Position recorded for .*: {stance.lower()}\."))).to_be_visible()


def comment(page: Page, title: str, amendment_id: int, body: str) -> None:
    open_amendment(page, title, amendment_id)
    page.get_by_label("Comment", exact=True).fill(body)
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator(".comment-body", has_text=body)).to_be_visible()


def accept_amendment(page: Page, title: str, amendment_id: int) -> None:
    open_amendment(page, title, amendment_id)
    page.get_by_role("button", name=f"Accept amendment #{amendment_id}").click()
    expect(page.get_by_text(re.compile(rf"Amendment #{amendment_id} accepted: the text is now version \d+\."))
           ).to_be_visible()


def reject_amendment(page: Page, title: str, amendment_id: int, reason: str) -> None:
    open_amendment(page, title, amendment_id)
    page.get_by_label("Reason for rejecting").fill(reason)
    page.get_by_role("button", name=f"Reject amendment #{amendment_id}").click()
    expect(page.get_by_text(f"Amendment #{amendment_id} rejected.")).to_be_visible()


def freeze(page: Page, title: str) -> None:
    open_statement(page, title)
    page.get_by_role("link", name="Freeze for signing…").click()
    accept_next_dialog(page)
    page.get_by_role("button", name=re.compile(r"^Freeze version \d+$")).click()
    expect(page.get_by_text("The text is frozen.")).to_be_visible()


def fill_signature(page: Page, person: Person, function: str, password: str | None = None) -> None:
    form = page.locator("form", has=page.get_by_role("button", name=re.compile(r"^Sign version")))
    expect(form.get_by_label("Your name, as it should appear")).to_have_value(person.name)
    form.get_by_label("Your title or function").fill(function)
    form.get_by_role("checkbox", name=re.compile("^I am authorised to sign")).check()
    form.get_by_label("Your password").fill(password or person.password)
    form.get_by_role("button", name=re.compile(r"^Sign version")).click()


def sign(page: Page, title: str, person: Person, function: str) -> None:
    open_statement(page, title)
    page.get_by_role("link", name="Read and sign").click()
    fill_signature(page, person, function)
    expect(page.locator(".flash-success")).to_contain_text("has signed")


def publish(page: Page, title: str) -> None:
    open_statement(page, title)
    page.get_by_role("link", name="Publish…").click()
    accept_next_dialog(page)
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Published. This page is its permanent address.")).to_be_visible()
