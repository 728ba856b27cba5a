"""What `make run` serves: Concord on gunicorn, with e-mail delivered beside it.

    python -m app.devserver --host 127.0.0.1 --port 5000

migrates the database, then replaces itself with gunicorn configured by this file: one worker
process with threads, so that the rate limits' counters (in memory unless RATELIMIT_STORAGE_URI
names a Redis) are the same for every request; and a mail sender (`flask notifications send-due
--every 2`) started beside it and stopped with it, writing to instance/outbox/ unless MAIL_SERVER
names an SMTP server. Links in e-mails point at the address served here unless BASE_URL says
otherwise. Production is served as docs describe (several workers, Redis, cron, BASE_URL).

This file is read by gunicorn's master as its configuration: it imports nothing of the app (its
package's __init__ only defines create_app), so the configuration the workers read (config.py)
sees the environment set here.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository
HERE = Path(__file__).resolve()

# --- gunicorn settings (this file is its -c configuration) ---------------------------------------
workers = 1
worker_class = "gthread"
threads = int(os.environ.get("CONCORD_THREADS", "8"))
accesslog = "-"
# A slow page should not have the only worker killed while other threads wait for it.
timeout = 120
# No control socket: its default path is shared by every gunicorn of the user on the machine.
control_socket_disable = True

_sender: subprocess.Popen | None = None
MAIL_EVERY = os.environ.get("CONCORD_MAIL_EVERY", "2")


def when_ready(server) -> None:
    """Start the mail sender beside the server (it also stops by itself if the server dies)."""
    global _sender
    env = dict(os.environ, CONCORD_MAIL_PARENT=str(os.getpid()), FLASK_APP="wsgi")
    _sender = subprocess.Popen([sys.executable, "-m", "flask", "notifications", "send-due", "--every", MAIL_EVERY],
                               cwd=ROOT, env=env)
    server.log.info("Mail sender started (pid %s)", _sender.pid)


def on_exit(server) -> None:
    if _sender is not None and _sender.poll() is None:
        _sender.terminate()
        try:
            _sender.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _sender.kill()


# --- `python -m devserver` ----------------------------------------------------------------------


def base_url(host: str, port: int) -> str:
    """Where a browser on this machine reaches the server."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "*") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def prepare_environment(environ, host: str, port: int, threads: int | None) -> None:
    """What the server and the sender read: links to the address served unless BASE_URL is set."""
    environ.setdefault("FLASK_APP", "wsgi")
    environ.setdefault("BASE_URL", base_url(host, port))
    if threads:
        environ["CONCORD_THREADS"] = str(threads)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devserver", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    prepare_environment(os.environ, args.host, args.port, args.threads)
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, check=True)
    print(f"Concord is at {base_url(args.host, args.port)}/ (e-mail links: {os.environ['BASE_URL']})", flush=True)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(ROOT)
    os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "-c", str(HERE),
                              "--bind", f"{args.host}:{args.port}", "wsgi:app"])


if __name__ == "__main__":
    main()
