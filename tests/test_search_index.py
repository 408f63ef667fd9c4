"""The search keys' index (core.search): same results as a plain scan, kept in step by
every write path, on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm GIN)."""

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.search import fts_table
from core.text import search_key
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.pages import url

pytestmark = pytest.mark.django_db

INDEXED = [Place, Organisation, Partnership]


def found(model, query):
    return sorted(str(record) for record in model.objects.search(query))


def scanned(model, term):
    """What the plain scan finds: every record whose key holds ``term``, read in Python."""
    return sorted(str(record) for record in model.objects.all() if term in record.search_key)


def sql_of(model, query):
    with CaptureQueriesContext(connection) as context:
        list(model.objects.search(query))
    return context.captured_queries[-1]["sql"]


def assert_index_in_step():
    if connection.vendor != "sqlite":
        return  # PostgreSQL's index is on the column itself: it cannot fall behind.
    with connection.cursor() as cursor:
        for model in INDEXED:
            fts = fts_table(model._meta.db_table)
            # Compares every indexed trigram with the table's keys; raises on a difference.
            cursor.execute(f'INSERT INTO "{fts}"("{fts}", rank) VALUES (\'integrity-check\', 1)')


@pytest.fixture
def registry():
    wuxi = PlaceFactory(name="Wuxi", native_name="无锡")
    nanjing = PlaceFactory(name="Nanjing", native_name="南京市")
    aarhus = PlaceFactory(name="Århus", country="DK", kind=Place.Kind.MUNICIPALITY)
    copenhagen = PlaceFactory(name="København", country="DK", kind=Place.Kind.MUNICIPALITY)
    OrganisationFactory(name="Jiangnan University", place=wuxi)
    OrganisationFactory(name="Aarhus Universitet", place=aarhus)
    # Two characters inside longer names, and a name of two alone.
    OrganisationFactory(name="Nanjing University", native_name="南京大学", place=nanjing)
    OrganisationFactory(name="Jiangsu Nanjing Office", native_name="江苏南京办事处")
    suzhou = PlaceFactory(name="Suzhou", native_name="苏州")
    PartnershipFactory(title="Aarhus–Nanjing friendship", parties=[aarhus, nanjing])
    PartnershipFactory(title="Copenhagen and Wuxi", parties=[copenhagen, wuxi])
    PartnershipFactory(title="南京–苏州 学术交流", parties=[nanjing, suzhou])


@pytest.mark.parametrize("model", INDEXED)
@pytest.mark.parametrize(
    "term",
    [
        *["wuxi", "nanjing", "南京市", "南京", "南", "arhus", "kobenhavn", "universit", "ng", "x"],
        *["京市", "苏州", "大学", "京大", "江苏", "交流", "苏南", "京苏"],
    ],
)
def test_index_finds_what_the_plain_scan_finds(registry, model, term):
    keys_holding = model.objects.filter(search_key__contains=term)
    assert sorted(str(record) for record in keys_holding) == scanned(model, term)


def test_terms_of_three_characters_or_more_use_the_index(registry):
    expected = "MATCH" if connection.vendor == "sqlite" else "LIKE"
    assert expected in sql_of(Place, "wuxi")
    assert expected in sql_of(Place, "南京市")
    assert found(Place, "南京市") == ["Nanjing"]


@pytest.mark.parametrize("query", ["wu", "å", "南"])
def test_shorter_terms_are_scanned_for(registry, query):
    # A trigram index holds nothing shorter than three characters to look up.
    assert "MATCH" not in sql_of(Place, query)
    assert found(Place, query) == scanned(Place, query.replace("å", "a"))
    assert found(Place, query)


@pytest.mark.parametrize(
    "query, places, organisations",
    [
        ("南京", ["Nanjing"], ["Jiangsu Nanjing Office", "Nanjing University"]),
        ("京市", ["Nanjing"], []),
        ("苏州", ["Suzhou"], []),
        ("江苏", [], ["Jiangsu Nanjing Office"]),
        ("京苏", [], []),  # two characters no name holds side by side
    ],
)
def test_two_chinese_characters_are_looked_up_as_a_name_of_the_key(
    registry, query, places, organisations
):
    """Each two characters side by side in a name are a name of the key: the term is
    looked up as that whole name, on the index, and finds what a scan finds."""
    expected = "MATCH" if connection.vendor == "sqlite" else "|" + query + "|"
    assert expected in sql_of(Place, query)
    assert found(Place, query) == places == scanned(Place, query)
    assert found(Organisation, query) == organisations == scanned(Organisation, query)
    assert_index_in_step()


def test_a_two_character_search_finds_partnerships_through_their_places(client, registry):
    response = client.get(url("search", query="q=南京"))
    places, organisations, partnerships = response.context["results"]
    assert [str(record) for record in places["records"]] == ["Nanjing"]
    assert organisations["count"] == 2
    titles = sorted(str(record) for record in partnerships["records"])
    # One titled so, the other tied to Nanjing.
    assert titles == ["Aarhus–Nanjing friendship", "南京–苏州 学术交流"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Århus", ["Århus"]),
        ("Aarhus", ["Århus"]),
        ("arhus", ["Århus"]),
        ("København", ["København"]),
        ("Koebenhavn", ["København"]),
        ("KØBENHAVN", ["København"]),
    ],
)
def test_danish_spellings_are_found_on_the_index(registry, query, expected):
    assert found(Place, query) == expected


def test_a_term_never_spans_two_names():
    # The key separator lies between the names; no folded term holds it.
    PlaceFactory(name="Foo", native_name="Bar")
    assert found(Place, "foo") == ["Foo"]
    assert found(Place, "oobar") == []
    assert found(Place, "foo|bar") == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"wuxi"', ["Copenhagen and Wuxi"]),
        ('wuxi "', ["Copenhagen and Wuxi"]),
        ("wuxi AND", ["Copenhagen and Wuxi"]),  # 'and' is in the title
        ("wuxi OR nanjing", []),  # every word must match
        ("NEAR(wuxi nanjing)", []),
        ("wux*", ["Copenhagen and Wuxi"]),
        ("^wuxi", ["Copenhagen and Wuxi"]),
        ("wuxi:", ["Copenhagen and Wuxi"]),
    ],
)
def test_search_syntax_is_searched_for_literally(client, registry, query, expected):
    response = client.get(url("search", query=f"q={query}"))

    assert response.status_code == 200
    partnerships = response.context["results"][2]["records"]
    assert [str(partnership) for partnership in partnerships] == expected
    assert found(Partnership, query) == expected


@pytest.mark.parametrize("term", ['x"y', 'x"y*z OR', "NEAR(a b)", "col:umn", "^ab", '"'])
def test_fts_query_characters_in_a_key_match_literally(term):
    place = PlaceFactory(name="Literal")
    Place.objects.filter(pk=place.pk).update(search_key=f"|{term}|")
    PlaceFactory(name="Other")

    assert list(Place.objects.filter(search_key__contains=term)) == [place]
    assert list(Place.objects.filter(search_key__contains=term + "q")) == []


def test_saving_a_new_name_moves_the_record_in_the_index():
    place = PlaceFactory(name="Zhangjiagang")
    place.name = "Kunshan"
    place.save()

    assert found(Place, "kunshan") == ["Kunshan"]
    assert found(Place, "zhangjiagang") == []
    assert_index_in_step()


def test_update_of_the_key_is_indexed():
    organisation = OrganisationFactory(name="Suzhou Institute")
    Organisation.objects.filter(pk=organisation.pk).update(search_key=search_key(["Xiamen Lab"]))

    assert found(Organisation, "xiamen") == ["Suzhou Institute"]
    assert found(Organisation, "suzhou") == []
    assert_index_in_step()


def test_bulk_create_is_indexed():
    places = [Place(name=f"Harbin {n}", slug=f"harbin-{n}", kind=Place.Kind.CITY) for n in range(3)]
    for place in places:
        place.derive(names=[place.name])
    Place.objects.bulk_create(places)

    assert found(Place, "harbin") == ["Harbin 0", "Harbin 1", "Harbin 2"]
    assert_index_in_step()


def test_a_deleted_record_leaves_nothing_for_a_new_one_with_its_id():
    old = PartnershipFactory(title="Qingdao cooperation")
    old_pk = old.pk
    old.delete()
    PartnershipFactory(pk=old_pk, title="Tianjin cooperation")

    assert found(Partnership, "qingdao") == []
    assert found(Partnership, "tianjin") == ["Tianjin cooperation"]
    assert_index_in_step()


def test_raw_sql_writes_are_indexed():
    place = PlaceFactory(name="Dalian")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Place._meta.db_table} SET search_key = %s WHERE id = %s",
            ["|shenyang|", place.pk],
        )

    assert found(Place, "shenyang") == ["Dalian"]
    assert_index_in_step()


def test_loaddata_is_indexed(tmp_path):
    fixture = tmp_path / "places.json"
    fields = {"name": "Chengdu", "slug": "chengdu", "kind": "city", "country": "CN"}
    fields["created_at"] = fields["updated_at"] = "2026-12-01T12:00:00Z"
    fields["search_key"] = search_key(["Chengdu", "成都市"])
    fixture.write_text(json.dumps([{"model": "places.place", "pk": 9001, "fields": fields}]))

    call_command("loaddata", str(fixture), verbosity=0)

    assert found(Place, "成都市") == ["Chengdu"]
    assert found(Place, "chengd") == ["Chengdu"]
    assert_index_in_step()


def test_every_indexed_table_has_its_index():
    """A later migration that rebuilds a table (SQLite's way to alter a column) drops the
    triggers with it; this says so before the index silently falls behind."""
    with connection.cursor() as cursor:
        for model in INDEXED:
            assert model.search_indexed
            table = model._meta.db_table
            if connection.vendor == "sqlite":
                cursor.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                    [table],
                )
                triggers = {name for (name,) in cursor.fetchall()}
                fts = fts_table(table)
                assert {f"{fts}_insert", f"{fts}_update", f"{fts}_delete"} <= triggers
            else:
                cursor.execute(
                    "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname = %s",
                    [table, f"{table}_search_key_trgm"],
                )
                assert "gin_trgm_ops" in cursor.fetchone()[0]


def test_the_migration_writes_the_pairs_into_keys_written_before(registry):
    """Keys written before the pairs (as the seed and every registry held them) are
    written as now, those that change alone; a two-character search then finds them."""
    from types import SimpleNamespace

    from django.apps import apps

    from core.search import rekey

    before = "|nanjing|南京市|"
    Place.objects.filter(name="Nanjing").update(search_key=before)
    assert found(Place, "南京") == []  # the key holds no pair yet
    untouched = Place.objects.values_list("pk", "search_key").get(name="Wuxi")
    rekey("places", "place")(apps, SimpleNamespace(connection=connection))
    assert Place.objects.get(name="Nanjing").search_key == search_key(["Nanjing", "南京市"])
    assert Place.objects.values_list("pk", "search_key").get(name="Wuxi") == untouched
    assert found(Place, "南京") == ["Nanjing"]
    assert_index_in_step()
