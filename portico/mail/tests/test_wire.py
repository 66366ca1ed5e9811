"""The outbox's own message composer (``wire.message_bytes``): what a mail
client reads from it is what it reads from Django's ``EmailMultiAlternatives``."""

import email
import email.policy

import pytest

from portico.mail import wire
from portico.mail.models import OutboundEmail
from portico.mail.services import _build_message


def outbound(**fields) -> OutboundEmail:
    values = {
        "from_email": "Portico <no-reply@portico.test>",
        "to_email": "ada@example.com",
        "to_name": "Ada Lovelace",
        "reply_to": "office@business.example",
        "subject": "Your invitation",
        "body_text": "Hello Ada,\n\nOpen PORTICO-SECRET-link-PORTICO-SECRET\n",
        "body_html": '<p>Hello Ada,</p><a href="PORTICO-SECRET-link-PORTICO-SECRET">Open</a>',
        "message_id": "<abc123@portico.test>",
        "secret_values": {"link": "https://example.com/accept/t0k3n/?a=1&b=2"},
    }
    return OutboundEmail(**{**values, **fields})


def read(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def as_read(message: email.message.EmailMessage) -> dict:
    """What a mail client shows of a message."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return {
        "From": str(message["From"]),
        "To": str(message["To"]),
        "Reply-To": str(message["Reply-To"]) if message["Reply-To"] else None,
        # Django's folding of a long non-ASCII subject adds a leading space
        "Subject": str(message["Subject"]).strip(),
        "Message-ID": str(message["Message-ID"]),
        "text": text.get_content().replace("\r\n", "\n") if text else None,
        "html": html.get_content().replace("\r\n", "\n") if html else None,
        "type": message.get_content_type(),
    }


def django_bytes(outbound_email: OutboundEmail) -> bytes:
    return _build_message(outbound_email, connection=None).message().as_bytes(linesep="\r\n")


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {
            "to_name": 'Núñez, José "Pepe" 山田',
            "from_email": '"Café \\"Müller\\", GmbH" <a@b.test>',
        },
        {"subject": " ".join(["Einladung zum Kundenportal von Müller & Söhne — 東京"] * 3)},
        {"subject": " ".join(["A plain subject long enough to be folded by mail clients"] * 2)},
        {"to_name": "Zoë Lövelace-Brontë"},  # an encoded word "Q" is shorter than "B"
        {"to_name": "", "reply_to": ""},
        {"body_html": ""},
        {"body_text": "Grüße\r\nvon .\n.\n.dotted lines\n", "body_html": "<p>日本語</p>"},
    ],
)
def test_a_client_reads_the_same_message_as_from_django(fields):
    message = outbound(**fields)

    ours = wire.message_bytes(message)

    assert ours is not None
    assert as_read(read(ours)) == as_read(read(django_bytes(message)))
    assert all(len(line) <= 998 for line in ours.split(b"\r\n"))
    assert b"\n" not in ours.replace(b"\r\n", b"")  # CRLF line ends only


def test_the_private_link_is_filled_in_escaped_in_html():
    data = read(wire.message_bytes(outbound()))

    assert "Open https://example.com/accept/t0k3n/?a=1&b=2" in as_read(data)["text"]
    assert 'href="https://example.com/accept/t0k3n/?a=1&amp;b=2"' in as_read(data)["html"]


@pytest.mark.parametrize(
    "fields",
    [
        {"to_email": "josé@exämple.com"},  # an internationalised address
        {"to_name": "Ada\r\nBcc: everyone@example.com"},  # a header injection
        {"subject": "Hello\nBcc: everyone@example.com"},
        {"body_text": "x" * 999},  # longer than SMTP allows a line
    ],
)
def test_anything_unusual_is_left_to_djangos_composer(fields):
    assert wire.message_bytes(outbound(**fields)) is None
