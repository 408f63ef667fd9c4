from django.core.management.base import BaseCommand

from importing.uploads import clean_uploads, max_age, upload_dir


class Command(BaseCommand):
    help = (
        "Delete admin import uploads that were previewed but never confirmed, once they are "
        "older than ATLAS_IMPORT_UPLOAD_MAX_AGE_HOURS. Each new upload does this too; run it "
        "from cron where uploads are rare."
    )

    def handle(self, *args, **options):
        deleted = clean_uploads()
        hours = max_age().total_seconds() / 3600
        self.stdout.write(
            f"Deleted {deleted} unconfirmed upload(s) older than {hours:g} hours "
            f"from {upload_dir()}."
        )
