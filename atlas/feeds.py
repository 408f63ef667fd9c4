from django.contrib.syndication.views import Feed
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from .changes import FOLLOWED, recent_changes, record_changes


class RegistryChangesFeed(Feed):
    """The whole registry's recent changes as Atom, in the reader's language."""

    feed_type = Atom1Feed
    limit = 50

    def title(self):
        return _("Partnership Atlas: recent changes")

    def subtitle(self):
        return _("Places, organisations and partnerships added, changed or deleted.")

    def link(self):
        return reverse("atlas:changes")

    def feed_url(self):
        return reverse("atlas:changes-feed")

    def items(self):
        return recent_changes(limit=self.limit)

    def item_title(self, change):
        return f"{change.name} ({change.type_label}): {change.kind_label}"

    def item_description(self, change):
        if change.fields:
            return _("Changed: %(fields)s") % {"fields": ", ".join(change.fields)}
        return change.kind_label

    def item_link(self, change):
        # A deleted record has no page; its entry points at the list of changes.
        return change.url or f"{reverse('atlas:changes')}#{change.key}"

    def item_guid(self, change):
        return f"urn:partnership-atlas:change:{change.key}"

    item_guid_is_permalink = False

    def item_updateddate(self, change):
        return change.when

    def item_pubdate(self, change):
        return change.when


class RecordChangesFeed(RegistryChangesFeed):
    """One record's changes, for someone who follows that record."""

    def get_object(self, request, kind, slug):
        model = FOLLOWED.get(kind)
        if model is None:
            raise Http404
        # Feeds are public: feed readers carry no login, so drafts stay out of them.
        return get_object_or_404(model.objects.published(), slug=slug)

    def title(self, record):
        return _("Changes to %(name)s") % {"name": record}

    def subtitle(self, record):
        return None

    def link(self, record):
        return record.get_absolute_url()

    def feed_url(self, record):
        return reverse(
            "atlas:record-changes-feed",
            kwargs={"kind": record._meta.model_name, "slug": record.slug},
        )

    def items(self, record):
        return record_changes(type(record), record.pk, limit=self.limit)
