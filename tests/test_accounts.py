"""Account rules: passwords, setup, invitations and API tokens, without the HTTP client."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.accounts import operations as accounts
from app.accounts import passwords
from app.errors import Conflict, InvalidInput, NotAllowed, NotFound
from app.extensions import db
from app.models import ApiToken, Invitation, Membership, SiteSetting, User
from tests import factories

WEEK = 7 * 24 * 3600


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _payload(invitation: Invitation) -> dict:
    return {"i": invitation.id, "n": invitation.nonce}


# --- passwords ------------------------------------------------------------------------


def test_password_hash_is_argon2id(app):
    """Passwords are stored as argon2id hashes, never in clear."""
    user = factories.user(password="a long enough secret")
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert "a long enough secret" not in stored


def test_same_password_hashes_differently(app):
    """Each hash has its own salt: two users with one password have different hashes."""
    one = factories.user(password="shared password 1")
    two = factories.user(password="shared password 1")
    assert one.password_hash != two.password_hash


def test_short_password_refused(app):
    """A password under 10 characters is refused, naming the password field; no account is made."""
    with pytest.raises(InvalidInput, match="at least 10") as caught:
        accounts.create_user("short@example.org", "Short", "123456789")
    assert caught.value.field == "password"
    db.session.rollback()
    assert accounts.find_user_by_email("short@example.org") is None


def test_ten_character_password_accepted(app):
    """A password of exactly 10 characters is long enough."""
    user = accounts.create_user("ten@example.org", "Ten", "0123456789")
    assert passwords.verify_password(user.password_hash, "0123456789")


def test_huge_password_refused():
    """A password over 1,000 characters is refused (no hashing of megabytes)."""
    with pytest.raises(InvalidInput, match="1,000"):
        passwords.hash_password("x" * 1001)


def test_verify_password_tolerates_garbage_hash():
    """A malformed stored hash verifies as False instead of raising."""
    assert passwords.verify_password("not-a-hash", "whatever") is False
    assert passwords.verify_password("$argon2id$broken", "") is False


def test_create_user_normalises_email_and_refuses_duplicates(app):
    """E-mail is stored lower-case and trimmed; a second account for it is a Conflict."""
    user = accounts.create_user("  Mixed.Case@Example.ORG ", "  Ana   Lima ", factories.PASSWORD)
    assert user.email == "mixed.case@example.org"
    assert user.name == "Ana Lima"
    with pytest.raises(Conflict) as caught:
        accounts.create_user("MIXED.case@example.org", "Other", factories.PASSWORD)
    assert caught.value.field == "email"


@pytest.mark.parametrize("email", ["", "no-at-sign", "two words@example.org", "a@" + "b" * 260])
def test_invalid_email_refused(app, email):
    """An address without @, with spaces, or too long is refused."""
    with pytest.raises(InvalidInput) as caught:
        accounts.create_user(email, "Name", factories.PASSWORD)
    assert caught.value.field == "email"


def test_name_with_control_character_refused(app):
    """A control character in a name is refused."""
    with pytest.raises(InvalidInput, match="control character"):
        accounts.create_user("ctl@example.org", "Bad\x07Name", factories.PASSWORD)


# --- authenticate ---------------------------------------------------------------------------


def test_authenticate_right_password(app):
    """The right e-mail (any case) and password return the user."""
    user = factories.user(email="login@example.org")
    assert accounts.authenticate("LOGIN@example.org ", factories.PASSWORD) == user


def test_authenticate_wrong_password(app):
    """A wrong password returns None."""
    factories.user(email="login@example.org")
    assert accounts.authenticate("login@example.org", "wrong password!") is None
    assert accounts.authenticate("login@example.org", "") is None


def test_authenticate_unknown_email(app):
    """An unknown address returns None, the same answer as a wrong password."""
    assert accounts.authenticate("nobody@example.org", factories.PASSWORD) is None
    assert accounts.authenticate(None, None) is None


def test_authenticate_inactive_user(app):
    """A deactivated account cannot log in even with the right password."""
    user = factories.user(email="gone@example.org")
    user.active = False
    db.session.commit()
    assert accounts.authenticate("gone@example.org", factories.PASSWORD) is None


def test_authenticate_upgrades_weaker_hash(app):
    """A hash made with an older, cheaper cost is replaced on the next successful login."""
    from argon2 import PasswordHasher

    user = factories.user(email="old@example.org")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=512).hash(factories.PASSWORD)
    db.session.commit()
    old = user.password_hash
    assert accounts.authenticate("old@example.org", factories.PASSWORD) == user
    assert user.password_hash != old
    assert not passwords.needs_rehash(user.password_hash)
    assert passwords.verify_password(user.password_hash, factories.PASSWORD)


# --- change_password ---------------------------------------------------------------------


def test_change_password_renews_session_token(app):
    """Changing the password stores the new hash and renews the session token (ends other sessions)."""
    user = factories.user(email="change@example.org")
    old_token, old_id = user.session_token, user.get_id()
    accounts.change_password(user, factories.PASSWORD, "a brand new password")
    db.session.commit()
    assert user.session_token != old_token
    assert user.get_id() != old_id
    assert accounts.authenticate("change@example.org", "a brand new password") == user
    assert accounts.authenticate("change@example.org", factories.PASSWORD) is None


def test_change_password_wrong_current_refused(app):
    """A wrong current password is refused; hash and session token stay the same."""
    user = factories.user()
    old_hash, old_token = user.password_hash, user.session_token
    with pytest.raises(InvalidInput) as caught:
        accounts.change_password(user, "not my password", "a brand new password")
    assert caught.value.field == "current_password"
    db.session.rollback()
    assert user.password_hash == old_hash and user.session_token == old_token


def test_change_password_to_short_one_refused(app):
    """The new password must also be long enough; the session token is kept."""
    user = factories.user()
    old_token = user.session_token
    with pytest.raises(InvalidInput, match="at least 10"):
        accounts.change_password(user, factories.PASSWORD, "short")
    db.session.rollback()
    assert user.session_token == old_token


# --- first-run setup ------------------------------------------------------------------------


def test_setup_happens_exactly_once(app, now):
    """complete_setup makes a platform admin once; a second call is NotAllowed and makes no account."""
    assert accounts.setup_needed()
    first = accounts.complete_setup("first@example.org", "First Admin", factories.PASSWORD, now=now)
    db.session.commit()
    assert first.is_admin
    assert not accounts.setup_needed()
    assert db.session.get(SiteSetting, accounts.SETUP_KEY).value == now.isoformat()

    with pytest.raises(NotAllowed, match="already set up"):
        accounts.complete_setup("second@example.org", "Second", factories.PASSWORD, now=now)
    db.session.rollback()
    assert accounts.find_user_by_email("second@example.org") is None
    assert accounts.count_users() == 1


def test_setup_row_is_unique_even_if_the_check_is_passed(app, now, monkeypatch):
    """If two requests both pass the setup check, the primary key lets only one finish."""
    accounts.complete_setup("first@example.org", "First", factories.PASSWORD, now=now)
    db.session.commit()
    monkeypatch.setattr(accounts, "setup_needed", lambda: True)
    db.session.expunge_all()  # as if a second process, without the row in its identity map
    with pytest.raises(NotAllowed, match="already set up"):
        accounts.complete_setup("second@example.org", "Second", factories.PASSWORD, now=now)
    db.session.rollback()
    assert accounts.count_users() == 1


# --- invitations ----------------------------------------------------------------------------


@pytest.fixture
def org(app):
    return factories.organisation("Harbour Workers' Union", slug="hwu")


def test_platform_admin_invites_anywhere(admin, org, now):
    """A platform admin may invite into any organisation, with no organisation, and as admin."""
    into_org = accounts.create_invitation(admin, "a@example.org", organisation=org,
                                          roles=["signatory", "delegate"], now=now, max_age=WEEK)
    plain = accounts.create_invitation(admin, "b@example.org", organisation=None, roles=["delegate"],
                                       make_admin=True, now=now, max_age=WEEK)
    db.session.commit()
    assert into_org.role_list == ["delegate", "signatory"]  # in canonical order
    assert into_org.expires_at == now + timedelta(seconds=WEEK)
    assert into_org.created_by_id == admin.id
    assert plain.make_admin and plain.role_list == []


def test_org_admin_invites_into_own_org_only(org, now):
    """An organisation admin may invite into their own organisation, not into another or none."""
    org_admin = factories.member(org, "admin")
    other = factories.organisation()
    made = accounts.create_invitation(org_admin, "x@example.org", organisation=org, roles=["delegate"],
                                      now=now, max_age=WEEK)
    assert made.organisation_id == org.id
    for target in (other, None):
        with pytest.raises(NotAllowed):
            accounts.create_invitation(org_admin, "y@example.org", organisation=target,
                                       roles=["delegate"], now=now, max_age=WEEK)


def test_org_admin_cannot_invite_platform_admin(org, now):
    """An organisation admin cannot make someone a platform admin by invitation."""
    org_admin = factories.member(org, "admin")
    with pytest.raises(NotAllowed):
        accounts.create_invitation(org_admin, "x@example.org", organisation=org, roles=["delegate"],
                                   make_admin=True, now=now, max_age=WEEK)
    db.session.rollback()
    assert _count(Invitation) == 0


@pytest.mark.parametrize("roles", [("delegate",), ("signatory",), ()])
def test_non_admin_members_cannot_invite(org, now, roles):
    """Delegates, signatories and outsiders cannot invite."""
    person = factories.member(org, *roles) if roles else factories.user()
    with pytest.raises(NotAllowed):
        accounts.create_invitation(person, "x@example.org", organisation=org, roles=["delegate"],
                                   now=now, max_age=WEEK)


def test_invitation_into_org_needs_known_roles(admin, org, now):
    """Inviting into an organisation needs at least one role, and only known roles."""
    with pytest.raises(InvalidInput, match="at least one role"):
        accounts.create_invitation(admin, "x@example.org", organisation=org, roles=[], now=now, max_age=WEEK)
    with pytest.raises(InvalidInput, match="Unknown role: owner"):
        accounts.create_invitation(admin, "x@example.org", organisation=org, roles=["owner"],
                                   now=now, max_age=WEEK)


def test_invitation_for_existing_account_refused(admin, org, now):
    """Inviting an address that already has an account is a Conflict (add them as a member)."""
    factories.user(email="taken@example.org")
    with pytest.raises(Conflict, match="already has an account"):
        accounts.create_invitation(admin, "Taken@Example.org", organisation=org, roles=["delegate"],
                                   now=now, max_age=WEEK)


def test_accept_creates_user_with_memberships(admin, org, now):
    """Accepting creates the account with the invited roles and records who accepted, when."""
    invitation = accounts.create_invitation(admin, "new@example.org", organisation=org,
                                            roles=["delegate", "signatory"], now=now, max_age=WEEK)
    db.session.commit()
    found = accounts.invitation_for_token_payload(_payload(invitation), now=now + timedelta(hours=1))
    user = accounts.accept_invitation(found, "New Person", "new password 123", now=now + timedelta(hours=1))
    db.session.commit()
    assert user.email == "new@example.org" and user.name == "New Person"
    assert not user.is_admin
    assert user.roles_in(org) == {"delegate", "signatory"}
    assert invitation.accepted_at == now + timedelta(hours=1)
    assert invitation.accepted_by_id == user.id
    assert accounts.authenticate("new@example.org", "new password 123") == user


def test_accept_admin_invitation_makes_platform_admin(admin, now):
    """An invitation with make_admin creates a platform admin without memberships."""
    invitation = accounts.create_invitation(admin, "boss@example.org", organisation=None, roles=[],
                                            make_admin=True, now=now, max_age=WEEK)
    user = accounts.accept_invitation(invitation, "Boss", factories.PASSWORD, now=now)
    db.session.commit()
    assert user.is_admin
    assert user.memberships == []


def test_invitation_can_be_accepted_only_once(admin, org, now):
    """A second accept (a replayed form) is a Conflict and creates no second account."""
    invitation = accounts.create_invitation(admin, "once@example.org", organisation=org,
                                            roles=["delegate"], now=now, max_age=WEEK)
    db.session.commit()
    accounts.accept_invitation(invitation, "Once", factories.PASSWORD, now=now)
    db.session.commit()
    with pytest.raises(Conflict, match="already been used"):
        accounts.invitation_for_token_payload(_payload(invitation), now=now)
    with pytest.raises(Conflict, match="already been used"):
        accounts.accept_invitation(invitation, "Twice", factories.PASSWORD, now=now)
    db.session.rollback()
    assert _count(User) == 2
    assert _count(Membership) == 1


def test_stale_invitation_object_cannot_be_accepted_twice(admin, org, now):
    """Even with an invitation loaded before the first accept (two tabs), the claim lets one win."""
    invitation = accounts.create_invitation(admin, "tabs@example.org", organisation=org,
                                            roles=["delegate"], now=now, max_age=WEEK)
    db.session.commit()
    invitation_id = invitation.id
    # Another process accepts it first.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE invitations SET accepted_at = :t WHERE id = :id"),
                     {"t": now, "id": invitation_id})
    assert invitation.accepted_at is None  # this session has not seen the other accept
    with pytest.raises(Conflict):
        accounts.accept_invitation(invitation, "Tab Two", factories.PASSWORD, now=now)
    db.session.rollback()
    assert accounts.find_user_by_email("tabs@example.org") is None


def test_expired_invitation_refused(admin, org, now):
    """An invitation past its expiry time is refused; just before, it is valid."""
    invitation = accounts.create_invitation(admin, "late@example.org", organisation=org,
                                            roles=["delegate"], now=now, max_age=3600)
    db.session.commit()
    assert accounts.invitation_for_token_payload(_payload(invitation), now=now + timedelta(seconds=3599))
    with pytest.raises(Conflict, match="expired"):
        accounts.invitation_for_token_payload(_payload(invitation), now=now + timedelta(seconds=3600))


def test_accept_itself_refuses_an_expired_or_withdrawn_invitation(admin, org, now):
    """accept_invitation checks expiry and withdrawal in its own claim, not only the caller."""
    late = accounts.create_invitation(admin, "late2@example.org", organisation=org,
                                      roles=["delegate"], now=now, max_age=60)
    gone = accounts.create_invitation(admin, "gone@example.org", organisation=org,
                                      roles=["delegate"], now=now, max_age=WEEK)
    gone.revoked_at = now
    db.session.commit()
    with pytest.raises(Conflict, match="expired"):
        accounts.accept_invitation(late, "Late", factories.PASSWORD, now=now + timedelta(seconds=61))
    db.session.rollback()
    with pytest.raises(Conflict, match="withdrawn"):
        accounts.accept_invitation(gone, "Gone", factories.PASSWORD, now=now)
    db.session.rollback()
    assert accounts.find_user_by_email("late2@example.org") is None
    assert accounts.find_user_by_email("gone@example.org") is None


def test_revoked_invitation_refused(admin, org, now):
    """A withdrawn invitation is refused."""
    invitation = accounts.create_invitation(admin, "rev@example.org", organisation=org,
                                            roles=["delegate"], now=now, max_age=WEEK)
    invitation.revoked_at = now
    db.session.commit()
    with pytest.raises(Conflict, match="withdrawn"):
        accounts.invitation_for_token_payload(_payload(invitation), now=now)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: {**p, "n": "0" * 32},
        lambda p: {**p, "n": ""},
        lambda p: {"i": p["i"]},
        lambda p: {**p, "i": p["i"] + 1000},
        lambda p: {**p, "i": str(p["i"])},
        lambda p: [p["i"], p["n"]],
        lambda p: None,
    ],
    ids=["wrong-nonce", "empty-nonce", "no-nonce", "unknown-id", "string-id", "list", "none"],
)
def test_tampered_invitation_payload_not_found(admin, org, now, tamper):
    """A wrong nonce, unknown id or malformed payload is NotFound ("not valid")."""
    invitation = accounts.create_invitation(admin, "t@example.org", organisation=org,
                                            roles=["delegate"], now=now, max_age=WEEK)
    db.session.commit()
    with pytest.raises(NotFound, match="not valid"):
        accounts.invitation_for_token_payload(tamper(_payload(invitation)), now=now)


def test_invitation_nonces_are_unique_and_long(admin, org, now):
    """Each invitation gets its own random 32-hex-digit nonce."""
    one = accounts.create_invitation(admin, "n1@example.org", organisation=org, roles=["delegate"],
                                     now=now, max_age=WEEK)
    two = accounts.create_invitation(admin, "n2@example.org", organisation=org, roles=["delegate"],
                                     now=now, max_age=WEEK)
    assert one.nonce != two.nonce
    assert len(one.nonce) == 32 and int(one.nonce, 16) >= 0


def test_accept_when_account_was_created_meanwhile_refused(admin, org, now):
    """If the address got an account after the invitation was sent, accepting is a Conflict."""
    invitation = accounts.create_invitation(admin, "race@example.org", organisation=org,
                                            roles=["delegate"], now=now, max_age=WEEK)
    db.session.commit()
    factories.user(email="race@example.org")
    with pytest.raises(Conflict):
        accounts.accept_invitation(invitation, "Racer", factories.PASSWORD, now=now)
    db.session.rollback()
    assert db.session.get(Invitation, invitation.id).accepted_at is None
    assert _count(Membership) == 0


def test_accept_with_short_password_changes_nothing(admin, org, now):
    """A too-short password at acceptance is refused; after rollback the invitation is still usable."""
    invitation = accounts.create_invitation(admin, "pw@example.org", organisation=org,
                                            roles=["delegate"], now=now, max_age=WEEK)
    db.session.commit()
    with pytest.raises(InvalidInput):
        accounts.accept_invitation(invitation, "Pw", "short", now=now)
    db.session.rollback()
    again = accounts.invitation_for_token_payload(_payload(invitation), now=now)
    assert accounts.accept_invitation(again, "Pw", factories.PASSWORD, now=now).email == "pw@example.org"


# --- API tokens -----------------------------------------------------------------------------


def test_api_token_stored_hashed(app):
    """Only the SHA-256 of a token is stored; the clear token appears nowhere in the table."""
    user = factories.user()
    token, clear = accounts.create_api_token(user, "  CI   bot ")
    db.session.commit()
    assert clear.startswith(accounts.TOKEN_PREFIX)
    assert token.name == "CI bot"
    assert token.prefix == clear[:10]
    rows = db.session.execute(text("SELECT * FROM api_tokens")).all()
    assert len(rows) == 1
    assert all(clear not in str(value) for value in rows[0])
    assert token.token_hash == hashlib.sha256(clear.encode()).hexdigest()


def test_api_token_default_name_and_long_name(app):
    """A blank name becomes "API token"; a name over 100 characters is refused."""
    user = factories.user()
    token, _ = accounts.create_api_token(user, "   ")
    assert token.name == "API token"
    with pytest.raises(InvalidInput, match="100"):
        accounts.create_api_token(user, "n" * 101)


def test_user_for_token(app, now):
    """The clear token finds its user and records when it was used."""
    user = factories.user()
    token, clear = accounts.create_api_token(user, "t")
    db.session.commit()
    assert accounts.user_for_token(clear, now=now) == user
    assert token.last_used_at == now


@pytest.mark.parametrize("bad", ["", "cnc_", "cnc_not-a-real-token", "Bearer cnc_x", "x" * 300])
def test_unknown_tokens_find_nobody(app, now, bad):
    """Empty, wrong-prefix, unknown or absurdly long tokens find no user."""
    factories.user()
    assert accounts.user_for_token(bad, now=now) is None


def test_tokens_are_distinct_per_user(app, now):
    """Two tokens of two users each find their own user."""
    one, two = factories.user(), factories.user()
    _, clear_one = accounts.create_api_token(one, "t")
    _, clear_two = accounts.create_api_token(two, "t")
    assert clear_one != clear_two
    assert accounts.user_for_token(clear_one, now=now) == one
    assert accounts.user_for_token(clear_two, now=now) == two


def test_revoked_token_refused(app, now):
    """A revoked token no longer finds its user; revoking twice keeps the first time."""
    user = factories.user()
    token, clear = accounts.create_api_token(user, "t")
    db.session.commit()
    accounts.revoke_api_token(user, token.id, now=now)
    db.session.commit()
    assert accounts.user_for_token(clear, now=now) is None
    accounts.revoke_api_token(user, token.id, now=now + timedelta(days=1))
    assert token.revoked_at == now


def test_token_of_inactive_user_refused(app, now):
    """A deactivated account's tokens stop working."""
    user = factories.user()
    _, clear = accounts.create_api_token(user, "t")
    user.active = False
    db.session.commit()
    assert accounts.user_for_token(clear, now=now) is None


def test_revoke_by_another_user_not_found(app, now):
    """Someone else cannot revoke (or learn of) my token: NotFound, and it keeps working."""
    owner, other = factories.user(), factories.user()
    admin = factories.admin()
    token, clear = accounts.create_api_token(owner, "t")
    db.session.commit()
    for intruder in (other, admin):
        with pytest.raises(NotFound):
            accounts.revoke_api_token(intruder, token.id, now=now)
    with pytest.raises(NotFound):
        accounts.revoke_api_token(owner, token.id + 1000, now=now)
    db.session.rollback()
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert accounts.user_for_token(clear, now=now) == owner
