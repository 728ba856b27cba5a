"""The text with all its amendments (issue 16, item 3): the merged view and accepting several amendments
at once, as rules without the HTTP client. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from app.amending import operations as amending
from app.amending.merged_view import TITLE as TITLE_PLACE
from app.amending.merged_view import TOP, merged_view
from app.diffing import load_ops
from app.errors import BatchRefused, InvalidInput, NotAllowed, WrongPhase
from app.extensions import db
from app.limits import MAX_ACCEPT_MANY
from app.models import Amendment, AuditEntry, Notification, Statement, Version
from tests import factories
from tests import test_amending as amending_tests
from tests.test_amending import (
    P1,
    P1_EACH,
    P1_NIGHT,
    P1_SINGLE,
    P2,
    P3,
    STATE_TABLES,
    _fresh,
    _live_texts,
    _modify,
    _open,
    _p,
    _propose,
)

# The issue's sentence: two changes four words apart, by two organisations.
SENTENCE = "The council meets on the first Monday, with minutes published online."
FRIDAY = "The council meets on the first Friday, with minutes published online."
PROMPTLY = "The council meets on the first Monday, with minutes promptly published online."
BOTH = "The council meets on the first Friday, with minutes promptly published online."


@pytest.fixture
def draft(app, now):
    """As tests/test_amending.py's: three organisations (A coordinates), an outsider, a draft."""
    return amending_tests.draft.__wrapped__(app, now)


@pytest.fixture
def w(draft):
    _open(draft)
    return draft


def _state() -> dict[str, list[tuple]]:
    tables = (*STATE_TABLES, "audit_entries", "notifications", "outbox_messages")
    return {name: sorted((tuple(row) for row in db.session.execute(text(f"SELECT * FROM {name}"))), key=repr)
            for name in tables}


def _refused(error, call, match: str | None = None):
    """``call`` raises ``error`` and, after the rollback a request does, no row of any table has changed."""
    db.session.commit()
    before = _state()
    with pytest.raises(error, match=match) as caught:
        call()
    db.session.rollback()
    assert _state() == before
    return caught.value


def _statement(w) -> Statement:
    db.session.expire_all()
    return db.session.get(Statement, w.statement.id)


def _accept_many(w, amendments, user=None, **kw):
    version = amending.accept_many(_statement(w), [a.id for a in amendments], user or w.coordinator,
                                   now=w.now + timedelta(minutes=5), **kw)
    db.session.commit()
    return version


def _by_id(view):
    return {a.id: a for a in view.amendments()}


# --- the view -------------------------------------------------------------------------------------


def test_every_paragraph_in_order_with_its_open_amendments_as_stored(w):
    """Title, top, then each live paragraph numbered in order; each open amendment at its place with its
    stored diff, its organisation, its kind; closed amendments are not listed."""
    single = _modify(w, 1, P1_SINGLE)
    night = _modify(w, 1, P1_NIGHT, w.del_c, w.c)
    after_two = _propose(w, w.del_c, w.c, "insert", _p(w, 2), "Trains run at night too.")
    at_top = _propose(w, w.del_b, w.b, "insert", None, "A first word.")
    gone = _propose(w, w.del_b, w.b, "delete", _p(w, 3))
    retitle = _propose(w, w.del_b, w.b, "retitle", None, "Harbours, Together")
    withdrawn = _modify(w, 2, "Ferries run every half hour between the islands.")
    amending.withdraw_amendment(_fresh(withdrawn), w.del_b, now=w.now)
    db.session.commit()

    view = merged_view(_statement(w))
    assert [(p.number, p.text) for p in view.paragraphs] == [(1, P1), (2, P2), (3, P3)]
    assert view.title.place == TITLE_PLACE and [a.id for a in view.title.amendments] == [retitle.id]
    assert view.top.place == TOP and [a.id for a in view.top.inserts] == [at_top.id]
    assert [a.id for a in view.paragraphs[0].amendments] == [single.id, night.id]
    assert [a.id for a in view.paragraphs[1].inserts] == [after_two.id]
    assert view.paragraphs[1].amendments == []  # the withdrawn one is not open
    assert [a.id for a in view.paragraphs[2].amendments] == [gone.id]
    shown = _by_id(view)
    for amendment in (single, night, after_two, at_top, gone, retitle):
        assert shown[amendment.id].ops == load_ops(_fresh(amendment).diff)
    assert shown[single.id].organisation == "GVA" and shown[night.id].organisation == "Coastal Tenants Network"
    assert shown[gone.id].kind == "delete" and shown[at_top.id].kind == "insert"
    assert view.open_count == view.shown_count == 6


def test_collisions_follow_the_merge_rule(w):
    """Changes with unchanged words between them do not collide; changes of the same words do, both ways;
    a deletion of the paragraph collides with every change of it; inserts never collide."""
    single = _modify(w, 1, P1_SINGLE)
    night = _modify(w, 1, P1_NIGHT, w.del_c, w.c)
    each = _modify(w, 1, P1_EACH, w.del_c, w.c)
    monday = _modify(w, 2, P2.replace("every hour", "every morning"))
    gone = _propose(w, w.del_c, w.c, "delete", _p(w, 2))
    first = _propose(w, w.del_b, w.b, "insert", _p(w, 2), "One more.")
    second = _propose(w, w.del_c, w.c, "insert", _p(w, 2), "And another.")
    shown = _by_id(merged_view(_statement(w)))
    assert shown[single.id].collides_with == [each.id]
    assert shown[each.id].collides_with == [single.id]
    assert shown[night.id].collides_with == []
    assert shown[monday.id].collides_with == [gone.id] and shown[gone.id].collides_with == [monday.id]
    assert shown[first.id].collides_with == shown[second.id].collides_with == []


def test_the_same_change_twice_collides_and_so_do_changes_of_neighbouring_words(w):
    """Two amendments making the same change collide (accepting one leaves the other obsolete); so do two
    that touch (only a space between the words they change), whatever the merge would make of them."""
    same_one = _modify(w, 2, P2.replace("every hour", "every half hour"))
    same_two = _modify(w, 2, P2.replace("every hour", "every half hour"), w.del_c, w.c)
    shown = _by_id(merged_view(_statement(w)))
    assert shown[same_one.id].collides_with == [same_two.id]

    w2 = w
    smaller = _modify(w2, 3, P3.replace("each morning", "each early morning"))
    fuller = _modify(w2, 3, P3.replace("each morning", "each early morning").replace("Bread", "Fresh bread"),
                     w.del_c, w.c)
    far = _modify(w2, 3, P3.replace("in the town", "in the old town"), w.del_c, w.c)
    shown = _by_id(merged_view(_statement(w)))
    assert shown[smaller.id].collides_with == [fuller.id]
    assert shown[fuller.id].collides_with == [smaller.id] and shown[far.id].collides_with == []


def test_the_issue_sentence_four_words_apart_does_not_collide(draft):
    draft.statement = factories.statement(draft.coordinator, draft.a, participants=[draft.b, draft.c],
                                          paragraphs=[SENTENCE])
    _open(draft)
    friday = _modify(draft, 1, FRIDAY)
    promptly = _modify(draft, 1, PROMPTLY, draft.del_c, draft.c)
    shown = _by_id(merged_view(_statement(draft)))
    assert shown[friday.id].collides_with == [] and shown[promptly.id].collides_with == []


def test_rule_met_per_amendment_from_the_latest_positions_of_this_round(draft):
    """Under consensus an amendment's rule is met once every participant's latest stance is support;
    a later oppose unmeets it; positions of an earlier round do not count."""
    _open(draft, "consensus")
    w = draft
    supported = _modify(w, 1, P1_SINGLE)
    silent = _modify(w, 2, P2.replace("every hour", "hourly"), w.del_c, w.c)
    for user, org in ((w.coordinator, w.a), (w.del_b, w.b), (w.del_c, w.c)):
        amending.take_position(_fresh(supported), user, org, "oppose" if org is w.c else "support", now=w.now)
    amending.take_position(_fresh(supported), w.del_c, w.c, "support", now=w.now + timedelta(seconds=1))
    amending.take_position(_fresh(silent), w.del_c, w.c, "support", now=w.now)
    db.session.commit()
    shown = _by_id(merged_view(_statement(w)))
    assert shown[supported.id].rule_met and shown[supported.id].acceptable
    assert not shown[silent.id].rule_met and "Consensus needs" in shown[silent.id].decision.explanation
    amending.take_position(_fresh(supported), w.del_b, w.b, "oppose", now=w.now + timedelta(seconds=2))
    db.session.commit()
    assert not _by_id(merged_view(_statement(w)))[supported.id].rule_met


def test_filters_by_organisation_kind_and_rule_met(draft):
    _open(draft, "majority")
    w = draft
    by_b = _modify(w, 1, P1_SINGLE)
    by_c = _modify(w, 1, P1_EACH, w.del_c, w.c)
    delete_b = _propose(w, w.del_b, w.b, "delete", _p(w, 3))
    for user, org in ((w.coordinator, w.a), (w.del_b, w.b)):
        amending.take_position(_fresh(by_c), user, org, "support", now=w.now)
    db.session.commit()
    statement = _statement(w)

    def ids(**filters):
        return sorted(a.id for a in merged_view(statement, **filters).amendments())

    assert ids(organisation=w.b.id) == sorted([by_b.id, delete_b.id])
    assert ids(kind="delete") == [delete_b.id]
    assert ids(rule_met=True) == [by_c.id]
    assert ids(rule_met=False, organisation=w.b.id, kind="modify") == [by_b.id]
    view = merged_view(statement, organisation=w.c.id)
    assert view.open_count == 3 and view.shown_count == 1
    # A collision with an amendment the filter leaves out is still named.
    assert view.paragraphs[0].amendments[0].collides_with == [by_b.id]
    with pytest.raises(InvalidInput, match="does not take part"):
        merged_view(statement, organisation=w.outside.id)
    with pytest.raises(InvalidInput, match="kind"):
        merged_view(statement, kind="rewrite")


def test_a_conflicted_amendment_shows_its_diff_against_the_text_now_and_is_not_acceptable(w):
    single = _modify(w, 1, P1_SINGLE)
    each = _modify(w, 1, P1_EACH, w.del_c, w.c)
    amending.accept(_fresh(single), w.coordinator, text_version=None, now=w.now)
    db.session.commit()
    assert _fresh(each).status == "conflicted"
    shown = _by_id(merged_view(_statement(w)))
    assert shown[each.id].ops == load_ops(_fresh(each).current_diff)
    assert "".join(t for op, t in shown[each.id].ops if op != 1) == P1_SINGLE  # the text now
    assert not shown[each.id].acceptable and "revise" in shown[each.id].decision.explanation


def test_the_view_reads_a_constant_number_of_queries(w):
    """However many paragraphs and amendments: the same number of SQL statements."""
    def count() -> int:
        statement = _statement(w)
        _ = statement.memberships, [p.organisation for p in statement.memberships]
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            merged_view(statement)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    _modify(w, 1, P1_SINGLE)
    few = count()
    for n in range(3):
        _modify(w, 2, P2.replace("hour", f"{n + 2} hours"), w.del_c, w.c)
        _propose(w, w.del_b, w.b, "insert", _p(w, 3), f"Paragraph {n}.")
        _propose(w, w.del_c, w.c, "delete", _p(w, 3))
    for user, org in ((w.coordinator, w.a), (w.del_b, w.b)):
        for amendment in db.session.scalars(select(Amendment)).all():
            amending.take_position(amendment, user, org, "support", now=w.now)
    db.session.commit()
    assert count() == few <= 3


# --- accepting several -----------------------------------------------------------------------------


def test_two_changes_of_one_sentence_accepted_together_both_survive_in_one_version(draft):
    """The issue's case: two organisations change the same sentence four words apart; both accepted in one
    action give one new version holding both changes; each amendment is accepted with that version, has its
    audit entry, and its proposer is told."""
    draft.statement = factories.statement(draft.coordinator, draft.a, participants=[draft.b, draft.c],
                                          paragraphs=[SENTENCE, P2])
    _open(draft)
    w = draft
    promptly = _modify(w, 1, PROMPTLY, w.del_c, w.c)
    friday = _modify(w, 1, FRIDAY)
    added = _propose(w, w.del_b, w.b, "insert", _p(w, 2), "Minutes are kept for ten years.")
    versions_before = db.session.scalar(select(func.count()).select_from(Version))
    version = _accept_many(w, [added, friday, promptly])
    assert db.session.scalar(select(func.count()).select_from(Version)) == versions_before + 1
    assert version.number == 2
    assert _live_texts(w) == [BOTH, P2, "Minutes are kept for ten years."]
    assert f"1. {BOTH}" in version.canonical_text
    for amendment in (promptly, friday, added):
        fresh = _fresh(amendment)
        assert fresh.status == "accepted" and fresh.result_version_id == version.id
    entries = [json.loads(e.details) for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "accepted").order_by(AuditEntry.seq))]
    # In the order shown: ¶ 1's amendments by number, then the paragraph after ¶ 2.
    assert [e["amendment"] for e in entries] == [promptly.id, friday.id, added.id]
    assert all(e["version"] == 2 and e["sha256"] == version.sha256 for e in entries)
    assert entries[0]["rebased"] == {str(friday.id): "rebased"}
    assert version.note.startswith("3 amendments accepted together")
    told = db.session.scalars(select(Notification.user_id).where(Notification.kind == "amendment_decided")).all()
    assert set(told) >= {w.del_b.id, w.del_c.id}


def test_inserts_after_one_paragraph_keep_the_order_shown(w):
    first = _propose(w, w.del_b, w.b, "insert", _p(w, 1), "First new.")
    second = _propose(w, w.del_c, w.c, "insert", _p(w, 1), "Second new.")
    _accept_many(w, [second, first])
    assert _live_texts(w) == [P1, "First new.", "Second new.", P2, P3]


def test_a_conflict_within_the_batch_changes_nothing_and_names_it(w):
    """#each touches #single's words: once #single is applied it conflicts. Nothing is applied: text,
    versions, audit trail, amendments, notifications all as before; the error names the amendment."""
    single = _modify(w, 1, P1_SINGLE)
    each = _modify(w, 1, P1_EACH, w.del_c, w.c)
    night = _modify(w, 1, P1_NIGHT, w.del_c, w.c)
    error = _refused(BatchRefused, lambda: amending.accept_many(
        _statement(w), [night.id, each.id, single.id], w.coordinator, now=w.now), "Nothing was accepted")
    assert list(error.problems) == [each.id]
    assert f"#{single.id}" in error.problems[each.id] and "conflicts" in error.problems[each.id]
    assert _live_texts(w) == [P1, P2, P3]
    assert all(_fresh(a).status == "open" for a in (single, each, night))


def test_the_same_change_twice_in_a_batch_is_refused(w):
    one = _modify(w, 2, P2.replace("every hour", "every half hour"))
    two = _modify(w, 2, P2.replace("every hour", "every half hour"), w.del_c, w.c)
    error = _refused(BatchRefused, lambda: amending.accept_many(_statement(w), [one.id, two.id], w.coordinator,
                                                                 now=w.now))
    assert list(error.problems) == [two.id] and "obsolete" in error.problems[two.id]


def test_every_amendment_that_cannot_be_accepted_is_named(draft):
    """Not open, conflicted, its rule not met, changed since shown, of another statement: all named at once,
    and nothing applied."""
    _open(draft, "consensus")
    w = draft
    unmet = _modify(w, 2, P2.replace("every hour", "hourly"))
    withdrawn = _modify(w, 3, P3.replace("Bread", "Rye bread"))
    amending.withdraw_amendment(_fresh(withdrawn), w.del_b, now=w.now)
    met = _modify(w, 1, P1_SINGLE, w.del_c, w.c)
    for user, org in ((w.coordinator, w.a), (w.del_b, w.b), (w.del_c, w.c)):
        amending.take_position(_fresh(met), user, org, "support", now=w.now)
    db.session.commit()
    other = factories.statement(w.coordinator, w.a, participants=[w.b], title="Another")
    error = _refused(BatchRefused, lambda: amending.accept_many(
        _statement(w), [met.id, unmet.id, withdrawn.id], w.coordinator,
        text_versions={met.id: _fresh(met).text_version + 1}, now=w.now))
    assert set(error.problems) == {met.id, unmet.id, withdrawn.id}
    assert "changed since" in error.problems[met.id]
    assert "decision rule is not met" in error.problems[unmet.id]
    assert "withdrawn" in error.problems[withdrawn.id]
    error = _refused(BatchRefused, lambda: amending.accept_many(
        _statement(w), [met.id, 2**31 - 1], w.coordinator, now=w.now))
    assert error.problems == {2**31 - 1: "not an amendment of this statement"}
    assert other.id != w.statement.id


def test_only_the_coordinator_accepts_and_only_while_amending(w):
    single = _modify(w, 1, P1_SINGLE)
    for person in (w.del_a, w.del_b, factories.admin()):
        _refused(NotAllowed, lambda p=person: amending.accept_many(_statement(w), [single.id], p, now=w.now),
                 "coordinator")
    statement = _statement(w)
    statement.status = "signing"
    db.session.commit()
    _refused(WrongPhase, lambda: amending.accept_many(_statement(w), [single.id], w.coordinator, now=w.now))


@pytest.mark.parametrize("ids", [[], None, "1", [1, 1], ["1"], [True], [0], [2**31],
                                 list(range(1, MAX_ACCEPT_MANY + 2))])
def test_a_malformed_choice_is_refused(w, ids):
    _refused(InvalidInput, lambda: amending.accept_many(_statement(w), ids, w.coordinator, now=w.now))


def test_a_rebased_batch_member_is_accepted_with_its_rebased_text(w):
    """The first accepted rebases the second (its siblings' rebase, as accept does); the second is then
    accepted with both changes, and the version holds both; their siblings outside the batch are rebased."""
    single = _modify(w, 1, P1_SINGLE)
    night = _modify(w, 1, P1_NIGHT, w.del_c, w.c)
    outside = _modify(w, 1, P1.replace("on time", "in full"), w.del_c, w.c)
    version = _accept_many(w, [night, single])
    both = P1_SINGLE.replace("every shift", "every night shift")
    assert _live_texts(w)[0] == both
    assert _fresh(outside).status == "rebased" and _fresh(outside).proposed_text == both.replace("on time", "in full")
    assert _fresh(single).result_version_id == _fresh(night).result_version_id == version.id


# --- the touching rule on stored diffs, against the merge ----------------------------------------------


def _fake(amendment_id: int, base: str, new: str):
    from app.amending.merged_view import MergedAmendment
    from app.amending.rules import Decision
    from app.diffing import load_ops, text_change

    return MergedAmendment(amendment_id, "modify", "open", 1, "X", load_ops(text_change(base, new)), 1,
                           Decision(True, ""))


@pytest.mark.parametrize("gap", [0, 1, 2, 3])
def test_two_word_changes_collide_exactly_when_the_merge_cannot_keep_both(gap):
    """Every pair of one-word changes (replaced, or a word put in before it) of a sentence: they collide
    when no unchanged word lies between them, and when they do not collide the merge keeps both, in
    either order (so a batch can accept them one after the other)."""
    from app.amending.merged_view import _collisions
    from app.diffing.merge import CONFLICTED, REBASED, merge

    words = "The council meets on the first Monday, with minutes published online and read aloud.".split(" ")
    sentence = " ".join(words)
    for i in range(len(words) - gap - 1):
        j = i + gap + 1
        for first_kind, second_kind in (("replace", "replace"), ("insert", "replace"), ("replace", "insert")):
            def edit(k, how):
                changed = list(words)
                changed[k] = ("NEW" + changed[k]) if how == "replace" else ("fresh " + changed[k])
                return " ".join(changed)
            a, b = _fake(1, sentence, edit(i, first_kind)), _fake(2, sentence, edit(j, second_kind))
            _collisions({7: sentence}, {7: [a, b]})
            # Words between them: those from i + 1 to j - 1, and word i itself when the first change only puts a
            # word in before it. They touch when there are none.
            touching = gap == 0 and first_kind == "replace"
            assert (a.collides_with == [2]) == touching, (i, j, first_kind, second_kind)
            if touching:  # and then the merge refuses to guess
                assert merge(sentence, edit(i, first_kind), edit(j, second_kind)).outcome == CONFLICTED
            else:
                there = merge(sentence, edit(i, first_kind), edit(j, second_kind))
                back = merge(sentence, edit(j, second_kind), edit(i, first_kind))
                assert there.outcome == back.outcome == REBASED and there.text == back.text
