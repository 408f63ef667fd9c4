"""The sitemap: an index (``/sitemap.xml``) of sections, each in pages of ``limit`` addresses.

Django's ``Sitemap`` lists every item in every language in Python before it takes one
page of them, and its index asks every item for its date: at 100,000 partnerships the
one sitemap of the whole registry took 12 s and 37 MB, past the protocol's 50,000
addresses a file. Here a page reads its own records only, by ``LIMIT``/``OFFSET`` on
the records' order, and a section's date is one query.
"""

from django.contrib.sitemaps import Sitemap
from django.core.paginator import Paginator
from django.db.models import Max, QuerySet
from django.urls import reverse

from .links import Addresses


class LocalisedItems:
    """The (item, language) pairs of ``items`` in every language, as Django's i18n
    sitemap pairs them, but sliced in the database: a page of pairs reads only the
    items it shows."""

    def __init__(self, items, languages):
        self.items = items
        self.languages = list(languages)

    def count(self):
        items = self.items.count() if isinstance(self.items, QuerySet) else len(self.items)
        return items * len(self.languages)

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        # The paginator only slices, from a page's first pair to past its last.
        step = len(self.languages)
        start, stop = index.start or 0, index.stop
        items = self.items[start // step : -(-stop // step)]
        skip = start % step
        pairs = [(item, language) for item in items for language in self.languages]
        return pairs[skip : skip + stop - start]


class LocalisedSitemap(Sitemap):
    """Every page once per interface language, each pointing at its translations."""

    i18n = True
    alternates = True
    # Addresses a file (pairs of a record and a language). A page of 2,000 reads 1,000
    # records and is some 0.7 MB, written in 0.15-0.2 s; the protocol allows 50,000
    # addresses and 50 MB, which took seconds of a worker to write.
    limit = 2000

    @property
    def paginator(self):
        # Every item is in every language (``get_languages_for_item`` is Django's own).
        return Paginator(LocalisedItems(self.items(), self._languages()), self.limit)


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

    def location(self, item):
        # In the language Django activates for the pair: reversed once a language.
        return Addresses().record(item)

    def lastmod(self, item):
        return item.updated_at

    def get_latest_lastmod(self):
        """The index's date of the section, without reading every record's."""
        return self.model.objects.published().aggregate(latest=Max("updated_at"))["latest"]
