from django.http import Http404, HttpResponsePermanentRedirect
from django.views.generic import DetailView

from .views import viewer


class RecordDetailView(DetailView):
    """A record's public page, which also answers at every address the record had before.

    Links people shared keep working after a slug changes: an unknown slug that the record
    once had (its history remembers) redirects permanently to the current address.
    """

    def records(self):
        raise NotImplementedError

    def get_queryset(self):
        # A draft's page is 404 for the public; staff see it with a banner.
        return self.records().visible_to(viewer(self.request))

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            record = self.get_queryset().model.objects.formerly_at(kwargs[self.slug_url_kwarg])
            if record is None or not self.get_queryset().filter(pk=record.pk).exists():
                raise
            return HttpResponsePermanentRedirect(record.get_absolute_url())
