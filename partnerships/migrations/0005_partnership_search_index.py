from django.db import migrations

from core.search import IndexSearchKey


class Migration(migrations.Migration):
    dependencies = [("partnerships", "0004_partnership_status_as_of")]

    operations = [IndexSearchKey("partnership")]
