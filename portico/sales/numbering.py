"""Per-organisation document numbers: unique and gap-free under concurrency."""

from django.db import IntegrityError, transaction

from portico.accounts.models import Organization
from portico.sales.models import DEFAULT_PREFIXES, DocumentType, NumberSeries


def number_series(*, organization: Organization, document_type: str) -> NumberSeries:
    """The organisation's series for a document type, created on first use."""
    series = NumberSeries.objects.filter(
        organization=organization, document_type=document_type
    ).first()
    if series is None:
        series = _create_series(organization, document_type)
    return series


def _create_series(organization: Organization, document_type: str) -> NumberSeries:
    try:
        with transaction.atomic():
            return NumberSeries.objects.create(
                organization=organization,
                document_type=document_type,
                prefix=DEFAULT_PREFIXES[DocumentType(document_type)],
            )
    except IntegrityError:  # another transaction created it first
        return NumberSeries.objects.get(organization=organization, document_type=document_type)


def number_take(*, organization: Organization, document_type: str) -> str:
    """The next number, for a document created in the caller's transaction.

    The series row stays locked until that transaction ends, so a rollback
    gives the number back (no gap) and no two documents get the same one.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_take() must run inside the document's transaction")
    number_series(organization=organization, document_type=document_type)
    series = NumberSeries.objects.select_for_update().get(
        organization=organization, document_type=document_type
    )
    number = f"{series.prefix}{series.next_number:0{series.padding}d}"
    series.next_number += 1
    series.save(update_fields=["next_number", "updated_at"])
    return number
