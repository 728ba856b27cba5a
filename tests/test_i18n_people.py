"""The people's pages (log in, account, organisations, members, invitations, notifications, home) in German,
Spanish and French; rule errors in the viewer's language; the account's language setting; and every e-mail in
its recipient's language, read back from a real SMTP server."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from babel.messages.extract import extract_from_file
from sqlalchemy import select

from app.extensions import db
from app.models import Notification, User
from app.notifications import delivery, texts
from app.participation import invitations
from tests import factories
from tests.conftest import Browser
from tests.test_notifications import make_world
from tests.test_notifications_smtp import parts, send_due
from tests.test_notifications_smtp import smtp as smtp  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parent.parent


def text_of(response) -> str:
    """The page's visible words, tags dropped and blanks collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def logged_in(app, person) -> Browser:
    browser = Browser(app.test_client())
    browser.login(person.email)
    return browser


# --- pages -------------------------------------------------------------------------------------------


def test_the_login_page_in_each_language(client, admin):
    expected = {
        "de": ("Anmelden", "Passwort vergessen?", "Auf diesem Gerät angemeldet bleiben"),
        "es": ("Iniciar sesión", "¿Ha olvidado su contraseña?", "Mantener la sesión iniciada en este dispositivo"),
        "fr": ("Se connecter", "Mot de passe oublié ?", "Rester connecté·e sur cet appareil"),
    }
    for tag, words in expected.items():
        page = text_of(client.get("/login", headers={"Accept-Language": tag}))
        for word in words:
            assert word in page, (tag, word)
        assert "Forgot your password?" not in page and "Keep me logged in on this device" not in page
    assert "Forgot your password?" in text_of(client.get("/login"))


def test_a_wrong_password_is_told_in_spanish(browser, admin):
    response = browser.post("/login", {"email": admin.email, "password": "not the password at all"},
                            headers={"Accept-Language": "es"})
    assert "El correo o la contraseña no son correctos." in text_of(response)
    assert "is not correct" not in text_of(response)


def test_the_account_page_in_german_spanish_and_french(app, admin):
    person = factories.user(name="Lena Leser")
    browser = logged_in(app, person)
    for tag, words in {"de": ("Ihr Konto", "Passwort ändern", "Zeitzone", "Sprache meines Browsers", "API-Tokens"),
                       "es": ("Su cuenta", "Cambie su contraseña", "Zona horaria", "El idioma de mi navegador"),
                       "fr": ("Votre compte", "Changer votre mot de passe", "Fuseau horaire",
                              "La langue de mon navigateur", "Jetons d’API")}.items():
        page = text_of(browser.get("/account/", headers={"Accept-Language": tag}))
        for word in words:
            assert word in page, (tag, word)
        assert "Your account" not in page and "Change your password" not in page
        # The languages are offered in their own names, whatever the page's language.
        assert all(name in page for name in ("English", "Deutsch", "Español", "Français"))


def test_the_members_page_and_a_rule_error_in_spanish_and_french(app, admin):
    org = factories.organisation("Harbour Workers' Union", slug="hwu", short_name="HWU")
    boss = factories.member(org, "admin", name="Olga Org")
    browser = logged_in(app, boss)
    page = text_of(browser.get("/o/hwu/members", headers={"Accept-Language": "fr"}))
    assert "Membres" in page and "Inviter une nouvelle personne" in page and "Envoyer l’invitation" in page
    assert "Délégué·e" in page and "Signataire" in page and "Administrateur·rice de l’organisation" in page
    assert "Invite someone new" not in page and "Organisation admin" not in page
    # The rule (organisations.add_member) refuses an unknown address: its message reads in Spanish.
    response = browser.post("/o/hwu/members", {"add-email": "nobody@example.org", "add-roles": "delegate"},
                            form_page="/o/hwu/members", headers={"Accept-Language": "es"})
    assert response.status_code == 422
    page = text_of(response)
    assert "Ninguna cuenta usa nobody@example.org. Envíe una invitación en su lugar." in page
    assert "No account uses" not in page


def test_a_form_check_from_the_rules_reads_in_german(app):
    """The organisation's name is checked by the rules, with the name of the field translated too."""
    boss = factories.admin(name="Astrid Admin")
    browser = logged_in(app, boss)
    response = browser.post("/o/new", {"name": "Union", "short_name": "x" * 20, "slug": "Not A Slug!"},
                            headers={"Accept-Language": "de"})
    assert response.status_code in (200, 422)
    page = text_of(response)
    assert "Die Adresse darf Kleinbuchstaben, Ziffern und einzelne Bindestriche enthalten" in page


def test_the_home_page_waiting_list_in_german(app, admin, now):
    w = make_world(now)
    invitations.invite_organisation(w.statement, w.coordinator, organisation=w.outside, now=now)
    db.session.commit()
    page = text_of(logged_in(app, w.admin_out).get("/", headers={"Accept-Language": "de"}))
    assert "Wartet auf Sie" in page and "Ihre Organisationen" in page
    assert "Outside Collective ist zu „On Harbours“ eingeladen: annehmen oder ablehnen." in page
    assert "Waiting for you" not in page and "is invited to" not in page


def test_the_admin_pages_in_french(app):
    boss = factories.admin(name="Astrid Admin")
    browser = logged_in(app, boss)
    page = text_of(browser.get("/admin/invitations", headers={"Accept-Language": "fr"}))
    assert "Inviter une personne" in page and "Toutes les invitations" in page and "Pas encore d’invitations." in page
    assert "Invite a person" not in page
    browser.post("/admin/invitations", {"inv-email": "kofi@example.org"}, headers={"Accept-Language": "fr"})
    page = text_of(browser.get("/admin/invitations", headers={"Accept-Language": "fr"}))
    assert "ouverte" in page and "Renvoyer" in page and "Invité·e par Astrid Admin le" in page
    assert text_of(browser.get("/admin/users", headers={"Accept-Language": "fr"})).count("Personnes") >= 1


def test_the_too_many_attempts_page_in_german(app, admin, monkeypatch):
    from app.rate_limits import limiter_for

    monkeypatch.setitem(app.config, "RATELIMIT_LOGIN_PER_ACCOUNT", "1/minute")
    limiter_for(app).reset()
    try:
        browser = Browser(app.test_client())
        answers = [browser.post("/login", {"email": admin.email, "password": "wrong password, again"},
                                headers={"Accept-Language": "de"}) for _attempt in range(2)]
        assert answers[-1].status_code == 429
        page = text_of(answers[-1])
        assert "Zu viele Versuche; warten Sie eine Minute und versuchen Sie es erneut." in page
        assert "Too many attempts" not in page
    finally:
        limiter_for(app).reset()


# --- the account's language ---------------------------------------------------------------------------


def test_the_language_chosen_on_the_account_page_is_kept_and_wins_over_the_browser(app, admin):
    person = factories.user(name="Lena Leser")
    browser = logged_in(app, person)
    response = browser.post("/account/language", {"lang-language": "de"}, form_page="/account/")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, person.id).language == "de"
    page = browser.get("/account/", headers={"Accept-Language": "fr"})
    assert "Concord wird jetzt auf Deutsch angezeigt." in text_of(page)
    assert "Ihr Konto" in text_of(page)
    assert re.search(r'<option selected value="de">Deutsch</option>|<option value="de" selected>Deutsch</option>',
                     page.get_data(as_text=True))
    # Back to the browser's language.
    browser.post("/account/language", {"lang-language": ""}, form_page="/account/")
    db.session.expire_all()
    assert db.session.get(User, person.id).language is None
    assert "Votre compte" in text_of(browser.get("/account/", headers={"Accept-Language": "fr"}))


def test_an_unknown_language_is_refused_and_changes_nothing(app, admin):
    person = factories.user()
    browser = logged_in(app, person)
    response = browser.post("/account/language", {"lang-language": "tlh"}, form_page="/account/")
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, person.id).language is None


# --- notifications in the reader's language ------------------------------------------------------------


def test_a_notification_reads_in_each_readers_language(app, admin, now):
    w = make_world(now)
    invitations.invite_organisation(w.statement, w.coordinator, organisation=w.outside, now=now)
    db.session.commit()
    note = db.session.scalars(select(Notification).where(Notification.user_id == w.admin_out.id)).one()
    assert note.subject == "Invitation to a joint statement: On Harbours"  # the English is kept as it was
    assert texts.english(note.shown_subject) == note.subject  # outside a request: English
    german = text_of(logged_in(app, w.admin_out).get("/notifications", headers={"Accept-Language": "de"}))
    assert "Einladung zu einer gemeinsamen Erklärung: On Harbours" in german
    assert "Cora Coordinator (Harbour Workers' Union) lädt Ihre Organisation ein" in german
    assert "Invitation to a joint statement" not in german
    english = text_of(logged_in(app, w.del_out).get("/notifications"))
    assert "Invitation to a joint statement: On Harbours" in english


# --- e-mail in the recipient's language --------------------------------------------------------------------


def test_a_notification_is_mailed_in_the_recipients_language(app, now, smtp):
    w = make_world(now)
    w.admin_out.language = "de"
    w.del_out.language = "fr"
    db.session.commit()
    invitations.invite_organisation(w.statement, w.coordinator, organisation=w.outside, now=now)
    db.session.commit()
    send_due(now + timedelta(minutes=1))
    (german,) = smtp.to(w.admin_out.email)
    assert german["Subject"] == "Einladung zu einer gemeinsamen Erklärung: On Harbours"
    text, html_part = parts(german)
    assert "lädt Ihre Organisation ein, gemeinsam eine Erklärung zu schreiben" in text
    assert "Wählen Sie, welche E-Mails Sie erhalten und wie oft" in text
    assert "In Concord öffnen" in html_part and 'lang="de"' in html_part
    assert "Open in Concord" not in html_part
    (french,) = smtp.to(w.del_out.email)
    assert french["Subject"] == "Invitation à une déclaration commune : On Harbours"
    assert "Ouvrir dans Concord" in parts(french)[1]


def test_a_deadline_reminder_and_a_digest_in_german(app, now, smtp):
    from app.notifications import events

    deadline = now + timedelta(hours=12)
    w = make_world(now, deadline=deadline)
    for person in (w.del_b, w.del_c):
        person.language = "de"
    events.set_preferences(w.del_c, {"deadline": "digest"})
    db.session.commit()
    from tests.test_notifications import propose

    propose(w, w.del_a, w.a, "The harbour must stay open to every worker, every day.")
    from app.models import OutboxMessage

    db.session.query(OutboxMessage).delete()
    db.session.query(Notification).delete()
    db.session.commit()
    assert delivery.queue_deadline_reminders(now) == 1
    send_due(now)
    (immediate,) = smtp.to(w.del_b.email)
    assert immediate["Subject"] == "Änderungsanträge schließen in 24 Stunden: On Harbours"
    assert "Einige offene Änderungsanträge warten noch auf die Position Ihrer Organisation." in parts(immediate)[0]
    send_due(events.next_digest_time(now) + timedelta(minutes=1))
    (digest,) = smtp.to(w.del_c.email)
    assert digest["Subject"] == "Concord: 1 Neuigkeit zu 1 Erklärung"
    text, _html = parts(digest)
    assert "Ihre tägliche Concord-Zusammenfassung: 1 Neuigkeit" in text
    assert "Änderungsanträge schließen in 24 Stunden: On Harbours" in text


def test_an_invitation_to_someone_without_an_account_is_in_the_inviting_persons_language(app, smtp):
    boss = factories.admin(name="Astrid Admin")
    boss.language = "de"
    db.session.commit()
    browser = logged_in(app, boss)
    assert browser.post("/admin/invitations", {"inv-email": "kofi@example.org"}).status_code == 302
    # Without a language on the account: the one the inviting person reads Concord in (their browser's).
    other = factories.admin(name="Bruno Boss")
    browser = logged_in(app, other)
    assert browser.post("/admin/invitations", {"inv-email": "amelie@example.org"},
                        headers={"Accept-Language": "fr"}).status_code == 302
    send_due(datetime.now(UTC))
    (german,) = smtp.to("kofi@example.org")
    assert german["Subject"] == "Astrid Admin lädt Sie zu Concord ein"
    text, _html = parts(german)
    assert "Astrid Admin lädt Sie zu Concord ein; dort schreiben Organisationen" in text
    assert "er funktioniert einmal, 7 Tage lang" in text
    assert "Sie erhalten diese E-Mail, weil jemand dort Ihre Adresse eingegeben hat" in text
    (french,) = smtp.to("amelie@example.org")
    assert french["Subject"] == "Bruno Boss vous invite sur Concord"
    assert "il fonctionne une fois, pendant 7 jours" in parts(french)[0]


def test_an_invitation_into_an_organisation_names_the_roles_in_the_mails_language(app, admin, smtp):
    org = factories.organisation("Harbour Workers' Union", slug="hwu")
    boss = factories.member(org, "admin", name="Olga Org")
    boss.language = "es"
    db.session.commit()
    browser = logged_in(app, boss)
    response = browser.post("/o/hwu/invitations", {"inv-email": "kofi@example.org",
                                                   "inv-roles": ["delegate", "signatory"]},
                            form_page="/o/hwu/members")
    assert response.status_code == 302
    send_due(datetime.now(UTC))
    (mail,) = smtp.to("kofi@example.org")
    assert mail["Subject"] == "Olga Org le invita a Concord"
    assert ("Olga Org le invita a Concord como delegado/a y firmante de Harbour Workers' Union, donde las "
            "organizaciones") in parts(mail)[0]


def test_a_password_reset_mail_in_the_accounts_language(app, admin, smtp):
    person = factories.user(name="Lena Leser")
    person.language = "fr"
    db.session.commit()
    browser = Browser(app.test_client())
    assert browser.post("/forgot-password", {"email": person.email}).status_code == 200
    send_due(datetime.now(UTC))
    (mail,) = smtp.to(person.email)
    assert mail["Subject"] == "Réinitialisez votre mot de passe Concord"
    assert f"a demandé à réinitialiser le mot de passe du compte Concord {person.email}" in parts(mail)[0]


def test_mail_to_an_account_without_a_language_is_in_english(app, now, smtp):
    w = make_world(now)
    invitations.invite_organisation(w.statement, w.coordinator, organisation=w.outside, now=now)
    db.session.commit()
    send_due(now + timedelta(minutes=1))
    (mail,) = smtp.to(w.admin_out.email)
    assert mail["Subject"] == "Invitation to a joint statement: On Harbours"
    assert "Open in Concord" in parts(mail)[1]


# --- the catalogues ----------------------------------------------------------------------------------------


def test_the_macros_messages_are_extracted():
    """pybabel skips folders named _… unless told otherwise (`make translations` passes --ignore-dirs):
    every message of templates/_macros is in the catalogue template."""
    from babel.messages.pofile import read_po

    used = {message for path in sorted((ROOT / "templates" / "_macros").glob("*.html"))
            for _line, message, _comments, _context in extract_from_file("jinja2", str(path))}
    with (ROOT / "app" / "translations" / "messages.pot").open("rb") as f:
        listed = {m.id for m in read_po(f) if m.id}
    assert used and used <= listed, sorted(used - listed)


def test_counts_in_hints_follow_the_viewers_locale(app):
    from app.web.forms import PARAGRAPH_HINT

    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert str(PARAGRAPH_HINT) == "Höchstens 10.000 Zeichen."
    with app.app_context(), app.test_request_context("/"):
        assert str(PARAGRAPH_HINT) == "At most 10,000 characters."


def test_a_used_invitation_link_is_told_in_german_and_offers_to_log_in(app, smtp):
    """The page that tells a used link from other refusals does so whatever language the visitor reads."""
    boss = factories.admin(name="Astrid Admin")
    browser = logged_in(app, boss)
    assert browser.post("/admin/invitations", {"inv-email": "kofi@example.org"}).status_code == 302
    send_due(datetime.now(UTC))
    (mail,) = smtp.to("kofi@example.org")
    path = re.search(r"https?://[^/\s]+(/invitations/\S+)", parts(mail)[0]).group(1)
    invitee = Browser(app.test_client())
    page = text_of(invitee.get(path, headers={"Accept-Language": "de"}))
    assert "Concord beitreten" in page and "Astrid Admin hat kofi@example.org eingeladen." in page
    password = "a brand new passphrase"
    assert invitee.post(path, {"name": "Kofi Mensah", "password": password, "confirm": password}).status_code == 302
    again = app.test_client().get(path, headers={"Accept-Language": "de"})
    assert again.status_code == 409
    page = text_of(again)
    assert "Diese Einladung wurde bereits verwendet. Melden Sie sich stattdessen an." in page
    assert "Anmelden" in page
