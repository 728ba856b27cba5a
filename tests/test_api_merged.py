"""GET /api/v1/statements/<id>/merged and POST /api/v1/statements/<id>/accept-many."""

from __future__ import annotations

import pytest

from app.diffing import load_ops
from app.extensions import db
from app.models import Amendment
from tests import test_api_amendments as base
from tests.test_api_amendments import modify, propose, state

WATER = "Water is a common good."
OF_ALL = "Water is a common good of all."
SHARED = "Water is a shared good."


@pytest.fixture
def opened(app, client):
    """As tests/test_api_amendments.py's: three organisations, a statement open under the coordinator rule,
    a token for each person."""
    return base.opened.__wrapped__(base.world.__wrapped__(app, client))


def _merged(api, sid, query: str = ""):
    return api.get(f"/statements/{sid}/merged{query}")


def test_the_merged_view_as_json(opened):
    w = opened
    of_all = modify(w, OF_ALL)
    shared = modify(w, SHARED, api=w.tenant, org="tnn")
    gone = propose(w.tenant, w.sid, kind="delete", paragraph_id=w.pids[2], organisation="tnn")
    added = propose(w.partner, w.sid, kind="insert", after_paragraph_id=w.pids[1], text="Rivers too.",
                    organisation="gva")
    response = _merged(w.partner, w.sid)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["statement_id"], body["version"], body["decision_rule"]) == (w.sid, 1, "coordinator")
    assert body["open_count"] == body["shown_count"] == 4
    places = body["places"]
    assert [p["place"] for p in places] == ["title", "top", "paragraph", "paragraph", "paragraph"]
    assert [(p["paragraph_id"], p["number"]) for p in places[2:]] == [(pid, n) for n, pid in enumerate(w.pids, 1)]
    first = places[2]
    assert first["text"] == WATER and [a["id"] for a in first["amendments"]] == [of_all["id"], shared["id"]]
    listed = first["amendments"][0]
    stored = db.session.get(Amendment, of_all["id"]).diff
    assert listed["ops"] == [list(op) for op in load_ops(stored)]
    assert listed == {"id": of_all["id"], "kind": "modify", "status": "open", "organisation": "gva",
                      "text_version": 1, "ops": listed["ops"], "rule_met": True,
                      "rule_explanation": "The coordinator decides.", "acceptable": True, "collides_with": []}
    assert [a["id"] for a in places[3]["inserts"]] == [added["id"]]
    assert places[4]["amendments"][0]["id"] == gone["id"] and places[4]["amendments"][0]["ops"] == [
        [-1, "We will meet again."]]
    assert _merged(w.stranger, w.sid).status_code == 404
    assert _merged(w.anonymous, w.sid).status_code == 401


def test_filters_and_their_errors(opened):
    w = opened
    of_all = modify(w, OF_ALL)
    gone = propose(w.tenant, w.sid, kind="delete", paragraph_id=w.pids[2], organisation="tnn")

    def ids(query):
        response = _merged(w.partner, w.sid, query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [a["id"] for p in response.get_json()["places"] for a in p["amendments"] + p["inserts"]]

    assert ids("?organisation=tnn") == [gone["id"]]
    assert ids("?kind=modify") == [of_all["id"]]
    assert ids("?rule_met=false") == []
    assert ids("?rule_met=true&organisation=gva") == [of_all["id"]]
    for query, _field in (("?organisation=outside", "organisation"), ("?organisation=nobody", "organisation"),
                         ("?kind=rewrite", "kind"), ("?rule_met=yes", "rule_met")):
        response = _merged(w.partner, w.sid, query)
        assert response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_input", query


def test_accept_many_applies_all_in_one_version(opened):
    w = opened
    of_all = modify(w, OF_ALL)
    shared = modify(w, SHARED, api=w.tenant, org="tnn")
    response = w.coordinator.post(f"/statements/{w.sid}/accept-many", json={
        "amendments": [shared["id"], of_all["id"]], "text_versions": {str(of_all["id"]): 1}})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["accepted"] == sorted([shared["id"], of_all["id"]]) and body["version"]["number"] == 2
    paragraphs = w.partner.get(f"/statements/{w.sid}").get_json()["paragraphs"]
    assert paragraphs[0]["text"] == "Water is a shared good of all."


def test_accept_many_refused_changes_nothing_and_lists_why(opened):
    w = opened
    of_all = modify(w, OF_ALL)
    shared = modify(w, SHARED, api=w.tenant, org="tnn")
    twice = modify(w, SHARED.replace("shared", "joint"), api=w.tenant, org="tnn")
    before = state()
    response = w.coordinator.post(f"/statements/{w.sid}/accept-many", json={
        "amendments": [of_all["id"], shared["id"], twice["id"]], "text_versions": {str(of_all["id"]): 5}})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "batch_refused" and error["message"].startswith("Nothing was accepted.")
    assert error["items"] == [{"id": of_all["id"], "reason": error["items"][0]["reason"]}]
    assert "changed since" in error["items"][0]["reason"]
    assert state() == before
    response = w.coordinator.post(f"/statements/{w.sid}/accept-many", json={
        "amendments": [of_all["id"], shared["id"], twice["id"]]})
    assert response.status_code == 409
    assert [item["id"] for item in response.get_json()["error"]["items"]] == [twice["id"]]
    assert "conflicts" in response.get_json()["error"]["items"][0]["reason"]
    assert state() == before


@pytest.mark.parametrize("body, status", [
    ({}, 422), ({"amendments": []}, 422), ({"amendments": "1"}, 422), ({"amendments": [1, 1]}, 422),
    ({"amendments": [True]}, 422), ({"amendments": [1], "text_versions": [1]}, 422),
    ({"amendments": [1], "text_versions": {"x": 1}}, 422), ({"amendments": [1], "text_versions": {"1": "2"}}, 422),
    ({"amendments": [2**31 - 1]}, 409),
])
def test_accept_many_refuses_bad_input(opened, body, status):
    w = opened
    modify(w, OF_ALL)
    before = state()
    response = w.coordinator.post(f"/statements/{w.sid}/accept-many", json=body)
    assert response.status_code == status, response.get_data(as_text=True)
    assert state() == before


def test_accept_many_is_for_the_coordinator_only(opened):
    w = opened
    of_all = modify(w, OF_ALL)
    before = state()
    assert w.partner.post(f"/statements/{w.sid}/accept-many", json={"amendments": [of_all["id"]]}).status_code == 403
    assert w.stranger.post(f"/statements/{w.sid}/accept-many",
                           json={"amendments": [of_all["id"]]}).status_code == 404
    assert state() == before
