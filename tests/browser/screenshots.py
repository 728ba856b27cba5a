"""`make screenshots`: regenerate docs/screenshots/*.png from a fresh demo database.

Starts gunicorn on a throw-away SQLite database loaded with `flask demo`, drives the demo statement
through amendments, signing and publication in Chromium (the same steps as the browser tests), and
photographs the main pages at desktop (1280 px) and phone (390 px) width.

    .venv/bin/python -m tests.browser.screenshots [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser import flows, server
from tests.browser.flows import Browsing, Person

DEMO_PASSWORD = "concord-demo-2026"
TITLE = "Cool Cities for Everyone: A Joint Call on Heat and Housing"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}

ana = Person("Ana Ferreira", "ana@harbour.example", DEMO_PASSWORD)
joao = Person("João Marques", "joao@harbour.example", DEMO_PASSWORD)
camila = Person("Camila Rojas", "camila@valleys.example", DEMO_PASSWORD)
diego = Person("Diego Soto", "diego@valleys.example", DEMO_PASSWORD)
karin = Person("Karin Lund", "karin@tenants.example", DEMO_PASSWORD)
platform_admin = Person("Platform Admin", "admin@concord.example", DEMO_PASSWORD)


class Camera:
    def __init__(self, browser, base_url: str, out: Path):
        self.browser, self.base_url, self.out = browser, base_url, out
        self.sessions: dict[tuple[str, str], object] = {}
        self.taken: list[Path] = []

    def _page(self, person: Person | None, size: str):
        key = (person.email if person else "", size)
        if key not in self.sessions:
            b = Browsing(self.browser, self.base_url)
            options = {"viewport": WIDTHS[size], "device_scale_factor": 1}
            self.sessions[key] = b.login(person, **options) if person else b.new_page(**options)
        return self.sessions[key]

    def shoot(self, name: str, person: Person | None, path: str) -> None:
        for size in WIDTHS:
            page = self._page(person, size)
            page.goto(path)
            page.wait_for_load_state("load")
            target = self.out / f"{name}-{size}.png"
            page.screenshot(path=str(target), full_page=True)
            self.taken.append(target)


def run(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="concord-screenshots-") as tmp, \
            server.concord_server(Path(tmp), demo=True) as (base_url, _env), sync_playwright() as p:
        browser = server.launch_chromium(p)
        people = Browsing(browser, base_url)
        camera = Camera(browser, base_url, out)
        a, c, k = people.login(ana), people.login(camila), people.login(karin)

        flows.open_for_amendments(a, TITLE, rule="Consensus")
        accepted = flows.propose(
            c, TITLE, "modify", 3,
            "We call on municipal and national authorities to adopt binding maximum indoor temperatures for "
            "rented homes and workplaces, enforced through regular, unannounced inspection and backed by "
            "penalties that landlords cannot simply absorb.",
            rationale="Workplaces overheat too; announced inspections find nothing.")
        for page in (a, c, k):
            flows.take_position(page, TITLE, accepted, "Support")
        flows.accept_amendment(a, TITLE, accepted)

        flows.open_statement(a, TITLE)
        statement_path = a.url.replace(base_url, "").split("#")[0]
        statement_id = int(re.search(r"/statements/(\d+)$", statement_path).group(1))

        shown = flows.propose(
            k, TITLE, "modify", 5,
            "Public money for renovation must reach the buildings that need it most. Insulation, shading and "
            "green roofs should be financed without any rent increase, and no tenant should be evicted or "
            "displaced so that a building can be renovated.",
            rationale="Tenants are pushed out “temporarily” and never come back; the text should say so.")
        flows.take_position(k, TITLE, shown, "Support", reason="This is our core demand.")
        flows.take_position(c, TITLE, shown, "Support")
        flows.comment(a, TITLE, shown, "HWU agrees in substance; we will confirm at Thursday's board meeting.")

        camera.shoot("statement", ana, statement_path)
        camera.shoot("amendment", camila, f"/amendments/{shown}")
        camera.shoot("compare", camila, f"/statements/{statement_id}/compare?from=1&to=2")

        flows.take_position(a, TITLE, shown, "Support")
        flows.accept_amendment(a, TITLE, shown)
        flows.freeze(a, TITLE)
        flows.sign(people.login(joao), TITLE, joao, "General Secretary")
        flows.sign(people.login(diego), TITLE, diego, "President")
        camera.shoot("home", karin, "/")
        camera.shoot("sign", karin, f"/statements/{statement_id}/sign")
        flows.sign(k, TITLE, karin, "Coordinator")
        camera.shoot("waiting", ana, "/")  # everyone signed: "publish it" waits for the coordinator
        camera.shoot("signatures", ana, f"/statements/{statement_id}/sign")
        flows.publish(a, TITLE)
        expect(a.locator(".signatory-line")).to_contain_text("Joint Statement of")
        public_path = a.url.replace(base_url, "")
        camera.shoot("public", None, public_path)
        camera.shoot("certificate", None, f"{public_path}/certificate")
        # Invitations by e-mail, and the development outbox they arrive in with make run.
        boss = people.login(platform_admin)
        flows.create_invitation(boss, "Harbour Workers' Union", "rui@harbour.example", ["Delegate"])
        camera.shoot("members", platform_admin, "/o/harbour-workers/members")
        camera.shoot("outbox", platform_admin, "/admin/outbox")
        browser.close()
        return camera.taken


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=server.ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    for path in run(args.out):
        print(path.relative_to(server.ROOT) if path.is_relative_to(server.ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
