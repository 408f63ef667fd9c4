from core.sitemaps import RecordSitemap

from .models import Place


class PlaceSitemap(RecordSitemap):
    model = Place
