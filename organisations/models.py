from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from core.links import slug_url
from core.models import (
    AlternativeName,
    Language,
    Publishable,
    RecordQuerySet,
    Source,
    ancestors_of,
    wikidata_validator,
    would_contain_itself,
)
from core.translation import Localized, localized_indexes
from places.models import Place

ror_validator = RegexValidator(
    r"^0[a-z0-9]{6}[0-9]{2}$",
    _("A ROR id has nine characters and starts with 0, such as 04qtj9h94."),
)


class OrganisationQuerySet(RecordQuerySet):
    def in_places(self, place_ids):
        """Organisations based in one of the places or in a place inside one of them."""
        return self.filter(place_id__in=Place.subtree_ids(place_ids))

    def in_place(self, place):
        return self.in_places([place.pk])


class Organisation(Publishable):
    class Kind(models.TextChoices):
        UNIVERSITY = "university", _("university")
        COMPANY = "company", _("company")
        BUSINESS_ASSOCIATION = "business_association", _("business association")
        GOVERNMENT_BODY = "government_body", _("government body")
        DIPLOMATIC_MISSION = "diplomatic_mission", _("diplomatic mission")
        INNOVATION_CENTRE = "innovation_centre", _("innovation centre")
        RESEARCH_INSTITUTE = "research_institute", _("research institute")
        HOSPITAL = "hospital", _("hospital")
        NETWORK = "network", _("network")
        OTHER = "other", _("other")

    name = models.CharField(
        _("name"),
        max_length=255,
        help_text=_(
            "The official name in this language: Danmarks Tekniske Universitet, "
            "Technical University of Denmark."
        ),
    )
    slug = models.SlugField(
        _("slug"),
        max_length=100,
        unique=True,
        blank=True,
        help_text=_("The record's web address. Filled in from the name if left empty."),
    )
    short_name = models.CharField(
        _("short name"), max_length=50, blank=True, help_text=_("An acronym such as DTU or CBS.")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    country = CountryField(_("country"))
    place = models.ForeignKey(
        Place,
        verbose_name=_("based in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organisations",
        help_text=_("The city or municipality where it is based."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_("The organisation this one belongs to, if any."),
    )
    native_name = models.CharField(
        _("own-language name"),
        max_length=255,
        blank=True,
        help_text=_(
            "The name in its own language and script, e.g. 同济大学 or Syddansk Universitet."
        ),
    )
    native_language = models.CharField(
        _("own language"), max_length=8, choices=Language.choices, blank=True
    )
    website = models.URLField(_("website"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    wikidata_id = models.CharField(
        _("Wikidata id"), max_length=20, blank=True, validators=[wikidata_validator]
    )
    ror_id = models.CharField(_("ROR id"), max_length=9, blank=True, validators=[ror_validator])
    sources = models.ManyToManyField(
        Source, verbose_name=_("sources"), blank=True, related_name="organisations"
    )

    slug_from = "name"
    search_indexed = True
    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = [Localized("name").asc()]
        indexes = [
            *localized_indexes("name", "organisation"),
            # An organisation's parts, in name order, on its page. Most organisations have
            # no parent, so to SQLite's statistics of the parent column a parent's parts
            # look like thousands: it read every organisation by name to find a few.
            *localized_indexes("name", "org", within="parent"),
            # The list's facets count kinds and countries of the published records: one
            # pass over this index instead of the table (8.6 -> 3.9 ms for 20,000 organisations).
            models.Index(fields=["publication", "kind", "country"], name="organisation_facets_idx"),
            models.Index(fields=["-updated_at"], name="organisation_updated_idx"),
            models.Index(fields=["-last_reviewed_on"], name="organisation_reviewed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")), name="organisation_not_own_parent"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        # Reversed once per language, not once per card (core.links).
        return slug_url("organisations:organisation-detail", self.slug)

    derived_from = frozenset({"name", "short_name", "native_name"})

    def all_names(self):
        names = [self.name_da, self.name_en, self.short_name, self.native_name]
        if self.pk:
            names += [other.name for other in self.other_names.all()]
        return names

    def ancestors(self):
        return ancestors_of(self)

    def clean(self):
        super().clean()
        if would_contain_itself(self):
            raise ValidationError(
                {"parent": _("An organisation cannot belong to itself or to one of its parts.")}
            )


class OrganisationName(AlternativeName):
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="other_names",
    )

    record_field = "organisation"
    history = HistoricalRecords()

    class Meta(AlternativeName.Meta):
        verbose_name = _("other name")
        verbose_name_plural = _("other names")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="organisationname_unique_per_organisation"
            )
        ]
