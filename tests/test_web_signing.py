"""Web tests of freezing, signing, revoking, withdrawing, reopening, publishing and the audit trail."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import audit
from app.amending import operations as amending
from app.drafting import operations as drafting
from app.extensions import db
from app.models import Amendment, AuditEntry, Participant, Publication, Signature, Statement
from app.participation import withdrawals
from app.publishing import publication as publishing
from app.publishing.text import format_date
from app.signing import operations as signing
from tests import factories
from tests.conftest import Browser, csrf_token

PARAGRAPHS = (
    "Rivers belong to everyone who lives along them.",
    "Dams must not be built without the consent of the valley.",
    "We will meet again after the spring floods.",
)


def now() -> datetime:
    return datetime.now(UTC)


class World:
    """Three participating organisations, each with a signatory, and one outside organisation."""

    def __init__(self, app):
        self.app = app
        self.admin = factories.admin()
        self.hwu = factories.organisation("Harbour Workers Union", slug="hwu", short_name="HWU")
        self.gva = factories.organisation("Green Valleys Alliance", slug="gva", short_name="GVA")
        self.tnn = factories.organisation("Tenants Network", slug="tnn", short_name="TNN")
        self.outside = factories.organisation("Distant Miners Guild", slug="dmg")
        self.coordinator = factories.member(self.hwu, "delegate", name="Carla Coordinator")
        self.sig_hwu = factories.member(self.hwu, "signatory", name="Hana Harbour")
        self.sig_gva = factories.member(self.gva, "signatory", name="Gus Green")
        self.sig_tnn = factories.member(self.tnn, "signatory", name="Tom Tenant")
        self.admin_tnn = factories.member(self.tnn, "admin", name="Ada Admin")
        self.delegate_gva = factories.member(self.gva, "delegate", name="Dora Delegate")
        self.outsider = factories.member(self.outside, "signatory", "admin", name="Olga Outsider")
        self.statement = factories.statement(
            self.coordinator, self.hwu, participants=[self.gva, self.tnn],
            title="Rivers for Everyone", paragraphs=PARAGRAPHS,
        )
        self.sid = self.statement.id
        self.signers = {"hwu": (self.sig_hwu, self.hwu), "gva": (self.sig_gva, self.gva),
                        "tnn": (self.sig_tnn, self.tnn)}

    def browser(self, user) -> Browser:
        made = Browser(self.app.test_client())
        made.login(user.email)
        return made

    def st(self) -> Statement:
        return db.session.get(Statement, self.sid)

    def open(self) -> None:
        amending.open_for_amendments(self.st(), self.coordinator, rule="coordinator", deadline=None,
                                     now=now())
        db.session.commit()

    def freeze(self, *, auto_publish: bool = False, at: datetime | None = None) -> None:
        self.open()
        signing.freeze(self.st(), self.coordinator, auto_publish=auto_publish, now=at or now())
        db.session.commit()

    def sign(self, key: str, at: datetime | None = None) -> int:
        user, org = self.signers[key]
        made = signing.sign(self.st(), user, org, signer_name=user.name, signer_title=f"Chair of {org.name}",
                            authorised=True, password=factories.PASSWORD,
                            version_sha256=self.st().frozen_version.sha256, now=at or now())
        db.session.commit()
        return made.id

    def publish(self, on: date | None = None, at: datetime | None = None) -> Publication:
        made = publishing.publish(self.st(), self.coordinator, publication_date=on, now=at or now())
        db.session.commit()
        return made


@pytest.fixture
def world(app) -> World:
    return World(app)


@pytest.fixture
def frozen(world) -> World:
    world.freeze()
    return world


def reload() -> None:
    db.session.rollback()  # see what the requests committed


def page_text(response) -> str:
    return response.get_data(as_text=True)


def flashes(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="flash flash-\w+">(.*?)</p>', page, re.S)]


def signatures() -> list[tuple]:
    reload()
    return list(db.session.execute(select(Signature.organisation_id, Signature.status, Signature.signer_name)
                                   .order_by(Signature.id)))


def state() -> tuple:
    """What a refused request must leave as it was."""
    reload()
    return (
        tuple(db.session.execute(select(Statement.id, Statement.status, Statement.frozen_version_id,
                                        Statement.auto_publish))),
        tuple(db.session.execute(select(Signature.id, Signature.status).order_by(Signature.id))),
        tuple(db.session.execute(select(Participant.id, Participant.withdrawn_at).order_by(Participant.id))),
        db.session.scalar(select(func.count()).select_from(Publication)),
        db.session.scalar(select(func.count()).select_from(AuditEntry)),
    )


def sign_form(world: World, key: str, **overrides) -> dict:
    user, org = world.signers[key]
    reload()
    data = {"organisation": str(org.id), "signer_name": user.name, "signer_title": "Secretary General",
            "authorised": "y", "password": factories.PASSWORD,
            "version_sha256": world.st().frozen_version.sha256}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- freeze ---------------------------------------------------------------------------------


def test_coordinator_freezes_with_deadline_time_zone_planned_date_and_auto_publish(world):
    """The freeze form reads the deadline in the browser's zone and stores it in UTC, with the planned date
    and auto-publish; the page names the zone."""
    world.open()
    coordinator = world.browser(world.coordinator)
    coordinator.set_zone("Europe/Berlin")
    page = page_text(coordinator.get(f"/statements/{world.sid}/freeze"))
    assert "Freeze version 1" in page and "Time zone: Europe/Berlin (your browser&#39;s)" in page
    assert 'name="timezone"' not in page
    next_year = now().year + 1
    response = coordinator.post(f"/statements/{world.sid}/freeze", {
        "signing_deadline": f"{next_year}-06-30T18:00",
        "planned_publication_date": f"{next_year}-07-01", "auto_publish": "y"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/statements/{world.sid}/sign")
    reload()
    statement = world.st()
    assert statement.status == "signing"
    assert statement.frozen_version.number == 1
    assert statement.signing_deadline == datetime(next_year, 6, 30, 16, 0, tzinfo=UTC)  # CEST is UTC+2
    assert statement.planned_publication_date == date(next_year, 7, 1)
    assert statement.auto_publish is True
    show = page_text(coordinator.get(f"/statements/{world.sid}"))
    assert "Frozen for signing at <strong>version 1</strong>" in show
    assert f"30 Jun {next_year}, 18:00 Europe/Berlin</time>" in show
    assert statement.frozen_version.sha256 in show  # the full hash, on hover


def test_freeze_closes_open_amendments_as_not_decided(world):
    """Open amendments are kept, marked not decided."""
    world.open()
    pid = drafting.live_paragraphs(world.st())[2].id
    proposed = amending.propose(world.st(), world.delegate_gva, world.gva, kind="delete", paragraph_id=pid,
                                text=None, now=now())
    db.session.commit()
    coordinator = world.browser(world.coordinator)
    assert "1 open amendment" in page_text(coordinator.get(f"/statements/{world.sid}/freeze"))
    assert coordinator.post(f"/statements/{world.sid}/freeze", {}).status_code == 302
    reload()
    assert db.session.get(Amendment, proposed.id).status == "not_decided"


def test_freeze_with_a_past_deadline_is_a_form_error(world):
    """A deadline in the past is refused and the statement stays open for amendments."""
    world.open()
    before = state()
    response = world.browser(world.coordinator).post(f"/statements/{world.sid}/freeze", {
        "signing_deadline": "2020-01-01T10:00", "timezone": "UTC"})
    assert response.status_code == 200
    assert "The signing deadline must be in the future." in page_text(response)
    assert state() == before


def test_only_the_coordinator_freezes(world):
    """A signatory gets 403 on the freeze page and on a forced POST."""
    world.open()
    before = state()
    signatory = world.browser(world.sig_gva)
    assert signatory.get(f"/statements/{world.sid}/freeze").status_code == 403
    token_page = f"/statements/{world.sid}"
    assert signatory.post(f"/statements/{world.sid}/freeze", {"timezone": "UTC"},
                          form_page=token_page).status_code == 403
    assert state() == before


# --- the signing page ---------------------------------------------------------------------------


def test_sign_page_shows_the_full_text_the_full_hash_and_progress(frozen):
    """The signatory sees the canonical text, the full hash, who signed and "N of M"."""
    frozen.sign("hwu")
    page = page_text(frozen.browser(frozen.sig_gva).get(f"/statements/{frozen.sid}/sign"))
    reload()
    version = frozen.st().frozen_version
    assert html.escape(version.canonical_text, quote=False) in page
    assert version.sha256 in page
    assert "<strong>1 of 3</strong> organisations has signed" in page
    assert 'max="3" value="1"' in page
    assert "Hana Harbour, Chair of Harbour Workers Union" in page
    assert re.search(r"Waiting</span> Green Valleys Alliance", page)
    assert '<select id="organisation" name="organisation"' in page
    assert f'value="{version.sha256}"' in page  # the hash the form sends back


def test_signatory_signs(frozen):
    """A valid signature records the typed name and title, the hash, IP and user agent."""
    signatory = frozen.browser(frozen.sig_gva)
    response = signatory.post(f"/statements/{frozen.sid}/sign",
                              sign_form(frozen, "gva", signer_name="  Gus   Green "),
                              headers={"User-Agent": "TestBrowser/1.0"})
    assert response.status_code == 302
    assert "Green Valleys Alliance has signed version 1." in flashes(page_text(signatory.get(
        response.headers["Location"])))
    reload()
    signature = db.session.scalars(select(Signature)).one()
    assert (signature.organisation_id, signature.user_id) == (frozen.gva.id, frozen.sig_gva.id)
    assert (signature.signer_name, signature.signer_title) == ("Gus Green", "Secretary General")
    assert signature.version_sha256 == frozen.st().frozen_version.sha256
    assert signature.status == "valid"
    assert signature.user_agent == "TestBrowser/1.0"
    assert signature.ip_address == "127.0.0.1"
    page = page_text(signatory.get(f"/statements/{frozen.sid}/sign"))
    assert "<strong>1 of 3</strong>" in page
    assert "Every organisation you sign for has signed." in page


def test_wrong_password_is_a_form_error_saves_nothing_and_empties_the_field(frozen):
    """A wrong password: error next to the field, no signature, the password not echoed."""
    before = state()
    response = frozen.browser(frozen.sig_gva).post(
        f"/statements/{frozen.sid}/sign", sign_form(frozen, "gva", password="not my password"))
    assert response.status_code == 422
    page = page_text(response)
    assert "The password is not correct." in page
    assert "not my password" not in page
    password_input = re.search(r'<input[^>]*name="password"[^>]*>', page).group(0)
    assert "value=" not in password_input or 'value=""' in password_input
    assert re.search(r'<input[^>]*name="signer_name"[^>]*value="Gus Green"', page)  # the rest is kept
    assert state() == before


def test_missing_authorised_tick_is_a_form_error(frozen):
    """Without the authorisation tick nothing is signed."""
    before = state()
    response = frozen.browser(frozen.sig_gva).post(f"/statements/{frozen.sid}/sign",
                                                   sign_form(frozen, "gva", authorised=None))
    assert response.status_code == 422
    page = page_text(response)
    assert "Confirm that you are authorised to sign." in page
    assert "I am authorised to sign on behalf of Green Valleys Alliance" in page
    assert state() == before


def test_missing_name_or_title_is_a_form_error(frozen):
    """Name and title are required."""
    before = state()
    browser = frozen.browser(frozen.sig_gva)
    assert browser.post(f"/statements/{frozen.sid}/sign", sign_form(frozen, "gva", signer_name=" ")
                        ).status_code == 422
    assert browser.post(f"/statements/{frozen.sid}/sign", sign_form(frozen, "gva", signer_title="")
                        ).status_code == 422
    assert state() == before


def test_forged_version_hash_is_refused_as_text_changed(frozen):
    """A hash that is not the frozen version's is refused with "text changed"; nothing is saved."""
    before = state()
    response = frozen.browser(frozen.sig_gva).post(f"/statements/{frozen.sid}/sign",
                                                   sign_form(frozen, "gva", version_sha256="0" * 64))
    assert response.status_code == 422
    assert "The text changed since you opened it" in page_text(response)
    assert state() == before


def test_signing_for_an_organisation_one_is_not_signatory_of_is_refused(frozen):
    """A signatory of GVA cannot pick TNN by forging the select."""
    before = state()
    response = frozen.browser(frozen.sig_gva).post(f"/statements/{frozen.sid}/sign",
                                                   sign_form(frozen, "gva", organisation=str(frozen.tnn.id)))
    assert response.status_code == 422
    assert "Not a valid choice" in page_text(response)
    assert state() == before


def test_non_signatory_gets_no_form_and_a_forced_post_is_403(frozen):
    """A delegate sees the text and progress but no form; posting anyway is forbidden."""
    delegate = frozen.browser(frozen.delegate_gva)
    page = page_text(delegate.get(f"/statements/{frozen.sid}/sign"))
    assert "0 of 3" in page
    assert 'name="password"' not in page
    assert "You are not a signatory of an organisation taking part" in page
    before = state()
    response = delegate.post(f"/statements/{frozen.sid}/sign", sign_form(frozen, "gva"),
                             form_page=f"/statements/{frozen.sid}/sign")
    assert response.status_code == 403
    assert state() == before


def test_outsider_cannot_see_the_signing_page(frozen):
    """A signatory of a non-participating organisation cannot see the statement at all."""
    outsider = frozen.browser(frozen.outsider)
    assert outsider.get(f"/statements/{frozen.sid}/sign").status_code in (403, 404)


def test_second_signature_for_the_same_organisation_is_refused(frozen):
    """Once GVA has signed, its signatory gets no form and a replayed POST changes nothing."""
    frozen.sign("gva")
    browser = frozen.browser(frozen.sig_gva)
    before = state()
    response = browser.post(f"/statements/{frozen.sid}/sign", sign_form(frozen, "gva"),
                            form_page=f"/statements/{frozen.sid}")
    assert response.status_code == 422
    assert "Green Valleys Alliance has already signed this version." in page_text(response)
    assert state() == before


def test_signatory_revokes_the_signature(frozen):
    """Revoking marks the signature revoked (kept) and the organisation waits again."""
    sig_id = frozen.sign("gva")
    browser = frozen.browser(frozen.sig_gva)
    page = page_text(browser.get(f"/statements/{frozen.sid}/sign"))
    assert f"/signatures/{sig_id}/revoke" in page
    response = browser.post(f"/statements/{frozen.sid}/signatures/{sig_id}/revoke",
                            form_page=f"/statements/{frozen.sid}/sign")
    assert response.status_code == 302
    reload()
    signature = db.session.get(Signature, sig_id)
    assert signature.status == "revoked" and signature.ended_by_id == frozen.sig_gva.id
    page = page_text(browser.get(f"/statements/{frozen.sid}/sign"))
    assert "The signature of Green Valleys Alliance is revoked." in flashes(page)
    assert "<strong>0 of 3</strong>" in page
    assert "Revoked</span>" in page  # shown under earlier signatures
    assert 'name="password"' in page  # GVA can sign again


def test_another_organisations_signatory_cannot_revoke(frozen):
    """TNN's signatory sees no revoke button for GVA and a forced POST changes nothing."""
    sig_id = frozen.sign("gva")
    browser = frozen.browser(frozen.sig_tnn)
    assert f"/signatures/{sig_id}/revoke" not in page_text(browser.get(f"/statements/{frozen.sid}/sign"))
    before = state()
    response = browser.post(f"/statements/{frozen.sid}/signatures/{sig_id}/revoke",
                            form_page=f"/statements/{frozen.sid}/sign")
    assert response.status_code == 302
    assert "Only a signatory of Green Valleys Alliance" in flashes(page_text(browser.get(
        f"/statements/{frozen.sid}/sign")))[0]
    assert state() == before


# --- withdraw and re-invite ---------------------------------------------------------------------------


def test_organisation_withdraws_with_a_reason_shown_to_the_others(world):
    """TNN's admin withdraws it; the reason is on the statement page; it no longer counts."""
    world.open()
    admin = world.browser(world.admin_tnn)
    page = page_text(admin.get(f"/statements/{world.sid}/withdraw-organisation"))
    assert "Tenants Network" in page
    response = admin.post(f"/statements/{world.sid}/withdraw-organisation",
                          {"organisation": str(world.tnn.id), "reason": "Our board <voted> against."})
    assert response.status_code == 302
    reload()
    participant = db.session.scalars(
        select(Participant).where(Participant.organisation_id == world.tnn.id)).one()
    assert participant.withdrawn_at is not None
    assert participant.withdraw_reason == "Our board <voted> against."
    assert world.tnn not in world.st().participant_organisations
    other = page_text(world.browser(world.sig_gva).get(f"/statements/{world.sid}"))
    assert "Tenants Network withdrew on" in other
    assert "Our board &lt;voted&gt; against." in other


def test_withdraw_without_a_reason_is_a_form_error(world):
    """No reason, no withdrawal."""
    world.open()
    before = state()
    response = world.browser(world.admin_tnn).post(f"/statements/{world.sid}/withdraw-organisation",
                                                   {"organisation": str(world.tnn.id), "reason": "  "})
    assert response.status_code == 200
    assert "Give a reason; the other" in page_text(response)
    assert state() == before


def test_delegate_cannot_withdraw_an_organisation(world):
    """Only admins and signatories may withdraw; a delegate gets 403."""
    world.open()
    before = state()
    assert world.browser(world.delegate_gva).get(
        f"/statements/{world.sid}/withdraw-organisation").status_code == 403
    assert state() == before


def test_coordinator_reinvites_a_withdrawn_organisation(world):
    """The re-invite button on the statement page brings the organisation back."""
    world.open()
    withdrawals.withdraw_organisation(world.st(), world.admin_tnn, world.tnn, reason="Not now.", now=now())
    db.session.commit()
    coordinator = world.browser(world.coordinator)
    page = page_text(coordinator.get(f"/statements/{world.sid}"))
    assert f"/participants/{world.tnn.id}/reinvite" in page
    response = coordinator.post(f"/statements/{world.sid}/participants/{world.tnn.id}/reinvite",
                                form_page=f"/statements/{world.sid}")
    assert response.status_code == 302
    reload()
    assert world.tnn in world.st().participant_organisations
    page = page_text(coordinator.get(f"/statements/{world.sid}"))
    assert "Tenants Network takes part again." in flashes(page)


def test_withdrawn_organisation_no_longer_counts_for_signing(frozen):
    """After TNN withdraws, two signatures complete the statement."""
    withdrawals.withdraw_organisation(frozen.st(), frozen.sig_tnn, frozen.tnn, reason="No mandate.", now=now())
    db.session.commit()
    frozen.sign("hwu")
    frozen.sign("gva")
    page = page_text(frozen.browser(frozen.coordinator).get(f"/statements/{frozen.sid}/publish"))
    assert "<strong>2 of 2</strong>" in page
    assert 'name="publication_date"' in page


# --- reopen ------------------------------------------------------------------------------------------


def test_reopen_confirm_page_lists_signatures_that_become_void_then_shows_them_void(frozen):
    """The coordinator sees what will be voided; afterwards the signatures are void, kept and shown."""
    gva = frozen.sign("gva")
    hwu = frozen.sign("hwu")
    coordinator = frozen.browser(frozen.coordinator)
    page = page_text(coordinator.get(f"/statements/{frozen.sid}/reopen"))
    assert "2 signatures will become void" in page
    assert "Green Valleys Alliance" in page and "Harbour Workers Union" in page
    response = coordinator.post(f"/statements/{frozen.sid}/reopen")
    assert response.status_code == 302
    reload()
    assert frozen.st().status == "amending" and frozen.st().frozen_version_id is None
    assert {db.session.get(Signature, i).status for i in (gva, hwu)} == {"void"}
    page = page_text(coordinator.get(f"/statements/{frozen.sid}/sign"))
    assert page.count("Void</span>") == 2
    assert "The statement was reopened for amendments." in page


def test_reopen_is_for_the_coordinator_only(frozen):
    """A signatory cannot reopen."""
    frozen.sign("gva")
    before = state()
    browser = frozen.browser(frozen.sig_gva)
    assert browser.get(f"/statements/{frozen.sid}/reopen").status_code == 403
    assert browser.post(f"/statements/{frozen.sid}/reopen", form_page=f"/statements/{frozen.sid}/sign"
                        ).status_code == 403
    assert state() == before


# --- publish ------------------------------------------------------------------------------------------


def test_publish_page_refuses_while_an_organisation_has_not_signed(frozen):
    """No form while TNN is missing, and a forced POST publishes nothing."""
    frozen.sign("hwu")
    frozen.sign("gva")
    coordinator = frozen.browser(frozen.coordinator)
    page = page_text(coordinator.get(f"/statements/{frozen.sid}/publish"))
    assert "Still waiting for: Tenants Network." in page
    assert 'name="publication_date"' not in page
    before = state()
    response = coordinator.post(f"/statements/{frozen.sid}/publish",
                                {"publication_date": now().date().isoformat()},
                                form_page=f"/statements/{frozen.sid}/reopen")
    assert response.status_code == 200
    assert "still waiting for: Tenants Network" in page_text(response)
    assert state() == before


def test_publish_with_a_valid_date(frozen):
    """Publishing with today's date creates one publication and redirects to /p/<slug>."""
    for key in ("hwu", "gva", "tnn"):
        frozen.sign(key)
    coordinator = frozen.browser(frozen.coordinator)
    page = page_text(coordinator.get(f"/statements/{frozen.sid}/publish"))
    today = now().date()
    assert f'value="{today.isoformat()}"' in page
    response = coordinator.post(f"/statements/{frozen.sid}/publish", {"publication_date": today.isoformat()})
    assert response.status_code == 302
    reload()
    statement = frozen.st()
    publication = db.session.scalars(select(Publication)).one()
    assert response.headers["Location"].endswith(f"/p/{statement.slug}")
    assert statement.status == "published"
    assert publication.publication_date == today
    assert (f"Joint Statement of Harbour Workers Union, Green Valleys Alliance and Tenants Network, "
            f"{format_date(today)}") in publication.plain_text
    public = page_text(coordinator.get(response.headers["Location"]))
    assert "Published. This page is its permanent address." in flashes(public)


def test_publication_date_before_the_last_signature_is_refused(frozen):
    """A date before the last signature is a form error; nothing is published."""
    for key in ("hwu", "gva", "tnn"):
        frozen.sign(key)
    before = state()
    response = frozen.browser(frozen.coordinator).post(
        f"/statements/{frozen.sid}/publish",
        {"publication_date": (now().date() - timedelta(days=3)).isoformat()})
    assert response.status_code == 200
    assert "cannot be before the last signature" in page_text(response)
    assert state() == before


def test_second_publish_click_is_refused(frozen):
    """A replayed publish POST leaves exactly one publication."""
    for key in ("hwu", "gva", "tnn"):
        frozen.sign(key)
    coordinator = frozen.browser(frozen.coordinator)
    token_page = f"/statements/{frozen.sid}/publish"
    token = csrf_token(coordinator.client, token_page)
    data = {"publication_date": now().date().isoformat(), "csrf_token": token}
    assert coordinator.client.post(token_page, data=data).status_code == 302
    again = coordinator.client.post(token_page, data=data)
    assert again.status_code == 200
    assert "already published" in page_text(again)
    reload()
    assert db.session.scalar(select(func.count()).select_from(Publication)) == 1


def test_auto_publish_after_the_last_signature_redirects_to_the_public_page(world):
    """With auto-publish on, the last signature publishes and the signer lands on /p/<slug>."""
    world.freeze(auto_publish=True)
    world.sign("hwu")
    world.sign("gva")
    browser = world.browser(world.sig_tnn)
    response = browser.post(f"/statements/{world.sid}/sign", sign_form(world, "tnn"))
    assert response.status_code == 302
    reload()
    statement = world.st()
    assert statement.status == "published"
    assert response.headers["Location"].endswith(f"/p/{statement.slug}")
    publication = db.session.scalars(select(Publication)).one()
    assert publication.publication_date == now().date()
    assert "the statement is published" in flashes(page_text(browser.get(response.headers["Location"])))[0]


def test_signing_after_publication_is_refused(frozen):
    """Once published, the sign page is read-only and a POST signs nothing."""
    for key in ("hwu", "gva", "tnn"):
        frozen.sign(key)
    token_browser = frozen.browser(frozen.sig_gva)
    token = csrf_token(token_browser.client, f"/statements/{frozen.sid}/sign")
    frozen.publish()
    before = state()
    page = page_text(token_browser.get(f"/statements/{frozen.sid}/sign"))
    assert "Signatures of version 1" in page and 'name="password"' not in page
    response = token_browser.client.post(f"/statements/{frozen.sid}/sign",
                                         data=sign_form(frozen, "gva") | {"csrf_token": token})
    assert response.status_code == 302
    assert state() == before


# --- audit trail and CSRF ---------------------------------------------------------------------------


def test_audit_trail_lists_the_entries_and_says_intact(frozen):
    """Freeze, signatures and publication appear in the timeline; the chain is intact."""
    for key in ("hwu", "gva", "tnn"):
        frozen.sign(key)
    frozen.publish()
    page = page_text(frozen.browser(frozen.sig_gva).get(f"/statements/{frozen.sid}/audit"))
    assert "Intact</span>" in page
    for label in ("created the statement", "opened it for amendments", "froze the text for signing",
                  "published the statement"):
        assert label in page
    assert page.count("</strong> (GVA)") >= 1
    reload()
    entries = audit.trail(frozen.sid)
    assert f"entries 1 to {len(entries)} of {len(entries)} check out" in page
    assert [e.action for e in entries].count("signed") == 3


def test_a_long_audit_trail_is_shown_and_checked_a_page_at_a_time(frozen):
    """Past 100 entries the trail has pages; each checks its own entries and their link to the entry
    before the page, so an edited entry is reported on the page that shows it."""
    user, _ = frozen.signers["gva"]
    for _ in range(60):  # 120 entries: signed, revoked, signed again...
        signature = db.session.get(Signature, frozen.sign("gva"))
        signing.revoke(signature, user, now=datetime.now(UTC))
        db.session.commit()
    total = len(audit.trail(frozen.sid))
    viewer = frozen.browser(frozen.sig_gva)
    first, second = (page_text(viewer.get(f"/statements/{frozen.sid}/audit?page={n}")) for n in (1, 2))
    assert f"entries 1 to 100 of {total} check out" in first and 'rel="next"' in first
    assert f"entries 101 to {total} of {total} check out, each linked to the entry before it" in second
    assert ">#1 ·" not in second and f">#{total} ·" in second
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.statement_id == frozen.sid,
                                                       AuditEntry.seq == 110))
    entry.details = entry.details.replace('"signature"', '"signatures"')
    db.session.commit()
    assert "Intact</span>" in page_text(viewer.get(f"/statements/{frozen.sid}/audit?page=1"))
    second = page_text(viewer.get(f"/statements/{frozen.sid}/audit?page=2"))
    assert "Broken</span>" in second and "Entry 110:" in second
    assert viewer.get(f"/statements/{frozen.sid}/audit?page=9").status_code == 404


def test_audit_trail_says_broken_after_an_edited_row(frozen):
    """An edited audit row is reported as broken on the page."""
    frozen.sign("gva")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "signed")).one()
    entry.details = entry.details.replace("Gus Green", "Mallory")
    db.session.commit()
    page = page_text(frozen.browser(frozen.coordinator).get(f"/statements/{frozen.sid}/audit"))
    assert "Broken</span>" in page and "Intact</span>" not in page
    assert f"Entry {entry.seq}:" in page


def test_missing_csrf_token_is_400_and_changes_nothing(frozen):
    """Sign, freeze-like actions and publish without a CSRF token are refused."""
    frozen.sign("hwu")
    frozen.sign("tnn")
    before = state()
    signatory = frozen.browser(frozen.sig_gva)
    data = sign_form(frozen, "gva")
    assert signatory.client.post(f"/statements/{frozen.sid}/sign", data=data).status_code == 400
    coordinator = frozen.browser(frozen.coordinator)
    assert coordinator.client.post(f"/statements/{frozen.sid}/reopen").status_code == 400
    assert state() == before
