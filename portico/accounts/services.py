"""Staff accounts: sign-up, sign-in throttling, colleagues' invitations, password reset."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify
from django.utils.translation import gettext as _

from portico.accounts.models import (
    LoginThrottle,
    Membership,
    Organization,
    Role,
    StaffInvitation,
    User,
)
from portico.core.errors import PermissionDeniedError, PorticoError
from portico.mail.services import email_queue

STAFF_INVITATION_LIFETIME = timedelta(days=7)


class AccountError(PorticoError):
    """A sign-up, sign-in or invitation step that cannot go ahead."""


class LoginThrottledError(AccountError):
    """Too many failed sign-ins for this e-mail or address; try later."""

    def __init__(self, message: str, *, retry_after_seconds: int):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def unique_portal_name(name: str) -> str:
    """A free portal name derived from the organisation's name."""
    base = slugify(name).replace("_", "-")[:50].strip("-") or "portal"
    if len(base) < 3:
        base = f"{base}-portal"
    # Neither another organisation's earlier name (it keeps redirecting there)
    # nor a reserved word (Settings → Customer portal refuses those too).
    from portico.portal_access.selectors import portal_name_is_taken
    from portico.portal_access.settings_services import RESERVED_PORTAL_NAMES

    candidate, suffix = base, 2
    while candidate in RESERVED_PORTAL_NAMES or portal_name_is_taken(portal_name=candidate):
        candidate, suffix = f"{base}-{suffix}", suffix + 1
    return candidate


@transaction.atomic
def organization_signup(
    *,
    organization_name: str,
    full_name: str,
    email: str,
    password: str,
    base_currency: str = "USD",
    language: str = "en",
) -> Membership:
    """A new business signs up: its organisation and its owner."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise AccountError(
            _("An account with this e-mail address already exists. Sign in instead."),
            field="email",
        )
    user = User.objects.create_user(email, password, full_name=full_name, language=language)
    organization = Organization.objects.create(
        name=organization_name,
        portal_name=unique_portal_name(organization_name),
        base_currency=base_currency,
        language=language,
        email=email,
    )
    return Membership.objects.create(user=user, organization=organization, role=Role.OWNER)


# --- sign-in throttling -------------------------------------------------------


def _throttle_keys(*, email: str, client_address: str) -> list[str]:
    keys = [hash_token(f"email:{email.strip().lower()}")]
    if client_address:
        keys.append(hash_token(f"address:{client_address}"))
    return keys


def login_check_throttle(*, email: str, client_address: str) -> None:
    """Raise LoginThrottledError while the e-mail or address must wait.

    The same answer comes whether or not an account exists, so the throttle
    does not reveal which e-mails are registered.
    """
    now = timezone.now()
    window_start = now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    wait = 0
    for row in LoginThrottle.objects.filter(
        key__in=_throttle_keys(email=email, client_address=client_address),
        last_failure_at__gte=window_start,
    ):
        if row.locked_until and row.locked_until > now:
            wait = max(wait, int((row.locked_until - now).total_seconds()) + 1)
        elif row.failures >= settings.LOGIN_FAILURES_BEFORE_DELAY:
            # Each failure past the threshold doubles the wait: 2s, 4s, 8s …
            delay = 2 ** (row.failures - settings.LOGIN_FAILURES_BEFORE_DELAY + 1)
            ready_at = row.last_failure_at + timedelta(seconds=delay)
            if ready_at > now:
                wait = max(wait, int((ready_at - now).total_seconds()) + 1)
    if wait:
        raise LoginThrottledError(
            _("Too many failed sign-in attempts. Try again in %(seconds)s seconds.")
            % {"seconds": wait},
            retry_after_seconds=wait,
        )


def login_record_failure(*, email: str, client_address: str) -> None:
    now = timezone.now()
    window_start = now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    for key in _throttle_keys(email=email, client_address=client_address):
        with transaction.atomic():
            row, created = LoginThrottle.objects.select_for_update().get_or_create(
                key=key, defaults={"failures": 0, "last_failure_at": now}
            )
            if not created and row.last_failure_at < window_start:
                row.failures = 0
            row.failures += 1
            row.last_failure_at = now
            if row.failures >= settings.LOGIN_FAILURES_BEFORE_LOCK:
                row.locked_until = now + timedelta(seconds=settings.LOGIN_LOCK_SECONDS)
                row.failures = 0
            row.save()


def login_record_success(*, email: str) -> None:
    # An active lock stays; a lock that has expired must not keep the failures since.
    LoginThrottle.objects.filter(key=hash_token(f"email:{email.strip().lower()}")).exclude(
        locked_until__gt=timezone.now()
    ).delete()


# --- colleagues ---------------------------------------------------------------


def _require_team_manager(membership: Membership) -> None:
    if not membership.can_manage_team:
        raise PermissionDeniedError(_("Only an owner or an admin can invite colleagues."))


@transaction.atomic
def staff_invite(*, membership: Membership, email: str, role: str) -> StaffInvitation:
    """Invite a colleague by e-mail to the inviter's organisation."""
    _require_team_manager(membership)
    organization = membership.organization
    email = email.strip().lower()
    if role == Role.OWNER and membership.role != Role.OWNER:
        raise PermissionDeniedError(_("Only an owner can invite another owner."), field="role")
    if Membership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise AccountError(_("%(email)s is already a member.") % {"email": email}, field="email")
    # A new invitation replaces any pending one for the same address.
    StaffInvitation.objects.filter(
        organization=organization, email__iexact=email, accepted_at=None, revoked_at=None
    ).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = StaffInvitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        invited_by=membership.user,
        token_hash=hash_token(token),
        expires_at=timezone.now() + STAFF_INVITATION_LIFETIME,
    )
    email_queue(
        organization=organization,
        kind="accounts.staff_invitation",
        to_email=email,
        template="accounts/email/staff_invitation",
        context={
            "inviter": membership.user,
            "role": invitation.get_role_display(),
            "expires_at": invitation.expires_at,
        },
        secrets={"accept_url": settings.SITE_URL + reverse("accounts:invitation", args=[token])},
        language=organization.language,
    )
    return invitation


def staff_invitation_revoke(*, membership: Membership, invitation_id: int) -> None:
    """Withdraw a pending invitation; DoesNotExist for any other (→ 404)."""
    _require_team_manager(membership)
    withdrawn = StaffInvitation.objects.filter(
        organization=membership.organization,
        pk=invitation_id,
        accepted_at=None,
        revoked_at=None,
    ).update(revoked_at=timezone.now())
    if not withdrawn:
        raise StaffInvitation.DoesNotExist


def staff_invitation_get(*, token: str) -> StaffInvitation:
    """The pending invitation for a token from an e-mail link."""
    invitation = (
        StaffInvitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None:
        raise AccountError(_("This invitation link is not valid."))
    if invitation.accepted_at is not None:
        raise AccountError(_("This invitation has already been accepted. Sign in instead."))
    if invitation.revoked_at is not None:
        raise AccountError(_("This invitation was withdrawn. Ask for a new one."))
    if invitation.expires_at <= timezone.now():
        raise AccountError(_("This invitation has expired. Ask for a new one."))
    return invitation


@transaction.atomic
def staff_invitation_accept(
    *, token: str, full_name: str = "", password: str = "", user: User | None = None
) -> Membership:
    """Accept an invitation: an existing user joins, or a new account is made."""
    invitation = staff_invitation_get(token=token)
    invitation = StaffInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise AccountError(_("This invitation has already been accepted. Sign in instead."))
    if user is None:
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is None:
            if not password:
                raise AccountError(_("Choose a password."), field="password")
            user = User.objects.create_user(
                invitation.email,
                password,
                full_name=full_name,
                language=invitation.organization.language,
            )
        elif not user.check_password(password):
            raise AccountError(
                _("You already have an account: enter its password to join."), field="password"
            )
    elif user.email.lower() != invitation.email.lower():
        raise AccountError(
            _("This invitation was sent to %(email)s. Sign in with that address.")
            % {"email": invitation.email}
        )
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                user=user, organization=invitation.organization, role=invitation.role
            )
    except IntegrityError:
        membership = Membership.objects.get(user=user, organization=invitation.organization)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, target_id: int, role: str) -> Membership:
    _require_team_manager(membership)
    if role not in Role.values:
        raise AccountError(_("Choose a role."), field="role")
    _lock_team(membership.organization_id)
    target = Membership.objects.select_for_update().get(
        organization=membership.organization, pk=target_id
    )
    if Role.OWNER in (role, target.role) and membership.role != Role.OWNER:
        raise PermissionDeniedError(_("Only an owner can change an owner's role."))
    if target.role == Role.OWNER and role != Role.OWNER:
        _ensure_another_owner(target)
    target.role = role
    target.save(update_fields=["role", "updated_at"])
    return target


@transaction.atomic
def membership_remove(*, membership: Membership, target_id: int) -> None:
    _require_team_manager(membership)
    _lock_team(membership.organization_id)
    target = Membership.objects.select_for_update().get(
        organization=membership.organization, pk=target_id
    )
    if target.role == Role.OWNER:
        if membership.role != Role.OWNER:
            raise PermissionDeniedError(_("Only an owner can remove an owner."))
        _ensure_another_owner(target)
    target.delete()


def _lock_team(organization_id: int) -> None:
    """Serialise role changes and removals per organisation, so two owners
    demoting or removing each other at once cannot leave it without an owner."""
    Organization.objects.select_for_update().get(pk=organization_id)


def _ensure_another_owner(target: Membership) -> None:
    owners = Membership.objects.filter(organization=target.organization, role=Role.OWNER)
    if not owners.exclude(pk=target.pk).exists():
        raise AccountError(_("An organisation needs at least one owner."))


# --- password reset -----------------------------------------------------------


@dataclass(frozen=True)
class PasswordResetRequest:
    queued: bool


def password_reset_request(*, email: str) -> PasswordResetRequest:
    """E-mail a reset link if an active account has this address.

    The caller shows the same confirmation either way, so the form does not
    reveal which addresses have accounts.
    """
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None or not user.has_usable_password():
        return PasswordResetRequest(queued=False)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    with transaction.atomic():
        email_queue(
            organization=None,
            kind="accounts.password_reset",
            to_email=user.email,
            to_name=user.full_name,
            template="accounts/email/password_reset",
            context={"user": user},
            secrets={
                "reset_url": settings.SITE_URL
                + reverse("accounts:password_reset_confirm", args=[uid, token])
            },
            language=user.language,
        )
    return PasswordResetRequest(queued=True)


ORGANIZATION_PROFILE_FIELDS = (
    "name",
    "email",
    "phone",
    "address",
    "base_currency",
    "time_zone",
    "language",
    "allow_partial_payments",
)


@transaction.atomic
def organization_update(*, membership: Membership, **fields) -> Organization:
    """Change the organisation's profile (owners and admins only)."""
    if not membership.can_manage_team:
        raise PermissionDeniedError(_("Only an owner or an admin can change these settings."))
    unknown = set(fields) - set(ORGANIZATION_PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not organisation profile fields: {sorted(unknown)}")
    organization = Organization.objects.select_for_update().get(pk=membership.organization_id)
    for name, value in fields.items():
        setattr(organization, name, value)
    organization.save()
    return organization
