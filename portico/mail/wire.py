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

import functools
import re
import secrets
import smtplib
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
    sender = _address_header(*_parsed_address(email.from_email))
    recipient = _address_header(email.to_name, email.to_email)
    reply_to = _address_header(*_parsed_address(email.reply_to)) if email.reply_to else ""
    subject = _unstructured_header("Subject", email.with_secrets(email.subject))
    if sender is None or recipient is None or reply_to is None or subject is None:
        return None
    if not _safe_header(email.message_id) or not email.message_id.isascii():
        return None
    headers = [
        f"Subject: {subject}",
        f"From: {sender}",
        f"To: {recipient}",
        f"Date: {formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}",
        f"Message-ID: {email.message_id}",
    ]
    if reply_to:
        headers.append(f"Reply-To: {reply_to}")
    headers.append("MIME-Version: 1.0")
    return headers


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
    return formataddr((name, address), charset="utf-8").replace("\n", CRLF)


def _unstructured_header(name: str, value: str) -> str | None:
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
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
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
    """``smtp.sendmail(sender, [recipient], data)`` for bare addresses.

    The same commands, replies and exceptions as smtplib, without parsing
    both addresses again for every message; and when the server offers
    PIPELINING (RFC 2920; Postfix does), MAIL, RCPT and DATA go in one write:
    two round trips per message instead of four.
    """
    if not (_plain_address(sender) and _plain_address(recipient)):
        smtp.sendmail(sender, [recipient], data)
        return
    smtp.ehlo_or_helo_if_needed()
    if smtp.has_extn("pipelining"):
        smtp.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n")
        mail, rcpt, data_reply = smtp.getreply(), smtp.getreply(), smtp.getreply()
    else:
        # A command is sent only after the one before it succeeded.
        mail = smtp.docmd("mail", f"FROM:<{sender}>")
        rcpt = smtp.docmd("rcpt", f"TO:<{recipient}>") if mail[0] == 250 else (0, b"")
        data_reply = smtp.docmd("data") if rcpt[0] in (250, 251) else (0, b"")
    expected = ((mail, (250,)), (rcpt, (250, 251)), (data_reply, (354,)))
    failed = next((reply for reply, codes in expected if reply[0] not in codes), None)
    if failed is not None:
        if data_reply is not None and data_reply[0] == 354:
            # The server waits for a message anyway: end an empty one (RFC 2920 § 3.1).
            smtp.send(".\r\n")
            smtp.getreply()
        _give_up(smtp, failed[0])
        if failed is mail:
            raise smtplib.SMTPSenderRefused(*mail, sender)
        if failed is rcpt:
            raise smtplib.SMTPRecipientsRefused({recipient: rcpt})
        raise smtplib.SMTPDataError(*data_reply)
    # The message itself, as smtplib.SMTP.data sends it after the 354.
    message = _LEADING_DOT.sub(b"..", data)
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    smtp.send(message + b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        _give_up(smtp, code)
        raise smtplib.SMTPDataError(code, reply)


def _give_up(smtp: smtplib.SMTP, code: int) -> None:
    """As smtplib: a 421 closes the session, anything else resets the transaction."""
    if code == 421:
        smtp.close()
    else:
        smtp._rset()
