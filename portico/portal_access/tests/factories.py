"""Portal access test factories, shared by every portal-access test.

``PortalAccessFactory()`` is a pending invitation of a fresh contact person;
the traits ``active``, ``not_invited``, ``expired`` and ``disabled`` give the
other states. ``PortalInvitationFactory(token="…")`` stores only the hash of
the plain token, as the service does, so a test can open ``portal:accept``
with the same token.
"""

from datetime import timedelta

import factory
from django.utils import timezone

from portico.accounts.tests.factories import OrganizationFactory, UserFactory
from portico.customers.tests.factories import ContactPersonFactory
from portico.portal_access.models import (
    AccessStatus,
    PortalAccess,
    PortalInvitation,
    PortalSettings,
)
from portico.portal_access.services import hash_token


class PortalSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PortalSettings
        django_get_or_create = ("organization",)

    organization = factory.SubFactory(OrganizationFactory)
    invitation_lifetime_days = 7


class PortalAccessFactory(factory.django.DjangoModelFactory):
    """A contact person's access; by default invited a moment ago, not yet accepted."""

    class Meta:
        model = PortalAccess

    class Params:
        not_invited = factory.Trait(
            status=AccessStatus.NOT_INVITED, invited_at=None, invitation_expires_at=None
        )
        # Accepted: signed in with an account of the contact's e-mail.
        active = factory.Trait(
            status=AccessStatus.ACTIVE,
            user=factory.SubFactory(UserFactory, email=factory.SelfAttribute("..contact.email")),
            accepted_at=factory.LazyFunction(timezone.now),
        )
        # Invited, but the invitation's lifetime is over (shown as "Expired").
        expired = factory.Trait(
            invited_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=8)),
            invitation_expires_at=factory.LazyFunction(lambda: timezone.now() - timedelta(days=1)),
        )
        disabled = factory.Trait(
            status=AccessStatus.DISABLED, disabled_at=factory.LazyFunction(timezone.now)
        )

    contact = factory.SubFactory(ContactPersonFactory)
    organization = factory.SelfAttribute("contact.organization")
    customer = factory.SelfAttribute("contact.customer")
    status = AccessStatus.INVITED
    invited_at = factory.LazyFunction(timezone.now)
    invitation_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class PortalInvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation; the plain ``token`` (only its hash is stored) is a parameter."""

    class Meta:
        model = PortalInvitation

    class Params:
        token = factory.Sequence(lambda n: f"test-portal-invitation-token-{n}")

    access = factory.SubFactory(PortalAccessFactory)
    organization = factory.SelfAttribute("access.organization")
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.token))
    # The access's own expiry (an ``expired`` access gets an expired invitation).
    expires_at = factory.LazyAttribute(
        lambda o: o.access.invitation_expires_at or timezone.now() + timedelta(days=7)
    )
    invited_by = None
