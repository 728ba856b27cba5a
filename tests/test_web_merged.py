"""The merged view page (/statements/<id>/merged) and its "Accept selected" form, through the web client."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Amendment, AuditEntry, Version
from tests.test_web_amendments import NASTY, PARAGRAPHS, World

P1 = PARAGRAPHS[0]  # "Cities are getting hotter every summer."
HOTTER = P1.replace("hotter", "much hotter")
SUMMER = P1.replace("summer", "single summer")
WARMER = P1.replace("hotter", "warmer")


@pytest.fixture
def w(app):
    world = World(app)
    world.open()
    return world


def _path(w, query: str = "") -> str:
    return f"/statements/{w.sid}/merged{query}"


def _ticks(page: str) -> dict[int, str]:
    return {int(i): f"{i}.{v}" for i, v in re.findall(r'name="accept" value="(\d+)\.(\d+)"', page)}


def test_the_page_shows_each_amendment_inline_labelled_with_collisions(w):
    hotter = w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    warmer = w.propose(w.tenant, w.tnn, paragraph_id=w.pids[0], text=WARMER)
    summer = w.propose(w.tenant, w.tnn, paragraph_id=w.pids[0], text=SUMMER)
    gone = w.propose(w.partner, w.gva, kind="delete", paragraph_id=w.pids[2])
    response = w.browser(w.partner).get(_path(w))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'#{hotter} GVA</a>' in page and f'#{warmer} TNN</a>' in page and f'#{summer} TNN</a>' in page
    assert "<ins>much </ins>" in page and "<del>hotter</del>" in page and "<ins>single </ins>" in page
    assert f'<del>{PARAGRAPHS[2]}</del>' in page and "Deletion" in page
    block = page[page.index(f'id="a-{hotter}"'):page.index(f'id="a-{warmer}"')]
    assert "collides" in block and f'Collides with <a href="#a-{warmer}">#{warmer}</a>' in block
    summer_block = page[page.index(f'id="a-{summer}"'):]
    assert "Collides" not in summer_block[:summer_block.index("</div></div>")]
    assert f'id="a-{gone}"' in page
    # Only the coordinator gets the boxes and the button.
    assert "Accept selected" not in page and not _ticks(page)
    assert ">Merged view</a>" in w.browser(w.partner).get(f"/statements/{w.sid}").get_data(as_text=True)


def test_user_text_is_escaped(w):
    w.propose(w.partner, w.gva, paragraph_id=w.pids[1], text=f"Every tenant deserves {NASTY}.")
    page = w.browser(w.coordinator).get(_path(w)).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_filters_and_bad_filter_values(w):
    hotter = w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    summer = w.propose(w.tenant, w.tnn, paragraph_id=w.pids[0], text=SUMMER)
    gone = w.propose(w.tenant, w.tnn, kind="delete", paragraph_id=w.pids[2])
    browser = w.browser(w.coordinator)
    page = browser.get(_path(w, f"?organisation={w.tnn.id}")).get_data(as_text=True)
    assert f'id="a-{summer}"' in page and f'id="a-{gone}"' in page and f'id="a-{hotter}"' not in page
    page = browser.get(_path(w, "?kind=delete")).get_data(as_text=True)
    assert f'id="a-{gone}"' in page and f'id="a-{summer}"' not in page
    page = browser.get(_path(w, "?rule=met&kind=modify")).get_data(as_text=True)  # the coordinator rule: all met
    assert f'id="a-{hotter}"' in page and f'id="a-{gone}"' not in page and "2 of 3 open amendments" in page
    for query, words in (("?organisation=abc", "Choose an organisation"), ("?organisation=99999999999", "organisation"),
                         (f"?organisation={w.outside.id}", "does not take part"), ("?kind=rewrite", "Choose a kind"),
                         ("?rule=maybe", "decision rule is met"), ("?organisation=%C2%B2", "Choose an organisation")):
        response = browser.get(_path(w, query))
        assert response.status_code == 400, query
        page = response.get_data(as_text=True)
        assert words in html.unescape(page), query
        assert f'id="a-{hotter}"' in page  # the refused filter is left out, the page still shows


def test_only_those_who_see_the_statement_see_the_page(w, app):
    w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    assert w.browser(w.outsider).get(_path(w)).status_code == 404
    assert app.test_client().get(_path(w)).status_code == 302  # to the login page
    assert w.browser(w.coordinator).get(f"/statements/{2**31 - 1}/merged").status_code == 404


def test_the_coordinator_accepts_two_changes_of_one_sentence_at_once(w):
    hotter = w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    summer = w.propose(w.tenant, w.tnn, paragraph_id=w.pids[0], text=SUMMER)
    browser = w.browser(w.coordinator)
    page = browser.get(_path(w)).get_data(as_text=True)
    ticks = _ticks(page)
    assert set(ticks) == {hotter, summer} and "Accept selected" in page
    response = browser.post(_path(w, "/accept"), {"accept": [ticks[hotter], ticks[summer]]}, form_page=_path(w))
    assert response.status_code == 302 and response.headers["Location"].endswith(_path(w))
    page = browser.get(_path(w)).get_data(as_text=True)
    assert f"Accepted #{hotter}, #{summer}: the text is now version 2." in page
    db.session.expire_all()
    assert "Cities are getting much hotter every single summer." in db.session.scalar(
        select(Version.canonical_text).where(Version.statement_id == w.sid, Version.number == 2))
    assert {a.status for a in db.session.scalars(select(Amendment))} == {"accepted"}


def test_a_refused_batch_changes_nothing_and_says_which(w):
    hotter = w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    warmer = w.propose(w.tenant, w.tnn, paragraph_id=w.pids[0], text=WARMER)
    browser = w.browser(w.coordinator)
    ticks = _ticks(browser.get(_path(w)).get_data(as_text=True))
    audit = db.session.scalar(select(func.count()).select_from(AuditEntry))
    response = browser.post(_path(w, "/accept"), {"accept": [ticks[hotter], ticks[warmer]]}, form_page=_path(w))
    assert response.status_code == 302
    page = html.unescape(browser.get(_path(w)).get_data(as_text=True))
    assert f"Nothing was accepted. #{warmer}: conflicts with the text once #{hotter} is applied" in page
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Version)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit
    assert {a.status for a in db.session.scalars(select(Amendment))} == {"open"}


def test_a_stale_tampered_or_unauthorised_accept_changes_nothing(w):
    hotter = w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    coordinator = w.browser(w.coordinator)
    for value, words in ((f"{hotter}.7", "changed since you opened it"), ("abc", "not understood"),
                         (f"{hotter}", "not understood"), (f"{2**31 - 1}.1", "not an amendment of this statement")):
        coordinator.post(_path(w, "/accept"), {"accept": value}, form_page=_path(w))
        page = html.unescape(coordinator.get(_path(w)).get_data(as_text=True))
        assert words in page, value
    coordinator.post(_path(w, "/accept"), {}, form_page=_path(w))
    assert "Tick the amendments" in coordinator.get(_path(w)).get_data(as_text=True)
    partner = w.browser(w.partner)
    partner.post(_path(w, "/accept"), {"accept": f"{hotter}.1"}, form_page=_path(w))
    assert "Only the coordinator" in partner.get(_path(w)).get_data(as_text=True)
    outsider = w.browser(w.outsider)
    assert outsider.post(_path(w, "/accept"), {"accept": f"{hotter}.1"}, form_page="/").status_code == 404
    # Without the CSRF token: refused too.
    assert coordinator.client.post(_path(w, "/accept"), data={"accept": f"{hotter}.1"}).status_code in (302, 400)
    db.session.expire_all()
    assert db.session.get(Amendment, hotter).status == "open"
    assert db.session.scalar(select(func.count()).select_from(Version)) == 1


def test_a_conditional_get_is_304_until_something_changes(w):
    hotter = w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    browser = w.browser(w.partner)
    browser.get("/")  # the welcome message, shown once
    first = browser.get(_path(w))
    etag = first.headers["ETag"]
    assert browser.get(_path(w), headers={"If-None-Match": etag}).status_code == 304
    # Another filter is another page.
    assert browser.get(_path(w, "?kind=modify"), headers={"If-None-Match": etag}).status_code == 200
    w.position(hotter, w.tenant, w.tnn, "oppose")
    assert browser.get(_path(w), headers={"If-None-Match": etag}).status_code == 200
