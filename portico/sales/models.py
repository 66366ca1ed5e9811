"""Sales documents: quotes, sales orders, invoices and credit notes.

Each document belongs to one organisation and one customer, carries its own
currency and a per-organisation number (QT-00001 …), and has numbered lines.
Totals are computed by ``portico.sales.totals`` and stored, so lists never
recompute them.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portico.core.models import OrganizationOwnedModel, TimeStampedModel

MONEY = {"max_digits": 18, "decimal_places": 4}
QUANTITY = {"max_digits": 14, "decimal_places": 4}


class DocumentType(models.TextChoices):
    QUOTE = "quote", _("Quote")
    SALES_ORDER = "sales_order", _("Sales order")
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")
    PAYMENT = "payment", _("Payment")


DEFAULT_PREFIXES = {
    DocumentType.QUOTE: "QT-",
    DocumentType.SALES_ORDER: "SO-",
    DocumentType.INVOICE: "INV-",
    DocumentType.CREDIT_NOTE: "CN-",
    DocumentType.PAYMENT: "PAY-",
}


class NumberSeries(OrganizationOwnedModel):
    """The next number of one document type in one organisation.

    Taken with SELECT … FOR UPDATE in the transaction that creates the
    document, so numbers are unique and gap-free even under concurrency.
    """

    document_type = models.CharField(
        _("document type"), max_length=20, choices=DocumentType.choices
    )
    prefix = models.CharField(_("prefix"), max_length=12)
    next_number = models.PositiveIntegerField(_("next number"), default=1)
    padding = models.PositiveSmallIntegerField(_("digits"), default=5)

    class Meta:
        verbose_name = _("number series")
        verbose_name_plural = _("number series")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "document_type"], name="sales_number_series_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}{self.next_number:0{self.padding}d}"


class SalesDocument(OrganizationOwnedModel):
    """What every sales document has."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="%(class)ss",
        verbose_name=_("customer"),
    )
    number = models.CharField(_("number"), max_length=32)
    date = models.DateField(_("date"), default=timezone.localdate)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    billing_address = models.TextField(_("billing address"), blank=True)
    shipping_address = models.TextField(_("shipping address"), blank=True)
    notes = models.TextField(_("customer notes"), blank=True)
    terms = models.TextField(_("terms and conditions"), blank=True)
    subtotal = models.DecimalField(_("subtotal"), default=0, **MONEY)
    discount_total = models.DecimalField(_("discount"), default=0, **MONEY)
    tax_total = models.DecimalField(_("tax"), default=0, **MONEY)
    total = models.DecimalField(_("total"), default=0, **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    # The latest view in the portal (portico.portal.models.DocumentView keeps
    # one row per contact); kept here so staff lists show and filter "Viewed"
    # without a query per row.
    portal_viewed_at = models.DateTimeField(_("viewed in portal"), null=True, blank=True)
    portal_viewed_by = models.ForeignKey(
        "customers.ContactPerson",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("viewed in portal by"),
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.number


class DocumentLine(models.Model):
    """One numbered line: an item or free text, quantity × rate − discount, plus tax."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    position = models.PositiveSmallIntegerField(_("line"))
    item = models.ForeignKey(
        "catalog.Item",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("item"),
    )
    description = models.TextField(_("description"))
    quantity = models.DecimalField(_("quantity"), validators=[MinValueValidator(0)], **QUANTITY)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    rate = models.DecimalField(_("rate"), validators=[MinValueValidator(0)], **MONEY)
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=6,
        decimal_places=3,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    tax = models.ForeignKey(
        "catalog.Tax",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tax"),
    )
    # The tax as it was when the line was saved: documents do not change
    # when a tax is renamed or its rate changes later.
    tax_name = models.CharField(_("tax name"), max_length=100, blank=True)
    tax_rate = models.DecimalField(_("tax rate (%)"), max_digits=6, decimal_places=3, default=0)
    discount_amount = models.DecimalField(_("discount"), default=0, **MONEY)
    amount = models.DecimalField(_("amount"), default=0, **MONEY)  # after discount, before tax
    tax_amount = models.DecimalField(_("tax amount"), default=0, **MONEY)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.description[:40]}"


def _line_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.UniqueConstraint(fields=["document", "position"], name=f"{prefix}_line_position"),
        models.CheckConstraint(
            condition=Q(quantity__gte=0) & Q(rate__gte=0), name=f"{prefix}_line_not_negative"
        ),
        models.CheckConstraint(
            condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
            name=f"{prefix}_line_discount_range",
        ),
    ]


def _document_meta_indexes(prefix: str) -> list[models.Index]:
    """The list's default order, a customer's documents (also by status), and the sort by total.

    Number and reference search has its own indexes, per database, outside the
    model state: trigram indexes on PostgreSQL, a covering index on SQLite
    (migration 0002). Sorting by number uses the number's unique constraint.
    """
    return [
        models.Index(fields=["organization", "-date", "-id"], name=f"{prefix}_org_date_idx"),
        models.Index(
            fields=["organization", "customer", "-date", "-id"], name=f"{prefix}_org_cust_idx"
        ),
        models.Index(fields=["organization", "total", "id"], name=f"{prefix}_org_total_idx"),
        # A customer's documents in a status (the portal's home: open invoices,
        # quotes awaiting a decision, orders in progress): without it SQLite
        # may pick an organisation-wide index and read every customer's rows.
        models.Index(
            fields=["organization", "customer", "status"], name=f"{prefix}_org_cust_status_idx"
        ),
    ]


def _document_number_unique(prefix: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["organization", "number"], name=f"{prefix}_number_unique"
    )


# --- quotes ----------------------------------------------------------------------


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    INVOICED = "invoiced", _("Invoiced")
    # Shown, never stored: a sent quote past its expiry date.
    EXPIRED = "expired", _("Expired")


class Quote(SalesDocument):
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    contacts = models.ManyToManyField(
        "customers.ContactPerson",
        blank=True,
        related_name="quotes",
        verbose_name=_("contact persons"),
    )
    # Sent quotes are versioned: each edit after sending records a revision,
    # and a customer's acceptance is bound to the revision they saw.
    revision = models.PositiveIntegerField(_("revision"), default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    decided_at = models.DateTimeField(_("accepted or declined"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        indexes = [
            *_document_meta_indexes("quote"),
            # Status filters (sent, expired = sent past expiry) counted and listed
            # newest first from the index alone.
            models.Index(
                fields=["organization", "status", "-date", "-id", "expiry_date"],
                name="quote_org_status_idx",
            ),
        ]
        constraints = [_document_number_unique("quote")]

    @property
    def display_status(self) -> str:
        """The status a person reads: a sent quote past its expiry date is expired."""
        if (
            self.status == QuoteStatus.SENT
            and self.expiry_date
            and self.expiry_date < timezone.localdate()
        ):
            return QuoteStatus.EXPIRED
        return self.status

    def get_display_status_display(self) -> str:
        return QuoteStatus(self.display_status).label


class QuoteLine(DocumentLine):
    document = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta(DocumentLine.Meta):
        constraints = _line_constraints("quote")


class QuoteRevision(TimeStampedModel):
    """An immutable snapshot of a quote as sent to the customer.

    ``content_hash`` is the SHA-256 of the canonical JSON snapshot; the
    portal binds a customer's acceptance to it.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("revision"))
    snapshot = models.JSONField(_("snapshot"))
    content_hash = models.CharField(_("SHA-256"), max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("quote revision")
        verbose_name_plural = _("quote revisions")
        ordering = ["quote", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "number"], name="quote_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.quote_id} r{self.number}"


class QuoteDecisionKind(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class QuoteDecision(TimeStampedModel):
    """A customer's acceptance or refusal of one revision of a quote, in the portal.

    It records who decided, when, from where and the SHA-256 of the exact
    revision shown (``content_hash``), so an acceptance can be proven later
    (the certificate of acceptance). One decision per revision: two contacts
    deciding at the same moment cannot both win.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(_("decision"), max_length=10, choices=QuoteDecisionKind.choices)
    revision_number = models.PositiveIntegerField(_("revision"))
    content_hash = models.CharField(_("SHA-256"), max_length=64)
    contact = models.ForeignKey(
        "customers.ContactPerson",
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("contact person"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # As typed by the person when accepting; their e-mail at that moment.
    signer_name = models.CharField(_("name"), max_length=200, blank=True)
    signer_email = models.EmailField(_("e-mail"), blank=True)
    reason = models.TextField(_("reason"), blank=True)
    terms_accepted = models.BooleanField(_("terms accepted"), default=False)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=500, blank=True)
    decided_at = models.DateTimeField(_("decided"), default=timezone.now)

    class Meta:
        verbose_name = _("quote decision")
        verbose_name_plural = _("quote decisions")
        ordering = ["-decided_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["quote", "revision_number"], name="quote_decision_one_per_revision"
            )
        ]

    def __str__(self) -> str:
        return f"{self.quote_id} r{self.revision_number} {self.kind}"


# --- sales orders ------------------------------------------------------------------


class SalesOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")
    INVOICED = "invoiced", _("Invoiced")
    VOID = "void", _("Void")


class FulfilmentStatus(models.TextChoices):
    NOT_SHIPPED = "not_shipped", _("Not shipped")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")


class SalesOrder(SalesDocument):
    quote = models.ForeignKey(
        Quote,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sales_orders",
        verbose_name=_("quote"),
    )
    expected_shipment_date = models.DateField(_("expected shipment date"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=SalesOrderStatus.choices,
        default=SalesOrderStatus.DRAFT,
    )
    fulfilment_status = models.CharField(
        _("fulfilment"),
        max_length=20,
        choices=FulfilmentStatus.choices,
        default=FulfilmentStatus.NOT_SHIPPED,
    )
    shipment_date = models.DateField(_("shipment date"), null=True, blank=True)
    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=100, blank=True)
    contacts = models.ManyToManyField(
        "customers.ContactPerson",
        blank=True,
        related_name="sales_orders",
        verbose_name=_("contact persons"),
    )

    class Meta:
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        indexes = _document_meta_indexes("so")
        constraints = [_document_number_unique("so")]


class SalesOrderLine(DocumentLine):
    document = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")

    class Meta(DocumentLine.Meta):
        constraints = _line_constraints("so")


# --- invoices ----------------------------------------------------------------------


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")
    # Shown, never stored: an unpaid invoice past its due date.
    OVERDUE = "overdue", _("Overdue")


OPEN_INVOICE_STATUSES = (InvoiceStatus.SENT, InvoiceStatus.PARTIALLY_PAID)


class Invoice(SalesDocument):
    quote = models.ForeignKey(
        Quote,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("quote"),
    )
    sales_order = models.ForeignKey(
        SalesOrder,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("sales order"),
    )
    due_date = models.DateField(_("due date"))
    payment_terms = models.PositiveSmallIntegerField(_("payment terms (days)"), default=0)
    status = models.CharField(
        _("status"), max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    allow_partial_payments = models.BooleanField(_("allow partial payments"), default=True)
    amount_paid = models.DecimalField(_("paid"), default=0, **MONEY)
    credits_applied = models.DecimalField(_("credits applied"), default=0, **MONEY)
    balance_due = models.DecimalField(_("balance due"), default=0, **MONEY)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    contacts = models.ManyToManyField(
        "customers.ContactPerson",
        blank=True,
        related_name="invoices",
        verbose_name=_("contact persons"),
    )

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [
            *_document_meta_indexes("inv"),
            models.Index(fields=["organization", "status", "due_date"], name="inv_org_status_idx"),
            models.Index(fields=["organization", "balance_due", "id"], name="inv_org_balance_idx"),
            # Deliberately no (organization, due_date, id): with it SQLite lists
            # ?status=overdue by sorting 30,000 rows instead of walking the date
            # index (bench/README.md, sales list indexes).
        ]
        constraints = [
            _document_number_unique("inv"),
            models.CheckConstraint(
                condition=Q(balance_due__gte=0) & Q(amount_paid__gte=0) & Q(credits_applied__gte=0),
                name="inv_balances_not_negative",
            ),
        ]

    @property
    def is_overdue(self) -> bool:
        return self.status in OPEN_INVOICE_STATUSES and self.due_date < timezone.localdate()

    @property
    def display_status(self) -> str:
        return InvoiceStatus.OVERDUE if self.is_overdue else self.status

    def get_display_status_display(self) -> str:
        return InvoiceStatus(self.display_status).label


class InvoiceLine(DocumentLine):
    document = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    # Set when the line bills time entries of a project.
    project = models.ForeignKey(
        "projects.Project", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta(DocumentLine.Meta):
        constraints = _line_constraints("inv")


# --- credit notes --------------------------------------------------------------------


class CreditNoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    VOID = "void", _("Void")


class CreditNote(SalesDocument):
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("invoice"),
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CreditNoteStatus.choices,
        default=CreditNoteStatus.DRAFT,
    )
    credits_remaining = models.DecimalField(_("credits remaining"), default=0, **MONEY)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        indexes = _document_meta_indexes("cn")
        constraints = [
            _document_number_unique("cn"),
            models.CheckConstraint(
                condition=Q(credits_remaining__gte=0), name="cn_remaining_not_negative"
            ),
        ]


class CreditNoteLine(DocumentLine):
    document = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")

    class Meta(DocumentLine.Meta):
        constraints = _line_constraints("cn")


class CreditApplication(TimeStampedModel):
    """Part of a credit note applied to an open invoice of the same customer."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.CASCADE, related_name="applications"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="credit_applications"
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    date = models.DateField(_("date"), default=timezone.localdate)

    class Meta:
        verbose_name = _("credit applied")
        verbose_name_plural = _("credits applied")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_application_positive")
        ]

    def __str__(self) -> str:
        return f"{self.credit_note_id} → {self.invoice_id}: {self.amount}"


# --- history -----------------------------------------------------------------------------


class DocumentEvent(models.Model):
    """One line of a document's history: created, edited, sent, paid …"""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    document = GenericForeignKey("content_type", "object_id")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("event"), max_length=40)
    # Values for the kind's message (portico.sales.history), which is
    # translated when shown, in the reader's language.
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["content_type", "object_id", "-created_at"], name="docevent_doc_idx"
            )
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        from portico.sales.history import describe_event

        return describe_event(self)
