"""Keyboard only, without JavaScript, and on a phone: the pages still do their job."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser import flows
from tests.browser.test_journeys import PARAGRAPHS, new_statement

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}
LONG_WORD = "https://example.org/" + "a-very-long-address-that-has-no-space-to-break-at-" * 3 + "end"

FOCUSED = """() => { const e = document.activeElement; const s = getComputedStyle(e);
  return {id: e.id, tag: e.tagName, text: (e.textContent || '').trim().slice(0, 40),
          outline: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def test_keyboard_only_signing_with_visible_focus(world, browsing, a11y):
    title = "Keyboard Signing Works"
    ada = browsing.login(world.people["ada"])
    new_statement(world, ada, title)
    flows.open_for_amendments(ada, title, rule="Coordinator decides")
    flows.freeze(ada, title)
    ada.reload()  # a fresh page: focus starts at the top

    # The first Tab reaches the skip link, which becomes visible; Enter jumps to the content.
    ada.keyboard.press("Tab")
    skip = ada.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["x"] >= 0
    ada.keyboard.press("Enter")
    expect(ada).to_have_url(re.compile(r"#main$"))

    # Tab through the page to the form; every stop shows a focus outline.
    stops = []
    for _ in range(80):
        ada.keyboard.press("Tab")
        now = focused(ada)
        stops.append(now)
        assert now["outline"] != "none" and now["width"] >= 2, f"no visible focus on {now}"
        if now["id"] == "organisation":
            break
    else:
        raise AssertionError(f"Tab never reached the sign form; stops: {stops}")

    order = []
    for _ in range(4):
        ada.keyboard.press("Tab")
        now = focused(ada)
        assert now["outline"] == "solid" and now["width"] >= 3, f"no visible focus on {now}"
        order.append(now["id"])
        if now["id"] == "signer_title":
            ada.keyboard.type("Treasurer")
        elif now["id"] == "authorised":
            ada.keyboard.press("Space")
        elif now["id"] == "password":
            ada.keyboard.type(world.people["ada"].password)
    assert order == ["signer_name", "signer_title", "authorised", "password"]
    expect(ada.get_by_role("checkbox", name=re.compile("^I am authorised to sign"))).to_be_checked()
    ada.keyboard.press("Enter")
    expect(ada.get_by_text("Harbour Workers' Union has signed version 1.")).to_be_visible()
    expect(ada.locator("ul.signatures")).to_contain_text("Ada Pereira, Treasurer")


def test_without_javascript_a_proposal_and_a_signature(world, browsing, a11y):
    title = "Works Without Scripts"
    no_js = {"java_script_enabled": False}
    ada = browsing.login(world.people["ada"], **no_js)
    new_statement(world, ada, title)
    flows.open_for_amendments(ada, title, rule="Coordinator decides")

    bea = browsing.login(world.people["bea"], **no_js)

    def check_preview(page):
        expect(page.locator("#preview ins")).to_have_text("twelve")
        expect(page.locator("#preview del")).to_have_text("eleven")

    amendment = flows.propose(bea, title, "modify", 2, PARAGRAPHS[1].replace("eleven", "twelve"),
                              rationale="It has been twelve weeks now.", check_preview=check_preview)
    flows.take_position(bea, title, amendment, "Support")
    flows.accept_amendment(ada, title, amendment)
    # Without scripts the freeze button submits straight away (no confirmation dialog).
    flows.freeze(ada, title)
    expect(ada.get_by_role("heading", name="Sign version 2")).to_be_visible()

    bo = browsing.login(world.people["bo"], **no_js)
    flows.sign(bo, title, world.people["bo"], "President")
    expect(bo.get_by_text("1 of 2 organisations has signed")).to_be_visible()
    expect(bo.locator("ul.signatures")).to_contain_text("Bo Soto, President")
    expect(bo.locator(".canonical-text")).to_contain_text("2. Dockworkers in three ports have gone without wages "
                                                          "for twelve weeks.")


def assert_fits(page, what: str) -> None:
    widths = page.evaluate("() => ({doc: document.documentElement.scrollWidth, win: window.innerWidth})")
    assert widths["doc"] <= 390, f"{what}: the page scrolls sideways at 390 px ({widths})"
    overflowing = page.evaluate(
        "() => [...document.querySelectorAll('.diff, .text, .canonical-text, .rationale')]"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.className)")
    assert not overflowing, f"{what}: text does not wrap in {overflowing}"


def test_phone_width_statement_amendment_and_signing(world, browsing, a11y):
    title = "Readable on a Phone"
    paragraphs = [*PARAGRAPHS[:3], f"Read the full report at {LONG_WORD} before the meeting."]
    ada = browsing.login(world.people["ada"])
    new_statement(world, ada, title, paragraphs)
    flows.open_for_amendments(ada, title, rule="Coordinator decides")

    bea = browsing.login(world.people["bea"], **PHONE)
    flows.open_statement(bea, title)
    assert_fits(bea, "statement page")
    a11y.check(bea)
    flows.propose(bea, title, "modify", 4, paragraphs[3].replace("before", "well before") + " "
                              + LONG_WORD.replace("end", "annex"), rationale=f"See also {LONG_WORD}.",
                              check_preview=lambda page: assert_fits(page, "proposal preview"))
    expect(bea.locator(".diff.card ins").first).to_be_visible()
    assert_fits(bea, "amendment page")
    a11y.check(bea)

    flows.freeze(ada, title)
    bo = browsing.login(world.people["bo"], **PHONE)
    flows.open_statement(bo, title)
    bo.get_by_role("link", name="Read and sign").click()
    expect(bo.get_by_role("heading", name="Sign version 1")).to_be_visible()
    assert_fits(bo, "sign page")
    a11y.check(bo)
    flows.fill_signature(bo, world.people["bo"], "President")
    expect(bo.get_by_text("Green Valleys Alliance has signed version 1.")).to_be_visible()
    assert_fits(bo, "sign page after signing")


def test_live_diff_and_copy_button_with_javascript(world, browsing, a11y):
    title = "Live Diff While Typing"
    ada = browsing.login(world.people["ada"])
    new_statement(world, ada, title)
    flows.open_for_amendments(ada, title, rule="Coordinator decides")
    flows.open_statement(ada, title)
    flows.paragraph(ada, 1).get_by_role("link", name="Amend ¶ 1", exact=True).click()
    box = ada.get_by_label("Proposed text")
    original = box.input_value()
    first_word = original.split()[0]
    box.fill(original.replace(first_word, "<b>Rewritten</b>", 1))
    live = ada.locator("section.live-preview .diff")
    expect(live.locator("ins")).to_have_text("<b>Rewritten</b>")  # typed markup stays text
    expect(live.locator("del")).to_have_text(first_word)
    assert live.locator("b").count() == 0
    # Deleted before inserted, as the saved diff shows them (diff-match-patch's order).
    assert live.evaluate("el => [...el.querySelectorAll('ins, del')].map(n => n.tagName)") == ["DEL", "INS"]
    # The saved preview agrees.
    ada.get_by_role("button", name="Preview the change").click()
    saved = ada.locator("section#preview .diff")
    assert saved.evaluate("el => [...el.querySelectorAll('ins, del')].map(n => n.tagName)") == ["DEL", "INS"]
    a11y.check(ada)
    # Freeze, then the frozen hash on the sign page can be copied with one click.
    ada.get_by_role("link", name="Cancel").click()
    flows.freeze(ada, title)
    ada.context.grant_permissions(["clipboard-read", "clipboard-write"])
    ada.get_by_text("full hash").first.click()
    ada.get_by_role("button", name="Copy the hash").first.click()
    expect(ada.get_by_role("button", name="Copy the hash").first).to_have_text("Copied")
    copied = ada.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(r"[0-9a-f]{64}", copied)
