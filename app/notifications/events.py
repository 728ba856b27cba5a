"""Telling people what is waiting for them.

Rules call ``notify`` inside their own transaction: it writes an in-app
Notification and, unless the person turned that kind of event off, an
OutboxMessage. Nothing is sent here (``delivery.send_due`` does that), so a
rolled-back change sends nothing. Plain functions; no Flask.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select

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


def preference(user: User, kind: str) -> str:
    with db.session.no_autoflush:  # pending notifications are flushed once, by the caller
        pref = db.session.scalar(select(NotificationPreference.mode).where(
            NotificationPreference.user_id == user.id, NotificationPreference.kind == kind))
    return pref or "immediate"


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
) -> list[Notification]:
    """Tell each of ``users`` (once each, never the person who acted) about an event."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    made = []
    seen: set[int] = set()
    for user in users:
        if user.id in seen or (exclude is not None and user.id == exclude.id) or not user.active:
            continue
        seen.add(user.id)
        note = Notification(user_id=user.id, kind=kind, statement_id=statement.id if statement else None,
                            subject=subject[:300], body=body, path=path, created_at=now)
        db.session.add(note)
        made.append(note)
        mode = preference(user, kind)
        if mode != "off":
            db.session.add(OutboxMessage(
                notification=note, user_id=user.id, to_email=user.email, mode=mode, created_at=now,
                due_at=now if mode == "immediate" else next_digest_time(now), kind=kind,
                statement_id=note.statement_id, subject=note.subject, body=body, path=path,
            ))
    return made  # flushed with the rest of the change


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


