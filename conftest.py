"""Fixtures shared by every app's tests."""

import pytest

from portico.accounts.tests.factories import TEST_PASSWORD, MembershipFactory

pytest_plugins = [
    "portico.core.testing.browser",
    "portico.online_payments.testing.fake_stripe",  # the fake_stripe fixture
]


@pytest.fixture
def membership(db):
    """An owner of a fresh organisation."""
    return MembershipFactory()


@pytest.fixture
def organization(membership):
    return membership.organization


@pytest.fixture
def staff_client(client, membership):
    """A test client signed in as the owner of ``organization``."""
    client.force_login(membership.user)
    return client


@pytest.fixture
def password():
    return TEST_PASSWORD
