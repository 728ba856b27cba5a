"""The words the amendment pages and messages use for statuses, stances and history reasons.

Each is a lazy ``app.i18n.Message``: it reads in the language of whoever is shown it.
"""

from __future__ import annotations

from app.i18n import _

#: An amendment's status, as its badge and the list's filter show it.
AMENDMENT_STATUS = {
    "open": _("open"),
    "rebased": _("rebased"),
    "conflicted": _("conflicted"),
    "accepted": _("accepted"),
    "rejected": _("rejected"),
    "withdrawn": _("withdrawn"),
    "obsolete": _("obsolete"),
    "superseded": _("superseded"),
}

#: A closed amendment's status at the start of a sentence ("Rejected by … on …").
DECIDED_AS = {
    "accepted": _("Accepted"),
    "rejected": _("Rejected"),
    "withdrawn": _("Withdrawn"),
    "obsolete": _("Obsolete"),
    "superseded": _("Superseded"),
}

#: A suggestion's status, as its badge shows it.
SUGGESTION_STATUS = {
    "open": _("open"),
    "adopted": _("adopted"),
    "declined": _("declined"),
    "withdrawn": _("withdrawn"),
    "outdated": _("outdated"),
}

#: Why an amendment's history has a row, at the start of its line.
HISTORY_REASON = {
    "proposed": _("Proposed"),
    "edited": _("Edited"),
    "revised": _("Revised"),
    "rebased": _("Rebased"),
    "conflicted": _("Conflicted"),
    "adopted": _("Adopted"),
}

#: A stance at the start of a sentence.
STANCE = {"support": _("Support"), "oppose": _("Oppose"), "abstain": _("Abstain")}

#: Refusals of something done to an amendment that is no longer open, by its status.
AMENDMENT_ALREADY = {
    "accepted": _("This amendment is already accepted."),
    "rejected": _("This amendment is already rejected."),
    "withdrawn": _("This amendment is already withdrawn."),
    "obsolete": _("This amendment is already obsolete."),
    "superseded": _("This amendment is already superseded."),
}

#: Refusals of something done to a suggestion that is no longer open, by its status.
SUGGESTION_ALREADY = {
    "adopted": _("This suggestion is already adopted."),
    "declined": _("This suggestion is already declined."),
    "withdrawn": _("This suggestion is already withdrawn."),
    "outdated": _("This suggestion is already outdated."),
}


def amendment_already(status: str):
    """"This amendment is already <status>." in the viewer's language."""
    return AMENDMENT_ALREADY.get(status) or _("This amendment is already %(status)s.",
                                              status=status.replace("_", " "))


def suggestion_already(status: str):
    """"This suggestion is already <status>." in the viewer's language."""
    return SUGGESTION_ALREADY.get(status) or _("This suggestion is already %(status)s.", status=status)


def amendment_status(status: str):
    return AMENDMENT_STATUS.get(status) or status.replace("_", " ")


def suggestion_status(status: str):
    return SUGGESTION_STATUS.get(status) or status

#: A stance within a sentence ("Position recorded for GVA: support.").
STANCE_LOWER = {"support": _("support"), "oppose": _("oppose"), "abstain": _("abstain")}
