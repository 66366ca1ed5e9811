"""Back office: the thread on each document's page, replying, downloading files."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from portico.accounts.tests.factories import MembershipFactory
from portico.comments import services
from portico.comments.models import Comment
from portico.comments.selectors import staff_thread_context
from portico.comments.tests.conftest import PDF, PNG, upload
from portico.customers.tests.factories import CustomerFactory
from portico.mail.models import OutboundEmail
from portico.projects.tests.factories import ProjectFactory
from portico.sales.models import InvoiceStatus, QuoteStatus, SalesOrderStatus
from portico.sales.tests.factories import InvoiceFactory, QuoteFactory, SalesOrderFactory

SCRIPT = "<script>alert(1)</script>"


def _post_url(kind, document):
    return reverse("comments:post", kwargs={"kind": kind, "pk": document.pk})


def test_staff_reply_from_the_invoice_page(staff_client, access, invoice):
    response = staff_client.post(_post_url("invoice", invoice), {"body": "We are on it"})

    assert response.status_code == 302
    assert response["Location"] == reverse("invoices:detail", kwargs={"pk": invoice.pk}) + (
        "#comments"
    )
    comment = Comment.objects.get()
    assert not comment.internal and not comment.from_customer
    assert OutboundEmail.objects.filter(
        kind="comments.staff_reply", to_email=access.contact.email
    ).exists()


def test_staff_internal_note(staff_client, access, invoice):
    response = staff_client.post(
        _post_url("invoice", invoice),
        {"body": "Check the bank first", "internal": "on"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Internal note added." in html
    assert "Internal</span>" in html
    assert Comment.objects.get().internal
    assert not OutboundEmail.objects.exists()


def test_staff_reply_with_a_file_and_download_it(staff_client, invoice):
    staff_client.post(
        _post_url("invoice", invoice),
        {"body": "Corrected copy", "files": [upload("corrected.pdf", PDF)]},
    )
    attachment = Comment.objects.get().attachments.get()

    response = staff_client.get(reverse("comments:attachment", kwargs={"pk": attachment.pk}))

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="corrected.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_a_bad_reply_shows_its_error(staff_client, invoice):
    response = staff_client.post(
        _post_url("invoice", invoice),
        {"body": "See file", "files": [upload("x.png", b"GIF? no, html")]},
        headers={"HX-Request": "true"},
    )

    assert "x.png is not a PDF or an image" in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("quote", lambda customer: QuoteFactory(customer=customer)),
        ("sales_order", lambda customer: SalesOrderFactory(customer=customer)),
        ("invoice", lambda customer: InvoiceFactory(customer=customer)),
        ("project", lambda customer: ProjectFactory(customer=customer)),
    ],
)
def test_another_organisations_document_is_404(staff_client, kind, make):
    document = make(CustomerFactory())

    response = staff_client.post(_post_url(kind, document), {"body": "Hi"})

    assert response.status_code == 404
    assert not Comment.objects.exists()


def test_an_unknown_kind_is_404(staff_client, invoice):
    url = reverse("comments:post", kwargs={"kind": "credit_note", "pk": invoice.pk})

    assert staff_client.post(url, {"body": "Hi"}).status_code == 404


def test_another_organisations_attachment_is_404(staff_client):
    other = MembershipFactory()
    invoice = InvoiceFactory(customer=CustomerFactory(organization=other.organization))
    comment = services.comment_add_by_staff(
        organization=other.organization,
        user=other.user,
        document=invoice,
        body="Theirs",
        internal=False,
        files=[upload("theirs.pdf", PDF)],
    )
    url = reverse("comments:attachment", kwargs={"pk": comment.attachments.get().pk})

    assert staff_client.get(url).status_code == 404


def test_a_portal_contact_cannot_post_on_the_staff_side(client, access, invoice):
    client.force_login(access.user)

    response = client.post(_post_url("invoice", invoice), {"body": "Hi"})

    assert response.status_code == 403
    assert not Comment.objects.exists()


# -- the thread on the staff pages ---------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "kwarg", "make"),
    [
        ("quotes:detail", "pk", lambda c: QuoteFactory(customer=c, status=QuoteStatus.SENT)),
        (
            "sales_orders:detail",
            "pk",
            lambda c: SalesOrderFactory(customer=c, status=SalesOrderStatus.CONFIRMED),
        ),
        ("invoices:detail", "pk", lambda c: InvoiceFactory(customer=c, status=InvoiceStatus.SENT)),
        ("projects:detail", "project_id", lambda c: ProjectFactory(customer=c)),
    ],
)
def test_each_staff_page_shows_the_thread_escaped(
    staff_client, access, owner, url_name, kwarg, make
):
    document = make(access.customer)
    services.comment_add_by_contact(access=access, document=document, body=f"Hi {SCRIPT}")
    services.comment_add_by_staff(
        organization=owner.organization,
        user=owner.user,
        document=document,
        body="Only for us",
        internal=True,
    )

    response = staff_client.get(reverse(url_name, kwargs={kwarg: document.pk}))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="comments"' in html
    assert "comment-customer" in html  # the customer's comment is highlighted
    assert "comment-internal" in html
    assert "Only for us" in html
    assert SCRIPT not in html
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Internal note: not shown to the customer" in html
    assert 'action="/app/comments/' in html


def test_the_staff_thread_takes_the_same_queries_for_2_and_40_comments(
    access, owner, invoice, django_assert_num_queries
):
    request = RequestFactory().get("/")
    request.organization = owner.organization

    def add(count):
        for number in range(count):
            services.comment_add_by_staff(
                organization=owner.organization,
                user=owner.user,
                document=invoice,
                body=f"Note {number}",
                internal=number % 2 == 0,
                files=[upload(f"{number}.png", PNG)],
            )

    add(2)
    staff_thread_context(request, invoice)  # warms the content type cache
    with django_assert_num_queries(2):  # comments, their attachments
        assert len(staff_thread_context(request, invoice)["comment_thread"]) == 2
    add(38)
    with django_assert_num_queries(2):
        assert len(staff_thread_context(request, invoice)["comment_thread"]) == 40
