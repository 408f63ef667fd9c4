from django.db import migrations

from core.permissions import sync_staff_groups


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
        ("places", "0001_initial"),
        ("organisations", "0001_initial"),
        ("partnerships", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_staff_groups, migrations.RunPython.noop)]
