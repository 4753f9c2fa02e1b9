"""A ChatClient over any LangChain chat model (OpenAI-compatible servers, Ollama, or a user's own)."""

from __future__ import annotations

import json
import time
from typing import Any

from simworld.models.types import ChatRequest, ChatResponse, ModelError, TransientError


def _retry_after(err: Exception) -> float | None:
    response = getattr(err, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def classify(err: Exception) -> ModelError:
    """Map a provider exception to TransientError (retry) or ModelError (give up)."""
    if isinstance(err, ModelError):
        return err
    status = getattr(err, "status_code", None)
    name = type(err).__name__
    text = f"{name}: {str(err)[:300]}"
    if status is not None:
        if status == 429 or status >= 500 or status == 408:
            return TransientError(text, _retry_after(err))
        return ModelError(text)
    # timeouts, dropped connections and unparseable bodies are worth another try
    if isinstance(err, (TimeoutError, ConnectionError, ValueError)) or any(
        k in name for k in ("Timeout", "Connection", "Decode", "Validation", "Protocol", "RemoteProtocol")
    ):
        return TransientError(text)
    return ModelError(text)


def _to_messages(messages: list[dict[str, str]]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m["role"]](content=m["content"]) for m in messages]


class LangChainClient:
    """A user's own LangChain chat model (``Gateway(spec, chat_model=...)``): ``ainvoke``, or its
    ``with_structured_output`` when the decision has a schema and ``model.structured`` is not ``prompt``
    (a model that cannot do that answers through the prompt). No retries of its own (the Retry wrapper
    does that)."""

    def __init__(self, chat_model: Any, name: str = "", structured: str = "auto") -> None:
        self.chat_model = chat_model
        self.name = name or getattr(chat_model, "model_name", None) or getattr(chat_model, "model", "") or "chat"
        #: json_schema or tools (function calling) through with_structured_output; prompt: parse the text
        self.mode = structured if structured in ("json_schema", "tools", "prompt") else "json_schema"
        self.downgraded: str | None = None
        self._bound: dict[str, Any] = {}

    def _structured(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        bound = self._bound.get(key)
        if bound is None:
            method = "function_calling" if self.mode == "tools" else "json_schema"
            bound = self._bound[key] = self.chat_model.with_structured_output(schema, method=method, include_raw=True)
        return bound

    async def complete(self, request: ChatRequest) -> ChatResponse:
        t0 = time.perf_counter()
        messages = _to_messages(request.messages)
        parsed: Any = None
        try:
            if request.schema is not None and self.mode != "prompt":
                try:
                    runnable = self._structured(request.schema)
                except (NotImplementedError, TypeError, ValueError) as err:
                    self.mode, self.downgraded = "prompt", f"with_structured_output is not available ({err})"
                    msg = await self.chat_model.ainvoke(messages)
                else:
                    out = await runnable.ainvoke(messages)
                    msg, parsed = out["raw"], out.get("parsed")
            else:
                msg = await self.chat_model.ainvoke(messages)
        except Exception as err:
            raise classify(err) from err
        usage = getattr(msg, "usage_metadata", None) or {}
        if parsed is not None:
            content = json.dumps(parsed.model_dump() if hasattr(parsed, "model_dump") else parsed)
        else:
            content = msg.content if isinstance(msg.content, str) else str(msg.content)
        return ChatResponse(
            text=content,
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            model=str(self.name),
            latency_ms=round((time.perf_counter() - t0) * 1000, 1),
        )

    async def close(self) -> None:
        http = getattr(self.chat_model, "http_async_client", None)  # a LangChain model's own attribute
        if http is not None:
            await http.aclose()

    def info(self) -> dict[str, Any]:
        """For the manifest: how answers are held to the schema."""
        out: dict[str, Any] = {"structured": self.mode}
        if self.downgraded:
            out["structured_note"] = self.downgraded
        return out
