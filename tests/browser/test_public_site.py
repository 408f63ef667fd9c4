"""The public site in a real Chromium, driven as a reader would: mouse and keyboard."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

pytestmark = pytest.mark.browser


def url(name, language="en", **kwargs):
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def test_search_with_a_spelling_without_accents(page):
    page.goto(url("home"))
    page.fill("#q", "Ostergotland")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/search/\?q=Ostergotland"))
    result = page.get_by_role("link", name=re.compile("Östergötland")).first
    assert result.is_visible()
    result.click()
    assert page.locator("h1").inner_text().startswith("Östergötland")


def test_filter_then_page_through_keeping_the_filter(page):
    page.goto(url("partnerships:partnership-list"))
    page.check("#facet-status-active")  # a facet: applied at once, no reload
    page.wait_for_url(re.compile(r"status=active"))
    first_page = page.locator("main h2 a, main h3 a").all_inner_texts()
    page.get_by_role("link", name=re.compile("Next")).click()
    page.wait_for_url(re.compile(r"page=2"))
    assert "status=active" in page.url
    second_page = page.locator("main h2 a, main h3 a").all_inner_texts()
    assert second_page and not set(first_page) & set(second_page)
    assert page.locator("#facet-status-active").is_checked()


def test_open_a_detail_page_from_a_list(page):
    page.goto(url("partnerships:partnership-list") + "?q=harbin")
    page.get_by_role("link", name=re.compile("Aarhus.Harbin")).first.click()
    page.wait_for_url(re.compile(r"/partnerships/[\w-]+/$"))
    heading = page.locator("h1").inner_text()
    assert "Harbin" in heading
    body = page.locator("main").inner_text()
    assert "Aarhus" in body and "Baggrundsnotat" in body


def test_switch_language_keeps_the_page_and_its_filters(page):
    page.goto(url("places:place-list") + "?q=jiangsu")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Dansk").click()
    page.wait_for_url(re.compile(r"/da/places/\?q=jiangsu$"))
    assert page.locator("html").get_attribute("lang") == "da"
    assert page.get_by_role("link", name="Steder").first.is_visible()
    page.get_by_role("navigation", name="Sprog").get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r"/en/places/\?q=jiangsu$"))


def focused(page):
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                id: el.id, tag: el.tagName.toLowerCase(),
                text: (el.innerText || el.value || '').trim().slice(0, 60),
                href: el.getAttribute('href'),
                outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
                shadow: style.boxShadow !== 'none',
            };
        }"""
    )


def test_every_control_is_reachable_with_the_keyboard(page):
    page.goto(url("partnerships:partnership-list"))
    controls = page.evaluate(
        """() => [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select')]
            .filter(el => el.offsetParent !== null).length"""
    )
    seen = []
    # Date fields take several stops (day, month, year, picker): allow for them, and
    # stop once focus has left the last control.
    for _ in range(controls * 4):
        page.keyboard.press("Tab")
        state = focused(page)
        if state["tag"] == "body":
            break
        assert state["outline"] or state["shadow"], f"no visible focus on {state}"
        seen.append(state)
    ids = {state["id"] for state in seen}
    hrefs = {state["href"] for state in seen}
    # Kind and status are facets: a check box per value.
    assert {"q", "facet-status-active", "facet-kind-sister_city"} <= ids
    assert url("places:place-list") in hrefs
    assert url("partnerships:partnership-list", "da") in hrefs  # the language switch
    assert any(state["text"].startswith("Apply filters") for state in seen)

    # And it works: type a search and send it with the keyboard alone.
    page.goto(url("home"))
    while focused(page)["id"] != "q":
        page.keyboard.press("Tab")
    page.keyboard.type("wutshi")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=wutshi"))
    assert page.get_by_role("link", name=re.compile("Wuxi")).first.is_visible()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("language", ["en", "da"])
def test_screenshots_of_the_main_pages(screenshot, viewport, language):
    pages = {
        "home": url("home", language),
        "place-list": url("places:place-list", language),
        "place-detail": url("places:place-detail", language, slug="jiangsu"),
        "organisation-detail": url(
            "organisations:organisation-detail", language, slug="technical-university-of-denmark"
        ),
        "partnership-list": url("partnerships:partnership-list", language),
        "partnership-detail": url(
            "partnerships:partnership-detail", language, slug="bycirklen-wuxi-cooperation"
        ),
        "search": url("search", language) + "?q=nanjing",
    }
    for name, path in pages.items():
        response, target = screenshot(name, path, viewport, language)
        assert response.status == 200, path
        assert target.stat().st_size > 10_000


@pytest.mark.parametrize("language", ["en", "da"])
def test_main_pages_have_no_accessibility_violations(page, language):
    """axe-core (the engine behind Lighthouse's accessibility audit) finds nothing."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    pages = [
        url("home", language),
        url("places:place-list", language),
        url("places:place-detail", language, slug="jiangsu"),
        url("organisations:organisation-list", language),
        url("partnerships:partnership-list", language) + "?status=active",
        url("partnerships:partnership-detail", language, slug="bycirklen-wuxi-cooperation"),
        url("search", language) + "?q=nanjing",
        url("about", language),
    ]
    problems = {}
    for path in pages:
        page.goto(path)
        violations = axe.run(page).response["violations"]
        if violations:
            problems[path] = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
            ]
    assert problems == {}
