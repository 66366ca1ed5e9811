"""Staff inviting customers' contact persons to the portal.

Customer overview → More → Configure portal access, the Reinvite button, and
the customer form's "Allow portal access for this customer". Each function is
one atomic change; the invitation e-mails are written to the outbox in the
same transaction (``portal_access_invite``).
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from portico.accounts.models import User
from portico.customers.models import ContactPerson, Customer
from portico.portal_access.models import AccessStatus, PortalAccess, PortalModule
from portico.portal_access.services import (
    InviteOutcome,
    PortalAccessError,
    portal_access_disable,
    portal_access_invite,
    portal_settings_get,
)
from portico.portal_access.staff_selectors import ContactPortalStatus


@dataclass(frozen=True)
class ConfigureOutcome:
    invited: int = 0
    disabled: int = 0
    # Contacts (already invited or active) whose modules changed.
    modules_changed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.invited or self.disabled or self.modules_changed)


def portal_modules_normalize(modules) -> list[str]:
    """The modules a contact may see, as stored on the access: in the portal's
    order, and ``[]`` (no limit) when every module is chosen."""
    chosen = [module for module in PortalModule.values if module in set(modules)]
    return [] if len(chosen) == len(PortalModule.values) else chosen


def _has_access(contact: ContactPerson) -> bool:
    """Invited (and not expired) or active: what the dialog shows ticked."""
    return ContactPortalStatus.of(contact).granted


def _modules_check(modules: dict[int, list[str]], contacts: list[ContactPerson], ticked) -> None:
    names = {contact.pk: contact.full_name for contact in contacts}
    for contact_id, chosen in modules.items():
        if set(chosen) - set(PortalModule.values):
            raise PortalAccessError(_("Choose the modules from the list."), field="contacts")
        if contact_id in ticked and contact_id in names and not chosen:
            raise PortalAccessError(
                _("Choose at least one module for %(name)s, or untick them to end their access.")
                % {"name": names[contact_id]},
                field="contacts",
            )


def portal_access_configure(
    *,
    customer: Customer,
    contact_ids: set[int],
    actor: User | None,
    modules: dict[int, list[str]] | None = None,
) -> ConfigureOutcome:
    """Give exactly the ticked contact persons of ``customer`` portal access.

    In one transaction: the newly ticked are invited (a disabled contact gets a
    new invitation), the unticked that had access are disabled at once. A
    contact id of another customer or organisation, or a newly ticked contact
    without an e-mail, raises PortalAccessError and changes nothing.

    ``modules`` (contact id → the modules that contact may see) limits each
    ticked contact to some modules of the portal; every module (stored as
    ``[]``) means no limit. A contact left out keeps what they have.
    """
    modules = modules or {}
    with transaction.atomic():
        # Two staff saving the same dialog at once are serialised here.
        customer = Customer.objects.select_for_update().get(
            pk=customer.pk, organization_id=customer.organization_id
        )
        contacts = list(
            ContactPerson.objects.filter(
                organization_id=customer.organization_id, customer=customer
            ).select_related("portal_access", "customer", "organization")
        )
        known = {contact.pk for contact in contacts}
        if not set(contact_ids) <= known:
            raise PortalAccessError(
                _("A contact person in this form does not belong to this customer.")
            )
        # Only those to invite need an e-mail: a contact who already has access
        # and lost their e-mail address since keeps it.
        without_email = [
            contact.full_name
            for contact in contacts
            if contact.pk in contact_ids and not contact.email and not _has_access(contact)
        ]
        if without_email:
            raise PortalAccessError(
                _("%(names)s cannot be invited: no e-mail address.")
                % {"names": ", ".join(without_email)},
                field="contacts",
            )
        _modules_check(modules, contacts, contact_ids)
        portal_settings = portal_settings_get(organization=customer.organization)
        invited = disabled = modules_changed = 0
        for contact in contacts:
            access = getattr(contact, "portal_access", None)
            if contact.pk in contact_ids and not _has_access(contact):
                access = portal_access_invite(
                    contact=contact, actor=actor, portal_settings=portal_settings
                ).access
                invited += 1
                newly_invited = True
            elif contact.pk not in contact_ids and _has_access(contact):
                portal_access_disable(access=contact.portal_access, actor=actor)
                disabled += 1
                continue
            else:
                newly_invited = False
            if contact.pk not in contact_ids or contact.pk not in modules or access is None:
                continue
            chosen = portal_modules_normalize(modules[contact.pk])
            if access.modules != chosen:
                PortalAccess.objects.filter(pk=access.pk).update(modules=chosen)
                access.modules = chosen
                modules_changed += not newly_invited
    return ConfigureOutcome(invited=invited, disabled=disabled, modules_changed=modules_changed)


def portal_access_reinvite(*, access: PortalAccess, actor: User | None) -> InviteOutcome:
    """A fresh invitation for a contact who is not active: invited, expired,
    disabled (re-enabling) or never invited. Every earlier token is superseded."""
    with transaction.atomic():
        access = (
            PortalAccess.objects.select_for_update()
            .select_related("contact", "contact__customer", "contact__organization")
            .get(pk=access.pk)
        )
        if access.status == AccessStatus.ACTIVE:
            raise PortalAccessError(
                _("%(name)s already uses the portal.") % {"name": access.contact.full_name}
            )
        return portal_access_invite(contact=access.contact, actor=actor, skip_active=False)


def portal_access_allow_for_customer(
    *, customer: Customer, actor: User | None
) -> InviteOutcome | None:
    """The customer form's "Allow portal access for this customer": invite the
    primary contact person, unless they already have access (None then).

    Call in the transaction that saves the customer: without a primary contact,
    or without its e-mail, PortalAccessError (on that checkbox) rolls it back.
    """
    primary = (
        ContactPerson.objects.filter(
            organization_id=customer.organization_id, customer=customer, is_primary=True
        )
        .select_related("portal_access")
        .first()
    )
    if primary is None:
        raise PortalAccessError(
            _("Add a contact person with an e-mail address to allow portal access."),
            field="allow_portal_access",
        )
    if not primary.email:
        raise PortalAccessError(
            _(
                "The primary contact person, %(name)s, has no e-mail address: "
                "add one to allow portal access."
            )
            % {"name": primary.full_name},
            field="allow_portal_access",
        )
    if _has_access(primary):
        return None
    return portal_access_invite(contact=primary, actor=actor)
