"""Admin forms in a real Chromium: a form sent twice by a double click writes once."""

import time

import pytest
from django.urls import reverse

from places.models import Place

from .conftest import log_in

pytestmark = pytest.mark.browser

# Playwright's own second click would wait for the first click's page to load.
CLICK_TWICE = """(selector) => new Promise((done) => {
  const button = document.querySelector(selector);
  button.click();
  setTimeout(() => { button.click(); done(); }, 300);
})"""


@pytest.fixture
def staff_page(page):
    return log_in(page, "root")


def test_a_second_click_on_save_adds_no_second_place(staff_page, live_server, monkeypatch):
    # The second click comes while the first save is still being written, as on a busy
    # server: each click was a request, and each request added a place.
    page = staff_page
    save = Place.save

    def slow_save(self, *args, **kwargs):
        time.sleep(1)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(Place, "save", slow_save)
    before = Place.objects.count()
    page.goto(reverse("admin:places_place_add"))
    page.fill("#id_name_en", "Ringsted")
    page.select_option("#id_kind", "municipality")
    page.select_option("#id_country", "DK")
    page.evaluate(CLICK_TWICE, "input[name=_save]")
    page.wait_for_url("**/admin/places/place/")
    page.wait_for_load_state("networkidle")
    assert Place.objects.count() == before + 1
    assert Place.objects.filter(name_en="Ringsted").count() == 1


def test_the_button_pressed_is_still_sent(staff_page, live_server):
    # The buttons wait without being disabled: a disabled button is not sent, and the
    # admin reads which one was pressed.
    page = staff_page
    page.goto(reverse("admin:places_place_add"))
    page.fill("#id_name_en", "Ringsted")
    page.select_option("#id_kind", "city")
    page.select_option("#id_country", "US")
    page.click("input[name=_addanother]")
    page.wait_for_url("**/admin/places/place/add/")
    assert "You may add another place below." in page.inner_text(".messagelist")
    assert Place.objects.filter(name_en="Ringsted", country="US").count() == 1


def test_a_changelist_action_can_be_sent_again(staff_page, live_server):
    # An action may answer with a file and leave the page as it was: not held. The
    # submit event runs within requestSubmit(), before the browser leaves the page.
    page = staff_page
    sent = """([selector, button]) => {
      const form = document.querySelector(selector);
      form.requestSubmit(form.querySelector(button));
      return "atlasSent" in form.dataset;
    }"""
    page.goto(reverse("admin:places_place_changelist"))
    page.check("#action-toggle")
    page.select_option("select[name=action]", "delete_selected")
    assert page.evaluate(sent, ["#changelist-form", "button[name=index]"]) is False
    page.wait_for_selector("text=Delete multiple objects")  # the action's next page
    page.goto(reverse("admin:places_place_add"))
    assert page.evaluate(sent, ["#place_form", "input[name=_save]"]) is True
    page.wait_for_selector(".errornote")  # the empty form's answer
