"""Portal comment threads: posting (htmx and plain), escaping, scoping, downloads."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from portico.accounts.models import Role
from portico.accounts.tests.factories import MembershipFactory
from portico.comments import services
from portico.comments.models import Comment
from portico.customers.tests.factories import CustomerFactory
from portico.portal.views_comments import comments_context
from portico.portal_access.models import PortalModule
from portico.projects.tests.factories import ProjectFactory
from portico.sales.models import InvoiceStatus, QuoteStatus, SalesOrderStatus
from portico.sales.tests.factories import InvoiceFactory, QuoteFactory, SalesOrderFactory

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }


@pytest.fixture
def invoice(portal_access):
    return InvoiceFactory(customer=portal_access.customer, status=InvoiceStatus.SENT)


@pytest.fixture
def owner(portal_access):
    return MembershipFactory(organization=portal_access.organization, role=Role.OWNER)


def _staff_comment(owner, document, *, body="Our answer", internal=False, files=()):
    return services.comment_add_by_staff(
        organization=owner.organization,
        user=owner.user,
        document=document,
        body=body,
        internal=internal,
        files=files,
    )


def _contact_comment(access, document, *, body="My question", files=()):
    return services.comment_add_by_contact(access=access, document=document, body=body, files=files)


# -- posting --------------------------------------------------------------------------


def test_a_plain_post_adds_the_comment_and_returns_to_the_thread(
    portal_client, portal_access, portal_reverse, invoice
):
    url = portal_reverse(portal_access.organization, "portal:invoice_comment", pk=invoice.pk)

    response = portal_client.post(
        url, {"body": "Please send it again", "files": [SimpleUploadedFile("po.pdf", PDF)]}
    )

    detail = portal_reverse(portal_access.organization, "portal:invoice_detail", pk=invoice.pk)
    assert response.status_code == 302
    assert response["Location"] == f"{detail}#comments"
    comment = Comment.objects.get()
    assert comment.body == "Please send it again"
    assert comment.from_customer
    assert comment.attachments.get().original_name == "po.pdf"


def test_an_htmx_post_answers_with_the_thread(
    portal_client, portal_access, portal_reverse, invoice
):
    url = portal_reverse(portal_access.organization, "portal:invoice_comment", pk=invoice.pk)

    response = portal_client.post(url, {"body": "Via htmx"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<section")
    assert 'id="comments"' in html
    assert "Via htmx" in html
    assert "Your comment was posted." in html


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("quote", lambda c: QuoteFactory(customer=c, status=QuoteStatus.SENT)),
        ("sales_order", lambda c: SalesOrderFactory(customer=c, status=SalesOrderStatus.CONFIRMED)),
        ("project", lambda c: ProjectFactory(customer=c)),
    ],
)
def test_every_kind_of_document_takes_comments(
    portal_client, portal_access, portal_reverse, name, make
):
    document = make(portal_access.customer)
    url = portal_reverse(portal_access.organization, f"portal:{name}_comment", pk=document.pk)

    response = portal_client.post(url, {"body": "Hello"})

    assert response.status_code == 302
    assert Comment.objects.get().document == document


def test_an_empty_comment_shows_the_error_in_the_form(
    portal_client, portal_access, portal_reverse, invoice
):
    url = portal_reverse(portal_access.organization, "portal:invoice_comment", pk=invoice.pk)

    response = portal_client.post(url, {"body": " "}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "Write a comment." in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Comment.objects.exists()


def test_a_bad_file_is_refused_with_a_message_and_the_text_is_kept(
    portal_client, portal_access, portal_reverse, invoice
):
    url = portal_reverse(portal_access.organization, "portal:invoice_comment", pk=invoice.pk)
    fake = SimpleUploadedFile("invoice.pdf", b"<html>not a pdf</html>", "application/pdf")

    response = portal_client.post(
        url, {"body": "Keep me", "files": [fake]}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert "invoice.pdf is not a PDF or an image" in html
    assert "Keep me" in html
    assert not Comment.objects.exists()


def test_a_plain_post_with_an_error_redirects_with_the_message(
    portal_client, portal_access, portal_reverse, invoice
):
    url = portal_reverse(portal_access.organization, "portal:invoice_comment", pk=invoice.pk)

    response = portal_client.post(url, {"body": "x" * 5001}, follow=False)

    assert response.status_code == 302
    messages = [str(message) for message in response.wsgi_request._messages]
    assert any("5000" in message or "5,000" in message for message in messages)


def test_posting_too_fast_is_refused_with_a_message(
    portal_client, portal_access, portal_reverse, invoice
):
    url = portal_reverse(portal_access.organization, "portal:invoice_comment", pk=invoice.pk)
    for number in range(services.RATE_LIMIT_COUNT):
        portal_client.post(url, {"body": f"Comment {number}"})

    response = portal_client.post(url, {"body": "Again"}, headers={"HX-Request": "true"})

    assert "You are posting too fast" in response.content.decode()
    assert Comment.objects.count() == services.RATE_LIMIT_COUNT


def test_a_get_is_not_allowed(portal_client, portal_access, portal_reverse, invoice):
    url = portal_reverse(portal_access.organization, "portal:invoice_comment", pk=invoice.pk)

    assert portal_client.get(url).status_code == 405


# -- scope ----------------------------------------------------------------------------


def test_another_customers_document_is_404(portal_client, portal_access, portal_reverse):
    other = CustomerFactory(organization=portal_access.organization)
    invoice = InvoiceFactory(customer=other, status=InvoiceStatus.SENT)
    url = portal_reverse(portal_access.organization, "portal:invoice_comment", pk=invoice.pk)

    response = portal_client.post(url, {"body": "Sneaky"})

    assert response.status_code == 404
    assert not Comment.objects.exists()


def test_a_draft_is_404(portal_client, portal_access, portal_reverse):
    quote = QuoteFactory(customer=portal_access.customer, status=QuoteStatus.DRAFT)
    url = portal_reverse(portal_access.organization, "portal:quote_comment", pk=quote.pk)

    assert portal_client.post(url, {"body": "Hi"}).status_code == 404


def test_a_hidden_module_is_404(portal_client, portal_access, portal_reverse, invoice):
    portal_access.modules = [PortalModule.QUOTES]
    portal_access.save()
    url = portal_reverse(portal_access.organization, "portal:invoice_comment", pk=invoice.pk)

    assert portal_client.post(url, {"body": "Hi"}).status_code == 404
    assert not Comment.objects.exists()


# -- the thread -----------------------------------------------------------------------


def _context(portal_access, document):
    request = RequestFactory().get("/")
    request.organization = portal_access.organization
    request.portal_access = portal_access
    return comments_context(request=request, document=document)


def test_the_thread_never_shows_internal_notes(portal_access, owner, invoice):
    own = _contact_comment(portal_access, invoice)
    _staff_comment(owner, invoice, body="Internal: chase them", internal=True)
    reply = _staff_comment(owner, invoice)

    context = _context(portal_access, invoice)

    assert context["comment_thread"] == [own, reply]
    assert context["comment_post_url"].endswith(f"/invoices/{invoice.pk}/comments/")


def test_the_thread_is_escaped(portal_client, portal_access, portal_reverse, invoice, owner):
    url = portal_reverse(portal_access.organization, "portal:invoice_comment", pk=invoice.pk)
    _staff_comment(owner, invoice, body=f"Staff {SCRIPT}")

    response = portal_client.post(url, {"body": SCRIPT}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Staff &lt;script&gt;" in html


def test_the_thread_takes_the_same_queries_for_2_and_40_comments(
    portal_access, owner, invoice, django_assert_num_queries
):
    def add(count):
        for number in range(count):
            services.comment_add_by_staff(
                organization=owner.organization,
                user=owner.user,
                document=invoice,
                body=f"Reply {number}",
                internal=False,
                files=[SimpleUploadedFile(f"{number}.png", PNG)],
            )

    add(2)
    _context(portal_access, invoice)  # warms the content type cache
    with django_assert_num_queries(2):  # comments, their attachments
        assert len(_context(portal_access, invoice)["comment_thread"]) == 2
    add(38)
    with django_assert_num_queries(2):
        assert len(_context(portal_access, invoice)["comment_thread"]) == 40


# -- attachments ----------------------------------------------------------------------


def test_the_contact_downloads_an_attachment_under_its_name(
    portal_client, portal_access, portal_reverse, invoice, owner
):
    comment = _staff_comment(owner, invoice, files=[SimpleUploadedFile("fixed.pdf", PDF)])
    attachment = comment.attachments.get()
    url = portal_reverse(portal_access.organization, "portal:comment_attachment", pk=attachment.pk)

    response = portal_client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="fixed.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_an_image_may_open_inline_a_pdf_never(
    portal_client, portal_access, portal_reverse, invoice, owner
):
    comment = _staff_comment(
        owner,
        invoice,
        files=[SimpleUploadedFile("a.png", PNG), SimpleUploadedFile("b.pdf", PDF)],
    )
    image, pdf = comment.attachments.all()

    def disposition(attachment):
        url = portal_reverse(
            portal_access.organization, "portal:comment_attachment", pk=attachment.pk
        )
        return portal_client.get(f"{url}?inline=1")["Content-Disposition"]

    assert disposition(image).startswith("inline")
    assert disposition(pdf).startswith("attachment")


def test_an_internal_notes_attachment_is_404(
    portal_client, portal_access, portal_reverse, invoice, owner
):
    note = _staff_comment(
        owner, invoice, internal=True, files=[SimpleUploadedFile("secret.pdf", PDF)]
    )
    url = portal_reverse(
        portal_access.organization, "portal:comment_attachment", pk=note.attachments.get().pk
    )

    assert portal_client.get(url).status_code == 404


def test_another_customers_attachment_is_404(portal_client, portal_access, portal_reverse, owner):
    other = CustomerFactory(organization=portal_access.organization)
    invoice = InvoiceFactory(customer=other, status=InvoiceStatus.SENT)
    comment = _staff_comment(owner, invoice, files=[SimpleUploadedFile("theirs.pdf", PDF)])
    url = portal_reverse(
        portal_access.organization, "portal:comment_attachment", pk=comment.attachments.get().pk
    )

    assert portal_client.get(url).status_code == 404


def test_an_attachment_in_a_hidden_module_is_404(
    portal_client, portal_access, portal_reverse, invoice, owner
):
    comment = _staff_comment(owner, invoice, files=[SimpleUploadedFile("fixed.pdf", PDF)])
    portal_access.modules = [PortalModule.QUOTES]
    portal_access.save()
    url = portal_reverse(
        portal_access.organization, "portal:comment_attachment", pk=comment.attachments.get().pk
    )

    assert portal_client.get(url).status_code == 404


def test_an_attachment_of_a_voided_invoice_is_404_when_void_documents_are_hidden(
    portal_client, portal_access, portal_reverse, invoice, owner
):
    comment = _staff_comment(owner, invoice, files=[SimpleUploadedFile("fixed.pdf", PDF)])
    invoice.status = InvoiceStatus.VOID
    invoice.save()
    url = portal_reverse(
        portal_access.organization, "portal:comment_attachment", pk=comment.attachments.get().pk
    )

    assert portal_client.get(url).status_code == 404
