from django.db import migrations

from partnerships.facets import recount_kept


class Migration(migrations.Migration):
    """The facets and the chart of starts are kept per theme too (``facets.BY_THEME``)."""

    dependencies = [
        ("partnerships", "0015_status_and_theme_indexes"),
    ]

    operations = [
        migrations.RunPython(recount_kept, migrations.RunPython.noop),
    ]
