"""Browser-test harness: Playwright driving Debian's chromium against pytest-django's live_server.

Loaded for every test module by tests/plugins.py. A browser test asks for ``page`` (which brings up the
live server and a transactional database), marks itself ``@pytest.mark.browser``, and uses the helpers:

    @pytest.mark.browser
    def test_it_shows_the_desk(page, handler):
        login(page, handler)
        page.goto("/")
        screenshot(page, "desk")

Playwright's own browser download (``playwright install``) is never used: it cannot be fetched on the
machines this project runs on. The chromium binary is Debian's (``apt-get install chromium``, done by
scripts/install.sh --test); set CHROMIUM_PATH to use another one.
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Headless, and nothing that phones home: the machines reach no network beyond the package registries,
# and every refused background connection would only slow the browser down.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_DIR = Path(os.environ.get("BROWSER_SCREENSHOT_DIR", "/tmp/casework-browser"))
# UserFactory's password for every persona in tests/conftest.py.
PERSONA_PASSWORD = "pass-1234"
DEFAULT_TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM_PATH).exists():
        pytest.fail(f"{CHROMIUM_PATH} is missing: run `make test` (it installs Debian's chromium) or set CHROMIUM_PATH")
    # Playwright's sync API keeps an event loop in this thread; Django would then refuse ORM calls made by
    # the test itself (SynchronousOnlyOperation), although nothing here is actually concurrent.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) whose relative URLs go to the live server.

    The browser asks for Chinese first, like the people this platform serves.
    """
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def login(page, user, password: str = PERSONA_PASSWORD) -> None:
    """Log in through the login form, as a person would, and wait until the form has gone."""
    username = user if isinstance(user, str) else user.get_username()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    if re.search(r"/accounts/login/", page.url):
        raise AssertionError(f"login as {username!r} failed: still on {page.url}")


def html_lang(page) -> str:
    return page.get_attribute("html", "lang") or ""


def switch_language(page, code: str) -> None:
    """Press the language switch (Django's set_language form: a button named "language")."""
    with page.expect_navigation():
        page.click(f"button[name=language][value={code}]")


def screenshot(page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
