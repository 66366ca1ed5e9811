"""Customers and their contact persons: every write goes through here."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils.translation import gettext as _

from portico.accounts.models import Organization, User
from portico.core.errors import PorticoError
from portico.customers.models import ContactPerson, Customer


class CustomerError(PorticoError):
    """A customer change that cannot be made."""


class CustomerDeleteError(CustomerError):
    """The customer has documents and cannot be deleted."""


@dataclass
class ContactData:
    """One contact person as submitted: ``id`` None for a new one."""

    first_name: str
    last_name: str = ""
    salutation: str = ""
    email: str = ""
    phone: str = ""
    mobile: str = ""
    designation: str = ""
    is_primary: bool = False
    id: int | None = None


CONTACT_FIELDS = [
    "salutation",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "designation",
    "is_primary",
]


def build_search_text(customer: Customer, contacts: list[ContactPerson]) -> str:
    parts = [customer.display_name, customer.company_name, customer.email, customer.phone]
    for contact in contacts:
        parts += [contact.full_name, contact.email, contact.phone, contact.mobile]
    return " ".join(part.casefold() for part in parts if part)


def _validate_contacts(contacts: list[ContactData]) -> None:
    if sum(1 for contact in contacts if contact.is_primary) > 1:
        raise CustomerError(_("Only one contact person can be the primary contact."))
    seen: set[str] = set()
    for contact in contacts:
        email = contact.email.strip().lower()
        if email and email in seen:
            raise CustomerError(
                _("%(email)s is used by two contact persons of this customer.") % {"email": email}
            )
        seen.add(email)


def _apply_contacts(customer: Customer, contacts: list[ContactData]) -> list[ContactPerson]:
    """Make the customer's contact persons exactly ``contacts``."""
    _validate_contacts(contacts)
    existing = {contact.pk: contact for contact in customer.contacts.all()}
    kept_ids = {data.id for data in contacts if data.id is not None}
    unknown = kept_ids - existing.keys()
    if unknown:
        # An id from another customer or organisation: refuse, never re-parent.
        raise CustomerError(_("A contact person in this form does not belong to this customer."))
    customer.contacts.exclude(pk__in=kept_ids).delete()
    # Clear the primary flags and e-mails first (every kept contact is saved again
    # below) so the one-primary and unique-e-mail constraints hold mid-update,
    # even when two contacts swap their e-mails.
    customer.contacts.update(is_primary=False, email="")
    if contacts and not any(data.is_primary for data in contacts):
        contacts[0].is_primary = True
    saved = []
    for data in contacts:
        contact = existing.get(data.id) or ContactPerson(
            organization=customer.organization, customer=customer
        )
        for field in CONTACT_FIELDS:
            value = getattr(data, field)
            setattr(contact, field, value.strip() if isinstance(value, str) else value)
        contact.email = contact.email.lower()
        contact.save()
        saved.append(contact)
    return saved


def _save(customer: Customer, contacts: list[ContactData] | None) -> Customer:
    try:
        with transaction.atomic():
            customer.save()
            saved = (
                _apply_contacts(customer, contacts)
                if contacts is not None
                else list(customer.contacts.all())
            )
            customer.search_text = build_search_text(customer, saved)
            customer.save(update_fields=["search_text"])
    except IntegrityError as error:  # a concurrent edit broke a constraint
        raise CustomerError(
            _("The contact persons changed while you were editing. Reload and try again.")
        ) from error
    return customer


def organization_members(*, organization: Organization) -> QuerySet[User]:
    """The active members of the organisation: who may own its customers."""
    return User.objects.filter(memberships__organization=organization, is_active=True).order_by(
        "full_name", "email"
    )


def _validate_owner(organization: Organization, owner: User | None) -> None:
    if (
        owner is not None
        and not organization_members(organization=organization).filter(pk=owner.pk).exists()
    ):
        raise CustomerError(
            _("The customer owner must be a member of your organisation."), field="owner"
        )


def customer_create(
    *, organization: Organization, contacts: list[ContactData] | None = None, **fields
) -> Customer:
    fields.setdefault("currency", organization.base_currency)
    _validate_owner(organization, fields.get("owner"))
    customer = Customer(organization=organization, **fields)
    return _save(customer, contacts or [])


def customer_update(
    *, customer: Customer, contacts: list[ContactData] | None = None, **fields
) -> Customer:
    if "owner" in fields:
        _validate_owner(customer.organization, fields["owner"])
    for name, value in fields.items():
        setattr(customer, name, value)
    return _save(customer, contacts)


def customer_set_active(*, customers: QuerySet[Customer], active: bool) -> int:
    """Mark customers active or inactive; returns how many changed."""
    return customers.exclude(is_active=active).update(is_active=active)


def customer_delete(*, customer: Customer) -> None:
    """Delete a customer without documents; with documents, refuse and say why."""
    try:
        with transaction.atomic():
            customer.delete()
    except ProtectedError as error:
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in error.protected_objects})
        raise CustomerDeleteError(
            _(
                "%(name)s cannot be deleted because it has %(documents)s. "
                "Mark it as inactive instead."
            )
            % {"name": customer.display_name, "documents": ", ".join(kinds)}
        ) from error
