"""Quote decisions made in the portal: accept (name + terms) and decline (reason)."""

import io
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from portico.accounts.models import Role
from portico.accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from portico.customers.tests.factories import ContactPersonFactory, CustomerFactory
from portico.mail.models import OutboundEmail
from portico.portal_access.tests.factories import PortalAccessFactory, PortalSettingsFactory
from portico.sales.history import describe_event, history_of
from portico.sales.models import (
    Quote,
    QuoteDecision,
    QuoteDecisionKind,
    QuoteRevision,
    QuoteStatus,
)
from portico.sales.pdf import certificate_pdf
from portico.sales.services import quotes as quote_services
from portico.sales.services.common import DocumentData, document_snapshot
from portico.sales.services.quote_decisions import (
    QuoteAlreadyDecidedError,
    QuoteDecisionError,
    QuoteNotDecidableError,
    QuoteRevisionChangedError,
    quote_accept_in_portal,
    quote_current_content_hash,
    quote_decline_in_portal,
)
from portico.sales.tests.factories import QuoteFactory, line

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0"


@pytest.fixture
def owner(membership):
    return membership.user


@pytest.fixture
def customer(organization):
    return CustomerFactory(organization=organization, display_name="Acme GmbH", currency="EUR")


@pytest.fixture
def access(customer):
    contact = ContactPersonFactory(
        customer=customer, first_name="Ada", last_name="Lovelace", email="ada@acme.example"
    )
    return PortalAccessFactory(active=True, contact=contact)


def sent_quote(customer, actor, **fields) -> Quote:
    today = timezone.localdate()
    quote = quote_services.quote_create(
        organization=customer.organization,
        data=DocumentData(
            customer_id=customer.pk,
            date=today,
            lines=[line("Website redesign", "2", "1500")],
            terms=fields.pop("terms", "Payment within 14 days."),
        ),
        expiry_date=fields.pop("expiry_date", today + timedelta(days=30)),
        actor=actor,
    )
    return quote_services.quote_mark_sent(quote=quote, actor=actor)


def accept(access, quote, **overrides):
    values = {
        "access": access,
        "quote_id": quote.pk,
        "content_hash": quote_current_content_hash(quote=quote),
        "signer_name": "Ada Lovelace",
        "terms_accepted": True,
        "ip_address": "203.0.113.7",
        "user_agent": BROWSER,
    } | overrides
    return quote_accept_in_portal(**values)


def decline(access, quote, **overrides):
    values = {
        "access": access,
        "quote_id": quote.pk,
        "content_hash": quote_current_content_hash(quote=quote),
        "reason": "Too expensive for this year's budget.",
        "ip_address": "203.0.113.7",
        "user_agent": BROWSER,
    } | overrides
    return quote_decline_in_portal(**values)


# --- accept ------------------------------------------------------------------------------


def test_accepting_records_who_when_where_and_the_revision_seen(access, customer, owner):
    # given
    quote = sent_quote(customer, owner)
    revision = QuoteRevision.objects.get(quote=quote, number=1)

    # when
    decision = accept(access, quote)

    # then
    assert decision.kind == QuoteDecisionKind.ACCEPTED
    assert decision.signer_name == "Ada Lovelace"
    assert decision.signer_email == "ada@acme.example"
    assert decision.contact == access.contact
    assert decision.user == access.user
    assert decision.terms_accepted is True
    assert decision.ip_address == "203.0.113.7"
    assert decision.user_agent == BROWSER
    assert decision.revision_number == 1
    assert decision.content_hash == revision.content_hash
    assert decision.content_hash == document_snapshot(quote)[1]
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    assert quote.decided_at == decision.decided_at


def test_accepting_writes_the_history_and_emails_the_staff(access, customer, owner):
    # given
    admin = MembershipFactory(
        organization=customer.organization, role=Role.ADMIN, user=UserFactory(language="de")
    )
    # told too: by default every member hears about portal activity
    staff = MembershipFactory(organization=customer.organization, role=Role.STAFF)
    quote = sent_quote(customer, owner)

    # when
    accept(access, quote)

    # then
    latest = history_of(document=quote).first()
    assert latest.kind == "accepted_in_portal"
    assert latest.actor == access.user
    assert describe_event(latest) == "Accepted in portal by Ada Lovelace"
    emails = OutboundEmail.objects.filter(kind="activity.notification").order_by("id")
    assert [email.to_email for email in emails] == [
        owner.email,
        admin.user.email,
        staff.user.email,
    ]
    assert [email.language for email in emails] == [owner.language, "de", staff.user.language]
    assert quote.number in emails[0].subject
    assert f"Ada Lovelace ({customer.display_name}) accepted quote" in emails[0].body_text
    assert f"/app/quotes/{quote.pk}/" in emails[0].body_text


def test_the_quote_author_is_told_too(access, customer, owner):
    # given: a staff member wrote the quote
    author = MembershipFactory(organization=customer.organization, role=Role.STAFF).user
    quote = sent_quote(customer, author)

    # when
    accept(access, quote)

    # then
    recipients = set(OutboundEmail.objects.values_list("to_email", flat=True))
    assert recipients == {owner.email, author.email}


def test_no_email_when_the_organisation_turned_notifications_off(access, customer, owner):
    PortalSettingsFactory(organization=customer.organization, notify_by_email=False)
    quote = sent_quote(customer, owner)

    accept(access, quote)

    assert not OutboundEmail.objects.exists()
    assert QuoteDecision.objects.count() == 1


def test_the_name_is_stored_as_typed_without_extra_spaces(access, customer, owner):
    quote = sent_quote(customer, owner)

    decision = accept(access, quote, signer_name="  Ada   King  Lovelace ")

    assert decision.signer_name == "Ada King Lovelace"


def test_a_long_user_agent_is_cut_to_500_characters(access, customer, owner):
    quote = sent_quote(customer, owner)

    decision = accept(access, quote, user_agent="x" * 900, ip_address="2001:db8::1")

    assert len(decision.user_agent) == 500
    assert decision.ip_address == "2001:db8::1"


# --- refusals: input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"signer_name": ""}, "signer_name", "Type your full name"),
        ({"signer_name": "   "}, "signer_name", "Type your full name"),
        ({"signer_name": "A" * 201}, "signer_name", "at most 200 characters"),
        ({"terms_accepted": False}, "terms_accepted", "accept the terms"),
    ],
    ids=["empty-name", "blank-name", "long-name", "terms-not-ticked"],
)
def test_accepting_refuses_bad_input(access, customer, owner, overrides, field, message):
    # given
    quote = sent_quote(customer, owner)

    # when
    with pytest.raises(QuoteDecisionError, match=message) as raised:
        accept(access, quote, **overrides)

    # then
    assert raised.value.field == field
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert not QuoteDecision.objects.exists()
    assert not OutboundEmail.objects.exists()


def test_a_name_of_200_characters_is_accepted(access, customer, owner):
    quote = sent_quote(customer, owner)

    decision = accept(access, quote, signer_name="A" * 200)

    assert decision.signer_name == "A" * 200


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "Tell us why"), (" \n ", "Tell us why"), ("x" * 2001, "at most 2000 characters")],
    ids=["empty", "blank", "too-long"],
)
def test_declining_needs_a_reason_of_at_most_2000_characters(
    access, customer, owner, reason, message
):
    quote = sent_quote(customer, owner)

    with pytest.raises(QuoteDecisionError, match=message) as raised:
        decline(access, quote, reason=reason)

    assert raised.value.field == "reason"
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT


# --- decline -----------------------------------------------------------------------------


def test_declining_records_the_reason_history_and_emails_the_staff(access, customer, owner):
    # given
    quote = sent_quote(customer, owner)

    # when
    decision = decline(access, quote, reason="  We chose another supplier.  ")

    # then
    assert decision.kind == QuoteDecisionKind.DECLINED
    assert decision.reason == "We chose another supplier."
    assert decision.signer_name == "Ada Lovelace"
    assert decision.terms_accepted is False
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DECLINED
    assert quote.decided_at is not None
    event = history_of(document=quote).first()
    assert describe_event(event) == "Declined in portal by Ada Lovelace: We chose another supplier."
    email = OutboundEmail.objects.get(kind="activity.notification")
    assert email.to_email == owner.email
    assert "We chose another supplier." in email.body_text


# --- refusals: state ---------------------------------------------------------------------


def test_a_quote_edited_after_the_page_was_opened_is_not_accepted(access, customer, owner):
    # given: the contact opened revision 1
    quote = sent_quote(customer, owner)
    seen_hash = quote_current_content_hash(quote=quote)
    # and staff changed the price meanwhile
    quote_services.quote_update(
        quote=quote,
        data=DocumentData(
            customer_id=customer.pk,
            date=quote.date,
            lines=[line("Website redesign", "2", "1800")],
            terms=quote.terms,
        ),
        expiry_date=quote.expiry_date,
        actor=owner,
    )

    # when
    with pytest.raises(QuoteRevisionChangedError, match="review revision 2") as raised:
        accept(access, quote, content_hash=seen_hash)

    # then
    assert raised.value.revision == 2
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert not QuoteDecision.objects.exists()
    # and the fresh revision can be accepted
    decision = accept(access, quote)
    assert decision.revision_number == 2
    assert decision.content_hash == QuoteRevision.objects.get(quote=quote, number=2).content_hash


def test_declining_a_changed_quote_is_refused_too(access, customer, owner):
    quote = sent_quote(customer, owner)

    with pytest.raises(QuoteRevisionChangedError):
        decline(access, quote, content_hash="0" * 64)

    assert not QuoteDecision.objects.exists()


def test_an_expired_quote_cannot_be_accepted(access, customer, owner):
    # given
    quote = sent_quote(customer, owner)
    Quote.objects.filter(pk=quote.pk).update(expiry_date=timezone.localdate() - timedelta(days=1))
    quote.refresh_from_db()

    # when / then
    with pytest.raises(QuoteNotDecidableError, match="expired on"):
        accept(access, quote)
    with pytest.raises(QuoteNotDecidableError, match="expired on"):
        decline(access, quote)
    assert not QuoteDecision.objects.exists()


def test_a_quote_valid_until_today_can_still_be_accepted(access, customer, owner):
    quote = sent_quote(customer, owner, expiry_date=timezone.localdate())

    decision = accept(access, quote)

    assert decision.kind == QuoteDecisionKind.ACCEPTED


def test_a_decided_quote_cannot_be_decided_again(access, customer, owner):
    # given: Ada accepted
    quote = sent_quote(customer, owner)
    current_hash = quote_current_content_hash(quote=quote)
    accept(access, quote)
    colleague = PortalAccessFactory(
        active=True,
        contact=ContactPersonFactory(customer=customer, first_name="Bob", last_name="Byte"),
    )

    # when / then: neither a colleague nor Ada herself can decide again
    with pytest.raises(QuoteAlreadyDecidedError, match="already accepted by Ada Lovelace on"):
        accept(colleague, quote, content_hash=current_hash, signer_name="Bob Byte")
    with pytest.raises(QuoteAlreadyDecidedError, match="already accepted by Ada Lovelace on"):
        decline(access, quote, content_hash=current_hash)
    assert QuoteDecision.objects.count() == 1


def test_a_declined_quote_says_who_declined_it(access, customer, owner):
    quote = sent_quote(customer, owner)
    current_hash = quote_current_content_hash(quote=quote)
    decline(access, quote)

    with pytest.raises(QuoteAlreadyDecidedError, match="already declined by Ada Lovelace on"):
        accept(access, quote, content_hash=current_hash)


def test_a_quote_staff_marked_as_accepted_cannot_be_decided(access, customer, owner):
    quote = sent_quote(customer, owner)
    current_hash = quote_current_content_hash(quote=quote)
    quote_services.quote_mark_accepted(quote=quote, actor=owner)

    with pytest.raises(QuoteAlreadyDecidedError, match="has already been accepted"):
        accept(access, quote, content_hash=current_hash)


def test_an_invoiced_quote_cannot_be_decided(access, customer, owner):
    quote = sent_quote(customer, owner)
    current_hash = quote_current_content_hash(quote=quote)
    quote_services.quote_convert_to_invoice(quote=quote, actor=owner)

    with pytest.raises(QuoteNotDecidableError, match="has been invoiced"):
        accept(access, quote, content_hash=current_hash)


def test_the_unique_constraint_backs_the_lock(access, customer, owner):
    # given: a decision on revision 1 exists although the quote still reads "sent"
    quote = sent_quote(customer, owner)
    QuoteDecision.objects.create(
        organization=quote.organization,
        quote=quote,
        kind=QuoteDecisionKind.ACCEPTED,
        revision_number=1,
        content_hash=quote_current_content_hash(quote=quote),
        signer_name="Bob Byte",
    )

    # when / then
    with pytest.raises(QuoteAlreadyDecidedError, match="already accepted by Bob Byte"):
        accept(access, quote)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert QuoteDecision.objects.count() == 1


# --- scope -------------------------------------------------------------------------------


def test_another_customers_quote_is_not_found(access, customer, owner):
    other_customer = CustomerFactory(organization=customer.organization)
    quote = sent_quote(other_customer, owner)

    with pytest.raises(Quote.DoesNotExist):
        accept(access, quote)
    with pytest.raises(Quote.DoesNotExist):
        decline(access, quote)
    assert not QuoteDecision.objects.exists()


def test_another_organisations_quote_is_not_found(access):
    other_customer = CustomerFactory(organization=OrganizationFactory())
    quote = sent_quote(other_customer, None)

    with pytest.raises(Quote.DoesNotExist):
        accept(access, quote)


def test_a_draft_is_not_found(access, customer, owner):
    quote = sent_quote(customer, owner)
    Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.DRAFT)

    with pytest.raises(Quote.DoesNotExist):
        accept(access, quote)


# --- a sent quote recorded without revisions ------------------------------------------


def test_a_sent_quote_without_revision_gets_one_when_decided(access, customer):
    # given: a sent quote stored directly (no revision recorded)
    quote = QuoteFactory(
        organization=customer.organization, customer=customer, status=QuoteStatus.SENT
    )
    quote.refresh_from_db()
    assert quote.revision == 0

    # when
    decision = accept(access, quote)

    # then
    revision = QuoteRevision.objects.get(quote=quote)
    assert revision.number == 1
    assert decision.revision_number == 1
    assert decision.content_hash == revision.content_hash


# --- concurrency (PostgreSQL) ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_contacts_accepting_at_once_make_one_decision():
    # SQLite runs one write transaction at a time; the race exists on PostgreSQL.
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent write transactions (PostgreSQL)")
    # given
    owner = MembershipFactory().user
    customer = CustomerFactory(organization=owner.memberships.get().organization, currency="EUR")
    quote = sent_quote(customer, owner)
    content_hash = quote_current_content_hash(quote=quote)
    contacts = [
        PortalAccessFactory(active=True, contact=ContactPersonFactory(customer=customer))
        for _ in range(2)
    ]
    both_ready = threading.Barrier(2, timeout=5)
    outcomes = []

    def decide(access):
        try:
            both_ready.wait()
            accept(access, quote, content_hash=content_hash, signer_name=access.contact.full_name)
            outcomes.append("accepted")
        except QuoteAlreadyDecidedError as error:
            outcomes.append(error.message)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=decide, args=(access,)) for access in contacts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert QuoteDecision.objects.filter(quote=quote).count() == 1
    winner = QuoteDecision.objects.get(quote=quote)
    assert sorted(outcomes, key=len)[0] == "accepted"
    assert f"already accepted by {winner.signer_name} on" in sorted(outcomes, key=len)[1]
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED


# --- staff pages -------------------------------------------------------------------------


def test_the_staff_page_shows_a_declined_decision_with_its_reason(
    staff_client, access, customer, owner
):
    # given
    quote = sent_quote(customer, owner)
    decline(access, quote, reason="Budget <script>cut</script>", ip_address="192.0.2.9")

    # when
    html = staff_client.get(f"/app/quotes/{quote.pk}/").content.decode()

    # then
    assert "Customer decision" in html
    assert "Declined in the portal" in html
    assert "Budget &lt;script&gt;cut&lt;/script&gt;" in html
    assert "192.0.2.9" in html
    assert "Declined in portal by Ada Lovelace" in html  # the history
    assert "Certificate of acceptance" not in html


def test_the_staff_page_of_an_undecided_quote_has_no_decision_card(staff_client, customer, owner):
    quote = sent_quote(customer, owner)

    html = staff_client.get(f"/app/quotes/{quote.pk}/").content.decode()

    assert "Customer decision" not in html


def test_the_staff_certificate_is_404_without_an_acceptance(staff_client, access, customer, owner):
    declined = sent_quote(customer, owner)
    decline(access, declined)
    marked = sent_quote(customer, owner)
    quote_services.quote_mark_accepted(quote=marked, actor=owner)

    for quote in (declined, marked):
        assert staff_client.get(f"/app/quotes/{quote.pk}/certificate/").status_code == 404


def test_the_staff_certificate_of_another_organisation_is_404(staff_client):
    other_customer = CustomerFactory(organization=OrganizationFactory())
    other_access = PortalAccessFactory(
        active=True, contact=ContactPersonFactory(customer=other_customer)
    )
    quote = sent_quote(other_customer, None)
    accept(other_access, quote)

    assert staff_client.get(f"/app/quotes/{quote.pk}/certificate/").status_code == 404


def test_the_certificate_prints_the_revision_accepted_not_later_changes(access, customer, owner):
    """Staff cannot edit an accepted quote; even if its row changed, the
    certificate prints the accepted revision's snapshot."""
    # given
    quote = sent_quote(customer, owner)
    decision = accept(access, quote)
    Quote.objects.filter(pk=quote.pk).update(terms="Changed behind the customer's back")
    quote.refresh_from_db()

    # when
    pdf = certificate_pdf(quote=quote, decision=decision, language="en")

    # then
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Payment within 14 days." in text
    assert "Changed behind" not in text
    assert decision.content_hash in text.replace("\n", "")
    assert "203.0.113.7" in text
