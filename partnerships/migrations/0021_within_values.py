from django.db import migrations


def refresh(apps, schema_editor):
    # The keeper's own code, as in 0012: each partnership's values gain the places it lies
    # in (``WITHIN``), and the counts with them; what is kept already stays.
    from partnerships import facets
    from partnerships.models import Partnership

    using = schema_editor.connection.alias
    facets.refresh(Partnership.objects.using(using).values_list("pk", flat=True), using)


class Migration(migrations.Migration):
    """A partnership keeps every place its parties lie in, at any depth, as facet values."""

    dependencies = [
        ("partnerships", "0020_facet_lines"),
    ]

    operations = [
        migrations.RunPython(refresh, migrations.RunPython.noop),
    ]
