"""Issue 16: two organisations amend the same sentence four words apart; the coordinator accepts both from
the text with all its amendments, and the published text holds both changes."""

from __future__ import annotations

import os
import re

from playwright.sync_api import expect

from tests.browser import flows
from tests.browser.test_journeys import new_statement

SENTENCE = "The council meets on the first Monday, with minutes published online."
FRIDAY = SENTENCE.replace("Monday", "Friday")
PROMPTLY = SENTENCE.replace("minutes published", "minutes promptly published")
BOTH = "The council meets on the first Friday, with minutes promptly published online."
SECOND = "Every member may attend and speak."
SCREENSHOTS = os.environ.get("CONCORD_SCREENSHOTS_DIR")  # set it to look at the page


def test_two_changes_of_one_sentence_accepted_together_are_published(world, browsing, a11y):
    title = "Open Councils in Every Town"
    ada = browsing.login(world.people["ada"])  # HWU's delegate and signatory; she coordinates
    new_statement(world, ada, title, paragraphs=[SENTENCE, SECOND])
    flows.open_for_amendments(ada, title, rule="Coordinator decides")
    friday = flows.propose(ada, title, "modify", 1, FRIDAY, preview=False)
    bea = browsing.login(world.people["bea"])  # GVA's delegate
    promptly = flows.propose(bea, title, "modify", 1, PROMPTLY, preview=False)

    # Bea sees both in the text, labelled, not colliding, and no boxes to accept with.
    flows.open_statement(bea, title)
    bea.get_by_role("navigation", name="Statement").get_by_role("link", name="Merged view").click()
    expect(bea.get_by_role("link", name=f"#{friday} HWU")).to_be_visible()
    expect(bea.get_by_role("link", name=f"#{promptly} GVA")).to_be_visible()
    expect(bea.get_by_role("button", name="Accept selected")).to_have_count(0)
    # On a phone: nothing wider than the screen.
    phone = browsing.login(world.people["bea"], viewport={"width": 360, "height": 740})
    phone.goto(bea.url)
    expect(phone.get_by_role("link", name=f"#{promptly} GVA")).to_be_visible()
    assert phone.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")

    flows.open_statement(ada, title)
    ada.get_by_role("navigation", name="Statement").get_by_role("link", name="Merged view").click()
    expect(ada.get_by_role("heading", level=1, name=title)).to_be_visible()
    first = flows.paragraph(ada, 1)
    expect(first.locator(".text")).to_have_text(SENTENCE)
    mine = ada.locator(f"#a-{friday}")
    theirs = ada.locator(f"#a-{promptly}")
    expect(mine.locator("del")).to_have_text("Monday")
    expect(mine.locator("ins")).to_have_text("Friday")
    expect(theirs.locator("ins")).to_have_text(re.compile(r"promptly"))
    expect(ada.locator(".merged-amendment.collides")).to_have_count(0)
    a11y.check(ada)
    if SCREENSHOTS:
        ada.screenshot(path=f"{SCREENSHOTS}/merged-desktop.png", full_page=True)
        phone.screenshot(path=f"{SCREENSHOTS}/merged-phone.png", full_page=True)
    ada.get_by_role("checkbox", name=f"Accept #{friday}").check()
    ada.get_by_role("checkbox", name=f"Accept #{promptly}").check()
    ada.get_by_role("button", name="Accept selected").first.click()
    expect(ada.locator(".flash-success")).to_have_text(
        f"Accepted #{min(friday, promptly)}, #{max(friday, promptly)}: the text is now version 2.")
    expect(flows.paragraph(ada, 1).locator(".text")).to_have_text(BOTH)
    expect(ada.locator(".merged-amendment")).to_have_count(0)
    a11y.check(ada)

    flows.freeze(ada, title)
    flows.fill_signature(ada, world.people["ada"], "General Secretary")
    expect(ada.get_by_text("Harbour Workers' Union has signed version 2.")).to_be_visible()
    bo = browsing.login(world.people["bo"])  # GVA's signatory
    flows.sign(bo, title, world.people["bo"], "President")
    flows.publish(ada, title)
    published = ada.request.get(ada.url.split("#")[0] + ".txt")
    assert published.ok
    text = published.text()
    assert f"\n\n1. {BOTH}\n\n2. {SECOND}\n" in text
    assert "Monday" not in text
