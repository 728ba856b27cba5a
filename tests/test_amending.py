"""Amendment rules: opening, proposing, discussing, deciding and rebasing, without the HTTP client.

Runs on SQLite and PostgreSQL (through the ``app`` fixture). Every refusal is
checked against the database: the rule raises, the caller rolls back, and not
one row of any table has changed.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from app.amending import operations as amending
from app.diffing import load_ops
from app.drafting import operations as drafting
from app.drafting.text import canonical_text, sha256_hex
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound, WrongPhase
from app.extensions import db
from app.models import (
    Amendment,
    AmendmentRevision,
    Comment,
    Paragraph,
    Position,
    Revision,
    Sponsor,
    Statement,
    Version,
    VersionParagraph,
)
from tests import factories

TITLE = "A Joint Statement on Harbours"
P1 = ("The harbour must stay open to every worker. Wages are paid on time each month. "
      "Safety comes first on every shift.")
P2 = "Ferries run every hour between the islands."
P3 = "Bread is baked in the town each morning."
TEXTS = [P1, P2, P3]
# Two changes to different sentences of P1 (they rebase onto each other) ...
P1_SINGLE = P1.replace("every worker", "every single worker")
P1_NIGHT = P1.replace("every shift", "every night shift")
# ... and one to the same words as P1_SINGLE (it conflicts with it).
P1_EACH = P1.replace("every worker", "each worker")

STATE_TABLES = (
    "statements", "paragraphs", "revisions", "versions", "version_paragraphs", "amendments",
    "amendment_revisions", "amendment_sponsors", "positions", "comments", "compromise_targets",
)


# --- helpers ------------------------------------------------------------------------------


def _state() -> dict[str, list[tuple]]:
    """Every row of every table the rules write, as sorted tuples."""
    return {
        name: sorted((tuple(row) for row in db.session.execute(text(f"SELECT * FROM {name}"))), key=repr)
        for name in STATE_TABLES
    }


def _refused(error, call, match: str | None = None):
    """``call`` raises ``error`` and, after the rollback a request would do, nothing has changed."""
    db.session.commit()
    before = _state()
    with pytest.raises(error, match=match) as caught:
        call()
    db.session.rollback()
    assert _state() == before
    return caught.value


def _live(statement: Statement) -> list[Paragraph]:
    return drafting.live_paragraphs(statement)


def _p(w, number: int) -> Paragraph:
    """The live paragraph that has this number now."""
    return _live(w.statement)[number - 1]


def _live_texts(w) -> list[str]:
    return [p.text for p in _live(w.statement)]


def _fresh(amendment: Amendment) -> Amendment:
    db.session.expire_all()
    return db.session.get(Amendment, amendment.id)


def _propose(w, user, org, kind, paragraph: Paragraph | None = None, text_: str | None = None, **kw):
    amendment = amending.propose(
        w.statement, user, org, kind=kind, paragraph_id=paragraph.id if paragraph else None,
        text=text_, now=kw.pop("now", w.now), **kw,
    )
    db.session.commit()
    return amendment


def _modify(w, number: int, new_text: str, user=None, org=None, **kw) -> Amendment:
    return _propose(w, user or w.del_b, org or w.b, "modify", _p(w, number), new_text, **kw)


def _accept(w, amendment: Amendment, minutes: int = 1) -> Version:
    amendment = _fresh(amendment)
    version = amending.accept(amendment, w.coordinator, text_version=amendment.text_version,
                              now=w.now + timedelta(minutes=minutes))
    db.session.commit()
    return version


def _reasons(amendment: Amendment) -> list[str]:
    return [h.reason for h in _fresh(amendment).history]


def _versions(w) -> list[Version]:
    return list(db.session.scalars(
        select(Version).where(Version.statement_id == w.statement.id).order_by(Version.number)))


def _assert_version_is_current_text(w, version: Version) -> None:
    """The version holds the statement's current title and paragraphs, hashed."""
    expected = canonical_text(w.statement.title, _live_texts(w))
    assert version.canonical_text == expected
    assert version.sha256 == sha256_hex(expected)
    assert version.title == w.statement.title
    entries = db.session.execute(
        select(VersionParagraph.number, VersionParagraph.paragraph_id, VersionParagraph.revision_id)
        .where(VersionParagraph.version_id == version.id).order_by(VersionParagraph.number)
    ).all()
    assert [tuple(e) for e in entries] == [
        (n, p.id, p.current_revision_id) for n, p in enumerate(_live(w.statement), start=1)
    ]


def _rows(model) -> dict[int, dict]:
    """Every row of an append-only table, as plain dicts keyed by id."""
    table = model.__table__
    return {row.id: dict(row._mapping) for row in db.session.execute(select(table))}


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def draft(app, now):
    """Three participating organisations (A coordinates), an outsider, and a draft statement."""
    a = factories.organisation("Harbour Workers' Union", slug="hwu", short_name="HWU")
    b = factories.organisation("Green Valley Alliance", slug="gva", short_name="GVA")
    c = factories.organisation("Coastal Tenants Network", slug="ctn")
    outside = factories.organisation("Outside Collective", slug="out")
    coordinator = factories.member(a, "delegate")
    w = SimpleNamespace(
        now=now, a=a, b=b, c=c, outside=outside, coordinator=coordinator,
        del_a=factories.member(a, "delegate"),
        del_b=factories.member(b, "delegate"),
        del_c=factories.member(c, "delegate"),
        sig_b=factories.member(b, "signatory", "admin"),
        del_out=factories.member(outside, "delegate"),
        statement=factories.statement(coordinator, a, participants=[b, c], title=TITLE, paragraphs=TEXTS),
    )
    w.deadline = now + timedelta(days=7)
    return w


def _open(w, rule: str = "coordinator") -> None:
    amending.open_for_amendments(w.statement, w.coordinator, rule=rule, deadline=w.deadline, now=w.now)
    db.session.commit()


@pytest.fixture
def w(draft):
    """The statement open for amendments under the coordinator rule, deadline in a week."""
    _open(draft)
    return draft


# --- open_for_amendments ------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["consensus", "majority", "coordinator"])
def test_open_moves_draft_to_amending_with_rule_and_deadline(draft, rule):
    """The coordinator opens a draft: phase amending, rule, deadline and opening time stored."""
    _open(draft, rule)
    db.session.expire_all()
    statement = db.session.get(Statement, draft.statement.id)
    assert statement.status == "amending"
    assert statement.decision_rule == rule
    assert statement.amendment_deadline == draft.deadline
    assert statement.opened_at == draft.now
    assert statement.version_count == 1  # opening does not change the text


def test_open_without_deadline_keeps_proposals_open(draft):
    """A statement opened without a deadline accepts proposals at any later time."""
    amending.open_for_amendments(draft.statement, draft.coordinator, rule="majority", deadline=None,
                                 now=draft.now)
    db.session.commit()
    assert draft.statement.amendment_deadline is None
    assert draft.statement.amendments_open(draft.now + timedelta(days=3650))


def test_open_by_anyone_but_the_coordinator_is_refused(draft):
    """Another delegate of the coordinating organisation, or of a participant, gets NotAllowed."""
    for person in (draft.del_a, draft.del_b, factories.admin()):
        _refused(NotAllowed, lambda p=person: amending.open_for_amendments(
            draft.statement, p, rule="coordinator", deadline=None, now=draft.now), "coordinator")
    assert draft.statement.status == "draft"


@pytest.mark.parametrize("phase", ["amending", "signing", "published", "withdrawn"])
def test_open_only_from_draft(draft, phase):
    """Opening a statement that is not a draft is WrongPhase and changes nothing."""
    draft.statement.status = phase
    _refused(WrongPhase, lambda: amending.open_for_amendments(
        draft.statement, draft.coordinator, rule="coordinator", deadline=None, now=draft.now))


@pytest.mark.parametrize("rule", ["unanimity", "", None])
def test_open_with_unknown_rule_is_refused(draft, rule):
    """A decision rule other than consensus/majority/coordinator is InvalidInput."""
    error = _refused(InvalidInput, lambda: amending.open_for_amendments(
        draft.statement, draft.coordinator, rule=rule, deadline=None, now=draft.now))
    assert error.field == "decision_rule"


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(seconds=-1), timedelta(days=-30)])
def test_open_with_deadline_not_in_the_future_is_refused(draft, offset):
    """A deadline at or before now is InvalidInput."""
    error = _refused(InvalidInput, lambda: amending.open_for_amendments(
        draft.statement, draft.coordinator, rule="coordinator", deadline=draft.now + offset,
        now=draft.now), "future")
    assert error.field == "deadline"


def test_open_empty_statement_is_refused(draft):
    """A statement whose paragraphs were all deleted in draft cannot be opened."""
    for paragraph in _live(draft.statement):
        drafting.delete_paragraph(draft.statement, draft.coordinator, paragraph.id,
                                  base_revision_id=None, now=draft.now)
    _refused(InvalidInput, lambda: amending.open_for_amendments(
        draft.statement, draft.coordinator, rule="coordinator", deadline=None, now=draft.now),
        "at least one paragraph")


# --- propose ----------------------------------------------------------------------------------


def test_propose_modify_records_its_base(w):
    """A modify records paragraph, revision, text and number, the normalised proposal and a history entry."""
    paragraph = _p(w, 3)
    amendment = _propose(w, w.del_b, w.b, "modify", paragraph, "  Bread is baked\r\nin the town at dawn. ",
                         rationale="Dawn is earlier.")
    amendment = _fresh(amendment)
    assert amendment.status == "open"
    assert (amendment.kind, amendment.paragraph_id) == ("modify", paragraph.id)
    assert amendment.base_revision_id == paragraph.current_revision_id
    assert amendment.base_text == P3
    assert amendment.base_number == 3
    assert amendment.proposed_text == "Bread is baked\nin the town at dawn."
    assert (amendment.organisation_id, amendment.proposer_id) == (w.b.id, w.del_b.id)
    assert (amendment.text_version, amendment.round) == (1, 1)
    assert amendment.rationale == "Dawn is earlier."
    [entry] = amendment.history
    assert entry.reason == "proposed"
    assert (entry.base_revision_id, entry.base_text, entry.proposed_text, entry.author_id) == (
        paragraph.current_revision_id, P3, amendment.proposed_text, w.del_b.id)
    # Proposing changes no text.
    assert w.statement.version_count == 1
    assert _live_texts(w) == TEXTS


def test_propose_insert_after_a_paragraph_and_at_the_top(w):
    """An insert names the paragraph it follows (number recorded) or None with number 0 for the top."""
    after = _propose(w, w.del_c, w.c, "insert", _p(w, 2), "Trains run at night too.")
    top = _propose(w, w.del_c, w.c, "insert", None, "Preamble.")
    after, top = _fresh(after), _fresh(top)
    assert (after.paragraph_id, after.base_number, after.proposed_text) == (
        _p(w, 2).id, 2, "Trains run at night too.")
    assert (top.paragraph_id, top.base_number, top.proposed_text) == (None, 0, "Preamble.")
    for amendment in (after, top):
        assert amendment.base_revision_id is None and amendment.base_text == ""
        assert _reasons(amendment) == ["proposed"]


def test_propose_delete_records_its_base(w):
    """A delete records the paragraph's revision, text and number, and proposes no text."""
    paragraph = _p(w, 2)
    amendment = _fresh(_propose(w, w.del_b, w.b, "delete", paragraph))
    assert amendment.paragraph_id == paragraph.id
    assert amendment.base_revision_id == paragraph.current_revision_id
    assert (amendment.base_text, amendment.base_number) == (P2, 2)
    assert amendment.proposed_text == ""
    assert _reasons(amendment) == ["proposed"]


def test_propose_retitle_records_the_current_title(w):
    """A retitle records the current title as its base and the normalised new title."""
    amendment = _fresh(_propose(w, w.del_b, w.b, "retitle", None, "  A Joint   Statement on Ports "))
    assert (amendment.paragraph_id, amendment.base_text, amendment.proposed_text) == (
        None, TITLE, "A Joint Statement on Ports")
    assert amendment.base_revision_id is None
    assert _reasons(amendment) == ["proposed"]


def test_any_delegate_of_any_participant_may_propose(w):
    """Delegates of each participating organisation, the coordinator included, can propose."""
    for user, org in ((w.coordinator, w.a), (w.del_a, w.a), (w.del_b, w.b), (w.del_c, w.c)):
        assert _modify(w, 2, f"Ferries run every hour, says {org.slug}.", user, org).organisation_id == org.id


def test_non_delegate_cannot_propose(w):
    """A signatory, a platform admin or a delegate of another organisation cannot speak for B."""
    for person in (w.sig_b, factories.admin(), w.del_c, w.coordinator):
        error = _refused(NotAllowed, lambda p=person: amending.propose(
            w.statement, p, w.b, kind="modify", paragraph_id=_p(w, 1).id, text="X.", now=w.now))
        assert error.field == "organisation"


def test_delegate_of_non_participating_org_cannot_propose(w):
    """A delegate speaking for an organisation that does not take part gets NotAllowed."""
    _refused(NotAllowed, lambda: amending.propose(
        w.statement, w.del_out, w.outside, kind="modify", paragraph_id=_p(w, 1).id, text="X.", now=w.now),
        "does not take part")


@pytest.mark.parametrize("phase", ["draft", "signing", "published", "withdrawn"])
def test_propose_outside_amending_is_wrong_phase(w, phase):
    """Outside the amending phase every proposal is WrongPhase."""
    w.statement.status = phase
    _refused(WrongPhase, lambda: amending.propose(
        w.statement, w.del_b, w.b, kind="modify", paragraph_id=_p(w, 1).id, text="X.", now=w.now))


@pytest.mark.parametrize("after", [timedelta(0), timedelta(seconds=1), timedelta(days=30)])
def test_propose_after_the_deadline_is_wrong_phase(w, after):
    """At or after the amendment deadline no proposal is accepted, of any kind."""
    late = w.deadline + after
    for kind, paragraph in (("modify", _p(w, 1)), ("insert", None), ("delete", _p(w, 1)), ("retitle", None)):
        _refused(WrongPhase, lambda k=kind, p=paragraph: amending.propose(
            w.statement, w.del_b, w.b, kind=k, paragraph_id=p.id if p else None, text="New words.",
            now=late), "deadline")


def test_propose_just_before_the_deadline_is_accepted(w):
    """One second before the deadline a proposal still goes in."""
    amendment = _modify(w, 1, P1_SINGLE, now=w.deadline - timedelta(seconds=1))
    assert amendment.status == "open"


def test_propose_on_paragraph_of_another_statement_is_not_found(w):
    """A paragraph id of another statement (a tampered form) is NotFound, for modify, delete and insert."""
    other = factories.statement(w.coordinator, w.a, participants=[w.b], title="Another")
    foreign = _live(other)[0]
    for kind in ("modify", "delete", "insert"):
        error = _refused(NotFound, lambda k=kind: amending.propose(
            w.statement, w.del_b, w.b, kind=k, paragraph_id=foreign.id, text="Hijack.", now=w.now))
        assert error.field == "paragraph_id"
    for bad_id in (987654, "1", None):
        _refused(NotFound, lambda i=bad_id: amending.propose(
            w.statement, w.del_b, w.b, kind="modify", paragraph_id=i, text="X.", now=w.now))


def test_propose_on_deleted_paragraph_is_refused(draft):
    """A paragraph deleted in draft cannot be modified, deleted or followed by an insert."""
    gone = _live(draft.statement)[2]
    drafting.delete_paragraph(draft.statement, draft.coordinator, gone.id, base_revision_id=None,
                              now=draft.now)
    db.session.commit()
    _open(draft)
    for kind in ("modify", "delete", "insert"):
        _refused(Conflict, lambda k=kind: amending.propose(
            draft.statement, draft.del_b, draft.b, kind=k, paragraph_id=gone.id, text="Back.",
            now=draft.now), "deleted")


@pytest.mark.parametrize("kind,new_text,match", [
    ("modify", P2, "same as the current text"),
    ("modify", f"  {P2}\u00a0\r\n", "same as the current text"),
    ("modify", "", "empty"),
    ("modify", " \n\t ", "empty"),
    ("modify", None, "empty"),
    ("modify", "Ferries\x07 run.", "control character"),
    ("modify", "Ferries\x00 run.", "control character"),
    ("modify", "x" * 10_001, "at most 10,000"),
    ("insert", "", "empty"),
    ("insert", "Nul\x1b here.", "control character"),
    ("insert", "y" * 10_001, "at most 10,000"),
    ("retitle", TITLE, "same as the current title"),
    ("retitle", f"  {TITLE.replace(' ', '  ')} ", "same as the current title"),
    ("retitle", "   ", "empty"),
    ("retitle", "Title\x07", "control character"),
    ("retitle", "t" * 301, "at most 300"),
    ("rewrite", "Anything.", "modifies, inserts or deletes"),
])
def test_bad_proposals_are_refused(w, kind, new_text, match):
    """Unchanged, empty, control-character, oversized text or unknown kind: InvalidInput, nothing written."""
    _refused(InvalidInput, lambda: amending.propose(
        w.statement, w.del_b, w.b, kind=kind, paragraph_id=_p(w, 2).id, text=new_text, now=w.now), match)


def test_ten_thousand_characters_is_the_limit(w):
    """A paragraph of exactly 10,000 characters can be proposed."""
    amendment = _modify(w, 2, "z" * 10_000)
    assert len(_fresh(amendment).proposed_text) == 10_000


@pytest.mark.parametrize("rationale,match", [("r" * 5_001, "at most 5,000"), ("why\x07", "control")])
def test_bad_rationale_is_refused(w, rationale, match):
    """An oversized rationale or one with a control character is InvalidInput."""
    error = _refused(InvalidInput, lambda: amending.propose(
        w.statement, w.del_b, w.b, kind="modify", paragraph_id=_p(w, 2).id, text="New.",
        rationale=rationale, now=w.now), match)
    assert error.field == "rationale"


# --- edit and withdraw ----------------------------------------------------------------------------


def test_proposer_edits_until_a_position_is_taken(w):
    """The proposer's edit changes the proposal, bumps text_version and is recorded; round stays."""
    amendment = _modify(w, 1, P1_SINGLE)
    amending.edit_amendment(amendment, w.del_b, text=P1_NIGHT, rationale="Nights too.",
                            now=w.now + timedelta(minutes=1))
    db.session.commit()
    amendment = _fresh(amendment)
    assert (amendment.proposed_text, amendment.rationale) == (P1_NIGHT, "Nights too.")
    assert (amendment.text_version, amendment.round, amendment.status) == (2, 1, "open")
    assert amendment.base_text == P1
    assert _reasons(amendment) == ["proposed", "edited"]
    assert amendment.history[0].proposed_text == P1_SINGLE  # the old text stays in history
    assert amending.can_edit(amendment, w.del_b)


def test_edit_after_a_position_is_a_conflict(w):
    """Once any organisation has taken a position the proposer can no longer edit."""
    amendment = _modify(w, 1, P1_SINGLE)
    amending.take_position(amendment, w.del_c, w.c, "abstain", now=w.now)
    db.session.commit()
    assert not amending.can_edit(_fresh(amendment), w.del_b)
    _refused(Conflict, lambda: amending.edit_amendment(
        amendment, w.del_b, text=P1_NIGHT, rationale="", now=w.now), "taken positions")
    assert _fresh(amendment).proposed_text == P1_SINGLE


def test_only_the_proposer_edits(w):
    """A colleague delegate of the same organisation, or the coordinator, cannot edit it."""
    amendment = _modify(w, 1, P1_SINGLE)
    colleague = factories.member(w.b, "delegate")
    for person in (colleague, w.coordinator, w.del_c):
        assert not amending.can_edit(_fresh(amendment), person)
        _refused(NotAllowed, lambda p=person: amending.edit_amendment(
            amendment, p, text=P1_NIGHT, rationale="", now=w.now), "proposer")


def test_edit_to_the_base_text_or_empty_is_refused(w):
    """An edit back to the current text, or to nothing, is InvalidInput."""
    amendment = _modify(w, 1, P1_SINGLE)
    for bad in (P1, "", "x" * 10_001):
        _refused(InvalidInput, lambda t=bad: amending.edit_amendment(
            amendment, w.del_b, text=t, rationale="", now=w.now))


def test_closed_amendment_cannot_be_edited(w):
    """A withdrawn amendment cannot be edited."""
    amendment = _modify(w, 1, P1_SINGLE)
    amending.withdraw_amendment(amendment, w.del_b, now=w.now)
    _refused(Conflict, lambda: amending.edit_amendment(
        amendment, w.del_b, text=P1_NIGHT, rationale="", now=w.now), "no longer be edited")


def test_proposer_withdraws_an_open_amendment(w):
    """Withdrawing closes the amendment with who and when; the text is untouched."""
    amendment = _modify(w, 1, P1_SINGLE)
    amending.withdraw_amendment(amendment, w.del_b, now=w.now + timedelta(hours=1))
    db.session.commit()
    amendment = _fresh(amendment)
    assert amendment.status == "withdrawn" and not amendment.is_open
    assert (amendment.decided_by_id, amendment.decided_at) == (w.del_b.id, w.now + timedelta(hours=1))
    assert _live_texts(w) == TEXTS


def test_withdraw_only_by_proposer_and_only_while_open(w):
    """Others get NotAllowed; a second withdrawal, or withdrawing an accepted amendment, is a Conflict."""
    amendment = _modify(w, 1, P1_SINGLE)
    for person in (w.coordinator, factories.member(w.b, "delegate")):
        _refused(NotAllowed, lambda p=person: amending.withdraw_amendment(amendment, p, now=w.now))
    amending.withdraw_amendment(amendment, w.del_b, now=w.now)
    _refused(Conflict, lambda: amending.withdraw_amendment(amendment, w.del_b, now=w.now), "open")
    accepted = _modify(w, 2, "Ferries run twice an hour.")
    _accept(w, accepted)
    _refused(Conflict, lambda: amending.withdraw_amendment(accepted, w.del_b, now=w.now))


# --- co-sponsors ------------------------------------------------------------------------------------


def test_delegate_of_another_participant_cosponsors(w):
    """A delegate of C joins B's amendment; C is listed after the proposing organisation."""
    amendment = _modify(w, 1, P1_SINGLE)
    sponsor = amending.cosponsor(amendment, w.del_c, w.c, now=w.now)
    db.session.commit()
    amendment = _fresh(amendment)
    assert [o.id for o in amendment.organisations] == [w.b.id, w.c.id]
    assert (sponsor.organisation_id, sponsor.user_id) == (w.c.id, w.del_c.id)
    assert sponsor.amendment_id == amendment.id


def test_cosponsor_twice_or_as_proposer_org_is_refused(w):
    """The same organisation twice, or the proposing organisation itself, is a Conflict."""
    amendment = _modify(w, 1, P1_SINGLE)
    amending.cosponsor(amendment, w.del_c, w.c, now=w.now)
    _refused(Conflict, lambda: amending.cosponsor(amendment, w.del_c, w.c, now=w.now), "already sponsors")
    _refused(Conflict, lambda: amending.cosponsor(
        amendment, factories.member(w.b, "delegate"), w.b, now=w.now), "already sponsors")


def test_cosponsor_needs_a_delegate_of_a_participant_and_an_open_amendment(w):
    """Non-delegates and outsiders get NotAllowed; a closed amendment cannot be joined."""
    amendment = _modify(w, 1, P1_SINGLE)
    _refused(NotAllowed, lambda: amending.cosponsor(amendment, w.del_out, w.outside, now=w.now))
    _refused(NotAllowed, lambda: amending.cosponsor(amendment, w.del_b, w.c, now=w.now))
    amending.withdraw_amendment(amendment, w.del_b, now=w.now)
    _refused(Conflict, lambda: amending.cosponsor(amendment, w.del_c, w.c, now=w.now), "open")


# --- positions --------------------------------------------------------------------------------------


def test_only_delegates_of_that_org_take_its_position(w):
    """Promise 3: a signatory, a delegate of another organisation or an outsider cannot speak for B."""
    amendment = _modify(w, 1, P1_SINGLE)
    for person, org in ((w.sig_b, w.b), (w.del_c, w.b), (w.coordinator, w.b), (w.del_out, w.outside),
                        (factories.admin(), w.b)):
        _refused(NotAllowed, lambda p=person, o=org: amending.take_position(
            amendment, p, o, "support", now=w.now))
    _refused(InvalidInput, lambda: amending.take_position(amendment, w.del_b, w.b, "maybe", now=w.now))
    assert db.session.scalars(select(Position)).all() == []


def test_latest_position_counts_in_the_tally(w):
    """An organisation can change its mind; the tally uses its latest position, all stay recorded."""
    amendment = _modify(w, 1, P1_SINGLE)
    amending.take_position(amendment, w.del_b, w.b, "support", now=w.now)
    amending.take_position(amendment, w.del_c, w.c, "support", "Good.", now=w.now)
    amending.take_position(amendment, w.del_c, w.c, "oppose", "On reflection, no.", now=w.now)
    db.session.commit()
    amendment = _fresh(amendment)
    assert len(amendment.positions) == 3
    result = amending.tally(amendment, w.statement)
    assert [o.id for o, _ in result.support] == [w.b.id]
    assert [(o.id, p.reason) for o, p in result.oppose] == [(w.c.id, "On reflection, no.")]
    assert result.abstain == []
    assert [o.id for o in result.silent] == [w.a.id]


def test_no_position_on_conflicted_or_closed_amendments(w):
    """Positions on a conflicted, withdrawn, rejected or accepted amendment are refused."""
    conflicted = _modify(w, 1, P1_EACH, w.del_c, w.c)
    _accept(w, _modify(w, 1, P1_SINGLE))
    assert _fresh(conflicted).status == "conflicted"
    _refused(Conflict, lambda: amending.take_position(conflicted, w.del_b, w.b, "support", now=w.now),
             "conflicts")
    withdrawn = _modify(w, 2, "Ferries run twice an hour.")
    amending.withdraw_amendment(withdrawn, w.del_b, now=w.now)
    rejected = _modify(w, 3, "Bread is baked at dawn.")
    amending.reject(rejected, w.coordinator, reason="No.", now=w.now)
    accepted = _modify(w, 2, "Ferries run at night.")
    _accept(w, accepted)
    for closed in (withdrawn, rejected, accepted):
        _refused(Conflict, lambda a=closed: amending.take_position(a, w.del_c, w.c, "oppose", now=w.now),
                 "no longer open")


def test_position_outside_amending_is_wrong_phase(w):
    """Once the statement is frozen for signing, no position can be taken."""
    amendment = _modify(w, 1, P1_SINGLE)
    w.statement.status = "signing"
    _refused(WrongPhase, lambda: amending.take_position(amendment, w.del_c, w.c, "support", now=w.now))


def test_revising_a_conflicted_amendment_starts_a_new_round(w):
    """Positions on the conflicted text no longer count after the proposer revises it."""
    amendment = _modify(w, 1, P1_EACH, w.del_c, w.c)
    amending.take_position(amendment, w.del_b, w.b, "support", now=w.now)
    amending.take_position(amendment, w.del_c, w.c, "support", now=w.now)
    db.session.commit()
    _accept(w, _modify(w, 1, P1_SINGLE))
    assert _fresh(amendment).status == "conflicted"
    amending.edit_amendment(amendment, w.del_c, text=P1_SINGLE.replace("Wages", "All wages"),
                            rationale="Revised.", now=w.now + timedelta(minutes=5))
    db.session.commit()
    amendment = _fresh(amendment)
    assert (amendment.status, amendment.round) == ("open", 2)
    assert amendment.current_positions() == {}
    assert len(amendment.positions) == 2  # still recorded, just not counted
    assert [o.id for o in amending.tally(amendment, w.statement).silent] == [w.a.id, w.b.id, w.c.id]
    position = amending.take_position(amendment, w.del_b, w.b, "oppose", now=w.now)
    db.session.commit()
    assert position.round == 2
    assert list(_fresh(amendment).current_positions()) == [w.b.id]


# --- comments ---------------------------------------------------------------------------------------


def test_participants_comment_and_outsiders_cannot(w):
    """Members of participating organisations (any role) and the coordinator comment; others are refused."""
    amendment = _modify(w, 1, P1_SINGLE)
    for person in (w.coordinator, w.sig_b, w.del_c):
        comment = amending.add_comment(amendment, person, "  I agree.\r\nMostly. ", now=w.now)
        db.session.commit()
        assert (comment.author_id, comment.body, comment.parent_id) == (person.id, "I agree.\nMostly.", None)
    for outsider in (w.del_out, factories.admin(), factories.user()):
        _refused(NotAllowed, lambda p=outsider: amending.add_comment(amendment, p, "Hello.", now=w.now))
    assert len(_fresh(amendment).comments) == 3


def test_replies_are_one_level_deep(w):
    """A reply to a reply is attached to the top-level comment."""
    amendment = _modify(w, 1, P1_SINGLE)
    top = amending.add_comment(amendment, w.del_b, "Top.", now=w.now)
    reply = amending.add_comment(amendment, w.del_c, "Reply.", parent_id=top.id, now=w.now)
    nested = amending.add_comment(amendment, w.coordinator, "Reply to reply.", parent_id=reply.id, now=w.now)
    db.session.commit()
    assert reply.parent_id == top.id
    assert nested.parent_id == top.id


def test_reply_to_comment_of_another_amendment_is_not_found(w):
    """A parent comment of another amendment, or one that does not exist, is NotFound."""
    first = _modify(w, 1, P1_SINGLE)
    second = _modify(w, 2, "Ferries run twice an hour.")
    foreign = amending.add_comment(first, w.del_b, "On the first.", now=w.now)
    for parent_id in (foreign.id, 987654, "1"):
        error = _refused(NotFound, lambda p=parent_id: amending.add_comment(
            second, w.del_b, "Sneaky.", parent_id=p, now=w.now))
        assert error.field == "parent_id"


@pytest.mark.parametrize("body,match", [("", "empty"), ("  \r\n ", "empty"), (None, "empty"),
                                        ("bell\x07", "control"), ("c" * 10_001, "at most 10,000")])
def test_bad_comments_are_refused(w, body, match):
    """Empty, control-character or oversized comments are InvalidInput."""
    amendment = _modify(w, 1, P1_SINGLE)
    _refused(InvalidInput, lambda: amending.add_comment(amendment, w.del_b, body, now=w.now), match)


# --- accepting: who and when ------------------------------------------------------------------------


def test_only_the_coordinator_accepts(w):
    """A delegate of the coordinating organisation, the proposer or an admin cannot accept."""
    amendment = _modify(w, 1, P1_SINGLE)
    for person in (w.del_a, w.del_b, factories.admin()):
        _refused(NotAllowed, lambda p=person: amending.accept(amendment, p, text_version=1, now=w.now),
                 "coordinator")


def _rule(w, rule: str) -> None:
    w.statement.decision_rule = rule
    db.session.commit()


def test_consensus_needs_every_organisation_to_support(w):
    """Under consensus, acceptance is refused with an explanation until all three support."""
    _rule(w, "consensus")
    amendment = _modify(w, 1, P1_SINGLE)
    amending.take_position(amendment, w.del_b, w.b, "support", now=w.now)
    amending.take_position(amendment, w.del_c, w.c, "support", now=w.now)
    amending.take_position(amendment, w.coordinator, w.a, "abstain", now=w.now)
    _refused(Conflict, lambda: amending.accept(amendment, w.coordinator, text_version=1, now=w.now),
             "The decision rule is not met: Consensus needs the support of all 3 organisations; 1 has not")
    amending.take_position(amendment, w.coordinator, w.a, "support", now=w.now)
    db.session.commit()
    _accept(w, amendment)
    assert _fresh(amendment).status == "accepted"


def test_majority_needs_half_spoken_and_more_support(w):
    """Under majority: one of three spoken is not enough, a tie is not enough, 2 to 1 is."""
    _rule(w, "majority")
    amendment = _modify(w, 1, P1_SINGLE)
    amending.take_position(amendment, w.del_b, w.b, "support", now=w.now)
    _refused(Conflict, lambda: amending.accept(amendment, w.coordinator, text_version=1, now=w.now),
             "at least half")
    amending.take_position(amendment, w.del_c, w.c, "oppose", now=w.now)
    _refused(Conflict, lambda: amending.accept(amendment, w.coordinator, text_version=1, now=w.now),
             "more support than opposition")
    amending.take_position(amendment, w.coordinator, w.a, "support", now=w.now)
    db.session.commit()
    _accept(w, amendment)
    assert _fresh(amendment).status == "accepted"


def test_majority_uses_latest_positions(w):
    """A supporter who switches to oppose turns a majority into a refusal."""
    _rule(w, "majority")
    amendment = _modify(w, 1, P1_SINGLE)
    amending.take_position(amendment, w.del_b, w.b, "support", now=w.now)
    amending.take_position(amendment, w.del_c, w.c, "support", now=w.now)
    amending.take_position(amendment, w.del_c, w.c, "oppose", now=w.now)
    _refused(Conflict, lambda: amending.accept(amendment, w.coordinator, text_version=1, now=w.now),
             "1 support, 1 oppose")


def test_coordinator_rule_accepts_without_positions(w):
    """Under the coordinator rule the coordinator accepts even against opposition."""
    amendment = _modify(w, 1, P1_SINGLE)
    amending.take_position(amendment, w.del_c, w.c, "oppose", now=w.now)
    db.session.commit()
    _accept(w, amendment)
    assert _fresh(amendment).status == "accepted"


def test_accept_with_stale_text_version_is_a_conflict(w):
    """An accept naming an older text_version (the proposer edited since) is refused."""
    amendment = _modify(w, 1, P1_SINGLE)
    amending.edit_amendment(amendment, w.del_b, text=P1_NIGHT, rationale="", now=w.now)
    db.session.commit()
    _refused(Conflict, lambda: amending.accept(amendment, w.coordinator, text_version=1, now=w.now),
             "changed since you opened it")
    assert _live_texts(w) == TEXTS


def test_accept_outside_amending_is_wrong_phase(w):
    """In the signing phase nothing is accepted any more."""
    amendment = _modify(w, 1, P1_SINGLE)
    w.statement.status = "signing"
    _refused(WrongPhase, lambda: amending.accept(amendment, w.coordinator, text_version=1, now=w.now))


def test_accept_of_another_statements_amendment_cannot_be_decided_by_this_coordinator(w):
    """The coordinator of one statement cannot accept an amendment of a statement someone else coordinates."""
    other_coordinator = factories.member(w.b, "delegate")
    other = factories.statement(other_coordinator, w.b, participants=[w.c], title="Elsewhere")
    amending.open_for_amendments(other, other_coordinator, rule="coordinator", deadline=None, now=w.now)
    foreign = amending.propose(other, w.del_c, w.c, kind="modify", paragraph_id=_live(other)[0].id,
                               text="Changed.", now=w.now)
    _refused(NotAllowed, lambda: amending.accept(foreign, w.coordinator, text_version=1, now=w.now))


# --- accepting: what it does ------------------------------------------------------------------------


def test_accept_modify_makes_revision_and_version(w):
    """A new revision (parent = old current, amendment set) and a version with the hashed canonical text."""
    paragraph = _p(w, 1)
    old_revision_id = paragraph.current_revision_id
    amendment = _modify(w, 1, P1_SINGLE)
    when = w.now + timedelta(minutes=1)
    version = _accept(w, amendment)
    db.session.expire_all()

    paragraph = db.session.get(Paragraph, paragraph.id)
    revision = paragraph.current_revision
    assert revision.id != old_revision_id
    assert (revision.parent_id, revision.amendment_id) == (old_revision_id, amendment.id)
    assert revision.text == P1_SINGLE
    assert (revision.author_id, revision.created_at) == (w.del_b.id, when)
    assert db.session.get(Revision, old_revision_id).text == P1

    assert (version.number, version.amendment_id, version.author_id) == (2, amendment.id, w.coordinator.id)
    assert version.note == f"Amendment #{amendment.id} (GVA): modified ¶ 1"
    assert version.canonical_text == f"{TITLE}\n\n1. {P1_SINGLE}\n\n2. {P2}\n\n3. {P3}\n"
    assert version.sha256 == sha256_hex(version.canonical_text)
    _assert_version_is_current_text(w, version)
    assert db.session.get(Statement, w.statement.id).version_count == 2

    amendment = _fresh(amendment)
    assert (amendment.status, amendment.result_version_id) == ("accepted", version.id)
    assert (amendment.decided_by_id, amendment.decided_at) == (w.coordinator.id, when)


def test_accept_insert_after_a_paragraph(w):
    """An insert after ¶ 2 becomes ¶ 3; the former ¶ 3 becomes ¶ 4; ids keep their identity."""
    ids = [p.id for p in _live(w.statement)]
    amendment = _propose(w, w.del_c, w.c, "insert", _p(w, 2), "Trains run at night too.")
    version = _accept(w, amendment)
    amendment = _fresh(amendment)
    live = _live(w.statement)
    assert [p.text for p in live] == [P1, P2, "Trains run at night too.", P3]
    assert [p.id for p in live][:2] + [live[3].id] == ids
    assert live[2].id == amendment.result_paragraph_id
    assert live[2].current_revision.amendment_id == amendment.id
    assert live[2].current_revision.parent_id is None
    assert version.note.endswith("inserted ¶ 3")
    _assert_version_is_current_text(w, version)


def test_accept_insert_at_the_top(w):
    """An insert with no paragraph becomes ¶ 1 and everything moves down."""
    amendment = _propose(w, w.del_c, w.c, "insert", None, "Preamble.")
    version = _accept(w, amendment)
    assert _live_texts(w) == ["Preamble.", P1, P2, P3]
    assert version.canonical_text.startswith(f"{TITLE}\n\n1. Preamble.\n\n2. {P1}")
    _assert_version_is_current_text(w, version)


def test_accept_delete_soft_deletes_and_renumbers(w):
    """A delete sets deleted_at (the paragraph and its revision remain) and the rest is renumbered."""
    gone = _p(w, 2)
    revision_id = gone.current_revision_id
    amendment = _propose(w, w.del_b, w.b, "delete", gone)
    version = _accept(w, amendment)
    db.session.expire_all()
    gone = db.session.get(Paragraph, gone.id)
    assert gone.deleted_at == w.now + timedelta(minutes=1)
    assert gone.current_revision_id == revision_id
    assert db.session.get(Revision, revision_id).text == P2
    assert _live_texts(w) == [P1, P3]
    assert version.canonical_text == f"{TITLE}\n\n1. {P1}\n\n2. {P3}\n"
    assert version.note.endswith("deleted ¶ 2")
    _assert_version_is_current_text(w, version)


def test_accept_retitle_changes_the_title_of_the_new_version(w):
    """A retitle changes the statement's title; the new version carries it, the old keeps the old."""
    amendment = _propose(w, w.del_b, w.b, "retitle", None, "A Joint Statement on Ports")
    version = _accept(w, amendment)
    db.session.expire_all()
    assert db.session.get(Statement, w.statement.id).title == "A Joint Statement on Ports"
    assert version.title == "A Joint Statement on Ports"
    assert version.canonical_text.startswith("A Joint Statement on Ports\n\n1. ")
    assert _versions(w)[0].title == TITLE
    _assert_version_is_current_text(w, version)


def test_second_decision_is_a_conflict(w):
    """An accepted amendment cannot be accepted or rejected again; nothing changes."""
    amendment = _modify(w, 1, P1_SINGLE)
    _accept(w, amendment)
    _refused(Conflict, lambda: amending.accept(amendment, w.coordinator, text_version=None, now=w.now),
             "already accepted")
    _refused(Conflict, lambda: amending.reject(amendment, w.coordinator, reason="Late.", now=w.now),
             "already accepted")


# --- rejecting --------------------------------------------------------------------------------------


def test_reject_needs_the_coordinator_and_a_reason(w):
    """Only the coordinator rejects, and only with a reason; then it is closed for good."""
    amendment = _modify(w, 1, P1_SINGLE)
    _refused(NotAllowed, lambda: amending.reject(amendment, w.del_a, reason="No.", now=w.now))
    for empty in ("", "   \r\n"):
        error = _refused(InvalidInput, lambda r=empty: amending.reject(
            amendment, w.coordinator, reason=r, now=w.now), "reason")
        assert error.field == "reason"
    amending.reject(amendment, w.coordinator, reason=" Out of scope. ", now=w.now)
    db.session.commit()
    amendment = _fresh(amendment)
    assert (amendment.status, amendment.decision_reason, amendment.decided_by_id) == (
        "rejected", "Out of scope.", w.coordinator.id)
    assert not amendment.is_open
    _refused(Conflict, lambda: amending.reject(amendment, w.coordinator, reason="Again.", now=w.now))
    _refused(Conflict, lambda: amending.accept(amendment, w.coordinator, text_version=None, now=w.now))
    assert _live_texts(w) == TEXTS and w.statement.version_count == 1


# --- promise 5: rebasing the siblings ---------------------------------------------------------------


def test_sibling_on_another_sentence_is_rebased(w):
    """A modify of another sentence of P is carried onto the new text, with both changes."""
    accepted = _modify(w, 1, P1_SINGLE)
    sibling = _modify(w, 1, P1_NIGHT, w.del_c, w.c)
    _accept(w, accepted)
    new_revision_id = _p(w, 1).current_revision_id
    sibling = _fresh(sibling)
    assert sibling.status == "rebased" and sibling.is_open
    assert sibling.base_text == P1_SINGLE
    assert sibling.base_revision_id == new_revision_id
    assert sibling.proposed_text == P1_SINGLE.replace("every shift", "every night shift")
    assert sibling.text_version == 2
    assert _reasons(sibling) == ["proposed", "rebased"]
    assert sibling.history[-1].base_revision_id == new_revision_id
    assert sibling.history[0].base_text == P1  # the original proposal stays in history

    version = _accept(w, sibling, minutes=2)
    assert _p(w, 1).text == "The harbour must stay open to every single worker. Wages are paid on time " \
                            "each month. Safety comes first on every night shift."
    revision = _p(w, 1).current_revision
    assert revision.parent_id == new_revision_id and revision.amendment_id == sibling.id
    _assert_version_is_current_text(w, version)


def test_sibling_on_the_same_words_is_conflicted_and_untouched(w):
    """A modify changing the same words is marked conflicted; its texts stay as proposed."""
    accepted = _modify(w, 1, P1_SINGLE)
    sibling = _modify(w, 1, P1_EACH, w.del_c, w.c)
    base_revision_id = _fresh(sibling).base_revision_id
    _accept(w, accepted)
    sibling = _fresh(sibling)
    assert sibling.status == "conflicted" and sibling.is_open
    assert (sibling.base_text, sibling.proposed_text) == (P1, P1_EACH)
    assert sibling.base_revision_id == base_revision_id
    assert _reasons(sibling) == ["proposed", "conflicted"]
    assert (sibling.history[-1].base_text, sibling.history[-1].proposed_text) == (P1, P1_EACH)
    assert amending.can_edit(sibling, w.del_c)
    _refused(Conflict, lambda: amending.accept(sibling, w.coordinator, text_version=None, now=w.now),
             "revise")
    assert _p(w, 1).text == P1_SINGLE


def test_sibling_delete_gets_the_new_base(w):
    """A delete of P is rebased onto P's new revision."""
    accepted = _modify(w, 1, P1_SINGLE)
    sibling = _propose(w, w.del_c, w.c, "delete", _p(w, 1))
    _accept(w, accepted)
    sibling = _fresh(sibling)
    assert sibling.status == "rebased"
    assert (sibling.base_text, sibling.base_revision_id) == (P1_SINGLE, _p(w, 1).current_revision_id)
    assert _reasons(sibling) == ["proposed", "rebased"]
    _accept(w, sibling, minutes=2)
    assert _live_texts(w) == [P2, P3]


def test_sibling_that_already_is_in_the_text_becomes_obsolete(w):
    """A sibling proposing exactly the accepted change is closed as obsolete, not re-applied."""
    accepted = _modify(w, 1, P1_SINGLE)
    twin = _modify(w, 1, P1_SINGLE, w.del_c, w.c)
    _accept(w, accepted)
    assert _fresh(twin).status == "obsolete"
    assert _p(w, 1).text == P1_SINGLE


MUST_SHALL = P1.replace("must stay", "shall stay")
DOCK_WORKER = P1.replace("every worker", "every dock worker")  # four words after "must": stay open to every


@pytest.mark.parametrize("shall_first", [True, False])
def test_two_amendments_four_words_apart_both_reach_the_text(w, shall_first):
    """Two changes of one sentence, four unchanged words apart: accepted one after the other, the text holds both."""
    shall = _modify(w, 1, MUST_SHALL)
    dock = _modify(w, 1, DOCK_WORKER, w.del_c, w.c)
    first, second = (shall, dock) if shall_first else (dock, shall)
    _accept(w, first)
    second = _fresh(second)
    assert second.status == "rebased"
    assert second.proposed_text == P1.replace("must stay", "shall stay").replace("every worker", "every dock worker")
    _accept(w, second, minutes=2)
    assert _p(w, 1).text.startswith("The harbour shall stay open to every dock worker. Wages")


def test_each_sibling_gets_the_outcome_its_words_call_for(w):
    """One accept: siblings apart are rebased, touching conflicted, fuller keep their extra, lesser are obsolete."""
    accepted = _modify(w, 1, MUST_SHALL.replace("each month", "every month"))
    apart = _modify(w, 1, DOCK_WORKER, w.del_c, w.c)
    touching = _modify(w, 1, P1.replace("stay open", "remain open"), w.del_a, w.a)
    fuller = _modify(w, 1, MUST_SHALL.replace("every shift", "every single shift"), w.del_c, w.c)
    lesser = _modify(w, 1, MUST_SHALL)
    _accept(w, accepted)
    new_text = _p(w, 1).text
    apart, touching, fuller, lesser = (_fresh(a) for a in (apart, touching, fuller, lesser))
    assert (apart.status, apart.base_text) == ("rebased", new_text)
    assert apart.proposed_text == new_text.replace("every worker", "every dock worker")
    assert (touching.status, touching.base_text, touching.proposed_text) == (
        "conflicted", P1, P1.replace("stay open", "remain open"))
    assert (fuller.status, fuller.proposed_text) == ("rebased", new_text.replace("every shift", "every single shift"))
    assert (lesser.status, lesser.is_open) == ("obsolete", False)
    assert lesser.decision_reason == "The accepted text already contains this change."
    assert [_reasons(a)[-1] for a in (apart, touching, fuller)] == ["rebased", "conflicted", "rebased"]


@pytest.mark.slow
def test_an_accept_after_a_flood_of_unrelated_siblings_succeeds_whole(w):
    """59 unrelated 10,000-character siblings (each of 3 organisations at its cap of 20 with the accepted one): the
    accept applies, all conflict."""
    import random

    rng = random.Random(17)
    vocabulary = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
                  for _ in range(5000)]

    def flood_text() -> str:
        words = []
        while sum(map(len, words)) + len(words) < 9_990:
            words.append(rng.choice(vocabulary))
        return " ".join(words)[:10_000]

    # The accepted one first: after the flood its organisation is at the cap of 20 at this place.
    accepted = _modify(w, 1, P1_SINGLE)
    floods = [_modify(w, 1, flood_text(), user, org) for user, org in ((w.del_a, w.a), (w.del_b, w.b), (w.del_c, w.c))
              for _ in range(20 - (org is w.b))]
    version = _accept(w, accepted)
    assert _p(w, 1).text == P1_SINGLE and version.number == 2
    assert {_fresh(f).status for f in floods} == {"conflicted"}
    assert all(_reasons(f) == ["proposed", "conflicted"] for f in floods)


def test_amendments_elsewhere_are_untouched(w):
    """Accepting a modify of ¶ 1 leaves amendments of other paragraphs, inserts after it, retitles alone."""
    accepted = _modify(w, 1, P1_SINGLE)
    others = [
        _modify(w, 2, "Ferries run twice an hour."),
        _propose(w, w.del_c, w.c, "delete", _p(w, 3)),
        _propose(w, w.del_c, w.c, "insert", _p(w, 1), "Inserted after one."),
        _propose(w, w.del_c, w.c, "insert", None, "At the top."),
        _propose(w, w.del_c, w.c, "retitle", None, "A Joint Statement on Ports"),
    ]
    db.session.commit()
    ids = [a.id for a in others]
    query = select(Amendment.__table__).where(Amendment.id.in_(ids))
    before = sorted(tuple(r) for r in db.session.execute(query))
    history_before = len(db.session.scalars(select(AmendmentRevision)).all())
    _accept(w, accepted)
    assert sorted(tuple(r) for r in db.session.execute(query)) == before
    assert len(db.session.scalars(select(AmendmentRevision)).all()) == history_before


def test_after_a_delete_siblings_of_that_paragraph_are_obsolete(w):
    """Accepting the delete of ¶ 2 makes modify and delete of ¶ 2 obsolete, and nothing else."""
    gone = _p(w, 2)
    accepted = _propose(w, w.del_b, w.b, "delete", gone)
    modify = _modify(w, 2, "Ferries run twice an hour.", w.del_c, w.c)
    delete = _propose(w, w.del_c, w.c, "delete", gone)
    elsewhere = _modify(w, 3, "Bread is baked at dawn.")
    _accept(w, accepted)
    for sibling in (modify, delete):
        sibling = _fresh(sibling)
        assert sibling.status == "obsolete" and not sibling.is_open
        assert f"deleted by amendment #{accepted.id}" in sibling.decision_reason
    assert _fresh(elsewhere).status == "open"
    _refused(Conflict, lambda: amending.accept(modify, w.coordinator, text_version=None, now=w.now))


def test_after_a_delete_an_insert_after_it_is_re_anchored(w):
    """An insert after a deleted paragraph moves to after the previous live one, or to the top."""
    after_second = _propose(w, w.del_c, w.c, "insert", _p(w, 2), "After two.")
    after_first = _propose(w, w.del_c, w.c, "insert", _p(w, 1), "After one.")
    first_id = _p(w, 1).id
    _accept(w, _propose(w, w.del_b, w.b, "delete", _p(w, 2)))
    after_second = _fresh(after_second)
    assert (after_second.status, after_second.paragraph_id) == ("rebased", first_id)
    assert _reasons(after_second) == ["proposed", "rebased"]
    _accept(w, _propose(w, w.del_b, w.b, "delete", _p(w, 1)), minutes=2)
    after_first, after_second = _fresh(after_first), _fresh(after_second)
    assert (after_first.status, after_first.paragraph_id) == ("rebased", None)
    assert (after_second.status, after_second.paragraph_id) == ("rebased", None)
    _accept(w, after_second, minutes=3)
    assert _live_texts(w) == ["After two.", P3]


def test_retitle_siblings_rebase_on_the_title(w):
    """After a retitle, retitles of other words are merged in; one touching the same words is conflicted."""
    accepted = _propose(w, w.del_b, w.b, "retitle", None, "A Joint Statement on Harbours and Ferries")
    rebased = _propose(w, w.del_c, w.c, "retitle", None, "A Joint Declaration on Harbours")
    # "Harbours" lies between this insertion and the accepted one: no collision.
    also_rebased = _propose(w, w.del_c, w.c, "retitle", None, "A Joint Statement on Safe Harbours")
    conflicted = _propose(w, w.del_c, w.c, "retitle", None, "A Joint Statement on Ports")
    _accept(w, accepted)
    rebased, also_rebased, conflicted = _fresh(rebased), _fresh(also_rebased), _fresh(conflicted)
    assert (rebased.status, rebased.base_text, rebased.proposed_text) == (
        "rebased", "A Joint Statement on Harbours and Ferries", "A Joint Declaration on Harbours and Ferries")
    assert (also_rebased.status, also_rebased.proposed_text) == (
        "rebased", "A Joint Statement on Safe Harbours and Ferries")
    assert (conflicted.status, conflicted.base_text, conflicted.proposed_text) == (
        "conflicted", TITLE, "A Joint Statement on Ports")
    _accept(w, rebased, minutes=2)
    assert db.session.get(Statement, w.statement.id).title == "A Joint Declaration on Harbours and Ferries"
    assert _fresh(also_rebased).proposed_text == "A Joint Declaration on Safe Harbours and Ferries"


def test_conflicted_amendment_revised_goes_back_to_open_and_can_be_accepted(w):
    """The proposer revises a conflicted amendment against the current text; it is open again and applies."""
    accepted = _modify(w, 1, P1_SINGLE)
    sibling = _modify(w, 1, P1_EACH, w.del_c, w.c)
    _accept(w, accepted)
    current_revision_id = _p(w, 1).current_revision_id
    revised = P1_SINGLE.replace("every single worker", "each and every worker")
    amending.edit_amendment(sibling, w.del_c, text=revised, rationale="Revised after the conflict.",
                            now=w.now + timedelta(minutes=2))
    db.session.commit()
    sibling = _fresh(sibling)
    assert (sibling.status, sibling.round) == ("open", 2)
    assert (sibling.base_text, sibling.base_revision_id, sibling.proposed_text) == (
        P1_SINGLE, current_revision_id, revised)
    assert _reasons(sibling) == ["proposed", "conflicted", "revised"]
    version = _accept(w, sibling, minutes=3)
    assert _p(w, 1).text == revised
    assert _p(w, 1).current_revision.parent_id == current_revision_id
    _assert_version_is_current_text(w, version)


def test_conflicted_amendment_stays_conflicted_through_further_accepts(w):
    """A later accept on the same paragraph leaves an already conflicted amendment as it was, but for
    its stored diff against the paragraph's text now."""
    sibling = _modify(w, 1, P1_EACH, w.del_c, w.c)
    _accept(w, _modify(w, 1, P1_SINGLE))
    columns = [c for c in Amendment.__table__.c if c.name != "current_diff"]
    query = select(*columns).where(Amendment.id == sibling.id)
    before = [tuple(r) for r in db.session.execute(query)]
    newer = P1_SINGLE.replace("each month", "every month")
    _accept(w, _modify(w, 1, newer), minutes=2)
    assert [tuple(r) for r in db.session.execute(query)] == before
    current = db.session.scalar(select(Amendment.current_diff).where(Amendment.id == sibling.id))
    assert "".join(t for op, t in load_ops(current) if op <= 0) == newer


def test_revision_of_conflicted_modify_on_deleted_paragraph_is_refused(w):
    """Once its paragraph is deleted a conflicted amendment is obsolete and cannot be revised."""
    sibling = _modify(w, 1, P1_EACH, w.del_c, w.c)
    _accept(w, _modify(w, 1, P1_SINGLE))
    _accept(w, _propose(w, w.del_b, w.b, "delete", _p(w, 1)), minutes=2)
    assert _fresh(sibling).status == "obsolete"
    _refused(Conflict, lambda: amending.edit_amendment(sibling, w.del_c, text="Anything.", rationale="",
                                                       now=w.now))



def test_conflicted_retitle_is_revised_against_the_current_title(w):
    """A conflicted retitle, once revised, is based on the current title and can be accepted."""
    accepted = _propose(w, w.del_b, w.b, "retitle", None, "A Joint Statement on Harbours and Ferries")
    sibling = _propose(w, w.del_c, w.c, "retitle", None, "A Joint Statement on Ports")
    _accept(w, accepted)
    assert _fresh(sibling).status == "conflicted"
    amending.edit_amendment(sibling, w.del_c, text="A Joint Statement on Ports and Ferries",
                            rationale="", now=w.now)
    db.session.commit()
    sibling = _fresh(sibling)
    assert (sibling.status, sibling.round, sibling.base_text) == (
        "open", 2, "A Joint Statement on Harbours and Ferries")
    version = _accept(w, sibling, minutes=2)
    assert version.title == "A Joint Statement on Ports and Ferries"
    _assert_version_is_current_text(w, version)


def test_deadline_stops_proposals_but_not_positions_or_decisions(w):
    """After the deadline, positions are still taken and amendments still accepted."""
    amendment = _modify(w, 1, P1_SINGLE)
    late = w.deadline + timedelta(days=1)
    amending.take_position(amendment, w.del_c, w.c, "support", now=late)
    amending.accept(_fresh(amendment), w.coordinator, text_version=1, now=late)
    db.session.commit()
    assert _fresh(amendment).status == "accepted"


# --- compromise -------------------------------------------------------------------------------------


def test_compromise_supersedes_its_targets_when_accepted(w):
    """A compromise naming two open amendments of ¶ 1 marks them superseded by it when accepted."""
    first = _modify(w, 1, P1_SINGLE)
    second = _modify(w, 1, P1_EACH, w.del_c, w.c)
    bystander = _modify(w, 1, P1_NIGHT, w.del_a, w.a)
    compromise = _modify(w, 1, P1.replace("every worker", "every worker and visitor"), w.coordinator, w.a,
                         supersedes=[first.id, second.id, first.id])
    assert sorted(t.id for t in _fresh(compromise).targets) == [first.id, second.id]
    _accept(w, compromise)
    for target in (first, second):
        target = _fresh(target)
        assert (target.status, target.superseded_by_id) == ("superseded", compromise.id)
        assert f"#{compromise.id}" in target.decision_reason
    bystander = _fresh(bystander)
    assert bystander.status == "rebased" and bystander.superseded_by_id is None
    assert bystander.proposed_text == P1.replace("every worker", "every worker and visitor").replace(
        "every shift", "every night shift")


def test_compromise_of_a_delete_and_a_modify(w):
    """A compromise may name a delete and a modify of the same paragraph."""
    delete = _propose(w, w.del_b, w.b, "delete", _p(w, 2))
    modify = _modify(w, 2, "Ferries run twice an hour.", w.del_c, w.c)
    compromise = _modify(w, 2, "Ferries run when needed.", supersedes=[delete.id, modify.id])
    _accept(w, compromise)
    assert {_fresh(delete).status, _fresh(modify).status} == {"superseded"}
    assert _live_texts(w) == [P1, "Ferries run when needed.", P3]


def test_compromise_of_two_retitles(w):
    """A retitle compromise names open retitles and supersedes them."""
    first = _propose(w, w.del_b, w.b, "retitle", None, "A Statement on Harbours")
    second = _propose(w, w.del_c, w.c, "retitle", None, "A Joint Statement on Ports")
    compromise = _propose(w, w.coordinator, w.a, "retitle", None, "A Statement on Ports",
                          supersedes=[first.id, second.id])
    _refused(InvalidInput, lambda: amending.propose(
        w.statement, w.del_c, w.c, kind="modify", paragraph_id=_p(w, 1).id, text=P1_NIGHT,
        supersedes=[first.id], now=w.now), "another")
    _accept(w, compromise)
    assert {_fresh(first).superseded_by_id, _fresh(second).superseded_by_id} == {compromise.id}


def test_compromise_targets_must_be_open_amendments_of_the_same_paragraph(w):
    """Targets of another paragraph, inserts, retitles, closed or foreign amendments are refused."""
    on_two = _modify(w, 2, "Ferries run twice an hour.")
    insert = _propose(w, w.del_c, w.c, "insert", _p(w, 1), "After one.")
    retitle = _propose(w, w.del_c, w.c, "retitle", None, "A Joint Statement on Ports")
    closed = _modify(w, 1, P1_SINGLE)
    amending.withdraw_amendment(closed, w.del_b, now=w.now)
    other = factories.statement(w.coordinator, w.a, participants=[w.b], title="Elsewhere")
    amending.open_for_amendments(other, w.coordinator, rule="coordinator", deadline=None, now=w.now)
    foreign = amending.propose(other, w.del_b, w.b, kind="modify", paragraph_id=_live(other)[0].id,
                               text="Changed.", now=w.now)
    db.session.commit()
    cases = [(on_two.id, InvalidInput, "another"), (insert.id, InvalidInput, "another"),
             (retitle.id, InvalidInput, "another"), (closed.id, Conflict, "no longer open"),
             (foreign.id, NotFound, "not part of this statement"), (987654, NotFound, "not part")]
    for target_id, error, match in cases:
        _refused(error, lambda t=target_id: amending.propose(
            w.statement, w.del_c, w.c, kind="modify", paragraph_id=_p(w, 1).id, text=P1_NIGHT,
            supersedes=[t], now=w.now), match)
    _refused(InvalidInput, lambda: amending.propose(
        w.statement, w.del_c, w.c, kind="insert", paragraph_id=_p(w, 2).id, text="New.",
        supersedes=[on_two.id], now=w.now), "another")


def test_target_closed_before_the_compromise_is_accepted_is_left_alone(w):
    """A target that was withdrawn in the meantime stays withdrawn, not superseded."""
    first = _modify(w, 1, P1_SINGLE)
    second = _modify(w, 1, P1_EACH, w.del_c, w.c)
    compromise = _modify(w, 1, P1_NIGHT, w.coordinator, w.a, supersedes=[first.id, second.id])
    amending.withdraw_amendment(first, w.del_b, now=w.now)
    db.session.commit()
    _accept(w, compromise)
    assert (_fresh(first).status, _fresh(first).superseded_by_id) == ("withdrawn", None)
    assert _fresh(second).status == "superseded"


# --- promise 1: a long run, nothing lost ----------------------------------------------------------------


def test_long_sequence_keeps_every_revision_and_version(w):
    """After a dozen amendments of every kind (a conflict, a compromise) every earlier row is unchanged."""
    _rule(w, "majority")
    seen_revisions: dict[int, dict] = {}
    seen_versions: dict[int, dict] = {}
    seen_entries: set[tuple] = set()
    minute = iter(range(1, 1000))

    def snap():
        revisions, versions = _rows(Revision), _rows(Version)
        for key, row in seen_revisions.items():
            assert revisions[key] == row, f"revision {key} changed"
        for key, row in seen_versions.items():
            assert versions[key] == row, f"version {key} changed"
        entries = {tuple(r) for r in db.session.execute(select(VersionParagraph.__table__))}
        assert seen_entries <= entries
        seen_revisions.update(revisions)
        seen_versions.update(versions)
        seen_entries.update(entries)

    def support_and_accept(amendment):
        for user, org in ((w.del_b, w.b), (w.del_c, w.c)):
            amending.take_position(_fresh(amendment), user, org, "support", now=w.now)
        db.session.commit()
        version = _accept(w, amendment, minutes=next(minute))
        snap()
        return version

    snap()
    p1, p2, p3 = (_p(w, n) for n in (1, 2, 3))
    m_single = _modify(w, 1, P1_SINGLE)                                      # 1
    m_night = _modify(w, 1, P1_NIGHT, w.del_c, w.c)                          # 2: will be rebased
    m_each = _modify(w, 1, P1_EACH, w.del_a, w.a)                            # 3: will conflict
    i_after2 = _propose(w, w.del_b, w.b, "insert", p2, "Trains run at night too.")   # 4
    i_top = _propose(w, w.del_c, w.c, "insert", None, "We, the undersigned, agree.")  # 5
    d3 = _propose(w, w.del_b, w.b, "delete", p3)                             # 6
    m3 = _modify(w, 3, "Bread is baked at dawn.", w.del_c, w.c)              # 7: obsolete after d3
    i_after3 = _propose(w, w.del_c, w.c, "insert", p3, "Bakers rest on Sundays.")  # 8: re-anchored
    r_title = _propose(w, w.del_c, w.c, "retitle", None, "A Joint Statement on Harbours and Ferries")  # 9
    m2_b = _modify(w, 2, "Ferries run every half hour between the islands.")  # 10
    m2_c = _modify(w, 2, "Ferries run every hour between all the islands.", w.del_c, w.c)  # 11
    compromise = _modify(w, 2, "Ferries run every half hour between all the islands.", w.coordinator, w.a,
                         supersedes=[m2_b.id, m2_c.id])                      # 12
    amending.cosponsor(compromise, w.del_b, w.b, now=w.now)
    rejected = _modify(w, 2, "Boats, not ferries.", w.del_c, w.c)            # 13
    amending.reject(rejected, w.coordinator, reason="Off topic.", now=w.now)
    withdrawn = _propose(w, w.del_b, w.b, "insert", None, "Never mind.")     # 14
    amending.withdraw_amendment(withdrawn, w.del_b, now=w.now)
    db.session.commit()

    support_and_accept(m_single)
    assert _fresh(m_night).status == "rebased" and _fresh(m_each).status == "conflicted"
    support_and_accept(m_night)
    amending.edit_amendment(m_each, w.del_a, text=_p(w, 1).text.replace("every single worker", "each worker"),
                            rationale="Revised.", now=w.now)
    db.session.commit()
    support_and_accept(m_each)
    support_and_accept(i_after2)
    support_and_accept(i_top)
    support_and_accept(compromise)
    support_and_accept(d3)
    assert _fresh(m3).status == "obsolete"
    assert _fresh(i_after3).paragraph_id == i_after2.result_paragraph_id
    support_and_accept(i_after3)
    final = support_and_accept(r_title)

    assert {a.status for a in (m2_b, m2_c)} == {"superseded"}
    assert (_fresh(rejected).status, _fresh(withdrawn).status) == ("rejected", "withdrawn")
    final_p1 = ("The harbour must stay open to each worker. Wages are paid on time each month. "
                "Safety comes first on every night shift.")
    assert final.canonical_text == (
        "A Joint Statement on Harbours and Ferries\n\n"
        "1. We, the undersigned, agree.\n\n"
        f"2. {final_p1}\n\n"
        "3. Ferries run every half hour between all the islands.\n\n"
        "4. Trains run at night too.\n\n"
        "5. Bakers rest on Sundays.\n"
    )
    versions = _versions(w)
    assert [v.number for v in versions] == list(range(1, 11))
    for version in versions:
        assert version.sha256 == sha256_hex(version.canonical_text)
        # Each version's text can be rebuilt from its own entries: nothing it points at changed.
        texts = [db.session.get(Revision, e.revision_id).text for e in version.entries]
        assert version.canonical_text == canonical_text(version.title, texts)
    assert [v.amendment_id for v in versions[1:]] == [
        m_single.id, m_night.id, m_each.id, i_after2.id, i_top.id, compromise.id, d3.id, i_after3.id,
        r_title.id]
    # Every paragraph's revisions form one chain, oldest first.
    for paragraph in (p1, p2):
        chain = db.session.scalars(select(Revision).where(Revision.paragraph_id == paragraph.id)
                                   .order_by(Revision.id)).all()
        assert [r.parent_id for r in chain] == [None] + [r.id for r in chain[:-1]]
    assert db.session.get(Paragraph, p3.id).deleted_at is not None
    assert db.session.scalars(select(Revision).where(Revision.paragraph_id == p3.id)).one().text == P3


# --- reading ------------------------------------------------------------------------------------------


def test_open_counts_group_open_amendments_by_place(w):
    """Open amendments are counted by paragraph id, None for inserts at the top and 'title' for retitles."""
    p1, p2 = _p(w, 1), _p(w, 2)
    modify = _modify(w, 1, P1_SINGLE)
    insert = _propose(w, w.del_c, w.c, "insert", p1, "After one.")
    top = _propose(w, w.del_c, w.c, "insert", None, "Top.")
    _propose(w, w.del_c, w.c, "delete", p2)
    retitle = _propose(w, w.del_c, w.c, "retitle", None, "Ports")
    withdrawn = _modify(w, 3, "Bread at dawn.")
    amending.withdraw_amendment(withdrawn, w.del_b, now=w.now)
    db.session.commit()
    assert amending.open_counts(w.statement) == {p1.id: 2, None: 1, p2.id: 1, "title": 1}
    assert [a.id for a in amending.open_amendments_at(w.statement, p1.id)] == [modify.id, insert.id]
    assert [a.id for a in amending.open_amendments_at(w.statement, "title")] == [retitle.id]
    assert [a.id for a in amending.open_amendments_at(w.statement, None)] == [top.id]


def test_rebased_and_conflicted_amendments_still_count_as_open(w):
    """Rebased and conflicted amendments are still open and listed under their paragraph."""
    rebased = _modify(w, 1, P1_NIGHT, w.del_c, w.c)
    conflicted = _modify(w, 1, P1_EACH, w.del_c, w.c)
    _accept(w, _modify(w, 1, P1_SINGLE))
    assert amending.open_counts(w.statement) == {_p(w, 1).id: 2}
    assert [(a.id, a.status) for a in amending.open_amendments_at(w.statement, _p(w, 1).id)] == [
        (rebased.id, "rebased"), (conflicted.id, "conflicted")]


def test_list_amendments_filters(w):
    """Filters by paragraph, by organisation (proposer or co-sponsor) and by status ('open' = undecided)."""
    p1, p2 = _p(w, 1), _p(w, 2)
    rebased = _modify(w, 1, P1_NIGHT, w.del_c, w.c)
    conflicted = _modify(w, 1, P1_EACH)
    accepted = _modify(w, 1, P1_SINGLE, w.del_a, w.a)
    on_two = _modify(w, 2, "Ferries run twice an hour.", w.del_c, w.c)
    amending.cosponsor(on_two, w.del_b, w.b, now=w.now)
    withdrawn = _propose(w, w.del_b, w.b, "insert", None, "Top.")
    amending.withdraw_amendment(withdrawn, w.del_b, now=w.now)
    db.session.commit()
    _accept(w, accepted)

    def ids(**filters):
        return [a.id for a in amending.list_amendments(w.statement, **filters)]

    assert ids() == [rebased.id, conflicted.id, accepted.id, on_two.id, withdrawn.id]
    assert ids(paragraph_id=p1.id) == [rebased.id, conflicted.id, accepted.id]
    assert ids(paragraph_id=p2.id) == [on_two.id]
    assert ids(organisation_id=w.b.id) == [conflicted.id, on_two.id, withdrawn.id]
    assert ids(organisation_id=w.c.id) == [rebased.id, on_two.id]
    assert ids(organisation_id=w.outside.id) == []
    assert ids(status="open") == [rebased.id, conflicted.id, on_two.id]
    assert ids(status="rebased") == [rebased.id]
    assert ids(status="conflicted") == [conflicted.id]
    assert ids(status="accepted") == [accepted.id]
    assert ids(status="withdrawn") == [withdrawn.id]
    assert ids(status="open", organisation_id=w.b.id, paragraph_id=p1.id) == [conflicted.id]


def test_paragraph_numbers_follow_live_order(w):
    """paragraph_numbers gives each live paragraph its current number; a deleted one has none."""
    ids = [p.id for p in _live(w.statement)]
    assert amending.paragraph_numbers(w.statement) == {ids[0]: 1, ids[1]: 2, ids[2]: 3}
    _accept(w, _propose(w, w.del_b, w.b, "delete", _p(w, 1)))
    assert amending.paragraph_numbers(w.statement) == {ids[1]: 1, ids[2]: 2}


def test_comment_and_sponsor_rows_are_linked(w):
    """Comments and sponsors are stored against their amendment (sanity of the fixtures above)."""
    amendment = _modify(w, 1, P1_SINGLE)
    amending.add_comment(amendment, w.del_c, "Fine.", now=w.now)
    amending.cosponsor(amendment, w.del_c, w.c, now=w.now)
    db.session.commit()
    assert db.session.scalars(select(Comment.amendment_id)).all() == [amendment.id]
    assert db.session.scalars(select(Sponsor.amendment_id)).all() == [amendment.id]
