"""Settings → Customer portal: the portal's settings and its name.

Owners and admins change them; other staff only see them. An earlier portal
name is kept in PortalNameHistory so that every link using it (old invitation
e-mails, bookmarks) keeps redirecting to the current name.
"""

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portico.accounts.models import Membership, Organization
from portico.core.errors import PermissionDeniedError, PorticoError
from portico.portal_access.models import PortalModule, PortalNameHistory, PortalSettings
from portico.portal_access.selectors import portal_name_is_taken
from portico.portal_access.services import portal_settings_get

INVITATION_LIFETIME_MIN_DAYS = 1
INVITATION_LIFETIME_MAX_DAYS = 90
BANNER_MESSAGE_MAX_LENGTH = 1000

PORTAL_NAME_MIN_LENGTH = 3
PORTAL_NAME_MAX_LENGTH = 63
# Lowercase letters, digits and hyphens; a letter or digit at each end.
PORTAL_NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
# Names that would look like part of Portico itself (paths of the site, future
# host names) or invite phishing ("support", "billing").
RESERVED_PORTAL_NAMES = frozenset(
    {
        "about",
        "account",
        "accounts",
        "admin",
        "administrator",
        "api",
        "app",
        "apps",
        "assets",
        "auth",
        "billing",
        "blog",
        "cdn",
        "dashboard",
        "docs",
        "email",
        "e-mail",
        "ftp",
        "health",
        "healthz",
        "help",
        "i18n",
        "imap",
        "invitation",
        "invitations",
        "login",
        "logout",
        "mail",
        "media",
        "password-reset",
        "pop",
        "portal",
        "portals",
        "portico",
        "root",
        "security",
        "settings",
        "sign-in",
        "sign-out",
        "sign-up",
        "signin",
        "signout",
        "signup",
        "smtp",
        "static",
        "status",
        "support",
        "system",
        "webhooks",
        "webmail",
        "www",
    }
)

PORTAL_SETTINGS_FIELDS = (
    "allow_self_signup",
    "banner_message",
    "notify_by_email",
    "notify_in_app",
    "email_customers_on_comment",
    "allow_customers_edit_details",
    "modules",
    "show_void_documents",
    "invitation_lifetime_days",
    "require_two_factor",
)


class PortalSettingsError(PorticoError):
    """A portal setting or portal name that cannot be saved; the message says why."""


def _require_settings_manager(membership: Membership) -> None:
    if not membership.can_manage_team:
        raise PermissionDeniedError(_("Only an owner or an admin can change these settings."))


def portal_settings_update(
    *,
    membership: Membership,
    allow_self_signup: bool,
    banner_message: str,
    notify_by_email: bool,
    notify_in_app: bool,
    email_customers_on_comment: bool,
    allow_customers_edit_details: bool,
    modules: list[str],
    invitation_lifetime_days: int,
    require_two_factor: bool,
    show_void_documents: bool = False,
) -> PortalSettings:
    """Save every setting of the organisation's portal at once (owners and admins)."""
    _require_settings_manager(membership)
    if not INVITATION_LIFETIME_MIN_DAYS <= invitation_lifetime_days <= INVITATION_LIFETIME_MAX_DAYS:
        raise PortalSettingsError(
            _("The invitation lifetime is %(min)s to %(max)s days.")
            % {"min": INVITATION_LIFETIME_MIN_DAYS, "max": INVITATION_LIFETIME_MAX_DAYS},
            field="invitation_lifetime_days",
        )
    unknown = set(modules) - set(PortalModule.values)
    if unknown:
        raise PortalSettingsError(_("Choose the modules from the list."), field="modules")
    banner_message = banner_message.strip().replace("\r\n", "\n")
    if len(banner_message) > BANNER_MESSAGE_MAX_LENGTH:
        raise PortalSettingsError(
            _("The banner message has at most %(count)s characters.")
            % {"count": BANNER_MESSAGE_MAX_LENGTH},
            field="banner_message",
        )
    portal_settings_get(organization=membership.organization)  # exists from here on
    with transaction.atomic():
        portal_settings = PortalSettings.objects.select_for_update().get(
            organization=membership.organization
        )
        portal_settings.allow_self_signup = allow_self_signup
        portal_settings.banner_message = banner_message
        portal_settings.notify_by_email = notify_by_email
        portal_settings.notify_in_app = notify_in_app
        portal_settings.email_customers_on_comment = email_customers_on_comment
        portal_settings.allow_customers_edit_details = allow_customers_edit_details
        # Stored in the order the portal shows them, whatever the form's order.
        portal_settings.modules = [module for module in PortalModule.values if module in modules]
        portal_settings.invitation_lifetime_days = invitation_lifetime_days
        portal_settings.require_two_factor = require_two_factor
        portal_settings.show_void_documents = show_void_documents
        portal_settings.save()
    return portal_settings


def portal_name_normalize(name: str) -> str:
    return name.strip().lower()


def portal_name_validate(*, portal_name: str) -> None:
    """Raise PortalSettingsError unless ``portal_name`` has the allowed shape
    and is not reserved (whether it is free is checked on saving)."""
    if not PORTAL_NAME_MIN_LENGTH <= len(portal_name) <= PORTAL_NAME_MAX_LENGTH:
        raise PortalSettingsError(
            _("A portal name has %(min)s to %(max)s characters.")
            % {"min": PORTAL_NAME_MIN_LENGTH, "max": PORTAL_NAME_MAX_LENGTH},
            field="portal_name",
        )
    if not PORTAL_NAME_PATTERN.match(portal_name):
        raise PortalSettingsError(
            _(
                "Use lowercase letters, digits and hyphens only, "
                "with a letter or digit at the start and the end."
            ),
            field="portal_name",
        )
    if portal_name in RESERVED_PORTAL_NAMES:
        raise PortalSettingsError(
            _("“%(name)s” is reserved. Choose another portal name.") % {"name": portal_name},
            field="portal_name",
        )


def portal_name_change(*, membership: Membership, new_name: str) -> Organization:
    """Give the organisation's portal a new name; the old one keeps redirecting.

    Taking back one of the organisation's own earlier names is allowed (it
    stops being an earlier name). Another organisation's name, current or
    earlier, is taken.
    """
    _require_settings_manager(membership)
    new_name = portal_name_normalize(new_name)
    portal_name_validate(portal_name=new_name)
    taken = PortalSettingsError(_("Portal name already taken"), field="portal_name")
    try:
        with transaction.atomic():
            # Serialises this organisation's name changes.
            organization = Organization.objects.select_for_update().get(
                pk=membership.organization_id
            )
            old_name = organization.portal_name
            if new_name == old_name:
                return organization
            if portal_name_is_taken(portal_name=new_name, organization=organization):
                raise taken
            PortalNameHistory.objects.filter(
                organization=organization, portal_name=new_name
            ).delete()
            PortalNameHistory.objects.create(organization=organization, portal_name=old_name)
            organization.portal_name = new_name
            organization.save(update_fields=["portal_name", "updated_at"])
    except IntegrityError as error:
        # Another organisation took the name between the check and the save.
        raise taken from error
    membership.organization = organization
    return organization
