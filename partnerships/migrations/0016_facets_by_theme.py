from django.db import migrations


def recount(apps, schema_editor):
    # The keeper's own code, as in 0012, for every partnership already there.
    from partnerships import facets

    facets.recount(schema_editor.connection.alias, lines=False)  # 0020 writes the lines


class Migration(migrations.Migration):
    """The facets and the chart of starts are kept per theme too (``facets.BY_THEME``)."""

    dependencies = [
        ("partnerships", "0015_status_and_theme_indexes"),
    ]

    operations = [
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
