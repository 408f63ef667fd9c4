"""Facets in a real browser: with and without JavaScript, axe-core, screenshots."""

import re

import pytest

from .test_public_site import url

pytestmark = pytest.mark.browser


def shown(page):
    count = int(re.search(r"\d+", page.locator("#results-heading").inner_text()).group())
    cards = page.locator(".results .cards > li").count()
    return count, cards


def test_a_facet_click_narrows_the_list_without_a_reload(page):
    page.goto(url("partnerships:partnership-list"))
    before, _cards = shown(page)
    page.evaluate("window.notReloaded = true")
    label = page.locator("label[for='facet-kind-sister_city']").inner_text()
    expected = int(re.search(r"\d+", label).group())
    page.check("#facet-kind-sister_city")
    page.wait_for_url(re.compile(r"kind=sister_city"))
    page.wait_for_function("!document.getElementById('explore').hasAttribute('aria-busy')")
    count, cards = shown(page)
    assert count == expected == cards < before
    assert page.evaluate("window.notReloaded") is True
    assert page.locator(".chip").first.inner_text().startswith("Kind: sister city")
    assert page.locator("#explore-status").inner_text() == f"{count} results"
    # The chip takes it off again.
    page.locator(".chip").first.click()
    page.wait_for_url(lambda address: "kind=" not in address)
    page.wait_for_function("!document.getElementById('explore').hasAttribute('aria-busy')")
    assert shown(page)[0] == before


def test_facets_work_without_javascript(browser, live_server, seeded):
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.goto(url("partnerships:partnership-list"))
    label = page.locator("label[for='facet-status-ended']").inner_text()
    expected = int(re.search(r"\d+", label).group())
    page.check("#facet-status-ended")
    page.locator(".facet-apply").click()
    page.wait_for_url(re.compile(r"status=ended"))
    assert shown(page) == (expected, expected)
    context.close()


@pytest.mark.parametrize("language", ["en", "da"])
def test_faceted_pages_have_no_accessibility_violations(page, language):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems = {}
    for path in [
        url("partnerships:partnership-list", language) + "?kind=sister_city&country=DK",
        url("partnerships:partnership-list", language) + "?as_of=1990",
        url("search", language) + "?q=jiangsu&status=active",
        url("places:place-list", language) + "?country=CN",
    ]:
        page.goto(path)
        violations = axe.run(page).response["violations"]
        if violations:
            problems[path] = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
            ]
    assert problems == {}


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("language", ["en", "da"])
def test_screenshots_of_a_faceted_search(screenshot, viewport, language):
    pages = {
        "faceted-search": url("search", language) + "?q=jiangsu&status=active",
        "faceted-partnership-list": url("partnerships:partnership-list", language)
        + "?kind=sister_city&kind=cooperation&as_of=2010",
    }
    for name, path in pages.items():
        response, target = screenshot(name, path, viewport, language)
        assert response.status == 200, path
        assert target.stat().st_size > 10_000
