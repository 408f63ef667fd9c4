from core.sitemaps import RecordSitemap

from .models import Organisation


class OrganisationSitemap(RecordSitemap):
    model = Organisation
