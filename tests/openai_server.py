"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests and benchmarks.

It speaks the wire protocol (POST /v1/chat/completions, JSON in and out, usage counts) with scripted
answers, a configurable delay, and injected faults: HTTP 500, 429 with Retry-After, a hang longer than
the client's timeout, a malformed JSON body, a truncated answer, and a 400 whose body echoes the request's
headers (the Authorization header included, as careless servers do).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Responder = Callable[[list[dict[str, Any]]], str]
FAULTS = ("500", "429", "timeout", "malformed", "truncated", "echo")


def auction_responder(messages: list[dict[str, Any]]) -> str:
    """Answers auction decisions sensibly from the context in the prompt (a stand-in for a model)."""
    user = messages[-1]["content"] if messages else ""
    full = "\n".join(str(m.get("content", "")) for m in messages)
    if '"insights"' in user:
        return json.dumps({"insights": ["Prices rise quickly when many bidders are active."]})
    if '"beliefs"' in user:
        others = re.search(r"Other people here: (.*?)\.\n", user)
        first = others.group(1).split(", ")[0] if others else "nobody"
        return json.dumps({"beliefs": [{"about": first, "key": "eagerness", "value": 0.7, "confidence": 0.6},
                                       {"about": "stranger", "key": "x", "value": 1, "confidence": 1}]})
    decision = re.search(r"Decision: (\S+)", full)
    seen = re.search(r"What you see now: (\{.*\})", full)
    ctx = json.loads(seen.group(1)) if seen else {}
    value = float(ctx.get("value", 0.0))
    budget = ctx.get("budget_left")
    limit = min(value, budget) if isinstance(budget, (int, float)) else value
    kind = decision.group(1) if decision else ""
    if kind == "auction.english":
        choice = "bid" if ctx.get("ask", 0) <= limit else "pass"
        return json.dumps({"choice": choice, "rationale": f"my limit is {limit:.2f}"})
    if kind == "auction.dutch":
        choice = "accept" if ctx.get("clock", 1e18) <= 0.8 * limit else "wait"
        return json.dumps({"choice": choice, "rationale": "waiting for a bargain"})
    if kind == "auction.sealed":
        return "```json\n" + json.dumps({"amount": round(0.8 * limit, 4), "rationale": "shade a little"}) + "\n```"
    return json.dumps({"rationale": "no idea"})


class ScriptedServer:
    """``with ScriptedServer() as srv: srv.base_url`` ... ``srv.requests`` counts what arrived."""

    def __init__(self, responder: Responder = auction_responder, delay: float = 0.0,
                 faults: dict[str, int] | None = None, retry_after: float = 0.2, hang: float = 3.0,
                 port: int = 0) -> None:
        self.responder = responder
        self.delay = delay
        self.faults = faults or {}  # fault -> every k-th request gets it
        self.retry_after = retry_after
        self.hang = hang
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being answered at once
        self.fault_counts = {f: 0 for f in FAULTS}
        self.prompts: list[list[dict[str, Any]]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer()
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server._lock:
                    server.requests += 1
                    n = server.requests
                    server.prompts.append(body.get("messages", []))
                fault = next((f for f, k in server.faults.items() if k and n % k == 0), None)
                if fault:
                    with server._lock:
                        server.fault_counts[fault] += 1
                if server.delay:
                    time.sleep(server.delay)
                if fault == "500":
                    return self._send(500, {"error": {"message": "injected server error", "type": "server_error"}})
                if fault == "429":
                    return self._send(429, {"error": {"message": "slow down", "type": "rate_limit"}},
                                      {"Retry-After": str(server.retry_after)})
                if fault == "echo":
                    return self._send(400, {"error": {"message": f"bad request; you sent {dict(self.headers)}",
                                                      "type": "invalid_request_error"}})
                if fault == "timeout":
                    time.sleep(server.hang)
                text = server.responder(body.get("messages", []))
                if fault == "truncated":
                    text = text[: max(1, len(text) // 2)]
                prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
                payload = {
                    "id": f"chatcmpl-{n}", "object": "chat.completion", "created": 0,
                    "model": body.get("model", "scripted"),
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "length" if fault == "truncated" else "stop"}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text.split()),
                              "total_tokens": prompt_tokens + len(text.split())},
                }
                if fault == "malformed":
                    raw = b'{"id": "broken", "choices": [{"message": '
                    return self._send_raw(200, raw)
                return self._send(200, payload)

            def _send(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
                self._send_raw(status, json.dumps(obj).encode(), headers)

            def _send_raw(self, status: int, raw: bytes, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 512  # the stdlib default of 5 refuses concurrent clients

        self.httpd = Server(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
