"""Operator commands: flask users, orgs, tokens, statements import, demo."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.accounts import operations as accounts
from app.demo import DEMO_PASSWORD
from app.extensions import db
from app.models import (
    ApiToken,
    Membership,
    Organisation,
    Paragraph,
    Statement,
    User,
    Version,
)
from tests import factories

FIXTURE = Path(__file__).parent / "fixtures" / "cli-statement.txt"
PASSWORD = "a long enough password"


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def everything() -> tuple[int, ...]:
    """Row counts a refused command must leave as they were."""
    return tuple(count(m) for m in (User, Organisation, Membership, ApiToken, Statement, Paragraph,
                                    Version))


# --- flask users create -----------------------------------------------------------------


def test_users_create_reads_password_from_stdin(runner):
    """The password comes from standard input and works for logging in; the account is not an admin."""
    result = runner.invoke(args=["users", "create", "Rosa@Example.org", "--name", "Rosa  Lima"],
                           input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Created rosa@example.org." in result.output
    user = accounts.authenticate("rosa@example.org", PASSWORD)
    assert user is not None and user.name == "Rosa Lima" and not user.is_admin
    assert PASSWORD not in user.password_hash


def test_users_create_admin_completes_setup(runner):
    """``--admin`` makes a platform admin and ends the first-run setup."""
    assert accounts.setup_needed()
    result = runner.invoke(args=["users", "create", "root@example.org", "--name", "Root", "--admin"],
                           input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "(platform admin)" in result.output
    assert accounts.find_user_by_email("root@example.org").is_admin
    assert not accounts.setup_needed()


def test_users_create_duplicate_email_fails_clearly(runner):
    """A second account with the same e-mail (any case) is refused with a message and exit code 1."""
    factories.user(email="taken@example.org")
    before = everything()
    result = runner.invoke(args=["users", "create", "TAKEN@example.org", "--name", "Other"],
                           input=f"{PASSWORD}\n")
    assert result.exit_code != 0
    assert "There is already an account for taken@example.org." in result.output
    assert "Traceback" not in result.output
    assert everything() == before


@pytest.mark.parametrize("args,stdin,message", [
    (["users", "create", "short@example.org", "--name", "Short"], "short\n", "at least 10 characters"),
    (["users", "create", "short@example.org", "--name", "Short"], "", "at least 10 characters"),
    (["users", "create", "not-an-address", "--name", "Nobody"], f"{PASSWORD}\n", "valid e-mail"),
    (["users", "create", "noname@example.org"], f"{PASSWORD}\n", "--name"),
])
def test_users_create_bad_input(runner, args, stdin, message):
    """A short or missing password, a bad address or a missing name create no account."""
    result = runner.invoke(args=args, input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert count(User) == 0


# --- flask orgs -----------------------------------------------------------------------------


def test_orgs_create(runner):
    """An organisation is created with its slug, name and short name."""
    result = runner.invoke(args=["orgs", "create", "gva", "--name", "Green Valleys Alliance",
                                 "--short-name", "GVA", "--country", "Chile"])
    assert result.exit_code == 0, result.output
    assert "Created Green Valleys Alliance at /o/gva." in result.output
    org = db.session.scalar(select(Organisation).where(Organisation.slug == "gva"))
    assert (org.name, org.short_name, org.country) == ("Green Valleys Alliance", "GVA", "Chile")


@pytest.mark.parametrize("slug,message", [
    ("gva", "The slug “gva” is taken."),
    ("Not A Slug", "lower-case letters"),
])
def test_orgs_create_refuses_taken_or_bad_slug(runner, slug, message):
    """A taken or malformed slug is refused with a message and changes nothing."""
    factories.organisation("Green Valleys Alliance", slug="gva")
    before = everything()
    result = runner.invoke(args=["orgs", "create", slug, "--name", "Another Org"])
    assert result.exit_code != 0
    assert message in result.output
    assert everything() == before


def test_orgs_name_in_a_language_is_set_shown_and_cleared(runner):
    """`flask orgs name-in` sets the name a signatory line in one language uses; empty goes back."""
    from app.translating.names import names_in

    org = factories.organisation("Green Valleys Alliance", slug="gva")
    result = runner.invoke(args=["orgs", "name-in", "gva", "es", "la Alianza de los Valles Verdes"])
    assert result.exit_code == 0, result.output
    assert "Name in statements in es: la Alianza de los Valles Verdes" in result.output
    assert names_in([org], "es-MX") == ["la Alianza de los Valles Verdes"]
    assert names_in([org], "de") == ["Green Valleys Alliance"]
    result = runner.invoke(args=["orgs", "name-in", "gva", "es", ""])
    assert result.exit_code == 0 and "in es: Green Valleys Alliance" in result.output
    assert names_in([org], "es") == ["Green Valleys Alliance"]


@pytest.mark.parametrize("args,message", [
    (["gva", "xx-notalanguage-atall", "Name"], "not a language"),
    (["atlantis", "de", "Name"], "atlantis"),
    (["gva", "de", "A\x07bell"], "control character"),
])
def test_orgs_name_in_refuses_bad_input_and_changes_nothing(runner, args, message):
    factories.organisation("Green Valleys Alliance", slug="gva")
    before = everything()
    result = runner.invoke(args=["orgs", "name-in", *args])
    assert result.exit_code != 0 and message in result.output, result.output
    assert everything() == before


def test_orgs_add_member_with_several_roles(runner):
    """Repeating --role gives all the roles; adding more later keeps the earlier ones."""
    org = factories.organisation("Harbour Workers' Union", slug="hwu")
    person = factories.user(email="joao@example.org")
    result = runner.invoke(args=["orgs", "add-member", "hwu", "joao@example.org",
                                 "--role", "delegate", "--role", "signatory"])
    assert result.exit_code == 0, result.output
    assert "joao@example.org in hwu: delegate, signatory." in result.output
    result = runner.invoke(args=["orgs", "add-member", "hwu", "joao@example.org", "--role", "admin"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(User, person.id).roles_in(org) == {"delegate", "signatory", "admin"}


@pytest.mark.parametrize("args,message", [
    (["orgs", "add-member", "atlantis", "joao@example.org", "--role", "delegate"],
     "There is no organisation “atlantis”."),
    (["orgs", "add-member", "hwu", "ghost@example.org", "--role", "delegate"],
     "No account uses ghost@example.org."),
    (["orgs", "add-member", "hwu", "joao@example.org", "--role", "emperor"], "emperor"),
    (["orgs", "add-member", "hwu", "joao@example.org"], "--role"),
])
def test_orgs_add_member_errors(runner, args, message):
    """Unknown organisation, person or role: a clear message, a non-zero exit, no membership."""
    factories.organisation("Harbour Workers' Union", slug="hwu")
    factories.user(email="joao@example.org")
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert count(Membership) == 0


# --- flask tokens create ------------------------------------------------------------------


def test_tokens_create_prints_a_working_token_stored_hashed(runner, client):
    """The printed token authenticates against the API; the database keeps only its hash."""
    person = factories.user(email="api@example.org")
    result = runner.invoke(args=["tokens", "create", "api@example.org", "--name", "sync script"])
    assert result.exit_code == 0, result.output
    clear = result.output.strip()
    assert clear.startswith("cnc_") and "\n" not in clear
    response = client.get("/api/v1/organisations", headers={"Authorization": f"Bearer {clear}"})
    assert response.status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == person.id))
    assert token.name == "sync script"
    assert token.token_hash == hashlib.sha256(clear.encode()).hexdigest()
    assert clear not in (token.token_hash, token.prefix, token.name)
    assert token.last_used_at is not None


def test_tokens_create_for_unknown_account(runner):
    """A token for an e-mail without an account is refused and nothing is stored."""
    result = runner.invoke(args=["tokens", "create", "ghost@example.org"])
    assert result.exit_code != 0
    assert "No account uses ghost@example.org." in result.output
    assert count(ApiToken) == 0


# --- flask statements import -----------------------------------------------------------------


@pytest.fixture
def importer_setup(app):
    hwu = factories.organisation("Harbour Workers' Union", slug="hwu")
    gva = factories.organisation("Green Valleys Alliance", slug="gva")
    coordinator = factories.member(hwu, "delegate", email="ana@example.org")
    factories.member(gva, "signatory", email="diego@example.org")
    return hwu, gva, coordinator


def test_statements_import(runner, importer_setup):
    """The fixture paste becomes a draft with its title, four clean paragraphs and version 1."""
    hwu, gva, coordinator = importer_setup
    result = runner.invoke(args=["statements", "import", str(FIXTURE), "--coordinator", "ana@example.org",
                                 "--org", "hwu", "--participant", "gva"])
    assert result.exit_code == 0, result.output
    assert "“Keep the Night Trains Running”, 4 paragraphs, version 1." in result.output
    assert "note: The word “final” after the date in the signatory line was left out" in result.output
    statement = db.session.scalar(select(Statement))
    assert statement.title == "Keep the Night Trains Running"
    assert statement.coordinator_id == coordinator.id and statement.status == "draft"
    assert [o.slug for o in statement.participant_organisations] == ["hwu", "gva"]
    version = db.session.scalar(select(Version).where(Version.statement_id == statement.id))
    assert version.number == 1 and version.note == "Imported"
    lines = version.canonical_text.split("\n\n")
    assert len(lines) == 5
    assert lines[1].startswith("1. Night trains connect the small towns")
    assert lines[4] == ("4. Our members will collect the stories of the people who depend on these "
                        "trains and deliver them to the transport committee.\n")
    assert "\u00a0" not in version.canonical_text and "\t" not in version.canonical_text


@pytest.mark.parametrize("args,message", [
    (["--coordinator", "diego@example.org", "--org", "gva"], "not a delegate of Green Valleys Alliance"),
    (["--coordinator", "ghost@example.org", "--org", "hwu"], "No account uses ghost@example.org."),
    (["--coordinator", "ana@example.org", "--org", "atlantis"], "There is no organisation “atlantis”."),
    (["--coordinator", "ana@example.org", "--org", "hwu", "--participant", "atlantis"],
     "There is no organisation “atlantis”."),
    (["--org", "hwu"], "--coordinator"),
])
def test_statements_import_errors(runner, importer_setup, args, message):
    """A wrong coordinator or organisation is reported clearly and imports nothing."""
    result = runner.invoke(args=["statements", "import", str(FIXTURE), *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert count(Statement) == 0 and count(Version) == 0


def test_statements_import_rejects_invalid_utf8(runner, importer_setup, tmp_path):
    """A file that is not UTF-8 is refused with the byte position."""
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Título\n\n1. Açúcar.\n".encode("latin-1"))
    result = runner.invoke(args=["statements", "import", str(bad), "--coordinator", "ana@example.org",
                                 "--org", "hwu"])
    assert result.exit_code != 0
    assert "not valid UTF-8 (at byte 1)" in result.output
    assert count(Statement) == 0


# --- flask demo ---------------------------------------------------------------------------------


def test_demo_loads_once(runner):
    """Demo: 3 organisations, delegates and signatories, an 8-paragraph draft; a rerun adds nothing."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "Demo loaded" in result.output
    assert f"Every demo account has the password: {DEMO_PASSWORD}" in result.output
    assert "ana@harbour.example" in result.output and "karin@tenants.example" in result.output

    assert count(Organisation) == 3
    statement = db.session.scalar(select(Statement))
    assert statement.status == "draft" and statement.version_count == 1
    assert len(statement.participant_organisations) == 3
    assert count(Paragraph) == 8
    for org in db.session.scalars(select(Organisation)):
        roles = {m.role for m in org.memberships}
        assert {"delegate", "signatory"} <= roles, org.slug
    ana = accounts.authenticate("ana@harbour.example", DEMO_PASSWORD)
    assert ana is not None and ana.id == statement.coordinator_id
    assert accounts.authenticate("admin@concord.example", DEMO_PASSWORD).is_admin
    assert not accounts.setup_needed()

    before = everything()
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.output
    assert "Demo loaded" not in again.output
    assert everything() == before


def test_demo_keeps_an_existing_admin(runner, admin):
    """On an installation that is set up, the demo adds no platform admin of its own."""
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert accounts.find_user_by_email("admin@concord.example") is None
    assert "admin@concord.example" not in result.output


def test_demo_refuses_cleanly_when_a_demo_slug_is_taken(runner):
    """If a real organisation already uses a demo slug, the demo reports it and loads nothing."""
    factories.organisation("Real Green Valleys", slug="green-valleys")
    before = everything()
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0
    assert "The slug “green-valleys” is taken." in result.output
    assert "Traceback" not in result.output
    assert everything() == before
