"""A real Concord server for the browser tests and the screenshots: a fresh SQLite database, then what
`make run` serves (app/devserver.py: gunicorn, one worker with threads, the mail sender beside it writing
to instance/outbox/) on 127.0.0.1 on a free port. Also the Chromium launch and the axe-core check.

Nothing here imports the app: the server is a separate process, as in production.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
# axe-core 4.14.1 from the npm registry (`npm pack axe-core@4.14.1`), vendored unchanged with its
# MPL-2.0 licence header. To update: npm pack axe-core@<version>, copy package/axe.min.js here.
AXE_SOURCE = Path(__file__).with_name("axe.min.js")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
READY_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("MAIL_SERVER", "RATELIMIT_STORAGE_URI", "TEST_DATABASE_URL"):
        env.pop(name, None)
    env.update(
        FLASK_APP="wsgi",
        CONCORD_ENV="development",
        CONCORD_INSTANCE=str(workdir / "instance"),
        DATABASE_URL=f"sqlite:///{workdir / 'concord.db'}",
        SECRET_KEY=secrets.token_hex(32),
        # Cheap password hashing: the browser tests log in and sign many times.
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_COST="8192",
        # One IP (127.0.0.1) logs in and signs as many people within a minute or two: login rate
        # limits would refuse it. They have tests of their own.
        RATELIMIT_ENABLED="false",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def flask(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _wait_until_ready(process: subprocess.Popen, port: int, log: Path, path: str = "/about/seal") -> None:
    """Poll until the server answers HTTP; a bounded loop, failing early if gunicorn dies."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {process.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                pass
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2).close()
            return
        except (OSError, urllib.error.URLError):
            time.sleep(0.05)  # between polls only; readiness is the answer, not the clock
    raise RuntimeError(f"gunicorn did not answer on port {port} within {READY_TIMEOUT} s:\n{log.read_text()}")


@contextmanager
def concord_server(workdir: Path, *, demo: bool = False):
    """Yield ``(base_url, env)`` of the server `make run` starts, on a fresh database (with the demo data),
    rate limits off: one browser session logs in as many people from 127.0.0.1 within a minute or two."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = server_env(workdir)
    flask(env, "db", "upgrade")
    if demo:
        flask(env, "demo")
    with make_run_server(workdir, env=env, limits=False) as (url, env, _process):
        yield url, env


@contextmanager
def make_run_server(workdir: Path, *, env: dict[str, str] | None = None, ready_path: str = "/about/seal",
                    limits: bool = True):
    """Yield ``(base_url, env, process)`` of the server `make run` starts (``python -m app.devserver``: one
    gunicorn worker with threads, the mail sender beside it), on a fresh SQLite database, with the
    rate limits as configured by default (unless ``limits`` is false). The process is gunicorn's
    master; stopping it stops both."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**server_env(workdir), **(env or {})}
    if limits:
        env.pop("RATELIMIT_ENABLED", None)  # as make run has it: on
    env.pop("BASE_URL", None)  # as make run has it: the address served
    env.setdefault("CONCORD_MAIL_EVERY", "0.5")
    port = free_port()
    log = workdir / "devserver.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "app.devserver", "--host", "127.0.0.1", "--port", str(port)],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_until_ready(process, port, log, path=ready_path)
            yield f"http://127.0.0.1:{port}", env, process
        finally:
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def axe_violations(page) -> list[dict]:
    """Run axe-core (WCAG 2.0/2.1 A and AA) on the page as it is now; return the violations.

    The app's CSP allows only same-origin script files, so axe is not added as a <script> tag:
    page.evaluate() runs its source through the DevTools protocol, which CSP does not govern.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']}); return r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary,"
        " html: n.html.slice(0, 200)}))})); }",
        AXE_TAGS,
    )
    return result


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe-core found {len(violations)} WCAG 2.1 A/AA violation(s) on {url}:"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    at {node['target']}: {node['html']}")
            lines.append("      " + (node["summary"] or "").replace("\n", "\n      "))
        if len(v["nodes"]) > 5:
            lines.append(f"    … and {len(v['nodes']) - 5} more")
    return "\n".join(lines)


def dump(obj) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False)
