"""Hypothesis strategies for hostile input (issue 8, item 4): text, ids, dates, form posts, JSON bodies.

Every strategy puts the good value first: Hypothesis starts from the simplest choice, so the first
example of every endpoint is a well-formed request that the rule accepts, and the rest stray from it.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import strategies as st

MARKER = "<x-hostile>"
SCRIPT = "<script>alert(1)</script>"
RAW = (MARKER, "<script>alert(")  # never in an HTML answer unescaped
# The same as they travel in a body or a URL (raw in JSON and multipart, percent-encoded in forms).
RAW_SENT = tuple(v.encode() for raw in RAW for v in (raw, quote(raw, safe="")))
# 1 MB of RTL-overridden, combining-marked text (few characters that need escaping in a form, so
# that sending and parsing it stays quick).
BIG = "\u202e" + "abcdefgh\u0301-" * 100_000
ID_MAX = 2**31 - 1  # ids are 32-bit INTEGER columns on PostgreSQL
MISSING = object()

SPECIALS = st.sampled_from([
    "", " ", "\x00", "\x00\x01\x07\x1b[31m", "\r\n\r\n", "\t\v\f", "\u200f\u202eevil\u202c",
    "\u061c\u2066rtl\u2069", "e\u0301\u0302\u0303\u0304" * 20, "\ud800", "a\udfffb", "\ufeff",
    "\uffff\ufffe", "😀" * 50, SCRIPT, "&lt;&amp;", "\"'`", "\u2028\u2029",
    "%00", "{{ 7*7 }}", "A" * 301, "\u00a0" * 5, "²", "١٢", "Ⅻ", "9" * 30, "-1", "0x1f", "1e3", " 7 ",
])
UNICODE = st.text(alphabet=st.characters(codec=None), max_size=60)  # any code point, surrogates too


@st.composite
def hostile_text(draw, big: bool = True) -> str:
    """Any text, often with markup in it. The 1 MB string is one draw in 20 (it is slow to send and
    to render), and never in a URL (big=False): servers refuse request lines over a few KB, and the
    test client takes minutes over a 1 MB one."""
    text = BIG if big and draw(st.integers(0, 19)) == 0 else draw(st.one_of(UNICODE, UNICODE, SPECIALS))
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(text))) if len(text) < 1000 else 0
        text = text[:cut] + MARKER + text[cut:]
    return text


# Numbers as a form or a query string carries them: digits that int() refuses ("²"), other scripts'
# digits that it takes ("١٢"), beyond the 32-bit columns, signs, blanks.
ID_TEXT = st.sampled_from(["0", "-1", "x", "", " 1", "1.0", "²", "١٢", "①", "9" * 30, str(ID_MAX),
                           str(ID_MAX + 1), "0x10", "1e3", "+3"])
WRONG_TYPE = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                       st.floats(allow_nan=False, allow_infinity=False),
                       st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                             st.integers(), max_size=2))
JSON_VALUE = st.one_of(hostile_text(), WRONG_TYPE)
# Date-times at the ends of the calendar (a time zone can push them past year 1 or 9999), and wrong ones.
WHEN = st.sampled_from(["9999-12-31T23:59", "0001-01-01T00:00", "2026-02-30T10:00", "2999-01-01T25:00",
                        "2000-01-01T00:00", "9999-12-31T23:59:59", "２０９９-０１-０１T10:00"])
DAY = st.sampled_from(["9999-12-31", "0001-01-01", "2026-02-30", "2000-01-01", "99999-01-01",
                       "２０９９-０１-０１", "2099-1-1"])
ISO_WHEN = st.sampled_from(["9999-12-31T23:59:59-11:00", "0001-01-01T00:00:00+14:00", "2099-01-01T10:00:00",
                            "2000-01-01T00:00:00Z", "2099-13-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"])
ZONES = st.sampled_from(["Pacific/Pago_Pago", "Pacific/Kiritimati", "Etc/GMT+12", "Mars/Olympus", ""])


def ids(*known: int) -> st.SearchStrategy:
    """One of the known ids (mostly), or one that names nothing: 0, a large one, the largest 32-bit."""
    return st.one_of(st.sampled_from(known), st.sampled_from(known), st.sampled_from(known),
                     st.sampled_from([0, 999_999, ID_MAX]))


def path_id(own: int, *foreign: int) -> st.SearchStrategy:
    """A URL id: our own object (mostly), another statement's or organisation's, or none at all."""
    others = [str(i) for i in foreign] or ["0"]
    return st.one_of(st.just(str(own)), st.just(str(own)), st.just(str(own)), st.just(str(own)),
                     st.sampled_from(others), st.sampled_from(["0", "999999", str(ID_MAX), "9" * 30]))


# --- JSON ----------------------------------------------------------------------------------------------


def field(good, *extra) -> st.SearchStrategy:
    """A JSON field: the good value, hostile text, a wrong type, or missing."""
    strategy = st.one_of(st.just(good), hostile_text(), WRONG_TYPE, st.just(MISSING), *extra)
    strategy.good = good
    return strategy


def json_object(**fields) -> st.SearchStrategy:
    """Every field hostile at once; or all good but one (so that many requests get past the first
    check); or not an object at all."""
    def build(values: dict) -> dict:
        return {k: v for k, v in values.items() if v is not MISSING}

    goods = {name: strategy.good for name, strategy in fields.items()}
    if not fields:
        return st.one_of(st.just({}), st.lists(JSON_VALUE, max_size=2), JSON_VALUE)
    every = st.fixed_dictionaries(fields).map(build)
    one = st.sampled_from(sorted(fields)).flatmap(lambda name: st.fixed_dictionaries(
        {k: (fields[k] if k == name else st.just(v)) for k, v in goods.items()}).map(build))
    return st.one_of(every, one, one, st.lists(JSON_VALUE, max_size=2), JSON_VALUE)


def encode_json(value) -> bytes:
    # ensure_ascii: lone surrogates travel as \\udXXX escapes, valid JSON that decodes to them.
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def _bytes(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")  # a lone surrogate becomes invalid UTF-8


@st.composite
def json_body(draw, objects: st.SearchStrategy) -> tuple[bytes, str]:
    """(body, content type): the object as JSON (mostly), with a key twice, cut short, not UTF-8,
    form-encoded, empty, nested 100,000 deep, or sent under another content type."""
    value = draw(objects)
    body = encode_json(value)
    how = draw(st.sampled_from(["json"] * 6 + ["dup-first", "dup-last", "cut", "bytes", "form", "empty", "deep"]))
    if how.startswith("dup") and isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        twin = f"{encode_json(key).decode()}: {encode_json(draw(JSON_VALUE)).decode()}"
        inner = body.decode()[1:-1]
        body = ("{" + twin + ", " + inner + "}" if how == "dup-first" else "{" + inner + ", " + twin + "}").encode()
    elif how == "cut":
        body = body[: draw(st.integers(0, max(0, len(body) - 1)))]
    elif how == "bytes":
        body = _bytes("\ud800{") + body + b"\xff\xfe"
    elif how == "form":
        return b"text=a&text=b&organisation=%FF", "application/x-www-form-urlencoded"
    elif how == "empty":
        body = b""
    elif how == "deep":  # deeper than the JSON parser follows
        body = b"[" * 100_000 + body + b"]" * 100_000
    content_type = draw(st.sampled_from(["application/json"] * 8 + ["text/plain", "", "application/json; "
                                                                     "charset=latin-1"]))
    return body, content_type


# --- forms -----------------------------------------------------------------------------------------------


def form_body(pairs: list[tuple[str, str]]) -> bytes:
    """application/x-www-form-urlencoded, duplicated keys kept, surrogates as invalid UTF-8."""
    return "&".join(f"{quote(_bytes(k), safe='')}={quote(_bytes(v), safe='')}" for k, v in pairs).encode()


def multipart_body(pairs: list[tuple[str, str]], files=()) -> tuple[bytes, str]:
    """multipart/form-data with the same pairs (raw UTF-8, surrogates as invalid bytes) and files."""
    boundary = "hostile-boundary-7d1f"
    parts = []
    for name, value in pairs:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{quote(_bytes(name))}"\r\n\r\n'.encode()
                     + _bytes(value) + b"\r\n")
    for name, filename, content in files:
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{quote(_bytes(filename))}"\r\nContent-Type: text/plain\r\n\r\n')
        parts.append(head.encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


JUNK = st.sampled_from([b"&%ZZ=%G1&&=&", b"&=", b"&%ED%A0%80=%ED%A0%80", b"&a" * 50, b"&;;&%", b"&\xff\xfe=\x00"])


def form_field(name: str, good: str, *extra) -> st.SearchStrategy:
    """Once (good or hostile), missing, or duplicated."""
    value = st.one_of(st.just(good), hostile_text(), *extra)
    once = value.map(lambda v: [(name, v)])
    return st.one_of(once, once, st.just([]), st.lists(value, min_size=2, max_size=3).map(
        lambda vs: [(name, v) for v in vs]))


def form(**fields) -> st.SearchStrategy:
    """The pairs of every field, in order; extra keys the form does not know now and then."""
    pairs = st.tuples(*fields.values()).map(lambda parts: [pair for part in parts for pair in part])
    stray = st.one_of(st.just([]), st.just([]), st.just([]),
                      st.tuples(hostile_text(), hostile_text()).map(lambda kv: [kv]))
    return st.tuples(pairs, stray).map(lambda t: t[0] + t[1])


CSRF_WAYS = st.sampled_from(["ok"] * 9 + ["missing", "twice", "wrong"])
ENCODINGS = st.sampled_from(["url"] * 5 + ["multipart", "junk"])


# --- query strings ----------------------------------------------------------------------------------------

# The names views read (and a few they do not), so that drawn values reach the code that parses them.
QUERY_NAMES = st.sampled_from(["next", "after", "kind", "paragraph", "organisation", "status", "from", "to",
                               "coordinator_organisation", "participants", "page", "format", "token"])
# Ways out of the site after a login, as browsers read a Location (they drop tabs and newlines, take a
# backslash for a slash, and strip leading blanks and control characters).
OFF_SITE = st.sampled_from([
    "//evil.example/x", "/\t/evil.example/x", "/\n/evil.example", "\t//evil.example", " //evil.example",
    "\\\\evil.example", "/\\evil.example", "\\/evil.example", "/%2F/evil.example", "/%5C/evil.example",
    "/%2f%2fevil.example", "https://evil.example/", "http:evil.example", "javascript:alert(1)",
    "/\r\nSet-Cookie: x=1", "\x00//evil.example", "/\x0b/evil.example", "\x1f//evil.example",
    "///evil.example", "/./evil.example", "/%09/evil.example/x", "/é/ü", "/" + "a" * 3000,
])
QUERY_VALUE = st.one_of(ID_TEXT, hostile_text(big=False), OFF_SITE,
                        st.sampled_from(["open", "modify", "insert", "delete", "retitle", "top", "1", "2"]))
QUERY = st.lists(st.tuples(st.one_of(QUERY_NAMES, QUERY_NAMES, hostile_text(big=False)), QUERY_VALUE),
                 max_size=4)


def query_string(pairs: list[tuple[str, str]]) -> str:
    """Pairs percent-encoded as a browser sends them (surrogates as invalid UTF-8)."""
    return "&".join(f"{quote(_bytes(k), safe='')}={quote(_bytes(v), safe='')}" for k, v in pairs)


def with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    """``url`` with ``pairs`` after its own query (the view's own parameters come first)."""
    if not pairs:
        return url
    return url + ("&" if "?" in url else "?") + query_string(pairs)


BROWSER_DROPS = str.maketrans("", "", "\t\n\r")


def browser_location(location: str) -> str:
    """A Location header as a browser reads it: tabs and newlines dropped, leading and trailing blanks and
    control characters stripped, backslashes taken for slashes."""
    return location.translate(BROWSER_DROPS).strip("".join(map(chr, range(0x21)))).replace("\\", "/")
