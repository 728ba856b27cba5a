"""The published statement in other formats: Markdown, DOCX and PDF (issue 4, item 7).

Every format is built from one :class:`PublicationData`, so they all carry the same title,
signatory line, numbered paragraphs, signatories and SHA-256 as the plain-text publication
(``app/publishing/text.py``). Pure: no flask, no database.

The DOCX is byte-for-byte reproducible (fixed zip timestamps and document dates), so it can be
served with a strong ETag. The PDF is typeset by WeasyPrint from the HTML of the public page;
:data:`PRINT_CSS` is the print stylesheet (A4, page numbers, serif type) and :func:`to_pdf`
applies it itself.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from app.i18n import LANGUAGES, N_, translations_for
from app.publishing.text import format_date, signatory_line

# --- the words of a document ----------------------------------------------------------------


def document_language(tag: str | None) -> str:
    """The interface language a document's labels are in: its own language's, else English."""
    primary = (tag or "en").replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else "en"


def words(tag: str | None) -> Callable[..., str]:
    """``_(msgid, **params)`` for the labels of a document in the language ``tag`` (app.i18n's
    catalogues; English for a language the interface does not speak), whoever is looking."""
    catalogue = translations_for(document_language(tag))

    def _(msgid: str, **params) -> str:
        text = catalogue.gettext(msgid)
        return text % params if params else text

    return _


def long_date(value: date, tag: str | None) -> str:
    """A date in a document's labels: '1 March 2026' in English, the document language's long date else."""
    language = document_language(tag)
    if language == "en":
        return format_date(value)
    from app.translating.languages import long_date as in_language

    return in_language(value, language)


# --- the data every format is built from ---------------------------------------------------


@dataclass(frozen=True)
class PublicationData:
    """What a published statement says, in the order readers see it.

    ``signatures`` are dicts shaped as in the manifest: organisation, organisation_slug,
    signer_name, signer_title, signed_at (ISO 8601, UTC; None for a recorded signature of an
    archived statement), version_sha256, and ``recorded`` (True) for those. ``archive`` is the
    manifest's archive block for a statement recorded after it was published elsewhere.
    """

    title: str
    slug: str
    publication_date: date
    version_number: int
    version_sha256: str
    sha256: str  # of the plain-text publication
    text: str  # the plain-text publication
    paragraphs: list[str]
    organisations: list[str]  # names in statements, in the signatory line's order
    signatures: list[dict] = field(default_factory=list)
    url: str = ""
    archive: dict | None = None
    language: str = "en"  # the BCP 47 tag of this text's language
    authentic: bool = True  # False: a translation for information, not signed

    @property
    def direction(self) -> str:
        from app.translating.languages import direction

        return direction(self.language)

    @property
    def signatory_line(self) -> str:
        """'Joint Statement of A, B and C, 1 March 2026', exactly as in the plain text."""
        from app.translating.languages import prefix

        blocks = self.text.split("\n\n")
        if len(blocks) > 1 and blocks[1].startswith(prefix(self.language) + " "):
            return blocks[1]
        return signatory_line(self.organisations, self.publication_date, self.language)

    @property
    def archive_notice(self) -> str:
        """What every page and file of an archived statement says about its signatures ('' if none), in the
        document's language."""
        return archive_notice(self.archive, self.publication_date, self.language) if self.archive else ""

    @property
    def words(self) -> Callable[..., str]:
        """The labels of this document, in its language (:func:`words`)."""
        return words(self.language)

    @property
    def not_authentic(self) -> str:
        return self.words(NOT_AUTHENTIC)

    @classmethod
    def from_manifest(cls, manifest: dict) -> PublicationData:
        """Rebuild the data from a (sealed) manifest, e.g. ``json.loads(publication.manifest)``.

        Paragraphs are read back from the canonical text: its blocks are separated by one blank
        line and a paragraph never contains a blank line, so the split is exact.
        """
        canonical = manifest["canonical_text"]
        blocks = canonical.rstrip("\n").split("\n\n")
        paragraphs = []
        for n, block in enumerate(blocks[1:], start=1):
            prefix = f"{n}. "
            if not block.startswith(prefix):
                raise ValueError(f"paragraph {n} of the canonical text does not start with {prefix!r}")
            paragraphs.append(block[len(prefix):])
        return cls(
            title=manifest["title"],
            slug=manifest["slug"],
            publication_date=date.fromisoformat(manifest["publication_date"]),
            version_number=int(manifest["version"]["number"]),
            version_sha256=manifest["version"]["sha256"],
            sha256=manifest["sha256"],
            text=manifest["text"],
            paragraphs=paragraphs,
            organisations=[p.get("name_in_statements") or p["name"] for p in manifest["participants"]],
            signatures=[dict(s) for s in manifest["signatures"]],
            url=manifest.get("url", ""),
            archive=manifest.get("archive"),
            language=manifest.get("language", "en"),
        )


NOT_AUTHENTIC = N_("A translation for information: this text is not authentic and was not signed.")


def archive_notice(archive: dict, published: date, language: str = "en") -> str:
    """'First published elsewhere on …; the signatures were recorded by the coordinator, …, on …', in the
    document language ``language`` (the Markdown keeps English)."""
    _ = words(language)
    recorded_on = long_date(date.fromisoformat(archive["recorded_on"]), language)
    if archive.get("recorded_by"):
        return _("Archived statement, first published elsewhere on %(published)s. Its signatures were recorded by "
                 "the coordinator, %(name)s, on %(recorded)s, as printed in the original publication; they were not "
                 "made on Concord.", published=long_date(published, language), name=archive["recorded_by"],
                 recorded=recorded_on)
    return _("Archived statement, first published elsewhere on %(published)s. Its signatures were recorded by the "
             "coordinator on %(recorded)s, as printed in the original publication; they were not made on Concord.",
             published=long_date(published, language), recorded=recorded_on)


def signed_on(signature: dict) -> date | None:
    """The UTC date of a signature's ``signed_at`` (ISO 8601; naive times are taken as UTC); None for a
    recorded signature (an archived statement's), which has no time of signing on Concord."""
    value = signature.get("signed_at")
    if not value:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


# --- Markdown --------------------------------------------------------------------------------

# Characters that mean something anywhere in a line (emphasis, code, links, HTML, tables,
# strikethrough). CommonMark lets a backslash escape any ASCII punctuation.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_MD_ENTITY = re.compile(r"&(?=#\d+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
_MD_ORDERED = re.compile(r"^(\d+)([.)])")
_MD_BLOCK_START = "#-+="  # headings, bullets, setext underlines (others are escaped inline)


def _md_inline(text: str) -> str:
    return _MD_ENTITY.sub("&amp;", _MD_INLINE.sub(r"\\\1", text))


def _md_line(line: str) -> str:
    """One line of user text, escaped so that it cannot start a block of its own."""
    content = line.lstrip(" ")
    indent = "&#32;" * (len(line) - len(content))  # leading spaces would make code blocks
    escaped = _md_inline(content)
    ordered = _MD_ORDERED.match(escaped)
    if ordered:
        escaped = ordered.group(1) + "\\" + escaped[len(ordered.group(1)):]
    elif escaped[:1] and escaped[0] in _MD_BLOCK_START:
        escaped = "\\" + escaped
    return indent + escaped


def _md_paragraph(number: int, text: str) -> str:
    marker = f"{number}. "
    lines = [_md_line(line) for line in text.split("\n")]
    # A backslash at the end of a line is a hard line break, so the paragraph's own line
    # breaks survive; continuation lines are indented to stay inside the list item.
    out = marker + lines[0]
    for line in lines[1:]:
        out += "\\\n" + " " * len(marker) + line
    return out


def to_markdown(data: PublicationData) -> str:
    """The statement as Markdown: whatever the text says, the numbering stays exactly 1, 2, 3..."""
    out = [
        "# " + _md_inline(data.title).replace("#", "\\#"),
        "*" + _md_inline(data.signatory_line) + "*",
    ]
    if not data.authentic:
        out.append("*" + _md_inline(NOT_AUTHENTIC) + "*")
    out += [_md_paragraph(n, text) for n, text in enumerate(data.paragraphs, start=1)]
    if data.signatures:
        out.append("## Signatures recorded by the coordinator" if data.archive else "## Signed by")
        if data.archive:  # the Markdown keeps its English labels, as published
            out.append(_md_inline(archive_notice(data.archive, data.publication_date)))
        items = []
        for sig in data.signatures:
            when = signed_on(sig)
            parts = [str(sig.get("signer_name", "")), str(sig.get("signer_title", "")),
                     str(sig.get("organisation", "")), f"signed {format_date(when)}" if when else ""]
            items.append("- " + ", ".join(_md_inline(p) for p in parts if p))
        out.append("\n".join(items))
    footer = [f"SHA-256 of the plain-text publication: `{data.sha256}`"]
    footer.append(f"Signed text: version {data.version_number}, SHA-256 `{data.version_sha256}`")
    if data.url:
        footer.append(f"Published at <{data.url}>")
    out.append("\\\n".join(footer))  # backslash: a hard line break
    return "\n\n".join(out) + "\n"


# --- DOCX ------------------------------------------------------------------------------------

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _reproducible_zip(blob: bytes, when: date) -> bytes:
    """Rewrite a zip with fixed timestamps and order, so the same input gives the same bytes."""
    stamp = max((when.year, when.month, when.day, 0, 0, 0), _ZIP_EPOCH)
    src = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def _core(value: str) -> str:
    return value if len(value) <= 255 else value[:254] + "…"


def to_docx(data: PublicationData) -> bytes:
    """The statement as a Word document, for organisations to paste into their own documents.

    Paragraph numbers are written as text ("1. "), not as Word list numbering, so they stay
    exact whatever document the paragraphs are pasted into.
    """
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Pt

    _ = data.words
    doc = Document()
    props = doc.core_properties
    props.title = _core(data.title)  # core properties hold at most 255 characters each
    props.subject = _core(data.signatory_line)
    props.author = "Concord"
    props.last_modified_by = "Concord"
    props.comments = _("SHA-256 of the plain-text publication: %(sha256)s", sha256=data.sha256)
    props.identifier = _core(data.url or data.slug)
    props.keywords = ""
    if data.language != "en":  # English files stay byte for byte as they were made before languages
        props.language = data.language
    props.revision = 1
    moment = datetime.combine(data.publication_date, time(0, 0))
    props.created = moment
    props.modified = moment
    props.last_printed = moment

    doc.add_heading(data.title, level=1)
    line = doc.add_paragraph()
    line.add_run(data.signatory_line).italic = True
    if not data.authentic:
        doc.add_paragraph().add_run(data.not_authentic).italic = True

    for n, text in enumerate(data.paragraphs, start=1):
        doc.add_paragraph(f"{n}. {text}")  # python-docx turns "\n" into line breaks

    if data.signatures:
        doc.add_heading(_("Signatures recorded by the coordinator") if data.archive else _("Signed by"), level=2)
        if data.archive:
            doc.add_paragraph(data.archive_notice)
        table = doc.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        for cell, label in zip(table.rows[0].cells, (_("Organisation"), _("Name"), _("Title"), _("Signed")),
                               strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(label).bold = True
        for sig in data.signatures:
            row = table.add_row().cells
            row[0].text = str(sig.get("organisation", ""))
            row[1].text = str(sig.get("signer_name", ""))
            row[2].text = str(sig.get("signer_title", ""))
            when = signed_on(sig)
            row[3].text = long_date(when, data.language) if when else _("recorded, not signed on Concord")

    footer_lines = [
        _("SHA-256 of the plain-text publication: %(sha256)s", sha256=data.sha256),
        _("Signed text: version %(number)s, SHA-256 %(sha256)s", number=data.version_number,
          sha256=data.version_sha256),
    ]
    if data.url:
        footer_lines.append(data.url)
    foot = doc.add_paragraph()
    foot.paragraph_format.space_before = Pt(18)
    run = foot.add_run("\n".join(footer_lines))
    run.font.size = Pt(8)

    page_footer = doc.sections[0].footer.paragraphs[0]
    page_footer.text = ""
    small = page_footer.add_run(f"{data.title} · SHA-256 {data.sha256}")
    small.font.size = Pt(7)

    buffer = io.BytesIO()
    doc.save(buffer)
    return _reproducible_zip(buffer.getvalue(), data.publication_date)


# --- PDF -------------------------------------------------------------------------------------

PRINT_CSS = """\
/* Concord print stylesheet: the PDF of a published statement. */
@page {
  size: A4;
  margin: 24mm 22mm 28mm 22mm;
  @top-center {
    content: string(statement-title);
    font-family: "DejaVu Serif", "Liberation Serif", Georgia, serif;
    font-size: 8pt;
    color: #555;
  }
  @bottom-right {
    content: "Page " counter(page) " of " counter(pages);
    font-family: "DejaVu Serif", "Liberation Serif", Georgia, serif;
    font-size: 8.5pt;
    color: #444;
    vertical-align: top;
  }
}
@page :first {
  @top-center { content: none; }
}
html {
  font-family: "Charter", "Georgia", "DejaVu Serif", "Liberation Serif", "Times New Roman", serif;
  font-size: 11pt;
  line-height: 1.45;
  color: #000;
  background: #fff;
}
body { margin: 0; }
h1 {
  string-set: statement-title content();
  font-size: 18pt;
  line-height: 1.2;
  margin: 0 0 6pt 0;
  break-after: avoid;
}
h2 {
  font-size: 12.5pt;
  margin: 18pt 0 6pt 0;
  break-after: avoid;
}
.signatory-line {
  font-style: italic;
  margin: 0 0 16pt 0;
  break-after: avoid;
}
p, li, tr, .paragraph {
  orphans: 3;
  widows: 3;
}
p { margin: 0 0 9pt 0; }
.paragraph { margin: 0 0 9pt 0; white-space: pre-line; }
.paragraph .number { font-weight: bold; font-variant-numeric: tabular-nums; }
.signatures, .archive-notice, .qr { break-inside: avoid; }
table { border-collapse: collapse; width: 100%; font-size: 10pt; margin: 0 0 12pt 0; }
th, td { text-align: left; vertical-align: top; padding: 3pt 6pt; border-bottom: 0.5pt solid #999; }
th { font-weight: bold; border-bottom: 1pt solid #000; }
.archive-notice { border: 0.75pt solid #000; padding: 6pt 8pt; font-size: 10pt; }
.qr { margin-top: 18pt; font-size: 9pt; }
.qr img { width: 30mm; height: 30mm; display: block; margin-bottom: 4pt; image-rendering: pixelated; }
code, .hash, .sha256 {
  font-family: "DejaVu Sans Mono", "Liberation Mono", monospace;
  font-size: 8pt;
  word-break: break-all;
}
a { color: inherit; text-decoration: none; }
"""


def _css_string(value: str) -> str:
    """A CSS string literal holding ``value`` (quotes, backslashes and line ends escaped)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ").replace("\r", "")
    return f'"{escaped}"'


def page_numbers_css(language: str) -> str:
    """The page numbers ('Page 2 of 5') in the document's language: a rule over PRINT_CSS's."""
    _ = words(language)
    template = _("Page %(page)s of %(pages)s", page="\0page\0", pages="\0pages\0")
    parts = []
    for n, piece in enumerate(template.split("\0")):
        if n % 2:  # between the markers: a counter's name
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(_css_string(piece))
    return "@page { @bottom-right { content: " + " ".join(parts) + "; } }"


def footer_css(sha256: str, url: str) -> str:
    """The footer of every page: the plain text's SHA-256 and the public address."""
    lines = f"SHA-256 {sha256}" + (f"\n{url}" if url else "")
    return ("@page { @bottom-left { content: " + _css_string(lines) + "; white-space: pre; "
            'font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 6.5pt; color: #333; '
            "vertical-align: top; width: 75%; } }")


def offline_url_fetcher():
    """A WeasyPrint URL fetcher that only reads ``data:`` URLs: no network, no files."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"})


def to_pdf(html: str, base_url: str | None = None, *, stylesheets: Sequence[str] = (PRINT_CSS,),
           url_fetcher: Callable | None = None) -> bytes:
    """Typeset the full HTML of the public page as a PDF.

    ``stylesheets`` are CSS texts applied on top of the HTML's own styles; :data:`PRINT_CSS`
    by default, so the page numbers and typography do not depend on fetching the stylesheet
    the HTML links to. By default nothing is fetched (``data:`` URLs only): a PDF request never
    makes the server call itself or read local files. Pass ``url_fetcher`` to allow more.
    """
    from weasyprint import CSS, HTML

    fetcher = url_fetcher if url_fetcher is not None else offline_url_fetcher()
    css = [CSS(string=text, base_url=base_url, url_fetcher=fetcher) for text in stylesheets]
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=css)
