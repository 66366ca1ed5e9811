"""An outbox row as the bytes sent over SMTP, composed quickly.

Django's ``EmailMultiAlternatives`` builds a ``email.mime`` tree and flattens
it with the ``email`` package's generator: about 1.5 ms a message, most of it
folding headers that need no folding. Delivering thousands of invitations,
that was the worker's largest cost. ``message_bytes`` writes the same message
(``multipart/alternative`` with a plain-text and an HTML part, UTF-8, 7bit or
8bit like Django) directly, in about 50 µs.

``send`` then hands it to the server as ``smtplib.sendmail`` would.

It covers the common case only and returns ``None`` for anything else — an
address that is not ASCII, a header holding a line break, a body line longer
than SMTP allows — and the caller then sends through Django's composer, which
handles (or refuses) those.
"""

import base64
import functools
import re
import secrets
import smtplib
import string
import time
from email import quoprimime
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr

from django.conf import settings

from portico.mail.models import OutboundEmail

# RFC 5322: a line is at most 998 characters (octets) without its CRLF.
MAX_LINE_OCTETS = 998
# A header shorter than this goes out as is; a longer one is folded.
FOLD_AT = 78
CRLF = "\r\n"
# A line starting with "." is sent as ".." (RFC 5321 § 4.5.2), as smtplib does.
_LEADING_DOT = re.compile(rb"(?m)^\.")


def envelope_sender(email: OutboundEmail) -> str:
    """The bare address for ``MAIL FROM`` (as smtplib derives it from the header)."""
    return _parsed_address(email.from_email)[1]


def message_bytes(email: OutboundEmail) -> bytes | None:
    """The message for ``email`` with its secrets filled in, or None when
    Django's composer must build it (see the module's docstring)."""
    headers = _headers(email)
    if headers is None:
        return None
    text = _body(email.with_secrets(email.body_text))
    if text is None:
        return None
    if not email.body_html:
        return _join(headers + _part_headers("plain", text), text)
    html = _body(email.with_secrets(email.body_html, escape_html=True))
    if html is None:
        return None
    boundary = _boundary(text, html)
    headers.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    body = CRLF.join(
        [
            f"--{boundary}",
            *_part_headers("plain", text),
            "",
            text,
            f"--{boundary}",
            *_part_headers("html", html),
            "",
            html,
            f"--{boundary}--",
            "",
        ]
    )
    return _join(headers, body)


def _join(headers: list[str], body: str) -> bytes:
    return (CRLF.join(headers) + CRLF + CRLF + body).encode("utf-8")


def _headers(email: OutboundEmail) -> list[str] | None:
    sender = _stored_address_header(email.from_email)
    recipient = _address_header(email.to_name, email.to_email)
    reply_to = _stored_address_header(email.reply_to) if email.reply_to else ""
    subject = _unstructured_header("Subject", email.with_secrets(email.subject))
    if sender is None or recipient is None or reply_to is None or subject is None:
        return None
    if not _safe_header(email.message_id) or not email.message_id.isascii():
        return None
    headers = [
        f"Subject: {subject}",
        f"From: {sender}",
        f"To: {recipient}",
        f"Date: {_date()}",
        f"Message-ID: {email.message_id}",
    ]
    if reply_to:
        headers.append(f"Reply-To: {reply_to}")
    headers.append("MIME-Version: 1.0")
    return headers


def _date() -> str:
    """The Date header's value: the same for every message sent in one second."""
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache[:] = [second, formatdate(second, localtime=settings.EMAIL_USE_LOCALTIME)]
    return _date_cache[1]


_date_cache: list = [None, ""]


@functools.lru_cache(maxsize=256)
def _stored_address_header(value: str) -> str | None:
    """The header for a stored ``Name <address>`` (a batch's messages share
    their sender and reply-to address)."""
    return _address_header(*_parsed_address(value))


def _safe_header(value: str) -> bool:
    """No line breaks: a header value must never start a header of its own."""
    return "\n" not in value and "\r" not in value


@functools.lru_cache(maxsize=256)
def _parsed_address(value: str) -> tuple[str, str]:
    """(name, address) of a stored ``Name <address>``: a batch's messages share
    their sender, and parsing is the slow part of composing a message."""
    return parseaddr(value)


def _address_header(name: str, address: str) -> str | None:
    """``Name <address>`` with the name quoted or RFC 2047-encoded as needed."""
    if not _safe_header(name) or not _safe_header(address):
        return None
    if not address or "@" not in address or not address.isascii():
        return None  # an internationalised address: Django's composer knows IDNA
    if name.isascii():
        header = formataddr((name, address))
        return header if len(header) < FOLD_AT else _fold_ascii(header)
    return f"{_encoded_word(name)} <{address}>"


# Bytes an RFC 2047 "Q" encoded word keeps as they are (space becomes "_").
_Q_PLAIN = b"-!*+/ " + string.ascii_letters.encode() + string.digits.encode()


def _encoded_word(name: str) -> str:
    """What ``formataddr((name, address), charset="utf-8")`` writes for a
    non-ASCII name: one encoded word, "B" or "Q" whichever is shorter, as
    ``email.charset`` chooses for UTF-8; without building a ``Charset`` and
    measuring the "Q" form byte by byte for every message."""
    data = name.encode("utf-8")
    length_b = (len(data) + 2) // 3 * 4
    length_q = len(data) + 2 * len(data.translate(None, _Q_PLAIN))
    if length_b < length_q:
        return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="
    return quoprimime.header_encode(data, "utf-8")


@functools.lru_cache(maxsize=256)
def _unstructured_header(name: str, value: str) -> str | None:
    """A header's value, RFC 2047-encoded and folded when needed (a batch's
    messages share their subject: encoding a non-ASCII one took ~300 µs)."""
    if not _safe_header(value):
        return None
    if value.isascii() and len(name) + 2 + len(value) < FOLD_AT:
        return value
    charset = "us-ascii" if value.isascii() else "utf-8"
    return Header(value, charset, header_name=name).encode(linesep=CRLF)


def _fold_ascii(header: str) -> str:
    """A long ASCII address header, folded at spaces (RFC 5322 § 2.2.3)."""
    return Header(header, "us-ascii", header_name="From").encode(linesep=CRLF)


def _body(text: str) -> str | None:
    """``text`` with CRLF line ends; None if a line is longer than SMTP allows."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if len(text) > MAX_LINE_OCTETS // 4 and max(map(len, lines)) > MAX_LINE_OCTETS // 4:
        for line in lines:
            if len(line) > MAX_LINE_OCTETS // 4 and len(line.encode("utf-8")) > MAX_LINE_OCTETS:
                return None
    return CRLF.join(lines)


def _part_headers(subtype: str, body: str) -> list[str]:
    encoding = "7bit" if body.isascii() else "8bit"
    return [
        f'Content-Type: text/{subtype}; charset="utf-8"',
        f"Content-Transfer-Encoding: {encoding}",
    ]


def _boundary(*bodies: str) -> str:
    while True:
        boundary = f"=_portico_{secrets.token_hex(16)}"
        if not any(boundary in body for body in bodies):
            return boundary


def _plain_address(address: str) -> bool:
    return address.isascii() and not any(char in address for char in "<>\r\n \t")


def send(smtp: smtplib.SMTP, *, sender: str, recipient: str, data: bytes) -> None:
    """``smtp.sendmail(sender, [recipient], data)`` for bare addresses (see
    ``Session``, which also sends the next message's commands ahead)."""
    Session(smtp).send(sender=sender, recipient=recipient, data=data)


class Session:
    """Messages sent one after the other over one open smtplib session.

    The same commands, replies and exceptions as ``smtplib.sendmail``, without
    parsing both addresses again for every message. When the server offers
    PIPELINING (RFC 2920; Postfix does), MAIL, RCPT and DATA go in one write,
    and ``send(..., then=(sender, recipient))`` puts the *next* message's
    MAIL, RCPT and DATA in the same write as this message's content (RFC 2920
    § 3.1: message content may start a group): one write and one round trip
    per message instead of two (or four without PIPELINING).

    Sending commands ahead commits the caller to sending that message next:
    the server then waits for its content. ``abandon()`` (or a message to
    another envelope) closes the connection instead, and the server drops the
    unfinished transaction; nothing is delivered for it.
    """

    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp
        self._pipelining: bool | None = None  # known after EHLO, at the first message
        # The envelope whose DATA got its 354: the server waits for its content.
        self._open: tuple[str, str] | None = None
        # An envelope sent ahead and refused: the error its send() raises.
        self._refused: tuple[tuple[str, str], Exception] | None = None

    @property
    def waiting(self) -> bool:
        """Whether the server waits for the content of a message sent ahead."""
        return self._open is not None

    def send(
        self,
        *,
        sender: str,
        recipient: str,
        data: bytes,
        then: tuple[str, str] | None = None,
    ) -> None:
        envelope = (sender, recipient)
        if self._refused is not None and self._refused[0] == envelope:
            error = self._refused[1]
            self._refused = None
            raise error
        self._refused = None
        if self._open is not None and self._open != envelope:
            self.abandon()
            raise smtplib.SMTPServerDisconnected("a message sent ahead was not sent")
        if self._open is None:
            if not (_plain_address(sender) and _plain_address(recipient)):
                self.smtp.sendmail(sender, [recipient], data)
                return
            self._envelope(sender, recipient)
        self._open = None
        # The message itself, as smtplib.SMTP.data sends it after the 354.
        message = data
        if message.startswith(b".") or b"\n." in message:
            message = _LEADING_DOT.sub(b"..", message)
        if not message.endswith(b"\r\n"):
            message += b"\r\n"
        message += b".\r\n"
        ahead = (
            then
            if then is not None and self._pipelining and all(map(_plain_address, then))
            else None
        )
        if ahead is not None:
            message += _commands(*ahead)
        self.smtp.send(message)
        code, reply = self.smtp.getreply()
        if code == 421:  # the server closes: nothing after it is read
            self.smtp.close()
            raise smtplib.SMTPDataError(code, reply)
        if ahead is not None:
            self._read_ahead(ahead)
        if code != 250:
            if ahead is None:
                _give_up(self.smtp, code)
            # else the transaction ended with the reply, and the one sent
            # ahead has begun (or was already reset): nothing to reset
            raise smtplib.SMTPDataError(code, reply)

    def abandon(self) -> None:
        """Close the connection if the server waits for a message sent ahead."""
        if self._open is not None:
            self._open = None
            self.smtp.close()

    def _envelope(self, sender: str, recipient: str) -> None:
        """MAIL, RCPT and DATA for one message; raises as smtplib does."""
        smtp = self.smtp
        if self._pipelining is None:
            smtp.ehlo_or_helo_if_needed()
            self._pipelining = bool(smtp.has_extn("pipelining"))
        if self._pipelining:
            smtp.send(_commands(sender, recipient))
            mail, rcpt, data_reply = smtp.getreply(), smtp.getreply(), smtp.getreply()
        else:
            # A command is sent only after the one before it succeeded.
            mail = smtp.docmd("mail", f"FROM:<{sender}>")
            rcpt = smtp.docmd("rcpt", f"TO:<{recipient}>") if mail[0] == 250 else (0, b"")
            data_reply = smtp.docmd("data") if rcpt[0] in (250, 251) else (0, b"")
        error = self._envelope_error(sender, recipient, mail, rcpt, data_reply)
        if error is not None:
            raise error

    def _read_ahead(self, envelope: tuple[str, str]) -> None:
        """The replies to MAIL, RCPT and DATA sent ahead of ``envelope``'s message."""
        try:
            replies = self.smtp.getreply(), self.smtp.getreply(), self.smtp.getreply()
            error = self._envelope_error(*envelope, *replies)
        except (smtplib.SMTPException, OSError) as lost:
            # This message was accepted; the next one finds the session gone.
            self.smtp.close()
            error = lost
        if error is None:
            self._open = envelope
        else:
            self._refused = (envelope, error)

    def _envelope_error(
        self, sender: str, recipient: str, mail, rcpt, data_reply
    ) -> Exception | None:
        """None when the server waits for the content, else the error to raise
        (the session reset, or closed after a 421, as smtplib leaves it)."""
        expected = ((mail, (250,)), (rcpt, (250, 251)), (data_reply, (354,)))
        failed = next((reply for reply, codes in expected if reply[0] not in codes), None)
        if failed is None:
            return None
        if data_reply[0] == 354:
            # The server waits for a message anyway: end an empty one (RFC 2920 § 3.1).
            self.smtp.send(".\r\n")
            self.smtp.getreply()
        _give_up(self.smtp, failed[0])
        if failed is mail:
            return smtplib.SMTPSenderRefused(*mail, sender)
        if failed is rcpt:
            return smtplib.SMTPRecipientsRefused({recipient: rcpt})
        return smtplib.SMTPDataError(*data_reply)


def _commands(sender: str, recipient: str) -> bytes:
    return f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode()


def _give_up(smtp: smtplib.SMTP, code: int) -> None:
    """As smtplib: a 421 closes the session, anything else resets the transaction."""
    if code == 421:
        smtp.close()
    else:
        smtp._rset()
