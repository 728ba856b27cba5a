"""The world of the hostile-input tests: people allowed to do each thing, objects to do it to, and
objects of other statements and organisations to tamper with; sending one request and judging it.

One world per database serves every endpoint. Each endpoint gets a *scene* of its own (a statement in
the right phase, an amendment, an invitation, ...) built through the rules, so that its requests reach
the form and rule checks instead of stopping at a 403; after a request that the endpoint accepted, the
scene is built anew (or made usable again: a signature revoked, a statement reopened), so that the next
example is not refused merely because the last one succeeded.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select

from app.accounts import operations as accounts
from app.amending import operations as amending
from app.amending import suggestions as suggesting
from app.drafting import operations as drafting
from app.extensions import db
from app.models import Paragraph, Revision, SiteSetting, StatementInvitation, User
from app.participation import invitations as participation
from app.publishing import publication as publishing
from app.signing import operations as signing
from app.web.auth import INVITATION_SALT, RESET_SALT
from app.web.participation import JOIN_SALT
from tests import factories
from tests.hostile_strategies import (
    QUERY,
    RAW,
    RAW_SENT,
    _bytes,
    browser_location,
    form_body,
    multipart_body,
    with_query,
)
from tests.matrix_world import VOLATILE, _dump_queries

CSRF_RE = re.compile(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"')
FORM_ERROR = re.compile(r'class="field[^"]*has-error|class="form-errors"')
PARAGRAPHS = ("Rivers need care.", "Sources need care too.", "We meet after the floods.")
_serial = itertools.count(1)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Client:
    """A browser: cookies, and the form token of its session."""

    http: object
    csrf: str
    user: User | None = None


@dataclass
class Call:
    """One request an example makes, and how to judge it."""

    method: str
    url: str
    body: bytes = b""
    content_type: str = ""
    client: Client | None = None  # web
    token: str | None = None  # API
    pages: object = ()  # paths (or a function of the response giving them) shown to ``viewer`` after an
    # accepted request: the input must be escaped there
    viewer: Client | None = None


@dataclass
class Spec:
    """How to hostile-test one endpoint."""

    draw: Callable  # (world, scene, data) -> Call
    scene: Callable  # (world) -> dict
    writes_on: frozenset = frozenset({302})  # statuses at which the endpoint may change something
    refusing_flashes: tuple[str, ...] = ("error", "info")  # a redirect flashing these changed nothing
    renew: object = True  # after an accepted request: build the scene anew (True), keep it (False), or
    # a function (world, scene) -> scene that makes a cheaper new one
    prepare: Callable | None = None  # (world, scene) before each example
    finish: Callable | None = None  # (world) after the last example


@dataclass
class World:
    app: object
    scenes: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)  # endpoint -> status -> examples
    accepted: dict = field(default_factory=dict)  # endpoint key -> accepted examples
    _state: str | None = None

    # --- building ----------------------------------------------------------------------------

    def build(self) -> World:
        self.admin = factories.admin(name="Ada Admin")
        self.own = factories.organisation("Own Organisation", slug="own", short_name="OWN")
        self.other = factories.organisation("Other Organisation", slug="other")
        self.far = factories.organisation("Far Organisation", slug="far")
        self.dana = factories.member(self.own, "delegate", "signatory", "admin", name="Dana Delegate")
        self.olly = factories.member(self.other, "delegate", "signatory", "admin", name="Olly Other")
        self.sam = factories.member(self.far, "delegate", "signatory", "admin", name="Sam Stranger")
        self.dana_token = accounts.create_api_token(self.dana, "hostile")[1]
        self.admin_token = accounts.create_api_token(self.admin, "hostile")[1]
        sam_token, _ = accounts.create_api_token(self.sam, "elsewhere")
        db.session.commit()
        # Things of other statements and organisations, for tampered ids.
        far_draft = self.statement(self.sam, self.far, participants=[self.other])
        far_open = self.statement(self.sam, self.far, participants=[self.other], phase="amending")
        far_amendment = amending.propose(self.get(far_open), self.sam, self.far, kind="modify",
                                         paragraph_id=far_open["paragraphs"][0], text="Elsewhere.", now=now())
        db.session.commit()
        far_comment = amending.add_comment(far_amendment, self.sam, "Far away.", now=now())
        far_suggestion = suggesting.suggest(far_amendment, self.olly, self.other, text="Far elsewhere.", now=now())
        far_invitation = participation.invite_organisation(self.get(far_draft), self.sam, organisation=self.own,
                                                           now=now())
        participation.respond(far_invitation, self.dana, accept=False, now=now())  # answered already
        db.session.commit()
        far_signing = self.statement(self.sam, self.far, participants=[], phase="signing")
        far_signature = self.sign(far_signing, self.sam, self.far)
        published = self.statement(self.dana, self.own, participants=[], phase="signing")
        self.sign(published, self.dana, self.own)
        publishing.publish(self.get(published), self.dana, publication_date=None, now=now())
        db.session.commit()
        self.foreign = {
            "statements": [far_draft["statement"], far_open["statement"], far_signing["statement"],
                           published["statement"]],
            "paragraphs": far_open["paragraphs"] + published["paragraphs"],
            "revisions": far_open["revisions"],
            "amendments": [far_amendment.id],
            "comments": [far_comment.id],
            "suggestions": [far_suggestion.id],
            "signatures": [far_signature],
            "invitations": [far_invitation.id],
            "org_ids": [self.far.id, self.other.id],
            "users": [self.sam.id, self.olly.id],
            "tokens": [sam_token.id],
        }
        self.org_ids = {"own": self.own.id, "other": self.other.id, "far": self.far.id}
        self.web = self.login(self.dana)
        self.admin_web = self.login(self.admin)
        return self

    def get(self, scene: dict):
        from app.models import Statement

        db.session.rollback()
        return db.session.get(Statement, scene["statement"])

    def statement(self, coordinator: User, org, *, participants=None, phase: str = "draft") -> dict:
        """A statement of ``coordinator``'s brought to ``phase`` through the rules."""
        made = drafting.create_statement(
            coordinator, title=f"Hostile statement {next(_serial)}", coordinator_organisation=org,
            participants=[self.other] if participants is None else participants, paragraphs=PARAGRAPHS,
            now=now())
        db.session.commit()
        if phase in ("amending", "signing"):
            amending.open_for_amendments(made, coordinator, rule="coordinator", deadline=None, now=now())
            db.session.commit()
        if phase == "signing":
            signing.freeze(made, coordinator, now=now())
            db.session.commit()
        paragraphs = [p.id for p in drafting.live_paragraphs(made)]
        revisions = list(db.session.scalars(select(Revision.id).join(Paragraph, Revision.paragraph_id == Paragraph.id)
                                            .where(Paragraph.statement_id == made.id).order_by(Revision.id)))
        return {"statement": made.id, "slug": made.slug, "paragraphs": paragraphs, "revisions": revisions,
                "sha256": made.frozen_version.sha256 if made.frozen_version else ""}

    def sign(self, scene: dict, user: User, org) -> int:
        made = signing.sign(self.get(scene), user, org, signer_name=user.name, signer_title="Chair",
                            authorised=True, password=factories.PASSWORD, version_sha256=scene["sha256"],
                            now=now())
        db.session.commit()
        return made.id

    def amendment(self, scene: dict, user: User, org, text: str = "A better text.") -> dict:
        made = amending.propose(self.get(scene), user, org, kind="modify", paragraph_id=scene["paragraphs"][0],
                                text=text, now=now())
        db.session.commit()
        return {**scene, "amendment": made.id, "text_version": made.text_version}

    def invitation_token(self, org=None, roles=(), email: str | None = None) -> str:
        invitation = accounts.create_invitation(
            self.admin, email or f"invitee{next(_serial)}@example.net", organisation=org, roles=list(roles),
            make_admin=False, now=now(), max_age=self.app.config["INVITATION_MAX_AGE"])
        db.session.commit()
        return URLSafeTimedSerializer(self.app.config["SECRET_KEY"], salt=INVITATION_SALT).dumps(
            {"i": invitation.id, "n": invitation.nonce})

    def join_token(self, scene: dict) -> str:
        invitation = participation.invite_organisation(
            self.get(scene), self.dana, contact_email=f"contact{next(_serial)}@example.net", now=now())
        db.session.commit()
        return URLSafeSerializer(self.app.config["SECRET_KEY"], salt=JOIN_SALT).dumps(
            {"s": invitation.id, "n": invitation.nonce})

    def reset_token(self, user: User) -> str:
        db.session.rollback()
        user = db.session.get(User, user.id)
        return URLSafeTimedSerializer(self.app.config["SECRET_KEY"], salt=RESET_SALT).dumps(
            {"u": user.id, "f": accounts.password_fingerprint(user)})

    def pending_invitation(self, scene: dict) -> int:
        return db.session.scalar(select(StatementInvitation.id).where(
            StatementInvitation.statement_id == scene["statement"]).order_by(StatementInvitation.id.desc()))

    # --- clients ------------------------------------------------------------------------------

    def login(self, user: User) -> Client:
        """A browser with ``user``'s session (logging in itself is tested elsewhere) and its form token."""
        http = self.app.test_client()
        db.session.refresh(user)
        with http.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        page = http.get("/account/")
        match = CSRF_RE.search(page.get_data(as_text=True))
        assert match, f"no form token for {user.name} ({page.status_code})"
        return Client(http, match.group(1), user)

    def anonymous(self) -> Client:
        http = self.app.test_client()
        match = CSRF_RE.search(http.get("/login").get_data(as_text=True))
        assert match, "no form token on /login"
        return Client(http, match.group(1))

    # --- requests -----------------------------------------------------------------------------

    def form(self, client: Client, url: str, pairs: list, csrf: str = "ok", encoding: str = "url",
             prefixes=(), files=(), junk: bytes = b"", pages=(), viewer: Client | None = None) -> Call:
        """A form post as a browser sends it; ``csrf`` and ``encoding`` say how it strays."""
        tokens = [(f"{p}-csrf_token" if p else "csrf_token", client.csrf) for p in ("", *prefixes)]
        if csrf == "missing":
            tokens = []
        elif csrf == "twice":
            tokens = tokens + [("csrf_token", "forged")]
        elif csrf == "wrong":
            tokens = [(name, client.csrf[::-1]) for name, _ in tokens]
        pairs = tokens + list(pairs)
        if encoding == "multipart" or files:
            body, content_type = multipart_body(pairs, files)
        else:
            body, content_type = form_body(pairs) + (junk if encoding == "junk" else b""), \
                "application/x-www-form-urlencoded"
        return Call("POST", url, body, content_type, client=client, pages=pages, viewer=viewer)

    def api(self, method: str, url: str, body: tuple[bytes, str] = (b"", ""), token: str | None = None,
            pages=()) -> Call:
        return Call(method, "/api/v1" + url, body[0], body[1], token=token or self.dana_token, pages=pages)

    def send(self, call: Call):
        headers = {"Authorization": f"Bearer {call.token}"} if call.token else {}
        http = call.client.http if call.client else self.app.test_client()
        return http.open(call.url, method=call.method, data=call.body, content_type=call.content_type or None,
                         headers=headers)

    # --- judging -------------------------------------------------------------------------------

    def state(self) -> str:
        if self._state is None:
            self._state = fingerprint()
        return self._state

    def forget_state(self) -> None:
        self._state = None

    def scene(self, key, spec: Spec) -> dict:
        if key not in self.scenes:
            self.scenes[key] = spec.scene(self)
            self.forget_state()
        return self.scenes[key]

    def attempt(self, key, spec: Spec, data) -> None:
        """One example: draw a request, send it, and check it against the database and the answer."""
        scene = self.scene(key, spec)
        if spec.prepare:
            spec.prepare(self, scene)
            self.forget_state()
        call = spec.draw(self, scene, data)
        # Any query string on top of the request's own: it must not turn the answer into a 500 either.
        call.url = with_query(call.url, data.draw(QUERY))
        before = self.state()
        response = self.send(call)
        status = response.status_code
        name = f"{key[0]} {key[1]}"
        counts = self.stats.setdefault(name, {})
        counts[status] = counts.get(status, 0) + 1
        assert status < 500, (name, call.url, status, response.get_data(as_text=True)[:800])
        self.check_escaped(name, call.url, response)
        check_same_site(name, call.url, response)
        refused = self.refused(call, spec, response)
        self.forget_state()
        after = self.state()
        if refused:
            assert after == before, f"{name}: refused ({status}) but the database changed: {call.url}"
            return
        self.accepted[key] = self.accepted.get(key, 0) + 1
        if any(raw in call.body or raw in call.url.encode() for raw in RAW_SENT):
            # Markup was accepted: the pages that show it must escape it.
            for path in call.pages(response) if callable(call.pages) else call.pages:
                page = (call.viewer or self.web).http.get(path)
                assert page.status_code == 200, (name, path, page.status_code)
                self.check_escaped(name, path, page)
        if callable(spec.renew):
            self.scenes[key] = spec.renew(self, scene)
            self.forget_state()
        elif spec.renew:
            del self.scenes[key]
            self.forget_state()

    def check_escaped(self, name: str, where: str, response) -> None:
        if response.mimetype != "text/html":
            return
        html = response.get_data(as_text=True)
        for raw in RAW:
            assert raw not in html, f"{name}: unescaped input ({raw!r}) in the answer to {where}"

    def refused(self, call: Call, spec: Spec, response) -> bool:
        """Whether the endpoint turned the request down (and so must have changed nothing)."""
        status = response.status_code
        if status >= 400:
            return True
        if call.token:
            return status not in (200, 201)
        if 300 <= status < 400:
            flashes = self.flashes(call.client)
            if any(raw in message for _, message in flashes for raw in RAW):
                # The message repeats what was sent: see that the page it is shown on escapes it.
                target = urlsplit(response.headers["Location"])
                page = call.client.http.get(target.path + (f"?{target.query}" if target.query else ""))
                self.check_escaped("flash", target.path, page)
            else:
                self.flashes(call.client, clear=True)
            if any(category in spec.refusing_flashes for category, _ in flashes):
                return True
        if status == 200 and FORM_ERROR.search(response.get_data(as_text=True)):
            return True
        return status not in spec.writes_on

    @staticmethod
    def flashes(client: Client, clear: bool = False) -> list:
        with client.http.session_transaction() as session:
            return list(session.pop("_flashes", []) if clear else session.get("_flashes", []))


SITE_HOSTS = ("", "concord.test")


def check_same_site(name: str, where: str, response) -> None:
    """A redirect never leaves the site, as a browser would read its Location."""
    if not 300 <= response.status_code < 400:
        return
    read = urlsplit(browser_location(response.headers.get("Location", "")))
    assert read.scheme in ("", "http", "https") and read.netloc in SITE_HOSTS, \
        f"{name}: a redirect to another site ({response.headers.get('Location')!r}) after {where}"


# --- first-run setup: the only endpoint that needs an installation nobody has set up ---------------------


def without_setup(world: World, scene: dict) -> None:
    """Before each example: an installation whose first-run setup has not happened."""
    db.session.rollback()
    created = db.session.scalars(select(User).where(User.email.like("setup-%"))).all()
    for user in created:
        db.session.delete(user)
    setting = db.session.get(SiteSetting, accounts.SETUP_KEY)
    if setting is not None:
        db.session.delete(setting)
    db.session.commit()
    world.app.extensions.pop("concord_setup_done", None)


def restore_setup(world: World) -> None:
    without_setup(world, {})
    db.session.add(SiteSetting(key=accounts.SETUP_KEY, value=now().isoformat()))
    db.session.commit()
    world.forget_state()


@functools.cache
def _pg_fingerprint_query() -> str:
    """One statement that PostgreSQL answers with the row count and an MD5 of every table's rows."""
    quote = db.engine.dialect.identifier_preparer.quote
    parts = []
    for table in db.metadata.sorted_tables:
        columns = ", ".join(quote(c.name) for c in table.columns if (table.name, c.name) not in VOLATILE)
        order = ", ".join(quote(c.name) for c in table.primary_key.columns)
        parts.append(f"SELECT '{table.name}', count(*), md5(coalesce(string_agg(ROW({columns})::text, '|' "
                     f"ORDER BY {order}), '')) FROM {quote(table.name)}")
    return " UNION ALL ".join(parts)


def fingerprint() -> str:
    """A hash of every row of every table (but the columns that reading writes), as
    tests.matrix_world.fingerprint: on PostgreSQL in one round trip, hashed by the server."""
    db.session.rollback()
    cursor = db.session.connection().connection.cursor()
    digest = hashlib.sha256()
    try:
        if db.engine.dialect.name == "postgresql":
            cursor.execute(_pg_fingerprint_query())
            digest.update(repr(cursor.fetchall()).encode())
        else:
            for query in _dump_queries():
                cursor.execute(query)
                rows = cursor.fetchall()
                digest.update(f"{query}:{len(rows)}:{rows!r}".encode("utf-8", "surrogatepass"))
    finally:
        cursor.close()
        db.session.rollback()
    return digest.hexdigest()


def quote_path(value: str) -> str:
    """A URL path segment holding any text, surrogates as invalid UTF-8."""
    from urllib.parse import quote

    return quote(_bytes(value), safe="")
