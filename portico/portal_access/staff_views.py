"""Staff inviting contact persons: Configure portal access and Reinvite
(reached from the customer overview)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from portico.accounts.decorators import staff_view
from portico.customers import selectors as customer_selectors
from portico.customers.models import Customer
from portico.portal_access.models import PortalAccess
from portico.portal_access.services import PortalAccessError, portal_settings_get
from portico.portal_access.staff_forms import ConfigurePortalAccessForm
from portico.portal_access.staff_selectors import (
    portal_access_for_contact,
    portal_accesses_for_customer,
)
from portico.portal_access.staff_services import (
    ConfigureOutcome,
    portal_access_configure,
    portal_access_reinvite,
)


def _configure_message(outcome: ConfigureOutcome) -> str:
    if not outcome.changed:
        return _("Portal access saved: nothing changed.")
    parts = []
    if outcome.invited:
        parts.append(
            ngettext("%(count)s invitation sent.", "%(count)s invitations sent.", outcome.invited)
            % {"count": outcome.invited}
        )
    if outcome.disabled:
        parts.append(
            ngettext(
                "Access disabled for %(count)s contact person.",
                "Access disabled for %(count)s contact persons.",
                outcome.disabled,
            )
            % {"count": outcome.disabled}
        )
    if outcome.modules_changed:
        parts.append(
            ngettext(
                "Modules changed for %(count)s contact person.",
                "Modules changed for %(count)s contact persons.",
                outcome.modules_changed,
            )
            % {"count": outcome.modules_changed}
        )
    return _("Portal access saved: %(changes)s") % {"changes": " ".join(parts)}


@staff_view
def customer_access(request, customer_id: int):
    """Configure portal access: the dialog's content (htmx) or a plain page."""
    try:
        customer = customer_selectors.customer_get(
            organization=request.organization, customer_id=customer_id
        )
    except Customer.DoesNotExist as error:
        raise Http404 from error
    rows = portal_accesses_for_customer(customer=customer)
    form = ConfigurePortalAccessForm(
        request.POST if request.method == "POST" else None,
        rows=rows,
        organization_modules=portal_settings_get(organization=request.organization).modules,
    )
    if request.method == "POST" and form.is_valid():
        try:
            outcome = portal_access_configure(
                customer=customer,
                contact_ids=form.cleaned_data["contacts"],
                actor=request.user,
                modules=form.modules_by_contact(),
            )
        except PortalAccessError as error:
            form.add_error("contacts", error.message)
        else:
            messages.success(request, _configure_message(outcome))
            detail_url = reverse("customers:detail", args=[customer.pk])
            if request.htmx:
                return HttpResponseClientRedirect(detail_url)
            return redirect(detail_url)
    context = {"customer": customer, "form": form, "rows": rows, "in_dialog": bool(request.htmx)}
    if request.htmx:
        # htmx swaps 2xx answers only: the dialog shows its errors with a 200.
        return render(request, "portal_access/partials/_customer_access_form.html", context)
    status = 422 if request.method == "POST" else 200
    return render(request, "portal_access/customer_access.html", context, status=status)


@require_POST
@staff_view
def contact_reinvite(request, customer_id: int, contact_id: int):
    """Reinvite: a fresh invitation (every earlier link stops working)."""
    try:
        access = portal_access_for_contact(
            organization=request.organization, customer_id=customer_id, contact_id=contact_id
        )
    except PortalAccess.DoesNotExist as error:
        raise Http404 from error
    try:
        portal_access_reinvite(access=access, actor=request.user)
    except PortalAccessError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("A new invitation was sent to %(name)s (%(email)s).")
            % {"name": access.contact.full_name, "email": access.contact.email},
        )
    return redirect("customers:detail", customer_id=customer_id)
