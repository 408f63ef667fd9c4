import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def stamp_from_history(apps, schema_editor):
    """Each theme's version and author, and each of its history rows', from its history:
    a theme changed before the fields existed is dated by its last change, not by this
    migration."""
    using = schema_editor.connection.alias
    themes = apps.get_model("partnerships", "Theme")
    versions = apps.get_model("partnerships", "HistoricalTheme")
    versions.objects.using(using).update(
        updated_at=F("history_date"), updated_by_id=F("history_user_id")
    )
    for pk in themes.objects.using(using).values_list("pk", flat=True):
        latest = versions.objects.using(using).filter(id=pk).order_by("-history_date").first()
        if latest is not None:
            themes.objects.using(using).filter(pk=pk).update(
                updated_at=latest.history_date, updated_by_id=latest.history_user_id
            )


class Migration(migrations.Migration):
    """Themes carry a version and its author, as records do, so that the admin stops a
    save over a colleague's made since the page was opened."""

    dependencies = [
        ("partnerships", "0027_counts_as_of_years"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="historicaltheme",
            name="updated_at",
            field=models.DateTimeField(
                blank=True,
                default=django.utils.timezone.now,
                editable=False,
                verbose_name="updated",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="historicaltheme",
            name="updated_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="last changed by",
            ),
        ),
        migrations.AddField(
            model_name="theme",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, verbose_name="updated"),
        ),
        migrations.AddField(
            model_name="theme",
            name="updated_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="last changed by",
            ),
        ),
        migrations.RunPython(stamp_from_history, migrations.RunPython.noop),
    ]
