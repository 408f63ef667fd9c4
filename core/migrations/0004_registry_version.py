import django.utils.timezone
from django.db import migrations, models


def create_row(apps, schema_editor):
    # Cached pages are kept per version: the row exists from the first migrate on.
    RegistryVersion = apps.get_model("core", "RegistryVersion")
    RegistryVersion.objects.using(schema_editor.connection.alias).get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_source_short_title"),
    ]

    operations = [
        migrations.CreateModel(
            name="RegistryVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.BigIntegerField(default=1, verbose_name="version")),
                (
                    "changed_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="changed"),
                ),
            ],
            options={
                "verbose_name": "registry version",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="registry_version_one_row"
                    )
                ],
            },
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
    ]
