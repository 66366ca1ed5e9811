"""What a customer sees in their language: the invitation e-mail, an invoice
PDF and the portal's home, in Japanese, German and Brazilian Portuguese —
translated labels and money in the reader's locale; the business's own texts
stay as written."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.mail.models import OutboundEmail
from portico.portal_access.services import portal_access_invite
from portico.portal_access.tests.factories import PortalAccessFactory
from portico.sales.models import InvoiceLine, InvoiceStatus
from portico.sales.pdf import document_pdf
from portico.sales.services.common import LineData, prepare_lines, replace_lines
from portico.sales.tests.factories import InvoiceFactory

pytestmark = pytest.mark.django_db

# language → (currency, 1,200 of it as that language writes it)
MONEY = {
    "ja": ("JPY", "¥1,200"),
    "de": ("EUR", "1.200,00\xa0€"),
    "pt-br": ("BRL", "R$\xa01.200,00"),
}
LANGUAGES = list(MONEY)


def translated(language: str, message: str) -> str:
    with translation.override(language):
        text = gettext(message)
    assert text != message, f"{message!r} is not translated into {language}"
    return text


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def _invoice(customer, currency: str):
    invoice = InvoiceFactory(
        customer=customer,
        currency=currency,
        number="INV-00077",
        date=date(2026, 3, 1),
        due_date=date(2026, 3, 31),
        status=InvoiceStatus.SENT,
        notes="Danke für Ihren Auftrag — our own words stay as written.",
    )
    prepared = prepare_lines(
        organization=invoice.organization,
        lines=[
            LineData(
                description="Widget Mk II",
                quantity=Decimal("1"),
                rate=Decimal("1200"),
                discount_percent=Decimal("0"),
                tax_id=None,
                item_id=None,
            )
        ],
    )
    replace_lines(document=invoice, line_model=InvoiceLine, lines=prepared)
    invoice.balance_due = invoice.total
    invoice.save()
    return invoice


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_invitation_e_mail_is_written_in_the_customers_portal_language(language):
    customer = CustomerFactory(portal_language=language)
    contact = ContactPersonFactory(customer=customer, is_primary=True)

    portal_access_invite(contact=contact, actor=None)

    email = OutboundEmail.objects.get(kind="portal_access.invitation", to_email=contact.email)
    button = translated(language, "Accept invitation")
    assert button in email.body_html
    if language == "ja":
        assert "招待を承認する" in email.body_html
    assert f'<html lang="{language}">' in email.body_html
    assert translated(language, "Your username") in email.body_text
    assert "Accept invitation" not in email.body_html + email.body_text
    # The username (the contact's e-mail) and the portal's address are in it.
    assert contact.email in email.body_text
    assert f"/portal/{customer.organization.portal_name}/" in email.body_text


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_invoice_pdf_has_its_labels_in_the_language_and_money_in_its_locale(language):
    currency, amount = MONEY[language]
    invoice = _invoice(CustomerFactory(currency=currency, portal_language=language), currency)

    text = _pdf_text(document_pdf(document=invoice, language=language))

    for label in ("Invoice", "Balance due", "Due date"):
        assert translated(language, label) in text, label
    assert amount.replace("\xa0", " ") in text.replace("\xa0", " ")
    # The business's own texts are not translated.
    assert "Widget Mk II" in text
    assert "our own words stay as written" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_portal_home_speaks_the_customers_language(client, language):
    currency, amount = MONEY[language]
    access = PortalAccessFactory(
        active=True,
        contact__customer__portal_language=language,
        contact__customer__currency=currency,
    )
    _invoice(access.customer, currency)
    client.force_login(access.user)

    response = client.get(
        reverse("portal:home", kwargs={"portal_name": access.organization.portal_name})
    )

    page = response.content.decode()
    assert f'lang="{language}"' in page
    assert translated(language, "Home") in page
    assert translated(language, "Invoices") in page
    assert amount.replace("\xa0", "&nbsp;") in page or amount in page
