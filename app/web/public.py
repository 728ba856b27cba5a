"""Published statements: permanent public addresses, formats, certificate, seal, feeds."""

from __future__ import annotations

import dataclasses
import functools
import json
from datetime import datetime

from flask import Blueprint, Response, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Organisation, Publication, Signature
from app.organisations import operations as orgs
from app.publishing import formats, sealing
from app.publishing.text import format_date
from app.signing.operations import get_publication

bp = Blueprint("public", __name__)

IMMUTABLE = "public, max-age=31536000, immutable"


def _data(publication: Publication) -> formats.PublicationData:
    data = formats.PublicationData.from_manifest(json.loads(publication.manifest))
    return dataclasses.replace(data, url=url_for("public.statement", slug=publication.slug, _external=True))


def _published(slug: str) -> Publication:
    return get_publication(slug)


def _conditional(response: Response, etag: str, cache_control: str = IMMUTABLE) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    return response.make_conditional(request)


def _page(publication: Publication, template: str, **extra) -> Response:
    data = _data(publication)
    html = render_template(template, publication=publication, data=data,
                           endorsements=publication.endorsements, **extra)
    # The page shows later endorsements, so its tag names them too; the text itself never changes.
    etag = f"{publication.sha256[:32]}-{template.rsplit('/', 1)[-1]}-e{len(publication.endorsements)}"
    return _conditional(Response(html, mimetype="text/html"), etag, "public, max-age=300")


@bp.route("/p/<slug>")
def statement(slug: str):
    return _page(_published(slug), "public/statement.html")


@bp.route("/p/<slug>/certificate")
def certificate(slug: str):
    publication = _published(slug)
    signatures = db.session.scalars(
        select(Signature).where(Signature.version_id == publication.version_id, Signature.status == "valid")
        .order_by(Signature.signed_at)
    ).all()
    return _page(publication, "public/certificate.html", signatures=signatures,
                 public_key=json.loads(publication.manifest).get("seal", {}).get("public_key", ""))


def _file(publication: Publication, body: bytes, mimetype: str, ext: str, *, inline: bool = True):
    response = Response(body, mimetype=mimetype)
    if mimetype.startswith("text/") or mimetype == "application/json":
        response.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{publication.slug}.{ext}"'
    return _conditional(response, f"{publication.sha256[:32]}-{ext}")


@bp.route("/p/<slug>.txt")
def text(slug: str):
    publication = _published(slug)
    return _file(publication, publication.plain_text.encode("utf-8"), "text/plain", "txt")


@bp.route("/p/<slug>.md")
def markdown(slug: str):
    publication = _published(slug)
    return _file(publication, formats.to_markdown(_data(publication)).encode("utf-8"), "text/markdown", "md")


@bp.route("/p/<slug>.json")
def manifest(slug: str):
    publication = _published(slug)
    return _file(publication, publication.manifest.encode("utf-8"), "application/json", "json")


@bp.route("/p/<slug>.docx")
def docx(slug: str):
    publication = _published(slug)
    return _file(publication, formats.to_docx(_data(publication)),
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx",
                 inline=False)


@functools.lru_cache(maxsize=32)
def _pdf(sha256: str, html: str) -> bytes:
    return formats.to_pdf(html)


@bp.route("/p/<slug>.pdf")
def pdf(slug: str):
    publication = _published(slug)
    html = render_template("public/statement_print.html", publication=publication, data=_data(publication))
    return _file(publication, _pdf(publication.sha256, html), "application/pdf", "pdf")


@bp.route("/about/seal")
def seal():
    return render_template("public/seal.html", public_key=sealing.public_key())


def signed_publications(organisation: Organisation) -> list[Publication]:
    """Publications ``organisation`` signed, newest first."""
    return list(db.session.scalars(
        select(Publication)
        .join(Signature, (Signature.version_id == Publication.version_id) & (Signature.status == "valid"))
        .where(Signature.organisation_id == organisation.id)
        .options(selectinload(Publication.endorsements))
        .order_by(Publication.publication_date.desc(), Publication.id.desc())
    ))


@bp.route("/o/<slug>/feed.atom")
def feed(slug: str):
    organisation = orgs.get_organisation(slug)
    publications = signed_publications(organisation)
    updated = max((p.published_at for p in publications), default=organisation.created_at)
    xml = render_template("public/feed.atom", organisation=organisation, publications=publications,
                          updated=updated, data=_data)
    response = Response(xml, mimetype="application/atom+xml")
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    return _conditional(response, f"feed-{organisation.id}-{len(publications)}-{updated.timestamp():.0f}",
                        "public, max-age=300")


@bp.app_template_filter("signed_on")
def signed_on(value: str) -> str:
    """A manifest's ISO time of signing as a reader's date: '20 February 2022'."""
    return format_date(datetime.fromisoformat(value).date()) if value else ""


@bp.app_template_filter("iso")
def iso(value) -> str:
    return value.isoformat() if value else ""
