"""The counts without a filter kept by the writes themselves (``partnerships.facets``).

After every write path the kept counts must equal the counts taken afresh from the
records, and the pages without a filter must show the counts a filter-by-filter count
gives: an admin save, an inline, a bulk update, an import and its undo, the API, a merge,
a theme's deletion, a place's new country.
"""

from collections import Counter
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from atlas.merging import merge
from atlas.registry import IMPORT_SPECS
from core.models import Publication
from importing.engine import Importer
from organisations.models import Organisation
from partnerships import facets
from partnerships.filters import PartnershipFilter
from partnerships.models import FacetCount, FacetLine, FacetValue, Participant, Partnership
from partnerships.templatetags.explore_tags import started_per_year
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
    ThemeFactory,
    UserFactory,
)
from tests.importing.conftest import csv_bytes
from tests.spies import calls_of
from tests.test_admin import inline_management, partnership_data

pytestmark = pytest.mark.django_db


def kept():
    return {
        (scope, facet, value): count
        for scope, facet, value, count in FacetCount.objects.filter(count__gt=0).values_list(
            "scope", "facet", "value", "count"
        )
    }


def afresh():
    """The counts from the records, partnership by partnership."""
    counts = Counter()
    for values in facets.compute(Partnership.objects.values_list("pk", flat=True)).values():
        facets._tally(counts, values, +1)
    # The number of values of the map's places and regional ties, for the public's map.
    numbers = Counter(
        (scope, facets.NUMBER + facet, "")
        for (scope, facet, _value), count in counts.items()
        if facet in facets.NUMBERED and count
    )
    return {key: count for key, count in (counts + numbers).items() if count}


def assert_kept():
    assert kept() == afresh()
    stored = set(FacetValue.objects.values_list("partnership_id", "facet", "value"))
    computed = facets.compute(Partnership.objects.values_list("pk", flat=True))
    assert stored == {(pk, *value) for pk, values in computed.items() for value in values}
    # The list's facets one line a partnership, kept with the rest (``FacetLine``).
    lines = dict(FacetLine.objects.values_list("partnership_id", "text"))
    assert lines == {pk: facets.line(values) for pk, values in computed.items()}


@pytest.fixture
def registry():
    """Two Suzhous and a Ringsted in two countries, a draft, themes, decade starts."""
    suzhou_cn = PlaceFactory(name="Suzhou", slug="suzhou", country="CN", kind="city")
    suzhou_anhui = PlaceFactory(name="Suzhou", slug="suzhou-anhui", country="CN", kind="city")
    ringsted = PlaceFactory(name="Ringsted", slug="ringsted", country="DK", kind="municipality")
    ringsted_iowa = PlaceFactory(name="Ringsted", slug="ringsted-iowa", country="US", kind="city")
    jiangsu = PlaceFactory(name="Jiangsu", slug="jiangsu", country="CN", kind="province")
    university = OrganisationFactory(name="Aarhus University", slug="au", country="DK")
    company = OrganisationFactory(name="Danfoss", slug="danfoss", country="DK", kind="company")
    water = ThemeFactory(name="Water", slug="water")
    education = ThemeFactory(name="Education", slug="education")
    first = PartnershipFactory(
        slug="ringsted-suzhou", kind="friendship_city", start="1990s", parties=[ringsted, suzhou_cn]
    )
    first.themes.add(water, education)
    second = PartnershipFactory(
        slug="au-jiangsu", status="ended", start="2008", parties=[university, jiangsu, suzhou_anhui]
    )
    second.themes.add(education)
    PartnershipFactory(
        slug="draft",
        publication=Publication.DRAFT,
        start="2012-05",
        parties=[company, ringsted_iowa],
    )
    return locals()


def live_counts(queryset):
    """What the facets counted before the counts were kept: a GROUP BY per facet."""
    filterset = PartnershipFilter(None, queryset=queryset)
    return {
        name: {
            str(value): count for value, count in counter(filterset, queryset.order_by()) if count
        }
        for name, counter in filterset.facets.items()
    }


def test_the_kept_counts_are_the_counts_of_the_records(registry):
    assert_kept()
    for queryset in (Partnership.objects.published(), Partnership.objects.all()):
        filterset = PartnershipFilter(None, queryset=queryset)
        assert filterset.kept_counts(list(filterset.facets)) == live_counts(queryset)
        scope = facets.scope_of(queryset)
        assert facets.started(scope) == started_per_year(queryset)
    public = live_counts(Partnership.objects.published())
    assert public["country"] == {"CN": 2, "DK": 2}
    assert public["theme"] == {"education": 2, "water": 1}
    assert public["organisation_kind"] == {"university": 1}
    assert facets.started(facets.PUBLISHED) == ({2008: {"cooperation_agreement": 1}}, 1)


def test_only_the_whole_registry_is_read_from_the_kept_counts(registry):
    assert facets.scope_of(Partnership.objects.published().order_by("-updated_at")) == "published"
    assert facets.scope_of(Partnership.objects.select_related("created_by")) == "all"
    assert facets.scope_of(Partnership.objects.filter(status="active")) is None
    assert facets.scope_of(Partnership.objects.none()) is None
    # Told once per queryset: what was told of one is not taken for what it becomes.
    published = Partnership.objects.published()
    assert facets.scope_of(published) == "published"
    assert facets.scope_of(published.filter(status="active")) is None
    assert facets.scope_of(published[:5]) is None
    assert facets.scope_of(published.all()) == "published"


def test_a_query_of_several_tests_is_told_narrower_without_its_sql(registry, monkeypatch):
    written = calls_of(monkeypatch, facets, "records_sql")
    published = Partnership.objects.published()
    found = published.filter(pk__in=Partnership.objects.search("aarhus").values("pk"))
    assert facets.scope_of(found) is None
    assert facets.scope_of(published.filter(status="active", kind="cooperation")) is None
    assert facets.scope_of(Partnership.objects.filter(Q(status="active") | Q(kind="other"))) is None
    assert written == []
    # A test that holds every row writes no SQL of its own; the partnerships are counted.
    assert facets.scope_of(published.exclude(pk__in=[])) is None
    assert facets.scope_of(published) == "published"
    assert len(written) == 1


def test_pages_without_a_filter_count_nothing(client, registry):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/en/partnerships/")
    assert response.status_code == 200
    assert not [q["sql"] for q in queries if "GROUP BY" in q["sql"]]
    shown = {f.name: {o.value: o.count for o in f.options} for f in response.context["facets"]}
    assert shown["country"] == {"CN": 2, "DK": 2}
    assert shown["status"] == {"active": 1, "ended": 1}
    # A filter narrows the other facets, counted from the records; its own stays kept.
    response = client.get("/en/partnerships/?status=ended")
    shown = {f.name: {o.value: o.count for o in f.options} for f in response.context["facets"]}
    assert shown["country"] == {"CN": 1, "DK": 1}
    assert shown["status"] == {"ended": 1, "active": 1}
    home = client.get("/en/")
    assert home.context["counts"]["partnerships"] == 2


def test_staff_counts_hold_the_drafts(client, registry):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/en/partnerships/")
    shown = {f.name: {o.value: o.count for o in f.options} for f in response.context["facets"]}
    assert shown["country"] == {"CN": 2, "DK": 3, "US": 1}
    assert shown["organisation_kind"] == {"university": 1, "company": 1}


def test_a_public_page_reads_its_kept_counts_once_and_again_after_a_write(
    client, registry, settings
):
    settings.ATLAS_CACHE_PAGES = True

    def served(address):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address)
        assert response["X-Cache"] == "MISS"
        reads = [q for q in queries if 'FROM "partnerships_facetcount"' in q["sql"]]
        return response, len(reads)

    def statuses(response):
        facets = {f.name: f for f in response.context["facets"]}
        return {option.value: option.count for option in facets["status"].options}

    page, reads = served("/en/partnerships/")
    assert reads == 1  # the total, the facets and the chart's starts
    assert page.context["paginator"].count == 2
    assert statuses(page) == {"active": 1, "ended": 1}
    assert "2015: " not in page.content.decode()
    # The same scope's counts, which this process read for the list under the counts
    # version (``core.cache.read_once``).
    home, reads = served("/en/")
    assert reads == 0 and home.context["counts"]["partnerships"] == 2
    # A write moves the version: the next page reads the counts it left.
    PartnershipFactory(status="ended", start="2015", parties=[registry["jiangsu"]])
    page, reads = served("/en/partnerships/")
    assert reads == 1 and page.context["paginator"].count == 3
    assert statuses(page) == {"active": 1, "ended": 2}
    assert "2015: " in page.content.decode()  # a bar of the chart
    # Staff read the counts with drafts, outside the page cache.
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/en/partnerships/").context["paginator"].count == 4


# Write paths ------------------------------------------------------------------------------


@pytest.fixture(params=["returned", "read first"])
def numbering(request, monkeypatch):
    """The number of each map facet's values, moved from the counts the upsert returns,
    or from those read before it, where the database returns none (SQLite before 3.35)."""
    if request.param == "read first":
        monkeypatch.setattr(type(connection.features), "can_return_rows_from_bulk_insert", False)
    return request.param


def test_saves_deletes_and_themes_in_a_shell(registry, numbering):
    tie = Partnership.objects.get(slug="au-jiangsu")
    tie.status = "active"
    tie.kind = "research_collaboration"
    tie.start = "2011"
    tie.save()
    assert_kept()
    tie.themes.remove(registry["education"])
    assert_kept()
    registry["water"].partnerships.add(tie)
    assert_kept()
    registry["education"].partnerships.clear()
    assert_kept()
    registry["water"].delete()
    assert_kept()
    Participant.objects.filter(partnership=tie, place=registry["jiangsu"]).delete()
    assert_kept()
    Participant.objects.create(partnership=tie, organisation=registry["company"])
    assert_kept()
    tie.delete()
    assert_kept()
    Partnership.objects.filter(slug="draft").delete()
    assert_kept()
    values = facets.compute([registry["first"].pk])[registry["first"].pk]
    (kind_status,) = [value for facet, value in values if facet == "kind_status"]
    kind, status = kind_status.split("|")
    expected = {
        (scope, facet, value): 1 for scope in ("all", "published") for facet, value in values
    }
    # The participants' values and the themes, kept per kind and status besides.
    expected.update(
        {
            (facets.within(scope, kind, status), facet, value): 1
            for scope in ("all", "published")
            for facet, value in values
            if facet in facets.BY_KIND_STATUS
        }
    )
    # And per the first year as of which it is listed: the list's facets, and those kept
    # per kind and status.
    (first,) = [value for facet, value in values if facet == facets.AS_OF_FROM]
    for scope in ("all", "published"):
        for narrow, kept_there in (
            (scope, facets.BY_AS_OF),
            (facets.within(scope, kind, status), facets.BY_KIND_STATUS),
        ):
            expected.update(
                {
                    (facets.dated(narrow, first), facet, value): 1
                    for facet, value in values
                    if facet in kept_there
                }
            )
    # And how many places and regional ties the public's map has.
    expected.update(
        {
            (scope, facets.NUMBER + numbered, ""): count
            for scope in ("all", "published")
            for numbered in facets.NUMBERED
            if (count := sum(facet == numbered for facet, _value in values))
        }
    )
    assert kept() == expected


def test_a_participant_saved_into_another_partnership_recounts_both(registry):
    # Ringsted (Denmark) leaves the friendship city for the university's tie: the one it
    # left loses Denmark and a municipality, the one it joins gains them.
    participant = Participant.objects.get(partnership=registry["first"], place=registry["ringsted"])
    participant.partnership = registry["second"]
    participant.save()
    assert_kept()
    # And back, through the admin's way of saving: an instance read afresh.
    participant = Participant.objects.get(pk=participant.pk)
    participant.partnership_id = registry["first"].pk
    participant.save(update_fields=["partnership"])
    assert_kept()


def test_bulk_updates_and_creates(registry):
    Partnership.objects.filter(slug="draft").update(publication=Publication.PUBLISHED)
    assert_kept()
    Partnership.objects.update(status="planned")
    assert_kept()
    Place.objects.filter(slug__startswith="suzhou").update(country="TW")
    assert_kept()
    Organisation.objects.filter(slug="au").update(kind="company")
    assert_kept()
    new = Partnership(title="Bulk", slug="bulk", kind="office", publication="published")
    new.derive()
    Partnership.objects.bulk_create([new])
    Participant.objects.bulk_create(
        [
            Participant(partnership=new, place=registry["ringsted_iowa"]),
            Participant(partnership=new, organisation=registry["company"]),
        ]
    )
    assert_kept()
    Partnership.objects.filter(slug="bulk").update(description="Nothing counted changes")
    assert_kept()
    # Participants moved to another partnership: every count is taken afresh.
    Participant.objects.filter(partnership=new).update(partnership=registry["second"])
    assert_kept()


def test_a_place_saved_with_a_new_country_or_kind(registry):
    ringsted = registry["ringsted"]
    ringsted.description = "On the railway"
    with CaptureQueriesContext(connection) as queries:
        ringsted.save()
    assert not [q for q in queries if "partnerships_facet" in q["sql"]]
    ringsted.kind = "city"
    ringsted.save()
    assert_kept()
    company = registry["company"]
    company.country = "SE"
    company.save()
    assert_kept()
    assert kept()[("all", "country", "SE")] == 1


def test_a_rolled_back_write_leaves_the_counts(registry):
    before = kept()
    with pytest.raises(RuntimeError), transaction.atomic():
        Partnership.objects.update(status="planned")
        raise RuntimeError
    assert kept() == before


def test_admin_add_change_inline_delete_and_publish(admin_client, registry):
    theme = registry["water"]
    data = partnership_data([registry["ringsted"], registry["suzhou_anhui"]], themes=[theme.pk])
    response = admin_client.post(reverse("admin:partnerships_partnership_add"), data)
    assert response.status_code == 302, response.context["errors"]
    assert_kept()
    tie = Partnership.objects.get(title="Aarhus–Harbin")
    participants = list(tie.participants.order_by("pk"))
    event = tie.events.get()
    change = {
        **partnership_data([], kind="office", status="ended", themes=[]),
        "slug": tie.slug,
        **inline_management("participants", total=3, initial=2),
        **inline_management("events", total=1, initial=1),
        "events-0-id": event.pk,
        "events-0-partnership": tie.pk,
    }
    for n, participant in enumerate(participants):
        change |= {
            f"participants-{n}-id": participant.pk,
            f"participants-{n}-partnership": tie.pk,
            f"participants-{n}-party": f"place:{participant.place_id}",
            f"participants-{n}-role": "partner",
        }
    change |= {
        "participants-1-DELETE": "on",
        "participants-2-party": f"organisation:{registry['company'].pk}",
        "participants-2-role": "partner",
    }
    response = admin_client.post(
        reverse("admin:partnerships_partnership_change", args=[tie.pk]), change
    )
    assert response.status_code == 302, response.context["errors"]
    tie.refresh_from_db()
    assert tie.kind == "office" and not tie.themes.exists()
    assert_kept()
    draft = Partnership.objects.get(slug="draft")
    draft.sources.add(SourceFactory())
    response = admin_client.post(
        reverse("admin:partnerships_partnership_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
    )
    assert response.status_code == 302
    assert Partnership.objects.get(slug="draft").publication == Publication.PUBLISHED
    assert_kept()
    response = admin_client.post(
        reverse("admin:partnerships_partnership_delete", args=[tie.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert_kept()


def test_import_and_undo(registry, editor, editor_client):
    header = ["title", "kind", "status", "participants", "start", "themes", "source"]
    data = csv_bytes(
        [
            header,
            ["Tie", "cooperation", "active", "ringsted; Danfoss", "2007", "Education; Water", "N"],
            ["Other", "office", "planned", "suzhou-anhui; au", "1980s", "", "N"],
        ]
    )
    report = Importer(IMPORT_SPECS["partnerships"], user=editor, publish=True).run(data, "t.csv")
    assert report.problems == []
    assert_kept()
    assert kept()[("published", "kind", "office")] == 1
    # Only a theme changes on an existing partnership: the many-to-many table alone.
    data = csv_bytes(
        [
            ["slug", "kind", "participants", "themes"],
            ["ringsted-suzhou", "friendship city", "ringsted; suzhou", "Water"],
        ]
    )
    report = Importer(IMPORT_SPECS["partnerships"], user=editor).run(data, "themes.csv")
    assert report.problems == []
    assert_kept()
    response = editor_client.post(reverse("admin:core_importbatch_undo", args=[report.batch.pk]))
    assert response.status_code == 302
    assert_kept()


def test_an_import_counts_once_for_all_its_tables(registry, editor, monkeypatch):
    # Partnerships, participants and themes are written table by table; the counts
    # follow once, when the import's batch ends (core.versioning.batch).
    calls = []
    compute = facets.compute
    monkeypatch.setattr(
        facets, "compute", lambda ids, using="default": calls.append(1) or compute(ids, using)
    )
    header = ["title", "kind", "participants", "themes", "source"]
    data = csv_bytes([header, ["Batch tie", "office", "jiangsu; au", "Water", "A note"]])
    report = Importer(IMPORT_SPECS["partnerships"], user=editor, publish=True).run(data, "b.csv")
    assert report.problems == []
    assert len(calls) == 1
    assert_kept()


def test_import_records_command(registry, tmp_path):
    file = tmp_path / "partnerships.csv"
    file.write_bytes(
        csv_bytes(
            [
                ["title", "kind", "participants", "themes", "source"],
                ["Command tie", "office", "jiangsu; au", "Water", "A note"],
            ]
        )
    )
    call_command("import_records", "partnerships", str(file), "--publish", verbosity=0)
    assert_kept()
    assert kept()[("published", "theme", str(registry["water"].pk))] == 2


def test_api_create_update_and_delete(registry, editor):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor).key}")
    response = api.post(
        "/api/partnerships/",
        {
            "title": "Wuxi–AU",
            "kind": "cooperation",
            "start": "c. 1985",
            "participants": [{"place": "jiangsu", "role": "host"}, {"organisation": "au"}],
            "themes": ["water"],
            "sources": [SourceFactory().pk],
            "publication": "published",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert_kept()
    slug = response.json()["slug"]
    response = api.patch(
        f"/api/partnerships/{slug}/",
        {"status": "ended", "kind": "office", "themes": []},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert_kept()
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=root).key}")
    assert api.delete(f"/api/partnerships/{slug}/").status_code == 204
    assert_kept()


def test_a_merge_of_places_and_its_undo(registry, editor):
    from atlas.merging import undo

    # The Iowa Ringsted is merged into Jiangsu (a mistake, then undone): its ties move.
    row = merge(registry["jiangsu"], registry["ringsted_iowa"], user=editor)
    assert_kept()
    assert ("all", "country", "US") not in kept()
    undo(row, user=editor)
    assert_kept()
    assert kept()[("all", "country", "US")] == 1


def test_the_migration_and_the_command_recount(registry):
    FacetCount.objects.all().delete()
    FacetValue.objects.filter(partnership_id=registry["first"].pk, facet="theme").delete()
    FacetLine.objects.filter(pk=registry["second"].pk).update(text="status=planned")
    call_command("recount_facets", verbosity=0)
    assert_kept()


def test_the_migration_numbers_the_values_from_the_kept_counts(registry):
    FacetCount.objects.filter(facet__startswith=facets.NUMBER).update(count=99)
    facets.number_values(django_apps, SimpleNamespace(connection=connection))
    assert_kept()
    assert kept()[("published", facets.NUMBER + "place", "")] == len(
        {value for scope, facet, value in kept() if (scope, facet) == ("published", "place")}
    )


def test_the_migration_writes_every_line_from_the_kept_values(registry):
    FacetLine.objects.all().delete()
    facets.write_lines(None, SimpleNamespace(connection=connection))
    assert_kept()
    second = FacetLine.objects.get(pk=registry["second"].pk).text.split("\n")
    assert second == sorted(second)
    assert set(second) >= {
        "country=CN",
        "country=DK",
        "place_kind=city",
        "place_kind=province",
        "status=ended",
        f"theme={registry['education'].pk}",
    }


@pytest.mark.parametrize("rare", [0.0, 1.0], ids=["exists", "in"])
def test_participant_filters_read_the_kept_values_either_way(client, registry, monkeypatch, rare):
    # Whether a chosen value counts as rare picks how it is read, never what is found.
    monkeypatch.setattr(PartnershipFilter, "RARE", rare)

    def found(query):
        response = client.get("/en/partnerships/?" + query)
        assert response.status_code == 200
        return sorted(partnership.slug for partnership in response.context["object_list"])

    assert found("country=DK") == ["au-jiangsu", "ringsted-suzhou"]
    assert found("country=US") == []  # only a draft has a participant there
    assert found("country=CN&country=US&status=ended") == ["au-jiangsu"]
    assert found("place_kind=province") == ["au-jiangsu"]
    assert found("organisation_kind=university&kind=friendship_city") == []
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert found("country=US") == ["draft"]
    assert found("organisation_kind=company") == ["draft"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL has no rowid")
def test_sqlite_finds_a_line_by_its_rowid():
    # One B-tree to search per partnership, not an index and then the table.
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN QUERY PLAN SELECT text FROM partnerships_facetline WHERE partnership_id = 1"
        )
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "USING INTEGER PRIMARY KEY" in plan
