"""What every API representation shares: links, partial dates, both content languages,
writes checked like the admin."""

import copy
import functools
from operator import attrgetter

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type, build_object_type
from drf_spectacular.types import OpenApiTypes
from modeltranslation.translator import NotRegistered, translator
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField
from rest_framework.relations import MANY_RELATION_KWARGS, PKOnlyObject
from rest_framework.utils.serializer_helpers import BindingDict

from .dates import PartialDate
from .links import Addresses
from .models import PUBLICATION_REASONS, ListedById, Publication, Source, listed, load_parts
from .translation import (
    LANGUAGES,
    content_language,
    fallback_order,
    localized_field,
    translated,
    translations,
)
from .visibility import linkable


def validation_error(error):
    """The admin's messages, keyed the way a DRF client expects them."""
    if hasattr(error, "error_dict"):
        detail = {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    else:
        detail = {"non_field_errors": error.messages}
    return ValidationError(detail)


class PartialDateField(serializers.Field):
    """Written as text ('1980s', 'c. 2008'); read with its precision and the days it spans."""

    def to_internal_value(self, data):
        if data in ("", None):
            return None
        try:
            return PartialDate.parse(data)
        except DjangoValidationError as error:
            raise ValidationError(error.messages) from None

    def to_representation(self, value):
        value = PartialDate.parse(value)
        return {
            "text": str(value),
            "precision": value.precision,
            "circa": value.circa,
            "earliest": value.earliest.isoformat(),
            "latest": value.latest.isoformat(),
            "display": str(value.display()),
        }


PARTIAL_DATE_RESPONSE = build_object_type(
    properties={
        "text": build_basic_type(OpenApiTypes.STR),
        "precision": {"type": "string", "enum": ["decade", "year", "month", "day"]},
        "circa": build_basic_type(OpenApiTypes.BOOL),
        "earliest": build_basic_type(OpenApiTypes.DATE),
        "latest": build_basic_type(OpenApiTypes.DATE),
        "display": build_basic_type(OpenApiTypes.STR),
    },
    required=["text", "precision", "circa", "earliest", "latest", "display"],
)


class PartialDateFieldExtension(OpenApiSerializerFieldExtension):
    target_class = PartialDateField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return {
                "type": "string",
                "description": "2007, 2011-05, 2011-05-03, 1980s or c. 2008",
                "example": "1980s",
            }
        return dict(PARTIAL_DATE_RESPONSE)


def with_listed(records, relations, listed_only):
    """``records`` with their ``relations`` (names, or a ``ListedById`` for a relation read
    through a queryset of its own) prefetched; with ``listed_only``, into lists
    (``listed(relation)``), read by ``ListedById``.

    Lists only for reading: a record written through the API is read back from its
    relations, which DRF clears of what was prefetched, where a list would keep what it
    was before.
    """
    if listed_only:
        return records.with_listed(*relations)
    return records.prefetch_related(
        *(
            relation.prefetch() if isinstance(relation, ListedById) else relation
            for relation in relations
        )
    )


class ListedRelationMixin:
    # A to-many field (a nested ListSerializer, a ManyRelatedField) that reads the list
    # ``listed(source)`` where the record has one, and the relation itself elsewhere (a
    # record just written). (A comment: the schema takes docstrings for descriptions.)

    def get_attribute(self, instance):
        # Read with those of the page if its query left them for later (``load_parts``).
        load_parts((instance,))
        records = getattr(instance, "__dict__", {}).get(listed(self.source))
        return super().get_attribute(instance) if records is None else records


class ListedListSerializer(ListedRelationMixin, serializers.ListSerializer):
    pass


class ListedManyRelatedField(ListedRelationMixin, serializers.ManyRelatedField):
    pass


class NestedSlugField(serializers.SlugRelatedField):
    """Written as a slug (or pk); read as the nested summary of ``summary_class``."""

    def __init__(self, summary_class, **kwargs):
        self.summary_class = summary_class
        super().__init__(**kwargs)

    @classmethod
    def many_init(cls, *args, **kwargs):
        # As DRF's, with a field that reads a listed relation.
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        list_kwargs.update(
            (key, value) for key, value in kwargs.items() if key in MANY_RELATION_KWARGS
        )
        return ListedManyRelatedField(**list_kwargs)

    def use_pk_only_optimization(self):
        return False

    def to_representation(self, obj):
        # One summary serializer per field, not per object: building a ModelSerializer's
        # fields costs far more than using them, and lists repeat this for every row.
        # And one summary per record: the API's twenty partnerships name the same few
        # themes sixty times, each summary with two addresses built, and the list took
        # 8-13% less CPU at 10,000 partnerships written once per theme. A field is bound
        # to one representation, for one request (``ListedFieldsMixin.fields`` copies
        # it), in which a record reads the same every time it comes.
        try:
            return self._represented[obj.pk]
        except AttributeError:
            self._summary = self.summary_class(context=self.context)
            self._represented = {}
        except KeyError:
            pass
        summary = self._represented[obj.pk] = self._summary.to_representation(obj)
        return summary


class NestedSlugFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NestedSlugField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        if direction == "request":
            kind = OpenApiTypes.INT if field.slug_field == "pk" else OpenApiTypes.STR
            schema = build_basic_type(kind)
            schema["description"] = f"the {field.slug_field} of the related record"
            return schema
        return auto_schema.resolve_serializer(field.summary_class, direction).ref


def translated_fields(model):
    """The fields ``model`` keeps in every content language (``name``: ``name_da``, ``name_en``)."""
    try:
        return tuple(translator.get_options_for_model(model).fields)
    except NotRegistered:
        return ()


def unknown_language(codes):
    return _("Unknown language “%(code)s”: use da (Danish) or en (English).") % {
        "code": "”, “".join(codes)
    }


class Reading:
    """What every field of one representation shares: the request's content language and
    its addresses (``core.links.Addresses``). Looked up once per representation rather
    than once per field and record: a list of twenty partnerships, with their
    participants, themes and events, asked for the language 400 times."""

    __slots__ = ("language", "order", "addresses")

    def __init__(self, request):
        self.language = content_language()
        # The languages a text falls back through: 370 texts of twenty partnerships each
        # worked it out again.
        self.order = fallback_order(self.language)
        self.addresses = Addresses(request)


def reading(field):
    """The ``Reading`` of the representation ``field`` (a field or a serializer) is part of.

    Kept on the field as well as on the root: ``field.root`` walks up through every
    parent, and twenty partnerships asked 650 times. A field is bound to one
    representation; the unbound fields it is copied from are never read."""
    try:
        return field._reading
    except AttributeError:
        pass
    root = field.root
    state = getattr(root, "_reading", None)
    if state is None:
        state = root._reading = Reading(root.context.get("request"))
    field._reading = state
    return state


class TranslatedField(serializers.CharField):
    """``name``: read in the request's language, else in the other one; written into the
    request's language only (``core.api.ContentLanguageMixin`` chose and activated it)."""

    def __init__(self, field, **kwargs):
        self.translated_field = field
        kwargs.setdefault("source", "*")
        kwargs["help_text"] = (
            "In the request's language (`lang`, else `Accept-Language`, else English), else "
            f"in the other one: `{field}_language` says which. Written: the request's language."
        )
        super().__init__(**kwargs)

    def to_representation(self, record):
        return translated(record, self.translated_field, order=reading(self).order)[0]

    def run_validation(self, data=serializers.empty):
        value = super().run_validation(data)
        return {localized_field(self.translated_field, content_language()): value}


class TranslationsField(serializers.DictField):
    """``names``: ``{"da": …, "en": …}``, null for a language the record lacks. Written:
    only the languages given; null or "" removes one."""

    def __init__(self, field, **kwargs):
        self.translated_field = field
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, record):
        return translations(record, self.translated_field)

    def to_internal_value(self, data):
        if isinstance(data, dict) and (unknown := sorted(set(data) - set(LANGUAGES))):
            raise ValidationError(unknown_language(unknown))
        values = super().to_internal_value(data)
        return {
            localized_field(self.translated_field, code): value or None
            for code, value in values.items()
        }


class TranslatedLanguageField(serializers.ReadOnlyField):
    """``name_language``: the language ``name`` is shown in; null when it has none."""

    def __init__(self, field, **kwargs):
        self.translated_field = field
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, record):
        return translated(record, self.translated_field, order=reading(self).order)[1]


class TranslationsFieldExtension(OpenApiSerializerFieldExtension):
    target_class = TranslationsField

    def map_serializer_field(self, auto_schema, direction):
        text = {"type": "string", "nullable": True}
        if self.target.child.max_length:
            text["maxLength"] = self.target.child.max_length
        schema = {
            "type": "object",
            "properties": {code: dict(text) for code in LANGUAGES},
            "description": (
                "Every content language, da (Danish) and en (English); null where the record "
                "has none."
            ),
        }
        if direction == "request":
            schema["additionalProperties"] = False
            schema["description"] = (
                "The languages to write, da and/or en; null or an empty text removes one. "
                "Languages left out stay as they are."
            )
        else:
            schema["required"] = list(LANGUAGES)
        return schema


class TranslatedLanguageFieldExtension(OpenApiSerializerFieldExtension):
    target_class = TranslatedLanguageField

    def map_serializer_field(self, auto_schema, direction):
        field = self.target.translated_field
        return {
            "type": "string",
            "enum": [*LANGUAGES, None],
            "nullable": True,
            "readOnly": True,
            "description": (
                f"The language `{field}` is in: the request's, or the other one where the "
                "record lacks it; null when it is empty in both."
            ),
        }


# {(serializer class, language): its fields, as get_fields() built them, unbound}
_BUILT_FIELDS = {}
# Fields that hold other fields, which each copy must hold copies of: each is bound to
# the field that holds it, and reads the request through it.
_HOLDING_FIELDS = (
    serializers.BaseSerializer,
    serializers.ListField,
    serializers.DictField,
    serializers.HStoreField,
    serializers.ManyRelatedField,
)


def _copied(field):
    """A new, unbound field, as ``field`` is. A plain field is copied as it is: it shares
    what it was declared with (choices, validators, a queryset), which a field only reads,
    and binding sets the copy's own name and parent. DRF's own copy deep-copies its
    arguments (a place's country field copied its 250 countries), and making it anew from
    them took 0.4 ms of the 5.4 that twenty partnerships took to serialize."""
    if isinstance(field, _HOLDING_FIELDS):
        return copy.deepcopy(field)
    return copy.copy(field)


def _as_is(value):
    return value


# DRF's representations that are the value itself, or ``str`` or ``int`` of it.
_PLAIN = {
    serializers.ReadOnlyField.to_representation: _as_is,
    serializers.CharField.to_representation: str,
    serializers.IntegerField.to_representation: int,
}


@functools.cache
def _columns(model):
    """The names of ``model``'s columns that hold plain values, not relations."""
    return {
        name
        for field in model._meta.concrete_fields
        if not field.is_relation
        for name in (field.name, field.attname)
    }


def _how_to_read(field, model):
    """(read, represent, general) for ``field`` of a serializer of ``model``.

    ``read`` is None for the record itself (``source="*"``), a plain attribute read for a
    column, else the field's own ``get_attribute`` (``general``: it may skip the field or
    give a primary key only). ``represent`` is the field's ``to_representation``, or
    ``str``, ``int`` or the value itself where that is all it does.
    """
    represent = _PLAIN.get(type(field).to_representation, field.to_representation)
    if type(field).get_attribute is not serializers.Field.get_attribute:
        return field.get_attribute, represent, True
    attrs = field.source_attrs
    if not attrs:
        return None, represent, False
    if len(attrs) == 1 and model is not None and attrs[0] in _columns(model):
        return attrgetter(attrs[0]), represent, False
    return field.get_attribute, represent, True


class ListedFieldsMixin:
    # The fields a representation shows, found once per serializer: DRF looks through
    # every field for them on every record, and a list's child serializer reads every row.
    # (A comment, not a docstring: the API schema describes each serializer by the
    # nearest docstring of its classes.)
    #
    # Its fields are built once per class and language, then copied for each serializer:
    # a ModelSerializer builds them from the model's fields each time, which took 1.7 ms
    # of the 6.7 that twenty partnerships took to serialize. Built per language, since
    # labels and help texts may be made in the reader's.

    @cached_property
    def fields(self):
        key = (type(self), get_language())
        built = _BUILT_FIELDS.get(key)
        if built is None:
            built = _BUILT_FIELDS[key] = self.get_fields()
        fields = BindingDict(self)
        for name, field in built.items():
            fields[name] = _copied(field)
        return fields

    @cached_property
    def _readable_fields(self):
        return [field for field in self.fields.values() if not field.write_only]

    @cached_property
    def _reading_plan(self):
        model = getattr(getattr(self, "Meta", None), "model", None)
        return [(field.field_name, *_how_to_read(field, model)) for field in self._readable_fields]

    def to_representation(self, instance):
        # As DRF's, field by field, with each field's way of reading found once
        # (``_how_to_read``): DRF's reads a column through the general path of
        # ``fields.get_attribute``, which asks whether the record is a mapping and its
        # value a callable, then through the field's representation. Twenty partnerships
        # read 1,700 values so.
        representation = {}
        for name, read, represent, general in self._reading_plan:
            if general:
                try:
                    value = read(instance)
                except SkipField:
                    continue
                checked = value.pk if isinstance(value, PKOnlyObject) else value
            else:
                value = checked = instance if read is None else read(instance)
            representation[name] = None if checked is None else represent(value)
        return representation


class TranslatedSerializer(ListedFieldsMixin, serializers.ModelSerializer):
    """Each translated field comes in the request's language, in every language and with the
    language it is shown in; a place without a Danish name, read in Danish::

        "name": "Wuxi", "names": {"da": null, "en": "Wuxi"}, "name_language": "en"

    ``title``, ``description``, ``text`` and ``note`` alike (``titles``, ``title_language``…).
    """

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if field_name in translated_fields(model_field.model):
            field_class = TranslatedField
            # Either the plain field or the map gives it; the model says when none does.
            kwargs.update(field=field_name, required=False)
        return field_class, kwargs

    def get_fields(self):
        fields = {}
        for name, field in super().get_fields().items():
            fields[name] = field
            if isinstance(field, TranslatedField):
                text = serializers.CharField(
                    max_length=field.max_length, allow_blank=True, allow_null=True
                )
                fields[f"{name}s"] = TranslationsField(
                    field.translated_field,
                    source=field.source,
                    child=text,
                    read_only=field.read_only,
                    required=False,
                )
                fields[f"{name}_language"] = TranslatedLanguageField(
                    field.translated_field, source=field.source
                )
        return fields

    def to_internal_value(self, data):
        language = content_language()
        for name, field in self.fields.items():
            given = data.get(f"{name}s") if isinstance(data, dict) else None
            if (
                isinstance(field, TranslatedField)
                and isinstance(given, dict)
                and name in data
                and given.get(language, data[name]) != data[name]
            ):
                message = _(
                    "%(plain)s and %(plural)s give different texts in the request's language "
                    "(%(language)s); send one of them."
                ) % {"plain": name, "plural": f"{name}s", "language": language}
                raise ValidationError({f"{name}s": [message]})
        return super().to_internal_value(data)


class IdentityField(serializers.HyperlinkedIdentityField):
    """A record's API address, without a ``reverse()`` per record (``core.links``)."""

    def to_representation(self, value):
        # A plain string: DRF's Hyperlink holds the record, and a page of partnerships
        # kept with theirs (partnerships.api) took 4.1 ms to pickle (65 KB) and 3.4 ms
        # to read back, against 0.2 and 0.4 (31 KB) without.
        url = super().to_representation(value)
        return None if url is None else str(url)

    def get_url(self, obj, view_name, request, format):
        if format or obj.pk is None:
            return super().get_url(obj, view_name, request, format)
        value = getattr(obj, self.lookup_field)
        return reading(self).addresses.lookup(view_name, self.lookup_url_kwarg, value)


class SlugIdentityField(IdentityField):
    """A record's API address by its slug; none for a draft the reader may not open."""

    def __init__(self, view_name, **kwargs):
        super().__init__(view_name=view_name, lookup_field="slug", **kwargs)

    def get_url(self, obj, view_name, request, format):
        if not linkable(obj, reader(request)):
            return None
        return super().get_url(obj, view_name, request, format)


class LinkedSerializer(TranslatedSerializer):
    """A record with its API address (``url``) and its public page (``public_url``)."""

    public_url = serializers.SerializerMethodField()

    def get_public_url(self, obj) -> str | None:
        if not linkable(obj, reader(self.context.get("request"))):
            return None
        return reading(self).addresses.record(obj)


def reader(request):
    """The API client's user; a nested draft gets no address unless they may see it."""
    return getattr(request, "user", None)


class CleanSerializer(TranslatedSerializer):
    """Writes run the model's ``full_clean``: the admin's rules and messages, no others."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        relations = {
            name: attrs.pop(name)
            for name in list(attrs)
            if self.Meta.model._meta.get_field(name).many_to_many
        }
        instance = self.instance or self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as error:
            raise validation_error(error) from None
        attrs.update(relations)
        return attrs

    def save(self, **kwargs):
        # The history middleware knows the user too; this also covers calls outside a view.
        if self.instance is not None:
            self.instance._history_user = self.context["request"].user
        return super().save(**kwargs)


class RecordSerializer(CleanSerializer):
    """A record also remembers who created it and who changed it last, as in the admin.

    Publishing through the API asks the model's rule (``Publishable.publish_problems``),
    as the admin and the import do, and leaves the same history entry.
    """

    def validate(self, attrs):
        was = getattr(self.instance, "publication", None)
        attrs = super().validate(attrs)
        publication = attrs.get("publication", was)
        if publication == Publication.PUBLISHED and was != Publication.PUBLISHED:
            # A new record has no sources of its own yet: the ones sent are what counts.
            record = self.instance or self.Meta.model()
            problems = record.publish_problems(
                user=self.context["request"].user, sources=attrs.get("sources")
            )
            if problems:
                raise ValidationError({"publication": [str(problem) for problem in problems]})
        if self.instance is not None and publication != was:
            self.instance._change_reason = PUBLICATION_REASONS[publication]
        return attrs

    def save(self, **kwargs):
        user = self.context["request"].user
        if self.instance is None:
            kwargs["created_by"] = user
        kwargs["updated_by"] = user
        return super().save(**kwargs)


class CitationField(serializers.CharField):
    """A source's citation. Called here: DRF inspects a callable's signature on every
    record before it calls it (``is_simple_callable``)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return instance.citation()


class SourceSummarySerializer(ListedFieldsMixin, serializers.ModelSerializer):
    url = IdentityField(view_name="api:source-detail")
    published = PartialDateField(allow_null=True)
    citation = CitationField()

    class Meta:
        model = Source
        fields = ["id", "url", "title", "author", "published", "citation"]


class SourceSerializer(RecordSerializer):
    url = IdentityField(view_name="api:source-detail")
    published = PartialDateField(required=False, allow_null=True)
    web_address = serializers.URLField(
        source="url", max_length=500, required=False, allow_blank=True
    )
    citation = CitationField()

    class Meta:
        model = Source
        fields = [
            "id",
            "url",
            "title",
            "author",
            "published",
            "language",
            "web_address",
            "page",
            "notes",
            "citation",
            "last_reviewed_on",
            "created_at",
            "updated_at",
        ]


def sources_field():
    """The ``sources`` of a record: written as source ids, read as citations."""
    return NestedSlugField(
        SourceSummarySerializer,
        slug_field="pk",
        queryset=Source.objects.all(),
        many=True,
        required=False,
    )
