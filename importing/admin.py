"""Import and export buttons on a record list in the admin, and the pages behind them.

Import runs in two steps: the upload is checked in full and previewed (new, changed,
unchanged, or every problem by row and column); confirming reads the same stored file
again and writes it in one transaction. Nothing is written before the confirmation.
"""

import uuid
from pathlib import Path

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.admin import SourceAdmin as BaseSourceAdmin
from core.models import ImportBatch, Source
from core.translation import LANGUAGES, content_language

from .engine import TYPES, AlreadyUndone, ImportBusy, Importer, export_table, undo_batch
from .resources import SourceType
from .spreadsheets import FORMATS, UnreadableFile, file_type, write_failed_rows, write_table
from .uploads import (
    claim,
    clean_uploads,
    forget_plan,
    is_expired,
    read_plan,
    upload_dir,
    write_plan,
)

PREVIEW_ROWS = 1000
SESSION_KEY = "atlas_imports"
# The uploads this session confirmed, by token: their import's number, so that a
# confirmation sent again (a second click, the browser's back and resend) says where
# the import is instead of that the upload expired. The last few are enough.
DONE_KEY = "atlas_imports_done"
DONE_KEPT = 20


def max_bytes():
    return getattr(settings, "ATLAS_IMPORT_MAX_BYTES", 5 * 1024 * 1024)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        help_text=gettext_lazy(
            "A CSV file (comma, semicolon or tab between cells) or an Excel workbook (.xlsx)."
        ),
    )
    source = forms.CharField(
        label=gettext_lazy("Source of the figures"),
        required=False,
        max_length=500,
        help_text=gettext_lazy(
            "Optional: the title, short title or web address of the source that figures "
            "without a source of their own cite (a new title or address creates it). Left "
            "empty, they cite the import itself."
        ),
    )

    language = forms.ChoiceField(
        label=gettext_lazy("Language of the file"),
        required=False,
        choices=[(code, name) for code, name in settings.LANGUAGES if code in LANGUAGES],
        help_text=gettext_lazy(
            "The language of plain columns such as 'name' or 'description'. Columns such as "
            "name_da and name_en say their language themselves."
        ),
    )

    publish = forms.BooleanField(
        label=gettext_lazy("Publish new records"),
        required=False,
        help_text=gettext_lazy(
            "Unticked, new records arrive as drafts that only staff see. Ticked, they are "
            "published at once, and each needs a source. Records already in the registry "
            "keep their state unless the file has a 'publication' column."
        ),
    )

    def __init__(self, *args, publishable=False, **kwargs):
        super().__init__(*args, **kwargs)
        # The editor's own language, as they most likely wrote the file in it.
        self.fields["language"].initial = content_language()
        if not publishable:
            del self.fields["publish"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > max_bytes():
            raise forms.ValidationError(
                _("The file is %(size)s MB; at most %(limit)s MB can be uploaded.")
                % {
                    "size": round(upload.size / 1024 / 1024, 1),
                    "limit": round(max_bytes() / 1024 / 1024, 1),
                }
            )
        return upload


class SpreadsheetAdminMixin:
    """Adds Import and Export to a ``RecordAdmin`` for the model of ``import_spec``."""

    import_spec = None
    change_list_template = "admin/spreadsheet_change_list.html"

    # Permissions: the import permission plus add and change; the export permission plus view.
    def has_import_permission(self, request):
        return (
            request.user.has_perm("core.import_records")
            and self.has_add_permission(request)
            and self.has_change_permission(request)
        )

    def has_export_permission(self, request):
        return request.user.has_perm("core.export_records") and self.has_view_permission(request)

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name=f"{prefix}_import"),
            path(
                "import/confirm/",
                wrap(self.import_confirm_view),
                name=f"{prefix}_import_confirm",
            ),
            path(
                "import/<str:token>/failed-rows/",
                wrap(self.failed_rows_view),
                name=f"{prefix}_import_failed",
            ),
            path("import/template/", wrap(self.template_view), name=f"{prefix}_import_template"),
            path("export/", wrap(self.export_view), name=f"{prefix}_export"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_import": self.has_import_permission(request),
            "can_export": self.has_export_permission(request),
            "export_query": request.GET.urlencode(),
            "export_formats": list(FORMATS),
        }
        return super().changelist_view(request, extra_context)

    def _url(self, name, **kwargs):
        info = self.opts.app_label, self.opts.model_name
        return reverse(f"admin:{info[0]}_{info[1]}_{name}", kwargs=kwargs or None)

    def _context(self, request, **context):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import %(records)s") % {"records": self.opts.verbose_name_plural},
            "columns": self.import_spec.column_names(),
            # A required text is there in either language.
            "required": [
                *self.import_spec.required(),
                *(
                    name
                    for column in self.import_spec.in_file_language()
                    if column.required
                    for name in column.languages.values()
                ),
            ],
            "template_url": self._url("import_template"),
            "max_mb": round(max_bytes() / 1024 / 1024, 1),
            **context,
        }

    def _store(self, request, data, file_name, source="", language=None, publish=False):
        clean_uploads()
        token = uuid.uuid4().hex
        (upload_dir() / token).write_bytes(data)
        stored = request.session.get(SESSION_KEY, {})
        stored[token] = {
            "file_name": file_name,
            "model": self.opts.label_lower,
            "source": source,
            "language": language,
            "publish": publish,
        }
        request.session[SESSION_KEY] = stored
        return token

    def _upload(self, request, token):
        """The stored upload's path and details, only for the user who made it and for
        this record type; the file itself may be gone."""
        info = request.session.get(SESSION_KEY, {}).get(token)
        if not info or info["model"] != self.opts.label_lower:
            raise Http404(_("This upload has expired; upload the file again."))
        try:
            return upload_dir() / uuid.UUID(token).hex, info
        except ValueError:
            raise Http404(_("This upload has expired; upload the file again.")) from None

    def _load(self, request, token, path=None):
        """The upload's bytes, name and options; `path` reads a claimed upload."""
        stored, info = self._upload(request, token)
        path = path or stored
        try:
            if is_expired(path):
                raise FileNotFoundError(path)
            return (
                path.read_bytes(),
                info["file_name"],
                info.get("source", ""),
                info.get("language"),
                info.get("publish", False),
            )
        except OSError:
            raise Http404(_("This upload has expired; upload the file again.")) from None

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = UploadForm(
            request.POST or None,
            request.FILES or None,
            publishable=hasattr(self.import_spec.model, "publish_problems"),
        )
        if request.method != "POST" or not form.is_valid():
            return TemplateResponse(
                request, "admin/spreadsheet_import.html", self._context(request, form=form)
            )
        upload = form.cleaned_data["file"]
        source = form.cleaned_data["source"].strip()
        language = form.cleaned_data["language"] or content_language()
        publish = form.cleaned_data.get("publish", False)
        data = upload.read()
        try:
            report = self._importer(request, source, language, publish).run(
                data, upload.name, dry_run=True
            )
        except UnreadableFile as error:
            form.add_error("file", str(error))
            return TemplateResponse(
                request, "admin/spreadsheet_import.html", self._context(request, form=form)
            )
        token = self._store(request, data, upload.name, source, language, publish)
        write_plan(upload_dir() / token, report.plan())
        return self._preview(request, report, token, upload.name)

    def _importer(self, request, source="", language=None, publish=False):
        return Importer(
            self.import_spec,
            user=request.user,
            source=source or None,
            language=language,
            publish=publish,
        )

    def _preview(self, request, report, token, file_name):
        rows = [
            {
                "row": row,
                "diffs": report.diffs(row),
                "record": row.instance if row.instance is not None else "",
            }
            for row in report.rows
            if row.problems or row.action
        ]
        return TemplateResponse(
            request,
            "admin/spreadsheet_import_preview.html",
            self._context(
                request,
                report=report,
                counts=report.counts,
                token=token,
                file_name=file_name,
                shown_rows=rows[:PREVIEW_ROWS],
                warnings=report.warnings,
                warned_rows=sum(1 for row in report.rows if row.warnings),
                more_rows=max(0, len(rows) - PREVIEW_ROWS),
                problems=report.problems[:PREVIEW_ROWS],
                more_problems=max(0, len(report.problems) - PREVIEW_ROWS),
                failed_url=self._url("import_failed", token=token),
                confirm_url=self._url("import_confirm"),
            ),
        )

    def import_confirm_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return redirect(self._url("import"))
        token = request.POST.get("token", "")
        if done := request.session.get(DONE_KEY, {}).get(token):
            messages.info(
                request,
                _("This file was imported already, as import #%(number)s.") % {"number": done},
            )
            return redirect(reverse("admin:core_importbatch_change", args=[done]))
        path = self._upload(request, token)[0]
        try:
            claimed = claim(path)
        except FileNotFoundError:
            if not any(path.parent.glob(f"{path.name}.*.claimed")):
                raise Http404(_("This upload has expired; upload the file again.")) from None
            # Another request of this session is importing it now.
            messages.warning(
                request,
                _(
                    "This file is being imported already, from another click or window. "
                    "Its import is listed here when it is done."
                ),
            )
            return redirect(reverse("admin:core_importbatch_changelist"))
        try:
            response, imported = self._import_claimed(request, token, path, claimed)
        except BaseException:
            claimed.rename(path)
            raise
        if imported:
            claimed.unlink(missing_ok=True)
            forget_plan(path)
        else:
            # Nothing was written: the upload waits to be confirmed again.
            claimed.rename(path)
        return response

    def _import_claimed(self, request, token, path, claimed):
        """Import the claimed upload; the answer, and whether anything was imported."""
        data, file_name, source, language, publish = self._load(request, token, claimed)
        importer = self._importer(request, source, language, publish)
        importer.expected_plan = read_plan(path)
        try:
            report = importer.run(data, file_name)
        except (UnreadableFile, ImportBusy) as error:
            # The import page is where trying again starts.
            messages.error(request, str(error))
            return redirect(self._url("import")), False
        if report.problems:
            # The registry changed since the preview; show what is wrong now.
            return self._preview(request, report, token, file_name), False
        if report.moved:
            # Records were saved since the preview, or a new row would now match one:
            # confirming what it showed would overwrite what was not shown.
            write_plan(path, report.plan())
            rows = report.moved_rows()
            messages.warning(
                request,
                ngettext(
                    "The registry changed since the preview: row %(rows)s would now do "
                    "something else. Nothing was imported; check the preview below and "
                    "confirm again.",
                    "The registry changed since the preview: rows %(rows)s would now do "
                    "something else. Nothing was imported; check the preview below and "
                    "confirm again.",
                    len(report.moved),
                )
                % {"rows": rows},
            )
            return self._preview(request, report, token, file_name), False
        messages.success(
            request,
            _(
                "Imported %(file)s as import #%(number)s: %(new)d new, %(updated)d updated, "
                "%(unchanged)d unchanged."
            )
            % {"file": file_name, "number": report.batch.pk, **report.counts},
        )
        stored = request.session.get(SESSION_KEY, {})
        stored.pop(token, None)
        request.session[SESSION_KEY] = stored
        done = request.session.get(DONE_KEY, {})
        done[token] = report.batch.pk
        request.session[DONE_KEY] = dict(list(done.items())[-DONE_KEPT:])
        return redirect(reverse("admin:core_importbatch_change", args=[report.batch.pk])), True

    def failed_rows_view(self, request, token):
        """The rows with problems in the uploaded file's own format, with an errors column."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        data, file_name, source, language, publish = self._load(request, token)
        importer = self._importer(request, source, language, publish)
        try:
            table = importer.read(data, file_name)
        except UnreadableFile as error:
            raise Http404(str(error)) from None
        report = importer.run_table(table, file_name, dry_run=True)
        by_row = {}
        for problem in report.problems:
            by_row.setdefault(problem.row, []).append(str(problem))
        # The table as the import read it: its header where the column names were found.
        content = write_failed_rows(report.table, by_row, _("errors"))
        content_type, extension = file_type(table, content)
        response = HttpResponse(content, content_type=content_type)
        stem = Path(file_name).stem or "import"
        response["Content-Disposition"] = content_disposition_header(
            True, f"{stem}-failed-rows.{extension}"
        )
        return response

    def template_view(self, request):
        if not (self.has_import_permission(request) or self.has_export_permission(request)):
            raise PermissionDenied
        file_format = request.GET.get("format", "csv")
        if file_format not in ("csv", "xlsx"):
            file_format = "csv"
        data = write_table(
            self.import_spec.column_names(),
            [],
            file_format,
            title=capfirst(str(self.opts.verbose_name_plural)),
        )
        return self._download(data, f"{self.opts.model_name}-template", file_format)

    def export_view(self, request):
        if not self.has_export_permission(request):
            raise PermissionDenied
        file_format = request.GET.get("format", "csv")
        if file_format not in FORMATS:
            file_format = "csv"
        # The list as filtered: the changelist reads its filters from the query string.
        # Every page of it: a page past the last was an error of the list's.
        request.GET = request.GET.copy()
        request.GET.pop("format", None)
        request.GET.pop(PAGE_VAR, None)
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            # A filter the list cannot read (?parent=abc, a field it does not have): the
            # changelist itself would send staff back to the whole list.
            messages.error(
                request, _("The list's filters could not be read, so nothing was exported.")
            )
            return redirect(self._url("changelist"))
        queryset = changelist.get_queryset(request)
        data = export_table(self.import_spec, queryset, file_format)
        stem = f"{self.opts.verbose_name_plural}-{timezone.localdate():%Y-%m-%d}"
        return self._download(data, stem, file_format)

    def _download(self, data, stem, file_format):
        content_type, extension = FORMATS[file_format]
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, f"{stem}.{extension}")
        return response


# The list of imports, where a whole import can be undone ---------------------------------


@admin.register(Source)
class SourceAdmin(SpreadsheetAdminMixin, BaseSourceAdmin):
    import_spec = SourceType


# The import batch page lists the records a batch created or changed this many at a time.
RECORDS_PER_PAGE = 100


class BatchRecords:
    """What a batch created, then what it changed, as (action, model, pk), for a Paginator
    (which asks for ``count()`` and one slice): a batch may hold a whole registry, and a
    page of it costs the same either way."""

    def __init__(self, batch):
        self.created = [
            (apps.get_model(label), pks) for label, pks in (batch.created or {}).items()
        ]
        self.changed = batch.items.select_related("content_type").defer("before")

    def count(self):
        return sum(len(pks) for _model, pks in self.created) + self.changed.count()

    def __getitem__(self, window):
        start, stop = window.start, window.stop
        created, changed = _("created"), _("changed")
        rows, offset = [], 0
        for model, pks in self.created:
            rows += [(created, model, pk) for pk in pks[max(start - offset, 0) : stop - offset]]
            offset += len(pks)
            if stop <= offset:
                return rows
        items = self.changed[max(start - offset, 0) : stop - offset]
        return rows + [(changed, item.content_type.model_class(), item.object_id) for item in items]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """Every spreadsheet import, with what it did: a read-only page with an Undo button."""

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
    ]
    fields = readonly_fields
    actions = ["undo"]

    def has_add_permission(self, request):
        return False  # imports are made by importing a file, not by hand

    def has_change_permission(self, request, obj=None):
        return False  # what an import did is a record; Undo is the only thing to do here

    def has_delete_permission(self, request, obj=None):
        return False  # the record of what was imported stays

    def has_undo_permission(self, request):
        return request.user.has_perm("core.import_records") and self.has_view_permission(request)

    def records_context(self, request, batch):
        """A page of the records the batch created or changed (``?p=``), each linked
        where the admin has a page for it (a figure, for one, is edited inside its place)."""
        paginator = Paginator(BatchRecords(batch), RECORDS_PER_PAGE)
        page = paginator.get_page(request.GET.get(PAGE_VAR))
        found = {}
        for model in {model for _action, model, _pk in page}:
            pks = [pk for _action, other, pk in page if other is model]
            for record in model._base_manager.filter(pk__in=pks):
                found[(model, record.pk)] = record
        lines = []
        for action, model, pk in page:
            record = found.get((model, pk))
            if record is None:
                label = _("%(type)s #%(id)s (removed)") % {
                    "type": model._meta.verbose_name,
                    "id": pk,
                }
                lines.append(format_html("{}: {}", action, label))
                continue
            text = f"{model._meta.verbose_name}: {record}"
            url = self._change_url(model, pk)
            if url:
                lines.append(format_html('{}: <a href="{}">{}</a>', action, url, text))
            else:
                lines.append(format_html("{}: {}", action, text))
        return {
            "records_title": gettext_lazy("records created or changed"),
            "records": lines,
            "records_page": page,
            "records_page_range": paginator.get_elided_page_range(page.number),
            "page_var": PAGE_VAR,
        }

    def _change_url(self, model, pk):
        if not self.admin_site.is_registered(model):
            return ""
        try:
            return reverse(
                f"{self.admin_site.name}:{model._meta.app_label}_{model._meta.model_name}_change",
                args=[pk],
            )
        except NoReverseMatch:
            return ""

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
            **(self.records_context(request, batch) if batch is not None else {}),
            "can_undo": batch is not None
            and batch.undone_at is None
            and self.has_undo_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _undo(self, request, batch):
        record_type = TYPES[batch.content_type.model_class()._meta.label_lower]
        try:
            report = undo_batch(batch, record_type, user=request.user)
        except AlreadyUndone:
            self.message_user(request, _("%(batch)s was already undone.") % {"batch": batch})
            return
        except ImportBusy:
            self.message_user(
                request,
                _("Another import is running; try again in a moment. Nothing was undone."),
                messages.ERROR,
            )
            return
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
        """Asked first, as a delete is (GET), then done (POST): one click on the batch's
        page took back an import of thousands of records."""
        if not self.has_undo_permission(request):
            raise PermissionDenied
        batch = self.get_object(request, str(pk))
        if batch is None:
            raise Http404
        batch_page = reverse("admin:core_importbatch_change", args=[pk])
        if request.method == "POST":
            self._undo(request, batch)
            return redirect(batch_page)
        if batch.undone_at is not None:
            self.message_user(request, _("%(batch)s was already undone.") % {"batch": batch})
            return redirect(batch_page)
        return TemplateResponse(
            request,
            "admin/core/importbatch/undo_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "batch": batch,
                "batch_page": batch_page,
                "title": _("Undo %(batch)s?") % {"batch": batch},
            },
        )

    @admin.action(description=gettext_lazy("Undo the selected imports"), permissions=["undo"])
    def undo(self, request, queryset):
        # Newest first, so that a later import is undone before the one it built on.
        for batch in queryset.order_by("-pk"):
            self._undo(request, batch)
