"""The Content-Security-Policy in a real Chromium: no page breaks it, every script runs."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from partnerships.models import Partnership
from places.models import Place

pytestmark = pytest.mark.browser

# Runs before any page script, outside the page's policy: it records what the policy blocks.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sample}`);
});
"""


@pytest.fixture
def watched(page):
    page.context.add_init_script(RECORD_VIOLATIONS)
    messages = []
    page.on(
        "console",
        lambda message: (
            messages.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    def visit(path, ready=None):
        response = page.goto(path)
        assert response.status == 200, path
        if ready:
            page.wait_for_selector(ready, state="attached", timeout=20_000)
        page.wait_for_load_state("networkidle")
        return page.evaluate("window.__violations") + messages

    return visit


def test_public_pages_run_their_scripts_within_the_policy(watched):
    place = Place.objects.filter(parent__isnull=False).order_by("pk").first()
    pages = [
        ("/en/", None),
        ("/en/places/", None),
        ("/en/partnerships/?kind=twinning", None),
        ("/en/search/?q=aarhus", None),
        (place.get_absolute_url(), None),
        (Partnership.objects.order_by("pk").first().get_absolute_url(), None),
        (reverse("atlas:map"), "[data-ready=true]"),
        (reverse("atlas:network"), "[data-ready=true]"),
    ]
    for path, ready in pages:
        assert watched(path, ready) == [], path


def test_the_admin_and_the_api_docs_work_within_their_policies(watched, page, live_server):
    User.objects.create_superuser("root", "root@example.org", "correct horse battery staple")
    assert watched("/api/docs/", ".swagger-ui .info") == []
    assert watched(reverse("admin:login")) == []
    page.fill("#id_username", "root")
    page.fill("#id_password", "correct horse battery staple")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    place = Place.objects.order_by("pk").first()
    for path in (
        reverse("admin:places_place_changelist"),
        reverse("admin:places_place_change", args=[place.pk]),
        reverse("admin:partnerships_partnership_add"),
    ):
        assert watched(path) == [], path
