import datetime
import functools
import re

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, models, transaction
from django.forms.formsets import DELETION_FIELD_NAME, INITIAL_FORM_COUNT, TOTAL_FORM_COUNT
from django.forms.models import _get_foreign_key
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin
from modeltranslation.translator import NotRegistered, translator
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from . import labels
from .forms import (
    FastWidgetsMixin,
    LocalizedNumbersMixin,
    TranslatedModelForm,
    could_be_key,
    render_in_python,
)
from .history import (
    MARKED_REVIEWED,
    describe_reason,
    history_manager,
    is_revert,
    revert_reason,
)
from .models import (
    PUBLICATION_REASONS,
    REVIEW_INTERVAL,
    Publication,
    locked_stamp,
    stored_version,
)
from .pagination import EitherEndPaginator
from .text import fold, query_terms
from .translation import LANGUAGES, Localized, content_language, localized_field, translated

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


class CountryInUseFilter(admin.ChoicesFieldListFilter):
    """A dropdown of the countries the records are in (one query), not 250 links."""

    template = "admin/core/select_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        # The dropdown's "All" sends an empty value: no filter, not "records without one".
        if params.get(f"{field_path}__exact") in ([""], ""):
            del params[f"{field_path}__exact"]
        super().__init__(field, request, params, model, model_admin, field_path)
        codes = model._default_manager.order_by().values_list(field_path, flat=True).distinct()
        self.in_use = sorted(
            ((code, labels.country_name(code)) for code in codes if code),
            key=lambda choice: fold(str(choice[1])),
        )

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {
            f"{i}__c": models.Count(pk_attname, filter=models.Q((self.lookup_kwarg, code)))
            for i, (code, _name) in enumerate(self.in_use)
        }

    def choices(self, changelist):
        # The dropdown's form sends the list's other filters, search and order along.
        self.other_params = [
            (name, value)
            for name, values in changelist.filter_params.items()
            if name not in (self.lookup_kwarg, self.lookup_kwarg_isnull)
            for value in values
        ]
        facet_counts = self.get_facet_queryset(changelist) if changelist.add_facets else None
        yield {
            "selected": self.lookup_val is None,
            "value": "",
            "query_string": changelist.get_query_string(
                remove=[self.lookup_kwarg, self.lookup_kwarg_isnull]
            ),
            "display": _("All"),
        }
        for i, (code, name) in enumerate(self.in_use):
            yield {
                "selected": self.lookup_val is not None and code in self.lookup_val,
                "value": code,
                "query_string": changelist.get_query_string(
                    {self.lookup_kwarg: code}, [self.lookup_kwarg_isnull]
                ),
                "display": f"{name} ({facet_counts[f'{i}__c']})" if facet_counts else name,
            }


@admin.display(description=_("country"), ordering="country")
def country_name(record):
    # Not the field itself nor Country.name: both look the code up in the 250 names, built
    # again for every row (most of a changelist's time).
    return labels.country_name(record.country.code) or None


def side_by_side(field):
    """A translated field's columns for one fieldset line, Danish first: ("name_da", "name_en")."""
    return tuple(localized_field(field, code) for code in LANGUAGES)


def translated_column(field, description):
    """A changelist column of ``field`` in the reader's language, else in the other one,
    marked with its language; sorted as the lists are (``Localized``)."""

    @admin.display(description=description, ordering=Localized(field))
    def column(record):
        value, language = translated(record, field)
        if language in (None, content_language()):
            return value
        return format_html(
            '<span lang="{}">{}</span> <span class="atlas-language">{}</span>',
            language,
            value,
            language,
        )

    column.__name__ = field  # the column's CSS class, field-<name>
    return column


class TranslatedFieldsMixin:
    """For a modeltranslation admin or inline: each translated field once per language,
    Danish first (settings.LANGUAGES), and either language enough for a required one."""

    form = TranslatedModelForm

    def patch_translation_field(self, db_field, field, request, **kwargs):
        super().patch_translation_field(db_field, field, request, **kwargs)
        if hasattr(db_field, "translated_field"):
            # modeltranslation would require English; TranslatedModelForm asks for one.
            field.required = False


class FastAdminMixin(FastWidgetsMixin):
    """For a ModelAdmin: widgets and changelist checkboxes rendered in Python."""

    def action_checkbox(self, obj):
        # Django renders a CheckboxInput through the template engine on every row, a third
        # of a changelist's time; this is the same HTML.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )


class FastInlineMixin(FastWidgetsMixin):
    """For an inline: widgets rendered in Python, and each row's autocompletes named from
    the row's own record, read with it, instead of one query per autocomplete per row."""

    def related_autocompletes(self):
        return [
            name
            for name in self.autocomplete_fields
            if self.model._meta.get_field(name).many_to_one
        ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        related = self.related_autocompletes()
        # Not select_related() without names: that would follow every foreign key.
        return queryset.select_related(*related) if related else queryset

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(
            formset.__name__,
            (FastFormSetMixin, RowsGoneFormSetMixin, formset),
            {"related_autocompletes": self.related_autocompletes()},
        )


class RowsGoneFormSetMixin:
    """An inline's rows sent back from a page opened before someone deleted some of them:
    those are left out, and the save is stopped once to say so.

    Django's admin leaves such a row off the page it shows again but counts it in the
    page's number of rows, so the row came back missing at every save after: "Please
    correct the errors below." with no error shown, until the editor opened the page
    anew. Here the rows sent are numbered again without the deleted ones, so the page
    shown again matches what it sends, and the next save keeps the editor's other changes.
    """

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.rows_gone = 0
        if self.is_bound:
            self.data = self._without_rows_gone(self.data)

    def _without_rows_gone(self, data):
        prefix, pk_name = self.prefix, self.model._meta.pk.name
        try:
            total = int(data[f"{prefix}-{TOTAL_FORM_COUNT}"])
            initial = int(data[f"{prefix}-{INITIAL_FORM_COUNT}"])
            sent = {index: int(data[f"{prefix}-{index}-{pk_name}"]) for index in range(initial)}
        except (KeyError, ValueError):
            return data  # a page that was tampered with: the formset says what is wrong
        if total > self.absolute_max or not all(
            could_be_key(self.model._meta.pk, pk) for pk in sent.values()
        ):
            return data  # past what a formset or the database holds (SQLite fails on 2⁶³)
        existing = set(
            self.get_queryset().filter(pk__in=sent.values()).values_list("pk", flat=True)
        )
        gone = {index for index, pk in sent.items() if pk not in existing}
        if not gone:
            return data
        kept = [index for index in range(total) if index not in gone]
        renumbered = {old: new for new, old in enumerate(kept)}
        row = re.compile(rf"^{re.escape(prefix)}-(\d+)-(.+)$")
        copy = data.copy()
        for key in list(copy):
            if (match := row.match(key)) is None:
                continue
            values = copy.getlist(key)
            del copy[key]
            old = int(match[1])
            if old in renumbered:
                copy.setlist(f"{prefix}-{renumbered[old]}-{match[2]}", values)
        copy[f"{prefix}-{TOTAL_FORM_COUNT}"] = str(total - len(gone))
        copy[f"{prefix}-{INITIAL_FORM_COUNT}"] = str(initial - len(gone))
        # A row this editor deleted too is gone as they asked: nothing to say.
        self.rows_gone = sum(
            not data.get(f"{prefix}-{index}-{DELETION_FIELD_NAME}") for index in gone
        )
        return copy

    def clean(self):
        super().clean()
        if self.rows_gone:
            opts = self.model._meta
            raise ValidationError(
                ngettext(
                    "%(count)d %(what)s was deleted by someone else after this page was "
                    "opened, and is no longer on it. Save again to keep your other changes.",
                    "%(count)d %(what)s were deleted by someone else after this page was "
                    "opened, and are no longer on it. Save again to keep your other changes.",
                    self.rows_gone,
                )
                % {
                    "count": self.rows_gone,
                    "what": opts.verbose_name if self.rows_gone == 1 else opts.verbose_name_plural,
                },
                code="rows_gone",
            )


class FastFormSetMixin:
    related_autocompletes = []

    @cached_property
    def management_form(self):
        form = super().management_form
        for field in form.fields.values():
            render_in_python(field)
        return form

    def add_fields(self, form, index):
        super().add_fields(form, index)
        # The id, parent key and delete box are added here, not by formfield_for_dbfield.
        for field in form.fields.values():
            render_in_python(field)
        for name in self.related_autocompletes:
            key = form.instance._meta.get_field(name)
            related = getattr(form.instance, name) if key.is_cached(form.instance) else None
            if name in form.fields and related is not None:
                field = form.fields[name]
                pk = str(getattr(related, key.target_field.attname))
                widget = getattr(field.widget, "widget", field.widget)
                widget.known_labels = {pk: field.label_from_instance(related)}


# Fields that change on every save or are computed; listing them in a diff is noise.
UNSHOWN_IN_HISTORY = {
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "search_key",
    "start_on",
    "end_on",
    "date_on",
}


def unshown_in_history(model):
    """UNSHOWN_IN_HISTORY and a translated field's original column.

    The original column (``name`` beside ``name_da`` and ``name_en``) holds whichever
    language was active at the save: its changes are the language columns' changes again.
    """
    try:
        translated_fields = translator.get_options_for_model(model).fields
    except NotRegistered:
        translated_fields = {}
    return UNSHOWN_IN_HISTORY | set(translated_fields)


class ShownValues(HistoricalRecordContextHelper):
    """History values as the form shows them: choice labels, yes or no, a dash for none.

    simple-history shows the stored value (``city``, ``None``, ``True``): English to a
    Danish reader.
    """

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if value is None or value == "":
            return "–"
        if isinstance(value, bool):
            return gettext("Yes") if value else gettext("No")
        if field.flatchoices:
            return dict(field.flatchoices).get(value, value)
        return super().prepare_delta_change_value(change, value)


class HistoryAdmin(SimpleHistoryAdmin):
    """History pages that show the changes made in inlines too, and revert them with the record.

    The state of the inlines "at version V" is their state just before the record's next
    history row: an admin save writes the record first and its inlines a moment later, so
    the inlines saved with V belong to V.
    """

    object_history_list_template = "simple_history/record_history_list.html"

    def tracked_inlines(self):
        """(model, foreign key) of every inline whose rows keep a history."""
        tracked = []
        for inline in self.inlines:
            if history_manager(inline.model) is not None:
                fk = _get_foreign_key(self.model, inline.model, fk_name=inline.fk_name)
                tracked.append((inline.model, fk))
        return tracked

    def history_entries(self, request, object_id):
        """Every history row of the record and of its inline rows, newest first."""
        sources = [(self.model, {self.model._meta.pk.attname: object_id}, True)]
        sources += [(model, {fk.attname: object_id}, False) for model, fk in self.tracked_inlines()]
        can_revert = not self.revert_disabled(request)
        entries = []
        for model, lookup, own in sources:
            rows = list(
                history_manager(model)
                .filter(**lookup)
                .select_related("history_user")
                ._select_related_history_tracked_objs()
                .order_by("history_date", "history_id")
            )
            previous = {}
            for row in rows:
                row.history_object = with_related(row, model)
                row.model_label = "" if own else capfirst(model._meta.verbose_name)
                row.reason_text = describe_reason(row.history_change_reason)
                row.action = self.action_label(row)
                row.can_revert = own and can_revert
                before = previous.get(original_pk(row)) if row.history_type == "~" else None
                if before is not None:
                    delta = row.diff_against(
                        before,
                        excluded_fields=unshown_in_history(model),
                        foreign_keys_are_objs=True,
                    )
                    helper = ShownValues(model, row)
                    row.history_delta_changes = helper.context_for_delta_changes(delta)
                previous[original_pk(row)] = row
            entries += rows
        entries.sort(key=lambda row: row.history_date, reverse=True)
        return entries

    @staticmethod
    def action_label(row):
        if is_revert(row.history_change_reason):
            return _("Reverted")
        return {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}[row.history_type]

    def history_view(self, request, object_id, extra_context=None):
        object_id = unquote(object_id)
        obj = self.get_object(request, object_id)
        if obj is None:
            # A deleted record's history is read from its versions; an address that can
            # name no record ("1.5") has none, where reading them was a server error.
            if not could_be_key(self.model._meta.pk, object_id):
                raise Http404
            latest = versions_of(self.model, object_id).order_by("-history_date")
            if not latest:
                raise Http404
            obj = latest[0].instance
        if not self.has_view_history_or_change_history_permission(request, obj):
            raise PermissionDenied
        paginator = Paginator(self.history_entries(request, object_id), self.history_list_per_page)
        page_obj = paginator.get_page(request.GET.get(PAGE_VAR))
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": _("History of %(record)s") % {"record": obj},
            "object_history_list_template": self.object_history_list_template,
            "page_obj": page_obj,
            "page_range": paginator.get_elided_page_range(page_obj.number),
            "page_var": PAGE_VAR,
            "pagination_required": paginator.num_pages > 1,
            "module_name": capfirst(opts.verbose_name_plural),
            "object": obj,
            "app_label": opts.app_label,
            "opts": opts,
            "revert_disabled": self.revert_disabled(request, obj),
            **(extra_context or {}),
        }
        return self.render_history_view(request, self.object_history_template, context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history lets anyone who may view the record post this form and save it.
        obj = self.get_object(request, unquote(object_id))
        if not self.has_change_history_permission(request, obj):
            raise PermissionDenied
        version = get_object_or_404(
            versions_of(self.model, unquote(object_id)), history_id=version_id
        )
        extra_context = {
            **(extra_context or {}),
            "inline_versions": [
                (model._meta.verbose_name_plural, children)
                for model, children in self.inlines_at(version)
            ],
        }
        if request.method != "POST":
            return super().history_form_view(request, object_id, version_id, extra_context)
        request.reverting_to = version
        try:
            with transaction.atomic():
                return super().history_form_view(request, object_id, version_id, extra_context)
        except (IntegrityError, ValidationError) as error:
            messages_text = getattr(error, "messages", None) or [str(error)]
            self.message_user(
                request,
                _("The earlier version could not be restored: %(problem)s")
                % {"problem": "; ".join(messages_text)},
                messages.ERROR,
            )
            return redirect(
                reverse(
                    f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_history",
                    args=[original_pk(version)],
                )
            )

    def history_form_view_title(self, request, obj):
        return _("Revert %(record)s to an earlier version") % {"record": obj}

    def version_cutoff(self, version):
        """The moment the inlines are read at for ``version`` (see the class docstring)."""
        later = (
            versions_of(self.model, original_pk(version))
            .filter(history_date__gt=version.history_date)
            .order_by("history_date")
            .values_list("history_date", flat=True)
            .first()
        )
        return later - datetime.timedelta(microseconds=1) if later else timezone.now()

    def inlines_at(self, version):
        """[(model, [the inline rows as they were at ``version``])] for each tracked inline."""
        cutoff = self.version_cutoff(version)
        return [
            (
                model,
                list(
                    history_manager(model)
                    .as_of(cutoff)
                    .filter(**{fk.attname: original_pk(version)})
                ),
            )
            for model, fk in self.tracked_inlines()
        ]

    def restore_inlines(self, request, obj, version, reason):
        for model, then in self.inlines_at(version):
            fk = next(fk for other, fk in self.tracked_inlines() if other is model)
            then = {child.pk: child for child in then}
            # Rows that never had a history (loaded raw) are left alone rather than dropped.
            known = set(
                history_manager(model)
                .filter(**{fk.attname: obj.pk})
                .values_list(model._meta.pk.attname, flat=True)
            )
            current = {child.pk: child for child in model._default_manager.filter(**{fk.name: obj})}
            for pk in (current.keys() & known) - then.keys():
                stamp(current[pk], request.user, reason).delete()
            fields = [field.attname for field in model._meta.concrete_fields]
            for pk, child in then.items():
                now = current.get(pk)
                if now is not None and all(
                    getattr(now, name) == getattr(child, name) for name in fields
                ):
                    continue
                setattr(child, fk.name, obj)
                child.full_clean(validate_unique=False, validate_constraints=False)
                stamp(child, request.user, reason).save()

    def save_model(self, request, obj, form, change):
        version = getattr(request, "reverting_to", None)
        if version is None:
            super().save_model(request, obj, form, change)
            return
        reason = revert_reason(version, request.user)
        obj._change_reason = reason
        super().save_model(request, obj, form, change)
        self.restore_inlines(request, obj, version, reason)

    def response_change(self, request, obj):
        version = getattr(request, "reverting_to", None)
        if version is None:
            return super().response_change(request, obj)
        self.message_user(
            request,
            _("%(record)s was reverted to the version of %(date)s.")
            % {
                "record": obj,
                "date": formats.date_format(
                    timezone.localtime(version.history_date), "DATETIME_FORMAT"
                ),
            },
            messages.SUCCESS,
        )
        opts = self.model._meta
        return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk]))


def with_related(row, model):
    """The record as history ``row`` holds it, with the related records the row was read
    with (simple-history builds it bare: naming a participant would cost a query a row)."""
    record = row.history_object
    for field in model._meta.concrete_fields:
        if field.is_relation and field.name in row._state.fields_cache:
            field.set_cached_value(record, row._state.fields_cache[field.name])
    return record


def versions_of(model, pk):
    """The history rows of the record ``pk`` of ``model``."""
    return history_manager(model).filter(**{model._meta.pk.attname: pk})


def original_pk(row):
    """The primary key of the record a history row is a version of."""
    return getattr(row, row.instance_type._meta.pk.attname)


def stamp(instance, user, reason):
    """Tell simple-history who wrote ``instance`` and why, for its next history row."""
    instance._history_user = user
    instance._change_reason = reason
    return instance


# The version of a record a change page was opened at, sent back with its form.
OPENED_VERSION = "_opened_version"


class UnchangedSinceOpenedMixin:
    """A save over a version someone saved after this form was opened is stopped, with who
    and when; saving again, once told, puts this form's values in place of theirs.

    Two editors on one record each saved their page, and the second silently undid the
    first's changes. Every save of a record (admin, inlines, import, API, revert) moves
    its ``updated_at``, so the stamp the page was opened at tells. A form sent without
    it (a script, a page from before) is not checked.
    """

    def clean(self):
        cleaned = super().clean()
        record = self.instance
        self.opened_version = opened = self.data.get(OPENED_VERSION)
        if not opened or record.pk is None:
            return cleaned
        # Locked until this save commits: of two sent at once, the second sees the first.
        current, now = self.locked_version()
        if now is None or self.same_version(now, opened):
            return cleaned
        self.opened_version = now
        raise ValidationError(
            self.changed_since_opened(current, opened), code="changed_since_opened"
        )

    # How the version is read and compared: a record's is its ``updated_at``; a model
    # without one (Django's users and groups, ``atlas.auth_admin``) gives its own.
    def locked_version(self):
        """(The row as stored, locked until the save commits, its version); (None, None)
        once it is gone."""
        current = locked_stamp(self.instance, "updated_by")
        return current, stored_version(current["updated_at"]) if current else None

    def version_of(self, record):
        """The version of ``record`` as the page is opened."""
        return stored_version(record.updated_at)

    def same_version(self, now, opened):
        return now == opened

    # (model, foreign key) of each inline whose rows keep a history (``tracked_inlines``).
    tracked_inlines = ()

    def fields_saved_since(self, opened):
        """The names of the record's own fields saved since the version ``opened``, read
        from its history, then those of the inlines whose rows were saved since (other
        names, figures); none if that version is not there to compare."""
        model = type(self.instance)
        versions = history_manager(model)
        try:
            opened_at = datetime.datetime.fromisoformat(opened)
        except ValueError:
            return []
        if versions is None:
            return []
        versions = versions.filter(**{model._meta.pk.attname: self.instance.pk})
        then = versions.filter(updated_at=opened_at).order_by("-history_id").first()
        if then is None:
            return []
        later = versions.filter(history_id__gt=then.pk)
        latest = later.order_by("-history_id").first()
        if latest is None:
            return []
        delta = latest.diff_against(then, excluded_fields=unshown_in_history(model))
        fields = [
            str(model._meta.get_field(change.field).verbose_name)
            for change in delta.changes
            # A form saves an empty text as "" where the record had none: no change.
            if change.old not in (None, "") or change.new not in (None, "")
        ]
        # An admin save writes the record first and its inline rows a moment later
        # (``HistoryAdmin``): those of the version opened come before the next record row.
        since = later.order_by("history_date").values_list("history_date", flat=True)[0]
        fields += [
            str(inline._meta.verbose_name_plural)
            for inline, fk in self.tracked_inlines
            if history_manager(inline)
            .filter(**{fk.attname: self.instance.pk, "history_date__gte": since})
            .exists()
        ]
        return fields

    def changed_since_opened(self, current, opened):
        from django.contrib.auth import get_user_model

        user = get_user_model()._base_manager.filter(pk=current["updated_by"]).first()
        return stopped_save_message(
            self.instance,
            self.request,
            user,
            current["updated_at"],
            self.fields_saved_since(opened),
        )


def stopped_save_message(record, request, user, when, fields):
    """What a save stopped by another's says: who saved ``record`` (``user``, None when not
    known) and ``when`` (None when not known either), the ``fields`` they changed, and
    a link to its history, where the editor sees what changed before saving again."""
    opts = record._meta
    kind = capfirst(opts.verbose_name)
    if when is None:
        text = _("%(type)s changed after you opened it.") % {"type": kind}
    else:
        if user is not None and user.pk == request.user.pk:
            text = _(
                "%(type)s saved by you at %(when)s, in another window or tab, after this "
                "page was opened."
            )
        elif user is not None:
            text = _("%(type)s saved by %(who)s at %(when)s, after you opened it.")
        else:
            text = _("%(type)s saved at %(when)s, after you opened it.")
        who = (user.get_full_name() or user.get_username()) if user is not None else ""
        when = formats.date_format(timezone.localtime(when), "SHORT_DATETIME_FORMAT")
        text = text % {"who": who, "type": kind, "when": when}
    if fields:
        text += " " + _("Changed: %(fields)s") % {"fields": ", ".join(fields)} + "."
    history = reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[record.pk])
    return format_html(
        '{} {} <a href="{}">{}</a>',
        text,
        _(
            "Your changes are not saved yet. See what changed in its history, then save "
            "again to put your values in place of those."
        ),
        history,
        _("History"),
    )


class OpenedVersionAdminMixin:
    """For a ModelAdmin: its change page carries the version it was opened at, and a save
    over a later one is stopped (``version_form``, an ``UnchangedSinceOpenedMixin``)."""

    version_form = UnchangedSinceOpenedMixin

    def version_form_attributes(self, request):
        return {"request": request}

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None:
            return form
        return type(form.__name__, (self.version_form, form), self.version_form_attributes(request))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None:
            # The version the page was opened at, or, shown again after a save stopped
            # by another's, theirs: the next save is made knowingly.
            form = context["adminform"].form
            context["opened_version"] = getattr(form, "opened_version", None) or (
                form.version_of(obj)
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


class UnchangedSinceOpenedAdmin(OpenedVersionAdminMixin, HistoryAdmin):
    """The admin of a model with ``updated_at`` and ``updated_by``: a save over a version
    saved since the page was opened is stopped, and a save names who made it."""

    def version_form_attributes(self, request):
        return {
            **super().version_form_attributes(request),
            "tracked_inlines": self.tracked_inlines(),
        }

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class RecordAdmin(FastAdminMixin, LocalizedNumbersMixin, UnchangedSinceOpenedAdmin):
    """What every record's admin shares: who changed it, search by any name, review."""

    class Media:
        css = {"all": ["css/admin.css"]}

    # Staff paste addresses without a scheme; assume the secure one, as Django 6 will.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    search_fields = ["search_key"]
    # Each row costs the admin about 1 ms to render; 50 keep a list under 20× a page
    # without queries. Without the unfiltered total, a filtered list counts only once.
    list_per_page = 50
    show_full_result_count = False
    paginator = EitherEndPaginator
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

    def get_ordering(self, request):
        # Ties go to the primary key ascending, the order in which an index on the sort
        # column holds its rows, so that any page is read from that index. Django's own
        # tie-break, the key descending, made SQLite sort every row up to the page.
        ordering = super().get_ordering(request) or self.model._meta.ordering
        return [*ordering, self.opts.pk.name]

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
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Mark as reviewed today"), permissions=["change"])
    def mark_reviewed(self, request, queryset):
        today = timezone.localdate()
        count = 0
        for record in queryset:
            # One save per record so each review shows in the record's history.
            record.mark_reviewed(user=request.user, day=today)
            record._change_reason = MARKED_REVIEWED
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


# Registered by importing.admin, which adds spreadsheet import and export to it: core sits
# below the import engine and cannot use it itself.
class SourceAdmin(RecordAdmin):
    list_display = ["title", "author", "published", "language", "review_status", "updated_at"]
    list_filter = ["language", ReviewStatusFilter]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "short_title",
                    "author",
                    "published",
                    "language",
                    "url",
                    "page",
                    "notes",
                ]
            },
        ),
        RecordAdmin.record_fieldset,
    ]


class TranslatedRecordAdmin(TranslatedFieldsMixin, TranslationAdmin, RecordAdmin):
    """A record admin whose names and descriptions are written in Danish and English."""


class PublishableRecordAdmin(TranslatedRecordAdmin):
    """A record admin for places, organisations and partnerships: drafts and publishing.

    Every check is ``Publishable.publish_problems``, the one the import and the API ask.
    """

    publication_fieldset = (_("Publication"), {"fields": ["publication"]})

    def get_fieldsets(self, request, obj=None):
        return [self.publication_fieldset, *super().get_fieldsets(request, obj)]

    def get_list_display(self, request):
        # The state rides on the name, as a badge on drafts only: a column of its own does
        # not fit a 1,366 px screen beside the filters, and "published" on every row is noise.
        first, *rest = super().get_list_display(request)
        return [self.name_and_publication(first), *rest]

    @staticmethod
    @functools.cache
    def name_and_publication(column):
        @admin.display(description=column.short_description, ordering=column.admin_order_field)
        def named(record):
            value = column(record)
            if record.is_published:
                return value
            return format_html(
                '{} <span class="atlas-draft">{}</span>',
                value,
                record.get_publication_display(),
            )

        named.__name__ = column.__name__
        return named

    def get_list_filter(self, request):
        return [*super().get_list_filter(request), "publication"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        for name in ("publish_selected", "unpublish_selected"):
            action = self.get_action(name)
            if action is not None and self.has_change_permission(request):
                actions[name] = action
        return actions

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "publication" not in form.base_fields:
            return form
        user, was = request.user, obj.publication if obj is not None else None

        class PublicationForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                # A form sent without the field (a script, an old page) leaves it as it is.
                self.fields["publication"].required = False

            def clean_publication(self):
                return self.cleaned_data.get("publication") or self.instance.publication

            def clean(self):
                cleaned = super().clean()
                if cleaned.get("publication") != Publication.PUBLISHED:
                    return cleaned
                sources = cleaned.get("sources") if "sources" in self.fields else None
                if was == Publication.PUBLISHED:
                    # Editing a published record needs no second approval, and one published
                    # before sources were required may be edited until a source is found
                    # (the data-quality page lists it); taking its last source off may not.
                    if sources is None or sources or not self.instance.sources.exists():
                        return cleaned
                for problem in self.instance.publish_problems(
                    user=None if was == Publication.PUBLISHED else user, sources=sources
                ):
                    self.add_error("publication", problem)
                return cleaned

        PublicationForm.__name__ = form.__name__
        return PublicationForm

    def save_model(self, request, obj, form, change):
        changed = form.initial.get("publication", obj.publication) != obj.publication
        if changed and getattr(request, "reverting_to", None) is None:
            obj._change_reason = PUBLICATION_REASONS[obj.publication]
        super().save_model(request, obj, form, change)

    def change_publication(self, request, queryset, publication):
        changed, refused = 0, []
        for record in queryset:
            if record.publication == publication:
                continue
            try:
                record.set_publication(publication, request.user)
            except ValidationError as error:
                refused.append(f"{record}: {' '.join(error.messages)}")
                continue
            changed += 1
        if changed:
            self.message_user(
                request,
                (
                    ngettext("%(count)d record published.", "%(count)d records published.", changed)
                    if publication == Publication.PUBLISHED
                    else ngettext(
                        "%(count)d record unpublished.", "%(count)d records unpublished.", changed
                    )
                )
                % {"count": changed},
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                format_html(
                    "{}<ul>{}</ul>",
                    ngettext(
                        "%(count)d record was not published:",
                        "%(count)d records were not published:",
                        len(refused),
                    )
                    % {"count": len(refused)},
                    format_html_join("", "<li>{}</li>", ((line,) for line in refused)),
                ),
                messages.ERROR,
            )

    @admin.action(description=_("Publish selected"), permissions=["change"])
    def publish_selected(self, request, queryset):
        self.change_publication(request, queryset, Publication.PUBLISHED)

    @admin.action(description=_("Unpublish selected"), permissions=["change"])
    def unpublish_selected(self, request, queryset):
        self.change_publication(request, queryset, Publication.DRAFT)
