"""The portal's request layer: which organisation's portal, who is signed in, may they.

``portal_public_view`` resolves ``/portal/<portal_name>/`` to its organisation
(an earlier name redirects permanently to the same page under the current
name; an unknown name is a 404) and sets ``request.organization``.

``portal_view`` does that and admits only a person with an ACTIVE access to
THIS organisation's portal, checked on every request, so disabling an access
ends its open sessions at their next request. It sets ``request.portal_access``
and ``request.portal_customer``, and sends a person who must pass (or set up)
two-factor authentication to that step first.
"""

from enum import StrEnum
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode

from portico.accounts.models import Organization
from portico.portal.page_cache import (
    page_cache_enabled,
    page_get,
    page_key,
    page_store,
    recording_start,
    request_is_cacheable,
)
from portico.portal_access.authentication import portal_sign_in_record
from portico.portal_access.models import (
    AccessStatus,
    PortalAccess,
    PortalModule,
    PortalSettings,
    all_modules,
)
from portico.portal_access.selectors import (
    PortalVisit,
    organization_and_visit,
    organization_for_portal_name_current,
    portal_access_for_user,
)

# Organisations whose portal this session has passed the TOTP step for.
SESSION_TWO_FACTOR_KEY = "portal_two_factor_passed"
# Organisations whose portal this session has entered (last sign-in recorded).
SESSION_ENTERED_KEY = "portal_entered"


class TwoFactorState(StrEnum):
    OFF = "off"  # neither the organisation nor the person asks for it
    PASSED = "passed"  # this session passed the TOTP step for this portal
    VERIFY = "verify"  # the person has a device: ask for a code
    SETUP = "setup"  # the organisation demands it and the person has no device


def portal_home_url(organization: Organization) -> str:
    return reverse("portal:home", kwargs={"portal_name": organization.portal_name})


def _redirect_to_current_name(request: HttpRequest, organization: Organization):
    match = request.resolver_match
    path = reverse(
        match.view_name, kwargs={**match.kwargs, "portal_name": organization.portal_name}
    )
    if request.META.get("QUERY_STRING"):
        path = f"{path}?{request.META['QUERY_STRING']}"
    if request.method in ("GET", "HEAD"):
        return HttpResponsePermanentRedirect(path)
    # 308 keeps the method and body of a form posted to an earlier name.
    response = HttpResponsePermanentRedirect(path)
    response.status_code = 308
    return response


def portal_public_view(view=None, *, read_visit: bool = False):
    """For every portal page: find the organisation by its portal name.

    ``read_visit=True`` (cached pages): for a signed-in person, read their
    access with the organisation, in the same query (``request.portal_visit``).
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request, portal_name: str, *args, **kwargs):
            request.portal_visit = None  # read below only with read_visit
            try:
                if read_visit and request.user.is_authenticated:
                    organization, is_current, request.portal_visit = organization_and_visit(
                        portal_name=portal_name, user=request.user
                    )
                else:
                    organization, is_current = organization_for_portal_name_current(
                        portal_name=portal_name
                    )
            except Organization.DoesNotExist as error:
                raise Http404("No such portal.") from error
            if not is_current:
                return _redirect_to_current_name(request, organization)
            request.organization = organization
            request.portal_access = None
            request.portal_customer = None
            request.portal_modules = []
            with timezone.override(organization.time_zone):
                return view(request, portal_name, *args, **kwargs)

        return wrapper

    if view is not None:
        return decorate(view)
    return decorate


def _settings_of_organization(organization: Organization) -> PortalSettings | None:
    try:
        return organization.portal_settings
    except ObjectDoesNotExist:
        return None


def portal_settings_of(access: PortalAccess) -> PortalSettings | None:
    """The organisation's portal settings loaded with the access (None: defaults)."""
    return _settings_of_organization(access.organization)


def _modules_shown(portal_settings: PortalSettings | None, own_modules: list[str]) -> list[str]:
    shown = portal_settings.modules if portal_settings is not None else all_modules()
    allowed = [module for module in PortalModule.values if module in shown]
    if own_modules:
        allowed = [module for module in allowed if module in own_modules]
    return allowed


def portal_modules_of(access: PortalAccess) -> list[str]:
    """The modules this contact sees, in the portal's order: those the
    organisation shows, narrowed to the contact's own permissions if staff
    set any (an empty list on the access means all the organisation shows)."""
    return _modules_shown(portal_settings_of(access), access.modules)


def _two_factor_state(
    request: HttpRequest, organization: Organization, *, has_device: bool
) -> TwoFactorState:
    if organization.pk in request.session.get(SESSION_TWO_FACTOR_KEY, []):
        return TwoFactorState.PASSED
    if has_device:
        return TwoFactorState.VERIFY
    portal_settings = _settings_of_organization(organization)
    if portal_settings is not None and portal_settings.require_two_factor:
        return TwoFactorState.SETUP
    return TwoFactorState.OFF


def _session_add(request: HttpRequest, key: str, organization_id: int) -> None:
    ids = list(request.session.get(key, []))
    if organization_id not in ids:
        request.session[key] = [*ids, organization_id]


def two_factor_mark_passed(request: HttpRequest, organization: Organization) -> None:
    _session_add(request, SESSION_TWO_FACTOR_KEY, organization.pk)


def portal_session_start(request: HttpRequest, organization: Organization) -> None:
    """After a fresh sign-in: this portal's two-factor step and sign-in record start over."""
    for key in (SESSION_TWO_FACTOR_KEY, SESSION_ENTERED_KEY):
        ids = request.session.get(key, [])
        if organization.pk in ids:
            request.session[key] = [pk for pk in ids if pk != organization.pk]


def _with_next(url_name: str, request: HttpRequest) -> str:
    url = reverse(url_name, kwargs={"portal_name": request.organization.portal_name})
    return f"{url}?{urlencode({'next': request.get_full_path()})}"


def access_disabled_response(request: HttpRequest):
    return render(request, "portal/access_disabled.html", status=403)


def portal_view(
    view=None,
    *,
    two_factor_pending: bool = False,
    module: str | None = None,
    cache_page: bool = False,
    on_cache_hit=None,
):
    """For signed-in portal pages (see the module's docstring).

    ``two_factor_pending=True`` lets in a person who has not passed the
    two-factor step yet: the pages that ask for the code or set the device up.
    ``module`` (a ``PortalModule``): the page belongs to that module, and a
    contact who may not see it gets a 404, as for a page that does not exist.
    It sets ``request.portal_modules``, the modules the contact sees.

    ``cache_page=True``: a GET is served from the contact's cached copy of
    the page while nothing it shows has changed (``portico.portal.page_cache``);
    every check above still runs first, on every request.
    ``on_cache_hit(request, visit, **kwargs)`` does what the view would have
    done besides rendering (a document page counts the view); returning
    False renders the page instead.
    """

    def decorate(view):
        @portal_public_view(read_visit=cache_page)
        @wraps(view)
        def wrapper(request, portal_name: str, *args, **kwargs):
            organization = request.organization
            if not request.user.is_authenticated:
                return redirect_to_login(
                    request.get_full_path(),
                    reverse("portal:sign_in", kwargs={"portal_name": organization.portal_name}),
                )
            access = None
            cache_page_now = cache_page and page_cache_enabled()
            if cache_page_now:
                # Read with the organisation (portal_public_view, read_visit):
                # the full access (its contact and customer) is loaded only if
                # the page renders.
                visit = request.portal_visit
            else:
                access = portal_access_for_user(organization=organization, user=request.user)
                visit = PortalVisit.of_access(access) if access is not None else None
            if visit is None:
                # Signed in, but not as a contact of this organisation (say, a
                # staff member of another one): sign in with another account.
                return redirect_to_login(
                    request.get_full_path(),
                    reverse("portal:sign_in", kwargs={"portal_name": organization.portal_name}),
                )
            if visit.status != AccessStatus.ACTIVE:
                return access_disabled_response(request)
            request.portal_modules = _modules_shown(
                _settings_of_organization(organization), visit.own_modules
            )
            if module is not None and module not in request.portal_modules:
                raise Http404("This part of the portal is not shown to you.")
            request.portal_two_factor = _two_factor_state(
                request, organization, has_device=visit.two_factor_confirmed
            )
            request.portal_two_factor_pending = request.portal_two_factor in (
                TwoFactorState.VERIFY,
                TwoFactorState.SETUP,
            )
            if not two_factor_pending:
                if request.portal_two_factor == TwoFactorState.VERIFY:
                    return redirect(_with_next("portal:two_factor_verify", request))
                if request.portal_two_factor == TwoFactorState.SETUP:
                    return redirect(_with_next("portal:two_factor_setup", request))
                if organization.pk not in request.session.get(SESSION_ENTERED_KEY, []):
                    if access is None:
                        access = portal_access_for_user(
                            organization=organization, user=request.user
                        )
                    portal_sign_in_record(access=access)
                    _session_add(request, SESSION_ENTERED_KEY, organization.pk)
            key = None
            if cache_page_now and request_is_cacheable(request):
                key = page_key(
                    request,
                    organization=organization,
                    visit=visit,
                    modules=request.portal_modules,
                )
                cached = page_get(key)
                if cached is not None:
                    with translation.override(visit.language):
                        if on_cache_hit is None or on_cache_hit(request, visit, **kwargs):
                            return cached.response(request)
                recording_start(request)
            if access is None:
                access = portal_access_for_user(organization=organization, user=request.user)
            if access is None or access.status != AccessStatus.ACTIVE:
                return access_disabled_response(request)  # changed a moment ago
            request.portal_access = access
            request.portal_customer = access.customer
            with translation.override(access.effective_language):
                response = view(request, portal_name, *args, **kwargs)
            if key is not None:
                response = page_store(request, key, response)
            return response

        return wrapper

    if view is not None:
        return decorate(view)
    return decorate
