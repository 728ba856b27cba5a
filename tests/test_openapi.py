"""The OpenAPI description of the JSON API (/api/v1/openapi.json).

The fast tests check that it is served without a token and describes every /api/v1 rule of the URL
map. The slow test (``make test-slow``) runs schemathesis against a real gunicorn server on a fresh
SQLite database: generated requests for every operation, no server error, every response as the
document says (status code, content type, JSON schema).
"""

from __future__ import annotations

import re
import sys
import time

import pytest

from app.api.openapi import document

API_PREFIX = "/api/v1"
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def api_rules(app) -> set[tuple[str, str]]:
    """(path in OpenAPI form, lower-case method) of every /api/v1 rule of the URL map."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule[len(API_PREFIX):])
        for method in rule.methods & METHODS:
            found.add((path, method.lower()))
    return found


def documented(doc: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, ops in doc["paths"].items() for method in ops}


def test_served_without_a_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    doc = response.get_json()
    assert doc["openapi"].startswith("3.0")
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "A personal token (cnc_...)."}
    assert doc["security"] == [{"bearer": []}]


def test_only_the_document_is_exempt_from_the_token(client):
    assert client.get("/api/v1/statements").status_code == 401
    assert client.get("/api/v1/openapi.json/").status_code in (401, 404)
    assert client.post("/api/v1/openapi.json").status_code in (401, 405)


def test_every_api_rule_is_described(app):
    doc = document()
    missing = api_rules(app) - documented(doc)
    assert not missing, f"API rules missing from /api/v1/openapi.json: {sorted(missing)}"
    extra = documented(doc) - api_rules(app)
    assert not extra, f"described but not routed: {sorted(extra)}"


def test_path_parameters_match_the_rules(app):
    for path, ops in document()["paths"].items():
        names = set(re.findall(r"{([a-z_]+)}", path))
        for method, op in ops.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)


def test_every_operation_documents_success_and_json_errors():
    doc = document()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = {int(c) for c in op["responses"]}
            assert any(200 <= c < 300 for c in codes), (method, path)
            if path == "/openapi.json":
                assert op["security"] == []
                continue
            assert 401 in codes, (method, path)
            for code in codes - {200, 201}:
                schema = op["responses"][str(code)]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, code)
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    assert 429 in {int(c) for c in doc["paths"]["/statements/{statement_id}/signatures"]["post"]["responses"]}
    assert "text/plain" in doc["paths"]["/statements/import"]["post"]["requestBody"]["content"]


def test_the_document_loads_in_schemathesis():
    import schemathesis

    schema = schemathesis.openapi.from_dict(document())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(ops) for ops in document()["paths"].values())


def test_a_real_response_matches_its_schema(client, admin):
    """One round trip through the document's schemas without a server: a created statement."""
    import schemathesis
    from schemathesis.specs.openapi.checks import response_schema_conformance

    from app.accounts import operations as accounts
    from app.extensions import db
    from tests import factories

    org = factories.organisation(slug="rsl")
    user = factories.member(org, "delegate", "signatory", "admin")
    _, token = accounts.create_api_token(user, "tests")
    db.session.commit()
    schema = schemathesis.openapi.from_dict(document())
    operation = schema["/statements"]["POST"]
    body = {"title": "On <b>tests</b>", "coordinator_organisation": "rsl", "paragraphs": ["One.", "Two."]}
    response = client.post("/api/v1/statements", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
    case = operation.Case(body=body, media_type="application/json")
    case.validate_response(response, checks=[response_schema_conformance])


# --- schemathesis against a running server ---------------------------------------------------------

MAX_EXAMPLES = 25


@pytest.mark.slow
def test_schemathesis_against_gunicorn(tmp_path):
    import requests
    import schemathesis
    from hypothesis import strategies as st

    from tests.browser.server import concord_server, flask
    with concord_server(tmp_path / "server") as (base_url, env):
        # A platform admin who is delegate, signatory and admin of two organisations, one statement.
        _cli_input(env, "users", "create", "admin@example.org", "--name", "Platform Admin", "--admin")
        for slug in ("rsl", "ngo"):
            flask(env, "orgs", "create", slug, "--name", f"Organisation {slug.upper()}")
            flask(env, "orgs", "add-member", slug, "admin@example.org", "--role", "delegate",
                  "--role", "signatory", "--role", "admin")
        token = flask(env, "tokens", "create", "admin@example.org", "--name", "schemathesis").strip()
        statement_file = tmp_path / "statement.txt"
        statement_file.write_text("A Statement to Fuzz\n\nFirst paragraph.\n\nSecond paragraph.\n",
                                  encoding="utf-8")
        flask(env, "statements", "import", str(statement_file), "--coordinator", "admin@example.org",
              "--org", "rsl", "--participant", "ngo")
        api = f"{base_url}/api/v1"
        auth = {"Authorization": f"Bearer {token}"}
        statement = requests.get(f"{api}/statements/1", headers=auth, timeout=10).json()
        known = {"statement_id": statement["id"], "paragraph_id": statement["paragraphs"][0]["id"],
                 "number": 1, "slug": "rsl", "amendment_id": 1, "signature_id": 1, "recorded_id": 1,
                 "suggestion_id": 1, "language": "de"}

        schema = schemathesis.openapi.from_url(f"{api}/openapi.json")
        session = requests.Session()
        counts: dict[str, int] = {}
        statuses: dict[int, int] = {}
        failures: dict[str, str] = {}
        started = time.monotonic()
        loaded = []
        for result in schema.get_all_operations():
            operation = result.ok()
            label = f"{operation.method.upper()} {operation.path}"
            loaded.append(label)
            names = {p.name for p in operation.path_parameters}
            strategies = [operation.as_strategy()]
            if names:  # half the cases aim at things that exist, so the requests reach the rules
                strategies.append(operation.as_strategy(path_parameters={n: known[n] for n in names}))
            try:
                _exercise(label, st.one_of(strategies), api, session, auth, counts, statuses)
            except Exception as exc:  # noqa: BLE001  (collected: one report for every operation)
                failures[label] = str(exc)[:3000]
    total = sum(counts.values())
    summary = (f"schemathesis: {len(counts)} operations, {total} requests in "
               f"{time.monotonic() - started:.0f} s; statuses {dict(sorted(statuses.items()))}")
    print(summary, file=sys.stderr)
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    # schemathesis leaves out the operation that serves the schema it loaded (GET /openapi.json).
    expected = {f"{method.upper()} {path}" for path, ops in document()["paths"].items() for method in ops
                if path != "/openapi.json"}
    assert set(counts) == expected, (f"operations not exercised: {sorted(expected - set(counts))}; "
                                     f"loaded: {sorted(loaded)}")
    assert not any(code >= 500 for code in statuses)


def _exercise(label, cases, api, session, auth, counts, statuses) -> None:
    """Up to MAX_EXAMPLES generated requests to one operation, each checked against the document."""
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]

    @given(case=cases)
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(base_url=api, session=session, headers=auth, timeout=30)
        counts[label] = counts.get(label, 0) + 1
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=checks, headers=auth)

    run()


def _cli_input(env, *args: str, stdin: str = "correct horse battery\n") -> None:
    import subprocess

    from tests.browser.server import ROOT

    result = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env, input=stdin,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


def test_a_diff_matches_its_schema():
    """Diffs are [op, text] pairs with an integer op: the document says so (schemathesis found the gap)."""
    from app.api.openapi import DIFF
    from app.diffing import word_diff

    pair = DIFF["items"]
    op_schema, text_schema = pair["items"]["oneOf"]
    for op, text in word_diff("Cities grow hot.", "Cities grow very hot."):
        assert isinstance(op, int) and op in op_schema["enum"] and op_schema["type"] == "integer"
        assert isinstance(text, str) and text_schema["type"] == "string"
    assert pair["minItems"] == pair["maxItems"] == 2
