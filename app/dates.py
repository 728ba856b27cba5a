"""One way of writing dates and times, from Babel, in a named time zone. No Flask.

Pages format through Flask-Babel's locale and the viewer's zone (app/web/i18n.py); e-mails and
rule messages, written outside any request, use the same functions with the zone they name.
The patterns are the same for every locale today ("8 Dec 2026, 21:41 UTC"); the languages issue
gives each locale its own.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime

DEFAULT_LOCALE = "en"
DATETIME_PATTERN = "d MMM y, HH:mm"
DATE_PATTERN = "d MMMM y"
UTC_NAME = "UTC"


@functools.cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone a person may choose: regions with a city, and UTC."""
    import pytz  # Flask-Babel's zones: a name it does not know must never be handed to it

    return (UTC_NAME, *sorted(z for z in available_timezones() & pytz.all_timezones_set
                              if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))))


def valid_zone(name: str | None) -> str | None:
    """``name`` if it is a zone of ``zone_names()``, else None."""
    if not name or len(name) > 64:
        return None
    return name if name in _zone_set() else None


@functools.cache
def _zone_set() -> frozenset[str]:
    return frozenset(zone_names())


def zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; UTC for anything that is not one."""
    try:
        return ZoneInfo(valid_zone(name) or UTC_NAME)
    except ZoneInfoNotFoundError:  # pragma: no cover - tzdata ships every listed zone
        return ZoneInfo(UTC_NAME)


def zone_label(tz: ZoneInfo) -> str:
    """How a zone is named after a time: its IANA name ("Europe/Lisbon"), "UTC" for UTC."""
    return UTC_NAME if tz.key in (UTC_NAME, "Etc/UTC") else tz.key


def format_datetime(value: datetime | None, tz: ZoneInfo | None = None, locale: str = DEFAULT_LOCALE) -> str:
    """"8 Dec 2026, 21:41 UTC": the moment in ``tz`` (default UTC), with the zone named."""
    if value is None:
        return ""
    tz = tz or ZoneInfo(UTC_NAME)
    if value.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware UTC")
    local = value.astimezone(tz)
    return f"{babel_format_datetime(local, DATETIME_PATTERN, tzinfo=tz, locale=locale)} {zone_label(tz)}"


def format_date(value: date | datetime | None, locale: str = DEFAULT_LOCALE) -> str:
    """"1 March 2026"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return babel_format_date(value, DATE_PATTERN, locale=locale)


def local_to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time in ``tz`` as an aware UTC datetime; ValueError if it has none (year 9999 west of UTC)."""
    try:
        return local.replace(tzinfo=tz).astimezone(UTC)
    except OverflowError:
        raise ValueError("That date is out of range.") from None


def utc_to_local(value: datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime as the naive wall-clock time in ``tz``."""
    return value.astimezone(tz).replace(tzinfo=None)
