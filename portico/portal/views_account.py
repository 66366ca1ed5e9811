"""My details (the customer's details and contact persons), Security, and the
contact's own language.

Editing is allowed only when the organisation lets customers edit their
details (Settings → Customer portal); otherwise the edit pages are a 404 and
My details is read-only. Changes go through portico.portal.account_services,
which tells staff what changed.
"""

from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.core.errors import PorticoError
from portico.customers.models import ContactPerson
from portico.portal.access import portal_settings_of, portal_view
from portico.portal.account_services import (
    PortalAccountError,
    PortalContactData,
    contact_has_portal_access,
    details_editable,
    portal_contact_save,
    portal_details_update,
    portal_language_set,
    user_sign_out_everywhere,
)
from portico.portal.forms_account import ContactPersonForm, CustomerDetailsForm, LanguageForm
from portico.portal_access import two_factor as two_factor_services


def _url(request, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"portal_name": request.organization.portal_name, **kwargs})


def _add_error(form, error: PorticoError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _require_editable(request) -> None:
    if not details_editable(request.portal_access):
        raise Http404("The organisation does not let customers edit their details.")


def _language_form(request) -> LanguageForm:
    access = request.portal_access
    return LanguageForm(
        initial={"language": access.language},
        customer_language=access.customer.portal_language,
    )


@portal_view
def details(request, portal_name: str):
    access = request.portal_access
    contacts = list(access.customer.contacts.select_related("portal_access").all())
    context = {
        "customer": access.customer,
        "contacts": contacts,
        "editable": details_editable(access),
        "language_form": _language_form(request),
    }
    return render(request, "portal/account/details.html", context)


@portal_view
def details_edit(request, portal_name: str):
    _require_editable(request)
    access = request.portal_access
    form = CustomerDetailsForm(request.POST or None, customer=access.customer)
    if request.method == "POST" and form.is_valid():
        try:
            changes = portal_details_update(access=access, data=form.cleaned_data)
        except PortalAccountError as error:
            _add_error(form, error)
        else:
            if changes:
                messages.success(
                    request,
                    _("Your details are saved. %(organization)s has been told of the change.")
                    % {"organization": request.organization.name},
                )
            else:
                messages.info(request, _("Nothing changed."))
            return redirect(_url(request, "portal:details"))
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/account/details_edit.html", {"form": form}, status=status)


def _contact_page(request, contact: ContactPerson | None):
    access = request.portal_access
    lock_email = contact is not None and contact_has_portal_access(contact)
    form = ContactPersonForm(request.POST or None, contact=contact, lock_email=lock_email)
    if request.method == "POST" and form.is_valid():
        data = PortalContactData(**form.cleaned_data)
        try:
            changes = portal_contact_save(
                access=access, contact_id=contact.pk if contact else None, data=data
            )
        except ContactPerson.DoesNotExist as error:
            raise Http404 from error
        except PortalAccountError as error:
            _add_error(form, error)
        else:
            if contact is None:
                messages.success(request, _("Contact person added."))
            elif changes:
                messages.success(request, _("Contact person saved."))
            else:
                messages.info(request, _("Nothing changed."))
            return redirect(_url(request, "portal:details"))
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "portal/account/contact_form.html",
        {"form": form, "contact": contact, "is_self": contact and contact.pk == access.contact_id},
        status=status,
    )


@portal_view
def contact_create(request, portal_name: str):
    _require_editable(request)
    return _contact_page(request, None)


@portal_view
def contact_edit(request, portal_name: str, pk: int):
    _require_editable(request)
    # Only a contact person of the contact's own customer (→ 404 otherwise).
    contact = request.portal_access.customer.contacts.filter(pk=pk).first()
    if contact is None:
        raise Http404("No such contact person.")
    return _contact_page(request, contact)


@portal_view
def security(request, portal_name: str):
    access = request.portal_access
    portal_settings = portal_settings_of(access)
    context = {
        "access": access,
        "device": two_factor_services.two_factor_device_confirmed(user=request.user),
        "two_factor_required": bool(portal_settings and portal_settings.require_two_factor),
    }
    return render(request, "portal/account/security.html", context)


@require_POST
@portal_view
def sign_out_everywhere(request, portal_name: str):
    """End every session of this person, this one too, and show the sign-in page."""
    user_sign_out_everywhere(user=request.user)
    logout(request)
    messages.success(
        request,
        _("You are signed out on all your devices, here too. Sign in again to continue."),
    )
    return redirect(_url(request, "portal:sign_in"))


def _safe_next(request) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return _url(request, "portal:home")


@require_POST
@portal_view
def language_set(request, portal_name: str):
    access = request.portal_access
    form = LanguageForm(request.POST, customer_language=access.customer.portal_language)
    if form.is_valid():
        try:
            portal_language_set(access=access, language=form.cleaned_data["language"])
        except PortalAccountError as error:
            messages.error(request, error.message)
    else:
        messages.error(request, _("Choose a language from the list."))
    return redirect(_safe_next(request))
