"""Settings → Numbering: each document type's prefix and next number.

A change never lets two documents share a number: the next number must be
above every number already issued with that prefix. The series row is locked
while it is checked and changed, the same lock ``number_take`` holds while a
document is created, so a document being created meanwhile is waited for and
counted.
"""

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import BigIntegerField, Max, Model
from django.db.models.functions import Cast, Substr
from django.utils.translation import gettext as _

from portico.accounts.models import Membership, Organization
from portico.core.errors import PermissionDeniedError, PorticoError
from portico.payments.models import Payment
from portico.sales.models import (
    DEFAULT_PREFIXES,
    CreditNote,
    DocumentType,
    Invoice,
    NumberSeries,
    Quote,
    SalesOrder,
)
from portico.sales.numbering import number_series

PREFIX_PATTERN = re.compile(r"[A-Za-z0-9/_-]{1,12}")
# Up to 18 digits after the prefix: those fit a 64-bit integer in every database.
MAX_DIGITS = 18
MAX_NEXT_NUMBER = 2_147_483_647  # NumberSeries.next_number is a PositiveIntegerField

DOCUMENT_MODELS: dict[str, type[Model]] = {
    DocumentType.QUOTE: Quote,
    DocumentType.SALES_ORDER: SalesOrder,
    DocumentType.INVOICE: Invoice,
    DocumentType.CREDIT_NOTE: CreditNote,
    DocumentType.PAYMENT: Payment,
}


class NumberingError(PorticoError):
    """A numbering change that would break unique, gap-free numbers."""


@dataclass(frozen=True)
class SeriesSettings:
    """One document type's numbering as the settings page shows it."""

    document_type: str
    label: str
    prefix: str
    next_number: int
    padding: int

    @property
    def next_example(self) -> str:
        return f"{self.prefix}{self.next_number:0{self.padding}d}"


def number_series_list(*, organization: Organization) -> list[SeriesSettings]:
    """Every document type's numbering (a read: series not used yet show their defaults)."""
    stored = {
        series.document_type: series
        for series in NumberSeries.objects.filter(organization=organization)
    }
    default = NumberSeries()
    rows = []
    for document_type in DocumentType:
        series = stored.get(document_type.value)
        rows.append(
            SeriesSettings(
                document_type=document_type.value,
                label=str(document_type.label),
                prefix=series.prefix if series else DEFAULT_PREFIXES[document_type],
                next_number=series.next_number if series else default.next_number,
                padding=series.padding if series else default.padding,
            )
        )
    return rows


def highest_issued_number(*, organization: Organization, document_type: str, prefix: str) -> int:
    """The highest number issued as ``<prefix><digits>`` for a document type (0 if none).

    Leading zeros do not count: ``INV-7`` and ``INV-00007`` are both 7, so a
    change of padding cannot bring a number back either.
    """
    model = DOCUMENT_MODELS[document_type]
    digits = Substr("number", len(prefix) + 1)
    result = (
        model.objects.filter(
            organization=organization,
            number__startswith=prefix,
            number__regex=rf"^{re.escape(prefix)}[0-9]{{1,{MAX_DIGITS}}}$",
        )
        .annotate(sequence=Cast(digits, BigIntegerField()))
        .aggregate(highest=Max("sequence"))
    )
    return result["highest"] or 0


def number_series_update(
    *, membership: Membership, document_type: str, prefix: str, next_number: int
) -> NumberSeries:
    """Change a document type's prefix and next number (owners and admins only)."""
    if not membership.can_manage_team:
        raise PermissionDeniedError(_("Only an owner or an admin can change these settings."))
    if document_type not in DOCUMENT_MODELS:
        raise NumberingError(_("Choose a document type."))
    prefix = prefix.strip()
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise NumberingError(
            _("A prefix has 1 to 12 letters, digits, hyphens (-), slashes (/) or underscores (_)."),
            field="prefix",
        )
    if next_number < 1 or next_number > MAX_NEXT_NUMBER:
        raise NumberingError(
            _("The next number must be between 1 and %(max)s.") % {"max": MAX_NEXT_NUMBER},
            field="next_number",
        )
    organization = membership.organization
    with transaction.atomic():
        number_series(organization=organization, document_type=document_type)
        series = NumberSeries.objects.select_for_update().get(
            organization=organization, document_type=document_type
        )
        _check_prefix_not_shared(organization=organization, series=series, prefix=prefix)
        highest = highest_issued_number(
            organization=organization, document_type=document_type, prefix=prefix
        )
        if next_number <= highest:
            raise NumberingError(
                _(
                    "Number %(highest)s has already been issued with the prefix %(prefix)s: "
                    "the next number must be %(minimum)s or more."
                )
                % {"highest": highest, "prefix": prefix, "minimum": highest + 1},
                field="next_number",
            )
        series.prefix = prefix
        series.next_number = next_number
        series.save(update_fields=["prefix", "next_number", "updated_at"])
    return series


def _check_prefix_not_shared(
    *, organization: Organization, series: NumberSeries, prefix: str
) -> None:
    """Two document types with one prefix would print look-alike numbers."""
    stored = {
        other.document_type: other.prefix
        for other in NumberSeries.objects.filter(organization=organization).exclude(pk=series.pk)
    }
    for document_type in DocumentType:
        if document_type.value == series.document_type:
            continue
        other_prefix = stored.get(document_type.value, DEFAULT_PREFIXES[document_type])
        if other_prefix.casefold() == prefix.casefold():
            raise NumberingError(
                _("%(prefix)s is already the prefix of another document type (%(documents)s).")
                % {"prefix": prefix, "documents": document_type.label},
                field="prefix",
            )
