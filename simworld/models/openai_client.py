"""Chat clients of our own for OpenAI-compatible servers (OpenAI, vLLM, SGLang, llama.cpp server, LM Studio)
and Ollama, on :mod:`simworld.models.http`: a request is a dict turned into JSON, an answer a dict read back.

Structured output (``model.structured``): ``json_schema`` asks the server to constrain its answer to the
decision's JSON schema (``response_format`` for OpenAI-compatible servers, ``format`` for Ollama);
``tools`` asks for a call of one function whose parameters are the schema; ``prompt`` only shows the schema
in the prompt and parses the text; ``auto`` (the default) constrains natively and, if the server refuses
schema-constrained output, falls back to ``prompt`` for the rest of the run (said once in the manifest).
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from simworld.models.servers import ServerSet
from simworld.models.spec import ModelSpec
from simworld.models.types import ChatRequest, ChatResponse, ModelError, TransientError

#: Phrases in a 400 answer that mean "this server cannot constrain output" (vLLM, llama.cpp, LM Studio, ...).
_NO_CONSTRAINTS = ("response_format", "json_schema", "guided", "grammar", "tool", "format")


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as OpenAI's strict structured output wants it: every object closed and every property
    required (a property with a default becomes required too: the model states it)."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v) for k, v in node.items() if k not in ("default", "title")}
            if out.get("type") == "object" and isinstance(out.get("properties"), dict):
                out["additionalProperties"] = False
                out["required"] = sorted(out["properties"])
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


class ServedClient:
    """What our HTTP clients share: the servers of one model, the structured mode, the manifest entry."""

    def __init__(self, spec: ModelSpec, servers: ServerSet, mode: str) -> None:
        self.spec = spec
        self.servers = servers
        self.name = spec.model
        self.mode = mode
        #: Set when ``auto`` found the server refusing constrained output (the run then parses prompts).
        self.downgraded: str | None = None

    async def close(self) -> None:
        await self.servers.close()

    def info(self) -> dict[str, Any]:
        """For the manifest: how answers are held to the schema, and the servers' counts."""
        out: dict[str, Any] = {"structured": self.mode, "servers": self.servers.summary()}
        if self.downgraded:
            out["structured_note"] = self.downgraded
        return out


class OpenAIClient(ServedClient):
    """POST ``/chat/completions``; answers read from ``choices[0].message`` (content or a tool call)."""

    def __init__(self, spec: ModelSpec, servers: ServerSet, api_key: str | None) -> None:
        super().__init__(spec, servers, "json_schema" if spec.structured == "auto" else spec.structured)
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # schema object -> its strict form (the schema is kept too, so that its id is never reused)
        self._schemas: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}

    def _strict(self, schema: dict[str, Any]) -> dict[str, Any]:
        hit = self._schemas.get(id(schema))
        if hit is None or hit[0] is not schema:
            hit = self._schemas[id(schema)] = (schema, strict_schema(schema))
        return hit[1]

    def payload(self, request: ChatRequest, mode: str) -> dict[str, Any]:
        spec = self.spec
        body: dict[str, Any] = {"model": spec.model, "messages": request.messages, "temperature": spec.temperature,
                                "max_tokens": spec.max_tokens}
        if request.seed is not None:
            body["seed"] = request.seed
        if request.schema is not None and mode == "json_schema":
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "answer", "schema": self._strict(request.schema), "strict": True}}
        elif request.schema is not None and mode == "tools":
            body["tools"] = [{"type": "function", "function": {
                "name": "answer", "description": "Give the answer.", "parameters": self._strict(request.schema)}}]
            body["tool_choice"] = {"type": "function", "function": {"name": "answer"}}
        return body

    async def complete(self, request: ChatRequest) -> ChatResponse:
        t0 = time.perf_counter()
        mode = self.mode
        response = await self.servers.post("/chat/completions", orjson.dumps(self.payload(request, mode)),
                                           self.headers)
        if (response.status == 400 and self.spec.structured == "auto" and mode != "prompt"
                and request.schema is not None):
            text = response.body[:2000].decode("utf-8", "replace").lower()
            if any(word in text for word in _NO_CONSTRAINTS):
                self.mode = mode = "prompt"
                self.downgraded = f"the server refused schema-constrained output ({text[:200]})"
                response = await self.servers.post("/chat/completions", orjson.dumps(self.payload(request, mode)),
                                                   self.headers)
        if response.status != 200:
            snippet = response.body[:300].decode("utf-8", "replace")
            raise ModelError(f"HTTP {response.status}: {snippet}")
        try:
            data = orjson.loads(response.body)
            message = data["choices"][0]["message"]
            calls = message.get("tool_calls") or []
            if mode == "tools" and calls:
                text = calls[0]["function"]["arguments"]
            else:
                text = message.get("content") or ""
            usage = data.get("usage") or {}
            tokens_in, tokens_out = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, ValueError) as err:
            raise TransientError(f"malformed answer from the server: {type(err).__name__}: {err}") from None
        return ChatResponse(text=str(text), input_tokens=tokens_in, output_tokens=tokens_out, model=self.name,
                            latency_ms=round((time.perf_counter() - t0) * 1000, 1))


class OllamaClient(ServedClient):
    """POST ``/api/chat`` (no streaming); ``format`` carries the schema when output is constrained."""

    def __init__(self, spec: ModelSpec, servers: ServerSet) -> None:
        super().__init__(spec, servers, "json_schema" if spec.structured != "prompt" else "prompt")

    async def complete(self, request: ChatRequest) -> ChatResponse:
        t0 = time.perf_counter()
        spec = self.spec
        options: dict[str, Any] = {"temperature": spec.temperature, "num_predict": spec.max_tokens}
        if request.seed is not None:
            options["seed"] = request.seed
        body: dict[str, Any] = {"model": spec.model, "messages": request.messages, "stream": False, "options": options}
        if request.schema is not None and self.mode == "json_schema":
            body["format"] = request.schema
        response = await self.servers.post("/api/chat", orjson.dumps(body), {})
        if response.status != 200:
            raise ModelError(f"HTTP {response.status}: {response.body[:300].decode('utf-8', 'replace')}")
        try:
            data = orjson.loads(response.body)
            text = data["message"]["content"]
            tokens_in, tokens_out = int(data.get("prompt_eval_count") or 0), int(data.get("eval_count") or 0)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as err:
            raise TransientError(f"malformed answer from the server: {type(err).__name__}: {err}") from None
        return ChatResponse(text=str(text), input_tokens=tokens_in, output_tokens=tokens_out, model=self.name,
                            latency_ms=round((time.perf_counter() - t0) * 1000, 1))
