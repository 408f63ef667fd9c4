"""The API writes its JSON with orjson (``core.rest.JSONRenderer``): the bytes DRF's own
renderer writes, whatever the data holds."""

import datetime
import decimal
import uuid
from collections import OrderedDict

import orjson
import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from core.rest import JSONRenderer, Written
from partnerships.models import Partnership
from tests.factories import PartnershipFactory, PlaceFactory

AWKWARD = {
    "text": 'Æ ø å 无锡 "quoted" \\ back </script> \u2028 line \u2029 paragraph \x00 \x1f',
    "lazy": gettext_lazy("Partnerships"),
    "choice": Partnership.Status.ACTIVE,
    "when": datetime.datetime(2026, 12, 4, 21, 0, 5, 123456, tzinfo=datetime.UTC),
    "local": datetime.datetime(2026, 12, 4, 21, 0),
    "day": datetime.date(2007, 5, 3),
    "time": datetime.time(9, 30),
    "amount": decimal.Decimal("77300000.50"),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "numbers": [0, -1, 2**53, 1.5, 120.6, 0.0001, 1e16, True, False, None],
    "keys": {1: "one", 2.5: "two and a half", None: "none", False: "no"},
    "ordered": OrderedDict([("b", 1), ("a", 2)]),
    "returned": ReturnDict({"x": ReturnList([1, 2], serializer=None)}, serializer=None),
    "tuple": (1, "two"),
    "generator": (n for n in range(3)),
    "empty": {},
}


@pytest.mark.parametrize("language", ["en", "da"])
def test_the_same_bytes_as_drfs_renderer(language):
    with translation.override(language):
        ours = JSONRenderer().render(dict(AWKWARD, generator=iter(range(3))))
        drfs = renderers.JSONRenderer().render(dict(AWKWARD, generator=iter(range(3))))
    assert ours == drfs
    assert b"\\u2028" in ours and "\u2028".encode() not in ours


@pytest.mark.parametrize(
    "text",
    [
        # The en dash and typographic quotes start with the separators' first byte.
        "Aarhus–Qingdao ‘Venskab’ … \u2028",
        "–" * 2000 + "\u2029 after the looks run out " + "–" * 10,
        "\u2029 first, then " + "’" * 500 + " \u2028",
        "–’”…" * 300,
        "x" * 1000 + "–\u2028–\u2029",
        "",
    ],
    ids=["after a few", "after many", "first and last", "none among many", "next", "empty"],
)
def test_line_and_paragraph_separators_are_escaped_wherever_they_stand(text):
    data = {"title": text, "titles": [text, "plain"]}
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)


def test_what_neither_can_write_fails_alike():
    for renderer in (JSONRenderer(), renderers.JSONRenderer()):
        with pytest.raises(TypeError):
            renderer.render({"object": object()})


def test_an_indented_answer_is_drfs():
    data = {"a": [1, {"b": "c"}]}
    accepted = "application/json; indent=2"
    assert JSONRenderer().render(data, accepted) == renderers.JSONRenderer().render(data, accepted)
    assert b"\n  " in JSONRenderer().render(data, accepted)


@pytest.mark.django_db
def test_api_answers_are_written_by_it(client):
    PartnershipFactory(parties=[PlaceFactory(name="Wuxi"), PlaceFactory(name="Ærø")])
    for address in ("/api/partnerships/", "/api/places/?lang=da", "/api/map/", "/api/network/"):
        response = client.get(address)
        assert response.status_code == 200, address
        assert isinstance(response.accepted_renderer, JSONRenderer), address
        data = response.data
        if isinstance(data, Written):  # the map, kept written
            data = orjson.loads(data.content)
        assert response.content == renderers.JSONRenderer().render(data), address
    indented = client.get("/api/places/", HTTP_ACCEPT="application/json; indent=4")
    assert indented.content.startswith(b'{\n    "count"')


def test_written_data_is_sent_as_it_is_or_written_as_asked():
    data = {"features": [AWKWARD["text"], 1.5, None], "meta": {"url": "/en/places/{slug}/"}}
    written = Written(JSONRenderer().render(data))
    assert JSONRenderer().render(written) is written.content
    assert written.content == renderers.JSONRenderer().render(data)
    indented = "application/json; indent=2"
    assert JSONRenderer().render(written, indented) == renderers.JSONRenderer().render(
        data, indented
    )
    in_ascii = {"ensure_ascii": True}
    ours, drf = (
        type("Ascii", (base,), in_ascii)() for base in (JSONRenderer, renderers.JSONRenderer)
    )
    assert ours.render(written) == drf.render(data)
    assert b"\\u00c6" in ours.render(written)  # Æ


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_api_opens_in_a_browser_for_readers_and_staff(client, admin_user, signed_in):
    # For staff, who may write, DRF drew an HTML form of each serializer's fields, and a
    # relation shown as an object (a place's parent) was a server error.
    from tests.factories import OrganisationFactory, ThemeFactory

    region = PlaceFactory(name_en="Jiangsu", kind="province", country="CN")
    city = PlaceFactory(name_en="Wuxi", kind="city", country="CN", parent=region)
    organisation = OrganisationFactory(name_en="Wuxi University", place=city)
    partnership = PartnershipFactory(title_en="Wuxi–Aarhus")
    theme = ThemeFactory(name_en="Water")
    if signed_in:
        client.force_login(admin_user)
    shown = {
        "/api/": "/api/places/",
        "/api/places/": city.slug,
        f"/api/places/{city.slug}/": region.slug,
        "/api/organisations/": organisation.slug,
        f"/api/organisations/{organisation.slug}/": city.slug,
        "/api/partnerships/": partnership.slug,
        f"/api/partnerships/{partnership.slug}/": partnership.slug,
        "/api/themes/": theme.slug,
        f"/api/themes/{theme.slug}/": theme.slug,
    }
    for address, text in shown.items():
        response = client.get(address, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, address
        assert response["Content-Type"] == "text/html; charset=utf-8"
        page = response.content.decode()
        assert text in page, address
        assert ('name="_content"' in page) == (signed_in and address != "/api/"), address
