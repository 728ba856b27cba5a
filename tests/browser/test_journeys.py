"""The journeys of issue 6, in Chromium against gunicorn, clicking and typing as people do.

Each journey creates its own statement through the pages; the organisations and people come from the
``world`` fixture (journey a). axe-core checks every page the journeys visit.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.browser import flows
from tests.browser.flows import NBSP

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def today() -> str:
    d = datetime.now(UTC).date()
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


PARAGRAPHS = [
    "Across the coastal towns, the rising cost of bread has pushed thousands of families into debt.",
    "Dockworkers in three ports have gone without wages for eleven weeks.",
    "Our organisations will share legal aid between their members and meet again in the autumn.",
    "We reject the plan to close the ferry crossing, which carries nurses and teachers every morning.",
]


def new_statement(world, page, title: str, paragraphs=PARAGRAPHS, a11y=None) -> None:
    text = flows.statement_text(title, [world.orgs["A"], world.orgs["B"]], paragraphs)
    flows.import_statement(page, text, len(paragraphs), check=a11y.check if a11y else None)


def test_a_setup_and_invitations(world, browsing, a11y):
    # The setup page is gone for good once the first admin exists.
    visitor = browsing.new_page()
    visitor.goto("/setup")
    expect(visitor).to_have_url(re.compile(r"/login$"))
    a11y.check(visitor)

    admin = browsing.login(world.admin)
    admin.get_by_role("link", name="Admin", exact=True).click()
    a11y.check(admin)
    for key, org in (("ada", "HWU"), ("bea", "GVA"), ("bo", "GVA")):
        row = admin.get_by_role("row", name=re.compile(world.people[key].name))
        expect(row).to_contain_text(org)

    ada = browsing.login(world.people["ada"])
    a11y.check(ada)
    organisations = ada.locator("section", has=ada.get_by_role("heading", name="Your organisations"))
    expect(organisations).to_contain_text("Harbour Workers' Union (HWU): delegate, signatory")
    ada.get_by_role("link", name="Harbour Workers' Union (HWU)").click()
    expect(ada.get_by_role("heading", level=1, name=re.compile("Harbour Workers' Union"))).to_be_visible()
    a11y.check(ada)

    # A wrong password is refused with a message, not a crash.
    stranger = browsing.new_page()
    stranger.goto("/")
    stranger.get_by_role("link", name="Log in").click()
    stranger.get_by_label("E-mail").fill(world.people["bo"].email)
    stranger.get_by_label("Password").fill("not the password")
    stranger.get_by_role("button", name="Log in").click()
    expect(stranger.get_by_role("alert")).to_contain_text("The e-mail or the password is not correct.")
    a11y.check(stranger)


def test_b_import_edit_in_draft_and_open(world, browsing, a11y):
    title = "Bread and Wages in the Ports"
    ada = browsing.login(world.people["ada"])

    def check_preview(page):
        a11y.check(page)
        preview = page.locator("section.preview")
        expect(preview.get_by_text(re.compile("Signatory line recognised"))).to_contain_text("3 March 2026")
        expect(preview.get_by_role("heading", name=title)).to_be_visible()
        # The non-breaking spaces after the numbers are gone; the text starts with its first word.
        first = preview.locator("ol.paragraphs > li .text").first
        expect(first).to_have_text(PARAGRAPHS[0])
        # The organisations named in the signatory line are ticked as participants.
        expect(page.get_by_label("Harbour Workers' Union (HWU)")).to_be_checked()
        expect(page.get_by_label("Green Valleys Alliance (GVA)")).to_be_checked()

    flows.nav(ada, "Statements")
    ada.get_by_role("link", name="Import a text").click()
    a11y.check(ada)
    ada.get_by_label("Paste the statement").fill(flows.statement_text(title, [world.orgs["A"], world.orgs["B"]],
                                                                      PARAGRAPHS))
    ada.get_by_role("button", name="Show what Concord reads").click()
    expect(ada.locator("section.preview ol.paragraphs > li")).to_have_count(4)
    check_preview(ada)
    ada.get_by_role("button", name="Create the draft with these 4 paragraphs").click()
    expect(ada.get_by_text("Imported: 4 paragraphs.")).to_be_visible()
    expect(ada.locator(".statement-head .badge")).to_have_text("draft")
    expect(ada.get_by_text("Version 1", exact=True)).to_be_visible()
    a11y.check(ada)
    assert NBSP not in flows.paragraph(ada, 1).locator(".text").inner_text()

    # Edit ¶ 2 in draft.
    flows.paragraph(ada, 2).get_by_role("link", name="Edit ¶ 2").click()
    expect(ada.get_by_role("heading", name="Edit paragraph 2")).to_be_visible()
    a11y.check(ada)
    edited = "Dockworkers in three ports have gone without wages for twelve weeks."
    ada.get_by_label("Text").fill(edited)
    ada.get_by_role("button", name="Save ¶ 2").click()
    expect(ada.get_by_text("¶ 2 saved as version 2.")).to_be_visible()
    expect(flows.paragraph(ada, 2).locator(".text")).to_have_text(edited)

    # An empty paragraph is refused with a message tied to the field; nothing changes.
    flows.paragraph(ada, 3).get_by_role("link", name="Edit ¶ 3").click()
    ada.get_by_label("Text").fill("   ")
    ada.get_by_role("button", name="Save ¶ 3").click()
    expect(ada.get_by_label("Text")).to_have_attribute("aria-invalid", "true")
    expect(ada.locator("#text-error")).to_have_text(re.compile("A paragraph cannot be empty."))
    a11y.check(ada)
    ada.get_by_role("link", name="Cancel").click()
    expect(flows.paragraph(ada, 3).locator(".text")).to_have_text(PARAGRAPHS[2])

    # History lists both versions; open for amendments.
    ada.get_by_role("navigation", name="Statement").get_by_role("link", name="History").click()
    expect(ada.locator("table.versions tbody tr")).to_have_count(2)
    a11y.check(ada)
    ada.get_by_role("navigation", name="Statement").get_by_role("link", name="Text").click()
    ada.get_by_role("link", name="Open for amendments…").click()
    a11y.check(ada)
    ada.get_by_role("radio", name=re.compile("^Consensus")).check()
    ada.get_by_role("button", name="Open for amendments").click()
    expect(ada.get_by_text("The statement is open for amendments.")).to_be_visible()
    expect(ada.locator(".statement-head .badge")).to_have_text("amending")
    expect(ada.get_by_role("link", name="Edit ¶ 2")).to_have_count(0)
    expect(flows.paragraph(ada, 2).get_by_role("link", name="Amend ¶ 2")).to_be_visible()
    a11y.check(ada)


def test_c_amendments_positions_decisions_and_a_conflict(world, browsing, a11y):
    title = "Fair Ferries and Fair Bread"
    ada = browsing.login(world.people["ada"])
    new_statement(world, ada, title)
    flows.open_for_amendments(ada, title, rule="Consensus")
    bea = browsing.login(world.people["bea"])

    def check_diff(page):
        a11y.check(page)
        preview = page.locator("#preview .diff")
        expect(preview.locator("ins")).to_have_text(["soaring price", "food"])
        expect(preview.locator("del")).to_have_text(["rising cost", "bread"])
        expect(preview).to_contain_text("has pushed thousands")  # unchanged words stay, unmarked

    # Bea (GVA) modifies ¶ 1, previewing the diff before submitting.
    modify = flows.propose(bea, title, "modify", 1,
                           PARAGRAPHS[0].replace("rising cost of bread", "soaring price of food"),
                           rationale="Food, not just bread: see https://example.org/prices", check_preview=check_diff)
    expect(bea.locator(".badge.amendment-open")).to_have_text("open")
    expect(bea.get_by_role("link", name="https://example.org/prices")).to_be_visible()
    a11y.check(bea)
    # Ada (HWU) proposes a rival change to the same words: it will conflict.
    rival = flows.propose(ada, title, "modify", 1,
                          PARAGRAPHS[0].replace("rising cost of bread", "rising cost of bread and fuel"))
    # Bea proposes a new paragraph after ¶ 2; Ada proposes deleting ¶ 4.
    insert = flows.propose(bea, title, "insert", 2, "Nurses must be able to reach their hospitals on time.")
    bea.get_by_role("link", name=title).click()
    flows.paragraph(bea, 4).get_by_role("link", name=re.compile(r"^More for ¶ 4:")).click()
    bea.get_by_role("link", name="Propose deleting it").click()
    expect(bea.get_by_role("heading", name="Propose deleting ¶ 4")).to_be_visible()
    a11y.check(bea)
    delete = flows.propose(ada, title, "delete", 4, rationale="The ferry is covered elsewhere.")
    expect(ada.locator(".diff.card del")).to_have_text(PARAGRAPHS[3])

    # Discussion.
    flows.comment(ada, title, modify, "HWU can live with “food”; bread is what people say, though.")
    flows.open_amendment(bea, title, modify)
    expect(bea.locator(".comment-body")).to_have_text(re.compile("HWU can live with"))
    bea.locator("details.reply-form summary").click()
    bea.get_by_label("Reply to Ada Pereira").fill("Food covers bread, and more.")
    bea.get_by_role("button", name="Reply", exact=True).click()
    expect(bea.locator(".reply .comment-body")).to_have_text("Food covers bread, and more.")
    a11y.check(bea)

    # Positions: both support the modification and the insertion; GVA opposes the deletion.
    for page in (ada, bea):
        flows.take_position(page, title, modify, "Support")
        flows.take_position(page, title, insert, "Support")
    flows.take_position(bea, title, delete, "Oppose", reason="The ferry matters to our members.")
    expect(bea.locator("ul.positions")).to_contain_text("The ferry matters to our members.")
    a11y.check(bea)

    # The coordinator decides: the consensus rule is met for the first, not for the deletion.
    flows.open_amendment(ada, title, delete)
    expect(ada.get_by_role("button", name=f"Accept amendment #{delete}")).to_be_disabled()
    a11y.check(ada)
    flows.reject_amendment(ada, title, delete, "GVA opposes it; no consensus.")
    expect(ada.locator(".badge.amendment-rejected")).to_be_visible()
    flows.accept_amendment(ada, title, modify)
    expect(ada.locator(".badge.amendment-accepted")).to_be_visible()
    a11y.check(ada)
    flows.accept_amendment(ada, title, insert)

    # Ada's rival change no longer applies: it is conflicted, and she revises it.
    flows.open_amendment(ada, title, rival)
    expect(ada.locator(".badge.amendment-conflicted")).to_have_text("conflicted")
    expect(ada.get_by_role("alert")).to_contain_text("Revise it against the current text.")
    a11y.check(ada)
    ada.get_by_role("link", name="Revise amendment").click()
    expect(ada.get_by_role("heading", name=f"Revise amendment #{rival}")).to_be_visible()
    revised = PARAGRAPHS[0].replace("rising cost of bread", "soaring price of food and fuel")
    ada.get_by_label("Proposed text").fill(revised)
    ada.get_by_role("button", name="Preview the change").click()
    expect(ada.locator("#preview ins")).to_have_text(re.compile("and fuel"))
    a11y.check(ada)
    ada.get_by_role("button", name="Save amendment").click()
    expect(ada.get_by_text("Amendment revised against the current text.")).to_be_visible()
    expect(ada.locator("h1 + .meta .badge")).to_have_text("open")

    # The text: ¶ 1 changed, a new ¶ 3, ¶ 4 (now ¶ 5) kept; the comparison shows both changes.
    flows.open_statement(bea, title)
    expect(bea.locator("ol.paragraphs > li")).to_have_count(5)
    expect(flows.paragraph(bea, 1).locator(".text")).to_contain_text("soaring price of food has pushed")
    expect(flows.paragraph(bea, 3).locator(".text")).to_have_text(
        "Nurses must be able to reach their hospitals on time.")
    expect(flows.paragraph(bea, 5).locator(".text")).to_have_text(PARAGRAPHS[3])
    a11y.check(bea)
    bea.get_by_role("navigation", name="Statement").get_by_role("link", name="Amendments").click()
    a11y.check(bea)
    bea.locator(".crumbs").get_by_role("link", name=title).click()
    bea.get_by_role("navigation", name="Statement").get_by_role("link", name="Compare").click()
    bea.get_by_label("From").select_option("v1")
    bea.get_by_label("to", exact=True).select_option("v3")
    bea.get_by_role("button", name="Compare").click()
    expect(bea.get_by_text("2 of 5 paragraphs differ between v1")).to_be_visible()
    expect(bea.locator(".change-inserted")).to_contain_text("Inserted")
    a11y.check(bea)
    bea.locator(".crumbs").get_by_role("link", name=title).click()
    bea.get_by_role("navigation", name="Statement").get_by_role("link", name="Who wrote what").click()
    a11y.check(bea)
    bea.locator(".crumbs").get_by_role("link", name=title).click()
    bea.get_by_role("navigation", name="Statement").get_by_role("link", name="Audit trail").click()
    expect(bea.get_by_text("Intact")).to_be_visible()
    a11y.check(bea)


def test_d_freeze_sign_and_publish(world, browsing, a11y):
    title = "A Joint Call for Open Ferries"
    ada = browsing.login(world.people["ada"])
    new_statement(world, ada, title)
    flows.open_for_amendments(ada, title, rule="Coordinator decides")
    flows.open_statement(ada, title)
    ada.get_by_role("link", name="Freeze for signing…").click()
    a11y.check(ada)
    # The confirmation dialog: saying no changes nothing.
    ada.once("dialog", lambda dialog: dialog.dismiss())
    ada.get_by_role("button", name="Freeze version 1").click()
    expect(ada.get_by_role("heading", name="Freeze the text for signing")).to_be_visible()
    flows.accept_next_dialog(ada)
    ada.get_by_role("button", name="Freeze version 1").click()
    expect(ada.get_by_text("The text is frozen.")).to_be_visible()
    expect(ada.get_by_text("0 of 2 organisations have signed")).to_be_visible()
    a11y.check(ada)

    # Ada mistypes her password first.
    flows.fill_signature(ada, world.people["ada"], "General Secretary", password="wrong password")
    password = ada.get_by_label("Your password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(ada.locator("#password-error")).to_be_visible()
    expect(ada.get_by_text("0 of 2 organisations have signed")).to_be_visible()
    a11y.check(ada)
    flows.fill_signature(ada, world.people["ada"], "General Secretary")
    expect(ada.get_by_text("Harbour Workers' Union has signed version 1.")).to_be_visible()
    expect(ada.get_by_text("1 of 2 organisations has signed")).to_be_visible()

    # Bo (GVA's signatory) finds it waiting on his home page.
    bo = browsing.login(world.people["bo"])
    waiting = bo.locator("section", has=bo.get_by_role("heading", name="Waiting for you"))
    expect(waiting).to_contain_text("waits for the signature of Green Valleys Alliance")
    waiting.get_by_role("link", name=f"“{title}”").click()
    expect(bo.get_by_role("heading", name="Sign version 1")).to_be_visible()
    a11y.check(bo)
    flows.fill_signature(bo, world.people["bo"], "President")
    expect(bo.get_by_text("Green Valleys Alliance has signed version 1.")).to_be_visible()
    expect(bo.get_by_text("2 of 2 organisations have signed")).to_be_visible()

    flows.open_statement(ada, title)
    ada.get_by_role("link", name="Publish…").click()
    a11y.check(ada)
    flows.accept_next_dialog(ada)
    ada.get_by_role("button", name="Publish", exact=True).click()
    expect(ada.get_by_text("Published. This page is its permanent address.")).to_be_visible()
    public_url = ada.url

    # A reader, not logged in.
    reader = browsing.new_page()
    reader.goto(public_url)
    line = f"Joint Statement of Harbour Workers' Union and Green Valleys Alliance, {today()}"
    expect(reader.get_by_role("heading", level=1, name=title)).to_be_visible()
    expect(reader.locator(".signatory-line")).to_have_text(line)
    expect(reader.locator("ol.paragraphs .text")).to_have_text(PARAGRAPHS)
    expect(reader.locator(".signatories")).to_contain_text("Bo Soto, President")
    a11y.check(reader)
    reader.get_by_role("link", name="certificate of signatures").click()
    expect(reader.locator(".certificate-signatures > li")).to_have_count(2)
    a11y.check(reader)
    reader.go_back()
    # The plain text is downloaded (it would open in the tab), byte for byte as published.
    with reader.expect_download() as download:
        reader.get_by_role("link", name="plain text").click()
    expected = f"{title}\n\n{line}\n\n" + "\n\n".join(f"{n}. {p}" for n, p in enumerate(PARAGRAPHS, 1)) + "\n"
    assert download.value.suggested_filename.endswith(".txt")
    with open(download.value.path(), encoding="utf-8") as saved:
        assert saved.read() == expected


def test_e_reopen_after_one_signature_voids_it(world, browsing, a11y):
    title = "Wages Before Profits"
    ada = browsing.login(world.people["ada"])
    new_statement(world, ada, title)
    flows.open_for_amendments(ada, title, rule="Coordinator decides")
    flows.freeze(ada, title)
    flows.fill_signature(ada, world.people["ada"], "General Secretary")
    expect(ada.get_by_text("1 of 2 organisations has signed")).to_be_visible()

    flows.open_statement(ada, title)
    ada.get_by_role("link", name="Reopen for amendments…").click()
    expect(ada.get_by_text("1 signature will become void")).to_be_visible()
    a11y.check(ada)
    ada.get_by_role("button", name="Reopen for amendments").click()
    expect(ada.get_by_text("1 signature(s) are now void")).to_be_visible()
    expect(ada.locator(".statement-head .badge")).to_have_text("amending")

    # Signing starts again from nothing; the old signature stays in the history, marked void.
    flows.freeze(ada, title)
    expect(ada.get_by_text("0 of 2 organisations have signed")).to_be_visible()
    earlier = ada.locator("section", has=ada.get_by_role("heading", name="Earlier signatures"))
    expect(earlier.locator("li")).to_have_count(1)
    expect(earlier.locator("li")).to_contain_text("Void")
    expect(earlier.locator("li")).to_contain_text("Harbour Workers' Union: Ada Pereira, General Secretary")
    a11y.check(ada)
