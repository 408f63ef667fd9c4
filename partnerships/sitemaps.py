from core.sitemaps import RecordSitemap

from .models import Partnership


class PartnershipSitemap(RecordSitemap):
    model = Partnership
