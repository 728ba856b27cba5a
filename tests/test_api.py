"""The JSON API under /api/v1: every endpoint, its errors, and what it leaves in the database."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.accounts import operations as accounts
from app.extensions import db
from app.models import (
    ApiToken,
    Membership,
    Organisation,
    Paragraph,
    Revision,
    Statement,
    User,
    Version,
)
from tests import factories

NBSP = "\u00a0"


# --- helpers -------------------------------------------------------------------


def make_token(user: User) -> str:
    _, clear = accounts.create_api_token(user, "tests")
    db.session.commit()
    return clear


class Api:
    """The test client, sending one person's bearer token."""

    def __init__(self, client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, headers=None):
        headers = dict(headers or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def call(self, method: str, path: str, *, headers=None, **kw):
        return self.client.open(f"/api/v1{path}", method=method, headers=self._headers(headers), **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, **kw):
        return self.call("POST", path, **kw)

    def put(self, path, **kw):
        return self.call("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def db_state() -> tuple:
    """Everything a refused request must leave as it was."""
    db.session.expire_all()
    versions = tuple(db.session.execute(
        select(Version.statement_id, Version.number, Version.sha256).order_by(Version.id)
    ))
    paragraphs = tuple(db.session.execute(
        select(Paragraph.id, Paragraph.position, Paragraph.current_revision_id, Paragraph.deleted_at)
        .order_by(Paragraph.id)
    ))
    statements = tuple(db.session.execute(
        select(Statement.id, Statement.title, Statement.status, Statement.version_count)
        .order_by(Statement.id)
    ))
    memberships = tuple(db.session.execute(
        select(Membership.organisation_id, Membership.user_id, Membership.role).order_by(Membership.id)
    ))
    organisations = tuple(db.session.execute(select(Organisation.slug).order_by(Organisation.id)))
    return versions, paragraphs, statements, memberships, organisations, count(Revision)


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
def world(app, client):
    """Two participating organisations, an outsider, a draft statement and tokens for each person."""
    admin = factories.admin(email="admin@example.org")
    hwu = factories.organisation("Harbour Workers' Union", slug="hwu", short_name="HWU",
                                 country="Portugal")
    gva = factories.organisation("Green Valleys Alliance", slug="gva", short_name="GVA")
    outside = factories.organisation("Outside Collective", slug="outside")
    coordinator = factories.member(hwu, "delegate", name="Ana Ferreira", email="ana@example.org")
    partner = factories.member(gva, "delegate", "signatory", name="Camila Rojas")
    stranger = factories.member(outside, "delegate", "admin", name="Sam Stranger")
    statement = factories.statement(
        coordinator, hwu, participants=[gva], title="Clean Water for Every Village",
        paragraphs=["Water is a common good.", "Wells must be public.", "We will meet again."],
    )
    other = factories.statement(stranger, outside, title="An Unrelated Statement",
                                paragraphs=["Only the outsiders see this."])
    return SimpleNamespace(
        admin=admin, hwu=hwu, gva=gva, outside=outside, coordinator=coordinator, partner=partner,
        stranger=stranger, statement=statement, other=other,
        as_admin=Api(client, make_token(admin)),
        as_coordinator=Api(client, make_token(coordinator)),
        as_partner=Api(client, make_token(partner)),
        as_stranger=Api(client, make_token(stranger)),
        anonymous=Api(client, None),
    )


def paragraphs_of(api: Api, statement_id: int) -> list[dict]:
    response = api.get(f"/statements/{statement_id}")
    assert response.status_code == 200
    return response.get_json()["paragraphs"]


# --- authentication ------------------------------------------------------------------


def test_missing_token_is_refused_with_www_authenticate(world):
    """Without a token every endpoint answers 401 JSON with a Bearer challenge."""
    response = world.anonymous.get("/statements")
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [
    "Bearer cnc_not-a-real-token",
    "Bearer not-even-the-prefix",
    "Bearer ",
    "Token {token}",
    "Basic {token}",
    "{token}",
])
def test_invalid_tokens_are_refused(world, client, header):
    """A wrong token, a wrong scheme or a bare token all get 401."""
    valid = world.as_coordinator.token
    response = client.get("/api/v1/statements",
                          headers={"Authorization": header.format(token=valid)})
    assert_error(response, 401, "unauthorized")
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_revoked_token_stops_working(world, now):
    """A token works until it is revoked, and never after."""
    assert world.as_partner.get("/statements").status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == world.partner.id))
    accounts.revoke_api_token(world.partner, token.id, now=now)
    db.session.commit()
    assert_error(world.as_partner.get("/statements"), 401, "unauthorized")


def test_token_of_deactivated_account_is_refused(world):
    """A deactivated person's token no longer authenticates."""
    world.partner.active = False
    db.session.commit()
    assert_error(world.as_partner.get("/statements"), 401)


def test_session_cookie_alone_does_not_authenticate(world, browser):
    """Logged in on the web, the same client still gets 401 from the API without a token."""
    browser.login(world.coordinator.email)
    assert browser.get(f"/statements/{world.statement.id}").status_code == 200
    before = db_state()
    response = browser.client.get("/api/v1/statements")
    assert_error(response, 401, "unauthorized")
    response = browser.client.post("/api/v1/statements", json={
        "title": "Sneaked In", "paragraphs": ["Text."], "coordinator_organisation": "hwu",
    })
    assert_error(response, 401, "unauthorized")
    assert db_state() == before


def test_token_use_records_last_used_at(world):
    """An authenticated request stamps the token's last_used_at, at most once a minute."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == world.coordinator.id))
    assert token.last_used_at is None
    started = datetime.now(UTC)
    assert world.as_coordinator.get("/organisations").status_code == 200
    db.session.expire_all()
    token = db.session.get(ApiToken, token.id)
    assert token.last_used_at is not None and token.last_used_at >= started.replace(microsecond=0)
    first = token.last_used_at
    assert world.as_coordinator.get("/organisations").status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == first  # within the minute: not written again
    db.session.get(ApiToken, token.id).last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    assert world.as_coordinator.get("/organisations").status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at >= started.replace(microsecond=0)


# --- routing errors ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/nothing-here", "/statements/abc", "/statements/1/nope"])
def test_unknown_route_is_json_404(world, path):
    """An address the API does not have answers 404 in the JSON error format."""
    assert_error(world.as_coordinator.get(path), 404, "not_found")


@pytest.mark.parametrize("method,path", [
    ("DELETE", "/organisations"),
    ("PUT", "/statements"),
    ("PATCH", "/statements/{id}"),
    ("GET", "/statements/import"),
])
def test_wrong_method_is_json_405(world, method, path):
    """A known address with the wrong method answers 405 in the JSON error format."""
    before = db_state()
    response = world.as_coordinator.call(method, path.format(id=world.statement.id))
    assert_error(response, 405, "method_not_allowed")
    assert db_state() == before


# --- organisations ------------------------------------------------------------------------


def test_list_organisations(world):
    """Every organisation is listed by name with slug, short name and country."""
    response = world.as_partner.get("/organisations")
    assert response.status_code == 200
    organisations = response.get_json()["organisations"]
    assert [o["slug"] for o in organisations] == ["gva", "hwu", "outside"]
    assert organisations[1] == {"slug": "hwu", "name": "Harbour Workers' Union", "short_name": "HWU",
                                "name_in_statements": "Harbour Workers' Union",
                                "country": "Portugal"}


def test_admin_creates_organisation(world):
    """A platform admin creates an organisation; the slug defaults from the short name."""
    response = world.as_admin.post("/organisations", json={
        "name": "Tenants' Network of the North", "short_name": "TNN", "country": "Sweden",
    })
    assert response.status_code == 201
    assert response.get_json() == {"slug": "tnn", "name": "Tenants' Network of the North",
                                   "short_name": "TNN", "country": "Sweden",
                                   "name_in_statements": "Tenants' Network of the North"}
    org = db.session.scalar(select(Organisation).where(Organisation.slug == "tnn"))
    assert org.name == "Tenants' Network of the North"


def test_non_admin_cannot_create_organisation(world):
    """An organisation admin who is not a platform admin gets 403 and nothing is created."""
    before = db_state()
    response = world.as_stranger.post("/organisations", json={"name": "Rogue Org", "slug": "rogue"})
    assert_error(response, 403, "forbidden")
    assert db_state() == before


@pytest.mark.parametrize("kwargs,status,code", [
    ({"data": "name=Form Org", "content_type": "application/x-www-form-urlencoded"}, 422,
     "invalid_input"),
    ({"data": "{not json", "content_type": "application/json"}, 422, "invalid_input"),
    ({"json": [{"name": "In a list"}]}, 422, "invalid_input"),
    ({"json": {"name": 42}}, 422, "invalid_input"),
    ({"json": {"slug": "nameless"}}, 422, "invalid_input"),
    ({"json": {"name": "Bad Slug", "slug": "Bad Slug!"}}, 422, "invalid_input"),
    ({"json": {"name": "Country", "country": ["PT"]}}, 422, "invalid_input"),
    ({"json": {"name": "Taken", "slug": "hwu"}}, 409, "conflict"),
])
def test_create_organisation_bad_input(world, kwargs, status, code):
    """Malformed, mistyped or conflicting organisation input is refused and changes nothing."""
    before = db_state()
    assert_error(world.as_admin.post("/organisations", **kwargs), status, code)
    assert db_state() == before


def test_admin_adds_member_with_roles(world):
    """A platform admin gives an existing account roles; existing roles are kept."""
    newcomer = factories.user(name="Nia Newcomer", email="nia@example.org")
    response = world.as_admin.post("/organisations/hwu/members",
                                   json={"email": "NIA@example.org", "roles": ["signatory"]})
    assert response.status_code == 201
    assert response.get_json() == {"email": "nia@example.org", "name": "Nia Newcomer",
                                   "organisation": "hwu", "roles": ["signatory"]}
    response = world.as_admin.post("/organisations/hwu/members",
                                   json={"email": "nia@example.org", "roles": ["delegate"]})
    assert response.get_json()["roles"] == ["delegate", "signatory"]
    db.session.expire_all()
    assert db.session.get(User, newcomer.id).roles_in(world.hwu) == {"delegate", "signatory"}


def test_organisation_admin_manages_only_own_members(world):
    """An organisation admin adds members to their organisation, not to another one."""
    newcomer = factories.user(email="olu@example.org")
    response = world.as_stranger.post("/organisations/outside/members",
                                      json={"email": newcomer.email, "roles": ["delegate"]})
    assert response.status_code == 201
    before = db_state()
    response = world.as_stranger.post("/organisations/hwu/members",
                                      json={"email": newcomer.email, "roles": ["delegate"]})
    assert_error(response, 403, "forbidden")
    assert db_state() == before


@pytest.mark.parametrize("slug,body,status", [
    ("nowhere", {"email": "ana@example.org", "roles": ["delegate"]}, 404),
    ("hwu", {"email": "nobody@example.org", "roles": ["delegate"]}, 404),
    ("hwu", {"email": "ana@example.org", "roles": ["emperor"]}, 422),
    ("hwu", {"email": "ana@example.org", "roles": "delegate"}, 422),
    ("hwu", {"email": "ana@example.org", "roles": []}, 422),
    ("hwu", {"email": 7, "roles": ["delegate"]}, 422),
    ("hwu", ["ana@example.org"], 422),
])
def test_add_member_bad_input(world, slug, body, status):
    """Unknown organisation or person, unknown roles and wrong types are refused without change."""
    before = db_state()
    assert_error(world.as_admin.post(f"/organisations/{slug}/members", json=body), status)
    assert db_state() == before


# --- statements: list, create, import ---------------------------------------------------


def test_list_statements_shows_only_visible_ones(world):
    """People see the statements of their organisations; admins see all."""
    def ids(api):
        response = api.get("/statements")
        assert response.status_code == 200
        return {s["id"] for s in response.get_json()["statements"]}

    assert ids(world.as_coordinator) == {world.statement.id}
    assert ids(world.as_partner) == {world.statement.id}
    assert ids(world.as_stranger) == {world.other.id}
    assert ids(world.as_admin) == {world.statement.id, world.other.id}
    listed = world.as_partner.get("/statements").get_json()["statements"][0]
    assert listed == {"id": world.statement.id, "title": "Clean Water for Every Village",
                      "status": "draft", "version": 1}


def test_create_statement(world):
    """A delegate creates a draft: version 1, numbered paragraphs, coordinator's organisation first."""
    response = world.as_coordinator.post("/statements", json={
        "title": "Bread  and   Roses",
        "paragraphs": ["We stand together.", "Wages must rise with\u00a0prices."],
        "participants": ["gva", "hwu", "gva"],
        "coordinator_organisation": "hwu",
    })
    assert response.status_code == 201
    body = response.get_json()
    assert body["title"] == "Bread and Roses"
    assert body["status"] == "draft"
    assert body["version"]["number"] == 1
    assert [p["number"] for p in body["paragraphs"]] == [1, 2]
    assert body["paragraphs"][1]["text"] == "Wages must rise with\u00a0prices."
    assert [o["slug"] for o in body["participants"]] == ["hwu", "gva"]
    assert body["coordinator"] == {"name": "Ana Ferreira", "organisation": "hwu"}
    statement = db.session.get(Statement, body["id"])
    version = db.session.scalar(select(Version).where(Version.statement_id == statement.id))
    assert version.sha256 == body["version"]["sha256"]
    expected = "Bread and Roses\n\n1. We stand together.\n\n2. Wages must rise with\u00a0prices.\n"
    assert version.canonical_text == expected
    assert version.sha256 == hashlib.sha256(expected.encode()).hexdigest()


@pytest.mark.parametrize("kwargs", [
    {"data": "title=Form", "content_type": "application/x-www-form-urlencoded"},
    {"data": "Plain words", "content_type": "text/plain"},
    {"json": ["Title", ["Paragraph."]]},
    {"json": {"title": 42, "paragraphs": ["Text."], "coordinator_organisation": "hwu"}},
    {"json": {"title": "T", "paragraphs": "Text.", "coordinator_organisation": "hwu"}},
    {"json": {"title": "T", "paragraphs": ["Text.", 3], "coordinator_organisation": "hwu"}},
    {"json": {"title": "T", "paragraphs": ["Text."], "participants": "gva",
              "coordinator_organisation": "hwu"}},
    {"json": {"title": "T", "paragraphs": ["Text."], "coordinator_organisation": ["hwu"]}},
    {"json": {"title": "T", "paragraphs": ["Text."]}},
    {"json": {"title": "  ", "paragraphs": ["Text."], "coordinator_organisation": "hwu"}},
    {"json": {"title": "T", "paragraphs": ["Text.", "   "], "coordinator_organisation": "hwu"}},
    {"json": {"title": "T", "paragraphs": ["Bell \u0007 here."], "coordinator_organisation": "hwu"}},
    {"json": {"title": "T", "paragraphs": ["x" * 20_001], "coordinator_organisation": "hwu"}},
])
def test_create_statement_bad_input_is_422(world, kwargs):
    """Wrong shapes, wrong types, empty or oversized text: 422 and no statement."""
    before = db_state()
    assert_error(world.as_coordinator.post("/statements", **kwargs), 422, "invalid_input")
    assert db_state() == before


def test_create_statement_requires_delegate_and_known_organisations(world):
    """Coordinating for an organisation one is not a delegate of is 403; unknown slugs are 404."""
    before = db_state()
    body = {"title": "T", "paragraphs": ["Text."], "coordinator_organisation": "hwu"}
    assert_error(world.as_partner.post("/statements", json=body), 403, "forbidden")
    body = {"title": "T", "paragraphs": ["Text."], "coordinator_organisation": "atlantis"}
    assert_error(world.as_coordinator.post("/statements", json=body), 404, "not_found")
    body = {"title": "T", "paragraphs": ["Text."], "coordinator_organisation": "hwu",
            "participants": ["gva", "atlantis"]}
    assert_error(world.as_coordinator.post("/statements", json=body), 404, "not_found")
    assert db_state() == before


PASTED = (
    "Open the Mountain Passes to Shepherds\n"
    "\n\n\n"
    "Joint Statement of the Harbour Workers' Union and the Green Valleys Alliance, "
    "4 October 2025 draft\n"
    "\n"
    f"1.{NBSP}{NBSP}{NBSP} For three centuries the high passes have been walked by herds "
    "in spring and autumn.\n"
    "\n\n\n"
    f"2.{NBSP}\t{NBSP}A new fence now cuts the oldest route in two, without any consultation "
    "of the villages.\n"
    "\n"
    f"3){NBSP}We ask the regional council to reopen the route before the\n"
    "first snow.\n"
    "\n\n"
)


def test_import_statement_from_pasted_text(world):
    """A real-looking paste becomes a draft: title, clean paragraphs, notes on what was left out."""
    response = world.as_coordinator.post(
        "/statements/import?coordinator_organisation=hwu&participants=gva,%20hwu",
        data=PASTED.encode("utf-8"), content_type="text/plain; charset=utf-8",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["title"] == "Open the Mountain Passes to Shepherds"
    texts = [p["text"] for p in body["paragraphs"]]
    assert texts == [
        "For three centuries the high passes have been walked by herds in spring and autumn.",
        "A new fence now cuts the oldest route in two, without any consultation of the villages.",
        "We ask the regional council to reopen the route before the\nfirst snow.",
    ]
    assert not any(NBSP in t for t in texts)
    assert [o["slug"] for o in body["participants"]] == ["hwu", "gva"]
    assert any("draft" in note for note in body["import_notes"])
    version = db.session.scalar(select(Version).where(Version.statement_id == body["id"]))
    assert version.note == "Imported" and version.sha256 == body["version"]["sha256"]


@pytest.mark.parametrize("query,kwargs,status", [
    ("?coordinator_organisation=hwu", {"json": {"text": "Title\n\n1. Para."}}, 422),
    ("", {"data": "Title\n\n1. Para.", "content_type": "text/plain"}, 422),
    ("?coordinator_organisation=hwu", {"data": b"Title\n\n1. Caf\xe9.", "content_type": "text/plain"},
     422),
    ("?coordinator_organisation=hwu", {"data": "\n \n", "content_type": "text/plain"}, 422),
    ("?coordinator_organisation=hwu", {"data": "Only a title", "content_type": "text/plain"}, 422),
    ("?coordinator_organisation=gva", {"data": "Title\n\n1. Para.", "content_type": "text/plain"}, 403),
    ("?coordinator_organisation=atlantis", {"data": "Title\n\n1. Para.", "content_type": "text/plain"},
     404),
    ("?coordinator_organisation=hwu&participants=gva,atlantis",
     {"data": "Title\n\n1. Para.", "content_type": "text/plain"}, 404),
])
def test_import_bad_input(world, query, kwargs, status):
    """Wrong content type, missing parameters, invalid UTF-8, no paragraphs, wrong organisation."""
    before = db_state()
    assert_error(world.as_coordinator.post(f"/statements/import{query}", **kwargs), status)
    assert db_state() == before


# --- one statement -------------------------------------------------------------------------


def test_get_statement(world):
    """A participant reads title, status, current version and hash, paragraphs and participants."""
    response = world.as_partner.get(f"/statements/{world.statement.id}")
    assert response.status_code == 200
    body = response.get_json()
    version = db.session.scalar(select(Version).where(Version.statement_id == world.statement.id))
    assert body["id"] == world.statement.id
    assert body["title"] == "Clean Water for Every Village"
    assert body["status"] == "draft"
    assert body["version"] == {"number": 1, "sha256": version.sha256}
    paragraphs = db.session.scalars(
        select(Paragraph).where(Paragraph.statement_id == world.statement.id).order_by(Paragraph.position)
    ).all()
    assert body["paragraphs"] == [
        {"id": p.id, "number": n, "revision_id": p.current_revision_id, "text": p.text}
        for n, p in enumerate(paragraphs, start=1)
    ]
    assert [o["slug"] for o in body["participants"]] == ["hwu", "gva"]
    assert body["url"].endswith(f"/statements/{world.statement.id}")


def test_statement_of_other_organisations_is_404(world):
    """A statement one's organisations do not take part in looks exactly like a missing one."""
    sid = world.statement.id
    for path in (f"/statements/{sid}", f"/statements/{sid}/versions", f"/statements/{sid}/versions/1"):
        hidden = assert_error(world.as_stranger.get(path), 404, "not_found")
    missing = assert_error(world.as_stranger.get("/statements/999999"), 404, "not_found")
    assert hidden["message"] == missing["message"]
    assert world.as_admin.get(f"/statements/{sid}").status_code == 200


def test_edit_paragraph_creates_new_version(world):
    """The coordinator's edit makes a new revision and version 2; version 1 is kept unchanged."""
    sid = world.statement.id
    first = paragraphs_of(world.as_coordinator, sid)[0]
    v1 = db.session.scalar(select(Version).where(Version.statement_id == sid))
    v1_hash, v1_text = v1.sha256, v1.canonical_text
    revisions_before = count(Revision)
    response = world.as_coordinator.put(
        f"/statements/{sid}/paragraphs/{first['id']}",
        json={"text": "Water is a common good, not a commodity.", "base_revision_id": first["revision_id"]},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"]["number"] == 2
    assert body["paragraphs"][0]["id"] == first["id"]
    assert body["paragraphs"][0]["text"] == "Water is a common good, not a commodity."
    assert body["paragraphs"][0]["revision_id"] != first["revision_id"]
    assert count(Revision) == revisions_before + 1
    db.session.expire_all()
    v1 = db.session.scalar(select(Version).where(Version.statement_id == sid, Version.number == 1))
    assert (v1.sha256, v1.canonical_text) == (v1_hash, v1_text)


def test_edit_with_unchanged_text_makes_no_version(world):
    """Saving the same text again does not create a version."""
    sid = world.statement.id
    first = paragraphs_of(world.as_coordinator, sid)[0]
    before = db_state()
    response = world.as_coordinator.put(f"/statements/{sid}/paragraphs/{first['id']}",
                                        json={"text": first["text"]})
    assert response.status_code == 200 and response.get_json()["version"]["number"] == 1
    assert db_state() == before


def test_stale_edit_is_409_and_keeps_the_newer_text(world):
    """An edit based on an old revision is refused with code "stale"; the newer text stays."""
    sid = world.statement.id
    first = paragraphs_of(world.as_coordinator, sid)[0]
    path = f"/statements/{sid}/paragraphs/{first['id']}"
    response = world.as_coordinator.put(path, json={"text": "Newer text.",
                                                    "base_revision_id": first["revision_id"]})
    assert response.status_code == 200
    before = db_state()
    response = world.as_coordinator.put(path, json={"text": "Older tab's text.",
                                                    "base_revision_id": first["revision_id"]})
    error = assert_error(response, 409, "stale")
    assert "Paragraph 1" in error["message"]
    assert db_state() == before
    assert paragraphs_of(world.as_coordinator, sid)[0]["text"] == "Newer text."


def test_non_coordinator_cannot_edit(world):
    """A delegate of a participating organisation who is not the coordinator gets 403."""
    sid = world.statement.id
    first = paragraphs_of(world.as_partner, sid)[0]
    before = db_state()
    assert_error(world.as_partner.put(f"/statements/{sid}/paragraphs/{first['id']}",
                                      json={"text": "Hijacked."}), 403, "forbidden")
    assert_error(world.as_partner.post(f"/statements/{sid}/paragraphs",
                                       json={"text": "Hijacked.", "after": None}), 403, "forbidden")
    assert_error(world.as_partner.delete(f"/statements/{sid}/paragraphs/{first['id']}"), 403, "forbidden")
    assert db_state() == before


def test_paragraph_of_another_statement_is_404(world):
    """A paragraph id of another statement is not found, for edit, insert-after and delete."""
    sid = world.statement.id
    foreign = db.session.scalar(select(Paragraph.id).where(Paragraph.statement_id == world.other.id))
    before = db_state()
    path = f"/statements/{sid}/paragraphs/{foreign}"
    assert_error(world.as_coordinator.put(path, json={"text": "Moved in."}), 404, "not_found")
    assert_error(world.as_coordinator.delete(path), 404, "not_found")
    assert_error(world.as_coordinator.post(f"/statements/{sid}/paragraphs",
                                           json={"text": "New.", "after": foreign}), 404, "not_found")
    assert_error(world.as_coordinator.put(f"/statements/{sid}/paragraphs/999999",
                                          json={"text": "Ghost."}), 404, "not_found")
    assert db_state() == before


@pytest.mark.parametrize("kwargs", [
    {"data": "text=Form", "content_type": "application/x-www-form-urlencoded"},
    {"json": ["New text."]},
    {"json": {"text": 12}},
    {"json": {}},
    {"json": {"text": "New text.", "base_revision_id": "1"}},
    {"json": {"text": "New text.", "base_revision_id": True}},
    {"json": {"text": ""}},
    {"json": {"text": "Null \u0000 byte."}},
])
def test_edit_bad_input_is_422(world, kwargs):
    """Edits with a wrong shape, wrong types or invalid text are refused without change."""
    sid = world.statement.id
    first = paragraphs_of(world.as_coordinator, sid)[0]
    before = db_state()
    response = world.as_coordinator.put(f"/statements/{sid}/paragraphs/{first['id']}", **kwargs)
    assert_error(response, 422, "invalid_input")
    assert db_state() == before


def test_insert_after_a_paragraph_renumbers(world):
    """Inserting after paragraph 1 makes the new one number 2; the others keep their ids."""
    sid = world.statement.id
    old = paragraphs_of(world.as_coordinator, sid)
    response = world.as_coordinator.post(f"/statements/{sid}/paragraphs",
                                         json={"text": "Rivers too.", "after": old[0]["id"]})
    assert response.status_code == 201
    body = response.get_json()
    new_id = body["inserted_paragraph_id"]
    assert [(p["id"], p["number"]) for p in body["paragraphs"]] == [
        (old[0]["id"], 1), (new_id, 2), (old[1]["id"], 3), (old[2]["id"], 4)]
    assert body["paragraphs"][1]["text"] == "Rivers too."
    assert body["version"]["number"] == 2
    version = db.session.scalar(select(Version).where(Version.statement_id == sid, Version.number == 2))
    assert version.note == "Inserted ¶ 2"


def test_insert_at_the_top(world):
    """``after: null`` puts the new paragraph first."""
    sid = world.statement.id
    old = paragraphs_of(world.as_coordinator, sid)
    response = world.as_coordinator.post(f"/statements/{sid}/paragraphs",
                                         json={"text": "Preamble.", "after": None})
    assert response.status_code == 201
    body = response.get_json()
    assert body["paragraphs"][0] == {"id": body["inserted_paragraph_id"], "number": 1,
                                     "revision_id": body["paragraphs"][0]["revision_id"],
                                     "text": "Preamble."}
    assert [p["id"] for p in body["paragraphs"][1:]] == [p["id"] for p in old]


@pytest.mark.parametrize("body", [
    {"text": "No after."},
    {"text": "Bool after.", "after": True},
    {"text": "String after.", "after": "1"},
    {"text": 5, "after": None},
    {"text": "  ", "after": None},
    ["Array", None],
])
def test_insert_bad_input_is_422(world, body):
    """A missing or mistyped ``after``, or bad text, is refused and nothing is inserted."""
    before = db_state()
    assert_error(world.as_coordinator.post(f"/statements/{world.statement.id}/paragraphs", json=body),
                 422, "invalid_input")
    assert db_state() == before


def test_delete_paragraph_keeps_history(world):
    """Deleting removes the paragraph from the text, renumbers, and keeps its revisions."""
    sid = world.statement.id
    old = paragraphs_of(world.as_coordinator, sid)
    revisions_before = count(Revision)
    response = world.as_coordinator.delete(f"/statements/{sid}/paragraphs/{old[1]['id']}")
    assert response.status_code == 200
    body = response.get_json()
    assert [(p["id"], p["number"]) for p in body["paragraphs"]] == [(old[0]["id"], 1), (old[2]["id"], 2)]
    assert body["version"]["number"] == 2
    assert count(Revision) == revisions_before
    db.session.expire_all()
    assert db.session.get(Paragraph, old[1]["id"]).deleted_at is not None
    again = world.as_coordinator.delete(f"/statements/{sid}/paragraphs/{old[1]['id']}")
    assert_error(again, 404, "not_found")


def test_delete_checks_base_revision_and_body(world):
    """A stale base_revision_id is 409; a body that is not a JSON object is 422; neither deletes."""
    sid = world.statement.id
    first = paragraphs_of(world.as_coordinator, sid)[0]
    path = f"/statements/{sid}/paragraphs/{first['id']}"
    before = db_state()
    assert_error(world.as_coordinator.delete(path, json={"base_revision_id": first["revision_id"] + 999}),
                 409, "stale")
    assert_error(world.as_coordinator.delete(path, json={"base_revision_id": "x"}), 422, "invalid_input")
    assert_error(world.as_coordinator.delete(path, json=[first["revision_id"]]), 422, "invalid_input")
    assert_error(world.as_coordinator.delete(path, data="yes please", content_type="text/plain"),
                 422, "invalid_input")
    assert db_state() == before
    response = world.as_coordinator.delete(path, json={"base_revision_id": first["revision_id"]})
    assert response.status_code == 200


def test_direct_edits_only_in_draft(world):
    """Once a statement left the draft phase, direct edits are refused with 409 wrong_phase."""
    sid = world.statement.id
    first = paragraphs_of(world.as_coordinator, sid)[0]
    world.statement.status = "amending"
    db.session.commit()
    before = db_state()
    assert_error(world.as_coordinator.put(f"/statements/{sid}/paragraphs/{first['id']}",
                                          json={"text": "Too late."}), 409, "wrong_phase")
    assert_error(world.as_coordinator.post(f"/statements/{sid}/paragraphs",
                                           json={"text": "Too late.", "after": None}), 409, "wrong_phase")
    assert_error(world.as_coordinator.delete(f"/statements/{sid}/paragraphs/{first['id']}"),
                 409, "wrong_phase")
    assert db_state() == before


# --- versions -------------------------------------------------------------------------------


def test_versions_list_and_one_version(world):
    """Every save is listed; an old version keeps its text, and its canonical text hashes to sha256."""
    sid = world.statement.id
    first = paragraphs_of(world.as_coordinator, sid)[0]
    world.as_coordinator.put(f"/statements/{sid}/paragraphs/{first['id']}",
                             json={"text": "Water belongs to all of us."})
    response = world.as_partner.get(f"/statements/{sid}/versions")
    assert response.status_code == 200
    versions = response.get_json()["versions"]
    assert [(v["number"], v["note"]) for v in versions] == [(1, "Created"), (2, "Edited ¶ 1")]
    assert all(v["author"] == "Ana Ferreira" and v["title"] == "Clean Water for Every Village"
               for v in versions)

    old = world.as_partner.get(f"/statements/{sid}/versions/1").get_json()
    assert old["number"] == 1
    assert old["canonical_text"] == (
        "Clean Water for Every Village\n\n1. Water is a common good.\n\n2. Wells must be public.\n\n"
        "3. We will meet again.\n"
    )
    assert hashlib.sha256(old["canonical_text"].encode("utf-8")).hexdigest() == old["sha256"]
    assert old["sha256"] == versions[0]["sha256"]
    assert [(p["number"], p["text"]) for p in old["paragraphs"]][0] == (1, "Water is a common good.")

    new = world.as_partner.get(f"/statements/{sid}/versions/2").get_json()
    assert "1. Water belongs to all of us." in new["canonical_text"]
    assert hashlib.sha256(new["canonical_text"].encode("utf-8")).hexdigest() == new["sha256"]
    assert new["sha256"] == world.as_partner.get(f"/statements/{sid}").get_json()["version"]["sha256"]
    assert [p["id"] for p in new["paragraphs"]] == [p["id"] for p in old["paragraphs"]]


def test_unknown_version_is_404(world):
    """A version number that does not exist is 404."""
    assert_error(world.as_partner.get(f"/statements/{world.statement.id}/versions/3"), 404, "not_found")
    assert_error(world.as_partner.get(f"/statements/{world.statement.id}/versions/0"), 404, "not_found")
