"""The gateway: builds the wrapper stack from a spec, runs calls on its own event loop, logs them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, TypeVar

from simworld.models.spec import ModelSpec
from simworld.models.types import ChatClient, ChatRequest, ChatResponse, ModelError
from simworld.models.wrappers import Accounting, Budget, Cache, Concurrency, Retry, Timeout

if TYPE_CHECKING:
    from simworld.world import World

T = TypeVar("T")


def prompt_hash(messages: list[dict[str, str]]) -> str:
    blob = json.dumps(messages, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


class Gateway:
    """One per run: every model call of every agent goes through it.

    Stack, outermost first: Budget -> Accounting -> Cache -> Concurrency -> Retry -> Timeout -> client.
    ``client`` may be any ChatClient; ``chat_model`` any LangChain ``BaseChatModel``; otherwise the spec
    builds one (OpenAI-compatible, Ollama, or the local GGUF model).
    """

    def __init__(
        self, spec: ModelSpec, world: World | None = None, client: ChatClient | None = None,
        chat_model: Any | None = None,
    ) -> None:
        self.spec = spec
        self.world = world
        if client is None:
            if chat_model is None and spec.provider == "local":
                from simworld.models.local import LocalClient

                client = LocalClient(spec)
            else:
                from simworld.models.langchain_client import LangChainClient, build_chat_model

                client = LangChainClient(chat_model if chat_model is not None else build_chat_model(spec))
        self.client = client
        inner: ChatClient = Retry(Timeout(client, spec.timeout), spec.max_retries, seed=world.seed if world else 0)
        inner = Concurrency(inner, spec.max_concurrency)
        self.cache: Cache | None = None
        if spec.cache != "off":
            params = {"temperature": spec.temperature, "max_tokens": spec.max_tokens}
            self.cache = Cache(inner, spec.resolved_cache_path(), spec.cache, spec.provider, spec.model, params)
            inner = self.cache
        self.accounting = Accounting(inner, spec.cost_per_1k_input, spec.cost_per_1k_output)
        self.budget = Budget(self.accounting, spec.max_calls, spec.max_total_tokens)
        self.stack: ChatClient = self.budget
        self.loop = asyncio.new_event_loop()

    # -- running ---------------------------------------------------------------------------------
    def run(self, coro: Awaitable[T]) -> T:
        """Run a coroutine (typically a batch of decisions) to completion on the gateway's loop."""
        return self.loop.run_until_complete(coro)

    def exhausted(self) -> str | None:
        return self.budget.exhausted()

    async def call(self, request: ChatRequest, agent: str | None, node: str) -> ChatResponse:
        """One logged model call: ``model.call`` with the full prompt and response (or the error)."""
        t0 = time.perf_counter()
        error: str | None = None
        response: ChatResponse | None = None
        try:
            response = await self.stack.complete(request)
            return response
        except ModelError as err:
            error = str(err)
            raise
        finally:
            if self.world is not None:
                data = {
                    "model": self.spec.model,
                    "provider": self.spec.provider,
                    "node": node,
                    "prompt_hash": prompt_hash(request.messages),
                    "messages": request.messages,
                    "response": response.text if response else None,
                    "input_tokens": response.input_tokens if response else 0,
                    "output_tokens": response.output_tokens if response else 0,
                    "latency_ms": response.latency_ms if response else None,
                    "retries": response.retries if response else None,
                    "error": error,
                }
                volatile = {"cached": bool(response.cached) if response else False,
                            "wall_ms": round((time.perf_counter() - t0) * 1000, 1)}
                self.world.log("model.call", data, agent=agent, volatile=volatile)

    # -- reporting -------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        out = {"spec": self.spec.public(), **self.accounting.summary()}
        if self.cache is not None:
            out["cache"] = {"path": str(self.cache.path), "mode": self.spec.cache,
                            "hits": self.cache.hits, "misses": self.cache.misses}
        return out

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        http = getattr(getattr(self.client, "chat_model", None), "http_async_client", None)
        try:
            if http is not None:
                self.loop.run_until_complete(http.aclose())
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()
