"""Reading contact persons' portal access for the staff side (customer
overview, Configure portal access, the customer form). Always scoped by the
customer's organisation."""

from dataclasses import dataclass
from datetime import datetime

from portico.accounts.models import Organization
from portico.customers.models import ContactPerson, Customer
from portico.portal_access.models import AccessStatus, PortalAccess

GRANTED = {AccessStatus.INVITED, AccessStatus.ACTIVE}


@dataclass(frozen=True)
class ContactPortalStatus:
    """A contact person and their portal access (None: never invited)."""

    contact: ContactPerson
    access: PortalAccess | None

    @classmethod
    def of(cls, contact: ContactPerson) -> "ContactPortalStatus":
        """From a contact read with ``select_related("portal_access")`` (no query)."""
        return cls(contact=contact, access=getattr(contact, "portal_access", None))

    @property
    def status(self) -> str:
        """not_invited, invited, expired, active or disabled."""
        return self.access.display_status if self.access else AccessStatus.NOT_INVITED

    @property
    def label(self) -> str:
        return AccessStatus(self.status).label

    @property
    def has_email(self) -> bool:
        return bool(self.contact.email)

    @property
    def granted(self) -> bool:
        """Ticked in Configure portal access: invited (and not expired) or active.

        The same rule as bulk Enable portal: an expired invitation grants
        nothing, so ticking the contact and saving sends a new one.
        """
        return self.access is not None and self.access.display_status in GRANTED

    @property
    def can_reinvite(self) -> bool:
        return self.has_email and self.status in {
            AccessStatus.INVITED,
            AccessStatus.EXPIRED,
            AccessStatus.DISABLED,
        }

    @property
    def invited_at(self) -> datetime | None:
        return self.access.invited_at if self.access else None

    @property
    def expires_at(self) -> datetime | None:
        return self.access.invitation_expires_at if self.access else None

    @property
    def accepted_at(self) -> datetime | None:
        return self.access.accepted_at if self.access else None

    @property
    def last_login_at(self) -> datetime | None:
        return self.access.last_login_at if self.access else None

    @property
    def disabled_at(self) -> datetime | None:
        return self.access.disabled_at if self.access else None


def portal_accesses_for_customer(*, customer: Customer) -> list[ContactPortalStatus]:
    """Every contact person of ``customer`` with their portal access: one query."""
    contacts = ContactPerson.objects.filter(
        organization_id=customer.organization_id, customer=customer
    ).select_related("portal_access")
    return [ContactPortalStatus.of(contact) for contact in contacts]


def portal_access_for_contact(
    *, organization: Organization, customer_id: int, contact_id: int
) -> PortalAccess:
    """The access of one contact person of the organisation's customer;
    PortalAccess.DoesNotExist (→ 404) for anything else, or never invited."""
    return PortalAccess.objects.select_related("contact").get(
        organization=organization, customer_id=customer_id, contact_id=contact_id
    )


def portal_access_allowed(*, customer: Customer) -> bool:
    """Whether the customer's primary contact person is invited or active
    (the customer form's "Allow portal access for this customer")."""
    if customer.pk is None:
        return False
    return PortalAccess.objects.filter(
        organization_id=customer.organization_id,
        customer=customer,
        contact__is_primary=True,
        status__in=GRANTED,
    ).exists()
