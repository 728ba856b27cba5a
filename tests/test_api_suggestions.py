"""The suggestion endpoints of /api/v1, and positions' "as" and "on_earlier_text" (issue 16, items 2, 4, 5)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.api.openapi import document
from app.extensions import db
from app.models import Amendment, Suggestion
from tests.test_api import assert_error
from tests.test_api_amendments import PARAGRAPHS, modify
from tests.test_api_amendments import world as _world  # noqa: F401  (the fixture, under another name)

NEW = "Water is a common good of all."
BETTER = "Water is a common good of all people."


@pytest.fixture
def opened(_world):  # noqa: F811
    """Open for amendments by majority: positions matter."""
    response = _world.coordinator.post(f"/statements/{_world.sid}/open",
                                       json={"decision_rule": "majority", "amendment_deadline": None})
    assert response.status_code == 200, response.get_data(as_text=True)
    return _world


def _rows() -> list[tuple]:
    db.session.expire_all()
    return list(db.session.execute(select(Suggestion.id, Suggestion.status, Suggestion.proposed_text,
                                          Suggestion.decision_reason).order_by(Suggestion.id)))


def _amendment(target: int) -> tuple:
    db.session.expire_all()
    a = db.session.get(Amendment, target)
    return a.proposed_text, a.text_version, a.round


def test_suggest_list_adopt(opened):
    """TNN suggests (201, with its diff); anyone who sees the amendment lists it; GVA adopts: a new text and
    round; TNN's position on the earlier text moves to earlier_positions, marked on_earlier_text."""
    target = modify(opened)["id"]
    response = opened.tenant.post(f"/amendments/{target}/positions", json={"organisation": "tnn", "stance": "oppose"})
    body = response.get_json()
    assert (body["as"], body["on_earlier_text"], body["text_version"]) == (None, False, 1)
    response = opened.tenant.post(f"/amendments/{target}/suggestions",
                                  json={"organisation": "tnn", "text": BETTER, "rationale": "Whose?",
                                        "text_version": 1})
    assert response.status_code == 201, response.get_data(as_text=True)
    made = response.get_json()
    assert (made["amendment_id"], made["organisation"], made["author"], made["status"], made["text_version"],
            made["base_text"], made["text"], made["rationale"], made["on_earlier_text"]) == (
        target, "tnn", "Karin Lund", "open", 1, NEW, BETTER, "Whose?", False)
    assert [d for d in made["diff"] if d[0] != 0] == [[1, " people"]]
    listed = opened.coordinator.get(f"/amendments/{target}/suggestions").get_json()
    assert [s["id"] for s in listed["suggestions"]] == [made["id"]] and listed["total"] == 1
    assert_error(opened.stranger.get(f"/amendments/{target}/suggestions"), 404, "not_found")
    assert_error(opened.tenant.post(f"/suggestions/{made['id']}/adopt"), 403, "forbidden")
    response = opened.partner.post(f"/suggestions/{made['id']}/adopt")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["suggestion"]["status"] == "adopted"
    amendment = body["amendment"]
    assert (amendment["text"], amendment["text_version"]) == (BETTER, 2)
    assert [(p["organisation"], p["as"], p["on_earlier_text"], p["round"]) for p in amendment["positions"]] == [
        ("gva", "proposer", False, 2)]
    assert [(p["organisation"], p["stance"], p["on_earlier_text"]) for p in amendment["earlier_positions"]] == [
        ("tnn", "oppose", True)]
    assert amendment["not_yet_spoken"] == ["hwu", "tnn"]
    assert _amendment(target) == (BETTER, 2, 2)
    assert_error(opened.partner.post(f"/suggestions/{made['id']}/adopt"), 409, "conflict")


def test_refusals_change_nothing(opened):
    target = modify(opened)["id"]
    before = _rows(), _amendment(target)
    for api, body, status in (
        (opened.tenant, {"organisation": "tnn", "text": NEW}, 422),  # the same text
        (opened.tenant, {"organisation": "tnn", "text": PARAGRAPHS[0]}, 422),  # changes nothing
        (opened.tenant, {"organisation": "tnn", "text": 7}, 422),
        (opened.tenant, {"organisation": "tnn"}, 422),
        (opened.tenant, {"organisation": "tnn", "text": BETTER, "text_version": 5}, 409),
        (opened.tenant, {"organisation": "gva", "text": BETTER}, 403),
        (opened.signatory, {"organisation": "gva", "text": BETTER}, 403),
        (opened.stranger, {"organisation": "outside", "text": BETTER}, 404),
        (opened.tenant, {"organisation": "nobody", "text": BETTER}, 404),
    ):
        assert_error(api.post(f"/amendments/{target}/suggestions", json=body), status)
    assert_error(opened.tenant.post("/amendments/987654/suggestions", json={"organisation": "tnn", "text": "A."}),
                 404, "not_found")
    assert (_rows(), _amendment(target)) == before


def test_decline_and_withdraw(opened):
    target = modify(opened)["id"]
    first = opened.tenant.post(f"/amendments/{target}/suggestions",
                               json={"organisation": "tnn", "text": BETTER}).get_json()
    second = opened.coordinator.post(f"/amendments/{target}/suggestions",
                                     json={"organisation": "hwu", "text": BETTER + " Now."}).get_json()
    assert_error(opened.partner.post(f"/suggestions/{first['id']}/decline", json={"reason": ""}), 422,
                 "invalid_input")
    assert_error(opened.tenant.post(f"/suggestions/{first['id']}/decline", json={"reason": "Mine."}), 403)
    assert_error(opened.stranger.post(f"/suggestions/{first['id']}/decline", json={"reason": "No."}), 404)
    response = opened.partner.post(f"/suggestions/{first['id']}/decline", json={"reason": "Short is better."})
    assert response.status_code == 200
    assert (response.get_json()["status"], response.get_json()["decision_reason"]) == ("declined", "Short is better.")
    assert_error(opened.partner.post(f"/suggestions/{second['id']}/withdraw"), 403, "forbidden")
    response = opened.coordinator.post(f"/suggestions/{second['id']}/withdraw")
    assert response.status_code == 200 and response.get_json()["status"] == "withdrawn"
    assert [r[1] for r in _rows()] == ["declined", "withdrawn"]
    assert_error(opened.partner.post("/suggestions/987654/adopt"), 404, "not_found")
    assert _amendment(target) == (NEW, 1, 1)


def test_the_document_describes_suggestions_and_positions():
    paths = document()["paths"]
    assert {"get", "post"} <= set(paths["/amendments/{amendment_id}/suggestions"])
    for action in ("adopt", "decline", "withdraw"):
        assert "post" in paths[f"/suggestions/{{suggestion_id}}/{action}"]
    schemas = document()["components"]["schemas"]
    for name in ("Position", "PositionSummary"):
        assert {"as", "on_earlier_text", "text_version"} <= set(schemas[name]["properties"])
