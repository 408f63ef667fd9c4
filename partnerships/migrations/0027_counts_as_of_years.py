from django.db import migrations


def recount(apps, schema_editor):
    # The keeper's own code, as in 0014, 0016 and 0024, for every partnership already there.
    from partnerships import facets

    facets.recount(schema_editor.connection.alias)


class Migration(migrations.Migration):
    """Each partnership keeps the first year as of which it is listed, and the list's
    facets are kept per such year too (``facets.AS_OF_FROM``, ``facets.dated``)."""

    dependencies = [
        ("partnerships", "0026_numbered_values"),
    ]

    operations = [
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
