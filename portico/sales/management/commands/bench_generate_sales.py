"""Fill an organisation with a realistic sales history, fast (benchmarks; DEBUG only).

Default volume (issue 3): 200,000 invoices, 50,000 quotes, 20,000 sales
orders with one to three lines each, payments for paid and partly paid
invoices, and 100,000 time entries on projects — spread over the
organisation's existing customers (``bench_generate_customers`` first) and
the last three years. Rows go in with ``bulk_create`` in batches; numbers
continue the organisation's number series, which are moved past them.
"""

import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F

from portico.accounts.models import Membership, Organization
from portico.catalog.models import Item, Tax
from portico.customers.models import Customer
from portico.payments.models import Payment, PaymentAllocation, PaymentMode
from portico.projects.models import Project, TimeEntry
from portico.sales.models import (
    DocumentType,
    FulfilmentStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    NumberSeries,
    Quote,
    QuoteLine,
    QuoteStatus,
    SalesOrder,
    SalesOrderLine,
    SalesOrderStatus,
)
from portico.sales.numbering import number_series
from portico.sales.totals import LineInput, document_totals

BATCH = 5_000
HISTORY_DAYS = 3 * 365
SERVICES = [
    ("Consulting", "h", Decimal("120")),
    ("Implementation", "h", Decimal("95")),
    ("Support plan", "month", Decimal("450")),
    ("Training day", "day", Decimal("900")),
    ("Hosting", "month", Decimal("79")),
    ("Design review", "h", Decimal("110")),
    ("Hardware kit", "pcs", Decimal("249.90")),
    ("Cables", "pcs", Decimal("12.50")),
    ("Licence", "seat", Decimal("39")),
    ("Travel", "trip", Decimal("380")),
]
TASKS = ["Analysis", "Development", "Testing", "Meetings", "Deployment", "Documentation"]


@dataclass
class Context:
    organization: Organization
    customers: list[tuple[int, str, int]]  # id, currency, payment terms
    items: list[Item]
    taxes: list[Tax]
    rng: random.Random
    today: date


def _catalog(organization: Organization) -> tuple[list[Item], list[Tax]]:
    taxes = list(Tax.objects.filter(organization=organization))
    if not taxes:
        taxes = [
            Tax.objects.create(organization=organization, name="VAT", rate=Decimal("20")),
            Tax.objects.create(organization=organization, name="Reduced", rate=Decimal("7.5")),
        ]
    items = list(Item.objects.filter(organization=organization))
    if not items:
        items = [
            Item.objects.create(
                organization=organization,
                name=name,
                unit=unit,
                rate=rate,
                tax=taxes[0],
                sku=f"BENCH-{index:03d}",
            )
            for index, (name, unit, rate) in enumerate(SERVICES)
        ]
    return items, taxes


def _lines(ctx: Context, currency: str, line_model, document, count: int):
    inputs, rows = [], []
    for position in range(1, count + 1):
        item = ctx.rng.choice(ctx.items)
        tax = ctx.rng.choice(ctx.taxes + [None])
        quantity = Decimal(ctx.rng.choice([1, 1, 2, 3, 5, 8, 10]))
        discount = Decimal(ctx.rng.choice([0, 0, 0, 5, 10]))
        rate = item.rate if currency != "JPY" else (item.rate * 150).quantize(Decimal(1))
        inputs.append(
            LineInput(
                quantity=quantity,
                rate=rate,
                discount_percent=discount,
                tax_name=tax.name if tax else "",
                tax_rate=tax.rate if tax else Decimal(0),
            )
        )
        rows.append((position, item, tax, quantity, rate, discount))
    totals = document_totals(inputs, currency)
    lines = [
        line_model(
            organization_id=ctx.organization.pk,
            document=document,
            position=position,
            item=item,
            description=item.name,
            quantity=quantity,
            unit=item.unit,
            rate=rate,
            discount_percent=discount,
            tax=tax,
            tax_name=tax.name if tax else "",
            tax_rate=tax.rate if tax else Decimal(0),
            discount_amount=computed.discount,
            amount=computed.amount,
            tax_amount=computed.tax,
        )
        for (position, item, tax, quantity, rate, discount), computed in zip(
            rows, totals.lines, strict=True
        )
    ]
    return lines, totals


def _take_numbers(organization: Organization, document_type: str, count: int) -> tuple[str, int]:
    """Reserve ``count`` numbers; returns the prefix and the first number."""
    number_series(organization=organization, document_type=document_type)
    with transaction.atomic():
        series = NumberSeries.objects.select_for_update().get(
            organization=organization, document_type=document_type
        )
        first = series.next_number
        NumberSeries.objects.filter(pk=series.pk).update(next_number=F("next_number") + count)
    return series.prefix, first


def _generate_documents(ctx: Context, *, model, line_model, document_type, count, build, progress):
    prefix, first = _take_numbers(ctx.organization, document_type, count)
    made = 0
    while made < count:
        size = min(BATCH, count - made)
        documents, all_lines = [], []
        for offset in range(size):
            customer_id, currency, terms = ctx.rng.choice(ctx.customers)
            day = ctx.today - timedelta(days=ctx.rng.randint(0, HISTORY_DAYS))
            document = model(
                organization_id=ctx.organization.pk,
                customer_id=customer_id,
                number=f"{prefix}{first + made + offset:05d}",
                date=day,
                currency=currency,
                reference=f"PO-{ctx.rng.randint(1000, 99999)}" if ctx.rng.random() < 0.4 else "",
            )
            lines, totals = _lines(ctx, currency, line_model, document, ctx.rng.randint(1, 3))
            document.subtotal = totals.subtotal
            document.discount_total = totals.discount_total
            document.tax_total = totals.tax_total
            document.total = totals.total
            build(document, terms)
            documents.append(document)
            all_lines += lines
        with transaction.atomic():
            model.objects.bulk_create(documents, batch_size=1_000)
            for line in all_lines:
                line.document_id = line.document.pk
            line_model.objects.bulk_create(all_lines, batch_size=2_000)
        made += size
        progress(model._meta.verbose_name_plural, made)
    return made


def _invoice_builder(ctx: Context):
    def build(invoice: Invoice, terms: int) -> None:
        invoice.payment_terms = terms
        invoice.due_date = invoice.date + timedelta(days=terms)
        age = (ctx.today - invoice.date).days
        roll = ctx.rng.random()
        if age < 20 and roll < 0.3:
            invoice.status = InvoiceStatus.DRAFT
        elif roll < 0.04:
            invoice.status = InvoiceStatus.VOID
        elif (age > 60 and roll < 0.85) or roll < 0.55:
            invoice.status = InvoiceStatus.PAID
        elif roll < 0.7:
            invoice.status = InvoiceStatus.PARTIALLY_PAID
        else:
            invoice.status = InvoiceStatus.SENT
        invoice.balance_due = invoice.total
        if invoice.status == InvoiceStatus.PAID:
            invoice.amount_paid, invoice.balance_due = invoice.total, Decimal(0)
        elif invoice.status == InvoiceStatus.PARTIALLY_PAID:
            paid = (invoice.total / 2).quantize(
                Decimal(1) if invoice.currency == "JPY" else Decimal("0.01")
            )
            invoice.amount_paid, invoice.balance_due = paid, invoice.total - paid

    return build


def _quote_builder(ctx: Context):
    def build(quote: Quote, terms: int) -> None:
        quote.expiry_date = quote.date + timedelta(days=30)
        quote.status = ctx.rng.choice(
            [
                QuoteStatus.DRAFT,
                QuoteStatus.SENT,
                QuoteStatus.SENT,
                QuoteStatus.ACCEPTED,
                QuoteStatus.DECLINED,
                QuoteStatus.INVOICED,
            ]
        )
        quote.revision = 0 if quote.status == QuoteStatus.DRAFT else 1

    return build


def _order_builder(ctx: Context):
    def build(order: SalesOrder, terms: int) -> None:
        order.status = ctx.rng.choice(
            [
                SalesOrderStatus.CONFIRMED,
                SalesOrderStatus.CONFIRMED,
                SalesOrderStatus.INVOICED,
                SalesOrderStatus.DRAFT,
            ]
        )
        order.fulfilment_status = ctx.rng.choice(list(FulfilmentStatus.values))
        if order.fulfilment_status != FulfilmentStatus.NOT_SHIPPED:
            order.shipment_date = order.date + timedelta(days=ctx.rng.randint(1, 10))
            order.carrier = ctx.rng.choice(["DHL", "UPS", "FedEx", "Royal Mail", "Yamato"])
            order.tracking_number = f"{ctx.rng.randint(10**9, 10**10 - 1)}"

    return build


def _payments(ctx: Context, progress) -> int:
    """One payment per paid or partly paid invoice, allocated to it."""
    invoices = Invoice.objects.filter(
        organization=ctx.organization, amount_paid__gt=0, payment_allocations__isnull=True
    ).values_list("pk", "customer_id", "currency", "amount_paid", "date")
    total = invoices.count()
    prefix, first = _take_numbers(ctx.organization, DocumentType.PAYMENT, total)
    made = 0
    batch: list[tuple] = []

    def flush():
        payments = [
            Payment(
                organization_id=ctx.organization.pk,
                customer_id=customer_id,
                number=f"{prefix}{first + made + index:05d}",
                date=min(day + timedelta(days=ctx.rng.randint(0, 40)), ctx.today),
                amount=amount,
                currency=currency,
                mode=ctx.rng.choice(list(PaymentMode.values)),
                reference=f"TX{ctx.rng.randint(10**6, 10**7)}",
            )
            for index, (_pk, customer_id, currency, amount, day) in enumerate(batch)
        ]
        with transaction.atomic():
            Payment.objects.bulk_create(payments, batch_size=1_000)
            PaymentAllocation.objects.bulk_create(
                [
                    PaymentAllocation(
                        organization_id=ctx.organization.pk,
                        payment=payment,
                        invoice_id=row[0],
                        amount=payment.amount,
                    )
                    for payment, row in zip(payments, batch, strict=True)
                ],
                batch_size=2_000,
            )

    for row in invoices.iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) == BATCH:
            flush()
            made += len(batch)
            batch = []
            progress("payments", made)
    if batch:
        flush()
        made += len(batch)
        progress("payments", made)
    return made


def _time_entries(ctx: Context, count: int, progress) -> int:
    users = list(
        Membership.objects.filter(organization=ctx.organization).values_list("user_id", flat=True)
    ) or [None]
    project_count = max(count // 200, 1)
    projects = [
        Project(
            organization_id=ctx.organization.pk,
            customer_id=customer_id,
            name=f"{ctx.rng.choice(['Website', 'ERP rollout', 'Audit', 'Migration', 'Support'])} "
            f"{index + 1}",
            code=f"PRJ-{index + 1:04d}",
            currency=currency,
            hourly_rate=Decimal("15000") if currency == "JPY" else Decimal("95"),
        )
        for index, (customer_id, currency, _terms) in enumerate(
            ctx.rng.sample(ctx.customers, min(project_count, len(ctx.customers)))
        )
    ]
    Project.objects.bulk_create(projects, batch_size=1_000)
    made = 0
    while made < count:
        size = min(BATCH, count - made)
        entries = []
        for _ in range(size):
            invoiced = ctx.rng.random() < 0.5
            entries.append(
                TimeEntry(
                    organization_id=ctx.organization.pk,
                    project=ctx.rng.choice(projects),
                    date=ctx.today - timedelta(days=ctx.rng.randint(0, HISTORY_DAYS)),
                    user_id=ctx.rng.choice(users),
                    task=ctx.rng.choice(TASKS),
                    hours=Decimal(ctx.rng.choice(["0.5", "1", "1.5", "2", "3", "4", "6", "8"])),
                    billable=ctx.rng.random() < 0.85,
                    approved_by_customer=invoiced or ctx.rng.random() < 0.3,
                    invoiced=invoiced,
                )
            )
        with transaction.atomic():
            TimeEntry.objects.bulk_create(entries, batch_size=2_000)
        made += size
        progress("time entries", made)
    return made


def sales_generate(
    *,
    organization: Organization,
    invoices: int,
    quotes: int,
    orders: int,
    time_entries: int,
    seed: str = "",
    progress=lambda label, done: None,
) -> dict[str, int]:
    customers = list(
        Customer.objects.filter(organization=organization).values_list(
            "pk", "currency", "payment_terms"
        )
    )
    if not customers:
        raise CommandError(
            f"{organization.portal_name} has no customers: run bench_generate_customers first."
        )
    items, taxes = _catalog(organization)
    from django.utils import timezone

    ctx = Context(
        organization=organization,
        customers=customers,
        items=items,
        taxes=taxes,
        rng=random.Random(f"{seed}:{organization.pk}"),
        today=timezone.localdate(),
    )
    made = {
        "invoices": _generate_documents(
            ctx,
            model=Invoice,
            line_model=InvoiceLine,
            document_type=DocumentType.INVOICE,
            count=invoices,
            build=_invoice_builder(ctx),
            progress=progress,
        ),
        "quotes": _generate_documents(
            ctx,
            model=Quote,
            line_model=QuoteLine,
            document_type=DocumentType.QUOTE,
            count=quotes,
            build=_quote_builder(ctx),
            progress=progress,
        ),
        "sales orders": _generate_documents(
            ctx,
            model=SalesOrder,
            line_model=SalesOrderLine,
            document_type=DocumentType.SALES_ORDER,
            count=orders,
            build=_order_builder(ctx),
            progress=progress,
        ),
    }
    made["payments"] = _payments(ctx, progress)
    made["time entries"] = _time_entries(ctx, time_entries, progress)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            for model in (
                Invoice,
                InvoiceLine,
                Quote,
                QuoteLine,
                SalesOrder,
                SalesOrderLine,
                Payment,
                PaymentAllocation,
                Project,
                TimeEntry,
            ):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return made


class Command(BaseCommand):
    help = "Create a realistic sales history for benchmarks (DEBUG only unless --force)."

    def add_arguments(self, parser):
        parser.add_argument("--organization", required=True, help="Portal name.")
        parser.add_argument("--invoices", type=int, default=200_000)
        parser.add_argument("--quotes", type=int, default=50_000)
        parser.add_argument("--sales-orders", type=int, default=20_000)
        parser.add_argument("--time-entries", type=int, default=100_000)
        parser.add_argument("--seed", default="bench")
        parser.add_argument("--force", action="store_true", help="Run even though DEBUG is off.")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "bench_generate_sales fills the database with made-up documents, so it only "
                "runs with DEBUG on; pass --force to run it anyway."
            )
        counts = [options[name] for name in ("invoices", "quotes", "sales_orders", "time_entries")]
        if any(count < 0 for count in counts):
            raise CommandError("Counts cannot be negative.")
        organization = Organization.objects.filter(portal_name=options["organization"]).first()
        if organization is None:
            raise CommandError(f"No organisation with portal name {options['organization']!r}.")
        started = time.perf_counter()

        def progress(label, done):
            if options["verbosity"] >= 2:
                self.stdout.write(f"  {done:,} {label}, {time.perf_counter() - started:.1f} s")

        made = sales_generate(
            organization=organization,
            invoices=counts[0],
            quotes=counts[1],
            orders=counts[2],
            time_entries=counts[3],
            seed=options["seed"],
            progress=progress,
        )
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{count:,} {label}" for label, count in made.items())
        self.stdout.write(f"Created {summary} in {elapsed:.1f} s.")
