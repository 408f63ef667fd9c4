# The search keys hold each two Chinese or Japanese characters of a name as a name of
# their own (core.text.search_key), so that a term of two is found on the index.

from django.db import migrations

from core.search import rekey


class Migration(migrations.Migration):
    dependencies = [
        ("partnerships", "0029_partnership_revision"),
    ]

    operations = [
        migrations.RunPython(rekey("partnerships", "partnership"), migrations.RunPython.noop, elidable=True),
    ]
