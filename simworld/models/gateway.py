"""The gateway: builds the wrapper stack from a spec, runs calls on its own event loop, logs them."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from simworld.models.redact import Redactor
from simworld.models.spec import ModelSpec
from simworld.models.types import ChatClient, ChatRequest, ChatResponse, ManagedClient, ModelError
from simworld.models.wrappers import Accounting, Budget, Cache, Concurrency, Retry

if TYPE_CHECKING:
    from simworld.world import World

T = TypeVar("T")


def prompt_hash(messages: list[dict[str, str]]) -> str:
    blob = json.dumps(messages, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


class Redacting:
    """Innermost wrapper: whatever the client returns or raises reaches the rest of the stack (and so the
    log and the cache) with the API key and Authorization headers replaced."""

    def __init__(self, inner: ChatClient, redact: Redactor) -> None:
        self.inner = inner
        self.redact = redact

    async def complete(self, request: ChatRequest) -> ChatResponse:
        try:
            response = await self.inner.complete(request)
        except ModelError as err:
            err.args = (self.redact(str(err)),)
            raise
        response.text = self.redact(response.text)
        return response


def make_client(spec: ModelSpec, chat_model: Any | None = None) -> ChatClient:
    """The client a spec asks for; only what the chosen provider needs is imported."""
    if chat_model is not None:
        from simworld.models.langchain_client import LangChainClient

        return LangChainClient(chat_model, structured=spec.structured)
    if spec.provider == "local":
        from simworld.models.local import LocalClient

        return LocalClient(spec)
    from simworld.models.openai_client import OllamaClient, OpenAIClient
    from simworld.models.servers import ServerSet

    urls = spec.base_urls
    connect = min(spec.timeout, 30.0)
    if spec.provider == "ollama":
        return OllamaClient(spec, ServerSet(urls or ["http://127.0.0.1:11434"], spec.max_concurrency, connect))
    key = os.environ.get(spec.api_key_env) if spec.api_key_env else None
    if not key and not urls:
        raise ModelError(
            f"model.api_key_env: environment variable {spec.api_key_env!r} is not set "
            "(set it, or point model.base_url at a local server)"
        )
    return OpenAIClient(spec, ServerSet(urls or ["https://api.openai.com/v1"], spec.max_concurrency, connect), key)


class Gateway:
    """One per run (per model spec): every model call of every agent goes through it.

    Stack, outermost first: Budget -> Accounting -> Cache -> Concurrency -> Retry (attempts with a time
    limit, backoff, Retry-After capped) -> Redacting -> client. ``client`` may be any ChatClient;
    ``chat_model`` any LangChain ``BaseChatModel``; otherwise the spec builds one (OpenAI-compatible,
    Ollama, or the local GGUF model).
    """

    def __init__(
        self, spec: ModelSpec, world: World | None = None, client: ChatClient | None = None,
        chat_model: Any | None = None,
    ) -> None:
        self.spec = spec
        self.world = world
        self.redact = Redactor([os.environ.get(spec.api_key_env) if spec.api_key_env else None])
        if client is None:
            client = make_client(spec, chat_model)
        self.client = client
        inner: ChatClient = Retry(Redacting(client, self.redact), spec.max_retries, timeout=spec.timeout,
                                  max_wait=spec.max_retry_wait, seed=world.seed if world else 0)
        inner = Concurrency(inner, spec.max_concurrency)
        self.cache: Cache | None = None
        cache_path = spec.resolved_cache_path()
        if spec.cache != "off" and cache_path is not None:
            params = {"temperature": spec.temperature, "max_tokens": spec.max_tokens}
            self.cache = Cache(inner, cache_path, spec.cache, spec.provider, spec.model, params,
                               endpoint=spec.endpoint, store_failures=spec.cache_failures)
            inner = self.cache
        self.accounting = Accounting(inner, spec.cost_per_1k_input, spec.cost_per_1k_output)
        self.budget = Budget(self.accounting, spec.max_calls, spec.max_total_tokens, spec.budget_strict)
        self.stack: ChatClient = self.budget
        self.loop = asyncio.new_event_loop()
        self._running: asyncio.Task[Any] | None = None
        #: Model decisions served, those that fell back to the rule policy, and the first reason.
        self.decisions = 0
        self.fallbacks = 0
        self.first_fallback: str | None = None
        #: Failed answers of the other model nodes (theory of mind, reflection), by node.
        self.node_failures: dict[str, int] = {}
        if world is not None:
            world.on_stop(self._cancel_running)

    # -- running ---------------------------------------------------------------------------------
    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine (typically a batch of decisions) to completion on the gateway's loop.

        A stop request (Ctrl-C, SIGTERM) cancels it at once, whatever it is waiting for, and raises
        KeyboardInterrupt so that the run ends as ``interrupted``."""
        task = self.loop.create_task(coro)
        self._running = task
        try:
            return self.loop.run_until_complete(task)
        except asyncio.CancelledError:
            raise KeyboardInterrupt("interrupted while waiting for the model") from None
        finally:
            self._running = None

    def _cancel_running(self) -> None:
        task = self._running
        if task is not None and not task.done():
            # from a signal handler: wake the loop's selector through its self-pipe
            self.loop.call_soon_threadsafe(task.cancel)

    def exhausted(self) -> str | None:
        return self.budget.exhausted()

    def count_decision(self, fallback_reason: str | None) -> None:
        self.decisions += 1
        if fallback_reason is not None:
            self.fallbacks += 1
            if self.first_fallback is None:
                self.first_fallback = fallback_reason

    def count_node_failure(self, node: str) -> None:
        self.node_failures[node] = self.node_failures.get(node, 0) + 1

    async def call(self, request: ChatRequest, agent: str | None, node: str) -> ChatResponse:
        """One logged model call: ``model.call`` with the full prompt and response (or the error).
        Wall-clock facts (latency, retries, whether the cache served it) go to ``volatile.jsonl``."""
        t0 = time.perf_counter()
        error: str | None = None
        response: ChatResponse | None = None
        try:
            response = await self.stack.complete(request)
            return response
        except ModelError as err:
            error = self.redact(str(err))
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
                    "error": error,
                }
                volatile = {"cached": bool(response.cached) if response else False,
                            "latency_ms": response.latency_ms if response else None,
                            "retries": response.retries if response else None,
                            "wall_ms": round((time.perf_counter() - t0) * 1000, 1)}
                self.world.log("model.call", data, agent=agent, volatile=volatile)

    # -- reporting -------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"spec": self.spec.public(), **self.accounting.summary(),
                               "decisions": self.decisions, "fallbacks": self.fallbacks,
                               "node_failures": dict(sorted(self.node_failures.items()))}
        if self.decisions and self.fallbacks == self.decisions:
            out["all_fell_back"] = self.first_fallback
        if self.cache is not None:
            out["cache"] = {"path": str(self.cache.path), "mode": self.spec.cache,
                            "hits": self.cache.hits, "misses": self.cache.misses}
        if isinstance(self.client, ManagedClient):
            out.update(self.client.info())
        return out

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
        try:
            if isinstance(self.client, ManagedClient):  # connections to close (ours, LangChain's)
                self.loop.run_until_complete(self.client.close())
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()
