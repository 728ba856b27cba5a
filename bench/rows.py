"""The in-process rows of the method (docs/performance.md): cold views, writes, the capped rows."""

from __future__ import annotations

import random
import re
import statistics
import time

from sqlalchemy import select

from bench import generate as gen
from bench.measure import (
    Changer,
    IsolatedClient,
    Slot,
    bare_amendment,
    bare_statement,
    client_for,
    cold_blocks,
    csrf_token,
    get_ok,
    median_of,
    now,
    repeat_capped,
    viewer_targets,
)

MERGED_VIEW = "/statements/{id}/merged"  # issue 16, item 3: the text with all open amendments inline

VIEWER_ORG = 5  # the delegate of organisation 5 views the statement page (not the coordinator)
TEN_VIEWERS = range(1, 11)  # organisations 1-10 (1: the coordinator)
FIRST_ACTOR = 11  # changes come from organisations 11..40, never a viewer's


class Context:
    """What the in-process rows share: the app, the generated data, logged-in clients, the changer."""

    def __init__(self, app, generated, counter, log):
        from app.drafting import operations as drafting
        from app.extensions import db
        from app.models import Statement

        self.app, self.g, self.counter, self.log = app, generated, counter, log
        self.clients: dict[str, object] = {}
        self.small_statement_id: int | None = None  # one_paragraph_floor's statement, made when first asked for
        n = len(generated.org_ids)
        self.changer = Changer(app, generated, [generated.org(i) for i in range(min(FIRST_ACTOR, n), n + 1)])
        with app.app_context():
            statement = db.session.get(Statement, generated.statement_id)
            self.title = statement.title
            self.texts = [p.text for p in drafting.live_paragraphs(statement)]
            db.session.remove()
        self.bare = bare_statement(self.title, self.texts)

    def client(self, org_n: int | None):
        """A client logged in as the delegate of organisation ``org_n`` (None: anonymous), made once."""
        email = self.g.delegate_emails[self.g.org(org_n)] if org_n else ""
        if email not in self.clients:
            self.clients[email] = client_for(self.app, email or None)
        return self.clients[email]

    def viewer_slot(self, org_n: int, path: str) -> Slot:
        """A cold view of ``path`` by organisation ``org_n``'s delegate, after a change on one of its
        own open amendments; the reference is the bare render of the statement."""
        client = self.client(org_n)
        targets = iter(_cycle(viewer_targets(self.app, self.g, self.g.org(org_n))))
        return Slot(view=lambda: get_ok(client, path), reference=self.bare,
                    change=lambda: self.changer.change(next(targets)))


def _cycle(items):
    while True:
        yield from items


def _cold(result) -> dict:
    return dict(result.__dict__)


def warm(slot: Slot) -> dict:
    """For comparison only (an info row): the same view repeated with no change in between, so that
    whatever the app keeps from one view to the next can serve it."""
    result = cold_blocks([Slot(view=slot.view, reference=slot.reference, change=lambda: None)] * 6, blocks=10)
    return {"ms": result.ms, "reference_ms": result.reference_ms, "ratio": result.ratio}


def count_cold(ctx: Context, slot: Slot) -> int:
    """SQL statements of one cold view (after its change)."""
    slot.change()
    before = ctx.counter.count
    slot.view()
    return ctx.counter.count - before


# --- pages --------------------------------------------------------------------------------------


def statement_page(ctx: Context) -> dict:
    path = f"/statements/{ctx.g.statement_id}"
    slot = ctx.viewer_slot(VIEWER_ORG, path)
    result = cold_blocks([slot] * 6, blocks=30)
    size = len(get_ok(ctx.client(VIEWER_ORG), path))
    return {"path": path, "kb": size / 1024, "queries": count_cold(ctx, slot), "warm": warm(slot),
            "one_paragraph": one_paragraph_floor(ctx, "/statements/{id}"), **_cold(result)}


def one_paragraph_floor(ctx: Context, page: str) -> dict:
    """For comparison only (an info row): ``page`` of a statement with the same title and participants but
    one paragraph and no amendments, viewed by the same delegate, against the same reference (the bare
    render of all the paragraphs), alternated: what the page costs before it shows any paragraph."""
    if ctx.small_statement_id is None:
        ctx.small_statement_id = _one_paragraph_statement(ctx)
    path = page.format(id=ctx.small_statement_id)
    client = ctx.client(VIEWER_ORG)
    result = cold_blocks([Slot(view=lambda: get_ok(client, path), reference=ctx.bare, change=lambda: None)] * 6,
                         blocks=10)
    return {"path": path, "ms": result.ms, "reference_ms": result.reference_ms, "ratio": result.ratio}


def _one_paragraph_statement(ctx: Context) -> int:
    """A statement open for amendments with the bench statement's title and participants and its first paragraph."""
    from app.amending import operations as amending
    from app.drafting import operations as drafting
    from app.extensions import db
    from app.models import Statement, User

    with ctx.app.app_context():
        statement = db.session.get(Statement, ctx.g.statement_id)
        coordinator = db.session.get(User, ctx.g.coordinator_id)
        organisations = list(statement.participant_organisations)
        small = drafting.create_statement(coordinator, title=ctx.title, coordinator_organisation=organisations[0],
                                          participants=organisations, paragraphs=ctx.texts[:1], now=now())
        db.session.commit()
        amending.open_for_amendments(small, coordinator, rule="consensus", deadline=None, now=now())
        db.session.commit()
        small_id = small.id
        db.session.remove()
    return small_id


def ten_viewers(ctx: Context) -> dict:
    path = f"/statements/{ctx.g.statement_id}"
    slots = [ctx.viewer_slot(n, path) for n in TEN_VIEWERS]
    result = cold_blocks(slots, blocks=15)
    return {"path": path, "viewers": [ctx.g.delegate_emails[ctx.g.org(n)] for n in TEN_VIEWERS],
            **_cold(result)}


def amendment_page(ctx: Context) -> dict:
    from app.diffing import word_diff
    from app.extensions import db
    from app.models import Amendment

    client = ctx.client(VIEWER_ORG)
    numbers = {pid: n for n, pid in enumerate(ctx.g.paragraph_ids, start=1)}
    slots = []
    with ctx.app.app_context():
        amendments = [db.session.get(Amendment, i) for i in ctx.g.amendment_pool]
        ops = {a.id: list(word_diff(a.base_text, a.proposed_text)) for a in amendments}
        numbers_of = {a.id: numbers.get(a.paragraph_id, 0) for a in amendments}
        db.session.remove()
    for amendment_id in ctx.g.amendment_pool:
        slots.append(Slot(
            view=lambda i=amendment_id: get_ok(client, f"/amendments/{i}"),
            reference=bare_amendment(ctx.title, numbers_of[amendment_id], ops[amendment_id]),
            change=lambda i=amendment_id: ctx.changer.change(i),
        ))
    result = cold_blocks(slots, blocks=30)
    return {"amendments": ctx.g.amendment_pool, "queries": count_cold(ctx, slots[0]), "warm": warm(slots[0]),
            "flask_floor": flask_floor(slots[0].reference), **_cold(result)}


def flask_floor(reference) -> dict:
    """For comparison only (an info row): a request to a bare Flask app with one "hello" route
    (bench/hello.py) through the same kind of test client, against ``reference``, alternated."""
    from bench.hello import app as hello

    hello.test_client_class = IsolatedClient
    client = hello.test_client()
    result = cold_blocks([Slot(view=lambda: get_ok(client, "/hello"), reference=reference, change=lambda: None)] * 6,
                         blocks=10)
    return {"ms": result.ms, "reference_ms": result.reference_ms, "ratio": result.ratio}


def merged_view(ctx: Context) -> dict:
    path = MERGED_VIEW.format(id=ctx.g.statement_id)
    status = ctx.client(VIEWER_ORG).get(path).status_code
    if status == 404:
        return {"path": path, "skipped": f"not built yet (GET {path} answers 404)"}
    slot = ctx.viewer_slot(VIEWER_ORG, path)
    result = cold_blocks([slot] * 6, blocks=30)
    size = len(get_ok(ctx.client(VIEWER_ORG), path))
    return {"path": path, "kb": size / 1024, "queries": count_cold(ctx, slot),
            "one_paragraph": one_paragraph_floor(ctx, MERGED_VIEW), **_cold(result)}


def absolute_page(ctx: Context, path: str, limit_ms: float) -> dict:
    slot = ctx.viewer_slot(VIEWER_ORG, path)
    result = cold_blocks([slot] * 3, blocks=10, give_up_ms=5 * limit_ms)
    return {"path": path, "queries": count_cold(ctx, slot), **_cold(result)}


def history(ctx: Context) -> dict:
    return absolute_page(ctx, f"/statements/{ctx.g.statement_id}/history", 150)


def compare(ctx: Context) -> dict:
    versions = ctx.g.counts["versions"]
    return {"to": versions, **absolute_page(ctx, f"/statements/{ctx.g.statement_id}/compare?from=1&to={versions}", 150)}


def amendment_list(ctx: Context) -> dict:
    return absolute_page(ctx, f"/statements/{ctx.g.statement_id}/amendments", 50)


# --- SQL statements per write ------------------------------------------------------------------


def _location_id(response) -> int | None:
    match = re.search(r"/amendments/(\d+)", response.headers.get("Location", ""))
    return int(match.group(1)) if match else None


def writes(ctx: Context, repeats: int = 5) -> dict:
    """SQL statements of one position, comment and proposal request, through the web form and the API."""
    from app.accounts.operations import create_api_token
    from app.extensions import db
    from app.models import User

    g, counter = ctx.g, ctx.counter
    org_id = g.org(VIEWER_ORG)
    client = ctx.client(VIEWER_ORG)
    with ctx.app.app_context():
        _, token = create_api_token(db.session.get(User, g.delegates[org_id]), "benchmark")
        db.session.commit()
        db.session.remove()
    api = client_for(ctx.app, None)
    auth = {"Authorization": f"Bearer {token}"}
    # Someone else's open amendment to take positions on and comment; paragraphs to propose on.
    target = viewer_targets(ctx.app, g, g.org(VIEWER_ORG + 1))[0]
    token_web = csrf_token(client, f"/amendments/{target}")
    rng = random.Random(3)
    words = gen.Words(rng)
    paragraphs = iter(_cycle(g.paragraph_ids[10:40]))
    texts = dict(zip(g.paragraph_ids, ctx.texts, strict=True))
    stances = iter(_cycle(("support", "oppose", "abstain")))
    proposed: list[int] = []

    def web_position():
        return client.post(f"/amendments/{target}/positions", data={
            "organisation": org_id, "stance": next(stances), "reason": "", "csrf_token": token_web})

    def web_comment():
        return client.post(f"/amendments/{target}/comments", data={
            "body": "A comment through the form.", "csrf_token": token_web})

    def web_proposal():
        pid = next(paragraphs)
        response = client.post(f"/statements/{g.statement_id}/amendments/new?kind=modify&paragraph={pid}", data={
            "organisation": org_id, "text": words.mutate(texts[pid]), "rationale": "Through the form.",
            "submit": "Propose amendment", "csrf_token": token_web})
        proposed.append(_location_id(response))
        return response

    def api_position():
        return api.post(f"/api/v1/amendments/{target}/positions", headers=auth,
                        json={"organisation": g.org_slugs[org_id], "stance": next(stances)})

    def api_comment():
        return api.post(f"/api/v1/amendments/{target}/comments", headers=auth, json={"body": "A comment."})

    def api_proposal():
        pid = next(paragraphs)
        response = api.post(f"/api/v1/statements/{g.statement_id}/amendments", headers=auth, json={
            "organisation": g.org_slugs[org_id], "kind": "modify", "paragraph_id": pid,
            "text": words.mutate(texts[pid]), "rationale": "Through the API."})
        if response.status_code == 201:
            proposed.append(response.get_json()["id"])
        return response

    out: dict = {}
    for name, fn, ok in (("position web", web_position, 302), ("comment web", web_comment, 302),
                         ("proposal web", web_proposal, 302), ("position api", api_position, 201),
                         ("comment api", api_comment, 201), ("proposal api", api_proposal, 201)):
        counts, times = [], []
        for i in range(repeats + 1):
            before = counter.count
            t = time.perf_counter()
            response = fn()
            elapsed = time.perf_counter() - t
            if response.status_code != ok:
                raise RuntimeError(f"{name}: {response.status_code} {response.get_data()[:300]!r}")
            if i:
                counts.append(counter.count - before)
                times.append(elapsed * 1000)
        out[name] = {"statements": max(counts), "all": counts, "ms": statistics.median(times)}
        ctx.log(f"    {name}: {max(counts)} SQL statements, {statistics.median(times):.1f} ms")
    with ctx.app.app_context():
        gen.withdraw_all([i for i in proposed if i])
        db.session.remove()
    return out


# --- accepts ---------------------------------------------------------------------------------


def accept_with_siblings(ctx: Context, *, siblings: int = 50, setups: int = 5, seed: int = 3) -> dict:
    """The coordinator's accept (rule and flushes) with ``siblings`` ordinary open amendments on the
    paragraph, all proposed through the rule in the same transaction, then rolled back."""
    from app.amending import operations as amending
    from app.extensions import db
    from app.models import Amendment, Organisation, Paragraph, Statement, User

    g = ctx.g
    rng = random.Random(seed)
    words = gen.Words(rng)
    proposers = g.org_ids[1:]
    times, outcomes, setup_times = [], {}, []
    with ctx.app.app_context():
        for setup in range(setups + 1):  # the first one warms up
            t0 = time.perf_counter()
            pid = rng.choice(g.paragraph_ids)
            ids = []
            for k in range(siblings + 1):
                org_id = proposers[(setup * (siblings + 1) + k) % len(proposers)]
                amendment = amending.propose(
                    db.session.get(Statement, g.statement_id), db.session.get(User, g.delegates[org_id]),
                    db.session.get(Organisation, org_id), kind="modify", paragraph_id=pid,
                    text=words.mutate(db.session.get(Paragraph, pid).text), rationale="", now=now())
                ids.append(amendment.id)
            setup_times.append(time.perf_counter() - t0)
            target = db.session.get(Amendment, ids[0])
            coordinator = db.session.get(User, g.coordinator_id)
            started = time.perf_counter()
            amending.accept(target, coordinator, text_version=None, now=now())
            elapsed = time.perf_counter() - started
            after = db.session.scalars(select(Amendment.status).where(Amendment.id.in_(ids[1:]))).all()
            db.session.rollback()
            db.session.expire_all()
            if setup:
                times.append(elapsed)
                for status in after:
                    outcomes[status] = outcomes.get(status, 0) + 1
        db.session.remove()
    return {"ms": statistics.median(times) * 1000, "all_ms": [t * 1000 for t in times],
            "sibling_outcomes": outcomes, "setup_s": statistics.median(setup_times)}


def flood(ctx: Context, cap: float, *, per_org: int = 20) -> dict:
    """Accept a one-word change after 3 organisations each sent 20 unrelated 10,000-character texts."""
    from app.amending import operations as amending
    from app.extensions import db
    from app.models import Amendment, User

    g = ctx.g
    with ctx.app.app_context():
        made = gen.make_flood(g, per_org=per_org, log=ctx.log)
        db.session.remove()

    def trial() -> dict:
        with ctx.app.app_context():
            target = db.session.get(Amendment, made.target_id)
            coordinator = db.session.get(User, g.coordinator_id)
            started = time.perf_counter()
            amending.accept(target, coordinator, text_version=None, now=now())
            seconds = time.perf_counter() - started
            after = db.session.scalars(select(Amendment.status).where(Amendment.id.in_(made.flood_ids))).all()
            db.session.rollback()
        return {"seconds": seconds, "flood_became": {s: after.count(s) for s in set(after)}}

    result = repeat_capped(ctx.app, trial, cap)
    with ctx.app.app_context():
        gen.withdraw_all([*made.flood_ids, made.target_id])
        db.session.remove()
    result.update(paragraph_id=made.paragraph_id, flood=len(made.flood_ids),
                  propose_ms=statistics.median(made.propose_seconds) * 1000,
                  propose_max_ms=max(made.propose_seconds) * 1000)
    if result["runs"]:
        result["seconds"] = median_of(result["runs"])
    return result


# --- import and the 2 MB compare ----------------------------------------------------------------


def import_and_compare(ctx: Context, cap: float, *, do_import: bool = True, do_compare: bool = True,
                       paragraphs: int = 1000) -> dict:
    """Import 1,000 paragraphs (preview, then import) three times; then compare v1 with a v2 that
    differs in every paragraph, on the first imported statement."""
    from app.extensions import db
    from app.models import Version

    g = ctx.g
    client = ctx.client(1)  # the coordinator's delegate
    token = csrf_token(client, "/statements/import")
    participants = [g.org(1), g.org(2), g.org(3)]
    out: dict = {}
    created: list[int] = []

    def form(text: str, confirm: bool) -> dict:
        data = {"text": text, "coordinator_organisation": g.org(1), "participants": participants,
                "csrf_token": token}
        if confirm:
            data["confirm"] = "yes"
        return data

    def trial() -> dict:
        text = gen.import_text(f"Imported Bench Statement {time.time_ns()}", paragraphs)
        t = time.perf_counter()
        preview = client.post("/statements/import", data=form(text, False))
        preview_s = time.perf_counter() - t
        if preview.status_code != 200:
            raise RuntimeError(f"preview: {preview.status_code} {preview.get_data()[:300]!r}")
        t = time.perf_counter()
        response = client.post("/statements/import", data=form(text, True))
        import_s = time.perf_counter() - t
        match = re.search(r"/statements/(\d+)", response.headers.get("Location", ""))
        if response.status_code != 302 or not match:
            raise RuntimeError(f"import: {response.status_code} {response.get_data()[:500]!r}")
        return {"seconds": max(preview_s, import_s), "preview_s": preview_s, "import_s": import_s,
                "statement_id": int(match.group(1)), "bytes": len(text.encode())}

    if do_import or do_compare:
        result = repeat_capped(ctx.app, trial, cap, trials=3 if do_import else 1)
        created = [r["statement_id"] for r in result["runs"]]
        if do_import:
            out["import"] = result
            if result["runs"]:
                out["import"].update(preview_s=median_of(result["runs"], "preview_s"),
                                     import_s=median_of(result["runs"], "import_s"))
    if do_compare:
        if not created:
            out["compare2mb"] = {"status": "error", "error": "no imported statement to compare", "runs": []}
            return out
        sid = created[0]
        with ctx.app.app_context():
            number = gen.rewrite_every_paragraph(sid, g.delegates[g.org(1)])
            sizes = [len(t.encode()) for t in db.session.scalars(
                select(Version.canonical_text).where(Version.statement_id == sid).order_by(Version.number))]
            db.session.remove()
        path = f"/statements/{sid}/compare?from=1&to={number}"

        def compare_trial() -> dict:
            t = time.perf_counter()
            body = get_ok(client, path)
            return {"seconds": time.perf_counter() - t, "kb": len(body) / 1024}

        result = repeat_capped(ctx.app, compare_trial, cap)
        result.update(path=path, version_bytes=sizes)
        if result["runs"]:
            result["seconds"] = median_of(result["runs"])
        out["compare2mb"] = result
    return out
