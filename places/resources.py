from decimal import Decimal

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field
from import_export.widgets import ForeignKeyWidget

from core.exports import ExportResource, join, plain_number, sources_column
from importing.engine import NamedRecordSpec, target_pk
from importing.readers import parse_coordinate, parse_integer, parse_number

from .models import Place, PlaceFigure, PlaceName


class PlaceResource(ExportResource):
    """The columns of the places spreadsheet; references are by name, lists joined by '; '."""

    parent = Field(attribute="parent", column_name="parent", widget=ForeignKeyWidget(Place, "name"))
    aliases = Field(column_name="aliases", readonly=True)
    population = Field(column_name="population", readonly=True)
    population_year = Field(column_name="population_year", readonly=True)
    area_km2 = Field(column_name="area_km2", readonly=True)
    source = sources_column()

    class Meta:
        model = Place
        import_id_fields = ["slug"]
        fields = [
            "slug",
            "name",
            "kind",
            "country",
            "parent",
            "native_name",
            "aliases",
            "population",
            "population_year",
            "area_km2",
            "latitude",
            "longitude",
            "description",
            "source",
        ]
        export_order = fields

    def export_queryset(self, queryset):
        return queryset.select_related("parent").prefetch_related(
            "other_names",
            "sources",
            Prefetch("figures", queryset=PlaceFigure.objects.order_by("kind", "-year", "-pk")),
        )

    def _current(self, place, kind):
        # Figures are prefetched newest first, so the first of a kind is the current one.
        return next((figure for figure in place.figures.all() if figure.kind == kind), None)

    def dehydrate_aliases(self, place):
        return join(other.name for other in place.other_names.all())

    def dehydrate_population(self, place):
        figure = self._current(place, PlaceFigure.Kind.POPULATION)
        return plain_number(figure.value) if figure else ""

    def dehydrate_population_year(self, place):
        figure = self._current(place, PlaceFigure.Kind.POPULATION)
        return figure.year if figure else ""

    def dehydrate_area_km2(self, place):
        figure = self._current(place, PlaceFigure.Kind.AREA)
        return plain_number(figure.value) if figure else ""

    def dehydrate_latitude(self, place):
        return plain_number(place.latitude)

    def dehydrate_longitude(self, place):
        return plain_number(place.longitude)


class PlaceImportSpec(NamedRecordSpec):
    """Reads the places spreadsheet; see IMPORTING.md for the columns."""

    model = Place
    resource_class = PlaceResource
    noun = gettext_lazy("place")
    alias_model = PlaceName
    alias_field = "place"
    slug_fallback = "place"
    plain_fields = (
        "name",
        "kind",
        "country",
        "native_name",
        "latitude",
        "longitude",
        "description",
    )
    numeric_columns = ("population", "population_year", "area_km2", "latitude", "longitude")
    header_aliases = {
        "navn": "name",
        "type": "kind",
        "art": "kind",
        "land": "country",
        "overordnet": "parent",
        "del af": "parent",
        "part of": "parent",
        "eget navn": "native_name",
        "lokalt navn": "native_name",
        "andre navne": "aliases",
        "indbyggere": "population",
        "indbyggertal": "population",
        "befolkning": "population",
        "indbyggere år": "population_year",
        "år": "population_year",
        "areal": "area_km2",
        "areal km2": "area_km2",
        "area": "area_km2",
        "breddegrad": "latitude",
        "længdegrad": "longitude",
        "beskrivelse": "description",
        "kilde": "source",
        "kilder": "source",
        "sources": "source",
    }

    def parsers(self):
        return {
            **super().parsers(),
            "native_name": None,
            "population": parse_number,
            "population_year": parse_integer,
            "area_km2": parse_number,
            "latitude": parse_coordinate,
            "longitude": parse_coordinate,
        }

    def load(self):
        super().load()
        self.figures = {}
        figures = PlaceFigure.objects.order_by("place_id", "kind", "-year", "-pk")
        for figure in figures.values("place_id", "kind", "value", "year", "source_id"):
            self.figures.setdefault((figure["place_id"], figure["kind"]), figure)

    def base_names(self, record):
        return [record.name, record.native_name]

    def validated_fields(self):
        return {*super().validated_fields(), "native_name", "latitude", "longitude"}

    def current(self, record):
        values = super().current(record)
        values["native_name"] = record.native_name
        return values

    def figure_wanted(self, row, record, wanted):
        """(kind, value, year) of each figure the row gives that the record lacks."""
        figures = []
        year = wanted.get("population_year")
        for column, kind in (
            ("population", PlaceFigure.Kind.POPULATION),
            ("area_km2", PlaceFigure.Kind.AREA),
        ):
            value = wanted.get(column)
            if value is None:
                continue
            current = self.figures.get((record.pk, kind)) if record.pk else None
            if (
                current
                and current["value"] == value
                and (kind == PlaceFigure.Kind.AREA or year in (None, current["year"]))
            ):
                continue
            figure_year = year or (current["year"] if current else None) or self.today.year
            figures.append((column, kind, value, figure_year))
        return figures

    def extra_changes(self, row, record, wanted):
        return [column for column, *_rest in self.figure_wanted(row, record, wanted)]

    def check_extra(self, row, record, wanted):
        if (record.latitude is None) != (record.longitude is None):
            row.error(
                "latitude" if record.latitude is None else "longitude",
                "",
                _("give both latitude and longitude, or neither"),
            )
        if wanted.get("population_year") is not None and wanted.get("population") is None:
            row.error("population", "", _("a population_year needs a population"))
        figures = self.figure_wanted(row, record, wanted)
        sources = wanted["source"] if "source" in wanted else self.sources.get(record.pk, ())
        row.figures = []
        for column, kind, value, year in figures:
            if value < 0 or value >= 10**14:
                row.error(
                    column,
                    row.cells[column],
                    _("'%(value)s' is out of range") % {"value": row.cells[column]},
                )
            elif not 1000 <= year <= 2200:
                row.error("population_year", year, _("the year must lie between 1000 and 2200"))
            elif not sources:
                row.error(column, row.cells[column], _("a figure needs a source; fill in source"))
            else:
                row.figures.append(
                    (kind, value.quantize(Decimal("0.01")), year, min(sources, key=str))
                )

    def write_extra(self, rows, change_reason):
        from simple_history.utils import bulk_create_with_history

        figures = []
        for row in rows:
            for kind, value, year, source in getattr(row, "figures", []):
                figures.append(
                    PlaceFigure(
                        place_id=row.instance.pk,
                        kind=kind,
                        value=value,
                        year=year,
                        source_id=target_pk(source),
                    )
                )
        # A figure for the same year and source is replaced, as the constraint demands.
        for figure in figures:
            PlaceFigure.objects.filter(
                place_id=figure.place_id,
                kind=figure.kind,
                year=figure.year,
                source_id=figure.source_id,
            ).delete()
        return bulk_create_with_history(
            figures,
            PlaceFigure,
            batch_size=500,
            default_user=self.user,
            default_change_reason=change_reason,
            default_date=self.now,
        )
