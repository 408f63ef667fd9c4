from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from .models import REVIEW_INTERVAL, ImportBatch, Source
from .text import query_terms

# The import batch page lists this many of the records a batch created or changed.
RECORDS_SHOWN = 100

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

    # Staff paste addresses without a scheme; assume the secure one, as Django 6 will.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
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


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """Every spreadsheet import, with what it did; a whole import can be undone here."""

    list_display = [
        "__str__",
        "content_type",
        "user",
        "created_at",
        "created_count",
        "updated_count",
        "unchanged_count",
        "undone_at",
    ]
    list_filter = ["content_type", "created_at", "undone_at"]
    search_fields = ["file_name", "user__username"]
    list_select_related = ["user", "content_type"]
    readonly_fields = [
        "created_at",
        "user",
        "content_type",
        "file_name",
        "created_count",
        "updated_count",
        "unchanged_count",
        "undone_at",
        "undone_by",
        "records",
    ]
    fields = readonly_fields
    actions = ["undo"]

    def has_add_permission(self, request):
        return False  # imports are made by importing a file, not by hand

    @admin.display(description=_("records created or changed"))
    def records(self, batch):
        # A batch may hold thousands of records; the first ones show, with their links.
        from django.apps import apps

        listed = [
            (_("created"), apps.get_model(label), pk)
            for label, pks in (batch.created or {}).items()
            for pk in pks
        ]
        listed += [
            (_("changed"), item.content_type.model_class(), item.object_id)
            for item in batch.items.select_related("content_type")[:RECORDS_SHOWN]
        ]
        shown = listed[:RECORDS_SHOWN]
        found = {}
        for model in {model for _action, model, _pk in shown}:
            pks = [pk for _action, other, pk in shown if other is model]
            for record in model._base_manager.filter(pk__in=pks):
                found[(model, record.pk)] = record
        lines = []
        for action, model, pk in shown:
            record = found.get((model, pk))
            if record is None:
                label = _("%(type)s #%(id)s (removed)") % {
                    "type": model._meta.verbose_name,
                    "id": pk,
                }
                lines.append(format_html("{}: {}", action, label))
                continue
            url = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk]
            )
            lines.append(format_html('{}: <a href="{}">{}</a>', action, url, record))
        total = sum(len(pks) for pks in (batch.created or {}).values()) + batch.items.count()
        if total > len(shown):
            lines.append(_("… and %(count)d more") % {"count": total - len(shown)})
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what was imported stays

    def has_undo_permission(self, request):
        return request.user.has_perm("core.import_records") and self.has_change_permission(request)

    def get_urls(self):
        return [
            path(
                "<int:pk>/undo/",
                self.admin_site.admin_view(self.undo_view),
                name="core_importbatch_undo",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        batch = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_undo": batch is not None
            and batch.undone_at is None
            and self.has_undo_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _undo(self, request, batch):
        from importing.engine import SPECS, undo_batch

        if batch.undone_at is not None:
            self.message_user(request, _("%(batch)s was already undone.") % {"batch": batch})
            return
        spec = SPECS[batch.content_type.model_class()._meta.label_lower]
        report = undo_batch(batch, spec, user=request.user)
        if report.problems:
            self.message_user(
                request,
                _("%(batch)s could not be undone: %(problems)s")
                % {"batch": batch, "problems": "; ".join(str(p) for p in report.problems[:5])},
                messages.ERROR,
            )
        else:
            self.message_user(request, _("%(batch)s was undone.") % {"batch": batch})

    def undo_view(self, request, pk):
        if request.method != "POST" or not self.has_undo_permission(request):
            raise PermissionDenied
        batch = self.get_object(request, str(pk))
        if batch is None:
            raise Http404
        self._undo(request, batch)
        return redirect(reverse("admin:core_importbatch_change", args=[pk]))

    @admin.action(description=_("Undo the selected imports"), permissions=["undo"])
    def undo(self, request, queryset):
        # Newest first, so that a later import is undone before the one it built on.
        for batch in queryset.order_by("-pk"):
            self._undo(request, batch)
