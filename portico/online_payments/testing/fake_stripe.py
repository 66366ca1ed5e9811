"""A local imitation of the parts of Stripe's HTTP API that Portico uses.

Tests start it on a free port (the ``fake_stripe`` fixture) and point the
Stripe SDK at it through ``settings.STRIPE_API_BASE``, so Portico's real
requests cross a real HTTP boundary and nothing leaves the machine.

It answers like Stripe for:

- ``POST /v1/checkout/sessions``: creates a Checkout Session (validates the
  fields Stripe insists on: mode, line items with integer ``unit_amount``,
  success URL, ``expires_at`` 30 minutes to 24 hours ahead); replays the same
  answer for a repeated ``Idempotency-Key`` and refuses the key with other
  parameters, as Stripe does;
- ``GET /v1/checkout/sessions/<id>``;
- ``POST /v1/checkout/sessions/<id>/expire`` (only an open session).

Every request is recorded (method, path, query, decoded form fields with
Stripe's bracketed keys, headers) for assertions. ``fail_next`` makes the
next requests answer an error; ``session_pay`` / ``session_expire`` play what
happens at Stripe after the redirect; ``event`` builds the webhook event
Stripe would send, and ``stripe_signature_header`` signs it like Stripe.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

SESSIONS_PATH = "/v1/checkout/sessions"
MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 60 * 60


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]  # lower-case names

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class _Failure:
    status: int
    error_type: str
    message: str
    code: str = ""


@dataclass
class FakeStripe:
    """The fake's state; ``start()`` serves it on 127.0.0.1, ``stop()`` ends it."""

    sessions: dict[str, dict] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    base_url: str = ""
    _idempotent: dict[str, tuple[dict, int, dict]] = field(default_factory=dict)
    _failures: deque = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # --- life ------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 - http.server's naming
                fake._answer(self, "GET")

            def do_POST(self):  # noqa: N802
                fake._answer(self, "POST")

            def do_DELETE(self):  # noqa: N802
                fake._answer(self, "DELETE")

            def log_message(self, format, *args):  # noqa: A002 - quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- what tests do ---------------------------------------------------------------

    def fail_next(
        self,
        status: int = 500,
        *,
        times: int = 1,
        error_type: str = "api_error",
        message: str = "An unexpected error occurred.",
        code: str = "",
    ) -> None:
        """The next ``times`` requests answer ``status`` with Stripe's error body."""
        with self._lock:
            for _ in range(times):
                self._failures.append(_Failure(status, error_type, message, code))

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    def session_creations(self) -> list[RecordedRequest]:
        return self.requests_to("POST", SESSIONS_PATH)

    def session_pay(self, session_id: str, *, payment_status: str = "paid") -> dict:
        """The customer paid on Stripe's page (``payment_status="unpaid"``: a
        delayed method such as a bank debit, completed but not yet paid)."""
        with self._lock:
            session = self.sessions[session_id]
            session["status"] = "complete"
            session["payment_status"] = payment_status
            session["payment_intent"] = session["payment_intent"] or ("pi_" + secrets.token_hex(12))
            return dict(session)

    def session_expire(self, session_id: str) -> dict:
        with self._lock:
            session = self.sessions[session_id]
            session["status"] = "expired"
            return dict(session)

    def event(
        self,
        event_type: str,
        session_or_id: str | dict,
        *,
        event_id: str | None = None,
        created: int | None = None,
    ) -> bytes:
        """The JSON body of the webhook event Stripe sends about a session."""
        if isinstance(session_or_id, dict):
            session = session_or_id
        else:
            with self._lock:
                session = dict(self.sessions[session_or_id])
        return stripe_event_payload(event_type, session, event_id=event_id, created=created)

    # --- the HTTP side ---------------------------------------------------------------

    def _answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        form = {key: values[-1] for key, values in parse_qs(body, keep_blank_values=True).items()}
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        headers = {name.lower(): value for name, value in handler.headers.items()}
        recorded = RecordedRequest(method, url.path, query, form, headers)
        with self._lock:
            self.requests.append(recorded)
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            error = {"type": failure.error_type, "message": failure.message}
            if failure.code:
                error["code"] = failure.code
            self._send(handler, failure.status, {"error": error})
            return
        if not headers.get("authorization", "").startswith("Bearer sk_"):
            self._send(
                handler,
                401,
                {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}},
            )
            return
        status, payload = self._route(recorded)
        self._send(handler, status, payload)

    def _route(self, request: RecordedRequest) -> tuple[int, dict]:
        path = request.path.rstrip("/")
        if request.method == "POST" and path == SESSIONS_PATH:
            return self._idempotent_create(request)
        if path.startswith(SESSIONS_PATH + "/"):
            rest = path[len(SESSIONS_PATH) + 1 :].split("/")
            with self._lock:
                session = self.sessions.get(rest[0])
                if session is None:
                    return 404, _error(
                        f"No such checkout.session: '{rest[0]}'", code="resource_missing"
                    )
                if request.method == "GET" and len(rest) == 1:
                    return 200, dict(session)
                if request.method == "POST" and rest[1:] == ["expire"]:
                    if session["status"] != "open":
                        return 400, _error(
                            'Only Checkout Sessions with a status in ["open"] can be expired.'
                        )
                    session["status"] = "expired"
                    return 200, dict(session)
        return 404, _error(f"Unrecognized request URL ({request.method}: {request.path}).")

    def _idempotent_create(self, request: RecordedRequest) -> tuple[int, dict]:
        key = request.idempotency_key
        with self._lock:
            if key and key in self._idempotent:
                payload, status, form = self._idempotent[key]
                if form != request.form:
                    return 400, _error(
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.",
                        error_type="idempotency_error",
                    )
                return status, payload
        status, payload = self._session_create(request.form)
        with self._lock:
            if key:
                self._idempotent[key] = (payload, status, request.form)
        return status, payload

    def _session_create(self, form: dict[str, str]) -> tuple[int, dict]:
        if form.get("mode") != "payment":
            return 400, _error("Missing required param: mode.", param="mode")
        if not form.get("success_url"):
            return 400, _error("Missing required param: success_url.", param="success_url")
        lines = []
        index = 0
        while f"line_items[{index}][quantity]" in form:
            prefix = f"line_items[{index}]"
            unit_amount = form.get(f"{prefix}[price_data][unit_amount]", "")
            if not unit_amount.isdigit():
                return 400, _error(
                    "Invalid integer: " + unit_amount, param=f"{prefix}[price_data][unit_amount]"
                )
            lines.append(
                {
                    "currency": form.get(f"{prefix}[price_data][currency]", ""),
                    "name": form.get(f"{prefix}[price_data][product_data][name]", ""),
                    "unit_amount": int(unit_amount),
                    "quantity": int(form[f"{prefix}[quantity]"]),
                }
            )
            index += 1
        if not lines:
            return 400, _error("Missing required param: line_items.", param="line_items")
        currencies = {line["currency"] for line in lines}
        if len(currencies) != 1 or not next(iter(currencies)).islower():
            return 400, _error("Line items must share one lower-case currency.")
        now = int(time.time())
        expires_at = int(form.get("expires_at") or now + MAX_EXPIRY_SECONDS)
        if not now + MIN_EXPIRY_SECONDS <= expires_at <= now + MAX_EXPIRY_SECONDS:
            return 400, _error(
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                "Checkout Session creation.",
                param="expires_at",
            )
        session_id = "cs_test_" + secrets.token_hex(16)
        metadata = {
            key[len("metadata[") : -1]: value
            for key, value in form.items()
            if key.startswith("metadata[")
        }
        session = {
            "id": session_id,
            "object": "checkout.session",
            "livemode": False,
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": sum(line["unit_amount"] * line["quantity"] for line in lines),
            "currency": next(iter(currencies)),
            "client_reference_id": form.get("client_reference_id"),
            "customer_email": form.get("customer_email"),
            "metadata": metadata,
            "payment_intent": None,
            "success_url": form["success_url"],
            "cancel_url": form.get("cancel_url"),
            "expires_at": expires_at,
            "created": now,
            "url": f"{self.base_url}/checkout/pay/{session_id}",
            "_lines": lines,
        }
        with self._lock:
            self.sessions[session_id] = session
        return 200, dict(session)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict) -> None:
        body = json.dumps({k: v for k, v in payload.items() if not k.startswith("_")}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Request-Id", "req_" + secrets.token_hex(8))
        handler.end_headers()
        handler.wfile.write(body)


def _error(
    message: str, *, error_type: str = "invalid_request_error", code: str = "", param: str = ""
) -> dict:
    error = {"type": error_type, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return {"error": error}


def stripe_event_payload(
    event_type: str, session: dict, *, event_id: str | None = None, created: int | None = None
) -> bytes:
    """A Stripe event (API shape) about a Checkout Session, as JSON bytes."""
    event = {
        "id": event_id or "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": created or int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "type": event_type,
        "data": {"object": {k: v for k, v in session.items() if not k.startswith("_")}},
    }
    return json.dumps(event).encode()


def stripe_signature_header(payload: bytes | str, secret: str, *, timestamp: int | None = None):
    """``Stripe-Signature`` as Stripe computes it:
    t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    if isinstance(payload, bytes):
        payload = payload.decode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={signature}"


@pytest.fixture
def fake_stripe(settings):
    """A running fake Stripe; the Stripe SDK is pointed at it (no retries: fast failures)."""
    server = FakeStripe().start()
    settings.STRIPE_API_BASE = server.base_url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    try:
        yield server
    finally:
        server.stop()
