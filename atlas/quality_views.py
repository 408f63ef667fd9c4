"""The admin's data-quality pages: every check with its count, and the possible duplicates.

Plain views wrapped by the admin site (config/urls.py), so they look like the admin and
need a staff login; each check and each kind of duplicate shows only to staff who may view
that record type, and only those who may change it decide that a pair is no duplicate.
"""

from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.labels import country_name
from core.models import NotDuplicate
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place

from .dashboard import admin_url, label
from .duplicates import FINDERS
from .quality import CHECKS

SHOWN = 5
PAIRS_PER_PAGE = 50
# The ?type= of the duplicates page and of the merge screen.
TYPES = {"place": Place, "organisation": Organisation, "partnership": Partnership}
TYPE_NAMES = {model: name for name, model in TYPES.items()}
MERGEABLE = {Place, Organisation}


def can(request, model, action):
    model_admin = admin.site._registry.get(model)
    if model_admin is None:
        return False
    if action == "view":
        return model_admin.has_view_or_change_permission(request)
    return model_admin.has_change_permission(request)


def visible_types(request):
    return [model for model in FINDERS if can(request, model, "view")]


@require_GET
def quality_view(request):
    checks = [check for check in CHECKS if can(request, check.model, "view")]
    duplicate_types = visible_types(request)
    if not checks and not duplicate_types:
        raise PermissionDenied
    rows = []
    for check in checks:
        records = check.records()
        rows.append(
            {
                "title": check.title,
                "count": records.count(),
                "url": f"{admin_url(admin.site, check.model, 'changelist')}?{check.query}",
                "records": [
                    (
                        label(record, check.model),
                        admin_url(admin.site, check.model, "change", record.pk),
                    )
                    for record in records[:SHOWN]
                ],
            }
        )
    duplicates = []
    for model in duplicate_types:
        pairs = FINDERS[model]()
        duplicates.append(
            {
                "title": model._meta.verbose_name_plural,
                "count": len(pairs),
                "url": duplicates_url(model),
                "pairs": described(pairs[:SHOWN]),
            }
        )
    return TemplateResponse(
        request,
        "admin/quality/index.html",
        {
            **admin.site.each_context(request),
            "title": _("Data quality"),
            "checks": rows,
            "duplicates": duplicates,
        },
    )


def duplicates_url(model, **query):
    return f"{reverse('admin:atlas-duplicates')}?{urlencode({'type': TYPE_NAMES[model], **query})}"


def merge_url(model, pair):
    if model not in MERGEABLE:
        return ""
    try:
        url = reverse("admin:atlas-merge")
    except NoReverseMatch:  # the merge screen is not installed
        return ""
    query = {"type": TYPE_NAMES[model], "a": pair.first_id, "b": pair.second_id}
    return f"{url}?{urlencode(query)}"


def describe(record, model):
    """A line that tells two records apart: kind, country and what they lie in."""
    parts = [record.get_kind_display()]
    if model is not Partnership:
        parts.append(country_name(record.country.code))
        if record.parent_id:
            parts.append(label(record.parent, model))
    return ", ".join(str(part) for part in parts if part)


def described(pairs):
    """The pairs with their records, read in one query per record type."""
    if not pairs:
        return []
    model = pairs[0].model
    ids = {pk for pair in pairs for pk in (pair.first_id, pair.second_id)}
    queryset = model.objects.filter(pk__in=ids)
    if model is not Partnership:
        queryset = queryset.select_related("parent")
    records = {record.pk: record for record in queryset}
    rows = []
    for pair in pairs:
        both = [records.get(pair.first_id), records.get(pair.second_id)]
        if None in both:  # deleted since the pairs were found
            continue
        rows.append(
            {
                "pair": pair,
                "reason": pair.reason(),
                "records": [
                    {
                        "label": label(record, model),
                        "detail": describe(record, model),
                        "url": admin_url(admin.site, model, "change", record.pk),
                    }
                    for record in both
                ],
                "merge_url": merge_url(model, pair),
            }
        )
    return rows


@require_GET
def duplicates_view(request):
    types = visible_types(request)
    if not types:
        raise PermissionDenied
    model = TYPES.get(request.GET.get("type", ""), types[0])
    if model not in types:
        raise PermissionDenied
    paginator = Paginator(FINDERS[model](), PAIRS_PER_PAGE)
    page = paginator.get_page(request.GET.get("p"))
    return TemplateResponse(
        request,
        "admin/quality/duplicates.html",
        {
            **admin.site.each_context(request),
            "title": _("Possible duplicates: %(records)s")
            % {"records": model._meta.verbose_name_plural},
            "type": TYPE_NAMES[model],
            "types": [
                (TYPE_NAMES[other], other._meta.verbose_name_plural, duplicates_url(other))
                for other in types
            ],
            "page": page,
            "pairs": described(list(page.object_list)),
            "can_decide": can(request, model, "change"),
        },
    )


@require_POST
def not_duplicate_view(request):
    model = TYPES.get(request.POST.get("type", ""))
    if model is None:
        messages.error(request, _("Choose places, organisations or partnerships."))
        return redirect("admin:atlas-quality")
    if not can(request, model, "change"):
        raise PermissionDenied
    back = duplicates_url(model)
    try:
        first, second = sorted({int(request.POST["a"]), int(request.POST["b"])})
    except (KeyError, ValueError):
        first = second = 0
    if not 0 < first < second < 2**63:
        messages.error(request, _("Choose two different records."))
        return redirect(back)
    records = {record.pk: record for record in model.objects.filter(pk__in=[first, second])}
    if len(records) < 2:
        messages.error(request, _("One of the two records no longer exists."))
        return redirect(back)
    try:
        with transaction.atomic():
            NotDuplicate.objects.get_or_create(
                content_type=ContentType.objects.get_for_model(model),
                first_id=first,
                second_id=second,
                defaults={"decided_by": request.user},
            )
    except IntegrityError:  # decided a moment ago by someone else
        pass
    messages.success(
        request,
        _("%(first)s and %(second)s are no longer shown as possible duplicates.")
        % {"first": label(records[first], model), "second": label(records[second], model)},
    )
    return redirect(back)


# Included under the admin's namespace (config/urls.py), before the admin's own URLs.
urlpatterns = [
    path("quality/", admin.site.admin_view(quality_view), name="atlas-quality"),
    path("quality/duplicates/", admin.site.admin_view(duplicates_view), name="atlas-duplicates"),
    path(
        "quality/not-duplicate/",
        admin.site.admin_view(not_duplicate_view),
        name="atlas-not-duplicate",
    ),
]
