"""Relations read into lists with their records (``RecordQuerySet.with_listed``) hold what
Django's ``Prefetch(relation, to_attr=…)`` holds, in its order, in one query each."""

import pytest
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from core import cache
from core.models import ListedById, listed
from organisations.models import Organisation
from partnerships.models import Participant, Partnership
from partnerships.serializers import EVENTS, PARTICIPANTS, PARTY_FIELDS
from places.models import Place
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    OrganisationNameFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceNameFactory,
    SourceFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db

FIELDS = {
    "themes": ["pk", "slug", "name_da", "name_en", "description_en"],
    "sources": ["pk", "title", "author", "url"],
    "other_names": ["pk", "name", "language"],
}


def read(records, relation):
    """What each record holds in ``listed(relation)``, field by field."""
    fields = FIELDS[relation]
    return {
        record.pk: [
            tuple(getattr(found, name) for name in fields)
            for found in record.__dict__[listed(relation)]
        ]
        for record in records
    }


def as_django_prefetches(records, relation):
    return list(records.prefetch_related(Prefetch(relation, to_attr=listed(relation))))


@pytest.fixture
def partnerships():
    """Three partnerships: themes whose order by name differs in Danish and English, a
    source cited by two of them, and one with neither."""
    water = ThemeFactory(slug="water", name_en="Water", name_da="Vand")
    culture = ThemeFactory(slug="culture", name_en="Culture", name_da="Kultur")
    trade = ThemeFactory(slug="trade", name_en="Trade", name_da="Handel")
    shared = SourceFactory(title="Annual report")
    first = PartnershipFactory(title="Aarhus–Harbin")
    first.themes.set([water, culture, trade])
    first.sources.set([shared, SourceFactory(title="A news item")])
    second = PartnershipFactory(title="Vejle–Hangzhou")
    second.themes.set([trade])
    second.sources.set([shared])
    PartnershipFactory(title="Nothing more")
    return Partnership.objects.order_by("pk")


@pytest.mark.parametrize("language", ["da", "en"])
@pytest.mark.parametrize("relation", ["themes", "sources"])
def test_many_to_many_as_django_prefetches_it(partnerships, relation, language):
    with translation.override(language):
        expected = read(as_django_prefetches(partnerships, relation), relation)
        with CaptureQueriesContext(connection) as context:
            found = list(partnerships.with_listed(relation))
        assert read(found, relation) == expected
    # The partnerships, then one query for the relation.
    assert len(context.captured_queries) == 2
    assert sum(map(len, expected.values())) == (4 if relation == "themes" else 3)
    assert expected[partnerships.last().pk] == []


def test_the_order_is_the_readers_language(partnerships):
    first = partnerships.first()
    with translation.override("da"):
        danish = [theme.slug for theme in partnerships.with_listed("themes")[0].listed_themes]
    with translation.override("en"):
        english = [theme.slug for theme in partnerships.with_listed("themes")[0].listed_themes]
    assert danish == ["trade", "culture", "water"]  # Handel, Kultur, Vand
    assert english == ["culture", "trade", "water"]
    assert first.pk == partnerships.with_listed("themes")[0].pk


def two_suzhous(model):
    """Two records named Suzhou, the first with two other names, the second with one."""
    if model is Place:
        first, second = PlaceFactory(name="Suzhou"), PlaceFactory(name="Suzhou")
        names = [(first, "苏州"), (first, "Soochow"), (second, "Su-chou")]
        for owner, name in names:
            PlaceNameFactory(place=owner, name=name)
    else:
        first = OrganisationFactory(name="Suzhou University")
        second = OrganisationFactory(name="Suzhou University")
        names = [(first, "苏州大学"), (first, "Soochow University"), (second, "Suzhou Uni")]
        for owner, name in names:
            OrganisationNameFactory(organisation=owner, name=name)
    return first, second


@pytest.mark.parametrize("model", [Place, Organisation])
def test_the_names_of_a_record_know_it_without_a_query(model):
    first, second = two_suzhous(model)
    records = model.objects.order_by("pk")
    expected = read(as_django_prefetches(records, "other_names"), "other_names")
    found = list(records.with_listed("other_names"))
    assert read(found, "other_names") == expected
    assert len(expected[first.pk]) == 2 and len(expected[second.pk]) == 1
    owner = "place" if model is Place else "organisation"
    with CaptureQueriesContext(connection) as context:
        owners = [getattr(name, owner) for name in found[0].listed_other_names]
    assert owners == [found[0], found[0]] and owners[0] is found[0]
    assert not context.captured_queries


def test_reading_a_page_of_records_reads_the_relation_for_those_alone(partnerships):
    page = list(partnerships.with_listed("themes", "sources")[1:2])
    assert [p.title for p in page] == ["Vejle–Hangzhou"]
    assert [t.slug for t in page[0].listed_themes] == ["trade"]
    assert [s.title for s in page[0].listed_sources] == ["Annual report"]


def test_no_records_read_nothing_more():
    with CaptureQueriesContext(connection) as context:
        assert list(Partnership.objects.with_listed("themes")) == []
    assert len(context.captured_queries) == 1


def test_only_a_to_many_relation_is_read_so():
    with pytest.raises(ValueError, match="not a to-many relation"):
        ListedById(Place, "parent")


def joined_participants():
    """What the API's participants were read with before their parties were kept: each
    one's place and organisation joined, with what the API shows of them."""
    own = [field.name for field in Participant._meta.concrete_fields]
    parties = [f"{party}__{field}" for party in ("place", "organisation") for field in PARTY_FIELDS]
    return Participant.objects.select_related("place", "organisation").only(*own, *parties)


@pytest.mark.parametrize("kept", [False, True], ids=["read", "kept"])
def test_a_relation_read_through_a_queryset_of_its_own(partnerships, settings, kept):
    """The API's participants (their parties kept, few of their columns) and events (their
    place and source joined): the same records, with what is joined read already."""
    settings.ATLAS_CACHE_PAGES = kept
    aarhus = PlaceFactory(name="Aarhus", country="DK")
    university = OrganisationFactory(name="Aarhus University")
    tie = PartnershipFactory(title="Aarhus–Harbin 2", parties=[aarhus, university])
    EventFactory(partnership=tie, date="2012", place=aarhus, source=SourceFactory(title="Minutes"))
    EventFactory(partnership=tie, date="2009", text_en="Signed")
    records = Partnership.objects.order_by("pk")

    def shown(found):
        return {
            record.pk: (
                [
                    (p.pk, p.place_id, p.organisation_id, str(p.place or p.organisation))
                    for p in record.listed_participants
                ],
                [
                    (
                        e.pk,
                        e.date_on,
                        e.text_en,
                        e.place and e.place.slug,
                        e.source and e.source.title,
                    )
                    for e in record.listed_events
                ],
            )
            for record in found
        }

    expected_records = list(
        records.prefetch_related(
            Prefetch("participants", joined_participants(), to_attr=listed("participants")),
            Prefetch("events", EVENTS.queryset(), to_attr=listed("events")),
        )
    )
    expected = shown(expected_records)
    # The partnerships, their participants, their places, their organisations, their
    # events; read again with the page cache on, the parties come from what was kept.
    for queries in (5, 3) if kept else (5, 5):
        with CaptureQueriesContext(connection) as context:
            found = list(records.with_listed(PARTICIPANTS, EVENTS))
        assert len(read_records(context)) == queries
        with CaptureQueriesContext(connection) as context:
            assert shown(found) == expected
        assert not context.captured_queries
    assert expected[tie.pk][0][0][3] == "Aarhus" and expected[tie.pk][0][1][3] == (
        "Aarhus University"
    )
    assert [event[1].year for event in expected[tie.pk][1]] == [2009, 2012]
    # Only what the API shows of a party was read, as Django reads it.
    for party in ("place", "organisation"):
        ours = getattr(found[-1].listed_participants[0 if party == "place" else 1], party)
        theirs = getattr(
            expected_records[-1].listed_participants[0 if party == "place" else 1], party
        )
        assert ours.get_deferred_fields() == theirs.get_deferred_fields()
        assert "description" in ours.get_deferred_fields()
        assert ours.__dict__ == theirs.__dict__ | {"_state": ours._state}


def read_records(context):
    """The queries of ``context`` that read records, not the registry's version."""
    return [q for q in context.captured_queries if "core_registryversion" not in q["sql"]]


@pytest.mark.parametrize("relation", ["themes", "sources", "participants"])
def test_into_the_managers_as_prefetch_related_leaves_them(partnerships, relation):
    expected = {
        record.pk: [found.pk for found in getattr(record, relation).all()]
        for record in partnerships.prefetch_related(relation)
    }
    found = list(partnerships.with_listed(relation, into_managers=True))
    with CaptureQueriesContext(connection) as context:
        assert {
            record.pk: [found.pk for found in getattr(record, relation).all()] for record in found
        } == expected
    assert not context.captured_queries
    assert listed(relation) not in found[0].__dict__
    # Asked for more than the records read, the relation is read again, as Django does.
    with CaptureQueriesContext(connection) as context:
        getattr(found[0], relation).filter(pk__gt=0).count()
    assert len(context.captured_queries) == 1


def test_a_participant_whose_party_is_gone_is_left_out_as_a_join_would(monkeypatch):
    # Deleted between the two reads: the participants, then their parties (kept).
    gone = PlaceFactory(name="Gone")
    tie = PartnershipFactory(parties=[gone, PlaceFactory(name="Here")])
    real = cache.per_version

    def without_gone(name, parts, compute, of=()):
        found = real(name, parts, compute, of=of)
        found["place"].pop(gone.pk, None)
        return found

    monkeypatch.setattr(cache, "per_version", without_gone)
    (found,) = Partnership.objects.filter(pk=tie.pk).with_listed(PARTICIPANTS)
    assert [p.place.name_en for p in found.listed_participants] == ["Here"]
