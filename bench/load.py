"""Load through a real gunicorn on 127.0.0.1: wrk if installed, else a labelled Python fallback."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = [str(Path(sys.executable).parent / "gunicorn")]
# The same settings for the app and the reference: what `make run` uses (2 sync workers), no access log.
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
GUNICORN_ARGS = ["--workers", str(WORKERS), "--worker-class", "sync", "--log-level", "warning"]
CONNECTIONS = 16
DURATION = int(os.environ.get("BENCH_LOAD_SECONDS", "10"))


@dataclass
class LoadResult:
    rps: float
    requests: int
    errors: int  # responses other than 2xx/3xx, and socket errors
    tool: str
    bytes_read: float = 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn master with its workers; stopped by its pid only."""

    def __init__(self, app: str, env: dict[str, str]):
        self.port = free_port()
        self.process = subprocess.Popen(
            [*GUNICORN, *GUNICORN_ARGS, "--bind", f"127.0.0.1:{self.port}", app],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url(path), timeout=10) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer {path} within {timeout} s")

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                # The parent pid is the second field after the ")" that ends the command name.
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return pids

    def worker_rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            if match:
                sizes.append(int(match.group(1)) / 1024)
        return sizes

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def load(url: str, seconds: int = DURATION, headers: dict[str, str] | None = None) -> LoadResult:
    if shutil.which("wrk"):
        return _wrk(url, seconds, headers or {})
    return _python_load(url, seconds, headers or {})


_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def _wrk(url: str, seconds: int, headers: dict[str, str]) -> LoadResult:
    extra = [arg for name, value in headers.items() for arg in ("-H", f"{name}: {value}")]
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", *extra, url], capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    match = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)(B|KB|MB|GB|TB) read", out)
    requests = int(match.group(1))
    read = float(match.group(2)) * _UNITS[match.group(3)]
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in match.groups())
    return LoadResult(rps, requests, errors, f"wrk -t2 -c{CONNECTIONS} -d{seconds}s", read)


def _python_load(url: str, seconds: int, headers: dict[str, str]) -> LoadResult:
    """FALLBACK when wrk is missing: 16 threads with http.client. Far weaker than wrk (the GIL),
    so the ratio is meaningful but the absolute requests/s understate the server."""
    host, _, rest = url.removeprefix("http://").partition("/")
    hostname, port = host.split(":")
    path = "/" + rest
    deadline = time.monotonic() + seconds
    counts = [0] * CONNECTIONS
    errors = [0] * CONNECTIONS
    read = [0] * CONNECTIONS

    def worker(i: int) -> None:
        conn = None
        while time.monotonic() < deadline:
            try:
                conn = conn or http.client.HTTPConnection(hostname, int(port), timeout=30)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                read[i] += len(response.read())
                if response.status >= 400:
                    errors[i] += 1
                counts[i] += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except OSError:
                errors[i] += 1
                conn = None

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return LoadResult(
        sum(counts) / elapsed,
        sum(counts),
        sum(errors),
        f"PYTHON FALLBACK load generator (wrk not installed), {CONNECTIONS} threads, {seconds}s",
        sum(read),
    )


# --- logging in over HTTP --------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _cookies(response, jar: dict[str, str]) -> None:
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            jar[key.strip()] = val.strip()


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items() if v)


def http_login(base: str, email: str, password: str) -> dict[str, str]:
    """Log in through the login form over HTTP, as a browser does; returns the cookie jar."""
    host = base.removeprefix("http://")
    jar: dict[str, str] = {}
    conn = http.client.HTTPConnection(host, timeout=60)
    conn.request("GET", "/login")
    response = conn.getresponse()
    body = response.read().decode()
    _cookies(response, jar)
    conn.close()
    token = _CSRF.search(body).group(1)
    conn = http.client.HTTPConnection(host, timeout=60)
    form = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
    conn.request("POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie_header(jar)})
    response = conn.getresponse()
    response.read()
    _cookies(response, jar)
    conn.close()
    if response.status != 302:
        raise RuntimeError(f"login as {email} over HTTP: {response.status}")
    return jar


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    host, _, rest = url.removeprefix("http://").partition("/")
    conn = http.client.HTTPConnection(host, timeout=60)
    conn.request("GET", "/" + rest, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body
