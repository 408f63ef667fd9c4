from django_countries.serializers import CountryFieldMixin
from rest_framework import serializers

from core.models import ListedById
from core.serializers import (
    LinkedSerializer,
    ListedFieldsMixin,
    ListedListSerializer,
    NestedSlugField,
    RecordSerializer,
    SlugIdentityField,
    SourceSummarySerializer,
    TranslatedSerializer,
    sources_field,
    with_listed,
)

from .models import Place, PlaceFigure, PlaceName


class PlaceSummarySerializer(CountryFieldMixin, LinkedSerializer):
    url = SlugIdentityField("api:place-detail")

    class Meta:
        model = Place
        fields = ["url", "public_url", "slug", "name", "kind", "country"]


class PlaceNameSerializer(ListedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = PlaceName
        fields = ["name", "language", "kind"]
        list_serializer_class = ListedListSerializer


class PlaceFigureSerializer(TranslatedSerializer):
    source = SourceSummarySerializer()

    class Meta:
        model = PlaceFigure
        fields = ["kind", "value", "year", "source", "note"]
        list_serializer_class = ListedListSerializer


class PlaceSerializer(CountryFieldMixin, RecordSerializer, LinkedSerializer):
    url = SlugIdentityField("api:place-detail")
    parent = NestedSlugField(
        PlaceSummarySerializer,
        slug_field="slug",
        queryset=Place.objects.all(),
        required=False,
        allow_null=True,
    )
    other_names = PlaceNameSerializer(many=True, read_only=True)
    figures = PlaceFigureSerializer(many=True, read_only=True)
    sources = sources_field()

    class Meta:
        model = Place
        fields = [
            "url",
            "public_url",
            "slug",
            "publication",
            "name",
            "native_name",
            "native_language",
            "kind",
            "country",
            "parent",
            "latitude",
            "longitude",
            "description",
            "wikidata_id",
            "geonames_id",
            "other_names",
            "figures",
            "sources",
            "last_reviewed_on",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"slug": {"required": False}}


FIGURES = ListedById(Place, "figures", lambda: PlaceFigure.objects.select_related("source"))


def place_queryset(listed_only=False):
    """Everything a place's representation shows, in a fixed number of queries; with
    ``listed_only``, its relations as lists, for reading (``core.serializers.with_listed``)."""
    relations = ["other_names", FIGURES, "sources"]
    return with_listed(Place.objects.select_related("parent"), relations, listed_only)
