"""Accounts: people, first-run setup, invitations and API tokens.

Plain functions: they take the actor explicitly, flush, and never commit.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import String, bindparam, cast, func, literal, select, update
from sqlalchemy.exc import IntegrityError

from app.accounts.passwords import hash_password, needs_rehash, verify_password
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.extensions import db
from app.i18n import LANGUAGES, Message, _, ngettext
from app.models import (
    UNREAD_SHOWN,
    ApiToken,
    Invitation,
    Membership,
    Notification,
    Organisation,
    OutboxMessage,
    SiteSetting,
    User,
)
from app.models.organisation import ROLE_NOUNS, ROLES

SETUP_KEY = "setup_completed_at"
TOKEN_PREFIX = "cnc_"


def normalise_email(email: str | None) -> str:
    email = email or ""
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in email):
        raise InvalidInput(_("An e-mail address cannot contain control characters (such as a tab, a line break "
                             "or an invisible formatting mark). Type the address again."), field="email")
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or any(c.isspace() for c in email):
        raise InvalidInput(_("Enter a valid e-mail address."), field="email")
    return email


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(_("Enter a name."), field="name")
    if len(name) > 200:
        raise InvalidInput(_("A name can have at most 200 characters."), field="name")
    if any(ord(c) < 32 for c in name):
        raise InvalidInput(_("The name contains a control character."), field="name")
    return name


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def _user_with_counts(*, counting_unread: bool = True):
    """The user, their unread notifications counted (for the page header; the API has none) and their
    roles as one string."""
    if counting_unread:
        # Up to one past what the header shows ("99+"), from an index: bounded whatever others did.
        first_unread = (select(Notification.id).where(Notification.user_id == bindparam("user_id"),
                                                      Notification.read_at.is_(None))
                        .limit(UNREAD_SHOWN + 1).subquery())
        unread = select(func.count()).select_from(first_unread).scalar_subquery()
    else:
        unread = literal(0)
    # Roles as "organisation id:role" pairs in one string: loading the memberships as objects
    # (joined, with their organisations) costs more than the rest of the query.
    roles = (select(func.aggregate_strings(cast(Membership.organisation_id, String) + ":" + Membership.role, " "))
             .where(Membership.user_id == User.id).correlate(User).scalar_subquery())
    return select(User, unread, roles)


@functools.cache
def _request_user_query():
    # Built once: constructing this select costs more than running it.
    return _user_with_counts().where(User.id == bindparam("user_id"))


@functools.cache
def _token_user_query():
    return _user_with_counts(counting_unread=False).add_columns(ApiToken) \
        .join(ApiToken, ApiToken.user_id == User.id) \
        .where(ApiToken.token_hash == bindparam("token_hash"))


# How often a token's last use is written down: reading it is not worth a write on every request.
TOKEN_USE_PRECISION = timedelta(minutes=1)


def load_for_request(user_id: int) -> User | None:
    """The signed-in user for one request, in one query: with their roles, as
    ``user.role_pairs()`` answers them (the memberships are loaded only if used), and their
    unread notification count as ``user.unread_notifications`` (shown in every page's header)."""
    row = db.session.execute(_request_user_query(), {"user_id": user_id}).first()
    return _with_counts(row) if row is not None else None


def _with_counts(row) -> User:
    user, user.unread_notifications = row[0], row[1]
    user.counted_roles = frozenset((int(org_id), role) for org_id, _, role in
                                   (pair.partition(":") for pair in (row[2] or "").split()))
    return user




def create_user(email: str, name: str, password: str, *, is_admin: bool = False) -> User:
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise Conflict(_("There is already an account for %(email)s.", email=email), field="email")
    user = User(
        email=email, name=_clean_name(name), password_hash=hash_password(password), is_admin=is_admin
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user with this e-mail and password, or None (same answer for every failure)."""
    user = find_user_by_email(email or "")
    if user is None:
        # Spend the same time as a real check, so timing does not reveal accounts.
        verify_password(_dummy_hash(), password)
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(16))


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise InvalidInput(_("The current password is not correct."), field="current_password")
    user.password_hash = hash_password(new_password)
    user.renew_session_token()  # every other session ends
    db.session.flush()


def set_timezone(user: User, name: str | None) -> None:
    """The zone ``user``'s times are shown in; empty: their browser's."""
    from app import dates

    name = (name or "").strip()
    if name and dates.valid_zone(name) is None:
        raise InvalidInput(_("Choose a time zone from the list."), field="timezone")
    user.timezone = name or None
    db.session.flush()


def set_language(user: User, tag: str | None) -> None:
    """The language ``user`` reads Concord and its mail in; empty: their browser's."""
    tag = (tag or "").strip()
    if tag and tag not in LANGUAGES:
        raise InvalidInput(_("Choose a language from the list."), field="language")
    user.language = tag or None
    db.session.flush()


def end_all_sessions(user: User) -> None:
    """Log out: a new session token, so no copy of any session or remember cookie works any more."""
    user.renew_session_token()
    db.session.flush()


# --- password reset by e-mail ------------------------------------------------

RESET_KIND = "password_reset"  # an outbox kind of its own: no preference can turn it off
RESET_USED = _("This link has already been used, or the password was changed since. "
               "Ask for a new link.")
RESET_INVALID = _("This password-reset link is not valid. Check that you copied all of it.")


def password_fingerprint(user: User) -> str:
    """Changes with the password and with the session token: a reset link naming it works once.

    One-way, so the link (whose payload anyone can read) reveals neither.
    """
    material = f"{user.id}:{user.password_hash}:{user.session_token}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def request_password_reset(email: str | None, *, now: datetime, link_path: Callable[[dict], str],
                           max_age: int) -> OutboxMessage | None:
    """Queue a reset e-mail for an active account with this address; None (silently) otherwise.

    ``link_path`` turns the payload {"u": user id, "f": fingerprint} into the signed link's path.
    The caller answers the same either way, so the form does not reveal who has an account.
    """
    from app.notifications.events import mail_contact

    try:
        user = find_user_by_email(normalise_email(email))
    except InvalidInput:
        return None
    if user is None or not user.active:
        return None
    minutes = max(1, max_age // 60)
    message = mail_contact(
        user.email, RESET_KIND, now=now, path=link_path({"u": user.id, "f": password_fingerprint(user)}),
        subject=_("Reset your Concord password"),
        body=_("Someone (we hope you) asked to reset the password of the Concord account %(email)s. "
               "The link below lets you choose a new password; it works once, for %(minutes)s minutes. "
               "Setting the new password logs out every other session. "
               "If you did not ask for this, ignore this e-mail: your password stays as it is.",
               email=user.email, minutes=minutes),
    )
    message.user_id = user.id
    db.session.flush()
    return message


def user_for_reset_payload(payload: object) -> User:
    """The account a verified reset-link payload names, if the link is still unused."""
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise NotFound(RESET_INVALID)
    user = db.session.get(User, payload["u"])
    if user is None or not user.active:
        raise NotFound(RESET_INVALID)
    if not secrets.compare_digest(str(payload.get("f", "")), password_fingerprint(user)):
        raise Conflict(RESET_USED)
    return user


def reset_password(user: User, fingerprint: str, new_password: str) -> User:
    """Set a new password from a reset link and end every session, exactly once per link.

    The update is conditional on the password and session token the link was made for, so two
    submissions of the same link (even at the same instant) change the password only once.
    """
    if not secrets.compare_digest(fingerprint, password_fingerprint(user)):
        raise Conflict(RESET_USED)
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.password_hash == user.password_hash,
               User.session_token == user.session_token)
        .values(password_hash=hash_password(new_password), session_token=secrets.token_hex(16))
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Conflict(RESET_USED)
    db.session.refresh(user)
    return user


# --- first-run setup -------------------------------------------------------


def setup_needed() -> bool:
    return db.session.get(SiteSetting, SETUP_KEY) is None


def complete_setup(email: str, name: str, password: str, *, now: datetime) -> User:
    """Create the first platform admin; possible exactly once per installation."""
    if not setup_needed():
        raise NotAllowed(_("Concord is already set up."))
    user = create_user(email, name, password, is_admin=True)
    db.session.add(SiteSetting(key=SETUP_KEY, value=now.isoformat()))
    try:
        db.session.flush()
    except IntegrityError as exc:  # another request finished setup first
        raise NotAllowed(_("Concord is already set up.")) from exc
    return user


# --- invitations -----------------------------------------------------------


def can_invite(actor: User, organisation: Organisation | None, *, make_admin: bool) -> bool:
    if actor.is_admin:
        return True
    return organisation is not None and not make_admin and organisation.can_manage(actor)


INVITATION_KIND = "account_invitation"  # an outbox kind of its own: no preference can turn it off
# {"i": invitation id, "n": nonce} -> the path of the signed link that accepts it.
InvitationLink = Callable[[dict], str]


def invitation_state(invitation: Invitation, now: datetime) -> str:
    """open, used, expired or revoked."""
    if invitation.accepted_at is not None:
        return "used"
    if invitation.revoked_at is not None:
        return "revoked"
    return "expired" if invitation.expires_at <= now else "open"


def _and(items: list[Message]) -> Message | None:
    """``a and b and c``, as a message."""
    joined = items[0] if items else None
    for item in items[1:]:
        joined = _("%(first)s and %(second)s", first=joined, second=item)
    return joined


def _send_invitation(invitation: Invitation, actor: User, *, now: datetime, link_path: InvitationLink,
                     max_age: int, language: str | None = None) -> OutboxMessage:
    """E-mail the invitation's link to its address; the link works for ``max_age`` seconds from now.

    Written in ``language`` (the inviting person's, as the web chose it), else in the one on their account."""
    from app.notifications.events import mail_contact

    invitation.expires_at = now + timedelta(seconds=max_age)
    if invitation.organisation is not None:
        roles = _and([ROLE_NOUNS[r] for r in invitation.role_list]) or _("member")
        what = _("to Concord as %(roles)s of %(organisation)s", roles=roles, organisation=invitation.organisation.name)
    else:
        what = _("to Concord as a platform admin") if invitation.make_admin else _("to Concord")
    days = max(1, max_age // 86400)
    return mail_contact(
        invitation.email, INVITATION_KIND, now=now, path=link_path({"i": invitation.id, "n": invitation.nonce}),
        subject=_("%(name)s invites you to Concord", name=actor.name),
        body=ngettext("%(name)s invites you %(what)s, where organisations write joint statements together and "
                      "sign them. The link below lets you choose your name and password; it works once, for "
                      "%(num)d day.",
                      "%(name)s invites you %(what)s, where organisations write joint statements together and "
                      "sign them. The link below lets you choose your name and password; it works once, for "
                      "%(num)d days.", days, name=actor.name, what=what),
        language=language or actor.language)


def create_invitation(
    actor: User,
    email: str,
    *,
    organisation: Organisation | None,
    roles: list[str],
    make_admin: bool = False,
    now: datetime,
    max_age: int,
    link_path: InvitationLink | None = None,
    language: str | None = None,
) -> Invitation:
    """An invitation to create an account (into ``organisation`` with ``roles``); mailed when ``link_path`` is given."""
    if not can_invite(actor, organisation, make_admin=make_admin):
        raise NotAllowed(_("You may not invite people here."))
    email = normalise_email(email)
    roles = _check_roles(roles) if organisation is not None else []
    if organisation is not None and not roles:
        raise InvalidInput(_("Choose at least one role."), field="roles")
    if find_user_by_email(email) is not None:
        raise Conflict(
            _("%(email)s already has an account; add them as a member instead.", email=email), field="email"
        )
    open_ones = db.session.scalars(select(Invitation).where(
        Invitation.email == email, Invitation.organisation_id == (organisation.id if organisation else None),
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None), Invitation.expires_at > now)).all()
    if open_ones:
        if organisation is not None:
            raise Conflict(_("%(email)s is already invited to %(organisation)s; send that invitation again "
                             "from the list instead.", email=email, organisation=organisation.name), field="email")
        raise Conflict(_("%(email)s is already invited; send that invitation again from the list instead.",
                         email=email), field="email")
    invitation = Invitation(
        email=email,
        organisation=organisation,
        roles=" ".join(roles),
        make_admin=make_admin,
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(seconds=max_age),
    )
    db.session.add(invitation)
    db.session.flush()
    if link_path is not None:
        _send_invitation(invitation, actor, now=now, link_path=link_path, max_age=max_age, language=language)
    db.session.flush()
    return invitation


def _managed_invitation(actor: User, invitation: Invitation) -> Invitation:
    invitation = db.session.execute(select(Invitation).where(Invitation.id == invitation.id)
                                    .execution_options(populate_existing=True)).scalar_one()
    if not can_invite(actor, invitation.organisation, make_admin=invitation.make_admin):
        raise NotAllowed(_("You may not manage this invitation."))
    if invitation.accepted_at is not None:
        raise Conflict(_("%(email)s has already used this invitation.", email=invitation.email))
    if invitation.revoked_at is not None:
        raise Conflict(_("This invitation was revoked."))
    return invitation


def resend_invitation(actor: User, invitation: Invitation, *, now: datetime, max_age: int,
                      link_path: InvitationLink, language: str | None = None) -> Invitation:
    """Mail the link again; an expired invitation opens again for ``max_age`` seconds."""
    invitation = _managed_invitation(actor, invitation)
    if find_user_by_email(invitation.email) is not None:
        raise Conflict(_("%(email)s has an account now; add them as a member instead.", email=invitation.email))
    _send_invitation(invitation, actor, now=now, link_path=link_path, max_age=max_age, language=language)
    db.session.flush()
    return invitation


def revoke_invitation(actor: User, invitation: Invitation, *, now: datetime) -> Invitation:
    """The link stops working (mails already sent included)."""
    invitation = _managed_invitation(actor, invitation)
    invitation.revoked_at = now
    db.session.flush()
    return invitation


def invitation_for_token_payload(payload: object, *, now: datetime) -> Invitation:
    """The invitation a verified token payload names, if it can still be used."""
    if not isinstance(payload, dict):
        raise NotFound(_("This invitation link is not valid."))
    invitation = db.session.get(Invitation, payload.get("i")) if isinstance(payload.get("i"), int) else None
    if invitation is None or not secrets.compare_digest(str(payload.get("n", "")), invitation.nonce):
        raise NotFound(_("This invitation link is not valid."))
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation has already been used. Log in instead."))
    if invitation.revoked_at is not None:
        raise Conflict(_("This invitation was withdrawn. Ask for a new one."))
    if invitation.expires_at <= now:
        raise Conflict(_("This invitation has expired. Ask for a new one."))
    return invitation


def accept_invitation(invitation: Invitation, name: str, password: str, *, now: datetime) -> User:
    # Claim the invitation with a conditional update, so a replayed form cannot use it twice.
    claimed = db.session.execute(
        Invitation.__table__.update()
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None), Invitation.expires_at > now)
        .values(accepted_at=now)
    ).rowcount
    if claimed != 1:
        db.session.refresh(invitation)
        if invitation.accepted_at is not None:
            raise Conflict(_("This invitation has already been used. Log in instead."))
        if invitation.revoked_at is not None:
            raise Conflict(_("This invitation was withdrawn. Ask for a new one."))
        raise Conflict(_("This invitation has expired. Ask for a new one."))
    user = create_user(invitation.email, name, password, is_admin=invitation.make_admin)
    invitation.accepted_by_id = user.id
    if invitation.organisation is not None:
        for role in invitation.role_list:
            db.session.add(Membership(organisation=invitation.organisation, user=user, role=role))
    db.session.flush()
    db.session.refresh(invitation)
    return user


def _check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidInput(_("Unknown role: %(roles)s.", roles=", ".join(unknown)), field="roles")
    return [r for r in ROLES if r in roles]


# --- API tokens ------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; the clear token is returned once and never stored."""
    name = " ".join((name or "").split()) or "API token"
    if len(name) > 100:
        raise InvalidInput(_("A token name can have at most 100 characters."), field="name")
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=_token_hash(clear), prefix=clear[:10])
    db.session.add(token)
    db.session.flush()
    return token, clear


def user_for_token(clear: str, *, now: datetime) -> User | None:
    if not clear or not clear.startswith(TOKEN_PREFIX) or len(clear) > 200:
        return None
    row = db.session.execute(_token_user_query(), {"token_hash": _token_hash(clear)}).first()
    if row is None:
        return None
    token = row[3]
    user = _with_counts(row)
    if token.revoked_at is not None or not user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_PRECISION:
        token.last_used_at = now
    return user


def revoke_api_token(actor: User, token_id: int, *, now: datetime) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        token.revoked_at = now
    db.session.flush()
    return token


def count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0
