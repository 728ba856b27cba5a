"""The next view after any change shows it (promise 9), whoever made the change and whoever looks.

Pages answer ``304 Not Modified`` to a browser that sends back their ETag; a 304 is only right when
the page would be exactly what the browser already has. For every change path (every rule that
changes a statement, renames, membership and role changes, the command line, a deadline passing)
each viewer reads every page of the statement before and after: a conditional GET with the old
ETag may answer 304 only if the page rendered afresh is the same as before, and each change must
show somewhere (else the case would prove nothing). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.accounts import operations as accounts
from app.amending import operations as amending
from app.amending import suggestions as suggesting
from app.drafting import operations as drafting
from app.extensions import db
from app.models import Amendment, Notification, Organisation, Signature, Statement, User
from app.organisations import operations as orgs
from app.participation import invitations as participation
from app.participation import withdrawals
from app.publishing import endorsement
from app.publishing import publication as publishing
from app.signing import operations as signing
from tests import factories
from tests.conftest import Browser

# Tokens in forms are signed afresh on each render; what a page shows is everything else.
_VOLATILE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+|(value=")[^"]+("[^>]*name="csrf_token")')


def now() -> datetime:
    return datetime.now(UTC)


def shown(response) -> str:
    return _VOLATILE.sub(lambda m: (m.group(1) or m.group(2)) + "…" + (m.group(3) or ""),
                         response.get_data(as_text=True))


@dataclass
class World:
    app: object
    people: dict = field(default_factory=dict)
    browsers: dict = field(default_factory=dict)

    def build(self, phase: str) -> World:
        invited = phase == "invited"  # a draft to which the Distant Miners Guild is invited
        phase = "draft" if invited else phase
        self.admin = factories.admin(name="Ada Admin")
        self.hwu = factories.organisation("Harbour Workers Union", slug="hwu", short_name="HWU")
        self.gva = factories.organisation("Green Valleys Alliance", slug="gva", short_name="GVA")
        self.tnn = factories.organisation("Tenants Network", slug="tnn", short_name="TNN")
        self.dmg = factories.organisation("Distant Miners Guild", slug="dmg", short_name="DMG")
        self.coordinator = factories.member(self.hwu, "delegate", "signatory", "admin", name="Carla Coordinator")
        self.gva_delegate = factories.member(self.gva, "delegate", "admin", name="Dora Delegate")
        self.gva_signatory = factories.member(self.gva, "signatory", name="Gus Green")
        self.tnn_member = factories.member(self.tnn, "delegate", "signatory", "admin", name="Tom Tenant")
        self.dmg_admin = factories.member(self.dmg, "admin", "delegate", name="Mia Miner")
        statement = factories.statement(self.coordinator, self.hwu, participants=[self.gva, self.tnn],
                                        paragraphs=("Rivers need care.", "Towns need trains.",
                                                    "We meet again in spring."))
        self.sid = statement.id
        self.pids = [p.id for p in drafting.live_paragraphs(statement)]
        self.people = {"coordinator": self.coordinator, "delegate": self.gva_delegate,
                       "signatory": self.tnn_member, "admin": self.admin}
        self.amendment_id = None
        if invited:
            self.rule(participation.invite_organisation, self.st(), self.coordinator, organisation=self.dmg,
                      now=now())
        if phase != "draft":
            self.rule(amending.open_for_amendments, self.st(), self.coordinator, rule="majority",
                      deadline=now() + timedelta(days=7), now=now())
            self.amendment_id = self.rule(amending.propose, self.st(), self.gva_delegate, self.gva,
                                          kind="modify", paragraph_id=self.pids[0],
                                          text="Rivers need care and clean banks.", now=now()).id
            self.rule(amending.take_position, self.amendment(), self.tnn_member, self.tnn, "support", now=now())
        if phase in ("signing", "published"):
            self.rule(signing.freeze, self.st(), self.coordinator, now=now())
            for user, org in ((self.coordinator, self.hwu), (self.gva_signatory, self.gva)):
                self.sign(user, org)
        if phase == "published":
            self.sign(self.tnn_member, self.tnn)
            self.rule(publishing.publish, self.st(), self.coordinator, publication_date=None, now=now())
        for name, user in self.people.items():
            browser = Browser(self.app.test_client())
            browser.login(user.email)
            browser.get("/")  # shows the welcome message once
            self.browsers[name] = browser
        return self

    def rule(self, action, *args, **kwargs):
        result = action(*args, **kwargs)
        db.session.commit()
        return result

    def st(self) -> Statement:
        db.session.expire_all()
        return db.session.get(Statement, self.sid)

    def amendment(self) -> Amendment:
        db.session.expire_all()
        return db.session.get(Amendment, self.amendment_id)

    def sign(self, user: User, org: Organisation) -> Signature:
        return self.rule(signing.sign, self.st(), user, org, signer_name=user.name, signer_title="Chair",
                         authorised=True, password=factories.PASSWORD,
                         version_sha256=self.st().frozen_version.sha256, now=now())

    def pages(self) -> list[str]:
        paths = [f"/statements/{self.sid}", f"/statements/{self.sid}/history", f"/statements/{self.sid}/audit",
                 f"/statements/{self.sid}/blame"]
        if self.amendment_id:
            paths += [f"/amendments/{self.amendment_id}", f"/statements/{self.sid}/amendments"]
        return paths + [f"/statements/{self.sid}/merged"]


def _reinvite(w: World) -> None:
    w.rule(withdrawals.withdraw_organisation, w.st(), w.tnn_member, w.tnn, reason="Not now.", now=now())
    w.rule(withdrawals.reinvite, w.st(), w.coordinator, w.tnn, now=now())


def _invite_and_accept(w: World) -> None:
    invitation = w.rule(participation.invite_organisation, w.st(), w.coordinator, organisation=w.dmg, now=now())
    w.rule(participation.respond, invitation, w.dmg_admin, accept=True, now=now())


def _accept(w: World) -> None:
    w.rule(amending.take_position, w.amendment(), w.gva_delegate, w.gva, "support", now=now())
    w.rule(amending.accept, w.amendment(), w.coordinator, text_version=None, now=now())


def _suggest(w: World, rationale: str = "More fish.") -> object:
    return w.rule(suggesting.suggest, w.amendment(), w.tnn_member, w.tnn, text="Rivers need care, clean banks "
                  "and fish.", rationale=rationale, now=now())
def _accept_many(w: World) -> None:
    """The coordinator accepts from the merged view: several amendments, one version."""
    w.rule(amending.take_position, w.amendment(), w.gva_delegate, w.gva, "support", now=now())
    other = w.rule(amending.propose, w.st(), w.tnn_member, w.tnn, kind="insert", paragraph_id=w.pids[2],
                   text="See you by the river.", now=now())
    for user, org in ((w.gva_delegate, w.gva), (w.tnn_member, w.tnn)):
        db.session.expire_all()
        w.rule(amending.take_position, db.session.get(Amendment, other.id), user, org, "support", now=now())
    w.rule(amending.accept_many, w.st(), [w.amendment_id, other.id], w.coordinator, now=now())


def _revoke(w: World) -> None:
    signature = db.session.scalar(select(Signature).where(Signature.organisation_id == w.gva.id,
                                                          Signature.status == "valid"))
    w.rule(signing.revoke, signature, w.gva_signatory, now=now())


def _rename_organisation(w: World) -> None:
    w.rule(orgs.update_organisation, w.gva_delegate, w.gva, name="Green Valleys Federation", short_name="GVF",
           country="")


def _role_change(w: World) -> None:
    w.rule(orgs.set_member_roles, w.gva_delegate, w.gva, w.gva_delegate, ["admin"])  # no longer a delegate


def _notification(w: World) -> None:
    """Someone else's act that tells every viewer something: their unread count goes up."""
    w.rule(amending.propose, w.st(), w.tnn_member, w.tnn, kind="insert", paragraph_id=None,
           text="A new opening line.", now=now())


def _command_line(w: World) -> None:
    """The platform admin made a delegate of a participant from the command line: they may propose now."""
    result = w.app.test_cli_runner().invoke(args=["orgs", "add-member", "tnn", w.admin.email, "--role", "delegate"])
    assert result.exit_code == 0, result.output


def _time_zone(w: World) -> None:
    """The platform admin (who appears on none of the pages) chooses a time zone: every date on their
    pages is now shown in it."""
    w.rule(accounts.set_timezone, db.session.get(User, w.admin.id), "Asia/Tokyo")


# (phase, change, words the coordinator's statement or amendment page shows afterwards)
CHANGES: dict[str, tuple[str, Callable[[World], None], str]] = {
    "retitle": ("draft", lambda w: w.rule(drafting.retitle, w.st(), w.coordinator, "Rivers and Towns",
                                          now=now()), "Rivers and Towns"),
    "edit paragraph": ("draft", lambda w: w.rule(drafting.edit_paragraph, w.st(), w.coordinator, w.pids[1],
                                                 "Towns need night trains.", base_revision_id=None, now=now()),
                       "night trains"),
    "insert paragraph": ("draft", lambda w: w.rule(drafting.insert_paragraph, w.st(), w.coordinator,
                                                   "Forests need rain.", after_id=w.pids[0], now=now()),
                         "Forests need rain."),
    "move paragraph": ("draft", lambda w: w.rule(drafting.move_paragraph, w.st(), w.coordinator, w.pids[2],
                                                 "up", now=now()), "Version 2"),
    "delete paragraph": ("draft", lambda w: w.rule(drafting.delete_paragraph, w.st(), w.coordinator, w.pids[2],
                                                   base_revision_id=None, now=now()), "Version 2"),
    "open": ("draft", lambda w: w.rule(amending.open_for_amendments, w.st(), w.coordinator, rule="consensus",
                                       deadline=None, now=now()), "Open for amendments"),
    "invite": ("draft", lambda w: w.rule(participation.invite_organisation, w.st(), w.coordinator,
                                         organisation=w.dmg, now=now()), "Invited, waiting"),
    "invitation accepted": ("amending", _invite_and_accept, "Distant Miners Guild</a>"),
    "propose": ("amending", lambda w: w.rule(amending.propose, w.st(), w.tnn_member, w.tnn, kind="modify",
                                             paragraph_id=w.pids[1], text="Towns need buses.", now=now()),
                "open amendment<span class=\"visually-hidden\"> for ¶ 2"),
    "edit amendment": ("amending", lambda w: (
        w.rule(amending.propose, w.st(), w.gva_delegate, w.gva, kind="retitle", text="Rivers first", now=now()),
        w.rule(amending.edit_amendment, db.session.scalar(select(Amendment).where(Amendment.kind == "retitle")),
               w.gva_delegate, text="Rivers, first", rationale="", now=now())), "1 open amendment"),
    "withdraw amendment": ("amending", lambda w: w.rule(amending.withdraw_amendment, w.amendment(),
                                                        w.gva_delegate, now=now()), "withdrawn"),
    "cosponsor": ("amending", lambda w: w.rule(amending.cosponsor, w.amendment(), w.tnn_member, w.tnn, now=now()),
                  "co-sponsored by"),
    "position": ("amending", lambda w: w.rule(amending.take_position, w.amendment(), w.gva_delegate, w.gva,
                                              "oppose", "Too long.", now=now()), "Too long."),
    "comment": ("amending", lambda w: w.rule(amending.add_comment, w.amendment(), w.tnn_member,
                                             "Banks, yes.", now=now()), "Banks, yes."),
    "accept": ("amending", _accept, "clean banks"),
    "suggest": ("amending", _suggest, "More fish."),
    "adopt suggestion": ("amending", lambda w: w.rule(suggesting.adopt, _suggest(w), w.gva_delegate, now=now()),
                         "suggestion-adopted"),
    "decline suggestion": ("amending", lambda w: w.rule(suggesting.decline, _suggest(w), w.gva_delegate,
                                                        reason="Keep it short.", now=now()), "Keep it short."),
    "withdraw suggestion": ("amending", lambda w: w.rule(suggesting.withdraw, _suggest(w), w.tnn_member, now=now()),
                            "suggestion-withdrawn"),
    "accept several": ("amending", _accept_many, "See you by the river."),
    "reject": ("amending", lambda w: w.rule(amending.reject, w.amendment(), w.coordinator, reason="Not now.",
                                            now=now()), "Not now."),
    "freeze": ("amending", lambda w: w.rule(signing.freeze, w.st(), w.coordinator, now=now()), "Frozen for signing"),
    "withdraw organisation": ("amending", lambda w: w.rule(
        withdrawals.withdraw_organisation, w.st(), w.tnn_member, w.tnn, reason="Not for us.", now=now()),
        "Not for us."),
    "reinvite": ("amending", _reinvite, "Tenants Network</a>"),
    "withdraw statement": ("amending", lambda w: w.rule(signing.withdraw_statement, w.st(), w.coordinator,
                                                        reason="Overtaken.", now=now()), "withdrawn"),
    "deadline passes": ("amending", None, "Propose"),
    "sign": ("signing", lambda w: w.sign(w.tnn_member, w.tnn), "3 of 3"),
    "revoke": ("signing", _revoke, "1 of 3"),
    "reopen": ("signing", lambda w: w.rule(signing.reopen, w.st(), w.coordinator, now=now()), "Open for amendments"),
    "publish": ("signing", lambda w: (w.sign(w.tnn_member, w.tnn), w.rule(
        publishing.publish, w.st(), w.coordinator, publication_date=None, now=now())), "Its permanent public address"),
    "endorse": ("published", lambda w: w.rule(endorsement.add_endorsement, w.st(), w.coordinator, w.dmg,
                                              endorsed_on=now().date(), now=now()), ""),
    "rename organisation": ("amending", _rename_organisation, "Green Valleys Federation"),
    "rename an invited organisation": ("invited", lambda w: w.rule(
        orgs.update_organisation, w.dmg_admin, w.dmg, name="Distant Miners Federation"), "Distant Miners Federation"),
    "role change": ("amending", _role_change, ""),
    "new notification": ("amending", _notification, ""),
    "command line": ("amending", _command_line, ""),
    "time zone": ("amending", _time_zone, ""),
}


@pytest.mark.parametrize("name", list(CHANGES))
def test_the_next_view_of_every_page_shows_a_change(app, monkeypatch, name):
    """After the change, no viewer gets 304 for a page that now differs, and the change shows."""
    phase, change, words = CHANGES[name]
    w = World(app).build(phase)
    before = {}
    for viewer, browser in w.browsers.items():
        for path in w.pages():
            response = browser.get(path)
            assert response.status_code == 200, (viewer, path, response.status_code)
            before[viewer, path] = (response.headers.get("ETag"), shown(response))
    if change is None:  # time passes: a week and a day later the deadline is behind us
        later = now() + timedelta(days=8)
        for module in ("app.web", "app.web.statements", "app.web.amendments"):
            monkeypatch.setattr(f"{module}.now", lambda: later)
    else:
        change(w)
    db.session.rollback()
    differed = set()
    for viewer, browser in w.browsers.items():
        for path in w.pages():
            etag, old = before[viewer, path]
            fresh = browser.get(path)
            if fresh.status_code == 404:
                continue  # not there any more for this viewer (a role went away): nothing stale is shown
            now_shown = shown(fresh)
            if now_shown != old:
                differed.add((viewer, path))
            if etag:
                revalidated = browser.get(path, headers={"If-None-Match": etag})
                if revalidated.status_code == 304:
                    assert now_shown == old, f"{viewer} got 304 for {path}, which changed after {name}"
                else:
                    assert revalidated.status_code == 200
    assert differed, f"{name} changed nothing any page shows: the case proves nothing"
    if words:
        coordinator = w.browsers["coordinator"]
        pages = [shown(coordinator.get(p)) for p in w.pages()
                 if p == f"/statements/{w.sid}" or p.startswith("/amendments/")]
        assert any(words in page for page in pages), f"{name}: {words!r} not shown"
    if name == "deadline passes":  # the delegate's buttons to propose went away: a 304 would have kept them
        assert (("delegate", f"/statements/{w.sid}") in differed)
    if name == "time zone":
        assert ("admin", f"/statements/{w.sid}") in differed and ("admin", f"/amendments/{w.amendment_id}") in differed
    if name == "new notification":
        assert all(db.session.scalar(select(Notification.id).where(Notification.user_id == u.id))
                   for u in (w.coordinator, w.gva_delegate))


def test_an_unchanged_page_is_not_sent_again(app):
    """The ETag of the statement and amendment pages is stable while nothing changes: 304 with no body."""
    w = World(app).build("amending")
    browser = w.browsers["delegate"]
    for path in (f"/statements/{w.sid}", f"/amendments/{w.amendment_id}"):
        first = browser.get(path)
        etag = first.headers["ETag"]
        assert first.headers["Cache-Control"] == "private, no-cache" and "Cookie" in first.headers["Vary"]
        again = browser.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b""
        other = w.browsers["signatory"].get(path, headers={"If-None-Match": etag})
        assert other.status_code == 200  # another viewer's page is not this one


def test_the_first_page_after_logging_in_is_revalidated_by_its_own_etag(app):
    """The first page of a new session makes the session's form token while it renders: its ETag names
    that token already, so the next view of it is a 304, not a second full page."""
    w = World(app).build("amending")
    browser = Browser(app.test_client())
    browser.login(w.gva_delegate.email)
    for path in (f"/statements/{w.sid}", f"/amendments/{w.amendment_id}"):
        first = browser.get(path)
        assert first.status_code == 200
        assert browser.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_a_session_ended_elsewhere_does_not_get_a_304(app):
    """Logging in again (a new session) or being logged out never revalidates a page of the old session."""
    w = World(app).build("amending")
    browser = w.browsers["delegate"]
    path = f"/statements/{w.sid}"
    etag = browser.get(path).headers["ETag"]
    accounts.end_all_sessions(db.session.get(User, w.gva_delegate.id))
    db.session.commit()
    response = browser.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
