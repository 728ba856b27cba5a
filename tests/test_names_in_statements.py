"""Organisations' names in statements: set on their page, through the API and the CLI (issue 15, item 3)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Organisation
from tests import factories
from tests.conftest import Browser
from tests.test_api import Api, make_token

RSL = "the Revolutionary Socialist League (Kenya)"


@pytest.fixture
def org(app, admin) -> Organisation:
    return factories.organisation("Revolutionary Socialist League", slug="rsl", short_name="RSL")


def stored(slug: str = "rsl") -> Organisation:
    db.session.rollback()
    return db.session.query(Organisation).filter_by(slug=slug).one()


def test_it_defaults_to_the_full_name_and_follows_it(org):
    """Unset, the name in statements is the full name, also after the full name changes."""
    from app.organisations import operations as orgs

    assert org.name_in_statements == "" and org.statement_name == "Revolutionary Socialist League"
    orgs.update_organisation(None, org, name="Revolutionary Socialist League of Kenya")
    db.session.commit()
    assert stored().statement_name == "Revolutionary Socialist League of Kenya"


def test_its_admin_sets_it_on_the_organisation_page_and_others_cannot(org, client):
    """The edit form of the organisation's admin saves it; the organisation's page shows it; a delegate gets 403."""
    admin = factories.member(org, "admin")
    delegate = factories.member(org, "delegate")
    browser = Browser(client)
    browser.login(admin.email)
    page = client.get("/o/rsl/edit").get_data(as_text=True)
    assert 'name="name_in_statements"' in page
    response = browser.post("/o/rsl/edit", {"name": org.name, "short_name": "RSL", "country": "Kenya",
                                            "name_in_statements": f"  {RSL} "})
    assert response.status_code == 302
    assert stored().name_in_statements == RSL
    assert f"In the signatory line of a joint statement: “{RSL}”." in client.get("/o/rsl").get_data(as_text=True)
    other = Browser(client.application.test_client())
    other.login(delegate.email)
    assert other.client.get("/o/rsl/edit").status_code == 403


def test_a_control_character_or_an_overlong_name_is_refused_and_changes_nothing(org, client):
    """Bad input: a message on the form, the stored name unchanged."""
    admin = factories.member(org, "admin")
    browser = Browser(client)
    browser.login(admin.email)
    for bad in ("the \x07League", "x" * 301):
        response = browser.post("/o/rsl/edit", {"name": org.name, "short_name": "RSL", "name_in_statements": bad},
                                form_page="/o/rsl/edit")
        assert response.status_code == 200 and "name in statements" in response.get_data(as_text=True).lower()
        assert stored().name_in_statements == ""


def test_the_api_creates_and_changes_it(org, client, admin):
    """POST /organisations takes it; PATCH /organisations/<slug> changes it for admins, 403 for others."""
    as_admin = Api(client, make_token(admin))
    created = as_admin.post("/organisations", json={"name": "Tendency", "slug": "rcit",
                                                    "name_in_statements": "the Tendency (RCIT)"})
    assert created.status_code == 201 and created.get_json()["name_in_statements"] == "the Tendency (RCIT)"
    org_admin = factories.member(org, "admin")
    response = Api(client, make_token(org_admin)).call("PATCH", "/organisations/rsl", json={"name_in_statements": RSL})
    assert response.status_code == 200 and response.get_json()["name_in_statements"] == RSL
    assert stored().name == "Revolutionary Socialist League"  # what was not sent stays
    outsider = factories.member(factories.organisation("Elsewhere", slug="elsewhere"), "admin")
    refused = Api(client, make_token(outsider)).call("PATCH", "/organisations/rsl", json={"name_in_statements": "x"})
    assert refused.status_code == 403
    unknown = as_admin.call("PATCH", "/organisations/rsl", json={"motto": "x"})
    assert unknown.status_code == 422
    assert stored().name_in_statements == RSL
    assert as_admin.get("/organisations/rsl").get_json()["name_in_statements"] == RSL


def test_the_cli_creates_and_updates_it(app, runner, admin):
    """flask orgs create/update SLUG --name-in-statements TEXT; an empty TEXT goes back to the full name."""
    result = runner.invoke(args=["orgs", "create", "rsl", "--name", "Revolutionary Socialist League",
                                 "--name-in-statements", RSL])
    assert result.exit_code == 0, result.output
    assert f"Name in statements: {RSL}" in result.output
    assert stored().name_in_statements == RSL
    result = runner.invoke(args=["orgs", "update", "rsl", "--name-in-statements", ""])
    assert result.exit_code == 0 and stored().statement_name == "Revolutionary Socialist League"
    result = runner.invoke(args=["orgs", "update", "nope", "--name-in-statements", "x"])
    assert result.exit_code != 0 and "nope" in result.output
