"""The API in Danish and English: ``name`` in the request's language, ``names`` in both."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from organisations.models import Organisation
from partnerships.models import Partnership, Theme
from places.models import Place
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceFigureFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def copenhagen():
    return PlaceFactory(
        slug="copenhagen",
        name_en="Copenhagen Municipality",
        name_da="Københavns Kommune",
        description_en="The capital's municipality.",
        description_da="Hovedstadens kommune.",
        country="DK",
    )


@pytest.fixture
def wuxi():
    """Only in English, as a record is until an editor adds its Danish name."""
    return PlaceFactory(slug="wuxi", name_en="Wuxi", name_da=None)


@pytest.mark.parametrize(
    ("query", "headers", "language"),
    [
        ({}, {}, "en"),
        ({"lang": "da"}, {}, "da"),
        ({}, {"HTTP_ACCEPT_LANGUAGE": "da"}, "da"),
        ({}, {"HTTP_ACCEPT_LANGUAGE": "de-DE, da-DK;q=0.8, en;q=0.5"}, "da"),
        ({}, {"HTTP_ACCEPT_LANGUAGE": "fr, *"}, "en"),
        ({"lang": "en"}, {"HTTP_ACCEPT_LANGUAGE": "da"}, "en"),
        ({"lang": ""}, {"HTTP_ACCEPT_LANGUAGE": "da"}, "da"),
    ],
)
def test_lang_wins_then_accept_language_then_english(api, copenhagen, query, headers, language):
    response = api.get("/api/places/copenhagen/", query, **headers)
    assert response.status_code == 200
    body = response.json()
    expected = {"da": "Københavns Kommune", "en": "Copenhagen Municipality"}
    assert (body["name"], body["name_language"]) == (expected[language], language)
    assert body["names"] == expected
    description = {"da": "Hovedstadens kommune.", "en": "The capital's municipality."}[language]
    assert (body["description"], body["description_language"]) == (description, language)
    assert response["Content-Language"] == language
    assert "Accept-Language" in response["Vary"]


def test_every_translated_field_comes_in_both_languages(api, copenhagen):
    body = api.get("/api/places/copenhagen/", {"lang": "da"}).json()
    assert body["description"] == "Hovedstadens kommune."
    assert body["description_language"] == "da"
    assert body["descriptions"] == {
        "da": "Hovedstadens kommune.",
        "en": "The capital's municipality.",
    }
    assert body["public_url"] == "http://testserver/da/places/copenhagen/"


def test_a_missing_language_falls_back_openly(api, wuxi):
    body = api.get("/api/places/wuxi/", {"lang": "da"}).json()
    assert (body["name"], body["name_language"]) == ("Wuxi", "en")
    assert body["names"] == {"da": None, "en": "Wuxi"}
    # Empty in both languages: an empty text, in no language.
    assert (body["description"], body["description_language"]) == ("", None)
    assert body["descriptions"] == {"da": None, "en": None}


def test_nested_records_carry_both_languages(api, copenhagen, wuxi):
    jiangsu = PlaceFactory(slug="jiangsu", name_en="Jiangsu", name_da="Jiangsu-provinsen")
    wuxi.parent = jiangsu
    wuxi.save()
    PlaceFigureFactory(place=wuxi, note_en="Census estimate", note_da="Folketællingens skøn")
    university = OrganisationFactory(
        slug="au", name_en="Aarhus University", name_da="Aarhus Universitet", place=copenhagen
    )
    partnership = PartnershipFactory(
        slug="tie", title_en="Wuxi and AU", title_da=None, parties=[wuxi, university]
    )
    partnership.themes.add(
        ThemeFactory(slug="education", name_en="Education", name_da="Uddannelse")
    )
    EventFactory(
        partnership=partnership, place=copenhagen, text_en="Signed", text_da="Underskrevet"
    )

    body = api.get("/api/partnerships/tie/", HTTP_ACCEPT_LANGUAGE="da").json()

    assert (body["title"], body["title_language"]) == ("Wuxi and AU", "en")
    assert body["titles"] == {"da": None, "en": "Wuxi and AU"}
    place, organisation = body["participants"]
    assert (place["name"], place["name_language"]) == ("Wuxi", "en")
    assert place["names"] == {"da": None, "en": "Wuxi"}
    assert (organisation["name"], organisation["name_language"]) == ("Aarhus Universitet", "da")
    assert organisation["names"] == {"da": "Aarhus Universitet", "en": "Aarhus University"}
    theme = body["themes"][0]
    assert (theme["name"], theme["names"]) == (
        "Uddannelse",
        {"da": "Uddannelse", "en": "Education"},
    )
    assert theme["name_da"] == "Uddannelse"  # v1 kept it; it stays
    event = body["events"][0]
    assert (event["text"], event["text_language"]) == ("Underskrevet", "da")
    assert event["texts"] == {"da": "Underskrevet", "en": "Signed"}
    assert event["place"]["names"] == {
        "da": "Københavns Kommune",
        "en": "Copenhagen Municipality",
    }

    place = api.get("/api/places/wuxi/", {"lang": "da"}).json()
    assert (place["parent"]["name"], place["parent"]["name_language"]) == (
        "Jiangsu-provinsen",
        "da",
    )
    figure = place["figures"][0]
    assert (figure["note"], figure["notes"]) == (
        "Folketællingens skøn",
        {"da": "Folketællingens skøn", "en": "Census estimate"},
    )
    organisation = api.get("/api/organisations/au/", {"lang": "en"}).json()
    assert organisation["place"]["name"] == "Copenhagen Municipality"
    assert organisation["place"]["names"]["da"] == "Københavns Kommune"


@pytest.mark.parametrize(
    "address",
    [
        "/api/places/",
        "/api/places/copenhagen/",
        "/api/partnerships/",
        "/api/themes/",
        "/api/sources/",
        "/api/map/",
        "/api/network/",
    ],
)
def test_an_unknown_lang_is_a_clear_400(api, copenhagen, address):
    response = api.get(address, {"lang": "de"})
    assert response.status_code == 400
    assert response.json() == {"lang": ["Unknown language “de”: use da (Danish) or en (English)."]}


def test_the_map_and_the_network_answer_in_the_requested_language(api):
    response = api.get("/api/map/", {"lang": "da"})
    assert response.status_code == 200
    assert response["Content-Language"] == "da"
    assert api.get("/api/network/", HTTP_ACCEPT_LANGUAGE="da")["Content-Language"] == "da"


def test_ordering_by_name_follows_the_name_shown(api):
    # In Danish the English-only "Xray" sorts between two Danish names; sorting by the
    # Danish column alone would put it first (SQLite) or last (PostgreSQL).
    PlaceFactory(name_en="Alpha", name_da="Zulu")
    PlaceFactory(name_en="Yankee", name_da="Charlie")
    PlaceFactory(name_en="Xray", name_da=None)

    def names(**params):
        return [p["name"] for p in api.get("/api/places/", params).json()["results"]]

    assert names(ordering="name", lang="da") == ["Charlie", "Xray", "Zulu"]
    assert names(ordering="-name", lang="da") == ["Zulu", "Xray", "Charlie"]
    assert names(ordering="name", lang="en") == ["Alpha", "Xray", "Yankee"]
    assert names(lang="da") == ["Charlie", "Xray", "Zulu"]  # the default order too
    ThemeFactory(slug="b", name_en="Business", name_da="Erhverv")
    ThemeFactory(slug="c", name_en="Culture", name_da=None)
    themes = api.get("/api/themes/", {"ordering": "-name", "lang": "da"}).json()["results"]
    assert [theme["name"] for theme in themes] == ["Erhverv", "Culture"]


def test_a_list_in_danish_runs_as_many_queries_as_in_english(api, django_assert_max_num_queries):
    for number in range(6):
        place = PlaceFactory(name_da=f"Sted {number}", parent=PlaceFactory())
        organisation = OrganisationFactory(place=place, parent=OrganisationFactory())
        partnership = PartnershipFactory(parties=[place, organisation])
        EventFactory(partnership=partnership, place=place)
    for endpoint, budget in [("places", 6), ("organisations", 5), ("partnerships", 8)]:
        with CaptureQueriesContext(connection) as english:
            api.get(f"/api/{endpoint}/", {"lang": "en"})
        with django_assert_max_num_queries(budget):
            response = api.get(f"/api/{endpoint}/", {"lang": "da"})
        assert response.status_code == 200
        assert len(response.json()["results"]) >= 6
        assert response["Content-Language"] == "da"
        assert len(english) <= budget


# Writes --------------------------------------------------------------------------------


@pytest.fixture
def editor_api(api, editor):
    api.force_authenticate(editor)
    return api


def test_names_write_both_languages(editor_api):
    response = editor_api.post(
        "/api/places/",
        {
            "names": {"da": "Aabenraa Kommune", "en": "Aabenraa Municipality"},
            "kind": "municipality",
            "country": "DK",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["names"] == {"da": "Aabenraa Kommune", "en": "Aabenraa Municipality"}
    place = Place.objects.get(slug="aabenraa-municipality")  # the slug is from the English
    assert (place.name_da, place.name_en) == ("Aabenraa Kommune", "Aabenraa Municipality")
    assert Place.objects.search("aabenraa kommune").get() == place


@pytest.mark.parametrize(
    ("query", "headers", "column"),
    [
        ({}, {}, "name_en"),  # a v1 client, unchanged
        ({"lang": "da"}, {}, "name_da"),
        ({}, {"HTTP_ACCEPT_LANGUAGE": "da"}, "name_da"),
    ],
)
def test_a_plain_name_writes_the_requests_language(editor_api, query, headers, column):
    address = "/api/places/" + (f"?lang={query['lang']}" if query else "")
    response = editor_api.post(
        address, {"name": "Sønderborg", "kind": "city", "country": "DK"}, format="json", **headers
    )
    assert response.status_code == 201, response.json()
    place = Place.objects.get()
    other = {"name_en": "name_da", "name_da": "name_en"}[column]
    assert (getattr(place, column), getattr(place, other)) == ("Sønderborg", None)


def test_a_patch_adds_one_language_and_keeps_the_other(editor_api, wuxi):
    response = editor_api.patch("/api/places/wuxi/?lang=da", {"name": "Wuxi (Kina)"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["names"] == {"da": "Wuxi (Kina)", "en": "Wuxi"}
    response = editor_api.patch(
        "/api/places/wuxi/",
        {"names": {"da": None}, "descriptions": {"da": "By i Kina."}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    wuxi.refresh_from_db()
    assert (wuxi.name_da, wuxi.name_en, wuxi.description_da) == (None, "Wuxi", "By i Kina.")
    assert wuxi.history.first().description_da == "By i Kina."


def test_a_record_keeps_a_name_in_some_language(editor_api, wuxi):
    response = editor_api.patch(
        "/api/places/wuxi/", {"names": {"da": "", "en": None}}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"name": ["This field cannot be blank."]}
    response = editor_api.post("/api/places/", {"kind": "city", "country": "CN"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["This field cannot be blank."]}
    wuxi.refresh_from_db()
    assert wuxi.name_en == "Wuxi"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"names": {"de": "Wuxi-Stadt"}},
            {"names": ["Unknown language “de”: use da (Danish) or en (English)."]},
        ),
        ({"names": "Wuxi"}, {"names": ['Expected a dictionary of items but got type "str".']}),
        (
            {"names": {"en": "x" * 201}},
            {"names": {"en": ["Ensure this field has no more than 200 characters."]}},
        ),
        (
            {"name": "Wuxi City", "names": {"en": "Wuxi Town"}},
            {
                "names": [
                    "name and names give different texts in the request's language (en); "
                    "send one of them."
                ]
            },
        ),
    ],
)
def test_bad_names_are_refused_and_change_nothing(editor_api, wuxi, body, errors):
    response = editor_api.patch("/api/places/wuxi/", body, format="json")
    assert response.status_code == 400
    assert response.json() == errors
    wuxi.refresh_from_db()
    assert (wuxi.name_en, wuxi.name_da) == ("Wuxi", None)


def test_the_same_text_in_name_and_names_is_accepted(editor_api, wuxi):
    body = {"name": "Wuxi", "names": {"en": "Wuxi", "da": "Wuxi"}}
    assert editor_api.patch("/api/places/wuxi/", body, format="json").status_code == 200
    wuxi.refresh_from_db()
    assert wuxi.name_da == "Wuxi"


def test_partnerships_organisations_and_themes_write_both_languages(editor_api, wuxi, copenhagen):
    response = editor_api.post(
        "/api/partnerships/",
        {
            "titles": {"da": "Venskabsby", "en": "Twin towns"},
            "descriptions": {"da": "Fra notatet."},
            "kind": "sister_city",
            "participants": [{"place": "wuxi"}, {"place": "copenhagen"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    partnership = Partnership.objects.get(slug="twin-towns")
    assert (partnership.title_da, partnership.title_en) == ("Venskabsby", "Twin towns")
    assert (partnership.description_da, partnership.description_en) == ("Fra notatet.", None)

    response = editor_api.post(
        "/api/organisations/?lang=da",
        {
            "name": "Dansk Industri",
            "names": {"en": "Confederation of Danish Industry"},
            "kind": "business_association",
            "country": "DK",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    organisation = Organisation.objects.get()
    assert (organisation.name_da, organisation.name_en, organisation.slug) == (
        "Dansk Industri",
        "Confederation of Danish Industry",
        "confederation-of-danish-industry",
    )

    response = editor_api.post(
        "/api/themes/", {"slug": "water", "names": {"da": "Vand", "en": "Water"}}, format="json"
    )
    assert response.status_code == 201, response.json()
    theme = Theme.objects.get(slug="water")
    assert (theme.name_da, theme.name_en) == ("Vand", "Water")


def test_messages_come_in_the_requests_language_too(editor_api):
    response = editor_api.post("/api/places/?lang=da", {"name": "Vejle"}, format="json")
    assert response.status_code == 400
    assert response.json()["kind"] == ["Dette felt er påkrævet."]
    assert response["Content-Language"] == "da"


# The schema and the page cache ---------------------------------------------------------


def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def test_the_schema_documents_both_languages(client):
    document = schema(client)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            lang = next(p for p in operation["parameters"] if p["name"] == "lang")
            assert (lang["in"], lang["schema"]["enum"]) == ("query", ["da", "en"]), (method, path)
            assert any(p["name"] == "Accept-Language" for p in operation["parameters"])
            success = operation["responses"].get("200") or operation["responses"].get("201")
            if success:
                assert "Content-Language" in success["headers"], (method, path)
    components = document["components"]["schemas"]
    assert components["ContentLanguageEnum"]["enum"] == ["da", "en"]
    for component, field in [
        ("Place", "name"),
        ("Place", "description"),
        ("PlaceSummary", "name"),
        ("PlaceFigure", "note"),
        ("Organisation", "name"),
        ("Partnership", "title"),
        ("Participant", "name"),
        ("Event", "text"),
        ("Theme", "name"),
    ]:
        properties = components[component]["properties"]
        assert properties[field]["type"] == "string", (component, field)
        plural = properties[f"{field}s"]
        assert set(plural["properties"]) == {"da", "en"}, (component, field)
        assert plural["required"] == ["da", "en"]
        assert plural["properties"]["da"]["nullable"] is True
        language = properties[f"{field}_language"]
        assert {"$ref": "#/components/schemas/ContentLanguageEnum"} in language["oneOf"]
    request = components["PlaceRequest"]["properties"]
    assert set(request["names"]["properties"]) == {"da", "en"}
    assert request["names"]["additionalProperties"] is False
    assert "name_language" not in request
    assert "name" not in components["PlaceRequest"].get("required", [])


@pytest.fixture
def page_cache(settings):
    settings.ATLAS_CACHE_PAGES = True


def test_the_page_cache_keeps_each_language_apart(client, page_cache, copenhagen):
    def get(address="/api/places/copenhagen/", **headers):
        response = client.get(address, **headers)
        return response["X-Cache"], response.json()["name"], response["Content-Language"]

    danish = {"HTTP_ACCEPT_LANGUAGE": "da"}
    assert get(**danish) == ("MISS", "Københavns Kommune", "da")
    assert get(**danish) == ("HIT", "Københavns Kommune", "da")
    assert get() == ("MISS", "Copenhagen Municipality", "en")
    assert get() == ("HIT", "Copenhagen Municipality", "en")
    # ?lang= against the header: cached under its own address, and found again.
    address = "/api/places/copenhagen/?lang=da"
    assert get(address) == ("MISS", "Københavns Kommune", "da")
    assert get(address) == ("HIT", "Københavns Kommune", "da")
    assert get("/api/places/copenhagen/?lang=en", **danish)[1:] == ("Copenhagen Municipality", "en")


def test_field_labels_and_choices_are_in_the_requests_language_request_after_request(api, editor):
    # A serializer's fields are built once per class and language, then copied: never
    # those of the language asked for before.
    api.force_authenticate(editor)
    expected = {
        "en": ("Slug", "Publication", "sister city"),
        "da": ("URL-navn", "Offentliggørelse", "søsterby"),
    }
    for language in ("en", "da", "en", "da"):
        fields = api.options("/api/partnerships/", HTTP_ACCEPT_LANGUAGE=language).json()
        fields = fields["actions"]["POST"]
        kinds = {choice["value"]: choice["display_name"] for choice in fields["kind"]["choices"]}
        shown = (fields["slug"]["label"], fields["publication"]["label"], kinds["sister_city"])
        assert shown == expected[language], language
