"""Private links (invitations, password resets) in the outbox.

Staff can read every e-mail of their organisation, so a stored body must
never hold a working token: a staff member could otherwise accept an owner's
invitation from the outbox. Bodies keep placeholders, the values are filled
in only when sending and wiped once the server took the message.
"""

import re

import pytest
from django.conf import settings

from portico.accounts import services as account_services
from portico.accounts.models import Role
from portico.accounts.tests.factories import MembershipFactory
from portico.mail.models import EmailStatus, OutboundEmail

INVITATION_LINK = re.compile(re.escape(settings.SITE_URL) + r"/invitation/[\w-]+/")


def invite_owner(membership) -> OutboundEmail:
    account_services.staff_invite(membership=membership, email="boss@example.com", role=Role.OWNER)
    return OutboundEmail.objects.get(kind="accounts.staff_invitation")


@pytest.mark.django_db
def test_the_stored_invitation_holds_no_token(membership):
    email = invite_owner(membership)

    assert not INVITATION_LINK.search(email.body_text)
    assert not INVITATION_LINK.search(email.body_html)
    assert INVITATION_LINK.search(email.with_secrets(email.body_text))
    assert INVITATION_LINK.search(email.with_secrets(email.body_html, escape_html=True))


@pytest.mark.django_db
def test_a_colleague_reading_the_outbox_cannot_see_the_invitation_link(client, membership):
    # given: an owner invites another owner; a staff-role colleague reads the outbox
    email = invite_owner(membership)
    colleague = MembershipFactory(organization=membership.organization, role=Role.STAFF)
    client.force_login(colleague.user)

    # when
    detail = client.get(f"/app/settings/emails/{email.pk}/")
    html = client.get(f"/app/settings/emails/{email.pk}/html/")

    # then
    assert detail.status_code == html.status_code == 200
    for page in (detail.text, html.text):
        assert not INVITATION_LINK.search(page)
        assert "PORTICO-SECRET" not in page
        assert "private link, sent only to the recipient" in page


@pytest.mark.django_db(transaction=True)
def test_the_recipient_gets_the_working_link_and_the_outbox_forgets_it(
    membership, smtp_server, run_db_worker
):
    # given
    email = invite_owner(membership)

    # when
    run_db_worker()

    # then: the recipient's message carries the link in both parts
    (received,) = smtp_server.received
    assert INVITATION_LINK.search(received.body("text/plain"))
    assert INVITATION_LINK.search(received.body("text/html"))
    # and the outbox no longer holds it
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert email.secret_values == {}
    # the link works: the invitee accepts with it
    token = INVITATION_LINK.search(received.body("text/plain")).group(0).rstrip("/").split("/")[-1]
    joined = account_services.staff_invitation_accept(
        token=token, full_name="Bo Boss", password="a-long-new-password-1"
    )
    assert joined.role == Role.OWNER
