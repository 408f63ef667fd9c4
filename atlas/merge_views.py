"""Admin screens to merge two records, list the merges and undo one (``atlas.merging``)."""

from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.forms import could_be_key
from core.models import Merge, stored_version
from core.translation import translated

from . import merging

# The merges listed; older ones stay in the table and still redirect.
MERGES_SHOWN = 100
SIDES = ("a", "b")


def permission(model, action):
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def name_of(record):
    return translated(record, type(record).slug_from)[0] or str(record.pk)


def refuse(request, message, to=None):
    messages.error(request, message)
    return redirect(to or reverse("admin:index"))


def merge_view(request):
    data = request.POST if request.method == "POST" else request.GET
    model = merging.TYPES.get(data.get("type", ""))
    if model is None:
        return refuse(request, _("Choose places, organisations or partnerships to merge."))
    if not request.user.has_perm(permission(model, "change")):
        raise PermissionDenied
    changelist = admin_url(model, "changelist")
    key = model._meta.pk
    # Read as the database's keys: "²" passed str.isdigit() and failed int(), and a number
    # past 2⁶³ reached SQLite, both server errors.
    if not all(data.get(side) and could_be_key(key, data[side]) for side in SIDES):
        return refuse(request, _("Choose the two records to merge."), changelist)
    pks = [key.to_python(data[side]) for side in SIDES]
    if pks[0] == pks[1]:
        return refuse(request, _("Choose two different records to merge."), changelist)
    found = model._default_manager.in_bulk(pks)
    if len(found) != 2:
        return refuse(request, _("One of the two records no longer exists."), changelist)
    records = dict(zip(SIDES, (found[pk] for pk in pks), strict=True))
    rows, _linked = merging.plan(records["a"], records["b"])

    if request.method == "POST":
        keep = data.get("keep")
        # A field not chosen keeps the value of the record that stays.
        picks = {row["choice"].key: data.get(f"field-{row['choice'].key}", keep) for row in rows}
        if keep not in SIDES or not set(picks.values()) <= set(SIDES):
            messages.error(request, _("Choose the record that stays and a value for each field."))
        else:
            kept = records[keep]
            removed = records["b" if keep == "a" else "a"]
            from_removed = [key for key, side in picks.items() if side != keep]
            # The versions the page showed; a page from before sent none.
            versions = {
                records[side].pk: data[f"version-{side}"]
                for side in SIDES
                if data.get(f"version-{side}")
            }
            try:
                merging.merge(kept, removed, from_removed, user=request.user, versions=versions)
            except merging.MergeRefused as refusal:
                messages.error(request, str(refusal))
            else:
                messages.success(
                    request,
                    _("%(removed)s was merged into %(kept)s.")
                    % {"removed": name_of(removed), "kept": name_of(kept)},
                )
                return redirect(admin_url(model, "change", kept.pk))

    opts = model._meta
    context = {
        **admin.site.each_context(request),
        "title": _("Merge two %(things)s") % {"things": opts.verbose_name_plural},
        "opts": opts,
        "type": opts.model_name,
        "records": records,
        "rows": [
            {
                **row,
                "picked": data.get(f"field-{row['choice'].key}")
                or ("b" if row["from_removed"] else "a"),
            }
            for row in rows
        ],
        "linked": {side: merging.linked(records[side]) for side in SIDES},
        "keep": data.get("keep", "a"),
        "links": {side: admin_url(model, "change", records[side].pk) for side in SIDES},
        "versions": {side: stored_version(records[side].updated_at) for side in SIDES},
    }
    return TemplateResponse(request, "admin/merge/merge.html", context)


def viewable_types(user):
    return [
        model
        for model in merging.TYPES.values()
        if user.has_perm(permission(model, "view")) or user.has_perm(permission(model, "change"))
    ]


def merges_view(request):
    models = viewable_types(request.user)
    if not models:
        raise PermissionDenied
    types = ContentType.objects.get_for_models(*models)
    merges = list(
        Merge.objects.filter(content_type__in=types.values()).select_related(
            "content_type", "merged_by", "undone_by"
        )[:MERGES_SHOWN]
    )
    by_type = {content_type.pk: model for model, content_type in types.items()}
    kept = {}
    for model in models:
        pks = [merge.kept_id for merge in merges if by_type[merge.content_type_id] is model]
        kept[model] = model._default_manager.in_bulk(pks)
    for merge in merges:
        model = by_type[merge.content_type_id]
        merge.type_name = model._meta.verbose_name
        merge.kept = kept[model].get(merge.kept_id)
        merge.kept_url = admin_url(model, "change", merge.kept_id) if merge.kept else ""
        merge.removed_name = merging.removed_name(merge)
        merge.can_undo = merge.undone_at is None and request.user.has_perm(
            permission(model, "change")
        )
    context = {
        **admin.site.each_context(request),
        "title": _("Merges"),
        "merges": merges,
    }
    return TemplateResponse(request, "admin/merge/merges.html", context)


@require_POST
def undo_view(request, pk):
    merge = get_object_or_404(Merge.objects.select_related("content_type"), pk=pk)
    model = merge.content_type.model_class()
    if model not in merging.TYPES.values():
        raise PermissionDenied
    if not request.user.has_perm(permission(model, "change")):
        raise PermissionDenied
    try:
        merging.undo(merge, user=request.user)
    except merging.MergeRefused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _("The merge was undone: %(record)s is back.")
            % {"record": name_of(model._default_manager.get(pk=merge.removed_id))},
        )
    return redirect(reverse("admin:atlas-merges"))


@admin.action(description=gettext_lazy("Merge two selected"), permissions=["change"])
def merge_two_selected(modeladmin, request, queryset):
    pks = list(queryset.values_list("pk", flat=True)[:3])
    if len(pks) != 2:
        modeladmin.message_user(request, _("Select exactly two records to merge."), messages.ERROR)
        return None
    query = urlencode({"type": queryset.model._meta.model_name, "a": pks[0], "b": pks[1]})
    return HttpResponseRedirect(f"{reverse('admin:atlas-merge')}?{query}")


# In the admin's namespace, before its own URLs (AtlasAdminSite.get_urls).
urlpatterns = [
    path("merge/", admin.site.admin_view(merge_view), name="atlas-merge"),
    path("merges/", admin.site.admin_view(merges_view), name="atlas-merges"),
    path("merges/<int:pk>/undo/", admin.site.admin_view(undo_view), name="atlas-merge-undo"),
]
