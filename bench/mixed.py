"""The mixed write load (docs/performance.md, "Under load"): 16 clients against two app servers.

4 processes x 4 threads; each thread is one client, the delegate of one organisation, with an API
bearer token for its writes and a session (logged in through the form) for its page views; accepts
use the coordinator's token. Each request goes to the servers in turn and is drawn from the mix.
Every write carries a unique marker, so that afterwards the database can be checked against the
responses: every 2xx's row is there, nothing of a refused one is.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import random
import statistics
import threading
import time
from dataclasses import dataclass, field

from bench.generate import Words

MIX = (("position", 40), ("comment", 25), ("proposal", 20), ("page", 10), ("accept", 5))
PROCESSES, THREADS = 4, 4
SECONDS = 30


@dataclass
class ClientSpec:
    index: int
    org_slug: str
    token: str
    cookie: str
    coordinator_token: str
    servers: list[str]  # "127.0.0.1:port"
    statement_id: int
    paragraphs: dict[int, str]
    pool: list[int]  # open amendments at the start
    run: str
    deadline: float  # time.time() at which to stop sending
    pages: list[str] = field(default_factory=list)


def _request(server: str, method: str, path: str, headers: dict, body: bytes | None = None):
    conn = http.client.HTTPConnection(server, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return response.status, data
    finally:
        conn.close()


def _client(spec: ClientSpec, out: list) -> None:
    rng = random.Random(1000 + spec.index)
    words = Words(random.Random(2000 + spec.index))
    kinds, weights = zip(*MIX, strict=True)
    mine: list[int] = []  # amendments this client proposed (accept candidates first)
    tried: set[int] = set()
    seq = pages_seen = 0
    stances = ("support", "oppose", "abstain")
    pids = list(spec.paragraphs)
    while time.time() < spec.deadline:
        seq += 1
        kind = rng.choices(kinds, weights)[0]
        server = spec.servers[seq % len(spec.servers)]
        marker = f"mixed-{spec.run}-c{spec.index}-n{seq}"
        api = {"Authorization": f"Bearer {spec.token}", "Content-Type": "application/json"}
        record = {"kind": kind, "marker": marker, "server": server}
        if kind == "position":
            target = rng.choice(spec.pool + mine)
            method, path, headers = "POST", f"/api/v1/amendments/{target}/positions", api
            body = {"organisation": spec.org_slug, "stance": rng.choice(stances), "reason": marker}
        elif kind == "comment":
            target = rng.choice(spec.pool + mine)
            method, path, headers = "POST", f"/api/v1/amendments/{target}/comments", api
            body = {"body": marker}
        elif kind == "proposal":
            target = rng.choice(pids)
            method, path, headers = "POST", f"/api/v1/statements/{spec.statement_id}/amendments", api
            body = {"organisation": spec.org_slug, "kind": "modify", "paragraph_id": target,
                    "text": words.mutate(spec.paragraphs[target]), "rationale": marker}
        elif kind == "page":
            path = spec.pages[pages_seen % len(spec.pages)]
            pages_seen += 1
            if "{amendment}" in path:
                path = path.format(amendment=rng.choice(spec.pool))
            target, method, headers, body = None, "GET", {"Cookie": spec.cookie}, None
        else:  # accept: the newest amendment this client proposed and has not tried yet, else any
            fresh = [a for a in mine if a not in tried]
            target = fresh[-1] if fresh else rng.choice(spec.pool)
            tried.add(target)
            method, path, body = "POST", f"/api/v1/amendments/{target}/accept", {}
            headers = {"Authorization": f"Bearer {spec.coordinator_token}", "Content-Type": "application/json"}
        record.update(target=target, path=path)
        data = json.dumps(body).encode() if body is not None else None
        started = time.time()
        t = time.perf_counter()
        try:
            status, response = _request(server, method, path, headers, data)
        except OSError as exc:
            status, response = 0, str(exc).encode()
        record.update(status=status, latency=time.perf_counter() - t, start=started, bytes=len(response))
        if 200 <= status < 300 and kind in ("proposal", "accept"):
            payload = json.loads(response)
            if kind == "proposal":
                record["id"] = payload["id"]
                mine.append(payload["id"])
            else:
                record["version"] = payload["version"]
        elif status >= 400 or status == 0:
            record["error"] = response[:300].decode("utf-8", "replace")
        out.append(record)


def _process(specs: list[ClientSpec], queue) -> None:
    results: list[list] = [[] for _ in specs]
    threads = [threading.Thread(target=_client, args=(spec, results[i])) for i, spec in enumerate(specs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put([r for part in results for r in part])


def run(specs: list[ClientSpec]) -> list[dict]:
    """All clients, PROCESSES processes of THREADS threads; every request's record."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    groups = [specs[i::PROCESSES] for i in range(PROCESSES)]
    processes = [ctx.Process(target=_process, args=(group, queue), daemon=True) for group in groups if group]
    for p in processes:
        p.start()
    records = []
    for _ in processes:
        records += queue.get()
    for p in processes:
        p.join()
    return records


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q * (len(values) - 1))))
    return values[k]


def summarise(records: list[dict]) -> dict:
    if not records:
        return {"requests": 0}
    first = min(r["start"] for r in records)
    last = max(r["start"] + r["latency"] for r in records)
    latencies = [r["latency"] for r in records]
    by_kind = {}
    for kind, _ in MIX:
        rs = [r for r in records if r["kind"] == kind]
        statuses: dict[str, int] = {}
        for r in rs:
            statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
        by_kind[kind] = {
            "requests": len(rs), "statuses": statuses,
            "p50_ms": _percentile([r["latency"] for r in rs], 0.5) * 1000,
            "p99_ms": _percentile([r["latency"] for r in rs], 0.99) * 1000,
        }
    return {
        "requests": len(records), "seconds": last - first, "rps": len(records) / (last - first),
        "p50_ms": statistics.median(latencies) * 1000, "p99_ms": _percentile(latencies, 0.99) * 1000,
        "server_errors": sum(1 for r in records if r["status"] >= 500 or r["status"] == 0),
        "refused": sum(1 for r in records if 400 <= r["status"] < 500),
        "by_kind": by_kind,
        "examples_of_errors": [
            {k: r.get(k) for k in ("kind", "path", "status", "error")}
            for r in records if r["status"] >= 500 or r["status"] == 0][:5],
        "examples_of_refusals": [
            {k: r.get(k) for k in ("kind", "path", "status", "error")}
            for r in records if 400 <= r["status"] < 500][:5],
    }


def check(statement_id: int, records: list[dict], before: dict) -> dict:
    """The database against the responses (in an app context): every 2xx's row present, nothing of a
    refused write, versions contiguous, one audit entry per successful write, the chain intact."""
    from sqlalchemy import func, select

    from app import audit
    from app.extensions import db
    from app.models import Amendment, AuditEntry, Comment, Position, Statement, Version

    problems: list[str] = []
    ok = lambda r: 200 <= r["status"] < 300  # noqa: E731
    writes = [r for r in records if r["kind"] != "page"]

    def present(model, column, kind) -> None:
        markers = {r["marker"]: ok(r) for r in writes if r["kind"] == kind}
        found: dict[str, int] = {}
        for chunk in _chunks(list(markers), 500):
            for value, count in db.session.execute(
                    select(column, func.count()).where(column.in_(chunk)).group_by(column)):
                found[value] = count
        missing = [m for m, success in markers.items() if success and found.get(m) != 1]
        leaked = [m for m, success in markers.items() if not success and m in found]
        if missing:
            problems.append(f"{len(missing)} {kind}s answered 2xx without exactly one row, e.g. {missing[:3]}")
        if leaked:
            problems.append(f"{len(leaked)} refused {kind}s left a row, e.g. {leaked[:3]}")

    present(Position, Position.reason, "position")
    present(Comment, Comment.body, "comment")
    present(Amendment, Amendment.rationale, "proposal")
    for r in writes:
        if r["kind"] == "proposal" and ok(r):
            amendment = db.session.get(Amendment, r["id"])
            if amendment is None or amendment.rationale != r["marker"]:
                problems.append(f"proposal {r['marker']}: the id in the response ({r['id']}) is not its row")
    accepted = [r for r in writes if r["kind"] == "accept" and ok(r)]
    for r in accepted:
        amendment = db.session.get(Amendment, r["target"])
        version = db.session.scalar(select(Version).where(
            Version.statement_id == statement_id, Version.number == r["version"]["number"]))
        if amendment is None or amendment.status != "accepted":
            problems.append(f"accept of #{r['target']} answered 2xx but the amendment is "
                            f"{amendment.status if amendment else 'missing'}")
        if version is None or version.sha256 != r["version"]["sha256"]:
            problems.append(f"accept of #{r['target']}: version {r['version']['number']} is not as answered")
        elif getattr(version, "amendment_id", r["target"]) != r["target"]:
            problems.append(f"accept of #{r['target']}: version {version.number} belongs to another amendment")
    statement = db.session.get(Statement, statement_id)
    numbers = list(db.session.scalars(select(Version.number).where(Version.statement_id == statement_id)
                                      .order_by(Version.number)))
    if numbers != list(range(1, statement.version_count + 1)):
        problems.append(f"versions are not 1..{statement.version_count} without a gap")
    new_versions = statement.version_count - before["versions"]
    if new_versions != len(accepted):
        problems.append(f"{new_versions} new versions for {len(accepted)} successful accepts")
    entries = db.session.scalar(select(func.count()).select_from(AuditEntry)
                                .where(AuditEntry.statement_id == statement_id))
    successes = sum(1 for r in writes if ok(r))
    if entries - before["audit_entries"] != successes:
        problems.append(f"{entries - before['audit_entries']} new audit entries for {successes} successful writes")
    checked, breaks = audit.verify(statement_id)
    if breaks:
        problems.append(f"the audit chain is broken: {breaks[:3]}")
    return {"problems": problems, "successful_writes": successes, "accepted": len(accepted),
            "new_versions": new_versions, "audit_entries_checked": checked}


def snapshot_counts(statement_id: int) -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import AuditEntry, Statement

    return {"versions": db.session.get(Statement, statement_id).version_count,
            "audit_entries": db.session.scalar(select(func.count()).select_from(AuditEntry)
                                               .where(AuditEntry.statement_id == statement_id))}


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
