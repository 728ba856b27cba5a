"""Web tests of statement languages, the side-by-side translation page, freezing with authentic
translations and signing them (issue 14, items 2 and 3)."""

from __future__ import annotations

import html
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Signature, StatementLanguage, TranslationText
from app.translating import operations as translating
from tests.test_web_signing import World, now, page_text, reload

DE_TITLE = "Flüsse für alle"
DE = ("Flüsse gehören allen, die an ihnen leben.", "Dämme dürfen nicht ohne die Zustimmung des Tals gebaut werden.",
      "Wir treffen uns nach den Frühjahrsfluten wieder.")


@pytest.fixture
def world(app) -> World:
    made = World(app)
    made.open()
    return made


def _languages(world):
    return f"/statements/{world.sid}/languages"


def _page(world, tag="de"):
    return f"/statements/{world.sid}/translations/{tag}"


def _ids(world):
    state = translating.translation_state(world.st(), "none")
    return [(p.paragraph_id, p.source_revision_id) for p in state.paragraphs]


def _form(world, texts=DE, title=DE_TITLE, save="all"):
    data = {"save": save, "title": title, "title_source": world.st().title}
    for (pid, rid), text in zip(_ids(world), texts, strict=True):
        data[f"p{pid}"] = text
        data[f"r{pid}"] = str(rid)
    return data


def _count(model) -> int:
    reload()
    return db.session.scalar(select(func.count()).select_from(model))


def test_coordinator_adds_a_language_and_a_delegate_translates_side_by_side(world):
    coordinator = world.browser(world.coordinator)
    response = coordinator.post(_languages(world), {"language": "de"})
    assert response.status_code == 302 and response.headers["Location"].endswith(_page(world))
    delegate = world.browser(world.delegate_gva)
    page = page_text(delegate.get(_page(world)))
    assert "Translation into German (de)" in page and 'lang="de" dir="ltr"' in page
    assert "Rivers belong to everyone" in page
    response = delegate.post(_page(world), _form(world))
    assert response.status_code == 302
    reload()
    state = translating.translation_state(world.st(), "de")
    assert state.ready and state.title == DE_TITLE
    # One paragraph saved alone: only it is written.
    pid = _ids(world)[1][0]
    form = _form(world, (DE[0], "Dämme werden nur mit Zustimmung des Tals gebaut.", DE[2]), save=str(pid))
    assert delegate.post(_page(world), form).status_code == 302
    assert _count(TranslationText) == 5


def test_right_to_left_languages_get_dir_rtl(world):
    world.browser(world.coordinator).post(_languages(world), {"language": "ar"})
    page = page_text(world.browser(world.delegate_gva).get(_page(world, "ar")))
    assert 'lang="ar" dir="rtl"' in page


def test_bad_input_gets_a_message_and_changes_nothing(world):
    coordinator = world.browser(world.coordinator)
    response = coordinator.post(_languages(world), {"language": "<b>xx</b>"})
    assert response.status_code == 422 and "tag such as" in page_text(response)
    assert "<b>xx</b>" not in page_text(response)
    assert _count(StatementLanguage) == 0
    coordinator.post(_languages(world), {"language": "de"})
    delegate = world.browser(world.delegate_gva)
    form = _form(world, ("<script>alert(1)</script>", "Zwei \x07", DE[2]))
    response = delegate.post(_page(world), form)
    assert response.status_code == 422 and "control character" in page_text(response)
    assert "<script>alert(1)</script>" not in page_text(response)
    assert html.escape("<script>alert(1)</script>") in page_text(response)  # shown again, escaped
    assert _count(TranslationText) == 0
    # A stale form (the source paragraph's revision is not the current one).
    form = _form(world)
    pid, rid = _ids(world)[0]
    form[f"r{pid}"] = str(rid + 999)
    response = delegate.post(_page(world), form)
    assert response.status_code == 422 and "changed since you opened the page" in page_text(response)
    # No CSRF token.
    response = delegate.client.post(_page(world), data=_form(world))
    assert response.status_code in (400, 422)
    assert _count(TranslationText) == 0


def test_permissions_are_checked_on_the_server(world):
    world.browser(world.coordinator).post(_languages(world), {"language": "de"})
    signatory = world.browser(world.sig_gva)
    assert signatory.get(_page(world)).status_code == 200  # a member reads
    assert signatory.post(_page(world), _form(world), form_page=_page(world)).status_code == 403
    assert signatory.post(_languages(world), {"language": "es"}, form_page=_languages(world)).status_code == 403
    outsider = world.browser(world.outsider)
    assert outsider.get(_page(world)).status_code == 404
    assert world.browser(world.delegate_gva).get(_page(world, "fr")).status_code == 404
    assert _count(TranslationText) == 0


def test_outdated_paragraph_shows_the_source_diff(world):
    from app.amending import operations as amending

    world.browser(world.coordinator).post(_languages(world), {"language": "de"})
    delegate = world.browser(world.delegate_gva)
    delegate.post(_page(world), _form(world))
    reload()
    pid = _ids(world)[1][0]
    amendment = amending.propose(world.st(), world.delegate_gva, world.gva, kind="modify", paragraph_id=pid,
                                 text="Dams must never be built without the consent of the valley.", now=now())
    db.session.commit()
    amending.accept(amendment, world.coordinator, text_version=amendment.text_version, now=now())
    db.session.commit()
    page = page_text(delegate.get(_page(world)))
    assert "1 outdated" in page and "<ins>never</ins>" in page


def test_freeze_with_authentic_translation_and_sign_it(world):
    coordinator = world.browser(world.coordinator)
    coordinator.post(_languages(world), {"language": "de"})
    world.browser(world.delegate_gva).post(_page(world), _form(world, texts=DE[:2] + ("",)))
    freeze = f"/statements/{world.sid}/freeze"
    response = coordinator.post(freeze, {"authentic_languages": "de"})
    assert "paragraph 3 is not translated" in page_text(response)
    world.browser(world.delegate_gva).post(_page(world), _form(world))
    assert "German (de)" in page_text(coordinator.get(freeze))
    response = coordinator.post(freeze, {"authentic_languages": "de"})
    assert response.status_code == 302
    reload()
    sha = translating.frozen_hashes(world.st())["de"]
    signer = world.browser(world.sig_gva)
    sign = f"/statements/{world.sid}/sign"
    page = page_text(signer.get(sign))
    assert sha in page and DE[0] in page and f"de={sha}" in page
    base = {"organisation": str(world.gva.id), "signer_name": "Gus Green", "signer_title": "Chair",
            "authorised": "y", "password": "correct horse battery",
            "version_sha256": world.st().frozen_version.sha256}
    stale = signer.post(sign, {**base, "translation_sha256": "de=" + "0" * 64})
    assert stale.status_code == 422 and "authentic texts changed" in page_text(stale)
    assert _count(Signature) == 0
    assert signer.post(sign, {**base, "translation_sha256": f"de={sha}"}).status_code == 302
    reload()
    assert json.loads(db.session.scalars(select(Signature.translation_sha256)).one()) == {"de": sha}


def test_coordinator_publishes_a_translation_after_publication(world):
    world.browser(world.coordinator).post(_languages(world), {"language": "de"})
    reload()
    from app.signing import operations as signing

    signing.freeze(world.st(), world.coordinator, now=now())
    db.session.commit()
    for key in ("hwu", "gva", "tnn"):
        world.sign(key)
    world.publish()
    delegate = world.browser(world.delegate_gva)
    assert delegate.post(_page(world), _form(world)).status_code == 302
    coordinator = world.browser(world.coordinator)
    assert "Publish, not authentic" in page_text(coordinator.get(_languages(world)))
    response = coordinator.post(f"/statements/{world.sid}/languages/de/publish", form_page=_languages(world))
    assert response.status_code == 302 and response.headers["Location"].endswith(".de")
    page = page_text(coordinator.get(_languages(world)))
    assert "Published</a>, not authentic" in page
    assert delegate.post(_page(world), _form(world, title="Anders")).status_code == 422  # never changes


def test_a_right_to_left_source_is_shown_rtl_and_the_next_view_shows_the_change(world):
    coordinator = world.browser(world.coordinator)
    show = f"/statements/{world.sid}"
    first = coordinator.get(show)
    assert 'lang="en" dir="ltr"' in page_text(first)
    response = coordinator.post(_languages(world), {"source_language": "ar"})
    assert response.status_code == 302
    again = coordinator.get(show, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and 'lang="ar" dir="rtl"' in page_text(again)
