"""Delivery through a real SMTP server (aiosmtpd on 127.0.0.1): `flask notifications send-due`.

Assertions are on what the server received: envelope recipients, subject,
text and HTML parts, links, headers; never twice, also with two senders at
once; retries with back-off when the server refuses; digests; deadline
reminders. Runs on SQLite and PostgreSQL through the ``app`` fixture.
"""

from __future__ import annotations

import email
import multiprocessing as mp
import socket
import threading
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from app.amending import operations as amending
from app.extensions import db
from app.models import OutboxMessage, Reminder
from app.notifications import delivery, events
from app.signing import operations as signing
from app.web import emails
from tests import factories
from tests.test_notifications import make_world

SPAWN = mp.get_context("spawn")
BASE_URL = "https://concord.example.org"
PREFERENCES = f"{BASE_URL}/account/notifications"


# --- the SMTP server --------------------------------------------------------------------------


class Collector:
    """Keeps every message it accepts; answers 451 to the first ``refuse`` recipients."""

    def __init__(self):
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]

    def subjects(self) -> list[str]:
        return [m["Subject"] for _, m in self.messages]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server on 127.0.0.1, and the app configured to use it."""
    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": controller.port, "MAIL_USE_TLS": False,
                       "MAIL_USERNAME": None, "MAIL_PASSWORD": None, "BASE_URL": BASE_URL,
                       "MAIL_FROM": "Concord <concord@example.org>"}.items():
        monkeypatch.setitem(app.config, key, value)
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def w(app, now):
    return make_world(now)


def send_due(now: datetime) -> delivery.Report:
    report = delivery.send_due(emails.settings(), emails.render, now=now)
    db.session.expire_all()
    return report


def rows(**where) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    for key, value in where.items():
        query = query.where(getattr(OutboxMessage, key) == value)
    return list(db.session.scalars(query))


def propose(w, user, org, text: str, *, paragraph_id: int | None = None, minutes: int = 1, statement=None):
    amendment = amending.propose(statement or w.statement, user, org, kind="modify",
                                 paragraph_id=paragraph_id or w.p1, text=text,
                                 now=w.now + timedelta(minutes=minutes))
    db.session.commit()
    return amendment


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


# --- one message ------------------------------------------------------------------------------


def test_a_new_amendment_is_mailed_with_text_html_link_and_preferences(w, smtp):
    """Each recipient gets one message with both parts, the direct link, the preferences link and headers."""
    amendment = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    report = send_due(w.now + timedelta(minutes=1))
    assert report.sent == 3 and report.failed == 0 and report.retried == 0
    recipients = sorted(r[0] for r, _ in smtp.messages)
    assert recipients == sorted([w.coordinator.email, w.del_a.email, w.del_c.email])
    assert smtp.to(w.del_b.email) == []
    message = smtp.to(w.del_c.email)[0]
    assert message["To"] == w.del_c.email
    assert message["From"] == "Concord <concord@example.org>"
    assert message["Subject"] == f"New amendment #{amendment.id} on ¶ 1: On Harbours"
    assert message["List-Unsubscribe"] == f"<{PREFERENCES}>"
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    link = f"{BASE_URL}/amendments/{amendment.id}"
    for part in (text, html):
        assert link in part
        assert PREFERENCES in part
        assert "Green Valley Alliance proposes to modify ¶ 1" in part
    assert f'href="{link}"' in html
    assert {r.status for r in rows()} == {"sent"}
    assert all(r.sent_at == w.now + timedelta(minutes=1) for r in rows())


def test_user_text_is_escaped_in_the_html_part(w, smtp):
    """A comment with markup arrives as text in the HTML part, unchanged in the plain part."""
    amendment = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    send_due(w.now + timedelta(minutes=1))
    amending.add_comment(amendment, w.del_c, "<script>alert(1)</script> & more",
                         now=w.now + timedelta(minutes=2))
    db.session.commit()
    send_due(w.now + timedelta(minutes=2))
    (message,) = smtp.to(w.del_b.email)
    text, html = parts(message)
    assert "<script>alert(1)</script> & more" in text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html


def test_nothing_is_sent_for_a_rolled_back_action(w, smtp):
    """A rolled-back proposal mails nobody; the next committed one is mailed."""
    amending.propose(w.statement, w.del_b, w.b, kind="modify", paragraph_id=w.p1,
                     text="The harbour must stay open to every single worker.", now=w.now)
    db.session.rollback()
    report = send_due(w.now + timedelta(hours=1))
    assert smtp.messages == [] and report.sent == 0 and rows() == []
    propose(w, w.del_b, w.b, "The harbour must stay open to every dock worker.")
    assert send_due(w.now + timedelta(hours=1)).sent == 3


def test_not_due_yet_is_not_sent_and_sent_is_not_sent_again(w, smtp):
    """A message leaves once it is due, and only once however often send-due runs."""
    propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.", minutes=10)
    assert send_due(w.now).sent == 0
    assert smtp.messages == []
    assert send_due(w.now + timedelta(minutes=10)).sent == 3
    assert send_due(w.now + timedelta(minutes=11)).sent == 0
    assert len(smtp.messages) == 3


def test_the_send_due_command_delivers_and_reports(w, smtp, runner):
    """`flask notifications send-due` delivers what is due now and says how much it sent."""
    real_now = datetime.now(UTC)
    events.notify([w.del_c], "published", subject="Published: On Harbours", body="Done.", path="/p/on-harbours",
                  statement=w.statement, now=real_now - timedelta(seconds=1))
    db.session.commit()
    result = runner.invoke(args=["notifications", "send-due"])
    assert result.exit_code == 0, result.output
    assert "sent 1" in result.output
    (message,) = smtp.to(w.del_c.email)
    assert message["Subject"] == "Published: On Harbours"
    assert f"{BASE_URL}/p/on-harbours" in parts(message)[0]


def test_without_a_server_messages_are_written_to_the_instance_outbox(w, app, monkeypatch, tmp_path):
    """Without MAIL_SERVER each message becomes an .eml file in instance/outbox/."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "BASE_URL", BASE_URL)
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    amendment = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    report = send_due(w.now + timedelta(minutes=1))
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert report.sent == 3 and len(files) == 3
    messages = [email.message_from_bytes(f.read_bytes(), policy=default_policy) for f in files]
    assert sorted(m["To"] for m in messages) == sorted([w.coordinator.email, w.del_a.email, w.del_c.email])
    assert all(f"{BASE_URL}/amendments/{amendment.id}" in parts(m)[0] for m in messages)
    assert {r.status for r in rows()} == {"sent"}


# --- two senders at once ---------------------------------------------------------------------------


def _send_in_process(database_url: str, port: int, now: datetime, barrier, claim_barrier, first, results) -> None:
    import time

    from sqlalchemy import event, text

    from app import create_app
    from app.extensions import db
    from app.notifications import delivery
    from app.web import emails
    from config import TestConfig

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, MAIL_SERVER="127.0.0.1",
                     MAIL_PORT=port, MAIL_USE_TLS=False, BASE_URL=BASE_URL)
    with app.app_context():
        seen: list[str] = []

        def is_claim(statement: str) -> bool:
            return statement.startswith("UPDATE outbox_messages") and "claimed_at=" in statement

        def line_up(conn, cursor, statement, parameters, context, executemany):
            """Both processes issue their first claim UPDATE together."""
            if is_claim(statement) and "before" not in seen:
                seen.append("before")
                claim_barrier.wait(timeout=60)

        def hold_until_the_other_waits(conn, cursor, statement, parameters, context, executemany):
            """The first claimer keeps its transaction open until the other one waits for its locks
            (PostgreSQL), so the second claim really overlaps the first."""
            if not is_claim(statement) or "after" in seen:
                return
            seen.append("after")
            with first.get_lock():
                am_first, first.value = first.value == 0, 1
            if not am_first or conn.dialect.name != "postgresql":
                return
            deadline = time.monotonic() + 20
            with db.engine.connect() as probe:
                while time.monotonic() < deadline and not probe.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'")).scalar():
                    probe.rollback()

        event.listen(db.engine, "before_cursor_execute", line_up)
        event.listen(db.engine, "after_cursor_execute", hold_until_the_other_waits)
        db.session.execute(select(1))  # connect before the start line
        db.session.commit()
        barrier.wait(timeout=60)
        report = delivery.send_due(emails.settings(), emails.render, now=now)
        results.put((report.sent, report.failed, report.retried))
        db.engine.dispose()


def test_two_senders_at_once_send_each_message_exactly_once(w, smtp, app):
    """Two send-due processes started at the same instant deliver every row once, in total."""
    for text in ("The harbour must stay open to every single worker.",
                 "The harbour must stay open to all workers.",
                 "The harbour must stay open to every dock worker."):
        propose(w, w.del_b, w.b, text, minutes=1)
        propose(w, w.del_c, w.c, text.replace("harbour", "port"), minutes=1)
    for user in (w.sig_a, w.sig_b, w.sig_c, w.admin_c):
        events.notify([user], "published", subject=f"Hello {user.name}", body="", path="/", now=w.now)
    db.session.commit()
    total = len(rows())
    assert total >= 20
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()

    barrier, claim_barrier, first = SPAWN.Barrier(2), SPAWN.Barrier(2), SPAWN.Value("i", 0)
    results = SPAWN.Queue()
    workers = [SPAWN.Process(target=_send_in_process,
                             args=(url, smtp.port, w.now + timedelta(minutes=5), barrier, claim_barrier,
                                   first, results))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    reports = [results.get(timeout=5) for _ in workers]

    assert sum(sent for sent, _, _ in reports) == total
    assert all(failed == 0 and retried == 0 for _, failed, retried in reports)
    assert len(smtp.messages) == total
    assert {r.status for r in rows()} == {"sent"}
    per_row = [(tuple(rcpt), m["Subject"]) for rcpt, m in smtp.messages]
    assert len(set(per_row)) == total  # no row was delivered twice


# --- retries ----------------------------------------------------------------------------------------


def test_a_refused_message_is_retried_with_back_off_then_delivered(w, smtp):
    """451 puts the row back to pending with attempts+1 and due after the back-off; a later run delivers it."""
    events.notify([w.del_c], "published", subject="Published: On Harbours", body="", path="/p/x", now=w.now)
    db.session.commit()
    smtp.refuse = 2
    report = send_due(w.now)
    (row,) = rows()
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    assert (row.status, row.attempts, row.claim_token) == ("pending", 1, None)
    assert row.due_at == w.now + timedelta(minutes=1)
    assert "451" in row.last_error
    assert send_due(w.now + timedelta(seconds=30)).retried == 0  # not due again yet
    second = w.now + timedelta(minutes=1)
    assert send_due(second).retried == 1
    (row,) = rows()
    assert (row.status, row.attempts, row.due_at) == ("pending", 2, second + timedelta(minutes=2))
    assert smtp.messages == []
    report = send_due(second + timedelta(minutes=2))
    assert report.sent == 1
    (row,) = rows()
    assert row.status == "sent" and row.attempts == 2
    assert [rcpt for rcpt, _ in smtp.messages] == [[w.del_c.email]]


def test_after_the_last_attempt_the_message_is_failed_and_reported(w, smtp):
    """MAX_ATTEMPTS refusals mark the row failed; that run reports it; no later run retries it."""
    events.notify([w.del_c], "published", subject="Published: On Harbours", body="", path="/p/x", now=w.now)
    db.session.commit()
    smtp.refuse = 1000
    when = w.now
    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        report = send_due(when)
        (row,) = rows()
        assert row.attempts == attempt
        if attempt < delivery.MAX_ATTEMPTS:
            assert (row.status, report.retried, report.failed) == ("pending", 1, 0)
            assert row.due_at == when + delivery.backoff(attempt)
            when = row.due_at
    assert (row.status, report.failed, report.retried) == ("failed", 1, 0)
    assert report.errors and "451" in report.errors[0]
    smtp.refuse = 0
    assert send_due(when + timedelta(days=1)).sent == 0
    assert smtp.messages == []


def test_backoff_doubles_and_is_capped_at_an_hour():
    """1, 2, 4, 8 … minutes, never more than 60."""
    assert [delivery.backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert delivery.backoff(12) == timedelta(hours=1)


# --- the daily digest ----------------------------------------------------------------------------


def test_digest_rows_leave_as_one_email_grouped_by_statement_at_seven(app, smtp):
    """Several digest rows for one person across two statements: one e-mail at 07:00 UTC, none before."""
    w = make_world(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    second = factories.statement(w.coordinator, w.a, participants=[w.b, w.c], title="On Ferries",
                                 paragraphs=["Ferries run every hour."])
    amending.open_for_amendments(second, w.coordinator, rule="coordinator", deadline=None, now=w.now)
    db.session.commit()
    events.set_preferences(w.del_c, {"amendment_new": "digest", "amendment_activity": "digest"})
    db.session.commit()
    first = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    other = propose(w, w.del_b, w.b, "Ferries run every half hour between the islands.", paragraph_id=w.p2)
    ferry = propose(w, w.del_b, w.b, "Ferries run every half hour.", statement=second,
                    paragraph_id=second.paragraphs[0].id)
    mine = propose(w, w.del_c, w.c, "The harbour must stay open to all.", minutes=2)
    amending.add_comment(mine, w.del_b, "Why?", now=w.now + timedelta(minutes=3))
    db.session.commit()
    digest_rows = rows(user_id=w.del_c.id)
    assert len(digest_rows) == 4 and {r.mode for r in digest_rows} == {"digest"}

    send_due(w.now + timedelta(minutes=5))  # the immediate ones leave now
    assert smtp.to(w.del_c.email) == []
    assert send_due(datetime(2026, 3, 2, 6, 59, tzinfo=UTC)).sent == 0
    assert smtp.to(w.del_c.email) == []

    report = send_due(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    assert report.sent == 1
    (message,) = smtp.to(w.del_c.email)
    assert message["Subject"] == "Concord: 4 updates on 2 statements"
    assert message["List-Unsubscribe"] == f"<{PREFERENCES}>"
    text, html = parts(message)
    harbours, ferries = text.index("== On Harbours =="), text.index("== On Ferries ==")
    ferry_link = f"{BASE_URL}/amendments/{ferry.id}"
    for amendment in (first, other, mine):
        assert f"{BASE_URL}/amendments/{amendment.id}" in text
        assert f"{BASE_URL}/amendments/{amendment.id}" in html
    if harbours < ferries:
        assert harbours < text.index(f"{BASE_URL}/amendments/{first.id}") < ferries < text.index(ferry_link)
    else:
        assert ferries < text.index(ferry_link) < harbours < text.index(f"{BASE_URL}/amendments/{first.id}")
    assert PREFERENCES in text and PREFERENCES in html
    assert {r.status for r in rows(user_id=w.del_c.id)} == {"sent"}
    assert send_due(datetime(2026, 3, 3, 7, 0, tzinfo=UTC)).sent == 0
    assert len(smtp.to(w.del_c.email)) == 1


def test_digests_of_two_statements_with_the_same_title_stay_apart(app, smtp):
    """Grouping is by statement, not by title."""
    w = make_world(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    twin = factories.statement(w.coordinator, w.a, participants=[w.b, w.c], title="On Harbours",
                               paragraphs=["Ferries run every hour."])
    amending.open_for_amendments(twin, w.coordinator, rule="coordinator", deadline=None, now=w.now)
    events.set_preferences(w.del_c, {"amendment_new": "digest"})
    db.session.commit()
    propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    propose(w, w.del_b, w.b, "Ferries run every half hour.", statement=twin, paragraph_id=twin.paragraphs[0].id)
    send_due(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    (message,) = smtp.to(w.del_c.email)
    assert message["Subject"] == "Concord: 2 updates on 2 statements"
    assert parts(message)[0].count("== On Harbours ==") == 2


# --- deadlines ---------------------------------------------------------------------------------------


def test_amendment_deadline_reminder_goes_once_to_organisations_without_positions(app, smtp, now):
    """Within 24 hours of the amendment deadline the silent organisations' delegates are reminded, once."""
    w = make_world(now, deadline=now + timedelta(hours=30))
    amendment = propose(w, w.del_b, w.b, "The harbour must stay open to every single worker.")
    amending.take_position(amendment, w.del_c, w.c, "support", now=now + timedelta(minutes=2))
    amending.take_position(amendment, w.del_b, w.b, "support", now=now + timedelta(minutes=2))
    db.session.commit()
    send_due(now + timedelta(minutes=5))
    smtp.messages.clear()

    report = send_due(now + timedelta(hours=5))  # 25 hours before: too early
    assert report.reminders == 0 and smtp.messages == []
    report = send_due(now + timedelta(hours=7))  # 23 hours before
    assert report.reminders == 1
    reminded = sorted(r[0] for r, m in smtp.messages if "Amendments close within 24 hours" in m["Subject"])
    assert reminded == sorted([w.coordinator.email, w.del_a.email])  # A has taken no position
    assert f"{BASE_URL}/statements/{w.statement.id}/amendments?status=open" in parts(smtp.messages[0][1])[0]
    assert send_due(now + timedelta(hours=8)).reminders == 0
    assert len(smtp.messages) == 2
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 1


def test_signing_deadline_reminds_unsigned_signatories_then_tells_the_coordinator_once(w, smtp):
    """24 h before: the signatories who have not signed; after it: the coordinator, with their names, once."""
    signing.freeze(w.statement, w.coordinator, signing_deadline=w.now + timedelta(hours=30), now=w.now)
    db.session.commit()
    statement = db.session.get(type(w.statement), w.statement.id)
    signing.sign(statement, w.sig_b, w.b, signer_name="Ben", signer_title="Chair", authorised=True,
                 password=factories.PASSWORD, version_sha256=statement.frozen_version.sha256,
                 now=w.now + timedelta(minutes=1))
    db.session.commit()
    send_due(w.now + timedelta(minutes=2))
    smtp.messages.clear()

    send_due(w.now + timedelta(hours=7))
    soon = [r[0] for r, m in smtp.messages if m["Subject"].startswith("Signing closes within 24 hours")]
    assert sorted(soon) == sorted([w.sig_a.email, w.sig_c.email])
    smtp.messages.clear()
    send_due(w.now + timedelta(hours=8))
    assert smtp.messages == []

    send_due(w.now + timedelta(hours=31))
    send_due(w.now + timedelta(hours=32))
    ((recipients, message),) = smtp.messages
    assert recipients == [w.coordinator.email]
    assert message["Subject"] == "Signing deadline passed: On Harbours"
    text = parts(message)[0]
    assert "Harbour Workers' Union" in text and "Coastal Tenants Network" in text
    assert "Green Valley Alliance" not in text
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 2


def test_a_claimed_row_left_by_a_crashed_sender_is_retried_after_the_stale_window(w, smtp):
    """A row stuck in 'sending' goes back to pending after STALE_AFTER and is delivered then."""
    events.notify([w.del_c], "published", subject="Published", body="", path="/p/x", now=w.now)
    db.session.commit()
    (row,) = rows()
    row.status, row.claim_token, row.claimed_at = "sending", "x" * 32, w.now
    db.session.commit()
    assert send_due(w.now + timedelta(minutes=5)).sent == 0
    assert send_due(w.now + delivery.STALE_AFTER + timedelta(minutes=1)).sent == 1
    assert len(smtp.to(w.del_c.email)) == 1


def test_settings_come_from_the_config(app, monkeypatch):
    """MAIL_* and BASE_URL reach the transport; the outbox folder is in the instance folder."""
    for key, value in {"MAIL_SERVER": "smtp.example.org", "MAIL_PORT": 2525, "MAIL_USE_TLS": True,
                       "MAIL_USERNAME": "u", "MAIL_PASSWORD": "p", "MAIL_FROM": "C <c@example.org>",
                       "BASE_URL": BASE_URL}.items():
        monkeypatch.setitem(app.config, key, value)
    s = emails.settings()
    assert (s.server, s.port, s.use_tls, s.username, s.password, s.sender, s.base_url) == (
        "smtp.example.org", 2525, True, "u", "p", "C <c@example.org>", BASE_URL)
    assert s.outbox_dir == Path(app.instance_path) / "outbox"
