from django.core.management import call_command
from django.core.management.base import BaseCommand

from core.history import LOADED_FROM_SEED, loading_reason
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place


class Command(BaseCommand):
    help = (
        "Load the seed (fixtures/seed.json) into an empty registry. A registry that already "
        "holds records is left alone, so staff edits survive `make run`; "
        "`manage.py loaddata seed` loads it regardless."
    )

    def handle(self, *args, **options):
        if any(model.objects.exists() for model in (Place, Organisation, Partnership)):
            self.stdout.write("The registry already holds records; the seed was not loaded.")
            return
        # loaddata saves raw rows; core.history gives each its first history row.
        token = loading_reason.set(LOADED_FROM_SEED)
        try:
            call_command("loaddata", "seed", verbosity=0)
        finally:
            loading_reason.reset(token)
        self.stdout.write(
            f"Loaded the seed: {Place.objects.count()} places, "
            f"{Organisation.objects.count()} organisations, "
            f"{Partnership.objects.count()} partnerships."
        )
