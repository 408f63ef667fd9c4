"""Any registry, however its names repeat, exports and imports back as it was."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas.registry import IMPORT_SPECS
from core.models import Source
from importing.engine import Importer, export_table
from organisations.models import Organisation
from partnerships.models import Event, Participant, Partnership, Theme
from places.models import Place, PlaceFigure

NAMES = ["Suzhou", "Jilin", "Ringsted", "Odense", "Beijing", "Århus", "Aarhus", "Shanxi"]
COUNTRIES = ["CN", "DK", "US"]
KINDS = ["city", "municipality", "province"]

places = st.lists(
    st.tuples(
        st.sampled_from(NAMES),
        st.sampled_from(KINDS),
        st.sampled_from(COUNTRIES),
        st.integers(min_value=-1, max_value=8),  # parent: an earlier place, or none
        st.one_of(st.none(), st.integers(min_value=1000, max_value=9_000_000)),
    ),
    min_size=2,
    max_size=9,
)
organisations = st.lists(
    st.tuples(st.sampled_from(NAMES), st.integers(min_value=0, max_value=8)),
    max_size=3,
)
partnerships = st.lists(
    st.tuples(
        st.sampled_from(["sister_city", "cooperation"]),
        st.integers(min_value=0, max_value=20),
        st.integers(min_value=0, max_value=20),
    ),
    max_size=4,
)


def build(place_rows, organisation_rows, partnership_rows):
    source = Source.objects.create(title="Statistics", author="DST", url="https://dst.dk")
    Source.objects.create(title="Statistics", author="SCB")
    Theme.objects.create(name="Trade", name_da="Handel", slug="trade")
    made = []
    for number, (name, kind, country, parent, population) in enumerate(place_rows):
        place = Place.objects.create(
            name=name,
            kind=kind,
            country=country,
            parent=made[parent] if 0 <= parent < len(made) else None,
        )
        place.sources.add(source)
        if population:
            PlaceFigure.objects.create(
                place=place, kind="population", value=population, year=2000 + number, source=source
            )
        made.append(place)
    parties = [("place", place) for place in made]
    for name, place in organisation_rows:
        organisation = Organisation.objects.create(
            name=name, kind="university", country="DK", place=made[place % len(made)]
        )
        parties.append(("organisation", organisation))
    seen = set()
    for kind, first, second in partnership_rows:
        pair = (parties[first % len(parties)], parties[second % len(parties)])
        key = (kind, frozenset((k, p.pk) for k, p in pair))
        if pair[0] == pair[1] or key in seen:
            continue
        seen.add(key)
        partnership = Partnership.objects.create(title=f"Tie {len(seen)}", kind=kind)
        for party_kind, party in pair:
            Participant.objects.create(partnership=partnership, **{party_kind: party})
        Event.objects.create(
            partnership=partnership, kind="signing", date="2011-05", text="Signed", source=source
        )
        Event.objects.create(partnership=partnership, kind="meeting", text="Met", place=made[0])


def export_all():
    return {
        name: export_table(record_type, record_type.model._default_manager.all(), "csv")
        for name, record_type in IMPORT_SPECS.items()
    }


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(place_rows=places, organisation_rows=organisations, partnership_rows=partnerships)
def test_every_export_imports_into_an_empty_registry_and_back_unchanged(
    place_rows, organisation_rows, partnership_rows
):
    with transaction.atomic():
        build(place_rows, organisation_rows, partnership_rows)
        before = export_all()
        transaction.set_rollback(True)
    assert not Place.objects.exists()
    with transaction.atomic():
        for name, record_type in IMPORT_SPECS.items():
            report = Importer(record_type).run(before[name], f"{name}.csv")
            assert [str(problem) for problem in report.problems] == [], name
        assert export_all() == before
        for name, record_type in IMPORT_SPECS.items():
            report = Importer(record_type).run(before[name], f"{name}.csv", dry_run=True)
            assert report.problems == [], name
            assert report.counts["new"] == report.counts["updated"] == 0, name
        transaction.set_rollback(True)
