from tests import factories


def test_draft_statement_page_shows_numbered_paragraphs(app, browser):
    """The coordinator sees their draft with numbers derived from order."""
    factories.admin()
    org = factories.organisation("Harbour Workers' Union", slug="hwu")
    coordinator = factories.member(org, "delegate")
    statement = factories.statement(coordinator, org)
    browser.login(coordinator.email)
    page = browser.get(f"/statements/{statement.id}").get_data(as_text=True)
    assert "1." in page and "First paragraph." in page and "3." in page
