from django.db import migrations, models

import partnerships.models


def revision_column(model_name):
    """The column added without its default in the database: with one, SQLite copies the
    table to add it, which drops the search index (``core.search.IndexSearchKey``). The
    rows written before have none."""
    return migrations.SeparateDatabaseAndState(
        database_operations=[
            migrations.AddField(
                model_name=model_name,
                name="revision",
                field=models.BigIntegerField(editable=False, null=True),
            ),
        ],
        state_operations=[
            migrations.AddField(
                model_name=model_name,
                name="revision",
                field=models.BigIntegerField(
                    default=partnerships.models.new_revision, editable=False, null=True
                ),
            ),
        ],
    )


class Migration(migrations.Migration):
    """Each partnership's revision (``Partnership.revision``), and in its history."""

    dependencies = [
        ("partnerships", "0028_theme_updated"),
    ]

    operations = [revision_column("partnership"), revision_column("historicalpartnership")]
