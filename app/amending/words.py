"""The words the amendment pages and messages use for statuses, stances and history reasons.

Each is a lazy ``app.i18n.Message``: it reads in the language of whoever is shown it.
"""

from __future__ import annotations

import re

from app.i18n import _, pgettext

#: An amendment's status, as its badge and the list's filter show it.
AMENDMENT_STATUS = {
    "not_decided": pgettext("amendment", "not decided"),
    "open": pgettext("amendment", "open"),
    "rebased": pgettext("amendment", "rebased"),
    "conflicted": pgettext("amendment", "conflicted"),
    "accepted": pgettext("amendment", "accepted"),
    "rejected": pgettext("amendment", "rejected"),
    "withdrawn": pgettext("amendment", "withdrawn"),
    "obsolete": pgettext("amendment", "obsolete"),
    "superseded": pgettext("amendment", "superseded"),
}

#: A closed amendment's status at the start of a sentence ("Rejected by … on …").
DECIDED_AS = {
    "accepted": pgettext("amendment", "Accepted"),
    "rejected": pgettext("amendment", "Rejected"),
    "withdrawn": pgettext("amendment", "Withdrawn"),
    "obsolete": pgettext("amendment", "Obsolete"),
    "superseded": pgettext("amendment", "Superseded"),
    "not_decided": pgettext("amendment", "Not decided"),
}

#: A suggestion's status, as its badge shows it.
SUGGESTION_STATUS = {
    "open": pgettext("suggestion", "open"),
    "adopted": pgettext("suggestion", "adopted"),
    "declined": pgettext("suggestion", "declined"),
    "withdrawn": pgettext("suggestion", "withdrawn"),
    "outdated": pgettext("suggestion", "outdated"),
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


# The reasons the rules store when they close an amendment themselves (operations._rebase_siblings), in
# English like every stored text; shown in the viewer's language. A coordinator's reason for rejecting is
# the coordinator's own words and is shown as written.
_SUPERSEDED_BY = re.compile(r"Superseded by compromise #(\d+)\.")
_DELETED_BY = re.compile(r"The paragraph was deleted by amendment #(\d+)\.")
_ALREADY_IN = "The accepted text already contains this change."
# Stored by signing.freeze for every amendment still open: app/signing/operations.py.
_CLOSED_AT_FREEZE = "Amendments were closed when the text was frozen for signing."


def decision_reason(status: str, reason: str | None):
    """Why an amendment was closed, in the viewer's language when the rules wrote it."""
    text = reason or ""
    if status == "superseded" and (found := _SUPERSEDED_BY.fullmatch(text)):
        return _("Superseded by compromise #%(id)s.", id=int(found[1]))
    if status == "obsolete" and (found := _DELETED_BY.fullmatch(text)):
        return _("The paragraph was deleted by amendment #%(id)s.", id=int(found[1]))
    if status == "obsolete" and text == _ALREADY_IN:
        return _("The accepted text already contains this change.")
    if text == _CLOSED_AT_FREEZE:
        return _("Amendments were closed when the text was frozen for signing.")
    return text


# --- what the amendment rules tell people (notifications and their e-mails) ---------------------------

def proposed_subject(kind: str, number: int | None, amendment_id: int, title: str):
    if kind == "retitle":
        return _("New amendment #%(id)s on the title: %(title)s", id=amendment_id, title=title)
    if kind == "insert":
        return _("New amendment #%(id)s on a new paragraph: %(title)s", id=amendment_id, title=title)
    return _("New amendment #%(id)s on ¶ %(number)s: %(title)s", id=amendment_id, number=number, title=title)


def proposed_body(kind: str, number: int | None, organisation: str):
    if kind == "retitle":
        return _("%(organisation)s proposes to retitle the title. Read it and record your organisation's position.",
                 organisation=organisation)
    if kind == "insert":
        return _("%(organisation)s proposes to insert a new paragraph. Read it and record your organisation's "
                 "position.", organisation=organisation)
    if kind == "delete":
        return _("%(organisation)s proposes to delete ¶ %(number)s. Read it and record your organisation's "
                 "position.", organisation=organisation, number=number)
    return _("%(organisation)s proposes to modify ¶ %(number)s. Read it and record your organisation's position.",
             organisation=organisation, number=number)


def position_subject(stance: str, organisation: str, amendment_id: int):
    if stance == "support":
        return _("%(organisation)s supports your amendment #%(id)s", organisation=organisation, id=amendment_id)
    if stance == "oppose":
        return _("%(organisation)s opposes your amendment #%(id)s", organisation=organisation, id=amendment_id)
    return _("%(organisation)s abstains on your amendment #%(id)s", organisation=organisation, id=amendment_id)


def position_body(stance: str, organisation: str):
    return _("%(organisation)s recorded its position: %(stance)s.", organisation=organisation,
             stance=STANCE_LOWER.get(stance, stance))


def outcome_subject(status: str, amendment_id: int):
    """What became of an amendment when another of its paragraph was accepted."""
    if status == "rebased":
        return _("Your amendment #%(id)s was carried over onto the new text (rebased); check that it still says "
                 "what you mean", id=amendment_id)
    if status == "conflicted":
        return _("Your amendment #%(id)s conflicts with the new text; please revise it", id=amendment_id)
    if status == "obsolete":
        return _("Your amendment #%(id)s is obsolete: the accepted change made it pointless", id=amendment_id)
    if status == "superseded":
        return _("Your amendment #%(id)s was superseded by the accepted compromise", id=amendment_id)
    return _("Your amendment #%(id)s %(status)s", id=amendment_id, status=status)
