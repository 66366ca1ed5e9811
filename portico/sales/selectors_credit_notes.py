"""Reading credit notes, always within one organisation."""

from django.db.models import Prefetch, QuerySet
from django.http import QueryDict

from portico.accounts.models import Organization
from portico.sales.models import CreditApplication, CreditNote, CreditNoteStatus
from portico.sales.selectors import DocumentFilters, document_list


def credit_note_filters(query: QueryDict) -> DocumentFilters:
    filters = DocumentFilters.from_query(query)
    if filters.status and filters.status not in CreditNoteStatus.values:
        filters = DocumentFilters(**{**vars(filters), "status": ""})
    return filters


def credit_note_list(
    *, organization: Organization, filters: DocumentFilters
) -> QuerySet[CreditNote]:
    credit_notes = document_list(model=CreditNote, organization=organization, filters=filters)
    if filters.status:
        credit_notes = credit_notes.filter(status=filters.status)
    return credit_notes


def credit_note_exists(*, organization: Organization) -> bool:
    return CreditNote.objects.filter(organization=organization).exists()


def credit_note_get(*, organization: Organization, pk: int) -> CreditNote:
    """One credit note with its lines, related invoice and applications;
    DoesNotExist (→ 404) for any other organisation's."""
    return (
        CreditNote.objects.select_related("customer", "created_by", "invoice", "portal_viewed_by")
        .prefetch_related(
            "lines",
            Prefetch(
                "applications",
                queryset=CreditApplication.objects.select_related("invoice").order_by("date", "id"),
            ),
        )
        .get(organization=organization, pk=pk)
    )
