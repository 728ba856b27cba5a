"""The published PDF, read back with pypdf, and its PAdES signature checked with pyHanko (issue 15, items 1-2).

Pure tests: no app, no database. The PDF is made as at publication (``artefacts.pdf``): typeset by
WeasyPrint, then signed with an instance key made in a temporary folder.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date

import pytest
from pypdf import PdfReader

from app.publishing import artefacts, pdf_signing
from app.publishing.formats import PublicationData
from app.publishing.text import plain_text

URL = "https://concord.example/p/rivers-for-all"
ORGS = ["the Friends of the River Association (FRA)", "Union of Small Farmers"]
SIGNERS = [("Ana Silva", "Director", "Friends of the River Association"),
           ("Kofi Mensah", "General Secretary", "Union of Small Farmers")]
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _word(n: int) -> str:
    """A word naming ``n`` without digits, so that no paragraph text looks like a number."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = LETTERS[r] + out
    return "w" + out


def paragraphs(count: int) -> list[str]:
    """``count`` paragraphs of distinct words; some long enough to wrap, one with a line break."""
    made = []
    for n in range(count):
        words = [_word(n), "rivers", "belong", "to", "everyone", "along", "them"] + ["and", "water"] * (n % 4) * 6
        made.append(" ".join(words) + ".")
    if count > 2:
        made[2] = made[2] + "\nA second line of the third paragraph."
    return made


def publication_data(count: int) -> PublicationData:
    texts = paragraphs(count)
    published = date(2026, 3, 1)
    text = plain_text("Rivers for All", ORGS, published, texts)
    version_sha = "ab" * 32
    return PublicationData(
        title="Rivers for All", slug="rivers-for-all", publication_date=published, version_number=4,
        version_sha256=version_sha, sha256=hashlib.sha256(text.encode()).hexdigest(), text=text, paragraphs=texts,
        organisations=ORGS, url=URL,
        signatures=[{"organisation": org, "organisation_slug": f"o{i}", "signer_name": name, "signer_title": title,
                     "signed_at": f"2026-02-2{i}T09:30:00+00:00", "version_sha256": version_sha}
                    for i, (name, title, org) in enumerate(SIGNERS, start=1)],
    )


INSTANCE: list = []


@pytest.fixture(scope="module", autouse=True)
def configured(tmp_path_factory):
    INSTANCE[:] = [tmp_path_factory.mktemp("instance")]
    pdf_signing.configure(INSTANCE[0])
    artefacts.configure("https://concord.example")


_PDFS: dict[int, bytes] = {}


def made_pdf(count: int) -> bytes:
    if count not in _PDFS:
        _PDFS[count] = artefacts.pdf(publication_data(count))
    return _PDFS[count]


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def body_lines(pages: list[str]) -> list[str]:
    """Every line of every page, without the running head and footer (read separately)."""
    lines = []
    for n, text in enumerate(pages):
        for line in text.split("\n"):
            if re.fullmatch(r"Page \d+ of \d+|SHA-256 [0-9a-f]{64}|" + re.escape(URL), line):
                continue
            if n > 0 and line == "Rivers for All":  # the running head of pages after the first
                continue
            lines.append(line)
    return lines


@pytest.mark.parametrize("count", [1, 9, 10, 300])
def test_pdf_reads_back_numbered_once_in_order_with_every_word(count):
    """Title, signatory line, each paragraph numbered once on the line of its first words, in order, every word."""
    data = publication_data(count)
    pages = page_texts(made_pdf(count))
    lines = body_lines(pages)
    flowing = " ".join(" ".join(lines).split())
    assert flowing.startswith("Rivers for All Joint Statement of the Friends of the River Association (FRA) and Union "
                              "of Small Farmers, 1 March 2026 1. ")
    numbered = [line for line in lines if re.match(r"\d+\.", line)]
    assert [int(line.split(".")[0]) for line in numbered] == list(range(1, count + 1))
    for n, line in enumerate(numbered, start=1):
        assert line.startswith(f"{n}. {_word(n - 1)} rivers belong"), line  # the number beside its first words
    assert not any(re.fullmatch(r"\d+\.?", line.strip()) for line in lines)  # never a number on its own line
    position = flowing.index("1 March 2026")
    for n, text in enumerate(data.paragraphs, start=1):
        expected = f"{n}. " + " ".join(text.split())
        found = flowing.find(expected, position)
        assert found > position, f"paragraph {n} is missing or out of order"
        position = found + len(expected)
    rest = flowing[position:]
    assert rest.index("Ana Silva") < rest.index("Kofi Mensah")  # the signatures come after the paragraphs
    assert "General Secretary" in rest and "Union of Small Farmers" in rest


@pytest.mark.parametrize("count", [1, 300])
def test_every_page_has_page_numbers_the_hash_and_the_address_in_its_footer(count):
    """'Page i of N', the plain text's SHA-256 and the public address on every page."""
    data = publication_data(count)
    pages = page_texts(made_pdf(count))
    assert (len(pages) > 1) == (count == 300)
    for i, text in enumerate(pages, start=1):
        assert f"Page {i} of {len(pages)}" in text
        assert f"SHA-256 {data.sha256}" in text
        assert URL in text


def _drawn_images(page) -> list[str]:
    return [m.decode() for m in re.findall(rb"/([A-Za-z0-9]+) Do", page.get_contents().get_data())]


@pytest.mark.parametrize("count", [1, 10])
def test_the_last_page_carries_the_qr_code_of_the_public_address(count):
    """The QR code on the last page (and only there) reads back as the public address's code, module for module."""
    import segno

    reader = PdfReader(io.BytesIO(made_pdf(count)))
    assert all(not _drawn_images(page) for page in reader.pages[:-1])
    last = reader.pages[-1]
    [name] = _drawn_images(last)
    image = next(i.image for i in last.images if i.name.startswith(name)).convert("L")
    matrix = segno.make(URL, error="m", micro=False).matrix
    size, border = len(matrix), 4
    scale = image.size[0] // (size + 2 * border)
    assert image.size == ((size + 2 * border) * scale,) * 2
    read = [[image.getpixel(((border + c) * scale + scale // 2, (border + r) * scale + scale // 2)) < 128
             for c in range(size)] for r in range(size)]
    assert read == [[bool(v) for v in row] for row in matrix]
    assert URL in last.extract_text()


# --- the PDF signature ---------------------------------------------------------------------------


def _validate(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    [signature] = reader.embedded_signatures
    trusted = pdf_signing._asn1(pdf_signing.certificate())
    return signature, pdf_signing.outside_event_loop(
        lambda: validate_pdf_signature(signature, ValidationContext(trust_roots=[trusted])))


def test_pdf_is_signed_pades_by_the_platform_and_validates_unmodified():
    """pyHanko's validator: intact, valid, the whole file covered, PAdES, signed by the platform's certificate."""
    signature, status = _validate(made_pdf(1))
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES baseline
    assert status.signing_cert.sha256 == pdf_signing._asn1(pdf_signing.certificate()).sha256
    assert status.md_algorithm == "sha256"


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_a_changed_byte_fails_validation(where):
    """One byte changed inside the signed range: the validator no longer finds the file intact."""
    pdf = bytearray(made_pdf(1))
    signature, _ = _validate(bytes(pdf))
    start, length, second, second_length = signature.byte_range
    candidates = [i for i in range(len(pdf)) if start <= i < start + length or second <= i < second + second_length]
    index = candidates[int(len(candidates) * where)]
    pdf[index] ^= 0x01
    try:
        _, status = _validate(bytes(pdf))
    except Exception:  # noqa: BLE001 - a file broken where pyHanko must parse it fails too
        return
    assert not status.intact or not status.valid


def test_instance_key_is_made_once_and_kept(tmp_path):
    """The self-signed certificate is created at first use (mode 0600) and the same one is used afterwards."""
    import os
    import stat

    first = pdf_signing.load_or_create(tmp_path)[1]
    path = tmp_path / pdf_signing.KEY_FILENAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = pdf_signing.load_or_create(tmp_path)[1]
    assert first == again
    assert os.listdir(tmp_path) == [pdf_signing.KEY_FILENAME]


def test_operator_pkcs12_certificate_signs_when_configured(tmp_path):
    """With PDF_SIGNING_PKCS12 and its password the PDF is signed by the operator's certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    pem = pdf_signing.self_signed_pem("Operator Example")
    key = serialization.load_pem_private_key(pem, password=None)
    certificate = x509.load_pem_x509_certificate(pem)
    path = tmp_path / "operator.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"operator", key, certificate, None, serialization.BestAvailableEncryption(b"s3cret pass")))
    try:
        pdf_signing.configure(tmp_path / "unused", pkcs12_path=str(path), password="s3cret pass")
        assert pdf_signing.certificate() == certificate
        from app.publishing.formats import to_pdf

        signed = pdf_signing.sign_pdf(to_pdf("<p>Operator test</p>"), reason="test")
        _, status = _validate(signed)
        assert status.intact and status.valid
        assert not (tmp_path / "unused" / pdf_signing.KEY_FILENAME).exists()
        pdf_signing.configure(tmp_path / "unused", pkcs12_path=str(path), password="wrong")
        with pytest.raises(RuntimeError, match="PDF_SIGNING_PKCS12"):
            pdf_signing.certificate()
    finally:
        pdf_signing.configure(INSTANCE[0])
