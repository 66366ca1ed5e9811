"""A real SMTP server for tests: aiosmtpd on a free 127.0.0.1 port.

Use the ``smtp_server`` fixture (import it into an app's ``conftest.py``): it
starts the server and points Django's SMTP backend at it, so mail goes over a
socket exactly as in production. The server records every message it accepts
and counts SMTP sessions, can refuse chosen recipients, and can be stopped
and started again on the same port to play a server that is down.
"""

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class ReceivedMessage:
    """One message the server accepted: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def body(self, content_type: str) -> str:
        """The decoded text of the ``text/plain`` or ``text/html`` part."""
        part = self.message.get_body(preferencelist=(content_type.split("/")[1],))
        if part is None or part.get_content_type() != content_type:
            raise AssertionError(f"no {content_type} part in {self.subject!r}")
        return part.get_content()


class RecordingHandler:
    """aiosmtpd handler: accepts mail, records it, refuses what it is told to.

    Hooks run in the server's thread; the client waits for each reply, so a
    message is recorded before ``send()`` returns in the test's thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: list[ReceivedMessage] = []
        self.sessions = 0
        # address (lower case) → SMTP reply given to RCPT TO, e.g. "550 5.1.1 …"
        self.refused_recipients: dict[str, str] = {}
        # replies given to the next DATA commands, one each, before accepting again
        self.data_replies: list[str] = []
        # seconds the next DATA commands wait before replying, one each
        self.data_delays: list[float] = []

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses
    ) -> list[str]:
        with self._lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_HELO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        with self._lock:
            self.sessions += 1
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options
    ) -> str:
        reply = self.refused_recipients.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            delay = self.data_delays.pop(0) if self.data_delays else 0
        if delay:
            await asyncio.sleep(delay)
        with self._lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.received.append(
                ReceivedMessage(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    message=parsed,
                )
            )
        return "250 Message accepted for delivery"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class SMTPTestServer:
    """An aiosmtpd server bound to one port for its whole life, startable again."""

    def __init__(self, *, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.handler = RecordingHandler()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:
            controller = Controller(self.handler, hostname=self.host, port=self.port)
            controller.start()
            self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[ReceivedMessage]:
        return list(self.handler.received)

    @property
    def sessions(self) -> int:
        """SMTP sessions opened (EHLO/HELO seen), i.e. connections used to send."""
        return self.handler.sessions

    def refuse_recipient(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        self.handler.refused_recipients[address.lower()] = reply

    def reply_to_next_data(self, *replies: str) -> None:
        """Answer the next DATA commands with ``replies`` (e.g. "421 …") instead of 250."""
        self.handler.data_replies.extend(replies)

    def delay_next_data(self, *seconds: float) -> None:
        """Make the next DATA commands take ``seconds`` each: a slow server."""
        self.handler.data_delays.extend(seconds)


@pytest.fixture
def smtp_server(settings) -> Iterator[SMTPTestServer]:
    """A running SMTP server, with Django's SMTP backend pointed at it."""
    server = SMTPTestServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    server.start()
    try:
        yield server
    finally:
        server.stop()
