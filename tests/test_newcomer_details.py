"""The small things a newcomer tripped over (issue 13, point 5): wording, spacing, the favicon, downloads,
the audit trail naming the amendment, phone layout rules, e-mail addresses with control characters."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.accounts import operations as accounts
from app.amending import operations as amending
from app.drafting.importer import parse_statement
from app.errors import InvalidInput
from app.extensions import db
from app.models import Notification
from tests import factories
from tests.conftest import Browser
from tests.test_notifications import make_world, propose

STATIC = Path(__file__).resolve().parents[1] / "app" / "static"


@pytest.fixture
def w(app):
    factories.admin()
    return make_world(datetime.now(UTC))


@pytest.mark.parametrize("stance,said", [("support", "supports"), ("oppose", "opposes"),
                                         ("abstain", "abstains on")])
def test_position_subject_reads_as_english(w, stance, said):
    """"Harbour Workers' Union abstains on your amendment #2", not "abstains your amendment"."""
    amendment = propose(w, w.del_b, w.b, "The harbour must stay open to each worker.")
    amending.take_position(amendment, w.del_a, w.a, stance=stance, reason="", now=w.now)
    db.session.commit()
    note = db.session.query(Notification).filter_by(kind="amendment_activity").one()
    assert note.subject == f"Harbour Workers' Union {said} your amendment #{amendment.id}"


def test_importer_note_counts_its_words():
    """One stray word is "The word … was left out"; several are "The words … were left out"."""
    one = parse_statement("On Rivers\n\nJoint Statement of A and B, 1 March 2026 final\n\n1. Rivers.\n")
    assert any(n.startswith("The word “final” after the date in the signatory line was left out;") for n in one.notes)
    two = parse_statement("On Rivers\n\nJoint Statement of A and B, 1 March 2026 final text\n\n1. Rivers.\n")
    assert any(n.startswith("The words “final text” after the date in the signatory line were left out;")
               for n in two.notes)


def test_header_separates_the_countdown_from_what_follows(app):
    """"(in 13 days, 13 hours) · publishes": each part of the signing line is set off by " · "."""
    from app.signing import operations as signing

    factories.admin()
    org = factories.organisation("Harbour Workers Union", slug="hwu")
    coordinator = factories.member(org, "delegate")
    statement = factories.statement(coordinator, org)
    now = datetime.now(UTC)
    amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=now)
    signing.freeze(statement, coordinator, signing_deadline=now + timedelta(days=13),
                   planned_publication_date=(now + timedelta(days=14)).date(), auto_publish=True, now=now)
    db.session.commit()
    browser = Browser(app.test_client())
    browser.login(coordinator.email)
    page = browser.get(f"/statements/{statement.id}").get_data(as_text=True)
    line = page[page.index("Frozen for signing"):page.index("</p>", page.index("Frozen for signing"))]
    assert "</time> · planned publication" in line and " · publishes automatically" in line
    assert re.search(r"</code>\s+· sign by <time", line), line


def test_audit_trail_names_the_amendment(w, app):
    """"accepted amendment #N" with a link, and "took a position on amendment #N"."""
    amendment = propose(w, w.del_b, w.b, "The harbour must stay open to each worker.")
    amending.take_position(amendment, w.del_c, w.c, stance="support", reason="", now=w.now)
    amending.accept(amendment, w.coordinator, text_version=None, now=w.now + timedelta(minutes=5))
    db.session.commit()
    browser = Browser(app.test_client())
    browser.login(w.coordinator.email)
    page = html.unescape(browser.get(f"/statements/{w.statement.id}/audit").get_data(as_text=True))
    link = f'<a href="/amendments/{amendment.id}">amendment #{amendment.id}</a>'
    assert f"accepted {link}" in page and f"proposed {link}" in page and f"took a position on {link}" in page
    assert "accepted an amendment" not in page


def test_favicon_is_served_and_linked(app, client):
    """/favicon.ico answers (no 404 logged on every page), even before setup; pages link the icon."""
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00" and response.data[22:26] == b"\x89PNG"
    factories.admin()
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in page


def test_text_files_are_offered_as_downloads(app, client):
    """.txt, .md, .docx and .json under "Download" carry the download attribute (they would open in the tab)."""
    from tests.test_public import Published

    pub = Published(app)
    page = client.get(f"/p/{pub.slug}").get_data(as_text=True)
    for ext in ("txt", "md", "docx", "json"):
        assert f'href="/p/{pub.slug}.{ext}" download="{pub.slug}.{ext}"' in page


def test_waiting_labels_are_words_without_a_question_mark():
    """The "Waiting" stance had a "?" before it, which looked like a missing icon."""
    css = (STATIC / "concord.css").read_text()
    rule = css[css.index(".stance-silent"):].split("\n", 1)[0]
    assert "content" not in rule


def _media_blocks(css: str, query: str) -> list[str]:
    """The bodies of every ``query`` block of a style sheet (braces matched)."""
    blocks, start = [], css.find(query)
    while start != -1:
        opening = css.index("{", start)
        depth, end = 0, opening
        for end in range(opening, len(css)):
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            if depth == 0:
                break
        blocks.append(css[opening + 1:end])
        start = css.find(query, end)
    return blocks


def test_phone_rules_fold_the_menu_and_unbox_the_text_to_sign():
    """On narrow screens the menu folds behind a button and the canonical text is not a small scroll box."""
    css = (STATIC / "concord.css").read_text()
    phone = "\n".join(_media_blocks(css, "@media (max-width: 40rem)"))
    assert "nav.collapsible ul { display: none; }" in phone
    assert ".canonical-text { max-height: none; overflow-y: visible; }" in phone
    js = (STATIC / "concord.js").read_text()
    assert 'toggle.setAttribute("aria-expanded"' in js and "invalid.focus()" in js


@pytest.mark.parametrize("address", ["a\tb@example.org", "ab@example.org\x0b", "a\x1fb@example.org",
                                     "a\u200bb@example.org", "a\x7f@example.org", "a\u2028@example.org",
                                     "ab@example.org\n"])
def test_addresses_with_control_characters_are_refused(app, address):
    """Control and invisible formatting characters in an address are refused, saying why."""
    with pytest.raises(InvalidInput, match="cannot contain control characters"):
        accounts.normalise_email(address)
    assert accounts.normalise_email("  Ab@Example.org ") == "ab@example.org"


def test_forms_refuse_control_characters_in_addresses_with_the_message(app):
    """The invitation and membership forms show the message under the field and change nothing."""
    from app.models import Invitation

    boss = factories.admin()
    browser = Browser(app.test_client())
    browser.login(boss.email)
    response = browser.post("/admin/invitations", {"inv-email": "a\x1fb@example.org"})
    assert response.status_code == 422
    assert "cannot contain control characters" in html.unescape(response.get_data(as_text=True))
    db.session.rollback()
    assert db.session.query(Invitation).count() == 0
    response = browser.post("/forgot-password", {"email": "a\tb@example.org"})
    assert response.status_code == 200 and "cannot contain control characters" in html.unescape(
        response.get_data(as_text=True))
