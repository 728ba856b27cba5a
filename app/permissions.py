"""Who may do what on a statement and on an amendment: the one place that answers it.

Every permission question about a statement goes through :func:`statement_rights`, and every
question about an amendment through :func:`amendment_rights`: the models' ``can_*`` helpers,
the rules (which check on the server before they change anything), the views, the templates
and the API all ask these two functions, so a rule and the button that leads to it can never
disagree. Pure: the answers come from rows the caller has loaded (the user's memberships, the
statement's participants, the amendment's positions); nothing here reads the database or Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.models import Amendment, Statement, Suggestion, User

OPEN_FOR_POSITIONS = ("open", "rebased")
# Translations are written in these phases (authentic ones only until they are frozen: app.translating).
TRANSLATING_PHASES = ("draft", "amending", "signing", "published")


@dataclass(frozen=True)
class StatementRights:
    """What one person may see and do on one statement, now."""

    can_view: bool
    is_coordinator: bool
    is_member: bool  # of an organisation that takes or took part (members of one that withdrew keep reading)
    can_edit: bool  # the draft, directly (the coordinator, in the draft phase)
    delegate_for: tuple[int, ...]  # participating organisations they speak for, by id
    signatory_for: tuple[int, ...]  # participating organisations they may sign for
    withdraw_for: tuple[int, ...]  # participants other than the coordinator's, as their admin or signatory
    can_propose: bool  # as a delegate of a participant, while amendments are open
    can_comment: bool  # the coordinator and members of participating organisations
    amendments_open: bool  # the phase and the deadline allow proposals now
    can_manage_languages: bool = False  # the coordinator: source and target languages (app.translating)
    can_translate: bool = False  # delegates of participants and the coordinator, until withdrawn

    @property
    def can_sign(self) -> bool:
        return bool(self.signatory_for)

    @property
    def can_withdraw(self) -> bool:
        return bool(self.withdraw_for)

    @property
    def can_open(self) -> bool:
        return self.can_edit

    @property
    def can_invite(self) -> bool:
        return self.is_coordinator


NO_RIGHTS = StatementRights(False, False, False, False, (), (), (), False, False, False)


@dataclass(frozen=True)
class AmendmentRights:
    """What one person may do on one amendment, now (on top of their rights on its statement)."""

    can_edit: bool  # its proposer: edit until positions are taken, or revise after a conflict
    can_withdraw: bool  # its proposer, while it is undecided
    can_decide: bool  # the coordinator, while it is undecided and the statement is amending
    position_for: tuple[int, ...]  # organisations they may record a position for
    sponsor_for: tuple[int, ...]  # organisations they may co-sponsor it for
    # organisations they may suggest a change to its text for (delegates of participants, while it is
    # open for positions and has a text: not a deletion)
    suggest_for: tuple[int, ...] = ()
    # adopt or decline the suggestions made to it: its proposer, still a delegate of the proposing
    # organisation, while it is open for positions and the statement is amending
    can_adopt: bool = False

    @property
    def can_suggest(self) -> bool:
        return bool(self.suggest_for)


NO_AMENDMENT_RIGHTS = AmendmentRights(False, False, False, (), ())


def others_have_spoken(amendment: Amendment) -> bool:
    """Whether organisations other than the proposing one have positions in the amendment's current round
    (co-sponsors' included): its proposer may then no longer edit it, only adopt suggestions (which starts
    a new round). The support recorded by proposing it does not count."""
    return any(p.given_as != "proposer" and p.organisation_id != amendment.organisation_id
               for p in amendment.current_positions().values())


def may_withdraw_suggestion(suggestion: Suggestion, user: User | None) -> bool:
    """Its author, while it is open."""
    return _authenticated(user) and suggestion.author_id == user.id and suggestion.status == "open"


def _authenticated(user: User | None) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def is_coordinator(statement: Statement, user: User | None) -> bool:
    return _authenticated(user) and user.id == statement.coordinator_id


def amendments_open(statement: Statement, now: datetime) -> bool:
    """Whether new amendments are accepted now (phase and deadline)."""
    return statement.status == "amending" and (
        statement.amendment_deadline is None or now < statement.amendment_deadline)


def statement_rights(statement: Statement, user: User | None, *, now: datetime | None = None) -> StatementRights:
    """The answer for ``user`` on ``statement`` (``now`` matters for the amendment deadline)."""
    if not _authenticated(user):
        return NO_RIGHTS
    now = now or datetime.now(UTC)
    live = {p.organisation_id for p in statement.memberships if p.withdrawn_at is None}
    ever = {p.organisation_id for p in statement.memberships}
    roles = user.role_pairs()

    def speaks_for(*wanted: str, exclude: int | None = None) -> tuple[int, ...]:
        return tuple(sorted({org_id for org_id, role in roles
                             if org_id in live and org_id != exclude and role in wanted}))

    coordinator = is_coordinator(statement, user)
    is_member = any(org_id in ever for org_id, _ in roles)
    delegate_for = speaks_for("delegate")
    open_now = amendments_open(statement, now)
    return StatementRights(
        can_view=bool(user.is_admin) or coordinator or is_member,
        is_coordinator=coordinator,
        is_member=is_member,
        can_edit=coordinator and statement.status == "draft",
        delegate_for=delegate_for,
        signatory_for=speaks_for("signatory"),
        withdraw_for=speaks_for("admin", "signatory", exclude=statement.coordinator_organisation_id),
        can_propose=open_now and bool(delegate_for),
        can_comment=coordinator or is_member,
        amendments_open=open_now,
        can_manage_languages=coordinator and statement.status in TRANSLATING_PHASES,
        can_translate=(coordinator or bool(delegate_for)) and statement.status in TRANSLATING_PHASES,
    )


def amendment_rights(amendment: Amendment, statement: Statement, user: User | None,
                     rights: StatementRights | None = None) -> AmendmentRights:
    """The answer for ``user`` on ``amendment`` of ``statement`` (``rights``: theirs on the statement,
    if the caller has them already)."""
    if not _authenticated(user):
        return NO_AMENDMENT_RIGHTS
    rights = rights or statement_rights(statement, user)
    undecided = amendment.status in ("open", "rebased", "conflicted")
    amending = statement.status == "amending"
    proposer = user.id == amendment.proposer_id
    if amendment.status == "conflicted":
        can_edit = proposer
    else:
        can_edit = (proposer and amendment.status in OPEN_FOR_POSITIONS and amendment.kind != "delete"
                    and not others_have_spoken(amendment))
    positions_open = amendment.status in OPEN_FOR_POSITIONS and amending
    sponsoring = {amendment.organisation_id, *(s.organisation_id for s in amendment.sponsors)}
    return AmendmentRights(
        can_edit=can_edit,
        can_withdraw=proposer and undecided,
        can_decide=rights.is_coordinator and undecided and amending,
        position_for=rights.delegate_for if positions_open else (),
        sponsor_for=tuple(o for o in rights.delegate_for if o not in sponsoring) if undecided and amending else (),
        suggest_for=rights.delegate_for if positions_open and amendment.kind != "delete" else (),
        can_adopt=proposer and positions_open and amendment.organisation_id in rights.delegate_for,
    )
