"""Fixtures of the portal's tests: a contact with an active access, signed in or not."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portico.portal_access.tests.factories import PortalAccessFactory


@pytest.fixture
def portal_access(db):
    """An active access: the contact accepted and signs in with their e-mail."""
    return PortalAccessFactory(active=True)


@pytest.fixture
def portal_user(portal_access):
    return portal_access.user


@pytest.fixture
def portal_organization(portal_access):
    return portal_access.organization


@pytest.fixture
def portal_client(client, portal_user):
    """A test client signed in as the contact (as the portal's sign-in does)."""
    client.force_login(portal_user)
    return client


@pytest.fixture
def portal_reverse():
    """``portal_reverse(organization, "portal:home", token=…)``"""

    def build(organization, name: str, **kwargs) -> str:
        return reverse(name, kwargs={"portal_name": organization.portal_name, **kwargs})

    return build


class FrozenClock:
    """``timezone.now()`` stands still until the test moves it."""

    def __init__(self):
        self.now = timezone.now()

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)

    def set(self, moment) -> None:
        self.now = moment


@pytest.fixture
def clock(monkeypatch) -> FrozenClock:
    frozen = FrozenClock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen
