"""The admin site: registry apps first, and an index that is a dashboard.

Installed in place of ``django.contrib.admin`` (settings.INSTALLED_APPS), so ``admin.site``
everywhere is this site. Record apps never import atlas; they reach the site through
``django.contrib.admin.site``, the way they register their admins.
"""

from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import IncorrectLookupParameters
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.forms import could_be_key

# Staff keep these every day, in this order; the rest (tokens, users, groups, lockouts)
# is looked after now and then and comes below them.
REGISTRY_APPS = ["places", "organisations", "partnerships", "core"]


@dataclass(frozen=True)
class QualityView:
    title: str
    url_name: str
    permission: str = ""


class CheckedInputMixin:
    """For every ModelAdmin on the site: forged keys in a changelist get the answer Django
    gives its own unreadable input, never a server error.

    - An action on a selection that names no record ("abc", or a number the database
      cannot hold) changes nothing and says so, as an empty selection does. Django filters
      the list by the keys posted, unchecked: ValueError, or OverflowError on SQLite.
    - A number too large for the database in one of the list's lookups
      (``?parent=99999999999999999999``) is a lookup the list cannot read, as
      ``?parent=abc`` is: Django sends staff back to the whole list. Django 5.2 finds
      nothing for such a number on a field of the record's own (``?id=…``) but passes it
      on through a relation, and SQLite cannot take it.
    """

    def response_action(self, request, queryset):
        key = self.model._meta.pk
        if not all(
            could_be_key(key, value) for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        ):
            self.message_user(
                request,
                _("The selection names no record. Select the items again."),
                messages.WARNING,
            )
            return None  # Django sends staff back to the list
        return super().response_action(request, queryset)

    def get_changelist_instance(self, request):
        try:
            return super().get_changelist_instance(request)
        except OverflowError as error:
            raise IncorrectLookupParameters(error) from error


class AtlasAdminSite(admin.AdminSite):
    index_template = "admin/index.html"

    def __init__(self, name="admin"):
        super().__init__(name)
        self.quality_views = []
        # Imported here: this module is read while the apps load, before any model.
        from .login import LoginForm

        self.login_form = LoginForm

    def register(self, model_or_iterable, admin_class=None, **options):
        # Every admin on the site, the libraries' (axes, tokens, users) as well as ours,
        # checks its changelist's input: Django offers no site-wide hook for it.
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, CheckedInputMixin):
            admin_class = type(
                admin_class.__name__,
                (CheckedInputMixin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)

    def add_quality_view(self, title, url_name, permission=""):
        """List a data-quality view on the dashboard, for users holding ``permission``.

        An app calls it from its admin module: ``admin.site.add_quality_view(...)``.
        """
        self.quality_views.append(QualityView(title, url_name, permission))

    def get_urls(self):
        # The atlas's own staff pages (merge, data quality) live in the admin's namespace
        # ("admin:atlas-merge") and in front of its catch-all, so every check that walks
        # the admin's URLs walks them too.
        from . import merge_views, quality_views

        return [*merge_views.urlpatterns, *quality_views.urlpatterns, *super().get_urls()]

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)

        def position(app):
            label = app["app_label"]
            if label in REGISTRY_APPS:
                return (0, REGISTRY_APPS.index(label), "")
            return (1, 0, str(app["name"]).lower())

        return sorted(apps, key=position)

    def index(self, request, extra_context=None):
        from .dashboard import dashboard

        return super().index(request, {**dashboard(self, request), **(extra_context or {})})


class AtlasAdminConfig(AdminConfig):
    default_site = "atlas.admin_site.AtlasAdminSite"

    def ready(self):
        super().ready()  # registers every app's admin
        from . import auth_admin  # noqa: F401 (re-registers users and groups)

        # django-axes names its app after its label, "Axes", which no catalogue can
        # translate: the admin's index, sidebar and breadcrumbs show this name instead.
        self.apps.get_app_config("axes").verbose_name = gettext_lazy("Logins and lockouts")
