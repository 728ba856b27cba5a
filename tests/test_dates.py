"""One way of writing dates and times (Babel), in the viewer's zone with the zone named; the account's
time zone; one form field for local date-times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app import dates
from app.accounts import operations as accounts
from app.amending import operations as amending
from app.errors import InvalidInput
from app.extensions import db
from app.models import Statement, User
from tests import factories
from tests.conftest import Browser


def test_format_datetime_names_the_zone():
    """Day, short month, year, 24-hour time, then the zone: UTC by name, others by their IANA name."""
    moment = datetime(2026, 12, 8, 21, 41, tzinfo=UTC)
    assert dates.format_datetime(moment) == "8 Dec 2026, 21:41 UTC"
    assert dates.format_datetime(moment, dates.zone("Europe/Berlin")) == "8 Dec 2026, 22:41 Europe/Berlin"
    assert dates.format_datetime(moment, dates.zone("Asia/Kolkata")) == "9 Dec 2026, 03:11 Asia/Kolkata"
    assert dates.format_datetime(None) == ""
    assert dates.format_date(date(2026, 3, 1)) == "1 March 2026"
    with pytest.raises(ValueError):
        dates.format_datetime(datetime(2026, 1, 1))  # naive: refused, never guessed


def test_zones_are_checked_and_unknown_ones_fall_back_to_utc():
    """Only listed zones are taken; anything else (a made-up name, a path) reads as UTC."""
    assert dates.valid_zone("Europe/Lisbon") == "Europe/Lisbon"
    for name in ("Mars/Base", "", None, "../../etc/passwd", "Etc/GMT+12", "x" * 100):
        assert dates.valid_zone(name) is None
        assert dates.zone(name).key == "UTC"
    assert dates.zone_names()[0] == "UTC" and len(dates.zone_names()) > 300


def test_local_to_utc_and_back():
    """A wall-clock time in a zone is stored in UTC (with summer time) and shown back as entered."""
    berlin = dates.zone("Europe/Berlin")
    stored = dates.local_to_utc(datetime(2030, 6, 30, 18, 0), berlin)
    assert stored == datetime(2030, 6, 30, 16, 0, tzinfo=UTC)
    assert dates.utc_to_local(stored, berlin) == datetime(2030, 6, 30, 18, 0)
    with pytest.raises(ValueError, match="out of range"):
        dates.local_to_utc(datetime(9999, 12, 31, 23, 59), dates.zone("Pacific/Pago_Pago"))


def test_set_timezone_rule(app):
    """A person chooses a listed zone or none (the browser's); anything else is refused and changes nothing."""
    person = factories.user()
    accounts.set_timezone(person, "America/Santiago")
    db.session.commit()
    assert person.timezone == "America/Santiago"
    with pytest.raises(InvalidInput, match="Choose a time zone"):
        accounts.set_timezone(person, "Mars/Base")
    db.session.rollback()
    assert db.session.get(User, person.id).timezone == "America/Santiago"
    accounts.set_timezone(person, "")
    assert person.timezone is None


def _deadline_statement():
    factories.admin()
    org = factories.organisation("Harbour Workers Union", slug="hwu")
    coordinator = factories.member(org, "delegate", "signatory")
    statement = factories.statement(coordinator, org)
    amending.open_for_amendments(statement, coordinator, rule="coordinator",
                                 deadline=datetime(2030, 1, 15, 9, 30, tzinfo=UTC), now=datetime.now(UTC))
    db.session.commit()
    return coordinator, statement.id


def test_pages_show_times_in_the_browsers_zone_then_the_accounts(app):
    """No zone known: UTC. The browser's zone once concord.js reported it. The account's zone wins over both."""
    coordinator, sid = _deadline_statement()
    browser = Browser(app.test_client())
    browser.login(coordinator.email)

    def deadline_shown() -> str:
        page = browser.get(f"/statements/{sid}").get_data(as_text=True)
        return page.split('data-countdown>', 1)[1].split("</time>", 1)[0]

    assert deadline_shown() == "15 Jan 2030, 09:30 UTC"
    browser.set_zone("America/New_York")
    assert deadline_shown() == "15 Jan 2030, 04:30 America/New_York"
    browser.set_zone("Not/AZone")
    assert deadline_shown() == "15 Jan 2030, 09:30 UTC"
    browser.set_zone("America/New_York")
    response = browser.post("/account/timezone", {"tz-timezone": "Asia/Tokyo"}, form_page="/account/")
    assert response.status_code == 302
    account = browser.get("/account/").get_data(as_text=True)
    assert "Times are now shown in Asia/Tokyo." in account
    assert deadline_shown() == "15 Jan 2030, 18:30 Asia/Tokyo"
    assert '<option selected value="Asia/Tokyo">' in account
    assert "My browser&#39;s time zone (America/New_York)" in account


def test_account_timezone_form_refuses_an_unknown_zone(app):
    """A tampered zone is a form error (422) and the account keeps its zone."""
    person = factories.admin()
    browser = Browser(app.test_client())
    browser.login(person.email)
    response = browser.post("/account/timezone", {"tz-timezone": "Mars/Base"}, form_page="/account/")
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, person.id).timezone is None


def test_deadline_field_reads_and_shows_the_account_zone(app):
    """The open form reads the deadline in the account's zone, names it, and shows an error with the value kept."""
    factories.admin()
    org = factories.organisation("Harbour Workers Union", slug="hwu")
    coordinator = factories.member(org, "delegate")
    coordinator.timezone = "Australia/Sydney"
    statement = factories.statement(coordinator, org)
    db.session.commit()
    browser = Browser(app.test_client())
    browser.login(coordinator.email)
    page = browser.get(f"/statements/{statement.id}/open").get_data(as_text=True)
    assert "Time zone: Australia/Sydney (as set on your account page)." in page
    response = browser.post(f"/statements/{statement.id}/open",
                            {"decision_rule": "consensus", "deadline": "2001-01-01T10:00"})
    assert response.status_code == 200 and 'value="2001-01-01T10:00"' in response.get_data(as_text=True)
    response = browser.post(f"/statements/{statement.id}/open",
                            {"decision_rule": "consensus", "deadline": "2031-01-10T09:00"})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Statement, statement.id).amendment_deadline == datetime(2031, 1, 9, 22, 0, tzinfo=UTC)


def test_signing_deadline_in_the_freeze_notification_is_written_the_same_way(app):
    """The e-mail asking for signatures names the deadline as pages do (UTC outside a page)."""
    from app.models import Notification
    from app.signing import operations as signing

    factories.admin()
    org = factories.organisation("Harbour Workers Union", slug="hwu")
    other = factories.organisation("Green Valleys Alliance", slug="gva")
    coordinator = factories.member(org, "delegate")
    factories.member(other, "signatory")
    statement = factories.statement(coordinator, org, participants=[other])
    now = datetime.now(UTC)
    amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=now)
    deadline = (now + timedelta(days=3)).replace(hour=15, minute=0, second=0, microsecond=0)
    signing.freeze(statement, coordinator, signing_deadline=deadline, now=now)
    db.session.commit()
    note = db.session.query(Notification).filter_by(kind="signature_requested").one()
    assert f"Please sign by {dates.format_datetime(deadline)}." in note.body
    assert note.body.endswith("15:00 UTC.")
