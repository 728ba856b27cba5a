"""Cached page fragments (app/web/fragments.py): never stale, never someone else's.

The statement and amendment pages keep their content per (statement generation, version,
viewer's rights). These tests change things through the rules, as other workers would, and
check that the next page shows the change, and that viewers with different rights or
sessions never receive each other's page.
"""

from __future__ import annotations

import re

import pytest

from app.amending import operations as amending
from app.extensions import db
from app.models import Amendment
from app.organisations import operations as orgs
from app.web.fragments import FragmentCache
from tests.test_web_amendments import World, now, page_text

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def opened(app) -> World:
    world = World(app)
    world.open()
    return world


def tokens(page: str) -> set[str]:
    return set(CSRF_RE.findall(page))


def test_statement_page_follows_every_change_made_through_the_rules(opened):
    partner = opened.browser(opened.partner)
    assert "open amendment" not in page_text(partner.get(f"/statements/{opened.sid}"))
    first = opened.propose(opened.tenant, opened.tnn, paragraph_id=opened.pids[0], text="Cities get hot.")
    assert "1 open amendment" in page_text(partner.get(f"/statements/{opened.sid}"))
    opened.propose(opened.tenant, opened.tnn, paragraph_id=opened.pids[0], text="Cities are hot.")
    assert "2 open amendments" in page_text(partner.get(f"/statements/{opened.sid}"))
    opened.accept(first)
    page = page_text(partner.get(f"/statements/{opened.sid}"))
    assert "Cities get hot." in page and "Version 2" in page
    # Renaming an organisation changes the participants' line of the pages it is on.
    orgs.update_organisation(opened.admin, opened.tnn, name="Tenants Network International",
                             short_name="TNI", country="")
    db.session.commit()
    assert "Tenants Network International" in page_text(partner.get(f"/statements/{opened.sid}"))


def test_viewers_with_other_rights_get_their_own_statement_page(opened):
    partner = page_text(opened.browser(opened.partner).get(f"/statements/{opened.sid}"))
    coordinator = page_text(opened.browser(opened.coordinator).get(f"/statements/{opened.sid}"))
    signatory = page_text(opened.browser(opened.signatory).get(f"/statements/{opened.sid}"))
    assert "Freeze for signing" in coordinator and "Freeze for signing" not in partner
    assert "Propose a new title" in partner and "Propose a new title" not in signatory
    assert "Withdraw my organisation" in signatory and "Withdraw my organisation" not in partner
    # Each page's frame is its viewer's.
    assert opened.partner.name in partner and opened.partner.name not in coordinator


def test_forms_in_a_cached_fragment_carry_each_viewers_own_csrf_token(opened):
    """Two sessions with the same rights share the fragment, never a CSRF token."""
    amendment_id = opened.propose(opened.tenant, opened.tnn, paragraph_id=opened.pids[1], text="Shade.")
    first, second = opened.browser(opened.partner), opened.browser(opened.partner)
    one = page_text(first.get(f"/amendments/{amendment_id}"))
    two = page_text(second.get(f"/amendments/{amendment_id}"))
    assert len(tokens(one)) == 1 and len(tokens(two)) == 1 and tokens(one) != tokens(two)
    assert one.count(tokens(one).pop()) >= 3  # logout, position and comment forms
    # The token in the page works: the comment is taken.
    response = first.post(f"/amendments/{amendment_id}/comments", {"body": "Agreed, with shade."},
                          form_page=f"/amendments/{amendment_id}")
    assert response.status_code == 302
    assert "Agreed, with shade." in page_text(second.get(f"/amendments/{amendment_id}"))


def test_amendment_page_follows_positions_and_decisions(opened):
    amendment_id = opened.propose(opened.tenant, opened.tnn, paragraph_id=opened.pids[1], text="Shade.")
    partner = opened.browser(opened.partner)
    assert "Withdraw" not in page_text(partner.get(f"/amendments/{amendment_id}"))
    assert "Withdraw" in page_text(opened.browser(opened.tenant).get(f"/amendments/{amendment_id}"))
    opened.position(amendment_id, opened.partner, opened.gva, "oppose")
    assert "oppose" in page_text(partner.get(f"/amendments/{amendment_id}")).lower()
    amending.reject(db.session.get(Amendment, amendment_id), opened.coordinator, reason="Too short.",
                    now=now())
    db.session.commit()
    page = page_text(partner.get(f"/amendments/{amendment_id}"))
    assert "Too short." in page and "rejected" in page.lower()


def test_the_cache_is_bounded_and_forgets_the_least_recently_used():
    cache = FragmentCache(max_bytes=10)
    assert cache.get("a", lambda: b"aaaa") == b"aaaa"
    cache.get("b", lambda: b"bbbb")
    cache.get("a", lambda: b"never")  # a is used again: b is now the oldest
    cache.get("c", lambda: b"cccc")
    assert list(cache.items) == ["a", "c"] and cache.size == 8
    assert cache.get("big", lambda: b"x" * 11) == b"x" * 11 and "big" not in cache.items


def test_a_warm_page_costs_one_query_and_still_sees_a_change_made_elsewhere(opened):
    """On a warm cache the statement and amendment pages read only the user with the page's row
    (accounts.load_for_request); the participants and the frame are kept. A change made meanwhile
    (here: a position, through the rule, as another worker would) still shows on the next view."""
    from sqlalchemy import event

    amendment_id = opened.propose(opened.tenant, opened.tnn, paragraph_id=opened.pids[1], text="Shade.")
    partner = opened.browser(opened.partner)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    for path in (f"/statements/{opened.sid}", f"/amendments/{amendment_id}"):
        assert partner.get(path).status_code == 200  # cold: renders and fills the caches
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            page = page_text(partner.get(path))
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert len(statements) == 1 and "FROM users" in statements[0], (path, statements)
        assert opened.partner.name in page
        statements.clear()
    opened.position(amendment_id, opened.partner, opened.gva, "oppose")
    assert "oppose" in page_text(partner.get(f"/amendments/{amendment_id}")).lower()


def test_a_workers_first_request_can_be_a_cached_page(opened):
    """A worker's first request checks that setup is done (a query) before the page's own hooks run:
    the page must not mind a transaction already begun (PostgreSQL's autocommit for @reads_only)."""
    import warnings

    from sqlalchemy.exc import SAWarning

    partner = opened.browser(opened.partner)
    amendment_id = opened.propose(opened.tenant, opened.tnn, paragraph_id=opened.pids[0], text="Hot.")
    for path in (f"/statements/{opened.sid}", f"/amendments/{amendment_id}"):
        opened.app.extensions.pop("concord_setup_done", None)  # as in a fresh worker
        with warnings.catch_warnings():
            warnings.simplefilter("error", SAWarning)  # e.g. execution options ignored on a begun transaction
            assert partner.get(path).status_code == 200, path
