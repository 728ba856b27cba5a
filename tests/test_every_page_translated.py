"""Every page of the interface in every shipped language: each GET route of the permission matrix, on a
statement in each phase, as someone allowed to see it, shows no English text that its catalogue
translates. A message that is marked but rendered before the language is known (at import time, stored
in English, built from a constant) shows up here as English on a German, Spanish or French page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po

from app import i18n
from tests.matrix_world import World, built
from tests.test_permission_matrix import OK, TABLE, url_values

SHIPPED = [tag for tag in i18n.LANGUAGES if tag != i18n.DEFAULT]
# Whom to ask as: the first of these the route lets in (the coordinator sees the most of a statement).
ASK_AS = ("coordinator", "delegate", "signatory", "admin", "anonymous", "nobody", "other_admin")
PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_]\w*\))?[-#0 +]*\d*(?:\.\d+)?[sdifr]")
SHOWN_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
MIN_PIECE_WORDS = 3  # a part of a message between placeholders, long enough not to be a coincidence


# Not the interface's words: scripts and styles, and people's own text (a diff's words, a form's text).
SKIPPED = ("script", "style", "ins", "del", "textarea")


class _Text(HTMLParser):
    """What a reader sees and hears: text nodes and the attributes read out, outside scripts and styles
    and outside people's own words."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.nodes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED:
            self._skip += 1
        for name, value in attrs:
            if value and (name in SHOWN_ATTRIBUTES or (name == "value" and tag == "input"
                                                          and dict(attrs).get("type") in ("submit", "button"))):
                self.nodes.append(value)

    def handle_endtag(self, tag):
        if tag in SKIPPED and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.nodes.append(data)


def shown_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return [" ".join(node.split()) for node in parser.nodes]


def _english_of(tag: str) -> tuple[set[str], set[str]]:
    """Messages whose translation differs from the English: whole short ones, and the long parts of all."""
    with (i18n.CATALOGUES / tag / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalogue = read_po(f, locale=tag)
    whole, pieces = set(), set()
    translated_text = " ".join(" ".join(m.string) if isinstance(m.string, tuple) else m.string
                               for m in catalogue if m.id)
    for message in catalogue:
        if not message.id or not message.string:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for source in sources:
            if source in strings:
                continue  # the same in both languages ("OK", "Version")
            flat = " ".join(source.split())
            if not PLACEHOLDER.search(flat) and any(c.isalpha() for c in flat):
                whole.add(flat)
            for piece in PLACEHOLDER.split(flat):
                piece = piece.strip(" .,:;()“”\"'")
                if len(piece.split()) >= MIN_PIECE_WORDS and piece not in translated_text:
                    pieces.add(piece)
    return whole, pieces


@pytest.fixture(scope="module")
def world(_app):
    with built(_app) as made:
        yield made


def _pages(world: World):
    """(where, url, actor) for every HTML page the matrix says someone may GET, in every phase."""
    from tests.test_permission_matrix import PARAM

    for (method, rule), entry in sorted(TABLE.items()):
        if method != "GET" or rule.startswith("/api/") or entry.get_writes:
            continue
        for phase in entry.phases or (None,):
            outcomes = entry.outcomes(phase)
            actor = next((a for a in ASK_AS if outcomes.get(a) == OK), None)
            if actor is None:
                continue
            scene = world.scenes[phase] if phase else None
            values = url_values(world, rule, scene)
            url = PARAM.sub(lambda m, v=values: str(v[m.group(1)]), rule)
            if entry.query:
                url += "?" + entry.query.format(**values)
            yield f"{rule} ({phase or '-'}, {actor})", url, actor


@pytest.mark.parametrize("tag", SHIPPED)
def test_no_page_shows_english_its_catalogue_translates(world, tag):
    whole, pieces = _english_of(tag)
    client = world.app.test_client(use_cookies=False)
    found, pages = [], 0
    for where, url, actor in _pages(world):
        cookie = world.sessions[actor][0]
        response = client.get(url, headers={"Cookie": f"{cookie}; concord_lang={tag}"})
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        pages += 1
        html = response.get_data(as_text=True)
        assert f'lang="{tag}"' in html, f"{where}: not served in {tag}"
        nodes = shown_text(html)
        joined = " \n ".join(nodes)
        english = {n for n in nodes if n in whole} | {p for p in pieces if p in joined}
        found += [f"{where}: {text!r}" for text in sorted(english)]
    assert pages >= 40, f"only {pages} pages were walked"
    assert not found, f"{tag}: {len(found)} English texts on translated pages:\n  " + "\n  ".join(found[:60])


def test_the_walk_finds_english_on_a_page_that_is_not_translated(world):
    """The check itself: an English footer on a page served as German is found."""
    whole, pieces = _english_of("de")
    page = '<html lang="de"><footer><p>Concord: joint statements, written together and signed exactly as ' \
           'published.</p><button>Change</button></footer></html>'
    nodes = shown_text(page)
    assert "Change" in whole and "Change" in nodes
    assert any(p in " ".join(nodes) for p in pieces)
