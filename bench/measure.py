"""In-process measurements: pages through the Flask test client, references, the rebase rule."""

from __future__ import annotations

import contextvars
import re
import statistics
import time
from dataclasses import dataclass

from flask.testing import FlaskClient
from sqlalchemy import event

from bench.common import PASSWORD

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class IsolatedClient(FlaskClient):
    """Each request in its own context, so in its own app context and db session (as in a server).

    The same idea as tests/conftest.py: without it g, Flask-Login's user and the
    session's identity map would carry over from one request to the next.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


class QueryCounter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args, **_kwargs):
        self.count += 1


@dataclass
class Timing:
    median: float  # seconds
    runs: int
    queries: int  # SQL statements of one request (the last one)
    size: int = 0  # bytes of the response
    reference: float = 0.0  # seconds of the reference, when measured against one (``paired``)
    ratio: float = 0.0


def repeat(fn, *, min_runs: int = 3, max_runs: int = 15, budget: float = 6.0, before=None) -> tuple[float, int]:
    """Median seconds of ``fn()`` after one warm-up run: at least min_runs, then until the budget is spent.

    ``before()``, if given, runs untimed before each timed run."""
    fn()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < min_runs or (len(times) < max_runs and time.perf_counter() - started < budget):
        if before:
            before()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), len(times)


def login(client, email: str) -> None:
    page = client.get("/login")
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on /login ({page.status_code})"
    response = client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": match.group(1)}
    )
    assert response.status_code == 302, f"login failed: {response.status_code}"


def page(client, counter: QueryCounter, path: str, clear=None, reference=None, cold=None,
         **repeat_kw) -> Timing:
    """Median time of GET ``path``; ``clear()`` (e.g. emptying a cache) runs untimed before each request.

    With a ``reference`` function, the page and the reference are measured in alternation (``paired``).
    ``cold()`` runs before the request whose queries are counted, so that they are all counted."""
    size = 0

    def get():
        nonlocal size
        response = client.get(path)
        body = response.get_data()
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}\n{body[:500]!r}")
        size = len(body)

    queries = count_queries(counter, get, cold)
    if reference is not None:
        assert clear is None
        p = paired(get, reference)
        return Timing(p.median, p.runs, queries, size, p.reference, p.ratio)
    median, runs = repeat(get, before=clear, **repeat_kw)
    return Timing(median, runs, queries, size)


def count_queries(counter: QueryCounter, fn, cold=None) -> int:
    """SQL statements run by one ``fn()``, after ``cold()`` if given."""
    if cold:
        cold()
    before = counter.count
    fn()
    return counter.count - before


def client_for(app, email: str | None):
    app.test_client_class = IsolatedClient
    client = app.test_client()
    if email:
        login(client, email)
    return client


# --- references ----------------------------------------------------------------------------------

BARE_TEMPLATE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1><article class="statement"><ol class="paragraphs">
{% for number, id, text in paragraphs %}<li id="p-{{ id }}">
<a class="number" href="#p-{{ id }}">{{ number }}.</a>
<div class="text">{{ text }}</div></li>
{% endfor %}</ol></article></main></body></html>"""


def bare_render(title: str, texts: list[str]):
    """A function rendering the same paragraphs from a Python list with a bare, autoescaping Jinja template."""
    from jinja2 import Environment

    template = Environment(autoescape=True).from_string(BARE_TEMPLATE)
    rows = [(n, 1000 + n, t) for n, t in enumerate(texts, start=1)]
    return lambda: template.render(title=title, paragraphs=rows)


@dataclass
class Paired:
    median: float  # seconds, of the measured function
    reference: float  # seconds, of the reference
    ratio: float  # median of the per-block ratios
    runs: int


def paired(fn, reference, *, blocks: int = 40, per_block: int = 10) -> Paired:
    """``fn`` against ``reference``, in alternating short blocks.

    A shared machine's speed drifts by up to 2x within seconds (docs/performance.md): a
    reference measured once, before or after, can make the same code pass or fail. Here
    each block of ``fn`` is compared with the block of the reference right after it (a few
    milliseconds apart), and the ratio is the median of those per-block ratios.
    """
    fn(), reference()
    ratios: list[float] = []
    mine: list[float] = []
    theirs: list[float] = []
    for _ in range(blocks):
        block = []
        for f, out in ((fn, mine), (reference, theirs)):
            times = []
            for _ in range(per_block):
                t = time.perf_counter()
                f()
                times.append(time.perf_counter() - t)
            out += times
            block.append(statistics.median(times))
        ratios.append(block[0] / block[1])
    return Paired(statistics.median(mine), statistics.median(theirs), statistics.median(ratios), len(mine))


def diff_main_reference(old: str, new: str, **repeat_kw) -> float:
    """One diff_main (with its default timeout, as the app's diffs) over the two canonical texts."""
    from diff_match_patch import diff_match_patch

    median, _ = repeat(lambda: diff_match_patch().diff_main(old, new), **repeat_kw)
    return median


# --- accept with 50 open siblings --------------------------------------------------------------


def accept_with_siblings(
    statement_id: int, coordinator_id: int, *, siblings: int = 50, setups: int = 5, seed: int = 3
) -> tuple[float, dict]:
    """Median seconds of ``amending.accept`` (rule + its flush) with ``siblings`` open on that paragraph.

    Each setup is fresh: in one transaction it proposes siblings + 1 amendments on one
    paragraph (bulk, against the current text, as ``propose`` makes them), times the
    accept of one of them, then rolls everything back. The commit is not included.
    The rest of the statement's open amendments stay open, as in real life.
    """
    import random

    from sqlalchemy import insert

    from app.amending import operations as amending
    from app.drafting import operations as drafting
    from app.extensions import db
    from app.models import Amendment, AmendmentRevision, Statement, User
    from bench.generate import Words

    rng = random.Random(seed)
    words = Words(rng)
    times: list[float] = []
    outcomes: dict[str, int] = {}
    for setup in range(setups + 1):  # the first one warms up
        statement = db.session.get(Statement, statement_id)
        coordinator = db.session.get(User, coordinator_id)
        paragraphs = drafting.live_paragraphs(statement)
        n = rng.randrange(len(paragraphs))
        paragraph = paragraphs[n]
        base = paragraph.text
        rows = [
            {
                "statement_id": statement_id,
                "kind": "modify",
                "status": "open",
                "organisation_id": statement.coordinator_organisation_id,
                "proposer_id": coordinator_id,
                "paragraph_id": paragraph.id,
                "base_revision_id": paragraph.current_revision_id,
                "base_text": base,
                "proposed_text": words.mutate(base),
                "base_number": n + 1,
                "rationale": "",
                "text_version": 1,
                "round": 1,
            }
            for _ in range(siblings + 1)
        ]
        ids = db.session.execute(insert(Amendment).returning(Amendment.id), rows).scalars().all()
        db.session.execute(
            insert(AmendmentRevision),
            [
                {
                    "amendment_id": i,
                    "reason": "proposed",
                    "base_revision_id": r["base_revision_id"],
                    "base_text": base,
                    "proposed_text": r["proposed_text"],
                    "author_id": coordinator_id,
                }
                for i, r in zip(ids, rows, strict=True)
            ],
        )
        db.session.flush()
        target = db.session.get(Amendment, ids[0])
        started = time.perf_counter()
        amending.accept(target, coordinator, text_version=None, now=_now())
        elapsed = time.perf_counter() - started
        siblings_after = db.session.query(Amendment.status).filter(Amendment.id.in_(ids[1:])).all()
        db.session.rollback()
        db.session.expire_all()
        if setup:
            times.append(elapsed)
            for (status,) in siblings_after:
                outcomes[status] = outcomes.get(status, 0) + 1
    return statistics.median(times), outcomes


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
