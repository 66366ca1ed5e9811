"""The demo organisation's sales history (``manage.py seed_demo``).

Everything goes through the real services, so the demo's numbers, totals,
balances and history are what staff would get by clicking. Acme (the demo
portal contact's customer) gets a bit of everything: sent and expired
quotes, an order in progress, unpaid, overdue, partly paid and paid
invoices, a credit note, payments and a project with time entries.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from portico.accounts.models import Organization, User
from portico.catalog.services import item_create, tax_create
from portico.customers.models import Customer
from portico.payments.models import PaymentMode
from portico.payments.services import payment_record
from portico.projects.services import (
    ProjectData,
    TimeEntryData,
    project_create,
    project_invoice_unbilled,
    time_entries_set_approved,
    time_entry_create,
)
from portico.sales.models import Quote
from portico.sales.services.common import DocumentData, LineData
from portico.sales.services.credit_notes import (
    CreditNoteData,
    credit_note_apply,
    credit_note_create,
    credit_note_open,
)
from portico.sales.services.invoices import InvoiceData, invoice_create, invoice_mark_sent
from portico.sales.services.orders import sales_order_confirm, sales_order_set_fulfilment
from portico.sales.services.quotes import (
    quote_convert_to_invoice,
    quote_convert_to_sales_order,
    quote_create,
    quote_mark_accepted,
    quote_mark_sent,
)

TERMS = (
    "Payment by bank transfer within the payment terms. Goods remain our property until "
    "paid in full."
)


ITEM_TAX = object()  # a line taxed as its item is by default


def _line(item, quantity, *, rate=None, discount="0", tax=ITEM_TAX, description=""):
    if tax is ITEM_TAX:
        tax = item.tax if item else None
    return LineData(
        item_id=item.pk if item else None,
        description=description,
        quantity=Decimal(quantity),
        rate=Decimal(rate) if rate is not None else item.rate,
        discount_percent=Decimal(discount),
        tax_id=tax.pk if tax else None,
    )


def seed_sales(*, organization: Organization, owner: User, colleague: User) -> None:
    rng = random.Random(1126)
    today = timezone.localdate()

    def days_ago(days: int):
        return today - timedelta(days=days)

    sales_tax = tax_create(organization=organization, name="Sales tax", rate=Decimal("8.5"))
    vat_de = tax_create(organization=organization, name="MwSt.", rate=Decimal("19"))
    vat_uk = tax_create(organization=organization, name="VAT", rate=Decimal("20"))
    jct = tax_create(organization=organization, name="消費税", rate=Decimal("10"))
    items = {
        "consulting": item_create(
            organization=organization,
            name="Consulting",
            sku="SRV-CONS",
            unit="h",
            rate=Decimal("150"),
            tax=sales_tax,
            description="Consulting by a senior engineer, per hour",
        ),
        "implementation": item_create(
            organization=organization,
            name="Implementation day",
            sku="SRV-IMPL",
            unit="day",
            rate=Decimal("1100"),
            tax=sales_tax,
        ),
        "support": item_create(
            organization=organization,
            name="Support plan",
            sku="SUP-MONTH",
            unit="month",
            rate=Decimal("450"),
            tax=sales_tax,
            description="Priority support, one month",
        ),
        "kit": item_create(
            organization=organization,
            name="Sensor kit",
            sku="HW-KIT-01",
            unit="pcs",
            rate=Decimal("249.90"),
            tax=sales_tax,
        ),
        "training": item_create(
            organization=organization,
            name="Training workshop",
            sku="SRV-TRAIN",
            unit="day",
            rate=Decimal("1800"),
            tax=sales_tax,
        ),
        "licence": item_create(
            organization=organization,
            name="Dashboard licence",
            sku="LIC-SEAT",
            unit="seat",
            rate=Decimal("39"),
            tax=sales_tax,
        ),
    }
    customers = {c.display_name: c for c in Customer.objects.filter(organization=organization)}
    acme = customers["Acme Corporation"]
    acme.payment_terms = 30
    acme.save(update_fields=["payment_terms"])
    acme_contacts = [c.pk for c in acme.contacts.all() if c.email][:1]

    def quote(customer, lines, *, days, expiry_days=30, reference="", contacts=()):
        return quote_create(
            organization=organization,
            data=DocumentData(
                customer_id=customer.pk,
                date=days_ago(days),
                lines=lines,
                reference=reference,
                notes="Thank you for the opportunity. We look forward to working with you.",
                terms=TERMS,
                contact_ids=list(contacts),
            ),
            expiry_date=days_ago(days) + timedelta(days=expiry_days),
            actor=owner,
        )

    def invoice(customer, lines, *, days, reference="", contacts=(), send=True):
        created = invoice_create(
            organization=organization,
            data=InvoiceData(
                customer_id=customer.pk,
                date=days_ago(days),
                lines=lines,
                reference=reference,
                notes="Thank you for your business.",
                terms=TERMS,
                contact_ids=list(contacts),
            ),
            actor=owner,
        )
        return invoice_mark_sent(invoice=created, actor=owner) if send else created

    def pay(customer, target, amount, *, days, mode=PaymentMode.BANK_TRANSFER):
        return payment_record(
            organization=organization,
            customer_id=customer.pk,
            amount=Decimal(amount),
            date=days_ago(days),
            mode=mode,
            reference=f"TX-{rng.randint(100000, 999999)}",
            allocations=[(target.pk, Decimal(amount))],
            actor=colleague,
        )

    # --- Acme: a living account -----------------------------------------------------
    sent = quote(
        acme,
        [
            _line(items["implementation"], "4"),
            _line(items["kit"], "12", discount="5"),
            _line(items["training"], "1"),
        ],
        days=5,
        reference="Warehouse automation, phase 2",
        contacts=acme_contacts,
    )
    quote_mark_sent(quote=sent, actor=owner)
    expired = quote(
        acme,
        [_line(items["support"], "12", discount="10")],
        days=50,
        expiry_days=51,
        reference="Annual support renewal",
        contacts=acme_contacts,
    )
    quote_mark_sent(quote=expired, actor=owner)
    # Sent while still valid; a demo cannot wait for it to expire, so time passes here.
    Quote.objects.filter(pk=expired.pk).update(expiry_date=days_ago(20))
    ordered = quote(
        acme,
        [_line(items["kit"], "40"), _line(items["licence"], "25")],
        days=25,
        reference="Sensor rollout, Springfield plant",
        contacts=acme_contacts,
    )
    quote_mark_sent(quote=ordered, actor=owner)
    quote_mark_accepted(quote=ordered, actor=owner)
    order = quote_convert_to_sales_order(quote=ordered, actor=owner)
    sales_order_confirm(order=order, actor=owner)
    sales_order_set_fulfilment(
        order=order,
        fulfilment_status="partially_shipped",
        shipment_date=today,
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        actor=colleague,
    )
    quote(acme, [_line(items["consulting"], "16")], days=1, reference="Integration audit")

    invoice(
        acme,
        [_line(items["support"], "1"), _line(items["licence"], "25")],
        days=10,
        reference="Support, this month",
        contacts=acme_contacts,
    )
    overdue = invoice(
        acme,
        [_line(items["consulting"], "24"), _line(items["kit"], "6")],
        days=60,
        reference="Pilot installation",
        contacts=acme_contacts,
    )
    partly = invoice(
        acme,
        [_line(items["implementation"], "3"), _line(items["training"], "1")],
        days=20,
        reference="Phase 1 go-live",
        contacts=acme_contacts,
    )
    pay(acme, partly, (partly.total * Decimal("0.4")).quantize(Decimal("0.01")), days=8)
    paid = invoice(
        acme,
        [_line(items["kit"], "20"), _line(items["consulting"], "8")],
        days=95,
        reference="Proof of concept",
        contacts=acme_contacts,
    )
    pay(acme, paid, paid.total, days=70, mode=PaymentMode.CARD)
    credit = credit_note_create(
        organization=organization,
        data=CreditNoteData(
            customer_id=acme.pk,
            date=days_ago(6),
            invoice_id=overdue.pk,
            reason="Two sensor kits arrived damaged",
            lines=[_line(items["kit"], "2", description="Sensor kit (damaged in transit)")],
        ),
        actor=owner,
    )
    credit_note_open(credit_note=credit, actor=owner)
    credit_note_apply(
        credit_note=credit, applications=[(overdue.pk, Decimal("300.00"))], actor=owner
    )
    _project(
        organization=organization,
        customer=acme,
        owner=owner,
        colleague=colleague,
        today=today,
        rng=rng,
    )
    invoice(
        acme, [_line(items["support"], "1")], days=0, send=False, reference="Support, next month"
    )

    # --- other customers: a little each --------------------------------------------
    globex = customers["Globex GmbH"]
    globex_quote = quote(
        globex,
        [
            _line(items["consulting"], "10", rate="140", tax=vat_de),
            _line(items["training"], "2", rate="1650", tax=vat_de),
        ],
        days=12,
        reference="Schulung Vertriebsteam",
    )
    quote_mark_sent(quote=globex_quote, actor=owner)
    globex_paid = invoice(
        globex,
        [_line(items["support"], "3", rate="420", tax=vat_de)],
        days=40,
        reference="Support Q3",
    )
    pay(globex, globex_paid, globex_paid.total, days=15)

    initech = customers["Initech Ltd"]
    invoice(
        initech,
        [_line(items["consulting"], "35", rate="120", tax=vat_uk)],
        days=75,
        reference="TPS report automation",
    )

    umbrella = customers["Umbrella Japan K.K."]
    umbrella_quote = quote(
        umbrella,
        [
            _line(None, "1", rate="480000", tax=jct, description="倉庫管理システム導入支援"),
            _line(None, "5", rate="19800", tax=jct, description="センサーキット"),
        ],
        days=9,
        reference="東京倉庫プロジェクト",
    )
    quote_mark_sent(quote=umbrella_quote, actor=owner)
    quote_mark_accepted(quote=umbrella_quote, actor=owner)
    umbrella_invoice = quote_convert_to_invoice(quote=umbrella_quote, actor=owner)
    invoice_mark_sent(invoice=umbrella_invoice, actor=owner)

    stark = customers["Stark Industrias"]
    stark_invoice = invoice(
        stark,
        [_line(items["implementation"], "5", rate="990", tax=None)],
        days=18,
        reference="Implantación Madrid",
    )
    pay(stark, stark_invoice, "2000", days=4)

    nordvik = customers["Nordvik AB"]
    nordvik_quote = quote(nordvik, [_line(items["licence"], "50", rate="420", tax=None)], days=3)
    quote_mark_sent(quote=nordvik_quote, actor=owner)

    soylent = customers["Soylent S.A."]
    soylent_quote = quote(
        soylent,
        [_line(items["kit"], "30", rate="229", tax=None)],
        days=14,
        reference="Capteurs entrepôt Lyon",
    )
    quote_mark_sent(quote=soylent_quote, actor=owner)
    quote_mark_accepted(quote=soylent_quote, actor=owner)
    sales_order_confirm(
        order=quote_convert_to_sales_order(quote=soylent_quote, actor=owner), actor=owner
    )


def _project(*, organization, customer, owner, colleague, today, rng) -> None:
    project = project_create(
        organization=organization,
        data=ProjectData(
            customer_id=customer.pk,
            name="Warehouse automation",
            code="ACME-WA",
            hourly_rate=Decimal("150"),
            description="Sensors, dashboards and integration for the Springfield warehouse.",
        ),
    )
    tasks = [
        "Site survey",
        "Sensor installation",
        "Dashboard setup",
        "ERP integration",
        "Training",
        "Project meetings",
    ]
    entries = []
    for offset in range(42, 0, -2):
        day = today - timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        entries.append(
            time_entry_create(
                project=project,
                data=TimeEntryData(
                    date=day,
                    user_id=rng.choice([owner.pk, colleague.pk]),
                    task=rng.choice(tasks),
                    hours=Decimal(rng.choice(["2", "3.5", "4", "6", "7.5"])),
                    notes="",
                    billable=rng.random() < 0.85,
                ),
            )
        )
    older = [entry.pk for entry in entries[: len(entries) // 2]]
    time_entries_set_approved(project=project, entry_ids=older, approved=True)
    billed = project_invoice_unbilled(project=project, actor=owner, approved_only=True)
    invoice_mark_sent(invoice=billed, actor=owner)
    # The last week's time waits for the customer's approval in the portal.
    recent = [entry.pk for entry in entries[len(entries) // 2 : -3]]
    time_entries_set_approved(project=project, entry_ids=recent, approved=True)
