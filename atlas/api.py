"""The map and the network in the API: /api/map/ (GeoJSON) and /api/network/."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import permissions, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core.api import ContentLanguageMixin
from core.rest import JSONRenderer
from core.schema import ERROR, AutoSchema
from partnerships.models import Partnership

from . import explore


class GeoJSONRenderer(JSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"


class ExploreSchema(AutoSchema):
    """One document, not a list, yet filtered by the partnership list's FilterSet."""

    def _is_list_view(self, serializer=None):
        return False

    def get_filter_backends(self):
        return self.view.filter_backends


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which leaves the FilterSet it filters by on the view."""

    def get_filterset(self, request, queryset, view):
        view.filters = super().get_filterset(request, queryset, view)
        return view.filters


class ExploreViewSet(ContentLanguageMixin, viewsets.GenericViewSet):
    queryset = Partnership.objects.all()
    filterset_class = explore.ExploreFilter
    filter_backends = [FilterBackend]
    pagination_class = None
    permission_classes = [permissions.AllowAny]
    schema = ExploreSchema()

    def get_queryset(self):
        return Partnership.objects.visible_to(self.request.user)

    def filtered(self):
        """The partnerships the filters keep; ``self.filters``: the filters, valid."""
        return self.filter_queryset(self.get_queryset())


STRING = {"type": "string"}
COORDINATES = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
POINT = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": STRING,
        "geometry": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["Point", "LineString"]},
                "coordinates": {"oneOf": [COORDINATES, {"type": "array", "items": COORDINATES}]},
            },
        },
        "properties": {
            "type": "object",
            "additionalProperties": True,
            "description": (
                "A point (a place): slug, name, name_language, kind, country, count (its "
                "partnerships that pass the filters) and url (its public page). A line (two "
                "places, or two regions when the places would give too many lines): from, "
                "to (slugs), from_name, to_name (with from_name_language, "
                "to_name_language), count, and, for a single partnership, partnership "
                "(slug, title, title_language, url). Names and titles are in the "
                "requested language, else in the other one, which *_language names."
            ),
        },
    },
}
MAP_SCHEMA = {
    "type": "object",
    "required": ["type", "features", "meta"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "meta": {
            "type": "object",
            "properties": {
                "partnerships": {"type": "integer"},
                "places": {"type": "integer"},
                "places_omitted": {
                    "type": "integer",
                    "description": (
                        f"Places taking part that are not drawn: past the {explore.MAX_POINTS:,} "
                        "with the most partnerships, or without coordinates of their own or "
                        "of a place they lie in."
                    ),
                },
                "lines": {"type": "integer"},
                "line_level": {"type": "string", "enum": ["place", "region"]},
                "lines_omitted": {"type": "integer"},
                "participants_without_place": {"type": "integer"},
                "place_url": STRING,
            },
        },
        "features": {"type": "array", "items": POINT},
    },
}
NETWORK_SCHEMA = {
    "type": "object",
    "required": ["meta", "nodes", "edges"],
    "properties": {
        "meta": {
            "type": "object",
            "properties": {
                "partnerships": {"type": "integer"},
                "truncated": {"type": "boolean"},
                "around": {"type": "string", "nullable": True},
                "steps": {"type": "integer"},
                "nodes": {"type": "integer"},
                "edges": {"type": "integer"},
            },
        },
        "nodes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "type", "label", "url"],
                "properties": {
                    "id": {"type": "string", "description": "type:slug, e.g. place:wuxi"},
                    "type": {"type": "string", "enum": ["place", "organisation", "partnership"]},
                    "label": STRING,
                    "label_language": {
                        "type": "string",
                        "nullable": True,
                        "description": "The language of label: the requested one, or the "
                        "other when the record has no name in it.",
                    },
                    "kind": STRING,
                    "kind_label": STRING,
                    "country": STRING,
                    "status": STRING,
                    "status_label": STRING,
                    "start": STRING,
                    "end": STRING,
                    "url": STRING,
                },
            },
        },
        "edges": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["source", "target", "relation"],
                "properties": {
                    "source": STRING,
                    "target": STRING,
                    "relation": {
                        "type": "string",
                        "enum": ["participant", "based_in", "part_of"],
                    },
                    "role": STRING,
                    "role_label": STRING,
                    "kind": STRING,
                    "status": STRING,
                    "start": STRING,
                    "end": STRING,
                },
            },
        },
    },
}


class MapViewSet(ExploreViewSet):
    renderer_classes = [GeoJSONRenderer, JSONRenderer]

    @extend_schema(
        summary="The map: places with their partnership counts, and lines between partners",
        description=(
            "GeoJSON of the partnerships that pass the same filters as /api/partnerships/. "
            "A party is on the map at its place: a place at its coordinates, an organisation "
            "at the place it is based in."
        ),
        parameters=[
            OpenApiParameter(
                "partnership", str, description="Only this partnership (its slug): its parties."
            )
        ],
        responses={200: MAP_SCHEMA, 400: ERROR},
    )
    def list(self, request):
        partnerships, filters = self.filtered(), self.filters
        if request.query_params.get("partnership"):
            partnerships, filters = (
                partnerships.filter(slug=request.query_params["partnership"]),
                None,
            )
        return Response(
            explore.map_geojson(partnerships, request, user=request.user, filters=filters)
        )


class NetworkViewSet(ExploreViewSet):
    @extend_schema(
        summary="The network: partnerships, their parties and where the organisations are",
        description=(
            "Without `around`: the partnerships that pass the filters (the newest "
            f"{explore.NETWORK_LIMIT}; `meta.truncated` says when there are more). With "
            "`around`: the graph grown from that record, `steps` partnerships out."
        ),
        parameters=[
            OpenApiParameter(
                "around",
                str,
                description="A record to start from: place:SLUG, organisation:SLUG or "
                "partnership:SLUG.",
            ),
            OpenApiParameter(
                "steps",
                int,
                description=f"How many partnerships out from `around` (1 to {explore.MAX_STEPS}).",
                enum=list(range(1, explore.MAX_STEPS + 1)),
            ),
        ],
        responses={200: NETWORK_SCHEMA, 400: ERROR},
    )
    def list(self, request):
        around, steps = around_and_steps(request.query_params, request.user)
        written = explore.network_written(
            self.filtered(),
            around,
            steps,
            limit=explore.NETWORK_LIMIT,
            request=request,
            user=request.user,
        )
        return Response(written)


def around_and_steps(params, user=None):
    """The ``around`` record and ``steps``; a ValidationError names a bad value."""
    errors = {}
    around = None
    if params.get("around"):
        around = explore.find_around(params["around"], user)
        if around is None:
            errors["around"] = [
                "No such record; write place:SLUG, organisation:SLUG or partnership:SLUG."
            ]
    steps = params.get("steps") or "1"
    if steps not in {str(n) for n in range(1, explore.MAX_STEPS + 1)}:
        errors["steps"] = [f"A whole number from 1 to {explore.MAX_STEPS}."]
    if errors:
        raise ValidationError(errors)
    return around, int(steps)


class DocsView(SpectacularSwaggerSplitView):
    """The API's documentation page (Swagger UI), for anyone, signed in or not.

    It reads no one's credentials: the page is the same for all. DRF renders an error
    through the page's HTML template, whose context processors ask for the user, so a
    refused request (an ``Accept`` it cannot meet) with an unknown token authenticated
    there, outside DRF's error handling, and ended in a server error.
    """

    authentication_classes = []
    # GET alone: an OPTIONS request was rendered through the page's HTML template, which
    # has none for it (TemplateDoesNotExist, a server error).
    http_method_names = ["get", "head"]
