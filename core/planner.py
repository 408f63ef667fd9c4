"""The query planner's statistics, refreshed where the registry's size jumps.

SQLite plans from statistics that only ``ANALYZE`` gathers. Without them it takes any
indexed equality for a selective one, so ``publication = 'published'``, true of nearly
every row, wins over the index a list is sorted by: a page of six recent partnerships
read and sorted all 100,000. PostgreSQL's autovacuum gathers them by itself, but only a
while after a large import or a restore. Hence ``ANALYZE`` after ``migrate`` (every
deploy), after an import of many rows and after a restore; it reads a sample of each
table and takes well under a second at 100,000 partnerships.
"""

from django.db import DEFAULT_DB_ALIAS, connections

# An import of at least this many rows refreshes the statistics when it commits.
LARGE_IMPORT = 1000


def refresh(using=DEFAULT_DB_ALIAS):
    with connections[using].cursor() as cursor:
        cursor.execute("ANALYZE")


def migrated(sender, using=DEFAULT_DB_ALIAS, apps=None, **kwargs):
    """After ``migrate``, not after ``flush`` (which passes no ``apps``)."""
    if apps is not None:
        refresh(using)
