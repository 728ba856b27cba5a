"""`make bench`: generate, measure cold in-process and under load, print the table of issue 17.

    python -m bench [--only sqlite|postgresql] [--rows NAME,...] [--skip-load] [--smoke] [--reuse]

SQLite always (a fresh file under bench/.work/); PostgreSQL too when
BENCH_DATABASE_URL (or else TEST_DATABASE_URL) names one. THE BENCHMARK DROPS
AND RECREATES THE PUBLIC SCHEMA OF THAT DATABASE: give it a database of its own.
The method is in docs/performance.md. Results also go to bench/results/<database>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import pickle
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import load as loadgen
from bench import mixed
from bench import rows as inproc
from bench.common import PASSWORD, make_app, postgres_url, reset_schema
from bench.generate import SMOKE, Spec, freeze_sign_publish, generate
from bench.measure import QueryCounter

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
CACHE = HERE / ".cache"
RESULTS = HERE / "results"

# The rows, in the order they run. In-process first, then the load part.
IN_PROCESS = ("statement", "viewers", "amendment", "merged", "history", "compare", "list", "writes",
              "accept50", "flood", "import", "compare2mb")
UNDER_LOAD = ("conditional", "mixed", "published")  # "published" also takes the workers' RSS
ROWS = IN_PROCESS + UNDER_LOAD


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> dict:
    cpu, mem_kb = "", 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal")))
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "date": dt.datetime.now().astimezone().isoformat(timespec="minutes"),
        "load_tool": "wrk" if shutil.which("wrk") else "python fallback",
    }


def _cache_key(name: str, spec: Spec) -> str:
    migrations = sorted(p.name for p in (HERE.parent / "migrations" / "versions").glob("*.py"))
    raw = json.dumps([name, spec.__dict__, migrations], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database in WAL mode (what the WAL holds included), by SQLite's
    backup API: a file copy could miss the WAL while a connection of the app still holds it."""
    import sqlite3

    target.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def prepare(name: str, url: str, spec: Spec, reuse: bool):
    """The app on a fresh schema with the generated statement (or, with --reuse on SQLite, a copy of
    the one generated last time with the same spec and migrations)."""
    from app.extensions import db

    instance = WORK / f"instance-{name}"
    cached = CACHE / f"{name}-{_cache_key(name, spec)}"
    if reuse and name == "sqlite" and cached.with_suffix(".db").exists():
        _sqlite_copy(cached.with_suffix(".db"), WORK / "bench.db")
        generated = pickle.loads(cached.with_suffix(".pickle").read_bytes())
        log(f"[{name}] reusing the statement generated earlier ({cached.name})")
        return make_app(url, str(instance)), generated, instance
    app = make_app(url, str(instance))
    log(f"[{name}] fresh schema, generating (every proposal through the rules)")
    with app.app_context():
        reset_schema()
        generated = generate(spec, log=log)
        engine = db.engine
        db.session.remove()
        if engine.dialect.name == "postgresql":  # fresh statistics, as autovacuum would give a live database
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        engine.dispose()
    if name == "sqlite":
        CACHE.mkdir(exist_ok=True)
        _sqlite_copy(WORK / "bench.db", cached.with_suffix(".db"))
        cached.with_suffix(".pickle").write_bytes(pickle.dumps(generated))
    return app, generated, instance


def bench_database(name: str, url: str, spec: Spec, selected: list[str], args) -> dict:
    from app.extensions import db

    r: dict = {"database": name, "loadavg_start": loadavg(), "rows": {}}
    app, g, instance = prepare(name, url, spec, args.reuse)
    r["generation_s"] = g.seconds
    r["data"] = {**g.counts, "statuses": g.statuses}
    with app.app_context():
        counter = QueryCounter(db.engine)
    ctx = inproc.Context(app, g, counter, log)
    cap = args.cap

    for row in [x for x in IN_PROCESS if x in selected]:
        log(f"[{name}] {row} (load average {loadavg()})")
        started = time.perf_counter()
        if row in ("import", "compare2mb"):
            if "import" in r["rows"] or "compare2mb" in r["rows"]:
                continue
            result = inproc.import_and_compare(ctx, cap, do_import="import" in selected,
                                               do_compare="compare2mb" in selected,
                                               paragraphs=100 if args.smoke else 1000)
            r["rows"].update(result)
        else:
            fn = {"statement": inproc.statement_page, "viewers": inproc.ten_viewers,
                  "amendment": inproc.amendment_page, "merged": inproc.merged_view, "history": inproc.history,
                  "compare": inproc.compare, "list": inproc.amendment_list, "writes": inproc.writes,
                  "accept50": inproc.accept_with_siblings,
                  "flood": lambda c: inproc.flood(c, cap, per_org=2 if args.smoke else 20)}[row]
            r["rows"][row] = fn(ctx)
        log(f"    {row}: {summary(row, r['rows'])} ({time.perf_counter() - started:.0f} s)")
    r["change_ms"] = (sorted(ctx.changer.seconds)[len(ctx.changer.seconds) // 2] * 1000
                      if ctx.changer.seconds else None)

    load_rows = [x for x in UNDER_LOAD if x in selected] if not args.skip_load else []
    if load_rows:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        under_load(name, url, instance, app, g, load_rows, r, args)
    r["loadavg_end"] = loadavg()
    return r


def summary(row: str, results: dict) -> str:
    """One line for the log."""
    if row in ("import", "compare2mb"):
        return ", ".join(f"{k}: {v.get('status')} " + ", ".join(f"{x}={v[x]:.2f} s" for x in
                                                                 ("seconds", "preview_s", "import_s") if x in v)
                         for k, v in results.items() if k in ("import", "compare2mb"))
    x = results[row]
    if "skipped" in x:
        return x["skipped"]
    if "ratio" in x:
        return f"{x['ms']:.1f} ms, ratio {x['ratio']:.2f}x (bare {x['reference_ms']:.2f} ms)"
    if "seconds" in x:
        return f"{x.get('status', '')} {x['seconds']:.2f} s"
    if "ms" in x:
        return f"{x['ms']:.1f} ms"
    return json.dumps(x, default=str)[:300]


def under_load(name, url, instance, app, g, load_rows, r, args) -> None:
    from app.extensions import db

    seconds = 2 if args.smoke else loadgen.DURATION
    env = {"CONCORD_BENCH_DATABASE_URL": url, "CONCORD_BENCH_INSTANCE": str(instance)}
    servers = [loadgen.Server("bench.wsgi:app", env)]
    if "mixed" in load_rows and name == "postgresql":
        servers.append(loadgen.Server("bench.wsgi:app", env))
    hello = loadgen.Server("bench.hello:app", {})
    log(f"[{name}] gunicorn ({' '.join(loadgen.GUNICORN_ARGS)}) x {len(servers)} and hello, "
        f"{loadgen.CONNECTIONS} connections")
    state = {"hello": None}

    def measure_hello() -> float:
        result = loadgen.load(hello.url("/hello"), seconds)
        r.setdefault("load_hello_runs", []).append({**result.__dict__, "loadavg": loadavg()})
        log(f"    hello: {result.rps:.0f} req/s ({result.errors} errors; load average {loadavg()})")
        return result.rps

    def around(fn) -> dict:
        """fn() between two hello runs; its result gets their mean as "hello_rps"."""
        before = state["hello"] if state["hello"] is not None else measure_hello()
        result = fn()
        after = measure_hello()
        state["hello"] = after
        result["hello_rps"] = (before + after) / 2
        result["hello_before_after"] = [before, after]
        return result

    try:
        for server in servers:
            server.wait("/login")
        hello.wait("/hello")
        loadgen.load(hello.url("/hello"), 2)
        app_url = servers[0].url
        statement_path = f"/statements/{g.statement_id}"
        viewer_email = g.delegate_emails[g.org(inproc.VIEWER_ORG)]

        if "conditional" in load_rows:
            jar = loadgen.http_login(servers[0].url(""), viewer_email, PASSWORD)
            cookie = loadgen.cookie_header(jar)
            status, headers, body = loadgen.http_get(app_url(statement_path), {"Cookie": cookie})
            row: dict = {"status": status, "kb": len(body) / 1024, "etag": headers.get("etag")}
            if status != 200:
                row["failure"] = f"GET {statement_path} answered {status}"
            elif not headers.get("etag"):
                row["failure"] = "the app sends no ETag for the statement page"
            else:
                status2, _, body2 = loadgen.http_get(app_url(statement_path),
                                                     {"Cookie": cookie, "If-None-Match": headers["etag"]})
                row["conditional_status"] = status2
                if status2 != 304:
                    row["failure"] = f"a GET with If-None-Match naming its ETag answered {status2}, not 304"
                else:
                    conditional = {"Cookie": cookie, "If-None-Match": headers["etag"]}
                    loadgen.load(app_url(statement_path), 2, conditional)  # warm-up

                    def conditional_load() -> dict:
                        result = loadgen.load(app_url(statement_path), seconds, conditional)
                        return {**result.__dict__, "bytes_per_response": result.bytes_read / max(1, result.requests)}

                    row.update(around(conditional_load))
            r["rows"]["conditional"] = row
            log(f"    conditional GET: {row.get('failure') or str(round(row['rps'])) + ' req/s'}")

        if "mixed" in load_rows:
            if name != "postgresql":
                r["rows"]["mixed"] = {"skipped": "PostgreSQL only"}
            else:
                r["rows"]["mixed"] = mixed_load(app, g, servers, around, args)

        if "published" in load_rows:
            with app.app_context():
                r["publish_s"] = freeze_sign_publish(g)
                db.session.remove()
            state["hello"] = None
            servers[0].wait(f"/p/{g.slug}")
            loadgen.load(app_url(f"/p/{g.slug}"), 2)  # warm-up
            for what, suffix in (("published", ""), ("published_txt", ".txt")):
                r["rows"][what] = around(lambda s=suffix: loadgen.load(app_url(f"/p/{g.slug}{s}"), seconds).__dict__)
                log(f"    /p/<slug>{suffix}: {r['rows'][what]['rps']:.0f} req/s")
            # The floor of each (info): hello's bare app sending as many bytes, from memory and by sendfile.
            for what, suffix in (("published", ""), ("published_txt", ".txt")):
                size = len(loadgen.http_get(app_url(f"/p/{g.slug}{suffix}"))[2])
                for how in ("bytes", "file"):
                    key = f"floor_{what}_{how}"
                    r["rows"][key] = {"size": size, **around(
                        lambda p=f"/{how}/{size}": loadgen.load(hello.url(p), seconds).__dict__)}
                    log(f"    bare Flask, {size:,} bytes ({how}): {r['rows'][key]['rps']:.0f} req/s")
        rss = [m for server in servers for m in server.worker_rss_mb()]
        r["rows"]["rss"] = {"max_mb": max(rss) if rss else None, "all_mb": rss, "after": load_rows}
        log(f"    worker RSS after the load: {', '.join(f'{m:.0f} MB' for m in rss)}")
    finally:
        for server in [*servers, hello]:
            server.stop()


def mixed_load(app, g, servers, around, args) -> dict:
    from sqlalchemy import select

    from app.accounts.operations import create_api_token
    from app.drafting import operations as drafting
    from app.extensions import db
    from app.models import Amendment, Statement, User

    clients = list(range(2, 2 + mixed.PROCESSES * mixed.THREADS))  # organisations 2..17
    with app.app_context():
        tokens = {}
        for n in [1, *clients]:
            _, tokens[n] = create_api_token(db.session.get(User, g.delegates[g.org(n)]), "benchmark mixed load")
        db.session.commit()
        statement = db.session.get(Statement, g.statement_id)
        paragraphs = {p.id: p.text for p in drafting.live_paragraphs(statement)}
        pool = list(db.session.scalars(select(Amendment.id).where(
            Amendment.statement_id == g.statement_id, Amendment.status.in_(("open", "rebased")))))
        before = mixed.snapshot_counts(g.statement_id)
        db.session.remove()
    cookies = {n: loadgen.cookie_header(loadgen.http_login(servers[n % 2].url(""), g.delegate_emails[g.org(n)],
                                                           PASSWORD)) for n in clients}
    run = time.strftime("%H%M%S")
    duration = 5 if args.smoke else mixed.SECONDS
    pages = [f"/statements/{g.statement_id}", "/amendments/{amendment}", f"/statements/{g.statement_id}/amendments"]

    def go() -> dict:
        deadline = time.time() + duration
        specs = [mixed.ClientSpec(
            index=i, org_slug=g.org_slugs[g.org(n)], token=tokens[n], cookie=cookies[n], coordinator_token=tokens[1],
            servers=[s.url("").removeprefix("http://") for s in servers], statement_id=g.statement_id,
            paragraphs=paragraphs, pool=pool, run=run, deadline=deadline, pages=pages) for i, n in enumerate(clients)]
        records = mixed.run(specs)
        return {"records": records, **mixed.summarise(records)}

    log(f"    mixed load: {len(clients)} clients, {duration} s, {len(servers)} servers")
    result = around(go)
    with app.app_context():
        result["check"] = mixed.check(g.statement_id, result["records"], before)
        db.session.remove()
    log(f"    mixed: {result.get('rps', 0):.1f} req/s, p50 {result.get('p50_ms', 0):.0f} ms, "
        f"p99 {result.get('p99_ms', 0):.0f} ms, {result.get('server_errors')} server errors, "
        f"{result.get('refused')} refused; problems: {result['check']['problems'] or 'none'}")
    return result


# --- the table ---------------------------------------------------------------------------------------

HEAD = ("what", "absolute", "reference", "ratio", "target", "result")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def table_rows(r: dict) -> list[tuple]:
    out: list[tuple] = []
    rows = r["rows"]
    paragraphs, amendments = r["data"]["paragraphs"], r["data"]["amendments"]

    def not_run(label: str, target: str, why: str) -> None:
        out.append((label, "—", "—", "—", target, why))

    def ratio_row(key, label, reference, limit):
        x = rows.get(key)
        if x is None:
            return
        if "skipped" in x:
            not_run(label, f"<= {limit}x", f"SKIP ({x['skipped']})")
            return
        out.append((label, f"{x['ms']:.1f} ms", f"{x['reference_ms']:.2f} ms ({reference}, alternated)",
                    f"{x['ratio']:.2f}x", f"<= {limit}x", verdict(x["ratio"] <= limit)))

    ratio_row("statement", f"statement page, {paragraphs} ¶ / {amendments:,} amendments, cold, delegate",
              f"bare render, {paragraphs} ¶", 3)
    if "viewers" in rows:
        x = rows["viewers"]
        worst, best = max(x["per_slot_ratio"]), min(x["per_slot_ratio"])
        out.append(("same, viewers from 10 organisations in turn", f"{x['ms']:.1f} ms",
                    f"{x['reference_ms']:.2f} ms (bare render, alternated)",
                    f"{worst:.2f}x worst ({best:.2f}x best)", "<= 3x each", verdict(worst <= 3)))
    ratio_row("amendment", "amendment page, cold", "one ¶ with its diff", 3)
    ratio_row("merged", "merged view (all open amendments inline), cold", f"bare render, {paragraphs} ¶", 6)

    def absolute_row(key, label, limit_ms):
        x = rows.get(key)
        if x is None:
            return
        reference = f"{x['reference_ms']:.2f} ms (bare render, VM speed); {x['views']} views"
        out.append((label, f"{x['ms']:.1f} ms", reference, "—", f"< {limit_ms} ms", verdict(x["ms"] < limit_ms)))

    absolute_row("history", "history, cold", 150)
    absolute_row("compare", f"compare v1 → v{rows.get('compare', {}).get('to', '')}, cold", 150)

    if "conditional" in rows:
        x = rows["conditional"]
        if "failure" in x:
            out.append(("conditional GET, logged in, under load", "—", "—", "—", "304, >= 0.5x hello",
                        f"FAIL ({x['failure']})"))
        else:
            ratio = x["rps"] / x["hello_rps"]
            small = x["bytes_per_response"] <= 2048
            ok = ratio >= 0.5 and not x["errors"] and small
            note = "" if small else f" ({x['bytes_per_response']:.0f} B per response: not 304s)"
            out.append(("conditional GET, logged in, under load", f"{x['rps']:.0f} req/s",
                        f"{x['hello_rps']:.0f} req/s (hello, before and after)", f"{ratio:.2f}x",
                        "304, >= 0.5x hello", verdict(ok) + note))
    if "accept50" in rows:
        x = rows["accept50"]
        out.append(("accept with 50 ordinary open siblings", f"{x['ms']:.1f} ms", "—", "—", "< 150 ms",
                    verdict(x["ms"] < 150)))

    def capped_row(key, label, limit_s, detail=""):
        x = rows.get(key)
        if x is None:
            return
        if x["status"] == "timeout":
            out.append((label, f"> {x['cap_s']:.0f} s (stopped)", detail, "—", f"< {limit_s} s", "FAIL"))
        elif x["status"] != "ok":
            out.append((label, "error", detail, "—", f"< {limit_s} s",
                        "FAIL (" + x["error"].strip().splitlines()[-1][:120] + ")"))
        else:
            out.append((label, f"{x['seconds']:.2f} s", detail, "—", f"< {limit_s} s", verdict(x["seconds"] < limit_s)))

    if "flood" in rows:
        x = rows["flood"]
        capped_row("flood", "accept after a flood (3 organisations × 20 × 10,000 characters)", 2,
                   f"each flood proposal {x['propose_ms']:.0f} ms (median), {x['propose_max_ms']:.0f} ms max")
    if "compare2mb" in rows:
        x = rows["compare2mb"]
        size = max(x.get("version_bytes") or [0]) / 1e6
        capped_row("compare2mb", "compare of two 2 MB versions differing in every paragraph", 2,
                   f"versions of {size:.2f} MB" if size else "")
    if "import" in rows:
        x = rows["import"]
        if x["status"] == "ok":
            ok = x["preview_s"] < 2 and x["import_s"] < 2
            out.append(("import of 1,000 paragraphs (preview, import)",
                        f"{x['preview_s']:.2f} s, {x['import_s']:.2f} s",
                        f"{x['runs'][0]['bytes'] / 1e6:.2f} MB pasted", "—", "< 2 s each", verdict(ok)))
        else:
            capped_row("import", "import of 1,000 paragraphs (preview, import)", 2)
    if "writes" in rows:
        x = rows["writes"]
        for kind in ("position", "comment", "proposal"):
            web, api = x[f"{kind} web"]["statements"], x[f"{kind} api"]["statements"]
            out.append((f"SQL statements per {kind} (web form / API)", f"{web} / {api}",
                        f"{x[f'{kind} web']['ms']:.1f} / {x[f'{kind} api']['ms']:.1f} ms per request", "—",
                        "<= 10 each", verdict(max(web, api) <= 10)))
    absolute_row("list", f"amendment list, {amendments:,} amendments, cold", 50)
    if "mixed" in rows:
        x = rows["mixed"]
        if "skipped" in x:
            not_run("mixed write load, 16 clients, two servers", ">= 0.1x hello, p99 < 500 ms, every 2xx row",
                    f"— ({x['skipped']})")
        else:
            ratio = x["rps"] / x["hello_rps"]
            problems = x["check"]["problems"]
            ok = ratio >= 0.1 and x["p99_ms"] < 500 and not x["server_errors"] and not problems
            why = []
            if x["server_errors"]:
                why.append(f"{x['server_errors']} 5xx/socket errors")
            if problems:
                why.append("; ".join(problems)[:200])
            out.append(("mixed write load, 16 clients, two servers", f"{x['rps']:.1f} req/s, p99 {x['p99_ms']:.0f} ms",
                        f"{x['hello_rps']:.0f} req/s (hello, before and after)", f"{ratio:.3f}x",
                        ">= 0.1x hello, p99 < 500 ms, every 2xx row",
                        verdict(ok) + (f" ({', '.join(why)})" if why else "")))
    for key, label in (("published", "published page under load"), ("published_txt", "published .txt under load")):
        if key in rows:
            x = rows[key]
            ratio = x["rps"] / x["hello_rps"]
            out.append((label, f"{x['rps']:.0f} req/s", f"{x['hello_rps']:.0f} req/s (hello, before and after)",
                        f"{ratio:.2f}x", ">= 0.7x", verdict(ratio >= 0.7 and not x["errors"])))
    if "rss" in rows and rows["rss"]["max_mb"] is not None:
        m = rows["rss"]["max_mb"]
        out.append(("worker RSS after the load", f"{m:.0f} MB", "after " + ", ".join(rows["rss"]["after"]), "—",
                    "< 150 MB", verdict(m < 150)))

    # Context, no target.
    if "mixed" in rows and "by_kind" in rows["mixed"]:
        x = rows["mixed"]
        for kind, k in x["by_kind"].items():
            out.append((f"(info) mixed load: {kind}", f"{k['requests']} requests, p50 {k['p50_ms']:.0f} ms, "
                        f"p99 {k['p99_ms']:.0f} ms", " ".join(f"{s}:{n}" for s, n in sorted(k["statuses"].items())),
                        "—", "—", ""))
    for key, label in (("statement", "statement page"), ("amendment", "amendment page")):
        if key in rows and "warm" in rows[key]:
            w = rows[key]["warm"]
            out.append((f"(info) {label}, warm: the same view again, no change in between", f"{w['ms']:.1f} ms",
                        f"{w['reference_ms']:.2f} ms (its reference, alternated)", f"{w['ratio']:.2f}x", "—", ""))
    for key, label in (("statement", "statement page"), ("merged", "merged view")):
        if key in rows and "one_paragraph" in rows[key]:
            f = rows[key]["one_paragraph"]
            out.append((f"(info) {label} of a 1-paragraph statement, same title and participants, same delegate",
                        f"{f['ms']:.1f} ms", f"{f['reference_ms']:.2f} ms (the bare render of all paragraphs, "
                        "alternated)", f"{f['ratio']:.2f}x", "—", ""))
    for key, label in (("published", "published page"), ("published_txt", "published .txt")):
        for how, way in (("bytes", "from memory"), ("file", "by sendfile")):
            x = rows.get(f"floor_{key}_{how}")
            if x:
                out.append((f"(info) floor of the {label}: a bare Flask route sending its {x['size']:,} bytes {way}",
                            f"{x['rps']:.0f} req/s", f"{x['hello_rps']:.0f} req/s (hello, before and after)",
                            f"{x['rps'] / x['hello_rps']:.2f}x", "—", ""))
    if "amendment" in rows and "flask_floor" in rows["amendment"]:
        f = rows["amendment"]["flask_floor"]
        out.append(("(info) a bare Flask request (bench/hello.py, test client)", f"{f['ms']:.2f} ms",
                    f"{f['reference_ms']:.2f} ms (one ¶ with its diff, alternated)", f"{f['ratio']:.2f}x", "—", ""))
    for key in ("statement", "amendment", "history", "compare", "list"):
        if key in rows and "queries" in rows[key]:
            out.append((f"(info) SQL statements, one cold view: {key}", str(rows[key]["queries"]), "—", "—", "—", ""))
    if r.get("change_ms"):
        out.append(("(info) one change before a view (comment or position, untimed)", f"{r['change_ms']:.1f} ms",
                    "—", "—", "—", ""))
    out.append(("(info) generation", f"{r['generation_s']:.1f} s", "—", "—", "—", ""))
    if "publish_s" in r:
        out.append(("(info) freeze + 40 signatures + publish", f"{r['publish_s']:.1f} s", "—", "—", "—", ""))
    return out


def text_table(table) -> str:
    widths = [max(len(str(row[i])) for row in [HEAD, *table]) for i in range(len(HEAD))]
    line = "  ".join("-" * w for w in widths)
    fmt = lambda row: "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True))  # noqa: E731
    return "\n".join([fmt(HEAD), line, *(fmt(row) for row in table)])


def markdown_table(table) -> str:
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in table]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--rows", help="comma-separated rows to run (default: all); see --list-rows")
    parser.add_argument("--list-rows", action="store_true", help="print the rows' names and exit")
    parser.add_argument("--skip-load", action="store_true", help="no gunicorn/wrk part")
    parser.add_argument("--cap", type=float, default=30.0,
                        help="seconds after which a run-away row (flood, import, 2 MB compare) is stopped")
    parser.add_argument("--reuse", action="store_true",
                        help="SQLite: reuse the statement generated by an earlier run with the same spec and "
                             "migrations (for working on the benchmark; a real run generates afresh)")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny run (30 ¶, 200 amendments, 2 s of load) to check the benchmark itself; "
                             "its figures mean nothing")
    args = parser.parse_args(argv)
    if args.list_rows:
        print("\n".join(ROWS))
        return 0
    selected = list(ROWS)
    if args.rows:
        selected = [x.strip() for x in args.rows.split(",") if x.strip()]
        unknown = [x for x in selected if x not in ROWS]
        if unknown:
            parser.error(f"unknown rows {unknown}; the rows are: {', '.join(ROWS)}")

    started = time.perf_counter()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    RESULTS.mkdir(exist_ok=True)
    info = machine()
    log(f"machine: {info['nproc']} CPUs, {info['cpu']}, {info['ram_gb']} GB RAM; load tool: {info['load_tool']}; "
        f"load average {loadavg()}")
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
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE.parent)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True, cwd=HERE.parent).stdout.strip()
    commit = os.environ.get("BENCH_COMMIT_LABEL") or git.stdout.strip() + (" (dirty)" if dirty else "")
    spec = SMOKE if args.smoke else Spec()
    for name, url in databases:
        t0 = time.perf_counter()
        result = bench_database(name, url, spec, selected, args)
        result.update(spec=spec.__dict__, machine=info, commit=commit, selected=selected,
                      command="python -m bench " + " ".join(sys.argv[1:]), seconds=time.perf_counter() - t0)
        table = table_rows(result)
        result["table"] = table
        (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1, default=str))
        heading = (f"{name} · {info['date']} · commit {commit} · {info['nproc']} CPUs {info['cpu']} · "
                   f"load average {result['loadavg_start']} → {result['loadavg_end']} · "
                   f"{result['seconds']:.0f} s")
        (RESULTS / f"{name}.md").write_text(f"{heading}\n\n{markdown_table(table)}\n")
        print(f"\n=== {heading}")
        print(text_table(table), flush=True)
    log(f"\nbenchmark took {time.perf_counter() - started:.0f} s; results in {RESULTS.relative_to(HERE.parent)}/")
    return 0
