import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.dates import DECADE
from partnerships.models import Participant, Partnership
from partnerships.services import partnership_create
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db


def test_vague_dates_are_kept_as_vague_as_the_source():
    partnership = PartnershipFactory(start="1980s", end=None)
    partnership.refresh_from_db()
    assert str(partnership.start) == "1980s"
    assert partnership.start.precision == DECADE
    assert partnership.start_on == datetime.date(1980, 1, 1)
    assert partnership.end_on is None


def test_end_before_start_is_refused_by_validation_and_database():
    partnership = PartnershipFactory.build(start="2011", end="2009")
    with pytest.raises(ValidationError) as error:
        partnership.full_clean()
    assert "end" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        partnership.save()


def test_an_end_within_a_vague_start_is_allowed():
    # Started in the 1980s and ended in 1985: consistent, though vague.
    partnership = PartnershipFactory.build(start="1980s", end="1985")
    partnership.full_clean()
    partnership.save()
    assert partnership.end_on == datetime.date(1985, 12, 31)


def test_a_planned_partnership_has_no_end():
    partnership = PartnershipFactory.build(status=Partnership.Status.PLANNED, end="2013")
    with pytest.raises(ValidationError):
        partnership.full_clean()


def test_a_participant_is_exactly_one_place_or_one_organisation():
    partnership = PartnershipFactory()
    both = Participant(
        partnership=partnership, place=PlaceFactory(), organisation=OrganisationFactory()
    )
    neither = Participant(partnership=partnership)
    for participant in (both, neither):
        with pytest.raises(ValidationError):
            participant.full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            participant.save()


def test_the_same_party_cannot_join_twice():
    wuxi = PlaceFactory(name="Wuxi")
    partnership = PartnershipFactory(parties=[wuxi, PlaceFactory()])
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(partnership=partnership, place=wuxi)


def test_partnership_create_needs_two_participants():
    with pytest.raises(ValidationError):
        partnership_create(
            title="Alone", kind=Partnership.Kind.OTHER, participants=[{"place": PlaceFactory()}]
        )
    assert not Partnership.objects.exists()


def test_partnership_create_writes_everything_or_nothing():
    wuxi = PlaceFactory(name="Wuxi")
    with pytest.raises(ValidationError):
        partnership_create(
            title="Broken",
            kind=Partnership.Kind.OTHER,
            participants=[{"place": wuxi}, {"place": wuxi}],
        )
    assert not Partnership.objects.exists()
    theme = ThemeFactory(name="Education", slug="education")
    source = SourceFactory()
    partnership = partnership_create(
        title="Bycirklen–Wuxi",
        kind=Partnership.Kind.COOPERATION_AGREEMENT,
        start="2007",
        participants=[
            {"place": wuxi},
            {"organisation": OrganisationFactory(name="Bycirklen"), "role": "coordinator"},
        ],
        themes=[theme],
        sources=[source],
    )
    assert partnership.participants.count() == 2
    assert list(partnership.themes.all()) == [theme]
    assert list(partnership.sources.all()) == [source]


def test_for_place_includes_sub_places_and_organisations_there():
    jiangsu = PlaceFactory(name="Jiangsu")
    wuxi = PlaceFactory(name="Wuxi", parent=jiangsu)
    suzhou = PlaceFactory(name="Suzhou", parent=jiangsu)
    nanjing_university = OrganisationFactory(place=PlaceFactory(name="Nanjing", parent=jiangsu))
    with_wuxi = PartnershipFactory(parties=[wuxi, PlaceFactory()])
    with_suzhou = PartnershipFactory(parties=[suzhou, PlaceFactory()])
    with_university = PartnershipFactory(parties=[nanjing_university, OrganisationFactory()])
    PartnershipFactory()
    assert set(Partnership.objects.for_place(jiangsu)) == {with_wuxi, with_suzhou, with_university}
    assert list(Partnership.objects.for_place(jiangsu, include_sub_places=False)) == []


def test_events_sort_by_their_earliest_day():
    partnership = PartnershipFactory()
    later = EventFactory(partnership=partnership, date="2010")
    earlier = EventFactory(partnership=partnership, date="2007-05")
    undated = EventFactory(partnership=partnership, date=None)
    assert list(partnership.events.exclude(pk=undated.pk)) == [earlier, later]


def test_stale_means_never_or_not_recently_reviewed():
    today = datetime.date(2026, 11, 28)
    never = PartnershipFactory()
    old = PartnershipFactory(last_reviewed_on=datetime.date(2025, 1, 1))
    fresh = PartnershipFactory(last_reviewed_on=datetime.date(2026, 6, 1))
    stale = set(Partnership.objects.stale(today=today))
    assert never in stale and old in stale and fresh not in stale


def test_with_card_parts_gives_each_partnership_its_parties_and_themes_in_order(
    django_assert_num_queries, settings
):
    aarhus = OrganisationFactory(name="Aarhus University", country="DK")
    harbin = PlaceFactory(name="Harbin", country="CN")
    first = PartnershipFactory(title="A tie", parties=[harbin, aarhus])
    first.themes.add(ThemeFactory(name="Health"), ThemeFactory(name="Education"))
    PartnershipFactory(title="B tie", parties=[aarhus, harbin])
    lonely = PartnershipFactory(title="C tie", parties=[])

    # Chained, sliced and read: the partnerships, their participants, their places and
    # organisations, their themes.
    with django_assert_num_queries(4):
        found = list(Partnership.objects.with_card_parts().filter(title__endswith="tie")[:3])
    # The places and organisations are kept until they change, with the page cache on:
    # read again, the cards ask for none of them.
    settings.ATLAS_CACHE_PAGES = True
    parties_read = []
    for _round in range(2):
        with CaptureQueriesContext(connection) as queries:
            kept = list(Partnership.objects.with_card_parts().filter(title__endswith="tie")[:3])
        parties_read.append(
            any('"places_place"' in query["sql"] for query in queries.captured_queries)
        )
        assert [[p.party.slug for p in tie.participants_shown] for tie in kept] == [
            [p.party.slug for p in tie.participants_shown] for tie in found
        ]
    assert parties_read == [True, False]
    assert [p.title for p in found] == ["A tie", "B tie", "C tie"]
    parties = [[p.party.name_en for p in tie.participants_shown] for tie in found]
    assert parties == [["Harbin", "Aarhus University"], ["Aarhus University", "Harbin"], []]
    assert [t.name_en for t in found[0].themes_shown] == ["Education", "Health"]
    assert found[1].themes_shown == [] and found[2].pk == lonely.pk
    shown = found[0].participants_shown[1]
    assert (shown.place_id, shown.organisation_id) == (None, aarhus.pk)
    assert shown.party.country == "DK" and shown.party.slug == aarhus.slug
    # Counting, or reading values, reads no parts.
    with django_assert_num_queries(1):
        assert Partnership.objects.with_card_parts().count() == 3
    with django_assert_num_queries(1):
        assert len(Partnership.objects.with_card_parts().values("pk")) == 3
