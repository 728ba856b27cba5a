"""The amendment pages, their flashes and the rules' refusals in German, Spanish and French."""

from __future__ import annotations

import html

import pytest

from app.amending import operations as amending
from app.amending import words
from app.amending.rules import decide
from app.errors import ConcordError
from app.extensions import db
from app.i18n import in_language
from app.models import Amendment
from tests.test_web_amendments import PARAGRAPHS, World, now

HOTTER = PARAGRAPHS[0].replace("hotter", "much hotter")
WARMER = PARAGRAPHS[0].replace("hotter every summer", "warmer each year")


@pytest.fixture
def w(app):
    world = World(app)
    world.open()
    return world


def page(browser, path: str, language: str) -> str:
    response = browser.get(path, headers={"Accept-Language": language})
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def speaking(browser, language: str):
    """The browser's visitor chose ``language`` in the footer (kept in a cookie, for every request)."""
    browser.client.set_cookie("concord_lang", language, domain="concord.test")
    return browser


@pytest.mark.parametrize(("language", "words", "english"), [
    ("de", ["Änderungsantrag #{id}", "Positionen", "Die Änderung", "Diskussion", "eingefügte Wörter", "offen",
            "Entscheidungsregel: Koordinator(in)", "Die Koordinatorin oder der Koordinator entscheidet.",
            "Noch keine Kommentare.", "Kommentar hinzufügen", "als Antragsteller(in)"],
     ["Positions</h2>", "The change</h2>", "No comments yet.", "Add comment", "as proposer"]),
    ("es", ["Enmienda #{id}", "Posturas", "El cambio", "Debate", "palabras insertadas", "abierta",
            "Regla de decisión: coordinador(a)", "Decide el coordinador o la coordinadora.",
            "Todavía no hay comentarios.", "Añadir comentario", "como proponente"],
     ["Positions</h2>", "The change</h2>", "No comments yet.", "Add comment", "as proposer"]),
    ("fr", ["Amendement #{id}", "Positions", "La modification", "Discussion", "mots insérés", "ouvert",
            "Règle de décision : coordinateur·rice", "Le coordinateur ou la coordinatrice décide.",
            "Pas encore de commentaires.", "Ajouter un commentaire", "en tant qu’auteur"],
     ["The change</h2>", "No comments yet.", "Add comment", "as proposer"]),
])
def test_the_amendment_page_speaks_the_viewers_language(w, language, words, english):
    amendment_id = w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER, rationale="Because.")
    shown = page(w.browser(w.tenant), f"/amendments/{amendment_id}", language)
    for word in words:
        assert word.format(id=amendment_id) in shown, (language, word)
    for word in english:
        assert word not in shown, (language, word)
    assert "Because." in shown and "much hotter" in shown  # user text stays as written


def test_the_coordinator_sees_the_decision_forms_in_german(w):
    amendment_id = w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    shown = page(w.browser(w.coordinator), f"/amendments/{amendment_id}", "de")
    assert f"Änderungsantrag #{amendment_id} annehmen" in shown
    assert f"Änderungsantrag #{amendment_id} ablehnen" in shown and "Grund für die Ablehnung" in shown
    assert "Accept amendment" not in shown and "Reason for rejecting" not in shown


def test_the_list_the_proposal_form_and_the_history_in_spanish(w):
    w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    browser = w.browser(w.tenant)
    listed = page(browser, f"/statements/{w.sid}/amendments", "es")
    assert "Enmiendas</h1>" in listed and "1 enmienda." in listed and "Filtrar" in listed
    assert "1 amendment." not in listed and ">Filter<" not in listed
    form = page(browser, f"/statements/{w.sid}/amendments/new?kind=modify&paragraph={w.pids[1]}", "es")
    assert "Enmendar el ¶ 2" in form and "Propuesta en nombre de" in form and "Previsualizar el cambio" in form
    assert "Como máximo 10.000 caracteres para un párrafo, 300 para un título." in form  # Babel's numbers
    assert "Proposed on behalf of" not in form and "At most" not in form
    history = page(browser, f"/statements/{w.sid}/paragraphs/{w.pids[0]}/history", "es")
    assert "Historial" in history and "1 enmienda abierta" in history


def test_the_merged_view_in_french(w):
    w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    w.propose(w.tenant, w.tnn, paragraph_id=w.pids[0], text=WARMER)
    shown = page(w.browser(w.coordinator), f"/statements/{w.sid}/merged", "fr")
    assert "Accepter la sélection" in shown and "Règle remplie" in shown and "Entre en collision avec" in shown
    assert "2 amendements ouverts sur 2 affichés." in shown and "Vue fusionnée" in shown
    assert "Accept selected" not in shown and "Rule met" not in shown and "Collides with" not in shown


def test_a_rule_refusal_and_a_flash_in_spanish(w):
    browser = speaking(w.browser(w.partner), "es")
    path = f"/statements/{w.sid}/amendments/new?kind=modify&paragraph={w.pids[0]}"
    response = browser.post(path, {"organisation": w.gva.id, "text": PARAGRAPHS[0], "submit": "1"})
    assert response.status_code == 422
    shown = html.unescape(response.get_data(as_text=True))
    assert "El texto propuesto es igual al texto actual." in shown
    assert "The proposed text is the same" not in shown
    response = browser.post(path, {"organisation": w.gva.id, "text": HOTTER, "submit": "1"})
    assert response.status_code == 302
    amendment_id = db.session.query(Amendment.id).scalar()
    shown = html.unescape(browser.get(response.headers["Location"]).get_data(as_text=True))
    assert f"La enmienda #{amendment_id} está propuesta." in shown


def test_a_refused_batch_says_why_in_german(w):
    hotter = w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    warmer = w.propose(w.tenant, w.tnn, paragraph_id=w.pids[0], text=WARMER)
    browser = speaking(w.browser(w.coordinator), "de")
    path = f"/statements/{w.sid}/merged"
    browser.post(f"{path}/accept", {"accept": [f"{hotter}.1", f"{warmer}.1"]}, form_page=path)
    shown = html.unescape(browser.get(path).get_data(as_text=True))
    assert (f"Nichts wurde angenommen. #{warmer}: steht im Konflikt mit dem Text, sobald #{hotter} "
            "angewendet ist") in shown
    assert "Nothing was accepted" not in shown


def test_the_rules_refusals_read_in_the_language_they_are_shown_in(w):
    """The rules mark their messages (app.i18n): English by default, any language when shown."""
    amendment_id = w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    amending.withdraw_amendment(db.session.get(Amendment, amendment_id), w.partner, now=now())
    db.session.commit()
    with pytest.raises(ConcordError) as refused:
        amending.withdraw_amendment(db.session.get(Amendment, amendment_id), w.partner, now=now())
    db.session.rollback()
    assert refused.value.message == "Only an open amendment can be withdrawn."
    assert in_language(refused.value.raw_message, "es") == "Solo se puede retirar una enmienda abierta."
    assert in_language(refused.value.raw_message, "fr") == "Seul un amendement ouvert peut être retiré."


def test_decision_explanations_carry_their_numbers_into_every_language():
    decision = decide("consensus", 4, 2, 1, 3)
    assert str(decision.explanation) == (
        "Consensus needs the support of all 4 organisations; 2 have not given it (1 oppose).")
    assert in_language(decision.explanation, "de") == (
        "Konsens erfordert die Unterstützung aller 4 Organisationen; 2 haben sie nicht gegeben (1 dagegen).")
    one = decide("consensus", 3, 2, 0, 2)
    assert in_language(one.explanation, "fr") == (
        "Le consensus exige le soutien des 3 organisations ; 1 ne l’a pas donné.")
    assert in_language(decide("majority", 5, 1, 1, 2).explanation, "es") == (
        "Una decisión por mayoría requiere que al menos la mitad de las 5 organizaciones adopte una postura; "
        "lo han hecho 2.")


def test_a_reason_the_rules_wrote_reads_in_the_viewers_language(w):
    """An amendment closed by the rules (its paragraph deleted by another) says why in the viewer's language;
    a coordinator's own reason for rejecting is shown as written."""
    changed = w.propose(w.partner, w.gva, paragraph_id=w.pids[2], text="We will review progress every year.")
    deleting = w.propose(w.tenant, w.tnn, kind="delete", paragraph_id=w.pids[2])
    amending.accept(db.session.get(Amendment, deleting), w.coordinator, text_version=None, now=now())
    rejected = w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    amending.reject(db.session.get(Amendment, rejected), w.coordinator, reason="Not now, thanks.", now=now())
    db.session.commit()
    browser = w.browser(w.tenant)
    shown = page(browser, f"/amendments/{changed}", "fr")
    assert "Caduc le " in shown and f"Le paragraphe a été supprimé par l’amendement #{deleting}." in shown
    assert "The paragraph was deleted" not in shown
    shown = page(browser, f"/amendments/{rejected}", "de")
    assert "Abgelehnt von Carla Coordinator am " in shown and ": Not now, thanks." in shown


def test_what_the_rules_tell_people_has_its_words_in_every_language():
    """Notifications keep the English text here; their messages read in the reader's language where kept."""
    subject = words.outcome_subject("conflicted", 7)
    assert in_language(subject, "en") == "Your amendment #7 conflicts with the new text; please revise it"
    assert in_language(subject, "de") == (
        "Ihr Änderungsantrag #7 steht im Konflikt mit dem neuen Text; bitte überarbeiten Sie ihn")
    assert in_language(words.position_body("oppose", "GVA"), "fr") == "GVA a enregistré sa position : s’opposer."
    assert in_language(words.proposed_subject("modify", 2, 9, "Cool Cities"), "es") == (
        "Nueva enmienda #9 al ¶ 2: Cool Cities")
    assert str(words.proposed_body("retitle", None, "GVA")) == (
        "GVA proposes to retitle the title. Read it and record your organisation's position.")


def test_a_notification_of_a_proposal_reads_in_each_readers_language(w):
    """One proposal, one notification per delegate: each reads it in their own language, whoever wrote it."""
    from app.models import User

    db.session.get(User, w.tenant.id).language = "de"
    db.session.commit()
    amendment_id = w.propose(w.partner, w.gva, paragraph_id=w.pids[0], text=HOTTER)
    german = page(w.browser(w.tenant), "/notifications", "en")
    english = page(w.browser(w.coordinator), "/notifications", "en")
    assert f"Neuer Änderungsantrag #{amendment_id} zu ¶ 1" in german
    assert f"New amendment #{amendment_id} on ¶ 1" in english and "Neuer" not in english
