"""The signing API: freeze, reopen, publish, signatures (sign, list, revoke) and withdraw."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import operations as accounts
from app.extensions import db
from app.models import Amendment, AuditEntry, Participant, Publication, Signature, Statement
from tests import factories
from tests.test_web_signing import World


def now() -> datetime:
    return datetime.now(UTC)


class Api:
    """The test client, sending one person's bearer token."""

    def __init__(self, client, user):
        _, self.token = accounts.create_api_token(user, "tests")
        db.session.commit()
        self.client = client

    def call(self, method: str, path: str, **kw):
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, **kw):
        return self.call("POST", path, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


class ApiWorld(World):
    def api(self, user) -> Api:
        return Api(self.app.test_client(), user)

    def body(self, key: str, **overrides) -> dict:
        user, org = self.signers[key]
        db.session.rollback()
        data = {"organisation": org.slug, "signer_name": user.name, "signer_title": "Secretary",
                "version_sha256": self.st().frozen_version.sha256, "password": factories.PASSWORD,
                "authorised": True}
        data.update(overrides)
        return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def world(app) -> ApiWorld:
    return ApiWorld(app)


@pytest.fixture
def frozen(world) -> ApiWorld:
    world.freeze()
    return world


def state() -> tuple:
    """What a refused request must leave as it was."""
    db.session.rollback()
    return (
        tuple(db.session.execute(select(Statement.id, Statement.status, Statement.frozen_version_id,
                                        Statement.signing_deadline, Statement.planned_publication_date,
                                        Statement.auto_publish))),
        tuple(db.session.execute(select(Signature.id, Signature.status).order_by(Signature.id))),
        tuple(db.session.execute(select(Participant.id, Participant.withdrawn_at).order_by(Participant.id))),
        tuple(db.session.execute(select(Amendment.id, Amendment.status).order_by(Amendment.id))),
        db.session.scalar(select(func.count()).select_from(Publication)),
        db.session.scalar(select(func.count()).select_from(AuditEntry)),
    )


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]["message"]


# --- freeze --------------------------------------------------------------------------------


def test_freeze_with_deadline_planned_date_and_auto_publish(world):
    """Freezing returns the signing state; the deadline is stored in UTC."""
    world.open()
    next_year = now().year + 1
    response = world.api(world.coordinator).post(f"/statements/{world.sid}/freeze", json={
        "signing_deadline": f"{next_year}-06-30T18:00:00+02:00",
        "planned_publication_date": f"{next_year}-07-01", "auto_publish": True})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "signing"
    signing_state = body["signing"]
    assert signing_state["frozen_version"]["number"] == 1
    assert signing_state["signing_deadline"] == f"{next_year}-06-30T16:00:00+00:00"
    assert signing_state["planned_publication_date"] == f"{next_year}-07-01"
    assert signing_state["auto_publish"] is True
    assert signing_state["signed"] == [] and signing_state["waiting"] == ["hwu", "gva", "tnn"]
    assert body["publication"] is None
    db.session.rollback()
    statement = world.st()
    assert statement.status == "signing"
    assert statement.signing_deadline == datetime(next_year, 6, 30, 16, 0, tzinfo=UTC)
    assert statement.frozen_version.sha256 == signing_state["frozen_version"]["sha256"]


def test_freeze_without_a_body_uses_no_deadline(world):
    """The body is optional."""
    world.open()
    response = world.api(world.coordinator).post(f"/statements/{world.sid}/freeze")
    assert response.status_code == 200
    db.session.rollback()
    assert world.st().status == "signing" and world.st().signing_deadline is None


@pytest.mark.parametrize("body, field", [
    ({"signing_deadline": "2030-01-01T10:00:00"}, "time zone offset"),
    ({"signing_deadline": "tomorrow"}, "not an ISO 8601"),
    ({"signing_deadline": "2020-01-01T10:00:00+00:00"}, "must be in the future"),
    ({"planned_publication_date": "2030-13-01"}, "YYYY-MM-DD"),
    ({"planned_publication_date": "20300101"}, "YYYY-MM-DD"),
    ({"planned_publication_date": 20300101}, "date string"),
    ({"auto_publish": "yes"}, "true or false"),
])
def test_freeze_with_bad_input_is_422_and_changes_nothing(world, body, field):
    """Bad dates and types are refused with a message naming the problem."""
    world.open()
    before = state()
    message = assert_error(world.api(world.coordinator).post(f"/statements/{world.sid}/freeze", json=body),
                           422, "invalid_input")
    assert field in message
    assert state() == before


def test_freeze_refusals(world):
    """A non-coordinator gets 403, an outsider 404, a draft without without_amendment_round 422 (saying
    so), a non-JSON body 422."""
    before = state()
    message = assert_error(world.api(world.coordinator).post(f"/statements/{world.sid}/freeze", json={}),
                           422, "invalid_input")
    assert "without an amendment round" in message
    assert state() == before
    world.open()
    before = state()
    assert_error(world.api(world.sig_gva).post(f"/statements/{world.sid}/freeze", json={}), 403, "forbidden")
    assert_error(world.api(world.outsider).post(f"/statements/{world.sid}/freeze", json={}), 404, "not_found")
    assert_error(world.api(world.coordinator).post(f"/statements/{world.sid}/freeze", data="[]",
                                                   content_type="application/json"), 422, "invalid_input")
    assert world.app.test_client().post(f"/api/v1/statements/{world.sid}/freeze").status_code == 401
    assert state() == before


# --- signatures ------------------------------------------------------------------------------------


def test_sign_returns_the_signature_and_records_it(frozen):
    """A valid signature is 201 and names the frozen version's hash."""
    response = frozen.api(frozen.sig_gva).post(f"/statements/{frozen.sid}/signatures",
                                               json=frozen.body("gva", signer_title="  Chair "))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    db.session.rollback()
    signature = db.session.scalars(select(Signature)).one()
    assert body["id"] == signature.id
    assert body["organisation"] == "gva" and body["signer_title"] == "Chair"
    assert body["status"] == "valid" and body["version"] == 1
    assert body["version_sha256"] == frozen.st().frozen_version.sha256 == signature.version_sha256
    assert body["statement_status"] == "signing" and body["publication"] is None
    assert signature.user_id == frozen.sig_gva.id and signature.signer_title == "Chair"


@pytest.mark.parametrize("overrides, status, code, words", [
    ({"version_sha256": "a" * 64}, 409, "conflict", "The text changed"),
    ({"password": "wrong"}, 422, "invalid_input", "password is not correct"),
    ({"authorised": None}, 422, "invalid_input", "authorised to sign"),
    ({"authorised": False}, 422, "invalid_input", "authorised to sign"),
    ({"authorised": "yes"}, 422, "invalid_input", "true or false"),
    ({"signer_name": "   "}, 422, "invalid_input", "Type your name"),
    ({"signer_title": None}, 422, "invalid_input", "“signer_title” is required"),
    ({"signer_name": 7}, 422, "invalid_input", "must be a string"),
    ({"signer_name": "Bad\u0007name"}, 422, "invalid_input", "control character"),
    ({"version_sha256": None}, 422, "invalid_input", "“version_sha256” is required"),
    ({"organisation": "tnn"}, 403, "forbidden", "not a signatory of Tenants Network"),
    ({"organisation": "dmg"}, 403, "forbidden", "does not take part"),
    ({"organisation": "nowhere"}, 404, "not_found", ""),
])
def test_sign_refusals_change_nothing(frozen, overrides, status, code, words):
    """Every refusal is a JSON error with a clear message, and no signature is saved."""
    before = state()
    message = assert_error(frozen.api(frozen.sig_gva).post(
        f"/statements/{frozen.sid}/signatures", json=frozen.body("gva", **overrides)), status, code)
    assert words in message
    assert state() == before


def test_second_signature_for_the_same_organisation_is_409(frozen):
    """One valid signature per organisation and version."""
    frozen.sign("gva")
    before = state()
    message = assert_error(frozen.api(frozen.sig_gva).post(f"/statements/{frozen.sid}/signatures",
                                                           json=frozen.body("gva")), 409, "already_signed")
    assert "already signed" in message
    assert state() == before


def test_signing_outside_the_signing_phase_is_409(world):
    """A statement being amended takes no signatures."""
    world.open()
    before = state()
    response = world.api(world.sig_gva).post(f"/statements/{world.sid}/signatures", json={
        "organisation": "gva", "signer_name": "Gus", "signer_title": "Chair", "version_sha256": "0" * 64,
        "password": factories.PASSWORD, "authorised": True})
    assert_error(response, 409, "wrong_phase")
    assert state() == before


def test_last_signature_publishes_when_auto_publish_is_on(world):
    """With auto-publish the last signature's response carries the publication."""
    world.freeze(auto_publish=True)
    world.sign("hwu")
    world.sign("gva")
    response = world.api(world.sig_tnn).post(f"/statements/{world.sid}/signatures", json=world.body("tnn"))
    assert response.status_code == 201
    body = response.get_json()
    db.session.rollback()
    publication = db.session.scalars(select(Publication)).one()
    assert body["statement_status"] == "published"
    assert body["publication"]["slug"] == publication.slug
    assert body["publication"]["sha256"] == publication.sha256
    assert body["publication"]["url"].endswith(f"/p/{publication.slug}")


def test_list_signatures_shows_valid_revoked_and_void(frozen):
    """Every signature, with its status; the signing state lists who still has to sign."""
    revoked = frozen.sign("gva")
    signature = db.session.get(Signature, revoked)
    from app.signing import operations as signing

    signing.revoke(signature, frozen.sig_gva, now=now())
    db.session.commit()
    frozen.sign("hwu")
    response = frozen.api(frozen.delegate_gva).get(f"/statements/{frozen.sid}/signatures")
    assert response.status_code == 200
    body = response.get_json()
    assert [(s["organisation"], s["status"]) for s in body["signatures"]] == [("gva", "revoked"),
                                                                            ("hwu", "valid")]
    assert body["signatures"][0]["end_reason"] == "Revoked by a signatory of the organisation."
    assert body["signing"]["signed"] == ["hwu"] and body["signing"]["waiting"] == ["gva", "tnn"]
    coordinator = frozen.api(frozen.coordinator)
    assert coordinator.post(f"/statements/{frozen.sid}/reopen").status_code == 200
    statuses = [s["status"] for s in coordinator.get(f"/statements/{frozen.sid}/signatures").get_json()[
        "signatures"]]
    assert statuses == ["revoked", "void"]
    assert_error(frozen.api(frozen.outsider).get(f"/statements/{frozen.sid}/signatures"), 404, "not_found")


def test_revoke_a_signature(frozen):
    """DELETE revokes (the row stays, marked revoked)."""
    sig_id = frozen.sign("gva")
    response = frozen.api(frozen.sig_gva).delete(f"/statements/{frozen.sid}/signatures/{sig_id}")
    assert response.status_code == 200
    assert response.get_json()["status"] == "revoked"
    db.session.rollback()
    signature = db.session.get(Signature, sig_id)
    assert signature.status == "revoked" and signature.ended_by_id == frozen.sig_gva.id


def test_revoke_refusals_change_nothing(frozen):
    """Another organisation's signatory 403, unknown id 404, already revoked 409, after publication 409."""
    sig_id = frozen.sign("gva")
    before = state()
    assert_error(frozen.api(frozen.sig_tnn).delete(f"/statements/{frozen.sid}/signatures/{sig_id}"),
                 403, "forbidden")
    assert_error(frozen.api(frozen.sig_gva).delete(f"/statements/{frozen.sid}/signatures/9999"),
                 404, "not_found")
    assert_error(frozen.api(frozen.outsider).delete(f"/statements/{frozen.sid}/signatures/{sig_id}"),
                 404, "not_found")
    assert state() == before
    gva = frozen.api(frozen.sig_gva)
    assert gva.delete(f"/statements/{frozen.sid}/signatures/{sig_id}").status_code == 200
    before = state()
    assert_error(gva.delete(f"/statements/{frozen.sid}/signatures/{sig_id}"), 409, "conflict")
    assert state() == before
    frozen.sign("gva")
    frozen.sign("hwu")
    valid = frozen.sign("tnn")
    frozen.publish()
    before = state()
    assert_error(frozen.api(frozen.sig_tnn).delete(f"/statements/{frozen.sid}/signatures/{valid}"),
                 409, "wrong_phase")
    assert state() == before


# --- reopen, withdraw ---------------------------------------------------------------------------


def test_reopen_voids_the_signatures(frozen):
    """Reopening lists the voided signatures and returns the statement to amending."""
    sig_id = frozen.sign("gva")
    response = frozen.api(frozen.coordinator).post(f"/statements/{frozen.sid}/reopen")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "amending" and body["signing"]["frozen_version"] is None
    assert [(s["id"], s["status"]) for s in body["voided_signatures"]] == [(sig_id, "void")]
    db.session.rollback()
    assert db.session.get(Signature, sig_id).status == "void"


def test_reopen_refusals(frozen):
    """Only the coordinator, only while signing."""
    before = state()
    assert_error(frozen.api(frozen.sig_gva).post(f"/statements/{frozen.sid}/reopen"), 403, "forbidden")
    assert_error(frozen.api(frozen.coordinator).post(f"/statements/{frozen.sid}/reopen", data="x",
                                                     content_type="text/plain"), 422, "invalid_input")
    assert state() == before
    assert frozen.api(frozen.coordinator).post(f"/statements/{frozen.sid}/reopen").status_code == 200
    before = state()
    assert_error(frozen.api(frozen.coordinator).post(f"/statements/{frozen.sid}/reopen"), 409, "wrong_phase")
    assert state() == before


def test_withdraw_an_organisation(frozen):
    """A signatory withdraws TNN with a reason; its signature is revoked and it no longer counts."""
    sig_id = frozen.sign("tnn")
    response = frozen.api(frozen.sig_tnn).post(f"/statements/{frozen.sid}/withdraw",
                                               json={"organisation": "tnn", "reason": "  No mandate. "})
    assert response.status_code == 200
    body = response.get_json()
    assert [p["slug"] for p in body["participants"]] == ["hwu", "gva"]
    assert body["signing"]["withdrawn"][0]["organisation"] == "tnn"
    assert body["signing"]["withdrawn"][0]["reason"] == "No mandate."
    assert body["signing"]["waiting"] == ["hwu", "gva"]
    db.session.rollback()
    assert db.session.get(Signature, sig_id).status == "revoked"


@pytest.mark.parametrize("user_key, body, status, code", [
    ("delegate_gva", {"organisation": "gva", "reason": "No."}, 403, "forbidden"),
    ("sig_gva", {"organisation": "tnn", "reason": "No."}, 403, "forbidden"),
    ("sig_hwu", {"organisation": "hwu", "reason": "No."}, 409, "conflict"),
    ("sig_gva", {"organisation": "gva", "reason": " "}, 422, "invalid_input"),
    ("sig_gva", {"organisation": "gva"}, 422, "invalid_input"),
    ("outsider", {"organisation": "dmg", "reason": "No."}, 404, "not_found"),
])
def test_withdraw_refusals_change_nothing(frozen, user_key, body, status, code):
    """Wrong person, coordinating organisation, missing reason: JSON error, no change."""
    before = state()
    assert_error(frozen.api(getattr(frozen, user_key)).post(f"/statements/{frozen.sid}/withdraw", json=body),
                 status, code)
    assert state() == before


# --- publish ------------------------------------------------------------------------------------


def test_publish_with_a_date(frozen):
    """Publishing returns the permanent address, the hash and the formats."""
    for key in ("hwu", "gva", "tnn"):
        frozen.sign(key)
    today = now().date()
    response = frozen.api(frozen.coordinator).post(f"/statements/{frozen.sid}/publish",
                                                   json={"publication_date": today.isoformat()})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    db.session.rollback()
    publication = db.session.scalars(select(Publication)).one()
    assert body["slug"] == publication.slug and body["sha256"] == publication.sha256
    assert body["publication_date"] == today.isoformat() == publication.publication_date.isoformat()
    assert set(body["formats"]) == {"txt", "md", "pdf", "docx", "json"}
    assert body["formats"]["txt"].endswith(f"/p/{publication.slug}.txt")
    assert frozen.st().status == "published"


def test_publish_without_a_body_uses_today(frozen):
    """The publication date defaults to today."""
    for key in ("hwu", "gva", "tnn"):
        frozen.sign(key)
    response = frozen.api(frozen.coordinator).post(f"/statements/{frozen.sid}/publish")
    assert response.status_code == 201
    assert response.get_json()["publication_date"] == now().date().isoformat()


def test_publish_refusals_change_nothing(frozen):
    """Missing signature 409, date before the last signature 422, not coordinator 403, twice 409."""
    frozen.sign("hwu")
    frozen.sign("gva")
    coordinator = frozen.api(frozen.coordinator)
    before = state()
    message = assert_error(coordinator.post(f"/statements/{frozen.sid}/publish", json={}), 409, "conflict")
    assert "still waiting for: Tenants Network" in message
    frozen.sign("tnn")
    before = state()
    yesterday = (now().date() - timedelta(days=1)).isoformat()
    assert_error(coordinator.post(f"/statements/{frozen.sid}/publish", json={"publication_date": yesterday}),
                 422, "invalid_input")
    assert_error(coordinator.post(f"/statements/{frozen.sid}/publish", json={"publication_date": "soon"}),
                 422, "invalid_input")
    assert_error(frozen.api(frozen.sig_gva).post(f"/statements/{frozen.sid}/publish", json={}),
                 403, "forbidden")
    assert state() == before
    assert coordinator.post(f"/statements/{frozen.sid}/publish", json={}).status_code == 201
    before = state()
    assert_error(coordinator.post(f"/statements/{frozen.sid}/publish", json={}), 409, "conflict")
    assert_error(frozen.api(frozen.sig_gva).post(f"/statements/{frozen.sid}/signatures",
                                                 json={"organisation": "gva", "signer_name": "G",
                                                       "signer_title": "C", "version_sha256": "0" * 64,
                                                       "password": factories.PASSWORD,
                                                       "authorised": True}), 409, "wrong_phase")
    assert state() == before


def test_planned_publication_date_in_the_past_is_refused(world):
    """Freezing with a planned date before today is 422."""
    world.open()
    before = state()
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    assert_error(world.api(world.coordinator).post(f"/statements/{world.sid}/freeze",
                                                   json={"planned_publication_date": yesterday}),
                 422, "invalid_input")
    assert state() == before
