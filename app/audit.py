"""The audit trail: append-only entries per statement, each hash covering the previous one.

``record`` is called by the rules inside their transaction, after they have
taken the statement's lock, so entries of one statement are written one at a
time; the unique (statement_id, seq) constraint refuses a fork anyway.
``verify`` recomputes every chain and names the first broken entry (promise 7).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.i18n import N_
from app.models import AuditEntry, Organisation, User

GENESIS = "0" * 64

ACTION_LABELS = {
    "created": N_("created the statement"),
    "edited": N_("edited the draft"),
    "opened": N_("opened it for amendments"),
    "proposed": N_("proposed an amendment"),
    "amendment_edited": N_("edited an amendment"),
    "amendment_withdrawn": N_("withdrew an amendment"),
    "cosponsored": N_("co-sponsored an amendment"),
    "position": N_("took a position"),
    "commented": N_("commented"),
    "suggested": N_("suggested a change to an amendment"),
    "suggestion_adopted": N_("adopted a suggestion"),
    "suggestion_declined": N_("declined a suggestion"),
    "suggestion_withdrawn": N_("withdrew a suggestion"),
    "accepted": N_("accepted an amendment"),
    "rejected": N_("rejected an amendment"),
    "frozen": N_("froze the text for signing"),
    "signed": N_("signed"),
    "signature_revoked": N_("revoked a signature"),
    "organisation_withdrew": N_("withdrew an organisation"),
    "organisation_reinvited": N_("re-invited an organisation"),
    "organisation_invited": N_("invited an organisation"),
    "invitation_accepted": N_("accepted the invitation"),
    "invitation_declined": N_("declined the invitation"),
    "invitation_resent": N_("sent an invitation again"),
    "invitation_revoked": N_("revoked an invitation"),
    "reopened": N_("reopened for amendments"),
    "published": N_("published the statement"),
    "endorsed": N_("added a later endorsement"),
    "archived": N_("recorded the statement as signed and published elsewhere"),
    "recorded_signature_confirmed": N_("confirmed a recorded signature"),
    "recorded_signature_disputed": N_("disputed a recorded signature"),
    "statement_withdrawn": N_("withdrew the statement"),
    "source_language_set": N_("set the source language"),
    "language_added": N_("added a language"),
    "language_removed": N_("removed a language"),
    "translated": N_("translated"),
    "translation_published": N_("published a translation"),
}


def amendment_of(entry: AuditEntry) -> int | None:
    """The amendment an entry is about (its details name it), for the trail to say which."""
    try:
        value = json.loads(entry.details).get("amendment")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def canonical(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: AuditEntry) -> str:
    body = {
        "statement_id": entry.statement_id,
        "seq": entry.seq,
        "action": entry.action,
        "actor_id": entry.actor_id,
        "organisation_id": entry.organisation_id,
        "details": json.loads(entry.details),
        "created_at": entry.created_at.isoformat(),
        "prev_hash": entry.prev_hash,
    }
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def record(
    statement_id: int,
    action: str,
    actor: User | None,
    *,
    now: datetime,
    organisation: Organisation | None = None,
    **details,
) -> AuditEntry:
    if action not in ACTION_LABELS:
        raise ValueError(f"unknown audit action {action!r}")
    seq, prev_hash = _head(statement_id)
    entry = AuditEntry(
        statement_id=statement_id,
        seq=seq + 1,
        action=action,
        actor_id=actor.id if actor else None,
        organisation_id=organisation.id if organisation else None,
        details=canonical(details),
        created_at=now.astimezone(UTC),
        prev_hash=prev_hash,
    )
    entry.hash = entry_hash(entry)
    db.session.add(entry)
    db.session.flush()
    continue_from(statement_id, entry.seq, entry.hash)
    return entry


_HEADS = "concord_audit_heads"


def head_columns(statement_id: int) -> tuple:
    """(seq, hash) of the newest entry of the chain, as two scalar subqueries: a rule that reads a row
    anyway after taking the statement's lock adds them to that query and hands them to
    ``continue_from``, which saves the query ``record`` would otherwise make."""
    newest = (select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.statement_id == statement_id)
              .order_by(AuditEntry.seq.desc()).limit(1))
    return (newest.with_only_columns(AuditEntry.seq).scalar_subquery(),
            newest.with_only_columns(AuditEntry.hash).scalar_subquery())


def continue_from(statement_id: int, seq: int | None, last_hash: str | None) -> None:
    """The newest entry of ``statement_id``'s chain, as this transaction read it under the statement's
    lock (see ``head_columns``): its entries follow it without reading it again."""
    heads = db.session.info.setdefault(_HEADS, {})
    heads[statement_id] = (db.session().get_transaction(), seq or 0, last_hash or GENESIS)


def _head(statement_id: int) -> tuple[int, str]:
    """(seq, hash) of the newest entry: as this transaction last saw it under the lock, else read."""
    known = db.session.info.get(_HEADS, {}).get(statement_id)
    if known is not None and known[0] is db.session().get_transaction():
        return known[1], known[2]
    last = db.session.execute(
        select(AuditEntry.seq, AuditEntry.hash)
        .where(AuditEntry.statement_id == statement_id)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    return (last.seq, last.hash) if last else (0, GENESIS)


@dataclass
class Break:
    statement_id: int
    seq: int
    entry_id: int | None
    problem: str


def _hash_or_none(entry: AuditEntry) -> str | None:
    """The entry's hash, or None when a tampered row cannot even be read (details not JSON...)."""
    try:
        return entry_hash(entry)
    except (ValueError, TypeError, AttributeError):
        return None


def _problem(entry: AuditEntry, expected_seq: int, expected_prev: str) -> str | None:
    """What is wrong with ``entry`` as the one after (expected_seq - 1, expected_prev), if anything."""
    if entry.seq != expected_seq:
        return f"entry {expected_seq} is missing (found {entry.seq} next)"
    if entry.prev_hash != expected_prev:
        return "it does not point at the hash of the entry before it"
    if _hash_or_none(entry) != entry.hash:
        return "its contents do not match its hash (it was changed)"
    return None


def verify(statement_id: int | None = None) -> tuple[int, list[Break]]:
    """Check every chain (or one). Returns (entries checked, first break of each broken chain)."""
    query = select(AuditEntry).order_by(AuditEntry.statement_id, AuditEntry.seq)
    if statement_id is not None:
        query = query.where(AuditEntry.statement_id == statement_id)
    checked, breaks = 0, []
    current, expected_prev, expected_seq, broken = None, GENESIS, 1, False
    for entry in db.session.scalars(query).yield_per(500):
        if entry.statement_id != current:
            current, expected_prev, expected_seq, broken = entry.statement_id, GENESIS, 1, False
        checked += 1
        if broken:
            continue
        problem = _problem(entry, expected_seq, expected_prev)
        if problem:
            breaks.append(Break(entry.statement_id, entry.seq, entry.id, problem))
            broken = True
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    return checked, breaks


def verify_stretch(entries: list[AuditEntry], before: AuditEntry | None) -> Break | None:
    """Check consecutive entries of one chain and their link to the entry ``before`` them (None: they
    start the chain): the first break among them, if any. A page of the trail checks what it shows."""
    expected_seq, expected_prev = (before.seq + 1, before.hash) if before is not None else (1, GENESIS)
    for entry in entries:
        problem = _problem(entry, expected_seq, expected_prev)
        if problem:
            return Break(entry.statement_id, entry.seq, entry.id, problem)
        expected_seq, expected_prev = entry.seq + 1, entry.hash
    return None


def trail(statement_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(trail_query(statement_id)))


def trail_query(statement_id: int):
    """A statement's entries in order, with who acted: a select, for the caller to page through."""
    return (select(AuditEntry).where(AuditEntry.statement_id == statement_id).order_by(AuditEntry.seq)
            .options(selectinload(AuditEntry.actor), selectinload(AuditEntry.organisation)))


def entry_before(statement_id: int, seq: int) -> AuditEntry | None:
    return db.session.scalar(select(AuditEntry).where(AuditEntry.statement_id == statement_id,
                                                      AuditEntry.seq == seq - 1))
