from django.contrib import admin
from django.db.models import Count, Prefetch
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from core.admin import (
    FastAdminMixin,
    FastInlineMixin,
    HistoryAdmin,
    RecordAdmin,
    ReviewStatusFilter,
)
from importing.admin import SpreadsheetAdminMixin

from .models import MIN_PARTICIPANTS, Event, Participant, Partnership, Theme
from .resources import PartnershipType, ThemeType


class ParticipantFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        parties = set()
        for form in self.forms:
            if not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE"):
                continue
            party = form.cleaned_data.get("place") or form.cleaned_data.get("organisation")
            if party is not None and party in parties:
                form.add_error(None, _("%(party)s is already a participant.") % {"party": party})
            parties.add(party)
        parties.discard(None)
        Partnership.check_participant_count(len(parties))


class ParticipantInline(FastInlineMixin, admin.TabularInline):
    model = Participant
    formset = ParticipantFormSet
    fields = ["place", "organisation", "role", "note"]
    autocomplete_fields = ["place", "organisation"]
    # Show two empty rows on a new partnership; the formset insists on two parties.
    min_num = MIN_PARTICIPANTS
    extra = 0


class EventInline(FastInlineMixin, admin.StackedInline):
    model = Event
    fields = [("date", "kind"), "text", ("place", "source")]
    autocomplete_fields = ["place", "source"]
    extra = 0


@admin.register(Theme)
class ThemeAdmin(SpreadsheetAdminMixin, FastAdminMixin, HistoryAdmin):
    import_spec = ThemeType
    list_display = ["name", "name_da", "slug", "partnership_count"]
    search_fields = ["name", "name_da", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(partnership_count=Count("partnerships"))

    @admin.display(description=_("partnerships"), ordering="partnership_count")
    def partnership_count(self, obj):
        return obj.partnership_count


@admin.register(Partnership)
class PartnershipAdmin(SpreadsheetAdminMixin, RecordAdmin):
    import_spec = PartnershipType
    list_display = [
        "title",
        "kind",
        "status",
        "start",
        "end",
        "participant_list",
        "theme_list",
        "review_status",
        "updated_at",
    ]
    list_filter = ["kind", "status", "themes", ReviewStatusFilter]
    autocomplete_fields = ["sources"]
    filter_horizontal = ["themes"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ParticipantInline, EventInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    ("kind", "status", "status_as_of"),
                    ("start", "end"),
                    "themes",
                    "description",
                    "sources",
                ]
            },
        ),
        RecordAdmin.record_fieldset,
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                # The list names each party: their names alone, not whole rows.
                Prefetch(
                    "participants",
                    queryset=Participant.objects.select_related("place", "organisation").only(
                        "partnership", "place__name", "organisation__name"
                    ),
                ),
                "themes",
            )
        )

    @admin.display(description=_("participants"))
    def participant_list(self, obj):
        return ", ".join(str(participant) for participant in obj.participants.all())

    @admin.display(description=_("themes"))
    def theme_list(self, obj):
        return ", ".join(str(theme) for theme in obj.themes.all())
