"""Import and export buttons on a record list in the admin, and the pages behind them.

Import runs in two steps: the upload is checked in full and previewed (new, changed,
unchanged, or every problem by row and column); confirming reads the same stored file
again and writes it in one transaction. Nothing is written before the confirmation.
"""

import csv
import io
import tempfile
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exports import BOM, neutralise

from .engine import Importer, export_table
from .spreadsheets import FORMATS, UnreadableFile, write_table

PREVIEW_ROWS = 1000
SESSION_KEY = "atlas_imports"


def upload_dir():
    directory = Path(settings.ATLAS_IMPORT_UPLOAD_DIR or tempfile.gettempdir()) / "atlas-imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def max_bytes():
    return getattr(settings, "ATLAS_IMPORT_MAX_BYTES", 5 * 1024 * 1024)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        help_text=gettext_lazy("A CSV file (comma or semicolon) or an Excel workbook (.xlsx)."),
    )

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
                "import/<str:token>/failed-rows.csv",
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
            "columns": self.import_spec.columns(),
            "required": self.import_spec.required,
            "template_url": self._url("import_template"),
            "max_mb": round(max_bytes() / 1024 / 1024, 1),
            **context,
        }

    def _store(self, request, data, file_name):
        token = uuid.uuid4().hex
        (upload_dir() / token).write_bytes(data)
        stored = request.session.get(SESSION_KEY, {})
        stored[token] = {"file_name": file_name, "model": self.opts.label_lower}
        request.session[SESSION_KEY] = stored
        return token

    def _load(self, request, token):
        """The stored upload, only for the user who made it and for this record type."""
        info = request.session.get(SESSION_KEY, {}).get(token)
        if not info or info["model"] != self.opts.label_lower:
            raise Http404(_("This upload has expired; upload the file again."))
        try:
            return (upload_dir() / uuid.UUID(token).hex).read_bytes(), info["file_name"]
        except (OSError, ValueError):
            raise Http404(_("This upload has expired; upload the file again.")) from None

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method != "POST" or not form.is_valid():
            return TemplateResponse(
                request, "admin/spreadsheet_import.html", self._context(request, form=form)
            )
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            report = Importer(self.import_spec, user=request.user).run(
                data, upload.name, dry_run=True
            )
        except UnreadableFile as error:
            form.add_error("file", str(error))
            return TemplateResponse(
                request, "admin/spreadsheet_import.html", self._context(request, form=form)
            )
        token = self._store(request, data, upload.name)
        return self._preview(request, report, token, upload.name)

    def _preview(self, request, report, token, file_name):
        rows = [row for row in report.rows if row.problems or row.action]
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
        data, file_name = self._load(request, token)
        try:
            report = Importer(self.import_spec, user=request.user).run(data, file_name)
        except UnreadableFile as error:
            messages.error(request, str(error))
            return redirect(self._url("import"))
        if report.problems:
            # The registry changed since the preview; show what is wrong now.
            return self._preview(request, report, token, file_name)
        counts = report.counts
        messages.success(
            request,
            _(
                "Imported %(file)s as import #%(number)s: %(new)d new, %(updated)d updated, "
                "%(unchanged)d unchanged."
            )
            % {"file": file_name, "number": report.batch.pk, **counts},
        )
        stored = request.session.get(SESSION_KEY, {})
        stored.pop(token, None)
        request.session[SESSION_KEY] = stored
        (upload_dir() / uuid.UUID(token).hex).unlink(missing_ok=True)
        return redirect(reverse("admin:core_importbatch_change", args=[report.batch.pk]))

    def failed_rows_view(self, request, token):
        """The rows with problems as CSV, with an 'errors' column, to correct and upload."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        data, file_name = self._load(request, token)
        importer = Importer(self.import_spec, user=request.user)
        try:
            header, table = importer.read(data, file_name)
        except UnreadableFile as error:
            raise Http404(str(error)) from None
        report = importer.run_table(header, table, file_name, dry_run=True)
        by_row = {}
        for problem in report.problems:
            by_row.setdefault(problem.row, []).append(str(problem))
        buffer = io.StringIO()
        buffer.write(BOM)
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([neutralise(cell) for cell in [*header, "errors"]])
        if 1 in by_row:
            writer.writerow([""] * len(header) + [neutralise("\n".join(by_row[1]))])
        for number, cells in table:
            if number in by_row:
                padded = list(cells) + [""] * (len(header) - len(cells))
                writer.writerow(
                    [neutralise(cell) for cell in padded] + [neutralise("\n".join(by_row[number]))]
                )
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        stem = Path(file_name).stem or "import"
        filename = f"{stem}-failed-rows.csv"
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response

    def template_view(self, request):
        if not (self.has_import_permission(request) or self.has_export_permission(request)):
            raise PermissionDenied
        file_format = request.GET.get("format", "csv")
        if file_format not in ("csv", "xlsx"):
            file_format = "csv"
        data = write_table(self.import_spec.columns(), [], file_format)
        return self._download(data, f"{self.opts.model_name}-template", file_format)

    def export_view(self, request):
        if not self.has_export_permission(request):
            raise PermissionDenied
        file_format = request.GET.get("format", "csv")
        if file_format not in FORMATS:
            file_format = "csv"
        # The list as filtered: the changelist reads its filters from the query string.
        request.GET = request.GET.copy()
        request.GET.pop("format", None)
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request)
        data = export_table(self.import_spec, queryset, file_format)
        stem = f"{self.opts.verbose_name_plural}-{timezone.localdate():%Y-%m-%d}"
        return self._download(data, stem, file_format)

    def _download(self, data, stem, file_format):
        content_type, extension = FORMATS[file_format]
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, f"{stem}.{extension}")
        return response
