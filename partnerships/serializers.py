from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import ListedById
from core.serializers import (
    CleanSerializer,
    LinkedSerializer,
    ListedListSerializer,
    NestedSlugField,
    PartialDateField,
    RecordSerializer,
    SlugIdentityField,
    SourceSummarySerializer,
    TranslatedField,
    TranslatedSerializer,
    reader,
    reading,
    sources_field,
    validation_error,
    with_listed,
)
from core.translation import translated_columns
from core.visibility import linkable
from organisations.models import Organisation
from places.models import Place
from places.serializers import PlaceSummarySerializer

from .as_of import UNCONFIRMED, current_state
from .models import Event, Participant, Partnership, Theme
from .services import partnership_create


class ThemeSerializer(CleanSerializer):
    url = SlugIdentityField("api:theme-detail")
    public_url = serializers.SerializerMethodField()

    class Meta:
        model = Theme
        # ``updated_at`` as a record's: when it last changed, for an integrator's sync.
        fields = ["url", "public_url", "slug", "name", "name_da", "description", "updated_at"]

    def get_public_url(self, obj) -> str:
        """Themes have no page of their own: the public list of their partnerships."""
        address = reading(self).addresses.view("partnerships:partnership-list")
        return f"{address}?theme={obj.slug}"

    def save(self, **kwargs):
        return super().save(updated_by=self.context["request"].user, **kwargs)


class ParticipantSerializer(TranslatedSerializer):
    """Read: the party as a place or an organisation. Written: a place or organisation slug."""

    type = serializers.SerializerMethodField()
    slug = serializers.SerializerMethodField()
    name = TranslatedField("name", source="party", read_only=True)
    country = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    public_url = serializers.SerializerMethodField()
    place = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Place.objects.all(),
        required=False,
        allow_null=True,
        write_only=True,
    )
    organisation = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Organisation.objects.all(),
        required=False,
        allow_null=True,
        write_only=True,
    )

    class Meta:
        model = Participant
        fields = [
            "type",
            "slug",
            "name",
            "country",
            "url",
            "public_url",
            "role",
            "note",
            "place",
            "organisation",
        ]
        list_serializer_class = ListedListSerializer

    def get_type(self, obj) -> str:
        return "place" if obj.place_id else "organisation"

    def get_slug(self, obj) -> str:
        return obj.party.slug

    def get_country(self, obj) -> str:
        # The code as the record holds it: read through django-countries' descriptor, each
        # was made a Country first, to be written as the same code.
        party = obj.party
        code = party.__dict__.get("country")
        return str(party.country) if code is None else code

    def get_url(self, obj) -> str | None:
        if not linkable(obj.party, reader(self.context.get("request"))):
            return None
        return reading(self).addresses.slug(f"api:{self.get_type(obj)}-detail", obj.party.slug)

    def get_public_url(self, obj) -> str | None:
        if not linkable(obj.party, reader(self.context.get("request"))):
            return None
        return reading(self).addresses.record(obj.party)


class EventSerializer(TranslatedSerializer):
    date = PartialDateField(allow_null=True)
    place = PlaceSummarySerializer(allow_null=True)
    source = SourceSummarySerializer(allow_null=True)

    class Meta:
        model = Event
        fields = ["date", "kind", "text", "place", "source"]
        list_serializer_class = ListedListSerializer


class PartnershipSerializer(RecordSerializer, LinkedSerializer):
    url = SlugIdentityField("api:partnership-detail")
    start = PartialDateField(required=False, allow_null=True)
    end = PartialDateField(required=False, allow_null=True)
    status_as_of = PartialDateField(
        required=False,
        allow_null=True,
        help_text="When a source last confirmed the status.",
    )
    status_today = serializers.SerializerMethodField(
        help_text="The status as a reader should take it today: 'unconfirmed' when an active "
        "or planned status was last confirmed more than five years ago."
    )
    participants = ParticipantSerializer(
        many=True,
        help_text="At least two on creation; change participants in the admin.",
    )
    themes = NestedSlugField(
        ThemeSerializer, slug_field="slug", queryset=Theme.objects.all(), many=True, required=False
    )
    events = EventSerializer(many=True, read_only=True)
    sources = sources_field()

    class Meta:
        model = Partnership
        fields = [
            "url",
            "public_url",
            "slug",
            "publication",
            "title",
            "kind",
            "status",
            "status_as_of",
            "status_today",
            "start",
            "end",
            "participants",
            "themes",
            "description",
            "events",
            "sources",
            "last_reviewed_on",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"slug": {"required": False}}

    @extend_schema_field(serializers.ChoiceField(choices=[*Partnership.Status, UNCONFIRMED]))
    def get_status_today(self, partnership):
        return current_state(partnership)

    def validate(self, attrs):
        participants = attrs.pop("participants", None)
        if participants is not None and self.instance is not None:
            raise serializers.ValidationError(
                {"participants": ["Participants are changed in the admin, not here."]}
            )
        attrs = super().validate(attrs)
        if participants is not None:
            attrs["participants"] = participants
        return attrs

    def create(self, validated_data):
        user = validated_data.pop("created_by")
        validated_data.pop("updated_by")
        participants = [
            {key: value for key, value in data.items() if value is not None}
            for data in validated_data.pop("participants")
        ]
        try:
            # The same path as every other way in: at least two participants, all clean.
            return partnership_create(
                participants=participants,
                themes=validated_data.pop("themes", ()),
                sources=validated_data.pop("sources", ()),
                user=user,
                **validated_data,
            )
        except DjangoValidationError as error:
            raise validation_error(error) from None


# What a participant's representation reads of its place or organisation
# (``ParticipantSerializer``); their other columns (descriptions, search keys,
# coordinates, identifiers) stay in the database. Read whole, the 50 parties of twenty
# partnerships cost 0.4–1.3 ms more CPU at 10,000 partnerships. A serializer that reads
# another of their fields makes a query per participant, which the API's query budgets
# catch.
PARTY_FIELDS = ["slug", *translated_columns("name"), "country", "publication"]


# A participant's place or organisation, as its representation shows it: kept for each
# set of them until places or organisations change, not joined (``ListedById``).
PARTICIPANTS = ListedById(
    Partnership,
    "participants",
    kept={"place": PARTY_FIELDS, "organisation": PARTY_FIELDS},
    of=("places", "organisations"),
)
EVENTS = ListedById(Partnership, "events", lambda: Event.objects.select_related("place", "source"))


def partnership_queryset(listed_only=False):
    """Everything a partnership's representation shows; with ``listed_only``, its
    relations as lists, for reading (``core.serializers.with_listed``)."""
    relations = [PARTICIPANTS, "themes", "sources", EVENTS]
    return with_listed(Partnership.objects.all(), relations, listed_only)
