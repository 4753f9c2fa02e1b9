"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests and benchmarks.

It speaks the wire protocol (POST /v1/chat/completions, JSON in and out, usage counts; and Ollama's POST
/api/chat with its ``format`` schema) with scripted answers, a configurable delay, and injected faults: HTTP 500, 429 with Retry-After, a hang longer than
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


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        path = node["$ref"].removeprefix("#/").split("/")
        node = root
        for part in path:
            node = node[part]
    return node


def instance(schema: Any, root: dict[str, Any] | None = None) -> Any:
    """A minimal value valid against ``schema`` (what constrained decoding can always fall back to)."""
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [_resolve(o, root) for o in schema[key]]
            options.sort(key=lambda o: o.get("type") == "null")  # prefer a real value
            return instance(options[0], root)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: instance(v, root) for k, v in props.items() if k in schema.get("required", list(props))}
    if kind == "array":
        return [instance(schema.get("items", {}), root) for _ in range(schema.get("minItems", 0))]
    if kind in ("number", "integer"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = low + (1 if "exclusiveMinimum" in schema else 0)
        return int(value) if kind == "integer" else float(value)
    if kind == "string":
        return "x" * schema.get("minLength", 0)
    if kind == "boolean":
        return False
    return None


def constrained(text: str, schema: dict[str, Any]) -> str:
    """What a schema-constrained server answers: the responder's JSON when it fits the schema, else the
    nearest thing that does (constrained decoding never emits an invalid value)."""
    import jsonschema

    match = re.search(r"\{.*\}", text, re.DOTALL)
    try:
        value = json.loads(match.group(0)) if match else None
        jsonschema.validate(value, schema)
    except (ValueError, jsonschema.ValidationError):
        value = instance(schema)
        if isinstance(value, dict) and match:  # keep whatever fields of the answer are valid
            try:
                wanted = json.loads(match.group(0))
            except ValueError:
                wanted = {}
            for key, item in (wanted.items() if isinstance(wanted, dict) else ()):
                trial = {**value, key: item}
                try:
                    jsonschema.validate(trial, schema)
                    value = trial
                except jsonschema.ValidationError:
                    pass
    return json.dumps(value)


def _constraint(fmt: Any, tools: Any, tool_choice: Any) -> tuple[str | None, dict[str, Any] | None]:
    """(what vLLM would refuse, or None; the schema to constrain to, or None)."""
    import jsonschema

    schema = None
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind == "text":
            return None, None
        if kind == "json_object":
            return None, {"type": "object"}
        if kind != "json_schema":
            return f"response_format.type must be text, json_object or json_schema, got {kind!r}", None
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
            return "response_format.json_schema.schema is required", None
        schema = spec["schema"]
    if tools is not None:
        if not isinstance(tools, list) or not tools:
            return "tools must be a non-empty list", None
        fn = tools[0].get("function", {}) if isinstance(tools[0], dict) else {}
        if not isinstance(fn.get("parameters"), dict):
            return "tools[0].function.parameters is required", None
        chosen = (tool_choice or {}).get("function", {}).get("name") if isinstance(tool_choice, dict) else None
        if chosen is not None and chosen != fn.get("name"):
            return f"tool_choice names an unknown function {chosen!r}", None
        schema = fn["parameters"]
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as err:
        return f"invalid JSON schema: {err.message}", None
    return None, schema


def _message(text: str, as_tool_call: bool) -> dict[str, Any]:
    if as_tool_call:
        return {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "answer", "arguments": text}}]}
    return {"role": "assistant", "content": text}


class ScriptedServer:
    """``with ScriptedServer() as srv: srv.base_url`` ... ``srv.requests`` counts what arrived."""

    def __init__(self, responder: Responder = auction_responder, delay: float = 0.0,
                 faults: dict[str, int] | None = None, retry_after: float = 0.2, hang: float = 3.0,
                 port: int = 0, refuse_constraints: bool = False, prose_unless_constrained: bool = False) -> None:
        self.responder = responder
        self.delay = delay
        self.faults = faults or {}  # fault -> every k-th request gets it
        self.retry_after = retry_after
        self.hang = hang
        self.requests = 0
        #: refuse response_format and tools with 400, as servers without guided decoding do
        self.refuse_constraints = refuse_constraints
        #: answer prose (never JSON) unless the request constrains the output: a model that needs constraining
        self.prose_unless_constrained = prose_unless_constrained
        self.constrained_requests = 0
        self.bodies: list[dict[str, Any]] = []
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
                    server.bodies.append(body)
                if self.path == "/api/chat":
                    return self._ollama(body)
                fmt = body.get("response_format")
                tools = body.get("tools")
                schema: dict[str, Any] | None = None
                if fmt is not None or tools is not None:
                    if server.refuse_constraints:
                        return self._send(400, {"error": {"message": "response_format and tools are not supported "
                                                                     "by this server", "type": "invalid_request_error"}})
                    problem, schema = _constraint(fmt, tools, body.get("tool_choice"))
                    if problem:  # what vLLM refuses: an unknown format type, a missing or invalid schema
                        return self._send(400, {"error": {"message": problem, "type": "BadRequestError"}})
                    with server._lock:
                        server.constrained_requests += 1
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
                if schema is not None:
                    text = constrained(text, schema)
                elif server.prose_unless_constrained:
                    text = "Well, I would probably go for it, but it depends."
                if fault == "truncated":
                    text = text[: max(1, len(text) // 2)]
                prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
                payload = {
                    "id": f"chatcmpl-{n}", "object": "chat.completion", "created": 0,
                    "model": body.get("model", "scripted"),
                    "choices": [{"index": 0, "message": _message(text, tools is not None and schema is not None),
                                 "finish_reason": "length" if fault == "truncated" else "stop"}],
                    "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(text.split()),
                              "total_tokens": prompt_tokens + len(text.split())},
                }
                if fault == "malformed":
                    raw = b'{"id": "broken", "choices": [{"message": '
                    return self._send_raw(200, raw)
                return self._send(200, payload)

            def _ollama(self, body: dict[str, Any]) -> None:
                """Ollama's chat API: ``format`` is "json" or a JSON schema the answer is held to."""
                if body.get("stream", True) is not False:
                    return self._send(400, {"error": "this test server answers only stream=false"})
                fmt = body.get("format")
                text = server.responder(body.get("messages", []))
                if isinstance(fmt, dict):
                    problem, schema = _constraint({"type": "json_schema", "json_schema": {"schema": fmt}}, None, None)
                    if problem:
                        return self._send(400, {"error": problem})
                    with server._lock:
                        server.constrained_requests += 1
                    text = constrained(text, schema or {})
                elif fmt == "json":
                    text = constrained(text, {"type": "object"})
                elif fmt is not None:
                    return self._send(400, {"error": f"invalid format {fmt!r}"})
                elif server.prose_unless_constrained:
                    text = "Well, I would probably go for it, but it depends."
                if server.delay:
                    time.sleep(server.delay)
                prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
                self._send(200, {"model": body.get("model", "scripted"), "created_at": "2026-01-01T00:00:00Z",
                                 "message": {"role": "assistant", "content": text}, "done": True,
                                 "done_reason": "stop", "prompt_eval_count": prompt_tokens,
                                 "eval_count": len(text.split())})

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
