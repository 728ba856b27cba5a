"""The publication formats, the seal and the offline verifier (issue 4, items 6-8; promise 6).

Pure tests: no app, no database.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import multiprocessing
import os
import re
import stat
import subprocess
import sys
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from app.drafting.text import canonical_text, sha256_hex
from app.publishing import seal, verify
from app.publishing.formats import PublicationData, to_docx, to_markdown
from app.publishing.text import format_date, join_names, plain_text

ROOT = Path(__file__).resolve().parent.parent
VERIFY_SCRIPT = ROOT / "app" / "publishing" / "verify.py"

ORGS = [
    {"name": "Friends of the River Association", "short_name": "FRA", "slug": "fra"},
    {"name": "Coalition für Bürgerrechte", "short_name": "CfB", "slug": "cfb"},
    {"name": "Union of Small Farmers", "short_name": "USF", "slug": "usf"},
]
TITLE = "On the Protection of Rivers"
PARAGRAPHS = [
    "We, the undersigned organisations, call on every government to protect rivers.",
    "Rivers are shared: no border stops their water,\nand no single owner may spoil it.",
    "We ask for a binding treaty by 2027.",
]
PUBLISHED = date(2026, 3, 1)


def build_manifest(key, *, paragraphs=PARAGRAPHS, orgs=ORGS) -> dict:
    """A sealed manifest shaped as the lead's publishing code builds it."""
    canonical = canonical_text(TITLE, paragraphs)
    version_sha = sha256_hex(canonical)
    text = plain_text(TITLE, [o["name"] for o in orgs], PUBLISHED, paragraphs)
    signers = [("Ana Silva", "Director"), ("Jörg Weiß", "Vorsitzender"), ("Kofi Mensah", "Secretary")]
    manifest = {
        "format": "concord-manifest/1",
        "title": TITLE,
        "slug": "on-the-protection-of-rivers",
        "url": "https://concord.example/p/on-the-protection-of-rivers",
        "publication_date": PUBLISHED.isoformat(),
        "version": {"number": 4, "sha256": version_sha},
        "canonical_text": canonical,
        "text": text,
        "sha256": sha256_hex(text),
        "participants": [dict(o) for o in orgs],
        "signatures": [
            {
                "organisation": org["name"],
                "organisation_slug": org["slug"],
                "signer_name": name,
                "signer_title": title,
                "signed_at": f"2026-02-2{n}T09:30:00Z",
                "version_sha256": version_sha,
            }
            for n, (org, (name, title)) in enumerate(zip(orgs, signers, strict=False), start=3)
        ],
        "endorsements": [],
    }
    return seal.seal_manifest(manifest, key)


@pytest.fixture(scope="module")
def key():
    return seal.Ed25519PrivateKey.generate()


@pytest.fixture
def manifest(key) -> dict:
    return build_manifest(key)


@pytest.fixture
def data(manifest) -> PublicationData:
    return PublicationData.from_manifest(manifest)


# --- the plain-text publication (promise 6) ---------------------------------------------------


def test_plain_text_one_organisation_exact_bytes():
    """One organisation: its name alone, date without a leading zero, blocks one blank line apart."""
    text = plain_text("Title", ["Alpha Org"], date(2026, 3, 1), ["First.", "Second."])
    assert text.encode("utf-8") == (
        b"Title\n\nJoint Statement of Alpha Org, 1 March 2026\n\n1. First.\n\n2. Second.\n"
    )


def test_plain_text_two_organisations_exact_bytes():
    """Two organisations are joined as 'A and B'."""
    text = plain_text("Title", ["Alpha", "Beta"], date(2022, 2, 21), ["Only paragraph."])
    assert text.encode("utf-8") == (
        b"Title\n\nJoint Statement of Alpha and Beta, 21 February 2022\n\n1. Only paragraph.\n"
    )


def test_plain_text_three_organisations_exact_bytes_no_oxford_comma():
    """Three organisations are joined as 'A, B and C', with no comma before 'and'."""
    text = plain_text("Title", ["Alpha", "Beta", "Gamma"], date(2026, 12, 9), ["One.", "Two.", "Three."])
    assert text.encode("utf-8") == (
        b"Title\n\nJoint Statement of Alpha, Beta and Gamma, 9 December 2026\n\n"
        b"1. One.\n\n2. Two.\n\n3. Three.\n"
    )
    assert ", and" not in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [(date(2026, 3, 1), "1 March 2026"), (date(2022, 2, 21), "21 February 2022"),
     (date(2030, 10, 5), "5 October 2030"), (date(999, 1, 9), "9 January 0999")],
)
def test_date_format_has_no_leading_zero_and_english_month(value, expected):
    """Dates read '1 March 2026': day without a leading zero, English month, four-digit year."""
    assert format_date(value) == expected


def test_join_names_refuses_an_empty_list():
    """A statement with no organisation has no signatory line."""
    with pytest.raises(ValueError):
        join_names([])


def test_plain_text_ends_with_single_newline_and_no_trailing_spaces():
    """The file ends with exactly one newline, and no line has trailing spaces."""
    text = plain_text("Title  ", ["A"], PUBLISHED, ["Line one   \nline two ", "End. "])
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert all(line == line.rstrip() for line in text.split("\n"))
    assert "\r" not in text


def test_plain_text_is_nfc_and_utf8_without_bom():
    """Decomposed characters come out composed (NFC); the UTF-8 bytes carry no BOM."""
    text = plain_text("Cafe\u0301", ["Coalition fu\u0308r Bu\u0308rgerrechte"], PUBLISHED, ["Nai\u0308ve."])
    assert unicodedata.is_normalized("NFC", text)
    assert "Café" in text and "für Bürgerrechte" in text and "Naïve." in text
    assert not text.encode("utf-8").startswith(b"\xef\xbb\xbf")


def test_plain_text_is_the_canonical_text_plus_the_signatory_line():
    """Removing the signatory line from the publication gives back the signed canonical text."""
    text = plain_text(TITLE, ["A", "B"], PUBLISHED, PARAGRAPHS)
    blocks = text.rstrip("\n").split("\n\n")
    assert blocks[1] == "Joint Statement of A and B, 1 March 2026"
    assert "\n\n".join(blocks[:1] + blocks[2:]) + "\n" == canonical_text(TITLE, PARAGRAPHS)


# --- the seal -----------------------------------------------------------------------------------


def test_canonical_json_is_identical_in_seal_and_standalone_verifier():
    """verify.py carries its own copy of canonical_json; both give the same bytes."""
    sample = {"b": [1, {"z": None, "a": True}], "a": "Bürger «ü» \u2028 \U0001f600", "c": {"y": "", "x": 0}}
    assert seal.canonical_json(sample) == verify.canonical_json(sample)
    assert seal.canonical_json(sample).startswith(b'{"a":"B\xc3\xbcrger')
    assert b" " not in seal.canonical_json({"k": [1, 2], "j": {"i": 3}})


def test_seal_round_trip(key, manifest):
    """A sealed manifest carries the key and an Ed25519 signature over everything but the seal."""
    block = manifest["seal"]
    assert block["algorithm"] == "Ed25519"
    assert block["public_key"] == seal.public_key_b64(key)
    assert len(base64.b64decode(block["public_key"])) == 32
    body = {k: v for k, v in manifest.items() if k != "seal"}
    key.public_key().verify(base64.b64decode(block["signature"]), seal.canonical_json(body))


def test_seal_manifest_does_not_modify_its_input_and_replaces_an_old_seal(key, manifest):
    """Sealing returns a copy; resealing a sealed manifest gives the same seal."""
    unsealed = {k: v for k, v in manifest.items() if k != "seal"}
    before = copy.deepcopy(unsealed)
    again = seal.seal_manifest(unsealed, key)
    assert unsealed == before and "seal" not in unsealed
    assert seal.seal_manifest(manifest, key) == again == manifest  # Ed25519 is deterministic


def test_verify_intact_manifest_has_no_problems(manifest, key):
    """An untouched manifest is intact, with or without the expected public key."""
    assert verify.verify_manifest(manifest) == []
    assert verify.verify_manifest(manifest, seal.public_key_b64(key)) == []


def test_verify_survives_a_json_round_trip(manifest):
    """The manifest stays intact after being written as JSON and read back."""
    for text in (json.dumps(manifest), json.dumps(manifest, indent=2, ensure_ascii=False)):
        assert verify.verify_manifest(json.loads(text)) == []


def test_verify_one_changed_character_of_text_is_a_text_hash_problem(manifest):
    """Changing one character of the plain text is reported as a text-hash mismatch."""
    manifest["text"] = manifest["text"].replace("binding", "bindinG")
    problems = verify.verify_manifest(manifest)
    assert any("plain text does not match its SHA-256" in p for p in problems)
    assert any("seal does not match" in p for p in problems)


def test_verify_text_and_hash_changed_together_still_breaks_the_seal(manifest):
    """Recomputing the text's hash after editing it does not help: the seal catches it."""
    manifest["text"] = manifest["text"].replace("binding", "voluntary")
    manifest["sha256"] = hashlib.sha256(manifest["text"].encode()).hexdigest()
    problems = verify.verify_manifest(manifest)
    assert any("seal does not match" in p for p in problems)
    assert any("same title and paragraphs" in p for p in problems)


def test_verify_changed_signer_name_is_a_seal_problem(manifest):
    """Changing a signature's signer name breaks the seal."""
    manifest["signatures"][1]["signer_name"] = "Someone Else"
    problems = verify.verify_manifest(manifest)
    assert len(problems) == 1
    assert "seal does not match" in problems[0]


def test_verify_changed_canonical_text_is_reported(manifest):
    """Changing the canonical (signed) text is reported against the version's hash."""
    manifest["canonical_text"] = manifest["canonical_text"].replace("2027", "2028")
    problems = verify.verify_manifest(manifest)
    assert any("canonical text does not match the version's SHA-256" in p for p in problems)


def test_verify_signature_on_another_version_is_reported(key):
    """A signature naming a different version hash is a problem even when freshly sealed."""
    manifest = build_manifest(key)
    manifest["signatures"][0]["version_sha256"] = "0" * 64
    manifest = seal.seal_manifest(manifest, key)
    problems = verify.verify_manifest(manifest)
    assert problems == [
        f"The signature of {ORGS[0]['name']} is for another version ({'0' * 64}) "
        f"than the published one ({manifest['version']['sha256']})."
    ]


def test_verify_participant_without_signature_is_reported(key):
    """Every participant must have signed; a missing signature is named."""
    manifest = build_manifest(key)
    manifest["signatures"].pop()
    problems = verify.verify_manifest(seal.seal_manifest(manifest, key))
    assert problems == [f"{ORGS[2]['name']} is a participant but has no signature."]


def test_verify_wrong_expected_public_key_is_reported(manifest):
    """A manifest sealed by another key than the expected one is not accepted."""
    other = seal.public_key_b64(seal.Ed25519PrivateKey.generate())
    problems = verify.verify_manifest(manifest, other)
    assert len(problems) == 1
    assert "not the expected key" in problems[0]


def test_verify_resealed_by_a_forger_is_caught_only_with_the_expected_key(manifest, key):
    """Someone who edits and reseals with their own key fools a check without the known key."""
    forger = seal.Ed25519PrivateKey.generate()
    manifest["signatures"][0]["signer_title"] = "Treasurer"
    forged = seal.seal_manifest(manifest, forger)
    assert verify.verify_manifest(forged) == []
    assert any("not the expected key" in p for p in verify.verify_manifest(forged, seal.public_key_b64(key)))


@pytest.mark.parametrize("broken", [
    {},
    {"seal": None},
    {"seal": {"algorithm": "Ed25519", "public_key": "!!!", "signature": "AAAA"}},
    {"seal": {"algorithm": "RSA", "public_key": "", "signature": ""}},
    {"signatures": "nobody"},
    {"version": None},
])
def test_verify_malformed_manifests_give_problems_not_exceptions(manifest, broken):
    """Missing or malformed members are reported as problems; the verifier never crashes."""
    if not broken:
        manifest = {}
    manifest.update(broken)
    assert verify.verify_manifest(manifest)
    assert verify.verify_manifest([]) == ["The manifest is not a JSON object."]


# --- the key file -------------------------------------------------------------------------------


def test_key_created_once_with_mode_0600_and_reused(tmp_path):
    """The key file is created on first use, readable only by its owner, then reused."""
    instance = tmp_path / "instance"
    first = seal.load_or_create_key(instance)
    path = instance / "seal_ed25519.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8, unencrypted
    second = seal.load_or_create_key(str(instance))
    assert seal.public_key_b64(second) == seal.public_key_b64(first)
    assert path.read_bytes() == pem
    assert os.listdir(instance) == ["seal_ed25519.pem"]  # no temporary file left behind


def test_key_never_overwrites_one_that_appears_meanwhile(tmp_path, monkeypatch):
    """If another process writes the key between our check and our link, we use its key."""
    other = seal.Ed25519PrivateKey.generate()
    real_link = os.link

    def link_after_the_other_process(src, dst):
        Path(dst).write_bytes(seal._pem(other))
        return real_link(src, dst)

    monkeypatch.setattr(seal.os, "link", link_after_the_other_process)
    got = seal.load_or_create_key(tmp_path)
    assert seal.public_key_b64(got) == seal.public_key_b64(other)
    assert seal.public_key_b64(seal._read_key(tmp_path / "seal_ed25519.pem")) == seal.public_key_b64(other)
    assert os.listdir(tmp_path) == ["seal_ed25519.pem"]


def test_key_file_that_is_not_ed25519_is_refused(tmp_path):
    """A seal file holding another kind of key is refused with a clear message."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "seal_ed25519.pem").write_bytes(pem)
    with pytest.raises(ValueError, match="Ed25519"):
        seal.load_or_create_key(tmp_path)


def _key_in_child(instance: str, barrier, results) -> None:
    barrier.wait()
    results.put(seal.public_key_b64(seal.load_or_create_key(instance)))


def test_processes_starting_at_once_get_the_same_key(tmp_path):
    """Several processes (spawned) creating the key at the same moment all end up with one key."""
    ctx = multiprocessing.get_context("spawn")
    count = 4
    barrier = ctx.Barrier(count)
    results = ctx.Queue()
    procs = [ctx.Process(target=_key_in_child, args=(str(tmp_path), barrier, results)) for _ in range(count)]
    for p in procs:
        p.start()
    keys = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert len(set(keys)) == 1
    assert seal.public_key_b64(seal.load_or_create_key(tmp_path)) == keys[0]
    assert os.listdir(tmp_path) == ["seal_ed25519.pem"]


# --- verify.py as a script ----------------------------------------------------------------------


def _run_verify(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(VERIFY_SCRIPT), *map(str, args)],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )


def test_verify_script_intact_exit_0(tmp_path, manifest, key):
    """The standalone script says INTACT and exits 0 for an untouched manifest."""
    path = tmp_path / "statement.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    result = _run_verify(path, "--public-key", seal.public_key_b64(key))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("INTACT: ")
    assert manifest["sha256"] in result.stdout


def test_verify_script_broken_exit_1(tmp_path, manifest):
    """One changed character: BROKEN, each problem listed, exit 1."""
    manifest["text"] = manifest["text"].replace("rivers.", "rivers!")
    path = tmp_path / "statement.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    result = _run_verify(path)
    assert result.returncode == 1
    assert result.stdout.startswith("BROKEN: ")
    assert "plain text does not match its SHA-256" in result.stdout
    assert "  - " in result.stdout


@pytest.mark.parametrize("content", [b"not json at all", b"\xff\xfe\x00garbage", b"[1, 2, 3]", None])
def test_verify_script_unreadable_or_garbage_exit_2(tmp_path, content):
    """A missing file, non-JSON, bad UTF-8 or JSON that is not an object: a clear error, exit 2."""
    path = tmp_path / "statement.json"
    if content is not None:
        path.write_bytes(content)
    result = _run_verify(path)
    assert result.returncode == 2
    assert result.stderr.startswith("ERROR: ")
    assert "Traceback" not in result.stderr


def test_verify_script_imports_only_stdlib_and_cryptography():
    """verify.py stays standalone: nothing from Concord, Flask or any other package."""
    source = VERIFY_SCRIPT.read_text(encoding="utf-8")
    imported = set(re.findall(r"^(?:from|import) ([a-zA-Z_][\w]*)", source, re.M))
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


# --- Markdown -----------------------------------------------------------------------------------


def _ordered_markers(markdown: str) -> list[str]:
    """Lines that a CommonMark renderer would take as the start of a list item or block."""
    return re.findall(r"^ {0,3}(\d{1,9}[.)]|[#>*+-]|=+\s*$)", markdown, re.M)


def test_markdown_layout(data):
    """Title heading, signatory line in italics, numbered paragraphs, signatories and SHA-256."""
    md = to_markdown(data)
    assert md.startswith("# On the Protection of Rivers\n\n*Joint Statement of Friends of the River "
                         "Association, Coalition für Bürgerrechte and Union of Small Farmers, "
                         "1 March 2026*\n\n1. We, the undersigned")
    assert "2. Rivers are shared: no border stops their water,\\\n   and no single owner" in md
    assert "\n\n3. We ask for a binding treaty by 2027.\n\n## Signed by\n\n" in md
    assert "- Jörg Weiß, Vorsitzender, Coalition für Bürgerrechte, signed 24 February 2026" in md
    assert data.sha256 in md and data.version_sha256 in md
    assert md.endswith("\n") and not md.endswith("\n\n")


@pytest.mark.parametrize("hostile", [
    "2. This would renumber the list",
    "# A heading",
    "10) Another list",
    "- a bullet",
    "+ a bullet",
    "* a bullet",
    "> a quote",
    "```",
    "    indented code",
    "1. one\n2. two\n# three\n===\n---",
    "<div>html</div>",
])
def test_markdown_text_cannot_change_the_numbering(key, hostile):
    """A paragraph starting with '2.', '#', a bullet... stays inside its own numbered item."""
    paragraphs = ["First.", hostile, "Last."]
    md = to_markdown(PublicationData.from_manifest(build_manifest(key, paragraphs=paragraphs)))
    body = md.split("\n\n## Signed by")[0].split("\n\n", 2)[2]
    markers = _ordered_markers(body)
    assert markers == ["1.", "2.", "3."]


def test_markdown_escapes_inline_markup(key):
    """Emphasis, links, code and entities in the text are shown literally."""
    paragraphs = ["Use *stars*, _underscores_, `code`, [a](link), <b>, a|b, ~x~ and &amp; here."]
    md = to_markdown(PublicationData.from_manifest(build_manifest(key, paragraphs=paragraphs)))
    assert ("1. Use \\*stars\\*, \\_underscores\\_, \\`code\\`, \\[a\\](link), \\<b\\>, a\\|b, "
            "\\~x\\~ and &amp;amp; here.") in md


# --- DOCX ---------------------------------------------------------------------------------------


def test_docx_opens_and_contains_every_paragraph_and_the_hash(data):
    """The DOCX opens with python-docx and carries the title, numbered paragraphs and SHA-256."""
    from docx import Document

    blob = to_docx(data)
    doc = Document(io.BytesIO(blob))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == TITLE
    assert doc.paragraphs[0].style.name.startswith("Heading")
    assert texts[1] == data.signatory_line
    for n, paragraph in enumerate(PARAGRAPHS, start=1):
        assert f"{n}. {paragraph}" in texts
    assert any(data.sha256 in t for t in texts)
    assert doc.core_properties.title == TITLE
    table = doc.tables[0]
    rows = [[c.text for c in row.cells] for row in table.rows]
    assert rows[0] == ["Organisation", "Name", "Title", "Signed"]
    assert rows[2] == ["Coalition für Bürgerrechte", "Jörg Weiß", "Vorsitzender", "24 February 2026"]


def test_docx_is_byte_for_byte_reproducible(data):
    """The same publication always gives the same DOCX bytes (fit for a strong ETag)."""
    assert to_docx(data) == to_docx(data)


# --- PDF ----------------------------------------------------------------------------------------


def test_docx_of_a_long_title_and_signatory_line_is_made(key):
    """Word's document properties hold 255 characters: a longer title or signatory line still makes a file."""
    orgs = [{"name": f"Organisation with a rather long name number {n}", "short_name": "", "slug": f"o{n}"}
            for n in range(12)]
    manifest = build_manifest(key, orgs=orgs)
    manifest["title"] = "T" * 300
    data = PublicationData.from_manifest(manifest)
    assert len(data.signatory_line) > 255
    from docx import Document

    document = Document(io.BytesIO(to_docx(data)))
    assert document.core_properties.subject == data.signatory_line[:254] + "…"
    assert data.signatory_line in "\n".join(p.text for p in document.paragraphs)


# --- PublicationData ---------------------------------------------------------------------------


def test_publication_data_from_manifest_matches_the_plain_text(manifest, data):
    """Data read back from a manifest rebuilds exactly the plain-text publication it carries."""
    assert data.paragraphs == PARAGRAPHS
    assert data.organisations == [o["name"] for o in ORGS]
    assert data.publication_date == PUBLISHED
    assert plain_text(data.title, data.organisations, data.publication_date, data.paragraphs) == data.text
    assert sha256_hex(data.text) == data.sha256
