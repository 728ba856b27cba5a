"""`make bench`: generate, measure in-process and under load, print the table of issue 7.

    python -m bench [--only sqlite|postgresql] [--skip-load]

SQLite always (a fresh file under bench/.work/); PostgreSQL too when
BENCH_DATABASE_URL (or else TEST_DATABASE_URL) names one. THE BENCHMARK DROPS
AND RECREATES THE PUBLIC SCHEMA OF THAT DATABASE: give it a database of its own.
Results also go to bench/results/<database>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import load as loadgen
from bench.common import make_app, postgres_url, reset_schema
from bench.generate import SMALL, Spec, freeze_sign_publish, generate
from bench.measure import (
    QueryCounter,
    accept_with_siblings,
    bare_render,
    client_for,
    count_queries,
    diff_main_reference,
    page,
)

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
RESULTS = HERE / "results"
MAX_QUERIES = 8


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(
            next(
                line.split()[1]
                for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")
            )
        )
    except OSError:
        mem_kb = 0
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "date": dt.datetime.now().astimezone().isoformat(timespec="minutes"),
        "load_tool": "wrk" if shutil.which("wrk") else "python fallback",
    }


def bench_database(name: str, url: str, spec: Spec, skip_load: bool, load_seconds: int) -> dict:
    from app.drafting import operations as drafting
    from app.extensions import db
    from app.models import Amendment, Statement, Version

    instance = WORK / f"instance-{name}"
    app = make_app(url, str(instance))
    r: dict = {"database": name}
    log(f"[{name}] fresh schema, generating")
    with app.app_context():
        reset_schema()
        small = generate(SMALL, log=log)
        big = generate(spec, log=log)
        r["generation_s"] = small.seconds + big.seconds
        r["data"] = {**big.counts, "statuses": big.statuses}
        engine = db.engine
        db.session.remove()
        if engine.dialect.name == "postgresql":  # fresh statistics, as autovacuum would give a live database
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    counter = QueryCounter(engine)
    sid, small_sid = big.statement_id, small.statement_id
    with app.app_context():
        statement_texts = [p.text for p in drafting.live_paragraphs(db.session.get(Statement, sid))]
        db.session.remove()
    bare = bare_render(spec.title, statement_texts)

    log(f"[{name}] in-process pages (amending phase)")
    paths = {
        "statement": (f"/statements/{sid}", f"/statements/{small_sid}"),
        "amendment": (f"/amendments/{big.amendment_id}", f"/amendments/{small.amendment_id}"),
        "history": (f"/statements/{sid}/history", f"/statements/{small_sid}/history"),
        "compare": (
            f"/statements/{sid}/compare?from=1&to={spec.versions}",
            f"/statements/{small_sid}/compare?from=1&to={SMALL.versions}",
        ),
    }
    client, small_client = client_for(app, big.participant_email), client_for(app, small.participant_email)
    pages: dict = {}
    fragments = app.extensions["concord_fragments"]
    for what, (path, small_path) in paths.items():
        # The two pages with a target relative to the bare template are measured in alternation with it;
        # their queries are counted with this worker's caches empty.
        cached = what in ("statement", "amendment")
        cold = fragments.clear if cached else None
        timing = page(client, counter, path, reference=bare if cached else None, cold=cold)
        small_timing = page(small_client, counter, small_path, cold=cold, min_runs=1, max_runs=1)
        pages[what] = {
            "path": path,
            "ms": timing.median * 1000,
            "runs": timing.runs,
            "queries": timing.queries,
            "queries_small": small_timing.queries,
            "kb": timing.size / 1024,
        }
        if timing.reference:
            pages[what].update(bare_ms=timing.reference * 1000, ratio=timing.ratio)
        if cached:  # the same page with this worker's fragment cache emptied
            uncached = page(client, counter, path, clear=fragments.clear)
            pages[what]["uncached_ms"] = uncached.median * 1000
        log(
            f"    {what}: {timing.median * 1000:.1f} ms ({timing.runs} runs), "
            f"{timing.queries} queries "
            f"(small statement: {small_timing.queries})"
        )

    # The amendment page's queries for one amendment of each kind and status (an accepted one also
    # shows the version it made, a conflicted one the paragraph's text now), each counted cold.
    with app.app_context():
        ids = db.session.execute(db.select(db.func.min(Amendment.id), Amendment.kind, Amendment.status)
                                 .where(Amendment.statement_id == sid)
                                 .group_by(Amendment.kind, Amendment.status)).all()
        db.session.remove()
    per_kind = {f"{kind} {status}": count_queries(counter, lambda i=i: client.get(f"/amendments/{i}"),
                                                  cold=fragments.clear) for i, kind, status in ids}
    pages["amendment"]["queries_per_kind"] = per_kind
    log(f"    amendment page queries per kind and status: {per_kind}")

    with app.app_context():
        v = {
            n: db.session.scalar(
                db.select(Version.canonical_text).where(Version.statement_id == sid, Version.number == n)
            )
            for n in (1, spec.versions)
        }
        r["bare_template_ms"] = pages["statement"]["bare_ms"]
        r["diff_main_ms"] = diff_main_reference(v[1], v[spec.versions]) * 1000
        log(
            f"    references: bare template {r['bare_template_ms']:.2f} ms, "
            f"diff_main {r['diff_main_ms']:.1f} ms"
        )
        log(f"[{name}] accept with 50 open siblings")
        seconds, outcomes = accept_with_siblings(sid, big.coordinator_id)
        r["accept_ms"], r["accept_sibling_outcomes"] = seconds * 1000, outcomes
        log(f"    {seconds * 1000:.1f} ms; siblings became {outcomes}")
        log(f"[{name}] freeze, 40 signatures, publish")
        r["publish_s"] = freeze_sign_publish(big) + freeze_sign_publish(small)
        db.session.remove()

    anonymous = client_for(app, None)
    for what, suffix in (("published", ""), ("published_txt", ".txt")):
        timing = page(anonymous, counter, f"/p/{big.slug}{suffix}")
        small_timing = page(anonymous, counter, f"/p/{small.slug}{suffix}", min_runs=1, max_runs=1)
        pages[what] = {
            "path": f"/p/{big.slug}{suffix}",
            "ms": timing.median * 1000,
            "runs": timing.runs,
            "queries": timing.queries,
            "queries_small": small_timing.queries,
            "kb": timing.size / 1024,
        }
        log(
            f"    {what}: {timing.median * 1000:.1f} ms, {timing.queries} queries "
            f"(small: {small_timing.queries})"
        )
    r["pages"] = pages
    with app.app_context():
        db.engine.dispose()

    if not skip_load:
        log(
            f"[{name}] gunicorn ({' '.join(loadgen.GUNICORN_ARGS)}) under load, "
            f"{loadgen.CONNECTIONS} connections"
        )
        env = {"CONCORD_BENCH_DATABASE_URL": url, "CONCORD_BENCH_INSTANCE": str(instance)}
        # Both servers stay up (idle between runs); hello is measured before and after each row,
        # and each row is compared with the mean of those two, as the machine's speed drifts.
        server, hello = loadgen.Server("bench.wsgi:app", env), loadgen.Server("bench.hello:app", {})
        try:
            server.wait(f"/p/{big.slug}")
            hello.wait("/hello")
            loadgen.load(server.url(f"/p/{big.slug}"), 2)  # warm-up
            loadgen.load(hello.url("/hello"), 2)

            def measure_hello() -> float:
                result = loadgen.load(hello.url("/hello"), load_seconds)
                r.setdefault("load_hello_runs", []).append(result.__dict__)
                log(f"    reference hello: {result.rps:.1f} req/s ({result.errors} errors)")
                return result.rps

            before = measure_hello()
            for what, suffix in (("published", ""), ("published_txt", ".txt")):
                result = loadgen.load(server.url(f"/p/{big.slug}{suffix}"), load_seconds)
                after = measure_hello()
                r[f"load_{what}"] = {**result.__dict__, "hello_rps": (before + after) / 2}
                log(f"    /p/<slug>{suffix}: {result.rps:.1f} req/s ({result.errors} errors)")
                before = after
            rss = server.worker_rss_mb()
            r["worker_rss_mb"] = max(rss) if rss else None
            r["worker_rss_all_mb"] = rss
            log(f"    worker RSS after the load: {', '.join(f'{m:.0f} MB' for m in rss)}")
        finally:
            server.stop()
            hello.stop()
    return r


def rows(r: dict) -> list[tuple[str, str, str, str, str, str]]:
    """(what, absolute, reference, ratio, target, verdict) per row of the issue's table."""
    out = []
    p = r["pages"]

    def ratio_row(what, ms, ref_ms, ref_name, limit, ratio=None):
        ratio = ms / ref_ms if ratio is None else ratio
        out.append(
            (
                what,
                f"{ms:.1f} ms",
                f"{ref_ms:.2f} ms ({ref_name})",
                f"{ratio:.2f}x",
                f"<= {limit}x",
                "PASS" if ratio <= limit else "FAIL",
            )
        )

    # Page and bare template alternate in short blocks; the ratio is the median of the blocks' ratios.
    paragraphs = r["data"]["paragraphs"]
    for what, label, limit in (
        ("statement", f"statement page ({paragraphs} ¶, open amendments)", 1.5),
        ("amendment", "amendment page with its diff", 2),
    ):
        ratio_row(label, p[what]["ms"], p[what]["bare_ms"], f"bare Jinja, {paragraphs} ¶, alternated", limit,
                  ratio=p[what]["ratio"])
    for what in ("statement", "amendment", "history", "compare", "published"):
        q, qs = p[what]["queries"], p[what]["queries_small"]
        ok = q <= MAX_QUERIES and q == qs
        reference = f"{qs} on a 10 ¶ statement"
        if "queries_per_kind" in p[what]:
            counts = p[what]["queries_per_kind"]
            ok = ok and max(counts.values()) <= MAX_QUERIES
            reference += f"; {min(counts.values())}–{max(counts.values())} over {len(counts)} kinds and statuses"
        out.append(
            (
                f"SQL queries: {what} page",
                f"{q}",
                reference,
                "—",
                f"<= {MAX_QUERIES}, constant",
                "PASS" if ok else "FAIL",
            )
        )
    ratio_row(
        f"compare v1 → v{r['data']['versions']}", p["compare"]["ms"], r["diff_main_ms"], "one diff_main", 3
    )
    out.append(
        (
            "accept with 50 open siblings (rebase)",
            f"{r['accept_ms']:.1f} ms",
            "—",
            "—",
            "< 150 ms",
            "PASS" if r["accept_ms"] < 150 else "FAIL",
        )
    )
    if "load_published" in r:
        for what, label in (
            ("published", "published page under load"),
            ("published_txt", "published .txt under load"),
        ):
            load = r[f"load_{what}"]
            hello = load["hello_rps"]
            ratio = load["rps"] / hello
            ok = ratio >= 0.7 and not load["errors"]
            out.append(
                (
                    label,
                    f"{load['rps']:.0f} req/s",
                    f"{hello:.0f} req/s (hello, before and after)",
                    f"{ratio:.2f}x",
                    ">= 0.7x",
                    "PASS" if ok else "FAIL",
                )
            )
        rss = r["worker_rss_mb"]
        out.append(
            (
                "worker RSS after the load",
                f"{rss:.0f} MB",
                "—",
                "—",
                "< 150 MB",
                "PASS" if rss is not None and rss < 150 else "FAIL",
            )
        )
    # Context, no target.
    for what in ("statement", "amendment"):
        out.append((f"(info) {what} page, rendered (fragment not cached)", f"{p[what]['uncached_ms']:.1f} ms",
                    "—", "—", "—", ""))
    out.append(("(info) history page", f"{p['history']['ms']:.1f} ms", "—", "—", "—", ""))
    out.append(("(info) published page in-process", f"{p['published']['ms']:.1f} ms", "—", "—", "—", ""))
    out.append(
        ("(info) published .txt in-process", f"{p['published_txt']['ms']:.1f} ms", "—", "—", "—", "")
    )
    out.append(("(info) generation (both statements)", f"{r['generation_s']:.1f} s", "—", "—", "—", ""))
    out.append(("(info) freeze + 40 signatures + publish", f"{r['publish_s']:.1f} s", "—", "—", "—", ""))
    return out


HEAD = ("what", "absolute", "reference", "ratio", "target", "result")


def text_table(table) -> str:
    widths = [max(len(str(row[i])) for row in [HEAD, *table]) for i in range(len(HEAD))]
    line = "  ".join("-" * w for w in widths)
    fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))  # noqa: E731
    return "\n".join([fmt(HEAD), line, *(fmt(row) for row in table)])


def markdown_table(table) -> str:
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in table]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--skip-load", action="store_true", help="no gunicorn/wrk part")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a tiny run (30 ¶, 200 amendments, 2 s of load) to check the benchmark itself; "
        "its figures mean nothing",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    RESULTS.mkdir(exist_ok=True)
    info = machine()
    log(
        f"machine: {info['nproc']} CPUs, {info['cpu']}, {info['ram_gb']} GB RAM; "
        f"load tool: {info['load_tool']}"
    )
    if info["load_tool"] != "wrk":
        log("WARNING: wrk is not installed; the load rows use the Python fallback generator (labelled).")
    databases = []
    if args.only in (None, "sqlite"):
        databases.append(("sqlite", f"sqlite:///{WORK / 'bench.db'}"))
    pg = postgres_url()
    if args.only in (None, "postgresql"):
        if pg:
            databases.append(("postgresql", pg))
        else:
            log("PostgreSQL skipped: set BENCH_DATABASE_URL to a PostgreSQL database of its own.")
    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE.parent
    )
    for name, url in databases:
        spec = (
            Spec(paragraphs=30, organisations=10, amendments=200, versions=20, siblings_before_accepts=30)
            if args.smoke
            else Spec()
        )
        result = bench_database(name, url, spec, args.skip_load, 2 if args.smoke else loadgen.DURATION)
        result["spec"] = spec.__dict__
        result["machine"] = info
        result["commit"] = os.environ.get("BENCH_COMMIT_LABEL") or git.stdout.strip() + (
            " (dirty)"
            if subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                cwd=HERE.parent,
            ).stdout.strip()
            else ""
        )
        table = rows(result)
        result["table"] = table
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))
        (RESULTS / f"{name}.md").write_text(markdown_table(table) + "\n")
        print(
            f"\n=== {name} · {info['date']} · {info['nproc']} CPUs {info['cpu']} · commit {result['commit']}"
        )
        print(text_table(table), flush=True)
    log(
        f"\nbenchmark took {time.perf_counter() - started:.0f} s; "
        f"results in {RESULTS.relative_to(HERE.parent)}/"
    )
    return 0
