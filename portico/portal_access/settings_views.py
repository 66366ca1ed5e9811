"""Settings → Customer portal (staff side)."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.accounts.decorators import staff_view
from portico.core.errors import PermissionDeniedError, PorticoError
from portico.portal_access import selectors, settings_services
from portico.portal_access.models import PortalSettings
from portico.portal_access.services import portal_settings_get, portal_url
from portico.portal_access.settings_forms import (
    BannerPreviewForm,
    PortalNameForm,
    PortalSettingsForm,
)


def _render_page(
    request,
    *,
    portal_settings: PortalSettings,
    settings_form: PortalSettingsForm | None = None,
    name_form: PortalNameForm | None = None,
    status: int = 200,
):
    organization = request.organization
    settings_form = settings_form or PortalSettingsForm(
        initial=PortalSettingsForm.initial_from(portal_settings)
    )
    name_form = name_form or PortalNameForm(initial={"portal_name": organization.portal_name})
    if not request.membership.can_manage_team:  # shown, not changeable
        for form in (settings_form, name_form):
            for field in form.fields.values():
                field.disabled = True
    # The preview shows what was typed (after a failed save) or what is saved.
    banner = (
        settings_form.data.get("banner_message", "")
        if settings_form.is_bound
        else portal_settings.banner_message
    )
    context = {
        "portal_settings": portal_settings,
        "settings_form": settings_form,
        "name_form": name_form,
        "portal_home_url": portal_url(organization=organization),
        "signup_url": portal_url(organization=organization, name="portal:signup"),
        "earlier_names": list(selectors.portal_name_history_list(organization=organization)),
        "banner": banner.strip(),
    }
    return render(request, "portal_access/settings.html", context, status=status)


@staff_view
def portal_settings_page(request):
    portal_settings = portal_settings_get(organization=request.organization)
    if request.method != "POST":
        return _render_page(request, portal_settings=portal_settings)
    form = PortalSettingsForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            settings_services.portal_settings_update(
                membership=request.membership, **form.cleaned_data
            )
        except PermissionDeniedError as error:
            messages.error(request, error.message)
            status = 403
        except PorticoError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(request, _("Portal settings saved."))
            return redirect("portal_access:settings")
    return _render_page(request, portal_settings=portal_settings, settings_form=form, status=status)


@require_POST
@staff_view
def portal_name_change(request):
    form = PortalNameForm(request.POST)
    status = 422
    if form.is_valid():
        try:
            organization = settings_services.portal_name_change(
                membership=request.membership, new_name=form.cleaned_data["portal_name"]
            )
        except PermissionDeniedError as error:
            messages.error(request, error.message)
            status = 403
        except PorticoError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(
                request,
                _("The portal is now at %(url)s. Links with earlier names lead there.")
                % {"url": portal_url(organization=organization)},
            )
            return redirect("portal_access:settings")
    portal_settings = portal_settings_get(organization=request.organization)
    return _render_page(request, portal_settings=portal_settings, name_form=form, status=status)


@require_POST
@staff_view
def banner_preview(request):
    """The banner as the portal shows it (htmx, while typing)."""
    form = BannerPreviewForm(request.POST)
    banner = form.cleaned_data["banner_message"] if form.is_valid() else ""
    return render(request, "portal_access/partials/_banner_preview.html", {"banner": banner})
