"""Isolation: every portal URL that names an object answers 404 for another
customer's object and for another organisation's, whatever the method.

The URL patterns are read from the resolver, so a page added later is
covered without editing this file; a new pattern whose object kind this test
does not know fails it (add the kind to ``OBJECT_KINDS``).
"""

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portico.accounts.tests.factories import OrganizationFactory
from portico.comments.models import Comment, CommentAttachment
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.payments.tests.factories import PaymentAllocationFactory
from portico.projects.tests.factories import ProjectFactory, TimeEntryFactory
from portico.sales.models import (
    CreditNoteStatus,
    InvoiceStatus,
    QuoteDecision,
    QuoteDecisionKind,
    QuoteStatus,
    SalesOrderStatus,
)
from portico.sales.tests.factories import (
    CreditNoteFactory,
    InvoiceFactory,
    QuoteFactory,
    SalesOrderFactory,
)

# Patterns whose parameters are not a portal object of a customer: tokens of
# e-mailed links, each tested where it belongs (test_accept, test_auth, test_signup).
NOT_OBJECT_PATTERNS = {"accept", "password_reset_confirm", "signup_verify"}


def _accepted_quote(customer):
    quote = QuoteFactory(customer=customer, status=QuoteStatus.ACCEPTED)
    QuoteDecision.objects.create(
        organization=quote.organization,
        quote=quote,
        kind=QuoteDecisionKind.ACCEPTED,
        revision_number=quote.revision,
        content_hash="0" * 64,
        signer_name="Someone Else",
    )
    return quote


def _payment(customer):
    return PaymentAllocationFactory(
        payment__customer=customer, payment__amount=Decimal("40.00")
    ).payment


def _project(customer):
    project = ProjectFactory(customer=customer)
    TimeEntryFactory(project=project)
    return project


def _attachment(customer):
    invoice = InvoiceFactory(customer=customer, status=InvoiceStatus.SENT)
    comment = Comment.objects.create(
        organization=customer.organization,
        customer=customer,
        document=invoice,
        from_customer=True,
        author_name="Someone Else",
        body="See the attached file.",
    )
    attachment = CommentAttachment(
        organization=customer.organization,
        comment=comment,
        storage_key="isolation-test.pdf",
        original_name="secret.pdf",
        content_type="application/pdf",
        size=8,
    )
    attachment.file.save("isolation-test.pdf", ContentFile(b"%PDF-1.4"), save=True)
    return attachment


def _test_gateway_checkout(customer):
    from datetime import timedelta

    from django.utils import timezone

    from portico.online_payments.models import Checkout, CheckoutInvoice, Provider

    invoice = InvoiceFactory(customer=customer, status=InvoiceStatus.SENT)
    checkout = Checkout.objects.create(
        organization=customer.organization,
        customer=customer,
        contact=ContactPersonFactory(customer=customer),
        provider=Provider.TEST,
        currency=invoice.currency,
        amount=invoice.balance_due,
        amount_minor=int(invoice.balance_due * 100),
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    CheckoutInvoice.objects.create(
        organization=customer.organization,
        checkout=checkout,
        invoice=invoice,
        amount=invoice.balance_due,
    )
    return checkout


# URL name prefix → how to make a visible object of that kind for a customer.
OBJECT_KINDS = {
    "quote_certificate": _accepted_quote,
    "quote_": lambda customer: QuoteFactory(customer=customer, status=QuoteStatus.SENT),
    "sales_order_": lambda customer: SalesOrderFactory(
        customer=customer, status=SalesOrderStatus.CONFIRMED
    ),
    "invoice_": lambda customer: InvoiceFactory(customer=customer, status=InvoiceStatus.SENT),
    "payment_": _payment,
    "credit_note_": lambda customer: CreditNoteFactory(
        customer=customer, status=CreditNoteStatus.OPEN
    ),
    "project_": _project,
    "comment_attachment": _attachment,
    "contact_edit": lambda customer: ContactPersonFactory(customer=customer),
    "test_gateway_card": _test_gateway_checkout,
    # The status and cancel pages of a Pay now (portal:checkout_status, checkout_cancel).
    "checkout_": _test_gateway_checkout,
}


def _portal_patterns() -> list[URLPattern]:
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "portal":
            return [pattern for pattern in entry.url_patterns if isinstance(pattern, URLPattern)]
    raise AssertionError("The portal's URLconf is not included")


def _object_patterns() -> list[URLPattern]:
    return [
        pattern
        for pattern in _portal_patterns()
        if pattern.pattern.converters and pattern.name not in NOT_OBJECT_PATTERNS
    ]


def _maker(name: str):
    for prefix, maker in OBJECT_KINDS.items():
        if name == prefix or (prefix.endswith("_") and name.startswith(prefix)):
            return maker
    return None


def test_every_object_pattern_has_a_known_kind_and_only_a_pk():
    patterns = _object_patterns()

    assert len(patterns) >= 20
    for pattern in patterns:
        assert set(pattern.pattern.converters) == {"pk"}, pattern.name
        assert _maker(pattern.name) is not None, f"add {pattern.name!r} to OBJECT_KINDS"


@pytest.fixture
def media_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.mark.parametrize("owner", ["other_customer", "other_organization"])
@pytest.mark.parametrize("name", [pattern.name for pattern in _object_patterns()])
def test_another_customers_object_is_not_found(
    portal_client, portal_access, media_root, name, owner
):
    if owner == "other_customer":
        customer = CustomerFactory(organization=portal_access.organization)
    else:
        customer = CustomerFactory(organization=OrganizationFactory())
    foreign = _maker(name)(customer)
    url = reverse(
        f"portal:{name}",
        kwargs={"portal_name": portal_access.organization.portal_name, "pk": foreign.pk},
    )

    answers = {
        method: getattr(portal_client, method)(url).status_code for method in ("get", "post")
    }

    # A view for one method may answer the other with 405: that names nothing.
    assert set(answers.values()) <= {404, 405}, answers
    assert 404 in answers.values(), answers


# Pages a contact opens with GET: the contact's own object answers 200, so the
# 404s above come from the scoping and not from a page that always fails.
OWN_OBJECT_PAGES = [
    pattern.name
    for pattern in _object_patterns()
    if pattern.name.endswith(("_detail", "_pdf", "_certificate", "contact_edit"))
    or pattern.name == "comment_attachment"
]


@pytest.mark.parametrize("name", OWN_OBJECT_PAGES)
def test_the_contacts_own_object_opens(portal_client, portal_access, media_root, name):
    own = _maker(name)(portal_access.customer)
    url = reverse(
        f"portal:{name}",
        kwargs={"portal_name": portal_access.organization.portal_name, "pk": own.pk},
    )

    response = portal_client.get(url)

    assert response.status_code == 200, (name, response.status_code)
