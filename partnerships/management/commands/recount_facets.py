"""Rebuild the partnership counts kept by the writes (``partnerships.facets``) from the
records: after raw SQL that bypassed the model layer, or to check them."""

from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS

from partnerships import facets
from partnerships.models import FacetCount


class Command(BaseCommand):
    help = "Count every partnership facet afresh from the records."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, database, verbosity, **options):
        before = self.counts(database)
        facets.recount(database)
        after = self.counts(database)
        if verbosity:
            changed = sum(before.get(key) != count for key, count in after.items())
            changed += sum(key not in after for key in before)
            self.stdout.write(
                f"Counted {len(after)} facet values afresh; "
                f"{changed} differed from the kept counts."
            )

    @staticmethod
    def counts(database):
        return {
            (scope, facet, value): count
            for scope, facet, value, count in FacetCount.objects.using(database)
            .filter(count__gt=0)
            .values_list("scope", "facet", "value", "count")
        }
