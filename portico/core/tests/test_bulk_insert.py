"""``rows_insert``: many rows of one model in one go, shared values prepared once."""

import pytest
from django.utils import timezone

from portico.core.bulk_insert import rows_insert
from portico.mail.models import EmailStatus, OutboundEmail


def shared(organization) -> dict:
    return {
        "organization_id": organization.pk,
        "kind": "tests.notice",
        "from_email": "Portico <no-reply@portico.test>",
        "language": "en",
        "subject": "Hello",
        "body_text": "Hello",
        "next_attempt_at": timezone.now(),
    }


@pytest.mark.django_db
def test_rows_get_their_own_values_the_shared_ones_and_the_defaults(organization):
    # When two rows are inserted with their own values and shared ones
    before = timezone.now()
    count = rows_insert(
        model=OutboundEmail,
        rows=[
            {"to_email": "a@example.com", "message_id": "<a@x>", "secret_values": {"k": "é"}},
            {"to_email": "b@example.com", "message_id": "<b@x>", "secret_values": {}},
        ],
        shared=shared(organization),
    )

    # Then each row reads back as if created through the ORM
    assert count == 2
    first, second = OutboundEmail.objects.order_by("to_email")
    assert (first.to_email, first.message_id, first.secret_values) == (
        "a@example.com",
        "<a@x>",
        {"k": "é"},
    )
    assert second.secret_values == {}
    for row in (first, second):
        assert row.organization_id == organization.pk
        assert (row.status, row.attempts, row.to_name, row.claimed_until) == (
            EmailStatus.QUEUED,
            0,
            "",
            None,
        )
        assert row.created_at >= before and row.updated_at >= before


@pytest.mark.django_db
def test_a_mistake_in_the_rows_inserts_nothing(organization):
    with pytest.raises(ValueError, match="no field nonsense"):
        rows_insert(model=OutboundEmail, rows=[{"nonsense": 1}], shared=shared(organization))
    without_time = {k: v for k, v in shared(organization).items() if k != "next_attempt_at"}
    with pytest.raises(ValueError, match="no value for OutboundEmail.next_attempt_at"):
        rows_insert(
            model=OutboundEmail,
            rows=[{"to_email": "a@example.com", "message_id": "<a@x>"}],
            shared=without_time,
        )
    with pytest.raises(ValueError, match="same keys"):
        rows_insert(
            model=OutboundEmail,
            rows=[
                {"to_email": "a@example.com", "message_id": "<a@x>"},
                {"to_email": "b@example.com"},
            ],
            shared=shared(organization),
        )
    assert not OutboundEmail.objects.exists()
    assert rows_insert(model=OutboundEmail, rows=[], shared={}) == 0
