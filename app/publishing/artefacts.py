"""A publication's artefacts, made once when it is published (issue 17, item 3; issue 15, items 1-2).

From one :class:`~app.publishing.formats.PublicationData`:

- ``md``: the Markdown;
- ``docx``: the Word document (byte-for-byte reproducible);
- ``pdf``: typeset by WeasyPrint from ``templates/public/statement_print.html`` and signed (PAdES
  baseline) with the platform's certificate (``pdf_signing``);
- ``html``: the statement part of the public page (``templates/public/_statement_part.html``);
- ``txt`` and ``json``: the plain text and the sealed manifest as served (UTF-8 bytes), copies of
  ``Publication.plain_text`` and ``Publication.manifest``, so that every file is one read of bytes.

Absolute addresses inside them come from the configured ``BASE_URL``, never from a request. The
templates are rendered by a plain Jinja environment of this module: no flask, no request, no
database. The rules in ``publication.py`` and ``archive.py`` store what this returns.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from app.publishing import formats, pdf_signing

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates"
KINDS = ("md", "docx", "pdf", "html")  # made from the data
FILE_KINDS = ("md", "docx", "pdf")  # made from the data, downloadable, listed in the manifest
COPIED_KINDS = ("txt", "json")  # the publication's own text and manifest, as bytes

_base_url: list[str] = [""]


def configure(base_url: str) -> None:
    """The site's address (config BASE_URL), for the public address inside the files."""
    _base_url[0] = (base_url or "").rstrip("/")


def public_url(slug: str) -> str:
    return f"{_base_url[0]}/p/{slug}" if _base_url[0] else f"/p/{slug}"


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)

    def signed_on_text(signature: dict, language: str = "en") -> str:
        when = formats.signed_on(signature)
        _ = formats.words(language)
        return formats.long_date(when, language) if when else _("recorded, not signed on Concord")

    env.filters["signed_on_text"] = signed_on_text
    return env


def qr_data_uri(url: str) -> str:
    """A PNG data: URI of the QR code of ``url`` (segno; error correction M, 4-module border)."""
    import segno

    return segno.make(url, error="m", micro=False).png_data_uri(scale=8, border=4)


def page_part(data: formats.PublicationData) -> str:
    """The statement part of /p/<slug>: title, signatory line (and the archive notice), paragraphs."""
    return _env().get_template("public/_statement_part.html").render(data=data, _=data.words)


_MARK = "\0"


def _coded(text: str, value: str) -> Markup:
    """A label holding ``_MARK`` where ``value`` goes, with ``value`` set as code."""
    before, _mark, after = text.partition(_MARK)
    return escape(before) + Markup("<code>%s</code>") % value + escape(after)


def print_html(data: formats.PublicationData) -> str:
    qr = qr_data_uri(data.url) if data.url else ""
    return _env().get_template("public/statement_print.html").render(
        data=data, qr=Markup(qr), _=data.words, coded=_coded, mark=_MARK)


def pdf(data: formats.PublicationData) -> bytes:
    """The PDF, typeset and signed."""
    stylesheets = (formats.PRINT_CSS, formats.page_numbers_css(data.language),
                   formats.footer_css(data.sha256, data.url))
    unsigned = formats.to_pdf(print_html(data), stylesheets=stylesheets)
    _ = data.words
    reason = (_("Published on Concord: %(line)s", line=data.signatory_line) if not data.archive
              else _("Recorded on Concord (archived statement): %(line)s", line=data.signatory_line))
    return pdf_signing.sign_pdf(unsigned, reason=reason, location=data.url)


@dataclass(frozen=True)
class Artefact:
    kind: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def render(data: formats.PublicationData, kinds: tuple[str, ...] = KINDS) -> dict[str, Artefact]:
    """The artefacts named in ``kinds``, made from ``data``."""
    makers = {
        "md": lambda: formats.to_markdown(data).encode("utf-8"),
        "docx": lambda: formats.to_docx(data),
        "pdf": lambda: pdf(data),
        "html": lambda: page_part(data).encode("utf-8"),
    }
    return {kind: Artefact(kind, makers[kind]()) for kind in kinds}


def manifest_files(artefacts: dict[str, Artefact]) -> dict:
    """The manifest's ``files`` member: each downloadable file's SHA-256 and size."""
    return {kind: {"sha256": a.sha256, "bytes": len(a.content)}
            for kind, a in sorted(artefacts.items()) if kind in FILE_KINDS}
