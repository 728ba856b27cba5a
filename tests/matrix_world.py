"""The world of the permission matrix: actors, one statement per phase, and a way to ask as each actor."""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache

from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select

from app.accounts import operations as accounts
from app.amending import operations as amending
from app.amending import suggestions as suggesting
from app.drafting import operations as drafting
from app.extensions import db
from app.models import Notification, Publication
from app.participation import invitations as participation
from app.publishing import archive
from app.publishing import publication as publishing
from app.signing import operations as signing
from app.translating import operations as translating
from app.web.auth import INVITATION_SALT, RESET_SALT
from app.web.participation import JOIN_SALT
from tests import factories

ACTORS = ("anonymous", "nobody", "delegate", "signatory", "other_admin", "coordinator", "admin")
PHASES = ("draft", "amending", "signing", "published")
CSRF_RE = re.compile(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"')
# Written by every authenticated API request: not a change the request asked for.
VOLATILE = {("api_tokens", "last_used_at")}
PARAGRAPHS = ("Every river has a source.", "Every source needs care.", "We will meet after the floods.")


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Scene:
    """One statement in one phase, with a real value for every URL parameter about it."""

    phase: str
    statement_id: int
    slug: str
    paragraph_id: int
    invitation_id: int
    join_token: str
    amendment_id: int | None = None
    signature_id: int | None = None
    suggestion_id: int | None = None


@dataclass
class World:
    app: object
    users: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)
    scenes: dict = field(default_factory=dict)
    disposable: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)

    # --- building ------------------------------------------------------------------

    def build(self) -> World:
        self.users["admin"] = factories.admin(name="Platform Admin")
        self.hwu = factories.organisation("Harbour Workers Union", slug="hwu", short_name="HWU")
        self.gva = factories.organisation("Green Valleys Alliance", slug="gva", short_name="GVA")
        self.tnn = factories.organisation("Tenants Network", slug="tnn", short_name="TNN")
        self.dmg = factories.organisation("Distant Miners Guild", slug="dmg")
        self.users["nobody"] = factories.user(name="Nadia Nobody")
        self.users["delegate"] = factories.member(self.gva, "delegate", name="Dora Delegate")
        self.users["signatory"] = factories.member(self.gva, "signatory", name="Gus Green")
        self.users["other_admin"] = factories.member(self.dmg, "admin", name="Olga Outsider")
        self.users["coordinator"] = factories.member(self.hwu, "delegate", name="Carla Coordinator")
        self.sig_hwu = factories.member(self.hwu, "signatory", name="Hana Harbour")
        self.sig_tnn = factories.member(self.tnn, "signatory", name="Tom Tenant")
        self.spare = factories.member(self.gva, "delegate", name="Spare Member")
        for actor, user in self.users.items():
            self.tokens[actor] = accounts.create_api_token(user, "matrix")[1]
        spare_token, _ = accounts.create_api_token(self.users["delegate"], "spare")
        invitation = accounts.create_invitation(
            self.users["admin"], "invitee@example.net", organisation=None, roles=[], make_admin=False,
            now=now(), max_age=self.app.config["INVITATION_MAX_AGE"])
        # Into gva: the platform admin manages it on the admin pages and on gva's members page alike.
        managed = accounts.create_invitation(
            self.users["admin"], "member@example.net", organisation=self.gva, roles=["delegate"],
            now=now(), max_age=self.app.config["INVITATION_MAX_AGE"])
        db.session.commit()
        for phase in PHASES:
            self.scenes[phase] = self.scene(phase)
        recorded = archive.record_archived_statement(  # an archived statement, signed by hwu and gva
            self.users["coordinator"], text="Matrix archive\n\n1. Recorded words.\n", coordinator_organisation=self.hwu,
            signatories=[archive.Signatory(self.hwu, "Hana Harbour", "Chair"),
                         archive.Signatory(self.gva, "Gus Green", "Chair")],
            publication_date=date(2020, 1, 1), now=now())
        db.session.commit()
        signatory = self.users["signatory"]
        note = db.session.scalar(select(Notification.id).where(Notification.user_id == signatory.id)
                                 .order_by(Notification.id))
        secret = self.app.config["SECRET_KEY"]
        self.values = {
            "token_id": spare_token.id, "note_id": note, "user_id": self.spare.id,
            "org_slug": self.gva.slug, "organisation_id": self.tnn.id, "number": 1, "language": "de",
            "invitation_token": URLSafeTimedSerializer(secret, salt=INVITATION_SALT).dumps(
                {"i": invitation.id, "n": invitation.nonce}),
            "spare_email": self.spare.email, "invitation_id": managed.id,
            "name": "20260101T000000-deadbeef.eml",
            "recorded_id": recorded.publication.recorded_signatures[1].id,
            "reset_token": URLSafeTimedSerializer(secret, salt=RESET_SALT).dumps(
                {"u": self.spare.id, "f": accounts.password_fingerprint(self.spare)}),
        }
        for actor in ACTORS:
            self.login(actor)
        return self

    def scene(self, phase: str) -> Scene:
        """A new statement, brought to ``phase`` through the rules."""
        coordinator, delegate = self.users["coordinator"], self.users["delegate"]
        statement = drafting.create_statement(
            coordinator, title=f"Matrix statement {phase} {len(self.scenes) + len(self.disposable)}",
            coordinator_organisation=self.hwu, participants=[self.gva, self.tnn], paragraphs=PARAGRAPHS,
            now=now())
        translating.add_language(statement, coordinator, "de", now=now())  # every scene has a target language
        invited = participation.invite_organisation(statement, coordinator, organisation=self.dmg, now=now())
        contact = participation.invite_organisation(
            statement, coordinator, contact_email=f"contact-{statement.id}@example.net", now=now())
        db.session.commit()
        paragraph_id = drafting.live_paragraphs(statement)[0].id
        made = Scene(phase, statement.id, statement.slug, paragraph_id, invited.id,
                     URLSafeSerializer(self.app.config["SECRET_KEY"], salt=JOIN_SALT).dumps(
                         {"s": contact.id, "n": contact.nonce}))
        if phase == "draft":
            return made
        amending.open_for_amendments(statement, coordinator, rule="coordinator", deadline=None, now=now())
        amendment = amending.propose(statement, delegate, self.gva, kind="modify", paragraph_id=paragraph_id,
                                     text="Every river has a source and a mouth.", now=now())
        amending.add_comment(amendment, delegate, "A first comment.", now=now())
        db.session.commit()
        made.amendment_id = amendment.id
        made.suggestion_id = suggesting.suggest(amendment, coordinator, self.hwu, now=now(),
                                                text="Every river has a source, a mouth and banks.").id
        db.session.commit()
        if phase == "amending":
            return made
        signing.freeze(statement, coordinator, now=now())
        db.session.commit()
        made.signature_id = self.sign(statement, self.users["signatory"], self.gva)
        if phase == "published":
            self.sign(statement, self.sig_hwu, self.hwu)
            self.sign(statement, self.sig_tnn, self.tnn)
            publishing.publish(statement, coordinator, publication_date=None, now=now())
            db.session.commit()
            assert db.session.scalar(select(Publication.slug).where(Publication.statement_id == statement.id))
        return made

    def sign(self, statement, user, organisation) -> int:
        signature = signing.sign(statement, user, organisation, signer_name=user.name, signer_title="Chair",
                                 authorised=True, password=factories.PASSWORD,
                                 version_sha256=statement.frozen_version.sha256, now=now())
        db.session.commit()
        return signature.id

    def scene_for(self, key, phase: str, fresh: bool) -> Scene:
        """The shared scene of ``phase``, or one of its own for a route whose allowed call changes it."""
        if not fresh:
            return self.scenes[phase]
        if (key, phase) not in self.disposable:
            self.disposable[(key, phase)] = self.scene(phase)
        return self.disposable[(key, phase)]

    # --- asking ----------------------------------------------------------------------

    def login(self, actor: str) -> None:
        """A session cookie and its form token for ``actor``; logging in itself is tested elsewhere."""
        client = self.app.test_client()
        user = self.users.get(actor)
        if user is not None:
            db.session.refresh(user)
            with client.session_transaction() as session:
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
        page = client.get("/login" if user is None else "/account/")
        match = CSRF_RE.search(page.get_data(as_text=True))
        assert match, f"no form token for {actor} (status {page.status_code})"
        name = self.app.config["SESSION_COOKIE_NAME"]
        cookie = client.get_cookie(name, domain=self.app.config["SERVER_NAME"]) or client.get_cookie(name)
        assert cookie is not None, f"no session cookie for {actor}"
        self.sessions[actor] = (f"{name}={cookie.value}", match.group(1))

    def web(self, actor: str, method: str, url: str, data: dict | None, prefixes=()):
        """Send a request as ``actor`` with its session; responses never change the stored cookie."""
        cookie, token = self.sessions[actor]
        client = self.app.test_client(use_cookies=False)
        form = None
        if method != "GET":
            form = {"csrf_token": token, **{f"{p}-csrf_token": token for p in prefixes}, **(data or {})}
        return client.open(url, method=method, data=form, headers={"Cookie": cookie})

    def api(self, actor: str, method: str, url: str, body):
        client = self.app.test_client(use_cookies=False)
        headers = {}
        if actor != "anonymous":
            headers["Authorization"] = f"Bearer {self.tokens[actor]}"
        if isinstance(body, str):
            return client.open(url, method=method, data=body.encode(), content_type="text/plain",
                               headers=headers)
        return client.open(url, method=method, json=body, headers=headers)


@cache
def _dump_queries() -> list[str]:
    quote = db.engine.dialect.identifier_preparer.quote
    queries = []
    for table in db.metadata.sorted_tables:
        columns = ", ".join(quote(c.name) for c in table.columns if (table.name, c.name) not in VOLATILE)
        order = ", ".join(quote(c.name) for c in table.primary_key.columns)
        queries.append(f"SELECT {columns} FROM {quote(table.name)} ORDER BY {order}")
    return queries


def fingerprint() -> str:
    """A hash of every row of every table (but for columns that reading writes)."""
    db.session.rollback()
    connection = db.session.connection()
    digest = hashlib.sha256()
    for query in _dump_queries():
        rows = connection.exec_driver_sql(query).all()
        digest.update(f"{query}:{len(rows)}:{rows!r}".encode())
    db.session.rollback()
    return digest.hexdigest()


@contextmanager
def built(app):
    """A world on ``app``'s database for a whole test module, emptied at the end."""
    from tests.conftest import IsolatedClient, _empty_tables

    app.test_client_class = IsolatedClient
    with app.app_context():
        yield World(app).build()
        _empty_tables()
    app.extensions.pop("concord_setup_done", None)
