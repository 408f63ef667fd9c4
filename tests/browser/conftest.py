import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return
    if os.environ.get("CI"):
        # CI installs Debian's chromium; a missing browser there is a broken build.
        raise pytest.UsageError(f"CI=true but no Chromium at {CHROMIUM}: install 'chromium'.")
    skip = pytest.mark.skip(
        reason=f"no Chromium at {CHROMIUM}: apt-get install chromium to run the browser tests"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
    # the test itself (loading fixtures) are still synchronous and safe here.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def seeded(transactional_db):
    call_command("loaddata", "seed", verbosity=0)


@pytest.fixture
def page(browser, live_server, seeded):
    context = browser.new_context(
        viewport=VIEWPORTS["desktop"], locale="en-GB", base_url=live_server.url
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


PASSWORD = "correct horse battery staple"


def log_in(page, username):
    """Make ``username`` a superuser and log ``page`` in to the admin as them."""
    from django.contrib.auth.models import User

    User.objects.create_superuser(username, f"{username}@example.org", PASSWORD)
    page.goto(reverse("admin:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return page


@pytest.fixture
def screenshot(browser, live_server, seeded):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name, path, viewport="desktop", language="en"):
        context = browser.new_context(
            viewport=VIEWPORTS[viewport],
            locale=language,
            extra_http_headers={"Accept-Language": language},
            base_url=live_server.url,
        )
        page = context.new_page()
        response = page.goto(path)
        target = SCREENSHOTS / f"{name}-{language}-{viewport}.png"
        page.screenshot(path=str(target), full_page=True)
        context.close()
        return response, target

    return take
