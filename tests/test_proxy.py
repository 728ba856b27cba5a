"""Behind a reverse proxy: client address and https come from the proxy's headers, only when trusted."""

import pytest

from app import create_app
from app.publishing import sealing
from config import TestConfig


@pytest.fixture(autouse=True)
def _keep_the_seal():
    """create_app() points the process-wide seal at its instance folder; put it back afterwards."""
    before = list(sealing._instance)
    yield
    if before:
        sealing.configure(before[0])


def _seen(app, headers):
    seen = {}

    @app.route("/_whoami")
    def whoami():
        from flask import request

        seen.update(addr=request.remote_addr, secure=request.is_secure)
        return "ok"

    app.extensions["concord_setup_done"] = True  # no database needed for this
    response = app.test_client().get("/_whoami", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    return seen, response


def test_forwarded_headers_count_only_with_trusted_proxies(tmp_path):
    """X-Forwarded-For/-Proto are used with TRUSTED_PROXIES=1 and ignored without it."""
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    common = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db", "INSTANCE_PATH": str(tmp_path)}
    seen, _ = _seen(create_app(TestConfig, **common), headers)
    assert seen == {"addr": "10.0.0.2", "secure": False}
    seen, response = _seen(create_app(TestConfig, TRUSTED_PROXIES=1, **common), headers)
    assert seen == {"addr": "203.0.113.9", "secure": True}
    assert "Strict-Transport-Security" in response.headers
