"""Decision rules, as pure functions of the participants and their latest stances."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

RULE_LABELS = {
    "consensus": "Consensus: every participating organisation supports",
    "majority": "Majority: more support than oppose, and at least half have taken a position",
    "coordinator": "Coordinator decides",
}


@dataclass(frozen=True)
class Decision:
    met: bool
    explanation: str


def rule_met(rule: str, participants: Iterable[int], stances: Mapping[int, str]) -> Decision:
    """Whether ``rule`` allows accepting, given each participant's latest stance.

    Stances of organisations that no longer participate are ignored.
    """
    members = list(dict.fromkeys(participants))
    counted = [stances[org] for org in members if org in stances]
    return decide(rule, len(members), counted.count("support"), counted.count("oppose"), len(counted))


def decide(rule: str, total: int, support: int, oppose: int, spoken: int) -> Decision:
    """``rule_met`` from counts: of ``total`` participating organisations, ``spoken`` have a stance in
    the current round, ``support`` of them support and ``oppose`` oppose (for many amendments at once)."""
    if rule == "coordinator":
        return Decision(True, "The coordinator decides.")
    if rule == "consensus":
        if total and support == total:
            return Decision(True, f"All {total} organisations support it.")
        missing = total - support
        return Decision(
            False,
            f"Consensus needs the support of all {total} organisations; "
            f"{missing} {'has' if missing == 1 else 'have'} not given it"
            + (f" ({oppose} oppose)" if oppose else "") + ".",
        )
    if rule == "majority":
        if spoken * 2 < total:
            return Decision(
                False,
                f"A majority decision needs at least half of the {total} organisations to take a "
                f"position; {spoken} have.",
            )
        if support > oppose:
            return Decision(True, f"{support} support, {oppose} oppose.")
        return Decision(False, f"It needs more support than opposition: {support} support, {oppose} oppose.")
    raise ValueError(f"unknown decision rule {rule!r}")
