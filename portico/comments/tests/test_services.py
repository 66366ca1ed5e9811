"""Posting comments: validation, attachments, the rate limit, history and e-mails."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from portico.accounts.models import Role
from portico.accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from portico.comments import services
from portico.comments.models import Comment, CommentAttachment
from portico.comments.selectors import thread_for_portal, thread_for_staff
from portico.comments.tests.conftest import GIF, JPEG, PDF, PNG, WEBP, upload
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.mail.models import OutboundEmail
from portico.portal_access.models import PortalModule
from portico.portal_access.tests.factories import PortalAccessFactory
from portico.projects.tests.factories import ProjectFactory
from portico.sales.history import describe_event, history_of
from portico.sales.models import InvoiceStatus, QuoteStatus
from portico.sales.tests.factories import InvoiceFactory, QuoteFactory, SalesOrderFactory


def _add(access, document, body="Could you add the PO number?", files=()):
    return services.comment_add_by_contact(access=access, document=document, body=body, files=files)


# -- text -----------------------------------------------------------------------------


def test_a_contact_comments_on_an_invoice(access, invoice):
    comment = _add(access, invoice, body="  Could you add the PO number?  ")

    assert comment.from_customer and not comment.internal
    assert comment.body == "Could you add the PO number?"
    assert comment.customer == access.customer
    assert comment.contact == access.contact
    assert comment.author == access.user
    assert comment.author_name == access.contact.full_name
    assert comment.document == invoice


@pytest.mark.parametrize("body", ["", "   \n  "])
def test_an_empty_comment_is_refused(access, invoice, body):
    with pytest.raises(services.CommentError) as error:
        _add(access, invoice, body=body)

    assert error.value.field == "body"
    assert not Comment.objects.exists()


def test_a_comment_of_5000_characters_is_accepted_and_one_more_is_refused(access, invoice):
    _add(access, invoice, body="x" * 5000)

    with pytest.raises(services.CommentError) as error:
        _add(access, invoice, body="x" * 5001)

    assert error.value.field == "body"
    assert "5,000" in error.value.message
    assert Comment.objects.count() == 1


def test_nul_characters_are_dropped(access, invoice):
    comment = _add(access, invoice, body="a\x00b")

    assert comment.body == "ab"


# -- the document belongs to the contact ---------------------------------------------


def test_another_customers_document_is_refused(access):
    other_customer = CustomerFactory(organization=access.organization)
    invoice = InvoiceFactory(customer=other_customer, status=InvoiceStatus.SENT)

    with pytest.raises(services.CommentError):
        _add(access, invoice)

    assert not Comment.objects.exists()


def test_another_organisations_document_is_refused(access):
    invoice = InvoiceFactory(status=InvoiceStatus.SENT)

    with pytest.raises(services.CommentError):
        _add(access, invoice)


def test_a_draft_the_portal_does_not_show_is_refused(access):
    quote = QuoteFactory(customer=access.customer, status=QuoteStatus.DRAFT)

    with pytest.raises(services.CommentError):
        _add(access, quote)


def test_a_document_of_a_module_hidden_from_the_contact_is_refused(access, invoice):
    access.modules = [PortalModule.QUOTES]
    access.save()

    with pytest.raises(services.CommentError):
        _add(access, invoice)


def test_something_without_a_thread_is_refused(access):
    with pytest.raises(services.CommentError):
        _add(access, access.customer)


# -- attachments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("offer.pdf", PDF, "application/pdf"),
        ("screen.png", PNG, "image/png"),
        ("photo.JPG", JPEG, "image/jpeg"),
        ("anim.gif", GIF, "image/gif"),
        ("pic.webp", WEBP, "image/webp"),
    ],
)
def test_pdf_and_images_are_stored_under_a_random_name(
    access, invoice, media_root, name, content, content_type
):
    comment = _add(access, invoice, files=[upload(name, content, "text/html")])

    attachment = comment.attachments.get()
    assert attachment.original_name == name
    assert attachment.content_type == content_type  # from the content, not the browser
    assert attachment.size == len(content)
    assert name not in attachment.file.name
    assert attachment.storage_key in attachment.file.name
    assert default_storage.exists(attachment.file.name)
    with default_storage.open(attachment.file.name, "rb") as stored:
        assert stored.read() == content


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invoice.pdf", b"<html><script>alert(1)</script></html>"),  # fake extension
        ("logo.png", b"MZ\x90\x00 an executable"),
        ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        ("real.exe", PDF),  # real PDF content, but a name that is not
        ("noextension", PNG),
    ],
)
def test_other_file_types_are_refused_whatever_their_name(
    access, invoice, media_root, name, content
):
    with pytest.raises(services.CommentError) as error:
        _add(access, invoice, files=[upload(name, content, "application/pdf")])

    assert error.value.field == "files"
    assert name in error.value.message
    assert not Comment.objects.exists()
    assert not any(media_root.rglob("*.*"))


def test_an_empty_file_is_refused(access, invoice):
    with pytest.raises(services.CommentError) as error:
        _add(access, invoice, files=[upload("empty.pdf", b"")])

    assert error.value.field == "files"


def test_a_file_over_the_size_limit_is_refused(access, invoice, settings):
    settings.COMMENT_ATTACHMENT_MAX_BYTES = 1024
    _add(access, invoice, files=[upload("small.pdf", PDF + b"0" * (1024 - len(PDF)))])

    with pytest.raises(services.CommentError) as error:
        _add(access, invoice, files=[upload("big.pdf", PDF + b"0" * 1024)])

    assert error.value.field == "files"
    assert "big.pdf" in error.value.message
    assert Comment.objects.count() == 1


def test_at_most_five_files(access, invoice):
    _add(access, invoice, files=[upload(f"{n}.pdf", PDF) for n in range(5)])

    with pytest.raises(services.CommentError) as error:
        _add(access, invoice, files=[upload(f"{n}.pdf", PDF) for n in range(6)])

    assert error.value.field == "files"
    assert CommentAttachment.objects.count() == 5


def test_a_bad_file_among_good_ones_stores_nothing(access, invoice, media_root):
    files = [upload("good.pdf", PDF), upload("bad.pdf", b"not a pdf")]

    with pytest.raises(services.CommentError):
        _add(access, invoice, files=files)

    assert not CommentAttachment.objects.exists()
    assert not any(path.is_file() for path in media_root.rglob("*"))


def test_the_uploaders_path_is_not_kept_in_the_name(access, invoice):
    comment = _add(access, invoice, files=[upload("C:\\Users\\me\\..\\quote\r\n.pdf", PDF)])

    assert comment.attachments.get().original_name == "quote.pdf"


# -- rate limit -----------------------------------------------------------------------


def test_more_than_ten_comments_in_ten_minutes_are_refused(access, invoice, clock):
    for number in range(services.RATE_LIMIT_COUNT):
        _add(access, invoice, body=f"Comment {number}")
        clock.advance(seconds=30)

    with pytest.raises(services.CommentRateLimitedError) as error:
        _add(access, invoice, body="One too many")

    assert "too fast" in error.value.message
    assert Comment.objects.count() == services.RATE_LIMIT_COUNT

    clock.advance(minutes=6)  # the first comments are now older than 10 minutes

    _add(access, invoice, body="Later")
    assert Comment.objects.count() == services.RATE_LIMIT_COUNT + 1


def test_the_rate_limit_is_per_person(access, invoice):
    colleague = PortalAccessFactory(
        active=True, contact=ContactPersonFactory(customer=access.customer)
    )
    for number in range(services.RATE_LIMIT_COUNT):
        _add(access, invoice, body=f"Comment {number}")

    _add(colleague, invoice, body="Mine")

    assert Comment.objects.filter(author=colleague.user).count() == 1


@pytest.fixture
def clock(monkeypatch):
    class Clock:
        now = timezone.now()

        def advance(self, **delta):
            self.now += timedelta(**delta)

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


# -- history and staff e-mails ------------------------------------------------------


def test_a_portal_comment_is_in_the_documents_history(access, invoice):
    _add(access, invoice)

    event = history_of(document=invoice).get(kind="commented_in_portal")
    assert describe_event(event) == f"Comment from {access.contact.full_name}"
    assert event.actor == access.user


def test_a_project_comment_has_no_history_but_is_saved(access):
    project = ProjectFactory(customer=access.customer)

    comment = _add(access, project)

    assert comment.document == project


def test_the_members_are_emailed_in_their_language(access, invoice, portal_settings):
    owner = MembershipFactory(
        organization=access.organization, role=Role.OWNER, user=UserFactory(language="de")
    )
    admin = MembershipFactory(organization=access.organization, role=Role.ADMIN)
    # told too: by default every member hears about portal activity
    staff = MembershipFactory(organization=access.organization, role=Role.STAFF)
    MembershipFactory(role=Role.OWNER)  # another organisation

    _add(access, invoice, body="Where is my <b>PO</b>?", files=[upload("po.pdf", PDF)])

    emails = OutboundEmail.objects.filter(kind="activity.notification")
    assert {email.to_email: email.language for email in emails} == {
        owner.user.email: "de",
        admin.user.email: "en",
        staff.user.email: staff.user.language,
    }
    email = emails.get(to_email=admin.user.email)
    assert access.contact.full_name in email.subject
    assert invoice.number in email.subject
    assert "Where is my <b>PO</b>?" in email.body_text
    assert "Where is my &lt;b&gt;PO&lt;/b&gt;?" in email.body_html
    assert f"/app/invoices/{invoice.pk}/#comments" in email.body_text
    assert "1 file attached." in email.body_text
    assert email.reply_to == access.contact.email


def test_the_documents_creator_is_emailed_too(access, portal_settings):
    creator = MembershipFactory(organization=access.organization, role=Role.STAFF)
    quote = QuoteFactory(customer=access.customer, status=QuoteStatus.SENT, created_by=creator.user)

    _add(access, quote)

    assert OutboundEmail.objects.filter(to_email=creator.user.email).exists()


def test_no_staff_email_when_the_organisation_turned_notifications_off(
    access, invoice, portal_settings
):
    MembershipFactory(organization=access.organization, role=Role.OWNER)
    portal_settings.notify_by_email = False
    portal_settings.save()

    _add(access, invoice)

    assert Comment.objects.count() == 1
    assert not OutboundEmail.objects.exists()


# -- staff ----------------------------------------------------------------------------


def _staff_add(owner, document, *, body="Thanks, we will fix it.", internal=False, files=()):
    return services.comment_add_by_staff(
        organization=owner.organization,
        user=owner.user,
        document=document,
        body=body,
        internal=internal,
        files=files,
    )


def test_staff_reply_emails_the_customers_active_contacts_in_their_language(access, invoice, owner):
    access.language = "fr"
    access.save()
    colleague = PortalAccessFactory(
        active=True, contact=ContactPersonFactory(customer=access.customer)
    )
    colleague.customer.portal_language = "de"
    colleague.customer.save()
    PortalAccessFactory(contact=ContactPersonFactory(customer=access.customer))  # invited only
    PortalAccessFactory(
        active=True,
        contact=ContactPersonFactory(customer=access.customer),
        modules=[PortalModule.QUOTES],  # may not see invoices
    )
    PortalAccessFactory(
        active=True, contact=ContactPersonFactory(organization=access.organization)
    )  # another customer

    comment = _staff_add(owner, invoice, files=[upload("fixed.pdf", PDF)])

    assert not comment.from_customer and not comment.internal
    assert comment.author_name == owner.user.get_full_name()
    emails = OutboundEmail.objects.filter(kind="comments.staff_reply")
    assert {email.to_email: email.language for email in emails} == {
        access.contact.email: "fr",
        colleague.contact.email: "de",
    }
    email = emails.get(to_email=access.contact.email)
    path = f"/portal/{access.organization.portal_name}/invoices/{invoice.pk}/#comments"
    assert path in email.body_text
    assert email.body_text.count("http") >= 1
    assert "Thanks, we will fix it." in email.body_text


def test_an_internal_note_emails_nobody_and_never_reaches_the_portal(access, invoice, owner):
    note = _staff_add(owner, invoice, body="Customer is slow to pay", internal=True)
    reply = _staff_add(owner, invoice, body="Visible reply")
    own = _add(access, invoice)

    assert note.internal
    assert sorted(OutboundEmail.objects.values_list("kind", flat=True)) == [
        "activity.notification",  # the contact's comment, to the owner
        "comments.staff_reply",  # the visible reply, to the contact
    ]
    assert not OutboundEmail.objects.filter(body_text__contains="slow to pay").exists()
    assert thread_for_portal(access=access, document=invoice) == [reply, own]
    assert thread_for_staff(organization=access.organization, document=invoice) == [
        note,
        reply,
        own,
    ]


def test_no_customer_email_when_the_organisation_turned_it_off(
    access, invoice, owner, portal_settings
):
    portal_settings.email_customers_on_comment = False
    portal_settings.save()

    _staff_add(owner, invoice)

    assert not OutboundEmail.objects.exists()


def test_no_customer_email_about_a_draft_the_portal_does_not_show(access, owner):
    quote = QuoteFactory(customer=access.customer, status=QuoteStatus.DRAFT)

    _staff_add(owner, quote)

    assert Comment.objects.count() == 1
    assert not OutboundEmail.objects.exists()


def test_staff_cannot_comment_on_another_organisations_document(owner):
    invoice = InvoiceFactory(customer=CustomerFactory(organization=OrganizationFactory()))

    with pytest.raises(services.CommentError):
        _staff_add(owner, invoice)


def test_staff_comments_are_validated_the_same_way(access, invoice, owner):
    with pytest.raises(services.CommentError):
        _staff_add(owner, invoice, body="")
    with pytest.raises(services.CommentError):
        _staff_add(owner, invoice, files=[upload("x.png", b"<script>")])


def test_a_sales_order_takes_comments_from_both_sides(access, owner):
    order = SalesOrderFactory(customer=access.customer, status="confirmed")

    _add(access, order)
    _staff_add(owner, order)

    assert len(thread_for_portal(access=access, document=order)) == 2
