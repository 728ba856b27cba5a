"""Published files answered before Flask (app/web/published_files.py): the stored bytes with the same
headers as any response, read by slug from the database on every request, and everything else left to
Flask's pages."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from app.models import Publication
from tests.test_public import FORMATS, Published, World, publication, stored


@pytest.fixture
def pub(app) -> Published:
    return Published(app)


@pytest.mark.parametrize("ext", FORMATS)
def test_a_file_is_its_stored_bytes_with_the_security_headers_and_no_session(pub, client, ext):
    response = client.get(f"/p/{pub.slug}.{ext}")
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == stored(ext).sha256
    assert int(response.headers["Content-Length"]) == len(response.data)
    for name in ("X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options", "Content-Security-Policy"):
        assert name in response.headers, name
    assert "Set-Cookie" not in response.headers
    assert "Strict-Transport-Security" not in response.headers  # plain http here


def test_over_https_a_file_carries_hsts(pub, client):
    response = client.get(f"/p/{pub.slug}.txt", base_url="https://concord.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_head_gives_the_headers_without_the_body(pub, client):
    full = client.get(f"/p/{pub.slug}.pdf")
    head = client.head(f"/p/{pub.slug}.pdf")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == str(len(full.data))
    assert head.headers["ETag"] == full.headers["ETag"]


def test_a_slug_published_after_a_miss_is_served_at_once(app, client):
    """Nothing remembers a miss: a statement's address answers as soon as it is published."""
    world = World(app)
    world.freeze()
    for key in ("hwu", "gva", "tnn"):
        world.sign(key)
    missing = client.get("/p/rivers-for-everyone.txt")
    assert missing.status_code == 404 and missing.mimetype == "text/html"  # Flask's page
    made = world.publish()
    assert client.get(f"/p/{made.slug}.txt").status_code == 200


def test_what_the_layer_does_not_answer_goes_to_flask(pub, client):
    """A format in a language the statement was not published in, a malformed address, a POST."""
    for path in (f"/p/{pub.slug}.de.txt", f"/p/{pub.slug}.TXT", f"/p/{pub.slug}.exe", "/p/Upper.txt",
                 "/p/.txt"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "text/html" and "Content-Security-Policy" in response.headers
    assert client.post(f"/p/{pub.slug}.txt").status_code in (400, 405)


def test_a_file_removed_from_disk_is_written_again_from_the_database(pub, client, app):
    first = client.get(f"/p/{pub.slug}.md").data
    shutil.rmtree(Path(app.instance_path) / "published")
    assert client.get(f"/p/{pub.slug}.md").data == first
    sha = stored("md").sha256
    assert (Path(app.instance_path) / "published" / sha).read_bytes() == first


def test_the_layer_asks_the_database_each_time(pub, client, app):
    """One query per request by slug: a publication row changed under it (which the rules never do) is
    what the next request answers from, not a remembered answer."""
    from app.extensions import db

    before = client.get(f"/p/{pub.slug}.txt")
    row = db.session.get(Publication, publication().id)
    row.slug = "renamed-for-this-test"
    db.session.commit()
    assert client.get(f"/p/{pub.slug}.txt").status_code == 404
    assert client.get("/p/renamed-for-this-test.txt").data == before.data
