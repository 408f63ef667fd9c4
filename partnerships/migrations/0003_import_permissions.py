from django.db import migrations

from core.permissions import sync_staff_groups


class Migration(migrations.Migration):
    """Editors may import and export spreadsheets; everyone sees the import batches."""

    dependencies = [
        ("core", "0002_import_batches"),
        ("partnerships", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(sync_staff_groups, migrations.RunPython.noop)]
