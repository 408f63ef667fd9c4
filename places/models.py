import functools
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, Subquery
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
    Tidied,
    ancestors_of,
    listed,
    subtree_ids,
    wikidata_validator,
    would_contain_itself,
)
from core.numbers import grouped
from core.search import RowsById, id_list
from core.translation import Localized, localized_indexes
from core.versioning import VersionedQuerySet


class PlaceQuerySet(RecordQuerySet):
    def with_current_figures(self):
        """Annotate the newest population and area, one query for any number of places."""
        return self.annotate(**_current_figures())

    def attach_card_parts(self, records):
        # A card shows the current population.
        attach_current_population(records)


# The population figures of places, newest first within each place.
_POPULATIONS = RowsById(
    lambda ids: (
        PlaceFigure.objects.filter(place_id__in=ids, kind=PlaceFigure.Kind.POPULATION)
        .order_by("place_id", "-year", "-pk")
        .values_list("place_id", "value", "year")
    )
)


def attach_current_population(places):
    """Set each place's ``current_population`` and ``current_population_year``, as
    ``with_current_figures`` annotates them, from one query compiled once: the four
    subqueries of the annotation took 1.2 ms to compile for the ten places of a search."""
    if not places:
        return
    newest = {}
    for place_id, value, year in _POPULATIONS.rows(
        [place.pk for place in places], places[0]._state.db
    ):
        newest.setdefault(place_id, (value, year))
    for place in places:
        place.current_population, place.current_population_year = newest.get(place.pk, (None, None))


@functools.cache
def _current_figures():
    # Built once: annotate() resolves copies of them. Building four subqueries took
    # 0.5 ms of each place list, its API page and the search page.
    newest = PlaceFigure.objects.filter(place=OuterRef("pk")).order_by("-year", "-pk")
    population = newest.filter(kind=PlaceFigure.Kind.POPULATION)
    area = newest.filter(kind=PlaceFigure.Kind.AREA)
    return {
        "current_population": Subquery(population.values("value")[:1]),
        "current_population_year": Subquery(population.values("year")[:1]),
        "current_area": Subquery(area.values("value")[:1]),
        "current_area_year": Subquery(area.values("year")[:1]),
    }


class Place(Publishable):
    class Kind(models.TextChoices):
        COUNTRY = "country", _("country")
        STATE = "state", _("state")
        PROVINCE = "province", _("province")
        PROVINCE_LEVEL_CITY = "province_city", _("province-level city")
        REGION = "region", _("region")
        COUNTY = "county", _("county")
        CITY = "city", _("city")
        MUNICIPALITY = "municipality", _("municipality")
        DISTRICT = "district", _("district")
        OTHER = "other", _("other")

    name = models.CharField(
        _("name"),
        max_length=200,
        help_text=_(
            "The official name in this language: Københavns Kommune, Copenhagen Municipality."
        ),
    )
    slug = models.SlugField(
        _("slug"),
        max_length=100,
        unique=True,
        blank=True,
        help_text=_("The record's web address. Filled in from the name if left empty."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    country = CountryField(_("country"))
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text=_("The place this one lies in: Nanjing is part of Jiangsu."),
    )
    capital = models.ForeignKey(
        "self",
        verbose_name=_("capital"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="capital_of",
    )
    native_name = models.CharField(
        _("own-language name"),
        max_length=200,
        blank=True,
        help_text=_("The name in the place's own language and script, e.g. 江苏 or København."),
    )
    native_language = models.CharField(
        _("own language"), max_length=8, choices=Language.choices, blank=True
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
        help_text=_("Decimal degrees, −90 to 90 (north is positive)."),
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
        help_text=_("Decimal degrees, −180 to 180 (east is positive)."),
    )
    description = models.TextField(_("description"), blank=True)
    wikidata_id = models.CharField(
        _("Wikidata id"), max_length=20, blank=True, validators=[wikidata_validator]
    )
    geonames_id = models.PositiveIntegerField(_("GeoNames id"), null=True, blank=True)
    sources = models.ManyToManyField(
        Source, verbose_name=_("sources"), blank=True, related_name="places"
    )

    slug_from = "name"
    search_indexed = True
    objects = PlaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = [Localized("name").asc()]
        indexes = [
            *localized_indexes("name", "place"),
            # The list's facets count kinds and countries of the published records: one
            # pass over this index instead of the table (5.3 -> 1.9 ms for 10,000 places).
            models.Index(fields=["publication", "kind", "country"], name="place_facets_idx"),
            models.Index(fields=["-updated_at"], name="place_updated_idx"),
            models.Index(fields=["-last_reviewed_on"], name="place_reviewed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90)
                | models.Q(latitude__isnull=True),
                name="place_latitude_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__gte=-180, longitude__lte=180)
                | models.Q(longitude__isnull=True),
                name="place_longitude_in_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")), name="place_not_own_parent"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        # Reversed once per language, not once per card (core.links).
        return slug_url("places:place-detail", self.slug)

    derived_from = frozenset({"name", "native_name"})

    def all_names(self):
        names = [self.name_da, self.name_en, self.native_name]
        if self.pk:
            names += [other.name for other in self.other_names.all()]
        return names

    def ancestors(self):
        """From the parent up to the top."""
        return ancestors_of(self)

    def descendant_ids(self):
        """Ids of every place below this one, one query per level of the hierarchy."""
        return Place.subtree_ids([self.pk])[1:]

    @staticmethod
    def subtree_ids(place_ids):
        """The given ids followed by those of every place below them, a query per level."""
        return subtree_ids(Place, place_ids)

    def clean(self):
        super().clean()
        if would_contain_itself(self):
            raise ValidationError(
                {"parent": _("A place cannot lie inside itself or inside a place it contains.")}
            )
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError(
                _("Give both latitude and longitude, or neither."), code="half_coordinates"
            )

    def current_figure(self, kind):
        # The figures read with the place into a list (``core.models.listed``), where there
        # is one: a spreadsheet's six figure columns each asked the relation, which made a
        # manager every time, 60,000 of them for a download of 10,000 places; with the
        # list, the places CSV of 10,000 places took 1.52 s instead of 2.27.
        figures = self.__dict__.get(listed("figures"))
        if figures is None:
            figures = self.figures.all()
        figures = [figure for figure in figures if figure.kind == kind]
        return max(figures, key=lambda figure: (figure.year, figure.pk), default=None)


# How far up the hierarchy the map looks for a place's coordinates and for its region.
CHAIN_DEPTH = 4
CHAIN = ["__".join(["parent"] * level) for level in range(1, CHAIN_DEPTH + 1)]


def region_in(pk, chain):
    """The region of the place ``pk``, whose ancestors ``chain`` gives nearest first as
    (pk, kind) pairs: the highest of them that is not a country, itself if there is none.
    Past a line a map can draw, it joins ties up to regions (``atlas.explore``), and
    ``partnerships.facets`` keeps the ties between regions."""
    region = pk
    for ancestor, kind in chain:
        if kind != Place.Kind.COUNTRY:
            region = ancestor
    return region


def lineages(place_ids, using=None):
    """{place id: (id, kind) of the place and of every place it lies in, itself first} for
    the places of ``place_ids``, drafts included: a query per level of the hierarchy.
    A place's region is ``region_in(pk, lineage[1 : CHAIN_DEPTH + 1])``."""
    read = {}  # {id: (parent id, kind)}
    level = set(place_ids)
    while level:
        rows = (
            Place._base_manager.db_manager(using)
            .filter(pk__in=id_list(level))
            .values_list("pk", "parent_id", "kind")
            .order_by()
        )
        level = set()
        for pk, parent, kind in rows:
            read[pk] = (parent, kind)
            if parent:
                level.add(parent)
        level -= read.keys()
    found = {}
    for pk in place_ids:
        line, seen, current = [], set(), pk
        # The hierarchy holds no loop (``Place.clean``); a loop written around it ends here.
        while current in read and current not in seen:
            seen.add(current)
            parent, kind = read[current]
            line.append((current, kind))
            current = parent
        if line:
            found[pk] = line
    return found


class PlaceName(AlternativeName):
    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.CASCADE, related_name="other_names"
    )

    record_field = "place"
    history = HistoricalRecords()

    class Meta(AlternativeName.Meta):
        verbose_name = _("other name")
        verbose_name_plural = _("other names")
        constraints = [
            models.UniqueConstraint(fields=["place", "name"], name="placename_unique_per_place")
        ]


class PlaceFigure(Tidied):
    """A dated, sourced figure. Older figures stay; the newest year is the current one."""

    class Kind(models.TextChoices):
        POPULATION = "population", _("population")
        AREA = "area_km2", _("area (km²)")

    place = models.ForeignKey(
        Place, verbose_name=_("place"), on_delete=models.CASCADE, related_name="figures"
    )
    kind = models.CharField(_("figure"), max_length=16, choices=Kind.choices)
    value = models.DecimalField(
        _("value"),
        max_digits=16,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text=_("Inhabitants, or square kilometres. Write 77300000, not 77,3 mio."),
    )
    year = models.PositiveSmallIntegerField(
        _("year"),
        validators=[MinValueValidator(1000), MaxValueValidator(2200)],
        help_text=_("The year the figure refers to, not the year it was published."),
    )
    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.PROTECT, related_name="figures"
    )
    note = models.CharField(_("note"), max_length=255, blank=True)

    objects = VersionedQuerySet.as_manager()

    class Meta:
        verbose_name = _("figure")
        verbose_name_plural = _("figures")
        ordering = ["kind", "-year"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(value__gte=0), name="placefigure_value_not_negative"
            ),
            models.UniqueConstraint(
                fields=["place", "kind", "year", "source"], name="placefigure_unique_per_source"
            ),
        ]

    def __str__(self):
        value = Decimal(self.value)
        number = grouped(value, 0 if value == value.to_integral_value() else None)
        return f"{self.get_kind_display()} {number} ({self.year})"
