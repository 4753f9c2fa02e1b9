"""A ChatClient over any LangChain chat model (OpenAI-compatible servers, Ollama, or a user's own)."""

from __future__ import annotations

import os
import time
from typing import Any

from simworld.models.spec import ModelSpec
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
    """Calls ``chat_model.ainvoke``; no retries of its own (the Retry wrapper does that)."""

    def __init__(self, chat_model: Any, name: str = "") -> None:
        self.chat_model = chat_model
        self.name = name or getattr(chat_model, "model_name", None) or getattr(chat_model, "model", "") or "chat"

    async def complete(self, request: ChatRequest) -> ChatResponse:
        t0 = time.perf_counter()
        try:
            msg = await self.chat_model.ainvoke(_to_messages(request.messages))
        except Exception as err:
            raise classify(err) from err
        usage = getattr(msg, "usage_metadata", None) or {}
        content = msg.content if isinstance(msg.content, str) else str(msg.content)
        return ChatResponse(
            text=content,
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            model=str(self.name),
            latency_ms=round((time.perf_counter() - t0) * 1000, 1),
        )


def build_chat_model(spec: ModelSpec) -> Any:
    """A LangChain chat model for an OpenAI-compatible endpoint or Ollama, timeout always set."""
    if spec.provider == "openai":
        from langchain_openai import ChatOpenAI

        key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
        if not key and not spec.base_url:
            raise ModelError(
                f"model.api_key_env: environment variable {spec.api_key_env!r} is not set "
                "(set it, or point model.base_url at a local server)"
            )
        import httpx

        # Our own HTTP client per gateway: LangChain's shared default client would outlive the gateway's
        # event loop, and its pool must allow max_concurrency connections.
        limits = httpx.Limits(max_connections=spec.max_concurrency, max_keepalive_connections=spec.max_concurrency)
        return ChatOpenAI(
            model=spec.model,
            base_url=spec.base_url,
            api_key=key or "not-needed",
            temperature=spec.temperature,
            max_tokens=spec.max_tokens,
            timeout=spec.timeout,
            max_retries=0,
            http_async_client=httpx.AsyncClient(timeout=spec.timeout, limits=limits),
        )
    if spec.provider == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=spec.model,
            base_url=spec.base_url or "http://127.0.0.1:11434",
            temperature=spec.temperature,
            num_predict=spec.max_tokens,
            client_kwargs={"timeout": spec.timeout},
        )
    raise ModelError(f"model.provider: {spec.provider!r} has no LangChain client")
