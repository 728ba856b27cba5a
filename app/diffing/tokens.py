"""Tokenising text for word-level diffs, and encoding tokens as characters.

A token is one of:

* a run of whitespace (``"\\n\\n"`` is one token);
* one Han ideograph or kana (Chinese and Japanese use no spaces, so each
  character is a word for diffing purposes);
* a word: letters, digits, underscores and combining marks, with inner
  apostrophes and hyphens (``don't``, ``so-called``, ``l’homme``) and, between
  digits, inner ``. , : /`` (``1,500``, ``3.14``, ``10:30``, ``1/2``);
* a run of the same punctuation character (``...``, ``--``, ``!!``);
* any other single character, with the combining marks, variation
  selectors, skin-tone modifiers and zero-width-joined characters that
  belong to it (so an emoji sequence is one token).

``"".join(tokenise(text)) == text`` always holds.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

# Han, kana: one token per character.
_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003ffff"  # CJK extensions B and later
)

# Characters that never start a token of their own: they belong to the
# character before them.
_EXTRA_EXTENDERS = (
    (0x200C, 0x200D),  # zero-width non-joiner and joiner (Persian, Indic, emoji)
    (0x1F3FB, 0x1F3FF),  # emoji skin-tone modifiers
    (0xE0020, 0xE007F),  # tag characters (subdivision flags)
)


def _class_ranges(ranges: list[tuple[int, int]]) -> str:
    return "".join(
        f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges
    )


def _mark_ranges() -> list[tuple[int, int]]:
    """Ranges of combining marks (Mn, Mc, Me) plus the extenders above."""
    ranges: list[tuple[int, int]] = []
    # Marks only occur in planes 0, 1 and 14.
    for cp in (*range(0x20000), *range(0xE0000, 0xE1000)):
        if unicodedata.category(chr(cp))[0] == "M":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    ranges.extend(_EXTRA_EXTENDERS)
    return ranges


@cache
def _token_re() -> re.Pattern[str]:
    ext = f"[{_class_ranges(_mark_ranges())}]"
    # A word character: \w except Han/kana, or a mark (marks are not \w in Python).
    wc = rf"(?:[^\W{_CJK}]+|{ext}+)"
    joiner = r"(?:['’\-‐‑]|(?<=\d)[.,:/](?=\d))"
    pattern = "|".join(
        (
            r"\s+",
            rf"[{_CJK}]{ext}*",
            rf"{wc}+(?:{joiner}{wc}+)*",
            r"([^\w\s])\1+",
            # a flag (two regional indicators) or any other character, with the
            # marks after it and whatever a zero-width joiner joins to it
            rf"(?:[\U0001f1e6-\U0001f1ff]{{2}}|[^\s])(?:{ext}|(?<=\u200d)[^\s])*",
        )
    )
    return re.compile(pattern)


def tokenise(text: str) -> list[str]:
    """Split ``text`` into tokens whose concatenation is exactly ``text``."""
    if not text:
        return []
    return list(map(re.Match.group, _token_re().finditer(text)))


# --- Encoding tokens as characters ---------------------------------------------------------

# Codes start above the characters diff-match-patch uses to pad patches
# (chr(1) .. chr(Patch_Margin)) and skip the surrogate range.
FIRST_CODE = 0x20
_SURROGATES = 0xD800
_SURROGATE_COUNT = 0x800
CAPACITY = 0x110000 - FIRST_CODE - _SURROGATE_COUNT  # how many distinct tokens fit


def _code(n: int) -> str:
    cp = FIRST_CODE + n
    if cp >= _SURROGATES:
        cp += _SURROGATE_COUNT
    return chr(cp)


class Codebook:
    """Maps each distinct token to one character, as ``diff_linesToChars`` does for lines.

    One codebook is shared by all the texts of one comparison, so equal
    tokens get equal codes. If the code space runs out (more than about
    1.1 million distinct tokens), the rest of a text becomes a single token,
    as diff-match-patch does for lines: the diff is coarser but still exact.
    """

    def __init__(self, capacity: int | None = None):
        self.capacity = CAPACITY if capacity is None else capacity
        self._codes: dict[str, str] = {}
        self._tokens: dict[str, str] = {}

    def _allocate(self, token: str) -> str:
        code = _code(len(self._codes))
        self._codes[token] = code
        self._tokens[code] = token
        return code

    def copy(self) -> Codebook:
        """An independent codebook with the same codes so far (to encode several texts against one)."""
        other = Codebook.__new__(Codebook)
        other.capacity = self.capacity
        other._codes = self._codes.copy()
        other._tokens = self._tokens.copy()
        return other

    def encode(self, text: str, reserve: int = 0) -> str:
        """Encode ``text``, keeping ``reserve`` codes free for texts still to come."""
        codes = self._codes
        tokens = tokenise(text)
        if len(codes) + len(tokens) + reserve + 1 < self.capacity:
            # Room for every token even if all are new: known ones are looked up at C speed.
            out = list(map(codes.get, tokens))
            if None in out:
                for i, code in enumerate(out):
                    if code is None:
                        token = tokens[i]
                        out[i] = codes.get(token) or self._allocate(token)
            return "".join(out)
        out = []
        for i, token in enumerate(tokens):
            code = codes.get(token)
            if code is None:
                free = self.capacity - len(codes) - reserve
                if free <= 1 and i < len(tokens) - 1:
                    # Last code for this text: the rest of it becomes one token.
                    token = "".join(tokens[i:])
                    code = codes.get(token) or self._allocate(token)
                    out.append(code)
                    break
                if free <= 0:
                    raise RuntimeError("diffing: token code space exhausted")  # pragma: no cover
                code = self._allocate(token)
            out.append(code)
        return "".join(out)

    def decode(self, encoded: str) -> str:
        return "".join(map(self._tokens.__getitem__, encoded))

    def token(self, code: str) -> str:
        return self._tokens[code]
