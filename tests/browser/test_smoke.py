import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_log_in_and_reach_the_overview(page, log_in, screenshot, make_tenant):
    alpha = make_tenant("Alpha", "whsec_alphaalphaalphaalpha")
    page.goto("/app/alpha/")
    assert "/login/" in page.url
    screenshot(page, "login")
    log_in(alpha.owner)
    assert page.url.endswith("/app/alpha/")
    sections = page.get_by_role("navigation", name="Sections")
    assert sections.get_by_role("link", name="Lost sales").is_visible()
    # The stylesheet arrived (a page without CSS keeps the nav's default inline layout).
    assert page.locator("nav.sections").evaluate("n => getComputedStyle(n).display") == "flex"
