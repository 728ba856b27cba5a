"""Operator commands: flask users|orgs|tokens|statements|audit|backup|demo."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from app.accounts import operations as accounts
from app.errors import ConcordError
from app.extensions import db
from app.organisations import operations as orgs


def _now() -> datetime:
    return datetime.now(UTC)


def _apply(action, *args, **kwargs):
    """Run a rule, commit, or print its message and exit 1 having changed nothing."""
    try:
        result = action(*args, **kwargs)
        db.session.commit()
        return result
    except ConcordError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc


def _user(email: str):
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account uses {email}.")
    return user


users_cli = AppGroup("users", help="Manage accounts.")
orgs_cli = AppGroup("orgs", help="Manage organisations.")
tokens_cli = AppGroup("tokens", help="Manage personal API tokens.")
statements_cli = AppGroup("statements", help="Manage statements.")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--admin", is_flag=True, help="Make the account a platform admin.")
def create_user(email: str, name: str, admin: bool) -> None:
    """Create an account. The password is asked for, or read from standard input."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    user = _apply(accounts.create_user, email, name, password, is_admin=admin)
    if admin:
        from app.models import SiteSetting

        if accounts.setup_needed():  # an operator-made admin completes the setup too
            db.session.add(SiteSetting(key=accounts.SETUP_KEY, value=_now().isoformat()))
            db.session.commit()
    click.echo(f"Created {user.email}{' (platform admin)' if admin else ''}.")


@orgs_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="Full name.")
@click.option("--short-name", default="", help="Short name, e.g. RSL.")
@click.option("--country", default="")
@click.option("--name-in-statements", default="",
              help="How a signatory line names it, e.g. 'the Revolutionary Socialist League (Kenya)' "
                   "(default: the full name).")
def create_org(slug: str, name: str, short_name: str, country: str, name_in_statements: str) -> None:
    """Create an organisation."""
    org = _apply(orgs.create_organisation, None, name=name, slug=slug, short_name=short_name,
                 country=country, name_in_statements=name_in_statements)
    click.echo(f"Created {org.name} at /o/{org.slug}.")
    click.echo(f"Name in statements: {org.statement_name}")


@orgs_cli.command("update")
@click.argument("slug")
@click.option("--name", default=None, help="Full name.")
@click.option("--short-name", default=None, help="Short name, e.g. RSL.")
@click.option("--country", default=None)
@click.option("--name-in-statements", default=None,
              help="How a signatory line names it; an empty string goes back to the full name.")
def update_org(slug: str, name: str | None, short_name: str | None, country: str | None,
               name_in_statements: str | None) -> None:
    """Change an organisation's details (only those given)."""
    org = _apply(orgs.get_organisation, slug)
    org = _apply(orgs.update_organisation, None, org, name=name, short_name=short_name, country=country,
                 name_in_statements=name_in_statements)
    click.echo(f"Updated {org.name} at /o/{org.slug}.")
    click.echo(f"Name in statements: {org.statement_name}")


@orgs_cli.command("name-in")
@click.argument("slug")
@click.argument("language")
@click.argument("name")
def name_in_language(slug: str, language: str, name: str) -> None:
    """Set how a signatory line in LANGUAGE (a tag such as de or pt-BR) names the organisation; an
    empty NAME goes back to its name in statements. Published files keep the names they were made with."""
    from app.translating import names

    org = _apply(orgs.get_organisation, slug)
    tag = _apply(names.set_language_name, org, None, language, name)
    shown = names.names_in([org], tag)[0]
    click.echo(f"Name in statements in {tag}: {shown}")


@orgs_cli.command("add-member")
@click.argument("slug")
@click.argument("email")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["delegate", "signatory", "admin"]), help="Repeat for several roles.")
def add_member(slug: str, email: str, roles: tuple[str, ...]) -> None:
    """Give an existing account roles in an organisation."""
    org = _apply(orgs.get_organisation, slug)
    user = _apply(orgs.add_member, None, org, email, list(roles))
    click.echo(f"{user.email} in {org.slug}: {', '.join(sorted(user.roles_in(org)))}.")


@tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="command line", help="What the token is for.")
def create_token(email: str, name: str) -> None:
    """Create a personal API token and print it (once; only its hash is kept)."""
    _, clear = _apply(accounts.create_api_token, _user(email), name)
    click.echo(clear)


@statements_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--coordinator", "coordinator_email", required=True, help="E-mail of the coordinator.")
@click.option("--org", "org_slug", required=True, help="Slug of the coordinating organisation.")
@click.option("--participant", "participants", multiple=True, help="Slug of another participant.")
def import_statement(file: Path, coordinator_email: str, org_slug: str, participants) -> None:
    """Import a plain-text statement as a new draft."""
    from app.drafting.importer import decode_upload, parse_statement
    from app.drafting.operations import create_statement

    try:
        parsed = parse_statement(decode_upload(file.read_bytes()))
        coordinator_org = orgs.get_organisation(org_slug)
        others = [orgs.get_organisation(s) for s in participants]
    except ConcordError as exc:
        raise click.ClickException(exc.message) from exc
    statement = _apply(create_statement, _user(coordinator_email), title=parsed.title,
                       coordinator_organisation=coordinator_org, participants=others,
                       paragraphs=parsed.paragraphs, now=_now(), note="Imported",
                       source_language=parsed.language or "en")
    click.echo(f"Imported statement {statement.id}: “{statement.title}”, "
               f"{len(parsed.paragraphs)} paragraphs, version 1.")
    for note in parsed.notes:
        click.echo(f"  note: {note}")


@statements_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_statement(file: Path) -> None:
    """Check a published statement's manifest: text hashes, signatures and this platform's seal."""
    import json

    from app.publishing import sealing
    from app.publishing.verify import verify_manifest

    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{file} is not a JSON manifest: {exc}") from exc
    if not isinstance(data, dict):
        raise click.ClickException(f"{file} is not a JSON manifest (expected an object).")
    problems = verify_manifest(data, expected_public_key=sealing.public_key())
    if problems:
        click.echo(f"BROKEN: {file} does not match what was published.")
        for problem in problems:
            click.echo(f"  - {problem}")
        sys.exit(1)
    click.echo(f"INTACT: “{data.get('title')}”, published {data.get('publication_date')}, "
               f"text SHA-256 {data.get('sha256')}, {len(data.get('signatures', []))} signatures, "
               "sealed by this platform.")


@statements_cli.command("render-artefacts")
@click.option("--slug", "slugs", multiple=True, help="Only this publication (repeat for several).")
def render_artefacts(slugs: tuple[str, ...]) -> None:
    """Make the stored files (PDF, Word, Markdown, page) of publications that lack them.

    Run once after upgrading to a version that stores them (migration a15publication): statements
    published before it have none until then. Safe to run again; each publication is committed alone.
    """
    from sqlalchemy import select

    from app.models import Publication
    from app.publishing.publication import render_missing_artefacts

    query = select(Publication.id).order_by(Publication.id)
    if slugs:
        query = query.where(Publication.slug.in_(slugs))
    ids = list(db.session.scalars(query))
    if slugs and len(ids) != len(set(slugs)):
        raise click.ClickException("No publication has one of those slugs.")
    made_any = 0
    for publication_id in ids:
        publication = db.session.get(Publication, publication_id)
        kinds = _apply(render_missing_artefacts, publication, now=_now())
        if kinds:
            made_any += 1
            click.echo(f"{publication.slug}: made {', '.join(kinds)}.")
    click.echo(f"{made_any} of {len(ids)} publications needed files; every publication has its files now.")


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def verify_audit() -> None:
    """Recompute every statement's audit chain and name the first broken entry."""
    from app import audit

    checked, breaks = audit.verify()
    if breaks:
        for b in breaks:
            click.echo(f"BROKEN: statement {b.statement_id}, entry {b.seq} (id {b.entry_id}): {b.problem}.")
        sys.exit(1)
    click.echo(f"INTACT: {checked} audit entries checked, every chain unbroken.")


backup_cli = AppGroup("backup", help="Back up the database, or restore a backup.")


@backup_cli.command("create")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def create_backup(path: Path | None) -> None:
    """Write a consistent backup (default: instance/backups/concord-<UTC time>.sqlite3 or .dump)."""
    from flask import current_app

    from app import backup

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        if path is None:
            name = backup.default_filename(url, _now().strftime("%Y%m%dT%H%M%SZ"))
            path = Path(current_app.instance_path) / "backups" / name
        result = backup.create(url, path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wrote {result.path} ({result.bytes} bytes): a {result.dialect} backup of "
               f"{result.database}.")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database's contents.")
def restore_backup(path: Path, yes: bool) -> None:
    """Replace the database's contents with a backup made by `flask backup create`."""
    from flask import current_app

    from app import backup

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not yes:
        click.confirm(f"Replace everything in the configured database with {path}?", abort=True)
    db.session.remove()
    db.engine.dispose()  # no pooled connection may keep reading the old data
    try:
        result = backup.restore(url, path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.engine.dispose()
    click.echo(f"Restored {result.path} ({result.bytes} bytes) into {result.database}. "
               "Run `flask db upgrade` if the backup is older than this version of Concord.")


notifications_cli = AppGroup("notifications", help="E-mail notifications.")


@notifications_cli.command("send-due")
@click.option("--every", type=click.FloatRange(min=0.5), default=None, metavar="SECONDS",
              help="Keep running: send what is due every SECONDS (make run does this beside the server).")
def send_due(every: float | None) -> None:
    """Send due e-mails, digests and deadline reminders. Safe to run every minute on several servers."""
    import os
    import time

    from flask import current_app

    from app.notifications.delivery import send_due as deliver
    from app.web import emails

    def once(quiet: bool) -> None:
        report = deliver(emails.settings(), emails.render, now=_now())
        if not quiet or report.sent or report.retried or report.failed or report.reminders:
            click.echo(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}, "
                       f"deadline reminders queued {report.reminders}")
        for error in report.errors:
            click.echo(f"  error: {error}", err=True)

    if every is None:
        once(quiet=False)
        return
    # Beside a development server: stop when it stops (its process id is in CONCORD_MAIL_PARENT).
    parent = int(os.environ.get("CONCORD_MAIL_PARENT") or 0)
    where = current_app.config["MAIL_SERVER"] or os.path.join(current_app.instance_path, "outbox")
    click.echo(f"Delivering e-mail every {every:g} s to {where}; links point at {current_app.config['BASE_URL']}.")
    try:
        while not parent or os.getppid() == parent:
            try:
                once(quiet=True)
            except Exception as exc:  # noqa: BLE001 - a locked database or a dead SMTP server: try again later
                db.session.rollback()
                click.echo(f"  error: {type(exc).__name__}: {exc}", err=True)
            finally:
                db.session.remove()
            time.sleep(every)
    except KeyboardInterrupt:
        pass


def register(app: Flask) -> None:
    from app.demo import demo_command

    for group in (users_cli, orgs_cli, tokens_cli, statements_cli, audit_cli, backup_cli, notifications_cli):
        app.cli.add_command(group)
    app.cli.add_command(demo_command)
