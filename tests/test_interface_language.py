"""Which language the interface speaks: the account's choice, else the visitor's (footer, cookie), else the
browser's Accept-Language, else English; and messages from the rules in that language."""

from __future__ import annotations

from app.extensions import db
from app.models import User
from tests.conftest import csrf_token, factories

FOOTER = {
    "en": "Concord: joint statements, written together",
    "de": "Concord: gemeinsame Erklärungen",
    "es": "Concord: declaraciones conjuntas",
    "fr": "Concord : des déclarations communes",
}


def spoken(response) -> str:
    text = response.get_data(as_text=True)
    found = [tag for tag, words in FOOTER.items() if words in text]
    assert len(found) == 1, found
    assert f'<html lang="{found[0]}">' in text
    return found[0]


def test_a_visitor_gets_the_best_language_of_their_browser_else_english(client, admin):
    assert spoken(client.get("/login")) == "en"
    assert spoken(client.get("/login", headers={"Accept-Language": "de-CH, de;q=0.9, en;q=0.5"})) == "de"
    assert spoken(client.get("/login", headers={"Accept-Language": "pt-BR, es;q=0.8, fr;q=0.5"})) == "es"
    assert spoken(client.get("/login", headers={"Accept-Language": "sw, ja"})) == "en"


def test_the_footer_chooser_keeps_the_visitors_choice_over_the_browsers(browser, admin):
    response = browser.post("/language", {"language": "fr", "next": "/login"}, form_page="/login")
    assert response.status_code == 303 and response.headers["Location"].endswith("/login")
    assert spoken(browser.get("/login", headers={"Accept-Language": "de"})) == "fr"


def test_a_visitors_choice_is_a_get_that_sets_only_a_cookie_and_reading_makes_no_session(client, admin):
    page = client.get("/about/seal")
    assert "Set-Cookie" not in page.headers  # the footer's form needs no session for a visitor
    assert 'method="get" action="/language"' in page.get_data(as_text=True)
    response = client.get("/language?language=de&next=/about/seal")
    assert response.status_code == 303 and response.headers["Location"].endswith("/about/seal")
    assert [c.split("=")[0] for c in response.headers.getlist("Set-Cookie")] == ["concord_lang"]
    assert spoken(client.get("/about/seal")) == "de"


def test_a_logged_in_persons_get_changes_only_the_cookie(app, browser, admin):
    """A link cannot change an account: only the POST form (with its token) does."""
    person = factories.member(factories.organisation("Harbour Workers"), "delegate", email="bo@example.org")
    browser.login(person.email)
    browser.get("/language?language=fr&next=/")
    db.session.expire_all()
    assert db.session.get(User, person.id).language is None


def test_an_unknown_language_or_a_missing_token_changes_nothing(browser, client, admin):
    browser.post("/language", {"language": "xx", "next": "/login"}, form_page="/login")
    assert spoken(client.get("/login")) == "en"
    assert client.post("/language", data={"language": "de"}).status_code == 400
    assert spoken(client.get("/login")) == "en"


def test_the_chooser_sets_a_logged_in_persons_account_and_the_account_wins_everywhere(app, browser, admin):
    org = factories.organisation("Harbour Workers")
    person = factories.member(org, "delegate", email="ana@example.org")
    browser.login(person.email)
    browser.post("/language", {"language": "es", "next": "/"}, form_page="/")
    db.session.expire_all()
    assert db.session.get(User, person.id).language == "es"
    browser.client.delete_cookie("concord_lang", domain="concord.test")
    assert spoken(browser.get("/account/", headers={"Accept-Language": "fr"})) == "es"


def test_an_error_from_the_rules_reads_in_the_viewers_language(browser, admin):
    """accounts.set_language refuses an unknown tag with a message the rules mark, not a Flask string."""
    from app.accounts.operations import set_language
    from app.errors import InvalidInput
    from app.i18n import in_language

    try:
        set_language(admin, "klingon")
    except InvalidInput as exc:
        assert exc.message == "Choose a language from the list."
        assert in_language(exc.raw_message, "de") == "Wählen Sie eine Sprache aus der Liste."
    else:
        raise AssertionError("an unknown language was accepted")


def test_the_chooser_needs_a_csrf_token_from_a_page(client, admin):
    token = csrf_token(client, "/login")
    response = client.post("/language", data={"language": "de", "next": "//evil.example/", "csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/"
