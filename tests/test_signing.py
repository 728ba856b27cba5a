"""Signing rules: freeze, sign, revoke, withdraw, reopen, publish, endorse (promises 2, 4, 6).

Runs on SQLite and PostgreSQL (through the ``app`` fixture), without the HTTP
client. Every refusal is checked against the database: the rule raises, the
caller rolls back, and not one row of any table (audit entries, signatures and
publications included) has changed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text

from app.amending import operations as amending
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound, WrongPhase
from app.extensions import db
from app.models import (
    Amendment,
    AuditEntry,
    Endorsement,
    Participant,
    Publication,
    Signature,
    Statement,
    Version,
)
from app.participation import withdrawals
from app.publishing import endorsement as endorsing
from app.publishing import publication as publishing
from app.publishing import sealing
from app.publishing.verify import verify_manifest
from app.signing import operations as signing
from app.signing.operations import AlreadySigned
from tests import factories

TITLE = "A Joint Statement on Harbours"
P1 = "The harbour must stay open to every worker."
P2 = "Ferries run every hour between the islands."
P3 = "Bread is baked in the town each morning."
A_NAME = "Harbour Workers' Union"
B_NAME = "Green Valley Alliance"
C_NAME = "Coastal Tenants Network"


# --- helpers ------------------------------------------------------------------------------


def _state() -> dict[str, list[tuple]]:
    """Every row of every table, as sorted tuples."""
    return {
        t.name: sorted((tuple(r) for r in db.session.execute(text(f"SELECT * FROM {t.name}"))), key=repr)
        for t in db.metadata.sorted_tables
    }


def _refused(error, call, match: str | None = None):
    """``call`` raises ``error`` and, after the rollback a request would do, nothing has changed."""
    db.session.commit()
    before = _state()
    assert before["audit_entries"], "the world should have an audit trail to protect"
    with pytest.raises(error, match=match) as caught:
        call()
    db.session.rollback()
    assert _state() == before
    return caught.value


def _fresh(w) -> Statement:
    db.session.expire_all()
    return db.session.get(Statement, w.statement.id)


def _count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


def _signatures(w) -> list[Signature]:
    db.session.expire_all()
    return list(db.session.scalars(select(Signature).where(Signature.statement_id == w.statement.id)
                                   .order_by(Signature.id)))


def _publication(w) -> Publication | None:
    db.session.expire_all()
    return db.session.scalar(select(Publication).where(Publication.statement_id == w.statement.id))


def _freeze(w, minutes: int = 0, **kw) -> Statement:
    statement = signing.freeze(w.statement, w.coordinator, now=w.now + timedelta(minutes=minutes), **kw)
    db.session.commit()
    return statement


def _sha(w) -> str:
    return _fresh(w).frozen_version.sha256


def _sign_call(w, user, org, minutes: int = 1, **kw):
    args = dict(signer_name=f"{user.name} Signer", signer_title="Secretary General", authorised=True,
                password=factories.PASSWORD, ip_address="203.0.113.7", user_agent="TestBrowser/1.0",
                now=w.now + timedelta(minutes=minutes))
    args.update(kw)
    if "version_sha256" not in args:
        args["version_sha256"] = _sha(w)
    return lambda: signing.sign(w.statement, user, org, **args)


def _sign(w, user, org, minutes: int = 1, **kw) -> Signature:
    signature = _sign_call(w, user, org, minutes, **kw)()
    db.session.commit()
    return signature


def _sign_all(w, minutes: int = 1) -> None:
    for user, org in ((w.sig_a, w.a), (w.sig_b, w.b), (w.sig_c, w.c)):
        _sign(w, user, org, minutes)


def _publish(w, publication_date: date | None = None, minutes: int = 5) -> Publication:
    publication = publishing.publish(w.statement, w.coordinator, publication_date=publication_date,
                                  now=w.now + timedelta(minutes=minutes))
    db.session.commit()
    return publication


def _propose_and_accept(w, number: int, new_text: str, minutes: int = 0) -> Version:
    paragraph = amending.paragraph_numbers(_fresh(w))
    paragraph_id = next(pid for pid, n in paragraph.items() if n == number)
    amendment = amending.propose(w.statement, w.del_b, w.b, kind="modify", paragraph_id=paragraph_id,
                                 text=new_text, now=w.now + timedelta(minutes=minutes))
    db.session.commit()
    version = amending.accept(amendment, w.coordinator, text_version=amendment.text_version,
                              now=w.now + timedelta(minutes=minutes))
    db.session.commit()
    return version


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def w(app, now):
    """Three participating organisations (A coordinates) open for amendments, and an outsider."""
    a = factories.organisation(A_NAME, slug="hwu", short_name="HWU")
    b = factories.organisation(B_NAME, slug="gva", short_name="GVA")
    c = factories.organisation(C_NAME, slug="ctn")
    outside = factories.organisation("Outside Collective", slug="out")
    coordinator = factories.member(a, "delegate")
    world = SimpleNamespace(
        now=now, a=a, b=b, c=c, outside=outside, coordinator=coordinator,
        sig_a=factories.member(a, "signatory", name="Ada Signer"),
        sig_b=factories.member(b, "signatory", name="Ben Signer"),
        sig_c=factories.member(c, "signatory", name="Cleo Signer"),
        del_b=factories.member(b, "delegate"),
        admin_c=factories.member(c, "admin"),
        sig_out=factories.member(outside, "signatory"),
        statement=factories.statement(coordinator, a, participants=[b, c], title=TITLE,
                                      paragraphs=[P1, P2, P3]),
    )
    amending.open_for_amendments(world.statement, coordinator, rule="coordinator", deadline=None, now=now)
    db.session.commit()
    return world


@pytest.fixture
def frozen(w):
    """The statement frozen for signing at v1."""
    _freeze(w)
    return w


@pytest.fixture
def signed(frozen):
    """Every organisation has signed the frozen version."""
    _sign_all(frozen)
    return frozen


@pytest.fixture
def published(signed):
    """The statement published on the day it was signed."""
    _publish(signed)
    return signed


# --- freeze -------------------------------------------------------------------------------------


def test_freeze_moves_to_signing_at_the_current_version(w):
    """Freezing after an accepted amendment freezes v2, with the deadline and plans stored."""
    version = _propose_and_accept(w, 2, "Ferries run every half hour between the islands.")
    deadline = w.now + timedelta(days=14)
    _freeze(w, signing_deadline=deadline, planned_publication_date=date(2026, 3, 20), auto_publish=True)
    statement = _fresh(w)
    assert statement.status == "signing"
    assert version.number == 2
    assert statement.frozen_version_id == version.id
    assert statement.frozen_version.sha256 == version.sha256
    assert statement.signing_deadline == deadline
    assert statement.planned_publication_date == date(2026, 3, 20)
    assert statement.auto_publish is True


def test_freeze_closes_open_amendments_as_not_decided_and_keeps_them(w):
    """Open amendments become not_decided (still stored); decided ones stay as they were."""
    ids = amending.paragraph_numbers(_fresh(w))
    by_number = {n: pid for pid, n in ids.items()}
    undecided = amending.propose(w.statement, w.del_b, w.b, kind="modify", paragraph_id=by_number[1],
                                 text="The harbour stays open to every worker.", now=w.now)
    rejected = amending.propose(w.statement, w.del_b, w.b, kind="delete", paragraph_id=by_number[3],
                                now=w.now)
    db.session.commit()
    amending.reject(rejected, w.coordinator, reason="We keep the bread.", now=w.now)
    db.session.commit()
    before = _count(Amendment)
    _freeze(w, minutes=3)
    assert _count(Amendment) == before == 2
    closed = db.session.get(Amendment, undecided.id)
    assert closed.status == "not_decided"
    assert closed.decided_at == w.now + timedelta(minutes=3)
    assert closed.decided_by_id == w.coordinator.id
    assert closed.proposed_text == "The harbour stays open to every worker."
    assert db.session.get(Amendment, rejected.id).status == "rejected"


def test_freeze_only_by_the_coordinator(w):
    """Signatories, delegates and a platform admin cannot freeze."""
    for person in (w.sig_a, w.del_b, factories.admin()):
        _refused(NotAllowed, lambda p=person: signing.freeze(w.statement, p, now=w.now), "coordinator")
    assert _fresh(w).status == "amending"


@pytest.mark.parametrize("phase", ["signing", "published", "withdrawn"])
def test_freeze_only_while_amending(w, phase):
    """Freezing once signing has begun, or after, is WrongPhase and changes nothing (a draft is frozen
    only with the confirmation that no amendment round took place: tests/test_waiting.py)."""
    w.statement.status = phase
    _refused(WrongPhase, lambda: signing.freeze(w.statement, w.coordinator, now=w.now))


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(seconds=-1), timedelta(days=-3)])
def test_freeze_deadline_must_be_in_the_future(w, offset):
    """A signing deadline at or before now is InvalidInput on signing_deadline."""
    error = _refused(InvalidInput, lambda: signing.freeze(
        w.statement, w.coordinator, signing_deadline=w.now + offset, now=w.now), "future")
    assert error.field == "signing_deadline"


def test_freeze_planned_publication_in_the_past_is_refused(w):
    """A planned publication date before today is InvalidInput."""
    error = _refused(InvalidInput, lambda: signing.freeze(
        w.statement, w.coordinator, planned_publication_date=w.now.date() - timedelta(days=1), now=w.now))
    assert error.field == "planned_publication_date"


# --- sign ---------------------------------------------------------------------------------------


def test_sign_records_everything(frozen):
    """A signature stores organisation, person, typed name and title, UTC time, hash, IP and agent."""
    w = frozen
    sha = _sha(w)
    when = datetime(2026, 3, 1, 14, 30, tzinfo=UTC)
    _sign(w, w.sig_b, w.b, signer_name="  Ben   Okafor ", signer_title="Chair", now=when,
          ip_address="198.51.100.4", user_agent="Mozilla/5.0 (Test)")
    [signature] = _signatures(w)
    assert signature.organisation_id == w.b.id
    assert signature.user_id == w.sig_b.id
    assert signature.signer_name == "Ben Okafor"
    assert signature.signer_title == "Chair"
    assert signature.signed_at == when
    assert signature.signed_at.utcoffset() == timedelta(0)
    assert signature.version_sha256 == sha
    assert signature.version_id == _fresh(w).frozen_version_id
    assert signature.ip_address == "198.51.100.4"
    assert signature.user_agent == "Mozilla/5.0 (Test)"
    assert signature.status == "valid"
    assert _fresh(w).status == "signing"  # not every organisation has signed


def test_sign_by_a_signatory_of_another_organisation_is_refused(frozen):
    """A's signatory cannot sign for B; an outsider's signatory cannot sign for anyone here."""
    w = frozen
    _refused(NotAllowed, _sign_call(w, w.sig_a, w.b), "not a signatory")
    _refused(NotAllowed, _sign_call(w, w.sig_out, w.b), "not a signatory")
    error = _refused(NotAllowed, _sign_call(w, w.sig_out, w.outside), "does not take part")
    assert error.field == "organisation"


def test_sign_by_a_delegate_or_admin_who_is_not_signatory_is_refused(frozen):
    """The delegate of B, the admin of C and the coordinator are not signatories."""
    w = frozen
    _refused(NotAllowed, _sign_call(w, w.del_b, w.b), "not a signatory")
    _refused(NotAllowed, _sign_call(w, w.admin_c, w.c), "not a signatory")
    _refused(NotAllowed, _sign_call(w, w.coordinator, w.a), "not a signatory")


def test_sign_with_wrong_password_writes_nothing(frozen):
    """A wrong password is InvalidInput on the password field; no signature, no audit entry."""
    error = _refused(InvalidInput, _sign_call(frozen, frozen.sig_b, frozen.b, password="wrong horse"))
    assert error.field == "password"
    assert _count(Signature) == 0


def test_sign_without_authorisation_tick_is_refused(frozen):
    """Leaving "I am authorised" unticked is InvalidInput naming the organisation."""
    error = _refused(InvalidInput, _sign_call(frozen, frozen.sig_b, frozen.b, authorised=False), B_NAME)
    assert error.field == "authorised"


@pytest.mark.parametrize("field", ["signer_name", "signer_title"])
@pytest.mark.parametrize("value", ["", "   ", "x" * 201, "Ben\x07Okafor"])
def test_sign_with_bad_name_or_title_is_refused(frozen, field, value):
    """An empty, blank, overlong or control-character name or title is InvalidInput on that field."""
    error = _refused(InvalidInput, _sign_call(frozen, frozen.sig_b, frozen.b, **{field: value}))
    assert error.field == field


@pytest.mark.parametrize("sha", ["0" * 64, "", "not-a-hash"])
def test_sign_a_hash_that_is_not_the_frozen_one_is_a_conflict(frozen, sha):
    """A signature naming another hash (the text changed under the signer's eyes) is refused."""
    error = _refused(Conflict, _sign_call(frozen, frozen.sig_b, frozen.b, version_sha256=sha), "changed")
    assert error.field == "version_sha256"


def test_second_signature_for_the_same_organisation_and_version_is_refused(frozen):
    """Another signatory of B cannot sign again for B: AlreadySigned, one valid signature."""
    w = frozen
    _sign(w, w.sig_b, w.b)
    second = factories.member(w.b, "signatory")
    _refused(AlreadySigned, _sign_call(w, second, w.b), "already signed")
    _refused(AlreadySigned, _sign_call(w, w.sig_b, w.b), "already signed")
    assert [s.organisation_id for s in _signatures(w)] == [w.b.id]


@pytest.mark.parametrize("phase", ["amending", "published", "withdrawn"])
def test_sign_outside_the_signing_phase_is_refused(w, phase):
    """Before freezing, after publication or withdrawal, signing is WrongPhase."""
    if phase != "amending":
        _freeze(w)
        w.statement = _fresh(w)
        sha = w.statement.frozen_version.sha256
        w.statement.status = phase
    else:
        sha = "0" * 64
    _refused(WrongPhase, _sign_call(w, w.sig_b, w.b, version_sha256=sha))


def test_sign_after_publication_says_it_is_published(published):
    """Signing a published statement is WrongPhase with a clear message."""
    extra = factories.member(published.b, "signatory")
    _refused(WrongPhase, _sign_call(published, extra, published.b), "already published")


# --- revoke -------------------------------------------------------------------------------------


def test_revoke_by_a_signatory_of_that_organisation(frozen):
    """B's other signatory revokes B's signature: kept, marked revoked, with who and when."""
    w = frozen
    signature = _sign(w, w.sig_b, w.b)
    colleague = factories.member(w.b, "signatory")
    signing.revoke(signature, colleague, now=w.now + timedelta(hours=1))
    db.session.commit()
    [kept] = _signatures(w)
    assert kept.status == "revoked"
    assert kept.ended_by_id == colleague.id
    assert kept.ended_at == w.now + timedelta(hours=1)
    assert signing.progress(_fresh(w)).waiting == [w.a, w.b, w.c]


def test_revoke_by_anyone_else_is_refused(frozen):
    """Signatories of other organisations, B's delegate and the coordinator cannot revoke B's signature."""
    w = frozen
    signature = _sign(w, w.sig_b, w.b)
    for person in (w.sig_a, w.sig_c, w.del_b, w.coordinator, w.sig_out):
        _refused(NotAllowed, lambda p=person: signing.revoke(signature, p, now=w.now), B_NAME)
    assert _signatures(w)[0].status == "valid"


def test_revoke_twice_is_a_conflict(frozen):
    """A revoked signature cannot be revoked again."""
    w = frozen
    signature = _sign(w, w.sig_b, w.b)
    signing.revoke(signature, w.sig_b, now=w.now)
    db.session.commit()
    _refused(Conflict, lambda: signing.revoke(signature, w.sig_b, now=w.now), "already revoked")


def test_revoke_after_publication_is_refused(published):
    """Once published, a signature can no longer be revoked."""
    w = published
    signature = next(s for s in _signatures(w) if s.organisation_id == w.b.id)
    _refused(WrongPhase, lambda: signing.revoke(signature, w.sig_b, now=w.now), "published")


def test_resign_after_revoking_is_allowed(frozen):
    """After revoking, the organisation signs again: one revoked and one valid signature."""
    w = frozen
    signature = _sign(w, w.sig_b, w.b)
    signing.revoke(signature, w.sig_b, now=w.now)
    db.session.commit()
    _sign(w, w.sig_b, w.b, minutes=2, signer_title="President")
    assert [(s.status, s.signer_title) for s in _signatures(w)] == [
        ("revoked", "Secretary General"), ("valid", "President")]
    assert [o for o, _ in signing.progress(_fresh(w)).signed] == [w.b]


# --- withdraw and reinvite ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin_c", "sig_c"])
def test_withdraw_by_admin_or_signatory_revokes_its_signature(frozen, who):
    """C withdraws with a reason: no longer a participant, its signature revoked, the row kept."""
    w = frozen
    _sign(w, w.sig_c, w.c)
    withdrawals.withdraw_organisation(w.statement, getattr(w, who), w.c, reason="  We cannot agree. ",
                                  now=w.now + timedelta(hours=1))
    db.session.commit()
    statement = _fresh(w)
    participant = db.session.scalar(select(Participant).where(
        Participant.statement_id == statement.id, Participant.organisation_id == w.c.id))
    assert participant.withdrawn_at == w.now + timedelta(hours=1)
    assert participant.withdraw_reason == "We cannot agree."
    assert participant.withdrawn_by_id == getattr(w, who).id
    assert statement.participant_organisations == [w.a, w.b]
    [signature] = _signatures(w)
    assert signature.status == "revoked"
    assert "withdrew" in signature.end_reason
    _refused(NotAllowed, _sign_call(w, w.sig_c, w.c), "does not take part")


def test_withdrawn_organisation_no_longer_counts_for_publishing(frozen):
    """Once C has withdrawn, A and B signing is enough; the publication names only A and B."""
    w = frozen
    withdrawals.withdraw_organisation(w.statement, w.admin_c, w.c, reason="Not our topic.", now=w.now)
    db.session.commit()
    _sign(w, w.sig_a, w.a)
    _sign(w, w.sig_b, w.b)
    publication = _publish(w)
    assert f"Joint Statement of {A_NAME} and {B_NAME}, 1 March 2026" in publication.plain_text
    assert C_NAME not in publication.plain_text


def test_withdraw_by_others_is_refused(frozen):
    """B's delegate, another organisation's signatory and the coordinator cannot withdraw C."""
    w = frozen
    for person in (w.del_b, w.sig_b, w.coordinator, w.sig_out):
        _refused(NotAllowed, lambda p=person: withdrawals.withdraw_organisation(
            w.statement, p, w.c, reason="No.", now=w.now), C_NAME)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_withdraw_needs_a_reason(frozen, reason):
    """Withdrawing without a reason is InvalidInput on the reason field."""
    error = _refused(InvalidInput, lambda: withdrawals.withdraw_organisation(
        frozen.statement, frozen.admin_c, frozen.c, reason=reason, now=frozen.now))
    assert error.field == "reason"


def test_coordinating_organisation_cannot_withdraw(frozen):
    """A's signatory cannot withdraw the coordinating organisation."""
    _refused(Conflict, lambda: withdrawals.withdraw_organisation(
        frozen.statement, frozen.sig_a, frozen.a, reason="Tired.", now=frozen.now), "coordinating")


def test_withdraw_twice_or_a_stranger_is_refused(frozen):
    """A second withdrawal is a Conflict; an organisation never invited is NotFound."""
    w = frozen
    withdrawals.withdraw_organisation(w.statement, w.admin_c, w.c, reason="No.", now=w.now)
    db.session.commit()
    _refused(Conflict, lambda: withdrawals.withdraw_organisation(w.statement, w.sig_c, w.c, reason="No.",
                                                             now=w.now), "already withdrawn")
    _refused(NotFound, lambda: withdrawals.withdraw_organisation(w.statement, w.sig_out, w.outside,
                                                             reason="No.", now=w.now))


def test_withdraw_after_publication_is_refused(published):
    """A published statement's signatory list cannot lose an organisation."""
    _refused(WrongPhase, lambda: withdrawals.withdraw_organisation(
        published.statement, published.sig_c, published.c, reason="Changed our mind.", now=published.now))


def test_reinvite_by_the_coordinator_before_freezing(w):
    """The coordinator re-invites C while amending: it participates again and can sign later."""
    withdrawals.withdraw_organisation(w.statement, w.admin_c, w.c, reason="Busy.", now=w.now)
    db.session.commit()
    for person in (w.sig_a, w.admin_c, w.sig_c):
        _refused(NotAllowed, lambda p=person: withdrawals.reinvite(w.statement, p, w.c, now=w.now))
    withdrawals.reinvite(w.statement, w.coordinator, w.c, now=w.now)
    db.session.commit()
    statement = _fresh(w)
    assert statement.participant_organisations == [w.a, w.b, w.c]
    participant = statement.memberships[2]
    assert (participant.withdrawn_at, participant.withdraw_reason) == (None, "")
    _refused(Conflict, lambda: withdrawals.reinvite(w.statement, w.coordinator, w.c, now=w.now), "already")
    _freeze(w)
    _sign(w, w.sig_c, w.c)
    assert [o for o, _ in signing.progress(_fresh(w)).signed] == [w.c]


def test_reinvite_after_freezing_is_refused(frozen):
    """Once frozen, a withdrawn organisation cannot be re-invited."""
    w = frozen
    withdrawals.withdraw_organisation(w.statement, w.admin_c, w.c, reason="Busy.", now=w.now)
    db.session.commit()
    _refused(WrongPhase, lambda: withdrawals.reinvite(w.statement, w.coordinator, w.c, now=w.now), "before")


# --- reopen ---------------------------------------------------------------------------------------


def test_reopen_voids_every_valid_signature_and_keeps_it(frozen):
    """Reopening: valid signatures become void (kept), a revoked one stays revoked, back to amending."""
    w = frozen
    signature_a = _sign(w, w.sig_a, w.a)
    signature_b = _sign(w, w.sig_b, w.b)
    signing.revoke(signature_b, w.sig_b, now=w.now)
    db.session.commit()
    _sign(w, w.sig_b, w.b, minutes=2)
    voided = signing.reopen(w.statement, w.coordinator, now=w.now + timedelta(hours=2))
    db.session.commit()
    assert len(voided) == 2
    statuses = {s.id: s.status for s in _signatures(w)}
    assert sorted(statuses.values()) == ["revoked", "void", "void"]
    assert statuses[signature_a.id] == "void"
    void = db.session.get(Signature, signature_a.id)
    assert void.ended_at == w.now + timedelta(hours=2)
    assert void.ended_by_id == w.coordinator.id
    statement = _fresh(w)
    assert statement.status == "amending"
    assert statement.frozen_version_id is None
    assert signing.valid_signatures(statement) == []


def test_reopen_only_by_the_coordinator_while_signing(w):
    """Reopen needs the coordinator and the signing phase."""
    _refused(WrongPhase, lambda: signing.reopen(w.statement, w.coordinator, now=w.now))
    _freeze(w)
    for person in (w.sig_a, w.sig_b, factories.admin()):
        _refused(NotAllowed, lambda p=person: signing.reopen(w.statement, p, now=w.now), "coordinator")


def test_after_reopen_signatures_must_name_the_new_version(frozen):
    """Reopen, amend, freeze v2: the old hash is refused, old void signatures never count."""
    w = frozen
    old_sha = _sha(w)
    _sign(w, w.sig_a, w.a)
    _sign(w, w.sig_b, w.b)
    signing.reopen(w.statement, w.coordinator, now=w.now)
    db.session.commit()
    version = _propose_and_accept(w, 1, "The harbour must stay open to every single worker.", minutes=1)
    _freeze(w, minutes=2)
    assert _sha(w) == version.sha256 != old_sha
    assert signing.progress(_fresh(w)).waiting == [w.a, w.b, w.c]
    error = _refused(Conflict, lambda: publishing.publish(w.statement, w.coordinator, publication_date=None,
                                                       now=w.now), "still waiting")
    assert all(name in error.message for name in (A_NAME, B_NAME, C_NAME))
    _refused(Conflict, _sign_call(w, w.sig_a, w.a, version_sha256=old_sha), "changed")
    _sign_all(w, minutes=3)
    publication = _publish(w)
    manifest = json.loads(publication.manifest)
    assert {s["version_sha256"] for s in manifest["signatures"]} == {version.sha256}
    assert len(manifest["signatures"]) == 3
    assert publication.version_id == version.id
    assert "every single worker" in publication.plain_text
    assert sorted(s.status for s in _signatures(w)) == ["valid", "valid", "valid", "void", "void"]


# --- publish --------------------------------------------------------------------------------------


def test_publish_three_organisations_exact_plain_text(signed):
    """The plain text is exactly design.md's format, in the participants' order, and its hash matches."""
    w = signed
    publication = _publish(w, publication_date=date(2026, 3, 9))
    expected = (
        f"{TITLE}\n\n"
        f"Joint Statement of {A_NAME}, {B_NAME} and {C_NAME}, 9 March 2026\n\n"
        f"1. {P1}\n\n2. {P2}\n\n3. {P3}\n"
    )
    assert publication.plain_text == expected
    assert publication.sha256 == hashlib.sha256(expected.encode("utf-8")).hexdigest()
    assert publication.publication_date == date(2026, 3, 9)
    assert publication.published_by_id == w.coordinator.id
    assert publication.slug == w.statement.slug
    assert _fresh(w).status == "published"


def test_publish_two_organisations_exact_plain_text(app, now):
    """With two organisations the line reads "A and B", coordinator's organisation first."""
    a = factories.organisation("Zeta Dockers", slug="zeta")
    b = factories.organisation("Alpha Weavers", slug="alpha")
    coordinator = factories.member(a, "delegate")
    sig_a, sig_b = factories.member(a, "signatory"), factories.member(b, "signatory")
    statement = factories.statement(coordinator, a, participants=[b], title="Two Voices",
                                    paragraphs=["Only one paragraph here."])
    amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=now)
    signing.freeze(statement, coordinator, now=now)
    db.session.commit()
    sha = statement.frozen_version.sha256
    for user, org in ((sig_b, b), (sig_a, a)):
        signing.sign(statement, user, org, signer_name="N", signer_title="T", authorised=True,
                     password=factories.PASSWORD, version_sha256=sha, now=now)
        db.session.commit()
    publication = publishing.publish(statement, coordinator, publication_date=date(2026, 12, 1), now=now)
    db.session.commit()
    assert publication.plain_text == (
        "Two Voices\n\nJoint Statement of Zeta Dockers and Alpha Weavers, 1 December 2026\n\n"
        "1. Only one paragraph here.\n")


def test_publish_default_date_is_today(signed):
    """Without a date, the publication is dated the day it is published (UTC)."""
    publication = publishing.publish(signed.statement, signed.coordinator, publication_date=None,
                                  now=datetime(2026, 3, 4, 23, 30, tzinfo=UTC))
    db.session.commit()
    assert _publication(signed).publication_date == date(2026, 3, 4)
    assert "Joint Statement of" in publication.plain_text
    assert ", 4 March 2026\n" in publication.plain_text


def test_publish_on_the_day_of_the_last_signature_is_allowed(signed):
    """The publication date may be the date of the last signature."""
    assert _publish(signed, publication_date=signed.now.date()).publication_date == date(2026, 3, 1)


def test_publish_before_the_last_signature_is_refused(frozen):
    """A publication date before the last signature is InvalidInput naming that date."""
    w = frozen
    _sign(w, w.sig_a, w.a)
    _sign(w, w.sig_b, w.b)
    _sign(w, w.sig_c, w.c, minutes=60 * 24 * 2)  # 3 March
    error = _refused(InvalidInput, lambda: publishing.publish(
        w.statement, w.coordinator, publication_date=date(2026, 3, 2), now=w.now + timedelta(days=3)),
        "2026-03-03")
    assert error.field == "publication_date"
    assert _publication(w) is None


def test_publish_with_a_signature_missing_names_the_organisation(frozen):
    """While C has not signed, publishing is refused and the message names C only."""
    w = frozen
    _sign(w, w.sig_a, w.a)
    _sign(w, w.sig_b, w.b)
    error = _refused(Conflict, lambda: publishing.publish(w.statement, w.coordinator, publication_date=None,
                                                       now=w.now), C_NAME)
    assert A_NAME not in error.message and B_NAME not in error.message


def test_publish_with_no_signature_at_all_is_refused(frozen):
    """A frozen statement nobody signed cannot be published."""
    _refused(Conflict, lambda: publishing.publish(frozen.statement, frozen.coordinator, publication_date=None,
                                               now=frozen.now), "still waiting")


def test_publish_only_by_the_coordinator(signed):
    """Signatories and an admin cannot publish."""
    for person in (signed.sig_a, signed.sig_b, factories.admin()):
        _refused(NotAllowed, lambda p=person: publishing.publish(
            signed.statement, p, publication_date=None, now=signed.now), "coordinator")


def test_publish_while_amending_is_refused(w):
    """Publishing before freezing is WrongPhase."""
    _refused(WrongPhase, lambda: publishing.publish(w.statement, w.coordinator, publication_date=None,
                                                 now=w.now))


def test_publish_exactly_once(published):
    """A second publish is a Conflict; one publication row, unchanged."""
    w = published
    first = _publication(w)
    snapshot = (first.id, first.plain_text, first.sha256, first.manifest, first.publication_date)
    _refused(Conflict, lambda: publishing.publish(w.statement, w.coordinator, publication_date=date(2026, 4, 1),
                                               now=w.now + timedelta(days=40)), "already published")
    assert _count(Publication) == 1
    again = _publication(w)
    assert (again.id, again.plain_text, again.sha256, again.manifest, again.publication_date) == snapshot


def test_manifest_verifies_with_the_platform_key(published):
    """The sealed manifest carries the text, hashes and signatures, and verifies against the seal key."""
    w = published
    publication = _publication(w)
    manifest = json.loads(publication.manifest)
    assert verify_manifest(manifest, sealing.public_key()) == []
    assert manifest["text"] == publication.plain_text
    assert manifest["sha256"] == publication.sha256
    assert manifest["version"] == {"number": 1, "sha256": _fresh(w).frozen_version.sha256}
    assert manifest["publication_date"] == "2026-03-01"
    assert [p["name"] for p in manifest["participants"]] == [A_NAME, B_NAME, C_NAME]
    assert [(s["organisation"], s["signer_name"]) for s in manifest["signatures"]] == [
        (A_NAME, "Ada Signer Signer"), (B_NAME, "Ben Signer Signer"), (C_NAME, "Cleo Signer Signer")]
    assert manifest["seal"]["public_key"] == sealing.public_key()


@pytest.mark.parametrize("tamper", [
    lambda m: m.update(text=m["text"].replace("harbour", "harbour!", 1)),
    lambda m: m.update(text=m["text"][:-2] + "," + m["text"][-1]),
    lambda m: m["signatures"][1].update(signer_name="Mallory"),
    lambda m: m["signatures"][0].update(signer_title="Queen"),
    lambda m: m["signatures"][2].update(signed_at="2026-02-01T00:00:00+00:00"),
    lambda m: m.update(publication_date="2026-03-02"),
], ids=["text-word", "text-last-char", "signer-name", "signer-title", "signed-at", "date"])
def test_manifest_tampering_is_detected(published, tamper):
    """Changing one character of the text or one signature field makes verification fail."""
    manifest = json.loads(_publication(published).manifest)
    tamper(manifest)
    assert verify_manifest(manifest, sealing.public_key()) != []


# --- automatic publication ---------------------------------------------------------------------


def test_auto_publish_when_the_last_organisation_signs(w):
    """With auto_publish, the third signature publishes at once, dated that day, by the coordinator."""
    _freeze(w, auto_publish=True)
    _sign(w, w.sig_a, w.a)
    _sign(w, w.sig_b, w.b)
    assert _publication(w) is None and _fresh(w).status == "signing"
    _sign(w, w.sig_c, w.c, minutes=60 * 24)
    publication = _publication(w)
    assert publication is not None
    assert publication.publication_date == date(2026, 3, 2)
    assert publication.published_by_id == w.coordinator.id
    assert _fresh(w).status == "published"
    assert verify_manifest(json.loads(publication.manifest), sealing.public_key()) == []
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.statement_id == w.statement.id)
                                 .order_by(AuditEntry.seq)).all()
    assert actions[-2:] == ["signed", "published"]


def test_without_auto_publish_the_last_signature_does_not_publish(signed):
    """Without the option, everyone signing leaves the statement in signing."""
    assert _publication(signed) is None
    assert _fresh(signed).status == "signing"


def test_auto_publish_when_the_last_missing_organisation_withdraws(w):
    """A and B signed; C withdrawing publishes automatically with A and B only."""
    _freeze(w, auto_publish=True)
    _sign(w, w.sig_a, w.a)
    _sign(w, w.sig_b, w.b)
    withdrawals.withdraw_organisation(w.statement, w.admin_c, w.c, reason="We abstain.", now=w.now)
    db.session.commit()
    publication = _publication(w)
    assert publication is not None
    assert f"Joint Statement of {A_NAME} and {B_NAME}, 1 March 2026\n" in publication.plain_text
    assert [s["organisation"] for s in json.loads(publication.manifest)["signatures"]] == [A_NAME, B_NAME]
    assert _fresh(w).status == "published"


def test_reopen_turns_auto_publish_off(w):
    """After a reopen, a later full set of signatures does not publish unless asked again."""
    _freeze(w, auto_publish=True)
    signing.reopen(w.statement, w.coordinator, now=w.now)
    db.session.commit()
    assert _fresh(w).auto_publish is False


# --- endorsements ----------------------------------------------------------------------------------


def test_endorsement_after_publication_leaves_text_and_manifest_unchanged(published):
    """An endorsement is stored with its date; the plain text, hash and manifest stay byte-identical."""
    w = published
    before = _publication(w)
    snapshot = (before.plain_text, before.sha256, before.manifest)
    endorsement = endorsing.add_endorsement(w.statement, w.coordinator, w.outside, endorsed_on=date(2026, 3, 5),
                                          now=w.now + timedelta(days=10))
    db.session.commit()
    after = _publication(w)
    assert (after.plain_text, after.sha256, after.manifest) == snapshot
    stored = db.session.get(Endorsement, endorsement.id)
    assert (stored.organisation_id, stored.endorsed_on, stored.publication_id) == (
        w.outside.id, date(2026, 3, 5), after.id)
    assert verify_manifest(json.loads(after.manifest), sealing.public_key()) == []


def test_endorsement_only_by_the_coordinator(published):
    """Signatories and the endorsing organisation's own signatory cannot add an endorsement."""
    w = published
    for person in (w.sig_a, w.sig_out, factories.admin()):
        _refused(NotAllowed, lambda p=person: endorsing.add_endorsement(
            w.statement, p, w.outside, endorsed_on=w.now.date(), now=w.now), "coordinator")


def test_endorsement_before_publication_is_refused(signed):
    """Endorsements exist only after publication."""
    _refused(WrongPhase, lambda: endorsing.add_endorsement(
        signed.statement, signed.coordinator, signed.outside, endorsed_on=signed.now.date(), now=signed.now))


def test_endorsement_by_a_signatory_organisation_or_twice_is_refused(published):
    """An organisation that signed, or already endorsed, cannot be added as an endorser."""
    w = published
    _refused(Conflict, lambda: endorsing.add_endorsement(w.statement, w.coordinator, w.b,
                                                       endorsed_on=w.now.date(), now=w.now), B_NAME)
    endorsing.add_endorsement(w.statement, w.coordinator, w.outside, endorsed_on=w.now.date(), now=w.now)
    db.session.commit()
    _refused(Conflict, lambda: endorsing.add_endorsement(w.statement, w.coordinator, w.outside,
                                                       endorsed_on=w.now.date(), now=w.now), "already")


@pytest.mark.parametrize("days", [-1, 1], ids=["before-publication", "future"])
def test_endorsement_date_must_be_between_publication_and_today(published, days):
    """An endorsement dated before the publication or in the future is InvalidInput."""
    w = published
    error = _refused(InvalidInput, lambda: endorsing.add_endorsement(
        w.statement, w.coordinator, w.outside, endorsed_on=w.now.date() + timedelta(days=days), now=w.now))
    assert error.field == "endorsed_on"


# --- withdraw the statement ---------------------------------------------------------------------------


def test_withdraw_statement_voids_signatures(frozen):
    """The coordinator withdraws the statement: status withdrawn, valid signatures void and kept."""
    w = frozen
    _sign(w, w.sig_a, w.a)
    signing.withdraw_statement(w.statement, w.coordinator, reason="Events overtook us.", now=w.now)
    db.session.commit()
    assert _fresh(w).status == "withdrawn"
    assert [s.status for s in _signatures(w)] == ["void"]
    _refused(WrongPhase, _sign_call(w, w.sig_b, w.b))
    _refused(WrongPhase, lambda: publishing.publish(w.statement, w.coordinator, publication_date=None,
                                                 now=w.now))


def test_withdraw_statement_refusals(frozen):
    """Not the coordinator, no reason, or already withdrawn: refused, nothing changes."""
    w = frozen
    _refused(NotAllowed, lambda: signing.withdraw_statement(w.statement, w.sig_a, reason="x", now=w.now))
    error = _refused(InvalidInput, lambda: signing.withdraw_statement(w.statement, w.coordinator, reason=" ",
                                                                      now=w.now))
    assert error.field == "reason"
    signing.withdraw_statement(w.statement, w.coordinator, reason="Done.", now=w.now)
    db.session.commit()
    _refused(WrongPhase, lambda: signing.withdraw_statement(w.statement, w.coordinator, reason="Again.",
                                                            now=w.now))


def test_published_statement_cannot_be_withdrawn(published):
    """A published statement stays published."""
    _refused(WrongPhase, lambda: signing.withdraw_statement(
        published.statement, published.coordinator, reason="Oops.", now=published.now), "published")
    assert _fresh(published).status == "published"


def test_times_given_in_another_zone_are_stored_and_published_in_utc(w):
    """A last signature at 00:30 in UTC+2 (22:30 UTC the day before) is published in UTC terms."""
    _freeze(w, auto_publish=True)
    _sign(w, w.sig_a, w.a)
    _sign(w, w.sig_b, w.b)
    local = datetime(2026, 3, 3, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    _sign(w, w.sig_c, w.c, now=local)
    publication = _publication(w)
    manifest = json.loads(publication.manifest)
    assert [s["signed_at"][-6:] for s in manifest["signatures"]] == ["+00:00"] * 3
    assert manifest["signatures"][2]["signed_at"] == "2026-03-02T22:30:00+00:00"
    assert publication.publication_date == date(2026, 3, 2)
    assert _signatures(w)[2].signed_at == datetime(2026, 3, 2, 22, 30, tzinfo=UTC)
