"""What a signed-in contact changes through the portal: the customer's details
and contact persons, their own language, their sessions, and approving time.

Each function is one complete change in one transaction. A change staff should
know about is recorded as an activity event in the same transaction; staff hear
about it through their notifications (in the app, by e-mail or both, as each
member and the organisation chose).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portico.accounts.models import User
from portico.activity.models import EventKind
from portico.activity.services import activity_record
from portico.core.errors import PorticoError
from portico.customers.models import ADDRESS_FIELDS, ContactPerson, Customer
from portico.customers.services import (
    CONTACT_FIELDS,
    ContactData,
    CustomerError,
    customer_update,
)
from portico.portal.access import portal_settings_of
from portico.portal_access.models import AccessStatus, PortalAccess
from portico.projects.models import Project, TimeEntry
from portico.projects.services import time_entries_set_approved


class PortalAccountError(PorticoError):
    """A change to the customer's details the portal refuses; the message says why."""


class TimeApprovalError(PorticoError):
    """Time entries that cannot be approved (another project's, or invoiced)."""


# The customer's fields a contact may change, in the form's order.
DETAIL_FIELDS = [
    "display_name",
    "company_name",
    "phone",
    *[f"billing_{name}" for name in ADDRESS_FIELDS],
    *[f"shipping_{name}" for name in ADDRESS_FIELDS],
]
# A contact person's fields a contact may set.
PORTAL_CONTACT_FIELDS = ["first_name", "last_name", "email", "phone", "mobile", "designation"]


@dataclass(frozen=True)
class FieldChange:
    """One changed value: its label (lazy, translated where it is shown),
    before and after. ``label_parts`` are the label's untranslated words
    ("Billing address", "city"): the activity event stores them, so each
    staff member reads the label in their own language."""

    label: object
    old: str
    new: str
    label_parts: tuple[str, ...] = ()

    def as_data(self, *, person: str = "") -> dict:
        """The change as an activity event's ``data["changes"]`` holds it."""
        with translation.override(None):  # the source text, translated when shown
            label = str(self.label)
        data = {"label": label, "label_parts": list(self.label_parts), "old": self.old}
        data["new"] = self.new
        if person:
            data["person"] = person
        return data


@dataclass
class PortalContactData:
    first_name: str
    last_name: str = ""
    email: str = ""
    phone: str = ""
    mobile: str = ""
    designation: str = ""


def detail_field_label(name: str):
    """ "Billing address: city", "Phone" … (lazy: translated where it is shown)."""
    verbose_name = Customer._meta.get_field(name).verbose_name
    if name.startswith("billing_"):
        return format_lazy("{}: {}", gettext_lazy("Billing address"), verbose_name)
    if name.startswith("shipping_"):
        return format_lazy("{}: {}", gettext_lazy("Shipping address"), verbose_name)
    return verbose_name


def _label_parts(*labels) -> tuple[str, ...]:
    """The source text of lazy labels (what ``gettext`` looks up when shown)."""
    with translation.override(None):
        return tuple(str(label) for label in labels)


def detail_field_change(name: str, *, old: str, new: str) -> FieldChange:
    verbose_name = Customer._meta.get_field(name).verbose_name
    if name.startswith("billing_"):
        parts = _label_parts(gettext_lazy("Billing address"), verbose_name)
    elif name.startswith("shipping_"):
        parts = _label_parts(gettext_lazy("Shipping address"), verbose_name)
    else:
        parts = _label_parts(verbose_name)
    return FieldChange(label=detail_field_label(name), old=old, new=new, label_parts=parts)


def contact_field_change(name: str, *, old: str, new: str) -> FieldChange:
    verbose_name = ContactPerson._meta.get_field(name).verbose_name
    return FieldChange(label=verbose_name, old=old, new=new, label_parts=_label_parts(verbose_name))


def details_editable(access: PortalAccess) -> bool:
    """Whether the organisation lets its customers edit their details (default: yes)."""
    portal_settings = portal_settings_of(access)
    return portal_settings is None or portal_settings.allow_customers_edit_details


def _check_editable(access: PortalAccess) -> None:
    if not details_editable(access):
        raise PortalAccountError(
            _("%(organization)s does not let customers change their details in the portal.")
            % {"organization": access.organization.name}
        )


def _locked_customer(access: PortalAccess) -> Customer:
    return Customer.objects.select_for_update().get(
        organization_id=access.organization_id, pk=access.customer_id
    )


def _record_details_updated(*, access: PortalAccess, customer: Customer, data: dict) -> None:
    activity_record(
        organization=access.organization,
        kind=EventKind.DETAILS_UPDATED,
        customer=customer,
        contact=access.contact,
        actor=access.user,
        data=data,
    )


# --- the customer's details -----------------------------------------------------------


def portal_details_update(*, access: PortalAccess, data: dict[str, str]) -> list[FieldChange]:
    """Change the customer's name, phone and addresses as the contact typed
    them (the staff path, so the search text stays right) and tell staff what
    changed, old → new. Returns the changes (none: nothing saved, no e-mail)."""
    _check_editable(access)
    with transaction.atomic():
        customer = _locked_customer(access)
        changed: dict[str, str] = {}
        changes: list[FieldChange] = []
        for name in DETAIL_FIELDS:
            if name not in data:
                continue
            new = (data[name] or "").strip()
            old = getattr(customer, name)
            if new != old:
                changed[name] = new
                changes.append(detail_field_change(name, old=old, new=new))
        if "display_name" in changed and not changed["display_name"]:
            raise PortalAccountError(_("Enter the name."), field="display_name")
        if not changes:
            return []
        customer = customer_update(customer=customer, **changed)
        access.customer = customer
        _record_details_updated(
            access=access,
            customer=customer,
            data={"changes": [change.as_data() for change in changes]},
        )
    return changes


def _contact_data(contact: ContactPerson) -> ContactData:
    return ContactData(id=contact.pk, **{name: getattr(contact, name) for name in CONTACT_FIELDS})


def portal_contact_save(
    *, access: PortalAccess, contact_id: int | None, data: PortalContactData
) -> list[FieldChange]:
    """Add a contact person to the customer (``contact_id`` None) or change one.

    E-mails stay unique within the customer, as on the staff side. The e-mail
    of a person who has portal access is how they sign in: the portal does not
    change it (staff can). Nobody is removed, and no one's portal access changes.
    Raises ``ContactPerson.DoesNotExist`` for another customer's contact.
    """
    _check_editable(access)
    values = {name: (getattr(data, name) or "").strip() for name in PORTAL_CONTACT_FIELDS}
    values["email"] = values["email"].lower()
    if not values["first_name"]:
        raise PortalAccountError(_("Enter the first name."), field="first_name")
    with transaction.atomic():
        customer = _locked_customer(access)
        contacts = list(customer.contacts.all())
        target = None
        if contact_id is not None:
            target = next((contact for contact in contacts if contact.pk == contact_id), None)
            if target is None:
                raise ContactPerson.DoesNotExist
        for other in contacts:
            if other is not target and values["email"] and other.email.lower() == values["email"]:
                raise PortalAccountError(
                    _("Another contact person of this customer has this e-mail."), field="email"
                )
        if (
            target is not None
            and values["email"] != target.email.lower()
            and contact_has_portal_access(target)
        ):
            raise PortalAccountError(
                _(
                    "%(name)s signs in to the portal with this e-mail; ask %(organization)s "
                    "to change it."
                )
                % {"name": target.full_name, "organization": access.organization.name},
                field="email",
            )
        submitted = [_contact_data(contact) for contact in contacts]
        changes: list[FieldChange] = []
        if target is None:
            submitted.append(ContactData(**values))
            changes = [
                contact_field_change(name, old="", new=value)
                for name, value in values.items()
                if value
            ]
        else:
            row = next(item for item in submitted if item.id == target.pk)
            for name, value in values.items():
                old = getattr(target, name)
                if value != old:
                    changes.append(contact_field_change(name, old=old, new=value))
                setattr(row, name, value)
        if not changes:
            return []
        try:
            customer = customer_update(customer=customer, contacts=submitted)
        except CustomerError as error:
            raise PortalAccountError(error.message) from error
        access.customer = customer
        person = " ".join(part for part in (values["first_name"], values["last_name"]) if part)
        _record_details_updated(
            access=access,
            customer=customer,
            data={
                "contact_person": person,
                "contact_added": target is None,
                "changes": [change.as_data(person=person) for change in changes],
            },
        )
    return changes


def contact_has_portal_access(contact: ContactPerson) -> bool:
    """Whether the person was invited to the portal (their e-mail is their sign-in)."""
    return (
        PortalAccess.objects.filter(contact=contact)
        .exclude(status=AccessStatus.NOT_INVITED)
        .exists()
    )


# --- the person: language and sessions ---------------------------------------------------


def portal_language_set(*, access: PortalAccess, language: str) -> None:
    """The contact's own portal language ("": the customer's portal language)."""
    if language and language not in dict(settings.LANGUAGES):
        raise PortalAccountError(_("Choose a language from the list."), field="language")
    PortalAccess.objects.filter(pk=access.pk).update(language=language, updated_at=timezone.now())
    access.language = language


def user_sign_out_everywhere(*, user: User) -> None:
    """End every session of this person, on every device, the current one too:
    the session generation is part of each session's authentication hash, so
    every session signed in before this no longer matches at its next request."""
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])


# --- timesheets ---------------------------------------------------------------------------


def portal_time_entries_approve(
    *, access: PortalAccess, project: Project, entry_ids: list[int]
) -> int:
    """The contact approves time entries of one of the customer's projects.

    Only entries of this project that are not invoiced yet; any other id
    refuses the whole approval. Returns how many entries changed (already
    approved ones count as done)."""
    if project.organization_id != access.organization_id or project.customer_id != (
        access.customer_id
    ):
        raise Project.DoesNotExist
    ids = set(entry_ids)
    if not ids:
        raise TimeApprovalError(_("Tick the time entries to approve."))
    with transaction.atomic():
        entries = list(
            TimeEntry.objects.select_for_update()
            .filter(organization_id=project.organization_id, project=project, pk__in=ids)
            .only("id", "hours", "invoiced", "approved_by_customer")
        )
        if len(entries) != len(ids):
            raise TimeApprovalError(_("Some of the ticked time entries are not of this project."))
        if any(entry.invoiced for entry in entries):
            raise TimeApprovalError(
                _("Invoiced time cannot be approved any more: untick the invoiced entries.")
            )
        changed = time_entries_set_approved(project=project, entry_ids=list(ids), approved=True)
        if changed:
            hours = sum(
                (entry.hours for entry in entries if not entry.approved_by_customer), Decimal(0)
            )
            activity_record(
                organization=access.organization,
                kind=EventKind.TIME_APPROVED,
                customer=access.customer,
                contact=access.contact,
                actor=access.user,
                document=project,
                data={
                    "count": changed,
                    # 3.5, 2, 10: without trailing zeros.
                    "hours": str(
                        hours.quantize(Decimal(1))
                        if hours == hours.to_integral_value()
                        else hours.normalize()
                    ),
                },
            )
    return changed
