"""Countries as people write them, in English and Danish."""

import pytest
from django.utils import translation

from importing.readers import COUNTRY_ALIASES, CellError, CountryReader, fold

READ = CountryReader()


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted in English; an earlier test's request may leave Danish active.
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("United States", "US"),
        ("USA", "US"),
        ("US", "US"),
        ("U.S.A.", "US"),
        ("usa", "US"),
        ("United States of America", "US"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("Britain", "GB"),
        ("England", "GB"),
        ("Scotland", "GB"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("The Netherlands", "NL"),
        ("Netherlands", "NL"),
        ("Holland", "NL"),
        ("Korea", "KR"),
        ("South Korea", "KR"),
        ("Russia", "RU"),
        ("Russian Federation", "RU"),
        ("Vietnam", "VN"),
        ("Viet Nam", "VN"),
        ("Taiwan", "TW"),
        ("Hong Kong", "HK"),
        ("UAE", "AE"),
        ("UA", "UA"),
        ("CHN", "CN"),
        ("dk", "DK"),
        # Danish
        ("Storbritannien", "GB"),
        ("Skotland", "GB"),
        ("Nederlandene", "NL"),
        ("Tjekkiet", "CZ"),
        ("Tyrkiet", "TR"),
        ("Sydkorea", "KR"),
        ("Rusland", "RU"),
        ("Kina", "CN"),
        ("Tyskland", "DE"),
        ("Danmark", "DK"),
        ("De Forenede Stater", "US"),
        (" Færøerne ", "FO"),
    ],
)
def test_common_names_in_english_and_danish(text, code):
    assert READ(text) == code


def test_aliases_do_not_shadow_another_countrys_official_name():
    from django_countries import countries

    official = {}
    for language in ("en", "da"):
        with translation.override(language):
            for code, name in countries:
                official.setdefault(fold(name), code)
    for code, names in COUNTRY_ALIASES.items():
        for name in names:
            assert official.get(fold(name), code) == code, name


def message(text):
    with pytest.raises(CellError) as error:
        READ(text)
    return str(error.value)


def test_an_unknown_country_lists_the_closest_names_best_first():
    assert message("Danmrak") == (
        "'Danmrak' is not a country code or name (closest: Danmark, Denmark)"
    )
    assert message("Tyskaland").startswith(
        "'Tyskaland' is not a country code or name (closest: Tyskland, "
    )
    assert message("Atlantis") == "'Atlantis' is not a country code or name"
