# The search keys hold each two Chinese or Japanese characters of a name as a name of
# their own (core.text.search_key), so that a term of two is found on the index.

from django.db import migrations

from core.search import rekey


class Migration(migrations.Migration):
    dependencies = [
        ("places", "0007_facet_index"),
    ]

    operations = [
        migrations.RunPython(rekey("places", "place"), migrations.RunPython.noop, elidable=True),
    ]
