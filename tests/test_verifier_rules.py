"""Every rule of the verifier, broken alone, in every checker that applies it (issue 15, item 6).

The standalone verifier (``verify_manifest`` and ``python app/publishing/verify.py``), ``flask
statements verify`` and the verify page each report exactly the one problem of a manifest that breaks
one rule. The in-browser checker (app/static/verify.js) is held to the same table in
tests/browser/test_verify.py.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from app.publishing import seal, verify
from tests.test_publishing import VERIFY_SCRIPT, build_manifest
from tests.verifier_rules import RULES, cases

KEY = seal.Ed25519PrivateKey.generate()
CASES = {rule: (manifest, problem) for rule, manifest, problem in cases(KEY)}


def test_the_table_covers_every_rule_once():
    """Each rule has one case, and an unbroken manifest passes every checker's rules."""
    assert len(RULES) == len(set(RULES)) == len(CASES)
    assert verify.verify_manifest(build_manifest(KEY), seal.public_key_b64(KEY)) == []


@pytest.mark.parametrize("rule", RULES)
def test_standalone_verifier_reports_exactly_the_broken_rule(rule):
    """verify_manifest finds that one problem and no other."""
    manifest, problem = CASES[rule]
    assert verify.verify_manifest(json.loads(json.dumps(manifest)), seal.public_key_b64(KEY)) == [problem]


@pytest.mark.parametrize("rule", RULES)
def test_verify_script_reports_exactly_the_broken_rule(rule, tmp_path):
    """python app/publishing/verify.py FILE --public-key KEY: exit 1 and that one problem."""
    manifest, problem = CASES[rule]
    path = tmp_path / "statement.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    result = subprocess.run([sys.executable, str(VERIFY_SCRIPT), str(path), "--public-key", seal.public_key_b64(KEY)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert [line[4:] for line in result.stdout.splitlines() if line.startswith("  - ")] == [problem]


@pytest.fixture
def app_key(app):
    """The app's own seal key: the CLI and the page check manifests against it."""
    return seal.load_or_create_key(app.instance_path)


@pytest.mark.parametrize("rule", RULES)
def test_flask_statements_verify_reports_exactly_the_broken_rule(rule, app_key, runner, tmp_path):
    """flask statements verify FILE: exit 1 and that one problem."""
    manifest, problem = _case(app_key, rule)
    path = tmp_path / "statement.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["statements", "verify", str(path)])
    assert result.exit_code == 1, result.output
    assert [line[4:] for line in result.output.splitlines() if line.startswith("  - ")] == [problem]


@pytest.mark.parametrize("rule", RULES)
def test_verify_page_reports_exactly_the_broken_rule(rule, app_key, client, admin):
    """/verify with the manifest uploaded: 'not intact' and that one problem, escaped."""
    import html
    import re

    from tests.conftest import csrf_token

    manifest, problem = _case(app_key, rule)
    data = json.dumps(manifest, ensure_ascii=False).encode("utf-8")
    response = client.post("/verify", data={"csrf_token": csrf_token(client, "/verify"),
                                            "file": (io.BytesIO(data), "statement.json")},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This manifest is not intact" in page
    listed = re.search(r'<ul class="problems">(.*?)</ul>', page, re.S).group(1)
    assert [html.unescape(p) for p in re.findall(r"<li>(.*?)</li>", listed, re.S)] == [problem]


def _case(key, rule: str) -> tuple[dict, str]:
    for name, manifest, problem in cases(key):
        if name == rule:
            return manifest, problem
    raise KeyError(rule)
