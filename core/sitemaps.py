from django.contrib.sitemaps import Sitemap
from django.urls import reverse


class LocalisedSitemap(Sitemap):
    """Every page once per interface language, each pointing at its translations."""

    i18n = True
    alternates = True


class PageSitemap(LocalisedSitemap):
    """Pages that are not records: the home page, the lists, about."""

    changefreq = "weekly"

    def __init__(self, url_names):
        self.url_names = url_names

    def items(self):
        return self.url_names

    def location(self, item):
        return reverse(item)


class RecordSitemap(LocalisedSitemap):
    """The detail pages of one kind of record, dated by their last change."""

    changefreq = "monthly"
    model = None

    def items(self):
        return self.model.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, item):
        return item.updated_at
