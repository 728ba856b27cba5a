"""Delivering the outbox: claim, send through SMTP (or write .eml files), retry with back-off.

``send_due`` is safe to run every minute on several servers at once: rows are
claimed with a conditional UPDATE (pending -> sending, with a claim token) and
committed before any message leaves, so two senders never pick the same row.
Each sent row is committed right after the SMTP server accepted it. The one
window left is a crash between the server's acceptance and that commit: the
row is then retried after ``STALE_AFTER`` and may arrive twice.
Plain functions: the caller passes the settings and a ``render`` callable.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.i18n import _
from app.models import Amendment, OutboxMessage, Reminder, Signature, Statement
from app.models.amendment import OPEN_STATUSES
from app.notifications.events import members, notify, statement_path

log = logging.getLogger("concord.mail")

MAX_ATTEMPTS = 5
STALE_AFTER = timedelta(minutes=15)
BATCH = 100


@dataclass
class MailSettings:
    sender: str
    base_url: str
    server: str | None = None
    port: int = 25
    use_tls: bool = False
    username: str | None = None
    password: str | None = None
    outbox_dir: Path | None = None
    timeout: float = 20.0


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


@dataclass
class Report:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    reminders: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8… minutes, capped at an hour."""
    return timedelta(minutes=min(60, 2 ** (attempts - 1)))


# --- transport ----------------------------------------------------------------------


class Transport:
    """One SMTP connection for a run, or .eml files when no server is configured."""

    def __init__(self, settings: MailSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        if not s.server:
            folder = s.outbox_dir or Path("outbox")
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{datetime.now().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}.eml"
            (folder / name).write_bytes(bytes(message))
            log.info("mail to %s written to %s: %s", message["To"], folder / name, message["Subject"])
            return
        if self._smtp is None:
            self._smtp = smtplib.SMTP(s.server, s.port, timeout=s.timeout)
            if s.use_tls:
                self._smtp.starttls()
            if s.username:
                self._smtp.login(s.username, s.password or "")
        self._smtp.send_message(message)

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):  # a dropped connection must not abort the run
                pass
            self._smtp = None


def build_message(settings: MailSettings, to: str, rendered: Rendered, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain="concord")
    message["List-Unsubscribe"] = f"<{settings.base_url}/account/notifications>"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


# --- claiming -------------------------------------------------------------------------


def _claim(mode: str, now: datetime) -> list[OutboxMessage]:
    token = secrets.token_hex(16)
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.status == "pending", OutboxMessage.mode == mode, OutboxMessage.due_at <= now)
           .order_by(OutboxMessage.id).limit(BATCH * (20 if mode == "digest" else 1)))
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()), OutboxMessage.status == "pending")
        .values(status="sending", claim_token=token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()  # the claim is ours before anything leaves
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.claim_token == token)
        .options(selectinload(OutboxMessage.statement))
        .order_by(OutboxMessage.id)
    ))


def _release_stale(now: datetime) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - STALE_AFTER)
        .values(status="pending", claim_token=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _settle(rows: list[OutboxMessage], error: Exception | None, now: datetime, report: Report) -> None:
    for row in rows:
        row.claim_token = None
        if error is None:
            row.status, row.sent_at = "sent", now
            if row.notification_id is None:
                # A direct mail (password reset, invitation to join) carries a personal link: it is
                # in the recipient's mailbox now, and whoever reads the database must not find it.
                row.path = ""
        else:
            row.attempts += 1
            row.last_error = f"{type(error).__name__}: {error}"[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            else:
                row.status, row.due_at = "pending", now + backoff(row.attempts)
    db.session.commit()
    if error is None:
        report.sent += 1
    elif all(r.status == "failed" for r in rows):
        report.failed += 1
        report.errors.append(str(error))
    else:
        report.retried += 1
        report.errors.append(str(error))


def send_due(
    settings: MailSettings,
    render: Callable[[list[OutboxMessage], bool], Rendered],
    *,
    now: datetime,
) -> Report:
    """Queue due deadline reminders, then send every due message and digest."""
    report = Report()
    report.reminders = queue_deadline_reminders(now)
    _release_stale(now)
    transport = Transport(settings)
    try:
        for row in _claim("immediate", now):
            _deliver(transport, settings, [row], render([row], False), now, report)
        digests: dict[str, list[OutboxMessage]] = defaultdict(list)
        for row in _claim("digest", now):
            digests[row.to_email].append(row)
        for rows in digests.values():
            _deliver(transport, settings, rows, render(rows, True), now, report)
    finally:
        transport.close()
    return report


def _deliver(transport: Transport, settings: MailSettings, rows: list[OutboxMessage], rendered: Rendered,
             now: datetime, report: Report) -> None:
    try:
        transport.send(build_message(settings, rows[0].to_email, rendered, now))
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("mail to %s failed: %s", rows[0].to_email, exc)
        transport.close()
        _settle(rows, exc, now, report)
        return
    _settle(rows, None, now, report)


# --- deadlines ---------------------------------------------------------------------------------


def _claim_reminder(statement: Statement, kind: str, deadline: datetime, now: datetime) -> bool:
    """Record that this reminder goes out; False if another run already sent it."""
    try:
        with db.session.begin_nested():
            db.session.add(Reminder(statement_id=statement.id, kind=kind, deadline=deadline, created_at=now))
        return True
    except IntegrityError:
        return False


def queue_deadline_reminders(now: datetime) -> int:
    """Notify, once each: 24 hours before the amendment and signing deadlines, the organisations
    that have not acted; after the signing deadline, the coordinator, about who has not signed."""
    count = 0
    soon = now + timedelta(hours=24)
    amending = db.session.scalars(select(Statement).where(
        Statement.status == "amending", Statement.amendment_deadline > now,
        Statement.amendment_deadline <= soon)).all()
    for statement in amending:
        open_amendments = db.session.scalars(select(Amendment).where(
            Amendment.statement_id == statement.id, Amendment.status.in_(OPEN_STATUSES))).all()
        silent = [o for o in statement.participant_organisations
                  if any(o.id not in a.current_positions() for a in open_amendments)]
        if silent and _claim_reminder(statement, "amendment_deadline", statement.amendment_deadline, now):
            notify(members(silent, "delegate"), "deadline", statement=statement, now=now,
                   subject=_("Amendments close within 24 hours: %(title)s", title=statement.title),
                   body=_("Some open amendments still wait for your organisation's position."),
                   path=statement_path(statement, "/amendments?status=open"))
            count += 1
    signing = db.session.scalars(select(Statement).where(
        Statement.status == "signing", Statement.signing_deadline.is_not(None))).all()
    for statement in signing:
        signed = {s.organisation_id for s in db.session.scalars(select(Signature).where(
            Signature.version_id == statement.frozen_version_id, Signature.status == "valid"))}
        waiting = [o for o in statement.participant_organisations if o.id not in signed]
        if not waiting:
            continue
        deadline = statement.signing_deadline
        if now < deadline <= soon and _claim_reminder(statement, "signing_deadline", deadline, now):
            notify(members(waiting, "signatory"), "deadline", statement=statement, now=now,
                   subject=_("Signing closes within 24 hours: %(title)s", title=statement.title),
                   body=_("Your organisation has not signed yet."), path=statement_path(statement, "/sign"))
            count += 1
        elif deadline <= now and _claim_reminder(statement, "signing_deadline_passed", deadline, now):
            names = ", ".join(o.name for o in waiting)
            notify([statement.coordinator], "deadline", statement=statement, now=now,
                   subject=_("Signing deadline passed: %(title)s", title=statement.title),
                   body=_("Not signed yet: %(names)s.", names=names), path=statement_path(statement, "/sign"))
            count += 1
    db.session.commit()
    return count
