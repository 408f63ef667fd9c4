"""The sources spreadsheet: core's Source, declared here since core knows no importer."""

from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import Source

from .columns import Column
from .names import Names, identity
from .types import RecordType


class SourceType(RecordType):
    model = Source
    identity_column = "title"
    noun = gettext_lazy("source")
    columns = [
        Column("title", required=True, aliases=["titel"]),
        Column("short_title", aliases=["kort titel", "korttitel"]),
        Column("author", aliases=["forfatter", "udgiver", "author or publisher"]),
        Column("published", aliases=["dato", "udgivet", "date"]),
        Column("language", aliases=["sprog"]),
        Column("url", aliases=["webadresse", "link", "web address"]),
        Column("page", aliases=["side"]),
        Column("notes", aliases=["noter", "note"]),
    ]
    excluded_fields = {
        # A review is a person confirming the record in the admin, not a fact a file holds.
        "last_reviewed_on": "review",
    }

    @classmethod
    def export_queryset(cls, queryset):
        return queryset.order_by("title", "author")

    def load(self):
        super().load()
        self.by_title = defaultdict(list)
        self.by_url = defaultdict(list)
        for source in self.records.values():
            self.by_title[identity(source.title)].append(source)
            if source.url:
                self.by_url[source.url].append(source)

    @classmethod
    def build_names(cls, job):
        names = Names(Source._meta.verbose_name)
        for pk, title, short, author, url in Source.objects.values_list(
            "pk", "title", "short_title", "author", "url"
        ):
            with_author = f"{title} ({author})" if author else ""
            names.add(
                pk,
                title,
                [short, url, with_author],
                "",
                author or url,
                forms=[form for form in (url, with_author) if form],
            )
        return names

    def identify(self, row):
        """The source with the same title (and author, when the file has that column),
        else the one with the same web address."""
        title, values = row.values.get("title"), row.values
        if not title:
            return
        candidates = self.by_title.get(identity(title), [])
        if "author" in values:
            candidates = [s for s in candidates if identity(s.author) == identity(values["author"])]
        if not candidates and values.get("url"):
            candidates = self.by_url.get(values["url"], [])
        if len(candidates) > 1:
            row.error(
                "title",
                title,
                _("%(count)d sources fit this row: %(candidates)s; add an author column to choose")
                % {
                    "count": len(candidates),
                    "candidates": "; ".join(
                        sorted(f"{s.title} ({s.author or '-'})" for s in candidates)
                    ),
                },
            )
            return
        if candidates:
            row.existing = candidates[0]
            row.key = ("pk", row.existing.pk)
            # The title finds the source; a new spelling of it does not rename it.
            values.pop("title")
        else:
            row.key = ("title", identity(title), identity(values.get("author", "")))

    def index(self, row):
        if row.existing is None and row.values.get("title"):
            self.job.names(self.label).add(
                row, row.values["title"], [row.values.get("short_title") or ""], ""
            )
