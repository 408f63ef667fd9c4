from django.db import migrations

from partnerships.facets import write_lines


class Migration(migrations.Migration):
    """Each partnership's line holds its start as the chart counts it (``facets.LINED``),
    so that a filtered list draws its chart from the lines its facets read."""

    dependencies = [
        ("partnerships", "0024_starts_by_kind_status"),
    ]

    operations = [
        migrations.RunPython(write_lines, migrations.RunPython.noop),
    ]
