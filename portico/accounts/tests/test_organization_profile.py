import pytest

from portico.accounts.models import Role
from portico.accounts.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _profile(**changes):
    data = {
        "name": "Northwind Trading",
        "email": "office@northwind.example",
        "phone": "+44 20 7946 0000",
        "address": "1 Harbour Street\nLondon",
        "base_currency": "GBP",
        "time_zone": "Europe/London",
        "language": "en-gb",
    }
    data.update(changes)
    return data


def test_owner_changes_the_organisation_profile(staff_client, organization):
    response = staff_client.post("/app/settings/organisation/", _profile())

    assert response.status_code == 302
    organization.refresh_from_db()
    assert organization.name == "Northwind Trading"
    assert organization.base_currency == "GBP"
    assert organization.time_zone == "Europe/London"


def test_unknown_time_zone_is_a_field_error(staff_client, organization):
    response = staff_client.post("/app/settings/organisation/", _profile(time_zone="Mars/Olympus"))

    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    organization.refresh_from_db()
    assert organization.time_zone == "UTC"


def test_staff_role_cannot_change_the_profile(client, organization):
    staff = MembershipFactory(organization=organization, role=Role.STAFF)
    client.force_login(staff.user)

    response = client.post("/app/settings/organisation/", _profile())

    assert response.status_code == 200
    assert "Only an owner or an admin" in response.content.decode()
    organization.refresh_from_db()
    assert organization.name != "Northwind Trading"


def test_owner_sets_the_allow_partial_payments_default(staff_client, organization):
    # given: partial payments allowed (the default)
    assert organization.allow_partial_payments

    # when the box is left unticked
    staff_client.post("/app/settings/organisation/", _profile())

    # then new invoices will not allow partial payments
    organization.refresh_from_db()
    assert not organization.allow_partial_payments

    # and ticking it again allows them
    staff_client.post("/app/settings/organisation/", _profile(allow_partial_payments="on"))
    organization.refresh_from_db()
    assert organization.allow_partial_payments


def test_the_profile_form_shows_the_partial_payments_default(staff_client, organization):
    response = staff_client.get("/app/settings/organisation/")

    assert response.context["form"].initial["allow_partial_payments"] is True
    assert "Allow partial payments" in response.content.decode()
