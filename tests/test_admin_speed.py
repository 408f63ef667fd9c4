"""The admin stays fast as the registry grows: a fixed number of queries per page, lean
widgets that render as Django's own, and country lists of the countries in use."""

import pytest
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.forms import FastModelForm, render_in_python
from core.models import ImportBatch, ImportBatchItem, Source
from partnerships.models import Event, Participant, Partnership
from places.models import Place
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    OrganisationNameFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceFigureFactory,
    PlaceNameFactory,
    SourceFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MAX_QUERIES = 20


def count_queries(client, url, django_assert_max_num_queries):
    client.get(url)  # counted once warm: a session's first request looks some things up
    with django_assert_max_num_queries(MAX_QUERIES) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


def grow_place(place, rows):
    for n in range(rows):
        PlaceFigureFactory(place=place, year=2000 + n, source=SourceFactory())
        PlaceNameFactory(place=place, name=f"{place.name} alias {n}")


def grow_organisation(organisation, rows):
    for n in range(rows):
        OrganisationNameFactory(organisation=organisation, name=f"{organisation.name} {n}")


def grow_partnership(partnership, rows):
    for n in range(rows):
        party = {"place": PlaceFactory()} if n % 2 else {"organisation": OrganisationFactory()}
        Participant.objects.create(partnership=partnership, **party)
        EventFactory(
            partnership=partnership,
            date=str(1990 + n),
            place=PlaceFactory(),
            source=SourceFactory(),
        )
        partnership.themes.add(ThemeFactory())


def change(record):
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])


RECORDS = {
    "place": (PlaceFactory, grow_place),
    "organisation": (OrganisationFactory, grow_organisation),
    "partnership": (PartnershipFactory, grow_partnership),
}


@pytest.mark.parametrize("kind", RECORDS)
def test_change_pages_run_a_fixed_number_of_queries_however_many_inline_rows(
    admin_client, kind, django_assert_max_num_queries
):
    make, grow = RECORDS[kind]
    small, large = make(), make()
    grow(small, 1)
    grow(large, 8)
    assert count_queries(
        admin_client, change(large), django_assert_max_num_queries
    ) == count_queries(admin_client, change(small), django_assert_max_num_queries)


@pytest.mark.parametrize("kind", RECORDS)
def test_history_pages_run_a_fixed_number_of_queries_however_many_versions(
    admin_client, kind, django_assert_max_num_queries
):
    make, grow = RECORDS[kind]
    small, large = make(), make()
    grow(small, 1)
    grow(large, 4)
    for version in range(6):
        large.description = f"Version {version}"
        large.save()
    opts = large._meta
    prefix = f"admin:{opts.app_label}_{opts.model_name}"
    counts = [
        count_queries(
            admin_client,
            reverse(f"{prefix}_history", args=[record.pk]),
            django_assert_max_num_queries,
        )
        for record in (small, large)
    ]
    assert counts[0] == counts[1]
    earliest = large.history.earliest()
    url = reverse(f"{prefix}_simple_history", args=[large.pk, earliest.history_id])
    assert admin_client.get(url).status_code == 200


def test_source_and_theme_change_pages_answer_in_few_queries(
    admin_client, django_assert_max_num_queries
):
    source = SourceFactory()
    theme = ThemeFactory()
    for _ in range(5):
        PartnershipFactory().themes.add(theme)
    for record in (source, theme):
        count_queries(admin_client, change(record), django_assert_max_num_queries)


def import_batch(places, changed):
    batch = ImportBatch.objects.create(
        content_type=ContentType.objects.get_for_model(Place),
        file_name="places.csv",
        created={"places.place": [place.pk for place in places]},
        created_count=len(places),
    )
    ImportBatchItem.objects.bulk_create(
        ImportBatchItem(
            batch=batch,
            content_type=ContentType.objects.get_for_model(Partnership),
            object_id=partnership.pk,
        )
        for partnership in changed
    )
    return batch


def test_import_batch_pages_run_a_fixed_number_of_queries(
    admin_client, django_assert_max_num_queries
):
    small = import_batch([PlaceFactory()], [PartnershipFactory()])
    changelist = reverse("admin:core_importbatch_changelist")
    before = count_queries(admin_client, changelist, django_assert_max_num_queries)
    large = import_batch(
        [PlaceFactory() for _ in range(10)], [PartnershipFactory() for _ in range(5)]
    )
    for _ in range(5):
        import_batch([PlaceFactory()], [])
    assert count_queries(admin_client, changelist, django_assert_max_num_queries) == before
    assert count_queries(
        admin_client,
        reverse("admin:core_importbatch_change", args=[large.pk]),
        django_assert_max_num_queries,
    ) == count_queries(
        admin_client,
        reverse("admin:core_importbatch_change", args=[small.pk]),
        django_assert_max_num_queries,
    )


@pytest.mark.parametrize(
    "url, query",
    [
        ("admin:places_place_changelist", "?review=never&country__exact=DK&q=a"),
        ("admin:organisations_organisation_changelist", "?review=never&country__exact=SE"),
        ("admin:partnerships_partnership_changelist", "?review=never&status__exact=active"),
        ("admin:core_source_changelist", "?review=never&q=report"),
        ("admin:partnerships_theme_changelist", "?q=theme"),
    ],
)
def test_filtered_changelists_run_a_fixed_number_of_queries(
    admin_client, url, query, django_assert_max_num_queries
):
    PartnershipFactory(parties=[PlaceFactory(country="DK"), OrganisationFactory(country="SE")])
    small = count_queries(admin_client, reverse(url) + query, django_assert_max_num_queries)
    for country in ["DE", "FR", "NO", "CN"]:
        PartnershipFactory(
            parties=[PlaceFactory(country=country), OrganisationFactory(country=country)]
        ).themes.add(ThemeFactory())
        SourceFactory()
    assert count_queries(admin_client, reverse(url) + query, django_assert_max_num_queries) == small


def test_country_filter_lists_only_the_countries_in_use_by_name(admin_client):
    PlaceFactory(country="DK")
    PlaceFactory(country="CN")
    PlaceFactory(country="DK")
    OrganisationFactory(country="SE", place=None)
    response = admin_client.get(reverse("admin:places_place_changelist"))
    country_filter = next(
        spec for spec in response.context["cl"].filter_specs if spec.title == "country"
    )
    choices = list(country_filter.choices(response.context["cl"]))
    assert [choice["display"] for choice in choices] == ["All", "China", "Denmark"]
    assert "Sweden" not in response.content.decode()

    chosen = admin_client.get(reverse("admin:places_place_changelist") + choices[2]["query_string"])
    assert {place.country.code for place in chosen.context["cl"].result_list} == {"DK"}


def test_country_filter_still_takes_the_old_address_and_counts_facets(admin_client):
    PlaceFactory(country="DK")
    PlaceFactory(country="CN")
    url = reverse("admin:places_place_changelist")
    response = admin_client.get(url, {"country__exact": "CN", "_facets": "1"})
    assert [place.country.code for place in response.context["cl"].result_list] == ["CN"]
    assert "China (1)" in response.content.decode()
    assert "Denmark (1)" in response.content.decode()


def test_country_column_shows_the_name_in_the_admin_language(admin_client):
    PlaceFactory(name="Aarhus", country="DK")
    url = reverse("admin:places_place_changelist")
    assert '<td class="field-country_name">Denmark</td>' in admin_client.get(url).content.decode()
    danish = admin_client.get(url, headers={"accept-language": "da"})
    assert '<td class="field-country_name">Danmark</td>' in danish.content.decode()


def test_changelist_checkboxes_select_records_for_actions(admin_client):
    place = PlaceFactory(name="Aarhus", last_reviewed_on=None)
    page = admin_client.get(reverse("admin:places_place_changelist")).content.decode()
    assert (
        f'<input type="checkbox" name="_selected_action" value="{place.pk}" '
        f'class="action-select" aria-label="Select this object for an action - Aarhus">'
    ) in page
    response = admin_client.post(
        reverse("admin:places_place_changelist"),
        {"action": "mark_reviewed", "_selected_action": [place.pk]},
    )
    assert response.status_code == 302
    place.refresh_from_db()
    assert place.last_reviewed_on is not None


class EverythingForm(forms.Form):
    country = forms.ChoiceField(
        choices=[("", "---------"), ("DK", "Denmark & <Greenland>"), ("CN", "China")],
        widget=forms.Select(attrs={"data-x": 'say "hi"', "disabled": False, "autofocus": True}),
    )
    grouped = forms.ChoiceField(
        choices=[("Nordic", [("DK", "Denmark"), ("SE", "Sweden")]), ("CN", "China")]
    )
    many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")])
    text = forms.CharField(max_length=5, help_text="x")
    number = forms.IntegerField()
    secret = forms.CharField(widget=forms.HiddenInput)
    flag = forms.BooleanField(required=False)
    note = forms.CharField(widget=forms.Textarea)
    mail = forms.EmailField()
    url = forms.URLField(assume_scheme="https")
    day = forms.DateField()


@pytest.mark.parametrize(
    "data",
    [
        None,
        {
            "country": "DK",
            "grouped": "SE",
            "many": ["a", "b"],
            "text": "<b>&",
            "number": "12",
            "secret": '"quoted"',
            "flag": "on",
            "note": "line\n<script>",
            "mail": "a@example.org",
            "url": "https://example.org/?a=1&b=2",
            "day": "2026-12-04",
        },
    ],
)
def test_widgets_rendered_in_python_match_django_templates(data):
    django_form = EverythingForm(data)
    fast_form = EverythingForm(data)
    for field in fast_form.fields.values():
        render_in_python(field)
    for name in EverythingForm.base_fields:
        expected = str(django_form[name])
        rendered = str(fast_form[name])
        assert type(fast_form[name].field.widget) is not type(django_form[name].field.widget)
        assert rendered.replace("\n", "") == expected.replace("\n", "")


def test_labels_rendered_in_python_match_django_templates():
    class Django(forms.ModelForm):
        class Meta:
            model = Source
            fields = ["title", "author", "language"]

    class Fast(FastModelForm):
        class Meta(Django.Meta):
            pass

    for name in ["title", "author", "language"]:
        for form_class in (Django, Fast):
            form_class.required_css_class = "required"
        expected = Django()[name].label_tag(attrs={"class": "x"}, label_suffix=":")
        assert Fast()[name].label_tag(attrs={"class": "x"}, label_suffix=":") == expected
        assert Fast(auto_id=False)[name].label_tag() == Django(auto_id=False)[name].label_tag()


def test_inline_autocompletes_name_their_records_without_a_query_each(admin_client):
    place = PlaceFactory(name="Aarhus")
    sources = [SourceFactory(title=f"Statistics Denmark {year}") for year in (2019, 2020, 2021)]
    for year, source in zip((2019, 2020, 2021), sources, strict=True):
        PlaceFigureFactory(place=place, year=year, source=source)
    page = admin_client.get(change(place)).content.decode()
    for source in sources:
        assert f'<option value="{source.pk}" selected>{source}</option>' in page


def test_inline_autocomplete_in_a_form_with_errors_names_the_chosen_record(admin_client):
    partnership = PartnershipFactory()
    other = SourceFactory(title="Annual report")
    event = EventFactory(partnership=partnership, source=SourceFactory(title="Old report"))
    participants = list(partnership.participants.all())
    data = {
        "title_da": "",  # a title is required: the page comes back with the form
        "title_en": "",
        "slug": partnership.slug,
        "kind": partnership.kind,
        "status": partnership.status,
        "participants-TOTAL_FORMS": "2",
        "participants-INITIAL_FORMS": "2",
        "participants-MIN_NUM_FORMS": "0",
        "participants-MAX_NUM_FORMS": "1000",
        "events-TOTAL_FORMS": "1",
        "events-INITIAL_FORMS": "1",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
        "events-0-id": event.pk,
        "events-0-partnership": partnership.pk,
        "events-0-date": "2010",
        "events-0-kind": Event.Kind.CONFERENCE,
        "events-0-text": "A conference",
        "events-0-source": other.pk,
    }
    for n, participant in enumerate(participants):
        data |= {
            f"participants-{n}-id": participant.pk,
            f"participants-{n}-partnership": partnership.pk,
            f"participants-{n}-party": f"place:{participant.place_id}",
            f"participants-{n}-role": participant.role,
        }
    response = admin_client.post(change(partnership), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<option value="{other.pk}" selected>Annual report</option>' in page
    assert "Old report" not in page


def test_autocomplete_fields_of_the_record_itself_still_show_their_choice(admin_client):
    province = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE)
    city = PlaceFactory(name="Wuxi", parent=province)
    page = admin_client.get(change(city)).content.decode()
    assert f'<option value="{province.pk}" selected>Jiangsu</option>' in page


def test_nav_sidebar_is_each_users_own(client, admin_client):
    url = reverse("admin:places_place_changelist")
    assert 'href="/admin/auth/user/"' in admin_client.get(url).content.decode()
    viewer = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_place"))
    client.force_login(viewer)
    page = client.get(url).content.decode()
    assert 'id="nav-sidebar"' in page
    assert 'href="/admin/auth/user/"' not in page
    assert 'href="/admin/places/place/"' in page


# Pages that grow with the registry: counted for the rows shown, read from either end ------


def theme_changelist(client):
    response = client.get(reverse("admin:partnerships_theme_changelist"))
    return {theme.slug: theme.partnership_count for theme in response.context["cl"].result_list}


def test_theme_changelist_counts_each_themes_partnerships_in_a_fixed_number_of_queries(
    admin_client, django_assert_max_num_queries
):
    water, energy = ThemeFactory(slug="water"), ThemeFactory(slug="energy")
    PartnershipFactory().themes.add(water)
    url = reverse("admin:partnerships_theme_changelist")
    small = count_queries(admin_client, url, django_assert_max_num_queries)
    for _ in range(4):
        PartnershipFactory().themes.add(water, energy)
    ThemeFactory(slug="unused")
    assert count_queries(admin_client, url, django_assert_max_num_queries) == small
    assert theme_changelist(admin_client) == {"water": 5, "energy": 4, "unused": 0}
    column = admin_client.get(url).context["cl"].list_display.index("partnership_count")
    response = admin_client.get(url, {"o": f"-{column}"})
    assert [theme.slug for theme in response.context["cl"].result_list] == [
        "water",
        "energy",
        "unused",
    ]


def listed(response):
    return [record.pk for record in response.context["cl"].result_list]


def test_theme_filter_lists_each_partnership_once_in_a_fixed_number_of_queries(
    admin_client, django_assert_max_num_queries
):
    water, energy = ThemeFactory(slug="water"), ThemeFactory(slug="energy")
    both = PartnershipFactory(title="Both")
    both.themes.add(water, energy)
    none = PartnershipFactory(title="None")
    url = reverse("admin:partnerships_partnership_changelist")
    query = f"?status__exact=active&themes__id__exact={water.pk}"
    small = count_queries(admin_client, url + query, django_assert_max_num_queries)
    others = [PartnershipFactory(title=f"Water {n}") for n in range(4)]
    for partnership in others:
        partnership.themes.add(water, energy)
    PartnershipFactory(status="ended").themes.add(water)
    assert count_queries(admin_client, url + query, django_assert_max_num_queries) == small

    response = admin_client.get(url + query)
    assert sorted(listed(response)) == sorted([both.pk, *(p.pk for p in others)])
    assert response.context["cl"].result_count == 5
    # Without DISTINCT, which sorted every matching row; a filter typed into the address
    # across another many-to-many still gets it.
    assert not response.context["cl"].queryset.query.distinct
    source = SourceFactory()
    both.sources.add(source)
    by_source = admin_client.get(url, {"sources__id__exact": source.pk})
    assert listed(by_source) == [both.pk]
    assert by_source.context["cl"].queryset.query.distinct
    energy_only = PartnershipFactory()
    energy_only.themes.add(energy)
    either = admin_client.get(url, {"themes__id__exact": [water.pk, energy.pk]})
    assert sorted(listed(either)) == sorted(
        [
            both.pk,
            energy_only.pk,
            *(p.pk for p in others),
            *listed(admin_client.get(url, {"status__exact": "ended"})),
        ]
    )
    without = admin_client.get(url, {"themes__isnull": "True"})
    assert listed(without) == [none.pk]
    assert without.context["cl"].result_count == 1
    # The filter shows as before: the themes, and the partnerships without any.
    page = admin_client.get(url).content.decode()
    assert f"?themes__id__exact={water.pk}" in page
    assert "?themes__isnull=True" in page


def test_theme_filter_refuses_a_theme_that_is_not_a_number_without_an_error(admin_client):
    PartnershipFactory().themes.add(ThemeFactory())
    response = admin_client.get(
        reverse("admin:partnerships_partnership_changelist"), {"themes__id__exact": "water"}
    )
    # The admin's own answer to a filter it cannot read: the list again, unfiltered.
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


@pytest.fixture
def two_per_page(monkeypatch):
    from django.contrib import admin

    monkeypatch.setattr(admin.site.get_model_admin(Place), "list_per_page", 2)


def test_every_page_of_a_changelist_holds_the_rows_of_the_list_in_order(admin_client, two_per_page):
    # Equal names, so that only the tie-break orders them; pages past the middle are read
    # from the end of the list, reversed.
    for name in ["Beta", "Alpha", "Beta", "Gamma", "Alpha", "Beta", "Delta"]:
        PlaceFactory(name=name)
    url = reverse("admin:places_place_changelist")
    expected = listed(admin_client.get(url, {"all": ""}))
    assert len(expected) == 7
    pages = [listed(admin_client.get(url, {"p": number})) for number in range(1, 5)]
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert [pk for page in pages for pk in page] == expected
    # Sorted by a column (the name, descending), the pages still hold the whole list.
    pages = [listed(admin_client.get(url, {"o": "-1", "p": number})) for number in range(1, 5)]
    assert [pk for page in pages for pk in page] == listed(
        admin_client.get(url, {"o": "-1", "all": ""})
    )


def test_pages_of_filtered_and_counted_changelists_hold_their_lists_in_order(
    admin_client, monkeypatch
):
    from django.contrib import admin

    monkeypatch.setattr(admin.site.get_model_admin(Partnership), "list_per_page", 2)
    water = ThemeFactory(slug="water")
    for number, title in enumerate(["Beta", "Alpha", "Beta", "Gamma", "Alpha", "Beta", "Delta"]):
        partnership = PartnershipFactory(
            title=title,
            status="active" if number % 3 else "ended",
            start=["2001", "", "2001"][number % 3],
        )
        partnership.themes.add(water)
    cases = [
        (reverse("admin:partnerships_partnership_changelist"), {}),
        (reverse("admin:partnerships_partnership_changelist"), {"o": "-3"}),
        (
            reverse("admin:partnerships_partnership_changelist"),
            {"status__exact": "active", "themes__id__exact": water.pk},
        ),
        # By the period: most start on one day, some have none.
        (reverse("admin:partnerships_partnership_changelist"), {"o": "-4.1"}),
    ]
    for url, query in cases:
        expected = listed(admin_client.get(url, {**query, "all": ""}))
        pages = [
            listed(admin_client.get(url, {**query, "p": number}))
            for number in range(1, (len(expected) + 1) // 2 + 1)
        ]
        assert len(expected) >= 4
        assert [pk for page in pages for pk in page] == expected, (url, query)


def test_a_page_past_the_first_reads_its_ids_first(admin_client, monkeypatch):
    from django.contrib import admin

    monkeypatch.setattr(admin.site.get_model_admin(Partnership), "list_per_page", 2)
    PartnershipFactory.create_batch(9)
    url = reverse("admin:partnerships_partnership_changelist")
    for number in (1, 2, 4, 5):
        with CaptureQueriesContext(connection) as queries:
            rows = listed(admin_client.get(url, {"p": number}))
        assert len(rows) == 2 if number < 5 else 1
        pages = [
            query["sql"]
            for query in queries.captured_queries
            if query["sql"].startswith('SELECT "partnerships_partnership"."id", ')
        ]
        assert len(pages) == 1
        # The first page and the last need no rows stepped over, from either end.
        assert ("IN (SELECT" in pages[0]) == (number in (2, 4)), number


def test_the_whole_partnership_list_is_counted_as_the_writes_keep_it(admin_client):
    PartnershipFactory.create_batch(3, publication="draft")
    gone, *_kept = PartnershipFactory.create_batch(4)
    Partnership.objects.filter(pk=gone.pk).delete()
    url = reverse("admin:partnerships_partnership_changelist")
    for query, shown in [({}, 6), ({"publication__exact": "draft"}, 3), ({"q": "nothing"}, 0)]:
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url, query)
        assert response.context["cl"].result_count == shown
        counted = [sql for sql in queries.captured_queries if "COUNT(*)" in sql["sql"]]
        # The whole list reads the kept counts; a filtered one counts its rows.
        assert bool(counted) == bool(query), query


@pytest.mark.skipif(connection.vendor != "postgresql", reason="INCLUDE is PostgreSQL's")
def test_the_partnership_title_indexes_hold_what_a_page_of_ids_needs(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE %s",
            ["partnership_title_%_idx"],
        )
        found = dict(cursor.fetchall())
    assert sorted(found) == ["partnership_title_da_idx", "partnership_title_en_idx"]
    for definition in found.values():
        assert ", id, publication) INCLUDE (title_da, title_en)" in definition


def test_the_last_page_of_a_changelist_runs_as_many_queries_as_the_first(
    admin_client, two_per_page, django_assert_max_num_queries
):
    for _ in range(5):
        PlaceFactory()
    url = reverse("admin:places_place_changelist")
    first = count_queries(admin_client, url, django_assert_max_num_queries)
    assert count_queries(admin_client, url + "?p=3", django_assert_max_num_queries) == first
    for _ in range(6):
        PlaceFactory()
    assert count_queries(admin_client, url + "?p=6", django_assert_max_num_queries) == first


def test_the_import_batch_page_shows_its_records_a_page_at_a_time(admin_client):
    from importing.admin import RECORDS_PER_PAGE

    places = PlaceFactory.create_batch(RECORDS_PER_PAGE + 20)
    changed = PartnershipFactory.create_batch(3)
    batch = import_batch(places, changed)
    url = reverse("admin:core_importbatch_change", args=[batch.pk])

    first = admin_client.get(url).content.decode()
    assert reverse("admin:places_place_change", args=[places[0].pk]) in first
    assert reverse("admin:places_place_change", args=[places[RECORDS_PER_PAGE].pk]) not in first
    assert '<a href="?p=2" class="end">2</a>' in first

    second = admin_client.get(url, {"p": 2}).content.decode()
    assert reverse("admin:places_place_change", args=[places[0].pk]) not in second
    assert '<span class="this-page">2</span>' in second
    for place in places[RECORDS_PER_PAGE:]:
        assert reverse("admin:places_place_change", args=[place.pk]) in second
    for partnership in changed:
        link = reverse("admin:partnerships_partnership_change", args=[partnership.pk])
        assert f'changed: <a href="{link}">' in second
    # A page that is not there shows the nearest one, never an error.
    assert admin_client.get(url, {"p": "last"}).content.decode().count("created: ") == (
        RECORDS_PER_PAGE
    )
    last = admin_client.get(url, {"p": 99}).content.decode()
    assert (last.count("created: "), last.count("changed: ")) == (20, 3)


def test_the_import_batch_page_costs_the_same_queries_on_any_page_and_any_size(
    admin_client, django_assert_max_num_queries
):
    small = import_batch([PlaceFactory()], [PartnershipFactory()])
    large = import_batch(PlaceFactory.create_batch(150), PartnershipFactory.create_batch(60))
    page = reverse("admin:core_importbatch_change", args=[small.pk])
    queries = count_queries(admin_client, page, django_assert_max_num_queries)
    page = reverse("admin:core_importbatch_change", args=[large.pk])
    assert count_queries(admin_client, page + "?p=2", django_assert_max_num_queries) == queries
