from csp.decorators import csp_replace
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView

from atlas.api import DocsView
from atlas.health import health
from atlas.views import HomeView
from core.middleware import not_cached
from core.sitemaps import PageSitemap
from core.views import AboutView, SearchSection, SearchView, favicon, robots_txt
from organisations.cards import organisation_card
from organisations.sitemaps import OrganisationSitemap
from organisations.views import OrganisationListView
from partnerships.cards import kept_cards, partnership_card
from partnerships.sitemaps import PartnershipSitemap
from partnerships.views import PartnershipListView
from places.cards import place_card
from places.sitemaps import PlaceSitemap
from places.views import PlaceListView

# The search page finds what each list finds; config is where the apps meet.
search_sections = [
    SearchSection(
        _("Places"),
        PlaceListView,
        lambda place, as_of: place_card(place),
        "places:place-list",
        "places",
    ),
    SearchSection(
        _("Organisations"),
        OrganisationListView,
        lambda organisation, as_of: organisation_card(organisation),
        "organisations:organisation-list",
        "organisations",
    ),
    SearchSection(
        _("Partnerships"),
        PartnershipListView,
        partnership_card,
        "partnerships:partnership-list",
        "partnerships",
        faceted=True,
        cards=kept_cards,
    ),
]

sitemaps = {
    "pages": PageSitemap(
        [
            "home",
            "about",
            "places:place-list",
            "organisations:organisation-list",
            "partnerships:partnership-list",
            "atlas:map",
            "atlas:network",
            "atlas:changes",
        ]
    ),
    "places": PlaceSitemap,
    "organisations": OrganisationSitemap,
    "partnerships": PartnershipSitemap,
}

urlpatterns = [
    path("admin/", admin.site.urls),
    # An index of the sections' pages: one file of the whole registry outgrows what a
    # crawler reads (50,000 addresses) and takes seconds to write (core.sitemaps).
    path(
        "sitemap.xml",
        sitemap_views.index,
        {"sitemaps": sitemaps, "sitemap_url_name": "sitemap-section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        sitemap_views.sitemap,
        {"sitemaps": sitemaps},
        name="sitemap-section",
    ),
    path("robots.txt", not_cached(robots_txt), name="robots"),
    path("favicon.ico", not_cached(favicon), name="favicon"),
    path("health/", not_cached(health), name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view loads its start-up script from a URL, so scripts stay 'self' only.
    path(
        "api/docs/",
        csp_replace(settings.ATLAS_API_DOCS_CSP)(DocsView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("api/", include(("config.api", "api"))),
]

# Every public page lives under its language, /da/... and /en/..., so that each
# language version has its own address for readers, search engines and caches; a bare
# /places/ redirects to the reader's language.
urlpatterns += i18n_patterns(
    path("", HomeView.as_view(), name="home"),
    # Reads nothing from the registry: the no-query page benchmarks compare with.
    path("about/", not_cached(AboutView.as_view()), name="about"),
    path("search/", SearchView.as_view(sections=search_sections), name="search"),
    path("places/", include("places.urls")),
    path("organisations/", include("organisations.urls")),
    path("partnerships/", include("partnerships.urls")),
    path("", include("atlas.urls")),
)

handler500 = "core.views.server_error"
