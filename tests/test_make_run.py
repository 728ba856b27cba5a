"""`make run` as a newcomer starts it: one gunicorn worker with threads and a mail sender beside it
(app/devserver.py). The login and password-reset limits hold under concurrent attempts; e-mail reaches
instance/outbox/ without a second command, with links to the address actually served; stopping the
server stops the sender.

These start the real server (`python -m app.devserver`, the command the Makefile runs) on a fresh SQLite
database and talk to it over HTTP, as a browser would.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from tests.browser.server import ROOT, make_run_server

PASSWORD = "a long enough password"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def test_make_run_starts_the_devserver():
    """The Makefile's run target is `python -m app.devserver` with HOST, PORT and THREADS: what these tests start."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/python -m app.devserver --host $(HOST) --port $(PORT) --threads $(THREADS)" in recipe
    assert "gunicorn" not in recipe and "WORKERS" not in makefile


class Visitor:
    """One browser: its own cookies; GETs a form for its CSRF token, then POSTs it."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect())

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post_form(self, path: str, fields: dict[str, str]) -> int:
        _, page = self.get(path)
        data = urllib.parse.urlencode({"csrf_token": CSRF.search(page).group(1), **fields}).encode()
        try:
            with self.opener.open(self.base + path, data=data, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The make run server, and an admin account made with the CLI."""
    with make_run_server(tmp_path_factory.mktemp("make-run")) as (url, env, process):
        subprocess.run([sys.executable, "-m", "flask", "users", "create", "admin@example.org", "--name",
                        "Ada Admin", "--admin"], cwd=ROOT, env=env, input=PASSWORD + "\n", text=True,
                       check=True, capture_output=True)
        yield url, env, process


def test_one_worker_process_and_a_mail_sender_run_beside_the_master(served):
    """Counters in memory are shared only within one process: make run serves with one worker (and threads)."""
    _, _, process = served
    children = [_cmdline(pid) for pid in _children(process.pid)]
    assert sum("gunicorn" in c for c in children) == 1, children
    assert sum("notifications send-due --every" in c for c in children) == 1, children


@pytest.mark.parametrize("tag,words", [("de", "Anmelden"), ("es", "Iniciar sesión"), ("fr", "Se connecter"),
                                       ("en", "Log in")])
def test_every_interface_language_is_served_without_another_command(served, tag, words):
    """The compiled catalogues come with the code: `make run` on a fresh clone speaks all four languages."""
    request = urllib.request.Request(served[0] + "/login", headers={"Accept-Language": f"{tag},en;q=0.1"})
    with urllib.request.urlopen(request, timeout=30) as response:
        page = response.read().decode()
    assert f'<html lang="{tag}">' in page and words in page


def test_login_limit_holds_under_concurrent_attempts(served):
    """24 wrong passwords for one account at once: exactly 10 are checked (200), the other 14 get 429."""
    url, _, _ = served

    def attempt(_n: int) -> int:
        return Visitor(url).post_form("/login", {"email": "admin@example.org", "password": "wrong password"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(24)))
    assert statuses.count(200) == 10 and statuses.count(429) == 14, statuses


def test_reset_limit_holds_under_concurrent_requests(served):
    """Eight reset requests for one address at once: five are answered, three get 429."""
    url, _, _ = served

    def attempt(_n: int) -> int:
        return Visitor(url).post_form("/forgot-password", {"email": "nobody@example.org"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(attempt, range(8)))
    assert statuses.count(200) == 5 and statuses.count(429) == 3, statuses


def _wait_for_mail(folder: Path, to: str, timeout: float = 30.0):
    """The first .eml in ``folder`` addressed to ``to``; polls until the sender wrote it (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(folder.glob("*.eml")):
            message = BytesParser(policy=policy.default).parse(path.open("rb"))
            if message["To"] == to:
                return message
        time.sleep(0.1)  # between polls only: the answer is the file, not the clock
    raise AssertionError(f"no e-mail to {to} in {folder} within {timeout} s")


def test_a_reset_mail_arrives_by_itself_with_a_link_to_this_server(served):
    """No second command: the reset e-mail is in instance/outbox/ shortly, and its link works on this port."""
    url, env, _ = served
    subprocess.run([sys.executable, "-m", "flask", "users", "create", "ben@example.org", "--name", "Ben"],
                   cwd=ROOT, env=env, input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    assert Visitor(url).post_form("/forgot-password", {"email": "ben@example.org"}) == 200
    message = _wait_for_mail(Path(env["CONCORD_INSTANCE"]) / "outbox", "ben@example.org")
    link = re.search(r"http://\S+/reset/\S+", message.get_body(("plain",)).get_content()).group(0)
    assert link.startswith(url + "/reset/"), (link, url)
    status, page = Visitor(url).get(link[len(url):])
    assert status == 200 and "New password" in page


def test_stopping_the_server_stops_the_sender(tmp_path):
    """SIGTERM to the server (what Ctrl-C and a supervisor send) ends the mail sender too."""
    with make_run_server(tmp_path) as (_, _, process):
        senders = [pid for pid in _children(process.pid) if "send-due" in _cmdline(pid)]
        assert len(senders) == 1
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and os.path.exists(f"/proc/{senders[0]}") and \
            "send-due" in _cmdline(senders[0]):
        time.sleep(0.1)
    assert "send-due" not in _cmdline(senders[0])


def test_links_follow_the_port_and_base_url_wins_when_set():
    """PORT=5101 gives links to :5101; an explicit BASE_URL is kept (production)."""
    from app import devserver

    assert devserver.base_url("127.0.0.1", 5101) == "http://127.0.0.1:5101"
    assert devserver.base_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert devserver.base_url("::1", 8000) == "http://[::1]:8000"
    environ = {}
    devserver.prepare_environment(environ, "127.0.0.1", 5101, 4)
    assert environ == {"FLASK_APP": "wsgi", "BASE_URL": "http://127.0.0.1:5101", "CONCORD_THREADS": "4"}
    environ = {"BASE_URL": "https://concord.example.org"}
    devserver.prepare_environment(environ, "127.0.0.1", 5101, None)
    assert environ["BASE_URL"] == "https://concord.example.org"
