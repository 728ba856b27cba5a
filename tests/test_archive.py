"""Archived statements: recorded after being signed and published elsewhere (issue 15, item 4)."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.errors import InvalidInput, NotAllowed
from app.extensions import db
from app.models import AuditEntry, Notification, Publication, PublicationArtefact, RecordedSignature, Statement
from app.publishing import archive, sealing
from app.publishing.verify import verify_manifest
from tests import factories
from tests.conftest import Browser
from tests.test_api import Api, make_token

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "reference"
PASTED = REFERENCE / "joint-statement-2022-02-21.txt"
PUBLISHED = REFERENCE / "joint-statement-2022-02-21.published.txt"
RECORDED_ON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOTICE = "Its signatures were recorded by the coordinator, Cora Coordinator, on 1 March 2026"

needs_reference = pytest.mark.skipif(not PASTED.exists(), reason=f"{PASTED} is not there (shared/ beside the clone)")


class Orgs:
    """The two organisations of the reference statement, with their names in statements as in its real line."""

    def __init__(self):
        self.admin = factories.admin()
        self.rcit = factories.organisation("Revolutionary Communist International Tendency", slug="rcit",
                                           short_name="RCIT")
        self.rsl = factories.organisation("Revolutionary Socialist League", slug="rsl-kenya", short_name="RSL")
        self.other = factories.organisation("Uninvolved Union", slug="uu")
        from app.organisations import operations as orgs

        orgs.update_organisation(None, self.rcit,
                                 name_in_statements="the Revolutionary Communist International Tendency (RCIT)")
        orgs.update_organisation(None, self.rsl, name_in_statements="the Revolutionary Socialist League (Kenya)")
        db.session.commit()
        self.coordinator = factories.member(self.rcit, "delegate", name="Cora Coordinator")
        self.sig_rcit = factories.member(self.rcit, "signatory", name="Rita Signer")
        self.sig_rsl = factories.member(self.rsl, "signatory", name="Sam Signer")
        self.sig_other = factories.member(self.other, "signatory", name="Otto Other")

    def signatories(self) -> list[archive.Signatory]:
        return [archive.Signatory(self.rcit, "Rita Signer", "International Secretary"),
                archive.Signatory(self.rsl, "Sam Signer", "General Secretary")]

    def record(self, text: str | None = None, **kw) -> archive.Archived:
        made = archive.record_archived_statement(
            self.coordinator, text=text if text is not None else PASTED.read_text(encoding="utf-8"),
            coordinator_organisation=kw.pop("coordinator_organisation", self.rcit),
            signatories=kw.pop("signatories", None) or self.signatories(),
            publication_date=kw.pop("publication_date", date(2022, 2, 21)), now=kw.pop("now", RECORDED_ON))
        db.session.commit()
        return made


@pytest.fixture
def orgs(app) -> Orgs:
    return Orgs()


def counts() -> tuple:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Statement, Publication, PublicationArtefact, RecordedSignature, AuditEntry))


@needs_reference
def test_reference_statement_archived_publishes_a_byte_identical_txt(orgs, client):
    """The real statement pasted with its stray 'and', names in statements set, dated 21 February 2022: the
    .txt is byte for byte the published reference."""
    made = orgs.record()
    response = client.get(f"/p/{made.publication.slug}.txt")
    assert response.status_code == 200
    assert response.data == PUBLISHED.read_bytes()
    assert any("“and”" in note for note in made.notes)  # the stray word after the date, dropped and said so
    assert not any("names in statements" in note for note in made.notes)  # the line matched the names given


@needs_reference
def test_reference_statement_archived_through_the_api(orgs, client):
    """POST /api/v1/statements/archive gives the same byte-identical .txt and lists the recorded signatures."""
    api = Api(client, make_token(orgs.coordinator))
    response = api.post("/statements/archive", json={
        "text": PASTED.read_text(encoding="utf-8"), "publication_date": "2022-02-21",
        "coordinator_organisation": "rcit",
        "signatories": [
            {"organisation": "rcit", "signer_name": "Rita Signer", "signer_title": "International Secretary"},
            {"organisation": "rsl-kenya", "signer_name": "Sam Signer", "signer_title": "General Secretary"}],
    })
    assert response.status_code == 201, response.get_json()
    payload = response.get_json()
    assert payload["archived"] is True and payload["publication_date"] == "2022-02-21"
    assert [r["status"] for r in payload["recorded_signatures"]] == ["recorded", "recorded"]
    assert client.get(f"/p/{payload['slug']}.txt").data == PUBLISHED.read_bytes()


def test_api_archive_refuses_bad_input_and_changes_nothing(orgs, client):
    """Missing signatories, an unknown organisation, a bad date: a clear 4xx and no row written."""
    api = Api(client, make_token(orgs.coordinator))
    before = counts()
    text = "A Title\n\n1. One paragraph.\n"
    for body, status in (
        ({"text": text, "publication_date": "2022-02-21"}, 422),
        ({"text": text, "publication_date": "2022-02-21",
          "signatories": [{"organisation": "nope", "signer_name": "X"}]}, 404),
        ({"text": text, "publication_date": "21/02/2022",
          "signatories": [{"organisation": "rcit", "signer_name": "X"}]}, 422),
        ({"text": text, "publication_date": "2999-01-01",
          "signatories": [{"organisation": "rcit", "signer_name": "X"}]}, 422),
    ):
        response = api.post("/statements/archive", json=body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["error"]["message"]
    assert counts() == before


@needs_reference
def test_every_page_and_file_but_the_text_says_the_signatures_were_recorded_not_made_here(orgs, client):
    """Page, certificate, Markdown, Word, PDF and manifest all say who recorded the signatures and when."""
    slug = orgs.record().publication.slug
    for path in (f"/p/{slug}", f"/p/{slug}/certificate"):
        page = client.get(path).get_data(as_text=True)
        assert "recorded by the coordinator" in page and "not made on Concord" in page, path
    assert NOTICE in client.get(f"/p/{slug}.md").get_data(as_text=True)
    document = docx.Document(io.BytesIO(client.get(f"/p/{slug}.docx").data))
    assert any(NOTICE in p.text for p in document.paragraphs)
    pages = PdfReader(io.BytesIO(client.get(f"/p/{slug}.pdf").data)).pages
    pdf_text = " ".join(" ".join(p.extract_text().split()) for p in pages)
    assert NOTICE in pdf_text and "not made on Concord" in pdf_text
    manifest = json.loads(client.get(f"/p/{slug}.json").data)
    assert manifest["archive"] == {"recorded_on": "2026-03-01", "recorded_by": "Cora Coordinator",
                                   "recorded_by_organisation": "Revolutionary Communist International Tendency"}
    assert [(s["signer_name"], s["signed_at"], s["recorded"]) for s in manifest["signatures"]] == [
        ("Rita Signer", None, True), ("Sam Signer", None, True)]
    assert verify_manifest(manifest, sealing.public_key()) == []
    assert set(manifest["files"]) == {"pdf", "docx", "md"}


def test_a_signatory_confirms_and_the_page_shows_it(orgs, client):
    """A signatory of the organisation confirms from their account; the next view of the page shows it."""
    made = orgs.record(text="Short Title\n\nJoint Statement of X, 1 May 2020\n\n1. Only words.\n",
                       publication_date=date(2020, 5, 1))
    slug = made.publication.slug
    assert "not yet confirmed by Revolutionary Socialist League" in client.get(f"/p/{slug}").get_data(as_text=True)
    browser = Browser(client)
    browser.login(orgs.sig_rsl.email)
    listing = client.get("/archive/recorded").get_data(as_text=True)
    assert "Short Title" in listing
    recorded = db.session.scalars(select(RecordedSignature).where(
        RecordedSignature.organisation_id == orgs.rsl.id)).one()
    response = browser.post(f"/archive/recorded/{recorded.id}", {f"r{recorded.id}-answer": "confirm"},
                            form_page="/archive/recorded")
    assert response.status_code == 302
    reader = client.application.test_client()  # the next view, by someone else
    assert "confirmed by Revolutionary Socialist League" in reader.get(f"/p/{slug}").get_data(as_text=True)
    assert "confirmed by Revolutionary Socialist League" in reader.get(f"/p/{slug}/certificate").get_data(as_text=True)


def test_a_dispute_is_shown_with_its_reason_and_the_coordinator_is_told(orgs, client):
    """A dispute needs a reason; it is shown beside the signature, and the coordinator gets a notification."""
    made = orgs.record(text="Short Title\n\n1. Only words.\n", publication_date=date(2020, 5, 1))
    recorded = made.publication.recorded_signatures[1]
    with pytest.raises(InvalidInput):
        archive.answer_recorded_signature(recorded, orgs.sig_rsl, confirm=False, reason="  ", now=RECORDED_ON)
    db.session.rollback()
    recorded = db.session.get(RecordedSignature, recorded.id)
    archive.answer_recorded_signature(recorded, orgs.sig_rsl, confirm=False, reason="We never signed <this>.",
                                      now=RECORDED_ON)
    db.session.commit()
    page = client.get(f"/p/{made.publication.slug}").get_data(as_text=True)
    assert "disputed by Revolutionary Socialist League on 1 March 2026: We never signed &lt;this&gt;." in page
    told = db.session.scalars(select(Notification).where(Notification.user_id == orgs.coordinator.id)).all()
    assert any(n.subject.startswith("Disputed: Revolutionary Socialist League") for n in told)


def test_only_a_signatory_of_the_organisation_may_answer(orgs, client):
    """Another organisation's signatory, a delegate, the coordinator: refused, nothing changes."""
    made = orgs.record(text="Short Title\n\n1. Only words.\n", publication_date=date(2020, 5, 1))
    recorded = made.publication.recorded_signatures[1]
    for person in (orgs.sig_other, orgs.coordinator, orgs.sig_rcit):
        with pytest.raises(NotAllowed):
            archive.answer_recorded_signature(recorded, person, confirm=True, now=RECORDED_ON)
        db.session.rollback()
    assert db.session.get(RecordedSignature, recorded.id).status == "recorded"
    browser = Browser(client)
    browser.login(orgs.sig_other.email)
    response = browser.post(f"/archive/recorded/{recorded.id}", {f"r{recorded.id}-answer": "confirm"},
                            form_page="/archive/recorded")
    assert response.status_code == 404


@pytest.mark.parametrize("change", ["future date", "coordinator outside", "named twice", "no signer name",
                                    "no date anywhere", "no signatories"])
def test_bad_records_are_refused_and_change_nothing(orgs, change):
    """Each wrong input gets a message and writes nothing."""
    before = counts()
    kw: dict = {}
    text = "Short Title\n\n1. Only words.\n"
    if change == "future date":
        kw["publication_date"] = date(2026, 3, 2)
    elif change == "coordinator outside":
        kw["coordinator_organisation"] = orgs.other
        orgs.coordinator = factories.member(orgs.other, "delegate")
        before = counts()
    elif change == "named twice":
        kw["signatories"] = [archive.Signatory(orgs.rcit, "A", ""), archive.Signatory(orgs.rcit, "B", "")]
    elif change == "no signer name":
        kw["signatories"] = [archive.Signatory(orgs.rcit, " ", "Chair")]
    elif change == "no date anywhere":
        kw["publication_date"] = None
    elif change == "no signatories":
        kw["signatories"] = []
        with pytest.raises(InvalidInput):
            archive.record_archived_statement(orgs.coordinator, text=text, coordinator_organisation=orgs.rcit,
                                              signatories=[], publication_date=date(2020, 1, 1), now=RECORDED_ON)
        db.session.rollback()
        assert counts() == before
        return
    with pytest.raises(InvalidInput) as raised:
        orgs.record(text=text, **kw)
    assert raised.value.message
    db.session.rollback()
    assert counts() == before


def test_only_a_delegate_of_the_coordinating_organisation_may_record(orgs):
    """Someone who is not a delegate of the organisation they record for is refused."""
    before = counts()
    with pytest.raises(NotAllowed):
        archive.record_archived_statement(orgs.sig_rsl, text="T\n\n1. Words.\n", coordinator_organisation=orgs.rsl,
                                          signatories=orgs.signatories(), publication_date=date(2020, 1, 1),
                                          now=RECORDED_ON)
    db.session.rollback()
    assert counts() == before


@needs_reference
def test_coordinator_records_through_the_web_form(orgs, client):
    """The form: pasted text, organisations in order with their signers, the date; lands on the public page."""
    browser = Browser(client)
    browser.login(orgs.coordinator.email)
    form = {
        "text": PASTED.read_text(encoding="utf-8"), "coordinator_organisation": str(orgs.rcit.id),
        "publication_date": "2022-02-21",
        "signatories-0-organisation": str(orgs.rcit.id), "signatories-0-signer_name": "Rita Signer",
        "signatories-0-signer_title": "International Secretary",
        "signatories-1-organisation": str(orgs.rsl.id), "signatories-1-signer_name": "Sam Signer",
        "signatories-1-signer_title": "General Secretary",
    }
    response = browser.post("/statements/archive", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    slug = response.headers["Location"].rsplit("/p/", 1)[1]
    assert client.get(f"/p/{slug}.txt").data == PUBLISHED.read_bytes()
    page = client.get(f"/p/{slug}").get_data(as_text=True)
    assert "Recorded and published" in page


def test_the_web_form_shows_errors_and_changes_nothing(orgs, client):
    """A record without a date anywhere: 422 with the message, nothing written."""
    browser = Browser(client)
    browser.login(orgs.coordinator.email)
    before = counts()
    response = browser.post("/statements/archive", {
        "text": "Title\n\n1. Words.\n", "coordinator_organisation": str(orgs.rcit.id),
        "signatories-0-organisation": str(orgs.rcit.id), "signatories-0-signer_name": "Rita Signer"})
    assert response.status_code == 422
    assert "Give the date on which the statement was first published." in response.get_data(as_text=True)
    assert counts() == before
