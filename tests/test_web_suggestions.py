"""Web tests of suggestions to an amendment and of positions that know their text (issue 16, items 2 and 4)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.amending import suggestions as suggesting
from app.extensions import db
from app.models import Amendment, Position, Suggestion
from tests.test_web_amendments import NASTY, PARAGRAPHS, World, count, flashes, now, page_text, reload

P1 = PARAGRAPHS[0]  # "Cities are getting hotter every summer."
P1_TREES = "Cities are getting hotter every summer, so plant trees."
P1_FAST = "Cities are getting hotter faster every summer."


@pytest.fixture
def opened(app) -> World:
    """The statement of the amendment web tests, open for amendments (the coordinator decides)."""
    world = World(app)
    world.open()
    return world


def _suggestions() -> list[tuple]:
    reload()
    return list(db.session.execute(select(Suggestion.organisation_id, Suggestion.proposed_text, Suggestion.status,
                                          Suggestion.decision_reason).order_by(Suggestion.id)))


def _amendment_state(target: int) -> tuple:
    reload()
    a = db.session.get(Amendment, target)
    return a.proposed_text, a.text_version, a.round, a.status


def test_suggest_adopt_and_the_new_round_on_the_page(opened):
    """TNN's delegate suggests on the page (prefilled with the amendment's text), the diff is shown escaped;
    GVA's proposer adopts it; the page then shows TNN's earlier support as given on an earlier text."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text=P1_TREES)
    opened.position(target, opened.tenant, opened.tnn, "support")
    tnn = opened.browser(opened.tenant)
    page = page_text(tnn.get(f"/amendments/{target}"))
    assert "Suggest a change" in page
    assert re.search(r'<textarea[^>]*id="suggest-text"[^>]*>\s*Cities are getting hotter every summer, so plant '
                     r'trees\.</textarea>', page)
    assert re.search(r'<input[^>]*name="text_version"[^>]*type="hidden" value="1"', page)
    response = tnn.post(f"/amendments/{target}/suggestions", {
        "organisation": str(opened.tnn.id), "text": P1_TREES.replace("trees", "trees " + NASTY),
        "rationale": "Shade " + NASTY, "text_version": "1"}, form_page=f"/amendments/{target}")
    assert response.status_code == 302
    [(org, text, status, _)] = _suggestions()
    assert (org, status) == (opened.tnn.id, "open")
    suggestion_id = db.session.scalar(select(Suggestion.id))
    assert response.location == f"/amendments/{target}#s-{suggestion_id}"
    page = page_text(tnn.get(f"/amendments/{target}"))
    assert "Your suggestion is sent to the proposer" in " ".join(flashes(page))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert re.search(r'<ins>[^<]*&lt;script&gt;', page)  # the suggestion's diff, escaped
    assert "/adopt" not in page  # TNN cannot adopt
    gva = opened.browser(opened.partner)
    page = page_text(gva.get(f"/amendments/{target}"))
    assert f'action="/suggestions/{suggestion_id}/adopt"' in page
    assert f'action="/suggestions/{suggestion_id}/decline"' in page
    response = gva.post(f"/suggestions/{suggestion_id}/adopt", {}, form_page=f"/amendments/{target}")
    assert response.status_code == 302 and response.location == f"/amendments/{target}#s-{suggestion_id}"
    assert _amendment_state(target) == (P1_TREES.replace("trees", "trees " + NASTY), 2, 2, "open")
    page = page_text(gva.get(f"/amendments/{target}"))
    assert "Suggestion adopted" in " ".join(flashes(page))
    # TNN's support was given on the earlier text: no longer counted, linked to what changed.
    assert "1 support · 0 oppose · 0 abstain" in page
    assert re.search(r"Tenants Network \(TNN\)\s*<span class=\"muted\">· Support", page)
    assert f'href="/amendments/{target}/changes?since=1"' in page
    changes = page_text(gva.get(f"/amendments/{target}/changes?since=1"))
    assert "A suggestion adopted by its proposer" in changes and "&lt;script&gt;" in changes
    assert "<script>alert" not in changes


def test_bad_suggestions_are_refused_with_a_message_and_change_nothing(opened):
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text=P1_TREES)
    tnn = opened.browser(opened.tenant)
    for data, message in (
        ({"text": P1_TREES, "text_version": "1"}, "same as the amendment"),
        ({"text": P1, "text_version": "1"}, "change nothing"),
        ({"text": P1_FAST, "text_version": "0"}, "changed since you opened it"),
        ({"text": P1_FAST}, "This field is required"),
        ({"text": "x" * 10_001, "text_version": "1"}, "10,000"),
    ):
        response = tnn.post(f"/amendments/{target}/suggestions", {"organisation": str(opened.tnn.id), **data},
                            form_page=f"/amendments/{target}")
        assert response.status_code == 422 and message in page_text(response), message
    # For an organisation one does not speak for; by a signatory (who speaks for none); by an outsider.
    response = tnn.post(f"/amendments/{target}/suggestions", {"organisation": str(opened.gva.id),
                                                              "text": P1_FAST, "text_version": "1"},
                        form_page=f"/amendments/{target}")
    assert response.status_code == 422
    signatory = opened.browser(opened.signatory)
    assert "Suggest a change" not in page_text(signatory.get(f"/amendments/{target}"))
    response = signatory.post(f"/amendments/{target}/suggestions", {"organisation": str(opened.gva.id),
                                                                    "text": P1_FAST, "text_version": "1"},
                              form_page=f"/amendments/{target}")
    assert response.status_code == 403
    outsider = opened.browser(opened.outsider)
    response = outsider.post(f"/amendments/{target}/suggestions", {"organisation": str(opened.outside.id),
                                                                   "text": P1_FAST, "text_version": "1"},
                             form_page=f"/statements/{opened.sid}/amendments/new")
    assert response.status_code == 404
    # Without a CSRF token.
    response = tnn.client.post(f"/amendments/{target}/suggestions", data={"organisation": str(opened.tnn.id),
                                                                          "text": P1_FAST, "text_version": "1"})
    assert response.status_code in (400, 422)
    assert _suggestions() == [] and _amendment_state(target) == (P1_TREES, 1, 1, "open")


def test_decline_needs_a_reason_and_others_cannot_decide(opened):
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text=P1_TREES)
    made = suggesting.suggest(target, opened.tenant, opened.tnn, text=P1_FAST, now=now())
    db.session.commit()
    sid = made.id
    gva, tnn = opened.browser(opened.partner), opened.browser(opened.tenant)
    response = gva.post(f"/suggestions/{sid}/decline", {"reason": " "}, form_page=f"/amendments/{target}")
    assert response.status_code == 302
    assert "Give a reason for declining" in " ".join(flashes(page_text(gva.get(f"/amendments/{target}"))))
    for path in (f"/suggestions/{sid}/adopt", f"/suggestions/{sid}/decline"):
        tnn.post(path, {"reason": "Mine."}, form_page=f"/amendments/{target}")
    assert _suggestions()[0][2] == "open" and _amendment_state(target) == (P1_TREES, 1, 1, "open")
    assert "Only the amendment's proposer" in " ".join(flashes(page_text(tnn.get(f"/amendments/{target}"))))
    outsider = opened.browser(opened.outsider)
    assert outsider.post(f"/suggestions/{sid}/adopt", {}, form_page=f"/statements/{opened.sid}/amendments/new"
                         ).status_code == 404
    assert gva.post("/suggestions/987654/adopt", {}, form_page=f"/amendments/{target}").status_code == 404
    response = gva.post(f"/suggestions/{sid}/decline", {"reason": "We keep it short <b>really</b>."},
                        form_page=f"/amendments/{target}")
    assert response.status_code == 302
    assert _suggestions()[0][2:] == ("declined", "We keep it short <b>really</b>.")
    page = page_text(tnn.get(f"/amendments/{target}"))
    assert "Declined" in page and "We keep it short &lt;b&gt;really&lt;/b&gt;." in page
    # A replayed POST changes nothing and says why.
    gva.post(f"/suggestions/{sid}/decline", {"reason": "Again."}, form_page=f"/amendments/{target}")
    assert "already declined" in " ".join(flashes(page_text(gva.get(f"/amendments/{target}"))))
    assert _suggestions()[0][3] == "We keep it short <b>really</b>."


def test_the_author_withdraws(opened):
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text=P1_TREES)
    made = suggesting.suggest(target, opened.tenant, opened.tnn, text=P1_FAST, now=now())
    db.session.commit()
    tnn = opened.browser(opened.tenant)
    assert f'action="/suggestions/{made.id}/withdraw"' in page_text(tnn.get(f"/amendments/{target}"))
    assert "/withdraw\"" not in page_text(opened.browser(opened.partner).get(f"/amendments/{target}")).replace(
        f"/amendments/{target}/withdraw\"", "")
    tnn.post(f"/suggestions/{made.id}/withdraw", {}, form_page=f"/amendments/{target}")
    assert _suggestions()[0][2] == "withdrawn"


def test_positions_as_proposer_and_cosponsor_on_the_page(opened):
    """GVA proposes, TNN co-sponsors: both listed as supporting, marked so; withdrawable by a later one."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text=P1_TREES)
    tnn = opened.browser(opened.tenant)
    tnn.post(f"/amendments/{target}/sponsor", {"organisation": str(opened.tnn.id)}, form_page=f"/amendments/{target}")
    page = page_text(tnn.get(f"/amendments/{target}"))
    assert "2 support · 0 oppose · 0 abstain" in page
    assert re.search(r'Green Valleys Alliance \(GVA\)</strong>\s*<span class="given-as">as proposer', page)
    assert re.search(r'Tenants Network \(TNN\)</strong>\s*<span class="given-as">as co-sponsor', page)
    tnn.post(f"/amendments/{target}/positions", {"organisation": str(opened.tnn.id), "stance": "oppose"},
             form_page=f"/amendments/{target}")
    page = page_text(tnn.get(f"/amendments/{target}"))
    assert "1 support · 1 oppose · 0 abstain" in page and "as co-sponsor" not in page
    assert count(Position) == 3


def test_a_position_before_a_clean_rebase_is_flagged_and_still_counts(opened):
    """TNN supports GVA's change; another change to the same paragraph is accepted; GVA's is rebased: TNN
    still counts, marked as given on an earlier text, and the link shows the accepted change around it."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text=P1_TREES)
    opened.position(target, opened.tenant, opened.tnn, "support")
    other = opened.propose(opened.tenant, opened.tnn, paragraph_id=opened.pids[0], text=P1_FAST)
    opened.accept(other)
    reload()
    rebased = db.session.get(Amendment, target)
    assert (rebased.status, rebased.proposed_text) == ("rebased", "Cities are getting hotter faster every summer, "
                                                                  "so plant trees.")
    page = page_text(opened.browser(opened.coordinator).get(f"/amendments/{target}"))
    assert "2 support · 0 oppose · 0 abstain" in page
    assert page.count("given on an earlier text") == 2  # GVA's (by proposing) and TNN's
    changes = page_text(opened.browser(opened.coordinator).get(f"/amendments/{target}/changes?since=1"))
    assert "Carried over onto a new text (rebased)" in changes
    assert f'href="/amendments/{other}">#{other}</a> was accepted' in changes
    assert "<ins>faster </ins>" in changes
    assert opened.browser(opened.coordinator).get(f"/amendments/{target}/changes?since=9").status_code == 404
    assert opened.browser(opened.outsider).get(f"/amendments/{target}/changes?since=1").status_code == 404


def test_open_suggestions_wait_for_the_proposer_on_the_home_page(opened):
    """Until the proposer adopts or declines them (or they are made on an earlier text)."""
    target = opened.propose(opened.partner, opened.gva, paragraph_id=opened.pids[0], text=P1_TREES)
    gva = opened.browser(opened.partner)
    assert "has suggested changes" not in page_text(gva.get("/"))
    made = suggesting.suggest(target, opened.tenant, opened.tnn, text=P1_FAST, now=now())
    db.session.commit()
    home = page_text(gva.get("/"))
    assert f'<a href="/amendments/{target}#suggestions">amendment #{target}</a>' in home
    assert "has suggested changes" not in page_text(opened.browser(opened.tenant).get("/"))
    suggesting.decline(made, opened.partner, reason="No.", now=now())
    db.session.commit()
    assert "has suggested changes" not in page_text(gva.get("/"))
