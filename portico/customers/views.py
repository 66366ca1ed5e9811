from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_htmx.http import push_url

from portico.accounts.decorators import staff_view
from portico.core.money import currency_choices
from portico.customers import selectors, services
from portico.customers.forms import CustomerForm, contact_formset
from portico.customers.models import ContactPerson, Customer, CustomerType
from portico.portal_access.bulk_views import enable_portal_for_selection
from portico.portal_access.services import PortalAccessError
from portico.portal_access.staff_services import portal_access_allow_for_customer

PAGE_SIZE = 50


def _get_customer(request, customer_id: int) -> Customer:
    try:
        return selectors.customer_get(organization=request.organization, customer_id=customer_id)
    except Customer.DoesNotExist as error:
        raise Http404 from error


@staff_view
def customer_list(request):
    filters = selectors.CustomerFilters.from_query(request.GET)
    customers = selectors.customer_list(organization=request.organization, filters=filters)
    page = Paginator(customers, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        # An empty page says "no customers yet" or "none match", which differ.
        "has_customers": bool(page.object_list)
        or selectors.customer_exists(organization=request.organization),
        "filters": filters,
        "currency_choices": currency_choices(),
        "language_choices": settings.LANGUAGES,
        "type_choices": CustomerType.choices,
    }
    if request.htmx and request.htmx.target == "customer-results":
        response = render(request, "customers/partials/_customer_results.html", context)
        # The address bar shows only the filters that differ from the defaults.
        query = filters.as_query()
        return push_url(response, reverse("customers:list") + (f"?{query}" if query else ""))
    return render(request, "customers/customer_list.html", context)


@require_POST
@staff_view
def customer_bulk_action(request):
    """Apply an action to the ticked customers, or to all matching the filters."""
    filters = selectors.CustomerFilters.from_query(request.POST)
    ids = [int(value) for value in request.POST.getlist("ids") if value.isdigit()]
    selection = selectors.customer_selection(
        organization=request.organization,
        ids=ids,
        all_matching=request.POST.get("all_matching") == "1",
        filters=filters,
    )
    action = request.POST.get("action")
    if action == "enable_portal":
        # More → Enable portal: a job for the worker, with a progress page.
        return enable_portal_for_selection(
            request,
            ids=ids,
            all_matching=request.POST.get("all_matching") == "1",
            filters=filters,
        )
    if action in {"mark_active", "mark_inactive"}:
        changed = services.customer_set_active(customers=selection, active=action == "mark_active")
        messages.success(
            request,
            ngettext("%(count)s customer updated.", "%(count)s customers updated.", changed)
            % {"count": changed},
        )
    else:
        messages.error(request, _("Choose an action."))
    query = filters.as_query()
    return redirect(reverse("customers:list") + (f"?{query}" if query else ""))


def _customer_form_page(request, customer: Customer | None):
    organization = request.organization
    form = CustomerForm(
        request.POST or None, instance=customer or Customer(), organization=organization
    )
    formset = contact_formset(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            # The customer, its contacts and the portal invitation (with its
            # e-mail) are saved together, or nothing is.
            with transaction.atomic():
                if customer is None:
                    saved = services.customer_create(
                        organization=organization, contacts=formset.contacts(), **fields
                    )
                else:
                    saved = services.customer_update(
                        customer=customer, contacts=formset.contacts(), **fields
                    )
                invitation = None
                if form.cleaned_data["allow_portal_access"]:
                    invitation = portal_access_allow_for_customer(
                        customer=saved, actor=request.user
                    )
        except (services.CustomerError, PortalAccessError) as error:
            form.add_error(error.field, error.message)
        else:
            if customer is None:
                message = _("Customer %(name)s created.")
            else:
                message = _("Customer %(name)s saved.")
            messages.success(request, message % {"name": saved.display_name})
            if invitation is not None:
                messages.success(
                    request,
                    _("A portal invitation was sent to %(email)s.")
                    % {"email": invitation.access.contact.email},
                )
            return redirect("customers:detail", customer_id=saved.pk)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "formset": formset, "customer": customer},
        status=status,
    )


@staff_view
def customer_create(request):
    return _customer_form_page(request, None)


@staff_view
def customer_edit(request, customer_id: int):
    return _customer_form_page(request, _get_customer(request, customer_id))


@staff_view
def customer_detail(request, customer_id: int):
    try:
        customer = selectors.customer_detail(
            organization=request.organization, customer_id=customer_id
        )
    except Customer.DoesNotExist as error:
        raise Http404 from error
    return render(request, "customers/customer_detail.html", {"customer": customer})


@require_POST
@staff_view
def customer_set_active(request, customer_id: int):
    customer = _get_customer(request, customer_id)
    active = request.POST.get("active") == "1"
    services.customer_set_active(customers=Customer.objects.filter(pk=customer.pk), active=active)
    if active:
        messages.success(request, _("%(name)s is active.") % {"name": customer.display_name})
    else:
        messages.success(request, _("%(name)s is inactive.") % {"name": customer.display_name})
    return redirect("customers:detail", customer_id=customer.pk)


@require_POST
@staff_view
def customer_delete(request, customer_id: int):
    customer = _get_customer(request, customer_id)
    try:
        services.customer_delete(customer=customer)
    except services.CustomerDeleteError as error:
        messages.error(request, error.message)
        return redirect("customers:detail", customer_id=customer.pk)
    messages.success(request, _("Customer %(name)s deleted.") % {"name": customer.display_name})
    return redirect("customers:list")


@staff_view
def customer_lookup(request):
    """``<option>``s of customers matching the picker's search box (htmx)."""
    query = request.GET.get("customer_search", "")[:100]
    customers = selectors.customer_lookup(organization=request.organization, query=query)
    return render(
        request,
        "customers/partials/_customer_options.html",
        {"customers": customers, "query": query},
    )


@staff_view
def customer_contact_choices(request):
    """The "Send to" checkboxes for the customer chosen on a document form (htmx)."""
    customer_id = request.GET.get("customer", "")
    contacts = []
    if customer_id.isdigit():
        contacts = list(
            ContactPerson.objects.filter(
                organization=request.organization, customer_id=int(customer_id)
            )
        )
    return render(
        request,
        "customers/partials/_contact_choices.html",
        {"contacts": contacts, "field_name": request.GET.get("field", "contacts")[:40]},
    )
