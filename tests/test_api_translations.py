"""The API of statement languages, translations, authentic texts signed together and per-language downloads
(issue 14, item 5)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, Signature, StatementLanguage, TranslationText
from tests.test_api_signing import ApiWorld

DE_TITLE = "Flüsse für alle"
DE = ["Flüsse gehören allen, die an ihnen leben.", "Dämme dürfen nicht ohne die Zustimmung des Tals gebaut werden.",
      "Wir treffen uns nach den Frühjahrsfluten wieder."]


@pytest.fixture
def world(app, admin) -> ApiWorld:
    made = ApiWorld(app)
    made.open()
    return made


def _state() -> tuple:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (StatementLanguage, TranslationText, AuditEntry, Signature))


def _put(api, path, body):
    return api.call("PUT", path, json=body)


def _translation_body(world, api, texts=DE, title=DE_TITLE):
    got = api.get(f"/statements/{world.sid}/translations/de").get_json()
    return {"title": title, "title_source": got["title"]["source"],
            "paragraphs": [{"id": p["id"], "revision_id": p["source_revision_id"], "text": t}
                           for p, t in zip(got["paragraphs"], texts, strict=True)]}


def test_languages_translations_freeze_sign_and_publish(world):
    coordinator, delegate = world.api(world.coordinator), world.api(world.delegate_gva)
    response = coordinator.post(f"/statements/{world.sid}/languages", json={"language": "de"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["languages"][0]["language"] == "de"
    response = _put(delegate, f"/statements/{world.sid}/translations/de", _translation_body(world, delegate))
    assert response.status_code == 200 and response.get_json()["written"] == 4
    assert response.get_json()["complete"] and response.get_json()["current"]
    listed = delegate.get(f"/statements/{world.sid}/languages").get_json()
    assert listed["source_language"] == "en" and listed["languages"][0]["translated"] == 3
    response = coordinator.post(f"/statements/{world.sid}/freeze", json={"authentic_languages": ["de"]})
    assert response.status_code == 200, response.get_json()
    hashes = response.get_json()["signing"]["translation_sha256"]
    assert set(hashes) == {"de"}
    for key in ("hwu", "gva", "tnn"):
        user, _ = world.signers[key]
        refused = world.api(user).post(f"/statements/{world.sid}/signatures", json=world.body(key))
        assert refused.status_code == 409 and "authentic texts changed" in refused.get_json()["error"]["message"]
        signed = world.api(user).post(f"/statements/{world.sid}/signatures",
                                      json=world.body(key, translation_sha256=hashes))
        assert signed.status_code == 201 and signed.get_json()["translation_sha256"] == hashes
    response = coordinator.post(f"/statements/{world.sid}/publish", json={})
    assert response.status_code == 201, response.get_json()
    [german] = response.get_json()["languages"]
    assert german["authentic"] and german["canonical_sha256"] == hashes["de"]
    assert german["formats"]["txt"].endswith(".de.txt")
    text = world.app.test_client().get(german["formats"]["txt"]).get_data(as_text=True)
    assert text.startswith(f"{DE_TITLE}\n\nGemeinsame Erklärung von ")


def test_bad_requests_change_nothing(world):
    coordinator, delegate = world.api(world.coordinator), world.api(world.delegate_gva)
    before = _state()
    assert coordinator.post(f"/statements/{world.sid}/languages", json={"language": "xx"}).status_code == 422
    assert delegate.post(f"/statements/{world.sid}/languages", json={"language": "de"}).status_code == 403
    assert _state() == before
    coordinator.post(f"/statements/{world.sid}/languages", json={"language": "de"})
    before = _state()
    body = _translation_body(world, delegate)
    for broken in ({"paragraphs": "x"}, {"paragraphs": [{"id": "1", "revision_id": 1, "text": "a"}]},
                   {"paragraphs": [{**body["paragraphs"][0], "revision_id": 0}]},
                   {"paragraphs": [{**body["paragraphs"][0], "text": "\x07"}]},
                   {"title": "Neu", "title_source": "Not the title"}):
        response = _put(delegate, f"/statements/{world.sid}/translations/de", broken)
        assert response.status_code in (409, 422), (broken, response.get_json())
        assert "error" in response.get_json()
    assert _put(world.api(world.sig_gva), f"/statements/{world.sid}/translations/de", body).status_code == 403
    assert delegate.get(f"/statements/{world.sid}/translations/fr").status_code == 404
    assert world.api(world.outsider).get(f"/statements/{world.sid}/languages").status_code == 404
    assert _state() == before


def test_names_in_statements_per_language(world):
    admin_tnn = world.api(world.admin_tnn)
    response = _put(admin_tnn, "/organisations/tnn/names/de", {"name_in_statements": "das Mieternetzwerk"})
    assert response.status_code == 200 and response.get_json() == {"names": {"de": "das Mieternetzwerk"}}
    assert _put(world.api(world.sig_tnn), "/organisations/tnn/names/es", {"name_in_statements": "x"}).status_code == 403
    assert _put(admin_tnn, "/organisations/tnn/names/xx", {"name_in_statements": "x"}).status_code == 422
    assert admin_tnn.get("/organisations/tnn/names").get_json() == {"names": {"de": "das Mieternetzwerk"}}
    from app.models import Organisation
    from app.translating.names import names_in

    db.session.rollback()
    tnn = db.session.scalar(select(Organisation).where(Organisation.slug == "tnn"))
    assert names_in([tnn], "de-AT") == ["das Mieternetzwerk"] and names_in([tnn], "fr") == [tnn.statement_name]
    # On the organisation's edit page, escaped.
    web = world.browser(world.admin_tnn)
    response = web.post("/o/tnn/names", {"language": "es", "name_in_statements": "<b>la Red</b>"},
                        form_page="/o/tnn/edit")
    assert response.status_code == 302
    page = web.get("/o/tnn/edit").get_data(as_text=True)
    assert "&lt;b&gt;la Red&lt;/b&gt;" in page and "<b>la Red</b>" not in page
