"""The verify pages, /verify and /p/<slug>/verify: is this copy exactly a published statement? (issue 15, item 5)"""

from __future__ import annotations

import html
import io
import re

import pytest

from tests.conftest import csrf_token
from tests.test_public import Published
from tests.test_web_signing import PARAGRAPHS


@pytest.fixture
def pub(app) -> Published:
    return Published(app)


def check(client, path: str, *, text: str | None = None, file: tuple[bytes, str] | None = None):
    data = {"csrf_token": csrf_token(client, path)}
    if text is not None:
        data["text"] = text
    if file is not None:
        data["file"] = (io.BytesIO(file[0]), file[1])
    response = client.post(path, data=data, content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def verdicts(page: str) -> list[str]:
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", m)).split())
            for m in re.findall(r'<p class="verdict[^"]*">(.*?)</p>', page, re.S)]


def changes(page: str) -> list[tuple[str, str]]:
    return re.findall(r"<li><h3>(.*?)</h3><p class=\"diff\">(.*?)</p></li>", page, re.S)


@pytest.mark.parametrize("path", ["/verify", "/p/{slug}/verify"])
@pytest.mark.parametrize("ext", ["txt", "pdf", "json", "docx", "md"])
def test_a_published_file_dropped_is_identical_with_who_signed_and_when(pub, client, path, ext):
    """Each published format, uploaded, is found byte-identical: which statement, signed by whom, when."""
    data = client.get(f"/p/{pub.slug}.{ext}").data
    status, page = check(client, path.format(slug=pub.slug), file=(data, f"copy.{ext}"))
    assert status == 200
    [said] = verdicts(page)
    assert said.startswith("Identical: this file is byte for byte the ") and "Rivers for Everyone" in said
    for signer in ("Hana Harbour", "Gus Green", "Tom Tenant"):
        assert signer in page
    assert "21 February 2022" in page


def test_the_plain_text_pasted_is_identical(pub, client):
    """Pasting the .txt exactly: identical."""
    text = client.get(f"/p/{pub.slug}.txt").get_data(as_text=True)
    _, page = check(client, "/verify", text=text)
    assert verdicts(page)[0].startswith("Identical: this text is byte for byte the plain text of")


def test_text_copied_from_a_website_is_the_same_text(pub, client):
    """Copied from a web page: CR line ends, spaces at line ends, extra blank lines; the same words."""
    text = client.get(f"/p/{pub.slug}.txt").get_data(as_text=True)
    copied = text.replace("\n\n", "  \n\n\n").replace("\n", "\r")
    _, page = check(client, "/verify", text=copied)
    assert verdicts(page)[0].startswith("The same text: every word and paragraph is that of")


def test_a_reposted_copy_with_one_sentence_changed_shows_exactly_that_sentence(pub, client):
    """A copy with one sentence changed: 'Not the published text', and the diff of that paragraph only."""
    text = client.get(f"/p/{pub.slug}.txt").get_data(as_text=True)
    altered = text.replace("Dams must not be built without the consent of the valley.",
                           "Dams may be built without asking the valley.")
    _, page = check(client, "/verify", text=altered)
    assert verdicts(page)[0].startswith("Not the published text: 1 part differ")
    [(label, diff)] = changes(page)
    assert label == "Paragraph 2"
    assert "<ins>" in diff and "<del>" in diff
    assert re.sub(r"<del>.*?</del>|<ins>|</ins>", "", diff) == "Dams may be built without asking the valley."
    published = "Dams must not be built without the consent of the valley."
    assert re.sub(r"<ins>.*?</ins>|<del>|</del>", "", diff) == published


def test_an_altered_copy_without_title_or_numbers_is_matched_by_its_words(pub, client):
    """Only the paragraphs, unnumbered, one word changed: /verify finds the statement by its words."""
    copy = "\n\n".join(PARAGRAPHS).replace("spring floods", "autumn floods")
    _, page = check(client, "/verify", text=copy)
    assert "Rivers for Everyone" in page
    assert any("<del>spring</del>" in diff and "<ins>autumn</ins>" in diff for _, diff in changes(page))


def test_the_page_of_one_statement_compares_with_that_statement(pub, client):
    """/p/<slug>/verify compares with its own statement even when the title is changed."""
    text = client.get(f"/p/{pub.slug}.txt").get_data(as_text=True).replace("Rivers for Everyone", "Rivers for Some")
    _, page = check(client, f"/p/{pub.slug}/verify", text=text)
    [(label, diff)] = changes(page)
    assert label == "Title" and "<del>Everyone</del>" in diff and "<ins>Some</ins>" in diff


def test_a_text_like_no_publication_is_said_so(pub, client):
    """Unrelated text: no published statement resembles it."""
    _, page = check(client, "/verify", text="Completely different words about mountains and goats.")
    assert "No published statement resembles this text." in verdicts(page)


def test_a_pdf_changed_after_signing_is_reported(pub, client):
    """A published PDF with a byte changed: not identical, and its signature says it was changed."""
    data = bytearray(client.get(f"/p/{pub.slug}.pdf").data)
    marker = data.index(b"/Producer")
    data[marker + 1] = ord("Q")
    _, page = check(client, "/verify", file=(bytes(data), "copy.pdf"))
    assert "not byte-identical to any PDF that Concord published" in page
    assert "was changed after it was signed" in page


def test_a_published_manifest_reformatted_is_intact_but_not_the_same_bytes(pub, client):
    """The manifest saved with another layout: intact and sealed by this platform, not byte-identical."""
    import json

    manifest = json.loads(client.get(f"/p/{pub.slug}.json").data)
    _, page = check(client, "/verify", file=(json.dumps(manifest).encode(), "m.json"))
    assert verdicts(page)[0].startswith("This manifest is intact and sealed by this platform, but it is not byte "
                                        "for byte the one published for")


def test_nothing_sent_is_a_422_with_a_message(pub, client):
    """Neither a file nor text: the form says what to do."""
    status, page = check(client, "/verify")
    assert status == 422 and "Choose a file, or paste the text you want to check." in page


def test_uploaded_markup_is_escaped_in_the_diff(pub, client):
    """A copy carrying HTML shows it as text in the diff."""
    text = client.get(f"/p/{pub.slug}.txt").get_data(as_text=True)
    _, page = check(client, f"/p/{pub.slug}/verify",
                    text=text.replace("spring floods", "<script>alert(1)</script> floods"))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_the_seal_and_certificate_pages_explain_in_plain_words_without_source_code(pub, client):
    """No instructions about verify.py or flask commands; a link to the verify page instead."""
    for path in ("/about/seal", f"/p/{pub.slug}/certificate"):
        page = client.get(path).get_data(as_text=True)
        assert "verify.py" not in page and "flask statements" not in page and "python" not in page.lower(), path
        assert 'href="/verify"' in page or f'href="/p/{pub.slug}/verify"' in page, path
        assert "browser" in page, path
