"""The viewer's language and time zone (Flask-Babel's selectors) and the date filters of the pages.

The language is the one chosen on the account page, else the one a visitor chose in the page
footer (kept in the ``concord_lang`` cookie), else the best of the browser's ``Accept-Language``
that Concord speaks (app.i18n.LANGUAGES), else English. The time zone is the one chosen on the
account page, else the browser's (concord.js keeps it in the ``concord_tz`` cookie), else UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.support import NullTranslations
from flask import Flask, g, has_request_context, request
from flask_babel import get_locale, get_timezone, get_translations
from flask_login import current_user

from app import dates, i18n

ZONE_COOKIE = "concord_tz"
LANGUAGE_COOKIE = "concord_lang"


def chosen_language() -> str | None:
    """The language the viewer chose: on their account, else in the footer (cookie)."""
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated and getattr(current_user, "language", None) in i18n.LANGUAGES:
        return current_user.language
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    return cookie if cookie in i18n.LANGUAGES else None


def select_locale() -> str:
    if not has_request_context():
        return i18n.DEFAULT
    return chosen_language() or request.accept_languages.best_match(list(i18n.LANGUAGES)) or i18n.DEFAULT


def browser_zone() -> str | None:
    """The zone the browser reported, if it is one Concord knows."""
    if not has_request_context():
        return None
    return dates.valid_zone(request.cookies.get(ZONE_COOKIE))


def select_timezone() -> str | None:
    if not has_request_context():
        return None
    if current_user and current_user.is_authenticated and dates.valid_zone(getattr(current_user, "timezone", None)):
        return current_user.timezone
    return browser_zone()


def viewer_zone() -> ZoneInfo:
    """The zone this request's times are shown and read in."""
    return dates.zone(str(get_timezone()))


def zone_source() -> str:
    """Where the viewer's zone comes from: "account", "browser" or "default"."""
    if current_user and current_user.is_authenticated and dates.valid_zone(getattr(current_user, "timezone", None)):
        return "account"
    return "browser" if browser_zone() else "default"


def format_datetime(value: datetime | None) -> str:
    return dates.format_datetime(value, viewer_zone(), locale=str(get_locale()))


def format_date(value: date | datetime | None) -> str:
    return dates.format_date(value, locale=str(get_locale()))


_NO_TRANSLATIONS = NullTranslations()


def current_translations():
    """The catalogue of the language in force: Flask-Babel's, looked up once per request and language.

    A page asks for about fifty words; Flask-Babel finds the domain, the locale and the catalogue again
    for each (about 14 µs each). Kept on ``g`` beside the locale it belongs to: inside ``force_locale``
    (a mail in its recipient's language) the locale is another object, so its own catalogue is used.
    """
    if not g:
        return _NO_TRANSLATIONS
    locale = get_locale()
    cached = g.get("_concord_translations")
    if cached is None or cached[0] is not locale:
        cached = g._concord_translations = (locale, get_translations())
    return cached[1]


def init_app(app: Flask) -> None:
    from app.extensions import babel

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(i18n.CATALOGUES))
    # Messages from the rules (app.i18n.Message) read in the language of the request, or, outside one
    # (the mail sender), of the locale forced around them.
    # The catalogue's own gettext and ngettext: Message.render fills in the parameters itself (Flask-Babel's
    # ngettext would format the text with ``num`` alone, and fail on a message with other parameters).
    i18n.set_translator(lambda text: current_translations().ugettext(text),
                        lambda singular, plural, n: current_translations().ungettext(singular, plural, n),
                        lambda: str(get_locale() or i18n.DEFAULT))
    # The templates' words, the same way (Flask-Babel installed its own callables above).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals["interface_languages"] = i18n.LANGUAGES
    app.jinja_env.globals["current_language"] = lambda: str(get_locale())
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["viewer_zone_name"] = lambda: dates.zone_label(viewer_zone())
    app.jinja_env.globals["zone_source"] = zone_source
