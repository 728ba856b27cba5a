"""Manifests that each break exactly one rule of the verifier (issue 15, item 6).

Shared by tests/test_verifier_rules.py (``verify_manifest``, ``verify.py`` as a script, ``flask
statements verify`` and the verify page) and tests/browser/test_verify.py (the same rules checked by
app/static/verify.js in Chromium). Each case builds a valid manifest sealed with ``key``, breaks one
rule, reseals it with ``key`` when the rule is not the seal's own (so nothing else breaks), and names
the one problem every checker must report, word for word.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from app.publishing import seal
from tests.test_publishing import ORGS, build_manifest


@dataclass(frozen=True)
class Case:
    rule: str
    problem: str  # the one problem reported, exactly
    make: Callable  # key -> broken manifest


def _resealed(key, change: Callable[[dict], None]) -> dict:
    manifest = build_manifest(key)
    change(manifest)
    return seal.seal_manifest(manifest, key)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical_mismatch(m: dict) -> None:
    other = "0" * 64
    m["version"]["sha256"] = other
    for s in m["signatures"]:
        s["version_sha256"] = other


def _text_not_canonical(m: dict) -> None:
    m["text"] = m["text"].replace("binding treaty", "voluntary treaty")
    m["sha256"] = _sha(m["text"])


def _archive_with_unrecorded(m: dict) -> None:
    m["archive"] = {"recorded_on": "2026-03-02", "recorded_by": "Cora", "recorded_by_organisation": ORGS[0]["name"]}
    for s in m["signatures"][1:]:
        s["recorded"] = True
        s["signed_at"] = None


def _after_sealing(key, change: Callable[[dict], None]) -> dict:
    manifest = build_manifest(key)
    change(manifest)
    return manifest


def _forged(_key) -> dict:
    forger = seal.Ed25519PrivateKey.generate()
    manifest = build_manifest(forger)
    return manifest


def cases(key) -> list[tuple[str, dict, str]]:
    """(rule, broken manifest, the one problem) for every rule; ``key`` is the expected seal key."""
    version_sha = build_manifest(key)["version"]["sha256"]
    forged = _forged(key)
    table = [
        Case("format", "Unknown manifest format 'concord-manifest/9'; expected 'concord-manifest/1'.",
             lambda k: _resealed(k, lambda m: m.update(format="concord-manifest/9"))),
        Case("text missing", 'The manifest has no plain text ("text").',
             lambda k: _resealed(k, lambda m: m.pop("text"))),
        Case("text hash missing", 'The manifest has no SHA-256 of the plain text ("sha256").',
             lambda k: _resealed(k, lambda m: m.pop("sha256"))),
        Case("text hash", "The plain text does not match its SHA-256, so the text has been changed: the manifest "
                          f"says {'0' * 64}, the text hashes to {build_manifest(key)['sha256']}.",
             lambda k: _resealed(k, lambda m: m.update(sha256="0" * 64))),
        Case("version hash missing", 'The manifest has no version hash ("version": {"sha256": ...}).',
             lambda k: _resealed(k, lambda m: m.update(version={"number": 4}))),
        Case("canonical text missing", 'The manifest has no canonical text ("canonical_text").',
             lambda k: _resealed(k, lambda m: m.pop("canonical_text"))),
        Case("canonical hash", "The canonical text does not match the version's SHA-256, so the signed text has been "
                               f"changed: the manifest says {'0' * 64}, the text hashes to {version_sha}.",
             lambda k: _resealed(k, _canonical_mismatch)),
        Case("text and canonical text", "The plain text and the canonical text do not carry the same title and "
                                        "paragraphs.",
             lambda k: _resealed(k, _text_not_canonical)),
        Case("no signatures", "The manifest lists no signatures.",
             lambda k: _resealed(k, lambda m: m.update(signatures=[]))),
        Case("signature not a record", "Signature 4 is not a record.",
             lambda k: _resealed(k, lambda m: m["signatures"].append("signed"))),
        Case("signature of another version", f"The signature of {ORGS[0]['name']} is for another version "
                                             f"({'0' * 64}) than the published one ({version_sha}).",
             lambda k: _resealed(k, lambda m: m["signatures"][0].update(version_sha256="0" * 64))),
        Case("no participants", "The manifest lists no participating organisations.",
             lambda k: _resealed(k, lambda m: m.update(participants=[]))),
        Case("participant without signature", f"{ORGS[1]['name']} is a participant but has no signature.",
             lambda k: _resealed(k, lambda m: m["signatures"].pop(1))),
        Case("two signatures of one organisation", f"{ORGS[0]['name']} has 2 signatures; there should be exactly one.",
             lambda k: _resealed(k, lambda m: m["signatures"].append(copy.deepcopy(m["signatures"][0])))),
        Case("signature by an organisation that did not take part",
             "A signature is from outsiders, which is not a participant.",
             lambda k: _resealed(k, lambda m: m["signatures"].append(
                 dict(copy.deepcopy(m["signatures"][0]), organisation="Outsiders", organisation_slug="outsiders")))),
        Case("recorded signature outside an archive", f"The signature of {ORGS[0]['name']} is marked as recorded by "
                                                      "the coordinator, but the manifest is not an archived "
                                                      "statement's.",
             lambda k: _resealed(k, lambda m: m["signatures"][0].update(recorded=True))),
        Case("archive with a signature not recorded", f"The signature of {ORGS[0]['name']} is not marked as "
                                                      "recorded, but the manifest is an archived statement's, whose "
                                                      "signatures were not made on Concord.",
             lambda k: _resealed(k, _archive_with_unrecorded)),
        Case("no seal", "The manifest has no seal.",
             lambda k: _after_sealing(k, lambda m: m.pop("seal"))),
        Case("seal algorithm", "The seal uses an unknown algorithm ('RSA'); expected Ed25519.",
             lambda k: _after_sealing(k, lambda m: m["seal"].update(algorithm="RSA"))),
        Case("seal not base64", "The seal's public key or signature is not valid base64 of the right length.",
             lambda k: _after_sealing(k, lambda m: m["seal"].update(signature="not*base64"))),
        Case("seal does not match", "The seal does not match the manifest: something in it (text, date, signatures, "
                                    "participants...) was changed after the platform sealed it.",
             lambda k: _after_sealing(k, lambda m: m["signatures"][1].update(signer_name="Someone Else"))),
        Case("sealed by another key", f"The manifest is sealed with key {forged['seal']['public_key']}, not the "
                                      f"expected key {seal.public_key_b64(key)}.",
             lambda k: forged),
    ]
    return [(c.rule, c.make(key), c.problem) for c in table]


RULES = [c for c, _, _ in cases(seal.Ed25519PrivateKey.generate())]
