"""Many e-mails from one template (``email_queue_many``): rendered once with
marks for each recipient's values, yet exactly what ``email_queue`` writes."""

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from portico.mail import services
from portico.mail.models import EmailStatus, OutboundEmail, secret_placeholder
from portico.mail.services import EmailBatch, EmailDraft

NAMES = ["Ada", 'Tom & Jerry\'s <b>"Café"</b>', "Zoë 山田", ""]


class Rollback(Exception):
    pass


def drafts(names: list[str]) -> list[EmailDraft]:
    return [
        EmailDraft(
            to_email=f"customer{number}@example.com",
            to_name=name,
            context={"name": name},
            secrets={"link": f"https://example.com/secret/{number}"},
        )
        for number, name in enumerate(names)
    ]


def one_by_one(organization, template: str, names: list[str]) -> list[OutboundEmail]:
    return [
        services.email_queue(
            organization=organization,
            kind="tests.notice",
            to_email=f"customer{number}@example.com",
            to_name=name,
            template=template,
            context={"name": name, "number": 7},
            secrets={"link": f"https://example.com/secret/{number}"},
            language="fr",
        )
        for number, name in enumerate(names)
    ]


def assert_same_emails(many: list[OutboundEmail], single: list[OutboundEmail]) -> None:
    assert len(many) == len(single)
    for bulk, alone in zip(many, single, strict=True):
        for name in (
            "to_email",
            "to_name",
            "from_email",
            "reply_to",
            "language",
            "subject",
            "body_text",
            "body_html",
            "secret_values",
            "status",
            "attempts",
        ):
            assert getattr(bulk, name) == getattr(alone, name), name


@pytest.mark.django_db
@pytest.mark.parametrize("template_name", ["notice", "shout"])
def test_many_emails_are_the_emails_email_queue_writes_one_by_one(
    organization, notice_template, template_name
):
    # Given recipients whose names need escaping in HTML (and one without a
    # name); "shout" transforms the name (|upper, |default), "notice" prints it
    template = f"mail_tests/{template_name}"

    # When they are queued together, and one by one
    count = services.email_queue_many(
        organization=organization,
        kind="tests.notice",
        template=template,
        context={"number": 7},
        language="fr",
        drafts=drafts(NAMES),
    )
    many = list(OutboundEmail.objects.order_by("id"))
    single = one_by_one(organization, template, NAMES)

    # Then each message is the same
    assert count == 4
    assert_same_emails(many, single)
    for email in many:
        assert email.status == EmailStatus.QUEUED
        assert email.message_id.endswith("@portico.test>")
        assert email.created_at is not None and email.next_attempt_at is not None
    # and the private links are kept out of the bodies ("shout" prints one)
    if template_name == "shout":
        assert secret_placeholder("link") in many[0].body_text
        assert secret_placeholder("link") in many[0].body_html
    assert many[0].secret_values == {"link": "https://example.com/secret/0"}
    assert "https://example.com/secret/" not in many[0].body_text + many[0].body_html


@pytest.mark.django_db
def test_the_escaping_follows_each_part(organization, notice_template):
    # When a name with HTML's special characters is queued
    services.email_queue_many(
        organization=organization,
        kind="tests.notice",
        template=notice_template,
        context={"number": 1},
        language="en",
        drafts=drafts(["Tom & Jerry's <b>"]),
    )

    # Then the HTML escapes it, the text and the subject do not
    email = OutboundEmail.objects.get()
    assert email.subject == "Notice for Tom & Jerry's <b>"
    assert "Hello Tom & Jerry's <b>," in email.body_text
    assert "Hello Tom &amp; Jerry&#x27;s &lt;b&gt;," in email.body_html


@pytest.mark.django_db
def test_a_batch_renders_its_template_once_for_every_recipient(
    organization, notice_template, monkeypatch
):
    # Given a batch used for two groups of recipients (a bulk job's chunks)
    renders = []
    real_render = services.render_email
    monkeypatch.setattr(
        services, "render_email", lambda **kwargs: renders.append(1) or real_render(**kwargs)
    )
    batch = EmailBatch(
        organization=organization,
        kind="tests.notice",
        template=notice_template,
        language="en",
        context={"number": 1},
    )

    # When it queues 50, then 50 more
    batch.queue(drafts([f"Customer {number}" for number in range(50)]))
    batch.queue(drafts([f"Customer {number}" for number in range(50, 100)]))

    # Then the templates were rendered three times in all: once with marks,
    # twice for the probes, not once per recipient
    assert len(renders) == 3
    assert OutboundEmail.objects.count() == 100


@pytest.mark.django_db
def test_every_draft_must_bring_the_same_values_and_secrets(organization, notice_template):
    batch = EmailBatch(
        organization=organization,
        kind="tests.notice",
        template=notice_template,
        language="en",
        context={"number": 1},
    )
    with pytest.raises(ValueError, match="same keys"):
        batch.queue([*drafts(["Ada"]), EmailDraft(to_email="x@example.com", context={})])
    with pytest.raises(ValueError, match="same secrets"):
        batch.queue([EmailDraft(to_email="x@example.com", context={"name": "X"})])
    with pytest.raises(TypeError, match="must be a str"):
        batch.queue([EmailDraft(to_email="x@example.com", context={"name": 1})])


@pytest.mark.django_db(transaction=True)
def test_many_emails_commit_with_one_delivery_task_or_not_at_all(organization, notice_template):
    # When many e-mails are queued in a transaction that rolls back
    with pytest.raises(Rollback), transaction.atomic():
        services.email_queue_many(
            organization=organization,
            kind="tests.notice",
            template=notice_template,
            context={"number": 1},
            language="en",
            drafts=drafts(NAMES),
        )
        raise Rollback
    # Then nothing is left behind
    assert not OutboundEmail.objects.exists()
    assert not DBTaskResult.objects.exists()

    # When they are queued in one that commits
    with transaction.atomic():
        services.email_queue_many(
            organization=organization,
            kind="tests.notice",
            template=notice_template,
            context={"number": 1},
            language="en",
            drafts=drafts(NAMES),
        )
    # Then they come with one delivery task
    assert OutboundEmail.objects.count() == 4
    assert DBTaskResult.objects.count() == 1
