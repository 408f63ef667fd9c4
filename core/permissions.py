"""The staff groups every installation starts with, kept in step by data migrations."""

from django.contrib.auth.management import create_permissions

EDITORS = "Editors"
VIEWERS = "Viewers"

# The apps whose records staff keep; users and groups stay with superusers.
RECORD_APPS = ["core", "places", "organisations", "partnerships"]

GROUP_ACTIONS = {
    EDITORS: ("view", "add", "change"),
    VIEWERS: ("view",),
}
# Permissions beyond view/add/change, as (app label, codename); see core.models.ImportBatch.
GROUP_EXTRA_PERMISSIONS = {
    EDITORS: [("core", "import_records"), ("core", "export_records")],
    VIEWERS: [],
}


def sync_staff_groups(apps, schema_editor=None):
    """Give Editors and Viewers their permissions on every model of the record apps.

    Meant to be called from a data migration (hence ``apps``), again whenever a later
    migration adds a model, so that new models are never left out of the groups.
    """
    for app_config in apps.get_app_configs():
        # Permissions are normally created after migrate; a migration must make them.
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, actions in GROUP_ACTIONS.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        codenames = [
            f"{action}_{model._meta.model_name}"
            for label in RECORD_APPS
            for model in apps.get_app_config(label).get_models()
            for action in actions
            # History rows are written by the records' own saves, never by hand.
            if action == "view" or not model.__name__.startswith("Historical")
        ]
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label__in=RECORD_APPS, codename__in=codenames
            )
        )
        for app_label, codename in GROUP_EXTRA_PERMISSIONS.get(group_name, []):
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
