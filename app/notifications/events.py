"""Telling people what is waiting for them.

Rules call ``notify`` inside their own transaction: it writes an in-app
Notification and, unless the person turned that kind of event off, an
OutboxMessage. Nothing is sent here (``delivery.send_due`` does that), so a
rolled-back change sends nothing. Plain functions; no Flask.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import insert, select

from app.extensions import db
from app.models import (
    EVENT_KINDS,
    Amendment,
    Notification,
    NotificationPreference,
    Organisation,
    OutboxMessage,
    Statement,
    User,
)

DIGEST_HOUR_UTC = 7  # daily digests leave at 07:00 UTC


def next_digest_time(now: datetime) -> datetime:
    today = now.replace(hour=DIGEST_HOUR_UTC, minute=0, second=0, microsecond=0)
    return today if now < today else today + timedelta(days=1)


def preferences(user: User) -> dict[str, str]:
    stored = dict(db.session.execute(select(NotificationPreference.kind, NotificationPreference.mode)
                                     .where(NotificationPreference.user_id == user.id)).all())
    return {kind: stored.get(kind, "immediate") for kind in EVENT_KINDS}


def set_preferences(user: User, modes: dict[str, str]) -> None:
    from app.errors import InvalidInput
    from app.models import DELIVERY_MODES

    for kind, mode in modes.items():
        if kind not in EVENT_KINDS or mode not in DELIVERY_MODES:
            raise InvalidInput("Choose immediately, daily digest or never for each kind of event.")
    existing = {p.kind: p for p in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    for kind, mode in modes.items():
        if kind in existing:
            existing[kind].mode = mode
        else:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, mode=mode))
    db.session.flush()


def notify(
    users: Iterable[User], kind: str, *, subject: str, body: str, path: str, now: datetime,
    statement: Statement | None = None, exclude: User | None = None,
) -> list[int]:
    """Tell each of ``users`` (once each, never the person who acted) about an event; the new notifications' ids."""
    return notify_each([(users, subject, body, path)], kind, now=now, statement=statement, exclude=exclude)


def notify_each(
    events: Iterable[tuple[Iterable[User], str, str, str]], kind: str, *, now: datetime,
    statement: Statement | None = None, exclude: User | None = None,
) -> list[int]:
    """Several events of one kind at once, each ``(users, subject, body, path)``, as ``notify`` each.

    Whatever their number: one query for everyone's delivery preferences, one
    multi-row INSERT of the notifications and one of their e-mails, in the
    caller's transaction.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    recipients: list[tuple[User, str, str, str]] = []
    for users, subject, body, path in events:
        chosen: set[int] = set()
        for user in users:
            if user.id in chosen or (exclude is not None and user.id == exclude.id) or not user.active:
                continue
            chosen.add(user.id)
            recipients.append((user, subject[:300], body, path))
    if not recipients:
        return []
    modes = _modes({user.id for user, *_ in recipients}, kind)
    statement_id = statement.id if statement else None
    # Each e-mail is made from its notification, so the order RETURNING gives the rows in does not matter.
    notes = Notification.__table__
    made = sorted(db.session.execute(
        insert(notes).returning(notes.c.id, notes.c.user_id, notes.c.subject, notes.c.body, notes.c.path),
        [{"user_id": user.id, "kind": kind, "statement_id": statement_id, "subject": subject, "body": body,
          "path": path, "created_at": now} for user, subject, body, path in recipients],
    ).all())
    emails = {user.id: user.email for user, *_ in recipients}
    mail = [
        {"notification_id": note_id, "user_id": user_id, "to_email": emails[user_id], "mode": mode,
         "created_at": now, "due_at": now if mode == "immediate" else next_digest_time(now), "kind": kind,
         "statement_id": statement_id, "subject": subject, "body": body, "path": path}
        for note_id, user_id, subject, body, path in made
        if (mode := modes.get(user_id, "immediate")) != "off"
    ]
    if mail:
        db.session.execute(insert(OutboxMessage.__table__), mail)
    return [note_id for note_id, *_ in made]


def _modes(user_ids: set[int], kind: str) -> dict[int, str]:
    """Each user's delivery mode for ``kind`` where one is stored (the default is immediate)."""
    return dict(db.session.execute(
        select(NotificationPreference.user_id, NotificationPreference.mode).where(
            NotificationPreference.user_id.in_(user_ids), NotificationPreference.kind == kind)
    ).all())


def mail_contact(email: str, kind: str, *, subject: str, body: str, path: str, now: datetime,
                 statement: Statement | None = None) -> OutboxMessage:
    """An e-mail to someone who has no account yet (an organisation's contact)."""
    message = OutboxMessage(to_email=email, mode="immediate", due_at=now, created_at=now, kind=kind,
                            statement_id=statement.id if statement else None, subject=subject[:300],
                            body=body, path=path)
    db.session.add(message)
    db.session.flush()
    return message


# --- who should hear about what -----------------------------------------------------------


def members(organisations: Iterable[Organisation], *roles: str) -> list[User]:
    wanted = set(roles)
    people: dict[int, User] = {}
    for org in organisations:
        for membership in org.memberships:
            if membership.role in wanted:
                people.setdefault(membership.user_id, membership.user)
    return list(people.values())


def participants_people(statement: Statement, *roles: str) -> list[User]:
    people = members(statement.participant_organisations, *roles)
    if statement.coordinator not in people:
        people.append(statement.coordinator)
    return people


def amendment_path(amendment: Amendment) -> str:
    return f"/amendments/{amendment.id}"


def statement_path(statement: Statement, suffix: str = "") -> str:
    return f"/statements/{statement.id}{suffix}"


