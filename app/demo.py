"""`flask demo`: three organisations, their people, and a draft statement to try Concord with."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.accounts import operations as accounts
from app.drafting.operations import create_statement
from app.errors import ConcordError
from app.extensions import db
from app.models import Organisation, SiteSetting
from app.organisations import operations as orgs

DEMO_PASSWORD = "concord-demo-2026"

ORGANISATIONS = [
    ("harbour-workers", "Harbour Workers' Union", "HWU", "Portugal"),
    ("green-valleys", "Green Valleys Alliance", "GVA", "Chile"),
    ("tenants-network", "Tenants' Network of the North", "TNN", "Sweden"),
]

PEOPLE = [
    # email, name, organisation slug, roles
    ("ana@harbour.example", "Ana Ferreira", "harbour-workers", ["delegate", "admin"]),
    ("joao@harbour.example", "João Marques", "harbour-workers", ["signatory"]),
    ("camila@valleys.example", "Camila Rojas", "green-valleys", ["delegate"]),
    ("diego@valleys.example", "Diego Soto", "green-valleys", ["signatory", "admin"]),
    ("karin@tenants.example", "Karin Lund", "tenants-network", ["delegate", "signatory", "admin"]),
]

TITLE = "Cool Cities for Everyone: A Joint Call on Heat and Housing"

PARAGRAPHS = [
    "Summers in our cities are now longer and hotter than at any time in living memory. "
    "Heat is no longer a seasonal inconvenience: it is a danger to health, to work and to "
    "the homes in which working people live.",
    "The burden is not shared fairly. Those who live in poorly insulated flats, who work "
    "outdoors on docks, building sites and farms, and who cannot afford air conditioning "
    "carry the greatest risk, while the costs of adaptation are pushed onto tenants.",
    "We call on municipal and national authorities to adopt binding maximum indoor "
    "temperatures for rented homes, enforced through regular inspection and backed by "
    "penalties that landlords cannot simply absorb.",
    "Work in extreme heat must stop, with full pay, when the temperature in the shade "
    "exceeds a limit agreed with the unions of each sector. Water, shade and rest breaks "
    "are rights, not favours granted by an employer.",
    "Public money for renovation must reach the buildings that need it most. Insulation, "
    "shading and green roofs should be financed without rent increases, and no tenant "
    "should be evicted so that a building can be renovated.",
    "Cities should plant trees and open cool public spaces first in the neighbourhoods "
    "with the fewest of them, and keep libraries, pools and community centres open late "
    "during heat waves.",
    "Adaptation is not a substitute for cutting emissions. Every measure we propose must "
    "go together with a rapid, fair end to the burning of fossil fuels.",
    "Our organisations will work together to monitor heat in homes and workplaces, to "
    "publish what we find, and to support every community that organises for these demands.",
]


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load demo organisations, people and a draft statement; print the logins."""
    if db.session.scalar(select(Organisation).where(Organisation.slug == ORGANISATIONS[0][0])):
        click.echo("The demo is already loaded.")
        _print_logins()
        return
    try:
        statement = _load(datetime.now(UTC))
    except ConcordError as exc:  # e.g. one of the demo slugs is taken by a real organisation
        db.session.rollback()
        raise click.ClickException(f"The demo could not be loaded: {exc.message}") from exc
    click.echo(f"Demo loaded: statement {statement.id} “{statement.title}” (draft, "
               f"{len(PARAGRAPHS)} paragraphs), coordinated by Ana Ferreira.")
    _print_logins()


def _load(now: datetime):
    made = {
        slug: orgs.create_organisation(None, name=name, slug=slug, short_name=short, country=country)
        for slug, name, short, country in ORGANISATIONS
    }
    people = {}
    for email, name, slug, roles in PEOPLE:
        user = accounts.find_user_by_email(email) or accounts.create_user(email, name, DEMO_PASSWORD)
        orgs.set_member_roles(None, made[slug], user, roles)
        people[email] = user
    if accounts.setup_needed():
        admin = accounts.create_user("admin@concord.example", "Platform Admin", DEMO_PASSWORD,
                                     is_admin=True)
        db.session.add(SiteSetting(key=accounts.SETUP_KEY, value=now.isoformat()))
        people[admin.email] = admin
    statement = create_statement(
        people["ana@harbour.example"], title=TITLE,
        coordinator_organisation=made["harbour-workers"],
        participants=list(made.values()), paragraphs=PARAGRAPHS, now=now,
    )
    db.session.commit()
    return statement


def _print_logins() -> None:
    click.echo(f"Every demo account has the password: {DEMO_PASSWORD}")
    for email, name, slug, roles in PEOPLE:
        click.echo(f"  {email:<26} {name:<14} {slug:<16} {', '.join(roles)}")
    if accounts.find_user_by_email("admin@concord.example"):
        click.echo(f"  {'admin@concord.example':<26} platform admin")
