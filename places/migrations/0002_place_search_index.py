from django.db import migrations

from core.search import IndexSearchKey


class Migration(migrations.Migration):
    dependencies = [("places", "0001_initial")]

    operations = [IndexSearchKey("place")]
