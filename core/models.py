import datetime

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .fields import PartialDateField
from .text import query_terms, search_key, unique_slug

# A record nobody has confirmed for this long is shown as stale.
REVIEW_INTERVAL = datetime.timedelta(days=365)

wikidata_validator = RegexValidator(
    r"^Q[1-9]\d*$", _("A Wikidata id is a Q followed by digits, such as Q42.")
)


class RecordQuerySet(models.QuerySet):
    def stale(self, today=None):
        """Never reviewed, or not reviewed within the review interval."""
        today = today or timezone.localdate()
        return self.filter(
            models.Q(last_reviewed_on__isnull=True)
            | models.Q(last_reviewed_on__lt=today - REVIEW_INTERVAL)
        )

    def reviewed_since(self, day):
        return self.filter(last_reviewed_on__gte=day)

    def matching(self, terms):
        """Records whose names contain every folded term (see ``core.text``)."""
        queryset = self
        for term in terms:
            queryset = queryset.filter(search_key__contains=term)
        return queryset

    def search(self, query):
        """Records found by what a person typed in a search box: any name, any spelling."""
        return self.matching(query_terms(query))


class Record(models.Model):
    """What every registry record carries: who made it, when, and when it was checked."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last changed by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_reviewed_on = models.DateField(
        _("last reviewed"),
        null=True,
        blank=True,
        help_text=_("The day someone last confirmed that this record is still true."),
    )
    search_key = models.TextField(editable=False, blank=True, default="")

    objects = RecordQuerySet.as_manager()
    # Every concrete record gets its own history table: who changed what, and when.
    history = HistoricalRecords(inherit=True)
    # The field a new record's slug is made from; None for records without a slug.
    slug_from = None

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.slug_from and not self.slug:
            self.slug = unique_slug(
                type(self)._default_manager.exclude(pk=self.pk),
                getattr(self, self.slug_from),
                self._meta.model_name,
            )
        self.refresh_search_key(save=False)
        super().save(*args, **kwargs)

    def all_names(self):
        """Every name the record goes by; subclasses add their own."""
        return [str(self)]

    def refresh_search_key(self, save=True):
        """Recompute the folded key after the record's names changed."""
        key = search_key(self.all_names())
        changed = key != self.search_key
        self.search_key = key
        if save and changed and self.pk:
            type(self).objects.filter(pk=self.pk).update(search_key=key)
        return key

    @property
    def is_stale(self):
        return (
            self.last_reviewed_on is None
            or self.last_reviewed_on < timezone.localdate() - REVIEW_INTERVAL
        )

    def mark_reviewed(self, user=None, day=None):
        self.last_reviewed_on = day or timezone.localdate()
        if user is not None:
            self.updated_by = user


def ancestors_of(record):
    """A record's parent, its parent, and so on up; stops at a cycle rather than looping."""
    chain, seen, current = [], {record.pk}, record.parent
    while current is not None and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        current = current.parent
    return chain


def would_contain_itself(record):
    """True when the record's parent is the record itself or lies inside it."""
    if not (record.parent_id and record.pk):
        return False
    return record.parent_id == record.pk or record.pk in {a.pk for a in ancestors_of(record.parent)}


class Language(models.TextChoices):
    DANISH = "da", _("Danish")
    ENGLISH = "en", _("English")
    CHINESE = "zh", _("Chinese")
    CHINESE_PINYIN = "zh-Latn", _("Chinese (pinyin)")
    GERMAN = "de", _("German")
    SWEDISH = "sv", _("Swedish")
    DUTCH = "nl", _("Dutch")
    ITALIAN = "it", _("Italian")
    NORWEGIAN = "no", _("Norwegian")
    FRENCH = "fr", _("French")
    OTHER = "other", _("Other")


class AlternativeName(models.Model):
    """A name a record also goes by: a seed spelling, a former name, a transliteration."""

    class Kind(models.TextChoices):
        ALTERNATIVE = "alternative", _("alternative spelling")
        FORMER = "former", _("former name")
        ABBREVIATION = "abbreviation", _("abbreviation")
        TRANSLATION = "translation", _("translation")
        TRANSLITERATION = "transliteration", _("transliteration")
        SOURCE_SPELLING = "source", _("spelling used in a source")

    name = models.CharField(_("name"), max_length=255)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.ALTERNATIVE
    )

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name


class Source(Record):
    """A citable document that places, figures, organisations and partnerships cite."""

    title = models.CharField(_("title"), max_length=500)
    author = models.CharField(
        _("author or publisher"),
        max_length=255,
        blank=True,
        help_text=_("The person or body that wrote or published the document."),
    )
    published = PartialDateField(_("date"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)
    url = models.URLField(_("web address"), max_length=500, blank=True)
    page = models.CharField(
        _("page"), max_length=50, blank=True, help_text=_("A page or page range, if useful.")
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["title", "author"], name="source_unique_title_author")
        ]

    def __str__(self):
        return self.title

    def all_names(self):
        return [self.title, self.author]

    def citation(self):
        parts = [self.author, self.title]
        if self.published:
            parts.append(self.published.display())
        if self.page:
            parts.append(_("p. %(page)s") % {"page": self.page})
        return ", ".join(part for part in parts if part)


class ImportBatch(models.Model):
    """One spreadsheet import: who ran it, on which file, and what it created or changed."""

    created_at = models.DateTimeField(_("imported"), auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    content_type = models.ForeignKey(
        "contenttypes.ContentType", verbose_name=_("record type"), on_delete=models.PROTECT
    )
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    created_count = models.PositiveIntegerField(_("new"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    # The ids of what the import created, per model: {"places.place": [12, 13], ...}.
    created = models.JSONField(_("created records"), default=dict, blank=True, editable=False)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("import_records", _("Can import places, organisations and partnerships")),
            ("export_records", _("Can export places, organisations and partnerships")),
        ]

    def __str__(self):
        return _("import #%(number)s of %(file)s") % {"number": self.pk, "file": self.file_name}

    @property
    def change_reason(self):
        return f"import #{self.pk}"


class ImportBatchItem(models.Model):
    """A record an import changed; ``before`` holds its columns as they were, for an undo."""

    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("import"), on_delete=models.CASCADE, related_name="items"
    )
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    before = models.JSONField(_("columns before the import"), null=True, blank=True)

    class Meta:
        verbose_name = _("changed record")
        verbose_name_plural = _("changed records")
        ordering = ["pk"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.content_type.model} #{self.object_id}"
