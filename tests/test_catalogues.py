"""The interface's catalogues: every shipped language has every message of the code, none fuzzy, each
with the placeholders of its source, and the compiled files Concord reads match them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app import i18n

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = [tag for tag in i18n.LANGUAGES if tag != i18n.DEFAULT]
PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict:
    """The messages the code marks now (what `make translations` extracts), by (id, context)."""
    out = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
                    "--ignore-dirs", ".* __pycache__",  # Babel's default skips folders named _…: templates/_macros
                    "-k", "_", "-k", "N_", "-k", "_l", "-k", "ngettext:1,2", "-k", "lazy_gettext", "--no-location",
                    "-o", str(out), "."], cwd=ROOT, check=True)
    with out.open("rb") as f:
        return {(m.id, m.context): m for m in read_po(f) if m.id}


def catalogue(tag: str):
    with (i18n.CATALOGUES / tag / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=tag)


def placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


def test_the_code_marks_messages_and_the_template_lists_them(extracted):
    assert len(extracted) > 3
    with (i18n.CATALOGUES / "messages.pot").open("rb") as f:
        listed = {(m.id, m.context) for m in read_po(f) if m.id}
    missing = sorted(str(k) for k in set(extracted) - listed)
    assert not missing, f"run `make translations`: messages.pot lacks {missing[:10]}"


@pytest.mark.parametrize("tag", SHIPPED)
def test_every_message_is_translated_and_none_is_fuzzy(extracted, tag):
    po = catalogue(tag)
    problems = []
    for msgid, context in extracted:
        message = po.get(msgid, context=context)
        if message is None:
            problems.append(f"missing: {msgid!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif isinstance(message.string, tuple):
            if len(message.string) != po.num_plurals or not all(message.string):
                problems.append(f"plural forms incomplete ({po.num_plurals} needed): {msgid!r}")
        elif not message.string:
            problems.append(f"untranslated: {msgid!r}")
    assert not problems, f"{tag}: {len(problems)} problems, e.g. {problems[:15]}"


@pytest.mark.parametrize("tag", SHIPPED)
def test_each_translation_has_the_placeholders_of_its_source(tag):
    po = catalogue(tag)
    wrong = []
    for message in po:
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple):
            expected = placeholders(message.id[1])
            for form in message.string:
                # A plural form for exactly one may say "one" in words instead of %(num)d.
                if placeholders(form) != expected and placeholders(form) != [p for p in expected if "num" not in p]:
                    wrong.append((message.id[0], form))
        elif placeholders(message.string) != placeholders(message.id):
            wrong.append((message.id, message.string))
    assert not wrong, f"{tag}: placeholders differ in {wrong[:10]}"


@pytest.mark.parametrize("tag", SHIPPED)
def test_the_compiled_catalogue_is_the_source_catalogue(tag):
    """Concord reads the .mo files; `make translations` compiles them and they are committed."""
    def plain(value):  # a plural message's id and forms: a list from the .mo file, a tuple from the .po
        return tuple(value) if isinstance(value, (list, tuple)) else value

    with (i18n.CATALOGUES / tag / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = {(plain(m.id), m.context): plain(m.string) for m in read_mo(f) if m.id}
    source = {(plain(m.id), m.context): plain(m.string) for m in catalogue(tag)
              if m.id and m.string and not m.fuzzy}
    assert compiled == source, "run `make translations` to compile the catalogues"


def test_a_placeholder_count_problem_is_found():
    """The check above would see a translation that drops a placeholder."""
    assert placeholders("Signed by %(name)s on %(date)s") != placeholders("Unterzeichnet von %(name)s")
    assert placeholders("%(num)d amendments") == ["%(num)d"]
    assert placeholders("100%% sure") == []


def test_messages_from_the_rules_read_in_the_language_they_are_shown_in():
    message = i18n._("Choose a language from the list.")
    assert str(message) == "Choose a language from the list."  # no translator: English
    assert i18n.in_language(message, "de") == "Wählen Sie eine Sprache aus der Liste."
    assert i18n.in_language(message, "fr-CA") == "Choisissez une langue dans la liste."
    assert i18n.in_language(message, "sw") == "Choose a language from the list."


@pytest.mark.parametrize("tag,five,million", [
    ("fr", "5 amendements ouverts", "1000000 d’amendements ouverts"),
    ("es", "5 enmiendas abiertas", "1000000 de enmiendas abiertas"),
    ("de", "5 offene Änderungsanträge", "1000000 offene Änderungsanträge"),
])
def test_plural_forms_sit_in_the_slots_the_languages_rule_picks(tag, five, million):
    """Spanish and French have a form for round millions (CLDR "many", slot 1) besides the ordinary
    plural (slot 2): a form in the wrong slot would read "5 d’amendements"."""
    t = i18n.translations_for(tag)
    assert t.ngettext("%(num)s open amendment", "%(num)s open amendments", 5) % {"num": 5} == five
    assert t.ngettext("%(num)s open amendment", "%(num)s open amendments", 1000000) % {"num": 1000000} == million


def test_a_message_keeps_parameters_of_any_name():
    """``n`` and ``plural`` are parameters like any other, not the message's own fields."""
    message = i18n._("%(n)s of %(plural)s", n=3, plural="many")
    assert str(message) == "3 of many"
    counted = i18n.ngettext("%(num)d file from %(n)s", "%(num)d files from %(n)s", 2, n="Ana")
    assert str(counted) == "2 files from Ana"


def test_a_word_said_of_different_things_reads_as_each_needs():
    """French agrees "open" with what is open: an amendment (masculine), a suggestion or an invitation."""
    from app.amending import words

    assert i18n.in_language(words.amendment_status("open"), "fr") == "ouvert"
    assert i18n.in_language(words.suggestion_status("open"), "fr") == "ouverte"
    assert i18n.in_language(i18n._("open"), "fr") == "ouverte"
    assert i18n.in_language(words.amendment_status("withdrawn"), "fr") == "retiré"
    assert i18n.in_language(words.amendment_status("not_decided"), "de") == "nicht entschieden"
    assert str(i18n.pgettext("nothing known", "open")) == "open"  # no such context: the English


@pytest.mark.parametrize("note,tag,shown", [
    ("Amendment #7 (Port Union (PU)): modified ¶ 3", "de", "Änderungsantrag #7 (Port Union (PU)): ¶ 3 geändert"),
    ("Amendment #8 (GVA): new title", "fr", "Amendement #8 (GVA) : nouveau titre"),
    ("3 amendments accepted together: #4, #5, #9", "es", "3 enmiendas aceptadas juntas: #4, #5, #9"),
    ("Edited ¶ 2", "de", "¶ 2 bearbeitet"),
    ("A note somebody wrote", "de", "A note somebody wrote"),
])
def test_version_notes_the_rules_wrote_read_in_the_readers_language(note, tag, shown):
    from app.drafting.operations import shown_note

    assert i18n.in_language(shown_note(note), tag) == shown


def test_a_moment_in_a_message_is_written_in_the_language_it_is_read_in():
    from datetime import UTC, datetime

    message = i18n._("Please sign by %(deadline)s.", deadline=i18n.Moment(datetime(2026, 12, 8, 21, 41, tzinfo=UTC)))
    assert str(message) == "Please sign by 8 Dec 2026, 21:41 UTC."  # no translator: English
    assert "8 Dez. 2026, 21:41 UTC" in i18n.in_language(message, "de")
    assert "8 dic 2026" in i18n.in_language(message, "es")
    from app.notifications import texts

    kept = texts.pack("subject", message)  # a notification keeps the moment, not its English words
    assert '"t": "2026-12-08T21:41:00+00:00"' in kept
    assert texts.shown("(English)", kept, "b") == "Please sign by 8 Dec 2026, 21:41 UTC."


def test_a_changed_catalogue_is_a_new_release_so_no_page_is_revalidated_with_old_words(tmp_path, monkeypatch):
    """Pages' ETags carry the release: new wording in a catalogue must change it like new code does."""
    import shutil

    import app as package

    root = tmp_path / "root"
    for folder in ("app/static", "templates"):
        (root / folder).mkdir(parents=True)
    mo = root / "app" / "translations" / "de" / "LC_MESSAGES" / "messages.mo"
    mo.parent.mkdir(parents=True)
    shutil.copy(i18n.CATALOGUES / "de" / "LC_MESSAGES" / "messages.mo", mo)
    (root / "app" / "__init__.py").write_text("")
    monkeypatch.setattr(package, "__file__", str(root / "app" / "__init__.py"))
    before = package._release()
    mo.write_bytes(mo.read_bytes() + b"\0")
    assert package._release() != before
