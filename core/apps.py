from django.apps import AppConfig
from django.db.models import Field, ForeignObject
from django.db.models.signals import post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Sources and shared records")

    def ready(self):
        from . import planner, versioning
        from .history import record_raw_save
        from .search import InIdList, RelatedInIdList

        # Every field's ``__in=`` (a foreign key's its own), as Django's but for an id_list.
        Field.register_lookup(InIdList)
        ForeignObject.register_lookup(RelatedInIdList)

        post_save.connect(record_raw_save, dispatch_uid="core.history.record_raw_save")
        versioning.watch(self)
        post_migrate.connect(planner.migrated, sender=self, dispatch_uid="core.planner")
