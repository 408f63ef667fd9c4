from django.db import migrations, models


def recount(apps, schema_editor):
    # The keeper's own code, as in 0012 and 0013: the participants' facets are kept per
    # kind and status too, counted for every partnership already there.
    from partnerships import facets

    facets.recount(schema_editor.connection.alias, lines=False)  # 0020 writes the lines


class Migration(migrations.Migration):
    dependencies = [
        ("partnerships", "0013_map_facets"),
    ]

    operations = [
        migrations.AlterField(
            model_name="facetcount",
            name="scope",
            field=models.CharField(max_length=60),
        ),
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
