"""Permission matrix: every route and API endpoint, as every kind of actor, on a statement in every phase."""

# Each cell names the outcome the server must give:
#
# - ``ok``: 2xx; ``redirect``: 3xx to anywhere but the login page (both: the actor may do it)
# - ``refused``: 409 or 422, the request was understood and refused by a rule (phase, validation)
# - ``denied``: 403 or 404; ``unauth``: 401 (API without a token); ``login``: sent to log in first
# - ``bounced``: 3xx (not to the login page) with a message instead of the action
#
# Every cell that is not ``ok`` or ``redirect`` must leave every row of every table as it was.
# Payloads are minimal; where a route refuses by a redirect, they are valid, so that only the
# permission check can stop them (and a change would show). Routes whose allowed call changes the
# statement get a statement of their own (``fresh``).

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from app.extensions import db
from tests.matrix_world import ACTORS, PHASES, World, built, fingerprint

OK, REDIRECT, REFUSED, DENIED, UNAUTH, LOGIN, BOUNCED = (
    "ok", "redirect", "refused", "denied", "unauth", "login", "bounced")
UNCHANGED = {REFUSED, DENIED, UNAUTH, LOGIN, BOUNCED}
AMENDING_ON = ("amending", "signing", "published")
SIGNED_ON = ("signing", "published")
VIEWERS = ("delegate", "signatory", "coordinator", "admin")
ID_MAX = 2**31 - 1


def everyone(outcome: str, **actors: str) -> dict[str, str]:
    """``outcome`` for every actor, but for those named."""
    return {a: actors.get(a, outcome) for a in ACTORS}


def members(outcome: str, anonymous: str = LOGIN, **actors: str) -> dict[str, str]:
    """A logged-in page: ``outcome`` for every logged-in actor, login for the anonymous."""
    return everyone(outcome, anonymous=anonymous, **actors)


def only(anonymous: str = LOGIN, **actors: str) -> dict[str, str]:
    """Denied to all but those named."""
    return everyone(DENIED, anonymous=anonymous, **actors)


def viewers(outcome: str, anonymous: str = LOGIN, **actors: str) -> dict[str, str]:
    """A statement's page: the coordinator, participants' members and platform admins see it."""
    return only(anonymous, **{**{a: outcome for a in VIEWERS}, **actors})


def api_viewers(outcome: str, **actors: str) -> dict[str, str]:
    return viewers(outcome, anonymous=UNAUTH, **actors)


def api_only(**actors: str) -> dict[str, str]:
    return only(UNAUTH, **actors)


@dataclass
class Entry:
    expect: object  # {actor: outcome}, or a function of the phase giving one
    phases: tuple[str, ...] | None = None  # None: the route is about no statement
    data: object = None  # form fields or JSON body; a function of the URL values if it needs them
    query: str = ""
    fresh: tuple[str, ...] = ()  # phases in which the allowed call changes the statement
    ends_session: bool = False
    prefixes: tuple[str, ...] = ()  # prefixes of the forms the route reads (their CSRF field)
    get_writes: bool = False  # a GET that changes something when allowed: refusals are checked too

    def outcomes(self, phase: str | None) -> dict[str, str]:
        return self.expect(phase) if callable(self.expect) else self.expect


def S(expect, **kw) -> Entry:
    """A route about a statement, checked in every phase."""
    return Entry(expect, phases=PHASES, **kw)


def A(expect, **kw) -> Entry:
    """A route about an amendment (there are none on a draft)."""
    return Entry(expect, phases=AMENDING_ON, **kw)


def E(expect, **kw) -> Entry:
    """A route about no statement."""
    return Entry(expect, **kw)


def editing_draft(ok: str):
    """Direct edits: the coordinator of a draft; everyone else who sees it is sent back."""
    return lambda p: viewers(BOUNCED, coordinator=ok if p == "draft" else BOUNCED)


def coordinator_page():
    """A page of the coordinator's, in every phase (a refused POST is shown on the form)."""
    return viewers(DENIED, coordinator=OK)


SIGN_BODY = {"organisation": "gva", "signer_name": "Gus Green", "signer_title": "Chair", "authorised": True,
             "password": "not the password", "version_sha256": "0" * 64}

TABLE: dict[tuple[str, str], Entry] = {
    # --- public and personal pages ------------------------------------------------------------------
    ("GET", "/"): E(everyone(OK)),
    # The footer's language chooser: anyone may choose (English here, so the other rows read as before).
    ("POST", "/language"): E(everyone(REDIRECT), data={"language": "en", "next": "/"}),
    ("GET", "/language"): E(everyone(REDIRECT), query="language=en&next=/"),
    ("GET", "/about/seal"): E(everyone(OK)),
    ("GET", "/.well-known/security.txt"): E(everyone(OK)),
    ("GET", "/favicon.ico"): E(everyone(OK)),
    ("GET", "/setup"): E(everyone(BOUNCED)),  # setup is done: nobody runs it again
    ("POST", "/setup"): E(everyone(BOUNCED)),
    ("GET", "/login"): E(everyone(REDIRECT, anonymous=OK)),
    ("POST", "/login"): E(everyone(REDIRECT, anonymous=OK)),
    ("POST", "/logout"): E(members(REDIRECT), ends_session=True),
    ("GET", "/invitations/<token>"): E(everyone(OK), ends_session=True),
    ("POST", "/invitations/<token>"): E(everyone(OK), ends_session=True),
    ("GET", "/forgot-password"): E(everyone(OK)),
    ("POST", "/forgot-password"): E(everyone(OK)),
    ("GET", "/reset/<token>"): E(everyone(OK)),  # the link is the key: it names someone else's account
    ("POST", "/reset/<token>"): E(everyone(OK)),
    ("GET", "/account/"): E(members(OK)),
    ("POST", "/account/password"): E(members(REFUSED), prefixes=("pw",)),
    ("POST", "/account/tokens"): E(members(REFUSED), prefixes=("tok",)),
    ("POST", "/account/tokens/<int:token_id>/revoke"): E(members(BOUNCED, delegate=REDIRECT)),
    ("GET", "/account/notifications"): E(members(OK)),
    ("POST", "/account/notifications"): E(members(REDIRECT)),
    ("POST", "/account/timezone"): E(members(REDIRECT), prefixes=("tz",), data={"tz-timezone": ""}),
    ("POST", "/account/language"): E(members(REDIRECT), prefixes=("lang",), data={"lang-language": ""}),
    ("GET", "/notifications"): E(members(OK)),
    ("GET", "/notifications/<int:note_id>"): E(only(signatory=REDIRECT), get_writes=True),  # marks read
    ("POST", "/notifications/read"): E(members(REDIRECT)),
    ("GET", "/admin/users"): E(only(admin=OK)),
    ("GET", "/admin/mail"): E(only(admin=OK)),
    ("GET", "/admin/invitations"): E(only(admin=OK)),
    ("POST", "/admin/invitations"): E(only(admin=REFUSED), prefixes=("inv",)),
    ("POST", "/admin/invitations/<int:invitation_id>/resend"): E(only(admin=REDIRECT)),
    ("POST", "/admin/invitations/<int:invitation_id>/revoke"): E(only(admin=REDIRECT)),
    ("GET", "/admin/outbox"): E(only(admin=OK)),  # development only (TestConfig: no MAIL_SERVER)
    ("GET", "/admin/outbox/<name>"): E(only()),  # no such file: 404 for the admin too
    # --- organisations --------------------------------------------------------------------------------
    ("GET", "/o/"): E(everyone(OK)),
    ("GET", "/o/<slug>"): E(everyone(OK)),
    ("GET", "/o/<slug>/feed.atom"): E(everyone(OK)),
    ("GET", "/o/new"): E(only(admin=OK)),
    ("POST", "/o/new"): E(only(admin=OK)),
    ("GET", "/o/<slug>/edit"): E(only(admin=OK)),
    ("POST", "/o/<slug>/edit"): E(only(admin=OK), data={"name": ""}),
    ("GET", "/o/<slug>/members"): E(only(admin=OK)),
    ("POST", "/o/<slug>/members"): E(only(admin=REFUSED), prefixes=("add",)),
    ("POST", "/o/<slug>/members/<int:user_id>"): E(only(admin=REDIRECT), prefixes=("m{user_id}",)),
    ("POST", "/o/<slug>/invitations"): E(only(admin=REFUSED), prefixes=("inv",)),
    ("POST", "/o/<slug>/invitations/<int:invitation_id>/resend"): E(only(admin=REDIRECT)),
    ("POST", "/o/<slug>/invitations/<int:invitation_id>/revoke"): E(only(admin=REDIRECT)),
    # --- statements: lists, creation ---------------------------------------------------------------
    ("GET", "/statements/"): E(members(OK)),
    ("GET", "/statements/new"): E(only(delegate=OK, coordinator=OK)),
    ("POST", "/statements/new"): E(only(delegate=REFUSED, coordinator=REFUSED)),  # the empty form: 422
    ("GET", "/statements/import"): E(only(delegate=OK, coordinator=OK)),
    ("POST", "/statements/import"): E(only(delegate=REFUSED, coordinator=REFUSED)),
    # --- a statement: reading -------------------------------------------------------------------------
    ("GET", "/statements/<int:statement_id>"): S(viewers(OK)),
    ("GET", "/statements/<int:statement_id>/history"): S(viewers(OK)),
    ("GET", "/statements/<int:statement_id>/versions/<int:number>"): S(viewers(OK)),
    ("GET", "/statements/<int:statement_id>/versions/<int:number>.txt"): S(viewers(OK)),
    ("GET", "/statements/<int:statement_id>/amendments"): S(viewers(OK)),
    ("GET", "/statements/<int:statement_id>/compare"): S(viewers(OK)),
    ("GET", "/statements/<int:statement_id>/merged"): S(viewers(OK)),
    ("GET", "/statements/<int:statement_id>/blame"): S(viewers(OK)),
    ("GET", "/statements/<int:statement_id>/audit"): S(viewers(OK)),
    ("GET", "/statements/<int:statement_id>/paragraphs/<int:paragraph_id>/history"): S(viewers(OK)),
    # --- a statement: direct edits of the draft (refusals are redirects back to the statement) -----
    ("GET", "/statements/<int:statement_id>/title"): S(editing_draft(OK)),
    ("POST", "/statements/<int:statement_id>/title"): S(editing_draft(REFUSED), data={"title": ""}),
    ("GET", "/statements/<int:statement_id>/paragraphs/new"): S(editing_draft(OK)),
    ("POST", "/statements/<int:statement_id>/paragraphs/new"): S(editing_draft(REFUSED)),
    ("GET", "/statements/<int:statement_id>/paragraphs/<int:paragraph_id>/edit"): S(editing_draft(OK)),
    ("POST", "/statements/<int:statement_id>/paragraphs/<int:paragraph_id>/edit"): S(editing_draft(REFUSED)),
    ("GET", "/statements/<int:statement_id>/paragraphs/<int:paragraph_id>/delete"): S(editing_draft(OK)),
    ("POST", "/statements/<int:statement_id>/paragraphs/<int:paragraph_id>/delete"): S(
        editing_draft(OK), data={"base_revision_id": "999999999"}),  # stale: refused after the check
    ("POST", "/statements/<int:statement_id>/paragraphs/<int:paragraph_id>/move"): S(
        editing_draft(REDIRECT), data={"direction": "down"}, fresh=("draft",)),
    # --- a statement: the coordinator's pages ----------------------------------------------------------
    ("GET", "/statements/<int:statement_id>/invite"): S(coordinator_page()),
    ("POST", "/statements/<int:statement_id>/invite"): S(viewers(DENIED, coordinator=REFUSED)),
    ("POST", "/statements/<int:statement_id>/invitations/<int:invitation_id>/resend"): S(
        viewers(DENIED, coordinator=REDIRECT)),
    ("POST", "/statements/<int:statement_id>/invitations/<int:invitation_id>/revoke"): S(
        viewers(DENIED, coordinator=REDIRECT), fresh=PHASES),
    ("GET", "/statements/<int:statement_id>/open"): S(lambda p: viewers(DENIED, coordinator=OK if p == "draft"
                                                                        else DENIED)),
    ("POST", "/statements/<int:statement_id>/open"): S(lambda p: viewers(DENIED, coordinator=OK if p == "draft"
                                                                         else DENIED)),
    ("GET", "/statements/<int:statement_id>/freeze"): S(coordinator_page()),
    ("POST", "/statements/<int:statement_id>/freeze"): S(  # a past deadline: refused after the check
        coordinator_page(), data={"signing_deadline": "2000-01-01T00:00"}),
    ("GET", "/statements/<int:statement_id>/reopen"): S(coordinator_page()),
    ("POST", "/statements/<int:statement_id>/reopen"): S(
        lambda p: viewers(DENIED, coordinator=REDIRECT if p == "signing" else OK), fresh=("signing",)),
    ("GET", "/statements/<int:statement_id>/publish"): S(coordinator_page()),
    ("POST", "/statements/<int:statement_id>/publish"): S(coordinator_page()),
    ("GET", "/statements/<int:statement_id>/withdraw"): S(coordinator_page()),
    ("POST", "/statements/<int:statement_id>/withdraw"): S(coordinator_page()),
    ("POST", "/statements/<int:statement_id>/participants/<int:organisation_id>/reinvite"): S(
        viewers(DENIED, coordinator=REDIRECT)),  # tnn takes part: nothing to do, said after the check
    ("GET", "/statements/<int:statement_id>/endorsements"): S(
        lambda p: viewers(DENIED, coordinator=OK if p == "published" else DENIED)),
    ("POST", "/statements/<int:statement_id>/endorsements"): S(
        lambda p: viewers(DENIED, coordinator=OK if p == "published" else DENIED)),
    # --- a statement: signing and leaving ---------------------------------------------------------------
    ("GET", "/statements/<int:statement_id>/sign"): S(
        lambda p: viewers(OK if p in SIGNED_ON else BOUNCED)),
    ("POST", "/statements/<int:statement_id>/sign"): S(
        lambda p: viewers(DENIED, signatory=REFUSED) if p == "signing" else viewers(BOUNCED)),
    ("GET", "/statements/<int:statement_id>/withdraw-organisation"): S(viewers(DENIED, signatory=OK)),
    ("POST", "/statements/<int:statement_id>/withdraw-organisation"): S(viewers(DENIED, signatory=OK)),
    ("POST", "/statements/<int:statement_id>/signatures/<int:signature_id>/revoke"): Entry(
        lambda p: viewers(BOUNCED, signatory=REDIRECT if p == "signing" else BOUNCED),
        phases=SIGNED_ON, fresh=("signing",)),
    # --- a statement: invitations ---------------------------------------------------------------------
    ("GET", "/statement-invitations/<int:invitation_id>"): S(only(other_admin=OK)),
    ("POST", "/statement-invitations/<int:invitation_id>"): S(only(other_admin=REDIRECT)),  # declines
    ("GET", "/join/<token>"): S(everyone(OK)),
    ("POST", "/join/<token>"): S(everyone(OK)),
    # --- amendments -----------------------------------------------------------------------------------
    ("GET", "/statements/<int:statement_id>/amendments/new"): S(
        lambda p: viewers(DENIED, **dict.fromkeys(("delegate", "coordinator"), OK if p == "amending"
                                                  else BOUNCED)),
        query="kind=modify&paragraph={paragraph_id}"),
    ("POST", "/statements/<int:statement_id>/amendments/new"): S(
        lambda p: viewers(DENIED, **dict.fromkeys(("delegate", "coordinator"), REFUSED if p == "amending"
                                                  else BOUNCED)),
        query="kind=modify&paragraph={paragraph_id}"),
    ("GET", "/amendments/<int:amendment_id>"): A(viewers(OK)),
    ("GET", "/amendments/<int:amendment_id>/edit"): A(
        lambda p: viewers(BOUNCED, delegate=OK if p == "amending" else BOUNCED)),
    ("POST", "/amendments/<int:amendment_id>/edit"): A(
        lambda p: viewers(BOUNCED, delegate=REFUSED if p == "amending" else BOUNCED)),
    ("POST", "/amendments/<int:amendment_id>/positions"): A(
        viewers(DENIED, delegate=REFUSED, coordinator=REFUSED)),
    ("POST", "/amendments/<int:amendment_id>/sponsor"): A(
        viewers(DENIED, delegate=BOUNCED, coordinator=BOUNCED)),
    ("POST", "/amendments/<int:amendment_id>/comments"): A(  # a real comment: only members may add it
        lambda p: viewers(REDIRECT if p != "published" else REFUSED, admin=REFUSED), data={"body": "Agreed."}),
    ("POST", "/amendments/<int:amendment_id>/withdraw"): A(
        lambda p: viewers(BOUNCED, delegate=REDIRECT if p == "amending" else BOUNCED), fresh=("amending",)),
    ("POST", "/amendments/<int:amendment_id>/accept"): A(
        lambda p: viewers(BOUNCED, coordinator=REDIRECT if p == "amending" else BOUNCED),
        data=lambda v: {"text_version": "1"}, fresh=("amending",)),
    ("POST", "/amendments/<int:amendment_id>/reject"): A(
        lambda p: viewers(BOUNCED, coordinator=REDIRECT if p == "amending" else BOUNCED),
        data={"reason": "Not needed."}, fresh=("amending",)),
    # Suggestions: the delegate proposed the amendment, the coordinator (a delegate of hwu) suggested a change.
    ("GET", "/amendments/<int:amendment_id>/changes"): A(viewers(OK)),
    ("POST", "/amendments/<int:amendment_id>/suggestions"): A(
        viewers(DENIED, delegate=REFUSED, coordinator=REFUSED)),  # nothing sent: the form says so
    ("POST", "/suggestions/<int:suggestion_id>/adopt"): A(
        lambda p: viewers(BOUNCED, delegate=REDIRECT if p == "amending" else BOUNCED), fresh=("amending",)),
    ("POST", "/suggestions/<int:suggestion_id>/decline"): A(
        lambda p: viewers(BOUNCED, delegate=REDIRECT if p == "amending" else BOUNCED),
        data={"reason": "Not ours."}, fresh=("amending",)),
    ("POST", "/suggestions/<int:suggestion_id>/withdraw"): A(
        lambda p: viewers(BOUNCED, coordinator=REDIRECT if p == "amending" else BOUNCED), fresh=("amending",)),
    ("POST", "/statements/<int:statement_id>/merged/accept"): S(  # refusals: back to the page, with the reason
        lambda p: viewers(BOUNCED, coordinator=REDIRECT if p == "amending" else BOUNCED),
        data=lambda v: {"accept": f"{v['amendment_id'] or ID_MAX}.1"}, fresh=("amending",)),
    # --- languages and translations (issue 14): every scene has the target language "de" ----------------
    ("GET", "/statements/<int:statement_id>/languages"): S(viewers(OK)),
    ("POST", "/statements/<int:statement_id>/languages"): S(viewers(DENIED, coordinator=REFUSED),
                                                            data={"language": ""}),
    ("POST", "/statements/<int:statement_id>/languages/<language>/remove"): S(
        viewers(DENIED, coordinator=REDIRECT), fresh=PHASES),
    ("POST", "/statements/<int:statement_id>/languages/<language>/publish"): S(  # nothing to publish yet
        viewers(DENIED, coordinator=BOUNCED)),
    ("GET", "/statements/<int:statement_id>/translations/<language>"): S(viewers(OK)),
    ("POST", "/statements/<int:statement_id>/translations/<language>"): S(  # a stale form: refused by the rule
        viewers(DENIED, delegate=REFUSED, coordinator=REFUSED),
        data={"save": "all", "title": "Titel", "title_source": "Not the title"}),
    ("POST", "/o/<slug>/names"): E(only(admin=REFUSED), data={"language": ""}),
    ("GET", "/api/v1/statements/<int:statement_id>/languages"): S(api_viewers(OK)),
    ("POST", "/api/v1/statements/<int:statement_id>/languages"): S(api_viewers(DENIED, coordinator=REFUSED),
                                                                   data={"language": ""}),
    ("DELETE", "/api/v1/statements/<int:statement_id>/languages/<language>"): S(
        api_viewers(DENIED, coordinator=OK), fresh=PHASES),
    ("PUT", "/api/v1/statements/<int:statement_id>/source-language"): S(api_viewers(DENIED, coordinator=REFUSED),
                                                                        data={"language": ""}),
    ("GET", "/api/v1/statements/<int:statement_id>/translations/<language>"): S(api_viewers(OK)),
    ("PUT", "/api/v1/statements/<int:statement_id>/translations/<language>"): S(
        api_viewers(DENIED, delegate=REFUSED, coordinator=REFUSED),
        data={"title": "Titel", "title_source": "Not the title"}),
    ("POST", "/api/v1/statements/<int:statement_id>/translations/<language>/publish"): S(
        api_viewers(DENIED, coordinator=REFUSED)),
    ("GET", "/api/v1/organisations/<slug>/names"): E(everyone(OK, anonymous=UNAUTH)),
    ("PUT", "/api/v1/organisations/<slug>/names/<language>"): E(api_only(admin=REFUSED),
                                                                 data={"name_in_statements": "\u0001"}),
    # --- published statements: public -------------------------------------------------------------
    **{("GET", rule): S(lambda p: everyone(OK if p == "published" else DENIED)) for rule in (
        "/p/<slug>", "/p/<slug>/certificate", "/p/<slug>.txt", "/p/<slug>.md", "/p/<slug>.json",
        "/p/<slug>.docx", "/p/<slug>.pdf")},
    ("GET", "/verify"): E(everyone(OK)),
    ("POST", "/verify"): E(everyone(REFUSED)),  # nothing sent: the form says so
    ("GET", "/p/<slug>/verify"): S(lambda p: everyone(OK if p == "published" else DENIED)),
    ("POST", "/p/<slug>/verify"): S(lambda p: everyone(REFUSED if p == "published" else DENIED)),
    # --- archived statements ------------------------------------------------------------------------
    ("GET", "/statements/archive"): E(only(delegate=OK, coordinator=OK)),
    ("POST", "/statements/archive"): E(only(delegate=REFUSED, coordinator=REFUSED)),
    ("GET", "/archive/recorded"): E(members(OK)),
    ("POST", "/archive/recorded/<int:recorded_id>"): E(  # no answer chosen: said after the check
        only(signatory=REDIRECT), prefixes=("r{recorded_id}",)),
    ("POST", "/api/v1/statements/archive"): E(everyone(REFUSED, anonymous=UNAUTH), data={"text": ""}),
    ("GET", "/api/v1/recorded-signatures"): E(everyone(OK, anonymous=UNAUTH)),
    ("POST", "/api/v1/recorded-signatures/<int:recorded_id>"): E(api_only(signatory=REFUSED),
                                                                 data={"confirm": "yes"}),
    # --- API: organisations and lists -----------------------------------------------------------------
    ("GET", "/api/v1/organisations/<slug>"): E(everyone(OK, anonymous=UNAUTH)),
    ("PATCH", "/api/v1/organisations/<slug>"): E(api_only(admin=REFUSED), data={"name": ""}),
    ("GET", "/api/v1/openapi.json"): E(everyone(OK)),  # the API's description is public
    ("GET", "/api/v1/organisations"): E(everyone(OK, anonymous=UNAUTH)),
    ("POST", "/api/v1/organisations"): E(api_only(admin=REFUSED), data={"name": ""}),
    ("POST", "/api/v1/organisations/<slug>/members"): E(
        api_only(admin=OK), data=lambda v: {"email": v["spare_email"], "roles": ["signatory"]}),
    ("GET", "/api/v1/statements"): E(everyone(OK, anonymous=UNAUTH)),
    ("POST", "/api/v1/statements"): E(
        api_only(coordinator=REFUSED),
        data={"title": "", "coordinator_organisation": "hwu", "participants": [], "paragraphs": []}),
    ("POST", "/api/v1/statements/import"): E(
        api_only(coordinator=OK), data="Imported by the matrix\n\n1. One paragraph.\n",
        query="coordinator_organisation=hwu"),
    # --- API: a statement ----------------------------------------------------------------------------
    ("GET", "/api/v1/statements/<int:statement_id>"): S(api_viewers(OK)),
    ("GET", "/api/v1/statements/<int:statement_id>/versions"): S(api_viewers(OK)),
    ("GET", "/api/v1/statements/<int:statement_id>/versions/<int:number>"): S(api_viewers(OK)),
    ("GET", "/api/v1/statements/<int:statement_id>/compare"): S(api_viewers(OK), query="from=1&to=1"),
    ("GET", "/api/v1/statements/<int:statement_id>/merged"): S(api_viewers(OK)),
    ("POST", "/api/v1/statements/<int:statement_id>/accept-many"): S(  # a stale text_version: refused
        api_viewers(DENIED, coordinator=REFUSED),
        data=lambda v: {"amendments": [v["amendment_id"] or ID_MAX], "text_versions": {
            str(v["amendment_id"] or ID_MAX): 99}}),
    ("GET", "/api/v1/statements/<int:statement_id>/amendments"): S(api_viewers(OK)),
    ("GET", "/api/v1/statements/<int:statement_id>/signatures"): S(api_viewers(OK)),
    ("PUT", "/api/v1/statements/<int:statement_id>/paragraphs/<int:paragraph_id>"): S(
        lambda p: api_viewers(REFUSED) if p != "draft" else api_viewers(DENIED, coordinator=REFUSED),
        data={"text": ""}),
    ("POST", "/api/v1/statements/<int:statement_id>/paragraphs"): S(
        lambda p: api_viewers(REFUSED) if p != "draft" else api_viewers(DENIED, coordinator=REFUSED),
        data={"after": None, "text": ""}),
    ("DELETE", "/api/v1/statements/<int:statement_id>/paragraphs/<int:paragraph_id>"): S(
        lambda p: api_viewers(REFUSED) if p != "draft" else api_viewers(DENIED, coordinator=REFUSED),
        data={"base_revision_id": 999999999}),
    ("POST", "/api/v1/statements/<int:statement_id>/open"): S(
        api_viewers(DENIED, coordinator=REFUSED), data={"decision_rule": "none of them"}),
    ("POST", "/api/v1/statements/<int:statement_id>/amendments"): S(
        lambda p: api_viewers(DENIED, delegate=REFUSED) if p == "amending"
        else api_viewers(REFUSED),
        data=lambda v: {"kind": "modify", "organisation": "gva", "paragraph_id": v["paragraph_id"], "text": ""}),
    ("POST", "/api/v1/statements/<int:statement_id>/freeze"): S(
        api_viewers(DENIED, coordinator=REFUSED), data={"signing_deadline": "2000-01-01T00:00:00+00:00"}),
    ("POST", "/api/v1/statements/<int:statement_id>/reopen"): S(
        lambda p: api_viewers(DENIED, coordinator=OK if p == "signing" else REFUSED), fresh=("signing",)),
    ("POST", "/api/v1/statements/<int:statement_id>/publish"): S(
        lambda p: api_viewers(REFUSED) if p == "published" else api_viewers(DENIED, coordinator=REFUSED)),
    ("POST", "/api/v1/statements/<int:statement_id>/signatures"): S(
        lambda p: api_viewers(DENIED, signatory=REFUSED) if p == "signing" else api_viewers(REFUSED),
        data=SIGN_BODY),
    ("DELETE", "/api/v1/statements/<int:statement_id>/signatures/<int:signature_id>"): Entry(
        lambda p: api_viewers(DENIED, signatory=OK if p == "signing" else REFUSED),
        phases=SIGNED_ON, fresh=("signing",)),
    ("POST", "/api/v1/statements/<int:statement_id>/withdraw"): S(
        api_viewers(DENIED, signatory=REFUSED), data={"organisation": "gva", "reason": ""}),
    # --- API: an amendment ---------------------------------------------------------------------------
    ("GET", "/api/v1/amendments/<int:amendment_id>"): A(api_viewers(OK)),
    ("PUT", "/api/v1/amendments/<int:amendment_id>"): A(
        lambda p: api_viewers(DENIED, delegate=REFUSED) if p == "amending" else api_viewers(REFUSED),
        data={"text": ""}),
    ("POST", "/api/v1/amendments/<int:amendment_id>/sponsors"): A(
        api_viewers(DENIED, delegate=REFUSED), data={"organisation": "gva"}),
    ("POST", "/api/v1/amendments/<int:amendment_id>/positions"): A(
        lambda p: api_viewers(DENIED, delegate=REFUSED) if p == "amending" else api_viewers(REFUSED),
        data={"organisation": "gva", "stance": "maybe"}),
    ("POST", "/api/v1/amendments/<int:amendment_id>/comments"): A(
        lambda p: api_viewers(REFUSED, admin=DENIED), data={"body": ""}),
    ("POST", "/api/v1/amendments/<int:amendment_id>/accept"): A(
        api_viewers(DENIED, coordinator=REFUSED), data={"text_version": -1}),
    ("POST", "/api/v1/amendments/<int:amendment_id>/reject"): A(
        api_viewers(DENIED, coordinator=REFUSED), data={"reason": ""}),
    ("GET", "/api/v1/amendments/<int:amendment_id>/suggestions"): A(api_viewers(OK)),
    ("POST", "/api/v1/amendments/<int:amendment_id>/suggestions"): A(
        api_viewers(DENIED, delegate=REFUSED), data={"organisation": "gva", "text": ""}),
    ("POST", "/api/v1/suggestions/<int:suggestion_id>/adopt"): A(
        lambda p: api_viewers(DENIED, delegate=OK if p == "amending" else REFUSED), fresh=("amending",)),
    ("POST", "/api/v1/suggestions/<int:suggestion_id>/decline"): A(
        api_viewers(DENIED, delegate=REFUSED), data={"reason": ""}),
    ("POST", "/api/v1/suggestions/<int:suggestion_id>/withdraw"): A(
        lambda p: api_viewers(DENIED, coordinator=OK if p == "amending" else REFUSED), fresh=("amending",)),
    ("POST", "/api/v1/amendments/<int:amendment_id>/withdraw"): A(
        lambda p: api_viewers(DENIED, delegate=OK if p == "amending" else REFUSED), fresh=("amending",)),
}

PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def outcome_of(response) -> str:
    """The outcome class of a response."""
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        return LOGIN if re.search(r"^(https?://[^/]+)?/login\?next=", location) else REDIRECT
    if 200 <= status < 300:
        return OK
    return {401: UNAUTH, 403: DENIED, 404: DENIED, 409: REFUSED, 422: REFUSED}.get(status, f"status {status}")


def url_values(world: World, rule: str, scene) -> dict:
    values = dict(world.values)
    if scene is not None:
        values.update(statement_id=scene.statement_id, paragraph_id=scene.paragraph_id,
                      amendment_id=scene.amendment_id, signature_id=scene.signature_id,
                      suggestion_id=scene.suggestion_id,
                      invitation_id=scene.invitation_id)
    values["slug"] = scene.slug if rule.startswith("/p/") else world.values["org_slug"]
    values["token"] = (scene.join_token if rule.startswith("/join/") else world.values["reset_token"]
                       if rule.startswith("/reset/") else world.values["invitation_token"])
    return values


def ask(world: World, method: str, rule: str, entry: Entry, actor: str, scene):
    values = url_values(world, rule, scene)
    url = PARAM.sub(lambda m: str(values[m.group(1)]), rule)
    if entry.query:
        url += "?" + entry.query.format(**values)
    data = entry.data(values) if callable(entry.data) else entry.data
    if rule.startswith("/api/"):
        return world.api(actor, method, url, data)
    prefixes = [p.format(**values) for p in entry.prefixes]
    return world.web(actor, method, url, data, prefixes)


@pytest.fixture(scope="module")
def world(_app):
    """One world per database for the whole module; emptied at the end."""
    with built(_app) as made:
        yield made


def test_every_route_has_an_entry(world):
    """Every rule and method of the URL map has a row in the table, and every row a rule."""
    served = {(method, rule.rule) for rule in world.app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods & {"GET", "POST", "PUT", "DELETE", "PATCH"}}
    missing = sorted(served - TABLE.keys())
    stale = sorted(TABLE.keys() - served)
    assert not missing, "routes without an entry in the permission matrix:\n" + "\n".join(
        f"  {m} {r}" for m, r in missing)
    assert not stale, "entries for routes that no longer exist:\n" + "\n".join(f"  {m} {r}" for m, r in stale)


@pytest.mark.parametrize("key", sorted(TABLE), ids=[f"{m} {r}" for m, r in sorted(TABLE)])
def test_permission_matrix(world, key):
    """Each actor, in each phase, gets exactly the outcome the table names, and refusals change nothing."""
    method, rule = key
    entry = TABLE[key]
    failures = []
    for phase in entry.phases or (None,):
        scene = world.scene_for(key, phase, phase in entry.fresh) if phase else None
        expected = entry.outcomes(phase)
        assert set(expected) == set(ACTORS), f"{key} {phase}: the row must name every actor"
        watch = method != "GET" or entry.get_writes  # other GETs write nothing: spare the snapshots
        state = fingerprint() if watch else None
        for actor in ACTORS:
            response = ask(world, method, rule, entry, actor, scene)
            got = outcome_of(response)
            where = f"{phase or '-'}/{actor}"
            if got != expected[actor] and not (expected[actor] == BOUNCED and got == REDIRECT):
                failures.append(f"{where}: expected {expected[actor]}, got {got} "
                                f"({response.status_code} {response.headers.get('Location', '')})".rstrip())
            if watch:
                before, state = state, fingerprint()  # an allowed call's change is the next cell's start
                if expected[actor] in UNCHANGED and state != before:
                    failures.append(f"{where}: {got} but the database changed")
            if entry.ends_session and actor != "anonymous":
                world.login(actor)
    db.session.rollback()
    assert not failures, f"{method} {rule}:\n  " + "\n  ".join(failures)


def test_api_add_member_refuses_before_looking_up_the_address(world):
    """Someone who may not manage an organisation cannot learn from the answer whether an address has an account."""
    answers = {email: world.api("nobody", "POST", "/api/v1/organisations/gva/members",
                                {"email": email, "roles": ["delegate"]}).status_code
               for email in (world.values["spare_email"], "no-such-person@example.net")}
    assert set(answers.values()) == {403}, answers
