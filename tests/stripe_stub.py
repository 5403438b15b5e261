"""A stand-in for the parts of Stripe's API the shop uses, served on 127.0.0.1 for the tests.

The real ``stripe`` SDK talks to it (tests point ``stripe.api_base`` here), so requests are built,
encoded, retried and parsed exactly as in production. It records every request, so tests can
assert amounts, currency, idempotency keys and metadata, and it behaves like Stripe where it
matters: form-encoded bodies, ``Idempotency-Key`` replay (same key and body: same answer; same key
and another body: an ``idempotency_error``), expiry limits of Checkout Sessions, refunds no larger
than what is left. It also builds signed webhook payloads with Stripe's ``t=…,v1=…`` scheme.
"""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]  # flat, as sent: {"line_items[0][price_data][unit_amount]": "110000", …}

    @property
    def params(self) -> dict[str, Any]:
        return nest(self.form)


def nest(form: dict[str, str]) -> dict[str, Any]:
    """``a[b][0][c]=1`` → ``{"a": {"b": [{"c": "1"}]}}`` (how Stripe reads form-encoded bodies)."""
    root: dict[str, Any] = {}
    for key, value in form.items():
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for part, nxt in zip(parts, parts[1:] + [None]):
            if nxt is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _lists(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            return [node[k] for k in sorted(node, key=int)]
    return node


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header for ``payload``: t=<ts>,v1=<hex HMAC-SHA256 of "ts.payload">."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class StripeStub:
    requests: list[Recorded] = field(default_factory=list)
    sessions: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    charged: dict[str, int] = field(default_factory=dict)  # payment_intent → amount
    # Answers to give before handling anything: [(status, error type, message, extra headers)].
    failures: list[tuple[int, str, str, dict]] = field(default_factory=list)
    # Handle the next request, then hang up without answering (a lost response).
    drop_next_response: bool = False

    def __post_init__(self):
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._idempotent: dict[str, tuple[dict, int, dict]] = {}
        self._server: ThreadingHTTPServer | None = None

    # -- life cycle --

    def start(self) -> "StripeStub":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                stub._serve(self, "GET")

            def do_POST(self):
                stub._serve(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.sessions.clear()
            self.refunds.clear()
            self.charged.clear()
            self.failures.clear()
            self.drop_next_response = False
            self._idempotent.clear()

    # -- what tests look at --

    def calls(self, method: str, path_prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def complete(self, session_id: str, *, payment_status: str = "paid", amount_total: int | None = None,
                 currency: str | None = None) -> dict:
        """The customer finishes Checkout: the session is complete (and paid, unless told otherwise)."""
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status=payment_status,
                           payment_intent=session["payment_intent"] or f"pi_test_{next(self._ids)}")
            if amount_total is not None:
                session["amount_total"] = amount_total
            if currency is not None:
                session["currency"] = currency
            if payment_status == "paid":
                self.charged[session["payment_intent"]] = session["amount_total"]
            return json.loads(json.dumps(session))

    def pay_async(self, session_id: str) -> dict:
        """A delayed payment method finally succeeds."""
        with self._lock:
            session = self.sessions[session_id]
            session["payment_status"] = "paid"
            self.charged[session["payment_intent"]] = session["amount_total"]
            return json.loads(json.dumps(session))

    def expire(self, session_id: str) -> dict:
        with self._lock:
            self.sessions[session_id].update(status="expired", url=None)
            return json.loads(json.dumps(self.sessions[session_id]))

    def charge(self, payment_intent: str) -> dict:
        """The Charge object of a payment, as ``charge.refunded`` carries it."""
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == payment_intent)
        amount = self.charged[payment_intent]
        return {"id": f"ch_{payment_intent[3:]}", "object": "charge", "amount": amount, "currency": "vnd",
                "payment_intent": payment_intent, "amount_refunded": refunded, "refunded": refunded >= amount}

    def refund_in_dashboard(self, payment_intent: str, amount: int) -> dict:
        """Staff refund in the Stripe Dashboard, outside the shop."""
        with self._lock:
            refund = {"id": f"re_test_{next(self._ids)}", "object": "refund", "amount": amount, "currency": "vnd",
                      "payment_intent": payment_intent, "status": "succeeded", "metadata": {}}
            self.refunds[refund["id"]] = refund
            return refund

    @staticmethod
    def event(type_: str, obj: dict, event_id: str | None = None) -> dict:
        return {"id": event_id or f"evt_test_{time.time_ns()}", "object": "event", "type": type_,
                "api_version": "2026-10-28.endive", "created": int(time.time()), "livemode": False,
                "data": {"object": obj}}

    # -- the server side --

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        path = handler.path.split("?", 1)[0]
        form = dict(parse_qsl(body, keep_blank_values=True))
        headers = {k: v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append(Recorded(method, path, headers, form))
            status, payload, extra = self._answer(method, path, form, headers)
            drop, self.drop_next_response = self.drop_next_response, False
        if drop:
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        raw = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        handler.send_header("Request-Id", f"req_{next(self._ids)}")
        for name, value in extra.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(raw)

    def _answer(self, method: str, path: str, form: dict, headers: dict) -> tuple[int, dict, dict]:
        if not headers.get("Authorization", "").startswith("Bearer sk_"):
            return _error(401, "invalid_request_error", "Invalid API Key provided.")
        if self.failures:
            status, kind, message, extra = self.failures.pop(0)
            code, payload, _ = _error(status, kind, message)
            return code, payload, extra
        key = headers.get("Idempotency-Key")
        if method == "POST" and key:
            seen = self._idempotent.get(key)
            if seen is not None:
                if seen[0] != {"path": path, "form": form}:
                    return _error(400, "idempotency_error",
                                  "Keys for idempotent requests can only be used with the same parameters "
                                  "they were first used with.")
                return seen[1], seen[2], {"Idempotent-Replayed": "true"}
        status, payload, extra = self._route(method, path, form)
        if method == "POST" and key and status < 500 and status != 400:
            self._idempotent[key] = ({"path": path, "form": form}, status, payload)
        return status, payload, extra

    def _route(self, method: str, path: str, form: dict) -> tuple[int, dict, dict]:
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(nest(form))
        match = re.fullmatch(r"/v1/checkout/sessions/([\w]+)", path)
        if method == "GET" and match:
            session = self.sessions.get(match.group(1))
            if session is None:
                return _error(404, "invalid_request_error", f"No such checkout.session: '{match.group(1)}'")
            return 200, session, {}
        match = re.fullmatch(r"/v1/checkout/sessions/([\w]+)/expire", path)
        if method == "POST" and match and match.group(1) in self.sessions:
            session = self.sessions[match.group(1)]
            if session["status"] != "open":
                return _error(400, "invalid_request_error",
                              "Only Checkout Sessions with a status in [open] can be expired.")
            session.update(status="expired", url=None)
            return 200, session, {}
        if method == "POST" and path == "/v1/refunds":
            return self._create_refund(nest(form))
        return _error(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _create_session(self, params: dict) -> tuple[int, dict, dict]:
        now = int(time.time())
        expires_at = int(params.get("expires_at") or now + 24 * 3600)
        if not now + 30 * 60 <= expires_at <= now + 24 * 3600:
            return _error(400, "invalid_request_error",
                          "The `expires_at` timestamp must be between 30 minutes and 24 hours from now.")
        items = params.get("line_items") or []
        currencies = {item["price_data"]["currency"] for item in items}
        if not items or len(currencies) != 1:
            return _error(400, "invalid_request_error", "line_items must share one currency.")
        total = sum(int(item["quantity"]) * int(item["price_data"]["unit_amount"]) for item in items)
        session_id = f"cs_test_{next(self._ids):06d}"
        session = {
            "id": session_id, "object": "checkout.session", "mode": params.get("mode"),
            "url": f"{self.url}/c/pay/{session_id}", "status": "open", "payment_status": "unpaid",
            "amount_total": total, "amount_subtotal": total, "currency": currencies.pop(),
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"), "metadata": params.get("metadata") or {},
            "expires_at": expires_at, "created": now, "payment_intent": None, "livemode": False,
            "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
        }
        self.sessions[session_id] = session
        return 200, session, {}

    def _create_refund(self, params: dict) -> tuple[int, dict, dict]:
        intent = params.get("payment_intent")
        if intent not in self.charged:
            return _error(400, "invalid_request_error", f"No such payment_intent: '{intent}'")
        left = self.charged[intent] - sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent)
        amount = int(params.get("amount") or left)
        if left <= 0:
            return _error(400, "invalid_request_error", "Charge has already been refunded.")
        if amount > left:
            return _error(400, "invalid_request_error",
                          f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})")
        refund = {"id": f"re_test_{next(self._ids)}", "object": "refund", "amount": amount, "currency": "vnd",
                  "payment_intent": intent, "status": "succeeded", "metadata": params.get("metadata") or {}}
        self.refunds[refund["id"]] = refund
        return 200, refund, {}


def _error(status: int, kind: str, message: str) -> tuple[int, dict, dict]:
    return status, {"error": {"type": kind, "message": message}}, {}
