"""Published statements: permanent public addresses, formats, certificate, seal, verify pages, feeds.

Routes only. What they read is in app/publishing/reading.py (a few small queries, nothing that can
change kept between requests); the files were made once at publication and are sent from this
server's copy on disk, named by their SHA-256 (app/publishing/filestore.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file
from flask_babel import get_locale, gettext
from flask_login import current_user
from markupsafe import Markup

from app.extensions import db
from app.models import Publication
from app.organisations import operations as orgs
from app.publishing import artefacts, formats, pdf_signing, reading, sealing, verifying
from app.publishing.filestore import FileStore
from app.publishing.publication import data_of, get_publication
from app.publishing.text import format_date
from app.translating import languages
from app.translating.languages import own_name
from app.web.public_forms import VerifyForm
from app.web.published_files import MIMETYPES

bp = Blueprint("public", __name__)



def _files() -> FileStore:
    """This server's copies of published files: ``<instance>/published/<sha256>``."""
    files = current_app.extensions.get("concord_published_files")
    if files is None:
        files = current_app.extensions["concord_published_files"] = FileStore(
            Path(current_app.instance_path) / "published")
    return files


def _file(slug: str, kind: str):
    """A stored file: strong ETag, a year of caching; 304 when the client has it.

    ``/p/<slug>.<language>.<kind>`` (the slug part then holds "<slug>.<language>"; slugs have no dots) is
    the file in that language."""
    ext = kind
    if "." in slug:
        slug, language = slug.split(".", 1)
        if not language:
            abort(404)
        kind = f"{language}.{kind}"
    try:
        stored = reading.stored_file(slug, kind, _files())
    except reading.Missing:
        db.session.rollback()
        if "." in kind:  # not published in that language (its files are made with it)
            abort(404)
        response = Response(render_template(
            "error.html", status=503, title=gettext("Not ready yet"),
            message=gettext("This format of the statement has not been made yet. Please try again later; "
                            "the plain text and the signed manifest are available now.")), status=503)
        response.headers["Retry-After"] = "3600"
        return response
    if stored is None:
        abort(404)
    if request.if_none_match.contains(stored.etag):
        response = Response(status=304)
    elif stored.path is not None:  # sendfile under gunicorn
        response = send_file(stored.path, mimetype=MIMETYPES[ext], conditional=False, etag=False,
                             last_modified=None, max_age=None)
        response.headers["Content-Type"] = MIMETYPES[ext]  # as given, no charset added twice
        response.headers.pop("Last-Modified", None)
    else:
        response = Response(stored.content, headers={"Content-Type": MIMETYPES[ext]})
    if response.status_code == 200:
        disposition = "attachment" if ext == "docx" else "inline"
        response.headers["Content-Disposition"] = f'{disposition}; filename="{slug}.{kind}"'
    response.set_etag(stored.etag)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.route("/p/<slug>.txt")
def text(slug: str):
    return _file(slug, "txt")


@bp.route("/p/<slug>.md")
def markdown(slug: str):
    return _file(slug, "md")


@bp.route("/p/<slug>.json")
def manifest(slug: str):
    return _file(slug, "json")


@bp.route("/p/<slug>.docx")
def docx(slug: str):
    return _file(slug, "docx")


@bp.route("/p/<slug>.pdf")
def pdf(slug: str):
    return _file(slug, "pdf")


def _page(slug: str, template: str, **context):
    """A page of a publication: the stored statement part and the rows read fresh for this view.

    Anonymous readers get an ETag built from everything the page shows (the organisations' current
    names included) and a 304 when they have it; logged-in readers see their own frame, not cached.
    ``/p/<slug>.<language>`` is the page in one of its other languages.
    """
    language = None
    if "." in slug:
        slug, language = slug.split(".", 1)
    view = reading.page_view(slug, language, _files())
    if view is None:
        abort(404)
    anonymous = not current_user.is_authenticated
    # The page's words are the viewer's: the language is part of its tag (and the stored part's notices are
    # put in it below, whatever language they were stored in).
    viewer_language = str(get_locale())
    etag = view.etag(template, _TEMPLATES_VERSION, viewer_language)
    if anonymous and request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        part = view.statement_part
        if part is None:  # published before the part was stored: made from the manifest
            part = artefacts.page_part(data_of(get_publication(slug)))
        part = _notices_in(part, view, slug, viewer_language)
        response = Response(render_template(template, view=view, statement_part=Markup(part),
                                            language_label=own_name, **context), mimetype="text/html")
    if anonymous:
        response.set_etag(etag)
        response.headers["Cache-Control"] = "public, no-cache"
    else:
        response.headers["Cache-Control"] = "private, no-cache"
    response.vary.add("Cookie")  # the language chosen in the footer, or on the account
    response.vary.add("Accept-Language")
    return response


_TRANSLATION_NOTICE = re.compile(r'<p class="translation-notice"[^>]*>.*?</p>', re.DOTALL)
_ARCHIVE_NOTICE = re.compile(r'<p class="archive-notice"[^>]*>.*?</p>', re.DOTALL)


def _notices_in(part: str, view, slug: str, language: str) -> str:
    """The stored statement part with its notices (not authentic; archived) in the viewer's language.

    The part was stored once, at publication, with them in the text's language (or, made before
    languages, in English); the rest of it is the published text, which stays as it is. User text in
    the part is escaped, so these paragraphs are only ever the notices."""
    if 'class="translation-notice"' in part:
        notice = Markup('<p class="translation-notice" lang="%s" dir="ltr">%s</p>') % (
            language, gettext(formats.NOT_AUTHENTIC))
        part = _TRANSLATION_NOTICE.sub(lambda _match: str(notice), part)
    if 'class="archive-notice"' in part:
        archive = reading.archive_of(slug)
        if archive is not None:
            notice = Markup('<p class="archive-notice" lang="%s" dir="ltr">%s</p>') % (
                language, formats.archive_notice(archive, view.publication_date, language))
            part = _ARCHIVE_NOTICE.sub(lambda _match: str(notice), part)
    return part


@bp.route("/p/<slug>")
def statement(slug: str):
    return _page(slug, "public/statement.html")


@bp.route("/p/<slug>/certificate")
def certificate(slug: str):
    return _page(slug, "public/certificate.html", public_key=reading.seal_public_key(slug),
                 pdf_fingerprint=pdf_signing.fingerprint())


@bp.route("/about/seal")
def seal():
    return render_template("public/seal.html", public_key=sealing.public_key(),
                           pdf_fingerprint=pdf_signing.fingerprint(), pdf_subject=pdf_signing.subject(),
                           pdf_certificate=pdf_signing.certificate_pem())


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    return _verify(None)


@bp.route("/p/<slug>/verify", methods=["GET", "POST"])
def verify_publication(slug: str):
    return _verify(get_publication(slug))


def _verify(publication: Publication | None):
    form = VerifyForm()
    result = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        if upload and upload.filename:
            result = verifying.check_upload(upload.read(verifying.MAX_BYTES + 1), upload.filename,
                                            within=publication)
        elif (form.text.data or "").strip():
            result = verifying.check_pasted(form.text.data, within=publication)
        else:
            form.form_errors.append(gettext("Choose a file, or paste the text you want to check."))
            status = 422
    elif request.method == "POST":
        status = 422
    return render_template("public/verify.html", form=form, publication=publication, result=result,
                           public_key=sealing.public_key()), status


@bp.route("/o/<slug>/feed.atom")
def feed(slug: str):
    organisation = orgs.get_organisation(slug)
    publications = reading.signed_publications(organisation)
    updated = max((p.published_at for p in publications), default=organisation.created_at)
    xml = render_template("public/feed.atom", organisation=organisation, publications=publications,
                          updated=updated, data=data_of)
    response = Response(xml, mimetype="application/atom+xml")
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    response.set_etag(f"feed-{organisation.id}-{len(publications)}-{updated.timestamp():.0f}-{get_locale()}")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.vary.add("Cookie")  # its title is in the reader's language
    response.vary.add("Accept-Language")
    return response.make_conditional(request)


@bp.app_template_filter("long_date")
def long_date(value) -> str:
    """'20 February 2022', in the viewer's language ('20. Februar 2022')."""
    if not value:
        return ""
    language = str(get_locale())
    return format_date(value) if language == "en" else languages.long_date(value, language)


@bp.app_template_filter("iso")
def iso(value) -> str:
    return value.isoformat() if value else ""


def _templates_version() -> str:
    """Part of every page's ETag: the templates a page is made of, as deployed."""
    import hashlib

    from app.publishing.artefacts import TEMPLATES

    digest = hashlib.sha256()
    for name in ("base.html", "public/statement.html", "public/certificate.html", "public/_signatories.html"):
        path = TEMPLATES / name
        digest.update(path.read_bytes() if path.exists() else name.encode())
    return digest.hexdigest()[:16]


_TEMPLATES_VERSION = _templates_version()
