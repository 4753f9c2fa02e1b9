"""Wrappers around a ChatClient, one concern each; they compose (see ``gateway.build_stack``)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sqlite3
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from simworld.models.langchain_client import TransientError
from simworld.models.types import BudgetExceeded, CacheMiss, ChatClient, ChatRequest, ChatResponse, ModelError


class Concurrency:
    """At most ``limit`` calls in flight."""

    def __init__(self, inner: ChatClient, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self._sem: asyncio.Semaphore | None = None

    async def complete(self, request: ChatRequest) -> ChatResponse:
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.limit)
        async with self._sem:
            return await self.inner.complete(request)


class Timeout:
    """A wall-clock limit per attempt (LangChain's OpenAI client has none by default)."""

    def __init__(self, inner: ChatClient, seconds: float) -> None:
        self.inner = inner
        self.seconds = seconds

    async def complete(self, request: ChatRequest) -> ChatResponse:
        try:
            return await asyncio.wait_for(self.inner.complete(request), self.seconds)
        except TimeoutError:
            raise TransientError(f"timed out after {self.seconds:g} s") from None


class Retry:
    """Retries transient failures with exponential backoff and jitter, honouring ``Retry-After``."""

    def __init__(
        self, inner: ChatClient, max_retries: int, base: float = 0.25, cap: float = 8.0, seed: int = 0
    ) -> None:
        self.inner = inner
        self.max_retries = max_retries
        self.base = base
        self.cap = cap
        self._jitter = random.Random(seed)  # wall-clock only: never affects the log

    async def complete(self, request: ChatRequest) -> ChatResponse:
        attempt = 0
        while True:
            try:
                response = await self.inner.complete(request)
                response.retries = attempt
                return response
            except TransientError as err:
                if attempt >= self.max_retries:
                    raise ModelError(f"gave up after {attempt + 1} attempts: {err}") from err
                delay = err.retry_after if err.retry_after is not None else min(self.cap, self.base * 2**attempt)
                await asyncio.sleep(delay * (1.0 if err.retry_after is not None else 0.5 + self._jitter.random()))
                attempt += 1


def cache_key(provider: str, model: str, params: dict[str, Any], request: ChatRequest) -> str:
    blob = json.dumps(
        {"provider": provider, "model": model, "params": params, "messages": request.messages,
         "schema": request.schema, "seed": request.seed},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Cache:
    """Record/replay in SQLite: ``read_write`` serves hits and stores misses; ``replay`` makes a miss an error."""

    def __init__(
        self, inner: ChatClient, path: Path, mode: str, provider: str, model: str, params: dict[str, Any]
    ) -> None:
        self.inner = inner
        self.mode = mode
        self.provider, self.model, self.params = provider, model, params
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL, created REAL)"
        )
        self.db.commit()
        self.hits = 0
        self.misses = 0

    def key(self, request: ChatRequest) -> str:
        return cache_key(self.provider, self.model, self.params, request)

    async def complete(self, request: ChatRequest) -> ChatResponse:
        key = self.key(request)
        row = self.db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        if row is not None:
            self.hits += 1
            stored = json.loads(row[0])
            if "error" in stored:
                raise ModelError(stored["error"])
            stored["cached"] = True
            return ChatResponse(**stored)
        self.misses += 1
        if self.mode == "replay":
            raise CacheMiss(f"cache miss in replay mode (key {key[:16]}) in {self.path}")
        try:
            response = await self.inner.complete(request)
        except (CacheMiss, BudgetExceeded):
            raise
        except ModelError as err:
            # A failure is an outcome too: replaying it keeps a rerun exact (clear the cache to retry).
            self._store(key, {"error": str(err)})
            raise
        record = asdict(response)
        record["cached"] = False
        self._store(key, record)
        return response

    def _store(self, key: str, record: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO responses (key, response, created) VALUES (?, ?, ?)",
            (key, json.dumps(record), time.time()),
        )
        self.db.commit()

    def close(self) -> None:
        self.db.close()


class Accounting:
    """Tallies calls, tokens, cost, cache hits and failures (reported in the manifest)."""

    def __init__(self, inner: ChatClient, cost_in: float = 0.0, cost_out: float = 0.0) -> None:
        self.inner = inner
        self.cost_in, self.cost_out = cost_in, cost_out
        self.calls = self.failures = self.cached = self.retries = 0
        self.input_tokens = self.output_tokens = 0

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.calls += 1
        try:
            response = await self.inner.complete(request)
        except ModelError:
            self.failures += 1
            raise
        self.cached += int(response.cached)
        self.retries += response.retries
        self.input_tokens += response.input_tokens
        self.output_tokens += response.output_tokens
        return response

    def summary(self) -> dict[str, Any]:
        cost = self.input_tokens / 1000 * self.cost_in + self.output_tokens / 1000 * self.cost_out
        return {
            "calls": self.calls, "cached": self.cached, "failures": self.failures, "retries": self.retries,
            "input_tokens": self.input_tokens, "output_tokens": self.output_tokens, "cost": round(cost, 6),
        }


class Budget:
    """Counts the run's calls and tokens against its limits.

    The budget is checked before each decision starts (``exhausted``), never in the middle of one, and
    cached responses count too: so a rerun from the cache stops at exactly the same decision. Decisions
    already under way when the budget runs out finish (a run overshoots by at most one batch)."""

    def __init__(self, inner: ChatClient, max_calls: int | None, max_tokens: int | None) -> None:
        self.inner = inner
        self.max_calls, self.max_tokens = max_calls, max_tokens
        self.calls = 0
        self.tokens = 0

    def exhausted(self) -> str | None:
        if self.max_calls is not None and self.calls >= self.max_calls:
            return f"model budget reached: {self.calls} calls of max_calls={self.max_calls}"
        if self.max_tokens is not None and self.tokens >= self.max_tokens:
            return f"model budget reached: {self.tokens} tokens of max_total_tokens={self.max_tokens}"
        return None

    async def complete(self, request: ChatRequest) -> ChatResponse:
        self.calls += 1
        response = await self.inner.complete(request)
        self.tokens += response.input_tokens + response.output_tokens
        return response
