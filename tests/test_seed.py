"""The seed fixture loads, loads again without change, and states what the note states."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from core.dates import DECADE
from core.models import Source
from core.text import identity, query_terms, search_key
from core.translation import translations
from organisations.models import Organisation
from partnerships.models import Event, Partnership, Theme
from places.models import Place, PlaceFigure

NOTE_TITLE = (
    "Baggrundsnotat om Jiangsu provinsen – og om udvalgte danske regioner og kommuners "
    "samarbejde med Kina"
)
SEED_MODELS = [
    "core.source",
    "places.place",
    "places.placename",
    "places.placefigure",
    "organisations.organisation",
    "organisations.organisationname",
    "partnerships.theme",
    "partnerships.partnership",
    "partnerships.participant",
    "partnerships.event",
]

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed():
    call_command("loaddata", "seed", verbosity=0)


def dump():
    """The seed's records as dumpdata writes them, less each partnership's revision: it
    names a state for the caches (``partnerships.revisions``), and loaddata writes every
    row and participant again."""
    output = StringIO()
    call_command("dumpdata", *SEED_MODELS, stdout=output)
    records = json.loads(output.getvalue())
    for record in records:
        record["fields"].pop("revision", None)
    return records


def found(text):
    return Place.objects.matching(query_terms(text))


def test_loading_the_seed_twice_changes_nothing(seed):
    first = dump()
    call_command("loaddata", "seed", verbosity=0)
    assert dump() == first


def test_the_seed_holds_every_place_organisation_and_partnership(seed):
    assert Place.objects.count() >= 40
    assert Organisation.objects.count() >= 30
    assert Partnership.objects.count() >= 30
    assert set(Place.objects.filter(kind="country").values_list("country", flat=True)) >= {
        "CN",
        "DK",
        "DE",
        "SE",
        "IT",
        "NL",
    }


def test_every_record_cites_the_note(seed):
    note = Source.objects.get(title=NOTE_TITLE)
    assert note.language == "da"
    for model in (Place, Organisation, Partnership):
        assert not model.objects.exclude(sources=note).exists(), model
    assert not PlaceFigure.objects.exclude(source=note).exists()
    assert not Event.objects.exclude(source=note).exists()


def test_every_stored_search_key_matches_the_names(seed):
    for model in (Source, Place, Organisation, Partnership):
        for record in model.objects.all():
            assert record.search_key == search_key(record.all_names()), record


def test_every_partnership_has_at_least_two_participants(seed):
    for partnership in Partnership.objects.all():
        assert partnership.participants.count() >= 2, partnership


def test_jiangsu_area_and_population(seed):
    jiangsu = Place.objects.get(slug="jiangsu")
    assert jiangsu.parent.country == "CN" and jiangsu.parent.kind == "country"
    population = jiangsu.figures.get(kind=PlaceFigure.Kind.POPULATION)
    assert (population.value, population.year) == (Decimal(77_300_000), 2009)
    area = jiangsu.figures.get(kind=PlaceFigure.Kind.AREA)
    assert area.value == Decimal(102_600)


def test_nanjing_is_the_capital_of_jiangsu_with_7_7_million_people(seed):
    nanjing = Place.objects.get(slug="nanjing")
    assert Place.objects.get(slug="jiangsu").capital == nanjing
    assert nanjing.parent.slug == "jiangsu"
    assert nanjing.native_name == "南京"
    population = nanjing.current_figure(PlaceFigure.Kind.POPULATION)
    assert (population.value, population.year) == (Decimal(7_700_000), 2009)


@pytest.mark.parametrize("spelling", ["wutshi", "Wutshi", "无锡", "Wuxi"])
def test_wuxi_is_found_by_the_notes_spelling_and_in_chinese(seed, spelling):
    assert list(found(spelling).values_list("name_en", flat=True)) == ["Wuxi"]


@pytest.mark.parametrize("spelling", ["Ostergotland", "Østergötaland", "Östergötaland"])
def test_ostergotland_is_found_by_any_spelling(seed, spelling):
    assert "Östergötland County" in found(spelling).values_list("name_en", flat=True)


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("Århus", "Aarhus Municipality"),
        ("Nordrein-Westfalen", "North Rhine-Westphalia"),
        ("Noord-Brabrant", "North Brabant"),
        ("Hamborg", "Hamburg"),
        ("Slesvig-Holsten", "Schleswig-Holstein"),
        ("Københavns Kommune", "Copenhagen Municipality"),
        ("Region Midtjylland", "Central Denmark Region"),
        ("Nederlandene", "Netherlands"),
        ("Region Syddanmark", "Region of Southern Denmark"),
        # Former Danish names, as older papers and spreadsheets have them.
        ("Peking", "Beijing"),
        ("Nanking", "Nanjing"),
    ],
)
def test_danish_and_seed_spellings_find_the_place(seed, spelling, name):
    assert name in found(spelling).values_list("name_en", flat=True)


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("GULAS", "University of Chinese Academy of Sciences"),
        ("Tonqui universitetet", "Tongji University"),
        ("Jiaotung", "Shanghai Jiao Tong University"),
        ("SSTCM", "Science and Technology Commission of Shanghai Municipality"),
        ("同济大学", "Tongji University"),
        ("Danmarks Tekniske Universitet", "Technical University of Denmark"),
    ],
)
def test_the_notes_organisation_names_find_the_organisation(seed, spelling, name):
    matches = Organisation.objects.matching(query_terms(spelling))
    assert name in matches.values_list("name_en", flat=True)


def test_region_skane_guangdong_began_in_the_1980s(seed):
    partnership = Partnership.objects.get(title_en="Region Skåne–Guangdong cooperation")
    assert partnership.start.precision == DECADE
    assert partnership.start.year == 1980
    assert set(partnership.themes.values_list("slug", flat=True)) == {"prevention", "health"}


def test_copenhagen_beijing_is_planned_with_a_spring_2012_visit(seed):
    partnership = Partnership.objects.get(title_en="Copenhagen–Beijing cooperation")
    assert partnership.status == Partnership.Status.PLANNED
    visit = partnership.events.get(kind="delegation_visit")
    assert visit.date.year == 2012 and "spring 2012" in visit.text_en
    assert "i foråret 2012" in visit.text_da


def test_south_denmark_office_in_suzhou_ended_on_unknown_dates(seed):
    office = Partnership.objects.get(title_en="South Denmark European Office in Suzhou")
    assert office.status == Partnership.Status.ENDED
    assert office.start is None and office.end is None
    roles = {p.party.name_en: p.role for p in office.participants.all()}
    assert roles["Suzhou"] == "host"
    assert roles["Southern Denmark Growth Forum"] == "funder"


def test_bycirklen_wuxi_has_five_themes_and_a_2010_conference(seed):
    partnership = Partnership.objects.get(title_en="Bycirklen–Wuxi cooperation")
    assert str(partnership.start) == "2007"
    themes = set(partnership.themes.values_list("slug", flat=True))
    assert len(themes) == 5 and "elderly-care" in themes
    conference = partnership.events.get(kind="conference")
    assert conference.date.year == 2010 and conference.place.name_en == "Wuxi"
    parties = {p.party.name_en for p in partnership.participants.all()}
    assert {"Bycirklen", "Ballerup Municipality", "Wuxi"} <= parties


def test_sino_danish_center_rests_on_a_2008_signing(seed):
    partnership = Partnership.objects.get(
        title_en="Sino-Danish Center for Education and Research agreement"
    )
    signing = partnership.events.get(kind="signing")
    assert signing.date.year == 2008
    members = partnership.participants.filter(role="member")
    assert members.count() == 8


def test_dtu_jiao_tong_exchange_is_planned(seed):
    partnership = Partnership.objects.get(
        title_en="DTU–Shanghai Jiao Tong University exchange agreement"
    )
    assert partnership.status == Partnership.Status.PLANNED
    assert partnership.end is None


def test_aarhus_harbin_is_a_friendship_city(seed):
    partnership = Partnership.objects.get(title_en="Aarhus–Harbin friendship city")
    assert partnership.kind == Partnership.Kind.FRIENDSHIP_CITY
    harbin = Place.objects.get(slug="harbin")
    assert harbin.parent.name_en == "Heilongjiang"


def test_dansk_erhverv_and_lif_have_no_partnerships(seed):
    for name in ("Danish Chamber of Commerce", "Danish Association of the Pharmaceutical Industry"):
        organisation = Organisation.objects.get(name_en=name)
        assert not organisation.participations.exists()
        assert "no separate collaborations" in organisation.description_en
        # The note's own words, where the English paraphrases them.
        assert "ikke særskilte samarbejder med organisationer/partnere i Kina" in (
            organisation.description_da
        )


# (model, field): every seed record has this text in both languages.
BILINGUAL = [
    (Place, "name"),
    (Organisation, "name"),
    (Theme, "name"),
    (Partnership, "title"),
    (Partnership, "description"),
    (Event, "text"),
    (PlaceFigure, "note"),
]


def test_every_seed_record_has_its_text_in_danish_and_english(seed):
    for model, field in BILINGUAL:
        records = model.objects.all()
        assert records.exists(), model
        for record in records:
            assert all(translations(record, field).values()), (record.pk, field)


def test_a_description_in_one_language_is_in_the_other_too(seed):
    for model in (Place, Organisation, Theme):
        for record in model.objects.all():
            description = translations(record, "description")
            assert bool(description["da"]) == bool(description["en"]), record.pk
    assert Place.objects.filter(description_da__gt="").count() >= 15
    assert Organisation.objects.filter(description_da__gt="").count() >= 15


@pytest.mark.parametrize(
    ("model", "slug", "english", "danish"),
    [
        (Place, "copenhagen-municipality", "Copenhagen Municipality", "Københavns Kommune"),
        (Place, "region-of-southern-denmark", "Region of Southern Denmark", "Region Syddanmark"),
        (Place, "central-denmark-region", "Central Denmark Region", "Region Midtjylland"),
        (Place, "aarhus-municipality", "Aarhus Municipality", "Aarhus Kommune"),
        (Place, "china", "China", "Kina"),
        (Place, "germany", "Germany", "Tyskland"),
        (Place, "north-rhine-westphalia", "North Rhine-Westphalia", "Nordrhein-Westfalen"),
        (Place, "hamburg", "Hamburg", "Hamborg"),
        # Danish has no name of its own for a Chinese province: the same name in both.
        (Place, "jiangsu", "Jiangsu", "Jiangsu"),
        (Organisation, "aarhus-university", "Aarhus University", "Aarhus Universitet"),
        (
            Organisation,
            "confederation-of-danish-industry",
            "Confederation of Danish Industry",
            "Dansk Industri",
        ),
        (
            Organisation,
            "university-of-southern-denmark",
            "University of Southern Denmark",
            "Syddansk Universitet",
        ),
        (Organisation, "tongji-university", "Tongji University", "Tongji University"),
    ],
)
def test_danish_bodies_and_exonyms_are_the_danish_names(seed, model, slug, english, danish):
    record = model.objects.get(slug=slug)
    assert (record.name_en, record.name_da) == (english, danish)
    with translation.override("da"):
        assert model.objects.get(slug=slug).name == danish


def test_foreign_places_keep_their_native_script_names(seed):
    assert Place.objects.get(slug="wuxi").native_name == "无锡"
    assert Place.objects.get(slug="china").native_name == "中国"


def test_no_other_name_repeats_the_records_own_name(seed):
    # An importer reading "Kina" must see one record with one name, not a name and an alias.
    for model in (Place, Organisation):
        for record in model.objects.prefetch_related("other_names"):
            own = {identity(record.name_en), identity(record.name_da)}
            assert not own & {identity(other.name) for other in record.other_names.all()}, (
                record.slug
            )


def test_danish_descriptions_quote_the_note(seed):
    nanjing = Place.objects.get(slug="nanjing")
    assert "én af de fire gamle hovedstæder i Kina" in nanjing.description_da
    assert "one of China's four ancient capitals" in nanjing.description_en
    skane = Partnership.objects.get(slug="region-skaane-guangdong-cooperation")
    assert "siden 1980’erne haft samarbejde med Guangdong provinsen" in skane.description_da


def test_the_danish_page_shows_the_danish_text(client, seed):
    pages = {}
    for language in ("da", "en"):
        with translation.override(language):
            path = reverse("places:place-detail", kwargs={"slug": "nanjing"})
        pages[language] = client.get(path).content.decode()
    assert "én af de fire gamle hovedstæder i Kina" in pages["da"]
    assert "én af de fire gamle hovedstæder i Kina" not in pages["en"]
    assert "four ancient capitals" in pages["en"]


@pytest.mark.django_db
def test_load_seed_fills_an_empty_registry_and_leaves_a_used_one_alone():
    output = StringIO()
    call_command("load_seed", stdout=output)
    assert "Loaded the seed: 41 places" in output.getvalue()
    wuxi = Place.objects.get(slug="wuxi")
    wuxi.description = "Edited by staff"
    wuxi.save()
    output = StringIO()
    call_command("load_seed", stdout=output)
    assert "already holds records" in output.getvalue()
    wuxi.refresh_from_db()
    assert wuxi.description == "Edited by staff"
