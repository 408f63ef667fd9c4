from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from .models import REVIEW_INTERVAL, Source
from .text import query_terms

admin.site.site_header = _("Partnership Atlas administration")
admin.site.site_title = _("Partnership Atlas")
admin.site.index_title = _("Keep the registry current")


class ReviewStatusFilter(admin.SimpleListFilter):
    title = _("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [
            ("stale", _("Not reviewed in the last 12 months")),
            ("never", _("Never reviewed")),
            ("recent", _("Reviewed in the last 12 months")),
        ]

    def queryset(self, request, queryset):
        since = timezone.localdate() - REVIEW_INTERVAL
        if self.value() == "stale":
            return queryset.stale()
        if self.value() == "never":
            return queryset.filter(last_reviewed_on__isnull=True)
        if self.value() == "recent":
            return queryset.reviewed_since(since)
        return queryset


class RecordAdmin(SimpleHistoryAdmin):
    """What every record's admin shares: who changed it, search by any name, review."""

    search_fields = ["search_key"]
    search_help_text = _("Finds any name or spelling, with or without accents: Arhus, 南京.")
    actions = ["mark_reviewed"]
    readonly_fields = ["created_at", "created_by", "updated_at", "updated_by"]
    record_fieldset = (
        _("Review and changes"),
        {
            "fields": [
                "last_reviewed_on",
                ("created_at", "created_by"),
                ("updated_at", "updated_by"),
            ],
        },
    )

    def get_search_results(self, request, queryset, search_term):
        # Names are matched on their folded form (core.text.fold), not with icontains,
        # so that spellings without accents or in another script still find the record.
        terms = query_terms(search_term)
        if not terms:
            return queryset, False
        return queryset.matching(terms), False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Other names live in inlines saved after the record itself.
        form.instance.refresh_search_key()

    @admin.action(description=_("Mark as reviewed today"), permissions=["change"])
    def mark_reviewed(self, request, queryset):
        today = timezone.localdate()
        count = 0
        for record in queryset:
            # One save per record so each review shows in the record's history.
            record.mark_reviewed(user=request.user, day=today)
            record._change_reason = "Marked as reviewed"
            record.save()
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d record marked as reviewed today.",
                "%(count)d records marked as reviewed today.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.display(description=_("last reviewed"), ordering="last_reviewed_on")
    def review_status(self, obj):
        if obj.last_reviewed_on is None:
            return format_html('<span class="atlas-stale">{}</span>', _("never"))
        text = obj.last_reviewed_on.strftime("%Y-%m-%d")
        if obj.is_stale:
            return format_html('<span class="atlas-stale">{} ({})</span>', text, _("stale"))
        return text


@admin.register(Source)
class SourceAdmin(RecordAdmin):
    list_display = ["title", "author", "published", "language", "review_status", "updated_at"]
    list_filter = ["language", ReviewStatusFilter]
    fieldsets = [
        (None, {"fields": ["title", "author", "published", "language", "url", "page", "notes"]}),
        RecordAdmin.record_fieldset,
    ]
