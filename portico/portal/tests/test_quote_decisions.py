"""The quote decision panel in the portal: accept, decline, the certificate."""

import io
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from portico.accounts.models import Role
from portico.accounts.tests.factories import MembershipFactory
from portico.customers.tests.factories import CustomerFactory
from portico.sales.models import Quote, QuoteDecision, QuoteDecisionKind, QuoteStatus
from portico.sales.services import quotes as quote_services
from portico.sales.services.common import DocumentData
from portico.sales.services.quote_decisions import quote_current_content_hash
from portico.sales.tests.factories import line

pytestmark = pytest.mark.django_db

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1"


@pytest.fixture
def staff_member(portal_organization):
    return MembershipFactory(organization=portal_organization, role=Role.OWNER).user


@pytest.fixture
def contact(portal_access):
    contact = portal_access.contact
    contact.first_name, contact.last_name = "Ada", "Lovelace"
    contact.save()
    return contact


def sent_quote(customer, actor, *, terms="Payment within 14 days.", rate="1500") -> Quote:
    today = timezone.localdate()
    quote = quote_services.quote_create(
        organization=customer.organization,
        data=DocumentData(
            customer_id=customer.pk,
            date=today,
            lines=[line("Website redesign", "2", rate)],
            terms=terms,
        ),
        expiry_date=today + timedelta(days=30),
        actor=actor,
    )
    return quote_services.quote_mark_sent(quote=quote, actor=actor)


@pytest.fixture
def quote(portal_access, staff_member, contact):
    return sent_quote(portal_access.customer, staff_member)


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def accept_form(quote, **overrides) -> dict:
    return {
        "content_hash": quote_current_content_hash(quote=quote),
        "signer_name": "Ada Lovelace",
        "terms_accepted": "on",
    } | overrides


# --- the panel ---------------------------------------------------------------------------


def test_a_sent_quote_shows_the_accept_and_decline_forms(
    portal_client, portal_reverse, portal_organization, quote
):
    # when
    response = portal_client.get(
        portal_reverse(portal_organization, "portal:quote_detail", pk=quote.pk)
    )

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="decision"' in html
    assert f'name="content_hash" value="{quote_current_content_hash(quote=quote)}"' in html
    assert 'name="signer_name"' in html
    assert "I accept the terms shown above" in html
    assert "Payment within 14 days." in html
    assert 'name="reason"' in html
    assert portal_reverse(portal_organization, "portal:quote_accept", pk=quote.pk) in html
    assert portal_reverse(portal_organization, "portal:quote_decline", pk=quote.pk) in html
    assert "Download certificate" not in html


def test_a_quote_without_terms_asks_to_accept_the_quote_itself(
    portal_client, portal_reverse, portal_organization, portal_access, staff_member
):
    quote = sent_quote(portal_access.customer, staff_member, terms="")

    response = portal_client.get(
        portal_reverse(portal_organization, "portal:quote_detail", pk=quote.pk)
    )

    assert "I accept the quote as shown on this page" in response.content.decode()


def test_an_expired_quote_says_so_and_offers_no_forms(
    portal_client, portal_reverse, portal_organization, quote
):
    Quote.objects.filter(pk=quote.pk).update(expiry_date=timezone.localdate() - timedelta(days=2))

    response = portal_client.get(
        portal_reverse(portal_organization, "portal:quote_detail", pk=quote.pk)
    )

    html = response.content.decode()
    assert "expired on" in html
    assert 'name="signer_name"' not in html


def test_an_invoiced_quote_says_so(
    portal_client, portal_reverse, portal_organization, quote, staff_member
):
    quote_services.quote_convert_to_invoice(quote=quote, actor=staff_member)

    response = portal_client.get(
        portal_reverse(portal_organization, "portal:quote_detail", pk=quote.pk)
    )

    html = response.content.decode()
    assert "has been invoiced and can no longer be accepted" in html
    assert 'name="signer_name"' not in html


# --- accept ------------------------------------------------------------------------------


def test_accepting_records_the_decision_and_shows_it(
    portal_client, portal_reverse, portal_organization, quote, contact
):
    # given
    url = portal_reverse(portal_organization, "portal:quote_accept", pk=quote.pk)

    # when
    response = portal_client.post(
        url, accept_form(quote), REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT=PHONE
    )

    # then
    detail_url = portal_reverse(portal_organization, "portal:quote_detail", pk=quote.pk)
    assert response.status_code == 302
    assert response["Location"] == detail_url
    assert flashed(response) == [
        f"Thank you: you accepted quote {quote.number}. "
        "Your certificate of acceptance is ready to download."
    ]
    decision = QuoteDecision.objects.get(quote=quote)
    assert decision.kind == QuoteDecisionKind.ACCEPTED
    assert decision.signer_name == "Ada Lovelace"
    assert decision.contact == contact
    assert decision.ip_address == "198.51.100.23"
    assert decision.user_agent == PHONE
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.ACCEPTED
    # and the page shows the decision with the certificate
    html = portal_client.get(detail_url).content.decode()
    assert "Accepted by Ada Lovelace on" in html
    assert portal_reverse(portal_organization, "portal:quote_certificate", pk=quote.pk) in html
    assert 'name="signer_name"' not in html


def test_a_long_user_agent_is_cut(portal_client, portal_reverse, portal_organization, quote):
    portal_client.post(
        portal_reverse(portal_organization, "portal:quote_accept", pk=quote.pk),
        accept_form(quote),
        HTTP_USER_AGENT="A" * 2000,
    )

    assert len(QuoteDecision.objects.get(quote=quote).user_agent) == 500


def test_accepting_without_a_name_shows_the_error_and_keeps_the_form(
    portal_client, portal_reverse, portal_organization, quote
):
    # when
    response = portal_client.post(
        portal_reverse(portal_organization, "portal:quote_accept", pk=quote.pk),
        accept_form(quote, signer_name="  "),
    )

    # then
    detail_url = portal_reverse(portal_organization, "portal:quote_detail", pk=quote.pk)
    assert response["Location"] == f"{detail_url}#decision"
    assert not QuoteDecision.objects.exists()
    page = portal_client.get(detail_url)
    html = page.content.decode()
    assert "Type your full name to accept the quote." in html
    assert 'class="form-control is-invalid"' in html
    assert 'id="decision-terms-accepted" name="terms_accepted" value="on" required checked' in html
    assert 'class="collapse show" id="decision-accept"' in html
    # and the kept form is shown once
    html_again = portal_client.get(detail_url).content.decode()
    assert "is-invalid" not in html_again


def test_accepting_without_ticking_the_terms_keeps_the_name(
    portal_client, portal_reverse, portal_organization, quote
):
    form = accept_form(quote, signer_name="Ada <b>Lovelace</b>")
    del form["terms_accepted"]

    portal_client.post(
        portal_reverse(portal_organization, "portal:quote_accept", pk=quote.pk), form
    )

    html = portal_client.get(
        portal_reverse(portal_organization, "portal:quote_detail", pk=quote.pk)
    ).content.decode()
    assert "Tick the box to confirm that you accept the terms." in html
    assert 'value="Ada &lt;b&gt;Lovelace&lt;/b&gt;"' in html
    assert not QuoteDecision.objects.exists()


def test_a_quote_changed_after_the_page_was_opened_is_shown_again(
    portal_client, portal_reverse, portal_organization, portal_access, quote, staff_member
):
    # given: the contact opened the page (revision 1)
    form = accept_form(quote)
    # and staff changed the price meanwhile
    quote_services.quote_update(
        quote=quote,
        data=DocumentData(
            customer_id=portal_access.customer_id,
            date=quote.date,
            lines=[line("Website redesign", "2", "1750")],
            terms=quote.terms,
        ),
        expiry_date=quote.expiry_date,
        actor=staff_member,
    )

    # when
    response = portal_client.post(
        portal_reverse(portal_organization, "portal:quote_accept", pk=quote.pk), form
    )

    # then
    detail_url = portal_reverse(portal_organization, "portal:quote_detail", pk=quote.pk)
    assert response["Location"] == detail_url
    assert flashed(response) == [
        "The quote changed after you opened it. Please review revision 2 before deciding."
    ]
    assert not QuoteDecision.objects.exists()
    quote.refresh_from_db()
    html = portal_client.get(detail_url).content.decode()
    assert f'value="{quote_current_content_hash(quote=quote)}"' in html
    assert "revision 2" in html


def test_deciding_twice_says_who_decided_first(
    portal_client, portal_reverse, portal_organization, quote
):
    url = portal_reverse(portal_organization, "portal:quote_accept", pk=quote.pk)
    portal_client.post(url, accept_form(quote))

    response = portal_client.post(url, accept_form(quote, signer_name="Someone Else"))

    assert response.status_code == 302
    assert any("already accepted by Ada Lovelace on" in text for text in flashed(response))
    assert QuoteDecision.objects.count() == 1


def test_the_decision_urls_take_only_posts(
    portal_client, portal_reverse, portal_organization, quote
):
    for name in ("portal:quote_accept", "portal:quote_decline"):
        response = portal_client.get(portal_reverse(portal_organization, name, pk=quote.pk))
        assert response.status_code == 405


# --- decline -----------------------------------------------------------------------------


def test_declining_records_the_reason_and_shows_it(
    portal_client, portal_reverse, portal_organization, quote
):
    # when
    response = portal_client.post(
        portal_reverse(portal_organization, "portal:quote_decline", pk=quote.pk),
        {
            "content_hash": quote_current_content_hash(quote=quote),
            "reason": "We found a cheaper offer.\nThanks anyway.",
        },
    )

    # then
    assert response.status_code == 302
    assert flashed(response)[0].startswith(f"You declined quote {quote.number}.")
    decision = QuoteDecision.objects.get(quote=quote)
    assert decision.kind == QuoteDecisionKind.DECLINED
    assert decision.reason == "We found a cheaper offer.\nThanks anyway."
    html = portal_client.get(response["Location"]).content.decode()
    assert "Declined by Ada Lovelace on" in html
    assert "We found a cheaper offer." in html
    assert "Download certificate" not in html


def test_declining_without_a_reason_shows_the_error(
    portal_client, portal_reverse, portal_organization, quote
):
    response = portal_client.post(
        portal_reverse(portal_organization, "portal:quote_decline", pk=quote.pk),
        {"content_hash": quote_current_content_hash(quote=quote), "reason": ""},
    )

    assert response["Location"].endswith("#decision")
    html = portal_client.get(response["Location"].split("#")[0]).content.decode()
    assert "Tell us why you decline the quote." in html
    assert 'class="collapse show" id="decision-decline"' in html
    assert not QuoteDecision.objects.exists()


def test_an_oversize_reason_is_refused_and_kept_to_shorten(
    portal_client, portal_reverse, portal_organization, quote
):
    reason = "word " * 500  # 2,500 characters

    portal_client.post(
        portal_reverse(portal_organization, "portal:quote_decline", pk=quote.pk),
        {"content_hash": quote_current_content_hash(quote=quote), "reason": reason},
    )

    html = portal_client.get(
        portal_reverse(portal_organization, "portal:quote_detail", pk=quote.pk)
    ).content.decode()
    assert "The reason can have at most 2000 characters (it has 2499)." in html
    assert reason.strip() in html
    assert not QuoteDecision.objects.exists()


# --- scope -------------------------------------------------------------------------------


def test_another_customers_quote_is_404(
    portal_client, portal_reverse, portal_organization, staff_member
):
    other = sent_quote(CustomerFactory(organization=portal_organization), staff_member)

    for name in ("portal:quote_accept", "portal:quote_decline", "portal:quote_certificate"):
        response = portal_client.post(
            portal_reverse(portal_organization, name, pk=other.pk), accept_form(other)
        )
        assert response.status_code == 404
    assert not QuoteDecision.objects.exists()


def test_a_contact_without_the_quotes_module_gets_404(
    portal_client, portal_reverse, portal_organization, portal_access, quote
):
    portal_access.modules = ["invoices", "payments"]
    portal_access.save()

    response = portal_client.post(
        portal_reverse(portal_organization, "portal:quote_accept", pk=quote.pk), accept_form(quote)
    )

    assert response.status_code == 404
    assert not QuoteDecision.objects.exists()


# --- certificate -------------------------------------------------------------------------


def test_the_certificate_of_an_accepted_quote(
    portal_client, portal_reverse, portal_organization, quote
):
    # given
    portal_client.post(
        portal_reverse(portal_organization, "portal:quote_accept", pk=quote.pk),
        accept_form(quote),
        REMOTE_ADDR="198.51.100.23",
    )
    decision = QuoteDecision.objects.get(quote=quote)

    # when
    response = portal_client.get(
        portal_reverse(portal_organization, "portal:quote_certificate", pk=quote.pk)
    )

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{quote.number}-certificate.pdf"' in response["Content-Disposition"]
    content = response.content
    assert content.startswith(b"%PDF")
    text = pdf_text(content)
    assert "Certificate of acceptance".upper() in text.upper()
    assert "Ada Lovelace" in text
    assert "198.51.100.23" in text
    assert decision.content_hash in text.replace("\n", "")
    assert "Website redesign" in text
    assert "Payment within 14 days." in text


def test_the_certificate_stays_available_after_invoicing(
    portal_client, portal_reverse, portal_organization, quote, staff_member
):
    portal_client.post(
        portal_reverse(portal_organization, "portal:quote_accept", pk=quote.pk), accept_form(quote)
    )
    quote_services.quote_convert_to_invoice(quote=quote, actor=staff_member)

    response = portal_client.get(
        portal_reverse(portal_organization, "portal:quote_certificate", pk=quote.pk)
    )

    assert response.status_code == 200


@pytest.mark.parametrize("how", ["open", "declined", "staff_accepted"])
def test_no_certificate_without_an_acceptance_in_the_portal(
    portal_client, portal_reverse, portal_organization, quote, staff_member, how
):
    if how == "declined":
        portal_client.post(
            portal_reverse(portal_organization, "portal:quote_decline", pk=quote.pk),
            {"content_hash": quote_current_content_hash(quote=quote), "reason": "No budget"},
        )
    elif how == "staff_accepted":
        quote_services.quote_mark_accepted(quote=quote, actor=staff_member)

    response = portal_client.get(
        portal_reverse(portal_organization, "portal:quote_certificate", pk=quote.pk)
    )

    assert response.status_code == 404


def test_the_staff_quote_page_shows_the_decision_and_the_certificate(
    portal_client, portal_reverse, portal_organization, quote, staff_member
):
    # given: the contact accepted in the portal
    portal_client.post(
        portal_reverse(portal_organization, "portal:quote_accept", pk=quote.pk),
        accept_form(quote),
        REMOTE_ADDR="198.51.100.23",
        HTTP_USER_AGENT=PHONE,
    )
    decision = QuoteDecision.objects.get(quote=quote)
    staff = Client()
    staff.force_login(staff_member)

    # when
    page = staff.get(f"/app/quotes/{quote.pk}/")
    certificate = staff.get(f"/app/quotes/{quote.pk}/certificate/")

    # then
    html = page.content.decode()
    assert "Customer decision" in html
    assert "Accepted in the portal" in html
    assert "Ada Lovelace" in html
    assert "198.51.100.23" in html
    assert decision.content_hash[:12] in html
    assert f"/app/quotes/{quote.pk}/certificate/" in html
    assert certificate.status_code == 200
    assert certificate.content.startswith(b"%PDF")
    assert "Ada Lovelace" in pdf_text(certificate.content)
