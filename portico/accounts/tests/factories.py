from datetime import timedelta

import factory
from django.utils import timezone

from portico.accounts.models import Membership, Organization, Role, StaffInvitation, User
from portico.accounts.services import hash_token

TEST_PASSWORD = "correct-horse-battery"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Business {n}")
    portal_name = factory.Sequence(lambda n: f"business-{n}")
    base_currency = "USD"
    email = factory.Sequence(lambda n: f"office{n}@business.example")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.OWNER


class StaffInvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation; the plain ``token`` (only its hash is stored) is a parameter."""

    class Meta:
        model = StaffInvitation

    class Params:
        token = factory.Sequence(lambda n: f"test-invitation-token-{n}")

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.STAFF
    invited_by = None
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.token))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
