"""Diffs stored with what they describe: computed once, when a text is written, and kept.

An amendment's diff is computed when it is proposed, edited, revised or rebased, a paragraph
revision's when it is made; both texts never change afterwards, so neither does the diff, and a
page that shows it only reads it back (pages never diff at view time). Stored as compact JSON:
``[[op, text], ...]`` with diff-match-patch's ops (-1 delete, 0 equal, 1 insert).
"""

from __future__ import annotations

import json

from app.diffing.words import DELETE, INSERT, Ops, word_diff


def dump_ops(ops: Ops) -> str:
    return json.dumps([[op, text] for op, text in ops if text], ensure_ascii=False, separators=(",", ":"))


def load_ops(stored: str | None) -> Ops:
    return [(op, text) for op, text in json.loads(stored)] if stored else []


def text_change(old: str, new: str, *, deadline: float | None = None) -> str:
    """The stored word diff of ``old`` becoming ``new`` (coarser if it cannot finish by ``deadline``,
    a ``time.monotonic()`` value: see ``word_diff``)."""
    if not old:
        return dump_ops([(INSERT, new)])
    if not new:
        return dump_ops([(DELETE, old)])
    return dump_ops(word_diff(old, new, deadline=deadline))
