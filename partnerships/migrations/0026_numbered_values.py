from django.db import migrations

from partnerships.facets import number_values


class Migration(migrations.Migration):
    """The number of values of the map's places and ties between regions, kept for the
    public (``facets.NUMBERED``), so that the map need not count them."""

    dependencies = [
        ("partnerships", "0025_lines_hold_starts"),
    ]

    operations = [
        migrations.RunPython(number_values, migrations.RunPython.noop),
    ]
