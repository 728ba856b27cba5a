"""The published statement: its public page, every format, certificate, seal, feed and organisation page."""

from __future__ import annotations

import hashlib
import html
import io
import json
import shutil
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path

import docx
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Publication, PublicationArtefact, Statement
from app.publishing import endorsement as endorsing
from app.publishing import publication as publishing
from app.publishing import sealing
from app.publishing.verify import verify_manifest
from app.signing import operations as signing
from tests import factories
from tests.test_web_signing import PARAGRAPHS, World

ATOM = "{http://www.w3.org/2005/Atom}"
SIGNED_AT = datetime(2022, 2, 20, 9, 30, tzinfo=UTC)
PUBLISHED_AT = datetime(2022, 2, 21, 8, 0, tzinfo=UTC)
LINE = ("Joint Statement of Harbour Workers Union, Green Valleys Alliance and Tenants Network, "
        "21 February 2022")
FORMATS = ("txt", "md", "json", "docx", "pdf")


class Published(World):
    """The world's statement, signed on 20 February 2022 and published on 21 February 2022."""

    def __init__(self, app):
        super().__init__(app)
        self.freeze(at=SIGNED_AT.replace(hour=8))
        for n, key in enumerate(("hwu", "gva", "tnn")):
            self.sign(key, at=SIGNED_AT.replace(minute=30 + n))
        self.publication = self.publish(on=date(2022, 2, 21), at=PUBLISHED_AT)
        self.slug = self.publication.slug


@pytest.fixture
def pub(app) -> Published:
    return Published(app)


@pytest.fixture
def world(app) -> World:
    return World(app)


def reload() -> None:
    db.session.rollback()


def publication() -> Publication:
    reload()
    return db.session.scalars(select(Publication)).one()


# --- the page ------------------------------------------------------------------------------


def test_public_page_needs_no_login_and_shows_the_statement(pub, client):
    """Title, signatory line, numbered paragraphs, signatories, hash and format links, without logging in."""
    response = client.get(f"/p/{pub.slug}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1 class=\"statement-title\">Rivers for Everyone</h1>" in page
    assert f'<p class="signatory-line">{LINE}</p>' in page
    for n, text in enumerate(PARAGRAPHS, start=1):
        assert f'<a class="number" href="#p{n}">{n}.</a> <div class="text">{text}</div>' in page
    for name, org in (("Hana Harbour", "Harbour Workers Union"), ("Gus Green", "Green Valleys Alliance"),
                      ("Tom Tenant", "Tenants Network")):
        assert f"<strong>{org}</strong>: {name}, Chair of {org}" in page
    assert page.count('(signed <time datetime="2022-02-20">20 February 2022</time>)') == 3
    assert pub.publication.sha256 in page
    for ext in FORMATS:
        assert f'href="/p/{pub.slug}.{ext}"' in page
    assert f'href="/p/{pub.slug}/certificate"' in page


def test_signatories_are_listed_in_the_participants_order(pub, client):
    """The coordinator's organisation first, as in the signatory line."""
    page = client.get(f"/p/{pub.slug}").get_data(as_text=True)
    signed = page[page.index("Signed by"):]
    names = ("Harbour Workers Union", "Green Valleys Alliance", "Tenants Network")
    positions = [signed.index(n) for n in names]
    assert positions == sorted(positions)


def test_unknown_slug_is_404(pub, client):
    """Unknown addresses, and their formats and certificate, are 404."""
    for path in ("/p/no-such-statement", "/p/no-such-statement.txt", "/p/no-such-statement.json",
                 "/p/no-such-statement/certificate", "/o/no-such-org/feed.atom"):
        assert client.get(path).status_code == 404, path


def test_statement_being_signed_has_no_public_page(world, client):
    """Before publication there is nothing at /p/<slug>."""
    world.freeze()
    world.sign("hwu")
    slug = world.st().slug
    assert client.get(f"/p/{slug}").status_code == 404
    assert client.get(f"/p/{slug}.txt").status_code == 404


# --- formats ---------------------------------------------------------------------------------


def test_txt_is_byte_identical_to_the_stored_plain_text(pub, client):
    """The .txt body is Publication.plain_text in UTF-8 and its SHA-256 is the one on the page."""
    response = client.get(f"/p/{pub.slug}.txt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    stored = publication()
    assert response.data == stored.plain_text.encode("utf-8")
    digest = hashlib.sha256(response.data).hexdigest()
    assert digest == stored.sha256
    assert digest in client.get(f"/p/{pub.slug}").get_data(as_text=True)
    assert response.data.decode("utf-8").split("\n")[:3] == ["Rivers for Everyone", "", LINE]
    assert response.data.endswith(b"We will meet again after the spring floods.\n")


def test_json_is_the_sealed_manifest_and_verifies(pub, client):
    """The manifest names the text, hashes and signatures, and the seal checks out with the platform key."""
    response = client.get(f"/p/{pub.slug}.json")
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    manifest = json.loads(response.data)
    stored = publication()
    assert response.data == stored.manifest.encode("utf-8")
    assert manifest["title"] == "Rivers for Everyone"
    assert manifest["publication_date"] == "2022-02-21"
    assert manifest["text"] == stored.plain_text and manifest["sha256"] == stored.sha256
    assert manifest["version"] == {"number": 1, "sha256": stored.version.sha256}
    assert [p["name"] for p in manifest["participants"]] == [
        "Harbour Workers Union", "Green Valleys Alliance", "Tenants Network"]
    assert [(s["organisation"], s["signer_name"], s["signed_at"]) for s in manifest["signatures"]] == [
        ("Harbour Workers Union", "Hana Harbour", "2022-02-20T09:30:00+00:00"),
        ("Green Valleys Alliance", "Gus Green", "2022-02-20T09:31:00+00:00"),
        ("Tenants Network", "Tom Tenant", "2022-02-20T09:32:00+00:00"),
    ]
    assert verify_manifest(manifest, sealing.public_key()) == []
    manifest["signatures"][1]["signer_name"] = "Mallory"
    assert verify_manifest(manifest, sealing.public_key()) != []


def test_markdown_contains_the_paragraphs(pub, client):
    """The .md carries the title, signatory line and every paragraph."""
    response = client.get(f"/p/{pub.slug}.md")
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    body = response.data.decode("utf-8")
    assert "Rivers for Everyone" in body and LINE in body
    for text in PARAGRAPHS:
        assert text in body


def test_docx_opens_and_contains_the_paragraphs(pub, client):
    """The Word file opens with python-docx and has the same text."""
    response = client.get(f"/p/{pub.slug}.docx")
    assert response.headers["Content-Disposition"] == f'attachment; filename="{pub.slug}.docx"'
    document = docx.Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Rivers for Everyone" in text and LINE in text
    for paragraph in PARAGRAPHS:
        assert paragraph in text


def test_pdf_is_a_pdf(pub, client):
    """The PDF starts with the PDF magic number."""
    response = client.get(f"/p/{pub.slug}.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.data.startswith(b"%PDF")


@pytest.mark.parametrize("suffix", ["", ".txt", ".md", ".json", ".docx", ".pdf", "/certificate"])
def test_every_address_has_a_strong_etag_and_answers_304(pub, client, suffix):
    """A strong ETag on every format; sending it back gives 304 without a body."""
    response = client.get(f"/p/{pub.slug}{suffix}")
    etag = response.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(f"/p/{pub.slug}{suffix}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert client.get(f"/p/{pub.slug}{suffix}", headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize("ext", FORMATS)
def test_formats_are_cached_for_a_long_time(pub, client, ext):
    """The files never change, so they are cacheable for a year and immutable."""
    cache = client.get(f"/p/{pub.slug}.{ext}").headers["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache


def test_formats_have_distinct_etags(pub, client):
    """Each format has its own tag, so a cache never serves one for another."""
    tags = {client.get(f"/p/{pub.slug}.{ext}").headers["ETag"] for ext in FORMATS}
    assert len(tags) == len(FORMATS)


# --- endorsements, certificate, seal --------------------------------------------------------------


def test_endorsement_shows_on_the_page_but_not_in_the_signed_files(pub, client):
    """"Also endorsed by … on …" appears; the .txt and .json bytes and their ETags do not change."""
    before = {ext: client.get(f"/p/{pub.slug}.{ext}") for ext in ("txt", "json")}
    page_before = client.get(f"/p/{pub.slug}")
    endorsing.add_endorsement(db.session.get(Statement, pub.sid), pub.coordinator, pub.outside,
                            endorsed_on=date(2022, 3, 4), now=datetime.now(UTC))
    db.session.commit()
    page = client.get(f"/p/{pub.slug}")
    text = page.get_data(as_text=True)
    assert "Also endorsed by" in text and "Distant Miners Guild on 4 March 2022" in text
    assert "Distant Miners Guild" not in text[:text.index("Also endorsed by")]
    assert page.headers["ETag"] != page_before.headers["ETag"]
    for ext, old in before.items():
        new = client.get(f"/p/{pub.slug}.{ext}")
        assert new.data == old.data
        assert new.headers["ETag"] == old.headers["ETag"]
    assert "Distant Miners Guild" not in publication().manifest


def test_certificate_lists_each_signature_with_time_and_hash(pub, client):
    """One row per signature: organisation, signer, UTC time and the version hash it names."""
    response = client.get(f"/p/{pub.slug}/certificate")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    version_sha = publication().version.sha256
    matches = f'<code class="hash">{version_sha}</code> <span class="stance stance-support">matches'
    assert page.count(matches) == 3
    for minute, signer in ((30, "Hana Harbour"), (31, "Gus Green"), (32, "Tom Tenant")):
        assert f'<time datetime="2022-02-20T09:{minute}:00+00:00">20 Feb 2022, 09:{minute} UTC</time>' in page
        assert signer in page
    assert publication().sha256 in page
    assert sealing.public_key() in page


def test_seal_page_shows_the_public_key_in_the_manifest(pub, client):
    """/about/seal shows the same key that seals every manifest."""
    page = client.get("/about/seal").get_data(as_text=True)
    key = json.loads(publication().manifest)["seal"]["public_key"]
    assert key == sealing.public_key()
    assert f"<code class=\"hash\" data-copy>{key}</code>" in page


# --- feed and organisation page -----------------------------------------------------------------


def test_feed_is_valid_atom_listing_the_published_statement(pub, client):
    """The feed parses as XML and has one entry linking to /p/<slug>."""
    response = client.get("/o/gva/feed.atom")
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == "Statements signed by Green Valleys Alliance"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert entries[0].findtext(f"{ATOM}title") == "Rivers for Everyone"
    assert entries[0].find(f"{ATOM}link").get("href").endswith(f"/p/{pub.slug}")
    assert entries[0].findtext(f"{ATOM}summary") == LINE
    assert entries[0].findtext(f"{ATOM}content") == publication().plain_text


def test_feed_of_an_organisation_that_signed_nothing_is_empty(pub, client):
    """An organisation outside the statement has a valid feed without entries."""
    root = ET.fromstring(client.get("/o/dmg/feed.atom").data)
    assert root.findall(f"{ATOM}entry") == []


def test_organisation_page_lists_signed_statements_newest_first_and_links_the_feed(pub, client):
    """Newest publication first, each linked to /p/<slug>; the feed is linked in the head and the page."""
    second = factories.statement(pub.coordinator, pub.hwu, participants=[pub.gva], title="Second Thoughts",
                                 paragraphs=["Later words."])
    pub.statement, pub.sid = second, second.id
    pub.freeze()
    pub.sign("hwu")
    pub.sign("gva")
    newer = pub.publish()
    page = client.get("/o/gva").get_data(as_text=True)
    assert page.index(f'href="/p/{newer.slug}"') < page.index(f'href="/p/{pub.slug}"')
    assert ">Second Thoughts</a>" in page and ">Rivers for Everyone</a>" in page
    head = page[:page.index("</head>")]
    assert '<link rel="alternate" type="application/atom+xml"' in head and 'href="/o/gva/feed.atom"' in head
    body = page[page.index("<body"):]
    assert 'href="/o/gva/feed.atom"' in body
    tnn = client.get("/o/tnn").get_data(as_text=True)
    assert ">Rivers for Everyone</a>" in tnn and "Second Thoughts" not in tnn


# --- escaping ------------------------------------------------------------------------------------


NASTY_ORG = "Tom & Jerry <script>alert(1)</script> Ltd"
NASTY_PARAGRAPH = "Fish &amp; chips <script>alert(2)</script> for all."


def test_user_text_is_escaped_on_the_page_certificate_and_feed(app, client):
    """Organisation names and paragraphs with markup are shown as text everywhere."""
    factories.admin()
    host = factories.organisation("Plain Hosts", slug="hosts")
    nasty = factories.organisation(NASTY_ORG, slug="nasty")
    coordinator = factories.member(host, "delegate", "signatory", name="Cora")
    signer = factories.member(nasty, "signatory", name="Nick <b>Bold</b>")
    statement = factories.statement(coordinator, host, participants=[nasty], title="Title <i>x</i>",
                                    paragraphs=[NASTY_PARAGRAPH])
    from app.amending import operations as amending

    now = datetime.now(UTC)
    amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=now)
    signing.freeze(statement, coordinator, now=now)
    for user, org in ((coordinator, host), (signer, nasty)):
        signing.sign(statement, user, org, signer_name=user.name, signer_title="Head & <u>boss</u>",
                     authorised=True, password=factories.PASSWORD,
                     version_sha256=statement.frozen_version.sha256, now=now)
    made = publishing.publish(statement, coordinator, publication_date=None, now=now)
    db.session.commit()
    for path in (f"/p/{made.slug}", f"/p/{made.slug}/certificate"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page, path
        assert "<u>boss</u>" not in page and "<b>Bold</b>" not in page and "<i>x</i>" not in page
        assert html.escape(NASTY_ORG) in page, path
        assert "Head &amp; &lt;u&gt;boss&lt;/u&gt;" in page, path
    page = client.get(f"/p/{made.slug}").get_data(as_text=True)
    assert "Fish &amp;amp; chips &lt;script&gt;alert(2)&lt;/script&gt; for all." in page
    feed = client.get("/o/nasty/feed.atom")
    assert b"<script>" not in feed.data
    root = ET.fromstring(feed.data)  # well-formed despite the markup
    assert root.findtext(f"{ATOM}title") == f"Statements signed by {NASTY_ORG}"
    entry = root.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Title <i>x</i>"
    assert NASTY_PARAGRAPH in entry.findtext(f"{ATOM}content")
    org_page = client.get("/o/nasty").get_data(as_text=True)
    assert "<script>" not in org_page and "Title &lt;i&gt;x&lt;/i&gt;" in org_page


# --- files made once at publication (issue 17, item 3) ------------------------------------------------


def stored(kind: str) -> PublicationArtefact:
    reload()
    return db.session.scalars(select(PublicationArtefact).where(PublicationArtefact.kind == kind)).one()


@pytest.mark.parametrize("ext", ["md", "docx", "pdf"])
def test_files_are_the_bytes_stored_at_publication_and_listed_in_the_manifest(pub, client, ext):
    """The .md, .docx and .pdf served are the stored bytes; their SHA-256 is in the sealed manifest."""
    response = client.get(f"/p/{pub.slug}.{ext}")
    artefact = stored(ext)
    assert response.data == artefact.content
    assert hashlib.sha256(response.data).hexdigest() == artefact.sha256
    manifest = json.loads(publication().manifest)
    assert manifest["files"][ext] == {"sha256": artefact.sha256, "bytes": len(artefact.content)}
    assert verify_manifest(manifest, sealing.public_key()) == []


@pytest.mark.parametrize("ext", FORMATS)
def test_another_host_gets_the_same_bytes_and_etag(pub, client, ext):
    """The Host header changes nothing: same bytes, same strong ETag (the address inside comes from BASE_URL)."""
    first = client.get(f"/p/{pub.slug}.{ext}")
    other = client.get(f"/p/{pub.slug}.{ext}", headers={"Host": "evil.example"})
    assert other.status_code == 200
    assert other.data == first.data and other.headers["ETag"] == first.headers["ETag"]
    assert b"evil.example" not in other.data


def test_the_public_address_inside_the_files_comes_from_base_url(pub, client, app):
    """The manifest's url, the Markdown's address and the PDF's footer name BASE_URL/p/<slug>."""
    from pypdf import PdfReader

    address = f"{app.config['BASE_URL']}/p/{pub.slug}"
    assert json.loads(client.get(f"/p/{pub.slug}.json").data)["url"] == address
    assert f"<{address}>" in client.get(f"/p/{pub.slug}.md").get_data(as_text=True)
    pdf = PdfReader(io.BytesIO(client.get(f"/p/{pub.slug}.pdf").data))
    assert all(address in page.extract_text() for page in pdf.pages)


def _statements_run(app, action) -> list[str]:
    from sqlalchemy import event

    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


@pytest.mark.parametrize("ext", FORMATS)
def test_a_file_costs_one_query(pub, client, app, ext):
    """Serving a stored file is one query by slug (nothing rendered, nothing else read)."""
    client.get(f"/p/{pub.slug}.{ext}")
    run = _statements_run(app, lambda: client.get(f"/p/{pub.slug}.{ext}"))
    assert len(run) == 1, run


@pytest.mark.parametrize("ext", FORMATS)
def test_the_first_request_writes_the_file_named_by_its_hash_and_later_ones_send_it(pub, client, app, ext):
    """Two queries the first time (the name, then the bytes), written to <instance>/published/<sha256>;
    then one query and the bytes come from that file."""
    artefact = stored(ext)
    on_disk = Path(app.instance_path) / "published" / artefact.sha256
    client.get(f"/p/{pub.slug}.{ext}")  # (the app's first request also reads its settings)
    on_disk.unlink()
    first = _statements_run(app, lambda: client.get(f"/p/{pub.slug}.{ext}"))
    assert len(first) == 2 and on_disk.read_bytes() == artefact.content
    on_disk.write_bytes(b"the copy on disk is what is sent")  # (a file named by its content never changes)
    assert client.get(f"/p/{pub.slug}.{ext}").data == b"the copy on disk is what is sent"
    on_disk.unlink()
    assert client.get(f"/p/{pub.slug}.{ext}").data == artefact.content


def test_stored_bytes_that_do_not_match_their_hash_are_sent_as_stored_and_never_written(pub, client, app):
    """The disk copy is named by the bytes' SHA-256: bytes that do not hash to it stay in the database."""
    artefact = stored("md")
    folder = Path(app.instance_path) / "published"
    for path in folder.glob("*"):
        path.unlink()
    db.session.execute(PublicationArtefact.__table__.update()
                       .where(PublicationArtefact.id == artefact.id).values(content=b"# altered in the database"))
    db.session.commit()
    response = client.get(f"/p/{pub.slug}.md")
    assert response.status_code == 200 and response.data == b"# altered in the database"
    assert not (folder / artefact.sha256).exists()


def test_files_are_served_when_the_disk_copy_cannot_be_written(pub, client, app):
    """A folder that cannot be written (here a file in its place): the bytes come from the database."""
    folder = Path(app.instance_path) / "published"
    shutil.rmtree(folder, ignore_errors=True)
    folder.write_bytes(b"")
    try:
        for ext in FORMATS:
            response = client.get(f"/p/{pub.slug}.{ext}")
            assert response.status_code == 200 and response.data == stored(ext).content
        page = client.get(f"/p/{pub.slug}").get_data(as_text=True)
        assert stored("html").content.decode("utf-8") in page
    finally:
        folder.unlink()


def test_an_anonymous_page_costs_two_queries(pub, client, app):
    """The page: the publication with its stored statement part, then the names that can change."""
    client.get(f"/p/{pub.slug}")
    assert len(_statements_run(app, lambda: client.get(f"/p/{pub.slug}"))) == 2


def test_the_page_shows_the_statement_part_stored_at_publication(pub, client):
    """The title, signatory line and paragraphs on the page are the stored HTML, as it was made."""
    page = client.get(f"/p/{pub.slug}").get_data(as_text=True)
    assert stored("html").content.decode("utf-8") in page


def test_publications_made_before_their_files_were_stored_get_them_from_the_backfill(pub, client, runner):
    """Without artefacts (as before the migration) the page still shows, files answer 503 until
    `flask statements render-artefacts` makes them; the sealed manifest stays as it was."""
    manifest_before = publication().manifest
    db.session.execute(PublicationArtefact.__table__.delete())
    db.session.commit()
    page = client.get(f"/p/{pub.slug}")
    assert page.status_code == 200 and "Rivers belong to everyone" in page.get_data(as_text=True)
    for ext in ("md", "docx", "pdf"):
        response = client.get(f"/p/{pub.slug}.{ext}")
        assert response.status_code == 503 and response.headers["Retry-After"]
    for ext in ("txt", "json"):  # from the publication itself meanwhile
        response = client.get(f"/p/{pub.slug}.{ext}")
        assert response.status_code == 200 and response.data == (
            publication().plain_text if ext == "txt" else publication().manifest).encode("utf-8")
    result = runner.invoke(args=["statements", "render-artefacts"])
    assert result.exit_code == 0, result.output
    assert f"{pub.slug}: made md, docx, pdf, html, txt, json." in result.output
    for ext in FORMATS:
        response = client.get(f"/p/{pub.slug}.{ext}")
        assert response.status_code == 200 and response.data == stored(ext).content
    assert publication().manifest == manifest_before
    again = runner.invoke(args=["statements", "render-artefacts"])
    assert "0 of 1 publications needed files" in again.output
    assert len(db.session.scalars(select(PublicationArtefact)).all()) == 6


# --- names that can change: read for every view ----------------------------------------------------


def _rename(how: str, pub, browser_of, runner, client, slug: str, new: str) -> None:
    """Rename an organisation the way ``how`` says: its admin's form, the API, or the command line."""
    from app.models import Organisation
    from tests.test_api import Api, make_token

    org = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if how == "form":
        admin = factories.member(org, "admin")
        browser = browser_of(admin)
        response = browser.post(f"/o/{slug}/edit", {"name": new, "short_name": org.short_name, "country": ""})
        assert response.status_code == 302
    elif how == "api":
        response = Api(client.application.test_client(), make_token(pub.admin)).call(
            "PATCH", f"/organisations/{slug}", json={"name": new})
        assert response.status_code == 200, response.get_json()
    else:
        result = runner.invoke(args=["orgs", "update", slug, "--name", new])
        assert result.exit_code == 0, result.output


RENAMES = ["form", "api", "cli"]


@pytest.mark.parametrize("how", RENAMES)
def test_renaming_a_signatory_organisation_shows_on_the_next_view_of_page_and_certificate(pub, client, runner, how):
    """The next view of /p/<slug> and its certificate names the organisation by its new name; the files keep the old."""
    files = {ext: client.get(f"/p/{pub.slug}.{ext}").data for ext in FORMATS}
    before = {path: client.get(path) for path in (f"/p/{pub.slug}", f"/p/{pub.slug}/certificate")}
    _rename(how, pub, pub.browser, runner, client, "gva", "Green Valleys Federation")
    reader = client.application.test_client()
    for path, old in before.items():
        response = reader.get(path)
        page = response.get_data(as_text=True)
        assert "Green Valleys Federation" in page, path
        assert response.headers["ETag"] != old.headers["ETag"], path
        assert reader.get(path, headers={"If-None-Match": old.headers["ETag"]}).status_code == 200
    page = reader.get(f"/p/{pub.slug}").get_data(as_text=True)
    assert f'<p class="signatory-line">{LINE}</p>' in page  # the published line stays as published
    for ext, data in files.items():
        assert reader.get(f"/p/{pub.slug}.{ext}").data == data


@pytest.mark.parametrize("how", RENAMES)
def test_renaming_an_endorser_shows_on_the_next_view(pub, client, runner, how):
    """A later endorser renamed: the next view says 'Also endorsed by <new name>'."""
    endorsing.add_endorsement(db.session.get(Statement, pub.sid), pub.coordinator, pub.outside,
                              endorsed_on=date(2022, 3, 4), now=datetime.now(UTC))
    db.session.commit()
    old = client.get(f"/p/{pub.slug}")
    assert "Distant Miners Guild on 4 March 2022" in old.get_data(as_text=True)
    _rename(how, pub, pub.browser, runner, client, "dmg", "Distant Miners Union")
    response = client.application.test_client().get(f"/p/{pub.slug}")
    assert "Distant Miners Union on 4 March 2022" in response.get_data(as_text=True)
    assert response.headers["ETag"] != old.headers["ETag"]


def test_an_unchanged_page_answers_304_and_a_logged_in_reader_gets_their_own_frame(pub, client):
    """Anonymous: 304 for the ETag of what the page shows. Logged in: the page with their name, not cached."""
    first = client.get(f"/p/{pub.slug}")
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert client.get(f"/p/{pub.slug}", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    reader = pub.browser(pub.sig_gva)
    mine = reader.get(f"/p/{pub.slug}", headers={"If-None-Match": first.headers["ETag"]})
    assert mine.status_code == 200 and "Gus Green" in mine.get_data(as_text=True)
    assert mine.headers["Cache-Control"] == "private, no-cache"


# --- names in statements ------------------------------------------------------------------------------------


def test_the_signatory_line_uses_each_organisations_name_in_statements(world, client):
    """Set on the organisation, it is what the published line says; the full name stays in the signature list."""
    from app.organisations import operations as orgs

    orgs.update_organisation(None, world.gva, name_in_statements="the Green Valleys Alliance (Chile)")
    db.session.commit()
    world.freeze()
    for key in ("hwu", "gva", "tnn"):
        world.sign(key)
    made = world.publish(on=date.today())
    text = client.get(f"/p/{made.slug}.txt").get_data(as_text=True)
    assert text.split("\n\n")[1].startswith(
        "Joint Statement of Harbour Workers Union, the Green Valleys Alliance (Chile) and Tenants Network, ")
    manifest = json.loads(client.get(f"/p/{made.slug}.json").data)
    assert [p["name_in_statements"] for p in manifest["participants"]] == [
        "Harbour Workers Union", "the Green Valleys Alliance (Chile)", "Tenants Network"]
    assert manifest["signatures"][1]["organisation"] == "Green Valleys Alliance"
