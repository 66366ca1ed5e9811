"""Fixtures shared by every app's tests."""

import pytest

from portico.accounts.tests.factories import TEST_PASSWORD, MembershipFactory

pytest_plugins = [
    "portico.core.testing.browser",
    "portico.online_payments.testing.fake_stripe",  # the fake_stripe fixture
]


@pytest.fixture(autouse=True)
def _portal_caches_clear():
    """Each test starts with empty per-process caches: a rolled-back test's
    ids and versions come back in the next one (SQLite reuses them)."""
    from django.core.cache import caches

    from portico.portal.page_cache import CACHE_ALIAS
    from portico.portal_access.selectors import organization_cache_clear

    caches[CACHE_ALIAS].clear()
    organization_cache_clear()
    yield


@pytest.fixture
def page_cache_off(settings):
    """Portal pages render on every request (query counts of the rendering)."""
    settings.PORTAL_PAGE_CACHE_SECONDS = 0


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
