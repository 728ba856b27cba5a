"""Telling people what is waiting for them.

Rules call ``notify`` inside their own transaction: it writes an in-app
Notification and, unless the person turned that kind of event off, an
OutboxMessage. Nothing is sent here (``delivery.send_due`` does that), so a
rolled-back change sends nothing. Plain functions; no Flask.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, func, insert, literal, select

from app.extensions import db
from app.i18n import Message, _
from app.models import (
    EVENT_KINDS,
    Amendment,
    Membership,
    Notification,
    NotificationPreference,
    Organisation,
    OutboxMessage,
    Statement,
    User,
)
from app.notifications import texts

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
            raise InvalidInput(_("Choose immediately, daily digest or never for each kind of event."))
    existing = {p.kind: p for p in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    for kind, mode in modes.items():
        if kind in existing:
            existing[kind].mode = mode
        else:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, mode=mode))
    db.session.flush()


def notify(
    users: Iterable[User], kind: str, *, subject: str | Message, body: str | Message, path: str, now: datetime,
    statement: Statement | None = None, exclude: User | None = None,
) -> list[int]:
    """Tell each of ``users`` (once each, never the person who acted) about an event; the new notifications' ids.

    ``subject`` and ``body``: messages (app.i18n ``_``) are shown to each person in their language
    (app/notifications/texts.py); plain text is shown as it is."""
    return notify_each([(users, subject, body, path)], kind, now=now, statement=statement, exclude=exclude)


def notify_each(
    events: Iterable[tuple[Iterable[User], str | Message, str | Message, str]], kind: str, *, now: datetime,
    statement: Statement | None = None, exclude: User | None = None,
) -> list[int]:
    """Several events of one kind at once, each ``(users, subject, body, path)``, as ``notify`` each.

    Whatever their number: one multi-row INSERT of the notifications, and one
    INSERT ... SELECT that makes their e-mails from them, with each person's address
    and delivery preference, in the caller's transaction.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    recipients: list[tuple[User, str, str, str, str | None]] = []
    for users, subject, body, path in events:
        chosen: set[int] = set()
        packed = texts.pack(subject, body)
        subject, body = texts.english(subject)[:300], texts.english(body)
        for user in users:
            if user.id in chosen or (exclude is not None and user.id == exclude.id) or not user.active:
                continue
            chosen.add(user.id)
            recipients.append((user, subject, body, path, packed))
    if not recipients:
        return []
    statement_id = statement.id if statement else None
    notes = Notification.__table__
    made = sorted(db.session.scalars(
        insert(notes).returning(notes.c.id),
        [{"user_id": user.id, "kind": kind, "statement_id": statement_id, "subject": subject, "body": body,
          "path": path, "created_at": now, "texts": packed} for user, subject, body, path, packed in recipients],
    ).all())
    db.session.execute(_mail_from_notifications(), {"ids": made, "now": now, "digest_at": next_digest_time(now)})
    return made


@functools.cache
def notify_participants(
    statement: Statement, roles: tuple[str, ...], kind: str, *, subject: str | Message, body: str | Message,
    path: str, now: datetime, exclude: User | None = None,
) -> list[int]:
    """``notify`` everyone with one of ``roles`` in a participating organisation, and the coordinator:
    the notifications made by one INSERT ... SELECT from the memberships, their e-mails by a second."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    notes = Notification.__table__
    packed = texts.pack(subject, body)
    subject, body = texts.english(subject), texts.english(body)
    in_participants = select(Membership.user_id).where(
        Membership.organisation_id.in_([o.id for o in statement.participant_organisations]),
        Membership.role.in_(roles))
    people = select(User.id, literal(kind), literal(statement.id), literal(subject[:300]), literal(body),
                    literal(path), literal(now, notes.c.created_at.type), literal(packed, notes.c.texts.type)).where(
        User.active.is_(True), User.id != (exclude.id if exclude is not None else 0),
        (User.id == statement.coordinator_id) | User.id.in_(in_participants))
    made = sorted(db.session.scalars(
        insert(notes).from_select(["user_id", "kind", "statement_id", "subject", "body", "path", "created_at", "texts"],
                                  people.order_by(User.id)).returning(notes.c.id)).all())
    if made:
        db.session.execute(_mail_from_notifications(),
                           {"ids": made, "now": now, "digest_at": next_digest_time(now)})
    return made


@functools.cache
def _mail_from_notifications():
    """INSERT ... SELECT: an e-mail for each new notification whose person has not turned its kind off,
    due now or at the next digest as they chose (immediately, unless they chose otherwise)."""
    note, person, outbox = Notification.__table__, User.__table__, OutboxMessage.__table__
    chosen = NotificationPreference.__table__
    mode = func.coalesce(chosen.c.mode, "immediate")
    now = bindparam("now", type_=outbox.c.due_at.type)
    columns = {
        "notification_id": note.c.id, "user_id": note.c.user_id, "to_email": person.c.email, "kind": note.c.kind,
        "statement_id": note.c.statement_id, "subject": note.c.subject, "body": note.c.body, "path": note.c.path,
        "texts": note.c.texts,
        "mode": mode, "status": literal("pending"), "attempts": literal(0), "last_error": literal(""),
        "created_at": now,
        "due_at": case((mode == "immediate", now), else_=bindparam("digest_at", type_=outbox.c.due_at.type)),
    }
    return insert(outbox).from_select(list(columns), select(*columns.values())
        .select_from(note.join(person, person.c.id == note.c.user_id)
                     .outerjoin(chosen, (chosen.c.user_id == note.c.user_id) & (chosen.c.kind == note.c.kind)))
        .where(note.c.id.in_(bindparam("ids", expanding=True)), mode != "off")
        .order_by(note.c.id))


def mail_contact(email: str, kind: str, *, subject: str | Message, body: str | Message, path: str, now: datetime,
                 statement: Statement | None = None, language: str | None = None) -> OutboxMessage:
    """An e-mail to someone who has no account yet (an organisation's contact), in ``language`` (a tag of
    app.i18n.LANGUAGES; the sender's: the mail is written as they would write it), else English."""
    message = OutboxMessage(to_email=email, mode="immediate", due_at=now, created_at=now, kind=kind,
                            statement_id=statement.id if statement else None,
                            subject=texts.english(subject)[:300], body=texts.english(body), path=path,
                            texts=texts.pack(subject, body, language=language))
    db.session.add(message)
    db.session.flush()
    return message


# --- who should hear about what -----------------------------------------------------------


def members(organisations: Iterable[Organisation], *roles: str) -> list[User]:
    """The people with one of ``roles`` in any of ``organisations``: one query, however many."""
    ids = [o.id for o in organisations]
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(User.id.in_(
        select(Membership.user_id).where(Membership.organisation_id.in_(ids), Membership.role.in_(roles))))
        .order_by(User.id)))


def amendment_path(amendment: Amendment) -> str:
    return f"/amendments/{amendment.id}"


def statement_path(statement: Statement, suffix: str = "") -> str:
    return f"/statements/{statement.id}{suffix}"


