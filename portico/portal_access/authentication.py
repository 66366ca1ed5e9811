"""Signing in to a customer portal: credentials, the sign-in record, password reset.

The portal uses the same ``User`` as the staff side (one person, one e-mail,
one password); what admits a person to an organisation's portal is an ACTIVE
``PortalAccess`` there. Sign-in failures go through the staff side's throttle
(``portico.accounts.services.login_*``), so both doors share one count.
"""

from datetime import datetime

from django.contrib.auth import authenticate
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from portico.accounts.models import Organization, User
from portico.accounts.services import (
    login_check_throttle,
    login_record_failure,
    login_record_success,
)
from portico.mail.services import email_queue
from portico.portal_access.models import AccessStatus, PortalAccess
from portico.portal_access.selectors import portal_access_for_user
from portico.portal_access.services import PortalAccessError, portal_url

PASSWORD_RESET_LIFETIME_SECONDS = 60 * 60


class PortalSignInError(PortalAccessError):
    """Credentials that do not open this portal; the message says what to do."""


class PortalAccessDisabledError(PortalSignInError):
    """The person's access to this portal has been ended (or awaits a new invitation)."""


class PortalPasswordResetTokenGenerator(PasswordResetTokenGenerator):
    """Portal password-reset links: valid for one hour, and used up by the
    password change they make (the token covers the password hash).

    A salt of its own, so a staff reset link is no portal link and vice versa.
    The clock is Django's ``timezone.now`` so tests can freeze it.
    """

    key_salt = "portico.portal_access.authentication.PortalPasswordResetTokenGenerator"
    timeout_seconds = PASSWORD_RESET_LIFETIME_SECONDS

    def _now(self) -> datetime:
        return timezone.now().replace(tzinfo=None)

    def check_token(self, user, token) -> bool:
        if not super().check_token(user, token):
            return False
        try:
            timestamp = base36_to_int(token.split("-")[0])
        except ValueError:
            return False
        return self._num_seconds(self._now()) - timestamp <= self.timeout_seconds


portal_password_reset_tokens = PortalPasswordResetTokenGenerator()


def portal_credentials_check(
    *,
    organization: Organization,
    email: str,
    password: str,
    client_address: str,
    request: HttpRequest | None = None,
) -> PortalAccess:
    """The access an e-mail and password open in this organisation's portal.

    Raises LoginThrottledError while the e-mail or address must wait, and
    PortalSignInError with the same message whether the account is missing or
    the password wrong. A right password without access here says so (the
    password proved who is asking); a disabled access raises
    PortalAccessDisabledError.
    """
    login_check_throttle(email=email, client_address=client_address)
    user = authenticate(request, email=email, password=password)
    if user is None:
        login_record_failure(email=email, client_address=client_address)
        raise PortalSignInError(_("The e-mail or password is not right."))
    login_record_success(email=email)
    access = portal_access_for_user(organization=organization, user=user)
    if access is None:
        raise PortalSignInError(
            _("This account has no access to the customer portal of %(organization)s.")
            % {"organization": organization.name}
        )
    if access.status != AccessStatus.ACTIVE:
        raise PortalAccessDisabledError(_("Your access to this portal has been disabled."))
    return access


def portal_sign_in_record(*, access: PortalAccess) -> PortalAccess:
    """Note the time a contact entered the portal (staff see "last sign-in")."""
    access.last_login_at = timezone.now()
    PortalAccess.objects.filter(pk=access.pk).update(
        last_login_at=access.last_login_at, updated_at=access.last_login_at
    )
    return access


def portal_password_reset_request(*, organization: Organization, email: str) -> bool:
    """E-mail a reset link to a contact with an active access to this portal.

    Returns whether an e-mail was queued; the caller shows the same page
    either way, so the form does not reveal who has an account. The e-mail is
    in the customer's portal language; the link (an outbox secret) works
    once, for an hour.
    """
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is None or not user.has_usable_password():
        return False
    access = portal_access_for_user(organization=organization, user=user)
    if access is None or access.status != AccessStatus.ACTIVE:
        return False
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = portal_password_reset_tokens.make_token(user)
    with transaction.atomic():
        email_queue(
            organization=organization,
            kind="portal.password_reset",
            to_email=user.email,
            to_name=user.full_name,
            template="portal/email/password_reset",
            context={
                "user": user,
                "customer": access.customer,
                "portal_home_url": portal_url(organization=organization),
                "valid_minutes": PASSWORD_RESET_LIFETIME_SECONDS // 60,
            },
            secrets={
                "reset_url": portal_url(
                    organization=organization,
                    name="portal:password_reset_confirm",
                    uidb64=uid,
                    token=token,
                )
            },
            language=access.customer.portal_language,
        )
    return True


def portal_password_reset_user(*, organization: Organization, uidb64: str) -> User | None:
    """The person a reset link names, if they have an active access to this portal."""
    try:
        user_id = int(urlsafe_base64_decode(uidb64).decode())
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    return User.objects.filter(
        pk=user_id,
        is_active=True,
        portal_accesses__organization=organization,
        portal_accesses__status=AccessStatus.ACTIVE,
    ).first()
