"""The audit trail (promise 7): every rule appends exactly one chained entry; tampering is detected.

Runs on SQLite and PostgreSQL (through the ``app`` fixture). Tampering is done
with raw SQL, as someone with database access would; ``audit.verify`` and the
``flask audit verify`` / ``flask statements verify`` commands must notice it.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from app import audit
from app.amending import operations as amending
from app.drafting import operations as drafting
from app.extensions import db
from app.models import AuditEntry, Publication
from app.participation import withdrawals
from app.publishing import endorsement as endorsing
from app.publishing import publication as publishing
from app.signing import operations as signing
from tests import factories

PARAGRAPHS = ["The harbour must stay open to every worker.", "Ferries run every hour between the islands.",
              "Bread is baked in the town each morning."]


# --- helpers ------------------------------------------------------------------------------


def _entries(statement_id: int) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.statement_id == statement_id)
                                   .order_by(AuditEntry.seq)))


def _row(entry: AuditEntry) -> tuple:
    return (entry.id, entry.seq, entry.action, entry.actor_id, entry.organisation_id, entry.details,
            entry.created_at, entry.prev_hash, entry.hash)


def _audited(statement_id: int, call, *expected, **details):
    """``call`` appends exactly ``expected`` entries (action, actor, organisation), chained on the last one.

    ``details`` must appear in the details of the last new entry. Returns what ``call`` returned.
    """
    db.session.commit()
    before = [_row(e) for e in _entries(statement_id)]
    result = call()
    db.session.commit()
    after = _entries(statement_id)
    assert [_row(e) for e in after[:len(before)]] == before, "earlier entries must never change"
    new = after[len(before):]
    assert [(e.action, e.actor_id, e.organisation_id) for e in new] == [
        (action, actor.id if actor else None, org.id if org else None) for action, actor, org in expected]
    previous = after[len(before) - 1] if before else None
    for entry in new:
        assert entry.seq == (previous.seq + 1 if previous else 1)
        assert entry.prev_hash == (previous.hash if previous else audit.GENESIS)
        assert entry.hash == audit.entry_hash(entry)
        previous = entry
    stored = json.loads(new[-1].details) if new else {}
    for key, value in details.items():
        assert stored[key] == value, key
    return result


def _intact() -> int:
    checked, breaks = audit.verify()
    assert breaks == []
    return checked


@pytest.fixture
def w(app, now):
    """Three organisations with delegates and signatories, and a coordinator in A."""
    a = factories.organisation("Harbour Workers' Union", slug="hwu")
    b = factories.organisation("Green Valley Alliance", slug="gva")
    c = factories.organisation("Coastal Tenants Network", slug="ctn")
    outside = factories.organisation("Outside Collective", slug="out")
    return SimpleNamespace(
        now=now, a=a, b=b, c=c, outside=outside,
        coordinator=factories.member(a, "delegate"),
        del_b=factories.member(b, "delegate"), del_c=factories.member(c, "delegate"),
        sig_a=factories.member(a, "signatory"), sig_b=factories.member(b, "signatory"),
        sig_c=factories.member(c, "signatory"), admin_c=factories.member(c, "admin"),
    )


def _create(w, title: str = "A Joint Statement on Harbours"):
    statement = drafting.create_statement(w.coordinator, title=title, coordinator_organisation=w.a,
                                          participants=[w.b, w.c], paragraphs=PARAGRAPHS, now=w.now)
    db.session.commit()
    return statement


def _sign(w, statement, user, org, minutes: int = 10):
    return lambda: signing.sign(statement, user, org, signer_name=user.name, signer_title="Chair",
                                authorised=True, password=factories.PASSWORD,
                                version_sha256=statement.frozen_version.sha256, ip_address="192.0.2.1",
                                user_agent="UA", now=w.now + timedelta(minutes=minutes))


def _published(w, title: str = "A Joint Statement on Harbours"):
    """A statement taken from creation to publication; returns it."""
    statement = _create(w, title)
    amending.open_for_amendments(statement, w.coordinator, rule="coordinator", deadline=None, now=w.now)
    signing.freeze(statement, w.coordinator, now=w.now)
    db.session.commit()
    for user, org in ((w.sig_a, w.a), (w.sig_b, w.b), (w.sig_c, w.c)):
        _sign(w, statement, user, org)()
        db.session.commit()
    publishing.publish(statement, w.coordinator, publication_date=None, now=w.now + timedelta(hours=1))
    db.session.commit()
    return statement


def _raw(sql: str, **params) -> None:
    db.session.execute(text(sql), params)
    db.session.commit()


def _entry_id(statement_id: int, seq: int) -> int:
    return db.session.scalar(select(AuditEntry.id).where(AuditEntry.statement_id == statement_id,
                                                         AuditEntry.seq == seq))


# --- every rule appends its entry -----------------------------------------------------------------


def test_drafting_rules_are_audited(w):
    """Creation and every direct edit of the draft append one chained entry each; a no-op edit none."""
    statement = drafting.create_statement(w.coordinator, title="Draft Title", coordinator_organisation=w.a,
                                          participants=[w.b], paragraphs=PARAGRAPHS, now=w.now)
    db.session.commit()
    [created] = _entries(statement.id)
    assert (created.seq, created.action, created.actor_id, created.prev_hash) == (
        1, "created", w.coordinator.id, audit.GENESIS)
    assert json.loads(created.details)["version"] == 1
    assert created.hash == audit.entry_hash(created)
    sid = statement.id
    first, second = drafting.live_paragraphs(statement)[:2]
    _audited(sid, lambda: drafting.edit_paragraph(statement, w.coordinator, first.id, "A new first.",
                                                  base_revision_id=None, now=w.now),
             ("edited", w.coordinator, None), version=2, note="Edited ¶ 1")
    _audited(sid, lambda: drafting.insert_paragraph(statement, w.coordinator, "Inserted.", after_id=None,
                                                    now=w.now), ("edited", w.coordinator, None), version=3)
    _audited(sid, lambda: drafting.move_paragraph(statement, w.coordinator, second.id, "up", now=w.now),
             ("edited", w.coordinator, None), version=4)
    _audited(sid, lambda: drafting.delete_paragraph(statement, w.coordinator, second.id,
                                                    base_revision_id=None, now=w.now),
             ("edited", w.coordinator, None), version=5)
    _audited(sid, lambda: drafting.retitle(statement, w.coordinator, "Better Title", now=w.now),
             ("edited", w.coordinator, None), version=6, note="Changed the title")
    _audited(sid, lambda: drafting.retitle(statement, w.coordinator, "Better Title", now=w.now))  # no change
    assert _intact() == 6


def test_amending_rules_are_audited(w):
    """Open, propose, co-sponsor, position, comment, edit, withdraw, reject and accept: one entry each."""
    statement = _create(w)
    sid = statement.id
    p1, p2, p3 = drafting.live_paragraphs(statement)
    _audited(sid, lambda: amending.open_for_amendments(statement, w.coordinator, rule="coordinator",
                                                       deadline=None, now=w.now),
             ("opened", w.coordinator, None), decision_rule="coordinator")
    first = _audited(sid, lambda: amending.propose(statement, w.del_b, w.b, kind="modify", paragraph_id=p1.id,
                                                   text="The harbour stays open.", now=w.now),
                     ("proposed", w.del_b, w.b), kind="modify", text="The harbour stays open.")
    _audited(sid, lambda: amending.edit_amendment(first, w.del_b, text="The harbour stays open to all.",
                                                  rationale="", now=w.now),
             ("amendment_edited", w.del_b, None), amendment=first.id, text="The harbour stays open to all.")
    _audited(sid, lambda: amending.cosponsor(first, w.del_c, w.c, now=w.now), ("cosponsored", w.del_c, w.c),
             amendment=first.id)
    _audited(sid, lambda: amending.take_position(first, w.del_c, w.c, "support", now=w.now),
             ("position", w.del_c, w.c), stance="support")
    comment = _audited(sid, lambda: amending.add_comment(first, w.del_c, "Fine by us.", now=w.now),
                       ("commented", w.del_c, None))
    assert json.loads(_entries(sid)[-1].details)["comment"] == comment.id
    second = amending.propose(statement, w.del_b, w.b, kind="delete", paragraph_id=p2.id, now=w.now)
    third = amending.propose(statement, w.del_c, w.c, kind="delete", paragraph_id=p3.id, now=w.now)
    db.session.commit()
    _audited(sid, lambda: amending.withdraw_amendment(second, w.del_b, now=w.now),
             ("amendment_withdrawn", w.del_b, None), amendment=second.id)
    _audited(sid, lambda: amending.reject(third, w.coordinator, reason="We keep it.", now=w.now),
             ("rejected", w.coordinator, None), amendment=third.id, reason="We keep it.")
    first = db.session.get(type(first), first.id)
    version = _audited(sid, lambda: amending.accept(first, w.coordinator, text_version=first.text_version,
                                                    now=w.now), ("accepted", w.coordinator, None),
                       amendment=first.id, version=2)
    assert json.loads(_entries(sid)[-1].details)["sha256"] == version.sha256
    _intact()


def test_signing_rules_are_audited(w):
    """Freeze, sign, revoke, withdraw, reopen, reinvite, publish and endorse: one entry each."""
    statement = _create(w)
    sid = statement.id
    amending.open_for_amendments(statement, w.coordinator, rule="coordinator", deadline=None, now=w.now)
    db.session.commit()
    _audited(sid, lambda: withdrawals.withdraw_organisation(statement, w.admin_c, w.c, reason="Busy.", now=w.now),
             ("organisation_withdrew", w.admin_c, w.c), reason="Busy.")
    _audited(sid, lambda: withdrawals.reinvite(statement, w.coordinator, w.c, now=w.now),
             ("organisation_reinvited", w.coordinator, w.c), earlier_reason="Busy.")
    _audited(sid, lambda: signing.freeze(statement, w.coordinator, now=w.now),
             ("frozen", w.coordinator, None), version=1, auto_publish=False)
    sha = statement.frozen_version.sha256
    signature = _audited(sid, _sign(w, statement, w.sig_b, w.b), ("signed", w.sig_b, w.b),
                         sha256=sha, signer_name=w.sig_b.name, signer_title="Chair", ip="192.0.2.1",
                         user_agent="UA")
    _audited(sid, lambda: signing.revoke(signature, w.sig_b, now=w.now), ("signature_revoked", w.sig_b, w.b),
             signature=signature.id)
    _sign(w, statement, w.sig_b, w.b)()
    db.session.commit()
    voided = _audited(sid, lambda: signing.reopen(statement, w.coordinator, now=w.now),
                      ("reopened", w.coordinator, None))
    assert json.loads(_entries(sid)[-1].details)["voided"] == [v.id for v in voided]
    signing.freeze(statement, w.coordinator, auto_publish=True, now=w.now)
    db.session.commit()
    _audited(sid, _sign(w, statement, w.sig_a, w.a), ("signed", w.sig_a, w.a))
    _audited(sid, _sign(w, statement, w.sig_b, w.b), ("signed", w.sig_b, w.b))
    last = _audited(sid, _sign(w, statement, w.sig_c, w.c), ("signed", w.sig_c, w.c),
                           ("published", w.coordinator, None), automatic=True, version=1)
    stored = db.session.scalar(select(Publication).where(Publication.statement_id == sid))
    assert json.loads(_entries(sid)[-1].details)["sha256"] == stored.sha256
    assert last.organisation_id == w.c.id and stored.version_id == statement.frozen_version_id
    _audited(sid, lambda: endorsing.add_endorsement(statement, w.coordinator, w.outside,
                                                  endorsed_on=w.now.date(), now=w.now),
             ("endorsed", w.coordinator, w.outside), endorsed_on=w.now.date().isoformat())
    _intact()


def test_manual_publish_and_statement_withdrawal_are_audited(w):
    """A manual publish records its date; withdrawing another statement records the reason."""
    statement = _create(w)
    amending.open_for_amendments(statement, w.coordinator, rule="coordinator", deadline=None, now=w.now)
    signing.freeze(statement, w.coordinator, now=w.now)
    db.session.commit()
    for user, org in ((w.sig_a, w.a), (w.sig_b, w.b), (w.sig_c, w.c)):
        _sign(w, statement, user, org)()
        db.session.commit()
    _audited(statement.id, lambda: publishing.publish(
        statement, w.coordinator, publication_date=date(2026, 3, 3), now=w.now),
        ("published", w.coordinator, None), publication_date="2026-03-03", automatic=False)
    other = _create(w, "Another Statement")
    _audited(other.id, lambda: signing.withdraw_statement(
        other, w.coordinator, reason="Overtaken.", now=w.now),
        ("statement_withdrawn", w.coordinator, None), reason="Overtaken.")
    assert [e.seq for e in _entries(other.id)] == [1, 2]  # each statement has its own chain
    _intact()


def test_unknown_action_is_refused(w):
    """record() refuses an action that has no label, so the timeline never shows a raw code."""
    statement = _create(w)
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(statement.id, "teleported", w.coordinator, now=w.now)
    db.session.rollback()
    assert len(_entries(statement.id)) == 1


# --- verify ---------------------------------------------------------------------------------------


def test_verify_intact_counts_every_entry(w):
    """After a full life on two statements, every chain verifies and every entry is counted."""
    first = _published(w)
    second = _published(w, "Second Statement")
    total = len(_entries(first.id)) + len(_entries(second.id))
    assert total == 2 * 7  # created, opened, frozen, 3 signed, published
    assert _intact() == total
    assert audit.verify(first.id) == (7, [])


@pytest.mark.parametrize("column, value", [
    ("details", '{"sha256":"0000","version":1}'),
    ("action", "edited"),
    ("created_at", "2020-01-01 00:00:00+00:00"),
    ("hash", "f" * 64),
    ("details", "not json at all"),
])
def test_verify_names_the_edited_entry(w, column, value):
    """A raw UPDATE of one row is reported at that statement and seq; other statements stay intact."""
    untouched = _published(w, "Untouched Statement")
    statement = _published(w)
    _raw(f"UPDATE audit_entries SET {column} = :value WHERE statement_id = :sid AND seq = 4",
         value=value, sid=statement.id)
    checked, breaks = audit.verify()
    assert checked == 14
    assert [(b.statement_id, b.seq, b.entry_id) for b in breaks] == [
        (statement.id, 4, _entry_id(statement.id, 4))]
    assert "changed" in breaks[0].problem
    assert audit.verify(untouched.id) == (7, [])


def test_verify_catches_a_forger_who_rehashes_the_edited_row(w):
    """Editing a row and recomputing its own hash breaks the next entry's link."""
    statement = _published(w)
    entry = _entries(statement.id)[3]
    entry.details = json.dumps({"forged": True})
    entry.hash = audit.entry_hash(entry)
    db.session.commit()
    _, breaks = audit.verify()
    assert [(b.seq, b.problem) for b in breaks] == [
        (5, "it does not point at the hash of the entry before it")]


@pytest.mark.parametrize("seq", [1, 4])
def test_verify_reports_a_deleted_entry(w, seq):
    """Deleting an entry (the first or a middle one) reports the missing seq."""
    statement = _published(w)
    _raw("DELETE FROM audit_entries WHERE statement_id = :sid AND seq = :seq", sid=statement.id, seq=seq)
    _, breaks = audit.verify()
    assert [(b.statement_id, b.seq) for b in breaks] == [(statement.id, seq + 1)]
    assert f"entry {seq} is missing" in breaks[0].problem


@pytest.mark.parametrize("seq", [1, 5])
def test_verify_reports_a_changed_prev_hash(w, seq):
    """Pointing an entry at another previous hash is reported at that entry."""
    statement = _published(w)
    _raw("UPDATE audit_entries SET prev_hash = :h WHERE statement_id = :sid AND seq = :seq",
         h="a" * 64, sid=statement.id, seq=seq)
    _, breaks = audit.verify()
    assert [(b.statement_id, b.seq) for b in breaks] == [(statement.id, seq)]
    assert "does not point" in breaks[0].problem


# --- flask audit verify -----------------------------------------------------------------------------


def test_cli_audit_verify_intact(w, runner):
    """``flask audit verify`` exits 0 and says INTACT with the number of entries checked."""
    _published(w)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("INTACT: 7 audit entries checked")


def test_cli_audit_verify_names_the_broken_entry(w, runner):
    """After a raw UPDATE, ``flask audit verify`` exits 1 and names statement, seq and row id."""
    statement = _published(w)
    _raw("UPDATE audit_entries SET details = :d WHERE statement_id = :sid AND seq = 3",
         d='{"version":99}', sid=statement.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1, result.output
    entry_id = _entry_id(statement.id, 3)
    assert f"BROKEN: statement {statement.id}, entry 3 (id {entry_id})" in result.output
    assert "INTACT" not in result.output


# --- flask statements verify ------------------------------------------------------------------------


@pytest.fixture
def manifest_file(w, tmp_path):
    """The published manifest, saved as a reader would download it."""
    statement = _published(w)
    publication = db.session.scalar(select(Publication).where(Publication.statement_id == statement.id))
    path = tmp_path / "statement.json"
    path.write_text(publication.manifest, encoding="utf-8")
    return path


def _edit_manifest(path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_cli_statements_verify_intact(runner, manifest_file):
    """A published manifest verifies: exit 0 and INTACT."""
    result = runner.invoke(args=["statements", "verify", str(manifest_file)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("INTACT:")
    assert "3 signatures" in result.output


@pytest.mark.parametrize("change", [
    lambda m: m.update(text=m["text"].replace("harbour", "harbours", 1)),
    lambda m: m["signatures"][0].update(signer_name=m["signatures"][0]["signer_name"] + "x"),
], ids=["text", "signer-name"])
def test_cli_statements_verify_broken(runner, manifest_file, change):
    """One character changed in the text or a signer's name: exit 1 and BROKEN."""
    _edit_manifest(manifest_file, change)
    result = runner.invoke(args=["statements", "verify", str(manifest_file)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("BROKEN:")


@pytest.mark.parametrize("content", [b"this is not json", b"[1, 2, 3]", b"\xff\xfe\x00garbage"],
                         ids=["text", "array", "binary"])
def test_cli_statements_verify_not_a_manifest(runner, tmp_path, w, content):
    """A file that is not a JSON manifest gives a clear error, not a traceback."""
    path = tmp_path / "nonsense.json"
    path.write_bytes(content)
    result = runner.invoke(args=["statements", "verify", str(path)])
    assert result.exit_code == 1, result.output
    assert "is not a JSON manifest" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
