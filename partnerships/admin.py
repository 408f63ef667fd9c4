from django.contrib import admin
from django.contrib.admin.filters import FieldListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import lookup_spawns_duplicates
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.forms.models import BaseInlineFormSet
from django.http import JsonResponse
from django.urls import path, reverse_lazy
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from modeltranslation.admin import TranslationAdmin, TranslationStackedInline

from core.admin import (
    FastAdminMixin,
    FastInlineMixin,
    PublishableRecordAdmin,
    RecordAdmin,
    ReviewStatusFilter,
    TranslatedFieldsMixin,
    UnchangedSinceOpenedAdmin,
    side_by_side,
    translated_column,
)
from core.forms import FastModelForm, OneOfRecordsField, record_value
from core.pagination import EitherEndPaginator
from importing.admin import SpreadsheetAdminMixin
from organisations.models import Organisation
from places.models import Place

from . import facets
from .models import MIN_PARTICIPANTS, Event, Participant, Partnership, Theme
from .resources import PartnershipType, ThemeType

# The kinds of party, in the order the participant autocomplete groups them.
PARTY_MODELS = [Place, Organisation]
# Records of each kind per page of the participant autocomplete.
PARTY_PAGE_SIZE = 10
PARTY_LAST_PAGE = 10**9
# Parties named in a row of the partnership list.
SHOWN_PARTIES = 3


class ParticipantForm(FastModelForm):
    """A participant's party in one autocomplete over places and organisations, saved to
    ``place`` or ``organisation``; the model still checks that exactly one is set."""

    party = OneOfRecordsField(
        [model.objects.all() for model in PARTY_MODELS],
        url=reverse_lazy("admin:partnerships_partnership_parties"),
        label=_("place or organisation"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        party = self.instance.party  # read with the row: ParticipantInline.get_queryset
        if party is not None:
            self.initial.setdefault("party", party)
            self.fields["party"].widget.known_labels = {record_value(party): str(party)}

    def clean(self):
        cleaned_data = super().clean()
        party = cleaned_data.get("party")
        self.instance.place = party if isinstance(party, Place) else None
        self.instance.organisation = party if isinstance(party, Organisation) else None
        return cleaned_data

    def _post_clean(self):
        # Without a party the model's "exactly one" rule would only repeat the field's error.
        if not self.has_error("party"):
            super()._post_clean()


class ParticipantFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        parties = set()
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE"):
                continue
            party = form.cleaned_data.get("party")
            if party is not None and party in parties:
                form.add_error(None, _("%(party)s is already a participant.") % {"party": party})
            parties.add(party)
        parties.discard(None)
        Partnership.check_participant_count(len(parties))


class ParticipantInline(FastInlineMixin, admin.TabularInline):
    model = Participant
    add_another_text = _("Add another participant")
    form = ParticipantForm
    formset = ParticipantFormSet
    fields = ["party", "role", "note"]
    # Show two empty rows on a new partnership; the formset insists on two parties.
    min_num = MIN_PARTICIPANTS
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("place", "organisation")


class EventInline(TranslatedFieldsMixin, FastInlineMixin, TranslationStackedInline):
    model = Event
    add_another_text = _("Add another event")
    fields = [("date", "kind"), side_by_side("text"), ("place", "source")]
    autocomplete_fields = ["place", "source"]
    extra = 0


class ThemesFilter(admin.RelatedFieldListFilter):
    """The themes filter of the partnership list: Django's own, asking for a tie with EXISTS,
    which repeats no row (see ``PartnershipChangeList``)."""

    def queryset(self, request, queryset):
        ties = Partnership.themes.through.objects.filter(partnership=OuterRef("pk"))
        themes = self.used_parameters.get(self.lookup_kwarg)
        without = self.used_parameters.get(self.lookup_kwarg_isnull)
        if themes:
            try:
                queryset = queryset.filter(Exists(ties.filter(theme__in=themes)))
            except (ValueError, ValidationError) as error:
                raise IncorrectLookupParameters(error) from error
        if without:
            queryset = queryset.filter(~Exists(ties) if without[-1] else Exists(ties))
        return queryset


class PartnershipChangeList(ChangeList):
    """The partnership list without DISTINCT for the themes filter.

    Django adds DISTINCT over every column for any filter across a many-to-many, which at
    100,000 partnerships sorted every matching row for the count and again for the page.
    The themes filter repeats no row; any other such filter still gets DISTINCT.
    """

    def get_filters(self, request):
        specs, has_filters, remaining, _duplicates, active = super().get_filters(request)
        used = [
            spec.field_path
            for spec in specs
            if isinstance(spec, FieldListFilter)
            and spec.used_parameters
            and not isinstance(spec, ThemesFilter)
        ]
        duplicates = any(
            lookup_spawns_duplicates(self.lookup_opts, path) for path in [*used, *remaining]
        )
        return specs, has_filters, remaining, duplicates, active


class KeptCountPaginator(EitherEndPaginator):
    """Pages of partnerships; those of the whole registry counted as the writes keep it
    (``partnerships.facets``): PostgreSQL took 8 ms to count 100,000 rows on every page."""

    @cached_property
    def count(self):
        rows = self.object_list
        if isinstance(rows, QuerySet) and (scope := facets.scope_of(rows)) is not None:
            return facets.total(scope, rows.db)
        return super().count


class SubqueryCount(Subquery):
    """The number of rows of a correlated subquery, counted for each row shown only."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) counted)"
    output_field = IntegerField()


@admin.register(Theme)
class ThemeAdmin(
    SpreadsheetAdminMixin,
    TranslatedFieldsMixin,
    TranslationAdmin,
    FastAdminMixin,
    UnchangedSinceOpenedAdmin,
):
    import_spec = ThemeType
    list_display = [*side_by_side("name"), "slug", "partnership_count"]
    search_fields = [*side_by_side("name"), "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    readonly_fields = ["updated_at", "updated_by"]
    fieldsets = [
        (None, {"fields": [side_by_side("name"), "slug", side_by_side("description")]}),
        (_("Changes"), {"fields": [("updated_at", "updated_by")]}),
    ]

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        # A count per theme shown, from the index on the theme column, rather than a join
        # and GROUP BY over every tie that each of the list's counts would repeat.
        ties = Partnership.themes.through.objects.filter(theme=OuterRef("pk")).values("theme")
        return super().get_queryset(request).annotate(partnership_count=SubqueryCount(ties))

    @admin.display(description=_("partnerships"), ordering="partnership_count")
    def partnership_count(self, obj):
        return obj.partnership_count


@admin.register(Partnership)
class PartnershipAdmin(SpreadsheetAdminMixin, PublishableRecordAdmin):
    import_spec = PartnershipType
    list_display = [
        translated_column("title", _("title")),
        "kind",
        "status",
        "period",
        "participant_list",
        "review_status",
    ]
    list_filter = ["kind", "status", ("themes", ThemesFilter), ReviewStatusFilter]
    autocomplete_fields = ["sources"]
    filter_horizontal = ["themes"]
    # The web address comes from the English title, as Record.derive() makes it.
    prepopulated_fields = {"slug": ["title_en"]}
    inlines = [ParticipantInline, EventInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    side_by_side("title"),
                    "slug",
                    ("kind", "status", "status_as_of"),
                    ("start", "end"),
                    "themes",
                    side_by_side("description"),
                    "sources",
                ]
            },
        ),
        RecordAdmin.record_fieldset,
    ]

    paginator = KeptCountPaginator

    def get_changelist(self, request, **kwargs):
        return PartnershipChangeList

    def get_urls(self):
        return [
            path(
                "parties/",
                self.admin_site.admin_view(self.party_search_view),
                name="partnerships_partnership_parties",
            ),
            *super().get_urls(),
        ]

    def party_search_view(self, request):
        """The participant autocomplete: places and organisations found by any of their
        names (their search keys), grouped by kind, as select2 reads them."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        try:
            # Past the last page is an empty one; past this one the offset no longer
            # fits the database's integers.
            page = min(max(int(request.GET.get("page") or 1), 1), PARTY_LAST_PAGE)
        except ValueError:
            page = 1
        start = (page - 1) * PARTY_PAGE_SIZE
        groups, more = [], False
        for model in PARTY_MODELS:
            if not self.admin_site.get_model_admin(model).has_view_permission(request):
                continue
            found = model.objects.search(request.GET.get("term", "")).only(*side_by_side("name"))
            records = list(found[start : start + PARTY_PAGE_SIZE + 1])
            more |= len(records) > PARTY_PAGE_SIZE
            if records:
                children = [
                    {"id": record_value(record), "text": str(record)}
                    for record in records[:PARTY_PAGE_SIZE]
                ]
                groups.append(
                    {"text": str(capfirst(model._meta.verbose_name_plural)), "children": children}
                )
        return JsonResponse({"results": groups, "pagination": {"more": more}})

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                # The list names each party: their names alone, not whole rows.
                Prefetch(
                    "participants",
                    queryset=Participant.objects.select_related("place", "organisation").only(
                        "partnership",
                        *(f"place__{name}" for name in side_by_side("name")),
                        *(f"organisation__{name}" for name in side_by_side("name")),
                    ),
                ),
            )
        )

    @admin.display(description=_("period"), ordering="start_on")
    def period(self, obj):
        if not obj.start and not obj.end:
            return None
        return f"{obj.start or '…'}–{obj.end or ''}"

    @admin.display(description=_("participants"))
    def participant_list(self, obj):
        # A few names keep a row short; the themes are in the filter beside the list.
        participants = obj.participants.all()
        names = ", ".join(str(participant) for participant in participants[:SHOWN_PARTIES])
        more = len(participants) - SHOWN_PARTIES
        if more <= 0:
            return names
        return ngettext("%(names)s and %(count)d other", "%(names)s and %(count)d others", more) % {
            "names": names,
            "count": more,
        }
