from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portico.accounts import selectors, services
from portico.accounts.decorators import SESSION_ORGANIZATION_KEY, staff_view
from portico.accounts.forms import (
    InvitationAcceptForm,
    OrganizationProfileForm,
    PasswordResetRequestForm,
    RoleForm,
    SignInForm,
    SignUpForm,
    StaffInviteForm,
)
from portico.accounts.models import Membership, StaffInvitation, User
from portico.core.errors import PorticoError


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def sign_in(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect("core:home")
    form = SignInForm(request.POST or None)
    status, retry_after = 200, None
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        address = _client_address(request)
        try:
            services.login_check_throttle(email=email, client_address=address)
        except services.LoginThrottledError as error:
            form.add_error(None, error.message)
            status, retry_after = 429, error.retry_after_seconds
        else:
            user = authenticate(request, email=email, password=form.cleaned_data["password"])
            if user is None:
                services.login_record_failure(email=email, client_address=address)
                form.add_error(None, _("The e-mail or password is not right."))
            else:
                services.login_record_success(email=email)
                login(request, user)
                return redirect(_safe_next(request, "/app/"))
    response = render(
        request,
        "accounts/sign_in.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=status,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@require_POST
def sign_out(request):
    logout(request)
    messages.success(request, _("You are signed out."))
    return redirect("accounts:login")


def sign_up(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.organization_signup(
                organization_name=form.cleaned_data["organization_name"],
                full_name=form.cleaned_data["full_name"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                base_currency=form.cleaned_data["base_currency"],
                language=request.LANGUAGE_CODE,
            )
        except services.AccountError as error:
            form.add_error(error.field, error.message)
        else:
            login(request, membership.user, backend="portico.accounts.backends.EmailBackend")
            request.session[SESSION_ORGANIZATION_KEY] = membership.organization_id
            messages.success(
                request,
                _("Welcome to Portico! %(name)s is ready.")
                % {"name": membership.organization.name},
            )
            return redirect("core:home")
    return render(request, "accounts/sign_up.html", {"form": form})


def password_reset(request):
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.password_reset_request(email=form.cleaned_data["email"])
        return redirect("accounts:password_reset_done")
    return render(request, "accounts/password_reset.html", {"form": form})


def password_reset_done(request):
    return render(request, "accounts/password_reset_done.html")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")
    post_reset_login = False

    def form_valid(self, form):
        messages.success(self.request, _("Your password is changed. Sign in with it now."))
        return super().form_valid(form)


def invitation(request, token: str):
    """A colleague opens the link from their invitation e-mail."""
    try:
        staff_invitation = services.staff_invitation_get(token=token)
    except services.AccountError as error:
        return render(request, "accounts/invitation_invalid.html", {"error": error}, status=410)
    signed_in_as_invitee = (
        request.user.is_authenticated
        and request.user.email.lower() == staff_invitation.email.lower()
    )
    existing = (
        signed_in_as_invitee or User.objects.filter(email__iexact=staff_invitation.email).exists()
    )
    form = None
    if signed_in_as_invitee:
        if request.method == "POST":
            membership = services.staff_invitation_accept(token=token, user=request.user)
            return _joined(request, membership)
    else:
        form = InvitationAcceptForm(
            request.POST or None, existing_account=existing, email=staff_invitation.email
        )
        if request.method == "POST" and form.is_valid():
            # Joining with an existing account checks its password: throttle
            # it like the sign-in form, or the page would allow guessing.
            address = _client_address(request)
            try:
                if existing:
                    services.login_check_throttle(
                        email=staff_invitation.email, client_address=address
                    )
                membership = services.staff_invitation_accept(
                    token=token,
                    full_name=form.cleaned_data.get("full_name", ""),
                    password=form.cleaned_data["password"],
                )
            except services.AccountError as error:
                if existing and error.field == "password":
                    services.login_record_failure(
                        email=staff_invitation.email, client_address=address
                    )
                form.add_error(error.field, error.message)
            else:
                login(request, membership.user, backend="portico.accounts.backends.EmailBackend")
                return _joined(request, membership)
    return render(
        request,
        "accounts/invitation.html",
        {
            "invitation": staff_invitation,
            "form": form,
            "existing": existing,
            "signed_in_as_invitee": signed_in_as_invitee,
        },
    )


def _joined(request, membership: Membership):
    request.session[SESSION_ORGANIZATION_KEY] = membership.organization_id
    messages.success(request, _("You joined %(name)s.") % {"name": membership.organization.name})
    return redirect("core:home")


@require_POST
@staff_view
def switch_organization(request, organization_id: int):
    membership = get_object_or_404(Membership, user=request.user, organization_id=organization_id)
    request.session[SESSION_ORGANIZATION_KEY] = membership.organization_id
    return redirect("core:home")


@require_POST
@staff_view
def staff_language_set(request):
    """The signed-in member's own language for the app (the user menu's picker)."""
    from django.conf import settings

    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES):
        request.user.language = language
        request.user.save(update_fields=["language", "updated_at"])
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse_lazy("core:home")
    return redirect(target)


@staff_view
def team(request):
    invite_form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and invite_form.is_valid():
        try:
            services.staff_invite(
                membership=request.membership,
                email=invite_form.cleaned_data["email"],
                role=invite_form.cleaned_data["role"],
            )
        except PorticoError as error:
            invite_form.add_error(error.field, error.message)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s.") % {"email": invite_form.cleaned_data["email"]},
            )
            return redirect("accounts:team")
    context = {
        "members": selectors.team_members(organization=request.organization),
        "invitations": selectors.pending_staff_invitations(organization=request.organization),
        "invite_form": invite_form,
        "role_choices": RoleForm.base_fields["role"].choices,
    }
    return render(request, "accounts/team.html", context)


@require_POST
@staff_view
def team_member_role(request, membership_id: int):
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.membership_change_role(
                membership=request.membership,
                target_id=membership_id,
                role=form.cleaned_data["role"],
            )
            messages.success(request, _("Role changed."))
        except Membership.DoesNotExist:
            return HttpResponse(status=404)
        except PorticoError as error:
            messages.error(request, error.message)
    return redirect("accounts:team")


@require_POST
@staff_view
def team_member_remove(request, membership_id: int):
    try:
        services.membership_remove(membership=request.membership, target_id=membership_id)
        messages.success(request, _("Member removed."))
    except Membership.DoesNotExist:
        return HttpResponse(status=404)
    except PorticoError as error:
        messages.error(request, error.message)
    return redirect("accounts:team")


@require_POST
@staff_view
def team_invitation_revoke(request, invitation_id: int):
    try:
        services.staff_invitation_revoke(membership=request.membership, invitation_id=invitation_id)
        messages.success(request, _("Invitation withdrawn."))
    except StaffInvitation.DoesNotExist as error:
        raise Http404 from error
    except PorticoError as error:
        messages.error(request, error.message)
    return redirect("accounts:team")


@staff_view
def organization_profile(request):
    organization = request.organization
    initial = {name: getattr(organization, name) for name in services.ORGANIZATION_PROFILE_FIELDS}
    form = OrganizationProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(membership=request.membership, **form.cleaned_data)
        except PorticoError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(request, _("Organisation settings saved."))
            return redirect("accounts:organization")
    return render(request, "accounts/organization.html", {"form": form})
