# The search keys hold each two Chinese or Japanese characters of a name as a name of
# their own (core.text.search_key), so that a term of two is found on the index.

from django.db import migrations

from core.search import rekey


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0011_registry_events_version"),
    ]

    operations = [
        migrations.RunPython(rekey("core", "source"), migrations.RunPython.noop, elidable=True),
    ]
