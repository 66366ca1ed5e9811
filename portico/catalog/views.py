from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from portico.accounts.decorators import staff_view
from portico.catalog import selectors, services
from portico.catalog.forms import ItemForm, NumberSeriesForm, TaxForm
from portico.catalog.models import Item, Tax
from portico.core.errors import PermissionDeniedError
from portico.sales.services import numbering_settings

PAGE_SIZE = 50


def _get_item(request, item_id: int) -> Item:
    try:
        return selectors.item_get(organization=request.organization, item_id=item_id)
    except Item.DoesNotExist as error:
        raise Http404 from error


def _get_tax(request, tax_id: int) -> Tax:
    try:
        return selectors.tax_get(organization=request.organization, tax_id=tax_id)
    except Tax.DoesNotExist as error:
        raise Http404 from error


# Items ---------------------------------------------------------------------


@staff_view
def item_list(request):
    filters = selectors.ItemFilters.from_query(request.GET)
    items = selectors.item_list(organization=request.organization, filters=filters)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        # An empty page says "no items yet" or "none match", which differ.
        "has_items": bool(page.object_list)
        or selectors.item_exists(organization=request.organization),
        "filters": filters,
        "currency": request.organization.base_currency,
    }
    if request.htmx and request.htmx.target == "item-results":
        response = render(request, "catalog/partials/_item_results.html", context)
        query = filters.as_query()
        return push_url(response, reverse("catalog:item_list") + (f"?{query}" if query else ""))
    context["taxes"] = selectors.tax_choices(organization=request.organization)
    return render(request, "catalog/item_list.html", context)


def _item_form_page(request, item: Item | None):
    organization = request.organization
    form = ItemForm(request.POST or None, organization=organization, item=item)
    if request.method == "POST" and form.is_valid():
        try:
            if item is None:
                saved = services.item_create(organization=organization, **form.cleaned_data)
                messages.success(request, _("Item %(name)s created.") % {"name": saved.name})
            else:
                saved = services.item_update(item=item, **form.cleaned_data)
                messages.success(request, _("Item %(name)s saved.") % {"name": saved.name})
        except services.CatalogError as error:
            form.add_error(error.field, error.message)
        else:
            return redirect("catalog:item_detail", item_id=saved.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "catalog/item_form.html", {"form": form, "item": item}, status=status)


@staff_view
def item_create(request):
    return _item_form_page(request, None)


@staff_view
def item_edit(request, item_id: int):
    return _item_form_page(request, _get_item(request, item_id))


@staff_view
def item_detail(request, item_id: int):
    item = _get_item(request, item_id)
    return render(
        request,
        "catalog/item_detail.html",
        {"item": item, "currency": request.organization.base_currency},
    )


@require_POST
@staff_view
def item_set_active(request, item_id: int):
    item = _get_item(request, item_id)
    active = request.POST.get("active") == "1"
    services.item_set_active(item=item, active=active)
    if active:
        messages.success(request, _("%(name)s is active.") % {"name": item.name})
    else:
        messages.success(
            request,
            _("%(name)s is inactive: it is no longer offered on new documents.")
            % {"name": item.name},
        )
    return redirect("catalog:item_detail", item_id=item.pk)


@require_POST
@staff_view
def item_delete(request, item_id: int):
    item = _get_item(request, item_id)
    services.item_delete(item=item)
    messages.success(request, _("Item %(name)s deleted.") % {"name": item.name})
    return redirect("catalog:item_list")


# Taxes ---------------------------------------------------------------------


@staff_view
def tax_list(request):
    taxes = selectors.tax_list(organization=request.organization)
    return render(request, "catalog/tax_list.html", {"taxes": taxes})


def _tax_form_page(request, tax: Tax | None):
    form = TaxForm(request.POST or None, tax=tax)
    if request.method == "POST" and form.is_valid():
        try:
            if tax is None:
                saved = services.tax_create(organization=request.organization, **form.cleaned_data)
                messages.success(request, _("Tax %(name)s created.") % {"name": saved.name})
            else:
                saved = services.tax_update(tax=tax, **form.cleaned_data)
                messages.success(request, _("Tax %(name)s saved.") % {"name": saved.name})
        except services.CatalogError as error:
            form.add_error(error.field, error.message)
        else:
            return redirect("catalog:tax_list")
    status = 422 if request.method == "POST" else 200
    return render(request, "catalog/tax_form.html", {"form": form, "tax": tax}, status=status)


@staff_view
def tax_create(request):
    return _tax_form_page(request, None)


@staff_view
def tax_edit(request, tax_id: int):
    return _tax_form_page(request, _get_tax(request, tax_id))


@require_POST
@staff_view
def tax_set_active(request, tax_id: int):
    tax = _get_tax(request, tax_id)
    active = request.POST.get("active") == "1"
    try:
        services.tax_set_active(tax=tax, active=active)
    except services.CatalogError as error:
        messages.error(request, error.message)
    else:
        if active:
            messages.success(request, _("%(name)s is active.") % {"name": tax.name})
        else:
            messages.success(request, _("%(name)s is inactive.") % {"name": tax.name})
    return redirect("catalog:tax_list")


# Numbering -----------------------------------------------------------------


@staff_view
def numbering_settings_page(request):
    """Every document type's prefix and next number, one small form each."""
    rows = numbering_settings.number_series_list(organization=request.organization)
    submitted = request.POST.get("document_type") if request.method == "POST" else None
    forms = {}
    for row in rows:
        initial = {"prefix": row.prefix, "next_number": row.next_number}
        data = request.POST if row.document_type == submitted else None
        form = NumberSeriesForm(data, initial=initial, prefix=row.document_type)
        if not request.membership.can_manage_team:  # shown, not changeable
            for field in form.fields.values():
                field.disabled = True
        forms[row.document_type] = form
    status = 200
    if submitted is not None:
        form = forms.get(submitted)
        status = 422
        if form is None:
            messages.error(request, _("Choose a document type."))
        elif form.is_valid():
            try:
                series = numbering_settings.number_series_update(
                    membership=request.membership, document_type=submitted, **form.cleaned_data
                )
            except numbering_settings.NumberingError as error:
                form.add_error(error.field, error.message)
            except PermissionDeniedError as error:
                messages.error(request, error.message)
                status = 403
            else:
                messages.success(
                    request,
                    _("%(documents)s: the next number is %(number)s.")
                    % {"documents": series.get_document_type_display(), "number": str(series)},
                )
                return redirect("catalog:numbering")
    return render(
        request,
        "catalog/numbering.html",
        {"rows": [(row, forms[row.document_type]) for row in rows]},
        status=status,
    )
