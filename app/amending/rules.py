"""Decision rules, as pure functions of the participants and their latest stances."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.i18n import Message, _

RULE_LABELS = {
    "consensus": _("Consensus: every participating organisation supports"),
    "majority": _("Majority: more support than oppose, and at least half have taken a position"),
    "coordinator": _("Coordinator decides"),
}

#: A decision rule's name within a sentence ("Decision rule: consensus").
RULE_NAMES = {"consensus": _("consensus"), "majority": _("majority"), "coordinator": _("coordinator")}


@dataclass(frozen=True)
class Decision:
    met: bool
    explanation: Message  # shown in the viewer's language (app.i18n)


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
        return Decision(True, _("The coordinator decides."))
    if rule == "consensus":
        if total and support == total:
            return Decision(True, _("All %(total)s organisations support it.", total=total))
        missing = total - support
        # Two messages rather than ngettext: the plural form of a message with other parameters than the
        # number is chosen here (the web layer's plural translator fills in the number alone).
        if oppose:
            return Decision(False, _(
                "Consensus needs the support of all %(total)s organisations; %(missing)s has not given it "
                "(%(oppose)s oppose).", total=total, missing=missing, oppose=oppose) if missing == 1 else _(
                "Consensus needs the support of all %(total)s organisations; %(missing)s have not given it "
                "(%(oppose)s oppose).", total=total, missing=missing, oppose=oppose))
        return Decision(False, _(
            "Consensus needs the support of all %(total)s organisations; %(missing)s has not given it.",
            total=total, missing=missing) if missing == 1 else _(
            "Consensus needs the support of all %(total)s organisations; %(missing)s have not given it.",
            total=total, missing=missing))
    if rule == "majority":
        if spoken * 2 < total:
            return Decision(False, _(
                "A majority decision needs at least half of the %(total)s organisations to take a "
                "position; %(spoken)s have.", total=total, spoken=spoken))
        if support > oppose:
            return Decision(True, _("%(support)s support, %(oppose)s oppose.", support=support, oppose=oppose))
        return Decision(False, _("It needs more support than opposition: %(support)s support, %(oppose)s oppose.",
                                 support=support, oppose=oppose))
    raise ValueError(f"unknown decision rule {rule!r}")
