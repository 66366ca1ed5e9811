"""What a signed-in contact may read: every portal query starts here.

Each function takes the contact's ``PortalAccess`` and scopes by its
organisation AND its customer, so an id of another customer's (or another
organisation's) object is simply not found, and the view answers 404.
Drafts are never shown; void documents only when the organisation chose to
show them (Settings → Customer portal).
"""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet

from portico.payments.models import Payment
from portico.portal_access.models import PortalAccess, PortalModule
from portico.projects.models import Project
from portico.sales.models import (
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceStatus,
    Quote,
    QuoteStatus,
    SalesOrder,
    SalesOrderStatus,
)

# The portal module each kind of document belongs to.
DOCUMENT_MODULES: dict[type[Model], str] = {
    Quote: PortalModule.QUOTES,
    SalesOrder: PortalModule.SALES_ORDERS,
    Invoice: PortalModule.INVOICES,
    CreditNote: PortalModule.CREDIT_NOTES,
    Payment: PortalModule.PAYMENTS,
    Project: PortalModule.PROJECTS,
}

_DRAFT = {
    Quote: QuoteStatus.DRAFT,
    SalesOrder: SalesOrderStatus.DRAFT,
    Invoice: InvoiceStatus.DRAFT,
    CreditNote: CreditNoteStatus.DRAFT,
}
_VOID = {
    SalesOrder: SalesOrderStatus.VOID,
    Invoice: InvoiceStatus.VOID,
    CreditNote: CreditNoteStatus.VOID,
}


def show_void_documents(access: PortalAccess) -> bool:
    try:
        return access.organization.portal_settings.show_void_documents
    except ObjectDoesNotExist:  # no settings saved yet: the defaults
        return False


def portal_documents(*, access: PortalAccess, model: type[Model]) -> QuerySet:
    """The customer's ``model`` rows (quotes, sales orders, invoices, credit
    notes, payments or projects) that the portal may show, unordered."""
    queryset = model.objects.filter(
        organization_id=access.organization_id, customer_id=access.customer_id
    )
    if model in _DRAFT:
        hidden = [_DRAFT[model]]
        if model in _VOID and not show_void_documents(access):
            hidden.append(_VOID[model])
        queryset = queryset.exclude(status__in=hidden)
    return queryset


def portal_document_get(*, access: PortalAccess, model: type[Model], pk: int) -> Model:
    """One document of the contact's customer; ``model.DoesNotExist`` otherwise."""
    return portal_documents(access=access, model=model).get(pk=pk)
