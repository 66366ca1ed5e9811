"""Portal access: inviting contact persons, accepting, disabling.

Every function here is one complete, atomic change (Zulip's actions style).
Invitation e-mails are written to the outbox in the same transaction.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.accounts.models import Organization, User
from portico.activity.models import EventKind
from portico.activity.services import activity_record
from portico.core.errors import PorticoError
from portico.customers.models import ContactPerson
from portico.mail.services import email_queue
from portico.portal_access.models import (
    AccessStatus,
    PortalAccess,
    PortalInvitation,
    PortalSettings,
)

TOKEN_BYTES = 32  # 256 random bits; the brief asks for at least 128


class PortalAccessError(PorticoError):
    """A portal access change that cannot be made; the message says why."""


class InvitationError(PortalAccessError):
    """An invitation link that cannot be used (expired, used, superseded, forged)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def portal_settings_get(*, organization: Organization) -> PortalSettings:
    """The organisation's portal settings, created with defaults on first use."""
    portal_settings = PortalSettings.objects.filter(organization=organization).first()
    if portal_settings is None:
        try:
            with transaction.atomic():
                portal_settings = PortalSettings.objects.create(organization=organization)
        except IntegrityError:  # created by a concurrent request
            portal_settings = PortalSettings.objects.get(organization=organization)
    return portal_settings


def portal_url(*, organization: Organization, name: str = "portal:home", **kwargs) -> str:
    """An absolute URL of the organisation's portal (for e-mails)."""
    return settings.SITE_URL + reverse(
        name, kwargs={"portal_name": organization.portal_name, **kwargs}
    )


@dataclass(frozen=True)
class InviteOutcome:
    access: PortalAccess
    invited: bool  # False when skipped (already active)


def _access_for(contact: ContactPerson) -> PortalAccess:
    access, _created = PortalAccess.objects.select_for_update().get_or_create(
        contact=contact,
        defaults={"organization_id": contact.organization_id, "customer_id": contact.customer_id},
    )
    return access


def portal_access_invite(
    *,
    contact: ContactPerson,
    actor: User | None,
    portal_settings: PortalSettings | None = None,
    skip_active: bool = True,
) -> InviteOutcome:
    """Invite a contact person (or invite again): a fresh single-use token,
    every earlier one superseded, the e-mail in the customer's portal language.

    Raises PortalAccessError for a contact without an e-mail address.
    """
    if not contact.email:
        raise PortalAccessError(
            _("%(name)s has no e-mail address, so they cannot be invited to the portal.")
            % {"name": contact.full_name},
            field="email",
        )
    organization = contact.organization
    portal_settings = portal_settings or portal_settings_get(organization=organization)
    now = timezone.now()
    with transaction.atomic():
        access = _access_for(contact)
        if skip_active and access.status == AccessStatus.ACTIVE:
            return InviteOutcome(access=access, invited=False)
        PortalInvitation.objects.filter(access=access, used_at=None, superseded_at=None).update(
            superseded_at=now
        )
        token = secrets.token_urlsafe(TOKEN_BYTES)
        expires_at = now + timedelta(days=portal_settings.invitation_lifetime_days)
        PortalInvitation.objects.create(
            organization=organization,
            access=access,
            token_hash=hash_token(token),
            expires_at=expires_at,
            invited_by=actor,
        )
        if access.status != AccessStatus.ACTIVE:
            access.status = AccessStatus.INVITED
        access.invited_at = now
        access.invitation_expires_at = expires_at
        access.disabled_at = None
        access.save()
        customer = contact.customer
        email_queue(
            organization=organization,
            kind="portal_access.invitation",
            to_email=contact.email,
            to_name=contact.full_name,
            template="portal_access/email/invitation",
            context={
                "contact": contact,
                "customer": customer,
                "portal_home_url": portal_url(organization=organization),
                "username": contact.email,
                "expires_at": expires_at,
                "banner": portal_settings.banner_message,
            },
            secrets={
                "accept_url": portal_url(
                    organization=organization, name="portal:accept", token=token
                )
            },
            language=customer.portal_language,
        )
    return InviteOutcome(access=access, invited=True)


def portal_access_disable(*, access: PortalAccess, actor: User | None = None) -> PortalAccess:
    """End a contact's access at once: pending tokens die; open sessions stop
    at their next request (the portal checks the access on every request).

    Ending an invited or active access is an activity event (``actor``, the
    staff member, is not notified about it)."""
    now = timezone.now()
    with transaction.atomic():
        access = (
            PortalAccess.objects.select_for_update(of=("self",))
            .select_related("organization", "customer", "contact")
            .get(pk=access.pk)
        )
        PortalInvitation.objects.filter(access=access, used_at=None, superseded_at=None).update(
            superseded_at=now
        )
        ended = access.status in (AccessStatus.INVITED, AccessStatus.ACTIVE)
        if access.status != AccessStatus.NOT_INVITED:
            access.status = AccessStatus.DISABLED
            access.disabled_at = now
            access.save(update_fields=["status", "disabled_at", "updated_at"])
        if ended:
            activity_record(
                organization=access.organization,
                kind=EventKind.ACCESS_DISABLED,
                customer=access.customer,
                contact=access.contact,
                actor=actor,
            )
    return access


def invitation_resolve(*, organization: Organization, token: str) -> PortalInvitation:
    """The invitation a link's token names, if it may still be used.

    Raises InvitationError with a message for the person holding the link.
    """
    invitation = (
        PortalInvitation.objects.select_related(
            "access", "access__contact", "access__customer", "organization"
        )
        .filter(organization=organization, token_hash=hash_token(token))
        .first()
    )
    if invitation is None:
        raise InvitationError(_("This invitation link is not valid."))
    if invitation.used_at is not None:
        raise InvitationError(
            _("This invitation has already been used. Sign in with your e-mail and password.")
        )
    if invitation.superseded_at is not None:
        if invitation.access.status == AccessStatus.DISABLED:
            raise InvitationError(_("Your access to this portal has been disabled."))
        raise InvitationError(
            _("A newer invitation was sent to you. Use the link in the latest e-mail.")
        )
    if invitation.expires_at <= timezone.now():
        raise InvitationError(
            _("This invitation has expired. Ask %(organization)s to send a new one.")
            % {"organization": organization.name}
        )
    if invitation.access.status == AccessStatus.DISABLED:
        raise InvitationError(_("Your access to this portal has been disabled."))
    return invitation


def invitation_accept(
    *,
    organization: Organization,
    token: str,
    password: str = "",
    full_name: str = "",
    user: User | None = None,
) -> PortalAccess:
    """Accept an invitation: with a new password (a new account), or as an
    existing account with the same e-mail (signed in, or giving its password).
    The token is used up in the same transaction."""
    with transaction.atomic():
        invitation = invitation_resolve(organization=organization, token=token)
        invitation = PortalInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.used_at is not None:
            raise InvitationError(_("This invitation has already been used."))
        access = PortalAccess.objects.select_for_update().get(pk=invitation.access_id)
        email = access.contact.email
        if user is None:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                if not password:
                    raise PortalAccessError(_("Choose a password."), field="password")
                user = User.objects.create_user(
                    email,
                    password,
                    full_name=full_name or access.contact.full_name,
                    language=access.customer.portal_language,
                )
            elif not user.check_password(password):
                raise PortalAccessError(
                    _("You already have a Portico account: enter its password."),
                    field="password",
                )
        elif user.email.lower() != email.lower():
            raise PortalAccessError(
                _("This invitation is for %(email)s. Sign out and open the link again.")
                % {"email": email}
            )
        # One person, one active access per organisation: an earlier access of
        # the same person (another contact record) is disabled.
        PortalAccess.objects.filter(
            organization=organization, user=user, status=AccessStatus.ACTIVE
        ).exclude(pk=access.pk).update(status=AccessStatus.DISABLED, disabled_at=timezone.now())
        now = timezone.now()
        invitation.used_at = now
        invitation.save(update_fields=["used_at", "updated_at"])
        access.user = user
        access.status = AccessStatus.ACTIVE
        access.accepted_at = now
        access.save(update_fields=["user", "status", "accepted_at", "updated_at"])
        activity_record(
            organization=organization,
            kind=EventKind.INVITATION_ACCEPTED,
            customer=access.customer,
            contact=access.contact,
            actor=user,
        )
    return access
