"""The verify page's checks (issue 15, item 5): is this copy exactly a published statement?

A dropped file or pasted text is compared with what Concord published:

- a file whose SHA-256 is that of a publication's plain text, PDF, Word file, Markdown or manifest
  is byte-identical to it: which statement, signed by whom, when;
- a manifest (.json) is checked by ``verify.py`` (every rule, the seal with this platform's key);
- a PDF that is not identical is checked for the platform's PDF signature (pyHanko): a signed
  Concord PDF changed after signing says so;
- any other text is read like an import (title, signatory line, numbered or blank-line separated
  paragraphs), matched with the closest published statement (the one named by the page, else the
  same title, else the most similar recent one) and shown as a word diff of what differs.

Plain functions: no flask; they read, never write.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field, replace

from markupsafe import Markup
from sqlalchemy import func, select

from app.diffing import DELETE, EQUAL, render_diff, word_diff
from app.drafting.importer import parse_statement
from app.errors import ConcordError
from app.extensions import db
from app.i18n import N_, Message, _
from app.models import Publication, PublicationArtefact, Version
from app.publishing import reading, sealing
from app.publishing.formats import PublicationData
from app.publishing.verify import verify_manifest

MAX_BYTES = 4 * 1024 * 1024
RECENT = 50  # publications compared by their words when no title matches
FILE_NAMES = {"txt": N_("plain text"), "json": N_("signed manifest"), "pdf": N_("PDF"), "docx": N_("Word file"),
              "md": N_("Markdown file")}


@dataclass
class Change:
    label: str | Message  # "Title", "Signatory line", "Paragraph 3"
    diff: Markup


@dataclass
class Result:
    """What the verify page says about one copy."""

    kind: str  # txt, json, pdf, docx, md, pasted
    publication: Publication | None = None
    view: reading.PageView | None = None
    identical: bool = False  # byte for byte
    same_text: bool = False  # the same characters once line ends and spaces at line ends are set aside
    matched_file: str | Message = ""  # which of the publication's files it is identical to
    problems: list[str | Message] = field(default_factory=list)  # a manifest's
    manifest_intact: bool | None = None
    changes: list[Change] = field(default_factory=list)
    compared_paragraphs: int = 0
    pdf_signature: str | Message = ""  # what the PDF's signature says, for a PDF that is not identical
    message: str | Message = ""

    @property
    def differs(self) -> bool:
        return bool(self.changes)


def _named(kind: str) -> Message | str:
    return Message(FILE_NAMES[kind]) if kind in FILE_NAMES else kind


def _file_name(kind: str) -> Message | str:
    """'plain text', or for a translation's file 'plain text in German (de)' (shown in the viewer's language)."""
    if "." in kind:
        from app.translating.languages import label

        language, ext = kind.split(".", 1)
        return _("%(file)s in %(language)s", file=_named(ext), language=label(language))
    return _named(kind)


def _by_sha256(sha256: str, within: Publication | None) -> tuple[Publication | None, str]:
    """The publication whose plain text or stored file has this SHA-256, and which file it is."""
    query = select(Publication).where(Publication.sha256 == sha256)
    if within is not None:
        query = query.where(Publication.id == within.id)
    found = db.session.scalars(query.limit(1)).first()
    if found is not None:
        return found, "txt"
    query = (select(Publication, PublicationArtefact.kind)
             .join(PublicationArtefact, PublicationArtefact.publication_id == Publication.id)
             .where(PublicationArtefact.sha256 == sha256, PublicationArtefact.kind != "html"))
    if within is not None:
        query = query.where(Publication.id == within.id)
    row = db.session.execute(query.limit(1)).first()
    return (row[0], row[1]) if row is not None else (None, "")


def _with_view(result: Result, publication: Publication | None) -> Result:
    result.publication = publication
    if publication is not None:
        result.view = reading.page_view(publication.slug)
    return result


def check_upload(data: bytes, filename: str, *, within: Publication | None = None) -> Result:
    """A dropped or chosen file."""
    if len(data) > MAX_BYTES:
        return Result("file", message=_("The file is larger than 4 MB; no published statement is that large."))
    name = (filename or "").lower()
    sha256 = hashlib.sha256(data).hexdigest()
    publication, kind = _by_sha256(sha256, within)
    if data.startswith(b"%PDF"):
        result = Result("pdf")
    elif name.endswith(".docx") or data.startswith(b"PK\x03\x04"):
        result = Result("docx")
    else:
        result = Result(_text_kind(name, data))
    if publication is not None:
        result.identical = True
        result.matched_file = _file_name(kind)
        _with_view(result, publication)
        if result.kind == "json":
            _check_manifest(result, data)
        return result
    if result.kind == "pdf":
        return _check_pdf(result, data, within)
    if result.kind == "docx":
        result.message = _("This Word file is not one that Concord published. Word files change whenever they are "
                           "saved again; paste its text below to see how its words differ.")
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.message = _("This file is neither a PDF nor UTF-8 text, so it cannot be compared.")
        return result
    if result.kind == "json":
        return _check_manifest(result, data, within=within)
    return _compare_text(result, text, within)


def _text_kind(name: str, data: bytes) -> str:
    if name.endswith(".json") or data.lstrip()[:1] == b"{":
        return "json"
    if name.endswith(".md"):
        return "md"
    return "txt"


def check_pasted(text: str, *, within: Publication | None = None) -> Result:
    """Text pasted into the page (from a website, an e-mail, a document).

    Browsers send a text area's line ends as CRLF whatever was pasted, so they are read as LF first.
    """
    result = Result("pasted")
    text = text.replace("\r\n", "\n")
    publication, kind = _by_sha256(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), within)
    if publication is not None:
        result.identical = True
        result.matched_file = _file_name(kind if "." in kind else "txt")
        return _with_view(result, publication)
    if text.lstrip().startswith("{"):
        return _check_manifest(result, text.encode("utf-8", "replace"), within=within)
    return _compare_text(result, text, within)


# --- manifests ---------------------------------------------------------------------------------

# What verify.py says of a broken manifest, in its words (it stays standalone, in English): each as a message,
# so that the verify page shows it in the reader's language. A problem none of these match is shown as it is.
PROBLEMS = (
    N_('The manifest has no plain text ("text").'),
    N_('The manifest has no SHA-256 of the plain text ("sha256").'),
    N_("The plain text is not valid Unicode."),
    N_("The plain text does not match its SHA-256, so the text has been changed: the manifest says %(said)s, "
       "the text hashes to %(actual)s."),
    N_('The manifest has no version hash ("version": {"sha256": ...}).'),
    N_('The manifest has no canonical text ("canonical_text").'),
    N_("The canonical text is not valid Unicode."),
    N_("The canonical text does not match the version's SHA-256, so the signed text has been changed: the "
       "manifest says %(said)s, the text hashes to %(actual)s."),
    N_("The plain text and the canonical text do not carry the same title and paragraphs."),
    N_("The manifest lists no signatures."),
    N_("Signature %(number)s is not a record."),
    N_("The signature of %(who)s is for another version (%(signed)s) than the published one (%(published)s)."),
    N_("The signature of %(who)s is marked as recorded by the coordinator, but the manifest is not an archived "
       "statement's."),
    N_("The signature of %(who)s is not marked as recorded, but the manifest is an archived statement's, whose "
       "signatures were not made on Concord."),
    N_("The manifest lists no participating organisations."),
    N_("%(name)s is a participant but has no signature."),
    N_("%(name)s has %(count)s signatures; there should be exactly one."),
    N_("A signature is from %(slug)s, which is not a participant."),
    N_('The manifest\'s "languages" is not a list.'),
    N_("Language %(number)s of the manifest is not a record with a language."),
    N_("The %(tag)s text lacks its plain text, canonical text or their SHA-256."),
    N_("The %(tag)s text is not valid Unicode."),
    N_("The %(tag)s plain text does not match its SHA-256, so the text has been changed: the manifest says "
       "%(said)s, the text hashes to %(actual)s."),
    N_("The %(tag)s canonical text does not match its SHA-256, so the text has been changed: the manifest says "
       "%(said)s, the text hashes to %(actual)s."),
    N_("The %(tag)s plain text and its canonical text do not carry the same title and paragraphs."),
    N_("The %(tag)s text does not have as many paragraphs as the source."),
    N_("The signature of %(who)s names its translations in an unreadable form."),
    N_("The signature of %(who)s does not name the authentic %(tag)s text's SHA-256 (%(sha)s)."),
    N_("The signature of %(who)s names a %(tag)s text that the manifest does not list as authentic."),
    N_("The manifest has no seal."),
    N_("The seal uses an unknown algorithm (%(algorithm)s); expected Ed25519."),
    N_("The seal's public key or signature is not valid base64 of the right length."),
    N_("The seal does not match the manifest: something in it (text, date, signatures, participants...) was "
       "changed after the platform sealed it."),
    N_("The manifest contains invalid Unicode, so the seal cannot match."),
    N_("The expected public key given is not valid base64."),
    N_("The manifest is sealed with key %(key)s, not the expected key %(expected)s."),
    N_("The manifest is not a JSON object."),
    N_("Unknown manifest format %(format)s; expected %(expected)s."),
)
_PLACEHOLDER = re.compile(r"%\\\(([a-z]+)\\\)s")
_PROBLEM_PATTERNS = tuple(
    (re.compile(_PLACEHOLDER.sub(lambda m: f"(?P<{m.group(1)}>.*?)", re.escape(msgid)) + r"\Z", re.DOTALL), msgid)
    for msgid in PROBLEMS)


def problem_message(problem: str) -> Message | str:
    """A problem verify.py found, as a message (read in the viewer's language); in English it is the same text."""
    for pattern, msgid in _PROBLEM_PATTERNS:
        found = pattern.match(problem)
        if found:
            return Message(msgid, params=found.groupdict())
    return problem



def _check_manifest(result: Result, data: bytes, *, within: Publication | None = None) -> Result:
    result.kind = "json"
    try:
        manifest = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        result.message = _("This is not a JSON manifest: it cannot be read as JSON.")
        return result
    result.problems = [problem_message(p) for p in verify_manifest(manifest, expected_public_key=sealing.public_key())]
    result.manifest_intact = not result.problems
    if result.publication is None and isinstance(manifest, dict):
        slug = manifest.get("slug")
        if isinstance(slug, str):
            found = db.session.scalar(select(Publication).where(Publication.slug == slug))
            if found is not None and (within is None or found.id == within.id):
                _with_view(result, found)
        if result.publication is None and within is not None:
            _with_view(result, within)
        if result.publication is not None and result.publication.manifest.encode("utf-8") == data:
            result.identical = True
            result.matched_file = _named("json")
            return result
        if result.publication is not None and isinstance(manifest.get("text"), str):
            _diff_against(result, manifest["text"], result.publication)
    return result


# --- PDFs ----------------------------------------------------------------------------------------


def _check_pdf(result: Result, data: bytes, within: Publication | None) -> Result:
    """A PDF that is not byte-identical: does it carry the platform's signature, and is it intact?"""
    result.pdf_signature = pdf_signature_status(data)
    result.message = _("This PDF is not byte-identical to any PDF that Concord published. "
                       "To see how its words differ, copy its text and paste it below.")
    return result


def pdf_signature_status(data: bytes) -> Message:
    """What the platform's signature in a PDF says, in plain words."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from app.publishing import pdf_signing

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # noqa: BLE001 - a damaged or hostile file: say so, whatever pyHanko raised
        return _("The file cannot be read as a PDF.")
    if not signatures:
        return _("The PDF carries no digital signature.")
    ours = pdf_signing._asn1(pdf_signing.certificate())
    try:
        status = pdf_signing.outside_event_loop(
            lambda: validate_pdf_signature(signatures[0], ValidationContext(trust_roots=[ours])))
    except Exception:  # noqa: BLE001
        return _("The PDF's signature cannot be checked: the file is damaged.")
    if status.signing_cert is None or status.signing_cert.sha256 != ours.sha256:
        return _("The PDF is signed, but not by this platform.")
    if not status.intact or not status.valid:
        return _("The PDF carries this platform's signature, but the file was changed after it was signed.")
    if status.coverage is None or status.coverage.name != "ENTIRE_FILE":
        return _("The PDF carries this platform's signature, but something was added to the file after it was "
                 "signed.")
    return _("The PDF carries this platform's valid signature and was not changed since it was signed.")


# --- texts -----------------------------------------------------------------------------------------


def _normalised(text: str) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).lstrip("\ufeff")
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text) + "\n"


_WORD = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text[:200_000])}


def _closest(parsed_title: str, text: str, within: Publication | None) -> Publication | None:
    if within is not None:
        return within
    title = " ".join(parsed_title.split()).lower()
    if title:
        found = db.session.scalars(
            select(Publication).join(Version, Version.id == Publication.version_id)
            .where(func.lower(Version.title) == title).order_by(Publication.published_at.desc()).limit(1)).first()
        if found is not None:
            return found
    words = _words(text)
    if not words:
        return None
    best, best_score = None, 0.0
    for publication in db.session.scalars(select(Publication).order_by(Publication.published_at.desc())
                                          .limit(RECENT)):
        theirs = _words(publication.plain_text)
        score = len(words & theirs) / max(1, len(words | theirs))
        if score > best_score:
            best, best_score = publication, score
    return best if best_score >= 0.3 else None


def _compare_text(result: Result, text: str, within: Publication | None) -> Result:
    normalised = _normalised(text)
    publication, kind = _by_sha256(hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest(), within)
    if publication is not None and kind == "txt":
        result.same_text = True
        return _with_view(result, publication)
    try:
        title = parse_statement(normalised).title
    except ConcordError:
        title = ""
    publication = _closest(title, normalised, within)
    if publication is None:
        result.message = _("No published statement resembles this text.")
        return result
    _with_view(result, publication)
    _diff_against(result, normalised, publication)
    if not result.changes:
        result.same_text = True
    return result


def _blocks_of(text: str) -> tuple[str, str | None, list[str]]:
    """Title, signatory line and paragraphs of a text, read the way the importer reads a paste."""
    try:
        parsed = parse_statement(text)
    except ConcordError:
        return "", None, [" ".join(text.split())]
    return parsed.title, parsed.signatories_line, parsed.paragraphs


def _only_spacing(ops) -> bool:
    return all(op == EQUAL or not text.strip() for op, text in ops)


def _published_texts(publication: Publication) -> list[PublicationData]:
    """The publication's text in its source language and in each language its manifest lists."""
    manifest = json.loads(publication.manifest)
    source = PublicationData.from_manifest(manifest)
    found = [source]
    for entry in manifest.get("languages") or []:
        try:
            blocks = entry["canonical_text"].rstrip("\n").split("\n\n")
            found.append(replace(source, title=entry["title"], text=entry["text"], language=entry["language"],
                                 paragraphs=[b.split(". ", 1)[1] for b in blocks[1:]],
                                 authentic=entry.get("authentic") is True))
        except (KeyError, TypeError, IndexError, AttributeError):
            continue
    return found


def _diff_against(result: Result, text: str, publication: Publication) -> None:
    """The word diff of ``text`` against the publication, block by block, whitespace set aside: against its
    text in the language the copy is in (the one with the same title, else the one sharing most words)."""
    title, line, paragraphs = _blocks_of(text)
    candidates = _published_texts(publication)
    data = next((d for d in candidates if d.title == title), None) or max(
        candidates, key=lambda d: len(_words(d.text) & _words(text)))
    if data.language != "en" and line is None and len(paragraphs) == len(data.paragraphs) + 1:
        from app.translating.languages import prefix

        if paragraphs[0].startswith(prefix(data.language) + " "):  # a line the importer cannot read (its date)
            line, paragraphs = paragraphs[0], paragraphs[1:]
    changes: list[Change] = []

    def compare(label: Message, published: str, copy: str) -> None:
        ops = word_diff(published, copy)
        if not _only_spacing(ops):
            changes.append(Change(label, render_diff([(op, t) if t.strip() or op == EQUAL else (EQUAL, t)
                                                      for op, t in ops if not (op == DELETE and not t.strip())])))

    if title:
        compare(_("Title"), data.title, title)
    if line is not None:
        compare(_("Signatory line"), data.signatory_line, line)
    if len(paragraphs) == len(data.paragraphs):
        for n, (published, copy) in enumerate(zip(data.paragraphs, paragraphs, strict=True), start=1):
            compare(_("Paragraph %(number)s", number=n), published, copy)
    else:
        joined = "\n\n".join(f"{n}. {p}" for n, p in enumerate(data.paragraphs, start=1))
        copied = "\n\n".join(f"{n}. {p}" for n, p in enumerate(paragraphs, start=1))
        compare(_("The paragraphs (%(copy)s in this copy, %(published)s published)", copy=len(paragraphs),
                  published=len(data.paragraphs)), joined, copied)
    result.changes = changes
    result.compared_paragraphs = len(data.paragraphs)

