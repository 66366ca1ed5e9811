"""Settings → Customer portal → Portal name: shape, reserved words, uniqueness
(including other organisations' earlier names) and the redirect target."""

import pytest

from portico.accounts.models import Organization, Role
from portico.accounts.services import unique_portal_name
from portico.accounts.tests.factories import MembershipFactory, OrganizationFactory
from portico.core.errors import PermissionDeniedError
from portico.portal_access.models import PortalNameHistory
from portico.portal_access.selectors import organization_for_portal_name
from portico.portal_access.settings_services import (
    PortalSettingsError,
    portal_name_change,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return MembershipFactory(organization__portal_name="acme", role=Role.OWNER)


# --- shape and reserved words ---------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["abc", "acme-trading", "shop-42", "a1b", "x" * 63, "a--b", "  Acme-Trading  "],
)
def test_a_well_formed_name_is_accepted(owner, name):
    # when
    organization = portal_name_change(membership=owner, new_name=name)

    # then: stored lowercase, without the surrounding spaces
    assert organization.portal_name == name.strip().lower()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ab", "3 to 63 characters"),
        ("x" * 64, "3 to 63 characters"),
        ("-acme", "lowercase letters, digits and hyphens"),
        ("acme-", "lowercase letters, digits and hyphens"),
        ("acme_trading", "lowercase letters, digits and hyphens"),
        ("acme trading", "lowercase letters, digits and hyphens"),
        ("acmé", "lowercase letters, digits and hyphens"),
        ("acme/../admin", "lowercase letters, digits and hyphens"),
    ],
)
def test_a_malformed_name_is_refused(owner, name, reason):
    # when
    with pytest.raises(PortalSettingsError) as error:
        portal_name_change(membership=owner, new_name=name)

    # then
    assert error.value.field == "portal_name"
    assert reason in error.value.message.lower()
    owner.organization.refresh_from_db()
    assert owner.organization.portal_name == "acme"


@pytest.mark.parametrize(
    "name", ["app", "admin", "api", "static", "media", "login", "signup", "sign-in", "www"]
)
def test_a_reserved_word_is_refused(owner, name):
    with pytest.raises(PortalSettingsError) as error:
        portal_name_change(membership=owner, new_name=name.upper())

    assert "is reserved" in error.value.message
    assert not PortalNameHistory.objects.exists()


# --- uniqueness -----------------------------------------------------------------


def test_another_organisations_current_name_is_taken(owner):
    # given
    OrganizationFactory(portal_name="globex")

    # when
    with pytest.raises(PortalSettingsError) as error:
        portal_name_change(membership=owner, new_name="globex")

    # then
    assert error.value.message == "Portal name already taken"
    assert error.value.field == "portal_name"


def test_another_organisations_earlier_name_is_taken(owner):
    # given: Globex was once "initech"; its old links must keep leading to Globex
    globex = MembershipFactory(organization__portal_name="initech")
    portal_name_change(membership=globex, new_name="globex")

    # when
    with pytest.raises(PortalSettingsError) as error:
        portal_name_change(membership=owner, new_name="initech")

    # then
    assert error.value.message == "Portal name already taken"
    assert organization_for_portal_name(portal_name="initech") == (globex.organization, False)


def test_the_old_name_is_kept_and_redirects_to_the_new_one(owner):
    # when
    portal_name_change(membership=owner, new_name="acme-trading")
    portal_name_change(membership=owner, new_name="acme-group")

    # then: both earlier names lead to the organisation, marked as not current
    organization = owner.organization
    assert organization_for_portal_name(portal_name="acme") == (organization, False)
    assert organization_for_portal_name(portal_name="acme-trading") == (organization, False)
    assert organization_for_portal_name(portal_name="acme-group") == (organization, True)
    assert set(
        PortalNameHistory.objects.filter(organization=organization).values_list(
            "portal_name", flat=True
        )
    ) == {"acme", "acme-trading"}


def test_taking_back_an_own_earlier_name_removes_it_from_the_history(owner):
    # given
    portal_name_change(membership=owner, new_name="acme-trading")

    # when
    organization = portal_name_change(membership=owner, new_name="acme")

    # then
    assert organization.portal_name == "acme"
    assert list(PortalNameHistory.objects.values_list("portal_name", flat=True)) == ["acme-trading"]
    assert organization_for_portal_name(portal_name="acme") == (organization, True)


def test_the_same_name_again_changes_nothing(owner):
    organization = portal_name_change(membership=owner, new_name="acme")

    assert organization.portal_name == "acme"
    assert not PortalNameHistory.objects.exists()


def test_staff_cannot_change_the_portal_name(owner):
    # given
    staff = MembershipFactory(organization=owner.organization, role=Role.STAFF)

    # when
    with pytest.raises(PermissionDeniedError):
        portal_name_change(membership=staff, new_name="acme-trading")

    # then
    owner.organization.refresh_from_db()
    assert owner.organization.portal_name == "acme"


def test_a_new_organisation_does_not_get_an_earlier_or_reserved_name(owner):
    # given: "acme" is now an earlier name of the first organisation
    portal_name_change(membership=owner, new_name="acme-trading")

    # then: a new organisation called "Acme" gets another name, and so does "Support"
    assert unique_portal_name("Acme") == "acme-2"
    assert unique_portal_name("Support") == "support-2"


# --- the selector the portal uses for redirects ------------------------------------


def test_an_unknown_name_finds_no_organisation(owner):
    with pytest.raises(Organization.DoesNotExist):
        organization_for_portal_name(portal_name="nobody-here")


def test_the_current_name_costs_one_query(owner, django_assert_num_queries):
    with django_assert_num_queries(1):
        organization, is_current = organization_for_portal_name(portal_name="acme")

    assert (organization, is_current) == (owner.organization, True)


def test_an_earlier_name_costs_two_queries(owner, django_assert_num_queries):
    # given
    portal_name_change(membership=owner, new_name="acme-trading")

    # when
    with django_assert_num_queries(2):
        organization, is_current = organization_for_portal_name(portal_name="acme")

    # then: the organisation comes with it (no further query for its name)
    with django_assert_num_queries(0):
        assert organization.portal_name == "acme-trading"
    assert is_current is False
