"""Browser tests: Debian's Chromium, driven by Playwright, against the live test server.

Chromium is the system's (`make browser` installs Debian's package); Playwright never downloads
a browser. Screenshots of the pages these tests visit go to SCREENSHOT_DIR (screenshots/ by
default, named in the README)."""

import os
import shutil
from pathlib import Path

import pytest

# Playwright's synchronous API keeps an event loop in this thread; Django refuses ORM calls from
# a thread with a running loop unless told that this one is safe. The test's ORM calls are.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).parents[2] / "screenshots"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser`, or set CHROMIUM to one")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    # The site's public URL is the live server's: the test-event button posts to it.
    settings.SITE_URL = live_server.url
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under SCREENSHOT_DIR, named after the page shown."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def log_in(page):
    from tests.conftest import PASSWORD

    def log_in_as(user, password: str = PASSWORD):
        page.goto("/login/")
        page.get_by_label("Email").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/app/**")

    return log_in_as
