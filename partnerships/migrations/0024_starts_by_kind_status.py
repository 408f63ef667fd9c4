from django.db import migrations


def recount(apps, schema_editor):
    # The keeper's own code, as in 0014 and 0016, for every partnership already there.
    from partnerships import facets

    facets.recount(schema_editor.connection.alias)


class Migration(migrations.Migration):
    """The chart of starts is kept per kind and status too (``facets.BY_KIND_STATUS``)."""

    dependencies = [
        ("partnerships", "0023_counts_cover_as_of"),
    ]

    operations = [
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
