"""Suggestions to an amendment, and positions that know their text, without the HTTP client (issue 16,
items 2 and 4). Runs on SQLite and PostgreSQL; every refusal is checked against the database."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.amending import operations as amending
from app.amending import suggestions
from app.amending.rules import rule_met
from app.audit import verify
from app.diffing import DELETE, INSERT
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound, StaleText, WrongPhase
from app.extensions import db
from app.limits import MAX_OPEN_SUGGESTIONS_PER_ORGANISATION
from app.models import AuditEntry, Notification, OutboxMessage, Position, Suggestion
from app.permissions import amendment_rights
from tests import factories
from tests.test_amending import (
    P1,
    P1_EACH,
    P1_NIGHT,
    P1_SINGLE,
    _accept,
    _fresh,
    _modify,
    _open,
    _p,
    _propose,
    _state,
    draft,  # noqa: F401  (a fixture)
)

P1_BOTH = P1_SINGLE.replace("every shift", "every night shift")


@pytest.fixture
def w(draft):  # noqa: F811
    """Open for amendments under consensus: every participant's support is needed."""
    _open(draft, "consensus")
    return draft


def _refused(error, call, match: str | None = None):
    """``call`` raises ``error`` and nothing of the amendments' tables or the suggestions has changed."""
    db.session.commit()
    before = _state(), _rows()
    with pytest.raises(error, match=match) as caught:
        call()
    db.session.rollback()
    assert (_state(), _rows()) == before
    return caught.value


def _rows():
    return sorted(tuple(r) for r in db.session.execute(select(Suggestion.__table__)))


def _suggest(w, amendment, text, user=None, org=None, **kw):
    made = suggestions.suggest(amendment, user or w.del_c, org or w.c, text=text, now=kw.pop("now", w.now), **kw)
    db.session.commit()
    return made


def _fresh_suggestion(suggestion) -> Suggestion:
    db.session.expire_all()
    return db.session.get(Suggestion, suggestion.id)


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _told(user) -> list[str]:
    return list(db.session.scalars(select(Notification.subject).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


# --- positions: the proposer's and co-sponsors' support -------------------------------------------


def test_proposing_records_the_proposing_organisations_support(w):
    """B proposes: B supports it from that moment, shown as by proposing, and it counts for the rule."""
    amendment = _fresh(_modify(w, 1, P1_SINGLE))
    [position] = amendment.positions
    assert (position.organisation_id, position.user_id, position.stance, position.given_as,
            position.round, position.text_version) == (w.b.id, w.del_b.id, "support", "proposer", 1, 1)
    tally = amending.tally(amendment, w.statement)
    assert [o.id for o, _ in tally.support] == [w.b.id]
    assert [o.id for o in tally.silent] == [w.a.id, w.c.id]
    # Consensus among A, B and C: B's support by proposing counts, A's and C's are missing.
    assert "2 have not given it" in tally.decision.explanation


def test_cosponsoring_records_support_and_consensus_is_met_with_it(w):
    """C co-sponsors: C supports; with A's position the consensus rule is met, and accept works."""
    amendment = _modify(w, 1, P1_SINGLE)
    amending.cosponsor(amendment, w.del_c, w.c, now=w.now)
    db.session.commit()
    amendment = _fresh(amendment)
    given = {org: p.given_as for org, p in amendment.current_positions().items()}
    assert given == {w.b.id: "proposer", w.c.id: "cosponsor"}
    assert not amending.tally(amendment, w.statement).decision.met
    amending.take_position(amendment, w.del_a, w.a, "support", now=w.now)
    db.session.commit()
    amendment = _fresh(amendment)
    decision = amending.tally(amendment, w.statement).decision
    assert decision.met
    assert decision == rule_met("consensus", [w.a.id, w.b.id, w.c.id],
                                {org: p.stance for org, p in amendment.current_positions().items()})
    _accept(w, amendment)
    assert _p(w, 1).text == P1_SINGLE


def test_support_by_proposing_is_withdrawable_like_any_position(w):
    """B's delegate records B's position again (abstain): the later one counts, the automatic one stays."""
    amendment = _modify(w, 1, P1_SINGLE)
    amending.take_position(amendment, w.del_b, w.b, "abstain", "We will let the others decide.", now=w.now)
    amending.cosponsor(amendment, w.del_c, w.c, now=w.now)
    amending.take_position(amendment, w.del_c, w.c, "oppose", now=w.now)
    db.session.commit()
    amendment = _fresh(amendment)
    tally = amending.tally(amendment, w.statement)
    assert tally.support == [] and [o.id for o, _ in tally.abstain] == [w.b.id]
    assert [(o.id, p.given_as) for o, p in tally.oppose] == [(w.c.id, None)]
    assert len(amendment.positions) == 4
    assert not rule_met("majority", [w.a.id, w.b.id, w.c.id],
                        {org: p.stance for org, p in amendment.current_positions().items()}).met


def test_the_proposer_edits_until_another_organisation_speaks(w):
    """Its own support does not stop the proposer editing; a co-sponsor's (a position of another) does."""
    amendment = _modify(w, 1, P1_SINGLE)
    assert amending.can_edit(_fresh(amendment), w.del_b)
    amending.cosponsor(amendment, w.del_c, w.c, now=w.now)
    db.session.commit()
    assert not amending.can_edit(_fresh(amendment), w.del_b)
    _refused(Conflict, lambda: amending.edit_amendment(_fresh(amendment), w.del_b, text=P1_NIGHT, rationale="",
                                                       now=w.now), "taken positions")


# --- positions: given on an earlier text ----------------------------------------------------------


def test_a_position_given_before_a_clean_rebase_still_counts_and_is_flagged(w):
    """C supports B's change; another change to the same paragraph is accepted and B's is rebased
    cleanly: C's support still counts (the rule is met), but it was given on the earlier text."""
    night = _modify(w, 1, P1_NIGHT)
    amending.take_position(night, w.del_c, w.c, "support", now=w.now)
    amending.take_position(night, w.del_a, w.a, "support", now=w.now)
    db.session.commit()
    single = _modify(w, 1, P1_SINGLE, w.del_c, w.c)
    amending.take_position(single, w.del_a, w.a, "support", now=w.now)
    amending.take_position(single, w.del_b, w.b, "support", now=w.now)
    db.session.commit()
    _accept(w, single)
    night = _fresh(night)
    assert (night.status, night.proposed_text, night.text_version, night.round) == ("rebased", P1_BOTH, 2, 1)
    tally = amending.tally(night, w.statement)
    assert tally.decision.met  # every position still counts
    flagged = {o.id: night.on_earlier_text(p) for o, p in tally.support}
    assert flagged == {w.a.id: True, w.b.id: True, w.c.id: True}
    # The history names the text each position was given on: 1, then the rebase made 2.
    assert [(h.reason, h.text_version) for h in night.history] == [("proposed", 1), ("rebased", 2)]
    assert {p.text_version for p in night.positions} == {1}
    # A position taken now is on the current text.
    amending.take_position(night, w.del_c, w.c, "support", "Still fine.", now=w.now)
    db.session.commit()
    night = _fresh(night)
    assert not night.on_earlier_text(night.current_positions()[w.c.id])
    _accept(w, night, minutes=2)
    assert _p(w, 1).text == P1_BOTH


# --- suggesting -------------------------------------------------------------------------------------


def test_a_delegate_suggests_a_change_stored_with_its_diff(w):
    """C's suggestion: the amendment's text version and text it was made on, and the word diff against it."""
    amendment = _modify(w, 1, P1_SINGLE, rationale="Every single one.")
    suggestion = _suggest(w, amendment, P1_BOTH + "  ", rationale="Nights too.")
    suggestion = _fresh_suggestion(suggestion)
    assert (suggestion.amendment_id, suggestion.organisation_id, suggestion.author_id, suggestion.status,
            suggestion.text_version, suggestion.base_text, suggestion.proposed_text, suggestion.rationale) == (
        amendment.id, w.c.id, w.del_c.id, "open", 1, P1_SINGLE, P1_BOTH, "Nights too.")
    assert [op for op in suggestion.ops if op[0] != 0] == [(INSERT, "night ")]
    # Nothing of the amendment changed.
    amendment = _fresh(amendment)
    assert (amendment.proposed_text, amendment.text_version, amendment.round) == (P1_SINGLE, 1, 1)
    assert _actions()[-1] == "suggested"
    entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert json.loads(entry.details)["suggestion"] == suggestion.id and entry.organisation_id == w.c.id
    assert _told(w.del_b)[-1] == f"Coastal Tenants Network suggests a change to your amendment #{amendment.id}"
    assert db.session.scalar(select(OutboxMessage.path).order_by(OutboxMessage.id.desc()).limit(1)) == \
        f"/amendments/{amendment.id}#s-{suggestion.id}"
    assert verify(w.statement.id)[1] == []  # the audit chain holds


def test_who_may_suggest(w):
    """Delegates of participants (also the proposing one's) may; a signatory, an outsider, the coordinator
    for another organisation may not; a deletion has nothing to suggest on; the form's organisation must
    be one the person speaks for."""
    amendment = _modify(w, 1, P1_SINGLE)
    rights = amendment_rights(_fresh(amendment), w.statement, w.del_c)
    assert rights.can_suggest and rights.suggest_for == (w.c.id,) and not rights.can_adopt
    assert amendment_rights(_fresh(amendment), w.statement, w.sig_b).suggest_for == ()
    for person, org in ((w.sig_b, w.b), (w.del_c, w.b), (w.del_out, w.outside), (factories.admin(), w.c)):
        _refused(NotAllowed, lambda p=person, o=org: suggestions.suggest(amendment, p, o, text=P1_NIGHT,
                                                                          now=w.now))
    _suggest(w, amendment, P1_NIGHT, w.del_b, w.b)  # a colleague of the proposer may suggest too
    deletion = _propose(w, w.del_b, w.b, "delete", _p(w, 2))
    assert not amendment_rights(_fresh(deletion), w.statement, w.del_c).can_suggest
    _refused(InvalidInput, lambda: suggestions.suggest(deletion, w.del_c, w.c, text="Anything.", now=w.now),
             "deletion")
    _refused(NotFound, lambda: suggestions.suggest(987654, w.del_c, w.c, text="Anything.", now=w.now))


def test_bad_suggestions_change_nothing(w):
    """Empty, the same text, the paragraph as it stands, over the maximum, control characters, a stale
    text version: refused with a message, nothing written."""
    amendment = _modify(w, 1, P1_SINGLE)
    cases = [
        ("", InvalidInput, None), (P1_SINGLE, InvalidInput, "same as the amendment"),
        (P1, InvalidInput, "change nothing"), ("x" * 10_001, InvalidInput, "10,000"),
        ("Bad \x07 bell.", InvalidInput, "control"),
    ]
    for text, error, match in cases:
        _refused(error, lambda t=text: suggestions.suggest(amendment, w.del_c, w.c, text=t, now=w.now), match)
    _refused(InvalidInput, lambda: suggestions.suggest(amendment, w.del_c, w.c, text=P1_NIGHT,
                                                       rationale="r" * 5_001, now=w.now), "5,000")
    _refused(StaleText, lambda: suggestions.suggest(amendment, w.del_c, w.c, text=P1_NIGHT, text_version=0,
                                                    now=w.now), "changed since you opened it")
    _suggest(w, amendment, P1_NIGHT, text_version=1)


def test_suggestions_only_on_an_amendment_open_for_positions_and_while_amending(w):
    """Not on a conflicted, a withdrawn or an accepted amendment; not once the text is frozen."""
    conflicted = _modify(w, 1, P1_EACH, w.del_c, w.c)
    withdrawn = _modify(w, 2, "Ferries run twice an hour.")
    amending.withdraw_amendment(withdrawn, w.del_b, now=w.now)
    db.session.commit()
    single = _modify(w, 1, P1_SINGLE)
    amending.take_position(single, w.del_a, w.a, "support", now=w.now)
    amending.take_position(single, w.del_c, w.c, "support", now=w.now)
    db.session.commit()
    _accept(w, single)
    assert _fresh(conflicted).status == "conflicted"
    _refused(Conflict, lambda: suggestions.suggest(conflicted, w.del_b, w.b, text=P1_NIGHT, now=w.now),
             "revises it")
    _refused(Conflict, lambda: suggestions.suggest(withdrawn, w.del_c, w.c, text="Ferries run often.",
                                                   now=w.now), "withdrawn")
    other = _modify(w, 3, "Bread is baked each night.")
    from app.signing import operations as signing
    signing.freeze(w.statement, w.coordinator, now=w.now)
    db.session.commit()
    _refused(WrongPhase, lambda: suggestions.suggest(other, w.del_c, w.c, text="Bread is baked.", now=w.now))


def test_open_suggestions_per_organisation_are_capped(w):
    """20 open ones from C are the most; a withdrawn or declined one makes room; B still may suggest."""
    amendment = _modify(w, 1, P1_SINGLE)
    made = [_suggest(w, amendment, P1_SINGLE.replace("Safety", f"Safety {n}")) for n in
            range(MAX_OPEN_SUGGESTIONS_PER_ORGANISATION)]
    _refused(InvalidInput, lambda: suggestions.suggest(amendment, w.del_c, w.c, text=P1_NIGHT, now=w.now),
             "already has 20 open suggestions")
    _suggest(w, amendment, P1_NIGHT, w.del_a, w.a)
    suggestions.withdraw(made[0], w.del_c, now=w.now)
    db.session.commit()
    _suggest(w, amendment, P1_NIGHT)


# --- adopting and declining ---------------------------------------------------------------------------


def test_adopting_gives_the_amendment_a_new_text_and_a_new_round(w):
    """B adopts C's suggestion: new text (revision 'adopted', its diff against the paragraph), text version
    2, round 2; A's position on the earlier text no longer counts and is shown as such; B supports the new
    text; other open suggestions become outdated; C is told, A's delegate is asked again."""
    amendment = _modify(w, 1, P1_SINGLE)
    amending.take_position(amendment, w.del_a, w.a, "support", now=w.now)
    db.session.commit()
    suggestion = _suggest(w, amendment, P1_BOTH, rationale="Nights too.")
    other = _suggest(w, amendment, P1_SINGLE.replace("Wages", "All wages"), w.del_a, w.a)
    adopted = suggestions.adopt(suggestion, w.del_b, now=w.now + timedelta(minutes=3))
    db.session.commit()
    amendment = _fresh(amendment)
    assert adopted.id == amendment.id
    assert (amendment.proposed_text, amendment.base_text, amendment.text_version, amendment.round,
            amendment.status) == (P1_BOTH, P1, 2, 2, "open")
    assert [op for op in amendment.ops if op[0] != 0] == [(INSERT, "single "), (INSERT, "night ")]
    assert [(h.reason, h.text_version, h.author_id) for h in amendment.history] == [
        ("proposed", 1, w.del_b.id), ("adopted", 2, w.del_b.id)]
    assert amendment.history[0].proposed_text == P1_SINGLE  # the earlier text stays
    tally = amending.tally(amendment, w.statement)
    assert [(o.id, p.given_as, p.text_version) for o, p in tally.support] == [(w.b.id, "proposer", 2)]
    assert [o.id for o in tally.silent] == [w.a.id, w.c.id]
    assert list(tally.earlier) == [w.a.id] and amendment.on_earlier_text(tally.earlier[w.a.id])
    assert not tally.decision.met
    assert (_fresh_suggestion(suggestion).status, _fresh_suggestion(suggestion).decided_by_id) == \
        ("adopted", w.del_b.id)
    assert _fresh_suggestion(other).status == "outdated"
    assert _actions()[-1] == "suggestion_adopted"
    assert _told(w.del_c)[-1] == f"Your suggestion to amendment #{amendment.id} was adopted"
    assert _told(w.del_a)[-1] == f"Amendment #{amendment.id} has a new text: your position is needed again"
    assert verify(w.statement.id)[1] == []
    # The new round: A supports, C supports; consensus met, accepted, the paragraph has both changes.
    amending.take_position(amendment, w.del_a, w.a, "support", now=w.now)
    amending.take_position(amendment, w.del_c, w.c, "support", now=w.now)
    db.session.commit()
    _accept(w, amendment, minutes=5)
    assert _p(w, 1).text == P1_BOTH


def test_only_the_proposer_adopts_or_declines(w):
    """Another delegate of B, C's delegate, the coordinator: refused; a decided suggestion cannot be again."""
    colleague = factories.member(w.b, "delegate")
    amendment = _modify(w, 1, P1_SINGLE)
    suggestion = _suggest(w, amendment, P1_BOTH)
    assert amendment_rights(_fresh(amendment), w.statement, w.del_b).can_adopt
    for person in (colleague, w.del_c, w.coordinator):
        assert not amendment_rights(_fresh(amendment), w.statement, person).can_adopt
        _refused(NotAllowed, lambda p=person: suggestions.adopt(suggestion, p, now=w.now), "proposer")
        _refused(NotAllowed, lambda p=person: suggestions.decline(suggestion, p, reason="No.", now=w.now))
    _refused(NotAllowed, lambda: suggestions.withdraw(suggestion, w.del_b, now=w.now), "person who made")
    _refused(NotFound, lambda: suggestions.adopt(987654, w.del_b, now=w.now))
    suggestions.decline(suggestion, w.del_b, reason="We prefer it short.", now=w.now)
    db.session.commit()
    _refused(Conflict, lambda: suggestions.adopt(suggestion, w.del_b, now=w.now), "already declined")
    _refused(Conflict, lambda: suggestions.withdraw(suggestion, w.del_c, now=w.now), "already declined")


def test_declining_needs_a_reason_and_tells_the_suggester(w):
    amendment = _modify(w, 1, P1_SINGLE)
    suggestion = _suggest(w, amendment, P1_BOTH)
    _refused(InvalidInput, lambda: suggestions.decline(suggestion, w.del_b, reason="  ", now=w.now), "reason")
    declined = suggestions.decline(suggestion, w.del_b, reason="  We prefer it short. ", now=w.now)
    db.session.commit()
    declined = _fresh_suggestion(declined)
    assert (declined.status, declined.decision_reason, declined.decided_by_id) == \
        ("declined", "We prefer it short.", w.del_b.id)
    amendment = _fresh(amendment)
    assert (amendment.proposed_text, amendment.text_version, amendment.round) == (P1_SINGLE, 1, 1)
    assert _actions()[-1] == "suggestion_declined"
    assert _told(w.del_c)[-1] == f"Your suggestion to amendment #{amendment.id} was declined"
    assert db.session.scalar(select(Notification.body).where(Notification.user_id == w.del_c.id)
                             .order_by(Notification.id.desc()).limit(1)) == "We prefer it short."


def test_a_suggestion_on_an_earlier_text_is_not_adopted_blindly(w):
    """After a clean rebase moved the amendment's text on, a suggestion made before it is refused with a
    message (it would undo the rebase) and stays open; declining it still works."""
    night = _modify(w, 1, P1_NIGHT)
    suggestion = _suggest(w, night, P1_NIGHT.replace("Wages", "All wages"))
    single = _modify(w, 1, P1_SINGLE, w.del_c, w.c)
    amending.take_position(single, w.del_a, w.a, "support", now=w.now)
    amending.take_position(single, w.del_b, w.b, "support", now=w.now)
    db.session.commit()
    _accept(w, single)
    assert _fresh(night).text_version == 2
    assert _fresh_suggestion(suggestion).outdated_on(_fresh(night))
    _refused(Conflict, lambda: suggestions.adopt(suggestion, w.del_b, now=w.now), "earlier text")
    assert _fresh_suggestion(suggestion).status == "open"
    # A suggestion on the current text is adopted.
    fresh = _suggest(w, night, P1_BOTH.replace("Wages", "All wages"))
    suggestions.adopt(fresh, w.del_b, now=w.now)
    db.session.commit()
    assert _fresh(night).proposed_text == P1_BOTH.replace("Wages", "All wages")
    assert _fresh_suggestion(suggestion).status == "outdated"


def test_an_edit_outdates_open_suggestions(w):
    amendment = _modify(w, 1, P1_SINGLE)
    suggestion = _suggest(w, amendment, P1_BOTH)
    amending.edit_amendment(amendment, w.del_b, text=P1_NIGHT, rationale="", now=w.now)
    db.session.commit()
    assert _fresh_suggestion(suggestion).status == "outdated"
    _refused(Conflict, lambda: suggestions.adopt(suggestion, w.del_b, now=w.now), "already outdated")


def test_withdrawing_a_suggestion(w):
    amendment = _modify(w, 1, P1_SINGLE)
    suggestion = _suggest(w, amendment, P1_BOTH)
    suggestions.withdraw(suggestion, w.del_c, now=w.now)
    db.session.commit()
    assert _fresh_suggestion(suggestion).status == "withdrawn"
    assert _actions()[-1] == "suggestion_withdrawn"
    _refused(Conflict, lambda: suggestions.adopt(suggestion, w.del_b, now=w.now))


def test_the_suggestions_a_page_lists(w):
    """Every open one; of the decided, the most recent RECENT_DECIDED, and how many there are."""
    amendment = _modify(w, 1, P1_SINGLE)
    made = [_suggest(w, amendment, P1_SINGLE.replace("Safety", f"Safety {n}"), org=org, user=user)
            for n in range(12) for user, org in ((w.del_c, w.c), (w.del_a, w.a))]
    for suggestion in made[:22]:
        suggestions.decline(suggestion, w.del_b, reason="No.", now=w.now)
    db.session.commit()
    open_ones, decided, count = suggestions.shown_suggestions(amendment)
    assert [s.id for s in open_ones] == [s.id for s in made[22:]]
    assert [s.id for s in decided] == [s.id for s in reversed(made[2:22])] and count == 22


def test_adopting_only_adds_positions(w):
    """Positions are append-only: adopting adds the proposer's support of the new text, changes none."""
    amendment = _modify(w, 1, P1_SINGLE)
    suggestion = _suggest(w, amendment, P1_BOTH)
    before = {p.id: (p.stance, p.round, p.text_version, p.given_as) for p in db.session.scalars(select(Position))}
    suggestions.adopt(suggestion, w.del_b, now=w.now)
    db.session.commit()
    after = {p.id: (p.stance, p.round, p.text_version, p.given_as) for p in db.session.scalars(select(Position))}
    assert {k: after[k] for k in before} == before and len(after) == len(before) + 1
    assert [op for op in _fresh_suggestion(suggestion).ops if op[0] == DELETE] == []


def test_suggestions_to_a_new_title_and_a_new_paragraph(w):
    """A retitle's suggestion is a title (one line, at most 300 characters); an insert's a paragraph."""
    retitle = _propose(w, w.del_b, w.b, "retitle", None, "A Joint Statement on Ports")
    _refused(InvalidInput, lambda: suggestions.suggest(retitle, w.del_c, w.c, text="T" * 301, now=w.now), "300")
    made = _suggest(w, retitle, "  A Joint Statement on Ports and Ferries ")
    assert _fresh_suggestion(made).proposed_text == "A Joint Statement on Ports and Ferries"
    insert = _propose(w, w.del_b, w.b, "insert", _p(w, 1), "Docks open at dawn.")
    made = _suggest(w, insert, "Docks open at dawn and close at dusk.")
    suggestions.adopt(made, w.del_b, now=w.now)
    db.session.commit()
    insert = _fresh(insert)
    assert (insert.proposed_text, insert.base_text, insert.text_version) == ("Docks open at dawn and close at dusk.",
                                                                           "", 2)
    assert insert.ops == [(INSERT, "Docks open at dawn and close at dusk.")]
