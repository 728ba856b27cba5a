"""The measuring tools: clients, the query counter, references, cold views in alternated blocks,
and a runner that can stop a run-away measurement (docs/performance.md, "Method")."""

from __future__ import annotations

import contextvars
import itertools
import multiprocessing
import re
import statistics
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import event

from bench.common import PASSWORD

_clock = time.perf_counter  # cold_blocks' clock (a test replaces it)
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def now() -> datetime:
    return datetime.now(UTC)


class IsolatedClient(FlaskClient):
    """Each request in its own context, so in its own app context and db session (as in a server).

    The same idea as tests/conftest.py: without it g, Flask-Login's user and the
    session's identity map would carry over from one request to the next.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


class QueryCounter:
    """SQL statements sent through the engine (a ``before_cursor_execute`` listener)."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args, **_kwargs):
        self.count += 1


def csrf_token(client, path: str) -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def login(client, email: str) -> None:
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"login as {email} failed: {response.status_code}"


def client_for(app, email: str | None):
    app.test_client_class = IsolatedClient
    client = app.test_client()
    if email:
        login(client, email)
    return client


def get_ok(client, path: str) -> bytes:
    response = client.get(path)
    body = response.get_data()
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code}\n{body[:500]!r}")
    return body


# --- references ----------------------------------------------------------------------------------

BARE_STATEMENT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1><article class="statement"><ol class="paragraphs">
{% for number, id, text in paragraphs %}<li id="p-{{ id }}">
<a class="number" href="#p-{{ id }}">{{ number }}.</a>
<div class="text">{{ text }}</div></li>
{% endfor %}</ol></article></main></body></html>"""

BARE_AMENDMENT = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1><article class="amendment">
<p class="number">¶ {{ number }}</p><div class="diff">
{%- for op, text in ops -%}
{%- if op == 1 %}<ins>{{ text }}</ins>{% elif op == -1 %}<del>{{ text }}</del>{% else %}{{ text }}{% endif -%}
{%- endfor -%}
</div></article></main></body></html>"""


def _environment():
    from jinja2 import Environment

    return Environment(autoescape=True)


def bare_statement(title: str, texts: list[str]):
    """Renders the title and these paragraphs from a Python list with a bare, autoescaping template."""
    template = _environment().from_string(BARE_STATEMENT)
    rows = [(n, 1000 + n, t) for n, t in enumerate(texts, start=1)]
    return lambda: template.render(title=title, paragraphs=rows)


def bare_amendment(title: str, number: int, ops: list[tuple[int, str]]):
    """Renders one paragraph's number and its word diff (operations computed beforehand)."""
    template = _environment().from_string(BARE_AMENDMENT)
    ops = list(ops)
    return lambda: template.render(title=title, number=number, ops=ops)


# --- the changes before a cold view ------------------------------------------------------------


class Changer:
    """One change through the rules per call, by the next of ``actor_orgs`` (never a viewer's):
    alternately a comment and a position whose stance differs from that organisation's last one."""

    STANCES = ("support", "oppose", "abstain")

    def __init__(self, app, generated, actor_orgs: list[int]):
        self.app, self.g = app, generated
        self.actors = itertools.cycle(actor_orgs)
        self.n = 0
        self.stances: dict[tuple[int, int], int] = {}
        self.seconds: list[float] = []

    def change(self, amendment_id: int) -> None:
        from app.amending import operations as amending
        from app.extensions import db
        from app.models import Amendment, Organisation, User

        started = time.perf_counter()
        org_id = next(self.actors)
        with self.app.app_context():
            user = db.session.get(User, self.g.delegates[org_id])
            amendment = db.session.get(Amendment, amendment_id)
            if self.n % 2 == 0:
                amending.add_comment(amendment, user, f"Cold-view comment {self.n}: a remark on the wording.",
                                     now=now())
            else:
                k = self.stances.get((amendment_id, org_id), -1) + 1
                self.stances[(amendment_id, org_id)] = k
                amending.take_position(amendment, user, db.session.get(Organisation, org_id),
                                       self.STANCES[k % 3], "", now=now())
            db.session.commit()
            db.session.remove()
        self.n += 1
        self.seconds.append(time.perf_counter() - started)


def viewer_targets(app, generated, org_id: int) -> list[int]:
    """Open (not conflicted) amendments proposed by that organisation's delegate: changes on them
    show to that delegate (a new notification)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Amendment

    with app.app_context():
        ids = list(db.session.scalars(select(Amendment.id).where(
            Amendment.statement_id == generated.statement_id, Amendment.proposer_id == generated.delegates[org_id],
            Amendment.status.in_(("open", "rebased"))).order_by(Amendment.id)))
        db.session.remove()
    if not ids:
        raise RuntimeError(f"organisation {org_id}'s delegate has no open amendment to be changed")
    return ids


# --- cold views in alternated blocks ----------------------------------------------------------


@dataclass
class Slot:
    """One view in a block: what changes first (an amendment id), what is viewed, its reference."""

    view: object  # () -> None, timed
    reference: object  # () -> None, timed in the reference half of the block
    change: object  # () -> None, untimed, before the view


@dataclass
class ColdResult:
    ms: float  # median of all views
    reference_ms: float  # median of all reference renders
    ratio: float  # median of the blocks' ratios
    per_slot_ratio: list[float]  # per slot: median over blocks of (view / the block's median reference)
    blocks: int
    views: int
    block_ratios: list[float] = field(default_factory=list)
    view_ms: list[float] = field(default_factory=list)
    reference_all_ms: list[float] = field(default_factory=list)
    change_ms: float = 0.0


def cold_blocks(slots: list[Slot], blocks: int, *, give_up_ms: float | None = None) -> ColdResult:
    """Each block: for every slot a change (untimed) then its view (timed); then every slot's reference
    (timed). The block's ratio: median view / median reference of that block.

    With ``give_up_ms``, stop after 3 blocks once the median view is over it (a row far over its
    limit fails whatever the rest would show; this only saves machine time)."""
    slots[0].change()
    slots[0].view()
    slots[0].reference()
    views: list[float] = []
    refs: list[float] = []
    ratios: list[float] = []
    per_slot: list[list[float]] = [[] for _ in slots]
    change_times: list[float] = []
    for _ in range(blocks):
        block_views = []
        for slot in slots:
            t = _clock()
            slot.change()
            change_times.append(_clock() - t)
            t = _clock()
            slot.view()
            block_views.append(_clock() - t)
        block_refs = []
        for slot in slots:
            t = _clock()
            slot.reference()
            block_refs.append(_clock() - t)
        ref_median = statistics.median(block_refs)
        ratios.append(statistics.median(block_views) / ref_median)
        for i, v in enumerate(block_views):
            per_slot[i].append(v / ref_median)
        views += block_views
        refs += block_refs
        if give_up_ms and len(ratios) >= 3 and statistics.median(views) * 1000 > give_up_ms:
            break
    return ColdResult(
        ms=statistics.median(views) * 1000, reference_ms=statistics.median(refs) * 1000,
        ratio=statistics.median(ratios), per_slot_ratio=[statistics.median(r) for r in per_slot],
        blocks=len(ratios), views=len(views), block_ratios=ratios, view_ms=[v * 1000 for v in views],
        reference_all_ms=[r * 1000 for r in refs], change_ms=statistics.median(change_times) * 1000,
    )


# --- a measurement that can be stopped -----------------------------------------------------------


@dataclass
class Capped:
    status: str  # "ok", "timeout", "error"
    value: object = None
    error: str = ""


def capped(app, fn, cap: float) -> Capped:
    """``fn()`` in a process forked from this one, killed after ``cap`` seconds.

    A run-away request cannot be interrupted in-process; in a child it can. The child gets the
    app as it is (its clients, its cookies), drops the connections it inherited without closing
    them (they are the parent's) and opens its own."""
    from app.extensions import db

    with app.app_context():
        db.session.remove()
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        with app.app_context():
            db.engine.dispose(close=False)
        try:
            send.send(("ok", fn(), ""))
        except BaseException:  # noqa: BLE001  (reported to the parent)
            send.send(("error", None, traceback.format_exc()))

    process = ctx.Process(target=child, daemon=True)
    process.start()
    send.close()
    if receive.poll(cap):
        try:
            status, value, error = receive.recv()
        except EOFError:
            status, value, error = "error", None, "the child process died"
        process.join()
        return Capped(status, value, error)
    process.kill()
    process.join()
    return Capped("timeout")


def repeat_capped(app, fn, cap: float, trials: int = 3) -> dict:
    """Up to ``trials`` capped runs of ``fn`` (returning a dict with "seconds"), stopping at the first
    timeout or error. The median and every run."""
    runs = []
    for _ in range(trials):
        result = capped(app, fn, cap)
        if result.status != "ok":
            return {"status": result.status, "error": result.error[-3000:], "runs": runs, "cap_s": cap}
        runs.append(result.value)
    return {"status": "ok", "runs": runs, "cap_s": cap}


def median_of(runs: list[dict], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in runs)
