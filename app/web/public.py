"""Published statements: permanent public addresses, formats, certificate, seal, feeds."""

from __future__ import annotations

import dataclasses
import json
from collections import OrderedDict
from datetime import datetime

from flask import Blueprint, Response, current_app, render_template, request, session, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.errors import NotFound
from app.extensions import db
from app.models import Endorsement, Organisation, Publication, Signature
from app.organisations import operations as orgs
from app.publishing import formats, sealing
from app.publishing.text import format_date
from app.signing.operations import get_publication

bp = Blueprint("public", __name__)

class _BoundedCache:
    """A small per-process LRU: published bytes never change, so they are built once per worker."""

    def __init__(self, size: int):
        self.size, self.items = size, OrderedDict()

    def get(self, key, build):
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = self.items[key] = build()
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


_bodies = _BoundedCache(64)


@dataclasses.dataclass(frozen=True)
class _Head:
    """What identifies a publication's bytes, read without its (large) texts."""

    slug: str
    sha256: str
    endorsements: int


def _head(slug: str) -> _Head:
    row = db.session.execute(
        select(Publication.sha256, func.count(Endorsement.id))
        .outerjoin(Endorsement, Endorsement.publication_id == Publication.id)
        .where(Publication.slug == slug).group_by(Publication.id)
    ).first()
    if row is None:
        raise NotFound("There is no published statement at this address.")
    return _Head(slug, row[0], row[1])


def _data(publication: Publication) -> formats.PublicationData:
    data = formats.PublicationData.from_manifest(json.loads(publication.manifest))
    return dataclasses.replace(data, url=url_for("public.statement", slug=publication.slug, _external=True))


def _respond(head: _Head, kind: str, build, *, mimetype: str, filename: str | None = None, inline: bool = True):
    """Serve stored bytes: 304 if the client has them, else from the cache, else built once."""
    etag = f"{head.sha256[:32]}-{kind}"
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        key = (id(current_app._get_current_object()), head.slug, head.sha256, kind, request.host_url)
        response = Response(_bodies.get(key, build), mimetype=mimetype)
        if mimetype.startswith("text/") or mimetype == "application/json":
            response.headers["Content-Type"] = f"{mimetype}; charset=utf-8"
        if filename:
            response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _page(slug: str, template: str, **extra_for):
    """An HTML page of a publication.

    Its content (the statement, signatories, endorsements) is built once per worker and cached;
    the frame around it (who is logged in, messages) is rendered for each request, so the
    cache never holds anyone's page. Anonymous readers get a public, revalidated ETag.
    """
    head = _head(slug)
    key = (id(current_app._get_current_object()), head.slug, head.sha256, template, head.endorsements,
           request.host_url)

    def build() -> tuple[str, Markup, Markup]:
        publication = get_publication(slug)
        extra = {name: make(publication) for name, make in extra_for.items()}
        jinja = current_app.jinja_env.get_template(template)
        context = jinja.new_context({"publication": publication, "data": _data(publication),
                                     "endorsements": publication.endorsements, **extra})
        parts = {name: Markup("".join(jinja.blocks[name](context))) for name in ("title", "content", "head")
                 if name in jinja.blocks}
        return str(parts["title"]), parts["content"], parts.get("head", Markup(""))

    anonymous = not current_user.is_authenticated
    etag = f"{head.sha256[:32]}-{template.rsplit('/', 1)[-1]}-e{head.endorsements}"
    if anonymous and request.if_none_match.contains(etag) and not session.get("_flashes"):
        response = Response(status=304)
    else:
        title, content, extra_head = _bodies.get(key, build)
        response = Response(render_template("public/page.html", page_title=title, page_content=content,
                                            head=extra_head), mimetype="text/html")
    if anonymous:
        response.set_etag(etag)
        response.headers["Cache-Control"] = "public, max-age=300"
    else:
        response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")
    return response


@bp.route("/p/<slug>")
def statement(slug: str):
    return _page(slug, "public/statement.html")


@bp.route("/p/<slug>/certificate")
def certificate(slug: str):
    return _page(
        slug, "public/certificate.html",
        signatures=lambda publication: db.session.scalars(
            select(Signature).where(Signature.version_id == publication.version_id, Signature.status == "valid")
            .order_by(Signature.signed_at)).all(),
        public_key=lambda publication: json.loads(publication.manifest).get("seal", {}).get("public_key", ""),
    )


def _file_head(slug: str) -> _Head:
    """The files of a publication never change and ignore endorsements: after the first request
    a worker answers them without asking the database (a missing slug is never cached)."""
    return _bodies.get((id(current_app._get_current_object()), "head", slug),
                       lambda: dataclasses.replace(_head(slug), endorsements=0))


def _download(slug: str, ext: str, mimetype: str, make, *, inline: bool = True):
    head = _file_head(slug)
    return _respond(head, ext, lambda: make(get_publication(slug)), mimetype=mimetype,
                    filename=f"{slug}.{ext}", inline=inline)


@bp.route("/p/<slug>.txt")
def text(slug: str):
    return _download(slug, "txt", "text/plain", lambda p: p.plain_text.encode("utf-8"))


@bp.route("/p/<slug>.md")
def markdown(slug: str):
    return _download(slug, "md", "text/markdown", lambda p: formats.to_markdown(_data(p)).encode("utf-8"))


@bp.route("/p/<slug>.json")
def manifest(slug: str):
    return _download(slug, "json", "application/json", lambda p: p.manifest.encode("utf-8"))


@bp.route("/p/<slug>.docx")
def docx(slug: str):
    return _download(slug, "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     lambda p: formats.to_docx(_data(p)), inline=False)


@bp.route("/p/<slug>.pdf")
def pdf(slug: str):
    def make(publication: Publication) -> bytes:
        html = render_template("public/statement_print.html", publication=publication, data=_data(publication))
        return formats.to_pdf(html)

    return _download(slug, "pdf", "application/pdf", make)


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
    response.set_etag(f"feed-{organisation.id}-{len(publications)}-{updated.timestamp():.0f}")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response.make_conditional(request)


@bp.app_template_filter("signed_on")
def signed_on(value: str) -> str:
    """A manifest's ISO time of signing as a reader's date: '20 February 2022'."""
    return format_date(datetime.fromisoformat(value).date()) if value else ""


@bp.app_template_filter("iso")
def iso(value) -> str:
    return value.isoformat() if value else ""
