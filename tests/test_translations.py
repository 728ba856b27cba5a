"""Statement languages and translations, signed together (issue 14, items 2 and 3): the rules, without
the HTTP client, on SQLite and PostgreSQL. Every refusal changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.errors import Conflict, InvalidInput, NotAllowed, NotFound, StaleText, WrongPhase
from app.extensions import db
from app.models import AuditEntry, FrozenTranslation, Signature, StatementLanguage, TranslationText
from app.signing import operations as signing
from app.translating import operations as translating
from app.translating.languages import direction, normalise_tag, signatory_line
from tests import test_signing
from tests.test_signing import _fresh, _propose_and_accept, _refused, _sign_call

DE_TITLE = "Eine gemeinsame Erklärung über Häfen"
DE = ["Der Hafen muss für alle Arbeiter offen bleiben.", "Fähren fahren stündlich zwischen den Inseln.",
      "Brot wird jeden Morgen in der Stadt gebacken."]
ES_TITLE = "Una declaración conjunta sobre los puertos"
ES = ["El puerto debe seguir abierto a todos los trabajadores.", "Los transbordadores salen cada hora entre las islas.",
      "El pan se hornea en la ciudad cada mañana."]


@pytest.fixture
def w(app, now):
    """test_signing's world: three organisations (A coordinates) open for amendments, and an outsider."""
    return test_signing.w.__wrapped__(app, now)


def _ids(w) -> list[tuple[int, int]]:
    """(paragraph id, current revision id) of the live paragraphs, in order."""
    state = translating.translation_state(_fresh(w), "xx-none")
    return [(p.paragraph_id, p.source_revision_id) for p in state.paragraphs]


def _translate(w, tag: str, title: str, texts: list[str], user=None, minutes: int = 0):
    statement = _fresh(w)
    rows = translating.save_translation(
        statement, user or w.del_b, tag, title=title, title_source=statement.title,
        paragraphs={pid: (text, rid) for (pid, rid), text in zip(_ids(w), texts, strict=True)},
        now=w.now + timedelta(minutes=minutes))
    db.session.commit()
    return rows


def _add(w, *tags: str):
    for tag in tags:
        translating.add_language(_fresh(w), w.coordinator, tag, now=w.now)
    db.session.commit()


@pytest.fixture
def de(w):
    _add(w, "de")
    _translate(w, "de", DE_TITLE, DE)
    return w


# --- languages --------------------------------------------------------------------------------


def test_language_tags_are_checked_with_babel():
    assert normalise_tag("de") == "de"
    assert normalise_tag("pt-BR") == "pt-BR"
    assert normalise_tag("pt_BR") == "pt-BR"
    assert direction("ar") == "rtl" and direction("he") == "rtl" and direction("de") == "ltr"
    for bad in ("", "xx", "zz-QQ", "de<script>", "d" * 40):
        with pytest.raises(InvalidInput):
            normalise_tag(bad)


def test_signatory_lines_per_language():
    from datetime import date

    day = date(2022, 2, 21)
    names = ["A", "B", "C"]
    assert signatory_line(names, day, "en") == "Joint Statement of A, B and C, 21 February 2022"
    assert signatory_line(names, day, "de") == "Gemeinsame Erklärung von A, B und C, 21. Februar 2022"
    assert signatory_line(names, day, "es") == "Declaración conjunta de A, B y C, 21 de febrero de 2022"
    assert signatory_line(names, day, "fr") == "Déclaration commune de A, B et C, 21 février 2022"
    assert signatory_line(["A", "B"], day, "fr") == "Déclaration commune de A et B, 21 février 2022"


def test_coordinator_adds_and_removes_languages(w):
    _add(w, "de", "es")
    assert [r.language for r in translating.target_languages(_fresh(w))] == ["de", "es"]
    translating.remove_language(_fresh(w), w.coordinator, "es", now=w.now)
    db.session.commit()
    assert [r.language for r in translating.target_languages(_fresh(w))] == ["de"]
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.statement_id == w.statement.id)).all()
    assert actions.count("language_added") == 2 and "language_removed" in actions


def test_source_language_is_set_by_the_coordinator(w):
    assert _fresh(w).source_language == "en"
    translating.set_source_language(_fresh(w), w.coordinator, "fr", now=w.now)
    db.session.commit()
    assert _fresh(w).source_language == "fr"
    _refused(InvalidInput, lambda: translating.set_source_language(_fresh(w), w.coordinator, "klingon", now=w.now))
    _refused(NotAllowed, lambda: translating.set_source_language(_fresh(w), w.del_b, "de", now=w.now))


@pytest.mark.parametrize("tag, error", [("en", InvalidInput), ("xx", InvalidInput), ("", InvalidInput)])
def test_bad_languages_are_refused(w, tag, error):
    _refused(error, lambda: translating.add_language(_fresh(w), w.coordinator, tag, now=w.now))


def test_only_the_coordinator_chooses_languages(w):
    _refused(NotAllowed, lambda: translating.add_language(_fresh(w), w.del_b, "de", now=w.now))
    _add(w, "de")
    _refused(InvalidInput, lambda: translating.add_language(_fresh(w), w.coordinator, "de", now=w.now))
    _refused(NotAllowed, lambda: translating.remove_language(_fresh(w), w.sig_b, "de", now=w.now))


# --- translating ---------------------------------------------------------------------------------


def test_delegates_translate_and_texts_are_appended(de):
    state = translating.translation_state(_fresh(de), "de")
    assert state.title == DE_TITLE and [p.text for p in state.paragraphs] == DE
    assert state.ready
    # The same texts again write nothing; one changed paragraph writes one row.
    assert _translate(de, "de", DE_TITLE, DE) == []
    changed = [DE[0], "Fähren fahren jede Stunde zwischen den Inseln.", DE[2]]
    rows = _translate(de, "de", DE_TITLE, changed)
    assert len(rows) == 1
    assert db.session.scalar(select(db.func.count()).select_from(TranslationText)) == 5  # nothing lost
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "translated")).all()
    assert len(audit) == 2 and json.loads(audit[-1].details)["language"] == "de"


def test_who_may_translate(de):
    _refused(NotAllowed, lambda: _translate(de, "de", "Andere", DE, user=de.sig_b))
    _refused(NotAllowed, lambda: _translate(de, "de", "Andere", DE, user=de.sig_out))
    _refused(NotFound, lambda: _translate(de, "es", ES_TITLE, ES))


def test_bad_translation_input_changes_nothing(de):
    statement = _fresh(de)
    (pid, rid), *_ = _ids(de)
    _refused(InvalidInput, lambda: translating.save_translation(
        statement, de.del_b, "de", paragraphs={pid: ("Ein \x07 Zeichen", rid)}, now=de.now))
    _refused(StaleText, lambda: translating.save_translation(
        statement, de.del_b, "de", paragraphs={pid: ("Neu.", rid + 1000)}, now=de.now))
    _refused(NotFound, lambda: translating.save_translation(
        statement, de.del_b, "de", paragraphs={999999: ("Neu.", rid)}, now=de.now))
    _refused(StaleText, lambda: translating.save_translation(
        statement, de.del_b, "de", title="Neu", title_source="An older title", now=de.now))
    _refused(InvalidInput, lambda: translating.save_translation(
        statement, de.del_b, "de", paragraphs={pid: ("x" * 20_000, rid)}, now=de.now))


def test_an_accepted_amendment_outdates_the_translation_of_its_paragraph(de):
    before = translating.translation_state(_fresh(de), "de")
    old_revision = before.paragraphs[1].source_revision_id
    _propose_and_accept(de, 2, "Ferries run every half hour between the islands.")
    state = translating.translation_state(_fresh(de), "de")
    assert state.outdated == [2] and state.complete and not state.ready
    assert state.paragraphs[1].translated_revision_id == old_revision
    diffs = translating.source_diffs(state)
    html = str(diffs[state.paragraphs[1].paragraph_id])
    assert "<ins>" in html and "half" in html
    # Saving the translation against the current source makes it current again.
    _translate(de, "de", DE_TITLE, [DE[0], "Fähren fahren jede halbe Stunde zwischen den Inseln.", DE[2]])
    assert translating.translation_state(_fresh(de), "de").ready


# --- freezing and signing ----------------------------------------------------------------------


def test_freeze_is_refused_while_an_authentic_translation_is_incomplete(w):
    _add(w, "de")
    statement = _fresh(w)
    (pid, rid), *_ = _ids(w)
    translating.save_translation(statement, w.del_b, "de", title=DE_TITLE, title_source=statement.title,
                                 paragraphs={pid: (DE[0], rid)}, now=w.now)
    db.session.commit()
    error = _refused(InvalidInput, lambda: signing.freeze(_fresh(w), w.coordinator, authentic_languages=["de"],
                                                          now=w.now))
    assert "German (de): paragraphs 2, 3 are not translated" in error.message
    # Not authentic: freezing is not held up by it.
    signing.freeze(_fresh(w), w.coordinator, authentic_languages=[], now=w.now)
    db.session.commit()
    assert _fresh(w).status == "signing"


def test_freeze_is_refused_while_an_authentic_translation_is_outdated(de):
    _propose_and_accept(de, 3, "Bread is baked in the town every morning.")
    error = _refused(InvalidInput, lambda: signing.freeze(_fresh(de), de.coordinator, authentic_languages=["de"],
                                                           now=de.now))
    assert "paragraph 3 is outdated" in error.message


def test_freeze_refuses_a_language_the_statement_does_not_have(w):
    _refused(InvalidInput, lambda: signing.freeze(_fresh(w), w.coordinator, authentic_languages=["fr"],
                                                  now=w.now))


@pytest.fixture
def frozen_de_es(de):
    _add(de, "es")
    _translate(de, "es", ES_TITLE, ES)
    signing.freeze(_fresh(de), de.coordinator, authentic_languages=["de", "es"], now=de.now)
    db.session.commit()
    return de


def test_freeze_writes_each_authentic_canonical_text_with_its_hash(frozen_de_es):
    w = frozen_de_es
    frozen = {f.language: f for f in translating.frozen_translations(_fresh(w))}
    assert set(frozen) == {"de", "es"}
    assert frozen["de"].canonical_text == (f"{DE_TITLE}\n\n1. {DE[0]}\n\n2. {DE[1]}\n\n3. {DE[2]}\n")
    import hashlib

    assert frozen["es"].sha256 == hashlib.sha256(frozen["es"].canonical_text.encode()).hexdigest()
    assert {r.language: r.authentic for r in db.session.scalars(select(StatementLanguage))} == {"de": True,
                                                                                               "es": True}
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "frozen")).one()
    assert json.loads(entry.details)["translations"] == {"de": frozen["de"].sha256, "es": frozen["es"].sha256}


def test_an_authentic_frozen_translation_cannot_change(frozen_de_es):
    w = frozen_de_es
    _refused(WrongPhase, lambda: _translate(w, "de", "Etwas anderes", DE))
    _refused(WrongPhase, lambda: translating.remove_language(_fresh(w), w.coordinator, "de", now=w.now))


def test_a_signature_binds_every_authentic_hash(frozen_de_es):
    w = frozen_de_es
    hashes = translating.frozen_hashes(_fresh(w))
    signature = _sign_call(w, w.sig_b, w.b, translation_sha256=hashes)()
    db.session.commit()
    assert json.loads(signature.translation_sha256) == hashes
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "signed")).one()
    assert json.loads(entry.details)["translations"] == hashes
    assert json.loads(entry.details)["sha256"] == _fresh(w).frozen_version.sha256


@pytest.mark.parametrize("shown", [None, {}, {"de": "0" * 64, "es": "0" * 64}, "only_de"])
def test_signing_with_other_hashes_than_the_frozen_ones_is_refused(frozen_de_es, shown):
    w = frozen_de_es
    hashes = translating.frozen_hashes(_fresh(w))
    if shown == "only_de":
        shown = {"de": hashes["de"]}
    error = _refused(Conflict, _sign_call(w, w.sig_b, w.b, translation_sha256=shown))
    assert "authentic texts changed" in error.message
    assert db.session.scalar(select(db.func.count()).select_from(Signature)) == 0


def test_reopening_voids_the_frozen_translations_and_signatures(frozen_de_es):
    w = frozen_de_es
    _sign_call(w, w.sig_b, w.b, translation_sha256=translating.frozen_hashes(_fresh(w)))()
    db.session.commit()
    signing.reopen(_fresh(w), w.coordinator, now=w.now + timedelta(minutes=2))
    db.session.commit()
    assert [f.status for f in db.session.scalars(select(FrozenTranslation))] == ["void", "void"]
    assert db.session.scalars(select(Signature.status)).all() == ["void"]
    # The translation can change again, and a new freeze writes new rows.
    _translate(w, "de", "Eine gemeinsame Erklärung zu Häfen", DE, minutes=3)
    signing.freeze(_fresh(w), w.coordinator, authentic_languages=["de"], now=w.now + timedelta(minutes=4))
    db.session.commit()
    assert set(translating.frozen_hashes(_fresh(w))) == {"de"}


def test_single_language_signing_is_unchanged(w):
    signing.freeze(_fresh(w), w.coordinator, now=w.now)
    db.session.commit()
    signature = _sign_call(w, w.sig_b, w.b)()
    db.session.commit()
    assert signature.translation_sha256 == "{}"
