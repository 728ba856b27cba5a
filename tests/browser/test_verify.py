"""The verify page in Chromium: a pasted copy found, an altered copy's diff, the seal checked in the browser
(Web Crypto, and the bundled verifier where Web Crypto is missing), and every verifier rule in verify.js."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from app.publishing import seal
from tests.browser import flows
from tests.test_publishing import build_manifest
from tests.verifier_rules import cases

TITLE = "Rivers Recorded in the Archive"
TEXT = (f"{TITLE}\n\nJoint Statement of Someone, 3 May 2021\n\n"
        "1.\u00a0\u00a0 Rivers belong to everyone who lives along them.\n\n"
        "2.\u00a0\u00a0 Dams must not be built without the consent of the valley.\n")
NO_SUBTLE = "Object.defineProperty(window.crypto, 'subtle', {get() { return undefined; }, configurable: true});"


@pytest.fixture(scope="module")
def recorded(world, browser, base_url):
    """Ada records an archived statement signed by both organisations: published at once."""
    b = flows.Browsing(browser, base_url)
    try:
        ada = b.login(world.people["ada"])
        ada.goto("/statements/archive")
        ada.get_by_label("The statement as published").fill(TEXT)
        ada.get_by_label("Date of the original publication").fill("2021-05-03")
        rows = ada.locator(".signatory-row")
        for i, (org, short, signer) in enumerate((("A", "HWU", "Ada Pereira"), ("B", "GVA", "Bo Soto"))):
            row = rows.nth(i)
            row.get_by_label("Organisation").select_option(label=f"{world.orgs[org]} ({short})")
            row.get_by_label("Signed by (name as printed)").fill(signer)
            row.get_by_label("Title as printed").fill("Secretary")
        ada.get_by_role("button", name="Record and publish").click()
        expect(ada.get_by_text("Recorded and published.")).to_be_visible()
        slug = ada.url.rsplit("/p/", 1)[1]
        manifest = ada.request.get(f"/p/{slug}.json").body()
        text = ada.request.get(f"/p/{slug}.txt").body()
        yield slug, manifest, text
    finally:
        b.close()


def _check_in_browser(page, manifest: bytes, text: bytes | None) -> None:
    page.locator("#local-manifest").set_input_files({"name": "m.json", "mimeType": "application/json",
                                                     "buffer": manifest})
    if text is not None:
        page.locator("#local-text").set_input_files({"name": "t.txt", "mimeType": "text/plain", "buffer": text})
    page.get_by_role("button", name="Check in my browser").click()


def test_pasted_copy_is_found_and_an_altered_copy_shows_its_diff(recorded, browsing, a11y):
    slug, _, text = recorded
    page = browsing.new_page()
    page.goto("/verify")
    a11y.check(page)
    page.get_by_label("Or paste the text").fill(text.decode("utf-8"))
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator(".verdict").first).to_contain_text("Identical: this text is byte for byte the plain text")
    expect(page.locator(".verify-result")).to_contain_text("Ada Pereira")
    a11y.check(page)

    altered = text.decode("utf-8").replace("without the consent of the valley", "if anybody wants")
    page.get_by_label("Or paste the text").fill(altered)
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator(".verdict").first).to_contain_text("Not the published text")
    change = page.locator(".verify-changes li")
    expect(change).to_have_count(1)
    expect(change.locator("h3")).to_have_text("Paragraph 2")
    expect(change.locator("ins")).to_have_text("if anybody wants")
    expect(change.locator("del")).to_have_text("without the consent of the valley")
    a11y.check(page)


@pytest.mark.parametrize("bundled", [False, True], ids=["web-crypto", "bundled-verifier"])
def test_the_seal_is_checked_in_the_browser(recorded, browsing, bundled):
    slug, manifest, text = recorded
    page = browsing.new_page()
    if bundled:
        page.add_init_script(NO_SUBTLE)
    page.goto(f"/p/{slug}/verify")
    engine = "bundled verifier" if bundled else "Web Crypto"
    _check_in_browser(page, manifest, text)
    result = page.locator("[data-local-result]")
    expect(result).to_contain_text(f"Intact: the manifest of “{TITLE}” is sealed by this platform's key, and the "
                                   f"plain text is the one it names (checked by your browser, {engine}).")
    tampered = json.loads(manifest)
    tampered["signatures"][1]["signer_name"] = "Somebody Else"
    _check_in_browser(page, json.dumps(tampered, ensure_ascii=False).encode("utf-8"), text + b" ")
    expect(result).to_contain_text(f"Not intact (checked by your browser, {engine}):")
    expect(result.locator("li")).to_have_text([
        "The seal does not match the manifest: something in it (text, date, signatures, participants...) was changed "
        "after the platform sealed it.",
        "The plain text you chose is not the text this manifest names: its SHA-256 differs."])


@pytest.mark.parametrize("bundled", [False, True], ids=["web-crypto", "bundled-verifier"])
def test_every_rule_of_the_verifier_in_the_browser(base_url, browsing, bundled, world):
    """verify.js reports exactly the one problem of each broken manifest, as verify.py does."""
    key = seal.Ed25519PrivateKey.generate()
    table = cases(key)
    page = browsing.new_page()
    if bundled:
        page.add_init_script(NO_SUBTLE)
    page.goto("/verify")
    found = page.evaluate(
        """async ([table, intact, key]) => {
             const out = {};
             for (const [rule, manifest] of table) {
               out[rule] = (await ConcordVerify.verifyManifest(manifest, key)).problems;
             }
             out["(intact)"] = await ConcordVerify.verifyManifest(intact, key);
             return out;
           }""",
        [[[rule, manifest] for rule, manifest, _ in table], build_manifest(key), seal.public_key_b64(key)])
    assert found.pop("(intact)") == {"problems": [], "engine": "bundled verifier" if bundled else "Web Crypto"}
    assert found == {rule: [problem] for rule, _, problem in table}
