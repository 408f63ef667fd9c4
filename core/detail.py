from django.http import Http404, HttpResponsePermanentRedirect
from django.utils.translation import get_language
from django.views.generic import DetailView

from .cache import per_version
from .views import viewer


class RecordDetailView(DetailView):
    """A record's public page, which also answers at every address the record had before.

    Links people shared keep working after a slug changes: an unknown slug that the record
    once had (its history remembers) redirects permanently to the current address.
    """

    # The parts of the registry ("places", "organisations") whose records alone make what
    # the page shows of the record itself (``own_context``): then it is read once per
    # version of those parts (``core.cache.per_version``), reader's view and language,
    # and a write to anything else, a partnership, leaves it.
    kept_under = ()

    def records(self):
        raise NotImplementedError

    def own_context(self, record):
        """What the page shows of ``record`` itself, besides the record, for the context."""
        return {}

    def get_object(self, queryset=None):
        if not self.kept_under:
            return super().get_object(queryset)
        record = self.own_parts()["record"]
        if record is None:
            raise Http404
        return record

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            self.own_parts()["context"] if self.kept_under else self.own_context(self.object)
        )
        return context

    def own_parts(self):
        """The record (None if the reader may not see it) and its ``own_context``, read
        once per version of ``kept_under``."""
        if not hasattr(self, "_own_parts"):
            queryset = self.get_queryset()
            slug = self.kwargs[self.slug_url_kwarg]

            def read():
                record = next(iter(queryset.filter(**{self.slug_field: slug})), None)
                own = {} if record is None else self.own_context(record)
                return {"record": record, "context": own}

            name = f"{queryset.model._meta.label_lower}.page"
            self._own_parts = per_version(
                name, [queryset, slug, get_language()], read, of=self.kept_under
            )
        return self._own_parts

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
