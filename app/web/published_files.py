"""The published files, answered in front of Flask: ``GET /p/<slug>.txt`` and its siblings.

A published file never changes (promise 6). Each request still asks the database which file the slug
names (``reading.stored_file``: one indexed query), so nothing here can go stale; what it skips is the
machinery a page needs and a file does not: the session, the login, the rate limiter, the
templates. The answer is the stored file itself (sendfile under gunicorn, through
``wsgi.file_wrapper``), or 304 when the client has it, with the same headers the Flask view sets
(``public.py``). Whatever this layer does not answer with a file (no such publication, a format not
made, a malformed address, another method) goes on to Flask, which renders the error page.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from flask import Flask
from werkzeug.http import parse_etags

from app.publishing import reading
from app.publishing.filestore import FileStore
from app.web.headers import security_headers

MIMETYPES = {
    "txt": "text/plain; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
# /p/<slug>.<kind> or /p/<slug>.<language>.<kind>; slugs are lower-case words and hyphens.
ADDRESS = re.compile(r"/p/([a-z0-9][a-z0-9-]{0,199})(?:\.([A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8}){0,4}))?"
                     r"\.(txt|md|json|docx|pdf)")
CHUNK = 256 * 1024


class PublishedFiles:
    """WSGI middleware: published files straight from the store, everything else to ``inner``."""

    def __init__(self, app: Flask, inner):
        self.app = app
        self.inner = inner
        self.files = FileStore(Path(app.instance_path) / "published")
        self._engine = None

    def engine(self):
        if self._engine is None:
            from app.extensions import db

            with self.app.app_context():
                self._engine = db.engine
        return self._engine

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        match = ADDRESS.fullmatch(environ.get("PATH_INFO", "")) if method in ("GET", "HEAD") else None
        if match is None:
            return self.inner(environ, start_response)
        slug, language, ext = match.groups()
        kind = f"{language}.{ext}" if language else ext
        try:
            stored = reading.stored_file(slug, kind, self.files, self.engine())
        except reading.Missing:
            stored = None
        if stored is None:  # Flask says what is missing, on a page in the reader's language
            return self.inner(environ, start_response)
        headers = [("ETag", f'"{stored.etag}"'), ("Cache-Control", "public, max-age=31536000, immutable"),
                   *security_headers(environ.get("wsgi.url_scheme") == "https")]
        if parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains(stored.etag):
            start_response("304 NOT MODIFIED", headers)
            return []
        disposition = "attachment" if ext == "docx" else "inline"
        name = f"{slug}.{language}.{ext}" if language else f"{slug}.{ext}"
        headers += [("Content-Type", MIMETYPES[ext]), ("Content-Disposition", f'{disposition}; filename="{name}"')]
        if stored.path is None:
            body = stored.content
            start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
            return [] if method == "HEAD" else [body]
        try:
            handle = stored.path.open("rb")
        except OSError:  # removed since it was found: the stored bytes, as the first time
            return self.inner(environ, start_response)
        start_response("200 OK", [*headers, ("Content-Length", str(os.fstat(handle.fileno()).st_size))])
        if method == "HEAD":
            handle.close()
            return []
        wrapper = environ.get("wsgi.file_wrapper")
        return wrapper(handle, CHUNK) if wrapper else _chunks(handle)


def _chunks(handle):
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk
