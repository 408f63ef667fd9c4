"""Users and groups with their permissions named in the reader's language, and django-axes'
failed logins.

Django stores a permission's name in English ("Can add place") when it migrates; the
permission lists show it as stored. The four default permissions are named again from
the model's translated name, the registry's own (``Meta.permissions``) through gettext.
"""

from axes.admin import AccessAttemptAdmin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

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


class AtlasGroupAdmin(KeysCheckedMixin, TranslatedPermissionsMixin, GroupAdmin):
    pass


class AtlasUserAdmin(KeysCheckedMixin, TranslatedPermissionsMixin, UserAdmin):
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
