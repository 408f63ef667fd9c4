"""The places spreadsheet, and the figures spreadsheet: their columns, declared once."""

from collections import namedtuple
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import listed
from core.text import PLACE_WORDS
from core.translation import Localized
from importing.columns import (
    Column,
    Coordinate,
    OtherNames,
    Reference,
    RemoveSources,
    Slug,
    SourceReference,
    Sources,
    in_languages,
    show_number,
)
from importing.readers import CellError, parse_integer, parse_number
from importing.rows import NEW
from importing.types import NamedRecordType, RecordType

from .models import Place, PlaceFigure, PlaceName

Figure = namedtuple("Figure", "value year source")


class FigureValue(Column):
    """A place's current figure of one kind. A value that differs from it adds a dated,
    sourced figure; figures are history, so an import never removes one."""

    numeric = True

    def __init__(self, name, *, kind, year_column, source_column, **kwargs):
        super().__init__(name, field="", **kwargs)
        self.kind, self.year_column, self.source_column = kind, year_column, source_column

    @property
    def label(self):
        return str(PlaceFigure.Kind(self.kind).label)

    def default_reader(self):
        return parse_number

    def empty(self):
        return None

    def current(self, record, job):
        figure = record.current_figure(self.kind)
        return Figure(figure.value, figure.year, figure.source_id) if figure else None

    def wanted(self, value, current, row, job):
        if value is None:
            return current  # an empty cell leaves the figures as they are
        year = row.values.get(self.year_column)
        source = row.values.get(self.source_column)
        if (
            current
            and value == current.value
            and year in (None, current.year)
            and source in (None, current.source)
        ):
            return current
        cited = row.values.get("source") or []
        source = source or (cited[0] if cited else None) or job.import_source
        # The README's rule: a figure without a year is this year's.
        return Figure(value, year or job.now.year, source)

    def validate(self, row, wanted, job):
        figure = PlaceFigure(kind=self.kind, value=wanted.value, year=wanted.year)
        try:
            figure.clean_fields(exclude=["place", "source", "note"])
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                column = self.year_column if name == "year" else self.name
                row.error(column, row.cells.get(column, ""), " ".join(messages))
        else:
            row.figures = [*getattr(row, "figures", []), (self.kind, wanted)]

    def show(self, value, job):
        if value is None:
            return ""
        source = job.names("core.source").name_of(value.source)
        return f"{show_number(value.value)} ({value.year}, {source})"

    def cell(self, value, job):
        return "" if value is None else super().cell(value.value, job)

    def write(self, rows, job):
        wanted = [
            (row, figure)
            for row in rows
            if row.action in (NEW, "updated")
            for kind, figure in getattr(row, "figures", [])
            if kind == self.kind
        ]
        if not wanted:
            return []
        stored = {
            (figure.place_id, figure.year, figure.source_id): figure
            for figure in PlaceFigure.objects.filter(
                kind=self.kind, place_id__in=[row.instance.pk for row, _figure in wanted]
            )
        }
        created = []
        for row, figure in wanted:
            source = job.pk_of(figure.source)
            value = figure.value.quantize(Decimal("0.01"))
            same = stored.get((row.instance.pk, figure.year, source))
            if same is not None:
                # The same year and source: the figure is corrected, as the constraint asks.
                same.value = value
                same._change_reason = job.change_reason
                same._history_user = job.user
                same.save(update_fields=["value"])
                continue
            created.append(
                PlaceFigure(
                    place_id=row.instance.pk,
                    kind=self.kind,
                    value=value,
                    year=figure.year,
                    source_id=source,
                )
            )
        return job.bulk_create(PlaceFigure, created)


class FigurePart(Column):
    """The year or source of a figure column; changes show on the figure's own column."""

    def __init__(self, name, *, kind, part, value_column, **kwargs):
        super().__init__(name, field="", **kwargs)
        self.kind, self.part, self.value_column = kind, part, value_column

    @property
    def label(self):
        kind = PlaceFigure.Kind(self.kind).label
        return str(_("%(figure)s year") if self.part == "year" else _("%(figure)s source")) % {
            "figure": kind
        }

    @property
    def numeric(self):
        return self.part == "year"

    def default_reader(self):
        return parse_integer if self.part == "year" else str

    def empty(self):
        return None

    def resolve(self, value, row, job):
        if value is None:
            return None
        if row.values.get(self.value_column) is None:
            raise CellError(
                _("a figure's %(part)s needs its value in %(column)s")
                % {"part": job.label(self.name), "column": job.label(self.value_column)}
            )
        if self.part == "source":
            return job.source_for(value, row, self.name)
        return value

    def current(self, record, job):
        figure = record.current_figure(self.kind)
        if figure is None:
            return None
        return figure.year if self.part == "year" else figure.source_id

    def differs(self, current, wanted):
        return False

    def show(self, value, job):
        if value is None:
            return ""
        return str(value) if self.part == "year" else job.names("core.source").name_of(value)

    def cell(self, value, job):
        if value is None:
            return ""
        return value if self.part == "year" else job.names("core.source").reference(value)


def figure_columns(kind, value, year, source, value_aliases, year_aliases, source_aliases):
    return [
        FigureValue(
            value, kind=kind, year_column=year, source_column=source, aliases=value_aliases
        ),
        FigurePart(year, kind=kind, part="year", value_column=value, aliases=year_aliases),
        FigurePart(source, kind=kind, part="source", value_column=value, aliases=source_aliases),
    ]


class PlaceType(NamedRecordType):
    model = Place
    noun = gettext_lazy("place")
    name_model = PlaceName
    name_owner = "place"
    generic_words = PLACE_WORDS
    columns = [
        Slug(),
        *in_languages("name", aliases=["navn"], required=True),
        Column("kind", required=True, aliases=["type", "art"]),
        Column("country", required=True, aliases=["land"]),
        Reference("parent", target="places.place", aliases=["overordnet", "del af", "part of"]),
        Reference("capital", target="places.place", aliases=["hovedstad"]),
        Column("native_name", aliases=["eget navn", "lokalt navn", "own-language name"]),
        Column("native_language", aliases=["eget sprog", "own language"]),
        OtherNames(
            name_model=PlaceName, owner_field="place", aliases=["andre navne", "other names"]
        ),
        *figure_columns(
            PlaceFigure.Kind.POPULATION,
            "population",
            "population_year",
            "population_source",
            ["indbyggere", "indbyggertal", "befolkning"],
            ["indbyggere år", "år", "year"],
            ["indbyggere kilde", "befolkning kilde"],
        ),
        *figure_columns(
            PlaceFigure.Kind.AREA,
            "area_km2",
            "area_year",
            "area_source",
            ["areal", "areal km2", "area"],
            ["areal år"],
            ["areal kilde"],
        ),
        Coordinate("latitude", aliases=["breddegrad"]),
        Coordinate("longitude", aliases=["længdegrad"]),
        Column("wikidata_id", aliases=["wikidata"]),
        Column("geonames_id", aliases=["geonames"]),
        *in_languages("description", aliases=["beskrivelse"]),
        Sources(aliases=["kilde", "kilder", "sources"]),
        RemoveSources(aliases=["fjern kilde", "fjern kilder"]),
    ]
    covered_fields = ["sources"]
    excluded_fields = {
        # A review is a person confirming the record in the admin, not a fact a file holds.
        "last_reviewed_on": "review",
    }

    def queryset(self):
        return _with_figures(Place.objects.all())

    @classmethod
    def export_queryset(cls, queryset):
        # Slugs break ties between names, so that the order never depends on primary keys.
        return _with_figures(queryset.order_by(Localized("name").asc(), "slug"))


def _with_figures(places):
    """``places`` with their figures read into a list, which ``Place.current_figure`` reads
    for the figure columns."""
    figures = PlaceFigure.objects.order_by("pk")
    return places.prefetch_related(Prefetch("figures", figures, to_attr=listed("figures")))


class FigureType(RecordType):
    """Every dated figure of every place, older ones included: the full history."""

    model = PlaceFigure
    identity_column = "place"
    noun = gettext_lazy("figure")
    columns = [
        Reference("place", target="places.place", required=True, aliases=["sted"]),
        Column("kind", required=True, aliases=["figure", "type", "art"]),
        Column("value", required=True, aliases=["værdi", "tal"], numeric=True),
        Column("year", aliases=["år"], numeric=True),
        SourceReference(aliases=["kilde"]),
        *in_languages("note", aliases=["bemærkning"]),
    ]

    def load(self):
        self.records = {}
        for figure in PlaceFigure.objects.all():
            self.records[figure.pk] = figure
        self.by_key = {
            (figure.place_id, figure.kind, figure.year, figure.source_id): figure
            for figure in self.records.values()
        }

    def identify_late(self, row):
        values = row.values
        if values.get("year") is None:
            values["year"] = self.job.now.year
        if "source" not in values:
            values["source"] = self.job.import_source
        # A new source or a new row is its own object here: never a stored figure's.
        key = (
            self.job.pk_or_row(values["place"]),
            values["kind"],
            values["year"],
            self.job.pk_of(values["source"]) or values["source"],
        )
        row.existing = self.by_key.get(key)
        row.key = ("pk", row.existing.pk) if row.existing else key

    def derive(self, row, instance):
        pass  # a figure has no slug or search key

    @classmethod
    def export_queryset(cls, queryset):
        return queryset.order_by(
            Localized("place__name").asc(),
            "place__slug",
            "kind",
            "year",
            "source__title",
            "source__author",
        )


# The django-import-export resource of each type, for the public CSV downloads.
PlaceResource = PlaceType.resource()
FigureResource = FigureType.resource()
