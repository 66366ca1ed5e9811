"""The customer portal's pages: invitation, sign-in and -out, passwords,
two-factor authentication and the home page.

Every view goes through ``portal_public_view`` or ``portal_view``
(portico.portal.access): the organisation comes from the portal name, the
person's access is checked on every request.
"""

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.accounts.models import User
from portico.accounts.services import (
    LoginThrottledError,
    login_check_throttle,
    login_record_failure,
    login_record_success,
)
from portico.core.errors import PorticoError
from portico.portal.access import (
    TwoFactorState,
    access_disabled_response,
    portal_home_url,
    portal_public_view,
    portal_session_start,
    portal_settings_of,
    portal_view,
    two_factor_mark_passed,
)
from portico.portal.forms import (
    AcceptExistingAccountForm,
    AcceptNewAccountForm,
    PasswordConfirmForm,
    PasswordResetRequestForm,
    PortalSignInForm,
    TwoFactorCodeForm,
)
from portico.portal.selectors_overview import home_summary
from portico.portal_access import two_factor as two_factor_services
from portico.portal_access.authentication import (
    PortalAccessDisabledError,
    PortalSignInError,
    portal_credentials_check,
    portal_password_reset_request,
    portal_password_reset_tokens,
    portal_password_reset_user,
    portal_sign_in_record,
)
from portico.portal_access.models import AccessStatus
from portico.portal_access.selectors import portal_access_for_user
from portico.portal_access.services import (
    InvitationError,
    PortalAccessError,
    invitation_accept,
    invitation_resolve,
    portal_settings_get,
)

BACKEND = "portico.accounts.backends.EmailBackend"


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _safe_next(request) -> str:
    """The ``next`` page if it is on this site, else the portal's home."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return portal_home_url(request.organization)


def _add_error(form, error: PorticoError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def _throttled(response, error: LoginThrottledError):
    response.status_code = 429
    response["Retry-After"] = str(error.retry_after_seconds)
    return response


def _portal_url(request, name: str) -> str:
    return reverse(name, kwargs={"portal_name": request.organization.portal_name})


# --- home -----------------------------------------------------------------------


@portal_view(cache_page=True)
def home(request, portal_name: str):
    access = request.portal_access
    portal_settings = portal_settings_of(access) or portal_settings_get(
        organization=request.organization
    )
    context = {
        "contact": access.contact,
        "customer": access.customer,
        "banner_message": portal_settings.banner_message,
        "modules": request.portal_modules,
        "summary": home_summary(access=access, modules=request.portal_modules),
    }
    return render(request, "portal/home.html", context)


# --- accepting an invitation ------------------------------------------------------


@portal_public_view
def accept_invitation(request, portal_name: str, token: str):
    """The page the invitation e-mail's **Accept invitation** button opens,
    in the customer's portal language (as the e-mail was)."""
    organization = request.organization
    try:
        invitation = invitation_resolve(organization=organization, token=token)
    except InvitationError as error:
        return render(request, "portal/invitation_invalid.html", {"error": error}, status=410)
    with translation.override(invitation.access.effective_language):
        request.LANGUAGE_CODE = translation.get_language()
        return _accept_invitation(request, invitation, token)


def _accept_invitation(request, invitation, token: str):
    organization = request.organization
    access = invitation.access
    email = access.contact.email
    signed_in_as_invitee = (
        request.user.is_authenticated and request.user.email.lower() == email.lower()
    )
    existing = signed_in_as_invitee or User.objects.filter(email__iexact=email).exists()
    if signed_in_as_invitee:
        form = None
    elif existing:
        form = AcceptExistingAccountForm(request.POST or None)
    else:
        form = AcceptNewAccountForm(
            request.POST or None, email=email, initial={"full_name": access.contact.full_name}
        )
    context = {
        "invitation": invitation,
        "username": email,
        "form": form,
        "existing": existing,
        "signed_in_as_invitee": signed_in_as_invitee,
    }
    if request.method != "POST" or (form is not None and not form.is_valid()):
        return render(request, "portal/accept.html", context)
    address = _client_address(request)
    try:
        if signed_in_as_invitee:
            access = invitation_accept(organization=organization, token=token, user=request.user)
        elif existing:
            # Linking an existing account checks its password: throttled like
            # the sign-in form, or this page would allow guessing it.
            login_check_throttle(email=email, client_address=address)
            access = invitation_accept(
                organization=organization, token=token, password=form.cleaned_data["password"]
            )
            login_record_success(email=email)
        else:
            access = invitation_accept(
                organization=organization,
                token=token,
                password=form.cleaned_data["password"],
                full_name=form.cleaned_data["full_name"],
            )
    except InvitationError as error:
        return render(request, "portal/invitation_invalid.html", {"error": error}, status=410)
    except LoginThrottledError as error:
        form.add_error(None, error.message)
        return _throttled(render(request, "portal/accept.html", context), error)
    except PortalAccessError as error:
        if existing and error.field == "password":
            login_record_failure(email=email, client_address=address)
        if form is None:
            messages.error(request, error.message)
        else:
            _add_error(form, error)
        return render(request, "portal/accept.html", context)
    if not signed_in_as_invitee:
        login(request, access.user, backend=BACKEND)
    portal_session_start(request, organization)
    messages.success(
        request,
        _("Invitation accepted: welcome to the portal!"),
    )
    return redirect(portal_home_url(organization))


# --- signing in and out -------------------------------------------------------------


@portal_public_view
def sign_in(request, portal_name: str):
    organization = request.organization
    signed_in_access = None
    if request.user.is_authenticated:
        signed_in_access = portal_access_for_user(organization=organization, user=request.user)
        if (
            request.method == "GET"
            and signed_in_access
            and signed_in_access.status == AccessStatus.ACTIVE
        ):
            return redirect(_safe_next(request))
    form = PortalSignInForm(request.POST or None)
    context = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        # Signed in, but with an account that cannot use this portal.
        "signed_in_elsewhere": request.user.is_authenticated,
    }
    if request.method == "POST" and form.is_valid():
        try:
            access = portal_credentials_check(
                organization=organization,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                client_address=_client_address(request),
                request=request,
            )
        except LoginThrottledError as error:
            form.add_error(None, error.message)
            return _throttled(render(request, "portal/sign_in.html", context), error)
        except PortalAccessDisabledError:
            return access_disabled_response(request)
        except PortalSignInError as error:
            form.add_error(None, error.message)
        else:
            login(request, access.user, backend=BACKEND)
            portal_session_start(request, organization)
            # The portal's decorator asks for the two-factor code next, if needed.
            return redirect(_safe_next(request))
    return render(request, "portal/sign_in.html", context)


@require_POST
@portal_public_view
def sign_out(request, portal_name: str):
    logout(request)
    messages.success(request, _("You are signed out."))
    return redirect(_portal_url(request, "portal:sign_in"))


# --- forgotten password -------------------------------------------------------------


@portal_public_view
def password_reset(request, portal_name: str):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        portal_password_reset_request(
            organization=request.organization, email=form.cleaned_data["email"]
        )
        return redirect(_portal_url(request, "portal:password_reset_sent"))
    return render(request, "portal/password_reset.html", {"form": form})


@portal_public_view
def password_reset_sent(request, portal_name: str):
    return render(request, "portal/password_reset_sent.html")


class PortalPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset view (the token leaves the URL before the form shows),
    with the portal's one-hour tokens and only this portal's contacts."""

    template_name = "portal/password_reset_confirm.html"
    token_generator = portal_password_reset_tokens
    post_reset_login = False

    def get_user(self, uidb64):
        return portal_password_reset_user(organization=self.request.organization, uidb64=uidb64)

    def get_success_url(self):
        return _portal_url(self.request, "portal:sign_in")

    def form_valid(self, form):
        messages.success(self.request, _("Your password is changed. Sign in with it now."))
        return super().form_valid(form)


password_reset_confirm = portal_public_view(PortalPasswordResetConfirmView.as_view())


# --- the signed-in person's account -------------------------------------------------------


@portal_view
def password_change(request, portal_name: str):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Stay signed in here; other sessions of this account end.
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password is changed."))
        return redirect(_portal_url(request, "portal:home"))
    return render(request, "portal/password_change.html", {"form": form})


@portal_view
def two_factor(request, portal_name: str):
    """Two-factor authentication: on or off, recovery codes left, set up or turn off."""
    device = two_factor_services.two_factor_device_confirmed(user=request.user)
    portal_settings = portal_settings_of(request.portal_access)
    context = {
        "device": device,
        "recovery_codes_left": (
            two_factor_services.recovery_codes_left(user=request.user) if device else 0
        ),
        "required": bool(portal_settings and portal_settings.require_two_factor),
        "password_form": PasswordConfirmForm(),
    }
    return render(request, "portal/two_factor.html", context)


@portal_view(two_factor_pending=True)
def two_factor_setup(request, portal_name: str):
    state = request.portal_two_factor
    if state == TwoFactorState.VERIFY:
        return redirect(_with_next(request, "portal:two_factor_verify"))
    if two_factor_services.two_factor_device_confirmed(user=request.user) is not None:
        messages.info(request, _("Two-factor authentication is already on."))
        return redirect(_portal_url(request, "portal:two_factor"))
    device = two_factor_services.two_factor_device_start(user=request.user)
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor_services.two_factor_device_confirm(
                user=request.user, code=form.cleaned_data["code"]
            )
        except two_factor_services.TwoFactorError as error:
            _add_error(form, error)
        else:
            two_factor_mark_passed(request, request.organization)
            if state == TwoFactorState.SETUP:
                portal_sign_in_record(access=request.portal_access)
            return render(
                request,
                "portal/two_factor_recovery_codes.html",
                {"codes": codes, "next": _safe_next(request), "first_time": True},
            )
    uri = two_factor_services.totp_provisioning_uri(
        secret=device.secret, account=request.user.email, issuer=request.organization.name
    )
    context = {
        "form": form,
        "secret": device.secret,
        "secret_groups": " ".join(
            device.secret[i : i + 4] for i in range(0, len(device.secret), 4)
        ),
        "uri": uri,
        "qr_svg": two_factor_services.totp_qr_svg(uri=uri),
        "required": state == TwoFactorState.SETUP,
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render(request, "portal/two_factor_setup.html", context)


def _with_next(request, name: str) -> str:
    url = _portal_url(request, name)
    target = request.POST.get("next") or request.GET.get("next")
    if target:
        url = f"{url}?{urlencode({'next': target})}"
    return url


@portal_view(two_factor_pending=True)
def two_factor_verify(request, portal_name: str):
    """The second step of signing in: a code from the app, or a recovery code."""
    state = request.portal_two_factor
    if state in (TwoFactorState.PASSED, TwoFactorState.OFF):
        return redirect(_safe_next(request))
    if state == TwoFactorState.SETUP:
        return redirect(_with_next(request, "portal:two_factor_setup"))
    form = TwoFactorCodeForm(request.POST or None)
    context = {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")}
    if request.method == "POST" and form.is_valid():
        # Wrong codes count against the person and the address, like passwords.
        throttle_key = f"two-factor:{request.user.pk}"
        address = _client_address(request)
        try:
            login_check_throttle(email=throttle_key, client_address=address)
            check = two_factor_services.two_factor_verify(
                user=request.user, code=form.cleaned_data["code"]
            )
        except LoginThrottledError as error:
            form.add_error(None, error.message)
            return _throttled(render(request, "portal/two_factor_verify.html", context), error)
        except two_factor_services.TwoFactorError as error:
            login_record_failure(email=throttle_key, client_address=address)
            _add_error(form, error)
        else:
            login_record_success(email=throttle_key)
            two_factor_mark_passed(request, request.organization)
            if check.used_recovery_code:
                messages.warning(
                    request,
                    _(
                        "You used a recovery code; %(count)s left. Make new ones under "
                        "Two-factor authentication if you are running low."
                    )
                    % {"count": check.recovery_codes_left},
                )
            return redirect(_safe_next(request))
    return render(request, "portal/two_factor_verify.html", context)


def _password_confirmed(request, form: PasswordConfirmForm) -> bool:
    """Check the signed-in person's password, throttled like the sign-in form."""
    email, address = request.user.email, _client_address(request)
    try:
        login_check_throttle(email=email, client_address=address)
    except LoginThrottledError as error:
        form.add_error(None, error.message)
        return False
    if not request.user.check_password(form.cleaned_data["password"]):
        login_record_failure(email=email, client_address=address)
        form.add_error("password", _("The password is not right."))
        return False
    return True


@portal_view
def two_factor_disable(request, portal_name: str):
    portal_settings = portal_settings_of(request.portal_access)
    if portal_settings and portal_settings.require_two_factor:
        messages.error(
            request,
            _("%(organization)s requires two-factor authentication for its portal.")
            % {"organization": request.organization.name},
        )
        return redirect(_portal_url(request, "portal:two_factor"))
    form = PasswordConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _password_confirmed(request, form):
        try:
            two_factor_services.two_factor_disable(
                user=request.user, password=form.cleaned_data["password"]
            )
        except two_factor_services.TwoFactorError as error:
            _add_error(form, error)
        else:
            messages.success(request, _("Two-factor authentication is off."))
            return redirect(_portal_url(request, "portal:two_factor"))
    return render(request, "portal/two_factor_disable.html", {"form": form})


@require_POST
@portal_view
def two_factor_recovery_codes(request, portal_name: str):
    """New recovery codes (the password confirms it), shown once."""
    form = PasswordConfirmForm(request.POST)
    if form.is_valid() and _password_confirmed(request, form):
        try:
            codes = two_factor_services.recovery_codes_regenerate(user=request.user)
        except two_factor_services.TwoFactorError as error:
            messages.error(request, error.message)
        else:
            return render(
                request,
                "portal/two_factor_recovery_codes.html",
                {"codes": codes, "next": _portal_url(request, "portal:two_factor")},
            )
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(_portal_url(request, "portal:two_factor"))
