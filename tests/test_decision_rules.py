"""The decision rules, as pure functions of participants and stances."""

import pytest

from app.amending.rules import rule_met

ORGS = [1, 2, 3, 4]


def test_consensus_needs_every_organisation_to_support():
    """Consensus is met only when all participants support."""
    assert rule_met("consensus", ORGS, {1: "support", 2: "support", 3: "support", 4: "support"}).met
    assert not rule_met("consensus", ORGS, {1: "support", 2: "support", 3: "support"}).met
    assert not rule_met("consensus", ORGS, {1: "support", 2: "support", 3: "support", 4: "abstain"}).met
    assert not rule_met("consensus", ORGS, {1: "support", 2: "support", 3: "support", 4: "oppose"}).met


def test_majority_needs_more_support_than_opposition_and_half_spoken():
    """Majority: support > oppose, and at least half of the participants have taken a position."""
    assert rule_met("majority", ORGS, {1: "support", 2: "abstain"}).met
    assert not rule_met("majority", ORGS, {1: "support"}).met  # only a quarter spoke
    assert not rule_met("majority", ORGS, {1: "support", 2: "oppose"}).met  # a tie is not a majority
    assert rule_met("majority", ORGS, {1: "support", 2: "support", 3: "oppose"}).met
    assert not rule_met("majority", ORGS, {1: "abstain", 2: "abstain"}).met


def test_stances_of_non_participants_do_not_count():
    """An organisation that no longer participates cannot tip the decision."""
    assert not rule_met("majority", [1, 2], {3: "support", 4: "support", 1: "oppose"}).met
    assert not rule_met("consensus", [1, 2], {1: "support", 3: "support"}).met


def test_coordinator_rule_is_always_met_and_unknown_rule_is_an_error():
    """Under the coordinator rule the coordinator decides alone; an unknown rule is a bug."""
    assert rule_met("coordinator", ORGS, {}).met
    with pytest.raises(ValueError):
        rule_met("unanimity", ORGS, {})


def test_explanations_say_what_is_missing():
    """The explanation names what keeps the rule from being met."""
    decision = rule_met("consensus", ORGS, {1: "support", 2: "oppose"})
    assert "all 4" in decision.explanation and "1 oppose" in decision.explanation
    assert "2 have" in rule_met("majority", [1, 2, 3, 4, 5], {1: "support", 2: "support"}).explanation
