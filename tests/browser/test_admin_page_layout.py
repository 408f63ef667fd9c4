"""The admin as a Danish editor sees it on a 1280 px screen with the menu open: nothing
covers anything else."""

import pytest
from django.urls import reverse

from partnerships.models import Partnership

from .conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def danish_staff_page(browser, live_server, seeded):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="da-DK",
        extra_http_headers={"Accept-Language": "da"},
        base_url=live_server.url,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield log_in(page, "redaktør")
    context.close()


def overlap(a, b):
    """Whether two bounding boxes share any area."""
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_the_changelists_tools_leave_its_title_readable(danish_staff_page):
    # Import, three exports and add: floated up beside the title as Django places them,
    # they covered "Vælg partnerskab, der skal ændres".
    page = danish_staff_page
    page.goto(reverse("admin:partnerships_partnership_changelist"))
    title = page.locator("#content h1").bounding_box()
    assert page.inner_text("#content h1") == "Vælg partnerskab, der skal ændres"
    for tool in page.locator(".object-tools li").all():
        assert not overlap(title, tool.bounding_box())


def test_a_long_source_title_is_shown_whole(danish_staff_page):
    # The seed's background note has a title of 90 characters: at Django's 20em it was
    # cut off under the button that clears every source.
    page = danish_staff_page
    partnership = Partnership.objects.get(slug="bycirklen-wuxi-cooperation")
    page.goto(reverse("admin:partnerships_partnership_change", args=[partnership.pk]))
    field = page.locator(".field-sources .select2-selection--multiple")
    choice = field.locator(".select2-selection__choice").first
    assert "samarbejde med Kina" in choice.inner_text()
    box, shown = field.bounding_box(), choice.bounding_box()
    assert shown["x"] + shown["width"] <= box["x"] + box["width"]
    # Its whole text is inside its box: nothing cut off.
    assert choice.evaluate("element => element.scrollWidth <= element.clientWidth")
    clear = field.locator(".select2-selection__clear")
    assert not overlap(shown, clear.bounding_box())
