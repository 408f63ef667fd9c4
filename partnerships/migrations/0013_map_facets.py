from django.db import migrations, models


def recount(apps, schema_editor):
    # The keeper's own code, as in 0012: the map's facets (places, ties, regions) join the
    # kept values, counted for every partnership already there.
    from partnerships import facets

    facets.recount(schema_editor.connection.alias, lines=False)  # 0020 writes the lines


class Migration(migrations.Migration):
    dependencies = [
        ("partnerships", "0012_facet_counts"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="facetcount",
            index=models.Index(
                fields=["scope", "facet", "-count", "value"], name="facet_count_rank_idx"
            ),
        ),
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
