"""The statement, drafting, import and translation pages in German, Spanish and French: what the pages
say, the forms' labels, the flashes and the rules' refusals, in the reader's language."""

from __future__ import annotations

import html

import pytest

from app.drafting import text as drafting_text
from app.errors import InvalidInput
from app.i18n import in_language
from app.translating.languages import label
from tests.test_web_statements import World


@pytest.fixture
def world(app) -> World:
    return World(app)


def get(browser, path: str, lang: str) -> str:
    response = browser.get(path, headers={"Accept-Language": lang})
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def post(browser, path: str, data: dict, lang: str, **kw):
    return browser.post(path, data, headers={"Accept-Language": lang}, **kw)


@pytest.mark.parametrize(("lang", "said", "english"), [
    ("de", ["Verlauf", "Titel bearbeiten", "Absatz am Anfang einfügen", "Sprachen", "Teilnehmende:", "Entwurf",
            "Absatz 2, Link zu diesem Absatz", "Darunter einfügen", "Koordiniert von Carla Coordinator (HWU)"],
     ["Insert a paragraph at the top", "Edit title", "Who wrote what", "Coordinated by", "Participants:"]),
    ("es", ["Historial", "Editar título", "Insertar un párrafo al principio", "Idiomas", "borrador",
            "Párrafo 3, enlace a este párrafo", "Coordinada por Carla Coordinator (HWU)"],
     ["Insert a paragraph at the top", "Edit title", "History<", "Move down"]),
    ("fr", ["Historique", "Modifier le titre", "Insérer un paragraphe au début", "Langues", "brouillon",
            "Paragraphe 1, lien vers ce paragraphe", "Coordonnée par Carla Coordinator (HWU)"],
     ["Insert a paragraph at the top", "Edit title", "Languages<", "Insert below"]),
])
def test_the_statement_page_speaks_the_readers_language(world, lang, said, english):
    page = get(world.browser(world.coordinator), f"/statements/{world.sid}", lang)
    for text in said:
        assert text in page, text
    for text in english:
        assert text not in page, text
    assert "Joint Statement on Clean Water" in page  # user content as it was written


def test_each_paragraph_row_names_its_own_number_in_every_language(world):
    """The rows are stamped from one rendering: the translated labels carry each row's own number."""
    page = get(world.browser(world.coordinator), f"/statements/{world.sid}", "de")
    for number in (1, 2, 3):
        assert f'aria-label="Absatz {number}, Link zu diesem Absatz"' in page
        assert f'aria-label="Absatz {number}"' in page
    assert page.count("Nach unten") == 2 and page.count("Nach oben") == 2


def test_history_and_version_pages_in_spanish(world):
    browser = world.browser(world.coordinator)
    page = get(browser, f"/statements/{world.sid}/history", "es")
    assert "Su trayectoria hasta ahora" in page and "Borrador iniciado" in page
    assert "Ahora: borrador" in page and "Versiones" in page and "Qué ha cambiado" in page
    assert "Draft started" not in page and "Its life so far" not in page
    assert "<td>Creado</td>" in page  # the note stored in English ("Created"), shown in the reader's language
    page = get(browser, f"/statements/{world.sid}/versions/1", "es")
    assert "Versión 1" in page and "Texto canónico" in page and "(exactamente los bytes que cubre el hash)" in page
    assert "Canonical text" not in page


def test_the_new_statement_form_in_french(world):
    """French punctuation keeps its (non-breaking) space before a question mark or colon."""
    page = get(world.browser(world.coordinator), "/statements/new", "fr")
    assert "Nouvelle déclaration" in page and "Organisation coordinatrice" in page
    assert "Organisations participantes" in page and "Créer le brouillon" in page
    assert "Vous avez déjà le texte\u00a0?" in page and "Importez-le</a> plutôt." in page
    assert "Coordinating organisation" not in page and "Create the draft" not in page


def test_a_saved_paragraph_is_reported_in_german(world):
    browser = world.browser(world.coordinator)
    path = f"/statements/{world.sid}/paragraphs/{world.pids[0]}/edit"
    page = get(browser, path, "de")
    assert "Absatz 1 bearbeiten" in page and "¶ 1 speichern" in page and "Abbrechen" in page
    response = post(browser, path, {"text": "Clean water is a right for everyone."}, "de")
    assert response.status_code == 302
    page = get(browser, response.location, "de")
    assert "¶ 1 als Fassung 2 gespeichert." in page


def test_a_rule_refusal_reads_in_spanish(world):
    """The title's control character is refused by the rules (app/drafting/text.py) in the reader's language."""
    response = post(world.browser(world.coordinator), f"/statements/{world.sid}/title",
                    {"title": "Clean\x07water"}, "es")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "El título contiene un carácter de control (U+0007); elimínelo e inténtelo de nuevo." in page
    assert "control character" not in page


def test_an_oversized_import_counts_as_german_writes_numbers(world):
    text = "A title\n\n1. " + "x" * (drafting_text.MAX_PARAGRAPH_CHARS + 1)
    response = post(world.browser(world.coordinator), "/statements/import",
                    {"text": text, "coordinator_organisation": str(world.harbour.id)}, "de")
    page = html.unescape(response.get_data(as_text=True))
    assert "Absatz 1: Ein Absatz darf höchstens 10.000 Zeichen haben; dieser hat 10.001." in page
    assert "can have at most" not in page


def test_the_import_preview_and_its_notes_in_french(world):
    text = "A title\n\n2. The first point.\n\n3. The second point.\n"
    response = post(world.browser(world.coordinator), "/statements/import",
                    {"text": text, "coordinator_organisation": str(world.harbour.id)}, "fr")
    page = html.unescape(response.get_data(as_text=True))
    assert "Vérifiez ce qui a été trouvé" in page
    assert "Concord a trouvé un titre et <strong>2 paragraphes</strong>." in page
    assert "Concord numérote les paragraphes dans leur ordre." in page
    assert "Créer le brouillon avec ces 2 paragraphes" in page
    assert "Check what was found" not in page and "numbers paragraphs by their order" not in page


def test_languages_page_flash_and_refusal_in_french(world):
    browser = world.browser(world.coordinator)
    path = f"/statements/{world.sid}/languages"
    page = get(browser, path, "fr")
    assert "Ajouter une langue" in page and "Langue source\u00a0:" in page and "anglais (en)" in page
    assert "Aucune traduction pour l’instant." in page and "Add a language" not in page
    response = post(browser, path, {"language": "de"}, "fr")
    assert response.status_code == 302
    page = get(browser, response.location, "fr")
    assert "allemand (de) ajouté." in page and "Traduction en allemand (de)" in page
    assert "0 sur 3 paragraphes traduits" in page and "Enregistrer le paragraphe 2" in page
    refused = post(browser, path, {"language": "en"}, "fr")
    assert refused.status_code == 422
    assert "anglais (en) est la langue source de la déclaration." in html.unescape(refused.get_data(as_text=True))


def test_rule_messages_without_a_request_read_in_english_and_render_in_any_language():
    with pytest.raises(InvalidInput) as caught:
        drafting_text.normalise_title("")
    assert caught.value.message == "The title cannot be empty."
    assert in_language(caught.value.raw_message, "de") == "Der Titel darf nicht leer sein."
    assert in_language(caught.value.raw_message, "es") == "El título no puede estar vacío."
    assert label("de") == "German (de)"  # outside a request: English names
    assert label("de", "fr") == "allemand (de)"


def test_the_translation_apis_messages_in_spanish(app, admin):
    """Field names and codes stay as they are; the human message follows Accept-Language."""
    from tests.test_api_signing import ApiWorld

    world = ApiWorld(app)
    world.open()
    coordinator = world.api(world.coordinator)
    assert coordinator.post(f"/statements/{world.sid}/languages", json={"language": "de"}).status_code == 201
    delegate = world.api(world.delegate_gva)
    response = delegate.client.open(
        f"/api/v1/statements/{world.sid}/translations/de", method="PUT", json={"paragraphs": "x"},
        headers={"Authorization": f"Bearer {delegate.token}", "Accept-Language": "es"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["message"] == "«paragraphs» debe ser una lista de {id, revision_id, text}."
    assert error["code"] == "invalid_input"
    response = coordinator.client.open(
        f"/api/v1/statements/{world.sid}/languages", method="POST", json={"language": "en"},
        headers={"Authorization": f"Bearer {coordinator.token}", "Accept-Language": "es"})
    assert response.get_json()["error"]["message"] == "inglés (en) es el idioma de origen de la declaración."


@pytest.mark.parametrize(("lang", "one", "two"), [
    ("de", "1 offener Änderungsantrag", "2 offene Änderungsanträge"),
    ("es", "1 enmienda abierta", "2 enmiendas abiertas"),
    ("fr", "1 amendement ouvert", "2 amendements ouverts"),
])
def test_open_amendment_counts_take_the_languages_plural_in_every_row(app, lang, one, two):
    """The rows are stamped from one rendering per shape: each count has its row's number and plural form."""
    from tests.test_web_amendments import World as Amending

    world = Amending(app)
    world.open()
    world.propose(world.partner, world.gva, paragraph_id=world.pids[0], text="Every city shall plant trees.")
    world.propose(world.partner, world.gva, paragraph_id=world.pids[1], text="Every tenant deserves shade.")
    world.propose(world.tenant, world.tnn, paragraph_id=world.pids[1], text="Every tenant deserves a cool flat.")
    page = get(world.browser(world.coordinator), f"/statements/{world.sid}", lang)
    assert page.count(one) == 1 and page.count(two) == 1
    assert "open amendment" not in page
