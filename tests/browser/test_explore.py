"""The map and the network in a real Chromium: drawn from the seed, clickable, offline."""

import re
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from django.utils import translation

from .conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


def url(name, language="en", **kwargs):
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


@pytest.fixture
def outside(page, live_server):
    """Every request the page makes that is not to the live server: there must be none."""
    server = urlparse(live_server.url).netloc
    requests = []
    page.on(
        "request",
        lambda request: (
            requests.append(request.url)
            if urlparse(request.url).netloc != server and not request.url.startswith("data:")
            else None
        ),
    )
    return requests


def wait_drawn(page, selector):
    page.wait_for_selector(f"{selector}[data-ready=true]", state="attached", timeout=20_000)


def follow(page, link):
    """Follow a link in a popup. Leaflet pans the map to fit a new popup; a pointer click
    aimed while that pan runs can land on the map, which closes the popup instead."""
    with page.expect_navigation():
        link.evaluate("a => a.click()")


def test_the_map_draws_places_and_lines_from_the_seed(page, outside):
    page.goto(url("atlas:map"))
    wait_drawn(page, "[data-atlas-map]")
    canvas = page.locator("[data-atlas-map]")
    points = int(canvas.get_attribute("data-points"))
    lines = int(canvas.get_attribute("data-lines"))
    table_rows = page.locator("details.data-table").first.locator("tbody tr").count()
    assert points == table_rows > 10
    assert lines > 10
    assert page.locator("path.map-point").count() == points
    assert page.locator("path.map-line").count() == lines
    # The basemap: Natural Earth countries, drawn from the vendored file.
    assert page.locator(".leaflet-overlay-pane path").count() > points + lines + 100
    assert outside == []


def test_a_click_on_a_place_opens_a_popup_that_leads_to_its_record(page, outside):
    page.goto(url("atlas:map") + "?place=wuxi")
    wait_drawn(page, "[data-atlas-map]")
    # The biggest circle is drawn last-but-not-hidden; click the one for Wuxi through Leaflet.
    page.evaluate(
        """() => {
            const map = document.querySelector('[data-atlas-map]').atlasMap;
            map.eachLayer(layer => {
                if (layer.feature && layer.feature.properties.slug === 'wuxi') {
                    layer.fire('click', {latlng: layer.getLatLng()});
                }
            });
        }"""
    )
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "Wuxi" in popup.inner_text()
    follow(page, popup.get_by_role("link", name="Wuxi"))
    page.wait_for_url(re.compile(r"/en/places/wuxi/$"))
    assert page.locator("h1").inner_text().startswith("Wuxi")
    assert outside == []


def test_a_click_on_a_line_opens_its_partnership(page):
    page.goto(url("atlas:map") + "?organisation=bycirklen")
    wait_drawn(page, "[data-atlas-map]")
    line = page.locator("path.map-line").first
    box = line.bounding_box()
    assert box
    # Click the line where Leaflet draws it: through its own click handler at its middle.
    page.evaluate(
        """() => {
            const map = document.querySelector('[data-atlas-map]').atlasMap;
            let done = false;
            map.eachLayer(layer => {
                if (!done && layer.feature && layer.feature.geometry.type === 'LineString') {
                    layer.fire('click', {latlng: layer.getCenter()});
                    done = true;
                }
            });
        }"""
    )
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    follow(page, popup.get_by_role("link", name=re.compile("Bycirklen")))
    page.wait_for_url(re.compile(r"/partnerships/bycirklen-wuxi-cooperation/$"))


def test_the_network_shows_the_partners_of_bycirklen(page, outside):
    page.goto(url("organisations:organisation-detail", slug="bycirklen"))
    wait_drawn(page, "[data-atlas-network]")
    labels = page.evaluate(
        """() => document.querySelector('[data-atlas-network]').atlasGraph
                 .nodes().map(n => n.data('label'))"""
    )
    for partner in [
        "Bycirklen",
        "Ballerup Municipality",
        "Frederikssund Municipality",
        "Egedal Municipality",
        "Wuxi",
        "Bycirklen–Wuxi cooperation",
    ]:
        assert partner in labels
    table = page.locator(".network-table")
    assert "Wuxi" in table.text_content()
    # Bycirklen's partners take part in nothing else: one step further finds nothing new.
    page.get_by_role("button", name="Show one step further").click()
    page.get_by_role("status").filter(has_text="Nothing more to show.").wait_for()
    assert outside == []


def test_one_step_further_adds_the_partners_partnerships(page):
    page.goto(url("places:place-detail", slug="harbin"))
    wait_drawn(page, "[data-atlas-network]")
    nodes = "document.querySelector('[data-atlas-network]').atlasGraph.nodes().length"
    before = page.evaluate(f"() => {nodes}")
    rows = page.locator(".network-table tbody tr").count()
    page.get_by_role("button", name="Show one step further").click()
    page.wait_for_function(f"() => {nodes} > {before}")
    page.wait_for_function(
        f"() => document.querySelectorAll('.network-table tbody tr').length > {rows}"
    )


def test_selecting_a_node_opens_its_record(page):
    page.goto(url("atlas:network-organisation", slug="bycirklen"))
    wait_drawn(page, "[data-atlas-network]")
    page.evaluate(
        """() => document.querySelector('[data-atlas-network]').atlasGraph
                 .getElementById('place:wuxi').emit('tap')"""
    )
    page.wait_for_url(re.compile(r"/en/places/wuxi/$"))


def test_the_network_page_filters_like_the_list(page, outside):
    page.goto(url("atlas:network") + "?status=active")
    wait_drawn(page, "[data-atlas-network]")
    statuses = page.evaluate(
        """() => document.querySelector('[data-atlas-network]').atlasGraph
                 .nodes('.partnership').map(n => n.data('status'))"""
    )
    rows = page.locator(".network-table tbody tr").count()
    assert statuses and set(statuses) == {"active"}
    assert len(statuses) == rows
    assert outside == []


@pytest.mark.parametrize("language", ["en", "da"])
def test_explore_pages_have_no_accessibility_violations(page, language):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    pages = [
        (url("atlas:map", language), "[data-atlas-map]"),
        (url("atlas:network", language), "[data-atlas-network]"),
        (url("atlas:network-place", language, slug="jiangsu"), "[data-atlas-network]"),
        (url("places:place-detail", language, slug="wuxi"), "[data-atlas-network]"),
        (url("organisations:organisation-detail", language, slug="bycirklen"), "[data-atlas-map]"),
        (
            url("partnerships:partnership-detail", language, slug="bycirklen-wuxi-cooperation"),
            "[data-atlas-network]",
        ),
    ]
    problems = {}
    for path, drawn in pages:
        page.goto(path)
        wait_drawn(page, drawn)
        violations = axe.run(page).response["violations"]
        if violations:
            problems[path] = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
            ]
    assert problems == {}


def test_the_map_and_graph_controls_take_the_keyboard(page):
    page.goto(url("places:place-detail", slug="wuxi"))
    wait_drawn(page, "[data-atlas-map]")
    wait_drawn(page, "[data-atlas-network]")
    seen = []
    for _ in range(120):
        page.keyboard.press("Tab")
        state = page.evaluate(
            """() => {
                const el = document.activeElement;
                const style = getComputedStyle(el);
                const outline = style.outlineStyle !== 'none'
                    && parseFloat(style.outlineWidth) > 0;
                const label = el.innerText || el.getAttribute('aria-label') || '';
                return {cls: typeof el.className === 'string' ? el.className : '',
                        text: label.trim().slice(0, 40),
                        visible: outline || style.boxShadow !== 'none'};
            }"""
        )
        if state["text"] == "Show one step further" or "leaflet-container" in state["cls"]:
            assert state["visible"], state
            seen.append(state["text"] or state["cls"])
        if len(seen) == 2:
            break
    assert len(seen) == 2, seen


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
@pytest.mark.parametrize("language", ["en", "da"])
def test_screenshots_of_the_map_and_network(browser, live_server, seeded, viewport, language):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport=WIDTHS[viewport],
        locale=language,
        extra_http_headers={"Accept-Language": language},
        base_url=live_server.url,
    )
    page = context.new_page()
    pages = {
        "map": (url("atlas:map", language), "[data-atlas-map]"),
        "network": (url("atlas:network-place", language, slug="jiangsu"), "[data-atlas-network]"),
        "network-all": (url("atlas:network", language), "[data-atlas-network]"),
        "place-explore": (
            url("places:place-detail", language, slug="wuxi"),
            "[data-atlas-network]",
        ),
    }
    for name, (path, drawn) in pages.items():
        response = page.goto(path)
        assert response.status == 200, path
        wait_drawn(page, drawn)
        page.wait_for_timeout(300)
        target = SCREENSHOTS / f"explore-{name}-{language}-{viewport}.png"
        page.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 10_000
    context.close()
