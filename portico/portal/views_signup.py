"""Self sign-up on the portal: /portal/<portal-name>/signup/…

The form records a sign-up and e-mails a link; the link's page asks for a
password and creates the customer, its contact, the account and the access
(portico.portal_access.signup). With self sign-up off, every page here says
sign-up is closed.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from portico.accounts.models import User
from portico.accounts.services import (
    LoginThrottledError,
    login_check_throttle,
    login_record_failure,
    login_record_success,
)
from portico.core.errors import PorticoError
from portico.portal.access import portal_public_view, portal_session_start
from portico.portal.forms_signup import (
    SignupExistingAccountForm,
    SignupForm,
    SignupPasswordForm,
)
from portico.portal_access import signup as signup_services
from portico.portal_access.models import AccessStatus
from portico.portal_access.selectors import portal_access_for_user
from portico.portal_access.services import portal_settings_get

SESSION_SIGNUP_EMAIL_KEY = "portal_signup_email"
BACKEND = "portico.accounts.backends.EmailBackend"


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _closed(request):
    return render(request, "portal/signup_closed.html", status=403)


def _home(request):
    return redirect("portal:home", portal_name=request.organization.portal_name)


def _has_access_here(request) -> bool:
    if not request.user.is_authenticated:
        return False
    access = portal_access_for_user(organization=request.organization, user=request.user)
    return access is not None and access.status == AccessStatus.ACTIVE


def _initial_language(request) -> str:
    languages = {code for code, _name in settings.LANGUAGES}
    code = getattr(request, "LANGUAGE_CODE", "")
    return code if code in languages else request.organization.language


@portal_public_view
def signup(request, portal_name: str):
    organization = request.organization
    if not portal_settings_get(organization=organization).allow_self_signup:
        return _closed(request)
    if _has_access_here(request):
        return _home(request)
    form = SignupForm(request.POST or None, initial={"portal_language": _initial_language(request)})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                signup_services.signup_request_create(
                    organization=organization,
                    data=form.signup_data(),
                    client_address=_client_address(request),
                )
            except signup_services.SignupClosedError:
                return _closed(request)
            except signup_services.SignupThrottledError as error:
                form.add_error(None, error.message)
                status = 429
            except signup_services.SignupError as error:
                form.add_error(error.field, error.message)
            else:
                request.session[SESSION_SIGNUP_EMAIL_KEY] = form.cleaned_data["email"].lower()
                return redirect("portal:signup_sent", portal_name=organization.portal_name)
    return render(request, "portal/signup.html", {"form": form}, status=status)


@portal_public_view
def signup_sent(request, portal_name: str):
    if not portal_settings_get(organization=request.organization).allow_self_signup:
        return _closed(request)
    email = request.session.get(SESSION_SIGNUP_EMAIL_KEY, "")
    return render(request, "portal/signup_sent.html", {"email": email})


@portal_public_view
def signup_verify(request, portal_name: str, token: str):
    """The link from the verification e-mail: choose a password, then in."""
    organization = request.organization
    try:
        signup_request = signup_services.signup_request_resolve(
            organization=organization, token=token
        )
    except signup_services.SignupClosedError:
        return _closed(request)
    except signup_services.SignupLinkError as error:
        return render(request, "portal/signup_link_invalid.html", {"error": error}, status=410)
    data = signup_services.SignupData.from_request(signup_request)
    email = signup_request.email
    signed_in_as_requester = (
        request.user.is_authenticated and request.user.email.lower() == email.lower()
    )
    existing = signed_in_as_requester or User.objects.filter(email__iexact=email).exists()
    if signed_in_as_requester:
        form = None
    elif existing:
        form = SignupExistingAccountForm(request.POST or None)
    else:
        form = SignupPasswordForm(request.POST or None, email=email, full_name=data.full_name)
    status = 200
    if request.method == "POST":
        status = 422
        if form is None or form.is_valid():
            address = _client_address(request)
            password = form.cleaned_data["password"] if form is not None else ""
            try:
                # Giving an existing account's password is a sign-in: throttled alike.
                if existing and form is not None:
                    login_check_throttle(email=email, client_address=address)
                access = signup_services.signup_complete(
                    organization=organization,
                    token=token,
                    password=password,
                    user=request.user if signed_in_as_requester else None,
                )
            except LoginThrottledError as error:
                form.add_error(None, error.message)
                status = 429
            except signup_services.SignupClosedError:
                return _closed(request)
            except signup_services.SignupLinkError as error:
                return render(
                    request, "portal/signup_link_invalid.html", {"error": error}, status=410
                )
            except signup_services.SignupError as error:
                if existing and form is not None and error.field == "password":
                    login_record_failure(email=email, client_address=address)
                if form is not None and error.field in form.fields:
                    form.add_error(error.field, error.message)
                else:
                    messages.error(request, error.message)
                    if form is None:
                        status = 409
            except PorticoError as error:  # say, the customer could not be saved
                messages.error(request, error.message)
                status = 409
            else:
                if existing and form is not None:
                    login_record_success(email=email)
                login(request, access.user, backend=BACKEND)
                portal_session_start(request, organization)
                request.session.pop(SESSION_SIGNUP_EMAIL_KEY, None)
                messages.success(request, _("You are signed up and signed in. Welcome!"))
                return _home(request)
    context = {
        "form": form,
        "email": email,
        "signup": data,
        "existing": existing,
        "signed_in_as_requester": signed_in_as_requester,
    }
    return render(request, "portal/signup_verify.html", context, status=status)
