"""Hostile input at every state-changing endpoint, web forms and JSON API alike (issue 8, item 4).

Every rule of the URL map that takes POST, PUT, PATCH or DELETE has an entry in ``SPECS`` (a new one
without an entry fails ``test_every_state_changing_route_has_an_entry``). Each entry says whom to send
the request as, so that the actor is allowed and the input reaches the form and rule checks, and how to
draw a request: Hypothesis throws arbitrary Unicode (control characters, lone surrogates, right-to-left
marks, stacked combining marks, a 1 MB string), missing, duplicated and unknown fields, malformed form
bodies and JSON (a key twice, cut short, not UTF-8, nested 100,000 deep, wrong types), forged or missing
CSRF tokens, numbers int() refuses ("²"), dates at the ends of the calendar, and ids of other
statements, organisations, amendments, signatures and tokens, in the URL and in fields. For every
request:

- no server error (status < 500);
- a refusal (4xx; a form shown again with an error; a redirect flashing an error; a JSON error) leaves
  every row of every table as it was (``tests.hostile_world.fingerprint``, a hash of them all);
- no HTML answer holds the input unescaped (``<x-hostile>``, ``<script>alert(``), and neither do the
  pages that show an accepted request's data;
- every run must have at least one request accepted per endpoint (Hypothesis starts from the simplest
  draw, which every entry makes the well-formed request): the world is one where the input reaches the
  checks, not one where everything is a 403.

``make test`` runs FAST examples per endpoint; ``make test-slow`` runs SLOW more. Both are
derandomised, so a run is repeatable.
"""

from __future__ import annotations

import itertools
import os
import sys

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from app.accounts import operations as accounts
from app.amending import operations as amending
from app.amending import suggestions as suggesting
from app.amending.rules import RULE_LABELS
from app.extensions import db
from app.models import EVENT_KINDS, Amendment, Organisation, Paragraph
from app.organisations import operations as orgs
from app.participation import withdrawals
from app.publishing import publication as publishing
from app.signing import operations as signing
from tests import factories
from tests.conftest import IsolatedClient, _empty_tables
from tests.hostile_strategies import (
    CSRF_WAYS,
    DAY,
    ENCODINGS,
    ID_TEXT,
    ISO_WHEN,
    JUNK,
    MARKER,
    QUERY,
    WHEN,
    ZONES,
    _bytes,
    encode_json,
    field,
    form,
    form_body,
    form_field,
    hostile_text,
    ids,
    json_body,
    json_object,
    path_id,
    with_query,
)
from tests.hostile_world import (
    Spec,
    World,
    check_same_site,
    fingerprint,
    now,
    quote_path,
    restore_setup,
    without_setup,
)

FAST = 8  # examples per endpoint in `make test`
# Examples per endpoint in `make test-slow`; HOSTILE_SLOW_EXAMPLES=40 for the longer run of docs/security.md.
SLOW = int(os.environ.get("HOSTILE_SLOW_EXAMPLES", "15"))
NEW_PASSWORD = "a brand new password"
# No shrinking: the world keeps what accepted requests did, so a smaller example is not the same test,
# and shrinking 1 MB strings through real requests takes many minutes. A failure names its request.
HOSTILE = settings(deadline=None, derandomize=True, database=None, phases=(Phase.explicit, Phase.generate),
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.large_base_example, HealthCheck.function_scoped_fixture])
_serial = itertools.count(1)

SPECS: dict[tuple[str, str], Spec] = {}

# State-changing routes without an entry, each with the reason. There are none: even the buttons with
# no field of their own (log out, mark all read) get forged and duplicated tokens and stray fields.
EXCLUDED: dict[tuple[str, str], str] = {}


def endpoint(method: str, rule: str, scene=None, **kw):
    def register(draw):
        SPECS[(method, rule)] = Spec(draw, scene or (lambda w: {}), **kw)
        return draw
    return register


def web(w: World, data, url: str, fields: dict, *, client=None, prefixes=(), pages=(), viewer=None, files=(),
        zone: str | None = None):
    """A form post to ``url``: ``fields`` are form_field strategies; the body strays now and then. ``zone``:
    the time zone the browser reports (deadlines are read in it)."""
    pairs = data.draw(form(**fields)) if fields else data.draw(form())
    (client or w.web).http.set_cookie("concord_tz", zone or "", domain="concord.test")
    return w.form(client or w.web, url, pairs, data.draw(CSRF_WAYS), data.draw(ENCODINGS), prefixes, files,
                  data.draw(JUNK), pages, viewer)


def api(w: World, data, method: str, url: str, objects=None, *, token=None, pages=()):
    return w.api(method, url, data.draw(json_body(objects if objects is not None else json_object())), token,
                 pages)


def created(prefix: str):
    """The page of what a redirect names (``/statements/7``), to look at after it was accepted."""
    def pages(response) -> list[str]:
        location = response.headers.get("Location", "")
        tail = location.rstrip("/").rsplit("/", 1)[-1]
        return [f"{prefix}/{tail}"] if tail.isdigit() else []
    return pages


def api_created(prefix: str, key: str = "id"):
    def pages(response) -> list[str]:
        body = response.get_json(silent=True) or {}
        return [f"{prefix}/{body[key]}"] if isinstance(body.get(key), int) else []
    return pages


# --- scenes -----------------------------------------------------------------------------------------------


def draft(w):
    return w.statement(w.dana, w.own)


def amending_scene(w):
    return w.statement(w.dana, w.own, phase="amending")


def signing_scene(w):
    return w.statement(w.dana, w.own, phase="signing")


def own_amendment(w):
    scene = w.amendment(amending_scene(w), w.dana, w.own)
    scene["comment"] = amending.add_comment(db.session.get(Amendment, scene["amendment"]), w.olly,
                                            "A first comment.", now=now()).id
    db.session.commit()
    return scene


def others_amendment(w):
    return w.amendment(amending_scene(w), w.olly, w.other, text="Another text.")


def signed(w):
    scene = signing_scene(w)
    scene["signature"] = w.sign(scene, w.dana, w.own)
    return scene


def ready(w):
    """Frozen, and every participant (only the coordinator's organisation) has signed."""
    scene = w.statement(w.dana, w.own, participants=[], phase="signing")
    w.sign(scene, w.dana, w.own)
    return scene


def published(w):
    scene = ready(w)
    publishing.publish(w.get(scene), w.dana, publication_date=None, now=now())
    db.session.commit()
    return scene


def other_withdrew(w):
    scene = amending_scene(w)
    withdrawals.withdraw_organisation(w.get(scene), w.olly, w.other, reason="We cannot.", now=now())
    db.session.commit()
    return scene


def sams_with_own(w):
    """A statement of another organisation's that Dana's organisation takes part in."""
    return w.statement(w.sam, w.far, participants=[w.own], phase="amending")


def sam_invites_own(w):
    scene = w.statement(w.sam, w.far, participants=[])
    from app.participation import invitations as participation

    participation.invite_organisation(w.get(scene), w.sam, organisation=w.own, now=now())
    db.session.commit()
    scene["invitation"] = w.pending_invitation(scene)
    return scene


def managed(w):
    """An organisation Dana administers, one member besides her, and an account that is not a member."""
    n = next(_serial)
    org = factories.organisation(f"Managed {n}", slug=f"managed-{n}")
    orgs.set_member_roles(None, org, w.dana, ["admin"])
    member = factories.member(org, "delegate", name=f"Member {n}")
    outsider = factories.user(name=f"Outsider {n}")
    db.session.commit()
    return {"slug": org.slug, "member": member.id, "outsider": outsider.email}


def person(w):
    """Someone of their own, logged in: their session ends or their password changes when accepted."""
    return {"client": w.login(factories.user(name=f"Person {next(_serial)}"))}


def anonymous(w):
    return {"client": w.anonymous()}


def reset(w):
    user = factories.user(name=f"Forgetful {next(_serial)}")
    return {"client": w.anonymous(), "user": user, "stale": w.reset_token(user)}


def invited(w):
    return {"client": w.anonymous(), "token": w.invitation_token(w.own, ["delegate"])}


def contact(w):
    scene = draft(w)
    scene.update(client=w.anonymous(), token=w.join_token(scene))
    return scene


def spare_token(w):
    token = accounts.create_api_token(w.dana, "spare")[0]
    db.session.commit()
    return {"token": token.id}


# Cheaper ways to make a scene usable again after an accepted request used it up.


def suggested_to_own(w):
    """Dana's amendment with Olly's suggestion on it (Dana adopts or declines it)."""
    scene = own_amendment(w)
    return {**scene, "suggestion": _suggestion(w, scene, w.olly, w.other)}


def suggested_by_dana(w):
    """Olly's amendment with Dana's suggestion on it (Dana withdraws it)."""
    scene = others_amendment(w)
    return {**scene, "suggestion": _suggestion(w, scene, w.dana, w.own)}


def _suggestion(w, scene, user, org) -> int:
    made = suggesting.suggest(scene["amendment"], user, org, text=f"A suggested text {next(_serial)}.", now=now())
    db.session.commit()
    return made.id


def another_suggestion_to_own(w, s):
    return {**s, "suggestion": _suggestion(w, s, w.olly, w.other)}


def another_suggestion_by_dana(w, s):
    return {**s, "suggestion": _suggestion(w, s, w.dana, w.own)}


def another_own_amendment(w, s):
    return {**w.amendment(s, w.dana, w.own, text=f"A better text {next(_serial)}."), "comment": s["comment"]}


def another_others_amendment(w, s):
    return w.amendment(s, w.olly, w.other, text=f"Another text {next(_serial)}.")


def unsign(w, s):
    for signature in signing.valid_signatures(w.get(s)):
        signing.revoke(signature, w.dana, now=now())
    db.session.commit()
    return s


def sign_again(w, s):
    return {**s, "signature": w.sign(s, w.dana, w.own)}


def refreeze(w, s):
    """Frozen and signed by Dana again (after a reopen; the text did not change, nor its hash)."""
    statement = w.get(s)
    if statement.status == "amending":
        signing.freeze(statement, w.dana, now=now())
        db.session.commit()
    return {**s, "signature": w.sign(s, w.dana, w.own)}


def reopen(w, s):
    signing.reopen(w.get(s), w.dana, now=now())
    db.session.commit()
    return s


def rejoin(w, s):
    withdrawals.reinvite(w.get(s), w.sam, w.own, now=now())
    db.session.commit()
    return s


def withdraw_again(w, s):
    withdrawals.withdraw_organisation(w.get(s), w.olly, w.other, reason="We cannot.", now=now())
    db.session.commit()
    return s


def new_contact(w, s):
    return {**s, "client": w.anonymous(), "token": w.join_token(s)}


# --- strategies shared by several entries -------------------------------------------------------------------


def sid(w, s):
    return path_id(s["statement"], *w.foreign["statements"])


def pid(w, s):
    return path_id(s["paragraphs"][0], *s["paragraphs"][1:], *w.foreign["paragraphs"])


def aid(w, s):
    return path_id(s["amendment"], *w.foreign["amendments"])


def suggestion_id(w, s):
    return path_id(s["suggestion"], *w.foreign["suggestions"])


def org_choice(w) -> st.SearchStrategy:
    """Another organisation's id, or no organisation's."""
    return st.sampled_from([str(i) for i in w.foreign["org_ids"]] + [str(w.own.id)]) | ID_TEXT


def slug_choice(good: str) -> st.SearchStrategy:
    return st.one_of(st.just(good), st.just(good), st.just(good), st.sampled_from(["far", "nope", "OWN"]),
                     hostile_text(big=False).map(quote_path))


def statement_page(s):
    return (f"/statements/{s['statement']}",)


def amendment_page(s):
    return (f"/amendments/{s['amendment']}", f"/statements/{s['statement']}")


TEXT = st.sampled_from(["Rivers need much care.", "A new paragraph.\n\nAnd another.", "¶ 3 again"])


# --- accounts and sessions ---------------------------------------------------------------------------------


@endpoint("POST", "/setup", anonymous, prepare=without_setup, finish=restore_setup)
def _(w, s, data):
    return web(w, data, "/setup", {
        "name": form_field("name", "First Admin"),
        "email": form_field("email", f"setup-{next(_serial)}@example.org"),
        "password": form_field("password", NEW_PASSWORD),
        "confirm": form_field("confirm", NEW_PASSWORD),
    }, client=s["client"])


@endpoint("POST", "/login", anonymous)
def _(w, s, data):
    return web(w, data, "/login", {
        "email": form_field("email", w.dana.email, st.just(w.sam.email.upper())),
        "password": form_field("password", factories.PASSWORD),
        "remember": form_field("remember", "y"),
    }, client=s["client"])


@endpoint("POST", "/logout", person, refusing_flashes=("error",))
def _(w, s, data):
    return web(w, data, "/logout", {}, client=s["client"])


@endpoint("POST", "/language", person, writes_on=frozenset({303}), refusing_flashes=("error",))
def _(w, s, data):
    return web(w, data, "/language", {
        "language": form_field("language", "de", st.sampled_from(["fr", "xx", "de-DE", ""])),
        "next": form_field("next", "/account/", st.just("//evil.example/")),
    }, client=s["client"])


@endpoint("POST", "/invitations/<token>", invited)
def _(w, s, data):
    token = data.draw(st.one_of(st.just(s["token"]), st.just(s["token"]), st.just(s["token"][:-3] + "abc"),
                                hostile_text(big=False).map(quote_path)))
    return web(w, data, f"/invitations/{token}", {
        "name": form_field("name", "New Person"),
        "password": form_field("password", NEW_PASSWORD),
        "confirm": form_field("confirm", NEW_PASSWORD),
    }, client=s["client"], pages=("/admin/users",), viewer=w.admin_web)


@endpoint("POST", "/forgot-password", anonymous, writes_on=frozenset({200}))
def _(w, s, data):
    return web(w, data, "/forgot-password", {"email": form_field("email", w.olly.email)}, client=s["client"])


@endpoint("POST", "/reset/<token>", reset)
def _(w, s, data):
    token = data.draw(st.one_of(st.just(w.reset_token(s["user"])), st.just(w.reset_token(s["user"])),
                                st.just(s["stale"]), st.just(w.reset_token(w.olly)[:-4] + "abcd"),
                                hostile_text(big=False).map(quote_path)))
    return web(w, data, f"/reset/{token}", {
        "password": form_field("password", NEW_PASSWORD),
        "confirm": form_field("confirm", NEW_PASSWORD),
    }, client=s["client"])


@endpoint("POST", "/account/password", person)
def _(w, s, data):
    return web(w, data, "/account/password", {
        "current": form_field("pw-current_password", factories.PASSWORD),
        "password": form_field("pw-password", NEW_PASSWORD),
        "confirm": form_field("pw-confirm", NEW_PASSWORD),
    }, client=s["client"], prefixes=("pw",))


@endpoint("POST", "/account/tokens", writes_on=frozenset({200}), renew=False)
def _(w, s, data):
    return web(w, data, "/account/tokens", {"name": form_field("tok-name", "newsroom script")}, prefixes=("tok",),
               pages=("/account/",))


@endpoint("POST", "/account/tokens/<int:token_id>/revoke", spare_token)
def _(w, s, data):
    token = data.draw(path_id(s["token"], *w.foreign["tokens"]))
    return web(w, data, f"/account/tokens/{token}/revoke", {}, pages=("/account/",))


@endpoint("POST", "/account/notifications", renew=False)
def _(w, s, data):
    modes = st.sampled_from(["digest", "off", "immediate", "never", "IMMEDIATE"])
    return web(w, data, "/account/notifications", {kind: form_field(kind, "digest", modes) for kind in EVENT_KINDS},
               pages=("/account/notifications",))


@endpoint("POST", "/notifications/read", renew=False)
def _(w, s, data):
    return web(w, data, "/notifications/read", {}, pages=("/notifications",))


@endpoint("POST", "/admin/invitations", renew=False)
def _(w, s, data):
    roles = st.sampled_from(["delegate", "signatory", "admin", "owner"])
    return web(w, data, "/admin/invitations", {
        "email": form_field("inv-email", f"invitee{next(_serial)}@example.org"),
        "roles": form_field("inv-roles", "delegate", roles),
        "admin": form_field("inv-make_admin", "y"),
    }, client=w.admin_web, prefixes=("inv",))


# --- organisations ------------------------------------------------------------------------------------------


@endpoint("POST", "/o/new", renew=False)
def _(w, s, data):
    n = next(_serial)
    return web(w, data, "/o/new", {
        "name": form_field("name", f"New Organisation {n}"),
        "short_name": form_field("short_name", "NO"),
        "country": form_field("country", "Kenya"),
        "slug": form_field("slug", f"new-{n}", st.sampled_from(["own", "far", "a--b", "Ünï", "-x-"])),
    }, client=w.admin_web, pages=("/o/",), viewer=w.admin_web)


@endpoint("POST", "/o/<slug>/edit", managed)
def _(w, s, data):
    slug = data.draw(slug_choice(s["slug"]))
    return web(w, data, f"/o/{slug}/edit", {
        "name": form_field("name", "Managed, renamed"),
        "short_name": form_field("short_name", "MR"),
        "country": form_field("country", "Chile"),
    }, pages=(f"/o/{s['slug']}", "/o/"))


@endpoint("POST", "/o/<slug>/members", managed)
def _(w, s, data):
    slug = data.draw(slug_choice(s["slug"]))
    roles = st.sampled_from(["signatory", "admin", "owner", ""])
    return web(w, data, f"/o/{slug}/members", {
        "email": form_field("add-email", s["outsider"], st.just(w.sam.email), st.just("nobody@example.org")),
        "roles": form_field("add-roles", "delegate", roles),
    }, prefixes=("add",), pages=(f"/o/{s['slug']}/members",))


@endpoint("POST", "/o/<slug>/members/<int:user_id>", managed)
def _(w, s, data):
    slug = data.draw(slug_choice(s["slug"]))
    user = data.draw(path_id(s["member"], *w.foreign["users"], w.dana.id))
    roles = st.sampled_from(["delegate", "signatory", "admin", "owner", ""])
    return web(w, data, f"/o/{slug}/members/{user}", {"roles": form_field(f"m{user}-roles", "signatory", roles)},
               prefixes=(f"m{user}",), pages=(f"/o/{s['slug']}/members",))


@endpoint("POST", "/o/<slug>/invitations", managed, renew=False)
def _(w, s, data):
    slug = data.draw(slug_choice(s["slug"]))
    roles = st.sampled_from(["signatory", "admin", "owner"])
    return web(w, data, f"/o/{slug}/invitations", {
        "email": form_field("inv-email", f"member{next(_serial)}@example.org"),
        "roles": form_field("inv-roles", "delegate", roles),
        "admin": form_field("inv-make_admin", "", st.just("y")),
    }, prefixes=("inv",))


# --- statements: creating and the draft ------------------------------------------------------------------


@endpoint("POST", "/statements/new", renew=False)
def _(w, s, data):
    own, other, far = (str(w.org_ids[k]) for k in ("own", "other", "far"))
    return web(w, data, "/statements/new", {
        "title": form_field("title", "A statement"),
        "text": form_field("text", "One.\n\nTwo."),
        "coordinator": form_field("coordinator_organisation", own, st.sampled_from([far, other]), ID_TEXT),
        "participants": form_field("participants", other, st.sampled_from([own, far]), ID_TEXT),
    }, pages=created("/statements"))


@endpoint("POST", "/statements/import", renew=False)
def _(w, s, data):
    own, other, far = (str(w.org_ids[k]) for k in ("own", "other", "far"))
    text = st.tuples(hostile_text(), hostile_text()).map(lambda t: f"{t[0]}\n\n1. {t[1]}\n\n2.\u00a0{MARKER} two")
    fields = {
        "text": form_field("text", "A Title\n\n1. One.\n\n2. Two.", text),
        "confirm": form_field("confirm", "yes", st.just("")),
        "coordinator": form_field("coordinator_organisation", own, st.sampled_from([far, other]), ID_TEXT),
        "participants": form_field("participants", other, ID_TEXT),
    }
    files = data.draw(st.one_of(st.just(()), st.just(()), st.tuples(
        st.tuples(st.just("upload"), hostile_text(), st.one_of(
            hostile_text().map(_bytes), st.just(b"\xff\xfeT\x00i\x00"), st.just(b"\xef\xbb\xbfTitle\n\n1. One.\n"))))))
    return web(w, data, "/statements/import", fields, files=files, pages=created("/statements"))


@endpoint("POST", "/statements/<int:statement_id>/title", draft, renew=False)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/title",
               {"title": form_field("title", f"Renamed {next(_serial)}")}, pages=statement_page(s))


@endpoint("POST", "/statements/<int:statement_id>/paragraphs/new", draft, renew=False)
def _(w, s, data):
    after = st.sampled_from(["top", "", *map(str, s["paragraphs"][1:] + w.foreign["paragraphs"])]) | ID_TEXT
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/paragraphs/new", {
        "text": form_field("text", "An inserted paragraph."),
        "after": form_field("after", str(s["paragraphs"][0]), after),
    }, pages=statement_page(s))


@endpoint("POST", "/statements/<int:statement_id>/paragraphs/<int:paragraph_id>/edit", draft, renew=False)
def _(w, s, data):
    db.session.rollback()
    current = [str(r) for r in db.session.scalars(select(Paragraph.current_revision_id)
                                                    .where(Paragraph.id.in_(s["paragraphs"])))]
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/paragraphs/{data.draw(pid(w, s))}/edit", {
        "text": form_field("text", f"Edited on the web {next(_serial)}."),
        "base": form_field("base_revision_id", current[0],
                           st.sampled_from([*current, *map(str, w.foreign["revisions"])]), ID_TEXT),
    }, pages=statement_page(s))


@endpoint("POST", "/statements/<int:statement_id>/paragraphs/<int:paragraph_id>/delete", draft)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/paragraphs/{data.draw(pid(w, s))}/delete", {
        "base": form_field("base_revision_id", str(s["revisions"][0]),
                           st.sampled_from([str(r) for r in s["revisions"][1:] + w.foreign["revisions"]]), ID_TEXT),
    }, pages=statement_page(s))


@endpoint("POST", "/statements/<int:statement_id>/paragraphs/<int:paragraph_id>/move", draft)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/paragraphs/{data.draw(pid(w, s))}/move", {
        "direction": form_field("direction", "down", st.sampled_from(["up", "top", "DOWN", "sideways"])),
    }, pages=statement_page(s))


# --- statements: the coordinator's steps ------------------------------------------------------------------


@endpoint("POST", "/statements/<int:statement_id>/invite", draft)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/invite", {
        "organisation": form_field("organisation", str(w.far.id), org_choice(w), st.just("0")),
        "email": form_field("contact_email", "", st.just(f"contact{next(_serial)}@example.org"),
                            st.just("not an address")),
    }, pages=statement_page(s))


@endpoint("POST", "/statements/<int:statement_id>/open", draft)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/open", {
        "rule": form_field("decision_rule", "coordinator", st.sampled_from([*RULE_LABELS, "unanimity"])),
        "deadline": form_field("deadline", "2099-01-01T10:00", WHEN),
    }, pages=statement_page(s), zone=data.draw(ZONES))


@endpoint("POST", "/statements/<int:statement_id>/freeze", amending_scene, renew=reopen)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/freeze", {
        "deadline": form_field("signing_deadline", "2099-01-01T10:00", WHEN),
        "planned": form_field("planned_publication_date", "2099-01-02", DAY),
        "auto": form_field("auto_publish", "y"),
    }, pages=(f"/statements/{s['statement']}/sign",), zone=data.draw(ZONES))


@endpoint("POST", "/statements/<int:statement_id>/reopen", signed, renew=refreeze)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/reopen", {}, pages=statement_page(s))


@endpoint("POST", "/statements/<int:statement_id>/publish", ready)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/publish", {
        "date": form_field("publication_date", now().date().isoformat(), DAY),
    }, pages=(f"/p/{s['slug']}",))


@endpoint("POST", "/statements/<int:statement_id>/withdraw", draft)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/withdraw",
               {"reason": form_field("reason", "No longer needed.")}, pages=statement_page(s))


@endpoint("POST", "/statements/<int:statement_id>/participants/<int:organisation_id>/reinvite", other_withdrew,
          renew=withdraw_again)
def _(w, s, data):
    org = data.draw(path_id(w.other.id, w.own.id, w.far.id))
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/participants/{org}/reinvite", {},
               pages=statement_page(s))


@endpoint("POST", "/statements/<int:statement_id>/endorsements", published)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/endorsements", {
        "organisation": form_field("organisation", str(w.far.id), org_choice(w)),
        "date": form_field("endorsed_on", now().date().isoformat(), DAY),
    }, pages=(f"/p/{s['slug']}",))


# --- statements: signing and leaving ---------------------------------------------------------------------


@endpoint("POST", "/statements/<int:statement_id>/sign", signing_scene, renew=unsign)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/sign", {
        "organisation": form_field("organisation", str(w.own.id), org_choice(w)),
        "name": form_field("signer_name", "Dana Delegate"),
        "title": form_field("signer_title", "Chair"),
        "authorised": form_field("authorised", "y", st.just("")),
        "password": form_field("password", factories.PASSWORD, st.just("wrong password")),
        "hash": form_field("version_sha256", s["sha256"], st.just("0" * 64)),
    }, pages=(f"/statements/{s['statement']}/sign",))


@endpoint("POST", "/statements/<int:statement_id>/withdraw-organisation", sams_with_own, renew=rejoin)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/withdraw-organisation", {
        "organisation": form_field("organisation", str(w.own.id), org_choice(w)),
        "reason": form_field("reason", "We cannot sign this."),
    })


@endpoint("POST", "/statements/<int:statement_id>/signatures/<int:signature_id>/revoke", signed, renew=sign_again)
def _(w, s, data):
    signature = data.draw(path_id(s["signature"], *w.foreign["signatures"]))
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/signatures/{signature}/revoke", {},
               pages=(f"/statements/{s['statement']}/sign",))


@endpoint("POST", "/statement-invitations/<int:invitation_id>", sam_invites_own)
def _(w, s, data):
    invitation = data.draw(path_id(s["invitation"], *w.foreign["invitations"]))
    return web(w, data, f"/statement-invitations/{invitation}", {
        "answer": form_field("answer", "accept", st.sampled_from(["decline", "ACCEPT", "yes"])),
    })


@endpoint("POST", "/join/<token>", contact, renew=new_contact)
def _(w, s, data):
    token = data.draw(st.one_of(st.just(s["token"]), st.just(s["token"]), st.just(s["token"][:-3] + "abc"),
                                hostile_text(big=False).map(quote_path)))
    return web(w, data, f"/join/{token}", {
        "organisation": form_field("organisation_name", f"Joining Organisation {next(_serial)}"),
        "short_name": form_field("short_name", "JO"),
        "country": form_field("country", "Peru"),
        "name": form_field("name", "Jo Joiner"),
        "password": form_field("password", NEW_PASSWORD),
        "confirm": form_field("confirm", NEW_PASSWORD),
    }, client=s["client"], pages=(*statement_page(s), "/o/"))


# --- amendments --------------------------------------------------------------------------------------------


@endpoint("POST", "/statements/<int:statement_id>/amendments/new", amending_scene, renew=False)
def _(w, s, data):
    kind = data.draw(st.sampled_from(["modify", "modify", "insert", "delete", "retitle", "MODIFY"])
                     | hostile_text(big=False))
    place = data.draw(st.sampled_from([str(s["paragraphs"][0]), str(s["paragraphs"][0]), "top",
                                       *map(str, w.foreign["paragraphs"])]) | ID_TEXT)
    query = f"kind={quote_path(kind)}&{'after' if kind == 'insert' else 'paragraph'}={quote_path(place)}"
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/amendments/new?{query}", {
        "organisation": form_field("organisation", str(w.own.id), org_choice(w)),
        "text": form_field("text", f"A better paragraph {next(_serial)}."),
        "rationale": form_field("rationale", "Because."),
        "supersedes": form_field("supersedes", "", st.sampled_from([str(a) for a in w.foreign["amendments"]]),
                                 ID_TEXT),
        "preview": form_field("submit", "Propose amendment", st.just("")),
    }, pages=created("/amendments"))


@endpoint("POST", "/amendments/<int:amendment_id>/edit", own_amendment, renew=False)
def _(w, s, data):
    return web(w, data, f"/amendments/{data.draw(aid(w, s))}/edit", {
        "text": form_field("text", f"A revised paragraph {next(_serial)}."),
        "rationale": form_field("rationale", "Because, still."),
        "preview": form_field("submit", "Save amendment", st.just("")),
    }, pages=amendment_page(s))


@endpoint("POST", "/amendments/<int:amendment_id>/positions", others_amendment, renew=False)
def _(w, s, data):
    return web(w, data, f"/amendments/{data.draw(aid(w, s))}/positions", {
        "organisation": form_field("organisation", str(w.own.id), org_choice(w)),
        "stance": form_field("stance", "support", st.sampled_from(["oppose", "abstain", "veto"])),
        "reason": form_field("reason", "We agree."),
    }, pages=amendment_page(s))


@endpoint("POST", "/amendments/<int:amendment_id>/sponsor", others_amendment, renew=another_others_amendment)
def _(w, s, data):
    return web(w, data, f"/amendments/{data.draw(aid(w, s))}/sponsor", {
        "organisation": form_field("organisation", str(w.own.id), org_choice(w)),
    }, pages=amendment_page(s))


@endpoint("POST", "/amendments/<int:amendment_id>/comments", own_amendment, renew=False)
def _(w, s, data):
    parents = st.sampled_from([str(s["comment"]), *map(str, w.foreign["comments"])]) | ID_TEXT
    return web(w, data, f"/amendments/{data.draw(aid(w, s))}/comments", {
        "body": form_field("body", "I agree."),
        "parent": form_field("parent_id", "", parents),
    }, pages=amendment_page(s))


@endpoint("POST", "/amendments/<int:amendment_id>/withdraw", own_amendment, renew=another_own_amendment)
def _(w, s, data):
    return web(w, data, f"/amendments/{data.draw(aid(w, s))}/withdraw", {}, pages=amendment_page(s))


@endpoint("POST", "/amendments/<int:amendment_id>/accept", own_amendment, renew=another_own_amendment)
def _(w, s, data):
    return web(w, data, f"/amendments/{data.draw(aid(w, s))}/accept", {
        "version": form_field("text_version", str(s["text_version"]), ID_TEXT),
    }, pages=amendment_page(s))


@endpoint("POST", "/statements/<int:statement_id>/merged/accept", own_amendment, renew=another_own_amendment)
def _(w, s, data):
    picks = st.sampled_from([f"{i}.1" for i in w.foreign["amendments"]] + [f"{s['amendment']}.0", "1.1.1", "."])
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/merged/accept", {
        "accept": form_field("accept", f"{s['amendment']}.{s['text_version']}", picks, ID_TEXT),
    }, pages=(f"/statements/{s['statement']}/merged", *amendment_page(s)))


@endpoint("POST", "/amendments/<int:amendment_id>/reject", own_amendment, renew=another_own_amendment)
def _(w, s, data):
    return web(w, data, f"/amendments/{data.draw(aid(w, s))}/reject",
               {"reason": form_field("reason", "Not needed.")}, pages=amendment_page(s))


@endpoint("POST", "/amendments/<int:amendment_id>/suggestions", others_amendment, renew=another_others_amendment)
def _(w, s, data):
    return web(w, data, f"/amendments/{data.draw(aid(w, s))}/suggestions", {
        "organisation": form_field("organisation", str(w.own.id), org_choice(w)),
        "text": form_field("text", f"A suggested paragraph {next(_serial)}."),
        "rationale": form_field("rationale", "Shorter."),
        "version": form_field("text_version", str(s["text_version"]), ID_TEXT),
    }, pages=amendment_page(s))


@endpoint("POST", "/suggestions/<int:suggestion_id>/adopt", suggested_to_own, renew=another_suggestion_to_own)
def _(w, s, data):
    return web(w, data, f"/suggestions/{data.draw(suggestion_id(w, s))}/adopt", {}, pages=amendment_page(s))


@endpoint("POST", "/suggestions/<int:suggestion_id>/decline", suggested_to_own, renew=another_suggestion_to_own)
def _(w, s, data):
    return web(w, data, f"/suggestions/{data.draw(suggestion_id(w, s))}/decline",
               {"reason": form_field("reason", "We keep ours.")}, pages=amendment_page(s))


@endpoint("POST", "/suggestions/<int:suggestion_id>/withdraw", suggested_by_dana, renew=another_suggestion_by_dana)
def _(w, s, data):
    return web(w, data, f"/suggestions/{data.draw(suggestion_id(w, s))}/withdraw", {}, pages=amendment_page(s))


# --- invitations: resend, revoke; the account's time zone --------------------------------------------------


def platform_invitation(w):
    invitation = accounts.create_invitation(w.admin, f"invitee{next(_serial)}@example.net", organisation=None,
                                            roles=[], now=now(), max_age=3600)
    db.session.commit()
    return {"invitation": invitation.id}


def managed_invitation(w):
    scene = managed(w)
    org = orgs.get_organisation(scene["slug"])
    invitation = accounts.create_invitation(w.dana, f"member{next(_serial)}@example.net", organisation=org,
                                            roles=["delegate"], now=now(), max_age=3600)
    db.session.commit()
    return {**scene, "invitation": invitation.id}


def statement_invitation(w):
    from app.participation import invitations as participation

    scene = draft(w)
    invitation = participation.invite_organisation(w.get(scene), w.dana, contact_email=f"c{next(_serial)}@example.net",
                                                   now=now())
    db.session.commit()
    return {**scene, "invitation": invitation.id}


def foreign_invitations(w) -> list[int]:
    return [*w.foreign["invitations"], 999_999]


@endpoint("POST", "/account/timezone", person, renew=False)
def _(w, s, data):
    # Someone of their own: Dana's deadlines are read in her browser's zone, which an account zone would override.
    zones = st.sampled_from(["", "UTC", "Asia/Tokyo", "Mars/Base", "Etc/GMT+12", "../../etc"])
    return web(w, data, "/account/timezone", {"zone": form_field("tz-timezone", "Europe/Lisbon", zones)},
               client=s["client"], prefixes=("tz",), pages=("/account/",), viewer=s["client"])


@endpoint("POST", "/account/language", person, renew=False)
def _(w, s, data):
    languages = st.sampled_from(["", "en", "fr", "xx", "de-DE", "../../etc"])
    return web(w, data, "/account/language", {"language": form_field("lang-language", "es", languages)},
               client=s["client"], prefixes=("lang",), pages=("/account/",), viewer=s["client"])


@endpoint("POST", "/admin/invitations/<int:invitation_id>/resend", platform_invitation, renew=False)
def _(w, s, data):
    invitation = data.draw(path_id(s["invitation"], *foreign_invitations(w)))
    return web(w, data, f"/admin/invitations/{invitation}/resend", {}, client=w.admin_web,
               pages=("/admin/invitations",), viewer=w.admin_web)


@endpoint("POST", "/admin/invitations/<int:invitation_id>/revoke", platform_invitation)
def _(w, s, data):
    invitation = data.draw(path_id(s["invitation"], *foreign_invitations(w)))
    return web(w, data, f"/admin/invitations/{invitation}/revoke", {}, client=w.admin_web,
               pages=("/admin/invitations",), viewer=w.admin_web)


@endpoint("POST", "/o/<slug>/invitations/<int:invitation_id>/resend", managed_invitation, renew=False)
def _(w, s, data):
    slug = data.draw(slug_choice(s["slug"]))
    invitation = data.draw(path_id(s["invitation"], *foreign_invitations(w)))
    return web(w, data, f"/o/{slug}/invitations/{invitation}/resend", {}, pages=(f"/o/{s['slug']}/members",))


@endpoint("POST", "/o/<slug>/invitations/<int:invitation_id>/revoke", managed_invitation)
def _(w, s, data):
    slug = data.draw(slug_choice(s["slug"]))
    invitation = data.draw(path_id(s["invitation"], *foreign_invitations(w)))
    return web(w, data, f"/o/{slug}/invitations/{invitation}/revoke", {}, pages=(f"/o/{s['slug']}/members",))


@endpoint("POST", "/statements/<int:statement_id>/invitations/<int:invitation_id>/resend", statement_invitation,
          renew=False)
def _(w, s, data):
    invitation = data.draw(path_id(s["invitation"], *foreign_invitations(w)))
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/invitations/{invitation}/resend", {},
               pages=(f"/statements/{s['statement']}/invite",))


@endpoint("POST", "/statements/<int:statement_id>/invitations/<int:invitation_id>/revoke", statement_invitation)
def _(w, s, data):
    invitation = data.draw(path_id(s["invitation"], *foreign_invitations(w)))
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/invitations/{invitation}/revoke", {},
               pages=(f"/statements/{s['statement']}/invite",))


# --- API: organisations and statements -----------------------------------------------------------------


@endpoint("POST", "/api/v1/organisations", renew=False)
def _(w, s, data):
    n = next(_serial)
    return api(w, data, "POST", "/organisations", json_object(
        name=field(f"API Organisation {n}"), slug=field(f"api-{n}", st.sampled_from(["own", "A B", "-"])),
        short_name=field("AO"), country=field("Ghana"),
    ), token=w.admin_token, pages=("/o/",))


@endpoint("POST", "/api/v1/organisations/<slug>/members", managed)
def _(w, s, data):
    slug = data.draw(slug_choice(s["slug"]))
    return api(w, data, "POST", f"/organisations/{slug}/members", json_object(
        email=field(s["outsider"], st.just(w.sam.email)),
        roles=field(["delegate"], st.lists(st.sampled_from(["signatory", "owner", ""]), max_size=3)),
    ), pages=(f"/o/{s['slug']}/members",))


@endpoint("POST", "/api/v1/statements", renew=False)
def _(w, s, data):
    body = json_object(
        title=field("A statement"), coordinator_organisation=field("own", st.just("far"), st.just("nope")),
        participants=field(["other"], st.lists(st.sampled_from(["other", "far", "own", "x"]), max_size=3)),
        paragraphs=field(["One."], st.lists(hostile_text(), max_size=3)),
    )
    return api(w, data, "POST", "/statements", body, pages=api_created("/statements"))


@endpoint("POST", "/api/v1/statements/import", renew=False)
def _(w, s, data):
    text = data.draw(st.one_of(st.just("A Title\n\n1. One.\n\n2. Two."), hostile_text(), st.tuples(
        hostile_text(), hostile_text()).map(lambda t: f"{t[0]}\n\n{t[1]}\n\n{MARKER} paragraph")))
    body = data.draw(st.one_of(st.just(_bytes(text)), st.just(b"\xef\xbb\xbf" + _bytes(text)),
                               st.just(text.encode("utf-16", "surrogatepass"))))
    content_type = data.draw(st.sampled_from(["text/plain", "text/plain; charset=utf-8", "application/json",
                                              "text/html", ""]))
    params = data.draw(st.one_of(st.just([("coordinator_organisation", "own"), ("participants", "other")]),
                                 st.lists(st.tuples(
                                     st.sampled_from(["coordinator_organisation", "participants"]),
                                     st.sampled_from(["own", "far", "other", "other,far", ",,", "own,own"])
                                     | hostile_text(big=False)), max_size=3)))
    query = "&".join(f"{k}={quote_path(v)}" for k, v in params)
    return w.api("POST", f"/statements/import?{query}", (body, content_type), pages=api_created("/statements"))


@endpoint("PUT", "/api/v1/statements/<int:statement_id>/paragraphs/<int:paragraph_id>", draft, renew=False)
def _(w, s, data):
    body = json_object(text=field(f"New text {next(_serial)}."),
                       base_revision_id=field(None, ids(*s["revisions"], *w.foreign["revisions"])))
    return api(w, data, "PUT", f"/statements/{data.draw(sid(w, s))}/paragraphs/{data.draw(pid(w, s))}", body,
               pages=statement_page(s))


@endpoint("POST", "/api/v1/statements/<int:statement_id>/paragraphs", draft, renew=False)
def _(w, s, data):
    body = json_object(after=field(None, ids(*s["paragraphs"], *w.foreign["paragraphs"])),
                       text=field("An inserted paragraph."))
    return api(w, data, "POST", f"/statements/{data.draw(sid(w, s))}/paragraphs", body, pages=statement_page(s))


@endpoint("DELETE", "/api/v1/statements/<int:statement_id>/paragraphs/<int:paragraph_id>", draft)
def _(w, s, data):
    body = json_object(base_revision_id=field(None, ids(*s["revisions"], *w.foreign["revisions"])))
    return api(w, data, "DELETE", f"/statements/{data.draw(sid(w, s))}/paragraphs/{data.draw(pid(w, s))}", body,
               pages=statement_page(s))


@endpoint("POST", "/api/v1/statements/<int:statement_id>/open", draft)
def _(w, s, data):
    body = json_object(decision_rule=field("majority", st.sampled_from(["unanimity", "Majority"])),
                       amendment_deadline=field(None, ISO_WHEN))
    return api(w, data, "POST", f"/statements/{data.draw(sid(w, s))}/open", body, pages=statement_page(s))


@endpoint("POST", "/api/v1/statements/<int:statement_id>/amendments", amending_scene, renew=False)
def _(w, s, data):
    own = s["paragraphs"]
    body = json_object(
        kind=field("modify", st.sampled_from(["insert", "delete", "retitle", "MODIFY"])),
        organisation=field("own", st.sampled_from(["other", "far", "nope"])),
        paragraph_id=field(own[0], ids(*own, *w.foreign["paragraphs"])),
        after_paragraph_id=field(None, ids(*own)),
        text=field(f"A better paragraph {next(_serial)}."), rationale=field("Because."),
        supersedes=field([], st.lists(ids(*w.foreign["amendments"]), max_size=2)),
    )
    return api(w, data, "POST", f"/statements/{data.draw(sid(w, s))}/amendments", body,
               pages=api_created("/amendments"))


@endpoint("POST", "/api/v1/statements/<int:statement_id>/freeze", amending_scene, renew=reopen)
def _(w, s, data):
    body = json_object(signing_deadline=field(None, ISO_WHEN), planned_publication_date=field("2099-01-01", DAY),
                       auto_publish=field(True, st.just(False)))
    return api(w, data, "POST", f"/statements/{data.draw(sid(w, s))}/freeze", body,
               pages=(f"/statements/{s['statement']}/sign",))


@endpoint("POST", "/api/v1/statements/<int:statement_id>/reopen", signed, renew=refreeze)
def _(w, s, data):
    return api(w, data, "POST", f"/statements/{data.draw(sid(w, s))}/reopen", pages=statement_page(s))


@endpoint("POST", "/api/v1/statements/<int:statement_id>/publish", ready)
def _(w, s, data):
    body = json_object(publication_date=field(now().date().isoformat(), DAY))
    return api(w, data, "POST", f"/statements/{data.draw(sid(w, s))}/publish", body, pages=(f"/p/{s['slug']}",))


@endpoint("POST", "/api/v1/statements/<int:statement_id>/signatures", signing_scene, renew=unsign)
def _(w, s, data):
    body = json_object(
        organisation=field("own", st.sampled_from(["other", "far"])),
        signer_name=field("Dana Delegate"), signer_title=field("Chair"),
        authorised=field(True, st.just(False)),
        password=field(factories.PASSWORD, st.just("wrong password")),
        version_sha256=field(s["sha256"], st.just("0" * 64)),
    )
    return api(w, data, "POST", f"/statements/{data.draw(sid(w, s))}/signatures", body,
               pages=(f"/statements/{s['statement']}/sign",))


@endpoint("DELETE", "/api/v1/statements/<int:statement_id>/signatures/<int:signature_id>", signed,
          renew=sign_again)
def _(w, s, data):
    signature = data.draw(path_id(s["signature"], *w.foreign["signatures"]))
    return api(w, data, "DELETE", f"/statements/{data.draw(sid(w, s))}/signatures/{signature}",
               pages=(f"/statements/{s['statement']}/sign",))


@endpoint("POST", "/api/v1/statements/<int:statement_id>/withdraw", sams_with_own, renew=rejoin)
def _(w, s, data):
    body = json_object(organisation=field("own", st.sampled_from(["far", "other", "nope"])),
                       reason=field("We cannot sign this."))
    return api(w, data, "POST", f"/statements/{data.draw(sid(w, s))}/withdraw", body)


# --- API: amendments ---------------------------------------------------------------------------------------


@endpoint("PUT", "/api/v1/amendments/<int:amendment_id>", own_amendment, renew=False)
def _(w, s, data):
    body = json_object(text=field(f"A revised paragraph {next(_serial)}."), rationale=field("Because, still."))
    return api(w, data, "PUT", f"/amendments/{data.draw(aid(w, s))}", body, pages=amendment_page(s))


@endpoint("POST", "/api/v1/amendments/<int:amendment_id>/sponsors", others_amendment,
          renew=another_others_amendment)
def _(w, s, data):
    body = json_object(organisation=field("own", st.sampled_from(["far", "other", "nope"])))
    return api(w, data, "POST", f"/amendments/{data.draw(aid(w, s))}/sponsors", body, pages=amendment_page(s))


@endpoint("POST", "/api/v1/amendments/<int:amendment_id>/positions", others_amendment, renew=False)
def _(w, s, data):
    body = json_object(organisation=field("own", st.sampled_from(["far", "other"])),
                       stance=field("oppose", st.sampled_from(["support", "veto", "SUPPORT"])),
                       reason=field("We disagree."))
    return api(w, data, "POST", f"/amendments/{data.draw(aid(w, s))}/positions", body, pages=amendment_page(s))


@endpoint("POST", "/api/v1/amendments/<int:amendment_id>/comments", own_amendment, renew=False)
def _(w, s, data):
    body = json_object(body=field("I agree."), parent_id=field(None, ids(s["comment"], *w.foreign["comments"])))
    return api(w, data, "POST", f"/amendments/{data.draw(aid(w, s))}/comments", body, pages=amendment_page(s))


@endpoint("POST", "/api/v1/amendments/<int:amendment_id>/accept", own_amendment, renew=another_own_amendment)
def _(w, s, data):
    body = json_object(text_version=field(s["text_version"], ids(0, s["text_version"] + 1)))
    return api(w, data, "POST", f"/amendments/{data.draw(aid(w, s))}/accept", body, pages=amendment_page(s))


@endpoint("POST", "/api/v1/statements/<int:statement_id>/accept-many", own_amendment, renew=another_own_amendment)
def _(w, s, data):
    chosen = st.lists(ids(s["amendment"], *w.foreign["amendments"]), max_size=3)
    body = json_object(amendments=field([s["amendment"]], chosen),
                       text_versions=field({str(s["amendment"]): s["text_version"]},
                                           st.dictionaries(ID_TEXT, ids(0, s["text_version"] + 1), max_size=2)))
    return api(w, data, "POST", f"/statements/{data.draw(sid(w, s))}/accept-many", body,
               pages=(f"/api/v1/statements/{s['statement']}/merged",))


@endpoint("POST", "/api/v1/amendments/<int:amendment_id>/reject", own_amendment, renew=another_own_amendment)
def _(w, s, data):
    body = json_object(reason=field("Not needed."))
    return api(w, data, "POST", f"/amendments/{data.draw(aid(w, s))}/reject", body, pages=amendment_page(s))


@endpoint("POST", "/api/v1/amendments/<int:amendment_id>/withdraw", own_amendment,
          renew=another_own_amendment)
def _(w, s, data):
    return api(w, data, "POST", f"/amendments/{data.draw(aid(w, s))}/withdraw", pages=amendment_page(s))


@endpoint("POST", "/api/v1/amendments/<int:amendment_id>/suggestions", others_amendment,
          renew=another_others_amendment)
def _(w, s, data):
    body = json_object(organisation=field("own", st.sampled_from(["far", "other", "nope"])),
                       text=field(f"A suggested paragraph {next(_serial)}."), rationale=field("Shorter."),
                       text_version=field(s["text_version"], ids(0, s["text_version"] + 1)))
    return api(w, data, "POST", f"/amendments/{data.draw(aid(w, s))}/suggestions", body, pages=amendment_page(s))


@endpoint("POST", "/api/v1/suggestions/<int:suggestion_id>/adopt", suggested_to_own,
          renew=another_suggestion_to_own)
def _(w, s, data):
    return api(w, data, "POST", f"/suggestions/{data.draw(suggestion_id(w, s))}/adopt", pages=amendment_page(s))


@endpoint("POST", "/api/v1/suggestions/<int:suggestion_id>/decline", suggested_to_own,
          renew=another_suggestion_to_own)
def _(w, s, data):
    body = json_object(reason=field("We keep ours."))
    return api(w, data, "POST", f"/suggestions/{data.draw(suggestion_id(w, s))}/decline", body,
               pages=amendment_page(s))


@endpoint("POST", "/api/v1/suggestions/<int:suggestion_id>/withdraw", suggested_by_dana,
          renew=another_suggestion_by_dana)
def _(w, s, data):
    return api(w, data, "POST", f"/suggestions/{data.draw(suggestion_id(w, s))}/withdraw", pages=amendment_page(s))


# --- published statements: verify pages, archived statements, names in statements -----------------------


VERIFY_FILES = st.one_of(st.just(()), st.just(()), st.tuples(st.tuples(
    st.just("file"), hostile_text(), st.one_of(hostile_text().map(_bytes), st.just(b"%PDF-1.7 not really"),
                                               st.just(b'{"format": "concord-manifest/1"}'), st.just(b"\xff\xfe")))))


@endpoint("POST", "/verify", writes_on=frozenset({200}), renew=False)
def _(w, s, data):
    return web(w, data, "/verify", {"text": form_field("text", "Rivers need much care.")},
               files=data.draw(VERIFY_FILES))


@endpoint("POST", "/p/<slug>/verify", published, writes_on=frozenset({200}), renew=False)
def _(w, s, data):
    slug = data.draw(slug_choice(s["slug"]))
    return web(w, data, f"/p/{slug}/verify", {"text": form_field("text", "Rivers need much care.")},
               files=data.draw(VERIFY_FILES))


def _location(response) -> list[str]:
    from urllib.parse import urlsplit

    location = response.headers.get("Location", "")
    return [urlsplit(location).path] if location else []


@endpoint("POST", "/statements/archive", renew=False)
def _(w, s, data):
    own, other, far = (str(w.org_ids[k]) for k in ("own", "other", "far"))
    text = st.tuples(hostile_text(), hostile_text()).map(lambda t: f"{t[0]}\n\n1. {t[1]}\n\n2.\u00a0{MARKER} two")
    return web(w, data, "/statements/archive", {
        "text": form_field("text", f"Archived {next(_serial)}\n\n1. One.\n\n2. Two.", text),
        "coordinator": form_field("coordinator_organisation", own, st.sampled_from([far, other]), ID_TEXT),
        "date": form_field("publication_date", "2020-05-01", DAY),
        "organisation": form_field("signatories-0-organisation", own, st.sampled_from([far, other]), ID_TEXT),
        "name": form_field("signatories-0-signer_name", "Dana Delegate"),
        "title": form_field("signatories-0-signer_title", "Chair"),
        "second": form_field("signatories-1-organisation", other, st.just(own), ID_TEXT),
        "second_name": form_field("signatories-1-signer_name", "Olly Other"),
    }, pages=_location)


def recorded(w):
    """An archived statement signed by Dana's organisation, and one of another organisation's."""
    from app.publishing import archive

    made = archive.record_archived_statement(
        w.dana, text=f"Archived {next(_serial)}\n\n1. Recorded words.\n", coordinator_organisation=w.own,
        signatories=[archive.Signatory(w.own, "Dana Delegate", "Chair")], publication_date=now().date(), now=now())
    far = archive.record_archived_statement(
        w.sam, text=f"Far archive {next(_serial)}\n\n1. Far words.\n", coordinator_organisation=w.far,
        signatories=[archive.Signatory(w.far, "Sam Stranger", "Chair")], publication_date=now().date(), now=now())
    db.session.commit()
    return {"recorded": made.publication.recorded_signatures[0].id, "slug": made.publication.slug,
            "far": far.publication.recorded_signatures[0].id}


@endpoint("POST", "/archive/recorded/<int:recorded_id>", recorded, renew=False)
def _(w, s, data):
    rid = data.draw(path_id(s["recorded"], s["far"]))
    return web(w, data, f"/archive/recorded/{rid}", {
        "answer": form_field(f"r{rid}-answer", "dispute", st.sampled_from(["confirm", "yes", ""])),
        "reason": form_field(f"r{rid}-reason", "We never signed this."),
    }, prefixes=(f"r{rid}",), pages=(f"/p/{s['slug']}", "/archive/recorded"))


@endpoint("POST", "/api/v1/statements/archive", renew=False)
def _(w, s, data):
    good = [{"organisation": "own", "signer_name": "Dana Delegate", "signer_title": "Chair"}]
    body = json_object(
        text=field(f"API archive {next(_serial)}\n\n1. One.\n"), publication_date=field("2020-05-01", DAY),
        coordinator_organisation=field("own", st.just("far"), st.just("nope")),
        signatories=field(good, st.lists(st.fixed_dictionaries({
            "organisation": st.sampled_from(["own", "far", "nope"]), "signer_name": hostile_text()}), max_size=3)),
    )
    return api(w, data, "POST", "/statements/archive", body,
               pages=lambda r: [f"/p/{(r.get_json(silent=True) or {}).get('slug')}"])


@endpoint("POST", "/api/v1/recorded-signatures/<int:recorded_id>", recorded, renew=False)
def _(w, s, data):
    rid = data.draw(path_id(s["recorded"], s["far"]))
    body = json_object(confirm=field(False, st.just(True)), reason=field("We never signed this."))
    return api(w, data, "POST", f"/recorded-signatures/{rid}", body, pages=(f"/p/{s['slug']}",))


@endpoint("PATCH", "/api/v1/organisations/<slug>", managed)
def _(w, s, data):
    slug = data.draw(slug_choice(s["slug"]))
    return api(w, data, "PATCH", f"/organisations/{slug}", json_object(
        name=field("Managed, renamed"), name_in_statements=field("the Managed Organisation (MO)"),
        short_name=field("MO"), country=field("Chile"),
    ), pages=(f"/o/{s['slug']}", "/o/"))


# --- languages and translations (issue 14) -------------------------------------------------------------


def translating_scene(w):
    """An amending statement with the target language "de", and the source revision of each paragraph."""
    from app.translating import operations as translating

    scene = amending_scene(w)
    statement = w.get(scene)
    translating.add_language(statement, w.dana, "de", now=now())
    db.session.commit()
    state = translating.translation_state(w.get(scene), "de")
    return {**scene, "revisions": {p.paragraph_id: p.source_revision_id for p in state.paragraphs},
            "title": state.source_title}


def translated_publication(w):
    """A published statement with a complete German translation, not yet published."""
    from app.translating import operations as translating

    scene = published(w)
    translating.add_language(w.get(scene), w.dana, "de", now=now())
    db.session.commit()
    state = translating.translation_state(w.get(scene), "de")
    translating.save_translation(w.get(scene), w.dana, "de", title="Titel", title_source=state.source_title,
                                 paragraphs={p.paragraph_id: (f"Absatz {p.number}.", p.source_revision_id)
                                             for p in state.paragraphs}, now=now())
    db.session.commit()
    return scene


LANGUAGES = st.sampled_from(["de", "es", "fr-CA", "ar", "xx", "", "de_DE", "EN"])
TAGS = st.sampled_from(["de", "de", "fr", "xx", "de-", "ar"])


def translation_fields(s) -> dict:
    pid, rid = next(iter(s["revisions"].items()))
    return {
        "save": form_field("save", "all", st.sampled_from(["title", str(pid), "x", "99999999999999"])),
        "title": form_field("title", "Flüsse für alle"),
        "title_source": form_field("title_source", s["title"]),
        "text": form_field(f"p{pid}", "Jeder Fluss hat eine Quelle."),
        "revision": form_field(f"r{pid}", str(rid), st.sampled_from(["0", "-1", "²", "x", "1" * 40])),
    }


@endpoint("POST", "/statements/<int:statement_id>/languages", amending_scene)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/languages", {
        "language": form_field("language", "de", LANGUAGES),
    }, pages=(f"/statements/{s['statement']}/languages",))


@endpoint("POST", "/statements/<int:statement_id>/languages/<language>/remove", translating_scene)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/languages/{data.draw(TAGS)}/remove", {},
               pages=(f"/statements/{s['statement']}/languages",))


@endpoint("POST", "/statements/<int:statement_id>/languages/<language>/publish", translated_publication)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/languages/{data.draw(TAGS)}/publish", {},
               pages=(f"/statements/{s['statement']}/languages",))


@endpoint("POST", "/statements/<int:statement_id>/translations/<language>", translating_scene)
def _(w, s, data):
    return web(w, data, f"/statements/{data.draw(sid(w, s))}/translations/{data.draw(TAGS)}",
               translation_fields(s), pages=(f"/statements/{s['statement']}/translations/de",))


@endpoint("POST", "/o/<slug>/names", managed)
def _(w, s, data):
    slug = data.draw(slug_choice(s["slug"]))
    return web(w, data, f"/o/{slug}/names", {
        "language": form_field("language", "de", LANGUAGES),
        "name": form_field("name_in_statements", "die Verwalteten"),
    }, pages=(f"/o/{s['slug']}/edit",))


@endpoint("POST", "/api/v1/statements/<int:statement_id>/languages", amending_scene)
def _(w, s, data):
    return api(w, data, "POST", f"/statements/{data.draw(sid(w, s))}/languages",
               json_object(language=field("de", LANGUAGES)), pages=(f"/statements/{s['statement']}/languages",))


@endpoint("DELETE", "/api/v1/statements/<int:statement_id>/languages/<language>", translating_scene)
def _(w, s, data):
    return api(w, data, "DELETE", f"/statements/{data.draw(sid(w, s))}/languages/{data.draw(TAGS)}",
               pages=(f"/statements/{s['statement']}/languages",))


@endpoint("PUT", "/api/v1/statements/<int:statement_id>/source-language", amending_scene)
def _(w, s, data):
    return api(w, data, "PUT", f"/statements/{data.draw(sid(w, s))}/source-language",
               json_object(language=field("fr", LANGUAGES)), pages=(f"/statements/{s['statement']}",))


@endpoint("PUT", "/api/v1/statements/<int:statement_id>/translations/<language>", translating_scene)
def _(w, s, data):
    pid, rid = next(iter(s["revisions"].items()))
    body = json_object(title=field("Flüsse für alle"), title_source=field(s["title"]),
                       paragraphs=field([{"id": pid, "revision_id": rid, "text": "Jeder Fluss hat eine Quelle."}],
                                        st.just([{"id": pid, "revision_id": 2**40, "text": "x"}]),
                                        st.just([{"id": pid, "revision_id": rid, "text": 5}])))
    return api(w, data, "PUT", f"/statements/{data.draw(sid(w, s))}/translations/{data.draw(TAGS)}", body,
               pages=(f"/statements/{s['statement']}/translations/de",))


@endpoint("POST", "/api/v1/statements/<int:statement_id>/translations/<language>/publish",
          translated_publication)
def _(w, s, data):
    return api(w, data, "POST", f"/statements/{data.draw(sid(w, s))}/translations/{data.draw(TAGS)}/publish",
               pages=(f"/statements/{s['statement']}/languages",))


@endpoint("PUT", "/api/v1/organisations/<slug>/names/<language>", managed)
def _(w, s, data):
    slug = data.draw(slug_choice(s["slug"]))
    return api(w, data, "PUT", f"/organisations/{slug}/names/{data.draw(TAGS)}",
               json_object(name_in_statements=field("die Verwalteten")), pages=(f"/o/{s['slug']}/edit",))


# --- the tests -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(_app):
    """One world per database for the whole module; emptied at the end."""
    _app.test_client_class = IsolatedClient
    with _app.app_context():
        yield World(_app).build()
        _empty_tables()
    _app.extensions.pop("concord_setup_done", None)


def test_every_state_changing_route_has_an_entry(_app):
    """Every rule and method of the URL map that can change something has an entry (or a reason not to)."""
    served = {(method, rule.rule) for rule in _app.url_map.iter_rules()
              for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}}
    missing = sorted(served - SPECS.keys() - EXCLUDED.keys())
    stale = sorted((SPECS.keys() | EXCLUDED.keys()) - served)
    assert not missing, "state-changing routes without a hostile-input entry:\n" + "\n".join(
        f"  {m} {r}" for m, r in missing)
    assert not stale, "entries for routes that no longer exist:\n" + "\n".join(f"  {m} {r}" for m, r in stale)


def run(world: World, key, examples: int) -> None:
    spec = SPECS[key]
    accepted_before = world.accepted.get(key, 0)

    @settings(HOSTILE, max_examples=examples)
    @given(data=st.data())
    def example(data):
        world.attempt(key, spec, data)

    try:
        example()
    finally:
        if spec.finish:
            spec.finish(world)
        db.session.rollback()
    assert world.accepted.get(key, 0) > accepted_before, \
        f"{key}: no request was accepted: the world does not let the input reach the checks"


KEYS = sorted(SPECS)
IDS = [f"{m} {r}" for m, r in KEYS]


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_hostile_input(world, key):
    """FAST examples: no 5xx, a refusal changes nothing, input is shown escaped."""
    run(world, key, FAST)


@pytest.mark.slow
@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_hostile_input_more(world, key):
    """SLOW examples of the same."""
    run(world, key, SLOW)


# --- query strings on every page ---------------------------------------------------------------------------
# The state-changing requests above carry hostile query strings too (World.attempt adds them); here every
# rule of the URL map that answers GET gets them, with its path filled with real ids, as Dana (web) or with
# her token (API). No answer may be a 500, none may show the input unescaped, no redirect may leave the site.


def page_values(w: World) -> dict:
    """Real values for every kind of path variable, built once per world."""
    from app.models import Notification, Publication

    values = w.scenes.get(("pages", "values"))
    if values is None:
        from app.translating import operations as translating

        scene = own_amendment(w)
        translating.add_language(w.get(scene), w.dana, "de", now=now())  # /translations/<language> pages
        db.session.commit()
        values = {
            "statement_id": scene["statement"], "amendment_id": scene["amendment"],
            "paragraph_id": scene["paragraphs"][0], "number": 1, "invitation_id": w.foreign["invitations"][0],
            "note_id": db.session.scalar(select(Notification.id).order_by(Notification.id)) or 1,
            "publication": db.session.scalar(select(Publication.slug).order_by(Publication.id)),
            "/invitations/": w.invitation_token(w.own, ["delegate"]), "/join/": w.join_token(draft(w)),
            "/reset/": w.reset_token(w.sam), "name": "20260101T000000-deadbeef.eml", "filename": "concord.css",
            "language": "de",
        }
        w.scenes[("pages", "values")] = values
        w.forget_state()
    return values


def page_path(w: World, rule) -> str:
    values = page_values(w)
    args = {}
    for name in rule.arguments:
        if name == "slug":
            args[name] = values["publication"] if rule.rule.startswith("/p/") else "own"
        elif name == "token":
            args[name] = next(v for k, v in values.items() if k.startswith("/") and rule.rule.startswith(k))
        else:
            assert name in values, f"{rule.rule}: no value for <{name}>: add one to page_values"
            args[name] = values[name]
    with w.app.test_request_context():
        return w.app.url_map.bind("concord.test").build(rule.endpoint, args)


def get_rules(app) -> list:
    return sorted((r for r in app.url_map.iter_rules() if "GET" in r.methods), key=lambda r: r.rule)


def page_client(world: World, rule):
    """Dana in a browser of her own for this rule (an invitation link logs out whoever opens it)."""
    return world.login(world.dana)


def get_page(world: World, rule, client, url: str):
    if rule.rule.startswith("/api/"):
        return world.app.test_client().get(url, headers={"Authorization": f"Bearer {world.dana_token}"})
    return client.http.get(url)


def check_page(world: World, rule, client, path: str, data) -> None:
    url = with_query(path, data.draw(QUERY))
    response = get_page(world, rule, client, url)
    name = f"GET {rule.rule}"
    counts = world.stats.setdefault(name, {})
    counts[response.status_code] = counts.get(response.status_code, 0) + 1
    assert response.status_code < 500, (name, url, response.status_code, response.get_data(as_text=True)[:800])
    world.check_escaped(name, url, response)
    check_same_site(name, url, response)


def run_pages(world: World, examples: int) -> None:
    for rule in get_rules(world.app):
        path, client = page_path(world, rule), page_client(world, rule)

        @settings(HOSTILE, max_examples=examples)
        @given(data=st.data())
        def example(data):
            check_page(world, rule, client, path, data)  # noqa: B023 - run at once, inside this iteration

        try:
            example()
        finally:
            db.session.rollback()


def test_hostile_query_strings_on_every_page(world):
    """FAST examples of hostile query strings on every GET rule: no 5xx, escaped, no redirect off the site."""
    run_pages(world, FAST)


@pytest.mark.slow
def test_hostile_query_strings_on_every_page_more(world):
    """SLOW examples of the same."""
    run_pages(world, SLOW)


# Every value below, in every parameter a view reads at once (random draws above rarely pair the one name a
# page reads with the one value that breaks it): numbers past the 32-bit columns, other scripts' digits,
# blanks, invalid UTF-8, markup, ways off the site.
SWEEP_VALUES = ["9" * 30, "-1", "2147483648", "0", "²", "١٢", " 7 ", "x", "", "\ud800", "//evil.example",
                "/\t/evil.example", "\\evil.example", MARKER + "<script>alert(1)</script>"]
SWEEP_NAMES = ["next", "after", "paragraph", "organisation", "status", "from", "to", "coordinator_organisation",
               "participants", "page", "format"]
# POSTs whose views read the query string, with a body that is refused, so that nothing changes.
SWEEP_POSTS = {"/login": {"email": "nobody@example.org", "password": "wrong"},
               "/statements/<int:statement_id>/paragraphs/new": {"text": ""},
               "/statements/<int:statement_id>/amendments/new": {"text": "", "submit": "x"}}


def sweep_urls(world: World, rule) -> list[str]:
    path = page_path(world, rule)
    urls = []
    kinds = ("modify", "insert", "delete") if "/amendments/new" in rule.rule else (None,)
    for value in SWEEP_VALUES:
        for kind in kinds:
            pairs = ([("kind", kind)] if kind else []) + [(name, value) for name in SWEEP_NAMES]
            urls.append(with_query(path, pairs))
    return urls


def test_every_query_parameter_with_every_nasty_value_on_every_page(world):
    """Deterministic sweep: each nasty value in every parameter at once, on every GET rule and on the POSTs
    that read the query string: no 5xx, escaped, no redirect off the site, refused POSTs change nothing."""
    for rule in get_rules(world.app):
        client = page_client(world, rule)
        for url in sweep_urls(world, rule):
            response = get_page(world, rule, client, url)
            assert response.status_code < 500, (rule.rule, url, response.status_code)
            world.check_escaped(f"GET {rule.rule}", url, response)
            check_same_site(f"GET {rule.rule}", url, response)
    before = world.state()
    for rule in (r for r in world.app.url_map.iter_rules() if r.rule in SWEEP_POSTS and "POST" in r.methods):
        client = world.anonymous() if rule.rule == "/login" else page_client(world, rule)
        for url in sweep_urls(world, rule):
            response = client.http.post(url, data=form_body([("csrf_token", client.csrf),
                                                             *SWEEP_POSTS[rule.rule].items()]),
                                        content_type="application/x-www-form-urlencoded")
            assert response.status_code < 500, (rule.rule, url, response.status_code)
            world.check_escaped(f"POST {rule.rule}", url, response)
            check_same_site(f"POST {rule.rule}", url, response)
    world.forget_state()
    assert world.state() == before


def test_every_page_gets_a_path_to_test(world):
    """Each GET rule's variables can be filled (a new kind of variable fails here, not silently)."""
    paths = [page_path(world, rule) for rule in get_rules(world.app)]
    assert len(paths) >= 60 and all(path.startswith("/") for path in paths)
    client = page_client(world, None)
    statuses = {path: client.http.get(path).status_code for path in paths if not path.startswith("/api/")
                and not path.startswith("/invitations/")}
    # The pages are reached as someone allowed to see them, not turned away at the door.
    assert sum(status == 200 for status in statuses.values()) >= 40, statuses


LOGIN_NEXT = [  # (next, where a browser then goes): after the browser's own normalisation, never off the site
    ("/statements/", "/statements/"), ("/%09/evil.example/x", "/"), ("/\t/evil.example/x", "/"),
    ("//evil.example", "/"), ("/\\evil.example", "/"), ("\\/evil.example", "/"), ("/%2F/evil.example", "/"),
    ("/%5C/evil.example", "/"), ("https://evil.example/", "/"), ("javascript:alert(1)", "/"),
    ("/%0D%0ASet-Cookie:%20x=1", "/Set-Cookie:%20x=1"), ("%20//evil.example", "/"),
    ("/o/?page=2#top", "/o/?page=2#top"),
    ("/%C3%A9", "/%C3%A9"), ("/\u00e9", "/%C3%A9"),
]


@pytest.mark.parametrize("target,expected", LOGIN_NEXT, ids=[t for t, _ in LOGIN_NEXT])
def test_login_next_stays_on_the_site(world, target, expected):
    """After login, ``next`` is followed only to a same-site path, as the browser would read it."""
    from urllib.parse import quote

    client = world.anonymous()
    body = form_body([("csrf_token", client.csrf), ("email", world.sam.email), ("password", factories.PASSWORD)])
    response = client.http.post(f"/login?next={quote(target, safe='%/')}", data=body,
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    check_same_site("login", target, response)
    assert response.headers["Location"] == expected


# --- bugs these tests found, now fixed: pinned so they stay fixed ---------------------------------------


def test_fixed_web_body_over_4mb(world):
    """A logged-in POST over 4 MB gets 413, not a 500 (the error page's layout must not read the body)."""
    body = form_body([("csrf_token", world.web.csrf), ("title", "x"), ("text", "a" * (4 * 1024 * 1024 + 1))])
    response = world.web.http.post("/statements/new", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_fixed_web_comment_huge_parent_id(world):
    """A comment's parent_id beyond 32 bits is refused cleanly and changes nothing."""
    scene = world.scene(("test", "comment"), Spec(None, own_amendment))
    before = world.state()
    body = form_body([("csrf_token", world.web.csrf), ("body", "Hi."), ("parent_id", "9" * 30)])
    response = world.web.http.post(f"/amendments/{scene['amendment']}/comments", data=body,
                                   content_type="application/x-www-form-urlencoded")
    assert response.status_code in (404, 422)
    world.forget_state()
    assert world.state() == before


FOUND_WEB = [  # (scene, path, form pairs): each was a 500 before
    (None, "/login", [("email", "a\x00@example.org"), ("password", "x")]),  # NUL: PostgreSQL refuses it
    ("managed", "/o/{slug}/members", [("add-csrf_token", "{csrf}"), ("add-email", "\x00"), ("add-roles", "delegate")]),
    ("draft", "/statements/{statement}/invite", [("contact_email", "a\x00@example.org")]),
    ("own_amendment", "/amendments/{amendment}/comments", [("body", "Hi."), ("parent_id", "²")]),  # isdigit, not int
    ("amending", "/statements/{statement}/amendments/new?kind=modify&paragraph=%C2%B2", [("text", "x")]),
    ("draft", "/statements/{statement}/paragraphs/new", [("text", "x"), ("after", "²")]),
    ("amending", "/statements/{statement}/freeze",  # no UTC equivalent: past datetime.max
     [("signing_deadline", "9999-12-31T23:59"), ("timezone", "Pacific/Pago_Pago")]),
    ("draft", "/statements/{statement}/open",
     [("decision_rule", "coordinator"), ("deadline", "9999-12-31T23:59"), ("timezone", "Pacific/Pago_Pago")]),
]
FOUND_API = [  # (scene, method, path, body)
    (None, "POST", "/statements", encode_json({"title": "T", "coordinator_organisation": "\x00"})),
    (None, "POST", "/statements", encode_json({"title": "T", "coordinator_organisation": "\ud800"})),
    (None, "POST", "/statements", b"[" * 100_000),  # RecursionError in the JSON parser
    ("managed", "POST", "/organisations/{slug}/members", encode_json({"email": "a\ud800@b.c", "roles": []})),
    (None, "POST", "/organisations/%00/members", encode_json({"email": "a@b.c", "roles": ["delegate"]})),
    (None, "POST", "/statements/import?coordinator_organisation=%00", b"Title\n\n1. One.\n"),
    ("amending", "POST", "/statements/{statement}/freeze", encode_json(
        {"signing_deadline": "9999-12-31T23:59:59-11:00"})),
    ("draft", "POST", "/statements/{statement}/open", encode_json(
        {"decision_rule": "coordinator", "amendment_deadline": "9999-12-31T23:59:59-11:00"})),
]
FOUND_SCENES = {"managed": managed, "draft": draft, "amending": amending_scene, "own_amendment": own_amendment}


@pytest.mark.parametrize("case", FOUND_WEB, ids=[c[1].split("?")[0] for c in FOUND_WEB])
def test_fixed_web(world, case):
    """Inputs that were 500s (found by the runs above): now refused, and nothing changed."""
    scene_name, path, pairs = case
    scene = world.scene(("fixed", scene_name), Spec(None, FOUND_SCENES[scene_name])) if scene_name else {}
    client = world.web if scene_name else world.anonymous()
    values = {**scene, "csrf": client.csrf}
    # The time zone deadlines are read in is the browser's (a cookie concord.js sets).
    zone = dict(pairs).get("timezone", "")
    client.http.set_cookie("concord_tz", zone, domain="concord.test")
    pairs = [(k, v) for k, v in pairs if k != "timezone"]
    before = world.state()
    call = world.form(client, path.format(**values), [(k, v.format(**values)) for k, v in pairs])
    response = world.send(call)
    client.http.set_cookie("concord_tz", "", domain="concord.test")
    assert response.status_code < 500 and world.refused(call, Spec(None, None), response), \
        (path, response.status_code)
    world.forget_state()
    assert world.state() == before


@pytest.mark.parametrize("case", FOUND_API, ids=[f"{c[1]} {c[2].split('?')[0]}" for c in FOUND_API])
def test_fixed_api(world, case):
    """JSON and query strings that were 500s: now 4xx, and nothing changed."""
    scene_name, method, path, body = case
    scene = world.scene(("fixed", scene_name), Spec(None, FOUND_SCENES[scene_name])) if scene_name else {}
    content_type = "text/plain" if "import" in path else "application/json"
    before = world.state()
    response = world.send(world.api(method, path.format(**scene), (body, content_type)))
    assert 400 <= response.status_code < 500, (path, response.status_code)
    world.forget_state()
    assert world.state() == before


def test_fingerprint_sees_a_change(world):
    """The snapshot that refusals are checked against is not blind: one changed field changes it."""
    before = fingerprint()
    db.session.execute(update(Organisation).where(Organisation.id == world.far.id).values(country="Elsewhere"))
    db.session.commit()
    changed = fingerprint()
    db.session.execute(update(Organisation).where(Organisation.id == world.far.id).values(country=""))
    db.session.commit()
    assert changed != before
    assert fingerprint() == before


def test_fixed_huge_path_id(world):
    """A path id beyond 32 bits is a 404, not a database overflow."""
    response = world.send(world.api("GET", f"/statements/{'9' * 30}"))
    assert response.status_code == 404


def test_report_counts(world):
    """Prints how many examples each endpoint got in this run, by status (-s shows it)."""
    if world.stats:
        total = sum(sum(v.values()) for v in world.stats.values())
        print(f"\nhostile input: {total} requests to {len(world.stats)} endpoints (endpoint: {{status: count}}):\n"
              + "\n".join(f"  {k}: {dict(sorted(v.items()))}" for k, v in sorted(world.stats.items())),
              file=sys.stderr)
