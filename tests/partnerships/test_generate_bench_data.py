import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from core.text import search_key
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place
from tests.partnerships.test_facet_counts import assert_kept

pytestmark = pytest.mark.django_db


def generate(count):
    output = io.StringIO()
    call_command("generate_bench_data", partnerships=count, stdout=output)
    return output.getvalue()


def test_generates_a_registry_that_obeys_the_rules():
    assert "50 partnerships" in generate(50)
    assert Partnership.objects.count() == 50
    assert Place.objects.filter(parent__isnull=False).exists()
    assert Place.objects.filter(parent__parent__isnull=False).exists()
    counts = Partnership.objects.annotate(n=Count("participants")).values_list("n", flat=True)
    assert min(counts) >= 2
    for record in [*Place.objects.all()[:20], *Organisation.objects.all()[:20]]:
        assert record.search_key == search_key(record.all_names())
    for partnership in Partnership.objects.all()[:20]:
        partnership.full_clean()
        assert partnership.start_on == partnership.start.earliest
        assert partnership.events.exists() and partnership.themes.exists()
    # Its partnership counts are kept, as every write path keeps them.
    assert_kept()


def test_refuses_to_run_twice_or_with_a_silly_size():
    generate(5)
    with pytest.raises(CommandError, match="already holds benchmark data"):
        generate(5)
    with pytest.raises(CommandError, match="from 1 to"):
        generate(0)
    assert Partnership.objects.count() == 5
