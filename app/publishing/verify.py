#!/usr/bin/env python3
"""Check a Concord publication manifest offline.

Usage::

    python verify.py STATEMENT.json [--public-key BASE64]

This file is standalone on purpose: it needs only Python 3.10+ and the ``cryptography``
package (``pip install cryptography``), so an organisation can copy it and check a manifest
without installing Concord. Exit status: 0 intact, 1 broken, 2 the file could not be read.
Pass ``--public-key`` with the key shown on the platform's ``/about/seal`` page: without it
the script can only say that the manifest is consistent with the key written inside it.

The manifest (``/p/<slug>.json``)::

    {
      "format": "concord-manifest/1",
      "title": "...",
      "slug": "...",
      "url": "https://.../p/<slug>",
      "publication_date": "YYYY-MM-DD",
      "version": {"number": 3, "sha256": "<hex SHA-256 of canonical_text>"},
      "canonical_text": "<the signed text: title, blank line, '1. ...' paragraphs>",
      "text": "<the plain-text publication, exactly as /p/<slug>.txt>",
      "sha256": "<hex SHA-256 of text, UTF-8>",
      "participants": [{"name": "...", "name_in_statements": "...", "short_name": "...", "slug": "..."}],
      "signatures": [{"organisation": "...", "organisation_slug": "...",
                      "signer_name": "...", "signer_title": "...",
                      "signed_at": "<ISO 8601, UTC>", "version_sha256": "<hex>"}],
      "files": {"pdf": {"sha256": "<hex>", "bytes": 12345}, "docx": {...}, "md": {...}},
      "seal": {"algorithm": "Ed25519", "public_key": "<base64 raw 32 bytes>",
               "signature": "<base64 Ed25519 signature>"}
    }

A statement published in several languages names its source's ``"language"`` and lists the others::

      "language": "en",
      "languages": [{"language": "de", "authentic": true, "title": "...",
                     "canonical_text": "...", "canonical_sha256": "<hex>",
                     "text": "<the plain-text publication in German>", "sha256": "<hex>",
                     "files": {...}}]

and each signature names every authentic translation's canonical SHA-256 in
``"translation_sha256": {"de": "<hex>"}``.

An archived statement (signed and published elsewhere, recorded on Concord later) adds
``"archive": {"recorded_on": "YYYY-MM-DD", "recorded_by": "...", "recorded_by_organisation": "..."}``
and its signatures have ``"signed_at": null`` and ``"recorded": true``. ``files`` (the SHA-256 of
the published PDF, Word and Markdown files) and ``url`` are in manifests made since those files
are stored; docs/publication-format.md describes every member.

The seal signs the canonical JSON (sorted keys, ``","`` and ``":"`` separators, not
ASCII-escaped, UTF-8) of every member except ``seal``. Endorsements added after publication
are not part of the sealed manifest; the platform shows them separately.

Checks made here:

* the SHA-256 of ``text`` equals ``sha256``;
* the SHA-256 of ``canonical_text`` equals ``version.sha256``;
* ``text`` carries the same title and paragraphs as ``canonical_text`` (it only adds the
  signatory line as its second block);
* every signature names ``version.sha256``; every participant has exactly one signature and
  every signature is from a participant;
* signatures marked ``recorded`` appear only in an archived statement's manifest, and all of an
  archived statement's signatures are marked so;
* each language's plain text matches its SHA-256, its canonical text matches its
  ``canonical_sha256``, the two carry the same title and paragraphs, and it has as many paragraphs
  as the source; every signature names each authentic language's ``canonical_sha256`` and no other;
* the seal verifies; and, if given, the seal's public key is the expected one.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT = "concord-manifest/1"


def canonical_json(data: dict) -> bytes:
    """Identical to ``app.publishing.seal.canonical_json`` (a test keeps them equal)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_hashes(data: dict, problems: list[str]) -> str | None:
    text = data.get("text")
    if not isinstance(text, str):
        problems.append('The manifest has no plain text ("text").')
    elif not isinstance(data.get("sha256"), str):
        problems.append('The manifest has no SHA-256 of the plain text ("sha256").')
    else:
        try:
            actual = _sha256(text)
        except UnicodeEncodeError:
            actual = None
            problems.append("The plain text is not valid Unicode.")
        if actual is not None and actual != data["sha256"].lower():
            problems.append(
                f"The plain text does not match its SHA-256, so the text has been changed: "
                f"the manifest says {data['sha256']}, the text hashes to {actual}."
            )

    version = data.get("version")
    version_sha = version.get("sha256") if isinstance(version, dict) else None
    canonical = data.get("canonical_text")
    if not isinstance(version_sha, str):
        problems.append('The manifest has no version hash ("version": {"sha256": ...}).')
        version_sha = None
    if not isinstance(canonical, str):
        problems.append('The manifest has no canonical text ("canonical_text").')
    elif version_sha is not None:
        try:
            actual = _sha256(canonical)
        except UnicodeEncodeError:
            actual = None
            problems.append("The canonical text is not valid Unicode.")
        if actual is not None and actual != version_sha.lower():
            problems.append(
                f"The canonical text does not match the version's SHA-256, so the signed text has "
                f"been changed: the manifest says {version_sha}, the text hashes to {actual}."
            )
    if isinstance(text, str) and isinstance(canonical, str):
        blocks = text.rstrip("\n").split("\n\n")
        without_signatory_line = "\n\n".join(blocks[:1] + blocks[2:]) + "\n"
        if without_signatory_line != canonical:
            problems.append(
                "The plain text and the canonical text do not carry the same title and paragraphs."
            )
    return version_sha


def _check_signatures(data: dict, version_sha: str | None, problems: list[str]) -> None:
    signatures = data.get("signatures")
    participants = data.get("participants")
    if not isinstance(signatures, list) or not signatures:
        problems.append("The manifest lists no signatures.")
        return
    archive = data.get("archive") is not None
    signed_by: list[str] = []
    for n, sig in enumerate(signatures, start=1):
        if not isinstance(sig, dict):
            problems.append(f"Signature {n} is not a record.")
            continue
        who = sig.get("organisation") or sig.get("organisation_slug") or f"signature {n}"
        if version_sha is not None and str(sig.get("version_sha256", "")).lower() != version_sha.lower():
            problems.append(
                f"The signature of {who} is for another version ({sig.get('version_sha256')}) "
                f"than the published one ({version_sha})."
            )
        if sig.get("recorded") is True and not archive:
            problems.append(f"The signature of {who} is marked as recorded by the coordinator, but the manifest "
                            "is not an archived statement's.")
        elif archive and sig.get("recorded") is not True:
            problems.append(f"The signature of {who} is not marked as recorded, but the manifest is an archived "
                            "statement's, whose signatures were not made on Concord.")
        signed_by.append(str(sig.get("organisation_slug") or ""))
    if not isinstance(participants, list) or not participants:
        problems.append("The manifest lists no participating organisations.")
        return
    slugs = [str(p.get("slug") or "") if isinstance(p, dict) else "" for p in participants]
    for p, slug in zip(participants, slugs, strict=True):
        name = (p.get("name") if isinstance(p, dict) else None) or slug or "a participant"
        count = signed_by.count(slug)
        if count == 0:
            problems.append(f"{name} is a participant but has no signature.")
        elif count > 1:
            problems.append(f"{name} has {count} signatures; there should be exactly one.")
    for slug in signed_by:
        if slug not in slugs:
            problems.append(f"A signature is from {slug or 'an unnamed organisation'}, "
                            "which is not a participant.")


def _check_languages(data: dict, problems: list[str]) -> None:
    languages = data.get("languages")
    if languages is None:
        return
    if not isinstance(languages, list):
        problems.append('The manifest\'s "languages" is not a list.')
        return
    canonical = data.get("canonical_text")
    source_blocks = len(canonical.rstrip("\n").split("\n\n")) if isinstance(canonical, str) else None
    authentic: dict[str, str] = {}
    for n, entry in enumerate(languages, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("language"), str):
            problems.append(f"Language {n} of the manifest is not a record with a language.")
            continue
        tag = entry["language"]
        text, sha, tr_canonical, tr_sha = (entry.get("text"), entry.get("sha256"), entry.get("canonical_text"),
                                           entry.get("canonical_sha256"))
        if not all(isinstance(v, str) for v in (text, sha, tr_canonical, tr_sha)):
            problems.append(f"The {tag} text lacks its plain text, canonical text or their SHA-256.")
            continue
        try:
            text_actual, canonical_actual = _sha256(text), _sha256(tr_canonical)
        except UnicodeEncodeError:
            problems.append(f"The {tag} text is not valid Unicode.")
            continue
        if text_actual != sha.lower():
            problems.append(f"The {tag} plain text does not match its SHA-256, so the text has been changed: "
                            f"the manifest says {sha}, the text hashes to {text_actual}.")
        if canonical_actual != tr_sha.lower():
            problems.append(f"The {tag} canonical text does not match its SHA-256, so the text has been "
                            f"changed: the manifest says {tr_sha}, the text hashes to {canonical_actual}.")
        blocks = text.rstrip("\n").split("\n\n")
        if "\n\n".join(blocks[:1] + blocks[2:]) + "\n" != tr_canonical:
            problems.append(f"The {tag} plain text and its canonical text do not carry the same title and "
                            "paragraphs.")
        if source_blocks is not None and len(tr_canonical.rstrip("\n").split("\n\n")) != source_blocks:
            problems.append(f"The {tag} text does not have as many paragraphs as the source.")
        if entry.get("authentic") is True:
            authentic[tag] = tr_sha.lower()
    for n, sig in enumerate(data.get("signatures") or [], start=1):
        if not isinstance(sig, dict):
            continue
        who = sig.get("organisation") or sig.get("organisation_slug") or f"signature {n}"
        named = sig.get("translation_sha256") or {}
        if not isinstance(named, dict):
            problems.append(f"The signature of {who} names its translations in an unreadable form.")
            continue
        for tag, sha in authentic.items():
            if str(named.get(tag, "")).lower() != sha:
                problems.append(f"The signature of {who} does not name the authentic {tag} text's SHA-256 ({sha}).")
        for tag in named:
            if tag not in authentic:
                problems.append(f"The signature of {who} names a {tag} text that the manifest does not list as "
                                "authentic.")


def _check_seal(data: dict, expected_public_key: str | None, problems: list[str]) -> None:
    seal = data.get("seal")
    if not isinstance(seal, dict):
        problems.append("The manifest has no seal.")
        return
    if seal.get("algorithm") != "Ed25519":
        problems.append(f"The seal uses an unknown algorithm ({seal.get('algorithm')!r}); expected Ed25519.")
        return
    try:
        raw_key = base64.b64decode(str(seal.get("public_key", "")), validate=True)
        public_key = Ed25519PublicKey.from_public_bytes(raw_key)
        signature = base64.b64decode(str(seal.get("signature", "")), validate=True)
    except (binascii.Error, ValueError):
        problems.append("The seal's public key or signature is not valid base64 of the right length.")
        return
    body = {k: v for k, v in data.items() if k != "seal"}
    try:
        public_key.verify(signature, canonical_json(body))
    except InvalidSignature:
        problems.append(
            "The seal does not match the manifest: something in it (text, date, signatures, "
            "participants...) was changed after the platform sealed it."
        )
    except UnicodeEncodeError:
        problems.append("The manifest contains invalid Unicode, so the seal cannot match.")
    if expected_public_key is not None:
        try:
            expected = base64.b64decode(expected_public_key.strip(), validate=True)
        except (binascii.Error, ValueError):
            problems.append("The expected public key given is not valid base64.")
            return
        if expected != raw_key:
            problems.append(
                f"The manifest is sealed with key {seal.get('public_key')}, not the expected key "
                f"{expected_public_key.strip()}."
            )


def verify_manifest(data: dict, expected_public_key: str | None = None) -> list[str]:
    """Return the problems found in a manifest, in plain words; an empty list means intact."""
    if not isinstance(data, dict):
        return ["The manifest is not a JSON object."]
    problems: list[str] = []
    if data.get("format") != FORMAT:
        problems.append(f"Unknown manifest format {data.get('format')!r}; expected {FORMAT!r}.")
    version_sha = _check_hashes(data, problems)
    _check_signatures(data, version_sha, problems)
    _check_languages(data, problems)
    _check_seal(data, expected_public_key, problems)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Check a Concord publication manifest (the .json of a published statement)."
    )
    parser.add_argument("file", help="the manifest, e.g. statement.json")
    parser.add_argument("--public-key", help="the platform's seal key (base64), from /about/seal")
    args = parser.parse_args(argv)

    try:
        with open(args.file, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        print(f"ERROR: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"ERROR: {args.file} is not a JSON manifest ({exc}).", file=sys.stderr)
        return 2
    if not isinstance(data, dict):
        print(f"ERROR: {args.file} is JSON but not a manifest (expected an object).", file=sys.stderr)
        return 2

    problems = verify_manifest(data, args.public_key)
    if problems:
        print(f"BROKEN: {args.file} is not intact.")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    title = data.get("title", "")
    version = data.get("version", {}).get("number", "?")
    print(f"INTACT: {title!s} (version {version}, published {data.get('publication_date', '?')})")
    print(f"  text SHA-256: {data['sha256']}")
    key = data["seal"]["public_key"]
    if args.public_key:
        print(f"  sealed by the expected key {key}")
    else:
        print(f"  sealed by key {key}; compare it with the key on the platform's /about/seal page,")
        print("  or pass --public-key to check it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
