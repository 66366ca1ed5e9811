"""Settings → Customer portal: the page, its settings, the portal name form
and the banner preview."""

import pytest
from django.conf import settings

from portico.accounts.models import Role
from portico.accounts.tests.factories import MembershipFactory
from portico.core.errors import PermissionDeniedError
from portico.portal_access.models import PortalModule, PortalNameHistory, PortalSettings
from portico.portal_access.services import portal_settings_get
from portico.portal_access.settings_services import (
    PortalSettingsError,
    portal_name_change,
    portal_settings_update,
)

pytestmark = pytest.mark.django_db

URL = "/app/settings/portal/"


def _settings(**changes) -> dict:
    """Every setting, as the service takes them."""
    values = {
        "allow_self_signup": True,
        "banner_message": "Closed on Friday.\nOrders ship on Monday.",
        "notify_by_email": False,
        "notify_in_app": True,
        "email_customers_on_comment": False,
        "allow_customers_edit_details": False,
        "modules": [PortalModule.INVOICES, PortalModule.QUOTES],
        "invitation_lifetime_days": 14,
        "require_two_factor": True,
    }
    values.update(changes)
    return values


def _form(**changes) -> dict:
    """The same settings as the page posts them (unticked boxes are absent)."""
    data = {}
    for name, value in _settings(**changes).items():
        if value is True:
            data[name] = "on"
        elif value is not False:
            data[name] = value
    return data


@pytest.fixture
def staff_member(organization):
    return MembershipFactory(organization=organization, role=Role.STAFF)


# --- services -------------------------------------------------------------------


def test_new_portal_settings_have_the_issues_defaults(organization):
    portal_settings = portal_settings_get(organization=organization)

    assert portal_settings.invitation_lifetime_days == 7
    assert portal_settings.modules == PortalModule.values
    assert portal_settings.allow_self_signup is False
    assert portal_settings.require_two_factor is False


def test_an_owner_saves_every_setting(membership):
    # when
    portal_settings_update(membership=membership, **_settings())

    # then
    saved = PortalSettings.objects.get(organization=membership.organization)
    assert saved.allow_self_signup is True
    assert saved.banner_message == "Closed on Friday.\nOrders ship on Monday."
    assert (saved.notify_by_email, saved.notify_in_app) == (False, True)
    assert saved.email_customers_on_comment is False
    assert saved.allow_customers_edit_details is False
    # modules in the portal's order, not the form's
    assert saved.modules == [PortalModule.QUOTES, PortalModule.INVOICES]
    assert saved.invitation_lifetime_days == 14
    assert saved.require_two_factor is True


def test_an_admin_may_save_the_settings(organization):
    admin = MembershipFactory(organization=organization, role=Role.ADMIN)

    portal_settings_update(membership=admin, **_settings(invitation_lifetime_days=30))

    assert portal_settings_get(organization=organization).invitation_lifetime_days == 30


@pytest.mark.parametrize("days", [0, 91, -3])
def test_the_invitation_lifetime_is_1_to_90_days(membership, days):
    with pytest.raises(PortalSettingsError) as error:
        portal_settings_update(membership=membership, **_settings(invitation_lifetime_days=days))

    assert error.value.field == "invitation_lifetime_days"
    assert portal_settings_get(organization=membership.organization).invitation_lifetime_days == 7


def test_an_unknown_module_is_refused(membership):
    with pytest.raises(PortalSettingsError) as error:
        portal_settings_update(membership=membership, **_settings(modules=["quotes", "payroll"]))

    assert error.value.field == "modules"


def test_staff_cannot_change_the_settings(staff_member):
    with pytest.raises(PermissionDeniedError):
        portal_settings_update(membership=staff_member, **_settings())

    assert not portal_settings_get(organization=staff_member.organization).allow_self_signup


# --- the page -------------------------------------------------------------------


def test_the_page_shows_the_absolute_portal_url_and_every_setting(
    staff_client, organization, django_assert_max_num_queries
):
    # when
    with django_assert_max_num_queries(9):  # the first visit creates the settings
        response = staff_client.get(URL)

    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert f'value="{settings.SITE_URL}/portal/{organization.portal_name}/"' in page
    assert "data-copy-target=" in page
    for label in [
        "Portal name",
        "Allow customers to sign up for the portal",
        "Banner message",
        "Notify me about portal activity",
        "E-mail customers when I comment",
        "Allow customers to edit their details",
        "Projects and timesheets",
        "Invitation lifetime",
        "Require two-factor authentication for portal users",
    ]:
        assert label in page, label
    assert 'href="/app/settings/portal/"' in page  # the menu entry
    assert ">Save</button>" in page


def test_the_page_has_one_query_count_whatever_the_history(
    staff_client, membership, django_assert_num_queries
):
    # given: the settings exist and the name has changed a few times
    staff_client.get(URL)
    for name in ["acme-one", "acme-two", "acme-three"]:
        portal_name_change(membership=membership, new_name=name)

    # when
    with django_assert_num_queries(6):
        response = staff_client.get(URL)

    # then: every earlier name is listed
    page = response.content.decode()
    assert all(f"<code>{name}</code>" in page for name in ["acme-one", "acme-two"])


def test_the_owner_saves_the_settings_through_the_page(staff_client, organization):
    # when
    response = staff_client.post(URL, _form())

    # then
    assert response.status_code == 302
    saved = portal_settings_get(organization=organization)
    assert saved.require_two_factor is True
    assert saved.modules == [PortalModule.QUOTES, PortalModule.INVOICES]
    assert "Portal settings saved." in staff_client.get(URL).content.decode()


def test_unticking_every_box_turns_every_switch_off(staff_client, organization):
    # when: only the lifetime is sent (every checkbox unticked)
    response = staff_client.post(URL, {"invitation_lifetime_days": "7"})

    # then
    assert response.status_code == 302
    saved = portal_settings_get(organization=organization)
    assert not any(
        [
            saved.notify_by_email,
            saved.notify_in_app,
            saved.email_customers_on_comment,
            saved.allow_customers_edit_details,
        ]
    )
    assert saved.modules == []


@pytest.mark.parametrize(
    ("lifetime", "error"),
    [
        ("0", "greater than or equal to 1"),
        ("91", "less than or equal to 90"),
        ("a week", "Enter a whole number"),
        ("", "This field is required"),
    ],
)
def test_a_bad_lifetime_is_a_field_error_not_a_500(staff_client, organization, lifetime, error):
    response = staff_client.post(URL, _form(invitation_lifetime_days=lifetime))

    assert response.status_code == 422
    assert error in str(response.context["settings_form"].errors["invitation_lifetime_days"])
    assert portal_settings_get(organization=organization).allow_self_signup is False


def test_a_tampered_module_is_a_field_error(staff_client, organization):
    response = staff_client.post(URL, _form(modules=["quotes", "salaries"]))

    assert response.status_code == 422
    assert "modules" in response.context["settings_form"].errors


def test_staff_see_the_settings_read_only(client, staff_member):
    # given
    client.force_login(staff_member.user)

    # when
    response = client.get(URL)

    # then: every field is disabled and there is nothing to press
    page = response.content.decode()
    assert response.status_code == 200
    assert "Only an owner or an admin can change these settings." in page
    form = response.context["settings_form"]
    assert all(field.disabled for field in form.fields.values())
    assert all(field.disabled for field in response.context["name_form"].fields.values())
    assert ">Save</button>" not in page
    assert ">Change</button>" not in page


def test_staff_cannot_post_the_settings(client, staff_member):
    client.force_login(staff_member.user)

    response = client.post(URL, _form())

    assert response.status_code == 403
    assert not portal_settings_get(organization=staff_member.organization).allow_self_signup


def test_the_sign_up_link_is_shown_when_sign_up_is_on(staff_client, membership):
    # given
    organization = membership.organization
    signup_url = f"{settings.SITE_URL}/portal/{organization.portal_name}/signup/"
    assert signup_url not in staff_client.get(URL).content.decode()

    # when
    portal_settings_update(membership=membership, **_settings(allow_self_signup=True))

    # then
    assert signup_url in staff_client.get(URL).content.decode()


# --- portal name form --------------------------------------------------------------


def test_the_owner_changes_the_portal_name(staff_client, organization):
    old_name = organization.portal_name

    # when
    response = staff_client.post(f"{URL}name/", {"portal_name": "Northwind"}, follow=True)

    # then
    organization.refresh_from_db()
    assert organization.portal_name == "northwind"
    assert PortalNameHistory.objects.filter(organization=organization, portal_name=old_name)
    page = response.content.decode()
    assert f"{settings.SITE_URL}/portal/northwind/" in page
    assert f"<code>{old_name}</code>" in page


def test_a_taken_portal_name_is_a_field_error(staff_client, organization):
    # given
    other = MembershipFactory()

    # when
    response = staff_client.post(f"{URL}name/", {"portal_name": other.organization.portal_name})

    # then
    assert response.status_code == 422
    assert response.context["name_form"].errors["portal_name"] == ["Portal name already taken"]
    assert "Portal name already taken" in response.content.decode()


def test_a_reserved_portal_name_is_a_field_error(staff_client):
    response = staff_client.post(f"{URL}name/", {"portal_name": "admin"})

    assert response.status_code == 422
    assert "reserved" in response.context["name_form"].errors["portal_name"][0]


def test_staff_cannot_change_the_portal_name_through_the_page(client, staff_member):
    client.force_login(staff_member.user)
    old_name = staff_member.organization.portal_name

    response = client.post(f"{URL}name/", {"portal_name": "new-name"})

    assert response.status_code == 403
    staff_member.organization.refresh_from_db()
    assert staff_member.organization.portal_name == old_name


def test_the_name_change_only_takes_post(staff_client):
    assert staff_client.get(f"{URL}name/").status_code == 405


# --- banner preview -----------------------------------------------------------------


def test_the_banner_preview_is_plain_text_with_line_breaks(staff_client):
    # when: an htmx request while typing
    response = staff_client.post(
        f"{URL}banner-preview/",
        {"banner_message": "<b>Closed</b> on Friday\nBack on <script>x()</script>Monday"},
        HTTP_HX_REQUEST="true",
    )

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;b&gt;Closed&lt;/b&gt; on Friday<br>Back on &lt;script&gt;" in html
    assert "<script>" not in html
    assert "<html" not in html  # a fragment


def test_the_page_previews_the_saved_banner(staff_client, membership):
    portal_settings_update(membership=membership, **_settings(banner_message="Line one\nLine two"))

    page = staff_client.get(URL).content.decode()

    assert "Line one<br>Line two" in page
    assert 'hx-post="/app/settings/portal/banner-preview/"' in page


def test_an_empty_banner_previews_as_none(staff_client):
    response = staff_client.post(f"{URL}banner-preview/", {"banner_message": "   "})

    assert "the portal home shows none" in response.content.decode()
