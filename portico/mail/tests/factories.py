import uuid

import factory
from django.utils import timezone

from portico.accounts.tests.factories import OrganizationFactory
from portico.mail.models import EmailStatus, OutboundEmail


class OutboundEmailFactory(factory.django.DjangoModelFactory):
    """An e-mail already in the outbox, due now (use email_queue to render one)."""

    class Meta:
        model = OutboundEmail

    organization = factory.SubFactory(OrganizationFactory)
    kind = "tests.notice"
    to_email = factory.Sequence(lambda n: f"customer{n}@example.com")
    from_email = "Portico <no-reply@portico.test>"
    language = "en"
    subject = factory.Sequence(lambda n: f"Notice {n}")
    body_text = "Hello,\n\nThis is a notice.\n"
    body_html = "<p>Hello,</p><p>This is a notice.</p>"
    message_id = factory.LazyFunction(lambda: f"<{uuid.uuid4().hex}@portico.test>")
    status = EmailStatus.QUEUED
    next_attempt_at = factory.LazyFunction(timezone.now)
