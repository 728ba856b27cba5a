"""Signing, publishing, the public pages, the archive, errors and the API in German, Spanish and French.

The pages follow the viewer's language (Accept-Language here); the published PDF and DOCX carry the
labels of the document's own language, whoever downloads them, since they are made once at publication.
"""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, date, datetime

import docx
import pytest
from pypdf import PdfReader

from app.accounts import operations as accounts
from app.extensions import db
from app.i18n import in_language
from app.publishing import formats
from app.publishing.formats import PublicationData
from tests.conftest import csrf_token
from tests.test_publishing_languages import published, w  # noqa: F401  (fixtures)
from tests.test_web_signing import World, sign_form

DE = {"Accept-Language": "de"}
ES = {"Accept-Language": "es"}
FR = {"Accept-Language": "fr"}


def text_of(response) -> str:
    """The page's words: tags dropped, entities read, spaces collapsed."""
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(html.unescape(page).split())


@pytest.fixture
def frozen(app) -> World:
    world = World(app)
    world.freeze()
    return world


@pytest.fixture
def pub(app):
    from tests.test_public import Published

    return Published(app)


# --- signing -------------------------------------------------------------------------------------


def test_the_signing_page_in_german(frozen):
    browser = frozen.browser(frozen.sig_gva)
    page = text_of(browser.get(f"/statements/{frozen.sid}/sign", headers=DE))
    assert "Fassung 1 unterzeichnen" in page and "0 von 3 Organisationen haben unterzeichnet" in page
    assert "Ich bin berechtigt, im Namen von Green Valleys Alliance zu unterzeichnen" in page
    assert "Abmelden" in page and "Zum Inhalt springen" in page
    for english in ("Sign version 1", "The text you sign", "Log out", "Skip to content", "Your password"):
        assert english not in page, english


@pytest.mark.parametrize(("headers", "said"), [(ES, "La contraseña no es correcta."),
                                                (FR, "Le mot de passe n’est pas correct."),
                                                (DE, "Das Passwort ist nicht korrekt.")])
def test_a_rule_refusal_reads_in_the_viewer_language(frozen, headers, said):
    browser = frozen.browser(frozen.sig_gva)
    path = f"/statements/{frozen.sid}/sign"
    data = sign_form(frozen, "gva", password="not the password", csrf_token=csrf_token(browser.client, path))
    response = browser.client.post(path, data=data, headers=headers)
    assert response.status_code == 422
    page = text_of(response)
    assert said in page and "The password is not correct." not in page


def test_a_flash_after_signing_is_in_spanish(frozen):
    browser = frozen.browser(frozen.sig_gva)
    path = f"/statements/{frozen.sid}/sign"
    data = sign_form(frozen, "gva", csrf_token=csrf_token(browser.client, path))
    response = browser.client.post(path, data=data, headers=ES, follow_redirects=True)
    assert "Green Valleys Alliance ha firmado la versión 1." in text_of(response)


def test_the_audit_trail_in_french(frozen):
    page = text_of(frozen.browser(frozen.coordinator).get(f"/statements/{frozen.sid}/audit", headers=FR))
    assert "Journal d’audit" in page and "a figé le texte pour la signature" in page
    assert "Intact" in page and "froze the text for signing" not in page


# --- the public page ------------------------------------------------------------------------------


def test_the_public_page_follows_the_reader_language(pub, client):
    page = text_of(client.get(f"/p/{pub.slug}", headers=FR))
    assert "Signée par" in page and "Intégrité" in page and "Télécharger :" in page
    assert "Integrity" not in page and "Signed by" not in page
    # The published text itself stays as it was signed.
    assert "Joint Statement of Harbour Workers Union, Green Valleys Alliance and Tenants Network" in page
    german = text_of(client.get(f"/p/{pub.slug}", headers=DE))
    assert "Unterzeichnet von" in german and "Integrität" in german


def test_the_public_page_tag_and_vary_differ_by_language(pub, client, app):
    """A cache or a browser must not give a German reader the French page."""
    english = client.get(f"/p/{pub.slug}")
    french = client.get(f"/p/{pub.slug}", headers=FR)
    assert english.headers["ETag"] != french.headers["ETag"]
    assert "Accept-Language" in french.headers["Vary"] and "Cookie" in french.headers["Vary"]
    again = client.get(f"/p/{pub.slug}", headers={**FR, "If-None-Match": french.headers["ETag"]})
    assert again.status_code == 304
    other = client.get(f"/p/{pub.slug}", headers={**DE, "If-None-Match": french.headers["ETag"]})
    assert other.status_code == 200 and "Unterzeichnet von" in text_of(other)
    chooser = app.test_client()
    chooser.set_cookie("concord_lang", "es", domain="concord.test")  # chosen in the footer
    chosen = chooser.get(f"/p/{pub.slug}")
    assert chosen.headers["ETag"] not in (english.headers["ETag"], french.headers["ETag"])
    assert "Firmada por" in text_of(chosen)


def test_the_stored_part_notices_are_shown_in_the_reader_language(published, client, admin):  # noqa: F811 (a fixture)
    """/p/<slug>.fr is stored once with its 'not authentic' notice; each reader sees it in their own language."""
    slug = published.publication.slug
    german = text_of(client.get(f"/p/{slug}.fr", headers=DE))
    assert "Eine Übersetzung zur Information: Dieser Text ist nicht verbindlich" in german
    assert "not authentic and was not signed" not in german and "ne fait pas foi et n’a pas" not in german
    english = text_of(client.get(f"/p/{slug}.fr"))
    assert "A translation for information: this text is not authentic and was not signed." in english
    assert "Eine Übersetzung" not in english


def test_the_certificate_seal_and_verify_pages_in_spanish(pub, client):
    assert "Certificado de firmas" in text_of(client.get(f"/p/{pub.slug}/certificate", headers=ES))
    assert "El sello de la plataforma" in text_of(client.get("/about/seal", headers=ES))
    page = client.get("/verify", headers=ES)
    assert "Comprobar una declaración" in text_of(page)
    token = csrf_token(client, "/verify")
    result = client.post("/verify", data={"csrf_token": token, "text": "Nothing like any statement at all."},
                         headers=ES)
    assert "Ninguna declaración publicada se parece a este texto." in text_of(result)


def test_the_verdict_names_the_file_in_french(pub, client):
    token = csrf_token(client, "/verify")
    result = client.post("/verify", data={"csrf_token": token, "text": pub.publication.plain_text}, headers=FR)
    assert "Identique : ce texte est, octet pour octet, le texte brut de" in text_of(result)


# --- files: the document's language, not the reader's ------------------------------------------


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def test_the_german_pdf_has_german_labels_whoever_reads_it(published, client, admin):  # noqa: F811 (a fixture)
    slug = published.publication.slug
    german = pdf_text(client.get(f"/p/{slug}.de.pdf", headers=FR).data)
    assert "Unterzeichnet von" in german and "Seite 1 von" in german and "Unterzeichneter Text: Fassung" in german
    assert "Signed by" not in german and "Page 1 of" not in german
    source = pdf_text(client.get(f"/p/{slug}.pdf", headers=DE).data)
    assert "Signed by" in source and "Page 1 of" in source and "Unterzeichnet von" not in source
    french = pdf_text(client.get(f"/p/{slug}.fr.pdf").data)
    assert "Une traduction pour information : ce texte ne fait pas foi" in french


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    parts += [p.text for p in document.sections[0].footer.paragraphs]
    return "\n".join(parts)


def test_the_german_docx_has_german_labels(published, client, admin):  # noqa: F811 (a fixture)
    slug = published.publication.slug
    german = docx_text(client.get(f"/p/{slug}.de.docx", headers=ES).data)
    assert "Unterzeichnet von" in german and "Organisation" in german and "Titel" in german
    assert "SHA-256 der Veröffentlichung als reiner Text:" in german
    assert "Signed by" not in german and "SHA-256 of the plain-text publication" not in german
    english = docx_text(client.get(f"/p/{slug}.docx", headers=DE).data)
    assert "Signed by" in english and "SHA-256 of the plain-text publication:" in english
    spanish = docx_text(client.get(f"/p/{slug}.es.docx").data)
    assert "Firmada por" in spanish and "Texto firmado: versión" in spanish


def test_a_language_the_interface_does_not_speak_has_english_labels():
    data = PublicationData(
        title="Dichiarazione", slug="d", publication_date=date(2026, 3, 1), version_number=1,
        version_sha256="a" * 64, sha256="b" * 64, text="Dichiarazione\n\nx\n\n1. Uno.\n", paragraphs=["Uno."],
        organisations=["A"], language="it", authentic=False,
        signatures=[{"organisation": "A", "signer_name": "N", "signer_title": "T",
                     "signed_at": datetime(2026, 3, 1, tzinfo=UTC).isoformat()}])
    text = docx_text(formats.to_docx(data))
    assert "Signed by" in text and formats.NOT_AUTHENTIC in text and "1 March 2026" in text
    assert formats.page_numbers_css("it") == formats.page_numbers_css("en")
    assert '"Seite " counter(page) " von " counter(pages)' in formats.page_numbers_css("de")


def test_document_words_do_not_depend_on_the_request(app, client):
    """in_language/words give the document's language inside a request in another language."""
    from app.i18n import _

    with app.test_request_context("/", headers=FR):
        assert formats.words("de")("Signed by") == "Unterzeichnet von"
        assert in_language(_("Signed by"), "es") == "Firmada por"
        assert str(_("Signed by")) == "Signée par"


# --- errors and the API ----------------------------------------------------------------------------


def test_error_pages_in_the_viewer_language(app, client):
    from tests import factories

    factories.admin()
    db.session.commit()
    page = client.get("/p/no-such-statement", headers=ES)
    assert page.status_code == 404
    said = text_of(page)
    assert "No encontrado" in said and "No hay nada en esta dirección." in said
    assert "Volver a la página de inicio" in said and "Not found" not in said
    refused = client.get("/p/no-such-statement/verify", headers=ES)  # the rule's NotFound
    assert refused.status_code == 404
    assert "No hay ninguna declaración publicada en esta dirección." in text_of(refused)
    assert "Unter dieser Adresse gibt es nichts." in text_of(client.get("/nothing/here", headers=DE))


def test_api_errors_read_in_the_request_language(frozen, client):
    _, token = accounts.create_api_token(frozen.sig_gva, "tests")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}", **DE}
    response = client.post(f"/api/v1/statements/{frozen.sid}/signatures", json={"organisation": "gva"},
                           headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_input" and error["message"] == "„signer_name“ ist erforderlich."
    response = client.post(f"/api/v1/statements/{frozen.sid}/signatures", headers=headers, json={
        "organisation": "gva", "signer_name": "Gus", "signer_title": "Chair", "authorised": True,
        "password": "wrong", "version_sha256": frozen.st().frozen_version.sha256})
    assert response.get_json()["error"]["message"] == "Das Passwort ist nicht korrekt."
    missing = client.get("/api/v1/statements/999999", headers={"Authorization": f"Bearer {token}", **FR})
    assert missing.status_code == 404
    assert missing.get_json()["error"] == {"code": "not_found", "message": "Cette déclaration n’existe pas."}
    unknown = client.get("/api/v1/nothing", headers={"Authorization": f"Bearer {token}", **ES})
    assert unknown.get_json()["error"]["code"] == "not_found"
    assert unknown.get_json()["error"]["message"] == "No hay nada en esta dirección."
    english = client.get("/api/v1/statements/999999", headers={"Authorization": f"Bearer {token}"})
    assert english.get_json()["error"]["message"] == "There is no such statement."


def test_a_broken_manifest_is_explained_in_german(pub, client):
    token = csrf_token(client, "/verify")
    result = client.post("/verify", data={"csrf_token": token, "text": '{"format": "concord-manifest/1"}'},
                         headers=DE)
    page = text_of(result)
    assert "Dieses Manifest ist nicht intakt:" in page and "Das Manifest hat kein Siegel." in page
    assert "The manifest has no seal." not in page


def test_every_problem_verify_py_names_is_a_message_that_reads_the_same_in_english(pub):
    """verify.py stays standalone and English; the verify page shows its words as messages, unchanged in
    English (a problem no message matches would be shown untranslated)."""
    import copy
    import json

    from app.i18n import Message
    from app.publishing.verify import verify_manifest
    from app.publishing.verifying import problem_message

    manifest = json.loads(pub.publication.manifest)
    broken = []
    for change in (
        lambda m: m.update(text="changed\n"),
        lambda m: m.update(canonical_text="changed\n", format="other"),
        lambda m: m["signatures"].append(dict(m["signatures"][0], organisation_slug="nobody", recorded=True)),
        lambda m: m["signatures"].__setitem__(0, "not a record"),
        lambda m: m.update(languages=[{"language": "de"}, "x"]),
        lambda m: m["seal"].update(algorithm="RSA"),
        lambda m: m.pop("seal"),
        lambda m: m.update(participants=[]),
    ):
        changed = copy.deepcopy(manifest)
        change(changed)
        broken += verify_manifest(changed, expected_public_key="AAAA")
    broken += verify_manifest([]) + verify_manifest({})
    assert len(broken) > 15
    for problem in broken:
        said = problem_message(problem)
        assert isinstance(said, Message), problem
        assert str(said) == problem


def test_the_feed_title_follows_the_reader_language(pub, client):
    german = client.get("/o/hwu/feed.atom", headers=DE)
    assert "<title>Von Harbour Workers Union unterzeichnete Erklärungen</title>" in german.get_data(as_text=True)
    english = client.get("/o/hwu/feed.atom")
    assert "<title>Statements signed by Harbour Workers Union</title>" in english.get_data(as_text=True)
    assert german.headers["ETag"] != english.headers["ETag"] and "Accept-Language" in german.headers["Vary"]


def test_the_audit_trail_counts_in_the_reader_format(frozen):
    page = text_of(frozen.browser(frozen.coordinator).get(f"/statements/{frozen.sid}/audit", headers=DE))
    assert "Die Einträge 1 bis" in page and "sind stimmig" in page
