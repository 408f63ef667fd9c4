"""Users and groups with their permissions named in the reader's language, a save over
another's stopped, and django-axes' failed logins.

Django stores a permission's name in English ("Can add place") when it migrates; the
permission lists show it as stored. The four default permissions are named again from
the model's translated name, the registry's own (``Meta.permissions``) through gettext.
"""

import datetime
import hashlib
import json

from axes.admin import AccessAttemptAdmin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.forms.models import model_to_dict
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.admin import (
    OpenedVersionAdminMixin,
    UnchangedSinceOpenedMixin,
    stopped_save_message,
)
from core.forms import KeysCheckedMixin

DEFAULT_PERMISSIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission):
    model = permission.content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    if model is not None and action in DEFAULT_PERMISSIONS and model_name == model._meta.model_name:
        name = DEFAULT_PERMISSIONS[action] % {"model": model._meta.verbose_name}
    else:
        name = gettext(permission.name)
    return f"{permission.content_type} | {name}"


class TranslatedPermissionsMixin:
    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.name in {"permissions", "user_permissions"}:
            field.label_from_instance = permission_label
        return field


def content_version(record, names):
    """The version of a user or a group, which have no ``updated_at``: a digest of the
    values of ``names`` (a change page's fields, their groups and permissions as keys),
    then the id of the admin's last log entry of it, which names who saved it."""
    values = {}
    for name, value in model_to_dict(record, fields=names).items():
        if isinstance(value, list):  # groups, permissions
            value = sorted(related.pk for related in value)
        elif isinstance(value, datetime.datetime):
            # The admin's boxes show and send whole seconds: a first save drops the
            # microseconds of the date joined, which is no one's change.
            value = value.replace(microsecond=0)
        values[name] = value
    digest = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:32]
    return f"{digest}.{_last_entry_id(record)}"


def _log_entries(record):
    """The admin's log entries of ``record``."""
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=str(record.pk)
    )


def _last_entry_id(record):
    return _log_entries(record).order_by("-pk").values_list("pk", flat=True).first() or 0


class UnchangedContentMixin(UnchangedSinceOpenedMixin):
    """``UnchangedSinceOpenedMixin`` for a user or a group, whose version is
    ``content_version``: a save over values someone saved after this form was opened is
    stopped, with who, when and what from the admin's log.

    Two superusers on one account each saved their page, and the second's silently put
    back what the first had changed: a group taken away, a permission withdrawn."""

    def version_fields(self):
        # The password is not the form's to write (it has its own page), and the last
        # login moves at every login, which is no one's edit; the rest is compared.
        return [name for name in self.fields if name not in {"password", "last_login"}]

    def locked_version(self):
        record = self.instance
        current = type(record)._base_manager.select_for_update().filter(pk=record.pk).first()
        return current, self.version_of(current) if current is not None else None

    def version_of(self, record):
        return content_version(record, self.version_fields())

    def same_version(self, now, opened):
        # The values alone: a newer log entry with them (a save that changed nothing)
        # is no one's change.
        return now.partition(".")[0] == opened.partition(".")[0]

    def changed_since_opened(self, record, opened):
        _digest, _dot, entry_id = opened.partition(".")
        entry = (
            _log_entries(record)
            .filter(pk__gt=int(entry_id) if entry_id.isdigit() else 0)
            .select_related("user")
            .order_by("-pk")
            .first()
        )
        if entry is None:
            # Saved elsewhere than in the admin (the shell, a command): no one to name.
            return stopped_save_message(record, self.request, None, None, [])
        return stopped_save_message(
            record,
            self.request,
            entry.user,
            entry.action_time,
            _changed_fields(entry, type(record)),
        )


def _changed_fields(entry, model):
    """The fields the admin's log entry says were changed, named as a record's stopped
    save names them: by their verbose names in the reader's language. The log holds the
    form's English labels ("Groups"), which Django's catalogue does not translate."""
    try:
        messages = json.loads(entry.change_message)
    except ValueError:
        return []
    if not isinstance(messages, list):
        return []
    with translation.override(None):
        by_label = {
            capfirst(str(field.verbose_name)): field
            for field in model._meta.get_fields()
            if hasattr(field, "verbose_name")
        }
    return [
        str(by_label[label].verbose_name) if label in by_label else gettext(label)
        for message in messages
        if isinstance(message, dict)
        for label in message.get("changed", {}).get("fields", [])
    ]


class UnchangedContentAdmin(OpenedVersionAdminMixin):
    """A ModelAdmin whose change page carries ``content_version`` as it was opened, for
    ``UnchangedContentMixin`` to check."""

    version_form = UnchangedContentMixin


class AtlasGroupAdmin(
    UnchangedContentAdmin, KeysCheckedMixin, TranslatedPermissionsMixin, GroupAdmin
):
    pass


class AtlasUserAdmin(
    UnchangedContentAdmin, KeysCheckedMixin, TranslatedPermissionsMixin, UserAdmin
):
    pass


admin.site.unregister(Group)
admin.site.register(Group, AtlasGroupAdmin)
admin.site.unregister(User)
admin.site.register(User, AtlasUserAdmin)


class AtlasAccessAttemptAdmin(AccessAttemptAdmin):
    @admin.action(description=AccessAttemptAdmin.cleanup_expired_attempts.short_description)
    def cleanup_expired_attempts(self, request, queryset):
        # django-axes 8.3 reads the time of the request from an attribute it sets only on
        # a login: its own action was a server error on every use.
        # Its message is an f-string inside gettext, so it could never be translated.
        AxesProxyHandler.update_request(request)
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(
            request,
            ngettext(
                "Deleted %(count)d expired failed login.",
                "Deleted %(count)d expired failed logins.",
                count,
            )
            % {"count": count},
        )


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, AtlasAccessAttemptAdmin)
