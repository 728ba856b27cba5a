"""A statement published in English with German and Spanish authentic translations (issue 14, item 4):
each language's plain text byte for byte, its files, the sealed manifest listing every language, the
verifier checking all of them, the public pages with their language switcher."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import PublicationArtefact, PublicationLanguage
from app.publishing import publication as publishing
from app.publishing import seal, sealing
from app.publishing.verify import verify_manifest
from app.signing import operations as signing
from app.translating import names
from app.translating import operations as translating
from tests import test_signing
from tests.test_signing import _fresh, _propose_and_accept, _sign_call

DE_TITLE = "Eine gemeinsame Erklärung über Häfen"
DE = ["Der Hafen muss für alle Arbeiter offen bleiben.", "Fähren fahren stündlich zwischen den Inseln.",
      "Brot wird jeden Morgen in der Stadt gebacken."]
ES_TITLE = "Una declaración conjunta sobre los puertos"
ES = ["El puerto debe seguir abierto a todos los trabajadores.",
      "Los transbordadores salen cada hora entre las islas.", "El pan se hornea en la ciudad cada mañana."]
FR_TITLE = "Une déclaration commune sur les ports"
FR = ["Le port doit rester ouvert à tous les travailleurs.", "Les ferries relient les îles toutes les heures.",
      "Le pain est cuit en ville chaque matin."]

EXPECTED_EN = (
    "A Joint Statement on Harbours\n"
    "\n"
    "Joint Statement of Harbour Workers' Union, Green Valley Alliance and Coastal Tenants Network, 21 February 2027\n"
    "\n"
    "1. The harbour must stay open to every worker.\n"
    "\n"
    "2. Ferries run every hour between the islands.\n"
    "\n"
    "3. Bread is baked in the town each morning.\n"
)
EXPECTED_DE = (
    "Eine gemeinsame Erklärung über Häfen\n"
    "\n"
    "Gemeinsame Erklärung von Gewerkschaft der Hafenarbeiter, Green Valley Alliance und Coastal Tenants Network, "
    "21. Februar 2027\n"
    "\n"
    "1. Der Hafen muss für alle Arbeiter offen bleiben.\n"
    "\n"
    "2. Fähren fahren stündlich zwischen den Inseln.\n"
    "\n"
    "3. Brot wird jeden Morgen in der Stadt gebacken.\n"
)
EXPECTED_ES = (
    "Una declaración conjunta sobre los puertos\n"
    "\n"
    "Declaración conjunta de Harbour Workers' Union, la Alianza del Valle Verde y Coastal Tenants Network, "
    "21 de febrero de 2027\n"
    "\n"
    "1. El puerto debe seguir abierto a todos los trabajadores.\n"
    "\n"
    "2. Los transbordadores salen cada hora entre las islas.\n"
    "\n"
    "3. El pan se hornea en la ciudad cada mañana.\n"
)
PUBLISHED_ON = date(2027, 2, 21)


@pytest.fixture
def w(app, now):
    return test_signing.w.__wrapped__(app, now)


def _translate(w, tag, title, texts, minutes=0):
    statement = _fresh(w)
    state = translating.translation_state(statement, tag)
    translating.save_translation(
        statement, w.del_b, tag, title=title, title_source=statement.title,
        paragraphs={p.paragraph_id: (t, p.source_revision_id) for p, t in zip(state.paragraphs, texts, strict=True)},
        now=w.now + timedelta(minutes=minutes))
    db.session.commit()


@pytest.fixture
def published(w):
    """English source; German and Spanish authentic; French complete but not authentic."""
    for tag in ("de", "es", "fr"):
        translating.add_language(_fresh(w), w.coordinator, tag, now=w.now)
    db.session.commit()
    names.set_language_name(w.a, None, "de", "Gewerkschaft der Hafenarbeiter")
    names.set_language_name(w.b, None, "es", "la Alianza del Valle Verde")
    db.session.commit()
    _translate(w, "de", DE_TITLE, DE)
    _translate(w, "es", ES_TITLE, ES)
    _translate(w, "fr", FR_TITLE, FR)
    signing.freeze(_fresh(w), w.coordinator, authentic_languages=["de", "es"], now=w.now)
    db.session.commit()
    hashes = translating.frozen_hashes(_fresh(w))
    for user, org in ((w.sig_a, w.a), (w.sig_b, w.b), (w.sig_c, w.c)):
        _sign_call(w, user, org, translation_sha256=hashes)()
        db.session.commit()
    w.publication = publishing.publish(_fresh(w), w.coordinator, publication_date=PUBLISHED_ON,
                                       now=w.now + timedelta(minutes=5))
    db.session.commit()
    w.hashes = hashes
    return w


def _file(w, kind: str) -> bytes:
    return db.session.scalar(select(PublicationArtefact.content).where(
        PublicationArtefact.publication_id == w.publication.id, PublicationArtefact.kind == kind))


def test_each_language_plain_text_is_byte_exact(published):
    w = published
    assert w.publication.plain_text == EXPECTED_EN
    assert _file(w, "txt") == EXPECTED_EN.encode("utf-8")
    assert _file(w, "de.txt") == EXPECTED_DE.encode("utf-8")
    assert _file(w, "es.txt") == EXPECTED_ES.encode("utf-8")
    rows = {r.language: r for r in db.session.scalars(select(PublicationLanguage))}
    assert rows["de"].sha256 == hashlib.sha256(EXPECTED_DE.encode("utf-8")).hexdigest()
    assert rows["de"].authentic and rows["es"].authentic and not rows["fr"].authentic
    assert rows["de"].canonical_sha256 == w.hashes["de"]
    for kind in ("md", "docx", "pdf", "html"):
        assert _file(w, f"de.{kind}") and _file(w, f"es.{kind}")


def test_the_sealed_manifest_lists_every_language(published):
    w = published
    manifest = json.loads(w.publication.manifest)
    assert manifest["language"] == "en"
    listed = {entry["language"]: entry for entry in manifest["languages"]}
    assert set(listed) == {"de", "es", "fr"}
    assert listed["de"]["authentic"] is True and listed["fr"]["authentic"] is False
    assert listed["de"]["text"] == EXPECTED_DE
    assert listed["es"]["canonical_sha256"] == w.hashes["es"]
    assert listed["de"]["files"]["pdf"]["sha256"] == hashlib.sha256(_file(w, "de.pdf")).hexdigest()
    for signature in manifest["signatures"]:
        assert signature["translation_sha256"] == w.hashes
    assert verify_manifest(manifest, sealing.public_key()) == []


def _resealed(manifest: dict, change) -> dict:
    """The manifest changed and sealed again by this platform (so only the language rule can catch it)."""
    broken = copy.deepcopy(manifest)
    change(broken)
    return seal.seal_manifest(broken, sealing._key())


def test_verify_of_a_changed_translation_fails(published):
    manifest = json.loads(published.publication.manifest)

    def change_text(m):
        entry = next(e for e in m["languages"] if e["language"] == "de")
        entry["text"] = entry["text"].replace("stündlich", "täglich")

    problems = verify_manifest(_resealed(manifest, change_text), sealing.public_key())
    assert any("The de plain text does not match its SHA-256" in p for p in problems)

    def change_both(m):
        entry = next(e for e in m["languages"] if e["language"] == "es")
        entry["canonical_text"] = entry["canonical_text"].replace("cada hora", "cada día")
        entry["canonical_sha256"] = hashlib.sha256(entry["canonical_text"].encode()).hexdigest()
        entry["text"] = entry["text"].replace("cada hora", "cada día")
        entry["sha256"] = hashlib.sha256(entry["text"].encode()).hexdigest()

    problems = verify_manifest(_resealed(manifest, change_both), sealing.public_key())
    assert any("does not name the authentic es text's SHA-256" in p for p in problems)
    # Changed without resealing: the seal says so.
    unsealed = copy.deepcopy(manifest)
    change_text(unsealed)
    assert any("seal does not match" in p for p in verify_manifest(unsealed, sealing.public_key()))


def test_flask_statements_verify_checks_every_language(published, tmp_path, app):
    manifest = json.loads(published.publication.manifest)
    entry = next(e for e in manifest["languages"] if e["language"] == "de")
    entry["text"] = entry["text"].replace("Brot", "Kuchen")
    path = tmp_path / "statement.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["statements", "verify", str(path)])
    assert result.exit_code != 0 and "de plain text does not match" in result.output


def test_public_pages_and_files_per_language(published, client, admin):
    slug = published.publication.slug
    response = client.get(f"/p/{slug}.de.txt")
    assert response.status_code == 200 and response.data == EXPECTED_DE.encode("utf-8")
    assert response.headers["Content-Type"].startswith("text/plain")
    assert client.get(f"/p/{slug}.es.pdf").headers["Content-Type"] == "application/pdf"
    assert client.get(f"/p/{slug}.de.docx").status_code == 200
    assert client.get(f"/p/{slug}.de.md").status_code == 200
    assert client.get(f"/p/{slug}.it.txt").status_code == 404
    assert client.get(f"/p/{slug}.de.json").status_code == 404
    page = client.get(f"/p/{slug}").get_data(as_text=True)
    assert f'<link rel="alternate" hreflang="de" href="/p/{slug}.de">' in page
    assert f'hreflang="es" href="/p/{slug}.es"' in page and 'hreflang="en"' in page
    assert "Deutsch" in page and "español" in page and "(translation, not authentic)" in page
    german = client.get(f"/p/{slug}.de").get_data(as_text=True)
    assert 'lang="de"' in german and "Gemeinsame Erklärung von Gewerkschaft der Hafenarbeiter" in german
    assert published.hashes["de"][:12] in german
    french = client.get(f"/p/{slug}.fr").get_data(as_text=True)
    assert "not authentic and was not signed" in french
    assert client.get(f"/p/{slug}.it").status_code == 404


def test_outdated_translation_is_not_published_as_a_translation(w):
    translating.add_language(_fresh(w), w.coordinator, "fr", now=w.now)
    db.session.commit()
    _translate(w, "fr", FR_TITLE, FR)
    _propose_and_accept(w, 1, "The harbour must stay open to every worker and sailor.")
    signing.freeze(_fresh(w), w.coordinator, now=w.now)
    db.session.commit()
    for user, org in ((w.sig_a, w.a), (w.sig_b, w.b), (w.sig_c, w.c)):
        _sign_call(w, user, org)()
        db.session.commit()
    publication = publishing.publish(_fresh(w), w.coordinator, publication_date=PUBLISHED_ON,
                                     now=w.now + timedelta(minutes=5))
    db.session.commit()
    assert "languages" not in json.loads(publication.manifest)  # an English-only manifest, as before
    assert db.session.scalar(select(db.func.count()).select_from(PublicationLanguage)) == 0


FR_LATE = (
    "Une déclaration commune sur les ports\n"
    "\n"
    "Déclaration commune de Harbour Workers' Union, Green Valley Alliance et Coastal Tenants Network, "
    "21 février 2027\n"
    "\n"
    "1. Le port doit rester ouvert à tous les travailleurs.\n"
    "\n"
    "2. Les ferries relient les îles toutes les heures.\n"
    "\n"
    "3. Le pain est cuit en ville chaque matin.\n"
)


def test_a_translation_added_after_publication_is_not_authentic(w, client, admin):
    from app.errors import InvalidInput, NotAllowed, WrongPhase
    from tests.test_signing import _refused

    signing.freeze(_fresh(w), w.coordinator, now=w.now)
    db.session.commit()
    for user, org in ((w.sig_a, w.a), (w.sig_b, w.b), (w.sig_c, w.c)):
        _sign_call(w, user, org)()
        db.session.commit()
    publication = publishing.publish(_fresh(w), w.coordinator, publication_date=PUBLISHED_ON,
                                     now=w.now + timedelta(minutes=5))
    db.session.commit()
    sealed_before = publication.manifest
    first = client.get(f"/p/{publication.slug}")
    translating.add_language(_fresh(w), w.coordinator, "fr", now=w.now)
    db.session.commit()
    _refused(InvalidInput, lambda: publishing.publish_translation(_fresh(w), w.coordinator, "fr", now=w.now))
    _translate(w, "fr", FR_TITLE, FR)
    _refused(NotAllowed, lambda: publishing.publish_translation(_fresh(w), w.del_b, "fr", now=w.now))
    row = publishing.publish_translation(_fresh(w), w.coordinator, "fr", now=w.now + timedelta(days=1))
    db.session.commit()
    assert row.plain_text == FR_LATE and not row.authentic
    _refused(WrongPhase, lambda: _translate(w, "fr", "Autre titre", FR))  # published texts never change
    slug = publication.slug
    assert client.get(f"/p/{slug}.fr.txt").data == FR_LATE.encode("utf-8")
    own = client.get(f"/p/{slug}.fr.json").get_json()
    assert verify_manifest(own, sealing.public_key()) == []
    [entry] = own["languages"]
    assert entry["authentic"] is False and entry["language"] == "fr"
    assert all("translation_sha256" not in s for s in own["signatures"])  # left out of the signatures
    db.session.expire_all()
    assert db.session.get(type(publication), publication.id).manifest == sealed_before  # the publication's stays
    again = client.get(f"/p/{slug}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200  # the next view shows the new language (promise 9)
    page = again.get_data(as_text=True)
    assert "(translation, not authentic)" in page and f'hreflang="fr" href="/p/{slug}.fr"' in page
    assert "not authentic and was not signed" in client.get(f"/p/{slug}.fr").get_data(as_text=True)


def test_a_pasted_translation_is_compared_with_the_text_in_its_language(published):
    from app.publishing import verifying

    same = verifying.check_pasted(EXPECTED_DE, within=published.publication)
    assert same.identical and same.matched_file == "plain text in German (de)"
    changed = verifying.check_pasted(EXPECTED_DE.replace("stündlich", "täglich"), within=published.publication)
    assert [c.label for c in changed.changes] == ["Paragraph 2"]
    assert "<del>stündlich</del>" in changed.changes[0].diff and "<ins>täglich</ins>" in changed.changes[0].diff
