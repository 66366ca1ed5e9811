"""The staff home page (dashboard): what needs a look today.

Each block is a fixed number of queries, however many rows the organisation
has: counts are one aggregate, lists are sliced, related rows come with
``select_related`` or one prefetch per kind of document.
"""

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.accounts.models import Organization
from portico.activity.models import ActivityEvent
from portico.activity.selectors import activity_today
from portico.comments.documents import document_label, staff_document_url
from portico.comments.models import Comment
from portico.customers.models import Customer
from portico.mail.models import EmailStatus, OutboundEmail
from portico.sales.models import OPEN_INVOICE_STATUSES, Invoice, Quote, QuoteStatus

LATEST = 5


@dataclass
class Block:
    """A count and the latest few rows of it."""

    count: int
    latest: list


@dataclass
class CommentItem:
    comment: Comment
    document_label: str
    url: str  # "" when the document was deleted since


@dataclass
class Dashboard:
    customers: dict
    emails: dict
    activity_today: list[ActivityEvent]
    quotes_awaiting: Block
    invoices_viewed_unpaid: Block
    latest_comments: list[CommentItem]


def quotes_awaiting_customers(*, organization: Organization) -> Block:
    """Sent quotes the customer has not decided on, not expired: count and latest."""
    today = timezone.localdate()
    quotes = Quote.objects.filter(organization=organization, status=QuoteStatus.SENT).filter(
        Q(expiry_date__isnull=True) | Q(expiry_date__gte=today)
    )
    latest = quotes.select_related("customer").order_by("-date", "-id")[:LATEST]
    return Block(count=quotes.count(), latest=list(latest))


def invoices_viewed_unpaid(*, organization: Organization) -> Block:
    """Invoices the customer opened in the portal and has not paid yet."""
    invoices = Invoice.objects.filter(
        organization=organization,
        status__in=OPEN_INVOICE_STATUSES,
        portal_viewed_at__isnull=False,
    )
    latest = invoices.select_related("customer").order_by("-portal_viewed_at", "-id")[:LATEST]
    return Block(count=invoices.count(), latest=list(latest))


def comments_latest(*, organization: Organization) -> list[CommentItem]:
    """The latest comments, the customers' first (internal notes left out),
    each with its document's name and staff page."""
    comments = (
        Comment.objects.filter(organization=organization, internal=False)
        .select_related("customer", "content_type")
        .prefetch_related("document")
        .order_by("-from_customer", "-created_at", "-id")
    )
    items = []
    for comment in comments[:LATEST]:
        document = comment.document
        if document is None:
            items.append(CommentItem(comment, _("deleted document"), ""))
        else:
            items.append(
                CommentItem(comment, document_label(document), staff_document_url(document))
            )
    return items


def dashboard(*, organization: Organization) -> Dashboard:
    customers = Customer.objects.filter(organization=organization).aggregate(
        total=Count("id"), active=Count("id", filter=Q(is_active=True))
    )
    emails = OutboundEmail.objects.filter(organization=organization).aggregate(
        queued=Count("id", filter=Q(status__in=[EmailStatus.QUEUED, EmailStatus.SENDING])),
        failed=Count("id", filter=Q(status=EmailStatus.FAILED)),
    )
    return Dashboard(
        customers=customers,
        emails=emails,
        activity_today=activity_today(organization=organization),
        quotes_awaiting=quotes_awaiting_customers(organization=organization),
        invoices_viewed_unpaid=invoices_viewed_unpaid(organization=organization),
        latest_comments=comments_latest(organization=organization),
    )
