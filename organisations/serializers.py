from django_countries.serializers import CountryFieldMixin
from rest_framework import serializers

from core.serializers import (
    LinkedSerializer,
    ListedFieldsMixin,
    ListedListSerializer,
    NestedSlugField,
    RecordSerializer,
    SlugIdentityField,
    sources_field,
    with_listed,
)
from places.models import Place
from places.serializers import PlaceSummarySerializer

from .models import Organisation, OrganisationName


class OrganisationSummarySerializer(CountryFieldMixin, LinkedSerializer):
    url = SlugIdentityField("api:organisation-detail")

    class Meta:
        model = Organisation
        fields = ["url", "public_url", "slug", "name", "short_name", "kind", "country"]


class OrganisationNameSerializer(ListedFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = OrganisationName
        fields = ["name", "language", "kind"]
        list_serializer_class = ListedListSerializer


class OrganisationSerializer(CountryFieldMixin, RecordSerializer, LinkedSerializer):
    url = SlugIdentityField("api:organisation-detail")
    place = NestedSlugField(
        PlaceSummarySerializer,
        slug_field="slug",
        queryset=Place.objects.all(),
        required=False,
        allow_null=True,
    )
    parent = NestedSlugField(
        OrganisationSummarySerializer,
        slug_field="slug",
        queryset=Organisation.objects.all(),
        required=False,
        allow_null=True,
    )
    other_names = OrganisationNameSerializer(many=True, read_only=True)
    sources = sources_field()

    class Meta:
        model = Organisation
        fields = [
            "url",
            "public_url",
            "slug",
            "publication",
            "name",
            "short_name",
            "native_name",
            "native_language",
            "kind",
            "country",
            "place",
            "parent",
            "website",
            "description",
            "wikidata_id",
            "ror_id",
            "other_names",
            "sources",
            "last_reviewed_on",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"slug": {"required": False}}


def organisation_queryset(listed_only=False):
    """Everything an organisation's representation shows; with ``listed_only``, its
    relations as lists, for reading (``core.serializers.with_listed``)."""
    records = Organisation.objects.select_related("place", "parent")
    return with_listed(records, ["other_names", "sources"], listed_only)
